/* Arm SMMUv3 stage 2: the geometry check that the software ops (init) and
 * the raw STE encoder both apply (formats/format.h, geometry). Levels:
 * smmuv3/s2_codec.h. */
#include <errno.h>
#include <stdio.h>

#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"

/* Index bits of the start-level table of `levels` lookup levels. */
static int top_bits(unsigned gshift, unsigned ias, unsigned levels)
{
	return (int)ias - (int)(gshift + (gshift - 3) * (levels - 1));
}

/* S2TG selects a 4K, 16K or 64K granule and S2T0SZ = 64 - ias (32..48, 52
 * with the 64K granule: 52-bit IPAs need FEAT_LPA's 64K layout, S2DS is not
 * modelled). levels= is the number of lookup levels: the start level STE.S2SL0
 * names. It must be one S2SL0 encodes for the granule, and the start-level
 * table must resolve 1 to stride + 4 bits: at most 16 concatenated tables
 * (Arm ARM D8.2). The default is the start level Linux's io-pgtable-arm
 * picks (arm_lpae_alloc_pgtable_s2): where the input size puts it, one
 * level lower with concatenated tables when that is Arm level 0 with at
 * most 16 entries (the 16K granule cannot start at Arm level 0 at all). */
int s2_geometry(struct fmt_geom *g, char *err, size_t errlen)
{
	if (!g->granule_shift)
		g->granule_shift = 12;
	unsigned gs = g->granule_shift;
	if (gs != 12 && gs != 14 && gs != 16) {
		snprintf(err, errlen, "smmuv3-s2 granule must be 4K, 16K or 64K");
		return -EINVAL;
	}
	if (!g->ias)
		g->ias = 48;
	unsigned max = gs == 16 ? 52 : 48;
	if (g->ias < 32 || g->ias > max) {
		snprintf(err, errlen, "smmuv3-s2 ias must be 32..%u with the %uK granule, not %u", max,
			 1u << (gs - 10), g->ias);
		return -EINVAL;
	}
	unsigned stride = gs - 3;
	if (!g->levels) {
		unsigned natural = (g->ias - gs + stride - 1) / stride;
		g->levels = natural;
		if (natural == 4 && top_bits(gs, g->ias, 4) <= 4)
			g->levels = 3;
	}
	int n = g->levels >= 1 && g->levels <= 4 ? top_bits(gs, g->ias, g->levels) : -1;
	if (s2_sl0_of_top(gs, (int)g->levels - 1) < 0 || n < 1 || n > (int)stride + 4) {
		snprintf(err, errlen,
			 "smmuv3-s2 levels=%u with the %uK granule and ias %u: the start level "
			 "must be one S2SL0 encodes (%s) and hold 1 to 16 concatenated tables",
			 g->levels, 1u << (gs - 10), g->ias, gs == 12 ? "2..4 levels" : "1..3 levels");
		return -EINVAL;
	}
	return 0;
}
