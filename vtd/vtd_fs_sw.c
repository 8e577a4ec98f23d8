/* Intel VT-d first stage: what the OS driver does (software format ops): the
 * x86-64 entries of x86/x86_sw.c, the PASID entry it programs and the
 * PASID-based IOTLB invalidations it sends. Levels: x86/x86_codec.h.
 */
#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_codec.h"
#include "x86/x86_sw.h"
#include "model/hot_path.h"

static int init(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen)
{
	return x86_init("vtd-fs", cfg, g, err, errlen);
}

static void ctx_words(const struct pt_dom *d, uint64_t w[8])
{
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	vtd_fs_words(d->tag, d->levels, d->root, w);
}

/* First-stage mappings are dropped by PASID-based IOTLB invalidation
 * (Linux's qi_flush_piotlb), for PASID 0. */
IMS_HARVEST_PATH
static int flush(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	return vtd_flush_with(d, iova, size, leaf_only, VTD_DESC_PIOTLB);
}

const struct pt_fmt vtd_fs_pt_fmt = {
	.fmt = IMS_FMT_VTD_FS,
	.init = init,
	X86_PT_OPS,
	.ctx_words = ctx_words,
	.set_hw_dirty = x86_set_hw_dirty,
	.flush = flush,
};
