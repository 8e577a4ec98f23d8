/* Arm SMMUv3 stage 1: the hardware rules, checked through the model on
 * tables built by hand (formats.md "Arm SMMUv3 stage 1"): the top table's
 * index bits, access flag, dirty state (DBM, HD), contiguous groups,
 * APTable and privilege, blocks, the input size. Geometry, codec, CD and
 * command decode are test_smmu.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "smmuv3/smmu.h"
#include "smmuv3/smmu_codec.h"

#include "smmu_test.h"

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	unsigned g, ias;
	uint64_t next_table; /* bump allocator for raw tables */
};

static void rig_cfg(struct rig *r, unsigned g, unsigned ias, bool ha, bool hd,
		    const struct ims_iommu_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->g = g;
	r->ias = ias;
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	struct ims_ctx_params p = {.tag = TAG, .root = ROOT, .granule_shift = g, .ias = ias,
				   .ha = ha, .hd = hd};
	uint64_t w[IMS_CTX_WORDS];
	char err[160];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_SMMUV3, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	r->next_table = 0x10000000ull;
}

static void rig_up(struct rig *r, unsigned g, unsigned ias, bool ha, bool hd)
{
	rig_cfg(r, g, ias, ha, hd, NULL);
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t top_index(const struct rig *r, uint64_t iova)
{
	int top = formula_top(r->g, r->ias);
	unsigned sh = lshift(r->g, top);
	return (iova >> sh) & ((1ull << (r->ias - sh)) - 1);
}

static uint64_t lo_index(unsigned g, int level, uint64_t iova)
{
	return (iova >> lshift(g, level)) & ((1ull << stride(g)) - 1);
}

/* Tables from the top down to `leaf_level` for iova (48-bit addresses);
 * returns the address of the leaf slot. */
static uint64_t chain(struct rig *r, int leaf_level, uint64_t iova, uint64_t top_flags)
{
	int top = formula_top(r->g, r->ias);
	uint64_t table = ROOT;
	for (int l = top; l > leaf_level; l--) {
		uint64_t idx = l == top ? top_index(r, iova) : lo_index(r->g, l, iova);
		uint64_t slot = table + 8 * idx;
		uint64_t cur = ims_mem_load(r->mem, IMS_AGENT_HW, slot);
		uint64_t next;
		if (cur & 1) {
			next = cur & SMMU_D_OA48_MASK;
		} else {
			next = r->next_table;
			r->next_table += 1ull << r->g;
			uint64_t flags = l == top ? top_flags : 0;
			ims_mem_store(r->mem, IMS_AGENT_HW, slot, tdesc(next) | flags);
		}
		table = next;
	}
	uint64_t idx = leaf_level == top ? top_index(r, iova) : lo_index(r->g, leaf_level, iova);
	return table + 8 * idx;
}

static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }

static int access(struct rig *r, uint64_t iova, unsigned acc, struct ims_xlate *x)
{
	return ims_iommu_access(r->mmu, DEV, iova, acc, x);
}

static struct ims_fault pop(struct rig *r)
{
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(r->mmu, &f));
	return f;
}

/* ---- geometry ------------------------------------------------------------ */

START_TEST(top_table_index_bits_walk)
{
	/* Through the model: the last IOVA below 2^ias walks the last entry
	 * of every table (so the top index has exactly ias - shift bits); the
	 * first IOVA at 2^ias is a translation fault. */
	for (unsigned gi = 0; gi < 3; gi++) {
		unsigned g = GRANULES[gi];
		for (unsigned ias = 32; ias <= 52; ias++) {
			struct rig r;
			rig_up(&r, g, ias, false, false);
			uint64_t iova = (1ull << ias) - (1ull << g);
			uint64_t slot = chain(&r, 0, iova, 0);
			ck_assert_uint_eq(slot & ((1ull << g) - 1), (1ull << g) - 8);
			uint64_t oa = 0x12340000ull << 4; /* 64K aligned, below 2^48 */
			put(&r, slot, page_desc(oa, true, 0));
			unsigned top_bits = ias - lshift(g, formula_top(g, ias));
			uint64_t top_slot = ROOT + 8 * ((1ull << top_bits) - 1);
			ck_assert(get(&r, top_slot) & 1);
			struct ims_xlate x;
			ck_assert_int_eq(access(&r, iova + 8, IMS_ACC_R, &x), 0);
			ck_assert_uint_eq(x.pa, oa + 8);
			ck_assert_uint_eq(x.leaf_shift, g);
			ck_assert_int_eq(access(&r, 1ull << ias, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(x.code, SMMU_EVT_F_TRANSLATION);
			rig_down(&r);
		}
	}
}
END_TEST

/* ---- hardware rules through the model --------------------------------------- */

START_TEST(access_flag_fault_outranks_permission)
{
	struct rig r;
	rig_up(&r, 12, 48, false, false);
	uint64_t slot = chain(&r, 0, IOVA, 0);
	/* Read-only, AF = 0: a write reports the Access flag fault. */
	put(&r, slot, page_desc(PA, true, SMMU_D_AP2) & ~SMMU_D_AF);
	struct ims_xlate x;
	ck_assert_int_eq(access(&r, IOVA, IMS_ACC_W, &x), IMS_FAULT_ACCESS);
	ck_assert_uint_eq(x.code, SMMU_EVT_F_ACCESS);
	struct ims_fault f = pop(&r);
	ck_assert_int_eq(f.kind, IMS_FAULT_ACCESS);
	ck_assert_uint_eq(f.code, 0x12);
	ck_assert_int_eq(f.fmt, IMS_FMT_SMMUV3);
	/* With AF = 1 the same write is a permission fault. */
	put(&r, slot, page_desc(PA, true, SMMU_D_AP2));
	ck_assert_int_eq(access(&r, IOVA, IMS_ACC_W, &x), IMS_FAULT_PERM);
	f = pop(&r);
	ck_assert_uint_eq(f.code, 0x13);
	/* An invalid entry: translation fault 0x10. */
	put(&r, slot, 0);
	ck_assert_int_eq(access(&r, IOVA, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	f = pop(&r);
	ck_assert_uint_eq(f.code, 0x10);
	ck_assert_uint_eq(get(&r, slot), 0);
	rig_down(&r);
}
END_TEST

START_TEST(af_zero_is_never_cached)
{
	/* HA on, a 16-entry group with AF only in entry 0: a read through
	 * entry 3 succeeds, updates nothing (D8.5.5), and is not cached (the
	 * covering entry has AF = 0), so the next read walks again. */
	struct rig r;
	rig_up(&r, 12, 48, true, false);
	uint64_t slot = chain(&r, 0, IOVA, 0);
	for (unsigned i = 0; i < 16; i++)
		put(&r, slot + 8 * i,
		    page_desc(PA + 0x1000ull * i, true, SMMU_D_CONT) & ~(i ? SMMU_D_AF : 0));
	const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
	struct ims_xlate x;
	ck_assert_int_eq(access(&r, IOVA + 0x3000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, PA + 0x3000);
	ck_assert_uint_eq(x.leaf_shift, 16);
	ck_assert(!(get(&r, slot + 24) & SMMU_D_AF));
	ck_assert_uint_eq(n->iotlb_fills, 0);
	ck_assert_int_eq(access(&r, IOVA + 0x3000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	/* Through entry 0 (AF = 1) it is cached, as the whole group. */
	ck_assert_int_eq(access(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(n->iotlb_fills, 1);
	ck_assert_int_eq(access(&r, IOVA + 0x3000, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	rig_down(&r);

	/* AFFD = 1 (HA off): AF = 0 reads as 1, no fault, no update, cached. */
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, NULL, &mmu), 0);
	struct ims_ctx_params p = {.tag = TAG, .root = ROOT};
	uint64_t w[IMS_CTX_WORDS];
	char err[160];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
	w[0] |= SMMU_CD0_AFFD;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(mmu, DEV, TAG), 0);
	struct rig r2 = {.mem = mem, .mmu = mmu, .g = 12, .ias = 48, .next_table = 0x10000000ull};
	slot = chain(&r2, 0, IOVA, 0);
	put(&r2, slot, page_desc(PA, true, 0) & ~SMMU_D_AF);
	ck_assert_int_eq(access(&r2, IOVA, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(get(&r2, slot), page_desc(PA, true, 0) & ~SMMU_D_AF);
	ck_assert_int_eq(access(&r2, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	rig_down(&r2);
}
END_TEST

START_TEST(dbm_hd_dirty_state)
{
	for (int hd = 0; hd < 2; hd++) {
		struct rig r;
		rig_up(&r, 12, 48, true, hd);
		uint64_t slot = chain(&r, 0, IOVA, 0);
		uint64_t clean = page_desc(PA, true, SMMU_D_DBM | SMMU_D_AP2);
		put(&r, slot, clean);
		struct ims_xlate x;
		/* A read changes nothing. */
		ck_assert_int_eq(access(&r, IOVA, IMS_ACC_R, &x), 0);
		ck_assert_uint_eq(get(&r, slot), clean);
		int rc = access(&r, IOVA + 8, IMS_ACC_W, &x);
		if (hd) {
			/* Writable-clean -> writable-dirty: AP[2] cleared. */
			ck_assert_int_eq(rc, 0);
			ck_assert(x.dirtied);
			ck_assert_uint_eq(get(&r, slot), clean & ~SMMU_D_AP2);
			ck_assert(smmu_hw_fmt.is_dirty(NULL, get(&r, slot)));
			/* The next write hits the IOTLB entry cached dirty. */
			ck_assert_int_eq(access(&r, IOVA + 16, IMS_ACC_W, &x), 0);
			ck_assert(x.iotlb_hit);
			ck_assert(!x.dirtied);
		} else {
			ck_assert_int_eq(rc, IMS_FAULT_PERM);
			ck_assert_uint_eq(x.code, SMMU_EVT_F_PERMISSION);
			ck_assert_uint_eq(get(&r, slot), clean);
		}
		rig_down(&r);
	}
	/* The four dirty-state encodings (D8.5.2). */
	ck_assert(!smmu_hw_fmt.is_dirty(NULL, SMMU_D_DBM | SMMU_D_AP2));
	ck_assert(smmu_hw_fmt.is_dirty(NULL, SMMU_D_DBM));
	ck_assert(!smmu_hw_fmt.is_dirty(NULL, SMMU_D_AP2));
	ck_assert(!smmu_hw_fmt.is_dirty(NULL, 0));
	ck_assert(!smmu_pt_fmt.is_dirty(SMMU_D_DBM | SMMU_D_AP2));
	ck_assert(smmu_pt_fmt.is_dirty(SMMU_D_DBM));
	ck_assert(!smmu_pt_fmt.is_dirty(SMMU_D_AP2));
	ck_assert(!smmu_pt_fmt.is_dirty(0));
	ck_assert_uint_eq(smmu_pt_fmt.clean_set, SMMU_D_AP2);
	ck_assert_uint_eq(smmu_pt_fmt.clean_clear, 0);
	/* Software cleans by setting AP[2]: the result is writable-clean. */
	uint64_t d = SMMU_D_DBM | SMMU_D_AF | 3;
	ck_assert(!smmu_pt_fmt.is_dirty((d & ~smmu_pt_fmt.clean_clear) | smmu_pt_fmt.clean_set));
}
END_TEST

START_TEST(af_and_dirty_in_one_update)
{
	struct rig r;
	rig_up(&r, 12, 48, true, true);
	uint64_t slot = chain(&r, 0, IOVA, 0);
	put(&r, slot, page_desc(PA, true, SMMU_D_DBM | SMMU_D_AP2) & ~SMMU_D_AF);
	const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
	struct ims_xlate x;
	ck_assert_int_eq(access(&r, IOVA, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(get(&r, slot), page_desc(PA, true, SMMU_D_DBM));
	ck_assert_uint_eq(n->ad_writes, 1);
	rig_down(&r);
}
END_TEST

START_TEST(group_update_policies)
{
	/* D8.5.5 with each replica policy: a write updates exactly one entry
	 * of a 16-entry group (first / covering / some); after a flush, a write
	 * through another entry updates nothing because the group already
	 * records dirty state (and AF). */
	static const enum ims_replica_policy pol[3] = {IMS_REPLICA_FIRST, IMS_REPLICA_COVERING,
						      IMS_REPLICA_RANDOM};
	for (unsigned pi = 0; pi < 3; pi++) {
		for (unsigned seed = 1; seed <= (pol[pi] == IMS_REPLICA_RANDOM ? 8u : 1u); seed++) {
			struct ims_iommu_cfg cfg;
			ims_iommu_cfg_default(&cfg);
			cfg.replica = pol[pi];
			cfg.seed = seed;
			struct rig r;
			rig_cfg(&r, 12, 48, true, true, &cfg);
			uint64_t slot = chain(&r, 0, IOVA, 0);
			uint64_t ent[16];
			for (unsigned i = 0; i < 16; i++) {
				ent[i] = page_desc(PA + 0x1000ull * i, true,
						   SMMU_D_CONT | SMMU_D_DBM | SMMU_D_AP2) &
					 ~SMMU_D_AF;
				put(&r, slot + 8 * i, ent[i]);
			}
			struct ims_xlate x;
			ck_assert_int_eq(access(&r, IOVA + 0x5000, IMS_ACC_W, &x), 0);
			ck_assert_uint_eq(x.leaf_iova, IOVA);
			ck_assert_uint_eq(x.leaf_shift, 16);
			unsigned changed = 0, which = 99;
			for (unsigned i = 0; i < 16; i++) {
				uint64_t v = get(&r, slot + 8 * i);
				if (v != ent[i]) {
					changed++;
					which = i;
					ck_assert_uint_eq(v, (ent[i] | SMMU_D_AF) & ~SMMU_D_AP2);
				}
			}
			ck_assert_uint_eq(changed, 1);
			if (pol[pi] == IMS_REPLICA_FIRST)
				ck_assert_uint_eq(which, 0);
			if (pol[pi] == IMS_REPLICA_COVERING)
				ck_assert_uint_eq(which, 5);
			ims_iommu_inv_domain(r.mmu, TAG);
			uint64_t before[16];
			for (unsigned i = 0; i < 16; i++)
				before[i] = get(&r, slot + 8 * i);
			unsigned other = which == 9 ? 10 : 9;
			ck_assert_int_eq(access(&r, IOVA + 0x1000ull * other, IMS_ACC_W, &x), 0);
			ck_assert(!x.dirtied);
			for (unsigned i = 0; i < 16; i++)
				ck_assert_uint_eq(get(&r, slot + 8 * i), before[i]);
			rig_down(&r);
		}
	}
}
END_TEST

START_TEST(aptable_and_privilege)
{
	for (int priv = 0; priv < 2; priv++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.dma_privileged = priv;
		struct rig r;
		rig_cfg(&r, 12, 48, true, true, &cfg);
		/* Three subtrees below Arm L0 entries 0, 1, 2: none, APTable[1],
		 * APTable[0]. */
		uint64_t i0 = 0, i1 = 1ull << 39, i2 = 2ull << 39;
		uint64_t s0 = chain(&r, 0, i0, 0);
		uint64_t s1 = chain(&r, 0, i1, SMMU_T_APTABLE1);
		uint64_t s2 = chain(&r, 0, i2, SMMU_T_APTABLE0);
		uint64_t rw = page_desc(PA, true, 0);
		uint64_t priv_only = rw & ~SMMU_D_AP1;
		uint64_t wclean = page_desc(PA, true, SMMU_D_DBM | SMMU_D_AP2);
		put(&r, s0, priv_only);
		put(&r, s1, wclean);
		put(&r, s2, rw);
		struct ims_xlate x;
		/* AP[1] = 0: only privileged accesses pass. */
		ck_assert_int_eq(access(&r, i0, IMS_ACC_R, &x), (priv ? 0 : IMS_FAULT_PERM));
		ck_assert_int_eq(access(&r, i0, IMS_ACC_W, &x), (priv ? 0 : IMS_FAULT_PERM));
		/* APTable[1]: no write below, even writable-clean with HD. */
		ck_assert_int_eq(access(&r, i1, IMS_ACC_R, &x), 0);
		ck_assert_int_eq(access(&r, i1, IMS_ACC_W, &x), IMS_FAULT_PERM);
		ck_assert_uint_eq(get(&r, s1), wclean);
		/* APTable[0]: no unprivileged access below. */
		ck_assert_int_eq(access(&r, i2, IMS_ACC_R, &x), (priv ? 0 : IMS_FAULT_PERM));
		ck_assert_int_eq(access(&r, i2, IMS_ACC_W, &x), (priv ? 0 : IMS_FAULT_PERM));
		while (ims_iommu_fault_pending(r.mmu)) {
			struct ims_fault f = pop(&r);
			ck_assert_uint_eq(f.code, SMMU_EVT_F_PERMISSION);
		}
		rig_down(&r);
	}
}
END_TEST

START_TEST(blocks_translate_and_dirty)
{
	/* Every block size of every granule through the model: the offset
	 * inside the block, and a write dirties the block descriptor. */
	for (unsigned gi = 0; gi < 3; gi++) {
		unsigned g = GRANULES[gi];
		for (int L = 1; L <= 2; L++) {
			if (g != 12 && L == 2)
				continue;
			struct rig r;
			rig_up(&r, g, 48, true, true);
			unsigned bs = lshift(g, L);
			uint64_t iova = 3ull << bs, pa = 5ull << bs;
			uint64_t slot = chain(&r, L, iova, 0);
			put(&r, slot, page_desc(pa, false, SMMU_D_DBM | SMMU_D_AP2));
			struct ims_xlate x;
			uint64_t off = (1ull << bs) - 8;
			ck_assert_int_eq(access(&r, iova + off, IMS_ACC_W, &x), 0);
			ck_assert_uint_eq(x.pa, pa + off);
			ck_assert_uint_eq(x.leaf_shift, bs);
			ck_assert_uint_eq(get(&r, slot), page_desc(pa, false, SMMU_D_DBM));
			rig_down(&r);
		}
	}
}
END_TEST

START_TEST(iova_beyond_ias)
{
	struct rig r;
	rig_up(&r, 12, 39, false, false);
	struct ims_xlate x;
	ck_assert_int_eq(access(&r, 1ull << 39, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.code, SMMU_EVT_F_TRANSLATION);
	ck_assert_int_eq(access(&r, ~0ull & ~0xfffull, IMS_ACC_W, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.code, SMMU_EVT_F_TRANSLATION);
	rig_down(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smmu_walk");
	TCase *tc = tcase_create("smmu_walk");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, top_table_index_bits_walk);
	tcase_add_test(tc, access_flag_fault_outranks_permission);
	tcase_add_test(tc, af_zero_is_never_cached);
	tcase_add_test(tc, dbm_hd_dirty_state);
	tcase_add_test(tc, af_and_dirty_in_one_update);
	tcase_add_test(tc, group_update_policies);
	tcase_add_test(tc, aptable_and_privilege);
	tcase_add_test(tc, blocks_translate_and_dirty);
	tcase_add_test(tc, iova_beyond_ias);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
