/* Intel VT-d second-stage tables: the format's description for the
 * registry. Levels: see vtd/vtd_codec.h. */
#include <stdio.h>

#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"

/* SSADE needs ECAP.SSADS, and A/D updates need a coherent walk (ECAP.SMPWC;
 * "3.10": otherwise a non-recoverable fault). */
static bool dirty_capable(const struct ims_iommu_cfg *cfg)
{
	return (cfg->vtd_ecap & VTD_ECAP_SSADS) && (cfg->vtd_ecap & VTD_ECAP_SMPWC);
}

/* The format's configuration keys (formats/format.h), with the model's
 * defaults: every A/D capability present. */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_RULE(IMS_FMT_VTD, "model.vtd_nonleaf_accessed", vtd_nonleaf_accessed, "true",
		"VT-d: A in non-leaf entries (EPT rule, inferred)", "vtd-nonleaf-accessed"),
	FMT_KEY_REG(IMS_FMT_VTD, "capabilities.vtd_cap", vtd_cap, "0x1100000c00000000",
		"VT-d CAP: SLLPS 34 (2M), 35 (1G); first stage (vtd-fs): FS1GP 56, FS5LP 60",
		"vtd-cap"),
	FMT_KEY_REG(IMS_FMT_VTD, "capabilities.vtd_ecap", vtd_ecap, "0x1a00480000000",
		"VT-d ECAP: SSADS 45, SMPWC 48; first stage (vtd-fs): FSTS 47, SRS 31, EAFS 34",
		"vtd-ecap"),
};

/* Linux's VT-d driver: 4K, 2M and 1G (SL-PTE, SL-PDE, SL-PDPE, "3.7"). */
static uint64_t driver_pgsizes(const struct fmt_geom *g)
{
	(void)g;
	return 1ull << 12 | 1ull << 21 | 1ull << 30;
}

/* AW = 12 + 9 x levels: 39, 48 or 57 bits. */
static unsigned iova_bits(const struct fmt_geom *g)
{
	return 12 + 9 * g->levels;
}

static const struct fmt_geom fuzz_geoms[] = {{.levels = 3}, {.levels = 4}, {.levels = 5}};

static const struct fmt_layout bench_layouts[] = {{"vtd", {.levels = 4}}};

/* Fault reasons (VT-d 7.1.3, the legacy numbering formats.md uses): second-
 * stage entries have no present bit, so a missing entry is a read or write
 * without its permission. */
static void fault_text(uint32_t code, char *buf, size_t len)
{
	const char *why;
	switch (code) {
	case VTD_FR_CTX_INVALID:
		why = "the context (PASID-table) entry is not valid";
		break;
	case VTD_FR_ADDR_BEYOND:
		why = "the address is beyond the address width";
		break;
	case VTD_FR_WRITE:
		why = "a write to an entry without W (or not present)";
		break;
	case VTD_FR_READ:
		why = "a read of an entry without R (or not present)";
		break;
	case VTD_FR_RESERVED:
		why = "a reserved bit set in a paging entry";
		break;
	case VTD_FR_NEST_MGAW:
		why = "a first-stage table address beyond the second stage (nested)";
		break;
	case VTD_FR_NEST_ROOT_R:
		why = "no second-stage read permission for the first-stage top table (nested)";
		break;
	case VTD_FR_NEST_R:
		why = "no second-stage read permission for a first-stage table (nested)";
		break;
	case VTD_FR_NEST_W:
		why = "no second-stage write permission for a first-stage A/D update (nested)";
		break;
	case VTD_FR_SS_RSVD:
		why = "a reserved bit set in a second-stage entry (nested)";
		break;
	default:
		why = "an unknown reason";
		break;
	}
	snprintf(buf, len, "fault reason 0x%x, %s", code, why);
}

const struct fmt_desc vtd_fmt_desc = {
	.id = IMS_FMT_VTD,
	.name = "vtd",
	.hw = &vtd_hw_fmt,
	.sw = &vtd_pt_fmt,
	.geometry = vtd_geometry,
	.ctx_encode = vtd_ctx_encode,
	.dirty_capable = dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.import_geom = {.levels = 3},
	.driver_pgsizes = driver_pgsizes,
	.iova_bits = iova_bits,
	.write_implies_read = false,
	.stream_ids = false,
	.fault_text = fault_text,
	.fuzz_geoms = fuzz_geoms,
	.n_fuzz_geoms = sizeof(fuzz_geoms) / sizeof(fuzz_geoms[0]),
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
