/* The testbench API (iommusim/tb.h): per-access DMA results, harvests
 * against the oracle with a verdict, failures as records through the
 * callback, input errors as messages, the leaf read-back, injections, and
 * a replay's testbench driven by trace events and direct calls together.
 * Expected values come from the formats' facts (a 4 KiB page, which bits
 * a write dirties), not from the model's own answers. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/tb.h"

#define TAG 7
#define DEV 0x0100
#define IOVA 0x40000000ull
#define PA 0x80000000ull

struct seen {
	unsigned n;
	struct ims_tb_failure last;
	char msg[512];
	uint64_t under_iova;
};

static void on_failure(void *arg, const struct ims_tb_failure *f)
{
	struct seen *s = arg;
	s->n++;
	s->last = *f;
	snprintf(s->msg, sizeof(s->msg), "%s", f->message);
	s->last.message = s->msg;
	s->last.expected = s->last.got = NULL;
}

static struct ims_tb *make(const char *walker, struct seen *s)
{
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	if (walker)
		ck_assert_int_eq(ims_pt_walker_parse(walker, &o.walker), 0);
	o.on_failure = on_failure;
	o.on_failure_arg = s;
	struct ims_tb *tb;
	ck_assert_int_eq(ims_tb_new(&o, &tb), 0);
	return tb;
}

static void setup_domain(struct ims_tb *tb, enum ims_format fmt)
{
	struct ims_tb_domain_cfg c = {.fmt = fmt, .dirty = true};
	ck_assert_msg(ims_tb_domain(tb, TAG, &c) == 0, "%s", ims_tb_error(tb));
	ck_assert_int_eq(ims_tb_attach(tb, DEV, TAG), 0);
	ck_assert_int_eq(ims_tb_map(tb, TAG, IOVA, PA, 0x10000, IMS_PROT_RW, 0x1000), 0);
	ck_assert_int_eq(ims_tb_track(tb, TAG, true), 0);
}

START_TEST(opts_size_checked)
{
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	o.size -= 8;
	struct ims_tb *tb = (struct ims_tb *)1;
	ck_assert_int_eq(ims_tb_new(&o, &tb), -EINVAL);
	ck_assert_ptr_null(tb);
	ck_assert_int_eq(ims_tb_new(NULL, &tb), 0);
	ims_tb_free(tb);
}
END_TEST

/* A write burst over two pages and a bit: three accesses, each with its
 * pa, the first write to a page sets A and D, a second access to the same
 * page hits the IOTLB and sets nothing. Then the harvest matches. */
START_TEST(dma_results_and_harvest)
{
	static const enum ims_format fmts[] = {IMS_FMT_AMDV1, IMS_FMT_VTD, IMS_FMT_SMMUV3};
	struct seen s = {0};
	struct ims_tb *tb = make(NULL, &s);
	setup_domain(tb, fmts[_i]);

	struct ims_tb_access a[4];
	uint64_t pieces = 0;
	int64_t faults = ims_tb_dma(tb, DEV, IOVA + 0x800, 0x2000, IMS_ACC_W, a, 4, &pieces);
	ck_assert_int_eq(faults, 0);
	ck_assert_uint_eq(pieces, 3); /* [0x800, 0x1000), [0x1000, 0x2000), [0x2000, 0x2800) */
	ck_assert_uint_eq(a[0].iova, IOVA + 0x800);
	ck_assert_uint_eq(a[0].len, 0x800);
	ck_assert_uint_eq(a[1].len, 0x1000);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(a[i].pa, PA + (a[i].iova - IOVA));
		ck_assert_int_eq(a[i].fault, 0);
		ck_assert(a[i].dirty_set);
		/* SMMUv3 software maps with AF set (as Linux's io-pgtable-arm
		 * does), so hardware has no access flag to set; AMD v1 and
		 * VT-d map with A clear. */
		ck_assert(a[i].accessed_set == (fmts[_i] != IMS_FMT_SMMUV3));
		ck_assert(!a[i].iotlb_hit);
		ck_assert_uint_eq(a[i].leaf_shift, 12);
		ck_assert_uint_gt(a[i].cycles, 0);
	}
	/* Again on the first page: cached, already dirty. */
	ck_assert_int_eq(ims_tb_dma(tb, DEV, IOVA + 0x10, 8, IMS_ACC_W, a, 1, NULL), 0);
	ck_assert(a[0].iotlb_hit);
	ck_assert(!a[0].dirty_set);
	ck_assert(!a[0].accessed_set);

	struct ims_leaf lf;
	ck_assert_int_eq(ims_tb_leaf(tb, TAG, IOVA + 0x1000, &lf), 0);
	ck_assert(lf.dirty);
	ck_assert_int_eq(ims_tb_leaf(tb, TAG, IOVA + 0x3000, &lf), 0);
	ck_assert(!lf.dirty);

	struct ims_bitmap got;
	struct ims_tb_verdict v;
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, IOVA, 0x10000, 0, 0, &got, &v), 0);
	ck_assert(v.match);
	ck_assert_uint_eq(v.got_bits, 3);
	ck_assert_uint_eq(v.expected_bits, 3);
	ck_assert(ims_bitmap_test(&got, 0) && ims_bitmap_test(&got, 1) && ims_bitmap_test(&got, 2));
	ck_assert(!ims_bitmap_test(&got, 3));
	ims_bitmap_fini(&got);
	/* The harvest cleaned the entries. */
	ck_assert_int_eq(ims_tb_leaf(tb, TAG, IOVA + 0x1000, &lf), 0);
	ck_assert(!lf.dirty);
	ck_assert_uint_eq(s.n, 0);
	const struct ims_replay_stats *st = ims_tb_stats(tb);
	ck_assert_uint_eq(st->harvests, 1);
	ck_assert_uint_eq(st->dma_pages, 4);
	ims_tb_free(tb);
}
END_TEST

/* A read of a fresh page sets the access flag and no dirty state (AMD v1:
 * A, bit 5; formats.md). */
START_TEST(read_sets_accessed_only)
{
	struct seen s = {0};
	struct ims_tb *tb = make(NULL, &s);
	setup_domain(tb, IMS_FMT_AMDV1);
	struct ims_tb_access a;
	ck_assert_int_eq(ims_tb_dma(tb, DEV, IOVA + 0x5000, 8, IMS_ACC_R, &a, 1, NULL), 0);
	ck_assert(a.accessed_set);
	ck_assert(!a.dirty_set);
	struct ims_leaf lf;
	ck_assert_int_eq(ims_tb_leaf(tb, TAG, IOVA + 0x5000, &lf), 0);
	ck_assert(lf.pte & (1ull << 5));
	ck_assert(!(lf.pte & (1ull << 6)));
	ims_tb_free(tb);
}
END_TEST

/* An injection is for the next software op even when that op fails its
 * checks (it is spent, not carried to a later harvest); one for a device
 * that is not attached is refused. */
START_TEST(inject_spent)
{
	struct seen s = {0};
	struct ims_tb *tb = make(NULL, &s);
	setup_domain(tb, IMS_FMT_AMDV1);
	ck_assert_int_eq(ims_tb_inject(tb, 1, 0x9999, IOVA), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_tb_error(tb), "not attached"));
	ck_assert_int_eq(ims_tb_inject(tb, 1, DEV, IOVA), 0);
	ck_assert_int_eq(ims_tb_map(tb, TAG, 0x1001, 0, 0x1000, IMS_PROT_RW, 0), -EINVAL);
	struct ims_bitmap got;
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, IOVA, 0x10000, 0, 0, &got, NULL), 0);
	ims_bitmap_fini(&got);
	ck_assert_uint_eq(ims_tb_stats(tb)->inject_armed, 0);
	ims_tb_free(tb);
}
END_TEST

/* A read fault: recorded per access, counted, no pa. */
START_TEST(fault_reported)
{
	struct seen s = {0};
	struct ims_tb *tb = make(NULL, &s);
	setup_domain(tb, IMS_FMT_AMDV1);
	struct ims_tb_access a[2];
	int64_t k = ims_tb_dma(tb, DEV, IOVA + 0x100000, 0x1000, IMS_ACC_R, a, 2, NULL);
	ck_assert_int_eq(k, 1);
	ck_assert_int_eq(a[0].fault, IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(ims_tb_stats(tb)->faults, 1);
	ck_assert_uint_eq(ims_iommu_fault_pending(ims_tb_iommu(tb)), 1);
	ims_tb_free(tb);
}
END_TEST

/* A walker that cleans one entry of a run and misses the rest
 * (bug2-clean-one) or forgets the flush (bug3-no-flush): the second
 * round's harvest under-reports, the callback gets a dirty-read record
 * naming the domain and the first missing IOVA, and the verdict agrees. */
START_TEST(failure_record)
{
	struct seen s = {0};
	struct ims_tb *tb = make("bug3-no-flush", &s);
	ims_tb_set_where(tb, "round", 2);
	setup_domain(tb, IMS_FMT_AMDV1);
	struct ims_bitmap got;
	struct ims_tb_verdict v;
	ck_assert_int_eq(ims_tb_dma(tb, DEV, IOVA + 0x3000, 4, IMS_ACC_W, NULL, 0, NULL), 0);
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, IOVA, 0x10000, 0, 0, &got, &v), 0);
	ck_assert(v.match);
	ims_bitmap_fini(&got);
	/* The IOTLB still says dirty: this write does not set D again. */
	ck_assert_int_eq(ims_tb_dma(tb, DEV, IOVA + 0x3000, 4, IMS_ACC_W, NULL, 0, NULL), 0);
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, IOVA, 0x10000, 0, 0, &got, &v), 0);
	ck_assert(!v.match);
	ck_assert_uint_eq(v.under, 1);
	ck_assert_uint_eq(v.first_under_iova, IOVA + 0x3000);
	ims_bitmap_fini(&got);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.last.kind, IMS_TB_FAIL_DIRTY_READ);
	ck_assert_uint_eq(s.last.domain, TAG);
	ck_assert_uint_eq(s.last.under, 1);
	ck_assert_uint_eq(s.last.first_under_iova, IOVA + 0x3000);
	ck_assert_str_eq(s.last.file, "round");
	ck_assert_uint_eq(s.last.line, 2);
	ck_assert_ptr_nonnull(strstr(s.msg, "differs from the oracle"));
	ck_assert_uint_eq(ims_tb_stats(tb)->validation_failures, 1);
	ims_tb_free(tb);
}
END_TEST

/* A non-atomic clean racing a device write (bug4-nonatomic: an AMD v1
 * replica run cleaned by load and store, a write landing between them on
 * the run's other entry): a lost-update record. */
START_TEST(lost_update_record)
{
	struct seen s = {0};
	struct ims_tb *tb = make("bug4-nonatomic", &s);
	setup_domain(tb, IMS_FMT_AMDV1);
	const uint64_t run = IOVA + 0x10000;
	ck_assert_int_eq(ims_tb_map(tb, TAG, run, PA + 0x10000, 0x2000, IMS_PROT_RW, 0x2000), 0);
	struct ims_bitmap got;
	/* Each access of the harvest in turn, until one lands between a
	 * load and its store. */
	for (uint64_t at = 1; at < 64 && !s.n; at++) {
		ck_assert_int_eq(ims_tb_dma(tb, DEV, run, 4, IMS_ACC_W, NULL, 0, NULL), 0);
		ck_assert_int_eq(ims_tb_flush(tb, TAG, 0, 0), 0);
		ck_assert_int_eq(ims_tb_inject(tb, at, DEV, run + 0x1000), 0);
		ck_assert_int_eq(ims_tb_harvest(tb, TAG, run, 0x2000, 0, 0, &got, NULL), 0);
		ims_bitmap_fini(&got);
	}
	ck_assert_uint_ge(s.n, 1);
	ck_assert_int_eq(s.last.kind, IMS_TB_FAIL_LOST_UPDATE);
	ck_assert_ptr_nonnull(strstr(s.msg, "lost hardware update"));
	ck_assert_uint_ge(ims_tb_stats(tb)->inject_fired, 1);
	ims_tb_free(tb);
}
END_TEST

/* Input errors: -EINVAL and a message naming the argument, no FILE:LINE. */
START_TEST(input_errors)
{
	struct seen s = {0};
	struct ims_tb *tb = make(NULL, &s);
	setup_domain(tb, IMS_FMT_SMMUV3);
	ck_assert_int_eq(ims_tb_map(tb, TAG, 0x1001, 0, 0x1000, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_str_eq(ims_tb_error(tb),
			 "iova=0x1001 is not aligned to the smallest leaf size (0x1000)");
	ck_assert_int_eq(ims_tb_map(tb, 9, 0, 0, 0x1000, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_str_eq(ims_tb_error(tb), "domain 9 is not defined");
	struct ims_bitmap got;
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, 0, 0x1000, 3, 0, &got, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_tb_error(tb), "not a power of two"));
	struct ims_tb_domain_cfg c = {.fmt = IMS_FMT_SMMUV3};
	ck_assert_int_eq(ims_tb_domain(tb, TAG, &c), -EINVAL);
	ck_assert_int_eq(ims_tb_dma(tb, DEV, 0, 8, 0, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(ims_tb_detach(tb, 0x9999), -EINVAL);
	ck_assert_uint_eq(s.n, 0);
	ims_tb_free(tb);
}
END_TEST

/* Unmap: with read-dirty the bits come back and nothing is lost; a plain
 * unmap of a written page counts it lost. */
START_TEST(unmap_read_and_lost)
{
	struct seen s = {0};
	struct ims_tb *tb = make(NULL, &s);
	setup_domain(tb, IMS_FMT_AMDV1);
	ck_assert_int_eq(ims_tb_dma(tb, DEV, IOVA, 0x2000, IMS_ACC_W, NULL, 0, NULL), 0);
	struct ims_bitmap got;
	ck_assert_int_eq(ims_tb_unmap(tb, TAG, IOVA, 0x1000, 0, &got), 0);
	ck_assert_uint_eq(ims_bitmap_count(&got), 1);
	ims_bitmap_fini(&got);
	ck_assert_int_eq(ims_tb_unmap(tb, TAG, IOVA + 0x1000, 0x1000, 0, NULL), 0);
	const struct ims_replay_stats *st = ims_tb_stats(tb);
	ck_assert_uint_eq(st->lost_on_unmap, 1);
	ck_assert_uint_eq(st->unmaps, 2);
	ck_assert_uint_eq(s.n, 0);
	ims_tb_free(tb);
}
END_TEST

/* A replay's testbench: trace events set the domain up, direct calls
 * drive it, and the replay's counters see both. */
START_TEST(replay_and_calls_mix)
{
	static const char trace[] = "domain id=3 format=vtd dirty=on\n"
				    "attach dev=0x10 domain=3\n"
				    "map domain=3 iova=0x100000 pa=0x200000 size=0x4000\n"
				    "track domain=3 on\n";
	struct ims_replay_opts ro;
	ims_replay_opts_default(&ro);
	ck_assert_int_eq(ims_pt_walker_parse("bug3-no-flush", &ro.walker), 0);
	struct ims_replay *rp;
	ck_assert_int_eq(ims_replay_new(&ro, &rp), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("mix", trace, sizeof(trace) - 1, 1, &rd), 0);
	ck_assert_int_eq(ims_replay_run(rp, rd), 0);
	ims_reader_close(rd);
	struct ims_tb *tb = ims_replay_tb(rp);
	ck_assert_int_eq(ims_tb_dma(tb, 0x10, 0x101000, 4, IMS_ACC_W, NULL, 0, NULL), 0);
	struct ims_bitmap got;
	struct ims_tb_verdict v;
	ck_assert_int_eq(ims_tb_harvest(tb, 3, 0x100000, 0x4000, 0, 0, &got, &v), 0);
	ck_assert(v.match);
	ck_assert_uint_eq(v.got_bits, 1);
	ck_assert(ims_bitmap_test(&got, 1));
	ims_bitmap_fini(&got);
	ck_assert_uint_eq(ims_replay_stats(rp)->harvests, 1);
	ck_assert_uint_eq(ims_replay_stats(rp)->events, 4);
	/* The reader is gone: a failure of a later direct call names the
	 * testbench's where, not the trace (whose name was the reader's). */
	struct seen s = {0};
	ims_tb_set_failure_cb(tb, on_failure, &s);
	ims_tb_set_where(tb, "direct", 9);
	ck_assert_int_eq(ims_tb_dma(tb, 0x10, 0x101000, 4, IMS_ACC_W, NULL, 0, NULL), 0);
	ck_assert_int_eq(ims_tb_harvest(tb, 3, 0x100000, 0x4000, 0, 0, &got, &v), 0);
	ims_bitmap_fini(&got);
	ck_assert(!v.match);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.last.file, "direct");
	ck_assert_uint_eq(s.last.line, 9);
	ims_replay_free(rp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tb");
	TCase *tc = tcase_create("tb");
	tcase_add_test(tc, opts_size_checked);
	tcase_add_loop_test(tc, dma_results_and_harvest, 0, 3);
	tcase_add_test(tc, fault_reported);
	tcase_add_test(tc, read_sets_accessed_only);
	tcase_add_test(tc, inject_spent);
	tcase_add_test(tc, failure_record);
	tcase_add_test(tc, lost_update_record);
	tcase_add_test(tc, input_errors);
	tcase_add_test(tc, unmap_read_and_lost);
	tcase_add_test(tc, replay_and_calls_mix);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
