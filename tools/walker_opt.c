/* --walker NAME and --walker-plugin PATH, shared by replay, fuzz, conform,
 * migrate and bench: one spelling, one message for a bad walker, and the
 * walker's name in every report. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "iommusim/pt.h"
#include "tools/cmd.h"
#include "tools/opts.h"

int walker_opt(const char *cmd, int opt, const char *arg, struct walker_choice *wc)
{
	if (opt == OPT_WALKER) {
		if (ims_pt_walker_parse(arg, &wc->builtin)) {
			fprintf(stderr, "iommusim %s: --walker: unknown walker '%s' (built in:", cmd, arg);
			for (unsigned i = 0; i < ims_pt_walker_count(); i++)
				fprintf(stderr, " %s", ims_pt_walker_name(i));
			fprintf(stderr, "; a shared object is --walker-plugin PATH)\n");
			return -1;
		}
		return 1;
	}
	if (opt != OPT_WALKER_PLUGIN)
		return 0;
	char err[512];
	struct ims_walker_plugin *p;
	if (ims_walker_plugin_load(arg, &p, err, sizeof(err))) {
		fprintf(stderr, "iommusim %s: --walker-plugin: %s\n", cmd, err);
		return -1;
	}
	ims_walker_plugin_unload(wc->plugin); /* the last one given wins */
	wc->plugin = p;
	return 1;
}

const struct ims_walker_ops *walker_plugin_ops(const struct walker_choice *wc)
{
	return wc->plugin ? ims_walker_plugin_ops(wc->plugin) : NULL;
}

const char *walker_name(const struct walker_choice *wc)
{
	const struct ims_walker_ops *ops = walker_plugin_ops(wc);
	return ops ? ops->name : ims_pt_walker_name(wc->builtin);
}

void walker_args(const struct walker_choice *wc, char *buf, size_t len)
{
	if (wc->plugin) {
		/* Absolute: a reproducer is replayed from anywhere. */
		const char *path = ims_walker_plugin_path(wc->plugin);
		char *abs = realpath(path, NULL);
		snprintf(buf, len, "--walker-plugin %s", abs ? abs : path);
		free(abs);
	}
	else if (wc->builtin)
		snprintf(buf, len, "--walker %s", ims_pt_walker_name(wc->builtin));
	else if (len)
		buf[0] = 0;
}

void walker_fini(struct walker_choice *wc)
{
	ims_walker_plugin_unload(wc->plugin);
	wc->plugin = NULL;
}

void walker_help(FILE *f)
{
	fprintf(f,
		"\nthe walker under test (docs/walkers.md):\n"
		"  --walker NAME         a built-in walker (default fast), one of:\n");
	for (unsigned i = 0; i < ims_pt_walker_count(); i++)
		fprintf(f, "                          %-21s %s\n", ims_pt_walker_name(i),
			ims_pt_walker_what(i));
	fprintf(f, "  --walker-plugin PATH  a shared object of the walker ABI (iommusim/walker.h)\n");
}
