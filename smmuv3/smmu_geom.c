/* Arm SMMUv3 stage 1: the geometry check that the software ops (init) and the raw
 * context encoder both apply (formats/format.h, geometry). */
#include <errno.h>
#include <stdio.h>

#include "smmuv3/smmu.h"

/* CD.TG0 selects a 4K, 16K or 64K granule and T0SZ = 64 - ias; the start
 * level follows from both (Arm ARM D8.2), so levels= is not a parameter.
 * ias 32..52 (52 needs the 64K granule or DS, D8.2.x). */
int smmu_geometry(struct fmt_geom *g, char *err, size_t errlen)
{
	if (g->levels) {
		snprintf(err, errlen, "smmuv3 takes granule= and ias=, not levels=");
		return -EINVAL;
	}
	if (!g->granule_shift)
		g->granule_shift = 12;
	if (g->granule_shift != 12 && g->granule_shift != 14 && g->granule_shift != 16) {
		snprintf(err, errlen, "smmuv3 granule must be 4K, 16K or 64K");
		return -EINVAL;
	}
	if (!g->ias)
		g->ias = 48;
	if (g->ias < 32 || g->ias > 52) {
		snprintf(err, errlen, "smmuv3 ias must be 32..52, not %u", g->ias);
		return -EINVAL;
	}
	return 0;
}
