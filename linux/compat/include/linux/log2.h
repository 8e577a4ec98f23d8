/* Stand-in for <linux/log2.h> (linux/compat). */
#ifndef IMS_LX_LINUX_LOG2_H
#define IMS_LX_LINUX_LOG2_H

#include <linux/bitops.h>
#include <linux/types.h>

/* floor(log2(n)) of a 64-bit value; -1 for 0 (as the kernel's). */
#define ilog2(n) ((int)(((u64)(n)) ? 63 - __builtin_clzll((u64)(n)) : -1))
#define const_ilog2(n) ilog2(n)

static inline __attribute__((const)) bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static inline unsigned long __roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1UL : 1UL << fls64(n - 1);
}

static inline unsigned long __rounddown_pow_of_two(unsigned long n)
{
	return 1UL << (fls64(n) - 1);
}

#define roundup_pow_of_two(n) __roundup_pow_of_two(n)
#define rounddown_pow_of_two(n) __rounddown_pow_of_two(n)
#define order_base_2(n) ((n) > 1 ? ilog2((n) - 1) + 1 : 0)

#endif
