/* Arm SMMUv3 stage 1 (VMSAv8-64): the format's description for the
 * registry. Levels: see smmuv3/smmu_codec.h. */
#include <stdio.h>

#include "smmuv3/smmu.h"
#include "smmuv3/smmu_codec.h"

/* IDR0.HTTU = 2 or 3: access flag and dirty state (6.3.1). */
static bool dirty_capable(const struct ims_iommu_cfg *cfg)
{
	return ((cfg->smmu_idr0 & SMMU_IDR0_HTTU_MASK) >> SMMU_IDR0_HTTU_SHIFT) >= 2;
}

/* The format's configuration keys (formats/format.h), with the model's
 * defaults: every A/D capability present. */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_RULE(IMS_FMT_SMMUV3, "model.dma_privileged", dma_privileged, "false",
		"SMMU STE.PRIVCFG: device accesses privileged", "dma-privileged"),
	FMT_KEY_REG(IMS_FMT_SMMUV3, "capabilities.smmu_idr0", smmu_idr0, "0x80",
		"SMMU IDR0: HTTU 7:6", "smmu-idr0"),
};

/* io-pgtable-arm: the page and the block sizes of the granule (D8.3),
 * no contiguous sizes. */
static uint64_t driver_pgsizes(const struct fmt_geom *g)
{
	if (g->granule_shift == 14)
		return 1ull << 14 | 1ull << 25;
	if (g->granule_shift == 16)
		return 1ull << 16 | 1ull << 29;
	return 1ull << 12 | 1ull << 21 | 1ull << 30;
}

/* T0SZ = 64 - ias. */
static unsigned iova_bits(const struct fmt_geom *g)
{
	return g->ias;
}

static const struct fmt_geom fuzz_geoms[] = {
	{.granule_shift = 12, .ias = 32}, {.granule_shift = 12, .ias = 39},
	{.granule_shift = 12, .ias = 48}, {.granule_shift = 12, .ias = 52},
	{.granule_shift = 14, .ias = 36}, {.granule_shift = 14, .ias = 47},
	{.granule_shift = 14, .ias = 48}, {.granule_shift = 14, .ias = 52},
	{.granule_shift = 16, .ias = 42}, {.granule_shift = 16, .ias = 48},
	{.granule_shift = 16, .ias = 52},
};

static const struct fmt_layout bench_layouts[] = {
	{"smmuv3-4k", {.granule_shift = 12}},
	{"smmuv3-16k", {.granule_shift = 14}},
	{"smmuv3-64k", {.granule_shift = 16}},
};

/* Event record types (SMMUv3 7.3): the fault's code is the event id. */
static void fault_text(uint32_t code, char *buf, size_t len)
{
	const char *name, *why;
	switch (code) {
	case SMMU_EVT_C_BAD_CD:
		name = "C_BAD_CD", why = "the context descriptor is not valid";
		break;
	case SMMU_EVT_F_TRANSLATION:
		name = "F_TRANSLATION", why = "no valid descriptor, or the address is outside T0SZ";
		break;
	case SMMU_EVT_F_ADDR_SIZE:
		name = "F_ADDR_SIZE", why = "an output address beyond the supported size";
		break;
	case SMMU_EVT_F_ACCESS:
		name = "F_ACCESS", why = "the access flag is clear and hardware does not set it";
		break;
	case SMMU_EVT_F_PERMISSION:
		name = "F_PERMISSION", why = "the descriptor's permissions refuse the access";
		break;
	default:
		name = "event", why = "an unknown event";
		break;
	}
	snprintf(buf, len, "%s (0x%02x), %s", name, code, why);
}

const struct fmt_desc smmu_fmt_desc = {
	.id = IMS_FMT_SMMUV3,
	.name = "smmuv3",
	.hw = &smmu_hw_fmt,
	.sw = &smmu_pt_fmt,
	.geometry = smmu_geometry,
	.ctx_encode = smmu_ctx_encode,
	.dirty_capable = dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.import_geom = {.granule_shift = 12, .ias = 48},
	.driver_pgsizes = driver_pgsizes,
	.iova_bits = iova_bits,
	/* Stage 1 has no write-only pages: AP[2:1] makes a writable page
	 * readable too (D8.4). */
	.write_implies_read = true,
	.stream_ids = true,
	.fault_text = fault_text,
	.fuzz_geoms = fuzz_geoms,
	.n_fuzz_geoms = sizeof(fuzz_geoms) / sizeof(fuzz_geoms[0]),
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
