/* The VT-d hardware-only rules, each with its own test at every level
 * (issue 23, item 8): SSADE gating of the A/D updates with ECAP.SSADS and
 * SMPWC ("3.7.2 Accessed and Dirty Flags", "3.10"), and CAP.SLLPS gating of
 * large leaves (formats.md: PS = 1 makes a 2 MiB / 1 GiB leaf only where
 * SLLPS advertises the size; otherwise PS is reserved, fault reason 0xC;
 * PS is always reserved above level 2 and ignored at level 0). Each rule is
 * driven through the format's own rules (vtd_hw_fmt) and through the
 * model's walk (ims_iommu_access). The conformance cases vtd-ssade-*-aw* and
 * vtd-sllps-* check the same rules from traces (tests/conformance/vtd.yaml).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"

#define ROOT 0x100000ull
#define DEV 0x21
#define TAG 6
#define RW (VTD_SL_R | VTD_SL_W)
#define FR_RESERVED 0xcu /* fault reason: reserved bit in a paging entry */

static const uint64_t CAPS[4] = {0, VTD_CAP_SLLPS_2M, VTD_CAP_SLLPS_1G,
				 VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G};

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	uint64_t next_table;
	unsigned ntab;
	uint64_t tab[8]; /* the table entries chain() wrote, top first */
};

/* PASID-table entry qword 0: P, AW for `levels`, PGTT second stage, root. */
static uint64_t pe0(unsigned levels, bool ssade)
{
	return VTD_PE0_P | ((uint64_t)(levels - 2) << VTD_PE0_AW_SHIFT) |
	       ((uint64_t)VTD_PGTT_SL << VTD_PE0_PGTT_SHIFT) | ROOT | (ssade ? VTD_PE0_SSADE : 0);
}

static void rig_cfg(struct rig *r, unsigned levels, bool ssade, const struct ims_iommu_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	uint64_t w[IMS_CTX_WORDS] = {pe0(levels, ssade), TAG};
	char err[200];
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_VTD, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	r->next_table = 0x200000ull;
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static unsigned lshift(int level) { return 12 + 9 * (unsigned)level; }
static uint64_t idx(int level, uint64_t iova) { return (iova >> lshift(level)) & 511; }
static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }

/* Table entries from the top down to the table of `leaf_level`; returns the
 * leaf slot of iova. */
static uint64_t chain(struct rig *r, unsigned levels, int leaf_level, uint64_t iova)
{
	uint64_t table = ROOT;
	r->ntab = 0;
	for (int l = (int)levels - 1; l > leaf_level; l--) {
		uint64_t slot = table + 8 * idx(l, iova);
		uint64_t next = r->next_table;
		r->next_table += 0x1000;
		put(r, slot, next | RW);
		r->tab[r->ntab++] = slot;
		table = next;
	}
	return table + 8 * idx(leaf_level, iova);
}

static uint64_t leaf_at(int level, uint64_t pa)
{
	return pa | RW | (level > 0 ? VTD_SL_PS : 0);
}

static void decode_ctx(uint64_t q0, const struct ims_iommu_cfg *cfg, struct hw_ctx *c, int want,
		       char *err, size_t len)
{
	uint64_t w[IMS_CTX_WORDS] = {q0, TAG};
	memset(c, 0, sizeof(*c));
	err[0] = 0;
	ck_assert_int_eq(vtd_hw_fmt.decode_ctx(w, cfg, c, err, len), want);
}

/* ---- SSADE gating ------------------------------------------------------------ */

START_TEST(ssade_decode_every_width)
{
	/* 3.7.2: SSADE enables A and D together and needs ECAP.SSADS; 3.10:
	 * and page-walk coherency (SMPWC). Non-leaf A (inferred) only with
	 * SSADE and the model option. */
	static const uint64_t ecaps[4] = {0, VTD_ECAP_SSADS, VTD_ECAP_SMPWC,
					  VTD_ECAP_SSADS | VTD_ECAP_SMPWC};
	for (unsigned e = 0; e < 4; e++)
		for (unsigned levels = 3; levels <= 5; levels++)
			for (int ssade = 0; ssade < 2; ssade++)
				for (int opt = 0; opt < 2; opt++) {
					struct ims_iommu_cfg cfg;
					ims_iommu_cfg_default(&cfg);
					cfg.vtd_ecap = ecaps[e];
					cfg.vtd_nonleaf_accessed = opt;
					bool ok = !ssade || e == 3;
					struct hw_ctx c;
					char err[200];
					decode_ctx(pe0(levels, ssade), &cfg, &c, ok ? 0 : -EINVAL, err,
						   sizeof(err));
					if (!ok) {
						ck_assert_ptr_nonnull(
							strstr(err, e & 1 ? "SMPWC" : "SSADS"));
						continue;
					}
					ck_assert_int_eq(c.ha, ssade);
					ck_assert_int_eq(c.hd, ssade);
					ck_assert_int_eq(c.nonleaf_a, ssade && opt);
					ck_assert_int_eq(c.top, (int)levels - 1);
				}
}
END_TEST

START_TEST(ssade_leaf_and_table_update)
{
	for (int ssade = 0; ssade < 2; ssade++)
		for (int opt = 0; opt < 2; opt++) {
			struct ims_iommu_cfg cfg;
			ims_iommu_cfg_default(&cfg);
			cfg.vtd_nonleaf_accessed = opt;
			struct hw_ctx c;
			char err[200];
			decode_ctx(pe0(4, ssade), &cfg, &c, 0, err, sizeof(err));
			static const unsigned accs[3] = {IMS_ACC_R, IMS_ACC_W, IMS_ACC_RW};
			for (unsigned a = 0; a < 3; a++)
				for (int level = 0; level <= 2; level++) {
					struct hw_upd u;
					memset(&u, 0, sizeof(u));
					vtd_hw_fmt.leaf_update(&c, leaf_at(level, 1ull << 30), accs[a], &u);
					ck_assert_uint_eq(u.a_set, ssade ? VTD_SL_A : 0);
					ck_assert_uint_eq(u.d_set,
							  ssade && (accs[a] & IMS_ACC_W) ? VTD_SL_D : 0);
					ck_assert_uint_eq(u.a_clear | u.d_clear, 0);
				}
			ck_assert_uint_eq(vtd_hw_fmt.table_update(&c, 0x200000ull | RW),
					  ssade && opt ? VTD_SL_A : 0);
		}
}
END_TEST

/* A leaf at `level` of a `levels`-level table, read then written. */
static void ssade_one(unsigned levels, int level, bool ssade, bool opt)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_nonleaf_accessed = opt;
	struct rig r;
	rig_cfg(&r, levels, ssade, &cfg);
	/* Index 1 at every level above the leaf, 7 at the leaf's. */
	uint64_t page = 7ull << lshift(level);
	for (int l = (int)levels - 1; l > level; l--)
		page |= 1ull << lshift(l);
	uint64_t pa = 1ull << 40;
	uint64_t slot = chain(&r, levels, level, page);
	uint64_t leaf = leaf_at(level, pa);
	put(&r, slot, leaf);
	uint64_t off = (1ull << lshift(level)) - 0x10;
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + off, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, pa + off);
	ck_assert_uint_eq(x.leaf_shift, lshift(level));
	ck_assert_int_eq(x.accessed, ssade);
	ck_assert(!x.dirtied);
	ck_assert_uint_eq(get(&r, slot), leaf | (ssade ? VTD_SL_A : 0));
	for (unsigned t = 0; t < r.ntab; t++) {
		uint64_t v = get(&r, r.tab[t]);
		ck_assert_msg(!!(v & VTD_SL_A) == (ssade && opt),
			      "levels %u leaf %d ssade %d opt %d: table entry %u 0x%llx", levels, level,
			      ssade, opt, t, (unsigned long long)v);
		ck_assert(!(v & VTD_SL_D));
	}
	put(&r, slot, leaf);
	for (unsigned t = 0; t < r.ntab; t++)
		put(&r, r.tab[t], get(&r, r.tab[t]) & ~VTD_SL_A);
	ims_iommu_inv_domain(r.mmu, TAG);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page, IMS_ACC_W, &x), 0);
	ck_assert_int_eq(x.dirtied, ssade);
	ck_assert_uint_eq(get(&r, slot), leaf | (ssade ? VTD_SL_A | VTD_SL_D : 0));
	for (unsigned t = 0; t < r.ntab; t++) {
		uint64_t v = get(&r, r.tab[t]);
		ck_assert_int_eq(!!(v & VTD_SL_A), ssade && opt);
		ck_assert(!(v & VTD_SL_D));
	}
	ck_assert_int_eq(ims_oracle_test(ims_iommu_oracle(r.mmu), TAG, page + off), ssade);
	ck_assert_int_eq(ims_iommu_ctx_dirty_enabled(r.mmu, TAG), ssade);
	rig_down(&r);
}

START_TEST(ssade_gates_every_level)
{
	/* 4K, 2M and 1G leaves in 3-, 4- and 5-level tables, SSADE off and
	 * on, the non-leaf A option off and on. */
	for (unsigned levels = 3; levels <= 5; levels++)
		for (int level = 0; level <= 2; level++)
			for (int ssade = 0; ssade < 2; ssade++)
				for (int opt = 0; opt < 2; opt++)
					ssade_one(levels, level, ssade, opt);
}
END_TEST

START_TEST(ssade_toggled_in_the_pasid_entry)
{
	/* Software flips SSADE in memory; hardware follows after the
	 * PASID-cache invalidation (and the IOTLB flush), at a 1G leaf. */
	struct rig r;
	rig_cfg(&r, 4, false, NULL);
	uint64_t page = 3ull << 30;
	uint64_t slot = chain(&r, 4, 2, page);
	uint64_t leaf = leaf_at(2, 1ull << 40);
	put(&r, slot, leaf);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_ctx_update(r.mmu, TAG, 0, 0, VTD_PE0_SSADE), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(get(&r, slot), leaf); /* the cached PASID entry still rules */
	for (int on = 1; on >= 0; on--) {
		ck_assert_int_eq(ims_iommu_ctx_update(r.mmu, TAG, 0, VTD_PE0_SSADE,
						      on ? VTD_PE0_SSADE : 0), 0);
		ck_assert_int_eq(ims_iommu_ctx_invalidate(r.mmu, TAG), 0);
		ims_iommu_inv_domain(r.mmu, TAG);
		put(&r, slot, leaf);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + 0x1000, IMS_ACC_W, &x), 0);
		ck_assert_uint_eq(get(&r, slot), leaf | (on ? VTD_SL_A | VTD_SL_D : 0));
		ck_assert_int_eq(x.dirtied, on);
		ck_assert_int_eq(ims_iommu_ctx_dirty_enabled(r.mmu, TAG), on);
	}
	rig_down(&r);
}
END_TEST

START_TEST(ssads_refusal_every_width)
{
	/* Without ECAP.SSADS no SSADE context is installed (the device's
	 * accesses then fault); one without SSADE works and writes nothing,
	 * even with the non-leaf option on. */
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_ecap &= ~VTD_ECAP_SSADS;
	cfg.vtd_nonleaf_accessed = true;
	for (unsigned levels = 3; levels <= 5; levels++) {
		struct ims_mem *mem = ims_mem_new();
		struct ims_iommu *mmu;
		ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
		uint64_t w[IMS_CTX_WORDS] = {pe0(levels, true), TAG};
		char err[200];
		ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_VTD, w, err, sizeof(err)), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "SSADS"));
		ck_assert(!ims_iommu_ctx_dirty_enabled(mmu, TAG));
		ims_iommu_free(mmu);
		ims_mem_free(mem);
		for (int level = 0; level <= 2; level++) {
			struct rig r;
			rig_cfg(&r, levels, false, &cfg);
			uint64_t page = 5ull << lshift(level);
			uint64_t slot = chain(&r, levels, level, page);
			put(&r, slot, leaf_at(level, 1ull << 40));
			ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page, IMS_ACC_W, NULL), 0);
			ck_assert_uint_eq(get(&r, slot), leaf_at(level, 1ull << 40));
			for (unsigned t = 0; t < r.ntab; t++)
				ck_assert(!(get(&r, r.tab[t]) & VTD_SL_A));
			rig_down(&r);
		}
	}
}
END_TEST

/* ---- CAP.SLLPS gating ------------------------------------------------------ */

START_TEST(sllps_decode_every_level)
{
	/* A PS = 1 entry at each level of a 5-level table under each SLLPS
	 * value: a leaf at level 1 only with 2M, at level 2 only with 1G,
	 * never at 3 or 4 (reason 0xC); PS ignored at level 0; PS = 0 a table
	 * whatever SLLPS says. */
	for (unsigned k = 0; k < 4; k++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.vtd_cap = CAPS[k];
		struct hw_ctx c;
		char err[200];
		decode_ctx(pe0(5, true), &cfg, &c, 0, err, sizeof(err));
		for (int level = 0; level <= 4; level++) {
			uint64_t pa = 1ull << 45; /* aligned to every leaf size */
			struct hw_ent e;
			for (unsigned a = 0; a < 2; a++) {
				unsigned acc = a ? IMS_ACC_W : IMS_ACC_R;
				memset(&e, 0, sizeof(e));
				vtd_hw_fmt.decode(&c, level, pa | RW | VTD_SL_PS, acc, &e);
				bool leaf = level == 0 || (level == 1 && (CAPS[k] & VTD_CAP_SLLPS_2M)) ||
					    (level == 2 && (CAPS[k] & VTD_CAP_SLLPS_1G));
				ck_assert_msg(e.kind == (leaf ? HWE_LEAF : HWE_RESERVED),
					      "caps %u level %d: kind %d", k, level, e.kind);
				if (leaf) {
					ck_assert_uint_eq(e.page_shift, lshift(level));
					ck_assert_uint_eq(e.addr, pa);
				} else {
					ck_assert_uint_eq(e.code, FR_RESERVED);
				}
			}
			if (level > 0) {
				memset(&e, 0, sizeof(e));
				vtd_hw_fmt.decode(&c, level, 0x200000ull | RW, IMS_ACC_R, &e);
				ck_assert_int_eq(e.kind, HWE_TABLE);
				ck_assert_int_eq(e.next, level - 1);
			}
		}
	}
}
END_TEST

/* A PS = 1 entry at `level` of a `levels`-level table with SLLPS = caps,
 * reached by a read and a write, SSADE on. */
static void sllps_one(unsigned levels, int level, uint64_t caps)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_cap = caps;
	struct rig r;
	rig_cfg(&r, levels, true, &cfg);
	uint64_t page = 2ull << lshift(level);
	uint64_t slot = chain(&r, levels, level, page);
	uint64_t pa = 1ull << 48;
	uint64_t ent = pa | RW | VTD_SL_PS;
	put(&r, slot, ent);
	bool leaf = (level == 1 && (caps & VTD_CAP_SLLPS_2M)) ||
		    (level == 2 && (caps & VTD_CAP_SLLPS_1G));
	uint64_t off = (1ull << lshift(level)) - 0x20;
	static const unsigned accs[2] = {IMS_ACC_R, IMS_ACC_W};
	for (unsigned a = 0; a < 2; a++) {
		struct ims_xlate x;
		int rc = ims_iommu_access(r.mmu, DEV, page + off, accs[a], &x);
		if (leaf) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(x.pa, pa + off);
			ck_assert_uint_eq(x.leaf_shift, lshift(level));
			continue;
		}
		ck_assert_msg(rc == IMS_FAULT_NOTPRESENT, "levels %u level %d caps 0x%llx: rc %d",
			      levels, level, (unsigned long long)caps, rc);
		ck_assert_uint_eq(x.code, FR_RESERVED);
		struct ims_fault f;
		ck_assert(ims_iommu_fault_pop(r.mmu, &f));
		ck_assert(f.has_level);
		ck_assert_int_eq(f.level, level);
		ck_assert_uint_eq(f.code, FR_RESERVED);
		/* The reserved entry is not written; the tables read above it
		 * get A (3.7.2, SSADE with the default non-leaf option). */
		ck_assert_uint_eq(get(&r, slot), ent);
		for (unsigned t = 0; t < r.ntab; t++)
			ck_assert(get(&r, r.tab[t]) & VTD_SL_A);
	}
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	if (leaf) {
		ck_assert_uint_eq(get(&r, slot), ent | VTD_SL_A | VTD_SL_D);
	} else {
		/* The same level as a table (PS = 0) walks whatever SLLPS says. */
		uint64_t below = r.next_table;
		put(&r, slot, below | RW);
		for (int l = level - 1; l > 0; l--) {
			uint64_t next = below + 0x1000;
			put(&r, below + 8 * idx(l, page + off), next | RW);
			below = next;
		}
		put(&r, below + 8 * idx(0, page + off), 0x5000000ull | RW);
		ims_iommu_inv_domain(r.mmu, TAG);
		struct ims_xlate x;
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + off, IMS_ACC_R, &x), 0);
		ck_assert_uint_eq(x.pa, 0x5000000ull + ((page + off) & 0xfff));
	}
	rig_down(&r);
}

START_TEST(sllps_gates_every_level)
{
	/* PS = 1 at every level above 0 of 3-, 4- and 5-level tables, under
	 * every SLLPS value. */
	for (unsigned levels = 3; levels <= 5; levels++)
		for (int level = 1; level < (int)levels; level++)
			for (unsigned k = 0; k < 4; k++)
				sllps_one(levels, level, CAPS[k]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw_rules_vtd");
	TCase *ssade = tcase_create("ssade");
	tcase_set_timeout(ssade, 120);
	tcase_add_test(ssade, ssade_decode_every_width);
	tcase_add_test(ssade, ssade_leaf_and_table_update);
	tcase_add_test(ssade, ssade_gates_every_level);
	tcase_add_test(ssade, ssade_toggled_in_the_pasid_entry);
	tcase_add_test(ssade, ssads_refusal_every_width);
	suite_add_tcase(s, ssade);
	TCase *sllps = tcase_create("sllps");
	tcase_set_timeout(sllps, 120);
	tcase_add_test(sllps, sllps_decode_every_level);
	tcase_add_test(sllps, sllps_gates_every_level);
	suite_add_tcase(s, sllps);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
