/* Intel VT-d second stage: the hardware's rules, written from the spec
 * facts in formats.md ("Intel VT-d second-stage tables", "3.7 Second-Stage
 * Translation"), for model/'s engine. Levels: see vtd/vtd_codec.h (our
 * level 0 = SL-PTE).
 */
#include <errno.h>
#include <stdio.h>

#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"
#include "model/hot_path.h"

static int decode_ctx(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t errlen)
{
	uint64_t q0 = w[0];
	/* "Scalable-Mode PASID Table Entry": P gates every field. */
	if (!(q0 & VTD_PE0_P)) {
		if (err)
			snprintf(err, errlen, "PASID entry P is clear");
		return -EINVAL;
	}
	unsigned pgtt = (unsigned)((q0 & VTD_PE0_PGTT_MASK) >> VTD_PE0_PGTT_SHIFT);
	if (pgtt != VTD_PGTT_SL) {
		if (err)
			snprintf(err, errlen,
				 "PASID entry PGTT %u: only second-stage translation (010b) is "
				 "modelled",
				 pgtt);
		return -EINVAL;
	}
	unsigned aw = (unsigned)((q0 & VTD_PE0_AW_MASK) >> VTD_PE0_AW_SHIFT);
	if (aw < VTD_AW_39 || aw > VTD_AW_57) {
		if (err)
			snprintf(err, errlen,
				 "PASID entry AW %u is reserved (001b, 010b, 011b = 3, 4, 5 levels)",
				 aw);
		return -EINVAL;
	}
	uint64_t root = q0 & VTD_PE0_SSPTPTR_MASK;
	if (root & ~VTD_HAW_MASK) {
		if (err)
			snprintf(err, errlen, "PASID entry SSPTPTR 0x%llx is beyond the 52-bit host "
				 "address width", (unsigned long long)root);
		return -EINVAL;
	}
	bool ssade = (q0 & VTD_PE0_SSADE) != 0;
	/* 3.7.2: A/D updates need ECAP.SSADS. */
	if (ssade && !(cfg->vtd_ecap & VTD_ECAP_SSADS)) {
		if (err)
			snprintf(err, errlen, "PASID entry SSADE set but ECAP.SSADS is clear");
		return -EINVAL;
	}
	/* 3.10: an A/D update to a non-coherent table is a non-recoverable
	 * fault, so without ECAP.SMPWC dirty tracking cannot work at all. */
	if (ssade && !(cfg->vtd_ecap & VTD_ECAP_SMPWC)) {
		if (err)
			snprintf(err, errlen,
				 "PASID entry SSADE set but ECAP.SMPWC is clear (A/D updates to a "
				 "non-coherent page table are a non-recoverable fault, 3.10)");
		return -EINVAL;
	}
	unsigned levels = vtd_aw_levels(aw);
	c->root = root;
	c->top = (int)levels - 1;
	c->gshift = 12;
	c->stride = 9;
	c->ias = 12 + 9 * levels; /* 39, 48, 57 */
	c->ha = c->hd = ssade;
	/* Second-stage PASID entries carry no permission of their own. FPD
	 * only stops fault recording; the model queues every fault so that
	 * traces can assert them. The DID (qword 1) is the slot's tag. */
	c->r = c->w = true;
	/* Non-leaf A by the EPT rule (inferred, formats.md): a model option. */
	c->nonleaf_a = ssade && cfg->vtd_nonleaf_accessed;
	c->caps = cfg->vtd_cap; /* CAP.SLLPS decides which PS = 1 entries are leaves */
	return 0;
}

/* An rw access counts as a write (trace-format.md), so W is checked first. */
static uint32_t perm_code(unsigned acc)
{
	return (acc & IMS_ACC_W) ? VTD_FR_WRITE : VTD_FR_READ;
}

static void reserved(struct hw_ent *e)
{
	e->kind = HWE_RESERVED;
	e->code = VTD_FR_RESERVED;
}

static void decode(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		   struct hw_ent *e)
{
	/* 3.7: no present bit; an entry with R = W = X = 0 is not present and
	 * faults as the access would on R = 0 or W = 0 (reasons 6 / 5). X
	 * counts toward presence (formats.md); no request here executes, so it
	 * grants nothing. */
	if (!(pte & VTD_SL_PRESENT)) {
		e->kind = HWE_INVALID;
		e->code = perm_code(acc);
		return;
	}
	e->r = (pte & VTD_SL_R) != 0;
	e->w = (pte & VTD_SL_W) != 0;

	bool leaf;
	if (level == 0) {
		leaf = true; /* PS is ignored in an SL-PTE */
	} else if (!(pte & VTD_SL_PS)) {
		leaf = false;
	} else if (level >= 3) {
		reserved(e); /* SL-PML4E / SL-PML5E: PS is reserved */
		return;
	} else {
		/* SL-PDE / SL-PDPE with PS = 1: a 2 MiB / 1 GiB leaf only when
		 * CAP.SLLPS advertises that size; otherwise PS is reserved. */
		uint64_t sllps = level == 1 ? VTD_CAP_SLLPS_2M : VTD_CAP_SLLPS_1G;
		if (!(c->caps & sllps)) {
			reserved(e);
			return;
		}
		leaf = true;
	}

	if (!leaf) {
		/* SNP is reserved in a non-leaf; EMT, IPAT and D are ignored. */
		if (pte & VTD_SL_SNP) {
			reserved(e);
			return;
		}
		e->kind = HWE_TABLE;
		e->next = level - 1;
		e->addr = pte & VTD_SL_ADDR_MASK;
		return;
	}

	/* A large leaf's frame is bits 51:21 (2M) or 51:30 (1G); the address
	 * bits below are reserved. EMT / IPAT are memory-type hints the model
	 * has no use for. */
	unsigned shift = vtd_level_shift(level);
	uint64_t low = VTD_SL_ADDR_MASK & ((1ull << shift) - 1);
	if (pte & low) {
		reserved(e);
		return;
	}
	e->kind = HWE_LEAF;
	e->page_shift = shift;
	e->addr = pte & VTD_SL_ADDR_MASK;
}

/* The non-leaf test of decode() (3.7): present, above level 0, PS clear. */
static int next_table(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table)
{
	(void)c;
	if (!(pte & VTD_SL_PRESENT) || level == 0 || (pte & VTD_SL_PS))
		return -1;
	*table = pte & VTD_SL_ADDR_MASK;
	return level - 1;
}

static enum ims_fault_kind check(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
				 bool r, bool w, unsigned acc, uint32_t *code)
{
	(void)c;
	(void)pte;
	/* 3.7: R and W are ANDed over every level of the walk (r, w). */
	if ((acc & IMS_ACC_W) && !(w && e->w)) {
		*code = VTD_FR_WRITE;
		return IMS_FAULT_PERM;
	}
	if ((acc & IMS_ACC_R) && !(r && e->r)) {
		*code = VTD_FR_READ;
		return IMS_FAULT_PERM;
	}
	return IMS_FAULT_NONE;
}

static void leaf_update(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u)
{
	(void)pte;
	/* 3.7.2: with SSADE, A in the leaf on every access it translates, D on
	 * a write that has write permission (check() has passed). */
	if (c->ha)
		u->a_set = VTD_SL_A;
	if (c->hd && (acc & IMS_ACC_W))
		u->d_set = VTD_SL_D;
}

static uint64_t table_update(const struct hw_ctx *c, uint64_t pte)
{
	(void)pte;
	/* 3.7.2: A in every entry read during the walk (non-leaf: inferred). */
	return c->nonleaf_a ? VTD_SL_A : 0;
}

static bool is_dirty(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & VTD_SL_D) != 0;
}

static bool is_accessed(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & VTD_SL_A) != 0;
}

static bool cacheable(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	(void)pte;
	/* No access flag gates caching in VT-d ("Caches and invalidation"). */
	return true;
}

static uint32_t cond_code(const struct hw_ctx *c, enum hw_cond cond, bool write)
{
	(void)c;
	(void)write;
	switch (cond) {
	case COND_RANGE:
		return VTD_FR_ADDR_BEYOND;
	case COND_CTX:
		return VTD_FR_CTX_INVALID;
	default:
		/* VT-d has no level skip: a bad next level is a bad encoding. */
		return VTD_FR_RESERVED;
	}
}

IMS_HARVEST_PATH
int vtd_decode_cmd(const uint64_t cmd[2], struct hw_cmd *out)
{
	if (cmd[0] & VTD_DESC_TYPE_HI_MASK)
		return -EINVAL;
	unsigned g = (unsigned)((cmd[0] & VTD_DESC_G_MASK) >> VTD_DESC_G_SHIFT);
	uint16_t did = (uint16_t)((cmd[0] & VTD_DESC_DID_MASK) >> VTD_DESC_DID_SHIFT);
	switch (cmd[0] & VTD_DESC_TYPE_MASK) {
	case VTD_DESC_IOTLB:
		/* 6.5.2.3: second-stage addresses (GPAs of a nested DID). */
		out->stage = HW_STAGE_2;
		/* "IOTLB Invalidate Descriptor". DW / DR only order the drain of
		 * earlier requests, which the model completes at once. */
		switch (g) {
		case VTD_IOTLB_G_GLOBAL:
			out->kind = CMD_INV_ALL;
			return 0;
		case VTD_IOTLB_G_DOMAIN:
			out->kind = CMD_INV_DOMAIN;
			out->tag = did;
			return 0;
		case VTD_IOTLB_G_PAGE: {
			/* 2^AM pages at ADDR, which is aligned to that size. */
			unsigned n = 12 + (unsigned)(cmd[1] & VTD_IOTLB_AM_MASK);
			out->tag = did;
			if (n >= 64) {
				out->kind = CMD_INV_DOMAIN;
				return 0;
			}
			out->kind = CMD_INV_RANGE;
			out->size = 1ull << n;
			out->iova = cmd[1] & VTD_IOTLB_ADDR_MASK & ~(out->size - 1);
			out->leaf_only = (cmd[1] & VTD_IOTLB_IH) != 0;
			return 0;
		}
		default:
			return -EINVAL; /* granularity 00b is reserved */
		}
	case VTD_DESC_PASID_CACHE:
		/* "PASID-cache Invalidate Descriptor": domain- or PASID-selective
		 * both name the domain's one PASID entry here. Global would need
		 * every context re-read, which CMD_INV_CTX cannot say. */
		if (g != VTD_PC_G_DOMAIN && g != VTD_PC_G_PASID)
			return -EINVAL;
		out->kind = CMD_INV_CTX;
		out->tag = did;
		return 0;
	default:
		return -EINVAL;
	}
}

/* VT-d 3.8 and the scalable-mode fault reasons (7.1.3 table, numbers as
 * Linux's dmar.c names them): a second-stage fault on a first-stage table
 * read is a read permission error of that first-stage entry (of the
 * FSPTPTR table at the top), on a first-stage A/D update a write
 * permission error (the update needs second-stage write permission, 3.8);
 * a reserved second-stage bit, or a table address past the second stage,
 * have reasons of their own. The output address faults as the second
 * stage alone does. */
static uint32_t nest_code(uint32_t code, enum hw_nest_where where)
{
	if (where == NEST_FINAL)
		return code;
	switch (code) {
	case VTD_FR_RESERVED:
		return VTD_FR_SS_RSVD;
	case VTD_FR_ADDR_BEYOND:
		return VTD_FR_NEST_MGAW;
	default:
		return where == NEST_S1_AD	 ? VTD_FR_NEST_W
		       : where == NEST_S1_ROOT ? VTD_FR_NEST_ROOT_R
					       : VTD_FR_NEST_R;
	}
}

/* The walk's one call per entry (formats/hwfmt.h): the rules above, composed. */
HW_FMT_FUSED(fused, decode, check, leaf_update, table_update, cacheable, is_dirty)

const struct hw_fmt vtd_hw_fmt = {
	.fmt = IMS_FMT_VTD,
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
	.decode_cmd = vtd_decode_cmd,
	.step = fused_step,
	.fill = fused_fill,
	.group_skip_if_any = false,
	.nest_code = nest_code,
	/* 6.5.2.3: an IOTLB invalidation of second-stage addresses reaches the
	 * nested translations that used them (Linux's intel/cache.c flushes a
	 * nest parent's range through each nested DID, CACHE_TAG_NESTING_IOTLB). */
	.nest_range_combined = true,
};

int vtd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	struct fmt_geom fg = {p->levels, p->granule_shift, p->ias};
	int rc = vtd_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	unsigned levels = fg.levels;
	/* One enable, SSADE, covers both A and D (3.7.2). */
	if (p->ha != p->hd) {
		snprintf(err, errlen, "vtd: ha= and hd= must be equal (both map to PASID-entry "
				      "SSADE)");
		return -EINVAL;
	}
	if (p->root & ~VTD_HAW_MASK) {
		snprintf(err, errlen, "vtd: root must be a 4 KiB aligned address below 2^52");
		return -EINVAL;
	}
	w[0] = VTD_PE0_P | ((uint64_t)vtd_levels_aw(levels) << VTD_PE0_AW_SHIFT) |
	       ((uint64_t)VTD_PGTT_SL << VTD_PE0_PGTT_SHIFT) | p->root;
	if (p->ha)
		w[0] |= VTD_PE0_SSADE;
	w[1] = p->tag & VTD_PE1_DID_MASK;
	return 0;
}
