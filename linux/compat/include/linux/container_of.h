/* Stand-in for <linux/container_of.h> (linux/compat). */
#ifndef IMS_LX_LINUX_CONTAINER_OF_H
#define IMS_LX_LINUX_CONTAINER_OF_H

#include <linux/stddef.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define container_of_const(ptr, type, member) container_of(ptr, type, member)

#endif
