/* Intel VT-d second stage: the geometry check that the software ops (init) and the raw
 * context encoder both apply (formats/format.h, geometry). */
#include <errno.h>
#include <stdio.h>

#include "vtd/vtd.h"

/* AW 39, 48 or 57 bits = 3, 4 or 5 levels ("3.7"); 4 KiB granule only. */
int vtd_geometry(struct fmt_geom *g, char *err, size_t errlen)
{
	if (!g->levels)
		g->levels = 4;
	if (g->levels < 3 || g->levels > 5) {
		snprintf(err, errlen, "vtd has 3, 4 or 5 levels (39, 48, 57 bits), not %u",
			 g->levels);
		return -EINVAL;
	}
	if (g->granule_shift && g->granule_shift != 12) {
		snprintf(err, errlen, "vtd has only the 4K granule");
		return -EINVAL;
	}
	if (g->ias) {
		snprintf(err, errlen, "vtd takes levels=, not ias= (AW follows from the levels)");
		return -EINVAL;
	}
	g->granule_shift = 12;
	return 0;
}
