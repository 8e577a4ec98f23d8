/* The AMD v1 hardware-only rules, each with its own test at every level
 * (issue 23, item 8): DTE.HAD gating of the A/D updates with EFR.HASup /
 * HDSup ("2.2.2", "2.2.7.4"), and the level-skip IOVA check ("2.2.3
 * NextLevel": a PDE whose NextLevel skips levels translates only IOVAs whose
 * bits of the skipped levels are zero). Each rule is driven twice: through
 * the format's own hardware rules (amd_hw_fmt) and through the model's walk
 * (ims_iommu_access), so that a mistake in either shows. The conformance
 * cases amd-had-*-every-level and amd-level-skip-* check the same rules from
 * traces (tests/conformance/amdv1.yaml).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "iommusim/oracle.h"

#define ROOT 0x100000ull
#define DEV 7
#define TAG 3
#define EFR_HATS6 (2ull << AMD_EFR_HATS_SHIFT) /* HATS = 2: up to 6 levels */
#define RW (AMD_PTE_IR | AMD_PTE_IW)

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	uint64_t next_table;
	unsigned npde;
	uint64_t pde[8]; /* the PDEs chain() wrote, top first */
};

static uint64_t dte(unsigned mode, unsigned had)
{
	return AMD_DTE_V | AMD_DTE_TV | ((uint64_t)had << AMD_DTE_HAD_SHIFT) |
	       ((uint64_t)mode << AMD_DTE_MODE_SHIFT) | ROOT | AMD_DTE_IR | AMD_DTE_IW;
}

static void rig_cfg(struct rig *r, unsigned mode, unsigned had, const struct ims_iommu_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	uint64_t w[IMS_CTX_WORDS] = {dte(mode, had), TAG};
	char err[160];
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_AMDV1, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	r->next_table = 0x200000ull;
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static unsigned lshift(int level) { return 12 + 9 * (unsigned)level; }

static uint64_t idx(int level, uint64_t iova)
{
	unsigned sh = lshift(level);
	return sh >= 64 ? 0 : (iova >> sh) & 511;
}

static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }

static uint64_t new_table(struct rig *r)
{
	uint64_t t = r->next_table;
	r->next_table += 0x1000;
	return t;
}

/* PDEs (NextLevel = level - 1, no skip) from the top table of a `mode`-level
 * tree down to the table of `leaf_level`; returns the leaf slot of iova. */
static uint64_t chain(struct rig *r, unsigned mode, int leaf_level, uint64_t iova)
{
	uint64_t table = ROOT;
	r->npde = 0;
	for (int l = (int)mode - 1; l > leaf_level; l--) {
		uint64_t slot = table + 8 * idx(l, iova);
		uint64_t next = new_table(r);
		put(r, slot, AMD_PTE_PR | RW | ((uint64_t)l << AMD_PTE_NL_SHIFT) | next);
		r->pde[r->npde++] = slot;
		table = next;
	}
	return table + 8 * idx(leaf_level, iova);
}

/* ---- DTE.HAD gating, through the format's rules ------------------------------ */

START_TEST(had_efr_decode_every_mode)
{
	/* 2.2.2: HAD 00 none, 01 A, 11 A + D, 10 reserved; 01 and 11 need
	 * EFR.HASup, 11 also EFR.HDSup. The Mode does not matter. */
	static const uint64_t efrs[4] = {0, AMD_EFR_HASUP, AMD_EFR_HDSUP,
					 AMD_EFR_HASUP | AMD_EFR_HDSUP};
	for (unsigned e = 0; e < 4; e++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.amd_efr = efrs[e] | EFR_HATS6;
		bool hasup = efrs[e] & AMD_EFR_HASUP, hdsup = efrs[e] & AMD_EFR_HDSUP;
		for (unsigned mode = 1; mode <= 6; mode++) {
			for (unsigned had = 0; had < 4; had++) {
				bool ok = had == AMD_HAD_NONE || (had == AMD_HAD_A && hasup) ||
					  (had == AMD_HAD_AD && hasup && hdsup);
				uint64_t w[IMS_CTX_WORDS] = {dte(mode, had), TAG};
				struct hw_ctx c;
				memset(&c, 0, sizeof(c));
				char err[160] = "";
				int rc = amd_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err));
				ck_assert_msg(rc == (ok ? 0 : -EINVAL), "efr %u mode %u had %u: rc %d",
					      e, mode, had, rc);
				if (!ok) {
					ck_assert_msg(strstr(err, had == AMD_HAD_RSVD ? "HAD 10b"
								: had == AMD_HAD_A || !hasup
									? "HASup"
									: "HDSup"),
						      "efr %u had %u: %s", e, had, err);
					continue;
				}
				ck_assert_int_eq(c.ha, had != AMD_HAD_NONE);
				ck_assert_int_eq(c.hd, had == AMD_HAD_AD);
				ck_assert_int_eq(c.nonleaf_a, false); /* the PDE option is off */
			}
		}
	}
}
END_TEST

START_TEST(had_leaf_and_table_update)
{
	/* 2.2.7.4: A on every access that completes translation, D on a
	 * permitted write, each only as far as HAD allows; PDE A only with the
	 * model option and A enabled. */
	for (unsigned had = 0; had < 4; had++) {
		if (had == AMD_HAD_RSVD)
			continue;
		for (int opt = 0; opt < 2; opt++) {
			struct ims_iommu_cfg cfg;
			ims_iommu_cfg_default(&cfg);
			cfg.amd_pde_accessed = opt;
			uint64_t w[IMS_CTX_WORDS] = {dte(4, had), TAG};
			struct hw_ctx c;
			memset(&c, 0, sizeof(c));
			ck_assert_int_eq(amd_hw_fmt.decode_ctx(w, &cfg, &c, NULL, 0), 0);
			bool ha = had != AMD_HAD_NONE, hd = had == AMD_HAD_AD;
			static const unsigned accs[3] = {IMS_ACC_R, IMS_ACC_W, IMS_ACC_RW};
			for (unsigned a = 0; a < 3; a++) {
				struct hw_upd u;
				memset(&u, 0, sizeof(u));
				uint64_t leaf = AMD_PTE_PR | RW | 0x80000000ull;
				amd_hw_fmt.leaf_update(&c, leaf, accs[a], &u);
				ck_assert_uint_eq(u.a_set, ha ? AMD_PTE_A : 0);
				ck_assert_uint_eq(u.d_set, hd && (accs[a] & IMS_ACC_W) ? AMD_PTE_D : 0);
				ck_assert_uint_eq(u.a_clear | u.d_clear, 0);
			}
			uint64_t pde = AMD_PTE_PR | RW | (1ull << AMD_PTE_NL_SHIFT) | 0x200000ull;
			ck_assert_uint_eq(amd_hw_fmt.table_update(&c, pde), ha && opt ? AMD_PTE_A : 0);
		}
	}
}
END_TEST

/* ---- DTE.HAD gating, through the model at every level ------------------------ */

/* One leaf of 2^n bytes at `level` (n = the level's size: a NextLevel 0
 * leaf; larger: a NextLevel 7 page of 2^(n - lshift) replicas), accessed
 * in its last replica, read then write, with HAD = had. */
static void had_one_leaf(unsigned had, bool pde_opt, int level, unsigned n)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.amd_pde_accessed = pde_opt;
	struct rig r;
	rig_cfg(&r, 6, had, &cfg);
	bool ha = had != AMD_HAD_NONE, hd = had == AMD_HAD_AD;
	unsigned es = lshift(level), reps = 1u << (n - es);
	/* Top index 1, index 8 at the leaf level (aligned for every run). */
	uint64_t page = (1ull << 57) | (8ull << es);
	uint64_t pa = 1ull << 51; /* aligned to every size used here */
	uint64_t first = chain(&r, 6, level, page);
	uint64_t leaf = AMD_PTE_PR | RW | (n == es ? pa : (7ull << AMD_PTE_NL_SHIFT) | amd_size_encode(pa, n));
	for (unsigned i = 0; i < reps; i++)
		put(&r, first + 8 * i, leaf);
	uint64_t off = (1ull << n) - 0x1000 + 0x10; /* in the last replica */
	uint64_t covering = first + 8 * (reps - 1);
	struct ims_xlate x;

	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + off, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, pa + off);
	ck_assert_uint_eq(x.leaf_shift, n);
	ck_assert_int_eq(x.accessed, ha);
	ck_assert(!x.dirtied);
	ck_assert_uint_eq(get(&r, covering), leaf | (ha ? AMD_PTE_A : 0));
	for (unsigned i = 0; i + 1 < reps; i++)
		ck_assert_uint_eq(get(&r, first + 8 * i), leaf);
	for (unsigned p = 0; p < r.npde; p++) {
		uint64_t v = get(&r, r.pde[p]);
		ck_assert_msg(!!(v & AMD_PTE_A) == (ha && pde_opt), "had %u level %d: PDE %u 0x%llx",
			      had, level, p, (unsigned long long)v);
		ck_assert(!(v & AMD_PTE_D));
	}

	/* A write from a clean start, walked again (nothing cached). */
	for (unsigned i = 0; i < reps; i++)
		put(&r, first + 8 * i, leaf);
	ims_iommu_inv_domain(r.mmu, TAG);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + off, IMS_ACC_W, &x), 0);
	ck_assert_int_eq(x.dirtied, hd);
	ck_assert_uint_eq(get(&r, covering), leaf | (ha ? AMD_PTE_A : 0) | (hd ? AMD_PTE_D : 0));
	for (unsigned i = 0; i + 1 < reps; i++)
		ck_assert_uint_eq(get(&r, first + 8 * i), leaf);
	for (unsigned p = 0; p < r.npde; p++)
		ck_assert(!(get(&r, r.pde[p]) & AMD_PTE_D));
	/* The oracle records writes only while dirty updates are on. */
	struct ims_oracle *o = ims_iommu_oracle(r.mmu);
	ck_assert_int_eq(ims_oracle_test(o, TAG, page), hd);
	ck_assert_int_eq(ims_oracle_test(o, TAG, page + off), hd);
	rig_down(&r);
}

START_TEST(had_gates_every_level_and_size)
{
	/* Default-size leaves at levels 0..4 (4K .. 256T) and NextLevel 7
	 * pages of 2 and 8 replicas at each level, under HAD 00, 01 and 11,
	 * with the PDE option off and on. */
	static const unsigned hads[3] = {AMD_HAD_NONE, AMD_HAD_A, AMD_HAD_AD};
	for (unsigned h = 0; h < 3; h++)
		for (int opt = 0; opt < 2; opt++)
			for (int level = 0; level <= 4; level++) {
				unsigned es = lshift(level);
				had_one_leaf(hads[h], opt, level, es);
				had_one_leaf(hads[h], opt, level, es + 1);
				had_one_leaf(hads[h], opt, level, es + 3);
			}
}
END_TEST

START_TEST(efr_refusal_leaves_no_context)
{
	/* A DTE the EFR refuses is not installed: the device's accesses
	 * fault and nothing is written. Without HDSup, HAD 01 still sets A
	 * (and never D) at every level. */
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.amd_efr = AMD_EFR_HASUP | EFR_HATS6;
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	uint64_t w[IMS_CTX_WORDS] = {dte(3, AMD_HAD_AD), TAG};
	char err[160];
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "HDSup"));
	ck_assert(!ims_iommu_ctx_dirty_enabled(mmu, TAG));
	ims_iommu_free(mmu);
	ims_mem_free(mem);

	for (int level = 0; level <= 4; level++) {
		struct rig r;
		rig_cfg(&r, 6, AMD_HAD_A, &cfg);
		uint64_t page = 5ull << lshift(level);
		uint64_t slot = chain(&r, 6, level, page);
		uint64_t leaf = AMD_PTE_PR | RW | (1ull << 51);
		put(&r, slot, leaf);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + 8, IMS_ACC_W, NULL), 0);
		ck_assert_uint_eq(get(&r, slot), leaf | AMD_PTE_A);
		ck_assert(!ims_iommu_ctx_dirty_enabled(r.mmu, TAG));
		rig_down(&r);
	}

	cfg.amd_efr = AMD_EFR_HDSUP | EFR_HATS6;
	mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	for (unsigned had = AMD_HAD_A; had <= AMD_HAD_AD; had += 2) {
		w[0] = dte(3, had);
		ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_AMDV1, w, err, sizeof(err)),
				 -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "HASup"));
	}
	w[0] = dte(3, AMD_HAD_NONE);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_AMDV1, w, err, sizeof(err)), 0);
	ims_iommu_free(mmu);
	ims_mem_free(mem);
}
END_TEST

START_TEST(had_toggled_in_the_dte)
{
	/* Software changes HAD in memory; hardware follows after the DTE
	 * invalidation (and the IOTLB flush), at a 2M leaf. */
	struct rig r;
	rig_cfg(&r, 4, AMD_HAD_AD, NULL);
	uint64_t page = 3ull << 21;
	uint64_t slot = chain(&r, 4, 1, page);
	uint64_t leaf = AMD_PTE_PR | RW | 0x40000000ull;
	put(&r, slot, leaf);
	uint64_t A = AMD_PTE_A, D = AMD_PTE_D;
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(get(&r, slot), leaf | A | D);
	/* HAD 00 in memory only: the decoded DTE still updates. */
	ck_assert_int_eq(ims_iommu_ctx_update(r.mmu, TAG, 0, AMD_DTE_HAD_MASK, 0), 0);
	put(&r, slot, leaf);
	ims_iommu_inv_domain(r.mmu, TAG);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(get(&r, slot), leaf | A | D);
	/* Invalidated: HAD 00 rules, no update at all. */
	static const struct {
		unsigned had;
		uint64_t want;
	} steps[3] = {{AMD_HAD_NONE, 0}, {AMD_HAD_A, AMD_PTE_A}, {AMD_HAD_AD, AMD_PTE_A | AMD_PTE_D}};
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(ims_iommu_ctx_update(r.mmu, TAG, 0, AMD_DTE_HAD_MASK,
						      (uint64_t)steps[i].had << AMD_DTE_HAD_SHIFT), 0);
		ck_assert_int_eq(ims_iommu_ctx_invalidate(r.mmu, TAG), 0);
		ims_iommu_inv_domain(r.mmu, TAG);
		put(&r, slot, leaf);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + 0x1000 * i, IMS_ACC_W, &x), 0);
		ck_assert_uint_eq(get(&r, slot), leaf | steps[i].want);
		ck_assert_int_eq(x.dirtied, steps[i].had == AMD_HAD_AD);
		ck_assert_int_eq(ims_iommu_ctx_dirty_enabled(r.mmu, TAG), steps[i].had == AMD_HAD_AD);
	}
	rig_down(&r);
}
END_TEST

/* ---- level skip -------------------------------------------------------------- */

/* A mode-6 tree whose PDE at level `from` names the table of level `to`
 * (NextLevel = to + 1, skipping the levels between), a 4 KiB leaf below
 * (at level `to` if 0, else through plain PDEs down to level 0). Every IOVA
 * with a bit set in a skipped level's index faults; clear ones translate.
 * Without the check the bad IOVAs would reach the same leaf: the walk
 * ignores the skipped bits. */
static void skip_one(int from, int to, unsigned acc, bool walk_cache)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	if (!walk_cache)
		cfg.wc_disable = true;
	struct rig r;
	rig_cfg(&r, 6, AMD_HAD_AD, &cfg);
	/* Index 1 at the levels above `from`, 2 at `from`, 3 at and below `to`. */
	uint64_t iova = 0;
	for (int l = 5; l > from; l--)
		iova |= 1ull << lshift(l);
	iova |= 2ull << lshift(from);
	for (int l = to; l >= 0; l--)
		iova |= 3ull << lshift(l);
	iova |= 0x10;
	uint64_t slot = chain(&r, 6, from, iova);
	uint64_t table = new_table(&r), to_table = table;
	uint64_t skip_pde = AMD_PTE_PR | RW | ((uint64_t)(to + 1) << AMD_PTE_NL_SHIFT) | table;
	put(&r, slot, skip_pde);
	for (int l = to; l > 0; l--) {
		uint64_t next = new_table(&r);
		put(&r, table + 8 * idx(l, iova), AMD_PTE_PR | RW | ((uint64_t)l << AMD_PTE_NL_SHIFT) | next);
		table = next;
	}
	uint64_t leaf_slot = table + 8 * idx(0, iova);
	uint64_t pa = 0x7654321000ull;
	uint64_t leaf = AMD_PTE_PR | RW | pa;
	put(&r, leaf_slot, leaf);

	/* The direct rule: the PDE decodes as a table of level `to`, and the
	 * condition's code says the entry was present (PR), a write (RW). */
	struct hw_ctx c;
	memset(&c, 0, sizeof(c));
	uint64_t w[IMS_CTX_WORDS] = {dte(6, AMD_HAD_AD), TAG};
	ck_assert_int_eq(amd_hw_fmt.decode_ctx(w, &cfg, &c, NULL, 0), 0);
	struct hw_ent e;
	memset(&e, 0, sizeof(e));
	amd_hw_fmt.decode(&c, from, skip_pde, acc, &e);
	ck_assert_int_eq(e.kind, HWE_TABLE);
	ck_assert_int_eq(e.next, to);
	ck_assert_uint_eq(e.addr, to_table);
	uint32_t want = AMD_EV_PR | ((acc & IMS_ACC_W) ? AMD_EV_RW : 0);
	ck_assert_uint_eq(amd_hw_fmt.cond_code(&c, COND_SKIP, acc & IMS_ACC_W), want);

	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova, acc, &x), 0);
	ck_assert_uint_eq(x.pa, pa + 0x10);
	uint64_t good = get(&r, leaf_slot);
	/* Each skipped level's lowest and highest index bit. */
	for (int s = to + 1; s < from; s++) {
		unsigned bits[2] = {lshift(s), lshift(s) + 8};
		for (unsigned b = 0; b < 2; b++) {
			uint64_t bad = iova | (1ull << bits[b]);
			int rc = ims_iommu_access(r.mmu, DEV, bad, acc, &x);
			ck_assert_msg(rc == IMS_FAULT_NOTPRESENT,
				      "skip %d -> %d, bit %u of level %d: rc %d (pa 0x%llx)", from, to,
				      bits[b], s, rc, (unsigned long long)x.pa);
			ck_assert_uint_eq(x.code, want);
			struct ims_fault f;
			ck_assert(ims_iommu_fault_pop(r.mmu, &f));
			ck_assert_uint_eq(f.iova, bad);
			ck_assert(f.has_level);
			ck_assert_int_eq(f.level, from);
			ck_assert_uint_eq(f.code, want);
		}
	}
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	/* A faulting access updates nothing; the good one still translates. */
	ck_assert_uint_eq(get(&r, leaf_slot), good);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova ^ 0x10, acc, &x), 0);
	ck_assert_uint_eq(x.pa, pa);
	rig_down(&r);
}

START_TEST(level_skip_every_pair)
{
	/* Every PDE level 2..5 skipping to every level at least two below,
	 * reads and writes, with and without walk caches. */
	for (int from = 2; from <= 5; from++)
		for (int to = 0; to < from - 1; to++)
			for (int wc = 0; wc < 2; wc++) {
				skip_one(from, to, IMS_ACC_R, wc);
				skip_one(from, to, IMS_ACC_W, wc);
			}
}
END_TEST

START_TEST(level_skip_to_large_leaf)
{
	/* A skip that lands on a level holding a 2M (level 1) or 1G (level
	 * 2) leaf: the leaf's own offset bits are free, the skipped ones not. */
	for (int to = 1; to <= 2; to++) {
		struct rig r;
		rig_cfg(&r, 5, AMD_HAD_AD, NULL);
		int from = 4;
		uint64_t page = (1ull << lshift(from)) | (5ull << lshift(to));
		uint64_t table = new_table(&r);
		put(&r, ROOT + 8 * idx(from, page),
		    AMD_PTE_PR | RW | ((uint64_t)(to + 1) << AMD_PTE_NL_SHIFT) | table);
		uint64_t pa = 1ull << 40;
		put(&r, table + 8 * idx(to, page), AMD_PTE_PR | RW | pa);
		struct ims_xlate x;
		uint64_t off = (1ull << lshift(to)) - 8;
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, page + off, IMS_ACC_W, &x), 0);
		ck_assert_uint_eq(x.pa, pa + off);
		ck_assert_uint_eq(x.leaf_shift, lshift(to));
		for (int s = to + 1; s < from; s++) {
			uint64_t bad = page | (1ull << (lshift(s) + 4));
			ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, bad, IMS_ACC_R, &x),
					 IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(x.code, AMD_EV_PR);
		}
		rig_down(&r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw_rules_amd");
	TCase *had = tcase_create("had");
	tcase_set_timeout(had, 120);
	tcase_add_test(had, had_efr_decode_every_mode);
	tcase_add_test(had, had_leaf_and_table_update);
	tcase_add_test(had, had_gates_every_level_and_size);
	tcase_add_test(had, efr_refusal_leaves_no_context);
	tcase_add_test(had, had_toggled_in_the_dte);
	suite_add_tcase(s, had);
	TCase *skip = tcase_create("level_skip");
	tcase_set_timeout(skip, 120);
	tcase_add_test(skip, level_skip_every_pair);
	tcase_add_test(skip, level_skip_to_large_leaf);
	suite_add_tcase(s, skip);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
