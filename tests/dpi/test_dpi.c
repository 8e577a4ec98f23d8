/* The DPI-C shim (bindings/dpi/iommusim_dpi.h) through its flat calls only,
 * as a simulator sees it: handles that fail to set up and say why, input
 * errors as messages, a DMA's per-access results, harvests against the
 * oracle with their bits and verdict, a seeded-bug walker's mismatch as a
 * count and a failure string, leaves, unmaps and counters. Runs where no
 * simulator is installed; linked once with libims_dpi.a + libiommusim.a
 * and once with libims_dpi.so alone. Expected values come from the
 * formats' facts (4 KiB pieces, which pages a write dirties). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim_dpi.h"

#define TAG 7
#define DEV 0x0100
#define IOVA 0x40000000ll
#define PA 0x80000000ll

static void *make(const char *walker, const char *fmt)
{
	void *h = ims_dpi_new("", walker);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(ims_dpi_ok(h), "%s", ims_dpi_last_error(h));
	ck_assert_msg(ims_dpi_domain(h, TAG, fmt, 0, 1) == 0, "%s", ims_dpi_last_error(h));
	ck_assert_int_eq(ims_dpi_attach(h, DEV, TAG), 0);
	ck_assert_msg(ims_dpi_map(h, TAG, IOVA, PA, 0x10000, 3, 0x1000) == 0, "%s",
		      ims_dpi_last_error(h));
	ck_assert_int_eq(ims_dpi_track(h, TAG, 1), 0);
	return h;
}

START_TEST(null_handle)
{
	ck_assert_int_eq(ims_dpi_ok(NULL), 0);
	ck_assert_str_eq(ims_dpi_last_error(NULL), "");
	ck_assert_int_eq(ims_dpi_domain(NULL, 1, "amdv1", 0, 1), -EINVAL);
	ck_assert_int_eq(ims_dpi_dma(NULL, 1, 0, 8, 1), -EINVAL);
	ck_assert_int_eq(ims_dpi_harvest(NULL, 1, 0, 0x1000, 0, 1), -EINVAL);
	ck_assert_int_eq(ims_dpi_last_pieces(NULL), -EINVAL);
	ck_assert_int_eq(ims_dpi_last_pa(NULL, 0), 0);
	ck_assert_int_eq(ims_dpi_failures(NULL), -EINVAL);
	ck_assert_str_eq(ims_dpi_failure(NULL, 0), "");
	ck_assert_int_eq(ims_dpi_stat(NULL, "harvests"), -EINVAL);
	ims_dpi_failures_clear(NULL);
	ims_dpi_free(NULL);
}
END_TEST

/* A handle whose set-up failed: it exists, says why, and refuses calls
 * without losing the reason. */
START_TEST(setup_errors)
{
	void *h = ims_dpi_new("", "bug99-nothing");
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(ims_dpi_ok(h), 0);
	const char *e = ims_dpi_last_error(h);
	ck_assert_ptr_nonnull(strstr(e, "walker 'bug99-nothing' is not built in"));
	ck_assert_ptr_nonnull(strstr(e, "reference"));
	ck_assert_int_eq(ims_dpi_domain(h, 1, "amdv1", 0, 1), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "bug99-nothing"));
	ims_dpi_free(h);

	h = ims_dpi_new("/nonexistent/model.yaml", "");
	ck_assert_int_eq(ims_dpi_ok(h), 0);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "config: /nonexistent/model.yaml"));
	ims_dpi_free(h);

	h = ims_dpi_new("", "/nonexistent/walker.so");
	ck_assert_int_eq(ims_dpi_ok(h), 0);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "walker: "));
	ims_dpi_free(h);

	/* A configuration file's own error names its line and column. */
	const char *src = getenv("IMS_SRC");
	ck_assert_ptr_nonnull(src);
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/config/unknown-key.yaml", src);
	h = ims_dpi_new(path, "");
	ck_assert_int_eq(ims_dpi_ok(h), 0);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "unknown key 'entires'"));
	ims_dpi_free(h);

	/* A built-in walker by its "bugN" prefix, or the default by name. */
#ifdef IMS_SEEDED_BUGS
	h = ims_dpi_new("", "bug3");
#else
	h = ims_dpi_new("", "fast");
#endif
	ck_assert_int_eq(ims_dpi_ok(h), 1);
	ck_assert_str_eq(ims_dpi_last_error(h), "");
	ims_dpi_free(h);
}
END_TEST

START_TEST(input_errors)
{
	void *h = ims_dpi_new("", "");
	ck_assert_int_eq(ims_dpi_domain(h, 1, "amd", 0, 1), -EINVAL);
	ck_assert_str_eq(ims_dpi_last_error(h),
			 "format 'amd' is not one of amdv1 vtd smmuv3 vtd-fs amdv2 smmuv3-s2");
	ck_assert_int_eq(ims_dpi_domain(h, 70000, "vtd", 0, 1), -EINVAL);
	ck_assert_str_eq(ims_dpi_last_error(h), "tag 70000 is not a domain tag (0..65535)");
	ck_assert_int_eq(ims_dpi_domain(h, 1, "vtd", -1, 1), -EINVAL);
	ck_assert_int_eq(ims_dpi_domain(h, 1, "smmuv3", 0, 1), 0);
	ck_assert_int_eq(ims_dpi_map(h, 1, 0, 0, 0x1000, 4, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "prot=4"));
	/* The testbench API's own messages come through. */
	ck_assert_int_eq(ims_dpi_map(h, 1, 0x1001, 0, 0x1000, 3, 0), -EINVAL);
	ck_assert_str_eq(ims_dpi_last_error(h),
			 "iova=0x1001 is not aligned to the smallest leaf size (0x1000)");
	ck_assert_int_eq(ims_dpi_map(h, 9, 0, 0, 0x1000, 3, 0), -EINVAL);
	ck_assert_str_eq(ims_dpi_last_error(h), "domain 9 is not defined");
	ck_assert_int_eq(ims_dpi_harvest(h, 1, 0, 0x1000, 0, 1), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "tracking on"));
	ck_assert_int_eq(ims_dpi_detach(h, 0x9999), -EINVAL);
	ck_assert_int_eq(ims_dpi_stat(h, "harvestz"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "unknown counter 'harvestz'"));
	/* A failed call leaves no harvest behind. */
	ck_assert_int_eq(ims_dpi_harvest_bit(h, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "no harvest"));
	ck_assert_int_eq(ims_dpi_failures(h), 0);
	ims_dpi_free(h);
}
END_TEST

/* A write over two pages and a bit: three pieces, each with its pa; the
 * first write to a page sets A (AMD v1 maps with A clear) and D; the same
 * page again hits the IOTLB and sets nothing. */
START_TEST(dma_results)
{
	void *h = make("", "amdv1");
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x800, 0x2000, 1), 0);
	ck_assert_int_eq(ims_dpi_last_pieces(h), 3);
	for (int i = 0; i < 3; i++) {
		long long iova = ims_dpi_last_iova(h, i);
		ck_assert_int_eq(iova, i ? IOVA + 0x1000 * i : IOVA + 0x800);
		ck_assert_int_eq(ims_dpi_last_pa(h, i), PA + (iova - IOVA));
		ck_assert_int_eq(ims_dpi_last_fault(h, i), 0);
		ck_assert_int_eq(ims_dpi_last_flags(h, i), IMS_DPI_ACCESSED_SET | IMS_DPI_DIRTY_SET);
		ck_assert_int_gt(ims_dpi_last_cycles(h, i), 0);
	}
	ck_assert_int_eq(ims_dpi_last_flags(h, 3), -EINVAL);
	ck_assert_str_eq(ims_dpi_last_error(h), "access 3: the last DMA had 3");
	ck_assert_int_eq(ims_dpi_last_pa(h, -1), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x10, 8, 1), 0);
	ck_assert_int_eq(ims_dpi_last_pieces(h), 1);
	ck_assert_int_eq(ims_dpi_last_flags(h, 0), IMS_DPI_IOTLB_HIT);
	/* A read of an unmapped page faults. */
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x100000, 0x1000, 0), 1);
	ck_assert_int_eq(ims_dpi_last_fault(h, 0), 1);
	ck_assert_str_eq(ims_dpi_fault_name(ims_dpi_last_fault(h, 0)), "notpresent");
	ck_assert_int_eq(ims_dpi_last_pa(h, 0), 0);
	ck_assert_str_eq(ims_dpi_fault_name(0), "none");
	ck_assert_str_eq(ims_dpi_fault_name(99), "?");
	ck_assert_int_eq(ims_dpi_stat(h, "dma_pages"), 5);
	ck_assert_int_eq(ims_dpi_stat(h, "faults"), 1);
	ck_assert_int_eq(ims_dpi_stat(h, "model.iotlb_hits"), 1);
	ims_dpi_free(h);
}
END_TEST

/* Past IMS_DPI_KEEP_ACCESSES pieces the count is whole and the results of
 * the first ones are kept. */
START_TEST(dma_results_kept)
{
	void *h = ims_dpi_new("", "");
	ck_assert_int_eq(ims_dpi_domain(h, TAG, "vtd", 0, 0), 0);
	ck_assert_int_eq(ims_dpi_attach(h, DEV, TAG), 0);
	long long size = (IMS_DPI_KEEP_ACCESSES + 512) * 0x1000ll;
	ck_assert_int_eq(ims_dpi_map(h, TAG, IOVA, PA, size, 3, 0), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA, size, 0), 0);
	ck_assert_int_eq(ims_dpi_last_pieces(h), IMS_DPI_KEEP_ACCESSES + 512);
	ck_assert_int_eq(ims_dpi_last_pa(h, IMS_DPI_KEEP_ACCESSES - 1),
			 PA + (IMS_DPI_KEEP_ACCESSES - 1) * 0x1000ll);
	ck_assert_int_eq(ims_dpi_last_pa(h, IMS_DPI_KEEP_ACCESSES), 0);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "the first 65536 accesses are kept"));
	ims_dpi_free(h);
}
END_TEST

/* A harvest that matches: 0 differing bits, the written pages' bits set
 * and the others clear, as bits, as words and as the verdict. */
START_TEST(harvest_matches)
{
	static const char *const fmts[] = {"amdv1", "vtd", "smmuv3"};
	void *h = make("", fmts[_i]);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x1000, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x5ff0, 0x20, 1), 0); /* pages 5 and 6 */
	ck_assert_int_eq(ims_dpi_leaf(h, TAG, IOVA + 0x5000), 0);
	ck_assert_int_eq(ims_dpi_leaf_dirty(h), 1);
	ck_assert_int_eq(ims_dpi_leaf_level(h), 0);
	ck_assert_int_eq(ims_dpi_leaf_shift(h), 12);
	ck_assert_int_eq(ims_dpi_leaf_pa(h), PA + 0x5000);
	ck_assert_int_ne(ims_dpi_leaf_pte_pa(h), 0);
	ck_assert_int_ne(ims_dpi_leaf_pte(h), 0);
	ck_assert_int_eq(ims_dpi_leaf(h, TAG, IOVA + 0x2000), 0);
	ck_assert_int_eq(ims_dpi_leaf_dirty(h), 0);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x10000, 0, 1), 0);
	ck_assert_int_eq(ims_dpi_harvest_nbits(h), 16);
	for (int p = 0; p < 16; p++)
		ck_assert_int_eq(ims_dpi_harvest_bit(h, IOVA + p * 0x1000 + 0x123),
				 p == 1 || p == 5 || p == 6);
	ck_assert_int_eq(ims_dpi_harvest_word(h, 0), 0x62);
	ck_assert_int_eq(ims_dpi_harvest_word(h, 1), 0);
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "word 1: the harvest has 1"));
	ck_assert_int_eq(ims_dpi_harvest_bit(h, IOVA + 0x10000), -EINVAL);
	ck_assert_int_eq(ims_dpi_harvest_bit(h, IOVA - 1), -EINVAL);
	ck_assert_int_eq(ims_dpi_harvest_got(h), 3);
	ck_assert_int_eq(ims_dpi_harvest_expected(h), 3);
	ck_assert_int_eq(ims_dpi_harvest_under(h), 0);
	ck_assert_int_eq(ims_dpi_harvest_first_under(h), 0);
	/* The harvest cleaned the leaf. */
	ck_assert_int_eq(ims_dpi_leaf(h, TAG, IOVA + 0x5000), 0);
	ck_assert_int_eq(ims_dpi_leaf_dirty(h), 0);
	/* No leaf maps this one: a fault kind, and no leaf to read. */
	ck_assert_int_eq(ims_dpi_leaf(h, TAG, IOVA + 0x100000), 1);
	ck_assert_int_eq(ims_dpi_leaf_dirty(h), -EINVAL);
	ck_assert_int_eq(ims_dpi_leaf_pte(h), 0);
	ck_assert_int_lt(ims_dpi_leaf(h, 9, IOVA), 0);
	/* 2 MiB bits: one. */
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x3000, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x200000, 0x200000, 0), 0);
	ck_assert_int_eq(ims_dpi_harvest_nbits(h), 1);
	ck_assert_int_eq(ims_dpi_harvest_bit(h, IOVA + 0x1fffff), 1);
	ck_assert_int_eq(ims_dpi_stat(h, "harvests"), 2);
	ck_assert_int_eq(ims_dpi_stat(h, "harvests_noclear"), 1);
	ck_assert_int_eq(ims_dpi_failures(h), 0);
	ck_assert_int_eq(ims_dpi_failure_count(h), 0);
	ims_dpi_free(h);
}
END_TEST

/* Unmap reading dirty state returns its bits and verdict like a harvest;
 * a plain unmap of a written page counts it lost. */
START_TEST(unmap_read_dirty)
{
	void *h = make("", "amdv1");
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA, 0x2000, 1), 0);
	ck_assert_int_eq(ims_dpi_unmap(h, TAG, IOVA, 0x1000, 1), 0);
	ck_assert_int_eq(ims_dpi_harvest_nbits(h), 1);
	ck_assert_int_eq(ims_dpi_harvest_bit(h, IOVA), 1);
	ck_assert_int_eq(ims_dpi_harvest_got(h), 1);
	ck_assert_int_eq(ims_dpi_harvest_expected(h), 1);
	ck_assert_int_eq(ims_dpi_unmap(h, TAG, IOVA + 0x1000, 0x1000, 0), 0);
	ck_assert_int_eq(ims_dpi_stat(h, "lost_on_unmap"), 1);
	ck_assert_int_eq(ims_dpi_stat(h, "unmaps"), 2);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA, 4, 1), 1); /* unmapped now */
	ck_assert_int_eq(ims_dpi_flush(h, TAG, 0, 0), 0);
	ck_assert_int_eq(ims_dpi_track(h, TAG, 0), 0);
	ck_assert_int_eq(ims_dpi_detach(h, DEV), 0);
	ck_assert_int_eq(ims_dpi_failure_count(h), 0);
	ims_dpi_free(h);
}
END_TEST

#ifdef IMS_SEEDED_BUGS
/* bug3-no-flush: the second round's write hits an IOTLB entry that still
 * says dirty, so D is not set again and the harvest misses the page: one
 * differing bit, the verdict names it, and a failure string says so. */
START_TEST(harvest_mismatch)
{
	void *h = make("bug3-no-flush", "amdv1");
	ck_assert_int_eq(ims_dpi_where(h, "round", 1), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x3000, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x10000, 0, 1), 0);
	ck_assert_int_eq(ims_dpi_where(h, "round", 2), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x3000, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_last_flags(h, 0), IMS_DPI_IOTLB_HIT);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x10000, 0, 1), 1);
	ck_assert_int_eq(ims_dpi_harvest_under(h), 1);
	ck_assert_int_eq(ims_dpi_harvest_over(h), 0);
	ck_assert_int_eq(ims_dpi_harvest_first_under(h), IOVA + 0x3000);
	ck_assert_int_eq(ims_dpi_harvest_expected(h), 1);
	ck_assert_int_eq(ims_dpi_harvest_got(h), 0);
	ck_assert_int_eq(ims_dpi_harvest_bit(h, IOVA + 0x3000), 0);
	ck_assert_int_eq(ims_dpi_failures(h), 1);
	ck_assert_int_eq(ims_dpi_failure_count(h), 1);
	const char *f = ims_dpi_failure(h, 0);
	ck_assert_msg(!strncmp(f, "dirty-read: round:2: ", 21), "%s", f);
	ck_assert_ptr_nonnull(strstr(f, "differs from the oracle"));
	ck_assert_str_eq(ims_dpi_failure(h, 1), "");
	ck_assert_ptr_nonnull(strstr(ims_dpi_last_error(h), "failure 1: 1 are kept"));
	ck_assert_int_eq(ims_dpi_stat(h, "validation_failures"), 1);
	ims_dpi_failures_clear(h);
	ck_assert_int_eq(ims_dpi_failures(h), 0);
	ck_assert_int_eq(ims_dpi_failure_count(h), 1);
	/* Without a name, the record has no place. */
	ck_assert_int_eq(ims_dpi_where(h, "", 0), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA + 0x3000, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x10000, 0, 1), 1);
	ck_assert_msg(!strncmp(ims_dpi_failure(h, 0), "dirty-read: harvest", 19), "%s",
		      ims_dpi_failure(h, 0));
	ims_dpi_free(h);
}
END_TEST

/* A mismatch found while unmapping (bug3 again, the IOTLB still dirty):
 * the count comes back from the unmap as from a harvest. */
START_TEST(unmap_mismatch)
{
	void *h = make("bug3-no-flush", "amdv1");
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x10000, 0, 1), 0);
	ck_assert_int_eq(ims_dpi_dma(h, DEV, IOVA, 4, 1), 0);
	ck_assert_int_eq(ims_dpi_unmap(h, TAG, IOVA, 0x1000, 1), 1);
	ck_assert_int_eq(ims_dpi_harvest_under(h), 1);
	ck_assert_int_eq(ims_dpi_harvest_first_under(h), IOVA);
	ck_assert_int_eq(ims_dpi_failures(h), 1);
	ims_dpi_free(h);
}
END_TEST
#endif

/* A device write injected into a harvest's walk is counted. */
START_TEST(inject)
{
	void *h = make("", "amdv1");
	ck_assert_int_eq(ims_dpi_inject(h, 1, DEV, IOVA + 0x2000), 0);
	ck_assert_int_eq(ims_dpi_harvest(h, TAG, IOVA, 0x10000, 0, 1), 0);
	ck_assert_int_eq(ims_dpi_stat(h, "inject_armed"), 1);
	ck_assert_int_eq(ims_dpi_inject(h, 0, DEV, IOVA), -EINVAL);
	ck_assert_str_ne(ims_dpi_last_error(h), "");
	ims_dpi_free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dpi");
	TCase *tc = tcase_create("dpi");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, null_handle);
	tcase_add_test(tc, setup_errors);
	tcase_add_test(tc, input_errors);
	tcase_add_test(tc, dma_results);
	tcase_add_test(tc, dma_results_kept);
	tcase_add_loop_test(tc, harvest_matches, 0, 3);
	tcase_add_test(tc, unmap_read_dirty);
#ifdef IMS_SEEDED_BUGS
	tcase_add_test(tc, harvest_mismatch);
	tcase_add_test(tc, unmap_mismatch);
#endif
	tcase_add_test(tc, inject);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
