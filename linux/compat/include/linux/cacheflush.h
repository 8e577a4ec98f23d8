/* Stand-in for <linux/cacheflush.h> (linux/compat): the model's walker is
 * coherent, there is no cache to clean. */
#ifndef IMS_LX_LINUX_CACHEFLUSH_H
#define IMS_LX_LINUX_CACHEFLUSH_H

static inline void clflush_cache_range(void *addr, unsigned int size)
{
	(void)addr;
	(void)size;
}

#endif
