/* The Arm SMMUv3 stage-1 hardware-only rules, each with its own test at
 * every leaf level of every granule (issue 23, item 8):
 * - the access flag (Arm ARM D8.5.1): AF = 0 with CD.HA off and CD.AFFD = 0
 *   is an Access flag fault, which outranks a permission fault; with HA the
 *   hardware sets AF instead; AFFD = 1 makes AF read as 1;
 * - the contiguous-group update rule (D8.5.5): an update touches one entry
 *   of the group, and leaves out the access flag (the dirty state) when any
 *   entry of the group already has it, the two judged apart;
 * - where blocks exist (D8.3): 64K blocks at Arm level 1 only with a 52-bit
 *   SMMU_IDR5.OAS.
 * Each rule is driven through the format's own rules (smmu_hw_fmt) and
 * through the model's walk (ims_iommu_access), for pages and blocks. The
 * conformance cases smmu-af-*, smmu-ha-* and smmu-contig-* check the same
 * rules from traces (tests/conformance/smmuv3.yaml).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amd/amd.h"
#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "smmuv3/smmu.h"
#include "smmuv3/smmu_codec.h"
#include "vtd/vtd.h"

#include "smmu_test.h"

#define BIG_PA (1ull << 40) /* aligned to every leaf and group used here */
#define CLEAN (SMMU_D_DBM | SMMU_D_AP2) /* writable-clean (D8.5.2) */

/* A leaf position: granule, input size, our level (0 = pages). */
struct pos {
	unsigned g, ias;
	int level;
};

/* Every level that holds leaves (D8.3): pages, blocks, and the FEAT_LPA2
 * (DS, ias 52) blocks of 512G (4K) and 64G (16K). */
static const struct pos LEAVES[] = {
	{12, 48, 0}, {12, 48, 1}, {12, 48, 2}, {12, 52, 3}, {14, 48, 0},
	{14, 48, 1}, {14, 52, 2}, {16, 48, 0}, {16, 48, 1},
};
#define NLEAVES (sizeof(LEAVES) / sizeof(LEAVES[0]))

/* Every level where the Contiguous bit makes groups (D8, "The Contiguous
 * bit"): 4K 16 entries at levels 0-2; 16K 128 at 0, 32 at 1; 64K 32 at 0, 1. */
static const struct pos GROUPS[] = {
	{12, 48, 0}, {12, 48, 1}, {12, 48, 2}, {14, 48, 0}, {14, 48, 1}, {16, 48, 0}, {16, 48, 1},
};
#define NGROUPS (sizeof(GROUPS) / sizeof(GROUPS[0]))

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	unsigned g, ias;
	uint64_t next_table;
};

/* A raw CD with ha/hd and extra CD word-0 bits (AFFD). */
static void rig_cfg(struct rig *r, const struct pos *p, bool ha, bool hd, uint64_t cd0,
		    const struct ims_iommu_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->g = p->g;
	r->ias = p->ias;
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	struct ims_ctx_params cp = {.tag = TAG, .root = ROOT, .granule_shift = p->g, .ias = p->ias,
				    .ha = ha, .hd = hd};
	uint64_t w[IMS_CTX_WORDS];
	char err[160];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &cp, w, err, sizeof(err)), 0);
	w[0] |= cd0;
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_SMMUV3, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	r->next_table = 0x10000000ull;
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

/* The decoded CD of position p, for the direct calls. */
static void hw_ctx_of(const struct pos *p, bool ha, bool hd, uint64_t cd0,
		      const struct ims_iommu_cfg *cfg, struct hw_ctx *c)
{
	struct ims_ctx_params cp = {.tag = TAG, .root = ROOT, .granule_shift = p->g, .ias = p->ias,
				    .ha = ha, .hd = hd};
	uint64_t w[IMS_CTX_WORDS];
	char err[160];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &cp, w, err, sizeof(err)), 0);
	w[0] |= cd0;
	struct ims_iommu_cfg def;
	if (!cfg) {
		ims_iommu_cfg_default(&def);
		cfg = &def;
	}
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, cfg, c, err, sizeof(err)), 0);
	c->ops = &smmu_hw_fmt;
	hw_ctx_index_init(c);
}

static uint64_t index_at(const struct rig *r, int level, uint64_t iova)
{
	int top = formula_top(r->g, r->ias);
	unsigned sh = lshift(r->g, level);
	unsigned bits = level == top ? r->ias - sh : stride(r->g);
	return (iova >> sh) & ((1ull << bits) - 1);
}

/* Table descriptors from the top down to `leaf_level` for iova; returns
 * the leaf slot. */
static uint64_t chain(struct rig *r, int leaf_level, uint64_t iova)
{
	int top = formula_top(r->g, r->ias);
	uint64_t table = ROOT;
	for (int l = top; l > leaf_level; l--) {
		uint64_t slot = table + 8 * index_at(r, l, iova);
		uint64_t cur = ims_mem_load(r->mem, IMS_AGENT_HW, slot);
		uint64_t next;
		if (cur & 1) {
			next = cur & SMMU_D_OA48_MASK;
		} else {
			next = r->next_table;
			r->next_table += 1ull << r->g;
			ims_mem_store(r->mem, IMS_AGENT_HW, slot, tdesc(next));
		}
		table = next;
	}
	return table + 8 * index_at(r, leaf_level, iova);
}

static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }

static int acc(struct rig *r, uint64_t iova, unsigned a, struct ims_xlate *x)
{
	return ims_iommu_access(r->mmu, DEV, iova, a, x);
}

/* A leaf descriptor at p with flags, AF cleared when !af. */
static uint64_t leaf(const struct pos *p, uint64_t pa, uint64_t flags, bool af)
{
	uint64_t d = page_desc(pa, p->level == 0, flags);
	return af ? d : d & ~SMMU_D_AF;
}

/* ---- the access flag, through the format's rules ----------------------------- */

START_TEST(af_check_every_level)
{
	/* check() on the decoded leaf of every level: AF = 0 is an Access
	 * flag fault exactly when HA is off and AFFD is 0, before any
	 * permission; leaf_update() sets AF only with HA and AF = 0. */
	for (unsigned i = 0; i < NLEAVES; i++) {
		const struct pos *p = &LEAVES[i];
		for (unsigned mode = 0; mode < 3; mode++) {
			bool ha = mode == 1, affd = mode == 2;
			struct hw_ctx c;
			hw_ctx_of(p, ha, false, affd ? SMMU_CD0_AFFD : 0, NULL, &c);
			ck_assert_int_eq(c.ha, ha);
			ck_assert_int_eq(c.affd, affd);
			for (int af = 0; af < 2; af++)
				for (int ro = 0; ro < 2; ro++) {
					uint64_t d = leaf(p, BIG_PA, ro ? SMMU_D_AP2 : 0, af);
					struct hw_ent e;
					memset(&e, 0, sizeof(e));
					smmu_hw_fmt.decode(&c, p->level, d, IMS_ACC_R, &e);
					ck_assert_int_eq(e.kind, HWE_LEAF);
					ck_assert_uint_eq(e.page_shift, lshift(p->g, p->level));
					bool af_fault = !af && !ha && !affd;
					for (unsigned a = IMS_ACC_R; a <= IMS_ACC_RW; a++) {
						uint32_t code = 0;
						enum ims_fault_kind k =
							smmu_hw_fmt.check(&c, d, &e, true, true, a, &code);
						enum ims_fault_kind want =
							af_fault ? IMS_FAULT_ACCESS
							: ro && (a & IMS_ACC_W) ? IMS_FAULT_PERM
										: IMS_FAULT_NONE;
						ck_assert_msg(k == want,
							      "g %u level %d mode %u af %d ro %d acc %u: %d",
							      p->g, p->level, mode, af, ro, a, k);
						if (want == IMS_FAULT_ACCESS)
							ck_assert_uint_eq(code, SMMU_EVT_F_ACCESS);
						if (want != IMS_FAULT_NONE)
							continue;
						struct hw_upd u;
						memset(&u, 0, sizeof(u));
						smmu_hw_fmt.leaf_update(&c, d, a, &u);
						ck_assert_uint_eq(u.a_set, ha && !af ? SMMU_D_AF : 0);
					}
					/* An AF = 0 entry is cached only under AFFD. */
					ck_assert_int_eq(smmu_hw_fmt.cacheable(&c, d), af || affd);
				}
		}
	}
}
END_TEST

START_TEST(af_decode_ctx_controls)
{
	/* SMMUv3 5.4: AFFD is ignored with HA; HA without HTTU is ILLEGAL
	 * (C_BAD_CD), so a CD for HTTU = 0 leaves HA off, and AF = 0 faults
	 * again. */
	const struct pos *p = &LEAVES[0];
	struct hw_ctx c;
	hw_ctx_of(p, true, false, SMMU_CD0_AFFD, NULL, &c);
	ck_assert(c.ha && !c.affd);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.smmu_idr0 &= ~SMMU_IDR0_HTTU_MASK;
	struct ims_ctx_params cp = {.tag = TAG, .root = ROOT, .granule_shift = p->g, .ias = p->ias,
				    .ha = true};
	uint64_t w[IMS_CTX_WORDS];
	char err[160] = "";
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &cp, w, err, sizeof(err)), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "CD.HA") != NULL, "%s", err);
	/* HTTU = 1: HA alone works; HD with it is ILLEGAL. */
	cfg.smmu_idr0 |= 1ull << SMMU_IDR0_HTTU_SHIFT;
	hw_ctx_of(p, true, false, 0, &cfg, &c);
	ck_assert(c.ha && !c.hd);
	w[0] |= SMMU_CD0_HD;
	err[0] = 0;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "CD.HD") != NULL, "%s", err);
	cfg.smmu_idr0 &= ~SMMU_IDR0_HTTU_MASK;
	hw_ctx_of(p, false, false, 0, &cfg, &c);
	ck_assert(!c.ha && !c.hd);
	uint64_t d = leaf(p, BIG_PA, 0, false);
	struct hw_ent e;
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(&c, 0, d, IMS_ACC_R, &e);
	uint32_t code;
	ck_assert_int_eq(smmu_hw_fmt.check(&c, d, &e, true, true, IMS_ACC_R, &code), IMS_FAULT_ACCESS);
}
END_TEST

/* ---- the access flag, through the model at every level ----------------------- */

/* iova of the entry `k` entries into the leaf-level table, index 3 above. */
static uint64_t leaf_iova(const struct pos *p, uint64_t k)
{
	return (k << lshift(p->g, p->level)) | (3ull << lshift(p->g, p->level + 1));
}

static void af_fault_at(const struct pos *p, bool cont)
{
	unsigned es = lshift(p->g, p->level);
	unsigned n = cont ? 1u << smmu_contig_log2(p->g, p->level) : 1;
	uint64_t flags = cont ? SMMU_D_CONT : 0;
	struct rig r;
	rig_cfg(&r, p, false, false, 0, NULL);
	uint64_t iova = leaf_iova(p, n);
	uint64_t slot = chain(&r, p->level, iova);
	/* A group (or one entry) read/write, and one read-only, AF = 0. */
	for (unsigned i = 0; i < n; i++)
		put(&r, slot + 8 * i, leaf(p, BIG_PA + ((uint64_t)i << es), flags, false));
	uint64_t ro_iova = leaf_iova(p, 2 * n);
	uint64_t ro_slot = slot + 8 * n;
	for (unsigned i = 0; i < n; i++)
		put(&r, ro_slot + 8 * i,
		    leaf(p, 2 * BIG_PA + ((uint64_t)i << es), flags | SMMU_D_AP2, false));
	struct {
		uint64_t iova;
		unsigned acc;
	} tries[5] = {
		{iova + 0x10, IMS_ACC_R},
		{iova + ((uint64_t)(n - 1) << es) + 0x20, IMS_ACC_W},
		{iova + 0x30, IMS_ACC_RW},
		{ro_iova + 0x40, IMS_ACC_W}, /* outranks the permission fault */
		{ro_iova + ((uint64_t)(n - 1) << es), IMS_ACC_R},
	};
	for (unsigned t = 0; t < 5; t++) {
		struct ims_xlate x;
		int rc = acc(&r, tries[t].iova, tries[t].acc, &x);
		ck_assert_msg(rc == IMS_FAULT_ACCESS, "g %u ias %u level %d cont %d try %u: rc %d",
			      p->g, p->ias, p->level, cont, t, rc);
		ck_assert_uint_eq(x.code, SMMU_EVT_F_ACCESS);
		struct ims_fault f;
		ck_assert(ims_iommu_fault_pop(r.mmu, &f));
		ck_assert_int_eq(f.kind, IMS_FAULT_ACCESS);
		ck_assert_uint_eq(f.iova, tries[t].iova);
		ck_assert(f.has_level);
		ck_assert_int_eq(f.level, p->level);
	}
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(get(&r, slot + 8 * i), leaf(p, BIG_PA + ((uint64_t)i << es), flags, false));
		ck_assert_uint_eq(get(&r, ro_slot + 8 * i),
				  leaf(p, 2 * BIG_PA + ((uint64_t)i << es), flags | SMMU_D_AP2, false));
	}
	/* Nothing was cached: software sets AF (no invalidation) and the
	 * next access walks and passes; the read-only one is now a
	 * permission fault. */
	for (unsigned i = 0; i < n; i++) {
		put(&r, slot + 8 * i, leaf(p, BIG_PA + ((uint64_t)i << es), flags, true));
		put(&r, ro_slot + 8 * i,
		    leaf(p, 2 * BIG_PA + ((uint64_t)i << es), flags | SMMU_D_AP2, true));
	}
	struct ims_xlate x;
	ck_assert_int_eq(acc(&r, tries[0].iova, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, BIG_PA + 0x10);
	ck_assert_int_eq(acc(&r, tries[3].iova, IMS_ACC_W, &x), IMS_FAULT_PERM);
	ck_assert_uint_eq(x.code, SMMU_EVT_F_PERMISSION);
	ims_iommu_fault_pop(r.mmu, &(struct ims_fault){0});
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	rig_down(&r);
}

START_TEST(af_fault_every_level_and_granule)
{
	for (unsigned i = 0; i < NLEAVES; i++)
		af_fault_at(&LEAVES[i], false);
	for (unsigned i = 0; i < NGROUPS; i++)
		af_fault_at(&GROUPS[i], true);
}
END_TEST

static void ha_sets_af_at(const struct pos *p)
{
	unsigned es = lshift(p->g, p->level);
	struct rig r;
	rig_cfg(&r, p, true, true, 0, NULL);
	const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
	uint64_t iova = leaf_iova(p, 4);
	uint64_t slot = chain(&r, p->level, iova);
	uint64_t rw = leaf(p, BIG_PA, 0, false);
	uint64_t ro = leaf(p, 2 * BIG_PA, SMMU_D_AP2, false);
	uint64_t wc = leaf(p, 3 * BIG_PA, CLEAN, false);
	put(&r, slot, rw);
	put(&r, slot + 8, ro);
	put(&r, slot + 16, wc);
	struct ims_xlate x;
	/* A read sets AF, and nothing else. */
	ck_assert_int_eq(acc(&r, iova + 0x18, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, BIG_PA + 0x18);
	ck_assert(x.accessed);
	ck_assert_uint_eq(get(&r, slot), rw | SMMU_D_AF);
	/* A write through a read-only entry is a permission fault and sets
	 * no AF (the update follows the check). */
	uint64_t ro_iova = iova + (1ull << es);
	ck_assert_int_eq(acc(&r, ro_iova, IMS_ACC_W, &x), IMS_FAULT_PERM);
	ck_assert_uint_eq(get(&r, slot + 8), ro);
	ims_iommu_fault_pop(r.mmu, &(struct ims_fault){0});
	ck_assert_int_eq(acc(&r, ro_iova, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(get(&r, slot + 8), ro | SMMU_D_AF);
	/* Writable-clean with AF = 0: one atomic update sets AF and makes
	 * it writable-dirty (D8.5.2). */
	uint64_t before = n->ad_writes;
	ck_assert_int_eq(acc(&r, iova + (2ull << es) + (1ull << es) - 8, IMS_ACC_W, &x), 0);
	ck_assert(x.accessed && x.dirtied);
	ck_assert_uint_eq(get(&r, slot + 16), (wc | SMMU_D_AF) & ~SMMU_D_AP2);
	ck_assert_uint_eq(n->ad_writes - before, 1);
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	rig_down(&r);
}

START_TEST(ha_sets_af_every_level_and_granule)
{
	for (unsigned i = 0; i < NLEAVES; i++)
		ha_sets_af_at(&LEAVES[i]);
}
END_TEST

START_TEST(affd_and_httu_every_granule)
{
	/* AFFD = 1, HA off: AF = 0 translates, nothing is written, the
	 * translation is cached. HTTU = 0: a CD with HA is ILLEGAL (C_BAD_CD,
	 * refused); without it AF = 0 faults. */
	for (unsigned i = 0; i < NLEAVES; i++) {
		const struct pos *p = &LEAVES[i];
		struct rig r;
		rig_cfg(&r, p, false, false, SMMU_CD0_AFFD, NULL);
		uint64_t iova = leaf_iova(p, 6);
		uint64_t slot = chain(&r, p->level, iova);
		uint64_t d = leaf(p, BIG_PA, 0, false);
		put(&r, slot, d);
		struct ims_xlate x;
		ck_assert_int_eq(acc(&r, iova, IMS_ACC_W, &x), 0);
		ck_assert(!x.accessed);
		ck_assert_uint_eq(get(&r, slot), d);
		ck_assert_int_eq(acc(&r, iova + 8, IMS_ACC_R, &x), 0);
		ck_assert(x.iotlb_hit);
		rig_down(&r);

		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.smmu_idr0 &= ~SMMU_IDR0_HTTU_MASK;
		struct ims_ctx_params cp = {.tag = TAG, .root = ROOT, .granule_shift = p->g,
					    .ias = p->ias, .ha = true};
		uint64_t w[IMS_CTX_WORDS];
		char err[160];
		ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &cp, w, err, sizeof(err)), 0);
		struct ims_mem *mem = ims_mem_new();
		struct ims_iommu *mmu;
		ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
		ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3, w, err, sizeof(err)),
				 -EINVAL);
		ims_iommu_free(mmu);
		ims_mem_free(mem);
		rig_cfg(&r, p, false, false, 0, &cfg);
		slot = chain(&r, p->level, iova);
		put(&r, slot, d);
		ck_assert_int_eq(acc(&r, iova, IMS_ACC_R, &x), IMS_FAULT_ACCESS);
		ck_assert_uint_eq(get(&r, slot), d);
		rig_down(&r);
	}
}
END_TEST

/* ---- contiguous groups (D8.5.5) ---------------------------------------------- */

struct grp {
	struct rig r;
	const struct pos *p;
	unsigned n, es;
	uint64_t iova, slot; /* group 1: its first IOVA and entry */
	uint64_t ent[128];
};

/* Groups 0, 1 and 2 of the leaf-level table, every entry writable-clean
 * with AF = 0; group 1 is the one the tests access. */
static void grp_reset(struct grp *q)
{
	for (unsigned gi = 0; gi < 3; gi++)
		for (unsigned i = 0; i < q->n; i++) {
			uint64_t k = (uint64_t)gi * q->n + i;
			uint64_t d = leaf(q->p, BIG_PA + (k << q->es), SMMU_D_CONT | CLEAN, false);
			put(&q->r, q->slot + 8 * (k - q->n), d);
			if (gi == 1)
				q->ent[i] = d;
		}
	ims_iommu_inv_domain(q->r.mmu, TAG);
}

static void grp_up(struct grp *q, const struct pos *p, const struct ims_iommu_cfg *cfg)
{
	q->p = p;
	q->n = 1u << smmu_contig_log2(p->g, p->level);
	q->es = lshift(p->g, p->level);
	rig_cfg(&q->r, p, true, true, 0, cfg);
	q->iova = leaf_iova(p, q->n);
	q->slot = chain(&q->r, p->level, q->iova);
	grp_reset(q);
}

/* Every entry of group 1 holds what q->ent says, except entry `which`
 * (-1: none), which holds wv. */
static void grp_expect(struct grp *q, int which, uint64_t wv, const char *what)
{
	for (unsigned i = 0; i < q->n; i++) {
		uint64_t v = get(&q->r, q->slot + 8 * i);
		uint64_t want = (int)i == which ? wv : q->ent[i];
		ck_assert_msg(v == want, "g %u level %d %s: entry %u is 0x%llx, want 0x%llx", q->p->g,
			      q->p->level, what, i, (unsigned long long)v, (unsigned long long)want);
	}
}

static uint64_t grp_addr(const struct grp *q, unsigned i) { return q->iova + ((uint64_t)i << q->es); }

START_TEST(group_updates_one_entry)
{
	/* A write through entry k updates entry k only (the covering policy,
	 * the default): AF set and AP[2] cleared in one RMW; the access uses
	 * the whole group, and the oracle records all of it. */
	for (unsigned gi = 0; gi < NGROUPS; gi++) {
		struct grp q;
		grp_up(&q, &GROUPS[gi], NULL);
		unsigned ks[3] = {0, q.n / 2 + 1, q.n - 1};
		for (unsigned t = 0; t < 3; t++) {
			unsigned k = ks[t];
			grp_reset(&q);
			struct ims_xlate x;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, k) + 0x40, IMS_ACC_W, &x), 0);
			ck_assert_uint_eq(x.pa, BIG_PA + ((uint64_t)(q.n + k) << q.es) + 0x40);
			ck_assert_uint_eq(x.leaf_iova, q.iova);
			ck_assert_uint_eq(x.leaf_shift, q.es + smmu_contig_log2(q.p->g, q.p->level));
			ck_assert(x.dirtied && x.accessed);
			grp_expect(&q, (int)k, (q.ent[k] | SMMU_D_AF) & ~SMMU_D_AP2, "write");
			struct ims_oracle *o = ims_iommu_oracle(q.r.mmu);
			ck_assert(ims_oracle_test(o, TAG, q.iova));
			ck_assert(ims_oracle_test(o, TAG, grp_addr(&q, q.n) - 0x1000));
			ck_assert(!ims_oracle_test(o, TAG, grp_addr(&q, q.n)));
			/* A read through another entry then updates nothing:
			 * the group records AF. */
			ims_iommu_inv_domain(q.r.mmu, TAG);
			unsigned other = k == 0 ? q.n - 1 : 0;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, other), IMS_ACC_R, &x), 0);
			ck_assert(!x.accessed);
			grp_expect(&q, (int)k, (q.ent[k] | SMMU_D_AF) & ~SMMU_D_AP2, "read after");
		}
		rig_down(&q.r);
	}
}
END_TEST

START_TEST(group_skip_if_any_every_entry)
{
	/* Entry j records the state (first, middle, last entry of the
	 * group); a write through k updates only what no entry records. */
	for (unsigned gi = 0; gi < NGROUPS; gi++) {
		struct grp q;
		grp_up(&q, &GROUPS[gi], NULL);
		unsigned js[3] = {0, q.n / 2, q.n - 1};
		for (unsigned t = 0; t < 3; t++) {
			unsigned j = js[t], k = j == 1 ? 2 : 1;
			uint64_t dirty_af = (q.ent[j] | SMMU_D_AF) & ~SMMU_D_AP2;
			uint64_t af_only = q.ent[j] | SMMU_D_AF;
			uint64_t dirty_only = q.ent[j] & ~SMMU_D_AP2;
			struct ims_xlate x;
			struct ims_leaf lf;

			/* Both recorded: nothing changes, but the write is
			 * still dirty in the oracle (hardware tracks it). */
			grp_reset(&q);
			put(&q.r, q.slot + 8 * j, dirty_af);
			q.ent[j] = dirty_af;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, k), IMS_ACC_W, &x), 0);
			ck_assert(!x.dirtied && !x.accessed);
			grp_expect(&q, -1, 0, "any dirty+AF");
			ck_assert(ims_oracle_test(ims_iommu_oracle(q.r.mmu), TAG, grp_addr(&q, k)));
			ck_assert_int_eq(ims_iommu_leaf(q.r.mmu, TAG, grp_addr(&q, k), &lf), 0);
			ck_assert_uint_eq(lf.nentries, q.n);
			ck_assert(lf.dirty && lf.accessed);

			/* AF recorded, dirty state not: only AP[2] is cleared. */
			grp_reset(&q);
			put(&q.r, q.slot + 8 * j, af_only);
			q.ent[j] = af_only;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, k), IMS_ACC_W, &x), 0);
			ck_assert(x.dirtied && !x.accessed);
			grp_expect(&q, (int)k, q.ent[k] & ~SMMU_D_AP2, "any AF");

			/* Dirty recorded, AF not: only AF is set. */
			grp_reset(&q);
			put(&q.r, q.slot + 8 * j, dirty_only);
			q.ent[j] = dirty_only;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, k), IMS_ACC_W, &x), 0);
			ck_assert(!x.dirtied && x.accessed);
			grp_expect(&q, (int)k, q.ent[k] | SMMU_D_AF, "any dirty");

			/* A read with AF recorded: nothing at all. */
			grp_reset(&q);
			put(&q.r, q.slot + 8 * j, af_only);
			q.ent[j] = af_only;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, k), IMS_ACC_R, &x), 0);
			ck_assert(!x.accessed);
			grp_expect(&q, -1, 0, "read, any AF");
			grp_reset(&q);
		}
		rig_down(&q.r);
	}
	/* The engine asks the format: only Arm groups have the rule. */
	ck_assert(smmu_hw_fmt.group_skip_if_any);
	ck_assert(!amd_hw_fmt.group_skip_if_any); /* AMD replicas: no such rule */
	ck_assert(!vtd_hw_fmt.group_skip_if_any);
}
END_TEST

START_TEST(group_neighbours_do_not_count)
{
	/* The last entry of group 0 and the first of group 2 dirty with AF:
	 * group 1 is still updated (the group is aligned to its size). And
	 * with the first-entry policy the update lands in entry 0. */
	for (unsigned gi = 0; gi < NGROUPS; gi++) {
		for (int first = 0; first < 2; first++) {
			struct ims_iommu_cfg cfg;
			ims_iommu_cfg_default(&cfg);
			if (first)
				cfg.replica = IMS_REPLICA_FIRST;
			struct grp q;
			grp_up(&q, &GROUPS[gi], &cfg);
			uint64_t before = q.slot - 8, after = q.slot + 8ull * q.n;
			put(&q.r, before, (get(&q.r, before) | SMMU_D_AF) & ~SMMU_D_AP2);
			put(&q.r, after, (get(&q.r, after) | SMMU_D_AF) & ~SMMU_D_AP2);
			unsigned k = q.n - 2;
			struct ims_xlate x;
			ck_assert_int_eq(acc(&q.r, grp_addr(&q, k), IMS_ACC_W, &x), 0);
			ck_assert(x.dirtied && x.accessed);
			unsigned t = first ? 0 : k;
			grp_expect(&q, (int)t, (q.ent[t] | SMMU_D_AF) & ~SMMU_D_AP2, "neighbours");
			rig_down(&q.r);
		}
	}
}
END_TEST

/* ---- where blocks exist ---------------------------------------------------------- */

/* Arm ARM D8.3, AArch64.BlockDescSupported: with the 64K granule a block at
 * Arm level 1 (our level 2, 4 TiB) exists when PAMax, SMMU_IDR5.OAS (SMMUv3
 * 3.4), is 52 bits (FEAT_LPA), whatever CD.IPS; with a smaller OAS 01 there
 * is invalid. Through the format's rules and through the model's walk. */
START_TEST(block_64k_level1_needs_pa52)
{
	static const struct pos L1 = {16, 48, 2};
	for (int oas52 = 0; oas52 < 2; oas52++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.smmu_idr5 = (cfg.smmu_idr5 & ~7ull) | (oas52 ? 6 : 5);
		uint64_t pa = 1ull << 44, iova = 1ull << 42;
		struct hw_ctx c;
		hw_ctx_of(&L1, false, false, 0, &cfg, &c);
		struct hw_ent e;
		memset(&e, 0, sizeof(e));
		smmu_hw_fmt.decode(&c, 2, leaf(&L1, pa, 0, true), IMS_ACC_R, &e);
		ck_assert_int_eq(e.kind, oas52 ? HWE_LEAF : HWE_INVALID);
		if (oas52) {
			ck_assert_uint_eq(e.page_shift, 42);
			ck_assert_uint_eq(e.addr, pa);
		} else {
			ck_assert_uint_eq(e.code, SMMU_EVT_F_TRANSLATION);
		}
		struct rig r;
		rig_cfg(&r, &L1, false, false, 0, &cfg);
		put(&r, chain(&r, 2, iova), leaf(&L1, pa, 0, true));
		struct ims_xlate x;
		int rc = acc(&r, iova + 0x123456789ull, IMS_ACC_R, &x);
		if (oas52) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(x.pa, pa + 0x123456789ull);
			ck_assert_uint_eq(x.leaf_shift, 42);
		} else {
			ck_assert_int_eq(rc, IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(x.code, SMMU_EVT_F_TRANSLATION);
		}
		rig_down(&r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw_rules_smmu");
	TCase *af = tcase_create("access_flag");
	tcase_set_timeout(af, 120);
	tcase_add_test(af, af_check_every_level);
	tcase_add_test(af, af_decode_ctx_controls);
	tcase_add_test(af, af_fault_every_level_and_granule);
	tcase_add_test(af, ha_sets_af_every_level_and_granule);
	tcase_add_test(af, affd_and_httu_every_granule);
	suite_add_tcase(s, af);
	TCase *grp = tcase_create("contiguous");
	tcase_set_timeout(grp, 120);
	tcase_add_test(grp, group_updates_one_entry);
	tcase_add_test(grp, group_skip_if_any_every_entry);
	tcase_add_test(grp, group_neighbours_do_not_count);
	suite_add_tcase(s, grp);
	TCase *blk = tcase_create("blocks");
	tcase_add_test(blk, block_64k_level1_needs_pa52);
	suite_add_tcase(s, blk);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
