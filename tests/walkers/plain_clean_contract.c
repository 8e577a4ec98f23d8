/* The plain-clean walker stating generic_pt's contract
 * (IMS_WALKER_CONTRACT_CLEAN_RACE_LOST): a hardware dirty update racing its
 * clean may be lost while the harvest records the page.
 * tests/walkers/contract.cmake. */
#define MW_PLAIN_CLEAN 1
#define MW_CONTRACT IMS_WALKER_CONTRACT_CLEAN_RACE_LOST
#include "misbehave_walk.h"

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags)
{
	(void)d, (void)lf, (void)flags;
}

MW_PLUGIN("plain-clean-contract", "a plain load-then-store clean under generic_pt's contract")
