/* Arm SMMUv3 stage 2 (VMSAv8-64 stage-2 tables): the format's description
 * for the registry. Levels: see smmuv3/s2_codec.h. */
#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"
#include "smmuv3/smmu.h"

/* SMMU_IDR0 is stage 1's key (smmuv3/smmu.c): HTTU covers both stages.
 * SMMU_IDR5 is stage 2's: OAS caps S2PS and limits S2SL0, and the STE's
 * granule must be one it offers; its OAS (PAMax) also decides whether 64K
 * blocks exist at Arm level 1, at both stages (smmuv3/vmsa_hw.h). */
static const struct fmt_cfg_key cfg_keys[] = {
	FMT_KEY_REG(IMS_FMT_SMMUV3_S2, "capabilities.smmu_idr5", smmu_idr5, "0x76",
		"SMMU IDR5: OAS 2:0 (both stages), GRAN4K 4, GRAN16K 5, GRAN64K 6 (stage 2)",
		"smmu-idr5"),
};

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

const struct fmt_desc s2_fmt_desc = {
	.id = IMS_FMT_SMMUV3_S2,
	.name = "smmuv3-s2",
	.hw = &s2_hw_fmt,
	.sw = &s2_pt_fmt,
	.geometry = s2_geometry,
	.ctx_encode = s2_ctx_encode,
	/* SMMU_IDR0.HTTU, as for stage 1 (IDR0.S2P is not modelled: stage 2
	 * is always there). */
	.dirty_capable = smmu_dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.import_geom = {.granule_shift = 12, .ias = 48},
	.driver_pgsizes = smmu_driver_pgsizes,
	.iova_bits = smmu_iova_bits,
	/* S2AP 10 is write-only (D8.4). */
	.write_implies_read = false,
	.stream_ids = true,
	.fault_text = smmu_event_text,
	.fuzz_geoms = fuzz_geoms,
	.n_fuzz_geoms = sizeof(fuzz_geoms) / sizeof(fuzz_geoms[0]),
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
