/* Intel VT-d first stage: the context (scalable-mode PASID-table entry with
 * PGTT = first-stage), the fault reasons and the invalidations, for model/'s
 * engine; the paging rules are x86-64's (x86/x86_hw.c). Spec: VT-d "3.6
 * First-Stage Translation", "9.6 Scalable-Mode PASID Table Entry", "9.7
 * First-Stage Paging Entries"; revision not stated. Levels: x86/x86_codec.h.
 */
#include <errno.h>
#include <stdio.h>

#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_codec.h"
#include "x86/x86_hw.h"
#include "model/hot_path.h"

static int decode_ctx(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t errlen)
{
	uint64_t q0 = w[0], q2 = w[2];
	if (!(q0 & VTD_PE0_P))
		X86_CTX_ERR("PASID entry P is clear");
	unsigned pgtt = (unsigned)((q0 & VTD_PE0_PGTT_MASK) >> VTD_PE0_PGTT_SHIFT);
	if (pgtt != VTD_PGTT_FS)
		X86_CTX_ERR("PASID entry PGTT %u: vtd-fs is first-stage translation (001b)", pgtt);
	/* PGTT = 001b is reserved without ECAP.FSTS. */
	if (!(cfg->vtd_ecap & VTD_ECAP_FSTS))
		X86_CTX_ERR("PASID entry PGTT first-stage but ECAP.FSTS is clear");
	unsigned fspm = (unsigned)((q2 & VTD_PE2_FSPM_MASK) >> VTD_PE2_FSPM_SHIFT);
	if (fspm > VTD_FSPM_5LEVEL)
		X86_CTX_ERR("PASID entry FSPM %u is reserved (00b 4-level, 01b 5-level)", fspm);
	if (fspm == VTD_FSPM_5LEVEL && !(cfg->vtd_cap & VTD_CAP_FS5LP))
		X86_CTX_ERR("PASID entry FSPM 5-level but CAP.FS5LP is clear");
	uint64_t root = q2 & VTD_PE2_FSPTPTR_MASK;
	if (root & ~VTD_HAW_MASK)
		X86_CTX_ERR("PASID entry FSPTPTR 0x%llx is beyond the 52-bit host address width",
			(unsigned long long)root);
	if ((q2 & VTD_PE2_EAFE) && !(cfg->vtd_ecap & VTD_ECAP_EAFS))
		X86_CTX_ERR("PASID entry EAFE set but ECAP.EAFS is clear");
	if ((q2 & VTD_PE2_SRE) && !(cfg->vtd_ecap & VTD_ECAP_SRS))
		X86_CTX_ERR("PASID entry SRE set but ECAP.SRS is clear");
	x86_ctx_geometry(c, fspm == VTD_FSPM_5LEVEL ? 5 : 4, root);
	/* 3.6.2: first-stage A/D are always updated (x86/x86_hw.c); the
	 * context carries no permission of its own. FPD only stops fault
	 * recording, which the model does not model (as for vtd). */
	c->r = c->w = true;
	bool super = cfg->vtd_fs_supervisor;
	c->priv = super;
	c->caps = (super ? 0 : X86_CTX_USER) | ((q2 & VTD_PE2_WPE) ? X86_CTX_WP : 0) |
		  ((q2 & VTD_PE2_NXE) ? X86_CTX_NXE : 0) |
		  ((cfg->vtd_cap & VTD_CAP_FS1GP) ? X86_CTX_1G : 0) |
		  ((q2 & VTD_PE2_EAFE) ? X86_CTX_EA : 0) |
		  /* A request with PR = 1 through a PASID entry with SRE = 0
		   * is blocked (reason 5Dh). */
		  ((super && !(q2 & VTD_PE2_SRE)) ? X86_CTX_BLOCK : 0);
	return 0;
}

/* VT-d 3.8 / 9.6: nested translation is the PASID entry with PGTT = 011b,
 * whose first-stage fields decode as for first-stage translation and whose
 * second-stage fields are the parent context's (the model keeps them
 * there). Words with PGTT = 001b, as ims_iommu_ctx_set takes them, are
 * taken too. */
static int decode_nested(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
			 char *err, size_t errlen)
{
	uint64_t v[IMS_CTX_WORDS];
	for (unsigned i = 0; i < IMS_CTX_WORDS; i++)
		v[i] = w[i];
	unsigned pgtt = (unsigned)((v[0] & VTD_PE0_PGTT_MASK) >> VTD_PE0_PGTT_SHIFT);
	if (pgtt == VTD_PGTT_NESTED)
		v[0] = (v[0] & ~VTD_PE0_PGTT_MASK) | (uint64_t)VTD_PGTT_FS << VTD_PE0_PGTT_SHIFT;
	return decode_ctx(v, cfg, c, err, errlen);
}

/* The PASID-based IOTLB descriptor ("6.5.2.4"); the others as the second
 * stage decodes them. The model's first-stage domain is the PASID entry
 * requests without PASID use (RID_PASID 0): a descriptor naming another
 * PASID has nothing of it to drop. */
IMS_HARVEST_PATH
static int decode_cmd(const uint64_t cmd[2], struct hw_cmd *out)
{
	if ((cmd[0] & VTD_DESC_TYPE_MASK) != VTD_DESC_PIOTLB || (cmd[0] & VTD_DESC_TYPE_HI_MASK))
		return vtd_decode_cmd(cmd, out);
	unsigned g = (unsigned)((cmd[0] & VTD_DESC_G_MASK) >> VTD_DESC_G_SHIFT);
	out->tag = (uint16_t)((cmd[0] & VTD_DESC_DID_MASK) >> VTD_DESC_DID_SHIFT);
	uint64_t pasid = (cmd[0] & VTD_DESC_PASID_MASK) >> VTD_DESC_PASID_SHIFT;
	if (g != VTD_IOTLB_G_DOMAIN && g != VTD_IOTLB_G_PAGE)
		return -EINVAL; /* 00b, 01b: not modelled */
	if (pasid) {
		out->kind = CMD_NONE;
		return 0;
	}
	/* 6.5.2.4: first-stage and combined (nested) translations of the
	 * PASID; second-stage ones are left to the IOTLB descriptor. */
	out->stage = HW_STAGE_1;
	if (g == VTD_IOTLB_G_DOMAIN) {
		out->kind = CMD_INV_DOMAIN;
		return 0;
	}
	unsigned n = 12 + (unsigned)(cmd[1] & VTD_IOTLB_AM_MASK);
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

/* Scalable-mode fault reasons (vtd/vtd_codec.h): an IOVA past the lower
 * canonical half is "not canonical". */
const struct x86_hw_fmt vtd_fs_x86_fmt = {
	.hw = {
		.fmt = IMS_FMT_VTD_FS,
		.decode_ctx = decode_ctx,
		.decode_cmd = decode_cmd,
		X86_HW_OPS,
		.nest_over = 1 + IMS_FMT_VTD,
		.decode_nested = decode_nested,
	},
	.codes = {
		.notpresent = VTD_FR_FS_P,
		.reserved = VTD_FR_FS_RSVD,
		.priv = VTD_FR_FS_US,
		.write = VTD_FR_SM_WRITE,
		.blocked = VTD_FR_SM_SRE,
		.range = VTD_FR_FS_CANON,
		.ctx = VTD_FR_SM_PE_P,
	},
};

/* A raw `format=vtd-fs root=PA raw` domain gets a domain's PASID-entry
 * words (vtd/vtd_fs_geom.c). First-stage A/D have no enable, so ha= and
 * hd= have nothing to encode (docs/trace-format.md). */
int vtd_fs_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	return x86_ctx_encode("vtd-fs", vtd_fs_geometry, vtd_fs_words, p, w, err, errlen);
}
