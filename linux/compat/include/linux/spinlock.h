/* Stand-in for <linux/spinlock.h> (linux/compat): the host never calls a
 * walker re-entrantly for a domain (docs/walkers.md), so a lock has nothing
 * to exclude. */
#ifndef IMS_LX_LINUX_SPINLOCK_H
#define IMS_LX_LINUX_SPINLOCK_H

typedef struct {
	int locked;
} spinlock_t;
typedef spinlock_t raw_spinlock_t;

#define __SPIN_LOCK_UNLOCKED(name) {0}
#define DEFINE_SPINLOCK(name) spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
#define spin_lock_init(l) ((l)->locked = 0)
#define raw_spin_lock_init spin_lock_init
#define spin_lock(l) ((l)->locked = 1)
#define spin_unlock(l) ((l)->locked = 0)
#define spin_lock_irqsave(l, flags) ((void)(flags), (l)->locked = 1)
#define spin_unlock_irqrestore(l, flags) ((void)(flags), (l)->locked = 0)
#define spin_lock_irq spin_lock
#define spin_unlock_irq spin_unlock
#define raw_spin_lock spin_lock
#define raw_spin_unlock spin_unlock
#define raw_spin_lock_irqsave spin_lock_irqsave
#define raw_spin_unlock_irqrestore spin_unlock_irqrestore

#endif
