/* A test plug-in that crashes: a NULL dereference at the first dirty leaf
 * made of several replicas (an AMD page of 8 KiB to 1 MiB, or 4 MiB and
 * up), which the fuzzer reaches only after a map of such a page, a device
 * write into it and a harvest over it. tests/walkers/misbehave.cmake. */
#include "misbehave_walk.h"

/* The scratch buffer for replica runs that the walker forgot to allocate. */
static uint64_t *volatile mw_run_scratch;

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags)
{
	(void)d, (void)flags;
	if (lf->n > 1)
		mw_run_scratch[lf->n - 1] = lf->pte;
}

MW_PLUGIN("crash-on-replica", "NULL dereference at a dirty replicated leaf")
