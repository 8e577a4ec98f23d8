/* Stand-in for <linux/compiler.h> and <linux/compiler_types.h>
 * (linux/compat, our own words): attributes, barriers and the *_ONCE
 * accessors. READ_ONCE / WRITE_ONCE of a 64-bit object go through the
 * compat runtime, which makes them host memory calls when the object is a
 * page-table entry (ims_lx.h). */
#ifndef IMS_LX_LINUX_COMPILER_H
#define IMS_LX_LINUX_COMPILER_H

#include "ims_lx.h"
#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define noinline __attribute__((__noinline__))
#define __noinline noinline
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __used __attribute__((__used__))
#define __must_check __attribute__((__warn_unused_result__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __cold __attribute__((__cold__))
#define __pure __attribute__((__pure__))
#define __noreturn __attribute__((__noreturn__))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __section(s) __attribute__((__section__(s)))
#define __weak __attribute__((__weak__))
#define __flatten __attribute__((__flatten__))
#define __nonstring
#define __counted_by(m)
#define __counted_by_ptr(m)
#define __no_sanitize_address
#define fallthrough __attribute__((__fallthrough__))

/* Sparse annotations and section placement: nothing for a user-space build. */
#define __force
#define __iomem
#define __user
#define __kernel
#define __rcu
#define __percpu
#define __bitwise
#define __safe
#define __private
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define __cond_acquires(x)
#define __init
#define __initdata
#define __initconst
#define __exit
#define __read_mostly
#define __ro_after_init
#define __refdata
#define __visible
#define notrace
#define __always_used

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define barrier() __asm__ __volatile__("" : : : "memory")

#define __same_type(a, b) __builtin_types_compatible_p(__typeof__(a), __typeof__(b))
#define __is_constexpr(x) \
	(sizeof(int) == sizeof(*(8 ? ((void *)((long)(x) * 0l)) : (int *)8)))

#ifndef __stringify
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)
#endif

#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

/* The kernel's type of an expression without qualifiers (for scalars). */
#define __unqual_scalar_typeof(x) __typeof__(+(x))

/* READ_ONCE: a 64-bit object is read through the runtime (a host load when
 * it is a page-table entry); smaller objects in place, once. */
#define READ_ONCE(x)                                                               \
	__extension__({                                                            \
		union {                                                            \
			__typeof__(x) __val;                                       \
			unsigned char __c[sizeof(x)];                              \
		} __u;                                                             \
		if (sizeof(x) == 8) {                                              \
			uint64_t __w = ims_lx_read64(&(x));                        \
			__builtin_memcpy(__u.__c, &__w, sizeof(x) < 8 ? sizeof(x) : 8);                       \
		} else {                                                           \
			__builtin_memcpy(__u.__c, (const void *)&(x), sizeof(x));            \
		}                                                                  \
		__u.__val;                                                         \
	})

#define WRITE_ONCE(x, val)                                                         \
	do {                                                                       \
		__typeof__(x) __wv = (val);                                        \
		if (sizeof(x) == 8) {                                              \
			uint64_t __w;                                              \
			__builtin_memcpy(&__w, &__wv, sizeof(x) < 8 ? sizeof(x) : 8);                             \
			ims_lx_write64(&(x), __w);                                 \
		} else {                                                           \
			*(volatile __typeof__(x) *)&(x) = __wv;                    \
		}                                                                  \
	} while (0)

#define data_race(expr) (expr)

#endif
