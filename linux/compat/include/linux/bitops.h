/* Stand-in for <linux/bitops.h>: bit searches, and the bit operations on
 * memory (through the runtime's atomics when the word is a table entry). */
#ifndef IMS_LX_BITOPS_H
#define IMS_LX_BITOPS_H

#include <linux/bits.h>
#include <linux/types.h>

/* Position (1-based) of the highest set bit; 0 for 0. */
static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static inline int fls_long(unsigned long x)
{
	return fls64(x);
}

/* Index (0-based) of the lowest set bit; undefined for 0. */
static inline unsigned long __ffs(unsigned long x)
{
	return (unsigned long)__builtin_ctzl(x);
}

static inline unsigned int __ffs64(u64 x)
{
	return (unsigned int)__builtin_ctzll(x);
}

/* Index (0-based) of the highest set bit; undefined for 0. */
static inline unsigned long __fls(unsigned long x)
{
	return 63 - (unsigned long)__builtin_clzl(x);
}

/* Position (1-based) of the lowest set bit; 0 for 0. */
static inline int ffs(int x)
{
	return __builtin_ffs(x);
}

/* Index of the lowest clear bit; undefined for all ones. */
static inline unsigned long ffz(unsigned long x)
{
	return __ffs(~x);
}

static inline unsigned int hweight64(u64 x)
{
	return (unsigned int)__builtin_popcountll(x);
}

static inline unsigned int hweight32(u32 x)
{
	return (unsigned int)__builtin_popcount(x);
}

static inline unsigned long hweight_long(unsigned long x)
{
	return (unsigned long)__builtin_popcountl(x);
}

/* Bit operations on an array of unsigned long. A word of a page table is
 * changed through the runtime (one host read-modify-write), any other word
 * with a plain atomic. */
#define IMS_LX_BITWORD(nr, addr) ((volatile unsigned long *)(addr) + BIT_WORD(nr))

static inline void set_bit(long nr, volatile unsigned long *addr)
{
	ims_lx_fetch_or64(IMS_LX_BITWORD(nr, addr), BIT_MASK(nr));
}

static inline void clear_bit(long nr, volatile unsigned long *addr)
{
	ims_lx_fetch_and64(IMS_LX_BITWORD(nr, addr), ~BIT_MASK(nr));
}

static inline bool test_and_set_bit(long nr, volatile unsigned long *addr)
{
	return (ims_lx_fetch_or64(IMS_LX_BITWORD(nr, addr), BIT_MASK(nr)) & BIT_MASK(nr)) != 0;
}

static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	return (ims_lx_fetch_and64(IMS_LX_BITWORD(nr, addr), ~BIT_MASK(nr)) & BIT_MASK(nr)) != 0;
}

static inline bool test_bit(long nr, const volatile unsigned long *addr)
{
	return (ims_lx_load64(IMS_LX_BITWORD(nr, addr)) & BIT_MASK(nr)) != 0;
}

/* The non-atomic forms: a read and a write, as the kernel does them. */
static inline void __set_bit(long nr, volatile unsigned long *addr)
{
	volatile unsigned long *w = IMS_LX_BITWORD(nr, addr);
	ims_lx_store64(w, ims_lx_load64(w) | BIT_MASK(nr));
}

static inline void __clear_bit(long nr, volatile unsigned long *addr)
{
	volatile unsigned long *w = IMS_LX_BITWORD(nr, addr);
	ims_lx_store64(w, ims_lx_load64(w) & ~BIT_MASK(nr));
}

#endif
