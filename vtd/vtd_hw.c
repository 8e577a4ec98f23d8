/* Placeholder until the VT-d format lands (issue 3). */
#include "model/hwfmt.h"
#include "pagetables/ptfmt.h"
#include <errno.h>
#include <stdio.h>
const struct hw_fmt vtd_hw_fmt = {.fmt = IMS_FMT_VTD};
const struct pt_fmt vtd_pt_fmt = {.fmt = IMS_FMT_VTD};
int vtd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	(void)p, (void)w;
	snprintf(err, errlen, "format vtd is not built in");
	return -EINVAL;
}
