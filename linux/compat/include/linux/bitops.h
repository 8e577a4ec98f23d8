/* Stand-in for <linux/bitops.h> (linux/compat). The atomic bit operations
 * act on a 64-bit word through the runtime: on a page-table entry each one
 * is a host read-modify-write (fetch_or / fetch_and), atomic against the
 * model's A/D updates; test_bit is a host load. The non-atomic __set_bit
 * family works in place. */
#ifndef IMS_LX_LINUX_BITOPS_H
#define IMS_LX_LINUX_BITOPS_H

#include <strings.h>

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define BITS_TO_LONGS(nr) (((nr) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define BITS_TO_U64(nr) (((nr) + 63) / 64)
#define BITS_TO_BYTES(nr) (((nr) + 7) / 8)

/* Index of the lowest / highest set bit (undefined for 0, as the kernel's). */
static inline unsigned long __ffs(unsigned long word)
{
	return (unsigned long)__builtin_ctzl(word);
}

static inline unsigned long __fls(unsigned long word)
{
	return (unsigned long)(BITS_PER_LONG - 1 - __builtin_clzl(word));
}

static inline unsigned long __ffs64(u64 word)
{
	return (unsigned long)__builtin_ctzll(word);
}

/* ffs (1-based, 0 for 0) is the C library's: <strings.h> declares it. */

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

static inline unsigned long ffz(unsigned long word)
{
	return __ffs(~word);
}

static inline unsigned int hweight32(unsigned int w)
{
	return (unsigned int)__builtin_popcount(w);
}

static inline unsigned int hweight64(u64 w)
{
	return (unsigned int)__builtin_popcountll(w);
}

static inline unsigned long hweight_long(unsigned long w)
{
	return (unsigned long)__builtin_popcountl(w);
}

#define hweight8(w) hweight32((u8)(w))
#define hweight16(w) hweight32((u16)(w))

static inline u64 rol64(u64 word, unsigned int shift)
{
	return (word << (shift & 63)) | (word >> ((-shift) & 63));
}

static inline u64 ror64(u64 word, unsigned int shift)
{
	return (word >> (shift & 63)) | (word << ((-shift) & 63));
}

static inline s64 sign_extend64(u64 value, int index)
{
	int shift = 63 - index;
	return (s64)(value << shift) >> shift;
}

static inline int get_count_order(unsigned int count)
{
	if (count == 0)
		return -1;
	return fls(count - 1);
}

static inline int get_count_order_long(unsigned long l)
{
	if (l == 0UL)
		return -1;
	return fls64(l - 1);
}

/* ---- atomic bit operations (through the runtime) ------------------------- */

static inline void set_bit(long nr, volatile unsigned long *addr)
{
	(void)ims_lx_fetch_or64(addr + BIT_WORD(nr), BIT_MASK(nr));
}

static inline void clear_bit(long nr, volatile unsigned long *addr)
{
	(void)ims_lx_fetch_and64(addr + BIT_WORD(nr), ~BIT_MASK(nr));
}

static inline void change_bit(long nr, volatile unsigned long *addr)
{
	volatile unsigned long *w = addr + BIT_WORD(nr);
	uint64_t old = ims_lx_read64(w);
	while (ims_lx_cmpxchg64(w, old, old ^ BIT_MASK(nr)) != old)
		old = ims_lx_read64(w);
}

static inline bool test_and_set_bit(long nr, volatile unsigned long *addr)
{
	return (ims_lx_fetch_or64(addr + BIT_WORD(nr), BIT_MASK(nr)) & BIT_MASK(nr)) != 0;
}

static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	return (ims_lx_fetch_and64(addr + BIT_WORD(nr), ~BIT_MASK(nr)) & BIT_MASK(nr)) != 0;
}

static inline bool test_bit(long nr, const volatile unsigned long *addr)
{
	return (ims_lx_read64(addr + BIT_WORD(nr)) & BIT_MASK(nr)) != 0;
}

/* ---- non-atomic bit operations (in place) -------------------------------- */

static inline void __set_bit(long nr, volatile unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void __clear_bit(long nr, volatile unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static inline bool __test_and_set_bit(long nr, volatile unsigned long *addr)
{
	bool old = (addr[BIT_WORD(nr)] & BIT_MASK(nr)) != 0;
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
	return old;
}

static inline bool __test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	bool old = (addr[BIT_WORD(nr)] & BIT_MASK(nr)) != 0;
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
	return old;
}

/* ---- searching a bitmap (in place) ----------------------------------------- */

static inline unsigned long find_next_bit(const unsigned long *addr, unsigned long size,
					  unsigned long offset)
{
	while (offset < size) {
		unsigned long w = addr[offset / BITS_PER_LONG] >> (offset % BITS_PER_LONG);
		if (w) {
			offset += __ffs(w);
			return offset < size ? offset : size;
		}
		offset = (offset / BITS_PER_LONG + 1) * BITS_PER_LONG;
	}
	return size;
}

static inline unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size,
					       unsigned long offset)
{
	while (offset < size) {
		unsigned long w = ~addr[offset / BITS_PER_LONG] >> (offset % BITS_PER_LONG);
		if (w) {
			offset += __ffs(w);
			return offset < size ? offset : size;
		}
		offset = (offset / BITS_PER_LONG + 1) * BITS_PER_LONG;
	}
	return size;
}

#define find_first_bit(addr, size) find_next_bit((addr), (size), 0)
#define find_first_zero_bit(addr, size) find_next_zero_bit((addr), (size), 0)

#define for_each_set_bit(bit, addr, size)                                    \
	for ((bit) = find_next_bit((addr), (size), 0); (bit) < (size);       \
	     (bit) = find_next_bit((addr), (size), (bit) + 1))

#endif
