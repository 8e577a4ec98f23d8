/* A test plug-in that writes outside its tables: at a dirty leaf of the
 * 2 MiB level or above with the level's own size (NextLevel 0), it takes
 * the leaf for a table and clears D "in it", that is in the page the leaf
 * maps. The host refuses the write and reports it; the walker then cleans
 * the leaf correctly, so nothing but the stray write fails.
 * tests/walkers/misbehave.cmake. */
#include "misbehave_walk.h"

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags)
{
	if (lf->level >= 1 && mw_nl(lf->pte) == 0 && !(flags & IMS_WALKER_NO_CLEAR))
		d->host->fetch_and(d, lf->pte & MW_ADDR, ~MW_D);
}

MW_PLUGIN("write-outside", "clears D in the page a large leaf maps, as if it were a table")
