/* Stand-in for <linux/compiler.h> and <asm/rwonce.h>: attributes, branch
 * hints, barriers, and READ_ONCE / WRITE_ONCE.
 *
 * READ_ONCE and WRITE_ONCE of a 64-bit object go through the runtime
 * (ims_linux.h): a page-table entry becomes host->load / host->store, an
 * interleaving point of the model; anything else is a plain volatile
 * access. Narrower objects are never table entries of the formats built
 * here and stay plain. */
#ifndef IMS_LX_COMPILER_H
#define IMS_LX_COMPILER_H

#include <linux/kconfig.h>
#include <ims_linux.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define noinline __attribute__((__noinline__))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __must_check __attribute__((__warn_unused_result__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __cold __attribute__((__cold__))
#define __pure __attribute__((__pure__))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __section(s) __attribute__((__section__(s)))
#define __counted_by(m)
#define __rcu
#define __iomem
#define __user
#define __force
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define fallthrough __attribute__((__fallthrough__))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define barrier() __asm__ __volatile__("" ::: "memory")
/* One thread drives the walker and the model acts only inside host calls,
 * which are function calls the compiler cannot move accesses across: a
 * full fence is more than enough. */
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define mb() smp_mb()
#define rmb() smp_rmb()
#define wmb() smp_wmb()
#define dma_wmb() smp_wmb()
#define dma_rmb() smp_rmb()
#define smp_store_release(p, v) WRITE_ONCE(*(p), v)
#define smp_load_acquire(p) READ_ONCE(*(p))

/* The value of a 64-bit object through the runtime, converted back to the
 * object's type (an integer or a pointer). */
#define IMS_LX_READ64(x) ((__typeof__(x))ims_lx_load64((const volatile void *)&(x)))

#define READ_ONCE(x)                                                               \
	__builtin_choose_expr(sizeof(x) == 8, IMS_LX_READ64(x),                     \
			      (*(const volatile __typeof__(x) *)&(x)))

#define WRITE_ONCE(x, val)                                                         \
	do {                                                                       \
		if (sizeof(x) == 8)                                                \
			ims_lx_store64((volatile void *)&(x), (uint64_t)(uintptr_t)(val)); \
		else                                                               \
			*(volatile __typeof__(x) *)&(x) = (val);                   \
	} while (0)

#endif
