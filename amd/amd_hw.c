/* AMD IOMMU v1: the hardware's rules, written from the spec facts in
 * formats.md ("AMD IOMMU v1 host page tables"), for model/'s engine.
 * Levels: see amd/amd_codec.h (our level 0 = the spec's level-1 table).
 */
#include <errno.h>
#include <stdio.h>

#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "model/hot_path.h"

static int decode_ctx(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t errlen)
{
	uint64_t q0 = w[0];
	/* 2.2.2: V and TV must both be set for the DTE to translate. */
	if (!(q0 & AMD_DTE_V) || !(q0 & AMD_DTE_TV)) {
		if (err)
			snprintf(err, errlen, "DTE V and TV must be set");
		return -EINVAL;
	}
	unsigned mode = (unsigned)((q0 & AMD_DTE_MODE_MASK) >> AMD_DTE_MODE_SHIFT);
	unsigned max = (unsigned)((cfg->amd_efr & AMD_EFR_HATS_MASK) >> AMD_EFR_HATS_SHIFT) + 4;
	if (mode < 1 || mode > 6 || mode > max) {
		if (err)
			snprintf(err, errlen, "DTE Mode %u: AMD v1 has 1 to %u levels", mode,
				 max < 6 ? max : 6);
		return -EINVAL;
	}
	unsigned had = (unsigned)((q0 & AMD_DTE_HAD_MASK) >> AMD_DTE_HAD_SHIFT);
	if (had == AMD_HAD_RSVD) {
		if (err)
			snprintf(err, errlen, "DTE HAD 10b is reserved (hd needs ha)");
		return -EINVAL;
	}
	if (had != AMD_HAD_NONE && !(cfg->amd_efr & AMD_EFR_HASUP)) {
		if (err)
			snprintf(err, errlen, "DTE HAD set but EFR.HASup is clear");
		return -EINVAL;
	}
	if (had == AMD_HAD_AD && !(cfg->amd_efr & AMD_EFR_HDSUP)) {
		if (err)
			snprintf(err, errlen, "DTE HAD = 11b but EFR.HDSup is clear");
		return -EINVAL;
	}
	c->root = q0 & AMD_DTE_ROOT_MASK;
	c->top = (int)mode - 1;
	c->gshift = 12;
	c->stride = 9;
	/* Mode N covers 12 + 9N IOVA bits; mode 6 all 64. */
	c->ias = 12 + 9 * mode > 64 ? 64 : 12 + 9 * mode;
	c->ha = had == AMD_HAD_A || had == AMD_HAD_AD;
	c->hd = had == AMD_HAD_AD;
	c->r = (q0 & AMD_DTE_IR) != 0;
	c->w = (q0 & AMD_DTE_IW) != 0;
	c->nonleaf_a = c->ha && cfg->amd_pde_accessed;
	return 0;
}

static uint32_t rw_flag(unsigned acc)
{
	return (acc & IMS_ACC_W) ? AMD_EV_RW : 0;
}

static void decode(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		   struct hw_ent *e)
{
	if (!(pte & AMD_PTE_PR)) {
		e->kind = HWE_INVALID;
		e->code = rw_flag(acc);
		return;
	}
	unsigned nl = amd_pte_nl(pte);
	unsigned entry_shift = 12 + 9 * (unsigned)level;
	e->r = (pte & AMD_PTE_IR) != 0;
	e->w = (pte & AMD_PTE_IW) != 0;
	if (nl != 0 && nl != AMD_NL_SIZED) {
		/* A PDE: NextLevel names a lower level (smaller = level skip). */
		if (level == 0 || (int)nl - 1 >= level) {
			e->kind = HWE_RESERVED;
			e->code = AMD_EV_PR | AMD_EV_RZ | rw_flag(acc);
			return;
		}
		e->kind = HWE_TABLE;
		e->next = (int)nl - 1;
		e->addr = pte & AMD_PTE_ADDR_MASK;
		return;
	}
	/* A leaf. The top table of a 6-level tree holds none. */
	if (level >= 5 || level > c->top) {
		e->kind = HWE_RESERVED;
		e->code = AMD_EV_PR | AMD_EV_RZ | rw_flag(acc);
		return;
	}
	unsigned shift = entry_shift;
	if (nl == AMD_NL_SIZED) {
		/* Table 14: a sized page lives at the level whose default size is
		 * the largest not above it, so it is strictly between this
		 * level's size and the next one's. */
		shift = amd_size_decode(pte);
		if (shift <= entry_shift || shift >= entry_shift + 9) {
			e->kind = HWE_RESERVED;
			e->code = AMD_EV_PR | AMD_EV_RZ | rw_flag(acc);
			return;
		}
	}
	e->kind = HWE_LEAF;
	e->page_shift = shift;
	e->addr = pte & AMD_PTE_ADDR_MASK & ~((1ull << shift) - 1);
}

/* The PDE test of decode(): present, NextLevel 1..6 naming a lower level
 * (NextLevel 0 and 7 are leaves; 7 - 1 is never below a level). */
static int next_table(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table)
{
	(void)c;
	int next = (int)amd_pte_nl(pte) - 1;
	if (!(pte & AMD_PTE_PR) || next < 0 || next >= level)
		return -1;
	*table = pte & AMD_PTE_ADDR_MASK;
	return next;
}

static enum ims_fault_kind check(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
				 bool r, bool w, unsigned acc, uint32_t *code)
{
	(void)c;
	(void)pte;
	/* IR/IW are ANDed over the DTE and every level of the walk. */
	bool ok = (!(acc & IMS_ACC_R) || (r && e->r)) && (!(acc & IMS_ACC_W) || (w && e->w));
	if (ok)
		return IMS_FAULT_NONE;
	*code = AMD_EV_PR | AMD_EV_PE | rw_flag(acc);
	return IMS_FAULT_PERM;
}

static void leaf_update(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u)
{
	(void)pte;
	/* 2.2.7.4: A on every request that completes translation, D on a
	 * permitted write; both gated by DTE.HAD. */
	if (c->ha)
		u->a_set = AMD_PTE_A;
	if (c->hd && (acc & IMS_ACC_W))
		u->d_set = AMD_PTE_D;
}

static uint64_t table_update(const struct hw_ctx *c, uint64_t pte)
{
	(void)pte;
	return c->nonleaf_a ? AMD_PTE_A : 0;
}

static bool is_dirty(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & AMD_PTE_D) != 0;
}

static bool is_accessed(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & AMD_PTE_A) != 0;
}

static bool cacheable(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	(void)pte;
	return true;
}

static uint32_t cond_code(const struct hw_ctx *c, enum hw_cond cond, bool write)
{
	(void)c;
	uint32_t rw = write ? AMD_EV_RW : 0;
	switch (cond) {
	case COND_SKIP:
		return AMD_EV_PR | rw;
	default:
		return rw;
	}
}

IMS_HARVEST_PATH
int amd_decode_cmd(const uint64_t cmd[2], struct hw_cmd *out)
{
	uint64_t op = cmd[0] >> AMD_CMD_OPCODE_SHIFT;
	switch (op) {
	case AMD_CMD_INV_PAGES: {
		out->tag = (uint16_t)(cmd[0] >> AMD_CMD_DOMID_SHIFT);
		/* GN = 1 names guest (stage-1) addresses, GN = 0 host ones
		 * (nested contexts, docs/nested.md). */
		out->stage = (cmd[1] & AMD_CMD_GN) ? HW_STAGE_1 : HW_STAGE_2;
		uint64_t addr = cmd[1] & AMD_CMD_ADDR_MASK;
		out->leaf_only = !(cmd[1] & AMD_CMD_PDE);
		if (!(cmd[1] & AMD_CMD_S)) {
			out->kind = CMD_INV_RANGE;
			out->iova = addr;
			out->size = 1ull << 12;
			return 0;
		}
		/* S = 1: the lowest zero address bit encodes the size. */
		unsigned n = (unsigned)__builtin_ctzll(~(addr | 0xfff)) + 1;
		if (n >= 64) {
			out->kind = CMD_INV_DOMAIN;
			return 0;
		}
		out->kind = CMD_INV_RANGE;
		out->iova = addr & ~((1ull << n) - 1);
		out->size = 1ull << n;
		return 0;
	}
	case AMD_CMD_INV_ALL:
		out->kind = CMD_INV_ALL;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The walk's one call per entry (formats/hwfmt.h): the rules above, composed. */
HW_FMT_FUSED(fused, decode, check, leaf_update, table_update, cacheable, is_dirty)

const struct hw_fmt amd_hw_fmt = {
	.fmt = IMS_FMT_AMDV1,
	.decode_ctx = decode_ctx,
	.decode = decode,
	.next_table = next_table,
	.check = check,
	.leaf_update = leaf_update,
	.table_update = table_update,
	.is_dirty = is_dirty,
	.is_accessed = is_accessed,
	.cacheable = cacheable,
	.cond_code = cond_code,
	.decode_cmd = amd_decode_cmd,
	.step = fused_step,
	.fill = fused_fill,
	.group_skip_if_any = false,
	/* Host faults keep their codes (GN = 0). A host-address
	 * INVALIDATE_IOMMU_PAGES reaches the guest translations built on it
	 * (docs/nested.md: Linux's amd/nested.c flushes each nested domain's
	 * ID with GN = 0 when the parent changes). */
	.nest_range_combined = true,
};

int amd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	struct fmt_geom fg = {p->levels, p->granule_shift, p->ias};
	int rc = amd_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	unsigned levels = fg.levels;
	if (p->hd && !p->ha) {
		snprintf(err, errlen, "amdv1: hd=on needs ha=on (DTE HAD 10b is reserved)");
		return -EINVAL;
	}
	if (p->root & ~AMD_DTE_ROOT_MASK) {
		snprintf(err, errlen, "amdv1: root must be a 4 KiB aligned address below 2^52");
		return -EINVAL;
	}
	unsigned had = p->hd ? AMD_HAD_AD : p->ha ? AMD_HAD_A : AMD_HAD_NONE;
	w[0] = AMD_DTE_V | AMD_DTE_TV | ((uint64_t)had << AMD_DTE_HAD_SHIFT) |
	       ((uint64_t)levels << AMD_DTE_MODE_SHIFT) | p->root | AMD_DTE_IR | AMD_DTE_IW;
	w[1] = p->tag;
	return 0;
}
