/* Arm SMMUv3 stage 2: the STE a stage-2-only stream uses, as the raw
 * context encoder (trace-format.md, `root=PA raw`) and the software's
 * ctx_words both write it (SMMUv3 5.2). Levels: smmuv3/s2_codec.h. */
#include <errno.h>
#include <stdio.h>

#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"

/* The STE of a stage-2-only stream: Config 0b110, VMSAv8-64 tables, walks
 * Normal WB inner-shareable, faults recorded (S2R), S2PTW set as Linux
 * does; S2PS 48 bits, 52 with the 64K granule. */
void s2_ste_words(uint16_t vmid, unsigned gshift, unsigned ias, unsigned levels, uint64_t root,
		  bool ha, bool hd, uint64_t w[8])
{
	uint64_t tg = gshift == 12 ? SMMU_TG0_4K : gshift == 14 ? SMMU_TG0_16K : SMMU_TG0_64K;
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	w[0] = S2_STE0_V | S2_CONFIG_S2 << S2_STE0_CONFIG_SHIFT;
	w[S2_STE_WORD_S2] =
		vmid | (uint64_t)(64 - ias) << S2_STE2_T0SZ_SHIFT |
		(uint64_t)s2_sl0_of_top(gshift, (int)levels - 1) << S2_STE2_SL0_SHIFT |
		1ull << S2_STE2_IR0_SHIFT | 1ull << S2_STE2_OR0_SHIFT |
		SMMU_SH_INNER << S2_STE2_SH0_SHIFT | tg << S2_STE2_TG_SHIFT |
		(gshift == 16 ? SMMU_IPS_52 : SMMU_IPS_48) << S2_STE2_PS_SHIFT | S2_STE2_AA64 |
		S2_STE2_PTW | S2_STE2_R | (ha ? S2_STE2_HA : 0) | (hd ? S2_STE2_HD : 0);
	w[S2_STE_WORD_TTB] = root & S2_STE3_TTB_MASK;
}

int s2_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	struct fmt_geom fg = {p->levels, p->granule_shift, p->ias};
	int rc = s2_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	unsigned gs = fg.granule_shift, stride = gs - 3;
	unsigned n = fg.ias - (gs + stride * (fg.levels - 1));
	uint64_t align = 8ull << n;
	uint64_t lim = gs == 16 ? 1ull << 52 : 1ull << 48;
	if (gs == 16 && align < 64)
		align = 64;
	if ((p->root & (align - 1)) || p->root >= lim) {
		snprintf(err, errlen,
			 "smmuv3-s2: root must be aligned to the start-level table (0x%llx bytes) and "
			 "below 2^%u",
			 (unsigned long long)align, gs == 16 ? 52 : 48);
		return -EINVAL;
	}
	/* ha/hd are STE.S2HA/S2HD; hd without ha behaves as off (5.2). */
	s2_ste_words(p->tag, gs, fg.ias, fg.levels, p->root, p->ha, p->hd, w);
	return 0;
}
