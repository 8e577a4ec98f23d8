/* Stand-in for <linux/slab.h> (linux/compat): the kernel's small-object
 * allocator is the C library's (the kernel's own structures, never page
 * tables). */
#ifndef IMS_LX_LINUX_SLAB_H
#define IMS_LX_LINUX_SLAB_H

#include <stdlib.h>

#include <linux/gfp.h>
#include <linux/types.h>

static inline void *kmalloc(size_t size, gfp_t gfp)
{
	return (gfp & __GFP_ZERO) ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	return calloc(1, size ? size : 1);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	return calloc(n ? n : 1, size ? size : 1);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	if (size && n > (size_t)-1 / size)
		return NULL;
	return malloc(n && size ? n * size : 1);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

#define kmalloc_node(size, gfp, node) kmalloc((size), (gfp))
#define kzalloc_node(size, gfp, node) kzalloc((size), (gfp))
#define kvmalloc kmalloc
#define kvzalloc kzalloc
#define kvcalloc kcalloc
#define kvfree kfree
#define kfree_sensitive kfree

/* 6.19's typed allocators: kmalloc_obj(*p) is a pointer to one object of
 * p's type (the optional GFP flags are ignored: allocation never sleeps). */
#define kmalloc_obj(obj, ...) ((__typeof__(obj) *)kmalloc(sizeof(obj), GFP_KERNEL))
#define kzalloc_obj(obj, ...) ((__typeof__(obj) *)kzalloc(sizeof(obj), GFP_KERNEL))
#define kmalloc_objs(obj, n, ...) ((__typeof__(obj) *)kmalloc_array((n), sizeof(obj), GFP_KERNEL))
#define kzalloc_objs(obj, n, ...) ((__typeof__(obj) *)kcalloc((n), sizeof(obj), GFP_KERNEL))

#endif
