/* AMD IOMMU v1: the geometry check that the software ops (init) and the raw
 * context encoder both apply (formats/format.h, geometry). */
#include <errno.h>
#include <stdio.h>

#include "amd/amd.h"

/* DTE Mode 1..6 ("2.2.3"); one granule, 4 KiB; the IOVA width follows from
 * the Mode (12 + 9N bits), so ias= is not a parameter. */
int amd_geometry(struct fmt_geom *g, char *err, size_t errlen)
{
	if (!g->levels)
		g->levels = 4;
	if (g->levels < 1 || g->levels > 6) {
		snprintf(err, errlen, "amdv1 has 1 to 6 levels (DTE Mode), not %u", g->levels);
		return -EINVAL;
	}
	if (g->granule_shift && g->granule_shift != 12) {
		snprintf(err, errlen, "amdv1 has only the 4K granule");
		return -EINVAL;
	}
	if (g->ias) {
		snprintf(err, errlen, "amdv1 takes levels=, not ias= (Mode N covers 12+9N bits)");
		return -EINVAL;
	}
	g->granule_shift = 12;
	return 0;
}
