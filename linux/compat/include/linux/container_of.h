/* Stand-in for <linux/container_of.h>. */
#ifndef IMS_LX_CONTAINER_OF_H
#define IMS_LX_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
/* As container_of, const-qualified when ptr is. */
#define container_of_const(ptr, type, member)                                        \
	_Generic(ptr, const __typeof__(*(ptr)) *: ((const type *)container_of(ptr, type, member)), \
		 default: ((type *)container_of(ptr, type, member)))

#endif
