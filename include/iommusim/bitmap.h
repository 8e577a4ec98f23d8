/* The iova bitmap (dirty-semantics.md, "The iova bitmap").
 *
 * One bit per 2^pgshift bytes of IOVA from `iova`; bit k is bit k%64 of
 * word k/64 (little-endian 64-bit words). Setting a byte range sets every bit
 * whose page overlaps it; partial pages count whole. Ranges are clipped to
 * the bitmap. Page sizes up to 2^63 are handled without overflow.
 */
#ifndef IOMMUSIM_BITMAP_H
#define IOMMUSIM_BITMAP_H

#include "iommusim/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ims_bitmap {
	uint64_t iova;   /* first byte covered */
	uint64_t length; /* bytes covered (may be 2^64 - iova at most) */
	unsigned pgshift;
	uint64_t nbits;
	uint64_t nwords;
	uint64_t *words;
};

/* iova and length must be aligned to 1 << pgshift and length non-zero; the
 * range must not wrap past 2^64. Returns -EINVAL, -EOVERFLOW or -ENOMEM. */
int ims_bitmap_init(struct ims_bitmap *bm, uint64_t iova, uint64_t length, unsigned pgshift);
void ims_bitmap_fini(struct ims_bitmap *bm);
void ims_bitmap_zero(struct ims_bitmap *bm);

/* Set bits for [iova, iova + len); len 0 sets nothing. */
void ims_bitmap_set(struct ims_bitmap *bm, uint64_t iova, uint64_t len);
void ims_bitmap_set_bits(struct ims_bitmap *bm, uint64_t first, uint64_t count);
bool ims_bitmap_test(const struct ims_bitmap *bm, uint64_t bit);
uint64_t ims_bitmap_count(const struct ims_bitmap *bm);
/* dst |= src over bits [first, last] (same geometry; clipped to nbits). */
void ims_bitmap_or_bits(struct ims_bitmap *dst, const struct ims_bitmap *src, uint64_t first,
			uint64_t last);
/* Whether every bit of [first, last] is set (false past nbits), whether
 * any is (clipped to nbits). */
bool ims_bitmap_all(const struct ims_bitmap *bm, uint64_t first, uint64_t last);
bool ims_bitmap_any(const struct ims_bitmap *bm, uint64_t first, uint64_t last);

struct ims_bitmap_diff {
	uint64_t under;       /* bits expected but not reported */
	uint64_t over;        /* bits reported but not expected */
	uint64_t first_under; /* bit index, valid when under > 0 */
	uint64_t first_over;  /* bit index, valid when over > 0 */
};

/* Compares got with expected (same geometry). Returns true when equal. */
bool ims_bitmap_compare(const struct ims_bitmap *expected, const struct ims_bitmap *got,
			struct ims_bitmap_diff *diff);

/* Hex form of trace-format.md: most significant digit first, no leading
 * zeros ("0" when empty). Returns malloc'd string or NULL. */
char *ims_bitmap_to_hex(const struct ims_bitmap *bm);
/* Compare with a hex string of the same form (leading zeros allowed).
 * Returns 1 equal, 0 different, -EINVAL malformed. Bits of the string past
 * nbits must be zero for equality. */
int ims_bitmap_equals_hex(const struct ims_bitmap *bm, const char *hex, size_t len);
/* The same, ignoring the bits set in except (same geometry as bm): equal
 * when bm and the string agree on every other bit. */
int ims_bitmap_equals_hex_except(const struct ims_bitmap *bm, const char *hex, size_t len,
				 const struct ims_bitmap *except);

#ifdef __cplusplus
}
#endif

#endif
