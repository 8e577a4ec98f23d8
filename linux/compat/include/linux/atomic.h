/* Stand-in for <linux/atomic.h> and the cmpxchg family. The 64-bit forms go
 * through the runtime (ims_linux.h): on a page-table entry one host
 * cmpxchg / xchg / fetch_and / fetch_or, atomic against the hardware's
 * accessed/dirty updates; elsewhere a plain atomic. The memory-order
 * suffixes (_release, _acquire, _relaxed) change nothing: the model acts
 * only inside host calls, never between the CPU's own accesses. */
#ifndef IMS_LX_ATOMIC_H
#define IMS_LX_ATOMIC_H

#include <linux/compiler.h>
#include <linux/types.h>

#define cmpxchg64(ptr, o, n)                                                  \
	((__typeof__(*(ptr)))ims_lx_cmpxchg64((ptr), (u64)(o), (u64)(n)))
#define cmpxchg64_relaxed cmpxchg64
#define cmpxchg64_release cmpxchg64
#define cmpxchg64_acquire cmpxchg64

/* try_cmpxchg64(ptr, &old, new): true when *ptr was old and is now new;
 * otherwise *old gets what *ptr holds. */
#define try_cmpxchg64(ptr, oldp, n)                                           \
	({                                                                    \
		__typeof__(*(oldp)) *ims_o_ = (oldp);                         \
		u64 ims_was_ = ims_lx_cmpxchg64((ptr), (u64)*ims_o_, (u64)(n)); \
		bool ims_ok_ = ims_was_ == (u64)*ims_o_;                      \
		if (!ims_ok_)                                                 \
			*ims_o_ = (__typeof__(*(oldp)))ims_was_;              \
		ims_ok_;                                                      \
	})
#define try_cmpxchg64_release try_cmpxchg64
#define try_cmpxchg64_relaxed try_cmpxchg64
#define try_cmpxchg64_acquire try_cmpxchg64

/* Word sizes other than 64 bits: never a table entry here. */
#define cmpxchg(ptr, o, n)                                                    \
	({                                                                    \
		__typeof__(*(ptr)) ims_e_ = (o);                              \
		__atomic_compare_exchange_n((ptr), &ims_e_, (n), false,      \
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
		ims_e_;                                                       \
	})
#define try_cmpxchg(ptr, oldp, n)                                             \
	__atomic_compare_exchange_n((ptr), (oldp), (n), false, __ATOMIC_SEQ_CST, \
				    __ATOMIC_SEQ_CST)
#define try_cmpxchg_release try_cmpxchg
#define try_cmpxchg_relaxed try_cmpxchg
#define xchg(ptr, v)                                                          \
	__builtin_choose_expr(sizeof(*(ptr)) == 8,                            \
			      (__typeof__(*(ptr)))ims_lx_xchg64((ptr), (u64)(v)), \
			      __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST))

static inline int atomic_read(const atomic_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic_set(atomic_t *v, int i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_inc(atomic_t *v)
{
	__atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST);
}

static inline bool atomic_dec_and_test(atomic_t *v)
{
	return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST) == 0;
}

static inline s64 atomic64_read(const atomic64_t *v)
{
	return (s64)ims_lx_load64(&v->counter);
}

static inline void atomic64_set(atomic64_t *v, s64 i)
{
	ims_lx_store64(&v->counter, (u64)i);
}

static inline s64 atomic64_fetch_and(s64 mask, atomic64_t *v)
{
	return (s64)ims_lx_fetch_and64(&v->counter, (u64)mask);
}

static inline s64 atomic64_fetch_or(s64 mask, atomic64_t *v)
{
	return (s64)ims_lx_fetch_or64(&v->counter, (u64)mask);
}

static inline void atomic64_and(s64 mask, atomic64_t *v)
{
	ims_lx_fetch_and64(&v->counter, (u64)mask);
}

static inline void atomic64_or(s64 mask, atomic64_t *v)
{
	ims_lx_fetch_or64(&v->counter, (u64)mask);
}

#endif
