/* Stand-in for <linux/atomic.h> (linux/compat). The 64-bit exchanges
 * (cmpxchg64 and its variants, try_cmpxchg64, xchg of 8 bytes) and the
 * atomic64 fetch_and/fetch_or go through the runtime: on a page-table entry
 * they are the host's atomic read-modify-writes, so the model's A/D updates
 * cannot fall between their read and their write. Everything else (the
 * kernel's own counters) works in place with the compiler's atomics. The
 * ordering variants (_relaxed, _acquire, _release) are one operation here:
 * the host orders every call. */
#ifndef IMS_LX_LINUX_ATOMIC_H
#define IMS_LX_LINUX_ATOMIC_H

#include <asm/barrier.h>
#include <linux/compiler.h>
#include <linux/types.h>

/* ---- exchanges of a scalar ---------------------------------------------------- */

#define ims_lx_u64_of(v)                                                     \
	__extension__({                                                      \
		__typeof__(v) __uv = (v);                                    \
		uint64_t __ur = 0;                                           \
		__builtin_memcpy(&__ur, &__uv, sizeof(__uv) < 8 ? sizeof(__uv) : 8);   \
		__ur;                                                        \
	})

#define cmpxchg(ptr, old, new)                                                        \
	__extension__({                                                               \
		__typeof__(*(ptr)) __co = (old), __cn = (new), __cr;                  \
		if (sizeof(*(ptr)) == 8) {                                            \
			uint64_t __r = ims_lx_cmpxchg64((ptr), ims_lx_u64_of(__co),   \
							ims_lx_u64_of(__cn));         \
			__builtin_memcpy(&__cr, &__r, sizeof(__cr) < 8 ? sizeof(__cr) : 8);     \
		} else {                                                              \
			__cr = __co;                                                  \
			__atomic_compare_exchange_n((ptr), &__cr, __cn, 0,            \
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
		}                                                                     \
		__cr;                                                                 \
	})
#define cmpxchg_relaxed cmpxchg
#define cmpxchg_acquire cmpxchg
#define cmpxchg_release cmpxchg
#define cmpxchg64(ptr, old, new) cmpxchg((ptr), (old), (new))
#define cmpxchg64_relaxed cmpxchg64
#define cmpxchg64_acquire cmpxchg64
#define cmpxchg64_release cmpxchg64
#define cmpxchg_local cmpxchg
#define cmpxchg64_local cmpxchg64

/* try_cmpxchg: true when *ptr was *oldp (now new); otherwise *oldp gets the
 * value found. */
#define try_cmpxchg(ptr, oldp, new)                                          \
	__extension__({                                                      \
		__typeof__(oldp) __to = (oldp);                              \
		__typeof__(*(ptr)) __tv = *__to;                             \
		__typeof__(*(ptr)) __tr = cmpxchg((ptr), __tv, (new));       \
		bool __ok = __tr == __tv;                                    \
		if (!__ok)                                                   \
			*__to = __tr;                                        \
		__ok;                                                        \
	})
#define try_cmpxchg_relaxed try_cmpxchg
#define try_cmpxchg_acquire try_cmpxchg
#define try_cmpxchg_release try_cmpxchg
#define try_cmpxchg64 try_cmpxchg
#define try_cmpxchg64_relaxed try_cmpxchg
#define try_cmpxchg64_acquire try_cmpxchg
#define try_cmpxchg64_release try_cmpxchg

#define xchg(ptr, v)                                                                 \
	__extension__({                                                              \
		__typeof__(*(ptr)) __xn = (v), __xr;                                 \
		if (sizeof(*(ptr)) == 8) {                                           \
			uint64_t __r = ims_lx_xchg64((ptr), ims_lx_u64_of(__xn));    \
			__builtin_memcpy(&__xr, &__r, sizeof(__xr) < 8 ? sizeof(__xr) : 8);    \
		} else {                                                             \
			__xr = __atomic_exchange_n((ptr), __xn, __ATOMIC_SEQ_CST);   \
		}                                                                    \
		__xr;                                                                \
	})
#define xchg_relaxed xchg
#define xchg_acquire xchg
#define xchg_release xchg

/* ---- atomic_t ------------------------------------------------------------------ */

#define ATOMIC_INIT(i) {(i)}
#define atomic_read(v) __atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic_set(v, i) __atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic_add(i, v) ((void)__atomic_add_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST))
#define atomic_sub(i, v) ((void)__atomic_sub_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST))
#define atomic_inc(v) atomic_add(1, v)
#define atomic_dec(v) atomic_sub(1, v)
#define atomic_add_return(i, v) __atomic_add_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic_sub_return(i, v) __atomic_sub_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic_inc_return(v) atomic_add_return(1, v)
#define atomic_dec_return(v) atomic_sub_return(1, v)
#define atomic_dec_and_test(v) (atomic_dec_return(v) == 0)
#define atomic_inc_and_test(v) (atomic_inc_return(v) == 0)

/* ---- atomic64_t: the bitwise fetch ops may act on a page-table entry -------- */

#define ATOMIC64_INIT(i) {(i)}
#define atomic64_read(v) ((s64)ims_lx_read64(&(v)->counter))
#define atomic64_set(v, i) ims_lx_write64(&(v)->counter, (uint64_t)(i))
#define atomic64_fetch_and(i, v) ((s64)ims_lx_fetch_and64(&(v)->counter, (uint64_t)(i)))
#define atomic64_fetch_or(i, v) ((s64)ims_lx_fetch_or64(&(v)->counter, (uint64_t)(i)))
#define atomic64_fetch_andnot(i, v) atomic64_fetch_and(~(uint64_t)(i), v)
#define atomic64_and(i, v) ((void)atomic64_fetch_and(i, v))
#define atomic64_or(i, v) ((void)atomic64_fetch_or(i, v))
#define atomic64_andnot(i, v) ((void)atomic64_fetch_andnot(i, v))
#define atomic64_fetch_and_relaxed atomic64_fetch_and
#define atomic64_fetch_or_relaxed atomic64_fetch_or
#define atomic64_cmpxchg(v, o, n) ((s64)ims_lx_cmpxchg64(&(v)->counter, (uint64_t)(o), (uint64_t)(n)))
#define atomic64_xchg(v, n) ((s64)ims_lx_xchg64(&(v)->counter, (uint64_t)(n)))
#define atomic64_add_return(i, v) __atomic_add_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic64_sub_return(i, v) __atomic_sub_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic64_add(i, v) ((void)atomic64_add_return(i, v))
#define atomic64_sub(i, v) ((void)atomic64_sub_return(i, v))
#define atomic64_inc(v) atomic64_add(1, v)
#define atomic64_dec(v) atomic64_sub(1, v)

#define atomic_long_read atomic64_read
#define atomic_long_set atomic64_set
#define atomic_long_add atomic64_add
#define atomic_long_sub atomic64_sub
#define atomic_long_inc atomic64_inc
#define atomic_long_dec atomic64_dec

#endif
