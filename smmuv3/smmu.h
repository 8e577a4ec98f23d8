/* Arm SMMUv3 stage 1: what its files give the registry (smmuv3/smmu.c). */
#ifndef IMS_SMMUV3_SMMU_H
#define IMS_SMMUV3_SMMU_H

#include "formats/format.h"

extern const struct hw_fmt smmu_hw_fmt;
extern const struct pt_fmt smmu_pt_fmt;
int smmu_geometry(struct fmt_geom *g, char *err, size_t errlen);
int smmu_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
/* Shared with stage 2 (smmuv3/s2.c): HTTU, io-pgtable-arm's leaf sizes, the
 * input bits, and an event's text (stage 2's codes carry SMMU_EVT_S2). */
bool smmu_dirty_capable(const struct ims_iommu_cfg *cfg);
uint64_t smmu_driver_pgsizes(const struct fmt_geom *g);
unsigned smmu_iova_bits(const struct fmt_geom *g);
void smmu_event_text(uint32_t code, char *buf, size_t len);

#endif
