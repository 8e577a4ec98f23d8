/* Nested (two-stage) translation in the hardware model (model/nested.c,
 * docs/nested.md), for each pair: smmuv3 over smmuv3-s2, vtd-fs over vtd,
 * amdv2 over amdv1. Both stages are written into memory with the formats'
 * codecs (4 levels, 4 KiB pages), and each test checks one rule:
 * - the translation (IOVA -> IPA -> PA), and the probe;
 * - stage-2 A set by stage-1 table reads; stage-2 D set by a stage-1 A/D
 *   update on the descriptor's page, and by the data write only;
 * - stage-2 faults on a stage-1 table read (stage 2, s1_walk, the entry's
 *   IPA) and on the output IPA; a stage-1 fault; each format's codes;
 * - a stage-1 A/D update through a stage-2 read-only page faults;
 * - the combined IOTLB entry (size: the smaller leaf), its stage-1
 *   invalidation, and stage-2 invalidation per architecture;
 * - the oracle under both tags; the parent in use cannot be removed.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "smmuv3/s2_codec.h"
#include "smmuv3/smmu_codec.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_codec.h"

#define DEV 7
#define T 0x21 /* the nested (stage-1) tag */
#define P 0x42 /* the stage-2 tag */
#define S2ROOT 0x100000ull
#define S1ROOT 0x40000000ull    /* a GPA */
#define OFF 0x100000000ull      /* stage-1 tables: HPA = GPA + OFF */
#define IOVA 0x12345000ull
#define GPA 0x80000000ull
#define HPA 0x200000000ull

enum pair { SMMU, VTD, AMD, NPAIRS };
static const char *const NAMES[] = {"smmuv3", "vtd", "amd"};
static const enum ims_format S1F[] = {IMS_FMT_SMMUV3, IMS_FMT_VTD_FS, IMS_FMT_AMDV2};
static const enum ims_format S2F[] = {IMS_FMT_SMMUV3_S2, IMS_FMT_VTD, IMS_FMT_AMDV1};

/* How a stage-2 page is mapped. */
enum s2perm { S2_RW_CLEAN, S2_RO, S2_NONE };

struct rig {
	enum pair k;
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	uint64_t next_s2, next_s1;
	uint64_t s1_tables[4]; /* GPAs of the stage-1 tables of IOVA, top first */
};

static uint64_t ix(int level, uint64_t a) { return (a >> (12 + 9 * level)) & 511; }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }
static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }

/* ---- stage-2 codecs ---------------------------------------------------------- */

static uint64_t s2_table(enum pair k, int level, uint64_t next)
{
	switch (k) {
	case SMMU:
		return next | SMMU_D_TABLE;
	case VTD:
		return next | VTD_SL_R | VTD_SL_W;
	default:
		return next | AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW |
		       ((uint64_t)level << AMD_PTE_NL_SHIFT);
	}
}

/* A stage-2 4K leaf, accessed flag clear; read-write ones clean. */
static uint64_t s2_leaf(enum pair k, uint64_t pa, enum s2perm p)
{
	if (p == S2_NONE)
		return 0;
	switch (k) {
	case SMMU:
		return pa | SMMU_D_PAGE | S2_D_S2AP_R | (p == S2_RW_CLEAN ? SMMU_D_DBM : 0);
	case VTD:
		return pa | VTD_SL_R | (p == S2_RW_CLEAN ? VTD_SL_W : 0);
	default:
		return pa | AMD_PTE_PR | AMD_PTE_IR | (p == S2_RW_CLEAN ? AMD_PTE_IW : 0);
	}
}

static bool s2_accessed(enum pair k, uint64_t v)
{
	return k == SMMU ? (v & SMMU_D_AF) != 0 : k == VTD ? (v & VTD_SL_A) != 0 : (v & AMD_PTE_A) != 0;
}

static bool s2_dirty(enum pair k, uint64_t v)
{
	return k == SMMU ? (v & SMMU_D_DBM) && (v & S2_D_S2AP_W)
	       : k == VTD ? (v & VTD_SL_D) != 0
			  : (v & AMD_PTE_D) != 0;
}

/* The stage-2 entry slot for gpa at leaf level `level`, tables made on the
 * way. */
static uint64_t s2_slot(struct rig *r, uint64_t gpa, int level)
{
	uint64_t table = S2ROOT;
	for (int l = 3; l > level; l--) {
		uint64_t slot = table + 8 * ix(l, gpa);
		uint64_t cur = get(r, slot);
		if (!cur) {
			cur = s2_table(r->k, l, r->next_s2);
			r->next_s2 += 0x1000;
			put(r, slot, cur);
		}
		table = cur & 0x000ffffffffff000ull;
	}
	return table + 8 * ix(level, gpa);
}

static void s2_map(struct rig *r, uint64_t gpa, uint64_t hpa, enum s2perm p)
{
	put(r, s2_slot(r, gpa, 0), s2_leaf(r->k, hpa, p));
}

/* ---- stage-1 codecs (tables at GPAs) ----------------------------------------- */

static uint64_t s1_table(enum pair k, uint64_t next)
{
	return k == SMMU ? next | SMMU_D_TABLE : next | X86_P | X86_RW | X86_US;
}

/* A writable stage-1 leaf, clean and not accessed; with `done`, accessed
 * and dirty already (no hardware update needed). */
static uint64_t s1_leaf(enum pair k, int level, uint64_t pa, bool done)
{
	if (k == SMMU)
		return pa | (level ? SMMU_D_BLOCK : SMMU_D_PAGE) | SMMU_D_AP1 | SMMU_D_DBM |
		       (done ? SMMU_D_AF : SMMU_D_AP2);
	return pa | X86_P | X86_RW | X86_US | (level ? X86_PS : 0) | (done ? X86_A | X86_D : 0);
}

static bool s1_dirty(enum pair k, uint64_t v)
{
	return k == SMMU ? (v & SMMU_D_DBM) && !(v & SMMU_D_AP2) : (v & X86_D) != 0;
}

/* A new stage-1 table: a GPA page that stage 2 maps read-write at +OFF. */
static uint64_t s1_new_table(struct rig *r)
{
	uint64_t gpa = r->next_s1;
	r->next_s1 += 0x1000;
	s2_map(r, gpa, gpa + OFF, S2_RW_CLEAN);
	return gpa;
}

/* The stage-1 entry slot (a GPA) for iova at leaf level `level`. */
static uint64_t s1_slot(struct rig *r, uint64_t iova, int level)
{
	uint64_t table = S1ROOT;
	r->s1_tables[0] = S1ROOT;
	for (int l = 3; l > level; l--) {
		uint64_t slot = table + 8 * ix(l, iova);
		uint64_t cur = get(r, slot + OFF);
		if (!cur) {
			cur = s1_table(r->k, s1_new_table(r));
			put(r, slot + OFF, cur);
		}
		table = cur & 0x0000fffffffff000ull;
		r->s1_tables[4 - l] = table;
	}
	return table + 8 * ix(level, iova);
}

static void s1_map(struct rig *r, uint64_t iova, uint64_t gpa, int level, bool done)
{
	put(r, s1_slot(r, iova, level) + OFF, s1_leaf(r->k, level, gpa, done));
}

/* ---- the rig ------------------------------------------------------------------ */

static void rig_up_cfg(struct rig *r, enum pair k, const struct ims_iommu_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->k = k;
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	r->next_s2 = S2ROOT + 0x1000;
	r->next_s1 = S1ROOT + 0x1000;
	char err[200];
	uint64_t w[IMS_CTX_WORDS];
	/* 4 levels of 4K tables, 48 bits, as each format states it. */
	struct ims_ctx_params p2 = {.tag = P, .root = S2ROOT, .levels = 4, .ha = true, .hd = true};
	if (k == SMMU)
		p2.granule_shift = 12, p2.ias = 48;
	ck_assert_msg(ims_ctx_encode(S2F[k], &p2, w, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(ims_iommu_ctx_set(r->mmu, P, S2F[k], w, err, sizeof(err)) == 0, "%s", err);
	s2_map(r, S1ROOT, S1ROOT + OFF, S2_RW_CLEAN);
	struct ims_ctx_params p1 = {.tag = T, .root = S1ROOT, .levels = 4, .ha = true, .hd = true};
	if (k == SMMU)
		p1 = (struct ims_ctx_params){.tag = T, .root = S1ROOT, .granule_shift = 12, .ias = 48,
					     .ha = true, .hd = true};
	ck_assert_msg(ims_ctx_encode(S1F[k], &p1, w, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(ims_iommu_ctx_set_nested(r->mmu, T, S1F[k], w, P, err, sizeof(err)) == 0,
		      "%s: %s", NAMES[k], err);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, T), 0);
	/* The usual mapping: IOVA -> GPA (4K) -> HPA (4K). */
	s1_map(r, IOVA, GPA, 0, false);
	s2_map(r, GPA, HPA, S2_RW_CLEAN);
}

static void rig_up(struct rig *r, enum pair k) { rig_up_cfg(r, k, NULL); }

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static int dma(struct rig *r, uint64_t iova, unsigned a, struct ims_xlate *x)
{
	return ims_iommu_access(r->mmu, DEV, iova, a, x);
}

static struct ims_fault pop(struct rig *r)
{
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(r->mmu, &f));
	return f;
}

/* The stage-2 leaf (its value) of a GPA page. */
static uint64_t s2_of(struct rig *r, uint64_t gpa) { return get(r, s2_slot(r, gpa, 0)); }

/* The native stage-1 invalidation of iova under T; leaf: of leaf entries
 * only (SMMU Leaf, VT-d IH, AMD PDE = 0), walk caches kept. */
static void inv_s1x(struct rig *r, uint64_t iova, bool leaf)
{
	uint64_t c[2] = {0, 0};
	switch (r->k) {
	case SMMU:
		c[0] = SMMU_CMD_TLBI_NH_VA | (uint64_t)T << SMMU_CMD_ASID_SHIFT;
		c[1] = iova | (leaf ? SMMU_CMD1_LEAF : 0);
		break;
	case VTD:
		c[0] = VTD_DESC_PIOTLB | (uint64_t)VTD_IOTLB_G_PAGE << VTD_DESC_G_SHIFT |
		       (uint64_t)T << VTD_DESC_DID_SHIFT;
		c[1] = iova | (leaf ? VTD_IOTLB_IH : 0);
		break;
	default:
		c[0] = AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT | (uint64_t)T << AMD_CMD_DOMID_SHIFT;
		c[1] = iova | AMD_CMD_GN | (leaf ? 0 : AMD_CMD_PDE);
		break;
	}
	ck_assert_int_eq(ims_iommu_submit(r->mmu, S1F[r->k], c), 0);
}

static void inv_s1(struct rig *r, uint64_t iova) { inv_s1x(r, iova, false); }

/* The native stage-2 range invalidation of gpa under the parent's tag. */
static void inv_s2(struct rig *r, uint64_t gpa)
{
	uint64_t c[2] = {0, 0};
	switch (r->k) {
	case SMMU:
		c[0] = SMMU_CMD_TLBI_S2_IPA | (uint64_t)P << SMMU_CMD_VMID_SHIFT;
		c[1] = gpa;
		break;
	case VTD:
		c[0] = VTD_DESC_IOTLB | (uint64_t)VTD_IOTLB_G_PAGE << VTD_DESC_G_SHIFT |
		       (uint64_t)P << VTD_DESC_DID_SHIFT;
		c[1] = gpa;
		break;
	default:
		c[0] = AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT | (uint64_t)P << AMD_CMD_DOMID_SHIFT;
		c[1] = gpa | AMD_CMD_PDE;
		break;
	}
	ck_assert_int_eq(ims_iommu_submit(r->mmu, S2F[r->k], c), 0);
}

/* ---- the tests ---------------------------------------------------------------- */

START_TEST(t_translate)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA + 0x18, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, HPA + 0x18);
	ck_assert_uint_eq(x.ipa, GPA + 0x18);
	ck_assert_uint_eq(x.stage, 0);
	ck_assert_uint_eq(x.leaf_shift, 12);
	/* Four table reads, the data, and a write walk for each stage-1 A
	 * update (the stage-2 entries were cached clean): the leaf's at
	 * stage 1 of Arm, every entry's in x86 paging. */
	ck_assert_uint_eq(ims_iommu_counters(r.mmu)->s2_walks, r.k == SMMU ? 6 : 9);
	struct ims_xlate p;
	ck_assert_int_eq(ims_iommu_probe(r.mmu, T, IOVA + 0x20, IMS_ACC_R, &p), 0);
	ck_assert_uint_eq(p.pa, HPA + 0x20);
	ck_assert_uint_eq(p.ipa, GPA + 0x20);
	/* Another GPA: the stage-2 mapping decides the PA. */
	s1_map(&r, IOVA + 0x1000, GPA + 0x5000, 0, false);
	s2_map(&r, GPA + 0x5000, HPA + 0x9000, S2_RW_CLEAN);
	ck_assert_int_eq(dma(&r, IOVA + 0x1008, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, HPA + 0x9008);
	ck_assert_int_eq(ims_iommu_ctx_parent(r.mmu, T), P);
	ck_assert_int_eq(ims_iommu_ctx_parent(r.mmu, P), -ENOENT);
	struct ims_leaf lf;
	ck_assert_int_eq(ims_iommu_leaf(r.mmu, T, IOVA + 0x1008, &lf), 0);
	ck_assert_uint_eq(lf.pa, HPA + 0x9008);
	ck_assert_uint_eq(lf.pte_pa, s1_slot(&r, IOVA + 0x1000, 0) + OFF);
	ck_assert(lf.dirty && lf.writable);
	rig_down(&r);
}
END_TEST

/* Stage-1 table reads set stage-2 A; the stage-1 leaf's A/D update is a
 * write through stage 2, which sets stage-2 D on the table's page; the
 * data page is dirtied by a write only. */
START_TEST(t_s2_ad)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	ck_assert(!s2_accessed(r.k, s2_of(&r, S1ROOT)));
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(s2_accessed(r.k, s2_of(&r, r.s1_tables[i])), "%s table %d", NAMES[r.k], i);
	uint64_t leaf_table = r.s1_tables[3];
	ck_assert_msg(s2_dirty(r.k, s2_of(&r, leaf_table)), "%s: the A update wrote the table",
		      NAMES[r.k]);
	ck_assert(s2_accessed(r.k, s2_of(&r, GPA)));
	ck_assert(!s2_dirty(r.k, s2_of(&r, GPA)));
	ck_assert(!s1_dirty(r.k, get(&r, s1_slot(&r, IOVA, 0) + OFF)));
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_W, &x), 0);
	ck_assert(s2_dirty(r.k, s2_of(&r, GPA)));
	ck_assert(s1_dirty(r.k, get(&r, s1_slot(&r, IOVA, 0) + OFF)));
	ck_assert(x.dirtied);
	rig_down(&r);
}
END_TEST

START_TEST(t_s2_fault_table)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	uint64_t l1 = r.s1_tables[2]; /* the stage-1 level-1 table (not the top) */
	s2_map(&r, l1, l1 + OFF, S2_NONE);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.stage, 2);
	struct ims_fault f = pop(&r);
	ck_assert_uint_eq(f.stage, 2);
	ck_assert(f.s1_walk);
	ck_assert_uint_eq(f.ipa, l1 + 8 * ix(1, IOVA));
	ck_assert_uint_eq(f.dom, T);
	ck_assert_int_eq(f.fmt, S2F[r.k]);
	static const uint32_t want[] = {SMMU_EVT_F_TRANSLATION | SMMU_EVT_S2 | SMMU_EVT_CLASS_TT,
					VTD_FR_NEST_R, 0};
	ck_assert_uint_eq(f.code, want[r.k]);
	/* The top table: VT-d says so (FL-PML4 entry). */
	s2_map(&r, S1ROOT, S1ROOT + OFF, S2_NONE);
	/* Until the parent's entry for it is invalidated, the IOTLB still
	 * translates the top table's IPA, and the walk faults lower again. */
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(pop(&r).ipa, l1 + 8 * ix(1, IOVA));
	inv_s2(&r, S1ROOT);
	/* The stage-1 walk cache (under T) still gives the lower tables'
	 * IPAs, so the walk would start below the top: a non-leaf stage-1
	 * command drops them. */
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(pop(&r).ipa, l1 + 8 * ix(1, IOVA));
	inv_s1(&r, IOVA);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	f = pop(&r);
	ck_assert_uint_eq(f.ipa, S1ROOT + 8 * ix(3, IOVA));
	if (r.k == VTD)
		ck_assert_uint_eq(f.code, VTD_FR_NEST_ROOT_R);
	rig_down(&r);
}
END_TEST

START_TEST(t_s2_fault_final)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	s2_map(&r, GPA, HPA, S2_NONE);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA + 4, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	struct ims_fault f = pop(&r);
	ck_assert_uint_eq(f.stage, 2);
	ck_assert(!f.s1_walk);
	ck_assert_uint_eq(f.ipa, GPA + 4);
	ck_assert_uint_eq(f.iova, IOVA + 4);
	static const uint32_t want[] = {SMMU_EVT_F_TRANSLATION | SMMU_EVT_S2 | SMMU_EVT_CLASS_IN,
					VTD_FR_READ, 0};
	ck_assert_uint_eq(f.code, want[r.k]);
	/* Read-only at stage 2: a write is a stage-2 permission fault. */
	s2_map(&r, GPA, HPA, S2_RO);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_W, &x), IMS_FAULT_PERM);
	f = pop(&r);
	ck_assert_uint_eq(f.stage, 2);
	ck_assert_uint_eq(f.ipa, GPA);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	rig_down(&r);
}
END_TEST

START_TEST(t_s1_fault)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA + 0x1000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.stage, 1);
	struct ims_fault f = pop(&r);
	ck_assert_uint_eq(f.stage, 1);
	ck_assert(!f.s1_walk);
	ck_assert_int_eq(f.fmt, S1F[r.k]);
	ck_assert_uint_eq(f.level, 0);
	static const uint32_t want[] = {SMMU_EVT_F_TRANSLATION, VTD_FR_FS_P, AMD_EV_GN};
	ck_assert_uint_eq(f.code, want[r.k]);
	rig_down(&r);
}
END_TEST

/* The page holding the stage-1 leaf table is read-only at stage 2: the
 * walk reads it, but hardware's A/D update of the leaf faults at stage 2
 * (CLASS=TT, VT-d 77h). With A and D already set, nothing is written. */
START_TEST(t_s2_wp_s1_update)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	uint64_t lt = r.s1_tables[3];
	/* Every table entry's A set first (x86 sets it in tables too). */
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	s1_map(&r, IOVA + 0x1000, GPA + 0x1000, 0, false);
	s2_map(&r, GPA + 0x1000, HPA + 0x1000, S2_RW_CLEAN);
	s2_map(&r, lt, lt + OFF, S2_RO);
	inv_s2(&r, lt);
	ck_assert_int_eq(dma(&r, IOVA + 0x1000, IMS_ACC_R, &x), IMS_FAULT_PERM);
	struct ims_fault f = pop(&r);
	ck_assert_uint_eq(f.stage, 2);
	ck_assert(f.s1_walk);
	ck_assert_uint_eq(f.ipa, lt + 8 * ix(0, IOVA + 0x1000));
	static const uint32_t want[] = {SMMU_EVT_F_PERMISSION | SMMU_EVT_S2 | SMMU_EVT_CLASS_TT,
					VTD_FR_NEST_W, AMD_EV_PR | AMD_EV_PE | AMD_EV_RW};
	ck_assert_uint_eq(f.code, want[r.k]);
	ck_assert(!(get(&r, s1_slot(&r, IOVA + 0x1000, 0) + OFF) & (r.k == SMMU ? SMMU_D_AF : X86_A)));
	s1_map(&r, IOVA + 0x1000, GPA + 0x1000, 0, true);
	ck_assert_int_eq(dma(&r, IOVA + 0x1000, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	rig_down(&r);
}
END_TEST

START_TEST(t_iotlb)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_W, &x), 0);
	ck_assert(!x.iotlb_hit);
	uint64_t walks = ims_iommu_counters(r.mmu)->s2_walks;
	ck_assert_int_eq(dma(&r, IOVA + 8, IMS_ACC_W, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert_uint_eq(x.pa, HPA + 8);
	ck_assert_uint_eq(x.ipa, GPA + 8);
	ck_assert_uint_eq(ims_iommu_counters(r.mmu)->s2_walks, walks);
	/* The stage-1 command drops the combined entry. */
	inv_s1(&r, IOVA);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	rig_down(&r);
}
END_TEST

/* A stage-2 range command on the parent: SMMU CMD_TLBI_S2_IPA leaves the
 * combined entry (it serves the old PA until CMD_TLBI_S12_VMALL); VT-d's
 * IOTLB descriptor and AMD's GN = 0 command drop it. */
START_TEST(t_s2_inv)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	s2_map(&r, GPA, HPA + 0x7000, S2_RW_CLEAN);
	inv_s2(&r, GPA);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	if (r.k == SMMU) {
		ck_assert(x.iotlb_hit);
		ck_assert_uint_eq(x.pa, HPA);
		uint64_t c[2] = {SMMU_CMD_TLBI_S12_VMALL | (uint64_t)P << SMMU_CMD_VMID_SHIFT, 0};
		ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_SMMUV3_S2, c), 0);
		ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	}
	ck_assert(!x.iotlb_hit);
	ck_assert_uint_eq(x.pa, HPA + 0x7000);
	/* A range that misses the IPA leaves it, whatever the format. */
	inv_s2(&r, GPA + 0x200000);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	/* The API's domain invalidation of the parent drops it. */
	ims_iommu_inv_domain(r.mmu, P);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	rig_down(&r);
}
END_TEST

/* Stage-2 commands naming the nested tag itself (VT-d's IOTLB descriptor
 * with the nested DID, AMD GN = 0 with its domain ID) name GPAs: they drop
 * the combined entries built on them. The API's range invalidation of the
 * parent follows each architecture's rule. */
START_TEST(t_s2_inv_nested_tag)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	if (r.k != SMMU) {
		uint64_t c[2] = {0, GPA};
		if (r.k == VTD)
			c[0] = VTD_DESC_IOTLB | (uint64_t)VTD_IOTLB_G_PAGE << VTD_DESC_G_SHIFT |
			       (uint64_t)T << VTD_DESC_DID_SHIFT;
		else
			c[0] = AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT |
			       (uint64_t)T << AMD_CMD_DOMID_SHIFT;
		/* The IOVA page is not the GPA page: a stage-1 reading would miss. */
		ck_assert_uint_ne(IOVA >> 12, GPA >> 12);
		ck_assert_int_eq(ims_iommu_submit(r.mmu, S1F[r.k], c), 0);
		ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
		ck_assert(!x.iotlb_hit);
	}
	ims_iommu_inv_range(r.mmu, P, GPA, 0x1000, 0);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit == (r.k == SMMU));
	/* A stage-1 range of the nested tag names IOVAs. */
	ims_iommu_inv_range(r.mmu, T, GPA, 0x1000, 0);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	ims_iommu_inv_range(r.mmu, T, IOVA, 0x1000, 0);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	rig_down(&r);
}
END_TEST

/* The probe walks both stages with no side effect. */
START_TEST(t_probe_quiet)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_xlate p;
	ck_assert_int_eq(ims_iommu_probe(r.mmu, T, IOVA, IMS_ACC_W, &p), 0);
	ck_assert_uint_eq(p.pa, HPA);
	ck_assert(!s2_accessed(r.k, s2_of(&r, S1ROOT)));
	ck_assert(!s2_accessed(r.k, s2_of(&r, GPA)));
	ck_assert(!s1_dirty(r.k, get(&r, s1_slot(&r, IOVA, 0) + OFF)));
	ck_assert_uint_eq(ims_iommu_counters(r.mmu)->s2_lookups, 0);
	ck_assert_int_eq(ims_iommu_probe(r.mmu, T, IOVA + 0x1000, IMS_ACC_R, &p),
			 IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(p.stage, 1);
	s2_map(&r, GPA, HPA, S2_RO);
	ck_assert_int_eq(ims_iommu_probe(r.mmu, T, IOVA, IMS_ACC_W, &p), IMS_FAULT_PERM);
	ck_assert_uint_eq(p.stage, 2);
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	rig_down(&r);
}
END_TEST

START_TEST(t_oracle)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_oracle *o = ims_iommu_oracle(r.mmu);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert(!ims_oracle_test(o, T, IOVA));
	ck_assert(!ims_oracle_test(o, P, GPA));
	/* The stage-1 A update wrote the leaf table's page. */
	ck_assert(ims_oracle_test(o, P, r.s1_tables[3]));
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_W, &x), 0);
	ck_assert(ims_oracle_test(o, T, IOVA));
	ck_assert(ims_oracle_test(o, P, GPA));
	ck_assert_uint_eq(ims_oracle_count(o, T, 0, 0), 1);
	/* An IOTLB hit records both too. */
	ims_oracle_reset(o, T);
	ims_oracle_reset(o, P);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_W, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert(ims_oracle_test(o, T, IOVA));
	ck_assert(ims_oracle_test(o, P, GPA));
	ck_assert_uint_eq(ims_oracle_count(o, P, 0, 0), 1);
	rig_down(&r);
}
END_TEST

/* The combined page is the smaller leaf; the caller is told, and the
 * oracle takes, each stage's own leaf. */
START_TEST(t_sizes)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	struct ims_oracle *o = ims_iommu_oracle(r.mmu);
	struct ims_xlate x;
	/* Stage 1 a 2M leaf, stage 2 4K pages. */
	uint64_t iova = 0x40000000ull, gpa = 0x90000000ull;
	s1_map(&r, iova, gpa, 1, false);
	s2_map(&r, gpa + 0x3000, HPA + 0x3000, S2_RW_CLEAN);
	ck_assert_int_eq(dma(&r, iova + 0x3010, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, HPA + 0x3010);
	/* The stage-1 leaf: the IOVA range the write dirtied. */
	ck_assert_uint_eq(x.leaf_iova, iova);
	ck_assert_uint_eq(x.leaf_shift, 21);
	ck_assert_uint_eq(ims_oracle_count(o, T, iova, 1ull << 21), 512);
	ck_assert_uint_eq(ims_oracle_count(o, P, gpa, 1ull << 21), 1);
	ck_assert(ims_oracle_test(o, P, gpa + 0x3000));
	/* The combined entry covers the 4K stage-2 page only: the same page
	 * hits, the next one (not mapped at stage 2) walks and faults. */
	ck_assert_int_eq(dma(&r, iova + 0x3800, IMS_ACC_W, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert_int_gt(dma(&r, iova + 0x4000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ck_assert_uint_eq(x.stage, 2);
	rig_down(&r);
}
END_TEST

/* Arm D8.5.5 at stage 1 of a nested walk: an A/D update that another entry
 * of the contiguous group already records is not made, so it needs no
 * stage-2 write permission. */
START_TEST(t_smmu_group)
{
	struct rig r;
	rig_up(&r, SMMU);
	struct ims_xlate x;
	uint64_t iova = 0x50000000ull, gpa = 0xa0000000ull;
	uint64_t first = s1_slot(&r, iova, 0);
	uint64_t lt = r.s1_tables[3];
	for (unsigned i = 0; i < 16; i++) {
		bool rec = i == 0; /* entry 0 accessed and dirty, the others clean */
		put(&r, first + 8 * i + OFF, s1_leaf(SMMU, 0, gpa + 0x1000 * i, rec) | SMMU_D_CONT);
		s2_map(&r, gpa + 0x1000 * i, HPA + 0x1000 * i, S2_RW_CLEAN);
	}
	/* Every table entry above is read once; then the leaf table's page
	 * is read-only at stage 2. */
	ck_assert_int_eq(dma(&r, iova, IMS_ACC_R, &x), 0);
	s2_map(&r, lt, lt + OFF, S2_RO);
	inv_s2(&r, lt);
	ck_assert_int_eq(dma(&r, iova + 0x5000, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, HPA + 0x5000);
	ck_assert_uint_eq(x.leaf_shift, 16); /* the 16-entry group of 4K pages */
	ck_assert(!(get(&r, first + 8 * 5 + OFF) & SMMU_D_AF));
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	rig_down(&r);
}
END_TEST

/* model.replica at stage 1 of a nested walk (DDI0487 D8.5.5: an update of a
 * contiguous group touches any one of its entries), as in a single-stage
 * walk: covering updates the entry walked through, first the group's
 * first, random one drawn per update. A write through entry 5 of a clean
 * 16-entry group; returns which entries were updated (bit i: entry i).
 * gone0: entry 0 already invalid (software clearing the group entry by
 * entry), which hardware must not update. */
static unsigned replica_run(enum ims_replica_policy pol, uint64_t seed, bool gone0)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	c.replica = pol;
	c.seed = seed;
	struct rig r;
	rig_up_cfg(&r, SMMU, &c);
	struct ims_xlate x;
	uint64_t iova = 0x50000000ull, gpa = 0xa0000000ull;
	uint64_t first = s1_slot(&r, iova, 0);
	for (unsigned i = 0; i < 16; i++) {
		put(&r, first + 8 * i + OFF, s1_leaf(SMMU, 0, gpa + 0x1000 * i, false) | SMMU_D_CONT);
		s2_map(&r, gpa + 0x1000 * i, HPA + 0x1000 * i, S2_RW_CLEAN);
	}
	if (gone0)
		put(&r, first + OFF, 0);
	ck_assert_int_eq(dma(&r, iova + 0x5000, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, HPA + 0x5000);
	ck_assert(x.dirtied);
	unsigned dirty = 0;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t v = get(&r, first + 8 * i + OFF);
		if (s1_dirty(SMMU, v)) {
			ck_assert(v & SMMU_D_AF); /* AF and D in the same entry, one RMW */
			dirty |= 1u << i;
		} else {
			ck_assert(!(v & SMMU_D_AF));
		}
	}
	ck_assert_msg(__builtin_popcount(dirty) == 1, "updated entries %#x", dirty);
	/* The oracle expects the whole group's range, whichever entry holds D. */
	ck_assert_uint_eq(ims_oracle_count(ims_iommu_oracle(r.mmu), T, iova, 1ull << 16), 16);
	if (gone0)
		ck_assert_uint_eq(get(&r, first + OFF), 0);
	rig_down(&r);
	return dirty;
}

START_TEST(t_smmu_replica)
{
	ck_assert_uint_eq(replica_run(IMS_REPLICA_COVERING, 0, false), 1u << 5);
	ck_assert_uint_eq(replica_run(IMS_REPLICA_FIRST, 0, false), 1u << 0);
	/* An entry no longer of the page is passed over for the walked one. */
	ck_assert_uint_eq(replica_run(IMS_REPLICA_FIRST, 0, true), 1u << 5);
	/* Random: eight seeds do not all pick the walked entry or the first. */
	unsigned picks = 0;
	for (uint64_t seed = 1; seed <= 8; seed++)
		picks |= replica_run(IMS_REPLICA_RANDOM, seed, false);
	ck_assert_msg(picks & ~((1u << 5) | 1u), "random picks %#x", picks);
}
END_TEST

START_TEST(t_contexts)
{
	struct rig r;
	rig_up(&r, (enum pair)_i);
	ck_assert_int_eq(ims_iommu_ctx_remove(r.mmu, P), -EBUSY);
	ck_assert_int_eq(ims_iommu_ctx_invalidate(r.mmu, P), 0);
	ck_assert_int_eq(ims_iommu_ctx_invalidate(r.mmu, T), 0);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert_int_eq(ims_format_nest_s2(S1F[r.k]), (int)S2F[r.k]);
	ck_assert_int_eq(ims_format_nest_s1(S2F[r.k]), (int)S1F[r.k]);
	ck_assert_int_eq(ims_format_nest_s2(S2F[r.k]), -1);
	uint64_t w[IMS_CTX_WORDS];
	ck_assert_int_eq(ims_iommu_ctx_get(r.mmu, T, w), 0);
	char err[200] = "";
	ck_assert_int_eq(ims_iommu_ctx_set_nested(r.mmu, 0x99, S1F[r.k], w, 0x98, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	ck_assert_int_eq(ims_iommu_ctx_set_nested(r.mmu, P, S1F[r.k], w, P, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(ims_iommu_ctx_set_nested(r.mmu, 0x99, S1F[r.k], w, T, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(
		ims_iommu_ctx_set_nested(r.mmu, 0x99, S1F[(r.k + 1) % NPAIRS], w, P, err, sizeof(err)),
		-EINVAL);
	/* A parent that no longer decodes: every translation faults at stage
	 * 2 with the stage-2 format's invalid-context code. */
	ck_assert_int_eq(ims_iommu_ctx_update(r.mmu, P, 0, 1, 0), 0); /* V / P / V off */
	ck_assert_int_lt(ims_iommu_ctx_invalidate(r.mmu, P), 0);
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	struct ims_fault f = pop(&r);
	ck_assert_uint_eq(f.stage, 2);
	static const uint32_t bad[] = {SMMU_EVT_C_BAD_STE, VTD_FR_CTX_INVALID, 0};
	ck_assert_uint_eq(f.code, bad[r.k]);
	ck_assert_int_eq(ims_iommu_ctx_remove(r.mmu, T), 0);
	ck_assert_int_eq(ims_iommu_ctx_remove(r.mmu, P), 0);
	rig_down(&r);
}
END_TEST

/* docs/timing.md "Nested translation": a nested miss costs the link both
 * ways, its IOTLB lookup, and for every stage-2 translation it asks for
 * (each stage-1 table read, each stage-1 A/D write, the output IPA) what
 * a single-stage translation of the parent costs past the link: the
 * IOTLB lookup, the walk-cache probes, the table reads and A/D writes;
 * plus the stage-1 table reads and A/D writes themselves. Latencies are
 * chosen so that every term is told apart. */
START_TEST(t_timing)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	c.iotlb_latency = 3;
	c.wc_latency = 5;
	c.lat.link = 11;
	c.lat.pte_read = 1000;
	c.lat.ad_update = 100000;
	c.lat.fault = 10000000;
	/* First round: the walk cache of level 0 only (the leaf tables), so
	 * that each stage-2 walk probes it once (wc_hits + wc_misses); second
	 * round: walk caches off, so every stage-2 walk reads all its levels. */
	for (int l = 1; l < IMS_WC_LEVELS; l++)
		c.wc_level[l] = (struct ims_wc_level_cfg){.set = true, .enable = false};
	c.wc_disable = _i >= NPAIRS;
	struct rig r;
	rig_up_cfg(&r, (enum pair)(_i % NPAIRS), &c);
	const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
	struct ims_iommu_counters n0 = *n;
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	uint64_t lookups = n->s2_lookups - n0.s2_lookups, walks = n->s2_walks - n0.s2_walks;
	uint64_t probes = (n->wc_hits + n->wc_misses) - (n0.wc_hits + n0.wc_misses);
	uint64_t reads = n->pte_reads - n0.pte_reads, ad = n->ad_writes - n0.ad_writes;
	/* Cold: every stage-2 lookup walks (an A/D write after a read finds
	 * the stage-2 entry cached clean); 4 table reads, a write per stage-1
	 * A update (the leaf's at Arm stage 1, every entry's in x86 paging),
	 * and the output. */
	uint64_t s1_ad = r.k == SMMU ? 1 : 4;
	ck_assert_uint_eq(lookups, 4 + s1_ad + 1);
	ck_assert_uint_eq(walks, lookups);
	/* Each stage-2 page is new to its walk, which sets its A (and D for a
	 * write); with no walk cache, each stage-2 walk reads its 4 levels. */
	ck_assert_uint_ge(ad, s1_ad + walks);
	if (c.wc_disable)
		ck_assert_uint_ge(reads, 4 + 4 * walks);
	else
		/* One probe per stage-2 walk, and one by the stage-1 walk
		 * (its walk cache under the nested tag, cold: a miss). */
		ck_assert_uint_eq(probes, walks + 1);
	uint64_t want = 2 * c.lat.link + c.iotlb_latency + lookups * c.iotlb_latency +
			probes * c.wc_latency + reads * c.lat.pte_read + ad * c.lat.ad_update;
	ck_assert_uint_eq(x.cycles, want);
	/* The same page again: the combined entry serves it for the
	 * lookup alone. */
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.cycles, 2 * c.lat.link + c.iotlb_latency);
	/* A stage-2 fault on the output IPA adds the fault's cost. */
	s1_map(&r, IOVA + 0x1000, GPA + 0x7000, 0, true);
	n0 = *n;
	ck_assert_int_eq(dma(&r, IOVA + 0x1000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	(void)pop(&r);
	probes = (n->wc_hits + n->wc_misses) - (n0.wc_hits + n0.wc_misses);
	want = 2 * c.lat.link + c.iotlb_latency +
	       (n->s2_lookups - n0.s2_lookups) * c.iotlb_latency + probes * c.wc_latency +
	       (n->pte_reads - n0.pte_reads) * c.lat.pte_read +
	       (n->ad_writes - n0.ad_writes) * c.lat.ad_update + c.lat.fault;
	ck_assert_uint_eq(x.cycles, want);
	rig_down(&r);
}
END_TEST

/* The stage-1 walk caches under the nested tag (docs/nested.md "What is
 * cached"): IOVA prefix -> the next stage-1 table's IPA. */
START_TEST(t_s1_walk_cache)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	c.wc_disable = false;
	struct rig r;
	rig_up_cfg(&r, (enum pair)_i, &c);
	const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
	struct ims_xlate x;
	ck_assert_int_eq(dma(&r, IOVA, IMS_ACC_R, &x), 0);
	/* A second page of the same stage-1 leaf table: the walk starts at
	 * that table, reading one stage-1 entry, whose IPA stage 2 still
	 * translates: the table read, the leaf's A write, the output. */
	const uint64_t iova2 = IOVA + 0x1000, gpa2 = GPA + 0x3000, hpa2 = HPA + 0x5000;
	s1_map(&r, iova2, gpa2, 0, false);
	s2_map(&r, gpa2, hpa2, S2_RW_CLEAN);
	struct ims_iommu_counters n0 = *n;
	ck_assert_int_eq(dma(&r, iova2, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, hpa2);
	ck_assert_uint_eq(n->s2_lookups - n0.s2_lookups, 3);
	ck_assert_uint_ge(n->wc_hits - n0.wc_hits, 1);

	/* Another leaf table put under the same level-1 entry, without an
	 * invalidation: the walk cache keeps giving the old one, as hardware
	 * does until told. */
	const uint64_t iova3 = IOVA + 0x2000;
	const uint64_t gpa_old = GPA + 0x5000, hpa_old = HPA + 0x9000;
	const uint64_t gpa_new = GPA + 0x7000, hpa_new = HPA + 0xb000;
	s1_map(&r, iova3, gpa_old, 0, true);
	s2_map(&r, gpa_old, hpa_old, S2_RW_CLEAN);
	s2_map(&r, gpa_new, hpa_new, S2_RW_CLEAN);
	uint64_t l1 = s1_slot(&r, IOVA, 1);
	uint64_t tbl = s1_new_table(&r);
	put(&r, tbl + 8 * ix(0, iova3) + OFF, s1_leaf(r.k, 0, gpa_new, true));
	put(&r, l1 + OFF, s1_table(r.k, tbl));
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, hpa_old);
	/* A leaf-only stage-1 invalidation drops the combined entry but keeps
	 * the walk cache: still the old table. */
	inv_s1x(&r, iova3, true);
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ck_assert_uint_eq(x.pa, hpa_old);
	/* A stage-2 range command (the parent's) leaves it too: it caches an
	 * IPA, which still means what it did. */
	inv_s2(&r, gpa_old);
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, hpa_old);
	/* A non-leaf stage-1 invalidation drops it: the new table. */
	inv_s1(&r, iova3);
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, hpa_new);
	/* ims_iommu_inv_domain of the nested tag drops them as well. */
	put(&r, l1 + OFF, s1_table(r.k, r.s1_tables[3]));
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, hpa_new);
	ims_iommu_inv_domain(r.mmu, T);
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, hpa_old);
	if (r.k == SMMU) {
		rig_down(&r);
		return;
	}
	/* Stage-2 commands naming the nested tag: a range (VT-d IOTLB
	 * page-selective, AMD GN = 0) drops the combined entry built on it
	 * but keeps the walk cache's IPAs; VT-d's domain-selective IOTLB
	 * descriptor drops all of the DID's (6.5.2.3). */
	put(&r, l1 + OFF, s1_table(r.k, tbl));
	uint64_t cmd[2] = {0, gpa_old};
	if (r.k == VTD) {
		cmd[0] = VTD_DESC_IOTLB | (uint64_t)VTD_IOTLB_G_PAGE << VTD_DESC_G_SHIFT |
			 (uint64_t)T << VTD_DESC_DID_SHIFT;
	} else {
		cmd[0] = AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT | (uint64_t)T << AMD_CMD_DOMID_SHIFT;
		cmd[1] |= AMD_CMD_PDE;
	}
	ck_assert_int_eq(ims_iommu_submit(r.mmu, S2F[r.k], cmd), 0);
	ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ck_assert_uint_eq(x.pa, hpa_old);
	if (r.k == VTD) {
		cmd[0] = VTD_DESC_IOTLB | (uint64_t)VTD_IOTLB_G_DOMAIN << VTD_DESC_G_SHIFT |
			 (uint64_t)T << VTD_DESC_DID_SHIFT;
		cmd[1] = 0;
		ck_assert_int_eq(ims_iommu_submit(r.mmu, S2F[r.k], cmd), 0);
		ck_assert_int_eq(dma(&r, iova3, IMS_ACC_R, &x), 0);
		ck_assert_uint_eq(x.pa, hpa_new);
	}
	rig_down(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("nested");
	TCase *tc = tcase_create("pairs");
	tcase_add_loop_test(tc, t_translate, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s2_ad, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s2_fault_table, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s2_fault_final, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s1_fault, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s2_wp_s1_update, 0, NPAIRS);
	tcase_add_loop_test(tc, t_iotlb, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s2_inv, 0, NPAIRS);
	tcase_add_loop_test(tc, t_s2_inv_nested_tag, 0, NPAIRS);
	tcase_add_loop_test(tc, t_probe_quiet, 0, NPAIRS);
	tcase_add_loop_test(tc, t_oracle, 0, NPAIRS);
	tcase_add_loop_test(tc, t_sizes, 0, NPAIRS);
	tcase_add_loop_test(tc, t_contexts, 0, NPAIRS);
	tcase_add_test(tc, t_smmu_group);
	tcase_add_test(tc, t_smmu_replica);
	tcase_add_loop_test(tc, t_timing, 0, 2 * NPAIRS);
	tcase_add_loop_test(tc, t_s1_walk_cache, 0, NPAIRS);
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
