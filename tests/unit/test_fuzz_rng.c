/* The fuzzer's random numbers (tools/fuzz.h, docs/fuzzing.md "Coverage
 * guidance"): plain splitmix64 without an input, so `iommusim fuzz --fuzz-seed N`
 * keeps its sequences; with one, each draw takes as few of its bytes as it
 * needs, then splitmix64 goes on from a hash of the whole input. */
#include <check.h>
#include <stdlib.h>

#include "tools/fuzz.h"

/* splitmix64 as published (Steele, Lea, Flood), written out again here so
 * that a change to the fuzzer's copy shows. */
static uint64_t ref_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

START_TEST(random_mode_is_splitmix64)
{
	struct fz_rng r = {.s = 0};
	/* The first output of seed 0, as every splitmix64 gives it. */
	ck_assert_uint_eq(fz_next(&r), 0xe220a8397b1dcdafull);
	uint64_t ref = 0x1234;
	r = (struct fz_rng){.s = 0x1234};
	for (int i = 0; i < 1000; i++) {
		uint64_t n = 1 + (uint64_t)i * 7919;
		switch (i % 3) {
		case 0:
			ck_assert_uint_eq(fz_next(&r), ref_next(&ref));
			break;
		case 1:
			ck_assert_uint_eq(fz_below(&r, n), ref_next(&ref) % n);
			break;
		default:
			ck_assert_int_eq(fz_pct(&r, 40), ref_next(&ref) % 100 < 40);
			break;
		}
	}
	/* Below 0 draws nothing. */
	uint64_t s = r.s;
	ck_assert_uint_eq(fz_below(&r, 0), 0);
	ck_assert_uint_eq(r.s, s);
	ck_assert_ptr_null(r.in);
}
END_TEST

START_TEST(bytes_per_draw)
{
	static const uint8_t in[] = {7, 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7, 8, 200, 0xff, 0xff, 0x01};
	struct fz_rng r;
	fz_rng_input(&r, in, sizeof(in));
	ck_assert_uint_eq(fz_below(&r, 10), 7); /* one byte, modulo n */
	ck_assert_uint_eq(r.pos, 1);
	ck_assert_uint_eq(fz_below(&r, 1), 0); /* nothing to decide: no byte */
	ck_assert_uint_eq(fz_below(&r, 0), 0);
	ck_assert_uint_eq(r.pos, 1);
	ck_assert_uint_eq(fz_below(&r, 1000), 0x1234 % 1000); /* two, little-endian */
	ck_assert_uint_eq(r.pos, 3);
	ck_assert_uint_eq(fz_next(&r), 0x0807060504030201ull); /* eight */
	ck_assert_uint_eq(r.pos, 11);
	ck_assert(fz_pct(&r, 1)); /* one: 200 % 100 = 0 */
	ck_assert_uint_eq(r.pos, 12);
	ck_assert_uint_eq(fz_below(&r, 1ull << 17), 0x1ffff); /* three bytes for 17 bits */
	ck_assert_uint_eq(r.pos, 15);
	ck_assert_ptr_nonnull(r.in);
	/* 256 is one byte; 257 two. */
	static const uint8_t two[] = {0xff, 0x00, 0x01};
	fz_rng_input(&r, two, sizeof(two));
	ck_assert_uint_eq(fz_below(&r, 256), 0xff);
	ck_assert_uint_eq(fz_below(&r, 257), 0x100 % 257);
	ck_assert_uint_eq(r.pos, 3);
}
END_TEST

START_TEST(then_splitmix_from_the_hash)
{
	static const uint8_t in[] = {5, 9, 0x77};
	struct fz_rng r;
	fz_rng_input(&r, in, sizeof(in));
	uint64_t ref = fz_in_hash(in, sizeof(in));
	ck_assert_uint_eq(fz_below(&r, 100), 5);
	ck_assert_uint_eq(fz_below(&r, 100), 9);
	/* Two bytes needed, one left: the input is done with. */
	ck_assert_uint_eq(fz_below(&r, 1000), ref_next(&ref) % 1000);
	ck_assert_ptr_null(r.in);
	ck_assert_uint_eq(r.pos, 2);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(fz_next(&r), ref_next(&ref));
	/* An empty input is the hash's stream from the start. */
	fz_rng_input(&r, in, 0);
	ref = fz_in_hash(in, 0);
	ck_assert_ptr_null(r.in);
	ck_assert_uint_eq(fz_below(&r, 77), ref_next(&ref) % 77);
}
END_TEST

/* One mutated byte changes one decision, and the hash changes with any
 * byte and with the length: the tail of the sequence follows the input. */
START_TEST(one_byte_one_decision)
{
	uint8_t a[64], b[64];
	for (int i = 0; i < 64; i++)
		a[i] = b[i] = (uint8_t)(i * 37 + 11);
	b[20] ^= 0x40;
	struct fz_rng ra, rb;
	fz_rng_input(&ra, a, sizeof(a));
	fz_rng_input(&rb, b, sizeof(b));
	for (int i = 0; i < 64; i++) {
		uint64_t x = fz_below(&ra, 200), y = fz_below(&rb, 200);
		if (i == 20)
			ck_assert_uint_ne(x, y);
		else
			ck_assert_uint_eq(x, y);
	}
	ck_assert_uint_ne(fz_next(&ra), fz_next(&rb));
	uint8_t z[2] = {0, 0};
	ck_assert_uint_ne(fz_in_hash(z, 1), fz_in_hash(z, 2));
	ck_assert_uint_ne(fz_in_hash(z, 0), fz_in_hash(z, 1));
	ck_assert_uint_ne(fz_in_hash(a, sizeof(a)), fz_in_hash(b, sizeof(b)));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuzz_rng");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, random_mode_is_splitmix64);
	tcase_add_test(tc, bytes_per_draw);
	tcase_add_test(tc, then_splitmix_from_the_hash);
	tcase_add_test(tc, one_byte_one_decision);
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
