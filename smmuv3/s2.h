/* Arm SMMUv3 stage 2: what the files give the registry (smmuv3/s2.c).
 * Levels: see smmuv3/s2_codec.h. */
#ifndef IMS_SMMUV3_S2_H
#define IMS_SMMUV3_S2_H

#include "formats/format.h"

extern const struct hw_fmt s2_hw_fmt;
extern const struct pt_fmt s2_pt_fmt;
int s2_geometry(struct fmt_geom *g, char *err, size_t errlen);
int s2_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
/* The STE words of a stage-2-only domain (word 0, 2 and 3; the rest 0). */
void s2_ste_words(uint16_t vmid, unsigned gshift, unsigned ias, unsigned levels, uint64_t root,
		  bool ha, bool hd, uint64_t w[8]);

#endif
