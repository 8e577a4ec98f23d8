/* The iova bitmap (dirty-semantics.md, "The iova bitmap").
 *
 * Byte ranges are handled as inclusive [first, last] pairs so that a range
 * ending exactly at 2^64 never needs the unrepresentable value 2^64, and bit
 * numbers come from (byte - bm->iova) >> pgshift, which stays in range for
 * every pgshift up to 63. Bits at or past nbits are kept zero by every setter
 * and masked by every reader, so words written directly by a caller cannot
 * leak into counts or comparisons.
 *
 * pgshift may be 0..63; a small pgshift over a large range simply fails the
 * allocation with -ENOMEM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/bitmap.h"
#include "model/hot_path.h"

/* Valid bits of the last word. */
static uint64_t tail(const struct ims_bitmap *bm)
{
	unsigned r = (unsigned)(bm->nbits & 63);
	return r ? (1ull << r) - 1 : ~0ull;
}

/* Word i with bits past nbits cleared; 0 past the end. */
static uint64_t word(const struct ims_bitmap *bm, uint64_t i)
{
	if (i >= bm->nwords)
		return 0;
	return i == bm->nwords - 1 ? bm->words[i] & tail(bm) : bm->words[i];
}

/* Index of the highest set bit, or -1 when none. */
static int64_t top_bit(const struct ims_bitmap *bm)
{
	for (uint64_t i = bm->nwords; i-- > 0;) {
		uint64_t w = word(bm, i);
		if (w)
			return (int64_t)(i * 64 + ims_log2(w));
	}
	return -1;
}

int ims_bitmap_init(struct ims_bitmap *bm, uint64_t iova, uint64_t length, unsigned pgshift)
{
	memset(bm, 0, sizeof(*bm));
	if (pgshift > 63 || !length)
		return -EINVAL;
	uint64_t pmask = (1ull << pgshift) - 1;
	if ((iova | length) & pmask)
		return -EINVAL;
	/* iova + length == 2^64 is allowed: only the last byte must fit. */
	if (length - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	uint64_t nbits = length >> pgshift;
	uint64_t nwords = nbits / 64 + (nbits % 64 != 0);
	if (nwords > SIZE_MAX / sizeof(uint64_t))
		return -ENOMEM;
	/* calloc: a sparse terabyte bitmap stays mostly untouched zero pages. */
	uint64_t *w = calloc((size_t)nwords, sizeof(uint64_t));
	if (!w)
		return -ENOMEM;
	bm->iova = iova;
	bm->length = length;
	bm->pgshift = pgshift;
	bm->nbits = nbits;
	bm->nwords = nwords;
	bm->words = w;
	return 0;
}

void ims_bitmap_fini(struct ims_bitmap *bm)
{
	free(bm->words);
	memset(bm, 0, sizeof(*bm));
}

void ims_bitmap_zero(struct ims_bitmap *bm)
{
	if (bm->nwords)
		memset(bm->words, 0, (size_t)bm->nwords * sizeof(uint64_t));
}

IMS_HARVEST_PATH
void ims_bitmap_set_bits(struct ims_bitmap *bm, uint64_t first, uint64_t count)
{
	if (!count || first >= bm->nbits)
		return;
	if (count > bm->nbits - first)
		count = bm->nbits - first;
	uint64_t last = first + (count - 1);
	uint64_t w0 = first >> 6, w1 = last >> 6;
	uint64_t m0 = ~0ull << (first & 63);
	uint64_t m1 = ~0ull >> (63 - (last & 63));
	if (w0 == w1) {
		bm->words[w0] |= m0 & m1;
		return;
	}
	bm->words[w0] |= m0;
	if (w1 - w0 > 1)
		memset(bm->words + w0 + 1, 0xff, (size_t)(w1 - w0 - 1) * sizeof(uint64_t));
	bm->words[w1] |= m1;
}

/* The bits of word w that [first, last] covers (w0, w1: its first and
 * last word). */
static inline uint64_t range_mask(uint64_t w, uint64_t w0, uint64_t w1, uint64_t first,
				  uint64_t last)
{
	uint64_t m = ~0ull;
	if (w == w0)
		m &= ~0ull << (first & 63);
	if (w == w1)
		m &= ~0ull >> (63 - (last & 63));
	return m;
}

void ims_bitmap_or_bits(struct ims_bitmap *dst, const struct ims_bitmap *src, uint64_t first,
			uint64_t last)
{
	if (first > last || first >= dst->nbits || first >= src->nbits)
		return;
	uint64_t n = dst->nbits < src->nbits ? dst->nbits : src->nbits;
	if (last >= n)
		last = n - 1;
	uint64_t w0 = first >> 6, w1 = last >> 6;
	for (uint64_t w = w0; w <= w1; w++)
		dst->words[w] |= src->words[w] & range_mask(w, w0, w1, first, last);
}

bool ims_bitmap_all(const struct ims_bitmap *bm, uint64_t first, uint64_t last)
{
	if (first > last || last >= bm->nbits)
		return false;
	uint64_t w0 = first >> 6, w1 = last >> 6;
	for (uint64_t w = w0; w <= w1; w++) {
		uint64_t m = range_mask(w, w0, w1, first, last);
		if ((bm->words[w] & m) != m)
			return false;
	}
	return true;
}

bool ims_bitmap_any(const struct ims_bitmap *bm, uint64_t first, uint64_t last)
{
	if (first > last || first >= bm->nbits)
		return false;
	if (last >= bm->nbits)
		last = bm->nbits - 1;
	uint64_t w0 = first >> 6, w1 = last >> 6;
	for (uint64_t w = w0; w <= w1; w++)
		if (bm->words[w] & range_mask(w, w0, w1, first, last))
			return true;
	return false;
}

IMS_HARVEST_PATH
void ims_bitmap_set(struct ims_bitmap *bm, uint64_t iova, uint64_t len)
{
	if (!len || !bm->nbits)
		return;
	uint64_t last = iova + (len - 1);
	if (last < iova) /* runs past 2^64: clip there */
		last = UINT64_MAX;
	uint64_t bfirst = bm->iova, blast = bm->iova + (bm->length - 1);
	if (last < bfirst || iova > blast)
		return;
	uint64_t lo = iova > bfirst ? iova : bfirst;
	uint64_t hi = last < blast ? last : blast;
	uint64_t b0 = (lo - bfirst) >> bm->pgshift;
	uint64_t b1 = (hi - bfirst) >> bm->pgshift;
	ims_bitmap_set_bits(bm, b0, b1 - b0 + 1);
}

bool ims_bitmap_test(const struct ims_bitmap *bm, uint64_t bit)
{
	return bit < bm->nbits && (bm->words[bit >> 6] >> (bit & 63) & 1);
}

uint64_t ims_bitmap_count(const struct ims_bitmap *bm)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < bm->nwords; i++) {
		uint64_t w = word(bm, i);
		if (w)
			n += (uint64_t)__builtin_popcountll(w);
	}
	return n;
}

/* Bits are compared index by index over the longer bitmap (missing bits
 * read as zero); a geometry mismatch makes the result false even when the
 * bits agree, since bit k then names different IOVAs. */
bool ims_bitmap_compare(const struct ims_bitmap *expected, const struct ims_bitmap *got,
			struct ims_bitmap_diff *diff)
{
	struct ims_bitmap_diff d = {0, 0, 0, 0};
	uint64_t n = expected->nwords > got->nwords ? expected->nwords : got->nwords;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = word(expected, i), g = word(got, i);
		if (e == g)
			continue;
		uint64_t u = e & ~g, o = g & ~e;
		if (u) {
			if (!d.under)
				d.first_under = i * 64 + (uint64_t)__builtin_ctzll(u);
			d.under += (uint64_t)__builtin_popcountll(u);
		}
		if (o) {
			if (!d.over)
				d.first_over = i * 64 + (uint64_t)__builtin_ctzll(o);
			d.over += (uint64_t)__builtin_popcountll(o);
		}
	}
	if (diff)
		*diff = d;
	bool same = expected->iova == got->iova && expected->pgshift == got->pgshift &&
		    expected->nbits == got->nbits;
	return same && !d.under && !d.over;
}

/* Hex digit j (0 = least significant) covers bits 4j..4j+3; 64 is a
 * multiple of 4, so a digit never straddles two words. */
static unsigned nibble(const struct ims_bitmap *bm, uint64_t j)
{
	return (unsigned)(word(bm, j / 16) >> ((j % 16) * 4)) & 0xf;
}

char *ims_bitmap_to_hex(const struct ims_bitmap *bm)
{
	static const char digits[] = "0123456789abcdef";
	int64_t top = top_bit(bm);
	uint64_t nd = top < 0 ? 1 : (uint64_t)top / 4 + 1;
	if (nd >= SIZE_MAX)
		return NULL;
	char *s = malloc((size_t)nd + 1);
	if (!s)
		return NULL;
	for (uint64_t k = 0; k < nd; k++)
		s[k] = digits[nibble(bm, nd - 1 - k)];
	s[nd] = '\0';
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Word i of bm without the bits of except (NULL: none). */
static uint64_t word_except(const struct ims_bitmap *bm, const struct ims_bitmap *except, uint64_t i)
{
	return word(bm, i) & ~(except ? word(except, i) : 0);
}

static int equals_hex(const struct ims_bitmap *bm, const char *hex, size_t len,
		      const struct ims_bitmap *except)
{
	if (!hex)
		return -EINVAL;
	if (len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
		hex += 2;
		len -= 2;
	}
	if (!len)
		return -EINVAL;
	int eq = 1;
	/* Every digit is checked even after a mismatch: malformed input is
	 * -EINVAL whatever the bits say. */
	for (size_t k = 0; k < len; k++) {
		int v = hexval(hex[k]);
		if (v < 0)
			return -EINVAL;
		uint64_t j = (uint64_t)(len - 1 - k);
		unsigned m = except ? nibble(except, j) : 0;
		if (((unsigned)v & ~m) != (nibble(bm, j) & ~m))
			eq = 0;
	}
	/* Bits of the bitmap above the string's most significant digit. */
	for (uint64_t i = bm->nwords; i-- > 0;) {
		uint64_t w = word_except(bm, except, i);
		if (!w)
			continue;
		if ((i * 64 + ims_log2(w)) / 4 >= (uint64_t)len)
			eq = 0;
		break;
	}
	return eq;
}

int ims_bitmap_equals_hex(const struct ims_bitmap *bm, const char *hex, size_t len)
{
	return equals_hex(bm, hex, len, NULL);
}

int ims_bitmap_equals_hex_except(const struct ims_bitmap *bm, const char *hex, size_t len,
				 const struct ims_bitmap *except)
{
	return equals_hex(bm, hex, len, except);
}
