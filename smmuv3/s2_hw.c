/* Arm SMMUv3 stage 2 (VMSAv8-64 stage-2 tables): the hardware's rules,
 * written from the SMMUv3 spec's STE (5.2) and the Arm ARM's stage 2
 * chapters (D8.2 to D8.5) as docs/formats.md quotes them, for model/'s
 * engine. Levels: see smmuv3/s2_codec.h (our level 0 = Arm level 3).
 * Every fault code carries SMMU_EVT_S2: all of them arise at stage 2.
 */
#include <errno.h>
#include <stdio.h>

#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"
#include "smmuv3/vmsa_hw.h"
#include "model/hot_path.h"

#define BAD(...)                                                                                   \
	do {                                                                                       \
		if (err)                                                                           \
			snprintf(err, errlen, __VA_ARGS__);                                        \
		return -EINVAL;                                                                    \
	} while (0)

/* SMMUv3 5.2. What the STE makes ILLEGAL (C_BAD_STE) is refused; so is what
 * the model does not model (VMSAv8-32 tables, big-endian tables, the nested
 * configuration). */
static int decode_ctx(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t errlen)
{
	uint64_t w2 = w[S2_STE_WORD_S2];
	if (!(w[0] & S2_STE0_V))
		BAD("STE.V must be set");
	unsigned config = (unsigned)((w[0] & S2_STE0_CONFIG_MASK) >> S2_STE0_CONFIG_SHIFT);
	if (config == S2_CONFIG_NESTED)
		BAD("STE.Config = 0b111 (both stages) is not modelled for format smmuv3-s2");
	if (config != S2_CONFIG_S2)
		BAD("STE.Config = 0b%u%u%u: a stage-2 domain needs 0b110 (stage 1 bypass, stage 2 "
		    "translate)", config >> 2 & 1, config >> 1 & 1, config & 1);
	if (!(w2 & S2_STE2_AA64))
		BAD("STE.S2AA64 = 0 (VMSAv8-32 LPAE tables) is not modelled");
	if (w2 & S2_STE2_ENDI)
		BAD("STE.S2ENDI = 1 (big-endian tables) is not modelled");
	/* S2TG: a reserved value or a granule SMMU_IDR5 does not offer is
	 * ILLEGAL. */
	unsigned gshift;
	uint64_t gran;
	switch ((w2 & S2_STE2_TG_MASK) >> S2_STE2_TG_SHIFT) {
	case SMMU_TG0_4K:
		gshift = 12, gran = SMMU_IDR5_GRAN4K;
		break;
	case SMMU_TG0_16K:
		gshift = 14, gran = SMMU_IDR5_GRAN16K;
		break;
	case SMMU_TG0_64K:
		gshift = 16, gran = SMMU_IDR5_GRAN64K;
		break;
	default:
		BAD("STE.S2TG = 11b is reserved (granule)");
	}
	if (!(cfg->smmu_idr5 & gran))
		BAD("STE.S2TG selects the %uK granule, which SMMU_IDR5 does not offer",
		    1u << (gshift - 10));
	/* IAS = OAS (no AArch32, 3.4): S2T0SZ is 16..39 (4K, 16K: S2DS is
	 * not modelled) or 12..39 (64K), and at least 64 - IAS. */
	unsigned oas = s2_ps_bits((unsigned)(cfg->smmu_idr5 & SMMU_IDR5_OAS_MASK));
	unsigned t0sz = (unsigned)((w2 & S2_STE2_T0SZ_MASK) >> S2_STE2_T0SZ_SHIFT);
	unsigned min = gshift == 16 ? 12 : 16;
	if (min < 64 - oas)
		min = 64 - oas;
	if (t0sz < min || t0sz > 39)
		BAD("STE.S2T0SZ = %u: the IPA size %u is not in 25..%u (%uK granule)", t0sz,
		    64 - t0sz, 64 - min, 1u << (gshift - 10));
	unsigned ias = 64 - t0sz, stride = gshift - 3;
	/* S2SL0 (VTCR_EL2.SL0 without FEAT_TTST): 11 is reserved, and the
	 * start level must agree with S2T0SZ (Arm ARM D8.2): its table
	 * resolves the IPA bits above it, at least one and at most 16
	 * concatenated tables' worth (stride + 4). */
	unsigned sl0 = (unsigned)((w2 & S2_STE2_SL0_MASK) >> S2_STE2_SL0_SHIFT);
	int top = s2_top_of_sl0(gshift, sl0);
	if (top < 0)
		BAD("STE.S2SL0 = 11b is reserved");
	int n = (int)ias - (int)(gshift + stride * (unsigned)top);
	if (n < 1 || n > (int)stride + 4)
		BAD("STE.S2SL0 = %u (Arm level %d) is inconsistent with S2T0SZ = %u (%uK granule): "
		    "the start level would resolve %d bits",
		    sl0, 3 - top, t0sz, 1u << (gshift - 10), n);
	/* S2SL0 = 10b (Arm ARM, AArch64.S2InvalidSL; SMMUv3 5.2 STE.S2SL0
	 * takes VTCR_EL2.SL0's meaning, PAMax being SMMU_IDR5.OAS, 3.4): the
	 * start at Arm level 0 with 4K needs a 44-bit PA size, at level 1 with
	 * 16K 42 bits, at level 1 with 64K 44 bits. An STE with it is ILLEGAL. */
	unsigned sl_min = sl0 != 2 ? 0 : gshift == 14 ? 42 : 44;
	if (oas < sl_min)
		BAD("STE.S2SL0 = 10b (Arm level %d, %uK granule) needs an output size of %u bits; "
		    "SMMU_IDR5.OAS gives %u",
		    3 - top, 1u << (gshift - 10), sl_min, oas);
	/* S2PS: eff_S2PS = MIN(S2PS, IDR5.OAS); a granule smaller than 64K
	 * outputs 48 bits at most (S2DS is not modelled), so nothing above
	 * can be an address size fault. */
	unsigned ps = s2_ps_bits((unsigned)((w2 & S2_STE2_PS_MASK) >> S2_STE2_PS_SHIFT));
	if (ps > oas)
		ps = oas;
	if (gshift != 16 && ps > 48)
		ps = 48;
	/* S2TTB: ILLEGAL outside eff_S2PS (or 48 bits with 4K, 16K); the
	 * bits below the start-level table's alignment, at least 64 bytes
	 * with a 52-bit eff_S2PS, are treated as zero. */
	uint64_t ttb = w[S2_STE_WORD_TTB] & S2_STE3_TTB_MASK;
	if (ps < 64 && (ttb >> ps))
		BAD("STE.S2TTB 0x%llx is beyond the %u-bit output size", (unsigned long long)ttb, ps);
	uint64_t align = 8ull << n;
	if (ps == 52 && align < 64)
		align = 64;
	c->root = ttb & ~(align - 1);
	c->top = top;
	c->gshift = gshift;
	c->stride = stride;
	c->ias = ias;
	c->caps = ps | vmsa_hw_pa52(cfg->smmu_idr5);
	/* STE.S2HA / S2HD (SMMUv3 5.2): it is ILLEGAL to set S2HA when
	 * SMMU_IDR0.HTTU = 00b, and S2HD when HTTU = 00b or 01b; {S2HA, S2HD}
	 * = 01 (S2HD not ILLEGAL) behaves as both off. */
	unsigned httu = (unsigned)((cfg->smmu_idr0 & SMMU_IDR0_HTTU_MASK) >> SMMU_IDR0_HTTU_SHIFT);
	if ((w2 & S2_STE2_HA) && httu < 1)
		BAD("STE.S2HA = 1 but SMMU_IDR0.HTTU = 0 (no hardware access flag update)");
	if ((w2 & S2_STE2_HD) && httu < 2)
		BAD("STE.S2HD = 1 but SMMU_IDR0.HTTU = %u (no hardware dirty state update)", httu);
	c->ha = (w2 & S2_STE2_HA) != 0;
	c->hd = (w2 & S2_STE2_HD) && c->ha;
	/* S2AFFD is IGNORED when S2HA = 1. */
	c->affd = (w2 & S2_STE2_AFFD) && !c->ha;
	/* No STE-level permission, no privilege at stage 2 (S2AP has none);
	 * S2PTW only concerns stage 1 walks (nesting); S2R / S2S choose how a
	 * fault is reported (5.5): the model records every fault. Table AF
	 * (S2HAFT) is not modelled. */
	c->r = c->w = true;
	c->priv = false;
	c->nonleaf_a = false;
	return 0;
}

/* An address past the effective S2PS (c->caps bits 7:0) is an Address
 * size fault (SMMUv3 5.2 S2PS, Arm ARM D8.3 / D8.2 "output address size"):
 * true, with e set to say so. */
static bool past_ps(const struct hw_ctx *c, uint64_t oa, struct hw_ent *e)
{
	unsigned ps = (unsigned)(c->caps & VMSA_CTX_PS_MASK);
	if (ps >= 64 || !(oa >> ps))
		return false;
	e->kind = HWE_RESERVED;
	e->code = SMMU_EVT_F_ADDR_SIZE | SMMU_EVT_S2;
	return true;
}

static void decode(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		   struct hw_ent *e)
{
	(void)acc;
	uint64_t type = pte & SMMU_D_TYPE_MASK;
	unsigned entry_shift = hw_level_shift(c, level);
	e->code = SMMU_EVT_F_TRANSLATION | SMMU_EVT_S2;
	/* D8.3: x0 is invalid; 01 at Arm level 3, or where the granule has
	 * no blocks, is reserved and faults as invalid. */
	if (!(pte & 1) ||
	    (type == SMMU_D_BLOCK && (level == 0 || !vmsa_hw_block_ok(c, level)))) {
		e->kind = HWE_INVALID;
		return;
	}
	if (type == SMMU_D_TABLE && level > 0) {
		/* RES0 address bits below the granule: CONSTRAINED
		 * UNPREDICTABLE; the model faults, as at stage 1. */
		if (vmsa_hw_low_bits(c, pte, c->gshift)) {
			e->kind = HWE_RESERVED;
			return;
		}
		uint64_t next = vmsa_hw_oa(c, pte);
		if (past_ps(c, next, e))
			return;
		e->kind = HWE_TABLE;
		e->next = level - 1;
		e->addr = next;
		/* Stage 2 table descriptors hold no hierarchical permissions
		 * (D8.4: APTable and XNTable are stage 1 controls): nothing
		 * below is limited. */
		e->r = e->w = true;
		return;
	}
	if (vmsa_hw_low_bits(c, pte, entry_shift)) {
		e->kind = HWE_RESERVED;
		return;
	}
	unsigned shift = entry_shift;
	unsigned cl = smmu_contig_log2(c->gshift, level);
	/* D8, "The Contiguous bit": the group maps one aligned output range. */
	if ((pte & SMMU_D_CONT) && cl)
		shift += cl;
	uint64_t oa = vmsa_hw_oa(c, pte);
	if (past_ps(c, oa, e))
		return;
	e->kind = HWE_LEAF;
	e->page_shift = shift;
	e->addr = oa & ~((1ull << shift) - 1);
	e->r = (pte & S2_D_S2AP_R) != 0;
	e->w = (pte & S2_D_S2AP_W) != 0;
}

/* D8.5.1: AF = 0 with S2HA off and S2AFFD = 0 is an Access flag fault, which
 * outranks a permission fault. D8.4: S2AP[0] allows reads, S2AP[1] writes
 * (a write-only page exists at stage 2). D8.5.2 (stage 2 dirty state):
 * DBM = 1 with S2AP[1] = 0 is writable-clean: with S2HD a write passes and
 * hardware sets S2AP[1]; without it the write is a permission fault. */
static enum ims_fault_kind check(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
				 bool r, bool w, unsigned acc, uint32_t *code)
{
	(void)e;
	if (!(pte & SMMU_D_AF) && !c->ha && !c->affd) {
		*code = SMMU_EVT_F_ACCESS | SMMU_EVT_S2;
		return IMS_FAULT_ACCESS;
	}
	bool rd = r && (pte & S2_D_S2AP_R);
	bool wr = w && ((pte & S2_D_S2AP_W) || ((pte & SMMU_D_DBM) && c->hd));
	if ((!(acc & IMS_ACC_R) || rd) && (!(acc & IMS_ACC_W) || wr))
		return IMS_FAULT_NONE;
	*code = SMMU_EVT_F_PERMISSION | SMMU_EVT_S2;
	return IMS_FAULT_PERM;
}

/* D8.5.1: with S2HA hardware sets AF; D8.5.2: with S2HD a write through a
 * writable-clean entry sets S2AP[1]. One atomic RMW may do both. */
static void leaf_update(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u)
{
	if (c->ha && !(pte & SMMU_D_AF))
		u->a_set = SMMU_D_AF;
	if (c->hd && (acc & IMS_ACC_W) && (pte & SMMU_D_DBM) && !(pte & S2_D_S2AP_W))
		u->d_set = S2_D_S2AP_W;
}

/* D8.5.2: DBM = 1 and S2AP[1] = 1 is writable-dirty. */
static bool is_dirty(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & SMMU_D_DBM) && (pte & S2_D_S2AP_W);
}

/* An IPA beyond S2T0SZ is a stage 2 translation fault; an unusable STE is
 * C_BAD_STE (5.2: an ILLEGAL STE behaves as V = 0). */
static uint32_t cond_code(const struct hw_ctx *c, enum hw_cond cond, bool write)
{
	(void)c;
	(void)write;
	return cond == COND_CTX ? SMMU_EVT_C_BAD_STE : SMMU_EVT_F_TRANSLATION | SMMU_EVT_S2;
}

/* SMMUv3 4.4.3 CMD_TLBI_S2_IPA (by VMID; the range form of 4.4.1.1 as for
 * CMD_TLBI_NH_VA, TTL a hint the model ignores) and CMD_TLBI_S12_VMALL
 * (the whole VMID); 4.4.2 CMD_TLBI_NH_ALL (every stage-1 entry of the VMID,
 * combined stage 1+2 ones included: what a nesting parent's driver sends
 * after CMD_TLBI_S2_IPA) becomes everything, as for stage 1 (smmu_hw.c): the
 * model has no VMIDs; 4.4.4 CMD_TLBI_NSNH_ALL. CMD_CFGI_STE and CMD_CFGI_ALL
 * name streams: software re-reads contexts through the sink, so they
 * decode to no operation. */
IMS_HARVEST_PATH
static int decode_cmd(const uint64_t cmd[2], struct hw_cmd *out)
{
	uint64_t op = cmd[0] & SMMU_CMD_OP_MASK;
	uint16_t vmid = (uint16_t)((cmd[0] >> SMMU_CMD_VMID_SHIFT) & SMMU_CMD_VMID_MASK);
	switch (op) {
	case SMMU_CMD_TLBI_S12_VMALL:
		out->kind = CMD_INV_DOMAIN;
		out->tag = vmid;
		out->stage = HW_STAGE_2;
		return 0;
	case SMMU_CMD_TLBI_S2_IPA:
		vmsa_hw_cmd_range(cmd, SMMU_CMD1_IPA_MASK, out);
		out->tag = vmid;
		out->stage = HW_STAGE_2;
		return 0;
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NSNH_ALL:
		out->kind = CMD_INV_ALL;
		return 0;
	case SMMU_CMD_CFGI_STE:
	case SMMU_CMD_CFGI_ALL:
		out->kind = CMD_NONE;
		return 0;
	default:
		return -EINVAL;
	}
}

/* IHI0070 7.3 (F_TRANSLATION, F_ACCESS, F_PERMISSION, F_ADDR_SIZE with
 * S2 = 1): CLASS TT when stage 2 faulted on a stage-1 table access (the
 * descriptor fetch, or the write of a stage-1 HTTU update, 3.13.3), IN on
 * the stage-1 output address. */
static uint32_t nest_code(uint32_t code, enum hw_nest_where where)
{
	return code | (where == NEST_FINAL ? SMMU_EVT_CLASS_IN : SMMU_EVT_CLASS_TT);
}

const struct hw_fmt s2_hw_fmt = {
	.fmt = IMS_FMT_SMMUV3_S2,
	.decode_ctx = decode_ctx,
	.decode = decode,
	.next_table = smmu_hw_next_table,
	.check = check,
	.leaf_update = leaf_update,
	.table_update = smmu_hw_table_update, /* S2HAFT is not modelled */
	.is_dirty = is_dirty,
	.is_accessed = smmu_hw_is_accessed,
	.cacheable = smmu_hw_cacheable, /* AF, or S2AFFD (D8.5.1) */
	.cond_code = cond_code,
	.decode_cmd = decode_cmd,
	/* D8.5.5 holds at stage 2 as at stage 1. */
	.group_skip_if_any = true,
	.nest_code = nest_code,
	/* IHI0070 4.4.3: CMD_TLBI_S2_IPA need not drop entries that combine
	 * both stages; software follows it with CMD_TLBI_S12_VMALL (or
	 * CMD_TLBI_NH_ALL), as Linux's arm-smmu-v3 does for a nest parent. */
	.nest_range_combined = false,
};
