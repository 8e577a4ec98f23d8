/* Loading a plug-in walker: a shared object that exports ims_walker_entry
 * (iommusim/walker.h). Every way it can be wrong is a message naming the
 * file, not a crash: missing file, not a shared object, no entry point, an
 * entry that refuses this host's ABI version, ops that fail the check.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iommusim/pt.h"

struct ims_walker_plugin {
	void *handle;
	const struct ims_walker_ops *ops;
	char *path;
};

int ims_walker_plugin_load(const char *path, struct ims_walker_plugin **out, char *err,
			   size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*out = NULL;
	struct stat st;
	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	/* dlopen searches the library path for a bare name: a file given on
	 * the command line is meant as a path. */
	char *full = NULL;
	if (!strchr(path, '/')) {
		full = malloc(strlen(path) + 3);
		if (!full)
			return -ENOMEM;
		sprintf(full, "./%s", path);
	}
	dlerror();
	void *h = dlopen(full ? full : path, RTLD_NOW | RTLD_LOCAL);
	free(full);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen, "%s: cannot load as a shared object: %s", path, e ? e : "?");
		return -EINVAL;
	}
	dlerror();
	void *sym = dlsym(h, IMS_WALKER_ENTRY);
	if (!sym) {
		snprintf(err, errlen, "%s: no symbol %s (a walker plug-in exports "
			 "const struct ims_walker_ops *%s(uint32_t))", path, IMS_WALKER_ENTRY,
			 IMS_WALKER_ENTRY);
		dlclose(h);
		return -EINVAL;
	}
	ims_walker_entry_fn entry;
	memcpy(&entry, &sym, sizeof(entry)); /* object to function pointer: POSIX allows */
	const struct ims_walker_ops *ops = entry(IMS_WALKER_ABI_VERSION);
	if (!ops) {
		snprintf(err, errlen, "%s: %s refused walker ABI version %u", path, IMS_WALKER_ENTRY,
			 IMS_WALKER_ABI_VERSION);
		dlclose(h);
		return -EINVAL;
	}
	char why[256];
	if (ims_walker_check(ops, IMS_FMT_COUNT, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		dlclose(h);
		return -EINVAL;
	}
	struct ims_walker_plugin *p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path))) {
		free(p);
		dlclose(h);
		return -ENOMEM;
	}
	p->handle = h;
	p->ops = ops;
	*out = p;
	return 0;
}

const struct ims_walker_ops *ims_walker_plugin_ops(const struct ims_walker_plugin *p)
{
	return p ? p->ops : NULL;
}

const char *ims_walker_plugin_path(const struct ims_walker_plugin *p)
{
	return p ? p->path : NULL;
}

void ims_walker_plugin_unload(struct ims_walker_plugin *p)
{
	if (!p)
		return;
	dlclose(p->handle);
	free(p->path);
	free(p);
}
