/* The iova bitmap (dirty-semantics.md, "The iova bitmap"). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommusim/bitmap.h"

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

/* Reference: bit k is set iff page k of bm overlaps one of the ranges. */
static uint64_t ref_count_set(const struct ims_bitmap *bm)
{
	uint64_t n = 0;
	for (uint64_t k = 0; k < bm->nbits; k++)
		n += ims_bitmap_test(bm, k);
	return n;
}

START_TEST(init_errors)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 0, 12), -EINVAL);
	ck_assert_int_eq(ims_bitmap_init(&bm, 4096, 4096, 64), -EINVAL);
	ck_assert_int_eq(ims_bitmap_init(&bm, 100, 4096, 12), -EINVAL);
	ck_assert_int_eq(ims_bitmap_init(&bm, 4096, 4097, 12), -EINVAL);
	ck_assert_int_eq(ims_bitmap_init(&bm, 0x2000, 0x1000, 13), -EINVAL);
	/* Wraps past 2^64 by one page. */
	ck_assert_int_eq(ims_bitmap_init(&bm, UINT64_MAX - 4095, 8192, 12), -EOVERFLOW);
	ck_assert_int_eq(ims_bitmap_init(&bm, 1ull << 63, (1ull << 63) + 4096, 12), -EOVERFLOW);
	ck_assert_int_eq(ims_bitmap_init(&bm, UINT64_MAX - 4095, UINT64_MAX - 4095, 12), -EOVERFLOW);
	/* A failed init leaves nothing to free. */
	ck_assert_ptr_null(bm.words);
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(init_ok_geometry)
{
	struct ims_bitmap bm;
	/* Ends exactly at 2^64. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 1ull << 63, 1ull << 63, 62), 0);
	ck_assert_uint_eq(bm.nbits, 2);
	ck_assert_uint_eq(bm.nwords, 1);
	ims_bitmap_fini(&bm);
	ck_assert_ptr_null(bm.words);

	ck_assert_int_eq(ims_bitmap_init(&bm, 0x10000, 65 * 4096, 12), 0);
	ck_assert_uint_eq(bm.nbits, 65);
	ck_assert_uint_eq(bm.nwords, 2);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);
	ims_bitmap_fini(&bm);

	/* pgshift 0 is allowed: one bit per byte. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 3, 5, 0), 0);
	ck_assert_uint_eq(bm.nbits, 5);
	ims_bitmap_set(&bm, 4, 2);
	ck_assert_uint_eq(bm.words[0], 0x6);
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(every_page_size)
{
	for (unsigned sh = 12; sh <= 30; sh++) {
		uint64_t pg = 1ull << sh;
		struct ims_bitmap bm;
		ck_assert_int_eq(ims_bitmap_init(&bm, 5 * pg, 200 * pg, sh), 0);
		ck_assert_uint_eq(bm.nbits, 200);
		/* One byte into page 3, one page long: pages 3 and 4 both count. */
		ims_bitmap_set(&bm, 5 * pg + 3 * pg + 1, pg);
		ck_assert(ims_bitmap_test(&bm, 3));
		ck_assert(ims_bitmap_test(&bm, 4));
		ck_assert(!ims_bitmap_test(&bm, 2));
		ck_assert(!ims_bitmap_test(&bm, 5));
		/* Last byte of page 70 and first byte of page 71. */
		ims_bitmap_set(&bm, 5 * pg + 71 * pg - 1, 2);
		ck_assert(ims_bitmap_test(&bm, 70));
		ck_assert(ims_bitmap_test(&bm, 71));
		/* A single byte marks a single page. */
		ims_bitmap_set(&bm, 5 * pg + 199 * pg + pg / 2, 1);
		ck_assert(ims_bitmap_test(&bm, 199));
		ck_assert_uint_eq(ims_bitmap_count(&bm), 5);
		ck_assert_uint_eq(ref_count_set(&bm), 5);
		ims_bitmap_fini(&bm);
	}
}
END_TEST

START_TEST(mid_word_and_spans)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 1000 * 4096, 12), 0);
	ims_bitmap_set_bits(&bm, 60, 11); /* 60..70 across a word boundary */
	ck_assert_uint_eq(bm.words[0], 0xfull << 60);
	ck_assert_uint_eq(bm.words[1], 0x7f);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 11);
	ims_bitmap_zero(&bm);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);

	/* A long run: partial head word, whole words, partial tail word. */
	ims_bitmap_set(&bm, 5 * 4096, 900 * 4096);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 900);
	ck_assert(!ims_bitmap_test(&bm, 4));
	ck_assert(ims_bitmap_test(&bm, 5));
	ck_assert(ims_bitmap_test(&bm, 904));
	ck_assert(!ims_bitmap_test(&bm, 905));
	ck_assert_uint_eq(bm.words[0], ~0ull << 5);
	ck_assert_uint_eq(bm.words[5], ~0ull);
	ck_assert_uint_eq(bm.words[14], (1ull << (905 - 14 * 64)) - 1);

	/* A run ending exactly at a word boundary. */
	ims_bitmap_zero(&bm);
	ims_bitmap_set_bits(&bm, 64, 128);
	ck_assert_uint_eq(bm.words[0], 0);
	ck_assert_uint_eq(bm.words[1], ~0ull);
	ck_assert_uint_eq(bm.words[2], ~0ull);
	ck_assert_uint_eq(bm.words[3], 0);
	/* len 0 sets nothing. */
	ims_bitmap_set(&bm, 0, 0);
	ck_assert(!ims_bitmap_test(&bm, 0));
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(clipping)
{
	struct ims_bitmap bm;
	uint64_t base = 1 * GiB;
	ck_assert_int_eq(ims_bitmap_init(&bm, base, 100 * 4096, 12), 0);
	/* Starts before the bitmap. */
	ims_bitmap_set(&bm, base - 10 * 4096, 12 * 4096);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 2);
	ck_assert(ims_bitmap_test(&bm, 0) && ims_bitmap_test(&bm, 1));
	/* Ends after it: bits past nbits stay clear in the last word. */
	ims_bitmap_set(&bm, base + 98 * 4096, 1 * GiB);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 4);
	ck_assert_uint_eq(bm.words[1] >> (100 - 64), 0);
	/* Entirely outside on either side. */
	ims_bitmap_set(&bm, 0, base);
	ims_bitmap_set(&bm, base + 100 * 4096, 4096);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 4);
	/* Covers the whole bitmap and runs past 2^64. */
	ims_bitmap_set(&bm, 0, UINT64_MAX);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 100);
	ims_bitmap_zero(&bm);
	ims_bitmap_set(&bm, base + 50 * 4096, UINT64_MAX);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 50);
	/* Out-of-range bit numbers. */
	ims_bitmap_set_bits(&bm, 100, 5);
	ims_bitmap_set_bits(&bm, UINT64_MAX, UINT64_MAX);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 50);
	ck_assert(!ims_bitmap_test(&bm, 100));
	ck_assert(!ims_bitmap_test(&bm, UINT64_MAX));
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(pgshift_63)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 1ull << 63, 63), 0);
	ck_assert_uint_eq(bm.nbits, 1);
	ims_bitmap_set(&bm, (1ull << 63) - 1, 1);
	ck_assert(ims_bitmap_test(&bm, 0));
	ck_assert_uint_eq(ims_bitmap_count(&bm), 1);
	ims_bitmap_fini(&bm);

	/* The upper half, ending at 2^64. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 1ull << 63, 1ull << 63, 63), 0);
	ims_bitmap_set(&bm, 0, 1ull << 63);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);
	ims_bitmap_set(&bm, UINT64_MAX, 1);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 1);
	char *hex = ims_bitmap_to_hex(&bm);
	ck_assert_str_eq(hex, "1");
	free(hex);
	ims_bitmap_fini(&bm);
	ck_assert_int_eq(ims_bitmap_init(&bm, 1ull << 62, 1ull << 63, 63), -EINVAL);
}
END_TEST

START_TEST(ends_at_2_64)
{
	struct ims_bitmap bm;
	uint64_t base = 0ull - GiB; /* 2^64 - 1 GiB */
	ck_assert_int_eq(ims_bitmap_init(&bm, base, GiB, 12), 0);
	ck_assert_uint_eq(bm.nbits, GiB / 4096);
	ims_bitmap_set(&bm, 0ull - 4096, 4096); /* iova + len == 2^64 */
	ck_assert(ims_bitmap_test(&bm, bm.nbits - 1));
	ck_assert_uint_eq(ims_bitmap_count(&bm), 1);
	ims_bitmap_set(&bm, 0ull - 8192, 16384); /* would wrap: clipped */
	ck_assert_uint_eq(ims_bitmap_count(&bm), 2);
	ck_assert(ims_bitmap_test(&bm, 0) == false);
	ims_bitmap_set(&bm, base, GiB); /* the whole bitmap, ending at 2^64 */
	ck_assert_uint_eq(ims_bitmap_count(&bm), bm.nbits);
	ims_bitmap_fini(&bm);

	/* Huge pages up to the top of the space. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 0ull - 4 * TiB, 4 * TiB, 40), 0);
	ck_assert_uint_eq(bm.nbits, 4);
	ims_bitmap_set(&bm, 0ull - TiB - 1, 2);
	ck_assert_uint_eq(bm.words[0], 0xc);
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(sparse_tebibyte)
{
	struct ims_bitmap a, b;
	ck_assert_int_eq(ims_bitmap_init(&a, 0, TiB, 12), 0);
	ck_assert_int_eq(ims_bitmap_init(&b, 0, TiB, 12), 0);
	ck_assert_uint_eq(a.nbits, 256ull << 20);
	ims_bitmap_set(&a, 0, 4096);
	ims_bitmap_set(&a, 512 * GiB + 4096 * 3, 4096);
	ims_bitmap_set(&a, TiB - 4096, 4096);
	ims_bitmap_set(&a, 3 * GiB, GiB); /* one GiB run: 262144 bits */
	double t0 = now();
	uint64_t n = ims_bitmap_count(&a);
	double t1 = now();
	ck_assert_uint_eq(n, 3 + GiB / 4096);
	printf("bitmap: count of a 1 TiB bitmap at 4 KiB: %.2f ms\n", (t1 - t0) * 1e3);

	ims_bitmap_set(&b, 512 * GiB + 4096 * 3, 4096);
	ims_bitmap_set(&b, 3 * GiB, GiB);
	ims_bitmap_set(&b, 700 * GiB, 8192); /* 2 bits over */
	struct ims_bitmap_diff d;
	ck_assert(!ims_bitmap_compare(&a, &b, &d));
	ck_assert_uint_eq(d.under, 2);
	ck_assert_uint_eq(d.first_under, 0);
	ck_assert_uint_eq(d.over, 2);
	ck_assert_uint_eq(d.first_over, 700 * GiB / 4096);
	ims_bitmap_set(&b, 0, 4096);
	ims_bitmap_set(&b, TiB - 1, 1);
	ims_bitmap_set(&a, 700 * GiB, 8192);
	ck_assert(ims_bitmap_compare(&a, &b, &d));
	ck_assert_uint_eq(d.under + d.over, 0);
	ims_bitmap_fini(&a);
	ims_bitmap_fini(&b);
}
END_TEST

START_TEST(compare_diff)
{
	struct ims_bitmap e, g;
	ck_assert_int_eq(ims_bitmap_init(&e, 0, 300 * 4096, 12), 0);
	ck_assert_int_eq(ims_bitmap_init(&g, 0, 300 * 4096, 12), 0);
	struct ims_bitmap_diff d;
	ck_assert(ims_bitmap_compare(&e, &g, &d));
	ck_assert_uint_eq(d.under, 0);
	ck_assert_uint_eq(d.over, 0);
	ck_assert(ims_bitmap_compare(&e, &g, NULL));

	ims_bitmap_set_bits(&e, 10, 5);  /* 10..14 */
	ims_bitmap_set_bits(&g, 12, 10); /* 12..21 */
	ims_bitmap_set_bits(&e, 200, 1);
	ims_bitmap_set_bits(&g, 299, 1);
	ck_assert(!ims_bitmap_compare(&e, &g, &d));
	ck_assert_uint_eq(d.under, 3); /* 10, 11, 200 */
	ck_assert_uint_eq(d.first_under, 10);
	ck_assert_uint_eq(d.over, 8); /* 15..21, 299 */
	ck_assert_uint_eq(d.first_over, 15);

	/* Bits written past nbits by a careless writer do not count. */
	ims_bitmap_zero(&e);
	ims_bitmap_zero(&g);
	g.words[g.nwords - 1] |= 1ull << 63;
	ck_assert(ims_bitmap_compare(&e, &g, &d));
	ck_assert_uint_eq(ims_bitmap_count(&g), 0);

	/* Different geometry never compares equal. */
	struct ims_bitmap h;
	ck_assert_int_eq(ims_bitmap_init(&h, 4096, 300 * 4096, 12), 0);
	ck_assert(!ims_bitmap_compare(&e, &h, &d));
	ck_assert_uint_eq(d.under + d.over, 0);
	ims_bitmap_fini(&h);
	ims_bitmap_fini(&e);
	ims_bitmap_fini(&g);
}
END_TEST

START_TEST(hex_forms)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 200 * 4096, 12), 0);
	char *s = ims_bitmap_to_hex(&bm);
	ck_assert_str_eq(s, "0");
	free(s);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "0", 1), 1);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "0x000", 5), 1);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "1", 1), 0);

	ims_bitmap_set_bits(&bm, 0, 1);
	ims_bitmap_set_bits(&bm, 2, 1);
	s = ims_bitmap_to_hex(&bm);
	ck_assert_str_eq(s, "5");
	free(s);

	ims_bitmap_set_bits(&bm, 64, 1);
	ims_bitmap_set_bits(&bm, 199, 1);
	s = ims_bitmap_to_hex(&bm);
	/* bit 199 is bit 3 of digit 49; bit 64 is bit 0 of digit 16. */
	ck_assert_uint_eq(strlen(s), 50);
	ck_assert_int_eq(s[0], '8');
	ck_assert_int_eq(s[49 - 16], '1');
	ck_assert_int_eq(s[49], '5');
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, s, strlen(s)), 1);
	/* Leading zeros, prefix and upper case. */
	char buf[80];
	snprintf(buf, sizeof(buf), "0X0000%s", s);
	for (char *p = buf + 2; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, buf, strlen(buf)), 1);
	/* Only len characters are read. */
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, s, 49), 0);
	/* Missing the top digit: bit 199 is not in the string. */
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, s + 1, strlen(s) - 1), 0);
	/* One bit different. */
	s[49] = '4';
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, s, strlen(s)), 0);
	free(s);

	/* Malformed. */
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "", 0), -EINVAL);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "0x", 2), -EINVAL);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "12g4", 4), -EINVAL);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "1 2", 3), -EINVAL);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "-1", 2), -EINVAL);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "0x0x1", 5), -EINVAL);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, NULL, 0), -EINVAL);
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(hex_beyond_nbits)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 5 * 4096, 12), 0);
	ims_bitmap_set_bits(&bm, 0, 5);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "1f", 2), 1);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "3f", 2), 0); /* bit 5 is past nbits */
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "10000001f", 9), 0);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "00000001f", 9), 1);
	/* A stray bit past nbits in the words is not part of the bitmap. */
	bm.words[0] |= 1ull << 40;
	char *s = ims_bitmap_to_hex(&bm);
	ck_assert_str_eq(s, "1f");
	free(s);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "1f", 2), 1);
	ims_bitmap_fini(&bm);
}
END_TEST

START_TEST(hex_round_trip)
{
	unsigned seed = 12345;
	for (unsigned round = 0; round < 50; round++) {
		struct ims_bitmap a, b;
		uint64_t nb = 1 + (uint64_t)(rand_r(&seed) % 700);
		ck_assert_int_eq(ims_bitmap_init(&a, 0, nb * 4096, 12), 0);
		ck_assert_int_eq(ims_bitmap_init(&b, 0, nb * 4096, 12), 0);
		for (unsigned k = 0; k < 20; k++)
			ims_bitmap_set_bits(&a, (uint64_t)rand_r(&seed) % nb, (uint64_t)(rand_r(&seed) % 40));
		char *s = ims_bitmap_to_hex(&a);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(ims_bitmap_equals_hex(&a, s, strlen(s)), 1);
		/* Parse it back by hand into b. */
		size_t len = strlen(s);
		for (size_t k = 0; k < len; k++) {
			unsigned v = (unsigned)(s[k] <= '9' ? s[k] - '0' : s[k] - 'a' + 10);
			for (unsigned bit = 0; bit < 4; bit++)
				if (v >> bit & 1)
					ims_bitmap_set_bits(&b, (uint64_t)(len - 1 - k) * 4 + bit, 1);
		}
		ck_assert(ims_bitmap_compare(&a, &b, NULL));
		ck_assert(len == 1 || s[0] != '0');
		free(s);
		ims_bitmap_fini(&a);
		ims_bitmap_fini(&b);
	}
}
END_TEST

/* ims_bitmap_equals_hex_except: the bits of except are ignored, on both
 * sides and above the string's top digit; every other bit must agree. */
START_TEST(hex_except)
{
	struct ims_bitmap bm, ex;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 200 * 4096, 12), 0);
	ck_assert_int_eq(ims_bitmap_init(&ex, 0, 200 * 4096, 12), 0);
	ims_bitmap_set_bits(&bm, 1, 1);   /* in neither string nor except: "2" must say it */
	ims_bitmap_set_bits(&bm, 8, 4);   /* bits 8-11: excepted */
	ims_bitmap_set_bits(&bm, 150, 1); /* above the string: excepted */
	ims_bitmap_set_bits(&ex, 8, 4);
	ims_bitmap_set_bits(&ex, 150, 1);
	ck_assert_int_eq(ims_bitmap_equals_hex(&bm, "2", 1), 0);
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "2", 1, &ex), 1);
	/* The string may set excepted bits too. */
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "0x502", 5, &ex), 1);
	/* A bit outside except still counts, either way. */
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "0", 1, &ex), 0);
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "6", 1, &ex), 0);
	ims_bitmap_set_bits(&bm, 199, 1); /* above the string, not excepted */
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "2", 1, &ex), 0);
	/* A NULL except is the plain comparison; malformed stays -EINVAL. */
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "2", 1, NULL), 0);
	ck_assert_int_eq(ims_bitmap_equals_hex_except(&bm, "2g", 2, &ex), -EINVAL);
	ims_bitmap_fini(&bm);
	ims_bitmap_fini(&ex);
}
END_TEST

/* The range helpers against the obvious bit-by-bit versions, over ranges
 * that start and end anywhere in a word and span none, one or many. */
START_TEST(range_helpers)
{
	struct ims_bitmap a, b, ref;
	const uint64_t nbits = 300;
	ck_assert_int_eq(ims_bitmap_init(&a, 0, nbits * 4096, 12), 0);
	ck_assert_int_eq(ims_bitmap_init(&b, 0, nbits * 4096, 12), 0);
	ck_assert_int_eq(ims_bitmap_init(&ref, 0, nbits * 4096, 12), 0);
	uint64_t x = 12345;
	for (int round = 0; round < 400; round++) {
		ims_bitmap_zero(&a);
		ims_bitmap_zero(&b);
		for (uint64_t k = 0; k < nbits; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			if ((x >> 33) % (round % 7 + 2) == 0)
				ims_bitmap_set_bits(&a, k, 1);
			if ((x >> 41) % 3 == 0)
				ims_bitmap_set_bits(&b, k, 1);
		}
		if (round % 5 == 0) /* a full run somewhere */
			ims_bitmap_set_bits(&a, round % 200, 70);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t f = (x >> 20) % nbits, l = f + (x >> 40) % (nbits - f);
		bool all = true, any = false;
		for (uint64_t k = f; k <= l; k++) {
			all = all && ims_bitmap_test(&a, k);
			any = any || ims_bitmap_test(&a, k);
		}
		ck_assert_int_eq(ims_bitmap_all(&a, f, l), all);
		ck_assert_int_eq(ims_bitmap_any(&a, f, l), any);
		/* ref = b, then the bits of a in [f, l] ORed in, one by one. */
		ims_bitmap_zero(&ref);
		for (uint64_t k = 0; k < nbits; k++)
			if (ims_bitmap_test(&b, k) || (k >= f && k <= l && ims_bitmap_test(&a, k)))
				ims_bitmap_set_bits(&ref, k, 1);
		ims_bitmap_or_bits(&b, &a, f, l);
		struct ims_bitmap_diff d;
		ck_assert(ims_bitmap_compare(&ref, &b, &d));
	}
	/* Past the end: all is false, any and or are clipped. */
	ims_bitmap_zero(&a);
	ims_bitmap_set_bits(&a, nbits - 1, 1);
	ck_assert(!ims_bitmap_all(&a, nbits - 1, nbits));
	ck_assert(ims_bitmap_any(&a, nbits - 1, nbits + 100));
	ims_bitmap_fini(&a);
	ims_bitmap_fini(&b);
	ims_bitmap_fini(&ref);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bitmap");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, init_errors);
	tcase_add_test(tc, init_ok_geometry);
	tcase_add_test(tc, every_page_size);
	tcase_add_test(tc, mid_word_and_spans);
	tcase_add_test(tc, clipping);
	tcase_add_test(tc, pgshift_63);
	tcase_add_test(tc, ends_at_2_64);
	tcase_add_test(tc, sparse_tebibyte);
	tcase_add_test(tc, compare_diff);
	tcase_add_test(tc, hex_forms);
	tcase_add_test(tc, hex_except);
	tcase_add_test(tc, range_helpers);
	tcase_add_test(tc, hex_beyond_nbits);
	tcase_add_test(tc, hex_round_trip);
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
