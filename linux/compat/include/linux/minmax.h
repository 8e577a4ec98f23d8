/* Stand-in for <linux/minmax.h>. Each argument is evaluated once. */
#ifndef IMS_LX_MINMAX_H
#define IMS_LX_MINMAX_H

#define min(a, b)                              \
	({                                     \
		__typeof__(a) ims_a_ = (a);    \
		__typeof__(b) ims_b_ = (b);    \
		ims_a_ < ims_b_ ? ims_a_ : ims_b_; \
	})
#define max(a, b)                              \
	({                                     \
		__typeof__(a) ims_a_ = (a);    \
		__typeof__(b) ims_b_ = (b);    \
		ims_a_ > ims_b_ ? ims_a_ : ims_b_; \
	})
#define min_t(type, a, b)                            \
	({                                           \
		type ims_a_ = (type)(a);             \
		type ims_b_ = (type)(b);             \
		ims_a_ < ims_b_ ? ims_a_ : ims_b_;   \
	})
#define max_t(type, a, b)                            \
	({                                           \
		type ims_a_ = (type)(a);             \
		type ims_b_ = (type)(b);             \
		ims_a_ > ims_b_ ? ims_a_ : ims_b_;   \
	})
#define clamp(v, lo, hi) min(max(v, lo), hi)
#define clamp_t(type, v, lo, hi) min_t(type, max_t(type, v, lo), hi)
#define umin(a, b) min_t(unsigned long long, a, b)
#define umax(a, b) max_t(unsigned long long, a, b)

#endif
