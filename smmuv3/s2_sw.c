/* Arm SMMUv3 stage 2: what the OS driver (a hypervisor's stage-2 domain)
 * does: software format ops. Levels: see smmuv3/s2_codec.h. The descriptor
 * layout, leaf sizes, contiguous groups and table decoding are stage 1's
 * (smmuv3/smmu_sw.h); permissions, the dirty state, the STE and the
 * commands are stage 2's own.
 *
 * Permission policy (as stage 1's, in stage 2 terms): S2AP[0] (read) as
 * the mapping asks; a writable mapping in a domain allocated for dirty
 * tracking is writable-CLEAN (DBM = 1, S2AP[1] = 0) and the STE has
 * S2HA = S2HD = 1 from allocation on, so a device write makes it dirty
 * without a fault and only written pages are ever dirty; any other
 * writable mapping is S2AP[1] = 1, DBM = 0 (writable, never tracked).
 */
#include <errno.h>
#include <stdio.h>

#include "formats/swfmt.h"
#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"
#include "smmuv3/smmu_sw.h"
#include "model/hot_path.h"

static int init(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen)
{
	struct fmt_geom fg = {cfg->levels, cfg->granule_shift, cfg->ias};
	int rc = s2_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	cfg->levels = fg.levels;
	cfg->granule_shift = fg.granule_shift;
	cfg->ias = fg.ias;
	g->gshift = fg.granule_shift;
	g->stride = fg.granule_shift - 3;
	g->ias = fg.ias;
	/* The start level S2SL0 names: a concatenated start level is a top
	 * table of more than one granule, which pagetables/ sizes from ias. */
	g->top = (int)fg.levels - 1;
	/* S2PS as ctx_words programs it: 52 bits with the 64K granule
	 * (FEAT_LPA), else 48. */
	g->oas = fg.granule_shift == 16 ? 52 : 48;
	g->pgsizes = smmu_sw_pgsizes(g);
	if (!cfg->pgsizes)
		cfg->pgsizes = g->pgsizes;
	return 0;
}

static uint64_t mk_leaf(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
			unsigned idx, unsigned prot, bool dirty_tracking)
{
	unsigned es = pt_level_shift(g, level);
	uint64_t pte = (level == 0 ? SMMU_D_PAGE : SMMU_D_BLOCK) | SMMU_D_AF |
		       SMMU_SH_INNER << SMMU_D_SH_SHIFT |
		       S2_MEMATTR_NORMAL_WB << S2_D_MEMATTR_SHIFT;
	if (shift > es)
		pte |= SMMU_D_CONT;
	pte |= smmu_sw_oa_field(g, pa + ((uint64_t)idx << es));
	if (prot & IMS_PROT_R)
		pte |= S2_D_S2AP_R;
	if (prot & IMS_PROT_W)
		pte |= dirty_tracking ? SMMU_D_DBM : S2_D_S2AP_W; /* policy above */
	return pte;
}

static unsigned leaf_prot(uint64_t pte)
{
	bool w = (pte & S2_D_S2AP_W) || (pte & SMMU_D_DBM);
	return (pte & S2_D_S2AP_R ? IMS_PROT_R : 0) | (w ? IMS_PROT_W : 0);
}

static bool is_dirty(uint64_t pte)
{
	return (pte & SMMU_D_DBM) && (pte & S2_D_S2AP_W);
}

static void ctx_words(const struct pt_dom *d, uint64_t w[8])
{
	const struct pt_geom *g = d->g;
	/* S2HA and S2HD from allocation on (policy above). */
	s2_ste_words(d->tag, g->gshift, g->ias, (unsigned)g->top + 1, d->root, d->dirty_tracking,
		     d->dirty_tracking, w);
}

static int flush_vmid(const struct pt_dom *d)
{
	uint64_t cmd[2] = {SMMU_CMD_TLBI_S12_VMALL | (uint64_t)d->tag << SMMU_CMD_VMID_SHIFT, 0};
	return d->submit(d->host, cmd);
}

/* CMD_TLBI_S2_IPA by VMID (SMMUv3 4.4.3), or the whole VMID
 * (CMD_TLBI_S12_VMALL, which drops combined stage 1+2 entries too).
 * CMD_TLBI_S2_IPA need not drop entries that combine both stages (IHI0070
 * 4.4.3), so for a nesting parent the range is followed by CMD_TLBI_NH_ALL
 * of the same VMID (4.4.2: every stage-1 entry of the VMID): Linux's
 * arm_smmu_tlb_inv_range_domain() does so when smmu_domain->nest_parent,
 * reusing the command's tlbi.vmid (arm_smmu_cmdq_build_cmd puts it in
 * CMD_TLBI_NH_ALL's VMID field, cmd[0] 47:32). */
IMS_HARVEST_PATH
static int flush(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	if (!size)
		return flush_vmid(d);
	int rc = smmu_sw_tlbi_range(d, SMMU_CMD_TLBI_S2_IPA | (uint64_t)d->tag << SMMU_CMD_VMID_SHIFT,
				    iova, size, leaf_only, flush_vmid);
	if (!rc && d->nest_parent) {
		uint64_t cmd[2] = {SMMU_CMD_TLBI_NH_ALL | (uint64_t)d->tag << SMMU_CMD_VMID_SHIFT, 0};
		rc = d->submit(d->host, cmd);
	}
	return rc;
}

const struct pt_fmt s2_pt_fmt = {
	.fmt = IMS_FMT_SMMUV3_S2,
	.init = init,
	.leaf_level = smmu_sw_leaf_level,
	.mk_table = smmu_sw_mk_table,
	.mk_leaf = mk_leaf,
	.kind = smmu_sw_kind,
	.bad_why = smmu_sw_bad_why,
	.table_pa = smmu_sw_table_pa,
	.leaf_shift = smmu_sw_leaf_shift,
	.leaf_pa = smmu_sw_leaf_pa,
	.leaf_prot = leaf_prot,
	.is_dirty = is_dirty,
	/* Clean: clear S2AP[1], keep DBM (writable-clean). */
	.clean_clear = S2_D_S2AP_W,
	.clean_set = 0,
	.ctx_words = ctx_words,
	.set_hw_dirty = smmu_sw_set_hw_dirty,
	.flush = flush,
};
