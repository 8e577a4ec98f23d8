/* Stand-in for <linux/xarray.h> (linux/compat): the type only, for
 * structures that embed one. */
#ifndef IMS_LX_LINUX_XARRAY_H
#define IMS_LX_LINUX_XARRAY_H

#include <linux/spinlock.h>
#include <linux/types.h>

struct xarray {
	spinlock_t xa_lock;
	unsigned int xa_flags;
	void *xa_head;
};

#endif
