/* Budgets (docs/limits.md, "Replay and model budgets"): what one input may
 * make the model and the testbench do or hold, refused before the work
 * with -E2BIG and a message naming the budget; the fault queue's bound
 * and its overflow count; the table-memory estimate of a map against
 * what the built-in tables allocate; output addresses past a format's
 * width refused, not cut. Expected counts come from the formats'
 * geometry (512 entries a 4 KiB table), not from the code under test. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "iommusim/tb.h"

#define TAG 5
#define DEV 0x0200

static struct ims_tb *make(const struct ims_budgets *b)
{
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	if (b)
		o.budgets = *b;
	struct ims_tb *tb;
	ck_assert_int_eq(ims_tb_new(&o, &tb), 0);
	return tb;
}

static void domain(struct ims_tb *tb, enum ims_format fmt, bool dirty)
{
	struct ims_tb_domain_cfg c = {.fmt = fmt, .dirty = dirty};
	ck_assert_msg(ims_tb_domain(tb, TAG, &c) == 0, "%s", ims_tb_error(tb));
	ck_assert_int_eq(ims_tb_attach(tb, DEV, TAG), 0);
}

/* ---- the fault queue (model) ------------------------------------------ */

/* A full queue keeps its oldest records and counts the rest, as a
 * hardware fault log overflows; every fault is still counted. */
START_TEST(fault_queue_overflows)
{
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, NULL, &mmu), 0);
	ck_assert_uint_eq(ims_iommu_fault_limit(mmu), IMS_FAULT_RECORDS_DEFAULT);
	ck_assert_int_eq(ims_iommu_set_fault_limit(mmu, 0), -EINVAL);
	ck_assert_int_eq(ims_iommu_set_fault_limit(mmu, 4), 0);
	/* No device is attached: each 4 KiB piece faults. */
	uint64_t pieces;
	ck_assert_uint_eq(ims_iommu_dma(mmu, DEV, 0, 10 * 4096, IMS_ACC_R, &pieces), 10);
	ck_assert_uint_eq(ims_iommu_fault_pending(mmu), 4);
	ck_assert_uint_eq(ims_iommu_counters(mmu)->faults, 10);
	ck_assert_uint_eq(ims_iommu_counters(mmu)->faults_dropped, 6);
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(mmu, &f));
	ck_assert_uint_eq(f.iova, 0);
	ck_assert(ims_iommu_fault_peek(mmu, 2, &f));
	ck_assert_uint_eq(f.iova, 3 * 4096);
	/* Room for one again: the next is kept, the one after it is not. */
	ck_assert_uint_eq(ims_iommu_dma(mmu, DEV, 0x100000, 2 * 4096, IMS_ACC_R, NULL), 2);
	ck_assert_uint_eq(ims_iommu_fault_pending(mmu), 4);
	ck_assert(ims_iommu_fault_peek(mmu, 3, &f));
	ck_assert_uint_eq(f.iova, 0x100000);
	ck_assert_uint_eq(ims_iommu_counters(mmu)->faults_dropped, 7);
	ims_iommu_free(mmu);
	ims_mem_free(mem);
}
END_TEST

START_TEST(tb_fault_records)
{
	struct ims_budgets b = {.fault_records = 3};
	struct ims_tb *tb = make(&b);
	ck_assert_int_eq(ims_tb_dma(tb, DEV, 0, 5 * 4096, IMS_ACC_W, NULL, 0, NULL), 5);
	ck_assert_uint_eq(ims_iommu_fault_pending(ims_tb_iommu(tb)), 3);
	ck_assert_uint_eq(ims_iommu_counters(ims_tb_iommu(tb))->faults_dropped, 2);
	ck_assert_uint_eq(ims_tb_stats(tb)->faults, 5);
	ims_tb_free(tb);
}
END_TEST

/* ---- a DMA's pages ------------------------------------------------------ */

START_TEST(dma_budget)
{
	struct ims_budgets b = {.dma_bytes = 16384};
	struct ims_tb *tb = make(&b);
	domain(tb, IMS_FMT_VTD, false);
	ck_assert_int_eq(ims_tb_map(tb, TAG, 0, 0x100000, 0x10000, IMS_PROT_RW, 0), 0);
	uint64_t n = 0;
	ck_assert_int_eq(ims_tb_dma(tb, DEV, 0, 16384, IMS_ACC_R, NULL, 0, &n), 0);
	ck_assert_uint_eq(n, 4);
	uint64_t before = ims_iommu_counters(ims_tb_iommu(tb))->translations;
	ck_assert_int_eq(ims_tb_dma(tb, DEV, 0, 16385, IMS_ACC_R, NULL, 0, &n), -E2BIG);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(ims_iommu_counters(ims_tb_iommu(tb))->translations, before);
	ck_assert_msg(strstr(ims_tb_error(tb), "16 KiB") &&
			      strstr(ims_tb_error(tb), "budgets.dma_bytes"),
		      "%s", ims_tb_error(tb));
	/* The whole space in one call, as a trace line once asked for. */
	ck_assert_int_eq(ims_tb_dma(tb, DEV, 0, 0xfffffffffffff000ull, IMS_ACC_W, NULL, 0, &n),
			 -E2BIG);
	ims_tb_free(tb);
}
END_TEST

/* The struct of API version 1 (no budgets) is taken, with the defaults. */
START_TEST(opts_version_1)
{
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	o.size = offsetof(struct ims_tb_opts, budgets);
	struct ims_tb *tb;
	ck_assert_int_eq(ims_tb_new(&o, &tb), 0);
	ck_assert_uint_eq(ims_iommu_fault_limit(ims_tb_iommu(tb)), IMS_FAULT_RECORDS_DEFAULT);
	ck_assert_int_eq(ims_tb_dma(tb, DEV, 0, IMS_BUDGET_DMA_BYTES + 1, IMS_ACC_R, NULL, 0, NULL),
			 -E2BIG);
	ims_tb_free(tb);
	o.size = offsetof(struct ims_tb_opts, budgets) + 8;
	ck_assert_int_eq(ims_tb_new(&o, &tb), -EINVAL);
}
END_TEST

/* ---- dirty bitmaps -------------------------------------------------------- */

START_TEST(bitmap_budget)
{
	struct ims_budgets b = {.bitmap_bytes = 8}; /* 64 bits */
	struct ims_tb *tb = make(&b);
	domain(tb, IMS_FMT_AMDV1, true);
	ck_assert_int_eq(ims_tb_map(tb, TAG, 0, 0x100000, 1 << 20, IMS_PROT_RW, 0x1000), 0);
	ck_assert_int_eq(ims_tb_track(tb, TAG, true), 0);
	struct ims_bitmap got;
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, 0, 64 * 4096, 0, 0, &got, NULL), 0);
	ims_bitmap_fini(&got);
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, 0, 65 * 4096, 0, 0, &got, NULL), -E2BIG);
	ck_assert_msg(strstr(ims_tb_error(tb), "65 bits") &&
			      strstr(ims_tb_error(tb), "budgets.bitmap_bytes"),
		      "%s", ims_tb_error(tb));
	/* A larger page size makes the same range fit. */
	ck_assert_int_eq(ims_tb_harvest(tb, TAG, 0, 128 * 4096, 8192, 0, &got, NULL), 0);
	ims_bitmap_fini(&got);
	/* An unmap that reads dirty state builds the same bitmap: refused
	 * before anything is unmapped. */
	struct ims_leaf lf;
	ck_assert_int_eq(ims_tb_unmap(tb, TAG, 0, 128 * 4096, 0, &got), -E2BIG);
	ck_assert_int_eq(ims_tb_leaf(tb, TAG, 0, &lf), 0);
	ck_assert_int_eq(ims_tb_unmap(tb, TAG, 0, 64 * 4096, 0, &got), 0);
	ims_bitmap_fini(&got);
	ims_tb_free(tb);
}
END_TEST

/* ---- page-table memory ------------------------------------------------ */

START_TEST(table_budget)
{
	/* Eight frames. A page of an AMD 4-level table needs a table at each
	 * level below the root; the estimate counts the three, whether they
	 * exist or not (an upper bound), so a map is let through while the
	 * frames held and its three fit. */
	struct ims_budgets b = {.table_bytes = 8 * 4096};
	struct ims_tb *tb = make(&b);
	domain(tb, IMS_FMT_AMDV1, false);
	for (uint64_t i = 0; i < 3; i++)
		ck_assert_msg(ims_tb_map(tb, TAG, i << 21, 0x100000, 4096, IMS_PROT_RW, 0) == 0, "%s",
			      ims_tb_error(tb));
	/* Root, one level-2 and one level-1 table, three level-0 tables. */
	ck_assert_uint_eq(ims_mem_counters(ims_tb_mem(tb))->frames, 6);
	ck_assert_int_eq(ims_tb_map(tb, TAG, 3ull << 21, 0x100000, 4096, IMS_PROT_RW, 0), -E2BIG);
	ck_assert_msg(strstr(ims_tb_error(tb), "up to 12 KiB more") &&
			      strstr(ims_tb_error(tb), "(32 KiB; budgets.table_bytes raises it)"),
		      "%s", ims_tb_error(tb));
	/* Refused before the work: nothing was allocated or mapped. */
	ck_assert_uint_eq(ims_mem_counters(ims_tb_mem(tb))->frames, 6);
	struct ims_leaf lf;
	ck_assert_int_gt(ims_tb_leaf(tb, TAG, 3ull << 21, &lf), 0);
	/* The 64 TiB map of 4 KiB pages the issue names: 128.25 GiB of tables. */
	ck_assert_int_eq(ims_tb_map(tb, TAG, 1ull << 46, 0, 1ull << 46, IMS_PROT_RW, 4096), -E2BIG);
	ck_assert_msg(strstr(ims_tb_error(tb), "128.3 GiB"), "%s", ims_tb_error(tb));
	ims_tb_free(tb);
}
END_TEST

/* The frame pool's own limit, under everything else. */
START_TEST(mem_frame_limit)
{
	struct ims_mem *m = ims_mem_new();
	uint64_t a, b, c;
	ims_mem_set_frame_limit(m, 2);
	ck_assert_int_eq(ims_mem_pool_alloc(m, &a), 0);
	ck_assert_int_eq(ims_mem_pool_alloc(m, &b), 0);
	ck_assert_int_eq(ims_mem_pool_alloc(m, &c), -ENOSPC);
	ims_mem_pool_free(m, b);
	ck_assert_int_eq(ims_mem_pool_alloc_order(m, 1, &c), -ENOSPC);
	ck_assert_int_eq(ims_mem_pool_alloc(m, &c), 0);
	ims_mem_set_frame_limit(m, 0);
	ck_assert_int_eq(ims_mem_pool_alloc_order(m, 2, &c), 0);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 6);
	ims_mem_free(m);
}
END_TEST

/* ---- software tables alone: the estimate and output addresses ------------ */

static int nop_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	(void)arg, (void)fmt, (void)cmd;
	return 0;
}
static int nop_update(void *arg, uint16_t tag, unsigned w, uint64_t c, uint64_t s)
{
	(void)arg, (void)tag, (void)w, (void)c, (void)s;
	return 0;
}
static int nop_flush(void *arg, uint16_t tag)
{
	(void)arg, (void)tag;
	return 0;
}

static struct ims_pt *pt_of(struct ims_mem *mem, enum ims_format fmt, unsigned gshift,
			    unsigned ias, uint64_t pgsizes)
{
	struct ims_pt_cfg pc = {.fmt = fmt, .tag = TAG, .granule_shift = gshift, .ias = ias,
				.pgsizes = pgsizes};
	struct ims_sink sink = {NULL, nop_submit, nop_update, nop_flush, NULL, NULL, NULL};
	struct ims_pt *pt;
	char err[160];
	ck_assert_msg(ims_pt_new(mem, &pc, &sink, &pt, err, sizeof(err)) == 0, "%s", err);
	return pt;
}

/* Frames a map added, and what the estimate said before it. */
static void map_vs_estimate(struct ims_mem *mem, struct ims_pt *pt, uint64_t iova, uint64_t pa,
			    uint64_t size, uint64_t pgsize, uint64_t *added, uint64_t *est)
{
	*est = ims_pt_map_tables(pt, iova, pa, size, pgsize);
	uint64_t f0 = ims_mem_counters(mem)->frames;
	ck_assert_int_eq(ims_pt_map(pt, iova, pa, size, IMS_PROT_RW, pgsize), 0);
	*added = ims_mem_counters(mem)->frames - f0;
}

START_TEST(map_tables_exact)
{
	struct ims_mem *mem = ims_mem_new();
	uint64_t added, est;
	/* 1 GiB of 4 KiB pages under an AMD 4-level root: 512 level-0
	 * tables, one at level 1, one at level 2. */
	struct ims_pt *pt = pt_of(mem, IMS_FMT_AMDV1, 0, 0, 0);
	map_vs_estimate(mem, pt, 0, 0x40000000, 1ull << 30, 4096, &added, &est);
	ck_assert_uint_eq(added, 514);
	ck_assert_uint_eq(est, 514);
	/* The same with the largest pages: one 1 GiB leaf at level 2. */
	map_vs_estimate(mem, pt, 1ull << 31, 1ull << 31, 1ull << 30, 0, &added, &est);
	ck_assert_uint_eq(added, 0);
	ck_assert_uint_eq(est, 1); /* the level-2 table the first map made counts again */
	/* Mixed sizes, 4 KiB short of 1 GiB: leaves at level 1 down to 2 MiB
	 * and at level 0 below it, in one new level-1 and one new level-0
	 * table. */
	map_vs_estimate(mem, pt, 1ull << 33, 1ull << 33, (1ull << 30) - 4096, 0, &added, &est);
	ck_assert_uint_eq(added, 2);
	ck_assert_uint_eq(est, 3); /* and the level-2 table again */
	ims_pt_free(pt);
	/* An SMMU 64K granule, ias 48 (root at level 2): a table is 16
	 * frames, and 512 MiB of 64 KiB pages fill one level-0 table under
	 * one level-1 table. */
	pt = pt_of(mem, IMS_FMT_SMMUV3, 16, 48, 1ull << 16);
	map_vs_estimate(mem, pt, 0, 1ull << 32, 1ull << 29, 0, &added, &est);
	ck_assert_uint_eq(added, 32);
	ck_assert_uint_eq(est, 32);
	ims_pt_free(pt);
	ims_mem_free(mem);
}
END_TEST

/* Over many maps of mixed alignment in fresh domains, the estimate is
 * what the built-in tables allocate; over tables that exist it is more. */
START_TEST(map_tables_fresh)
{
	static const struct {
		enum ims_format fmt;
		unsigned gshift, ias;
	} geo[] = {{IMS_FMT_AMDV1, 0, 0}, {IMS_FMT_VTD, 0, 0}, {IMS_FMT_SMMUV3, 12, 48},
		   {IMS_FMT_SMMUV3, 14, 47}, {IMS_FMT_SMMUV3, 16, 52}};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t g = 0; g < sizeof(geo) / sizeof(geo[0]); g++) {
		for (int i = 0; i < 60; i++) {
			struct ims_mem *mem = ims_mem_new();
			struct ims_pt *pt = pt_of(mem, geo[g].fmt, geo[g].gshift, geo[g].ias, 0);
			uint64_t min = ims_pt_min_pgsize(pt);
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Offsets of the same alignment make large pages possible. */
			uint64_t off = (x % 4096) * min;
			uint64_t iova = ((x >> 12) % 8192) * (1ull << 21) + off;
			uint64_t pa = (i % 3 ? ((x >> 25) % 64) << 30 : (x >> 31) % 8192 * (1ull << 21)) + off;
			uint64_t size = ((x >> 40) % 3000 + 1) * min * (i % 2 ? 1 : 97);
			uint64_t added, est;
			map_vs_estimate(mem, pt, iova, pa, size, 0, &added, &est);
			/* In an empty domain the estimate is what the map
			 * allocates. */
			ck_assert_msg(est == added,
				      "fmt %d g%u: map 0x%llx -> 0x%llx +0x%llx: estimate %llu, "
				      "allocated %llu", geo[g].fmt, geo[g].gshift,
				      (unsigned long long)iova, (unsigned long long)pa,
				      (unsigned long long)size, (unsigned long long)est,
				      (unsigned long long)added);
			ims_pt_free(pt);
			ims_mem_free(mem);
		}
	}
}
END_TEST

/* Output addresses past what a leaf holds are refused, not cut to their
 * low bits: SMMU with a 4K granule holds 48 bits, AMD v1 and VT-d 52. */
START_TEST(output_address_width)
{
	struct ims_mem *mem = ims_mem_new();
	struct ims_pt *pt = pt_of(mem, IMS_FMT_SMMUV3, 12, 48, 0);
	ck_assert_uint_eq(ims_pt_pa_limit(pt), 1ull << 48);
	ck_assert_int_eq(ims_pt_map(pt, 0, 1ull << 48, 4096, IMS_PROT_RW, 0), -ERANGE);
	ck_assert_int_eq(ims_pt_map(pt, 0, (1ull << 48) - 4096, 8192, IMS_PROT_RW, 0), -ERANGE);
	ck_assert_int_eq(ims_pt_map(pt, 0, (1ull << 48) - 4096, 4096, IMS_PROT_RW, 0), 0);
	ims_pt_free(pt);
	pt = pt_of(mem, IMS_FMT_SMMUV3, 16, 52, 0);
	ck_assert_uint_eq(ims_pt_pa_limit(pt), 1ull << 52);
	ims_pt_free(pt);
	pt = pt_of(mem, IMS_FMT_AMDV1, 0, 0, 0);
	ck_assert_uint_eq(ims_pt_pa_limit(pt), 1ull << 52);
	ck_assert_int_eq(ims_pt_map(pt, 0, 1ull << 52, 4096, IMS_PROT_RW, 0), -ERANGE);
	ims_pt_free(pt);
	ims_mem_free(mem);

	/* Through the testbench: an input error naming pa=. */
	struct ims_tb *tb = make(NULL);
	domain(tb, IMS_FMT_VTD, false);
	ck_assert_int_eq(ims_tb_map(tb, TAG, 0, 1ull << 52, 4096, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_msg(strstr(ims_tb_error(tb), "pa=0x10000000000000 is past"), "%s",
		      ims_tb_error(tb));
	ck_assert_int_eq(ims_tb_map(tb, TAG, 0, (1ull << 52) - 4096, 8192, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_msg(strstr(ims_tb_error(tb), "reaches past 0x10000000000000"), "%s",
		      ims_tb_error(tb));
	ims_tb_free(tb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("budgets");
	TCase *tc = tcase_create("budgets");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fault_queue_overflows);
	tcase_add_test(tc, tb_fault_records);
	tcase_add_test(tc, dma_budget);
	tcase_add_test(tc, opts_version_1);
	tcase_add_test(tc, bitmap_budget);
	tcase_add_test(tc, table_budget);
	tcase_add_test(tc, mem_frame_limit);
	tcase_add_test(tc, map_tables_exact);
	tcase_add_test(tc, map_tables_fresh);
	tcase_add_test(tc, output_address_width);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
