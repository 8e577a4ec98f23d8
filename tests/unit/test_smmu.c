/* Arm SMMUv3 stage 1: geometry, codec (software encode, hardware decode),
 * CD decode and commands (formats.md "Arm SMMUv3 stage 1"). The hardware
 * rules through the model are test_smmu_walk.c. */
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

#include "smmu_test.h"

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
			uint64_t pa = 0x100000000000ull; /* aligned to every leaf (4T) */
			/* x0: invalid at every level. */
			for (uint64_t type = 0; type < 4; type += 2) {
				memset(&e, 0, sizeof(e));
				smmu_hw_fmt.decode(&c, L, pa | type | SMMU_D_AF, IMS_ACC_R, &e);
				ck_assert_int_eq(e.kind, HWE_INVALID);
				ck_assert_uint_eq(e.code, SMMU_EVT_F_TRANSLATION);
			}
			/* 01: a block only where the granule has one (4K: Arm L1, L2;
			 * 16K, 64K: Arm L2; 64K Arm L1 too, as the default
			 * SMMU_IDR5.OAS is 52 bits); reserved at Arm L3. */
			bool blocks = (g == 12 && (L == 1 || L == 2)) || (g != 12 && L == 1) ||
				      (g == 16 && L == 2);
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
	/* SMMUv3 5.4: CD.HD with HTTU = 01b is ILLEGAL, HA alone is not;
	 * with HTTU = 00b HA is ILLEGAL too, and HD with or without HA. The
	 * reason names the field. */
	cfg.smmu_idr0 = 1ull << SMMU_IDR0_HTTU_SHIFT;
	err[0] = 0;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "CD.HD") != NULL, "%s", err);
	uint64_t ha_only[IMS_CTX_WORDS], hd_only[IMS_CTX_WORDS], neither[IMS_CTX_WORDS];
	memcpy(ha_only, w, sizeof(ha_only));
	ha_only[0] &= ~SMMU_CD0_HD;
	memcpy(hd_only, w, sizeof(hd_only));
	hd_only[0] &= ~SMMU_CD0_HA;
	memcpy(neither, w, sizeof(neither));
	neither[0] &= ~(SMMU_CD0_HA | SMMU_CD0_HD);
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(ha_only, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && !c.hd);
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(hd_only, &cfg, &c, err, sizeof(err)), -EINVAL);
	cfg.smmu_idr0 = 0;
	err[0] = 0;
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(ha_only, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "CD.HA") != NULL, "%s", err);
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(hd_only, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(smmu_hw_fmt.decode_ctx(neither, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(!c.ha && !c.hd);
	/* Through the model: the CD is refused (C_BAD_CD). */
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3, ha_only, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3, neither, err, sizeof(err)), 0);
	ims_iommu_free(mmu);
	ims_mem_free(mem);
	/* {HD, HA} = 10b where HD is not ILLEGAL (HTTU = 2) behaves as both
	 * off. */
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
		/* The driver allocates a tracking domain only where the SMMU
		 * is dirty-capable (HTTU >= 2, as Linux's FEAT_HD check), and
		 * exactly there the model takes its CD (5.4: HA, HD beyond
		 * HTTU are ILLEGAL); an untracked domain's CD is legal on
		 * every HTTU. */
		for (unsigned httu = 0; httu < 4; httu++) {
			struct ims_iommu_cfg cfg;
			ims_iommu_cfg_default(&cfg);
			cfg.smmu_idr0 = (cfg.smmu_idr0 & ~SMMU_IDR0_HTTU_MASK) |
					(uint64_t)httu << SMMU_IDR0_HTTU_SHIFT;
			bool capable = ims_iommu_cfg_dirty_capable(&cfg, IMS_FMT_SMMUV3);
			ck_assert_int_eq(capable, httu >= 2);
			struct ims_mem *mem = ims_mem_new();
			struct ims_iommu *mmu;
			ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
			char err[160] = "";
			int rc = ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3, w, err, sizeof(err));
			ck_assert_msg(rc == (!dirty || capable ? 0 : -EINVAL), "httu %u dirty %d: %s",
				      httu, dirty, err);
			ims_iommu_free(mmu);
			ims_mem_free(mem);
		}
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
	tcase_add_test(tc, codec_every_level_granule_size);
	tcase_add_test(tc, software_page_sizes);
	tcase_add_test(tc, contiguous_group_sizes);
	tcase_add_test(tc, invalid_encodings_and_alignment);
	tcase_add_test(tc, lpa_layouts);
	tcase_add_test(tc, cd_decode);
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
