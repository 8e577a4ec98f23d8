/* Arm SMMUv3 stage 1: what the folder gives the registry (smmuv3/smmu.c). */
#ifndef IMS_SMMUV3_SMMU_H
#define IMS_SMMUV3_SMMU_H

#include "formats/format.h"

extern const struct hw_fmt smmu_hw_fmt;
extern const struct pt_fmt smmu_pt_fmt;
int smmu_geometry(struct fmt_geom *g, char *err, size_t errlen);
int smmu_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);

#endif
