/* AMD IOMMU v2 guest tables: what the OS driver does (software format ops):
 * the x86-64 entries of x86/x86_sw.c, the DTE and GCR3 entry it programs
 * and the guest page invalidations it sends. Levels: x86/x86_codec.h.
 */
#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "x86/x86_codec.h"
#include "x86/x86_sw.h"
#include "model/hot_path.h"

static int init(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen)
{
	return x86_init("amdv2", cfg, g, err, errlen);
}

static void ctx_words(const struct pt_dom *d, uint64_t w[8])
{
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	amdv2_words(d->tag, d->levels, d->root, w);
}

/* Linux's v2 domains flush with INVALIDATE_IOMMU_PAGES, GN = 1, PASID 0. */
IMS_HARVEST_PATH
static int flush(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	return amd_flush_with(d, iova, size, leaf_only, AMD_CMD_GN);
}

const struct pt_fmt amdv2_pt_fmt = {
	.fmt = IMS_FMT_AMDV2,
	.init = init,
	X86_PT_OPS,
	.ctx_words = ctx_words,
	.set_hw_dirty = x86_set_hw_dirty,
	.flush = flush,
};
