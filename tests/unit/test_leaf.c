/* ims_iommu_leaf: the leaf that maps an IOVA, read back as the hardware
 * decodes it. Checked against the formats' bit positions (formats.md:
 * AMD v1 A bit 5, D bit 6; VT-d second stage A bit 8, D bit 9; SMMUv3
 * stage 1 AF bit 10, AP[2] bit 7, DBM bit 51: dirty is DBM with AP[2]
 * clear), written here rather than taken from the model: a read-back
 * that decoded the wrong bit would disagree with them. */
#include <check.h>
#include <stdlib.h>

#include "walker_rig.h"

#define AMD_A (1ull << 5)
#define AMD_D (1ull << 6)
#define VTD_A (1ull << 8)
#define VTD_D (1ull << 9)
#define SMMU_AF (1ull << 10)
#define SMMU_AP2 (1ull << 7)
#define SMMU_DBM (1ull << 51)

static void domain(struct rig *r, enum ims_format fmt)
{
	rig_base(r);
	struct ims_pt_cfg pc = {.fmt = fmt, .tag = TAG, .dirty_tracking = true};
	if (fmt == IMS_FMT_AMDV1)
		pc.levels = 3;
	char err[200];
	ck_assert_int_eq(rig_domain(r, &pc, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r->pt, true), 0);
}

static bool raw_dirty(enum ims_format fmt, uint64_t pte)
{
	switch (fmt) {
	case IMS_FMT_AMDV1:
		return pte & AMD_D;
	case IMS_FMT_VTD:
		return pte & VTD_D;
	default:
		return (pte & SMMU_DBM) && !(pte & SMMU_AP2);
	}
}

static bool raw_accessed(enum ims_format fmt, uint64_t pte)
{
	return pte & (fmt == IMS_FMT_AMDV1 ? AMD_A : fmt == IMS_FMT_VTD ? VTD_A : SMMU_AF);
}

/* A 4 KiB page of every format: clean after the map, dirty and accessed
 * after a device write, as the raw entry says; the read-back itself counts
 * no hardware load and sets nothing. */
START_TEST(page_of_each_format)
{
	static const enum ims_format fmts[] = {IMS_FMT_AMDV1, IMS_FMT_VTD, IMS_FMT_SMMUV3};
	enum ims_format fmt = fmts[_i];
	struct rig r;
	domain(&r, fmt);
	const uint64_t iova = 0x40000000, pa = 0x80000000;
	ck_assert_int_eq(ims_pt_map(r.pt, iova, pa, 0x1000, IMS_PROT_RW, 0x1000), 0);

	struct ims_leaf lf;
	uint64_t loads = ims_mem_counters(r.mem)->ops[IMS_AGENT_HW][IMS_MEM_LOAD];
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG, iova + 0x123, &lf), 0);
	ck_assert_uint_eq(ims_mem_counters(r.mem)->ops[IMS_AGENT_HW][IMS_MEM_LOAD], loads);
	ck_assert_int_eq(lf.level, 0);
	ck_assert_uint_eq(lf.leaf_iova, iova);
	ck_assert_uint_eq(lf.leaf_shift, 12);
	ck_assert_uint_eq(lf.pa, pa + 0x123);
	ck_assert_uint_eq(lf.nentries, 1);
	ck_assert_uint_eq(lf.first_pa, lf.pte_pa);
	ck_assert(lf.readable && lf.writable);
	ck_assert(!lf.dirty && !raw_dirty(fmt, lf.pte));
	/* The entry it names is the one in memory. */
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, lf.pte_pa), lf.pte);

	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova + 8, IMS_ACC_W, &x), 0);
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG, iova, &lf), 0);
	ck_assert(lf.dirty && raw_dirty(fmt, lf.pte));
	ck_assert(lf.accessed && raw_accessed(fmt, lf.pte));

	/* A clearing harvest cleans it, and the read-back sees that. */
	struct ims_bitmap bm;
	ck_assert_int_eq(harvest(&r, iova, 0x1000, 0, &bm, 1ull << 32), 0);
	ims_bitmap_fini(&bm);
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG, iova, &lf), 0);
	ck_assert(!lf.dirty && !raw_dirty(fmt, lf.pte));

	/* Nothing mapped there: a fault kind, no leaf. Unknown context: -ENOENT. */
	ck_assert_int_gt(ims_iommu_leaf(r.mmu, TAG, iova + 0x1000, &lf), 0);
	ck_assert_uint_eq(lf.pte_pa, 0);
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG + 1, iova, &lf), -ENOENT);
	ims_pt_unmap(r.pt, iova, 0x1000, NULL);
	rig_down(&r);
}
END_TEST

/* A read-only page: readable, not writable, whatever its A/D. */
START_TEST(read_only_page)
{
	struct rig r;
	domain(&r, IMS_FMT_VTD);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x200000, 0x300000, 0x1000, IMS_PROT_R, 0x1000), 0);
	struct ims_leaf lf;
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG, 0x200000, &lf), 0);
	ck_assert(lf.readable && !lf.writable);
	ims_pt_unmap(r.pt, 0x200000, 0x1000, NULL);
	rig_down(&r);
}
END_TEST

/* An AMD 32 KiB page is 8 replicas (NextLevel=7): the read-back names the
 * run, and a write that dirtied one replica makes the page dirty whichever
 * IOVA of it is asked about. */
START_TEST(amd_replica_run)
{
	struct rig r;
	domain(&r, IMS_FMT_AMDV1);
	const uint64_t iova = 0x1000000;
	ck_assert_int_eq(ims_pt_map(r.pt, iova, 0x90000000, 0x8000, IMS_PROT_RW, 0x8000), 0);
	struct ims_leaf lf;
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG, iova + 0x5000, &lf), 0);
	ck_assert_uint_eq(lf.nentries, 8);
	ck_assert_uint_eq(lf.leaf_shift, 15);
	ck_assert_uint_eq(lf.pte_pa, lf.first_pa + 8 * 5);
	ck_assert(!lf.dirty);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova + 0x7000, IMS_ACC_W, &x), 0);
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, TAG, iova, &lf), 0);
	ck_assert(lf.dirty);
	/* The run's D bits, ORed, by the format's bit. */
	bool any = false;
	for (unsigned k = 0; k < lf.nentries; k++)
		any = any || (ims_mem_load(r.mem, IMS_AGENT_HW, lf.first_pa + 8ull * k) & AMD_D);
	ck_assert(any);
	ims_pt_unmap(r.pt, iova, 0x8000, NULL);
	rig_down(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("leaf");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, page_of_each_format, 0, 3);
	tcase_add_test(tc, read_only_page);
	tcase_add_test(tc, amd_replica_run);
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
