/* Stand-in for <asm/barrier.h> (linux/compat). One thread runs the walker
 * and the model acts only inside host calls, which the compiler cannot move
 * accesses across: a compiler barrier is all a fence has to be here. */
#ifndef IMS_LX_ASM_BARRIER_H
#define IMS_LX_ASM_BARRIER_H

#include <linux/compiler.h>

#define mb() barrier()
#define rmb() barrier()
#define wmb() barrier()
#define dma_mb() barrier()
#define dma_rmb() barrier()
#define dma_wmb() barrier()
#define smp_mb() barrier()
#define smp_rmb() barrier()
#define smp_wmb() barrier()
#define smp_mb__before_atomic() barrier()
#define smp_mb__after_atomic() barrier()
#define smp_store_release(p, v) WRITE_ONCE(*(p), (v))
#define smp_load_acquire(p) READ_ONCE(*(p))

#endif
