/* A test plug-in whose clean is a plain load, then a store, of every
 * replica of a dirty leaf, as Linux generic_pt's amdv1 format cleans
 * (pt_entry_make_write_clean), WITHOUT stating generic_pt's contract: a
 * device write between the load and the store is a lost hardware update
 * (classic bug 4). tests/walkers/contract.cmake. */
#define MW_PLAIN_CLEAN 1
#include "misbehave_walk.h"

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags)
{
	(void)d, (void)lf, (void)flags;
}

MW_PLUGIN("plain-clean", "a plain load-then-store clean, no contract stated")
