/* Stand-in for <linux/minmax.h> (linux/compat). Each argument is evaluated
 * once; the kernel's type checks are left to the kernel's own build. */
#ifndef IMS_LX_LINUX_MINMAX_H
#define IMS_LX_LINUX_MINMAX_H

#include <linux/compiler.h>

#define min(x, y)                                                    \
	__extension__({                                              \
		__auto_type __mx = (x);                              \
		__auto_type __my = (y);                              \
		__mx < __my ? __mx : __my;                           \
	})
#define max(x, y)                                                    \
	__extension__({                                              \
		__auto_type __mx = (x);                              \
		__auto_type __my = (y);                              \
		__mx > __my ? __mx : __my;                           \
	})
#define min_t(type, x, y) min((type)(x), (type)(y))
#define max_t(type, x, y) max((type)(x), (type)(y))
#define umin(x, y) min((unsigned long long)(x), (unsigned long long)(y))
#define umax(x, y) max((unsigned long long)(x), (unsigned long long)(y))
#define min3(x, y, z) min(min(x, y), z)
#define max3(x, y, z) max(max(x, y), z)
#define clamp(val, lo, hi) min(max(val, lo), hi)
#define clamp_t(type, val, lo, hi) clamp((type)(val), (type)(lo), (type)(hi))
#define clamp_val(val, lo, hi) clamp_t(__typeof__(val), val, lo, hi)
#define swap(a, b)                                                   \
	do {                                                         \
		__typeof__(a) __st = (a);                            \
		(a) = (b);                                           \
		(b) = __st;                                          \
	} while (0)

#endif
