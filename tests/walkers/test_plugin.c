/* Walker plug-ins for the loader's tests (tests/unit/test_walker_abi.c):
 * one shared object per case, chosen by IMS_TEST_PLUGIN_CASE.
 *   1: no entry point (exports another symbol)
 *   2: an entry point that refuses every ABI version (returns NULL)
 *   3: ops that claim ABI version 999
 *   4: a valid harvest-level walker, which reports the whole range dirty
 *      (so a test sees that its code ran)
 */
#include "iommusim/walker.h"

#ifndef IMS_TEST_PLUGIN_CASE
#error "IMS_TEST_PLUGIN_CASE must be 1..4"
#endif

#if IMS_TEST_PLUGIN_CASE == 1

int ims_walker_not_the_entry(void);
int ims_walker_not_the_entry(void)
{
	return 0;
}

#else

static int rcd(struct ims_walker_dom *dom, uint64_t iova, uint64_t size, unsigned flags,
	       struct ims_walker_dirty *dirty)
{
	(void)flags;
	dom->host->record(dirty, iova, size);
	return 0;
}

static const struct ims_walker_ops ops = {
	.abi_version = IMS_TEST_PLUGIN_CASE == 3 ? 999u : IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = "test-plugin",
	.description = "reports every page of the range dirty (loader tests)",
	.level = IMS_WALKER_HARVEST,
	.formats = (1u << IMS_FMT_COUNT) - 1,
	.read_and_clear_dirty = rcd,
};

const struct ims_walker_ops *ims_walker_entry(uint32_t host_abi_version);
const struct ims_walker_ops *ims_walker_entry(uint32_t host_abi_version)
{
#if IMS_TEST_PLUGIN_CASE == 2
	(void)host_abi_version;
	(void)ops;
	return 0;
#else
	/* Case 3 answers whatever the host speaks: the host must still
	 * refuse ops of another version. */
	return IMS_TEST_PLUGIN_CASE == 3 || host_abi_version == IMS_WALKER_ABI_VERSION ? &ops : 0;
#endif
}

#endif
