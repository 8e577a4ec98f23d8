/* Arm SMMUv3 stage 1: geometry, codec, CD decode and the hardware rules,
 * checked through the model (formats.md "Arm SMMUv3 stage 1"). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "formats/format.h"
#include "pagetables/pt_int.h"
#include "smmuv3/smmu.h"
#include "smmuv3/smmu_codec.h"

#define DEV 9
#define TAG 5
#define ROOT 0x100000ull

static const unsigned GRANULES[3] = {12, 14, 16};

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

static unsigned stride(unsigned g) { return g - 3; }
static unsigned lshift(unsigned g, int level) { return g + stride(g) * (unsigned)level; }

/* Our level of the top table by the Arm ARM formula: start level
 * 4 - ceil((ias - g) / stride) in Arm numbering, our level 3 - that. */
static int formula_top(unsigned g, unsigned ias)
{
	int arm_start = 4 - (int)((ias - g + stride(g) - 1) / stride(g));
	return 3 - arm_start;
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

/* Table descriptor for an address below 2^48 (every layout agrees there). */
static uint64_t tdesc(uint64_t pa) { return pa | SMMU_D_TABLE; }

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

static uint64_t page_desc(uint64_t pa, bool page, uint64_t flags)
{
	return pa | (page ? SMMU_D_PAGE : SMMU_D_BLOCK) | SMMU_D_AF | SMMU_D_AP1 | flags;
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

/* A decoded context for direct calls into the hardware rules. */
static void hw_ctx_of(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c)
{
	struct ims_iommu_cfg def;
	if (!cfg) {
		ims_iommu_cfg_default(&def);
		cfg = &def;
	}
	memset(c, 0, sizeof(*c));
	char err[160];
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, cfg, c, err, sizeof(err)), 0);
	c->ops = &smmu_hw_fmt;
}

/* ---- geometry ------------------------------------------------------------ */

START_TEST(start_level_every_granule_and_ias)
{
	for (unsigned gi = 0; gi < 3; gi++) {
		unsigned g = GRANULES[gi];
		for (unsigned ias = 32; ias <= 52; ias++) {
			struct ims_ctx_params p = {.root = ROOT, .granule_shift = g, .ias = ias};
			uint64_t w[IMS_CTX_WORDS] = {0};
			char err[160];
			ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
			ck_assert_uint_eq(w[0] & SMMU_CD0_T0SZ_MASK, 64 - ias);
			struct hw_ctx c;
			hw_ctx_of(w, NULL, &c);
			int top = formula_top(g, ias);
			ck_assert_int_eq(c.top, top);
			ck_assert_uint_eq(c.stride, stride(g));
			ck_assert_uint_eq(c.ias, ias);
			/* The top table holds the bits ias leaves: 1..stride. */
			unsigned bits = hw_level_bits(&c, top);
			ck_assert_uint_eq(bits, ias - lshift(g, top));
			ck_assert(bits >= 1 && bits <= stride(g));
			/* 4K with ias > 48 starts at Arm level -1 (our 4). */
			if (g == 12 && ias > 48)
				ck_assert_int_eq(top, 4);
			/* The software computes the same geometry. */
			struct pt_params pc = {.granule_shift = g, .ias = ias};
			struct pt_geom geo;
			memset(&geo, 0, sizeof(geo));
			ck_assert_int_eq(smmu_pt_fmt.init(&pc, &geo, err, sizeof(err)), 0);
			ck_assert_int_eq(geo.top, top);
			ck_assert_uint_eq(pt_level_bits(&geo, top), bits);
		}
	}
}
END_TEST

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

/* ---- codec: software encode, hardware decode ------------------------------ */

struct sw {
	struct ims_mem *mem;
	struct ims_pt *pt;
	uint64_t cmds[64][2];
	unsigned ncmd;
};

static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct sw *s = arg;
	ck_assert_int_eq(fmt, IMS_FMT_SMMUV3);
	if (s->ncmd < 64) {
		s->cmds[s->ncmd][0] = cmd[0];
		s->cmds[s->ncmd][1] = cmd[1];
	}
	s->ncmd++;
	return 0;
}

static int sink_ctx_update(void *arg, uint16_t tag, unsigned word, uint64_t clear, uint64_t set)
{
	(void)arg, (void)tag, (void)word, (void)clear, (void)set;
	return 0;
}

static int sink_ctx_flush(void *arg, uint16_t tag)
{
	(void)arg, (void)tag;
	return 0;
}

static void sw_up(struct sw *s, unsigned g, unsigned ias, bool dirty)
{
	memset(s, 0, sizeof(*s));
	s->mem = ims_mem_new();
	struct ims_pt_cfg cfg = {.fmt = IMS_FMT_SMMUV3, .tag = TAG, .granule_shift = g, .ias = ias,
				 .dirty_tracking = dirty};
	struct ims_sink sink = {.arg = s, .submit = sink_submit, .ctx_update = sink_ctx_update,
				.ctx_flush = sink_ctx_flush};
	char err[160];
	ck_assert_int_eq(ims_pt_new(s->mem, &cfg, &sink, &s->pt, err, sizeof(err)), 0);
}

static void sw_down(struct sw *s)
{
	ims_pt_free(s->pt);
	ims_mem_free(s->mem);
}

/* Entry i of a leaf of 2^sh bytes at level L, written by the software and
 * decoded by the hardware rules of context c. */
static void check_leaf_entry(const struct hw_ctx *c, const struct pt_geom *geo, int L, unsigned sh,
			     uint64_t pa, unsigned i, unsigned prot, bool dirty)
{
	unsigned es = lshift(geo->gshift, L);
	uint64_t pte = smmu_pt_fmt.mk_leaf(geo, L, sh, pa, i, prot, dirty);
	struct hw_ent e;
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(c, L, pte, IMS_ACC_R, &e);
	ck_assert_int_eq(e.kind, HWE_LEAF);
	ck_assert_uint_eq(e.page_shift, sh);
	ck_assert_uint_eq(e.addr, pa);
	ck_assert_int_eq((pte & SMMU_D_CONT) != 0, sh > es);
	uint32_t code = 0;
	ck_assert_int_eq(smmu_hw_fmt.check(c, pte, &e, true, true, IMS_ACC_R, &code), IMS_FAULT_NONE);
	enum ims_fault_kind wk = smmu_hw_fmt.check(c, pte, &e, true, true, IMS_ACC_W, &code);
	ck_assert_int_eq(wk, ((prot & IMS_PROT_W) ? IMS_FAULT_NONE : IMS_FAULT_PERM));
	/* The software reads back what it wrote. */
	ck_assert_int_eq(smmu_pt_fmt.kind(geo, L, pte), PT_LEAF);
	ck_assert_uint_eq(smmu_pt_fmt.leaf_shift(geo, L, pte), sh);
	uint64_t off = ((uint64_t)i << es) + 8;
	ck_assert_uint_eq(smmu_pt_fmt.leaf_pa(geo, L, pte, off), pa + off);
	ck_assert_uint_eq(smmu_pt_fmt.leaf_prot(pte), prot | IMS_PROT_R);
	ck_assert(!smmu_pt_fmt.is_dirty(pte));
	ck_assert(!smmu_hw_fmt.is_dirty(c, pte));
	/* Writable in a tracking domain = writable-clean. */
	bool clean_w = dirty && (prot & IMS_PROT_W);
	ck_assert_int_eq((pte & SMMU_D_DBM) != 0, clean_w);
	ck_assert_int_eq((pte & SMMU_D_AP2) != 0, clean_w || !(prot & IMS_PROT_W));
	ck_assert(pte & SMMU_D_AF);
	ck_assert(pte & SMMU_D_AP1);
}

static void check_geometry_codec(unsigned g, unsigned ias, bool dirty)
{
	struct sw s;
	sw_up(&s, g, ias, dirty);
	uint64_t w[8];
	ims_pt_ctx_words(s.pt, w);
	struct hw_ctx c;
	hw_ctx_of(w, NULL, &c);
	ck_assert_int_eq(c.ha, dirty);
	ck_assert_int_eq(c.hd, dirty);
	const struct pt_geom *geo = &s.pt->g;
	unsigned nsizes = 0;
	for (unsigned sh = 12; sh < 63; sh++) {
		if (!(geo->pgsizes & (1ull << sh)))
			continue;
		nsizes++;
		int L = smmu_pt_fmt.leaf_level(geo, sh);
		ck_assert_int_ge(L, 0);
		/* An output address with high bits set (above 2^48 where the
		 * layout has room for them). */
		uint64_t hi = (g == 16 || ias > 48) ? (0xbull << 48) : (0x9ull << 40);
		uint64_t pa = hi | (3ull << sh);
		unsigned n = 1u << (sh - lshift(g, L));
		for (unsigned prot = IMS_PROT_R; prot <= IMS_PROT_RW; prot += 2)
			for (unsigned i = 0; i < n; i++)
				check_leaf_entry(&c, geo, L, sh, pa, i, prot, dirty);
		/* A table descriptor at every level above the leaf. */
		if (L > 0) {
			uint64_t tpa = 0xf00000000000ull + (5ull << g);
			uint64_t t = smmu_pt_fmt.mk_table(geo, L, tpa);
			struct hw_ent e;
			memset(&e, 0, sizeof(e));
			smmu_hw_fmt.decode(&c, L, t, IMS_ACC_R, &e);
			ck_assert_int_eq(e.kind, HWE_TABLE);
			ck_assert_int_eq(e.next, L - 1);
			ck_assert_uint_eq(e.addr, tpa);
			ck_assert_uint_eq(smmu_pt_fmt.table_pa(t), tpa);
			ck_assert_int_eq(smmu_pt_fmt.kind(geo, L, t), PT_TABLE);
		}
	}
	ck_assert_uint_ge(nsizes, 4);
	sw_down(&s);
}

START_TEST(codec_every_level_granule_size)
{
	/* Every leaf size each geometry offers, both permissions, with and
	 * without dirty tracking: the hardware decode of what the software
	 * wrote gives the same page size, output address (every entry of a
	 * group), and permissions. */
	for (unsigned gi = 0; gi < 3; gi++)
		for (unsigned ias = 48; ias <= 52; ias += 4)
			for (int dirty = 0; dirty < 2; dirty++)
				check_geometry_codec(GRANULES[gi], ias, dirty);
}
END_TEST

START_TEST(software_page_sizes)
{
	/* The page, every block and every contiguous size, limited by ias. */
	static const struct {
		unsigned g, ias;
		uint64_t sizes;
	} t[] = {
		{12, 48, 1ull << 12 | 1ull << 16 | 1ull << 21 | 1ull << 25 | 1ull << 30 | 1ull << 34},
		{12, 32, 1ull << 12 | 1ull << 16 | 1ull << 21 | 1ull << 25 | 1ull << 30},
		{14, 48, 1ull << 14 | 1ull << 21 | 1ull << 25 | 1ull << 30},
		{14, 32, 1ull << 14 | 1ull << 21 | 1ull << 25 | 1ull << 30},
		{16, 48, 1ull << 16 | 1ull << 21 | 1ull << 29 | 1ull << 34},
		{16, 32, 1ull << 16 | 1ull << 21 | 1ull << 29},
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sw s;
		sw_up(&s, t[i].g, t[i].ias, false);
		ck_assert_uint_eq(ims_pt_pgsizes(s.pt), t[i].sizes);
		sw_down(&s);
	}
	/* levels= is not an SMMU parameter; bad granule / ias are refused. */
	struct pt_params pc = {.levels = 4};
	struct pt_geom geo;
	char err[160];
	ck_assert_int_eq(smmu_pt_fmt.init(&pc, &geo, err, sizeof(err)), -EINVAL);
	pc = (struct pt_params){.granule_shift = 13};
	ck_assert_int_eq(smmu_pt_fmt.init(&pc, &geo, err, sizeof(err)), -EINVAL);
	pc = (struct pt_params){.ias = 53};
	ck_assert_int_eq(smmu_pt_fmt.init(&pc, &geo, err, sizeof(err)), -EINVAL);
	pc = (struct pt_params){.ias = 31};
	ck_assert_int_eq(smmu_pt_fmt.init(&pc, &geo, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(contiguous_group_sizes)
{
	/* formats.md: 4K 16 entries at Arm L1-L3; 16K 32 at L2, 128 at L3;
	 * 64K 32 at L2 and L3; the hardware decode honours exactly those. */
	static const unsigned want[3][4] = {{4, 4, 4, 0}, {7, 5, 0, 0}, {5, 5, 0, 0}};
	for (unsigned gi = 0; gi < 3; gi++) {
		unsigned g = GRANULES[gi];
		uint64_t w[IMS_CTX_WORDS] = {0};
		struct ims_ctx_params p = {.root = ROOT, .granule_shift = g, .ias = 48};
		char err[160];
		ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
		struct hw_ctx c;
		hw_ctx_of(w, NULL, &c);
		for (int L = 0; L < 4; L++) {
			ck_assert_uint_eq(smmu_contig_log2(g, L), want[gi][L]);
			bool block_level = L == 0 || L == 1 || (g == 12 && L == 2);
			if (!block_level)
				continue;
			uint64_t pa = 0x40000000000ull;
			uint64_t pte = page_desc(pa | (1ull << lshift(g, L)), L == 0, SMMU_D_CONT);
			struct hw_ent e;
			memset(&e, 0, sizeof(e));
			smmu_hw_fmt.decode(&c, L, pte, IMS_ACC_R, &e);
			ck_assert_int_eq(e.kind, HWE_LEAF);
			ck_assert_uint_eq(e.page_shift, lshift(g, L) + want[gi][L]);
			ck_assert_uint_eq(e.addr, pa);
			/* Without the bit: one entry. */
			memset(&e, 0, sizeof(e));
			smmu_hw_fmt.decode(&c, L, pte & ~SMMU_D_CONT, IMS_ACC_R, &e);
			ck_assert_uint_eq(e.page_shift, lshift(g, L));
			ck_assert_uint_eq(e.addr, pa | (1ull << lshift(g, L)));
		}
	}
}
END_TEST

START_TEST(invalid_encodings_and_alignment)
{
	for (unsigned gi = 0; gi < 3; gi++) {
		unsigned g = GRANULES[gi];
		uint64_t w[IMS_CTX_WORDS] = {0};
		struct ims_ctx_params p = {.root = ROOT, .granule_shift = g, .ias = 48};
		char err[160];
		ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
		struct hw_ctx c;
		hw_ctx_of(w, NULL, &c);
		for (int L = 0; L <= c.top; L++) {
			struct hw_ent e;
			uint64_t pa = 0x4000000000ull;
			/* x0: invalid at every level. */
			for (uint64_t type = 0; type < 4; type += 2) {
				memset(&e, 0, sizeof(e));
				smmu_hw_fmt.decode(&c, L, pa | type | SMMU_D_AF, IMS_ACC_R, &e);
				ck_assert_int_eq(e.kind, HWE_INVALID);
				ck_assert_uint_eq(e.code, SMMU_EVT_F_TRANSLATION);
			}
			/* 01: a block only where the granule has one (4K: Arm L1, L2;
			 * 16K, 64K: Arm L2); reserved at Arm L3. */
			bool blocks = (g == 12 && (L == 1 || L == 2)) || (g != 12 && L == 1);
			memset(&e, 0, sizeof(e));
			smmu_hw_fmt.decode(&c, L, page_desc(pa, false, 0), IMS_ACC_R, &e);
			ck_assert_int_eq(e.kind, (blocks ? HWE_LEAF : HWE_INVALID));
			if (!blocks)
				ck_assert_uint_eq(e.code, SMMU_EVT_F_TRANSLATION);
			/* 11: page at Arm L3, table above. */
			memset(&e, 0, sizeof(e));
			smmu_hw_fmt.decode(&c, L, page_desc(pa, true, 0), IMS_ACC_R, &e);
			ck_assert_int_eq(e.kind, (L == 0 ? HWE_LEAF : HWE_TABLE));
			if (L > 0) {
				ck_assert_uint_eq(e.addr, pa);
				/* Table address bits below the granule (RES0; with 64K
				 * bits 15:12 are OA[51:48] instead): fault. */
				if (g == 14) {
					memset(&e, 0, sizeof(e));
					smmu_hw_fmt.decode(&c, L, tdesc(pa | 0x1000), IMS_ACC_R, &e);
					ck_assert_int_eq(e.kind, HWE_RESERVED);
					ck_assert_uint_eq(e.code, SMMU_EVT_F_TRANSLATION);
				}
			}
			/* Output address bits below the entry size: fault (0x10). */
			if (L == 0 || blocks) {
				for (unsigned b = 12; b < lshift(g, L); b++) {
					if (g == 16 && b < 16)
						continue; /* 64K: bits 15:12 are OA[51:48] */
					memset(&e, 0, sizeof(e));
					uint64_t d = page_desc(pa | (1ull << b), L == 0, 0);
					smmu_hw_fmt.decode(&c, L, d, IMS_ACC_R, &e);
					ck_assert_int_eq(e.kind, HWE_RESERVED);
					ck_assert_uint_eq(e.code, SMMU_EVT_F_TRANSLATION);
				}
			}
		}
	}
}
END_TEST

START_TEST(lpa_layouts)
{
	/* 64K: OA[51:48] in bits 15:12; 4K/16K with ias > 48 (DS): OA[51:50]
	 * in bits 9:8, OA[49:48] in place; 4K with ias 48: bits 47:12 only. */
	struct ims_ctx_params p = {.root = ROOT, .granule_shift = 16, .ias = 48};
	uint64_t w[IMS_CTX_WORDS] = {0};
	char err[160];
	struct hw_ctx c;
	struct hw_ent e;
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
	hw_ctx_of(w, NULL, &c);
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(&c, 0, page_desc(0x12340000ull | 0xa000, true, 0), IMS_ACC_R, &e);
	ck_assert_uint_eq(e.addr, 0xa000012340000ull);
	p = (struct ims_ctx_params){.root = ROOT, .granule_shift = 12, .ias = 52};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
	ck_assert(w[2] & SMMU_CD2_DS);
	hw_ctx_of(w, NULL, &c);
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(&c, 0, 0x3123456789000ull | SMMU_D_PAGE | (2ull << 8) | SMMU_D_AF, IMS_ACC_R,
			   &e);
	ck_assert_uint_eq(e.addr, 0xb123456789000ull);
	/* DS = 1 adds a 512G block at Arm level 0 (our 3) with 4K. */
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(&c, 3, 0x8000000000ull | SMMU_D_BLOCK | SMMU_D_AF, IMS_ACC_R, &e);
	ck_assert_int_eq(e.kind, HWE_LEAF);
	ck_assert_uint_eq(e.page_shift, 39);
	p = (struct ims_ctx_params){.root = ROOT, .granule_shift = 12, .ias = 48};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
	ck_assert(!(w[2] & SMMU_CD2_DS));
	hw_ctx_of(w, NULL, &c);
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(&c, 0, 0x3123456789000ull | SMMU_D_PAGE | (2ull << 8) | SMMU_D_AF, IMS_ACC_R,
			   &e);
	ck_assert_uint_eq(e.addr, 0x123456789000ull);
	memset(&e, 0, sizeof(e));
	smmu_hw_fmt.decode(&c, 3, 0x8000000000ull | SMMU_D_BLOCK | SMMU_D_AF, IMS_ACC_R, &e);
	ck_assert_int_eq(e.kind, HWE_INVALID);
}
END_TEST

/* ---- CD decode ------------------------------------------------------------- */

START_TEST(cd_decode)
{
	struct ims_ctx_params p = {.tag = 0x1234, .root = ROOT, .ha = true, .hd = true};
	uint64_t w[IMS_CTX_WORDS] = {0}, v[IMS_CTX_WORDS];
	char err[160];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w[0] >> SMMU_CD0_ASID_SHIFT, 0x1234);
	ck_assert(w[0] & SMMU_CD0_V);
	ck_assert(w[0] & SMMU_CD0_AA64);
	ck_assert_uint_eq(w[1] & SMMU_CD1_TTB0_MASK, ROOT);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	struct hw_ctx c;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && c.hd);
	ck_assert_uint_eq(c.root, ROOT);
	ck_assert_uint_eq(c.gshift, 12);
	/* V, AA64 required; TG0 = 11b reserved; T0SZ range. */
	static const uint64_t clear[] = {SMMU_CD0_V, SMMU_CD0_AA64};
	for (unsigned i = 0; i < 2; i++) {
		memcpy(v, w, sizeof(v));
		v[0] &= ~clear[i];
		ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), -EINVAL);
	}
	memcpy(v, w, sizeof(v));
	v[0] |= SMMU_CD0_TG0_MASK;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), -EINVAL);
	memcpy(v, w, sizeof(v));
	v[0] = (v[0] & ~SMMU_CD0_T0SZ_MASK) | 15; /* ias 49 without DS */
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), -EINVAL);
	v[2] |= SMMU_CD2_DS;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.ias, 49);
	v[0] = (v[0] & ~SMMU_CD0_T0SZ_MASK) | 40;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), -EINVAL);
	memcpy(v, w, sizeof(v));
	v[2] |= SMMU_CD2_DS; /* DS with ias 48: not modelled */
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), -EINVAL);
	/* The SMMU aligns TTB0 to the top table (512 entries: 4K). */
	memcpy(v, w, sizeof(v));
	v[1] = ROOT | 0x7f0;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.root, ROOT);
	/* HTTU gates HA and HD; HD without HA is off. */
	cfg.smmu_idr0 = 1ull << SMMU_IDR0_HTTU_SHIFT;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && !c.hd);
	cfg.smmu_idr0 = 0;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(!c.ha && !c.hd);
	ims_iommu_cfg_default(&cfg);
	memcpy(v, w, sizeof(v));
	v[0] &= ~SMMU_CD0_HA;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(!c.ha && !c.hd);
	/* AFFD is read, and ignored with HA. */
	v[0] |= SMMU_CD0_AFFD;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.affd);
	v[0] |= SMMU_CD0_HA;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(v, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(!c.affd);
	/* Encoder errors: levels=, bad root alignment, root beyond 48 bits. */
	p = (struct ims_ctx_params){.root = ROOT, .levels = 4};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), -EINVAL);
	p = (struct ims_ctx_params){.root = ROOT | 0x800};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), -EINVAL);
	p = (struct ims_ctx_params){.root = 1ull << 48};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), -EINVAL);
	p = (struct ims_ctx_params){.root = ROOT | 0x40, .ias = 32}; /* 4 entries: 64-byte aligned */
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_SMMUV3, &p, w, err, sizeof(err)), 0);
}
END_TEST

/* ---- hardware rules through the model --------------------------------------- */

#define IOVA 0x40000000ull
#define PA 0x80000000ull

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

/* ---- commands ------------------------------------------------------------------ */

START_TEST(tlbi_decode)
{
	struct hw_cmd c;
	uint64_t cmd[2];

	cmd[0] = SMMU_CMD_TLBI_NH_ASID | 0x77ull << 48;
	cmd[1] = 0;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(smmu_hw_fmt.decode_cmd(cmd, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_DOMAIN);
	ck_assert_uint_eq(c.tag, 0x77);

	/* TG = 0: the single address. */
	cmd[0] = SMMU_CMD_TLBI_NH_VA | 0x78ull << 48 | 5ull << 12 | 3ull << 20;
	cmd[1] = 0x123456789000ull | SMMU_CMD1_LEAF;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(smmu_hw_fmt.decode_cmd(cmd, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_RANGE);
	ck_assert_uint_eq(c.tag, 0x78);
	ck_assert_uint_eq(c.iova, 0x123456789000ull);
	ck_assert_uint_eq(c.size, 0x1000);
	ck_assert(c.leaf_only);

	/* TG = 4K/16K/64K: (NUM + 1) * 2^SCALE granules. */
	static const unsigned tgs[4] = {0, 12, 14, 16};
	for (unsigned tg = 1; tg <= 3; tg++) {
		cmd[0] = SMMU_CMD_TLBI_NH_VA | 0x79ull << 48 | 4ull << 12 | 6ull << 20;
		cmd[1] = 0x40000000ull | (uint64_t)tg << 10 | 2ull << 8;
		memset(&c, 0, sizeof(c));
		ck_assert_int_eq(smmu_hw_fmt.decode_cmd(cmd, &c), 0);
		ck_assert_int_eq(c.kind, CMD_INV_RANGE);
		ck_assert_uint_eq(c.iova, 0x40000000ull);
		ck_assert_uint_eq(c.size, (5ull << 6) << tgs[tg]);
		ck_assert(!c.leaf_only);
	}
	cmd[0] = SMMU_CMD_TLBI_NH_VA | 31ull << 12 | 31ull << 20;
	cmd[1] = 3ull << 10;
	ck_assert_int_eq(smmu_hw_fmt.decode_cmd(cmd, &c), 0);
	ck_assert_uint_eq(c.size, 32ull << (31 + 16));

	cmd[0] = SMMU_CMD_TLBI_NSNH_ALL;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(smmu_hw_fmt.decode_cmd(cmd, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_ALL);
	cmd[0] = 0x7f;
	ck_assert_int_eq(smmu_hw_fmt.decode_cmd(cmd, &c), -EINVAL);
}
END_TEST

/* Union of the ranges of the captured NH_VA commands, as [lo, hi). */
static void covered(const struct sw *s, unsigned g, uint64_t *lo, uint64_t *hi, bool *leaf)
{
	*lo = ~0ull;
	*hi = 0;
	uint64_t expect_next = ~0ull;
	for (unsigned i = 0; i < s->ncmd; i++) {
		struct hw_cmd c;
		memset(&c, 0, sizeof(c));
		ck_assert_int_eq(smmu_hw_fmt.decode_cmd(s->cmds[i], &c), 0);
		ck_assert_int_eq(c.kind, CMD_INV_RANGE);
		ck_assert_uint_eq(c.tag, TAG);
		ck_assert_uint_eq((s->cmds[i][1] & SMMU_CMD1_TG_MASK) >> SMMU_CMD1_TG_SHIFT,
				  g == 12 ? 1 : g == 14 ? 2 : 3);
		if (expect_next != ~0ull)
			ck_assert_uint_eq(c.iova, expect_next); /* adjacent pieces */
		expect_next = c.iova + c.size;
		if (c.iova < *lo)
			*lo = c.iova;
		if (c.iova + c.size > *hi)
			*hi = c.iova + c.size;
		*leaf = c.leaf_only;
	}
}

/* The format's flush through the table's own command path. */
static int sw_flush(struct sw *s, uint64_t iova, uint64_t size, bool leaf_only)
{
	struct pt_dom d;
	pt_dom_of(s->pt, &d);
	return smmu_pt_fmt.flush(&d, iova, size, leaf_only);
}

START_TEST(flush_commands_cover_the_range)
{
	for (unsigned gi = 0; gi < 3; gi++) {
		unsigned g = GRANULES[gi];
		struct sw s;
		sw_up(&s, g, 48, false);
		uint64_t gran = 1ull << g;
		static const uint64_t counts[] = {1, 2, 3, 31, 32, 33, 100, 1023, 4097, 0x12345};
		for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			uint64_t iova = 7 * gran, size = counts[k] * gran;
			s.ncmd = 0;
			ck_assert_int_eq(sw_flush(&s, iova, size, k & 1), 0);
			ck_assert_uint_ge(s.ncmd, 1);
			ck_assert_uint_le(s.ncmd, 4);
			uint64_t lo, hi;
			bool leaf;
			covered(&s, g, &lo, &hi, &leaf);
			ck_assert_uint_eq(lo, iova);
			ck_assert_uint_eq(hi, iova + size);
			ck_assert_int_eq(leaf, k & 1);
		}
		/* An unaligned byte range widens to whole granules. */
		s.ncmd = 0;
		ck_assert_int_eq(sw_flush(&s, gran + 5, gran, false), 0);
		uint64_t lo, hi;
		bool leaf;
		covered(&s, g, &lo, &hi, &leaf);
		ck_assert_uint_eq(lo, gran);
		ck_assert_uint_eq(hi, 3 * gran);
		/* Size 0: the whole ASID. */
		s.ncmd = 0;
		ck_assert_int_eq(sw_flush(&s, 0, 0, false), 0);
		ck_assert_uint_eq(s.ncmd, 1);
		ck_assert_uint_eq(s.cmds[0][0], SMMU_CMD_TLBI_NH_ASID | (uint64_t)TAG << 48);
		sw_down(&s);
	}
}
END_TEST

START_TEST(flush_drops_cached_translation)
{
	/* Software domain on the model: a read caches the page; the software
	 * remaps it and the commands it submits make the model see the change. */
	struct sw s;
	sw_up(&s, 12, 48, true);
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(s.mem, NULL, &mmu), 0);
	uint64_t w[8];
	ims_pt_ctx_words(s.pt, w);
	char err[160];
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(mmu, DEV, TAG), 0);
	ck_assert_int_eq(ims_pt_map(s.pt, IOVA, PA, 0x10000, IMS_PROT_RW, 0), 0);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(mmu, DEV, IOVA + 0x4000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, PA + 0x4000);
	ck_assert_uint_eq(x.leaf_shift, 16); /* one 64K contiguous group */
	uint64_t unmapped;
	s.ncmd = 0;
	ck_assert_int_eq(ims_pt_unmap(s.pt, IOVA, 0x10000, &unmapped), 0);
	ck_assert_uint_eq(unmapped, 0x10000);
	ck_assert_int_eq(ims_pt_map(s.pt, IOVA, PA + 0x100000, 0x10000, IMS_PROT_RW, 0), 0);
	/* Still the stale translation until the commands reach the model. */
	ck_assert_int_eq(ims_iommu_access(mmu, DEV, IOVA + 0x4000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, PA + 0x4000);
	ck_assert_uint_ge(s.ncmd, 1);
	for (unsigned i = 0; i < s.ncmd; i++)
		ck_assert_int_eq(ims_iommu_submit(mmu, IMS_FMT_SMMUV3, s.cmds[i]), 0);
	ck_assert_int_eq(ims_iommu_access(mmu, DEV, IOVA + 0x4000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, PA + 0x104000);
	/* CMD_CFGI_CD is known and accepted (contexts are re-read through the
	 * context flush); an unknown opcode is refused. */
	const uint64_t cfgi[2] = {SMMU_CMD_CFGI_CD, 0};
	ck_assert_int_eq(ims_iommu_submit(mmu, IMS_FMT_SMMUV3, cfgi), 0);
	const uint64_t bogus[2] = {0x7f, 0};
	ck_assert_int_eq(ims_iommu_submit(mmu, IMS_FMT_SMMUV3, bogus), -EINVAL);
	ims_iommu_free(mmu);
	sw_down(&s);
}
END_TEST

START_TEST(software_cd)
{
	/* Tracking domains get HA = HD = 1 at allocation; others neither;
	 * switching tracking submits nothing and changes no CD bit. */
	for (int dirty = 0; dirty < 2; dirty++) {
		struct sw s;
		sw_up(&s, 14, 47, dirty);
		uint64_t w[8];
		ims_pt_ctx_words(s.pt, w);
		ck_assert_int_eq((w[0] & SMMU_CD0_HA) != 0, dirty);
		ck_assert_int_eq((w[0] & SMMU_CD0_HD) != 0, dirty);
		ck_assert_uint_eq(w[0] & SMMU_CD0_T0SZ_MASK, 64 - 47);
		ck_assert_uint_eq((w[0] & SMMU_CD0_TG0_MASK) >> SMMU_CD0_TG0_SHIFT, SMMU_TG0_16K);
		ck_assert_uint_eq(w[0] >> SMMU_CD0_ASID_SHIFT, TAG);
		ck_assert_uint_eq(w[1], s.pt->root);
		if (dirty) {
			s.ncmd = 0;
			struct pt_dom d;
			pt_dom_of(s.pt, &d);
			ck_assert_int_eq(smmu_pt_fmt.set_hw_dirty(&d, true), 0);
			ck_assert_int_eq(smmu_pt_fmt.set_hw_dirty(&d, false), 0);
			ck_assert_uint_eq(s.ncmd, 0);
		}
		sw_down(&s);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smmu");
	TCase *tc = tcase_create("smmu");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, start_level_every_granule_and_ias);
	tcase_add_test(tc, top_table_index_bits_walk);
	tcase_add_test(tc, codec_every_level_granule_size);
	tcase_add_test(tc, software_page_sizes);
	tcase_add_test(tc, contiguous_group_sizes);
	tcase_add_test(tc, invalid_encodings_and_alignment);
	tcase_add_test(tc, lpa_layouts);
	tcase_add_test(tc, cd_decode);
	tcase_add_test(tc, access_flag_fault_outranks_permission);
	tcase_add_test(tc, af_zero_is_never_cached);
	tcase_add_test(tc, dbm_hd_dirty_state);
	tcase_add_test(tc, af_and_dirty_in_one_update);
	tcase_add_test(tc, group_update_policies);
	tcase_add_test(tc, aptable_and_privilege);
	tcase_add_test(tc, blocks_translate_and_dirty);
	tcase_add_test(tc, iova_beyond_ias);
	tcase_add_test(tc, tlbi_decode);
	tcase_add_test(tc, flush_commands_cover_the_range);
	tcase_add_test(tc, flush_drops_cached_translation);
	tcase_add_test(tc, software_cd);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
