/* Stand-in for <linux/bits.h>: single bits and contiguous masks. */
#ifndef IMS_LX_BITS_H
#define IMS_LX_BITS_H

#include <linux/types.h>

#define BITS_PER_LONG 64
#define BITS_PER_LONG_LONG 64
#define BITS_PER_BYTE 8
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define BIT_MASK(n) BIT((n) % BITS_PER_LONG)
#define BIT_WORD(n) ((n) / BITS_PER_LONG)
/* Bits h..l set (h >= l): all ones shifted out on both sides. */
#define GENMASK(h, l) ((~0UL >> (BITS_PER_LONG - 1 - (h))) & (~0UL << (l)))
#define GENMASK_ULL(h, l) ((~0ULL >> (63 - (h))) & (~0ULL << (l)))
#define GENMASK_U64(h, l) GENMASK_ULL(h, l)
#define GENMASK_U32(h, l) ((u32)GENMASK(h, l))

#endif
