/* AMD IOMMU v1: what the folder gives the registry (amd/amd.c). */
#ifndef IMS_AMD_AMD_H
#define IMS_AMD_AMD_H

#include "formats/format.h"

extern const struct hw_fmt amd_hw_fmt;
extern const struct pt_fmt amd_pt_fmt;
int amd_geometry(struct fmt_geom *g, char *err, size_t errlen);
int amd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);

#endif
