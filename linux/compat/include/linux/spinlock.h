/* Stand-in for <linux/spinlock.h>. The walker ABI runs one thread per domain
 * and never re-enters it: a lock has nothing to exclude. The calls keep
 * their arguments evaluated and their flags assigned. */
#ifndef IMS_LX_SPINLOCK_H
#define IMS_LX_SPINLOCK_H

typedef struct {
	int ims_held;
} spinlock_t;

#define DEFINE_SPINLOCK(x) spinlock_t x = {0}
#define spin_lock_init(l) ((l)->ims_held = 0)
#define spin_lock(l) ((l)->ims_held = 1)
#define spin_unlock(l) ((l)->ims_held = 0)
#define spin_lock_irqsave(l, flags) ((flags) = 0, (l)->ims_held = 1)
#define spin_unlock_irqrestore(l, flags) ((void)(flags), (l)->ims_held = 0)
#define lockdep_assert_held(l) ((void)(l))

#endif
