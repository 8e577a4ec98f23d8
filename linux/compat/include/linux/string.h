/* Stand-in for <linux/string.h> (linux/compat). */
#ifndef IMS_LX_LINUX_STRING_H
#define IMS_LX_LINUX_STRING_H

#include <string.h>

#include <linux/compiler.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* Fills count 64-bit words. Kernel code fills page-table entries with it
 * (generic_pt's AMD v1 replica runs longer than 32 entries), so each word
 * is a WRITE_ONCE: a host store, an interleaving point, where the kernel's
 * is one block fill the hardware may observe half done. */
static inline void *memset64(u64 *s, u64 v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		WRITE_ONCE(s[i], v);
	return s;
}

/* Sets every byte of *obj after member (from member on, for _startat). */
#define memset_after(obj, v, member)                                               \
	__extension__({                                                            \
		size_t __o = offsetofend(__typeof__(*(obj)), member);              \
		memset((unsigned char *)(obj) + __o, v, sizeof(*(obj)) - __o);      \
	})
#define memset_startat(obj, v, member)                                             \
	__extension__({                                                            \
		size_t __o = offsetof(__typeof__(*(obj)), member);                 \
		memset((unsigned char *)(obj) + __o, v, sizeof(*(obj)) - __o);      \
	})

#endif
