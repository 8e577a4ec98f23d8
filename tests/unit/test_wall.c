/* The wall between model and software, for the bitmap (DESIGN.md): the
 * oracle's expected bitmap does not move with the walker's bitmap writer.
 * tests/traces-fail/bug8-word-end.trace replayed through the library with
 * the correct walker matches in every harvest; with the seeded variant
 * whose writer leaves out a run's last word when the run ends on bit 63
 * of a word, the oracle expects the same bits as before and the harvests
 * fail by exactly the bits that writer drops. (tests/unit/oracle_alone.c
 * shows the oracle links without the software's bitmap code at all.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "iommusim/pt.h"
#include "iommusim/replay.h"

static struct ims_replay_stats replay(const char *walker)
{
	const char *src = getenv("IMS_SRC");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/traces-fail/bug8-word-end.trace", src ? src : ".");
	struct ims_replay_opts ro;
	ims_replay_opts_default(&ro);
	ro.verbosity = 0;
	FILE *quiet = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(quiet);
	ro.diag = quiet;
	ck_assert_int_eq(ims_pt_walker_parse(walker, &ro.walker), 0);
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&ro, &r), 0);
	struct ims_reader *rd;
	char err[256] = "";
	ck_assert_msg(ims_reader_open(path, &rd, err, sizeof(err)) == 0, "%s: %s", path, err);
	ck_assert_msg(ims_replay_run(r, rd) == 0, "%s", ims_replay_error(r));
	struct ims_replay_stats s = *ims_replay_stats(r);
	ims_reader_close(rd);
	ims_replay_free(r);
	fclose(quiet);
	return s;
}

START_TEST(correct_walker_matches)
{
	struct ims_replay_stats s = replay("correct");
	ck_assert_uint_eq(s.harvests, 2);
	ck_assert_uint_eq(s.bits_expected, 1 + 512);
	ck_assert_uint_eq(s.bits_reported, 1 + 512);
	ck_assert_uint_eq(s.validation_failures, 0);
}
END_TEST

#ifdef IMS_SEEDED_BUGS
START_TEST(word_end_writer_fails)
{
	struct ims_replay_stats s = replay("bug8-word-end");
	ck_assert_uint_eq(s.harvests, 2);
	/* The oracle's side is the correct walker's run's, bit for bit. */
	ck_assert_uint_eq(s.bits_expected, 1 + 512);
	/* Bit 63 of the 256 KiB harvest and word 7 (bits 448..511) of the
	 * 2 MiB one are left out; nothing is over-reported. */
	ck_assert_uint_eq(s.bits_reported, 448);
	ck_assert_uint_eq(s.bits_under, 1 + 64);
	ck_assert_uint_eq(s.bits_over, 0);
	ck_assert_uint_eq(s.harvest_mismatches, 2);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("wall");
	TCase *tc = tcase_create("bitmap");
	tcase_add_test(tc, correct_walker_matches);
#ifdef IMS_SEEDED_BUGS
	tcase_add_test(tc, word_end_writer_fails);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
