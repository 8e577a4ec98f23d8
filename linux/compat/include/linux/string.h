/* Stand-in for <linux/string.h>. memset64 fills page-table entries in the
 * kernel code that uses it (AMD v1's long replica runs), so it writes word
 * by word through WRITE_ONCE: each entry a host store, an interleaving
 * point, where the kernel's version is one unobserved block fill. */
#ifndef IMS_LX_STRING_H
#define IMS_LX_STRING_H

#include <linux/stddef.h>
#include <linux/types.h>

#define memset(s, c, n) __builtin_memset(s, c, n)
#define memcpy(d, s, n) __builtin_memcpy(d, s, n)
#define memmove(d, s, n) __builtin_memmove(d, s, n)
#define memcmp(a, b, n) __builtin_memcmp(a, b, n)

static inline void *memset64(u64 *s, u64 v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		WRITE_ONCE(s[i], v);
	return s;
}

/* Zero (or fill with v) every byte of *obj after member. */
#define memset_after(obj, v, member)                                            \
	({                                                                      \
		u8 *ims_p_ = (u8 *)(obj);                                       \
		size_t ims_o_ = offsetofend(__typeof__(*(obj)), member);        \
		__builtin_memset(ims_p_ + ims_o_, v, sizeof(*(obj)) - ims_o_);  \
	})
#define memset_startat(obj, v, member)                                          \
	({                                                                      \
		u8 *ims_p_ = (u8 *)(obj);                                       \
		size_t ims_o_ = offsetof(__typeof__(*(obj)), member);           \
		__builtin_memset(ims_p_ + ims_o_, v, sizeof(*(obj)) - ims_o_);  \
	})

#endif
