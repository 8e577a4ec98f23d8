/* VMSAv8-64 descriptor decoding that both Arm stages read the same way
 * (Arm ARM D8.3): the output / next-table address field and where blocks
 * exist. The hardware rules of stage 1 (smmuv3/smmu_hw.c) and stage 2
 * (smmuv3/s2_hw.c) use them; the software ops never do. Levels: see
 * smmuv3/smmu_codec.h (our level 0 = Arm level 3).
 *
 * FEAT_LPA2 (DS) is in force exactly when smmu_geom_ds() says so: stage 1
 * with ias > 48 and a 4K or 16K granule. Stage 2 contexts never have
 * ias > 48 with those granules (smmuv3/s2_hw.c), so it is off for them.
 */
#ifndef IMS_SMMUV3_VMSA_HW_H
#define IMS_SMMUV3_VMSA_HW_H

#include "formats/hwfmt.h"
#include "smmuv3/smmu_codec.h"

/* Output (or next-table) address held in a descriptor (D8.3): bits 47:12,
 * with OA[51:48] in bits 15:12 for the 64K granule (FEAT_LPA) or, with DS,
 * bits 49:12 and OA[51:50] in bits 9:8 (FEAT_LPA2). Bits below the granule
 * are returned too: the caller checks them. */
static inline uint64_t vmsa_hw_oa(const struct hw_ctx *c, uint64_t d)
{
	if (c->gshift == 16)
		return (d & SMMU_D_OA48_MASK & ~0xffffull) |
		       (((d >> SMMU_D_LPA_HI_SHIFT) & 0xfull) << 48);
	if (smmu_geom_ds(c->gshift, c->ias))
		return (d & SMMU_D_OA50_MASK) | (((d >> SMMU_D_DS_HI_SHIFT) & 3ull) << 50);
	return d & SMMU_D_OA48_MASK;
}

/* Address bits of the field that lie below `shift` (bits 15:12 of a 64K
 * descriptor are OA[51:48], not low bits). */
static inline uint64_t vmsa_hw_low_bits(const struct hw_ctx *c, uint64_t d, unsigned shift)
{
	uint64_t mask = SMMU_D_OA48_MASK;
	if (c->gshift == 16)
		mask &= ~0xffffull;
	else if (smmu_geom_ds(c->gshift, c->ias))
		mask = SMMU_D_OA50_MASK;
	return d & mask & ((1ull << shift) - 1);
}

/* hw_ctx.caps of both Arm stages: bits 7:0 hold stage 2's effective S2PS
 * (smmuv3/s2_hw.c); VMSA_CTX_PA52 says the physical address size (PAMax,
 * SMMU_IDR5.OAS: SMMUv3 3.4) is 52 bits. */
#define VMSA_CTX_PS_MASK 0xffull
#define VMSA_CTX_PA52 (1ull << 8)

/* D8.3 (AArch64.BlockDescSupported): blocks exist at Arm level 1 and 2
 * with 4K (1G, 2M) and at level 2 with 16K (32M) and 64K (512M); FEAT_LPA2
 * (DS = 1) adds level 0 with 4K (512G) and level 1 with 16K (64G);
 * FEAT_LPA (PAMax = 52) adds level 1 with 64K (4T), whatever the context's
 * own output size. The same at both stages. */
static inline bool vmsa_hw_block_ok(const struct hw_ctx *c, int level)
{
	bool ds = smmu_geom_ds(c->gshift, c->ias);
	switch (c->gshift) {
	case 12:
		return level == 1 || level == 2 || (ds && level == 3);
	case 14:
		return level == 1 || (ds && level == 2);
	default:
		return level == 1 || ((c->caps & VMSA_CTX_PA52) && level == 2);
	}
}

/* SMMU_IDR5.OAS (encoded as S2PS) of 52 bits or more (56 needs FEAT_D128,
 * whose 128-bit descriptors are not modelled): VMSA_CTX_PA52 or 0. */
static inline uint64_t vmsa_hw_pa52(uint64_t idr5)
{
	return (idr5 & 7ull) >= 6 ? VMSA_CTX_PA52 : 0;
}

/* Rules the same at both stages (smmuv3/smmu_hw.c): the table test, no
 * table A/D update (HAFT is not modelled), AF, and TLB caching (AF, or
 * AFFD / S2AFFD making AF read as 1). */
int smmu_hw_next_table(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table);
uint64_t smmu_hw_table_update(const struct hw_ctx *c, uint64_t pte);
bool smmu_hw_is_accessed(const struct hw_ctx *c, uint64_t pte);
bool smmu_hw_cacheable(const struct hw_ctx *c, uint64_t pte);

/* The range part of CMD_TLBI_NH_VA and CMD_TLBI_S2_IPA (SMMUv3 4.4.1.1):
 * with TG != 0, (NUM + 1) * 2^SCALE granules of size TG from the address;
 * with TG = 0 one address (every entry that covers it). TTL is a hint the
 * model ignores, which only over-invalidates. addr_mask: the command's
 * address field (VA 63:12, IPA 51:12). */
static inline void vmsa_hw_cmd_range(const uint64_t cmd[2], uint64_t addr_mask, struct hw_cmd *out)
{
	out->kind = CMD_INV_RANGE;
	out->leaf_only = (cmd[1] & SMMU_CMD1_LEAF) != 0;
	out->iova = cmd[1] & addr_mask;
	unsigned tg = (unsigned)((cmd[1] & SMMU_CMD1_TG_MASK) >> SMMU_CMD1_TG_SHIFT);
	if (!tg) {
		out->size = 1ull << 12;
		return;
	}
	static const unsigned tg_shift[4] = {0, 12, 14, 16};
	uint64_t num = ((cmd[0] >> SMMU_CMD_NUM_SHIFT) & SMMU_CMD_NUM_MAX) + 1;
	unsigned scale = (unsigned)((cmd[0] >> SMMU_CMD_SCALE_SHIFT) & SMMU_CMD_SCALE_MAX);
	out->size = num << (scale + tg_shift[tg]);
}

#endif
