/* Placeholder until the SMMUv3 format lands (issue 3). */
#include "model/hwfmt.h"
#include "pagetables/ptfmt.h"
#include <errno.h>
#include <stdio.h>
const struct hw_fmt smmu_hw_fmt = {.fmt = IMS_FMT_SMMUV3};
const struct pt_fmt smmu_pt_fmt = {.fmt = IMS_FMT_SMMUV3};
int smmu_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	(void)p, (void)w;
	snprintf(err, errlen, "format smmuv3 is not built in");
	return -EINVAL;
}
