/* Stand-in for <linux/err.h> (linux/compat). */
#ifndef IMS_LX_LINUX_ERR_H
#define IMS_LX_LINUX_ERR_H

#include <linux/compiler.h>
#include <linux/errno.h>

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}

static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR(ptr);
}

#endif
