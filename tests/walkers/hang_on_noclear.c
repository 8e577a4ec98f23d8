/* A test plug-in that hangs: a NO_CLEAR harvest (IOMMU_DIRTY_NO_CLEAR) that
 * meets a dirty leaf waits for the leaf to be cleaned, which nobody does:
 * it spins on host loads forever. The fuzzer reaches it after a map, a
 * device write and a `noclear` harvest over the page.
 * tests/walkers/misbehave.cmake. */
#include "misbehave_walk.h"

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags)
{
	if (!(flags & IMS_WALKER_NO_CLEAR))
		return;
	bool dirty;
	do {
		dirty = false;
		for (unsigned k = 0; k < lf->n; k++)
			dirty |= (d->host->load(d, lf->slot0 + 8ull * k) & MW_D) != 0;
	} while (dirty);
}

MW_PLUGIN("hang-on-noclear", "spins forever at a dirty leaf in a NO_CLEAR harvest")
