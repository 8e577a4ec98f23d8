/* Intel VT-d first-stage tables (x86-64 format): the format's description
 * for the registry. Levels: see x86/x86_codec.h. */
#include <stdio.h>

#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_sw.h"

/* First-stage A/D are always updated (3.6.2), so a domain tracks dirty
 * pages wherever first-stage translation exists (ECAP.FSTS) and the A/D
 * writes reach coherent tables (ECAP.SMPWC, as for the second stage, 3.10). */
static bool dirty_capable(const struct ims_iommu_cfg *cfg)
{
	return (cfg->vtd_ecap & VTD_ECAP_FSTS) && (cfg->vtd_ecap & VTD_ECAP_SMPWC);
}

/* The capability registers are the second stage's (capabilities.vtd_cap,
 * vtd_ecap: their defaults carry FSTS, FS1GP, FS5LP, SRS, EAFS too); the
 * first stage adds the privilege of its requests. */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_RULE(IMS_FMT_VTD_FS, "model.vtd_fs_supervisor", vtd_fs_supervisor, "false",
		"VT-d first stage: DMA requests are supervisor (PR = 1; needs PASID-entry SRE)",
		"vtd-fs-supervisor"),
};

static const struct fmt_layout bench_layouts[] = {{"vtd-fs", {.levels = 4}}};

/* Scalable-mode fault reasons (vtd/vtd_codec.h). */
static void fault_text(uint32_t code, char *buf, size_t len)
{
	const char *why;
	switch (code) {
	case VTD_FR_SM_PE_P:
		why = "the PASID-table entry is not present (or not first-stage)";
		break;
	case VTD_FR_SM_SRE:
		why = "a supervisor request through a PASID entry with SRE clear";
		break;
	case VTD_FR_FS_P:
		why = "the present bit of a first-stage entry is clear";
		break;
	case VTD_FR_FS_RSVD:
		why = "a reserved bit set in a first-stage entry";
		break;
	case VTD_FR_FS_CANON:
		why = "the address is not canonical (or in the upper half)";
		break;
	case VTD_FR_FS_US:
		why = "U/S clear for a user request";
		break;
	case VTD_FR_SM_WRITE:
		why = "a write without write permission";
		break;
	default:
		why = "an unknown reason";
		break;
	}
	snprintf(buf, len, "fault reason 0x%x, %s", code, why);
}

const struct fmt_desc vtd_fs_fmt_desc = {
	.id = IMS_FMT_VTD_FS,
	.name = "vtd-fs",
	.hw = &vtd_fs_x86_fmt.hw,
	.sw = &vtd_fs_pt_fmt,
	.geometry = vtd_fs_geometry,
	.ctx_encode = vtd_fs_ctx_encode,
	.dirty_capable = dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.fault_text = fault_text,
	X86_DESC_COMMON,
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
