/* AMD IOMMU v2 guest tables (x86-64 format): the format's description for
 * the registry. Levels: see x86/x86_codec.h. */
#include <stdio.h>

#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "x86/x86_sw.h"

/* A v2 domain tracks dirty pages wherever guest translation (EFR.GTSup)
 * serves requests without PASID (EFR.GIoSup) and the Control register
 * leaves the guest Dirty updates on (GDUpdateDis, amd/amdv2_hw.c). Without
 * Accessed updates (GAUpdateDis) D is still set: dirty tracking needs D. */
static bool dirty_capable(const struct ims_iommu_cfg *cfg)
{
	return (cfg->amd_efr & AMD_EFR_GTSUP) && (cfg->amd_efr & AMD_EFR_GIOSUP) &&
	       amdv2_guest_d(cfg);
}

/* The capability register is v1's (capabilities.amd_efr: its default
 * carries GTSup, GATS, GLXSup, GIoSup and GAUpdateDisSup too); v2 adds the
 * privilege of its requests and the Control register's guest A/D update
 * disables (the default: both updates on). */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_RULE(IMS_FMT_AMDV2, "model.amdv2_supervisor", amdv2_supervisor, "false",
		"AMD v2: DMA requests are supervisor (PMR = 1)", "amdv2-supervisor"),
	FMT_KEY_REG(IMS_FMT_AMDV2, "capabilities.amd_control", amd_control, "0x0",
		"AMD IOMMU Control register: GDUpdateDis 48, GAUpdateDis 54 (v2: no guest "
		"Dirty / Accessed updates; need EFR.GAUpdateDisSup 61)", "amd-control"),
};

static const struct fmt_layout bench_layouts[] = {{"amdv2", {.levels = 4}}};

/* IO_PAGE_FAULT's flags (amd/amd_codec.h), GN set for a guest table. */
static void fault_text(uint32_t code, char *buf, size_t len)
{
	const char *why = (code & AMD_EV_RZ)   ? "a reserved bit in a guest table entry"
			  : (code & AMD_EV_PE) ? ((code & AMD_EV_US) && !(code & AMD_EV_RW)
						      ? "a permission violation (U/S for a user request)"
						      : "a permission violation (U/S or R/W)")
					       : "no present entry (or an address past the lower canonical half)";
	snprintf(buf, len, "IO_PAGE_FAULT flags 0x%x: GN=%d US=%d PR=%d RW=%d PE=%d RZ=%d, %s", code,
		 !!(code & AMD_EV_GN), !!(code & AMD_EV_US), !!(code & AMD_EV_PR),
		 !!(code & AMD_EV_RW), !!(code & AMD_EV_PE), !!(code & AMD_EV_RZ), why);
}

const struct fmt_desc amdv2_fmt_desc = {
	.id = IMS_FMT_AMDV2,
	.name = "amdv2",
	.hw = &amdv2_x86_fmt.hw,
	.sw = &amdv2_pt_fmt,
	.geometry = amdv2_geometry,
	.ctx_encode = amdv2_ctx_encode,
	.dirty_capable = dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.fault_text = fault_text,
	X86_DESC_COMMON,
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
