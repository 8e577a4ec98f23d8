/* Arm SMMUv3 stage 2 (VMSAv8-64 stage-2 tables): the format's description
 * for the registry. Levels: see smmuv3/s2_codec.h. */
#include <stdio.h>

#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"

/* SMMU_IDR0.HTTU = 2 or 3 (6.3.1): the access flag and dirty state, at
 * both stages (SMMUv3 5.2, S2HD). IDR0.S2P is not modelled: stage 2 is
 * always there. */
static bool dirty_capable(const struct ims_iommu_cfg *cfg)
{
	return ((cfg->smmu_idr0 & SMMU_IDR0_HTTU_MASK) >> SMMU_IDR0_HTTU_SHIFT) >= 2;
}

/* SMMU_IDR0 is stage 1's key (smmuv3/smmu.c): HTTU covers both stages.
 * SMMU_IDR5 is stage 2's: OAS caps S2PS and the STE's granule must be one
 * it offers. */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_REG(IMS_FMT_SMMUV3_S2, "capabilities.smmu_idr5", smmu_idr5, "0x76",
		"SMMU IDR5: OAS 2:0, GRAN4K 4, GRAN16K 5, GRAN64K 6 (stage 2)", "smmu-idr5"),
};

/* io-pgtable-arm (stage 2 as stage 1): the page and the block sizes of the
 * granule, no contiguous sizes. */
static uint64_t driver_pgsizes(const struct fmt_geom *g)
{
	if (g->granule_shift == 14)
		return 1ull << 14 | 1ull << 25;
	if (g->granule_shift == 16)
		return 1ull << 16 | 1ull << 29;
	return 1ull << 12 | 1ull << 21 | 1ull << 30;
}

/* S2T0SZ = 64 - ias. */
static unsigned iova_bits(const struct fmt_geom *g)
{
	return g->ias;
}

/* Every granule at a natural start level and a concatenated one (4K: 2
 * and 16 tables at Arm level 1, 16 at level 2; 16K: 2 at level 1 and 16
 * at level 2; 64K: 52 bits at level 1 and 16 tables at level 2). */
static const struct fmt_geom fuzz_geoms[] = {
	{.granule_shift = 12, .ias = 48}, {.granule_shift = 12, .ias = 40},
	{.levels = 3, .granule_shift = 12, .ias = 43}, {.levels = 2, .granule_shift = 12, .ias = 34},
	{.granule_shift = 12, .ias = 36}, {.granule_shift = 14, .ias = 48},
	{.levels = 2, .granule_shift = 14, .ias = 40}, {.granule_shift = 14, .ias = 36},
	{.granule_shift = 16, .ias = 48}, {.granule_shift = 16, .ias = 52},
	{.levels = 2, .granule_shift = 16, .ias = 46}, {.granule_shift = 16, .ias = 42},
};

static const struct fmt_layout bench_layouts[] = {
	{"smmuv3-s2-4k", {.granule_shift = 12}},
	{"smmuv3-s2-16k", {.granule_shift = 14}},
	{"smmuv3-s2-64k", {.granule_shift = 16}},
};

/* Event record types (SMMUv3 7.3) with the record's S2 field. */
static void fault_text(uint32_t code, char *buf, size_t len)
{
	const char *name, *why;
	switch (code & ~SMMU_EVT_S2) {
	case SMMU_EVT_C_BAD_STE:
		name = "C_BAD_STE", why = "the stream table entry is not valid";
		break;
	case SMMU_EVT_F_TRANSLATION:
		name = "F_TRANSLATION", why = "no valid descriptor, or the IPA is outside S2T0SZ";
		break;
	case SMMU_EVT_F_ADDR_SIZE:
		name = "F_ADDR_SIZE", why = "an output address beyond the effective S2PS";
		break;
	case SMMU_EVT_F_ACCESS:
		name = "F_ACCESS", why = "the access flag is clear and hardware does not set it";
		break;
	case SMMU_EVT_F_PERMISSION:
		name = "F_PERMISSION", why = "S2AP refuses the access";
		break;
	default:
		name = "event", why = "an unknown event";
		break;
	}
	snprintf(buf, len, "%s (0x%02x)%s, %s", name, code & ~SMMU_EVT_S2,
		 code & SMMU_EVT_S2 ? " at stage 2" : "", why);
}

const struct fmt_desc s2_fmt_desc = {
	.id = IMS_FMT_SMMUV3_S2,
	.name = "smmuv3-s2",
	.hw = &s2_hw_fmt,
	.sw = &s2_pt_fmt,
	.geometry = s2_geometry,
	.ctx_encode = s2_ctx_encode,
	.dirty_capable = dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.import_geom = {.granule_shift = 12, .ias = 48},
	.driver_pgsizes = driver_pgsizes,
	.iova_bits = iova_bits,
	/* S2AP 10 is write-only (D8.4). */
	.write_implies_read = false,
	.stream_ids = true,
	.fault_text = fault_text,
	.fuzz_geoms = fuzz_geoms,
	.n_fuzz_geoms = sizeof(fuzz_geoms) / sizeof(fuzz_geoms[0]),
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
