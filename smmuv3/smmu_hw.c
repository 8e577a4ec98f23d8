/* Arm SMMUv3 stage 1 (VMSAv8-64): the hardware's rules, written from the
 * Arm ARM chapter D8 and the SMMUv3 spec as formats.md quotes them, for
 * model/'s engine. Levels: see smmuv3/smmu_codec.h (our level 0 = Arm
 * level 3).
 */
#include <errno.h>
#include <stdio.h>

#include "smmuv3/smmu.h"
#include "smmuv3/smmu_codec.h"
#include "smmuv3/vmsa_hw.h"
#include "model/hot_path.h"

static unsigned ceil_div(unsigned a, unsigned b)
{
	return (a + b - 1) / b;
}

/* SMMUv3 5.4 (CD.T0SZ, CD.TG0, CD.DS): T0SZ is at most 39; at least 16,
 * or 12 with the 64K granule or DS = 1. The model ties DS to the geometry
 * (smmu_codec.h), so a CD whose DS disagrees is refused. */
static int decode_ctx(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t errlen)
{
	uint64_t w0 = w[0];
	if (!(w0 & SMMU_CD0_V)) {
		if (err)
			snprintf(err, errlen, "CD.V must be set");
		return -EINVAL;
	}
	if (!(w0 & SMMU_CD0_AA64)) {
		if (err)
			snprintf(err, errlen, "CD.AA64 = 0 (VMSAv8-32 LPAE tables) is not modelled");
		return -EINVAL;
	}
	if (w0 & SMMU_CD0_EPD0) {
		if (err)
			snprintf(err, errlen, "CD.EPD0 = 1 (no TTB0 walks) is not modelled");
		return -EINVAL;
	}
	if (w0 & SMMU_CD0_ENDI) {
		if (err)
			snprintf(err, errlen, "CD.ENDI = 1 (big-endian tables) is not modelled");
		return -EINVAL;
	}
	unsigned gshift;
	switch ((w0 & SMMU_CD0_TG0_MASK) >> SMMU_CD0_TG0_SHIFT) {
	case SMMU_TG0_4K:
		gshift = 12;
		break;
	case SMMU_TG0_16K:
		gshift = 14;
		break;
	case SMMU_TG0_64K:
		gshift = 16;
		break;
	default:
		if (err)
			snprintf(err, errlen, "CD.TG0 = 11b is reserved (granule)");
		return -EINVAL;
	}
	unsigned t0sz = (unsigned)(w0 & SMMU_CD0_T0SZ_MASK);
	bool ds = gshift < 16 && (w[2] & SMMU_CD2_DS);
	unsigned min = (gshift == 16 || ds) ? 12 : 16;
	if (t0sz < min || t0sz > 39) {
		if (err)
			snprintf(err, errlen, "CD.T0SZ = %u: ias %u is not in 25..%u (%uK granule%s)",
				 t0sz, 64 - t0sz, 64 - min, 1u << (gshift - 10), ds ? ", DS" : "");
		return -EINVAL;
	}
	unsigned ias = 64 - t0sz;
	if (ds != smmu_geom_ds(gshift, ias)) {
		if (err)
			snprintf(err, errlen,
				 "CD.DS = 1 with ias %u: the model uses DS only for ias > 48", ias);
		return -EINVAL;
	}
	unsigned stride = gshift - 3;
	uint64_t root = w[1] & SMMU_CD1_TTB0_MASK;
	c->top = (int)ceil_div(ias - gshift, stride) - 1;
	c->gshift = gshift;
	c->stride = stride;
	c->ias = ias;
	/* SMMUv3 5.4 (TTB0): the SMMU aligns the base to the top table's size
	 * (at least 64 bytes); the low bits are treated as zero. */
	unsigned top_bits = hw_level_bits(c, c->top);
	uint64_t align = 8ull << top_bits;
	if (align < 64)
		align = 64;
	c->root = root & ~(align - 1);
	/* SMMUv3 5.4 (CD.HA, CD.HD): it is ILLEGAL to set HA when
	 * SMMU_IDR0.HTTU = 00b, and HD when HTTU = 00b or 01b (C_BAD_CD);
	 * {HD, HA} = 10b (HD not ILLEGAL) behaves as both off. */
	unsigned httu = (unsigned)((cfg->smmu_idr0 & SMMU_IDR0_HTTU_MASK) >> SMMU_IDR0_HTTU_SHIFT);
	if ((w0 & SMMU_CD0_HA) && httu < 1) {
		if (err)
			snprintf(err, errlen,
				 "CD.HA = 1 but SMMU_IDR0.HTTU = 0 (no hardware access flag update)");
		return -EINVAL;
	}
	if ((w0 & SMMU_CD0_HD) && httu < 2) {
		if (err)
			snprintf(err, errlen,
				 "CD.HD = 1 but SMMU_IDR0.HTTU = %u (no hardware dirty state update)",
				 httu);
		return -EINVAL;
	}
	c->ha = (w0 & SMMU_CD0_HA) != 0;
	c->hd = (w0 & SMMU_CD0_HD) && c->ha;
	/* 5.4 (AFFD): ignored when HA = 1. */
	c->affd = (w0 & SMMU_CD0_AFFD) && !c->ha;
	/* Stage 1 has no context-level permission. */
	c->r = c->w = true;
	/* STE.PRIVCFG: device transactions are unprivileged unless the model
	 * is told otherwise (formats.md, "Arm SMMUv3 stage 1"). */
	c->priv = cfg->dma_privileged;
	/* Table AF updates (HTTU = 3 with CD.HAFT) are not modelled. */
	c->nonleaf_a = false;
	/* 64K level-1 blocks need PAMax = 52 (vmsa_hw.h). */
	c->caps = vmsa_hw_pa52(cfg->smmu_idr5);
	return 0;
}

static void decode(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		   struct hw_ent *e)
{
	(void)acc;
	uint64_t type = pte & SMMU_D_TYPE_MASK;
	unsigned entry_shift = hw_level_shift(c, level);
	e->code = SMMU_EVT_F_TRANSLATION;
	/* D8.3: x0 is invalid; 01 at Arm level 3, or at a level without
	 * blocks, is reserved and faults as invalid. */
	if (!(pte & 1) || (type == SMMU_D_BLOCK && (level == 0 || !vmsa_hw_block_ok(c, level)))) {
		e->kind = HWE_INVALID;
		return;
	}
	if (type == SMMU_D_TABLE && level > 0) {
		/* RES0 address bits below the granule: CONSTRAINED
		 * UNPREDICTABLE; the model faults (translation fault). */
		if (vmsa_hw_low_bits(c, pte, c->gshift)) {
			e->kind = HWE_RESERVED;
			return;
		}
		e->kind = HWE_TABLE;
		e->next = level - 1;
		e->addr = vmsa_hw_oa(c, pte);
		/* D8.4 hierarchical permissions: APTable[0] takes away
		 * unprivileged access below, APTable[1] write access. */
		e->r = !((pte & SMMU_T_APTABLE0) && !c->priv);
		e->w = !(pte & SMMU_T_APTABLE1);
		return;
	}
	/* A block (01) or page (11 at Arm level 3). The OA is aligned to the
	 * entry size; bits below it are RES0 and, as for tables, the model
	 * faults on them rather than guess (CONSTRAINED UNPREDICTABLE). */
	if (vmsa_hw_low_bits(c, pte, entry_shift)) {
		e->kind = HWE_RESERVED;
		return;
	}
	unsigned shift = entry_shift;
	unsigned cl = smmu_contig_log2(c->gshift, level);
	/* D8, "The Contiguous bit": the group maps one aligned output range,
	 * so its output address is this entry's OA aligned down to it. */
	if ((pte & SMMU_D_CONT) && cl)
		shift += cl;
	e->kind = HWE_LEAF;
	e->page_shift = shift;
	e->addr = vmsa_hw_oa(c, pte) & ~((1ull << shift) - 1);
	e->r = c->priv || (pte & SMMU_D_AP1);
	e->w = e->r && !(pte & SMMU_D_AP2);
}

/* The table test of decode() (D8.3): valid, type 11, above Arm level 3.
 * Both stages (vmsa_hw.h). */
int smmu_hw_next_table(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table)
{
	if ((pte & SMMU_D_TYPE_MASK) != SMMU_D_TABLE || level == 0)
		return -1;
	*table = vmsa_hw_oa(c, pte);
	return level - 1;
}

/* D8.4 (stage 1 data access permissions, AP[2:1]): AP[1] grants
 * unprivileged access, AP[2] makes the page read-only. D8.5.2: DBM = 1 with
 * AP[2] = 1 is writable-clean: with HD a write passes and hardware makes it
 * dirty; without HD it is a permission fault. D8.5.1: AF = 0 with HA off
 * (and AFFD = 0) is an Access flag fault, which is checked before (and so
 * outranks) a permission fault. r and w carry the table limits above. */
static enum ims_fault_kind check(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
				 bool r, bool w, unsigned acc, uint32_t *code)
{
	(void)e;
	if (!(pte & SMMU_D_AF) && !c->ha && !c->affd) {
		*code = SMMU_EVT_F_ACCESS;
		return IMS_FAULT_ACCESS;
	}
	bool el0_ok = c->priv || (pte & SMMU_D_AP1);
	bool rd = el0_ok && r;
	/* VMSAv8-64 stage 1 has no write-only encoding: r also carries
	 * APTable[0], which takes away all unprivileged access. */
	bool wr = rd && w && (!(pte & SMMU_D_AP2) || ((pte & SMMU_D_DBM) && c->hd));
	if ((!(acc & IMS_ACC_R) || rd) && (!(acc & IMS_ACC_W) || wr))
		return IMS_FAULT_NONE;
	*code = SMMU_EVT_F_PERMISSION;
	return IMS_FAULT_PERM;
}

/* D8.5.1: with HA hardware sets AF; D8.5.2: with HD a write through a
 * writable-clean entry clears AP[2]. Both may go in one atomic RMW. */
static void leaf_update(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u)
{
	if (c->ha && !(pte & SMMU_D_AF))
		u->a_set = SMMU_D_AF;
	if (c->hd && (acc & IMS_ACC_W) && (pte & SMMU_D_DBM) && (pte & SMMU_D_AP2))
		u->d_clear = SMMU_D_AP2;
}

uint64_t smmu_hw_table_update(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	(void)pte;
	return 0;
}

/* D8.5.2: DBM = 1, AP[2] = 0 is writable-dirty. */
static bool is_dirty(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & SMMU_D_DBM) && !(pte & SMMU_D_AP2);
}

bool smmu_hw_is_accessed(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & SMMU_D_AF) != 0;
}

/* D8.5.1: an entry with AF = 0 is never cached in a TLB; SMMUv3 5.4
 * (AFFD), 5.2 (S2AFFD): with AFFD = 1 AF reads as 1, and the TLB entry
 * holds AF = 1. Both stages. */
bool smmu_hw_cacheable(const struct hw_ctx *c, uint64_t pte)
{
	return (pte & SMMU_D_AF) || c->affd;
}

static uint32_t cond_code(const struct hw_ctx *c, enum hw_cond cond, bool write)
{
	(void)c;
	(void)write;
	/* An IOVA beyond T0SZ is a translation fault (D8.2); SMMUv3 has no
	 * level skip; an unusable CD is C_BAD_CD. */
	return cond == COND_CTX ? SMMU_EVT_C_BAD_CD : SMMU_EVT_F_TRANSLATION;
}

/* SMMUv3 4.4.2 (CMD_TLBI_NH_ASID, CMD_TLBI_NH_VA), 4.4.1.1 (range: with
 * TG != 0, (NUM + 1) * 2^SCALE granules of size TG from Address; TTL is a
 * hint the model ignores, which only over-invalidates), 4.4.4
 * (CMD_TLBI_NSNH_ALL). CMD_TLBI_NH_ALL (all ASIDs of the VMID) becomes
 * everything: the model has no VMIDs. CMD_CFGI_CD names a stream, not an
 * ASID: software re-reads contexts through the sink, so it decodes to no
 * operation. */
IMS_HARVEST_PATH
static int decode_cmd(const uint64_t cmd[2], struct hw_cmd *out)
{
	uint64_t op = cmd[0] & SMMU_CMD_OP_MASK;
	uint16_t asid = (uint16_t)(cmd[0] >> SMMU_CMD_ASID_SHIFT);
	switch (op) {
	case SMMU_CMD_TLBI_NH_ASID:
		out->kind = CMD_INV_DOMAIN;
		out->tag = asid;
		out->stage = HW_STAGE_1;
		return 0;
	case SMMU_CMD_TLBI_NH_VA:
		vmsa_hw_cmd_range(cmd, SMMU_CMD1_ADDR_MASK, out);
		out->tag = asid;
		out->stage = HW_STAGE_1;
		return 0;
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NSNH_ALL:
		out->kind = CMD_INV_ALL;
		return 0;
	case SMMU_CMD_CFGI_CD:
		out->kind = CMD_NONE;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The walk's one call per entry (formats/hwfmt.h): the rules above, composed. */
HW_FMT_FUSED(fused, decode, check, leaf_update, smmu_hw_table_update, smmu_hw_cacheable, is_dirty)

const struct hw_fmt smmu_hw_fmt = {
	.fmt = IMS_FMT_SMMUV3,
	.decode_ctx = decode_ctx,
	.decode = decode,
	.next_table = smmu_hw_next_table,
	.check = check,
	.leaf_update = leaf_update,
	.table_update = smmu_hw_table_update,
	.is_dirty = is_dirty,
	.is_accessed = smmu_hw_is_accessed,
	.cacheable = smmu_hw_cacheable,
	.cond_code = cond_code,
	.decode_cmd = decode_cmd,
	.step = fused_step,
	.fill = fused_fill,
	.group_skip_if_any = true,
	/* IHI0070 5.2: STE.Config 0b111 walks this CD's tables through the
	 * STE's stage 2 (docs/nested.md); the CD decodes the same. */
	.nest_over = 1 + IMS_FMT_SMMUV3_S2,
};

int smmu_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	struct fmt_geom fg = {p->levels, p->granule_shift, p->ias};
	int rc = smmu_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	unsigned gshift = fg.granule_shift, ias = fg.ias;
	uint64_t tg = gshift == 12 ? SMMU_TG0_4K : gshift == 14 ? SMMU_TG0_16K : SMMU_TG0_64K;
	unsigned stride = gshift - 3;
	unsigned top = (ias - gshift + stride - 1) / stride - 1;
	unsigned top_bits = ias - (gshift + stride * top);
	uint64_t align = 8ull << top_bits;
	if (align < 64)
		align = 64;
	bool ds = smmu_geom_ds(gshift, ias);
	uint64_t lim = (gshift == 16 || ds) ? 1ull << 52 : 1ull << 48;
	if ((p->root & (align - 1)) || p->root >= lim) {
		snprintf(err, errlen,
			 "smmuv3: root must be aligned to the top table (0x%llx bytes) and below 2^%u",
			 (unsigned long long)align, lim == 1ull << 52 ? 52 : 48);
		return -EINVAL;
	}
	/* ha/hd are CD.HA/CD.HD; hd without ha is left to behave as off (5.4). */
	w[0] = (uint64_t)(64 - ias) | tg << SMMU_CD0_TG0_SHIFT | 1ull << SMMU_CD0_IR0_SHIFT |
	       1ull << SMMU_CD0_OR0_SHIFT | SMMU_SH_INNER << SMMU_CD0_SH0_SHIFT | SMMU_CD0_EPD1 |
	       SMMU_CD0_V | (lim == 1ull << 52 ? SMMU_IPS_52 : SMMU_IPS_48) << SMMU_CD0_IPS_SHIFT |
	       SMMU_CD0_AA64 | (p->hd ? SMMU_CD0_HD : 0) | (p->ha ? SMMU_CD0_HA : 0) |
	       (uint64_t)p->tag << SMMU_CD0_ASID_SHIFT;
	w[1] = p->root & SMMU_CD1_TTB0_MASK;
	w[2] = ds ? SMMU_CD2_DS : 0;
	return 0;
}
