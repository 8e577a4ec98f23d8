/* Intel VT-d second stage: codec, context, commands and fault reasons
 * (formats.md, "Intel VT-d second-stage tables").
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "formats/format.h"
#include "pagetables/pt_int.h"
#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static void hw_ctx_for(unsigned levels, bool ad, const struct ims_iommu_cfg *cfg,
		       struct hw_ctx *c)
{
	struct ims_ctx_params p = {.tag = 5, .root = 0x10000, .levels = levels, .ha = ad, .hd = ad};
	uint64_t w[IMS_CTX_WORDS] = {0};
	char err[160];
	ck_assert_int_eq(vtd_ctx_encode(&p, w, err, sizeof(err)), 0);
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(vtd_hw_fmt.decode_ctx(w, cfg, c, err, sizeof(err)), 0);
	c->ops = &vtd_hw_fmt;
	c->tag = 5;
}

static struct hw_ent dec(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc)
{
	struct hw_ent e;
	memset(&e, 0, sizeof(e));
	vtd_hw_fmt.decode(c, level, pte, acc, &e);
	return e;
}

/* ---- codec: software encode, hardware decode ------------------------------ */

START_TEST(codec_every_level_and_size)
{
	struct ims_iommu_cfg hc;
	ims_iommu_cfg_default(&hc);
	static const unsigned prots[] = {IMS_PROT_R, IMS_PROT_W, IMS_PROT_RW};
	for (unsigned levels = 3; levels <= 5; levels++) {
		struct pt_params cfg = {.levels = levels};
		struct pt_geom g;
		char err[160];
		ck_assert_int_eq(vtd_pt_fmt.init(&cfg, &g, err, sizeof(err)), 0);
		struct hw_ctx c;
		hw_ctx_for(levels, false, &hc, &c);
		/* Software geometry and hardware decode agree: AW 39/48/57. */
		ck_assert_int_eq(g.top, (int)levels - 1);
		ck_assert_int_eq(c.top, g.top);
		ck_assert_uint_eq(c.ias, 12 + 9 * levels);
		ck_assert_uint_eq(g.ias, c.ias);
		ck_assert_uint_eq(g.pgsizes, (1ull << 12) | (1ull << 21) | (1ull << 30));
		ck_assert_uint_eq(cfg.pgsizes, g.pgsizes);

		/* Tables at every level above 0 point at the next level down. */
		for (int l = 1; l <= g.top; l++) {
			uint64_t t = vtd_pt_fmt.mk_table(&g, l, 0x123456000ull);
			struct hw_ent e = dec(&c, l, t, IMS_ACC_W);
			ck_assert_int_eq(e.kind, HWE_TABLE);
			ck_assert_int_eq(e.next, l - 1);
			ck_assert_uint_eq(e.addr, 0x123456000ull);
			ck_assert(e.r && e.w);
			ck_assert_int_eq(vtd_pt_fmt.kind(&g, l, t), PT_TABLE);
			ck_assert_uint_eq(vtd_pt_fmt.table_pa(t), 0x123456000ull);
		}
		/* Leaves of 4K, 2M, 1G with each permission. */
		for (int l = 0; l <= 2; l++) {
			unsigned shift = 12 + 9 * (unsigned)l;
			ck_assert_int_eq(vtd_pt_fmt.leaf_level(&g, shift), l);
			uint64_t pa = 0x000f8000000000ull + (7ull << shift);
			for (unsigned i = 0; i < 3; i++) {
				uint64_t pte = vtd_pt_fmt.mk_leaf(&g, l, shift, pa, 0, prots[i], true);
				/* The software sets no A/D and PS only above level 0. */
				ck_assert_uint_eq(pte & (VTD_SL_A | VTD_SL_D), 0);
				ck_assert_uint_eq(!!(pte & VTD_SL_PS), l > 0);
				struct hw_ent e = dec(&c, l, pte, IMS_ACC_R);
				ck_assert_int_eq(e.kind, HWE_LEAF);
				ck_assert_uint_eq(e.addr, pa);
				ck_assert_uint_eq(e.page_shift, shift);
				ck_assert_uint_eq(e.r, (prots[i] & IMS_PROT_R) != 0);
				ck_assert_uint_eq(e.w, (prots[i] & IMS_PROT_W) != 0);
				ck_assert_int_eq(vtd_pt_fmt.kind(&g, l, pte), PT_LEAF);
				ck_assert_uint_eq(vtd_pt_fmt.leaf_shift(&g, l, pte), shift);
				ck_assert_uint_eq(vtd_pt_fmt.leaf_prot(pte), prots[i]);
				uint64_t off = 0x1a38 & ((1ull << shift) - 1);
				ck_assert_uint_eq(vtd_pt_fmt.leaf_pa(&g, l, pte, (9ull << shift) + off),
						  pa + off);
			}
		}
		ck_assert_int_eq(vtd_pt_fmt.leaf_level(&g, 13), -1);
		ck_assert_int_eq(vtd_pt_fmt.leaf_level(&g, 39), -1);
	}
}
END_TEST

START_TEST(codec_reserved_and_ignored)
{
	struct ims_iommu_cfg hc;
	ims_iommu_cfg_default(&hc);
	struct hw_ctx c;
	hw_ctx_for(5, false, &hc, &c);
	uint64_t rw = VTD_SL_R | VTD_SL_W;

	/* 2M leaf: frame 51:21, bits 20:12 reserved (each of them). */
	for (unsigned b = 12; b <= 20; b++) {
		struct hw_ent e = dec(&c, 1, 0x40000000ull | (1ull << b) | VTD_SL_PS | rw, IMS_ACC_R);
		ck_assert_int_eq(e.kind, HWE_RESERVED);
		ck_assert_uint_eq(e.code, 0xc);
	}
	ck_assert_int_eq(dec(&c, 1, 0x40200000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_LEAF);
	/* 1G leaf: bits 29:12 reserved; bit 21 is a 2M-aligned but not 1G one. */
	ck_assert_int_eq(dec(&c, 2, 0x40200000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_RESERVED);
	ck_assert_int_eq(dec(&c, 2, 0x40001000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_RESERVED);
	ck_assert_int_eq(dec(&c, 2, 0x80000000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_LEAF);
	/* A table pointer may use every address bit 51:12. */
	struct hw_ent t = dec(&c, 1, 0x40001000ull | rw, IMS_ACC_R);
	ck_assert_int_eq(t.kind, HWE_TABLE);
	ck_assert_uint_eq(t.addr, 0x40001000ull);

	/* PS at level 3 and 4 (SL-PML4E, SL-PML5E) is reserved. */
	for (int l = 3; l <= 4; l++) {
		struct hw_ent e = dec(&c, l, 0x8000000000ull | VTD_SL_PS | rw, IMS_ACC_W);
		ck_assert_int_eq(e.kind, HWE_RESERVED);
		ck_assert_uint_eq(e.code, 0xc);
		ck_assert_int_eq(dec(&c, l, 0x8000000000ull | rw, IMS_ACC_W).kind, HWE_TABLE);
	}

	/* PS is ignored at level 0: still a 4K leaf. */
	struct hw_ent e = dec(&c, 0, 0x1234000ull | VTD_SL_PS | VTD_SL_R, IMS_ACC_R);
	ck_assert_int_eq(e.kind, HWE_LEAF);
	ck_assert_uint_eq(e.page_shift, 12);
	ck_assert_uint_eq(e.addr, 0x1234000ull);

	/* SNP: valid in a leaf, reserved in a non-leaf. */
	ck_assert_int_eq(dec(&c, 0, 0x1234000ull | VTD_SL_SNP | rw, IMS_ACC_R).kind, HWE_LEAF);
	ck_assert_int_eq(dec(&c, 1, 0x1234000ull | VTD_SL_SNP | rw, IMS_ACC_R).kind, HWE_RESERVED);
	ck_assert_int_eq(dec(&c, 3, 0x1234000ull | VTD_SL_SNP | rw, IMS_ACC_R).kind, HWE_RESERVED);
	/* EMT, IPAT and D are ignored in a non-leaf. */
	ck_assert_int_eq(dec(&c, 1, 0x1234000ull | VTD_SL_EMT_MASK | VTD_SL_IPAT | VTD_SL_D | rw,
			     IMS_ACC_R).kind,
			 HWE_TABLE);

	/* No present bit: present iff R, W or X. */
	e = dec(&c, 0, 0x1234000ull | VTD_SL_A | VTD_SL_D | VTD_SL_SNP, IMS_ACC_R);
	ck_assert_int_eq(e.kind, HWE_INVALID);
	ck_assert_uint_eq(e.code, 6);
	e = dec(&c, 2, 0x1234000ull, IMS_ACC_W);
	ck_assert_int_eq(e.kind, HWE_INVALID);
	ck_assert_uint_eq(e.code, 5);
	e = dec(&c, 1, 0, IMS_ACC_RW);
	ck_assert_uint_eq(e.code, 5); /* rw counts as a write */
	e = dec(&c, 0, 0x1234000ull | VTD_SL_W, IMS_ACC_R);
	ck_assert_int_eq(e.kind, HWE_LEAF);
	ck_assert(!e.r && e.w);
	e = dec(&c, 0, 0x1234000ull | VTD_SL_X, IMS_ACC_R);
	ck_assert_int_eq(e.kind, HWE_LEAF);
	ck_assert(!e.r && !e.w);
	ck_assert_int_eq(vtd_pt_fmt.kind(NULL, 0, 0x1234000ull | VTD_SL_D), PT_NONE);
	ck_assert_int_eq(vtd_pt_fmt.kind(NULL, 0, 0x1234000ull | VTD_SL_W), PT_LEAF);
}
END_TEST

START_TEST(codec_sllps_gates_large_pages)
{
	struct ims_iommu_cfg hc;
	ims_iommu_cfg_default(&hc);
	uint64_t rw = VTD_SL_R | VTD_SL_W;
	struct hw_ctx c;

	hc.vtd_cap &= ~VTD_CAP_SLLPS_2M;
	hw_ctx_for(4, false, &hc, &c);
	ck_assert_int_eq(dec(&c, 1, 0x40000000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_RESERVED);
	ck_assert_uint_eq(dec(&c, 1, 0x40000000ull | VTD_SL_PS | rw, IMS_ACC_R).code, 0xc);
	ck_assert_int_eq(dec(&c, 2, 0x40000000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_LEAF);

	ims_iommu_cfg_default(&hc);
	hc.vtd_cap &= ~VTD_CAP_SLLPS_1G;
	hw_ctx_for(4, false, &hc, &c);
	ck_assert_int_eq(dec(&c, 1, 0x40000000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_LEAF);
	ck_assert_int_eq(dec(&c, 2, 0x40000000ull | VTD_SL_PS | rw, IMS_ACC_R).kind, HWE_RESERVED);
}
END_TEST

/* ---- hardware rules: check, A/D update ---------------------------------------- */

START_TEST(check_and_updates)
{
	struct ims_iommu_cfg hc;
	ims_iommu_cfg_default(&hc);
	struct hw_ctx c;
	hw_ctx_for(4, true, &hc, &c);
	uint32_t code = 0;
	struct hw_ent e = {.kind = HWE_LEAF, .r = true, .w = true, .page_shift = 12};
	/* Table permissions are ANDed in: W lost above -> write faults 5. */
	ck_assert_int_eq(vtd_hw_fmt.check(&c, 0, &e, true, false, IMS_ACC_W, &code), IMS_FAULT_PERM);
	ck_assert_uint_eq(code, 5);
	ck_assert_int_eq(vtd_hw_fmt.check(&c, 0, &e, false, true, IMS_ACC_R, &code), IMS_FAULT_PERM);
	ck_assert_uint_eq(code, 6);
	ck_assert_int_eq(vtd_hw_fmt.check(&c, 0, &e, true, false, IMS_ACC_R, &code), IMS_FAULT_NONE);
	e.r = false;
	ck_assert_int_eq(vtd_hw_fmt.check(&c, 0, &e, true, true, IMS_ACC_RW, &code), IMS_FAULT_PERM);
	ck_assert_uint_eq(code, 6);
	ck_assert_int_eq(vtd_hw_fmt.check(&c, 0, &e, true, true, IMS_ACC_W, &code), IMS_FAULT_NONE);

	/* SSADE: A always, D on writes; table A with the non-leaf option. */
	ck_assert(c.ha && c.hd && c.nonleaf_a);
	struct hw_upd u = {0};
	vtd_hw_fmt.leaf_update(&c, 0, IMS_ACC_R, &u);
	ck_assert_uint_eq(u.a_set, VTD_SL_A);
	ck_assert_uint_eq(u.d_set, 0);
	memset(&u, 0, sizeof(u));
	vtd_hw_fmt.leaf_update(&c, 0, IMS_ACC_W, &u);
	ck_assert_uint_eq(u.a_set, VTD_SL_A);
	ck_assert_uint_eq(u.d_set, VTD_SL_D);
	ck_assert_uint_eq(vtd_hw_fmt.table_update(&c, 3), VTD_SL_A);
	ck_assert(vtd_hw_fmt.is_dirty(&c, VTD_SL_D | 1));
	ck_assert(!vtd_hw_fmt.is_dirty(&c, VTD_SL_A | 3));
	ck_assert(vtd_hw_fmt.is_accessed(&c, VTD_SL_A));
	ck_assert(vtd_hw_fmt.cacheable(&c, 3));
	ck_assert_uint_eq(vtd_hw_fmt.cond_code(&c, COND_RANGE, true), 4);
	ck_assert_uint_eq(vtd_hw_fmt.cond_code(&c, COND_RANGE, false), 4);

	hc.vtd_nonleaf_accessed = false;
	hw_ctx_for(4, true, &hc, &c);
	ck_assert(!c.nonleaf_a);
	ck_assert_uint_eq(vtd_hw_fmt.table_update(&c, 3), 0);

	ims_iommu_cfg_default(&hc);
	hw_ctx_for(4, false, &hc, &c);
	ck_assert(!c.ha && !c.hd && !c.nonleaf_a);
	memset(&u, 0, sizeof(u));
	vtd_hw_fmt.leaf_update(&c, 0, IMS_ACC_W, &u);
	ck_assert_uint_eq(u.a_set | u.d_set, 0);
	ck_assert_uint_eq(vtd_hw_fmt.table_update(&c, 3), 0);
}
END_TEST

/* ---- contexts -------------------------------------------------------------------- */

START_TEST(ctx_encode_words)
{
	char err[160];
	uint64_t w[IMS_CTX_WORDS] = {0};
	struct ims_ctx_params p = {.tag = 0x1234, .root = 0x7f00000000ull, .levels = 3};
	ck_assert_int_eq(vtd_ctx_encode(&p, w, err, sizeof(err)), 0);
	/* P, AW = 001b, PGTT = 010b, SSPTPTR; DID in qword 1. */
	ck_assert_uint_eq(w[0], 0x7f00000000ull | 1 | (1 << 2) | (2 << 6));
	ck_assert_uint_eq(w[1], 0x1234);
	p.levels = 0; /* default 4 */
	p.ha = p.hd = true;
	ck_assert_int_eq(vtd_ctx_encode(&p, w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w[0], 0x7f00000000ull | 1 | (2 << 2) | (2 << 6) | (1 << 9));
	p.levels = 5;
	p.ha = p.hd = false;
	ck_assert_int_eq(vtd_ctx_encode(&p, w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w[0] & VTD_PE0_AW_MASK, 3 << 2);

	/* ha and hd must be equal: one enable, SSADE. */
	struct ims_ctx_params bad = p;
	bad.ha = true;
	err[0] = 0;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "SSADE"));
	bad = p;
	bad.hd = true;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	bad = p;
	bad.levels = 2;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	bad.levels = 6;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	bad = p;
	bad.root = 0x10800;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	bad.root = 1ull << 52;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	bad = p;
	bad.ias = 48;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
	bad = p;
	bad.granule_shift = 16;
	ck_assert_int_eq(vtd_ctx_encode(&bad, w, err, sizeof(err)), -EINVAL);
}
END_TEST

static int ctx_decode(const uint64_t q0, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t len)
{
	uint64_t w[IMS_CTX_WORDS] = {q0, 3};
	memset(c, 0, sizeof(*c));
	err[0] = 0;
	return vtd_hw_fmt.decode_ctx(w, cfg, c, err, len);
}

START_TEST(ctx_decode_errors)
{
	struct ims_iommu_cfg hc;
	ims_iommu_cfg_default(&hc);
	struct hw_ctx c;
	char err[200];
	const uint64_t ok = 0x10000 | VTD_PE0_P | (2ull << 2) | (2ull << 6);
	ck_assert_int_eq(ctx_decode(ok, &hc, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.root, 0x10000);
	ck_assert_int_eq(c.top, 3);
	ck_assert_uint_eq(c.ias, 48);
	ck_assert(c.r && c.w && !c.ha && !c.hd);

	/* AW: 001b..011b only. */
	for (uint64_t aw = 0; aw < 8; aw++) {
		uint64_t q0 = (ok & ~VTD_PE0_AW_MASK) | (aw << 2);
		int rc = ctx_decode(q0, &hc, &c, err, sizeof(err));
		if (aw >= 1 && aw <= 3) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(c.ias, 30 + 9 * aw);
			ck_assert_int_eq(c.top, (int)aw + 1);
		} else {
			ck_assert_int_eq(rc, -EINVAL);
			ck_assert_ptr_nonnull(strstr(err, "AW"));
		}
	}
	/* P clear, PGTT other than second-stage. */
	ck_assert_int_eq(ctx_decode(ok & ~VTD_PE0_P, &hc, &c, err, sizeof(err)), -EINVAL);
	for (uint64_t pgtt = 0; pgtt < 8; pgtt++) {
		uint64_t q0 = (ok & ~VTD_PE0_PGTT_MASK) | (pgtt << 6);
		ck_assert_int_eq(ctx_decode(q0, &hc, &c, err, sizeof(err)), pgtt == 2 ? 0 : -EINVAL);
	}
	/* SSPTPTR above the 52-bit host address width. */
	ck_assert_int_eq(ctx_decode(ok | (1ull << 52), &hc, &c, err, sizeof(err)), -EINVAL);

	/* SSADE needs ECAP.SSADS and ECAP.SMPWC (3.10). */
	ck_assert_int_eq(ctx_decode(ok | VTD_PE0_SSADE, &hc, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && c.hd && c.nonleaf_a);
	hc.vtd_ecap &= ~VTD_ECAP_SSADS;
	ck_assert_int_eq(ctx_decode(ok | VTD_PE0_SSADE, &hc, &c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "SSADS"));
	ck_assert_int_eq(ctx_decode(ok, &hc, &c, err, sizeof(err)), 0);
	ims_iommu_cfg_default(&hc);
	hc.vtd_ecap &= ~VTD_ECAP_SMPWC;
	ck_assert_int_eq(ctx_decode(ok | VTD_PE0_SSADE, &hc, &c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "SMPWC"));
	ck_assert_int_eq(ctx_decode(ok, &hc, &c, err, sizeof(err)), 0);

	/* Through the model: the context is refused with the reason. */
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu = NULL;
	ck_assert_int_eq(ims_iommu_new(mem, &hc, &mmu), 0);
	uint64_t w[IMS_CTX_WORDS] = {ok | VTD_PE0_SSADE, 9};
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 9, IMS_FMT_VTD, w, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "SMPWC"));
	ims_iommu_free(mmu);
	ims_mem_free(mem);
}
END_TEST

/* ---- invalidation descriptors ------------------------------------------------------ */

static int cmd_dec(uint64_t c0, uint64_t c1, struct hw_cmd *out)
{
	const uint64_t cmd[2] = {c0, c1};
	memset(out, 0, sizeof(*out));
	return vtd_hw_fmt.decode_cmd(cmd, out);
}

START_TEST(cmd_decode)
{
	struct hw_cmd c;
	const uint64_t did = 0x2a5ull << 16;
	/* Page-selective, AM = 9: 2 MiB, address aligned down, IH = leaf only. */
	ck_assert_int_eq(cmd_dec(2 | (3 << 4) | did, 0x40123000ull | 9 | (1 << 6), &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_RANGE);
	ck_assert_uint_eq(c.tag, 0x2a5);
	ck_assert_uint_eq(c.iova, 0x40000000ull);
	ck_assert_uint_eq(c.size, 2 * MiB);
	ck_assert(c.leaf_only);
	/* AM = 0, no IH: one page, walk caches too; DW / DR change nothing. */
	ck_assert_int_eq(cmd_dec(2 | (3 << 4) | (3 << 6) | did, 0x40123000ull, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_RANGE);
	ck_assert_uint_eq(c.iova, 0x40123000ull);
	ck_assert_uint_eq(c.size, 4096);
	ck_assert(!c.leaf_only);
	/* AM = 18: 1 GiB. */
	ck_assert_int_eq(cmd_dec(2 | (3 << 4) | did, 0x7fffffff000ull | 18, &c), 0);
	ck_assert_uint_eq(c.iova, 0x7ffc0000000ull);
	ck_assert_uint_eq(c.size, GiB);
	/* AM past the 64-bit space: the whole domain. */
	ck_assert_int_eq(cmd_dec(2 | (3 << 4) | did, 63, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_DOMAIN);
	ck_assert_uint_eq(c.tag, 0x2a5);
	/* Domain-selective and global. */
	ck_assert_int_eq(cmd_dec(2 | (2 << 4) | did, 0, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_DOMAIN);
	ck_assert_uint_eq(c.tag, 0x2a5);
	ck_assert_int_eq(cmd_dec(2 | (1 << 4), 0, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_ALL);
	ck_assert_int_eq(cmd_dec(2 | (0 << 4) | did, 0, &c), -EINVAL);
	/* PASID-cache invalidation: a context re-read for the DID. */
	ck_assert_int_eq(cmd_dec(7 | did, 0, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_CTX);
	ck_assert_uint_eq(c.tag, 0x2a5);
	ck_assert_int_eq(cmd_dec(7 | (1 << 4) | did, 0, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_CTX);
	/* Other descriptor types. */
	ck_assert_int_eq(cmd_dec(1 | did, 0, &c), -EINVAL);
	ck_assert_int_eq(cmd_dec(6 | did, 0, &c), -EINVAL);
	ck_assert_int_eq(cmd_dec(2 | (3 << 4) | (1 << 9), 0, &c), -EINVAL);
}
END_TEST

/* A sink that records what the software sends. */
struct rec {
	uint64_t cmd[32][2];
	char what[64]; /* 'c' command, 'u' ctx update, 'f' ctx flush */
	unsigned n, nw;
	unsigned upd_word;
	uint64_t upd_clear, upd_set;
};

static int rec_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct rec *r = arg;
	ck_assert_int_eq(fmt, IMS_FMT_VTD);
	if (r->n < 32) {
		r->cmd[r->n][0] = cmd[0];
		r->cmd[r->n][1] = cmd[1];
	}
	r->n++;
	if (r->nw < 63)
		r->what[r->nw++] = 'c';
	return 0;
}

static int rec_update(void *arg, uint16_t tag, unsigned word, uint64_t clear, uint64_t set)
{
	struct rec *r = arg;
	ck_assert_uint_eq(tag, 0x33);
	r->upd_word = word;
	r->upd_clear = clear;
	r->upd_set = set;
	if (r->nw < 63)
		r->what[r->nw++] = 'u';
	return 0;
}

static int rec_flush(void *arg, uint16_t tag)
{
	struct rec *r = arg;
	ck_assert_uint_eq(tag, 0x33);
	if (r->nw < 63)
		r->what[r->nw++] = 'f';
	return 0;
}

static struct ims_pt *rec_pt(struct ims_mem *mem, struct rec *r, unsigned levels)
{
	memset(r, 0, sizeof(*r));
	struct ims_sink sink = {.arg = r, .submit = rec_submit, .ctx_update = rec_update,
				.ctx_flush = rec_flush};
	struct ims_pt_cfg cfg = {.fmt = IMS_FMT_VTD, .tag = 0x33, .levels = levels,
				 .dirty_tracking = true};
	struct ims_pt *pt = NULL;
	char err[160];
	ck_assert_int_eq(ims_pt_new(mem, &cfg, &sink, &pt, err, sizeof(err)), 0);
	return pt;
}

START_TEST(sw_flush_and_tracking)
{
	struct ims_mem *mem = ims_mem_new();
	struct rec r;
	struct ims_pt *pt = rec_pt(mem, &r, 4);
	struct hw_cmd c;

	/* [0x40001000, +12K) -> 4 pages at 0x40000000 (AM = 2). */
	ck_assert_int_eq(ims_pt_flush(pt, 0x40001000ull, 0x3000), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.cmd[0][0], 2 | (3 << 4) | (0x33ull << 16));
	ck_assert_uint_eq(r.cmd[0][1], 0x40000000ull | 2);
	ck_assert_int_eq(vtd_hw_fmt.decode_cmd(r.cmd[0], &c), 0);
	ck_assert_uint_eq(c.iova, 0x40000000ull);
	ck_assert_uint_eq(c.size, 0x4000);
	ck_assert(!c.leaf_only);
	/* A range across an alignment boundary needs a larger mask. */
	ck_assert_int_eq(ims_pt_flush(pt, 0x3ff000ull, 0x2000), 0);
	ck_assert_uint_eq(r.cmd[1][1], 0 | 11); /* [0, 8M) covers 0x3ff000..0x400fff */
	/* One page: AM = 0. */
	ck_assert_int_eq(ims_pt_flush(pt, 0x5000, 0x1000), 0);
	ck_assert_uint_eq(r.cmd[2][1], 0x5000);
	/* Size 0 and the whole 48-bit space: domain-selective. */
	ck_assert_int_eq(ims_pt_flush(pt, 0, 0), 0);
	ck_assert_uint_eq(r.cmd[3][0], 2 | (2 << 4) | (0x33ull << 16));
	ck_assert_int_eq(ims_pt_flush(pt, 0, 1ull << 48), 0);
	ck_assert_uint_eq(r.cmd[4][0], 2 | (2 << 4) | (0x33ull << 16));
	ck_assert_int_eq(ims_pt_flush(pt, 1ull << 47, 1ull << 47), 0);
	ck_assert_uint_eq(r.cmd[5][0], 2 | (3 << 4) | (0x33ull << 16));
	ck_assert_uint_eq(r.cmd[5][1], (1ull << 47) | 35);

	/* Context words: P, AW 010b, PGTT 010b, root; DID; no SSADE yet. */
	uint64_t w[8];
	ims_pt_ctx_words(pt, w);
	ck_assert_uint_eq(w[0] & 0xfff, 1 | (2 << 2) | (2 << 6));
	ck_assert_uint_eq(w[0] & ~0xfffull, pt->root);
	ck_assert_uint_eq(w[1], 0x33);

	/* Enable: SSADE in qword 0, PASID-cache flush, then domain IOTLB. */
	r.nw = 0;
	r.n = 0;
	memset(r.what, 0, sizeof(r.what));
	ck_assert_int_eq(ims_pt_set_dirty_tracking(pt, true), 0);
	ck_assert_str_eq(r.what, "ufc");
	ck_assert_uint_eq(r.upd_word, 0);
	ck_assert_uint_eq(r.upd_clear, VTD_PE0_SSADE);
	ck_assert_uint_eq(r.upd_set, VTD_PE0_SSADE);
	ck_assert_uint_eq(r.cmd[0][0], 2 | (2 << 4) | (0x33ull << 16));
	ims_pt_ctx_words(pt, w);
	ck_assert_uint_eq(w[0] & VTD_PE0_SSADE, VTD_PE0_SSADE);

	/* A clearing harvest flushes page-selective with IH (leaf only). */
	ck_assert_int_eq(ims_pt_map(pt, 0x200000, 0x80000000ull, 2 * MiB, IMS_PROT_RW, 0), 0);
	uint64_t l1 = 0;
	/* Find the 2M leaf and dirty it by hand. */
	uint64_t t = pt->root;
	for (int l = 3; l > 1; l--)
		t = ims_mem_load(mem, IMS_AGENT_SW, t + 8 * ((0x200000ull >> (12 + 9 * l)) & 511)) &
		    VTD_SL_ADDR_MASK;
	l1 = t + 8;
	uint64_t leaf = ims_mem_load(mem, IMS_AGENT_SW, l1);
	ck_assert_uint_eq(leaf, 0x80000000ull | VTD_SL_PS | 3);
	ims_mem_store(mem, IMS_AGENT_HW, l1, leaf | VTD_SL_D | VTD_SL_A);
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 8 * MiB, 21), 0);
	r.n = 0;
	ck_assert_int_eq(ims_pt_read_and_clear_dirty(pt, 0, 8 * MiB, 0, &bm), 0);
	ck_assert(ims_bitmap_test(&bm, 1));
	ck_assert_uint_eq(ims_bitmap_count(&bm), 1);
	ck_assert_uint_eq(ims_mem_load(mem, IMS_AGENT_SW, l1), leaf | VTD_SL_A); /* D cleared */
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.cmd[0][1], 0x200000ull | 9 | VTD_IOTLB_IH);
	ims_bitmap_fini(&bm);

	/* Disable: SSADE off, same invalidation sequence. */
	r.nw = 0;
	memset(r.what, 0, sizeof(r.what));
	ck_assert_int_eq(ims_pt_set_dirty_tracking(pt, false), 0);
	ck_assert_str_eq(r.what, "ufc");
	ck_assert_uint_eq(r.upd_set, 0);
	ims_pt_free(pt);

	/* Geometry refusals of the software side. */
	struct pt_params cfg = {.levels = 6};
	struct pt_geom g;
	char err[160];
	ck_assert_int_eq(vtd_pt_fmt.init(&cfg, &g, err, sizeof(err)), -EINVAL);
	cfg.levels = 2;
	ck_assert_int_eq(vtd_pt_fmt.init(&cfg, &g, err, sizeof(err)), -EINVAL);
	cfg.levels = 3;
	cfg.granule_shift = 14;
	ck_assert_int_eq(vtd_pt_fmt.init(&cfg, &g, err, sizeof(err)), -EINVAL);
	cfg.granule_shift = 0;
	cfg.ias = 39;
	ck_assert_int_eq(vtd_pt_fmt.init(&cfg, &g, err, sizeof(err)), -EINVAL);
	ims_mem_free(mem);
}
END_TEST

/* ---- fault reasons through the model ------------------------------------------------- */

#define ROOT 0x10000ull
#define L1T 0x11000ull
#define L0T 0x12000ull

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
};

static void rig_up(struct rig *g, bool ad)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	g->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(g->mem, &cfg, &g->mmu), 0);
	struct ims_ctx_params p = {.tag = 4, .root = ROOT, .levels = 3, .ha = ad, .hd = ad};
	uint64_t w[IMS_CTX_WORDS];
	char err[160];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_VTD, &p, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(g->mmu, 4, IMS_FMT_VTD, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(g->mmu, 0x10, 4), 0);
	/* Level 2 (SL-PDPE) entry 0 -> level 1 table; its entry 0 -> level 0. */
	ims_mem_store(g->mem, IMS_AGENT_HW, ROOT, L1T | 3);
	ims_mem_store(g->mem, IMS_AGENT_HW, L1T, L0T | 3);
	ims_mem_store(g->mem, IMS_AGENT_HW, L0T + 8 * 1, 0x80001000ull | 1); /* R only */
	ims_mem_store(g->mem, IMS_AGENT_HW, L0T + 8 * 2, 0x80002000ull | 2); /* W only */
	ims_mem_store(g->mem, IMS_AGENT_HW, L0T + 8 * 3, 0x80003000ull);     /* not present */
	ims_mem_store(g->mem, IMS_AGENT_HW, L0T + 8 * 4, 0x80004000ull | 3); /* R W */
	/* Level 1 entry 1: a 2M leaf with bit 12 set (reserved). */
	ims_mem_store(g->mem, IMS_AGENT_HW, L1T + 8 * 1, 0x80201000ull | VTD_SL_PS | 3);
	/* Level 1 entry 2: read-only table over a RW leaf. */
	ims_mem_store(g->mem, IMS_AGENT_HW, L1T + 8 * 2, 0x13000ull | 1);
	ims_mem_store(g->mem, IMS_AGENT_HW, 0x13000ull, 0x90000000ull | 3);
}

static void rig_down(struct rig *g)
{
	ims_iommu_free(g->mmu);
	ims_mem_free(g->mem);
}

static void expect_fault(struct rig *g, uint64_t iova, unsigned acc, enum ims_fault_kind kind,
			 uint32_t code)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(g->mmu, 0x10, iova, acc, &x), (int)kind);
	ck_assert_int_eq(x.fault, kind);
	ck_assert_uint_eq(x.code, code);
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(g->mmu, &f));
	ck_assert_int_eq(f.kind, kind);
	ck_assert_uint_eq(f.code, code);
	ck_assert_uint_eq(f.iova, iova);
	ck_assert_int_eq(f.fmt, IMS_FMT_VTD);
	ck_assert_uint_eq(f.dom, 4);
}

START_TEST(fault_reasons)
{
	struct rig g;
	rig_up(&g, false);
	struct ims_xlate x;
	/* 5: write with W = 0; 6: read with R = 0 (both permission faults). */
	expect_fault(&g, 0x1010, IMS_ACC_W, IMS_FAULT_PERM, 5);
	expect_fault(&g, 0x2010, IMS_ACC_R, IMS_FAULT_PERM, 6);
	expect_fault(&g, 0x2010, IMS_ACC_RW, IMS_FAULT_PERM, 6);
	/* A W-only entry is present: the write translates. */
	ck_assert_int_eq(ims_iommu_access(g.mmu, 0x10, 0x2010, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, 0x80002010ull);
	ck_assert_int_eq(ims_iommu_access(g.mmu, 0x10, 0x1010, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x80001010ull);
	/* Not present: reason 6 on a read, 5 on a write, kind notpresent. */
	expect_fault(&g, 0x3000, IMS_ACC_R, IMS_FAULT_NOTPRESENT, 6);
	expect_fault(&g, 0x3000, IMS_ACC_W, IMS_FAULT_NOTPRESENT, 5);
	expect_fault(&g, 1ull << 30, IMS_ACC_R, IMS_FAULT_NOTPRESENT, 6); /* empty SL-PDPE */
	/* 0xC: reserved bit in a paging entry. */
	expect_fault(&g, 0x200000, IMS_ACC_R, IMS_FAULT_NOTPRESENT, 0xc);
	expect_fault(&g, 0x200000, IMS_ACC_W, IMS_FAULT_NOTPRESENT, 0xc);
	/* 4: beyond the 39-bit address width. */
	expect_fault(&g, 1ull << 39, IMS_ACC_R, IMS_FAULT_NOTPRESENT, 4);
	expect_fault(&g, ~0ull & ~0xfffull, IMS_ACC_W, IMS_FAULT_NOTPRESENT, 4);
	ck_assert_int_eq(ims_iommu_access(g.mmu, 0x10, (1ull << 39) - 4096, IMS_ACC_R, &x),
			 IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.code, 6); /* inside the width: walked, not present */
	ims_iommu_fault_pop(g.mmu, &(struct ims_fault){0});
	/* R/W ANDed level by level: a read-only table forbids writes below. */
	ck_assert_int_eq(ims_iommu_access(g.mmu, 0x10, 0x400000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x90000000ull);
	expect_fault(&g, 0x400000, IMS_ACC_W, IMS_FAULT_PERM, 5);
	ck_assert_uint_eq(ims_iommu_fault_pending(g.mmu), 0);
	/* SSADE off: nothing written. */
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, ROOT), L1T | 3);
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, L0T + 16), 0x80002000ull | 2);
	rig_down(&g);
}
END_TEST

START_TEST(ad_updates_in_memory)
{
	struct rig g;
	rig_up(&g, true);
	struct ims_xlate x;
	uint64_t A = VTD_SL_A, D = VTD_SL_D;
	ck_assert_int_eq(ims_iommu_access(g.mmu, 0x10, 0x4000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, ROOT), L1T | 3 | A);
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, L1T), L0T | 3 | A);
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, L0T + 32), 0x80004000ull | 3 | A);
	ck_assert(!x.dirtied);
	ck_assert_int_eq(ims_iommu_access(g.mmu, 0x10, 0x4000, IMS_ACC_W, &x), 0);
	ck_assert(x.dirtied);
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, L0T + 32), 0x80004000ull | 3 | A | D);
	/* D never lands in a non-leaf. */
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, L1T), L0T | 3 | A);
	/* A faulting write sets neither A nor D in the leaf. */
	expect_fault(&g, 0x1000, IMS_ACC_W, IMS_FAULT_PERM, 5);
	ck_assert_uint_eq(ims_mem_load(g.mem, IMS_AGENT_HW, L0T + 8), 0x80001000ull | 1);
	ck_assert(ims_oracle_test(ims_iommu_oracle(g.mmu), 4, 0x4000));
	ck_assert(!ims_oracle_test(ims_iommu_oracle(g.mmu), 4, 0x1000));
	rig_down(&g);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, codec_every_level_and_size);
	tcase_add_test(tc, codec_reserved_and_ignored);
	tcase_add_test(tc, codec_sllps_gates_large_pages);
	tcase_add_test(tc, check_and_updates);
	tcase_add_test(tc, ctx_encode_words);
	tcase_add_test(tc, ctx_decode_errors);
	tcase_add_test(tc, cmd_decode);
	tcase_add_test(tc, sw_flush_and_tracking);
	tcase_add_test(tc, fault_reasons);
	tcase_add_test(tc, ad_updates_in_memory);
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
