/* Stand-in for <linux/limits.h>: the kernel's names for integer limits (the
 * C library's <limits.h> is not used: it includes <linux/limits.h> itself). */
#ifndef IMS_LX_LIMITS_H
#define IMS_LX_LIMITS_H

#include <linux/types.h>

#define U8_MAX ((u8)~0U)
#define S8_MAX ((s8)(U8_MAX >> 1))
#define U16_MAX ((u16)~0U)
#define U32_MAX ((u32)~0U)
#define S32_MAX ((s32)(U32_MAX >> 1))
#define U64_MAX ((u64)~0ULL)
#define S64_MAX ((s64)(U64_MAX >> 1))
#ifndef INT_MAX
#define INT_MAX ((int)(~0U >> 1))
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define ULONG_MAX (~0UL)
#endif
#define SIZE_MAX_LX (~(size_t)0)

#endif
