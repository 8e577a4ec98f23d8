/* libFuzzer target: op sequences of `iommusim fuzz` whose decisions are the
 * input's bytes (docs/fuzzing.md, "Coverage guidance: the libFuzzer target").
 *
 * Each input is one sequence: the generator of `iommusim fuzz` draws from
 * the input's bytes while they last (struct fz_rng), so the coverage that
 * libFuzzer measures in generator, replayer, walker and model steers which
 * ops come, and each event goes through the same in-process runner and
 * checks (bitmaps against the oracle, lost updates, consistency, leaked
 * tables). A failure is shrunk and written as the reproducer `iommusim
 * fuzz` writes, then the target aborts so that libFuzzer keeps the input.
 *
 * Environment, read once:
 *   IMS_FUZZ_WALKER=NAME         a built-in walker (default reference)
 *   IMS_FUZZ_WALKER_PLUGIN=PATH  a plug-in of the walker ABI instead
 *   IMS_FUZZ_FORMAT=F            a format's name (amdv1, vtd, ...) or all (default all)
 *   IMS_FUZZ_OUT=DIR             where reproducers go (default .)
 *   IMS_FUZZ_PRINT=1             print each input's events on standard
 *                                output, as trace lines
 *   IMS_FUZZ_CORRUPT=PCT         percent of inputs that corrupt live tables
 *                                (default: fz_corrupt_pct, 10 for the
 *                                correct built-in walkers, else 0)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/format.h"
#include "iommusim/pt.h"
#include "iommusim/walker.h"
#include "tools/cmd.h"
#include "tools/fuzz.h"

#include "ops_cfg.h"

static struct {
	struct ims_replay_opts ro;
	struct walker_choice wc;
	const char *walker_env; /* how the walker was chosen, for the header */
	struct fz_geo *geos;
	size_t ngeos;
	unsigned formats;
	const char *fmt_name;
	const char *out;
	bool print;
	unsigned corrupt_pct;
	uint64_t inputs, ops; /* so far, for the report of a finding */
	double t0;
} T;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_ops: %s\n", what);
	exit(2);
}

/* At the end of a run (libFuzzer exits when its budget ends): what ran,
 * in the units of `iommusim fuzz`. */
static void summary(void)
{
	double t = now_s() - T.t0;
	fprintf(stderr, "fuzz_ops: %" PRIu64 " inputs, %" PRIu64 " ops in %.1f s (%.0f ops/s), "
		"walker %s, format %s\n", T.inputs, T.ops, t, t > 0 ? (double)T.ops / t : 0.0,
		walker_name(&T.wc), T.fmt_name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	T.t0 = now_s();
	ims_replay_opts_default(&T.ro);
	char msg[1024];
	const char *plugin = getenv("IMS_FUZZ_WALKER_PLUGIN");
	const char *walker = getenv("IMS_FUZZ_WALKER");
	if (plugin && *plugin) {
		if (walker && *walker)
			die("IMS_FUZZ_WALKER and IMS_FUZZ_WALKER_PLUGIN: one or the other");
		char err[512];
		if (ims_walker_plugin_load(plugin, &T.wc.plugin, err, sizeof(err))) {
			snprintf(msg, sizeof(msg), "IMS_FUZZ_WALKER_PLUGIN: %s", err);
			die(msg);
		}
		T.walker_env = "IMS_FUZZ_WALKER_PLUGIN";
	} else {
		if (!walker || !*walker)
			walker = OPS_WALKER;
		if (ims_pt_walker_parse(walker, &T.wc.builtin)) {
			int n = snprintf(msg, sizeof(msg), "IMS_FUZZ_WALKER: unknown walker '%s' (built in:",
					 walker);
			for (unsigned i = 0; i < ims_pt_walker_count() && n < (int)sizeof(msg); i++)
				n += snprintf(msg + n, sizeof(msg) - (size_t)n, " %s", ims_pt_walker_name(i));
			if (n < (int)sizeof(msg))
				snprintf(msg + n, sizeof(msg) - (size_t)n, ")");
			die(msg);
		}
		T.walker_env = "IMS_FUZZ_WALKER";
	}
	T.ro.walker = T.wc.builtin;
	T.ro.plugin = walker_plugin_ops(&T.wc);

	const char *fmt = getenv("IMS_FUZZ_FORMAT");
	T.formats = fmt_all_mask();
	T.fmt_name = "all";
	if (fmt && *fmt && strcmp(fmt, "all")) {
		enum ims_format f;
		if (ims_format_parse(fmt, strlen(fmt), &f)) {
			snprintf(msg, sizeof(msg), "IMS_FUZZ_FORMAT: '%s' (expected amdv1, vtd, smmuv3, "
				 "vtd-fs, amdv2, smmuv3-s2 or all)", fmt);
			die(msg);
		}
		T.formats = 1u << f;
		T.fmt_name = ims_format_name(f);
	}
	T.out = getenv("IMS_FUZZ_OUT");
	if (!T.out || !*T.out)
		T.out = ".";
	const char *print = getenv("IMS_FUZZ_PRINT");
	T.print = print && *print && strcmp(print, "0");
	const char *corrupt = getenv("IMS_FUZZ_CORRUPT");
	T.corrupt_pct = fz_corrupt_pct(&T.ro);
	if (corrupt && *corrupt) {
		char *end;
		unsigned long v = strtoul(corrupt, &end, 10);
		if (*end || v > 100)
			die("IMS_FUZZ_CORRUPT: a percentage, 0 to 100");
		T.corrupt_pct = (unsigned)v;
	}
	if (fz_geos_probe(&T.ro, T.formats, 0, &T.geos, &T.ngeos, stderr))
		die("no domain geometry is usable in this build");
	fprintf(stderr, "fuzz_ops: walker %s, format %s, %zu geometries, %u%% corrupting; "
		"reproducers in %s\n", walker_name(&T.wc), T.fmt_name, T.ngeos, T.corrupt_pct, T.out);
	atexit(summary);
	return 0;
}

/* A failure: shrunk, written as a reproducer, said; then abort() so that
 * libFuzzer keeps the input (its crash-* file finds the same failure). */
static void report(struct fz_list *l, const struct fz_fail *fail, const uint8_t *data, size_t size)
{
	uint64_t h = fz_in_hash(data, size);
	fprintf(stderr, "fuzz_ops: %s after %" PRIu64 " inputs (%" PRIu64 " ops), %.2f s: %s\n",
		fz_fail_name(fail->first), T.inputs, T.ops, now_s() - T.t0, fail->msg);
	struct fz_iso iso = {.on = false, .timeout = ISO_DEFAULT_TIMEOUT,
			     .shown = ISO_DEFAULT_TIMEOUT, .walker = walker_name(&T.wc)};
	size_t n_found = l->n;
	struct fz_shrink_stats st;
	bool shrunk = !fz_shrink(&T.ro, &iso, l, fail, &st);
	if (!shrunk)
		fprintf(stderr, "fuzz_ops: shrinking failed; writing the sequence as found\n");
	char name[128], args[1200], found[1600], path[4096];
	snprintf(name, sizeof(name), "guided-%s-%016" PRIx64 ".trace", T.fmt_name, h);
	fz_repro_args(&T.wc, iso.shown, "", fail->first, args, sizeof(args));
	const char *wname = T.wc.plugin ? ims_walker_plugin_path(T.wc.plugin) : walker_name(&T.wc);
	/* What finds it again: the target, the same environment, the input
	 * libFuzzer saved (crash-SHA1), whose hash names the file. */
	snprintf(found, sizeof(found), "fuzz_ops (libFuzzer) IMS_FUZZ_FORMAT=%s %s=%s: input %016"
		 PRIx64 " (%zu bytes)", T.fmt_name, T.walker_env, wname, h, size);
	struct fz_repro rp = {&T.ro, &iso, T.out, name, args, found, walker_name(&T.wc), "fuzz_ops"};
	struct fz_fail written;
	if (fz_repro_write(&rp, &iso, l, fail, n_found, shrunk ? &st : NULL, &written, path,
			   sizeof(path)) == 1) {
		fprintf(stderr, "fuzz_ops: reproducer %s (%zu event lines)\n", path, l->n);
		fprintf(stderr, "fuzz_ops: replay with: iommusim replay%s%s %s\n", args[0] ? " " : "",
			args, path);
	}
	fflush(stderr);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_gen_cfg gc = {T.formats, T.geos, T.ngeos, OPS_MAX_LEN, NULL, T.corrupt_pct, false};
	struct fz_gen *g;
	struct fz_run run;
	if (fz_gen_new_input(&gc, data, size, &g))
		die("out of memory");
	if (fz_run_begin(&run, &T.ro, "guided"))
		die("cannot start a replayer");
	T.inputs++;
	struct fz_list l = {0};
	struct ims_event ev;
	bool count, failed = false;
	while (fz_gen_next(g, &ev, &count) > 0) {
		ev.line = l.n + 1;
		if (fz_list_push(&l, &ev))
			die("out of memory");
		T.ops++;
		if (T.print)
			fz_print_event(stdout, &ev);
		int er = fz_run_event(&run, &ev, count);
		if (count)
			fz_gen_feedback(g, run.accesses);
		if (er < 0) {
			/* Generated input is valid by construction: this is a bug
			 * of the generator, kept by libFuzzer as a crash. */
			fprintf(stderr, "fuzz_ops: GENERATOR BUG: the replayer rejected event %zu:\n  ",
				l.n);
			fz_print_event(stderr, &ev);
			fprintf(stderr, "  %s\n", run.err);
			abort();
		}
		if (er > 0) {
			failed = true;
			break;
		}
	}
	struct fz_fail fail = run.fail;
	fz_run_end(&run);
	fz_gen_free(g);
	if (failed)
		report(&l, &fail, data, size);
	fz_list_free(&l);
	return 0;
}
