/* The plain-clean walker stating generic_pt's contract but recording
 * nothing: the contract covers a lost update only on a page the harvest
 * records, so here the loss still fails. tests/walkers/contract.cmake. */
#define MW_PLAIN_CLEAN 1
#define MW_NO_RECORD 1
#define MW_CONTRACT IMS_WALKER_CONTRACT_CLEAN_RACE_LOST
#include "misbehave_walk.h"

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags)
{
	(void)d, (void)lf, (void)flags;
}

MW_PLUGIN("plain-clean-unrecorded", "a plain clean under the contract that records nothing")
