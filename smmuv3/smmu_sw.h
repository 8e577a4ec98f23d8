/* Arm SMMUv3: the software ops both stages share (smmuv3/smmu_sw.c). The
 * VMSAv8-64 descriptor layout, the leaf sizes of a granule, the contiguous
 * hint and the range TLBI are the same at stage 1 and stage 2; what
 * differs (permissions, dirty state, the context, the commands' opcode)
 * is each stage's own (smmu_sw.c, s2_sw.c). Levels: smmuv3/smmu_codec.h. */
#ifndef IMS_SMMUV3_SMMU_SW_H
#define IMS_SMMUV3_SMMU_SW_H

#include "formats/swfmt.h"

uint64_t smmu_sw_pgsizes(const struct pt_geom *g);
int smmu_sw_leaf_level(const struct pt_geom *g, unsigned shift);
uint64_t smmu_sw_oa_field(const struct pt_geom *g, uint64_t pa);
uint64_t smmu_sw_mk_table(const struct pt_geom *g, int level, uint64_t pa);
enum pt_kind smmu_sw_kind(const struct pt_geom *g, int level, uint64_t pte);
const char *smmu_sw_bad_why(const struct pt_geom *g, int level, uint64_t pte);
uint64_t smmu_sw_table_pa(uint64_t pte);
unsigned smmu_sw_leaf_shift(const struct pt_geom *g, int level, uint64_t pte);
uint64_t smmu_sw_leaf_pa(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova);
int smmu_sw_set_hw_dirty(const struct pt_dom *d, bool on);
int smmu_sw_tlbi_range(const struct pt_dom *d, uint64_t w0, uint64_t iova, uint64_t size,
		       bool leaf_only, int (*all)(const struct pt_dom *d));

#endif
