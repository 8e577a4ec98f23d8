/* Stand-in for <linux/mutex.h> (linux/compat): see spinlock.h. */
#ifndef IMS_LX_LINUX_MUTEX_H
#define IMS_LX_LINUX_MUTEX_H

struct mutex {
	int locked;
};

#define DEFINE_MUTEX(name) struct mutex name = {0}
#define mutex_init(m) ((m)->locked = 0)
#define mutex_lock(m) ((m)->locked = 1)
#define mutex_unlock(m) ((m)->locked = 0)
#define mutex_destroy(m) ((void)(m))

#endif
