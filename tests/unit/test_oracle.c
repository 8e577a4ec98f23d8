/* The dirty oracle (dirty-semantics.md, "The oracle"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommusim/bitmap.h"
#include "iommusim/oracle.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(write_leaf_sizes)
{
	struct ims_oracle *o = ims_oracle_new();
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 0);
	ck_assert(!ims_oracle_test(o, 1, 0));

	ims_oracle_write(o, 1, 0x5000, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1);
	ck_assert(ims_oracle_test(o, 1, 0x5000));
	ck_assert(ims_oracle_test(o, 1, 0x5fff));
	ck_assert(!ims_oracle_test(o, 1, 0x4fff));
	ck_assert(!ims_oracle_test(o, 1, 0x6000));
	/* Writing it again adds nothing. */
	ims_oracle_write(o, 1, 0x5000, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1);

	ims_oracle_write(o, 1, 6 * MiB, 21);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1 + 512);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 6 * MiB, 2 * MiB), 512);
	ck_assert(ims_oracle_test(o, 1, 8 * MiB - 1));
	ck_assert(!ims_oracle_test(o, 1, 8 * MiB));
	ck_assert(!ims_oracle_test(o, 1, 6 * MiB - 1));

	ims_oracle_write(o, 1, 5 * GiB, 30);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1 + 512 + 262144);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 5 * GiB, GiB), 262144);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 5 * GiB - 4096, 8192), 1);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 6 * GiB - 4096, 8192), 1);
	ck_assert(ims_oracle_test(o, 1, 6 * GiB - 1));
	ck_assert(!ims_oracle_test(o, 1, 6 * GiB));

	/* A 2 MiB leaf inside the dirty 1 GiB adds nothing. */
	ims_oracle_write(o, 1, 5 * GiB + 2 * MiB, 21);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1 + 512 + 262144);

	/* Unaligned count ranges count the pages they meet. */
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0x5fff, 2), 1);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0x4fff, 1), 0);
	ims_oracle_free(o);
}
END_TEST

START_TEST(huge_leaves)
{
	struct ims_oracle *o = ims_oracle_new();
	ims_oracle_write(o, 2, 512 * GiB, 39);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 0, 0), 1ull << 27);
	ims_oracle_write(o, 2, 1ull << 48, 48);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 0, 0), (1ull << 27) + (1ull << 36));
	/* A 2^53 leaf at the top of the space. */
	ims_oracle_write(o, 2, 0ull - (1ull << 53), 53);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 0, 0), (1ull << 27) + (1ull << 36) + (1ull << 41));
	ck_assert(ims_oracle_test(o, 2, UINT64_MAX));
	/* Huge leaves are a few marks, not a bitmap per page. */
	ck_assert_uint_lt(ims_oracle_footprint(o), 256 * KiB);

	/* Clearing one page out of a huge leaf splits only one path. */
	ims_oracle_clear(o, 2, (1ull << 48) + 123 * GiB + 0x7000, 4096);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 1ull << 48, 1ull << 48), (1ull << 36) - 1);
	ck_assert(!ims_oracle_test(o, 2, (1ull << 48) + 123 * GiB + 0x7000));
	ck_assert(ims_oracle_test(o, 2, (1ull << 48) + 123 * GiB + 0x8000));
	ck_assert_uint_lt(ims_oracle_footprint(o), 256 * KiB);
	/* Filling it back collapses the split path again. */
	ims_oracle_write(o, 2, (1ull << 48) + 123 * GiB + 0x7000, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 1ull << 48, 1ull << 48), 1ull << 36);

	/* The whole space at once (size_shift 64 and above is clipped). */
	ims_oracle_write(o, 3, 0, 64);
	ck_assert_uint_eq(ims_oracle_count(o, 3, 0, 0), 1ull << 52);
	ck_assert_uint_eq(ims_oracle_unmap(o, 3, 0x1000, 4096), 1);
	ck_assert_uint_eq(ims_oracle_count(o, 3, 0, 0), (1ull << 52) - 1);
	/* A leaf that would run past 2^64 is clipped there. */
	ims_oracle_write(o, 4, 0ull - 8192, 21);
	ck_assert_uint_eq(ims_oracle_count(o, 4, 0, 0), 2);
	ims_oracle_free(o);
}
END_TEST

/* Reference model over a small window: one flag per 4 KiB page. */
#define WPAGES 4096u /* 16 MiB */
struct ref {
	uint64_t base;
	bool pg[WPAGES];
};

static void ref_range(struct ref *r, uint64_t iova, uint64_t size, bool v)
{
	for (uint64_t a = iova & ~0xfffull; a < iova + size; a += 4096)
		if (a >= r->base && a - r->base < (uint64_t)WPAGES * 4096)
			r->pg[(a - r->base) / 4096] = v;
}

/* Bit k: any page of [k << sh, (k + 1) << sh) relative to bm->iova. */
static void ref_expected(const struct ref *r, struct ims_bitmap *out)
{
	ims_bitmap_zero(out);
	for (unsigned i = 0; i < WPAGES; i++)
		if (r->pg[i])
			ims_bitmap_set(out, r->base + (uint64_t)i * 4096, 4096);
}

static uint64_t ref_count(const struct ref *r)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < WPAGES; i++)
		n += r->pg[i];
	return n;
}

START_TEST(expected_bitmaps)
{
	struct ims_oracle *o = ims_oracle_new();
	static struct ref r;
	memset(&r, 0, sizeof(r));
	r.base = 4 * GiB - 8 * MiB; /* the window straddles a 1 GiB and a 4 GiB boundary */
	const uint64_t wr[][2] = {
		{r.base, 12},
		{r.base + 0x3000, 12},
		{r.base + 2 * MiB, 21},
		{r.base + 6 * MiB - 0x1000, 12},
		{r.base + 8 * MiB + 0x40000, 16},
		{r.base + 8 * MiB + 0x7ff000, 12},
		{r.base + 12 * MiB + 0x2000, 13},
	};
	for (unsigned i = 0; i < sizeof(wr) / sizeof(wr[0]); i++) {
		ims_oracle_write(o, 7, wr[i][0], (unsigned)wr[i][1]);
		ref_range(&r, wr[i][0], 1ull << wr[i][1], true);
	}
	ck_assert_uint_eq(ims_oracle_count(o, 7, 0, 0), ref_count(&r));

	const unsigned shifts[] = {12, 13, 14, 16, 20, 21, 22, 24, 30, 40};
	const uint64_t offs[] = {0, 1, 3, 64, 511, 512, 1000};
	for (unsigned s = 0; s < sizeof(shifts) / sizeof(shifts[0]); s++) {
		unsigned sh = shifts[s];
		for (unsigned k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
			/* Bitmaps start a few pages below, at, or inside the window. */
			uint64_t pg0 = r.base >> sh;
			uint64_t start = ((pg0 >= 2 ? pg0 - 2 : 0) + offs[k] % 5) << sh;
			uint64_t len = (((uint64_t)WPAGES * 4096 >> sh) + 4 + offs[k]) << sh;
			struct ims_bitmap bm, want;
			ck_assert_int_eq(ims_bitmap_init(&bm, start, len, sh), 0);
			ck_assert_int_eq(ims_bitmap_init(&want, start, len, sh), 0);
			bm.words[0] = ~0ull; /* expected() zeroes first */
			ims_oracle_expected(o, 7, bm.iova, bm.length, bm.pgshift, bm.words);
			ref_expected(&r, &want);
			struct ims_bitmap_diff d;
			if (!ims_bitmap_compare(&want, &bm, &d))
				ck_abort_msg("pgshift %u start %#llx len %#llx: under %llu (first %llu) "
					     "over %llu (first %llu)",
					     sh, (unsigned long long)start, (unsigned long long)len,
					     (unsigned long long)d.under, (unsigned long long)d.first_under,
					     (unsigned long long)d.over, (unsigned long long)d.first_over);
			ims_bitmap_fini(&bm);
			ims_bitmap_fini(&want);
		}
	}
	/* A domain with nothing yields an all-zero bitmap. */
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 64 * 4096, 12), 0);
	bm.words[0] = 5;
	ims_oracle_expected(o, 8, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);
	ims_bitmap_fini(&bm);
	ims_oracle_free(o);
}
END_TEST

START_TEST(expected_exact_bits)
{
	struct ims_oracle *o = ims_oracle_new();
	ims_oracle_write(o, 1, 0x200000, 21);      /* pages 512..1023 */
	ims_oracle_write(o, 1, 0x400000 + 0x5000, 12);
	struct ims_bitmap bm;
	/* 2 MiB pages from 0: bits 1 and 2. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 8 * MiB, 21), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(bm.words[0], 0x6);
	ims_bitmap_fini(&bm);
	/* 4 KiB pages from 0x3ff000: bit 0 (end of the 2 MiB leaf) and bit 6. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 0x3ff000, 64 * 4096, 12), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(bm.words[0], 0x41);
	char *hex = ims_bitmap_to_hex(&bm);
	ck_assert_str_eq(hex, "41");
	free(hex);
	ims_bitmap_fini(&bm);
	/* One 1 TiB page covering everything. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 4 * TiB, 40), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(bm.words[0], 0x1);
	ims_bitmap_fini(&bm);
	/* A bitmap ending at 2^64 with a page there. */
	ims_oracle_write(o, 1, 0ull - 4096, 12);
	ck_assert_int_eq(ims_bitmap_init(&bm, 0ull - GiB, GiB, 21), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 1);
	ck_assert(ims_bitmap_test(&bm, 511));
	ims_bitmap_fini(&bm);
	ims_oracle_free(o);
}
END_TEST

START_TEST(clear_unmap_reset)
{
	struct ims_oracle *o = ims_oracle_new();
	ims_oracle_write(o, 1, 0, 21);          /* 512 pages */
	ims_oracle_write(o, 1, 1 * GiB, 30);    /* 262144 pages */
	ims_oracle_write(o, 1, 10 * GiB, 12);

	/* A clearing harvest of part of the 2 MiB leaf. */
	ims_oracle_clear(o, 1, 0x10000, 0x10000);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 2 * MiB), 512 - 16);
	ck_assert(!ims_oracle_test(o, 1, 0x10000));
	ck_assert(!ims_oracle_test(o, 1, 0x1f000));
	ck_assert(ims_oracle_test(o, 1, 0x20000));
	ck_assert_uint_eq(ims_oracle_lost(o, 1), 0);
	/* size 0 clears nothing */
	ims_oracle_clear(o, 1, 0, 0);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 2 * MiB), 512 - 16);

	/* Unmap a range that is half dirty: returns and accumulates the pages. */
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 0, 0x20000), 16);
	ck_assert_uint_eq(ims_oracle_lost(o, 1), 16);
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 0, 0x20000), 0);
	ck_assert_uint_eq(ims_oracle_lost(o, 1), 16);
	/* Unmap across the 1 GiB leaf's start. */
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, GiB - 2 * MiB, 4 * MiB), 512);
	ck_assert_uint_eq(ims_oracle_lost(o, 1), 528);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 512 - 32 + 262144 - 512 + 1);

	/* Clearing the rest of a huge range empties it and frees its memory. */
	uint64_t fp_small;
	{
		struct ims_oracle *p = ims_oracle_new();
		ims_oracle_write(p, 1, 0, 12);
		fp_small = ims_oracle_footprint(p);
		ims_oracle_free(p);
	}
	ims_oracle_clear(o, 1, 0, 0ull - 4096);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 0);
	ck_assert_uint_le(ims_oracle_footprint(o), fp_small);

	/* reset empties; the lost counter stays. */
	ims_oracle_write(o, 1, 3 * GiB, 21);
	ims_oracle_write(o, 1, 7 * TiB, 12);
	ims_oracle_reset(o, 1);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 0);
	ck_assert(!ims_oracle_test(o, 1, 7 * TiB));
	ck_assert_uint_eq(ims_oracle_lost(o, 1), 528);
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 0, 16 * TiB), 0);
	/* Operations on unknown domains are no-ops. */
	ims_oracle_reset(o, 99);
	ims_oracle_clear(o, 99, 0, GiB);
	ck_assert_uint_eq(ims_oracle_unmap(o, 99, 0, GiB), 0);
	ck_assert_uint_eq(ims_oracle_lost(o, 99), 0);
	ims_oracle_free(o);
}
END_TEST

START_TEST(domains_independent)
{
	struct ims_oracle *o = ims_oracle_new();
	ims_oracle_write(o, 0, 0x1000, 12);
	ims_oracle_write(o, 1, 0x2000, 12);
	ims_oracle_write(o, 256, 0x3000, 12);
	ims_oracle_write(o, 65535, 0x4000, 12);
	ck_assert(ims_oracle_test(o, 0, 0x1000) && !ims_oracle_test(o, 0, 0x2000));
	ck_assert(ims_oracle_test(o, 1, 0x2000) && !ims_oracle_test(o, 1, 0x1000));
	ck_assert(ims_oracle_test(o, 256, 0x3000) && !ims_oracle_test(o, 0, 0x3000));
	ck_assert(ims_oracle_test(o, 65535, 0x4000) && !ims_oracle_test(o, 255, 0x4000));
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 0, GiB), 1);
	ck_assert_uint_eq(ims_oracle_lost(o, 1), 1);
	ck_assert_uint_eq(ims_oracle_lost(o, 0), 0);
	ck_assert(ims_oracle_test(o, 0, 0x1000));
	ims_oracle_reset(o, 0);
	ck_assert(ims_oracle_test(o, 256, 0x3000));
	ck_assert(ims_oracle_test(o, 65535, 0x4000));
	ck_assert_uint_eq(ims_oracle_count(o, 0, 0, 0), 0);

	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 64 * 4096, 12), 0);
	ims_oracle_expected(o, 256, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(bm.words[0], 1ull << 3);
	ims_bitmap_fini(&bm);
	ims_oracle_free(o);
}
END_TEST

START_TEST(huge_queries_sparse)
{
	struct ims_oracle *o = ims_oracle_new();
	/* 1000 pages spread over 2^60 bytes, 40 of them inside [1 TiB, 65 TiB). */
	uint64_t in64 = 0;
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t iova = (i * 0x0123456789abull * 4096) & ((1ull << 60) - 1) & ~0xfffull;
		if (i < 40)
			iova = TiB + i * (1600 * GiB) + i * 4096;
		ims_oracle_write(o, 5, iova, 12);
	}
	uint64_t total = ims_oracle_count(o, 5, 0, 0);
	ck_assert_uint_le(total, 1000);
	ck_assert_uint_ge(total, 990);
	uint64_t fp = ims_oracle_footprint(o);

	double t0 = now();
	uint64_t n64 = ims_oracle_count(o, 5, TiB, 64 * TiB);
	uint64_t nall = ims_oracle_count(o, 5, 0, 0);
	uint64_t nmax = ims_oracle_count(o, 5, 0, UINT64_MAX);
	double t1 = now();
	for (uint64_t i = 0; i < 40; i++)
		in64 += ims_oracle_test(o, 5, TiB + i * (1600 * GiB) + i * 4096);
	ck_assert_uint_eq(in64, 40);
	ck_assert_uint_ge(n64, 40);
	ck_assert_uint_eq(nall, total);
	ck_assert_uint_eq(nmax, total);
	printf("oracle: count over 64 TiB and 2^64 on a sparse set: %.3f ms\n", (t1 - t0) * 1e3);
	ck_assert(t1 - t0 < 0.5);

	/* Expected bitmap over 64 TiB at 2 MiB pages (32 Mi bits). */
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, TiB, 64 * TiB, 21), 0);
	t0 = now();
	ims_oracle_expected(o, 5, bm.iova, bm.length, bm.pgshift, bm.words);
	t1 = now();
	printf("oracle: expected bitmap over 64 TiB at 2 MiB: %.3f ms\n", (t1 - t0) * 1e3);
	for (uint64_t i = 0; i < 40; i++)
		ck_assert(ims_bitmap_test(&bm, (i * (1600 * GiB) + i * 4096) >> 21));
	/* Every set bit holds pages, and together they hold all of them. */
	uint64_t sum = 0;
	for (uint64_t w = 0; w < bm.nwords; w++)
		for (uint64_t x = bm.words[w]; x; x &= x - 1) {
			uint64_t k = w * 64 + (uint64_t)__builtin_ctzll(x);
			uint64_t c = ims_oracle_count(o, 5, TiB + (k << 21), 2 * MiB);
			ck_assert_uint_gt(c, 0);
			sum += c;
		}
	ck_assert_uint_eq(sum, n64);
	ims_bitmap_fini(&bm);
	/* Over the top 64 TiB of the space at 1 GiB pages. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 0ull - 64 * TiB, 64 * TiB, 30), 0);
	ims_oracle_expected(o, 5, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);
	ims_bitmap_fini(&bm);

	/* Clearing or unmapping huge empty stretches allocates nothing. */
	ims_oracle_clear(o, 5, 1ull << 61, 1ull << 62);
	ck_assert_uint_eq(ims_oracle_unmap(o, 5, 1ull << 63, 1ull << 63), 0);
	ck_assert_uint_eq(ims_oracle_footprint(o), fp);
	/* Clearing 64 TiB removes exactly what count saw. */
	ims_oracle_clear(o, 5, TiB, 64 * TiB);
	ck_assert_uint_eq(ims_oracle_count(o, 5, 0, 0), total - n64);
	ck_assert_uint_le(ims_oracle_footprint(o), fp);
	ims_oracle_free(o);
}
END_TEST

START_TEST(footprint_follows_pages)
{
	struct ims_oracle *o = ims_oracle_new();
	ims_oracle_write(o, 1, 5 * TiB, 12);
	uint64_t fp = ims_oracle_footprint(o);
	/* Queries over enormous ranges change nothing. */
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 1ull << 63, 40), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(bm.words[0], 1ull << 5);
	ims_bitmap_fini(&bm);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1);
	ck_assert_uint_eq(ims_oracle_footprint(o), fp);
	/* A whole 1 GiB leaf costs a mark: no more than one 4 KiB page there. */
	struct ims_oracle *p = ims_oracle_new();
	ims_oracle_write(p, 1, 5 * TiB, 12);
	ims_oracle_write(p, 1, 6 * TiB, 12);
	ims_oracle_write(o, 1, 6 * TiB, 30);
	ck_assert_uint_le(ims_oracle_footprint(o), ims_oracle_footprint(p));
	ims_oracle_free(p);
	/* 100 scattered 4 KiB pages cost at most a path each. */
	uint64_t fp2 = ims_oracle_footprint(o);
	for (uint64_t i = 0; i < 100; i++)
		ims_oracle_write(o, 1, i * 37 * GiB, 12);
	ck_assert_uint_le(ims_oracle_footprint(o), fp2 + 100 * (2 * 4200 + 64));
	ims_oracle_reset(o, 1);
	ck_assert_uint_lt(ims_oracle_footprint(o), fp);
	ims_oracle_free(o);
}
END_TEST

/* The same set costs the same memory however it was built: pages that
 * fill a chunk or node collapse into one mark, emptied subtrees are freed. */
START_TEST(collapse_and_free)
{
	struct ims_oracle *a = ims_oracle_new(), *b = ims_oracle_new();
	ims_oracle_write(a, 1, 3 * GiB + 4 * MiB, 21);
	for (uint64_t i = 0; i < 512; i++)
		ims_oracle_write(b, 1, 3 * GiB + 4 * MiB + i * 4096, 12);
	ck_assert_uint_eq(ims_oracle_count(b, 1, 0, 0), 512);
	ck_assert_uint_eq(ims_oracle_footprint(b), ims_oracle_footprint(a));

	ims_oracle_write(a, 2, 7 * GiB, 30);
	for (uint64_t i = 0; i < 512; i++)
		ims_oracle_write(b, 2, 7 * GiB + i * 2 * MiB, 21);
	ck_assert_uint_eq(ims_oracle_count(b, 2, 0, 0), 262144);
	ck_assert_uint_eq(ims_oracle_footprint(b), ims_oracle_footprint(a));

	/* Page by page removal frees every node on the way. */
	struct ims_oracle *c = ims_oracle_new();
	ims_oracle_write(c, 3, 0, 12);
	uint64_t base = ims_oracle_footprint(c);
	for (uint64_t i = 0; i < 64; i++) {
		ims_oracle_write(c, 3, i * 300 * GiB + 0x5000, 12);
		ims_oracle_write(c, 3, i * 300 * GiB + 0x7000, 12);
	}
	ck_assert_uint_gt(ims_oracle_footprint(c), base);
	for (uint64_t i = 0; i < 64; i++) {
		ims_oracle_clear(c, 3, i * 300 * GiB + 0x5000, 4096);
		ck_assert_uint_eq(ims_oracle_unmap(c, 3, i * 300 * GiB + 0x7000, 4096), 1);
	}
	ck_assert_uint_eq(ims_oracle_count(c, 3, 0, 0), 1);
	ck_assert_uint_eq(ims_oracle_footprint(c), base);
	/* A chunk emptied beside a live one (page 0) is freed too. */
	ims_oracle_write(c, 3, 4 * MiB + 0x3000, 12);
	ck_assert_uint_gt(ims_oracle_footprint(c), base);
	ims_oracle_clear(c, 3, 4 * MiB + 0x2000, 0x2000);
	ck_assert_uint_eq(ims_oracle_footprint(c), base);
	/* Nodes emptied below a root that stays (pages at both ends). */
	ims_oracle_write(c, 3, 3ull << 50, 12);
	uint64_t wide = ims_oracle_footprint(c);
	ims_oracle_write(c, 3, 7 * TiB + 0x1000, 12);
	ims_oracle_write(c, 3, 7 * TiB + 0x3000, 12);
	ck_assert_uint_gt(ims_oracle_footprint(c), wide);
	ims_oracle_clear(c, 3, 7 * TiB + 0x1000, 4096);
	ck_assert_uint_eq(ims_oracle_unmap(c, 3, 7 * TiB + 0x3000, 4096), 1);
	ck_assert_uint_eq(ims_oracle_footprint(c), wide);
	ims_oracle_free(a);
	ims_oracle_free(b);
	ims_oracle_free(c);
}
END_TEST

/* Single pages take a one-descent path (add_page); a 1 GiB region filled
 * page by page in scattered order, by write and by sub-page add, must end
 * as the one 1 GiB write does: same count, same footprint (every chunk and
 * the node above them collapsed), and each page seen at every step. */
START_TEST(single_pages_fill_and_collapse)
{
	struct ims_oracle *a = ims_oracle_new(), *b = ims_oracle_new();
	const uint64_t n = GiB / 4096, base = 5 * GiB;
	static uint8_t seen[GiB / 4096];
	memset(seen, 0, sizeof(seen));
	ims_oracle_write(a, 7, 0x3000, 12); /* the root starts elsewhere */
	ims_oracle_write(b, 7, 0x3000, 12);
	uint64_t added = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pg = (i * 160001) % n; /* odd stride: a permutation */
		uint64_t iova = base + pg * 4096;
		if (i % 3)
			ims_oracle_write(a, 7, iova, 12);
		else
			ims_oracle_add(a, 7, iova + 100, 1 + i % 3000);
		added += !seen[pg];
		seen[pg] = 1;
		if (i % 4099 == 0) {
			ck_assert(ims_oracle_test(a, 7, iova));
			ck_assert(!ims_oracle_test(a, 7, base + ((pg + 1) % n) * 4096) ||
				  seen[(pg + 1) % n]);
			ck_assert_uint_eq(ims_oracle_count(a, 7, base, GiB), added);
		}
	}
	ims_oracle_write(b, 7, base, 30);
	ck_assert_uint_eq(ims_oracle_count(a, 7, 0, 0), n + 1);
	ck_assert_uint_eq(ims_oracle_footprint(a), ims_oracle_footprint(b));
	/* Re-writing a page that is present (under FULL) changes nothing. */
	ims_oracle_write(a, 7, base + 12345 * 4096ull, 12);
	ck_assert_uint_eq(ims_oracle_count(a, 7, 0, 0), n + 1);
	ck_assert_uint_eq(ims_oracle_footprint(a), ims_oracle_footprint(b));
	ims_oracle_free(a);
	ims_oracle_free(b);
}
END_TEST

/* A domain's tree rises and falls with where its pages are. */
START_TEST(root_moves)
{
	struct ims_oracle *o = ims_oracle_new();
	ims_oracle_write(o, 1, 5 * TiB + 0x3000, 12);
	/* Queries outside the populated region, below and above it. */
	ck_assert_uint_eq(ims_oracle_count(o, 1, GiB, GiB), 0);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 7 * TiB, TiB), 0);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 5 * TiB + 0x3000), 0);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 5 * TiB + 0x4000, 1ull << 50), 0);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 5 * TiB + 0x3000, 1), 1);
	ck_assert(!ims_oracle_test(o, 1, 0x3000));
	ck_assert(!ims_oracle_test(o, 1, 5 * TiB + 2 * MiB + 0x3000));
	ck_assert(!ims_oracle_test(o, 1, UINT64_MAX));
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 0, 5 * TiB), 0);
	ims_oracle_clear(o, 1, 5 * TiB + 0x4000, 1ull << 50);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1);
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 6 * TiB, 64 * 4096, 12), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);
	ims_bitmap_fini(&bm);

	/* Grow to cover 9 TiB and 3 PiB, then remove the first pages. */
	ims_oracle_write(o, 1, 9 * TiB, 21);
	ims_oracle_write(o, 1, 3ull << 50, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1 + 512 + 1);
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 5 * TiB, GiB), 1);
	ck_assert_uint_eq(ims_oracle_unmap(o, 1, 3ull << 50, 4096), 1);
	/* What is left sits at a non-zero index of every level it passed. */
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 512);
	ck_assert(ims_oracle_test(o, 1, 9 * TiB + 0x1000));
	ck_assert(!ims_oracle_test(o, 1, 9 * TiB + 2 * MiB));
	ck_assert_uint_eq(ims_oracle_count(o, 1, 9 * TiB - 4096, 8192), 1);
	ck_assert_int_eq(ims_bitmap_init(&bm, 9 * TiB - GiB, 2 * GiB, 21), 0);
	ims_oracle_expected(o, 1, bm.iova, bm.length, bm.pgshift, bm.words);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 1);
	ck_assert(ims_bitmap_test(&bm, 512));
	ims_bitmap_fini(&bm);
	/* Growing again from the lowered root. */
	ims_oracle_write(o, 1, 0, 12);
	ck_assert(ims_oracle_test(o, 1, 0));
	ck_assert(ims_oracle_test(o, 1, 9 * TiB));
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 513);
	ims_oracle_free(o);
}
END_TEST

/* A page written again is found through the memo of the chunk the last
 * single-page write reached: it must tell domains and chunks apart and
 * never trust a chunk freed since (here the page's bit sits in a word that
 * free() leaves alone, so a freed chunk would still say "present"). */
START_TEST(memo_follows_frees)
{
	struct ims_oracle *o = ims_oracle_new();
	const uint64_t p = 3 * GiB + (5 * 64 + 7) * 4096ull; /* word 5 of its chunk */
	ims_oracle_write(o, 1, p, 12);
	ims_oracle_write(o, 1, p, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1);
	ims_oracle_write(o, 2, p, 12); /* same page, other domain */
	ck_assert_uint_eq(ims_oracle_count(o, 2, 0, 0), 1);
	ims_oracle_write(o, 1, p + 2 * MiB, 12); /* same word of the next chunk */
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 2);
	ims_oracle_clear(o, 1, p + 2 * MiB, 4096); /* frees that chunk */
	ims_oracle_write(o, 1, p + 2 * MiB, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 2);
	ck_assert(ims_oracle_test(o, 1, p + 2 * MiB));
	/* A bit cleared in a chunk that lives on. */
	ims_oracle_write(o, 1, p + 4096, 12);
	ims_oracle_clear(o, 1, p, 4096);
	ims_oracle_write(o, 1, p, 12);
	ck_assert_uint_eq(ims_oracle_count(o, 1, p, 8192), 2);
	/* The same through ims_oracle_add, after a reset freed everything. */
	ims_oracle_reset(o, 1);
	ims_oracle_add(o, 1, p, 4096);
	ck_assert_uint_eq(ims_oracle_count(o, 1, 0, 0), 1);
	ims_oracle_free(o);
}
END_TEST

/* Random operations against the reference window. */
START_TEST(random_vs_reference)
{
	struct ims_oracle *o = ims_oracle_new();
	static struct ref r;
	memset(&r, 0, sizeof(r));
	r.base = 2 * GiB - 8 * MiB; /* straddles a 1 GiB boundary */
	unsigned seed = 99;
	uint64_t lost = 0;
	for (unsigned step = 0; step < 3000; step++) {
		unsigned kind = (unsigned)rand_r(&seed) % 10;
		unsigned sh = 12 + (unsigned)rand_r(&seed) % 11; /* 4 KiB .. 4 MiB */
		uint64_t sz = 1ull << sh;
		uint64_t iova = r.base + (((uint64_t)rand_r(&seed) % (WPAGES * 4096ull)) & ~(sz - 1));
		if (kind < 6) {
			ims_oracle_write(o, 3, iova, sh);
			ref_range(&r, iova, sz, true);
		} else if (kind < 8) {
			uint64_t len = 4096 * (1 + (uint64_t)rand_r(&seed) % 700);
			ims_oracle_clear(o, 3, iova, len);
			ref_range(&r, iova, len, false);
		} else if (kind < 9) {
			uint64_t len = 4096 * (1 + (uint64_t)rand_r(&seed) % 700);
			uint64_t before = ref_count(&r);
			ref_range(&r, iova, len, false);
			uint64_t want = before - ref_count(&r);
			ck_assert_uint_eq(ims_oracle_unmap(o, 3, iova, len), want);
			lost += want;
		} else {
			uint64_t len = 4096 * (1 + (uint64_t)rand_r(&seed) % 3000);
			uint64_t n = 0;
			for (uint64_t a = iova; a < iova + len; a += 4096)
				if (a - r.base < WPAGES * 4096ull)
					n += r.pg[(a - r.base) / 4096];
			ck_assert_uint_eq(ims_oracle_count(o, 3, iova, len), n);
		}
		ck_assert_uint_eq(ims_oracle_count(o, 3, 0, 0), ref_count(&r));
	}
	ck_assert_uint_eq(ims_oracle_lost(o, 3), lost);
	for (unsigned i = 0; i < WPAGES; i++)
		ck_assert(ims_oracle_test(o, 3, r.base + i * 4096ull) == r.pg[i]);
	/* And the expected bitmap at a few page sizes. */
	for (unsigned sh = 12; sh <= 24; sh += 3) {
		struct ims_bitmap bm, want;
		uint64_t start = ((r.base >> sh) - 1) << sh;
		uint64_t len = (((r.base + WPAGES * 4096ull - start) >> sh) + 2) << sh;
		ck_assert_int_eq(ims_bitmap_init(&bm, start, len, sh), 0);
		ck_assert_int_eq(ims_bitmap_init(&want, start, len, sh), 0);
		ims_oracle_expected(o, 3, bm.iova, bm.length, bm.pgshift, bm.words);
		ref_expected(&r, &want);
		ck_assert(ims_bitmap_compare(&want, &bm, NULL));
		ims_bitmap_fini(&bm);
		ims_bitmap_fini(&want);
	}
	ims_oracle_free(o);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("oracle");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, write_leaf_sizes);
	tcase_add_test(tc, huge_leaves);
	tcase_add_test(tc, expected_bitmaps);
	tcase_add_test(tc, expected_exact_bits);
	tcase_add_test(tc, clear_unmap_reset);
	tcase_add_test(tc, domains_independent);
	tcase_add_test(tc, huge_queries_sparse);
	tcase_add_test(tc, footprint_follows_pages);
	tcase_add_test(tc, collapse_and_free);
	tcase_add_test(tc, single_pages_fill_and_collapse);
	tcase_add_test(tc, root_moves);
	tcase_add_test(tc, random_vs_reference);
	tcase_add_test(tc, memo_follows_frees);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
