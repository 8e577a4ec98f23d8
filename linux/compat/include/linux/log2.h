/* Stand-in for <linux/log2.h>. */
#ifndef IMS_LX_LOG2_H
#define IMS_LX_LOG2_H

#include <linux/bitops.h>

/* floor(log2(n)) for n > 0; folds to a constant for a constant n. */
#define ilog2(n) ((int)(63 - __builtin_clzll((unsigned long long)(n))))

static inline bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1 : 1UL << fls_long(n - 1);
}

static inline unsigned long rounddown_pow_of_two(unsigned long n)
{
	return 1UL << (fls_long(n) - 1);
}

#define order_base_2(n) ((n) <= 1 ? 0 : ilog2((n) - 1) + 1)

#endif
