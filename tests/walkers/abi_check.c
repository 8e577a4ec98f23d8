/* Loads an example walker plug-in as the host would and checks what its
 * entry point answers: its ops for this header's ABI version, NULL (a
 * refusal) for any other. Usage: abi_check PLUGIN.so NAME
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/walker.h>

static int fail(const char *so, const char *what)
{
	fprintf(stderr, "%s: %s\n", so, what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fail("abi_check", "usage: abi_check PLUGIN.so NAME");
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fail(argv[1], dlerror());
	void *sym = dlsym(h, IMS_WALKER_ENTRY);
	if (!sym)
		return fail(argv[1], "no " IMS_WALKER_ENTRY);
	ims_walker_entry_fn entry;
	memcpy(&entry, &sym, sizeof(entry));
	const struct ims_walker_ops *ops = entry(IMS_WALKER_ABI_VERSION);
	if (!ops)
		return fail(argv[1], "refused this header's ABI version");
	if (ops->abi_version != IMS_WALKER_ABI_VERSION || ops->size != sizeof(*ops))
		return fail(argv[1], "ops of another ABI version or size");
	if (!ops->name || strcmp(ops->name, argv[2]))
		return fail(argv[1], "not the walker named on the command line");
	if (ops->level != IMS_WALKER_HARVEST || !ops->read_and_clear_dirty || ops->map)
		return fail(argv[1], "not a harvest-level walker");
	uint32_t all = 1u << IMS_FMT_AMDV1 | 1u << IMS_FMT_VTD | 1u << IMS_FMT_SMMUV3 |
		       1u << IMS_FMT_VTD_FS | 1u << IMS_FMT_AMDV2 | 1u << IMS_FMT_SMMUV3_S2;
	if (ops->formats != all)
		return fail(argv[1], "does not claim exactly amdv1, vtd, smmuv3, vtd-fs, amdv2 and smmuv3-s2");
	if (entry(IMS_WALKER_ABI_VERSION + 1) || entry(IMS_WALKER_ABI_VERSION - 1))
		return fail(argv[1], "accepted another ABI version");
	printf("%s: %s, ABI %u, other versions refused\n", argv[1], ops->name, ops->abi_version);
	dlclose(h);
	return 0;
}
