/* AMD IOMMU v1 host page tables: the format's description for the registry.
 * Levels: see amd/amd_codec.h. */
#include <stdio.h>

#include "amd/amd.h"
#include "amd/amd_codec.h"

/* DTE.HAD = 11b needs both EFR.HASup and EFR.HDSup (formats.md, "AMD IOMMU
 * v1", capabilities). */
static bool dirty_capable(const struct ims_iommu_cfg *cfg)
{
	return (cfg->amd_efr & AMD_EFR_HASUP) && (cfg->amd_efr & AMD_EFR_HDSUP);
}

/* The format's configuration keys (formats/format.h), with the model's
 * defaults: every A/D capability present. */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_RULE(IMS_FMT_AMDV1, "model.amd_pde_accessed", amd_pde_accessed, "false",
		"AMD: hardware sets A in PDEs too (not established)", "amd-pde-accessed"),
	FMT_KEY_REG(IMS_FMT_AMDV1, "capabilities.amd_efr", amd_efr, "0x2013000000005810",
		"AMD EFR: HASup 49, HDSup 52, HATS 11:10; v2 (amdv2): GTSup 4, GATS 13:12, "
		"GLXSup 15:14, GIoSup 48, GAUpdateDisSup 61", "amd-efr"),
};

/* Linux's AMD v1 driver: every power of two from 4K to 1G (NextLevel=7
 * sizes; 512G is left out for a hardware erratum). */
static uint64_t driver_pgsizes(const struct fmt_geom *g)
{
	(void)g;
	return ((1ull << 31) - 1) & ~((1ull << 12) - 1);
}

/* Mode N translates 12 + 9N bits ("2.2.3"). */
static unsigned iova_bits(const struct fmt_geom *g)
{
	return 12 + 9 * g->levels;
}

static const struct fmt_geom fuzz_geoms[] = {
	{.levels = 1}, {.levels = 2}, {.levels = 3}, {.levels = 4}, {.levels = 5}, {.levels = 6},
};

static const struct fmt_layout bench_layouts[] = {{"amdv1", {.levels = 4}}};

/* IO_PAGE_FAULT's flags (AMD IOMMU 2.5.3): PR the entry was present, RW a
 * write, PE a permission violation, RZ a reserved bit or a bad level
 * encoding. */
static void fault_text(uint32_t code, char *buf, size_t len)
{
	const char *why = (code & AMD_EV_RZ)   ? "a reserved bit or a bad NextLevel"
			  : (code & AMD_EV_PE) ? "a permission violation"
			  : (code & AMD_EV_PR) ? "the entry was present (a level the walk skipped is not 0)"
					       : "no present entry";
	snprintf(buf, len, "IO_PAGE_FAULT flags 0x%x: PR=%d RW=%d PE=%d RZ=%d, %s", code,
		 !!(code & AMD_EV_PR), !!(code & AMD_EV_RW), !!(code & AMD_EV_PE),
		 !!(code & AMD_EV_RZ), why);
}

const struct fmt_desc amd_fmt_desc = {
	.id = IMS_FMT_AMDV1,
	.name = "amdv1",
	.hw = &amd_hw_fmt,
	.sw = &amd_pt_fmt,
	.geometry = amd_geometry,
	.ctx_encode = amd_ctx_encode,
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
