/* Arm SMMUv3 stage 1 (VMSAv8-64): the format's description for the
 * registry. Levels: see smmuv3/smmu_codec.h. */
#include <stdio.h>

#include "smmuv3/smmu.h"
#include "smmuv3/s2_codec.h"

/* IDR0.HTTU = 2 or 3: access flag and dirty state (6.3.1), at both
 * stages (SMMUv3 5.2 S2HD, 5.4 CD.HD). */
bool smmu_dirty_capable(const struct ims_iommu_cfg *cfg)
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

/* io-pgtable-arm (either stage): the page and the block sizes of the
 * granule (D8.3), no contiguous sizes. */
uint64_t smmu_driver_pgsizes(const struct fmt_geom *g)
{
	if (g->granule_shift == 14)
		return 1ull << 14 | 1ull << 25;
	if (g->granule_shift == 16)
		return 1ull << 16 | 1ull << 29;
	return 1ull << 12 | 1ull << 21 | 1ull << 30;
}

/* T0SZ (S2T0SZ) = 64 - ias. */
unsigned smmu_iova_bits(const struct fmt_geom *g)
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

/* Event record types (SMMUv3 7.3): what each says, at stage 1 and at
 * stage 2 (whose fault codes carry the record's S2 field, SMMU_EVT_S2). */
static const struct {
	uint32_t id;
	const char *name, *s1, *s2;
} events[] = {
	{SMMU_EVT_C_BAD_STE, "C_BAD_STE", "the stream table entry is not valid",
	 "the stream table entry is not valid"},
	{SMMU_EVT_C_BAD_CD, "C_BAD_CD", "the context descriptor is not valid",
	 "the context descriptor is not valid"},
	{SMMU_EVT_F_TRANSLATION, "F_TRANSLATION", "no valid descriptor, or the address is outside T0SZ",
	 "no valid descriptor, or the IPA is outside S2T0SZ"},
	{SMMU_EVT_F_ADDR_SIZE, "F_ADDR_SIZE", "an output address beyond the supported size",
	 "an output address beyond the effective S2PS"},
	{SMMU_EVT_F_ACCESS, "F_ACCESS", "the access flag is clear and hardware does not set it",
	 "the access flag is clear and hardware does not set it"},
	{SMMU_EVT_F_PERMISSION, "F_PERMISSION", "the descriptor's permissions refuse the access",
	 "S2AP refuses the access"},
};

void smmu_event_text(uint32_t code, char *buf, size_t len)
{
	uint32_t cls = code & SMMU_EVT_CLASS_MASK;
	uint32_t id = code & ~SMMU_EVT_S2 & ~SMMU_EVT_CLASS_MASK;
	bool s2 = (code & SMMU_EVT_S2) != 0;
	const char *name = "event", *why = "an unknown event";
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].id == id) {
			name = events[i].name;
			why = s2 ? events[i].s2 : events[i].s1;
		}
	snprintf(buf, len, "%s (0x%02x)%s%s, %s", name, id, s2 ? " at stage 2" : "",
		 cls == SMMU_EVT_CLASS_TT   ? " (CLASS=TT: a stage-1 table access)"
		 : cls == SMMU_EVT_CLASS_IN ? " (CLASS=IN: the stage-1 output address)"
					    : "",
		 why);
}

const struct fmt_desc smmu_fmt_desc = {
	.id = IMS_FMT_SMMUV3,
	.name = "smmuv3",
	.hw = &smmu_hw_fmt,
	.sw = &smmu_pt_fmt,
	.geometry = smmu_geometry,
	.ctx_encode = smmu_ctx_encode,
	.dirty_capable = smmu_dirty_capable,
	.cfg_keys = cfg_keys,
	.n_cfg_keys = sizeof(cfg_keys) / sizeof(cfg_keys[0]),
	.import_geom = {.granule_shift = 12, .ias = 48},
	.driver_pgsizes = smmu_driver_pgsizes,
	.iova_bits = smmu_iova_bits,
	/* Stage 1 has no write-only pages: AP[2:1] makes a writable page
	 * readable too (D8.4). */
	.write_implies_read = true,
	.stream_ids = true,
	.fault_text = smmu_event_text,
	.fuzz_geoms = fuzz_geoms,
	.n_fuzz_geoms = sizeof(fuzz_geoms) / sizeof(fuzz_geoms[0]),
	.bench_layouts = bench_layouts,
	.n_bench_layouts = sizeof(bench_layouts) / sizeof(bench_layouts[0]),
};
