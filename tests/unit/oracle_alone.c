/* The wall between model and software, for the bitmap (DESIGN.md: model/
 * never uses pagetables/). This program is built from model/oracle.c alone,
 * not from the library: were the oracle to write its expected bitmap with
 * the software's bitmap code (ims_bitmap_*), it would not link. And the
 * bits it writes are checked against a bit-by-bit reference written from
 * dirty-semantics.md ("The iova bitmap"): bit k covers the bytes
 * [iova + k * 2^pgshift, iova + (k + 1) * 2^pgshift), is bit k % 64 of word
 * k / 64, and is set when any 4 KiB page expected dirty meets those bytes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/oracle.h"

#define GiB (1ull << 30)
#define MAXRANGES 16
#define MAXWORDS 64 /* 4096 bits at most */
#define JUNK 0xa5a5a5a5a5a5a5a5ull

/* The 4 KiB pages expected dirty: inclusive byte ranges, page aligned. */
struct truth {
	unsigned n;
	uint64_t first[MAXRANGES], last[MAXRANGES];
};

static uint64_t rnd64(uint64_t *s)
{
	/* xorshift64*: a fixed seed, the same cases every run. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Adds the pages [iova, iova + size) meets (size > 0) to the oracle and
 * to the truth, clipped at 2^64. */
static void add(struct ims_oracle *o, struct truth *t, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = UINT64_MAX;
	ims_oracle_add(o, 1, iova, size);
	t->first[t->n] = iova & ~0xfffull;
	t->last[t->n] = last | 0xfff;
	t->n++;
}

/* The reference: every bit on its own, every range on its own. */
static void naive(const struct truth *t, uint64_t iova, uint64_t nbits, unsigned pgshift,
		  uint64_t *words)
{
	uint64_t psize = 1ull << pgshift;
	for (uint64_t k = 0; k < nbits; k++) {
		uint64_t lo = iova + k * psize, hi = lo + (psize - 1);
		for (unsigned i = 0; i < t->n; i++)
			if (t->first[i] <= hi && t->last[i] >= lo)
				words[k / 64] |= 1ull << (k % 64);
	}
}

/* The oracle's bitmap over the geometry, into words full of junk (with a
 * word of junk past the end, which must stay), against the reference. */
static void check(const struct ims_oracle *o, const struct truth *t, uint64_t iova, uint64_t nbits,
		  unsigned pgshift, const char *what)
{
	uint64_t got[MAXWORDS + 1], want[MAXWORDS + 1];
	uint64_t nwords = (nbits + 63) / 64;
	ck_assert_uint_le(nwords, MAXWORDS);
	for (unsigned i = 0; i <= MAXWORDS; i++)
		got[i] = JUNK;
	memset(want, 0, sizeof(want));
	naive(t, iova, nbits, pgshift, want);
	ims_oracle_expected(o, 1, iova, nbits << pgshift, pgshift, got);
	for (uint64_t w = 0; w < nwords; w++)
		ck_assert_msg(got[w] == want[w],
			      "%s: pgshift %u iova %#llx nbits %llu: word %llu is %#llx, want %#llx",
			      what, pgshift, (unsigned long long)iova, (unsigned long long)nbits,
			      (unsigned long long)w, (unsigned long long)got[w],
			      (unsigned long long)want[w]);
	ck_assert_msg(got[nwords] == JUNK, "%s: a word past the bitmap was written", what);
}

/* Random sets and geometries: every page size from 2^0 to 2^63, bitmaps of
 * 1 to 4096 bits from any page-aligned start (so runs begin and end at any
 * bit of a word, and at the top of the space), sets of single pages, short
 * runs and huge ranges, inside the bitmap and across both of its ends. */
START_TEST(random_against_naive)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (unsigned round = 0; round < 3000; round++) {
		unsigned pgshift = round < 64 ? round : (unsigned)(rnd64(&seed) % 64);
		/* A length is below 2^64: at most 2^(64 - pgshift) - 1 pages. */
		uint64_t maxbits = UINT64_MAX >> pgshift;
		uint64_t nbits = 1 + rnd64(&seed) % (round % 4 ? 300 : 4096);
		if (nbits > maxbits)
			nbits = maxbits;
		/* The start page: anywhere that ends by 2^64, half the time
		 * against the top of the space. */
		uint64_t maxsb = (maxbits - nbits) + 1; /* 2^(64 - pgshift) - nbits */
		uint64_t r = rnd64(&seed);
		uint64_t sb = round % 2 ? (maxsb == UINT64_MAX ? r : r % (maxsb + 1))
					: maxsb - (r % 3 < maxsb ? r % 3 : maxsb);
		uint64_t iova = sb << pgshift;
		uint64_t span_last = iova + ((nbits << pgshift) - 1);

		struct ims_oracle *o = ims_oracle_new();
		ck_assert_ptr_nonnull(o);
		struct truth t = {0};
		unsigned nr = 1 + (unsigned)(rnd64(&seed) % MAXRANGES);
		for (unsigned i = 0; i < nr; i++) {
			uint64_t r = rnd64(&seed);
			/* Sizes: one page, a few, or up to 2^52 bytes. */
			uint64_t size = r % 3 == 0 ? 4096 : r % 3 == 1 ? 4096 * (1 + r / 3 % 9)
								  : 1ull << (12 + r / 3 % 41);
			uint64_t at;
			switch (rnd64(&seed) % 4) {
			case 0: /* just below the bitmap, reaching into it or not */
				at = iova - size + 4096 * (rnd64(&seed) % 3);
				break;
			case 1: /* around its last byte */
				at = span_last - 4096 * (rnd64(&seed) % 3);
				break;
			default: /* anywhere inside */
				at = iova + rnd64(&seed) % (span_last - iova + 1);
			}
			add(o, &t, at & ~0xfffull, size);
		}
		check(o, &t, iova, nbits, pgshift, "random");
		ims_oracle_free(o);
	}
}
END_TEST

/* The corners written out: page size 2^63 at both halves of the space, a
 * bitmap ending at 2^64, runs ending on bit 63 and starting on bit 1. */
START_TEST(corners)
{
	struct ims_oracle *o = ims_oracle_new();
	struct truth t = {0};
	add(o, &t, (1ull << 63) - 4096, 4096); /* last page of the low half */
	add(o, &t, 0ull - 4096, 4096);         /* last page of the space */
	check(o, &t, 0, 1, 63, "2^63 low");
	check(o, &t, 1ull << 63, 1, 63, "2^63 high");
	check(o, &t, 0, 3, 62, "2^62 x3");
	check(o, &t, 1ull << 62, 3, 62, "2^62 to the top");
	check(o, &t, 0ull - 64 * GiB, 64, 30, "1 GiB to the top");
	ims_oracle_free(o);

	o = ims_oracle_new();
	memset(&t, 0, sizeof(t));
	add(o, &t, 0x100000 + 63 * 4096, 4096); /* bit 63 alone */
	add(o, &t, 0x200000, 2 << 20);          /* bits 1..512 below, ending on 63 of word 7 */
	add(o, &t, 0x401000, 62 * 4096);        /* bits 1..62 of a word */
	check(o, &t, 0x100000, 64, 12, "bit 63");
	check(o, &t, 0x1ff000, 514, 12, "a 2 MiB run from bit 1");
	check(o, &t, 0x200000, 512, 12, "a 2 MiB run ending on bit 63");
	check(o, &t, 0x400000, 128, 12, "bits 1..62");
	check(o, &t, 0x100000, 4096, 9, "512-byte pages");
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1 + 512 + 62);
	ims_oracle_free(o);
}
END_TEST

/* An empty domain, an unknown one, and a zero-length bitmap write zeros
 * only (and nothing at all for the last). */
START_TEST(empty)
{
	struct ims_oracle *o = ims_oracle_new();
	struct truth t = {0};
	check(o, &t, 0, 4096, 12, "empty");
	ims_oracle_add(o, 2, 0, 4096);
	check(o, &t, 0, 4096, 12, "other domain");
	uint64_t w = JUNK;
	ims_oracle_expected(o, 2, 0, 0, 12, &w);
	ck_assert_uint_eq(w, JUNK);
	ims_oracle_free(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oracle_alone");
	TCase *tc = tcase_create("bitmap");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, random_against_naive);
	tcase_add_test(tc, corners);
	tcase_add_test(tc, empty);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
