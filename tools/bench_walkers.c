/* iommusim bench: the walkers timed beside the fast one on the harvest
 * rows (--walker NAME, --walker-plugin PATH, both repeatable, and --peers),
 * kept loaded for the whole run because the reports name them.
 *
 * --peers is the reference walker and every Linux walker the build made
 * (cmake/linux.cmake writes them as BUILD/linux/linux-*.so; the binary is
 * BUILD/iommusim, so by default they are looked for in the directory
 * `linux` beside the running executable, or in --peer-dir DIR). Of those
 * files, the ones the test suites run on: a walker that also has a -fixed
 * build (the kernel code with the fixes of docs/linux.md, "Findings") is
 * timed as that build, and the -whole-range and -bugN variants (checks of
 * findings, seeded bugs) are left out.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommusim/pt.h"
#include "tools/bench.h"

/* A walker of the same name is not timed twice (--peers --walker
 * reference); the first given keeps its place. */
static int add(struct bench_opts *o, const struct ims_walker_ops *w, const char *path)
{
	for (unsigned i = 0; i < o->nwalkers; i++)
		if (!strcmp(o->walkers[i]->name, w->name))
			return 0;
	if (o->nwalkers == BENCH_MAX_WALKERS) {
		fprintf(stderr, "iommusim bench: at most %d walkers beside the fast one\n",
			BENCH_MAX_WALKERS);
		return -1;
	}
	if (bench_walker_check(w))
		return -1;
	o->walkers[o->nwalkers] = w;
	o->walker_paths[o->nwalkers++] = path;
	return 1;
}

int bench_add_builtin(struct bench_opts *o, const char *name)
{
	unsigned idx;
	if (ims_pt_walker_parse(name, &idx)) {
		fprintf(stderr, "iommusim bench: --walker: unknown walker '%s' (built in:", name);
		for (unsigned i = 0; i < ims_pt_walker_count(); i++)
			fprintf(stderr, " %s", ims_pt_walker_name(i));
		fprintf(stderr, "; a shared object is --walker-plugin PATH)\n");
		return -1;
	}
	return add(o, ims_pt_walker_ops(idx), NULL) < 0 ? -1 : 0;
}

/* Loads path and adds it; quiet: a file that handles no format bench times
 * is skipped without a word (a peer for another format). */
static int add_plugin(struct bench_opts *o, struct bench_plugins *pl, const char *path,
		      const char *opt, bool quiet)
{
	char err[512];
	struct ims_walker_plugin *p;
	if (pl->n == BENCH_MAX_WALKERS) {
		fprintf(stderr, "iommusim bench: at most %d walkers beside the fast one\n",
			BENCH_MAX_WALKERS);
		return -1;
	}
	if (ims_walker_plugin_load(path, &p, err, sizeof(err))) {
		fprintf(stderr, "iommusim bench: %s: %s\n", opt, err);
		return -1;
	}
	const struct ims_walker_ops *w = ims_walker_plugin_ops(p);
	if (quiet && !bench_walker_fits(w)) {
		ims_walker_plugin_unload(p);
		return 0;
	}
	pl->p[pl->n++] = p;
	int rc = add(o, w, ims_walker_plugin_path(p));
	if (rc <= 0)
		ims_walker_plugin_unload(pl->p[--pl->n]);
	return rc < 0 ? -1 : 0;
}

int bench_add_plugin(struct bench_opts *o, struct bench_plugins *pl, const char *path)
{
	return add_plugin(o, pl, path, "--walker-plugin", false);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);
	return n >= k && !strcmp(s + n - k, tail);
}

/* NAME-bugN.so: a seeded bug put back into a fixed build. */
static bool seeded_bug(const char *name)
{
	const char *b = strstr(name, "-bug");
	if (!b)
		return false;
	b += 4;
	if (*b < '0' || *b > '9')
		return false;
	while (*b >= '0' && *b <= '9')
		b++;
	return !strcmp(b, ".so");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory `linux` beside the running executable (BUILD/linux). */
static int default_dir(char *buf, size_t n)
{
	char exe[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (k <= 0)
		return -1;
	exe[k] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(buf, n, "%s/linux", exe) < (int)n ? 0 : -1;
}

int bench_add_peers(struct bench_opts *o, struct bench_plugins *pl, const char *dir)
{
	if (bench_add_builtin(o, "reference"))
		return -1;
	char def[PATH_MAX];
	const char *given = dir;
	if (!dir && default_dir(def, sizeof(def)) == 0)
		dir = def;
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d && given) {
		fprintf(stderr, "iommusim bench: --peer-dir: %s: %s\n", given, strerror(errno));
		return -1;
	}
	if (!d) {
		if (!o->quiet)
			fprintf(stderr, "iommusim bench: --peers: no Linux walkers (%s: %s): the "
					"reference walker only\n",
				dir ? dir : "the executable's directory", strerror(errno));
		return 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL && !rc;) {
		const char *s = e->d_name;
		if (strncmp(s, "linux-", 6) || !ends_with(s, ".so") || ends_with(s, "-whole-range.so") ||
		    seeded_bug(s))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **p = realloc(names, cap * sizeof(*p));
			if (!p) {
				rc = -1;
				break;
			}
			names = p;
		}
		if (!(names[n] = strdup(s)))
			rc = -1;
		else
			n++;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), cmp_str);
	size_t found = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		/* NAME.so gives way to NAME-fixed.so when that was built. */
		char fixed[NAME_MAX + 8];
		size_t len = strlen(names[i]) - 3;
		snprintf(fixed, sizeof(fixed), "%.*s-fixed.so", (int)len, names[i]);
		if (bsearch(&(const char *){fixed}, names, n, sizeof(*names), cmp_str))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			continue;
		unsigned before = o->nwalkers;
		rc = add_plugin(o, pl, path, "--peers", true);
		found += o->nwalkers > before;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!rc && !found && !o->quiet)
		fprintf(stderr, "iommusim bench: --peers: no Linux walker in %s: the reference "
				"walker only\n",
			dir);
	return rc;
}

void bench_plugins_free(struct bench_plugins *pl)
{
	for (unsigned i = 0; i < pl->n; i++)
		ims_walker_plugin_unload(pl->p[i]);
	pl->n = 0;
}
