/* Intel VT-d second stage: what the folder gives the registry (vtd/vtd.c). */
#ifndef IMS_VTD_VTD_H
#define IMS_VTD_VTD_H

#include "formats/format.h"

extern const struct hw_fmt vtd_hw_fmt;
extern const struct pt_fmt vtd_pt_fmt;
int vtd_geometry(struct fmt_geom *g, char *err, size_t errlen);
int vtd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);

#endif
