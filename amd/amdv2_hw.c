/* AMD IOMMU v2 guest tables: the context (a DTE with GV = 1 and the GCR3
 * table entry of PASID 0), the event flags and the commands, for model/'s
 * engine; the paging rules are x86-64's (x86/x86_hw.c). Spec: AMD IOMMU
 * "2.2.2 Device Table Entry", "2.2.6 I/O Page Tables for Guest
 * Translations"; revision not stated. Levels: x86/x86_codec.h.
 *
 * A/D: the guest tables are x86-64 tables, and the IOMMU keeps their
 * accessed and dirty flags as the processor does (2.2.6); DTE.HAD
 * ("Host Access Dirty", 2.2.7.4) gates the host tables' updates. No field
 * of the DTE or the GCR3 entry gates the guest's: the IOMMU Control
 * register does, for every device, with GAUpdateDis (bit 54: no Accessed
 * updates) and GDUpdateDis (bit 48: no Dirty updates) where
 * EFR.GAUpdateDisSup (bit 61) is set (amdv2_guest_a / _d in amd/amd.h).
 */
#include <errno.h>
#include <stdio.h>

#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "x86/x86_codec.h"
#include "x86/x86_hw.h"
#include "model/hot_path.h"

static int decode_ctx(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
		      char *err, size_t errlen)
{
	uint64_t q0 = w[0], gcr3 = w[AMD_CTX_GCR3_WORD];
	uint64_t efr = cfg->amd_efr;
	if (!(q0 & AMD_DTE_V) || !(q0 & AMD_DTE_TV))
		X86_CTX_ERR("DTE V and TV must be set");
	if (!(q0 & AMD_DTE_GV))
		X86_CTX_ERR("DTE GV is clear: no guest translation (amdv2 walks the guest tables)");
	if (!(efr & AMD_EFR_GTSUP))
		X86_CTX_ERR("DTE GV set but EFR.GTSup is clear");
	/* Mode names the host tables a guest translation nests in; nesting is
	 * not modelled yet: the guest tables' addresses are system physical. */
	unsigned mode = (unsigned)((q0 & AMD_DTE_MODE_MASK) >> AMD_DTE_MODE_SHIFT);
	if (mode)
		X86_CTX_ERR("DTE Mode %u: amdv2 is a single-stage domain (Mode 0, no host tables)",
			mode);
	/* Requests without PASID use PASID 0's guest tables only with GIoV. */
	if (!(q0 & AMD_DTE_GIOV))
		X86_CTX_ERR("DTE GIoV is clear: requests without PASID would bypass the guest tables");
	if (!(efr & AMD_EFR_GIOSUP))
		X86_CTX_ERR("DTE GIoV set but EFR.GIoSup is clear");
	unsigned glx = (unsigned)((q0 & AMD_DTE_GLX_MASK) >> AMD_DTE_GLX_SHIFT);
	unsigned glxsup = (unsigned)((efr & AMD_EFR_GLXSUP_MASK) >> AMD_EFR_GLXSUP_SHIFT);
	if (glx > glxsup || glx > 2)
		X86_CTX_ERR("DTE GLX %u: the GCR3 table has at most %u levels (EFR.GLXSup)", glx,
			(glxsup > 2 ? 2 : glxsup) + 1);
	unsigned gpm = (unsigned)((w[2] & AMD_DTE2_GPM_MASK) >> AMD_DTE2_GPM_SHIFT);
	unsigned gats = (unsigned)((efr & AMD_EFR_GATS_MASK) >> AMD_EFR_GATS_SHIFT);
	if (gpm > AMD_GPM_5LEVEL)
		X86_CTX_ERR("DTE guest paging mode %u is reserved (00b 4-level, 01b 5-level)", gpm);
	if (gpm > gats)
		X86_CTX_ERR("DTE guest paging mode 5-level but EFR.GATS allows 4 levels");
	if (!(gcr3 & AMD_GCR3_V))
		X86_CTX_ERR("the GCR3 table entry of PASID 0 is not valid");
	x86_ctx_geometry(c, gpm == AMD_GPM_5LEVEL ? 5 : 4, gcr3 & AMD_GCR3_ADDR_MASK);
	/* A in every guest entry a walk uses and D in the leaf (2.2.6), unless
	 * the Control register disables them. */
	c->ha = c->nonleaf_a = amdv2_guest_a(cfg);
	c->hd = amdv2_guest_d(cfg);
	/* IR/IW limit every translation of the device, as for v1. */
	c->r = (q0 & AMD_DTE_IR) != 0;
	c->w = (q0 & AMD_DTE_IW) != 0;
	bool super = cfg->amdv2_supervisor;
	c->priv = super;
	/* XD is a control, never reserved; supervisor writes honour R/W (no
	 * control switches that off: the model assumes CR0.WP = 1, inferred);
	 * 1 GiB pages always exist in the guest format. */
	c->caps = (super ? 0 : X86_CTX_USER) | X86_CTX_WP | X86_CTX_NXE | X86_CTX_1G;
	return 0;
}

/* The nested configuration (AMD IOMMU 2.2.2, 2.2.6): the same DTE with a
 * non-zero Mode, whose host tables are the parent context's (the model
 * keeps them there); the guest tables' addresses are then GPAs. */
static int decode_nested(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
			 char *err, size_t errlen)
{
	uint64_t v[IMS_CTX_WORDS];
	for (unsigned i = 0; i < IMS_CTX_WORDS; i++)
		v[i] = w[i];
	v[0] &= ~AMD_DTE_MODE_MASK;
	return decode_ctx(v, cfg, c, err, errlen);
}

/* INVALIDATE_IOMMU_PAGES with GN = 1 names a PASID's guest translations:
 * the model's domain is PASID 0 (GIoV), so another PASID drops nothing of
 * it. GN = 0 drops the domain's entries as for v1 (the IOTLB does not yet
 * tell host from guest entries: the nested item). */
IMS_HARVEST_PATH
static int decode_cmd(const uint64_t cmd[2], struct hw_cmd *out)
{
	if ((cmd[0] >> AMD_CMD_OPCODE_SHIFT) == AMD_CMD_INV_PAGES && (cmd[1] & AMD_CMD_GN) &&
	    (cmd[0] & AMD_CMD_PASID_MASK)) {
		out->kind = CMD_NONE;
		return 0;
	}
	return amd_decode_cmd(cmd, out);
}

/* IO_PAGE_FAULT flags (amd/amd_codec.h), GN on all: an IOVA past the lower
 * canonical half or an invalid context finds no present entry. */
const struct x86_hw_fmt amdv2_x86_fmt = {
	.hw = {
		.fmt = IMS_FMT_AMDV2,
		.decode_ctx = decode_ctx,
		.decode_cmd = decode_cmd,
		X86_HW_OPS,
		.nest_over = 1 + IMS_FMT_AMDV1,
		.decode_nested = decode_nested,
	},
	.codes = {
		.notpresent = AMD_EV_GN,
		.reserved = AMD_EV_GN | AMD_EV_PR | AMD_EV_RZ,
		.priv = AMD_EV_GN | AMD_EV_PR | AMD_EV_PE,
		.write = AMD_EV_GN | AMD_EV_PR | AMD_EV_PE,
		.blocked = AMD_EV_GN,
		.range = AMD_EV_GN,
		.ctx = AMD_EV_GN,
		.rw = AMD_EV_RW,
		.user = AMD_EV_US,
	},
};

/* A raw `format=amdv2 root=PA raw` domain gets a domain's words
 * (amd/amdv2_geom.c). Guest A/D have no per-domain enable (the Control
 * register's bits are the IOMMU's: capabilities.amd_control), so ha= and
 * hd= have nothing to encode (docs/trace-format.md). */
int amdv2_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	return x86_ctx_encode("amdv2", amdv2_geometry, amdv2_words, p, w, err, errlen);
}
