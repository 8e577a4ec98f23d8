/* iommusim fuzz: differential fuzzing of the software walkers against the
 * hardware model and the dirty oracle (docs/fuzzing.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iommusim/pt.h"
#include "tools/cmd.h"
#include "tools/fuzz.h"
#include "tools/opts.h"

/* Option ids of this command, clear of the shared ones. */
enum {
	OPT_FZ_FORMAT = OPT_FIRST_FREE + 64,
	OPT_FZ_SEED,
	OPT_FZ_OPS,
	OPT_FZ_TIME,
	OPT_FZ_OUT,
	OPT_FZ_PROGRESS,
	OPT_FZ_NO_SHRINK,
	OPT_FZ_MAX_LEN,
	OPT_FZ_MODEL_SEED,
	OPT_FZ_GRANULE,
};

void help_fuzz(FILE *f)
{
	fprintf(f,
		"usage: iommusim fuzz [OPTIONS]\n"
		"\n"
		"Generates random valid op sequences (domains of every geometry, maps of every\n"
		"leaf size, unmaps, device reads and writes, harvests, tracking, flushes and\n"
		"device writes injected between the walker's memory accesses), replays each\n"
		"through model, software and oracle, and checks after every op that the\n"
		"bitmap equals the oracle, iova_to_phys equals the hardware translation and\n"
		"no page-table page is left once everything is unmapped. On a failure it\n"
		"shrinks the sequence, writes it as a trace that `iommusim replay` fails on\n"
		"(exit 1), prints the seed and exits 1. Runs are deterministic per seed.\n"
		"\n"
		"options:\n"
		"  --format F            amdv1, vtd, smmuv3 or all (default all)\n"
		"  --smmu-granule G      SMMUv3 domains use only granule G (4K, 16K or 64K)\n"
		"  --seed N              the fuzzer's seed (default 1)\n"
		"  --ops N               stop after N ops\n"
		"  --time S              stop after S seconds (default 60 when --ops is not given)\n"
		"  --out DIR             where the reproducer goes (default .):\n"
		"                        DIR/fuzz-FORMAT-SEED.trace\n"
		"  --progress            ops/s and ops so far on stderr every second (default\n"
		"                        when stderr is a terminal)\n"
		"  --no-shrink           write the failing sequence as found\n"
		"  --max-len N           events per sequence, at most (default 300)\n"
		"  --model-seed N        the model's seed (its --seed below: here --seed is the\n"
		"                        fuzzer's)\n");
	model_opts_help(f);
	walker_help(f);
	fprintf(f,
		"\nexit status: 0 the budget ended without a failure; 1 a failure was found\n"
		"(reproducer written); 2 bad options or an internal error.\n");
}

struct fuzz_opts {
	struct ims_replay_opts ro;
	unsigned formats;
	const char *fmt_name;
	uint64_t seed;
	uint64_t max_ops;
	double max_time;
	const char *out;
	bool progress, shrink;
	unsigned max_len;
	unsigned smmu_gshift;
	char model_args[1024]; /* the model options, as replay takes them */
	struct walker_choice wc;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The seed of sequence k: one stream per sequence, so the k-th sequence of
 * a seed is the same whatever the budget. */
static uint64_t seq_seed(uint64_t seed, uint64_t k)
{
	struct fz_rng r = {seed * 0xd1342543de82ef95ull + k};
	fz_next(&r);
	return fz_next(&r);
}

static void add_arg(struct fuzz_opts *o, const char *name, const char *arg)
{
	size_t n = strlen(o->model_args);
	snprintf(o->model_args + n, sizeof(o->model_args) - n, "%s--%s%s%s", n ? " " : "", name,
		 arg ? " " : "", arg ? arg : "");
}

/* ---- the reproducer ------------------------------------------------------------------------ */

static void print_event(FILE *f, const struct ims_event *ev)
{
	char buf[1024];
	size_t n = ims_event_format(ev, buf, sizeof(buf));
	fprintf(f, "%s%s\n", buf, n >= sizeof(buf) ? " ..." : "");
}

static void replay_args(const struct fuzz_opts *o, char *buf, size_t len)
{
	walker_args(&o->wc, buf, len);
	if (o->model_args[0]) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", o->model_args);
	}
}

/* Writes the trace, checks that it replays to a failure, prints where. */
static int write_repro(const struct fuzz_opts *o, struct fz_list *l, uint64_t seq,
		       size_t found_len, const struct fz_shrink_stats *st)
{
	char name[128], path[4096], args[1200];
	snprintf(name, sizeof(name), "fuzz-%s-%" PRIu64 ".trace", o->fmt_name, o->seed);
	snprintf(path, sizeof(path), "%s/%s", o->out, name);
	replay_args(o, args, sizeof(args));

	/* Header lines come first; the events' line numbers follow them. */
	unsigned header = 6 + (args[0] ? 1 : 0);
	struct fz_fail fail;
	memset(&fail, 0, sizeof(fail));
	int rc = fz_replay_list(&o->ro, l, header + 1, name, 0, &fail);
	if (rc != 1) {
		fprintf(stderr, "iommusim fuzz: internal error: the sequence no longer fails (%d)\n", rc);
		return 2;
	}
	if (mkdir(o->out, 0777) && errno != EEXIST) {
		fprintf(stderr, "iommusim fuzz: %s: %s\n", o->out, strerror(errno));
		return 2;
	}
	struct outfile of;
	if (outfile_open(&of, path))
		return 2;
	FILE *f = of.f;
	fprintf(f, "iommusim-trace 1\n");
	if (args[0])
		fprintf(f, "# replay-args: %s\n", args);
	fprintf(f, "# iommusim fuzz --format %s --seed %" PRIu64 "%s%s: sequence %" PRIu64 "\n",
		o->fmt_name, o->seed, args[0] ? " " : "", args, seq);
	fprintf(f, "# walker: %s\n", walker_name(&o->wc));
	fprintf(f, "# failure (%s): %s\n", fz_fail_name(fail.first), fail.msg);
	if (st)
		fprintf(f, "# shrunk from %zu to %zu events (%" PRIu64 " replays)\n", found_len, l->n,
			st->tests);
	else
		fprintf(f, "# not shrunk: %zu events\n", l->n);
	fprintf(f, "# replay: iommusim replay%s%s %s  (exit 1)\n", args[0] ? " " : "", args, name);
	for (size_t i = 0; i < l->n; i++)
		print_event(f, &l->ev[i]);
	if (outfile_commit(&of))
		return 2;

	/* What was written must fail on its own, read back as text. */
	struct ims_reader *rd = NULL;
	char err[512];
	if (ims_reader_open(path, &rd, err, sizeof(err))) {
		fprintf(stderr, "iommusim fuzz: %s\n", err);
		return 2;
	}
	struct ims_replay_opts ro = o->ro;
	FILE *sink = tmpfile();
	ro.diag = sink;
	ro.verbosity = 0;
	struct ims_replay *r = NULL;
	rc = ims_replay_new(&ro, &r);
	if (!rc)
		rc = ims_replay_run(r, rd);
	ims_reader_close(rd);
	int ret = 1;
	if (rc) {
		fprintf(stderr, "iommusim fuzz: internal error: %s does not replay: %s\n", path,
			r ? ims_replay_error(r) : "out of memory");
		ret = 2;
	} else if (!ims_replay_stats(r)->validation_failures) {
		fprintf(stderr, "iommusim fuzz: internal error: %s replays without a failure\n", path);
		ret = 2;
	}
	ims_replay_free(r);
	if (sink)
		fclose(sink);
	if (ret != 1)
		return ret;
	printf("iommusim fuzz: seed %" PRIu64 " (sequence %" PRIu64 "): %s\n", o->seed, seq,
	       fail.msg);
	printf("iommusim fuzz: reproducer %s (%zu event lines)\n", path, l->n);
	printf("iommusim fuzz: replay with: iommusim replay%s%s %s\n", args[0] ? " " : "", args, path);
	return 1;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static int fuzz(const struct fuzz_opts *o)
{
	struct fz_geo *geos = NULL;
	size_t ngeos = 0;
	int rc = fz_geos_probe(&o->ro, o->formats, o->smmu_gshift, &geos, &ngeos, stderr);
	if (rc) {
		fprintf(stderr, "iommusim fuzz: no domain geometry of %s is usable in this build\n",
			o->fmt_name);
		return 2;
	}
	struct fz_gen_cfg gc = {o->formats, geos, ngeos, o->max_len};
	struct fz_list l = {0};
	double t0 = now_s(), last_progress = t0;
	uint64_t ops = 0, seqs = 0;
	int ret = 0;
	bool tty = isatty(STDERR_FILENO);
	bool progress = o->progress || tty;
	for (uint64_t k = 0;; k++) {
		if ((o->max_ops && ops >= o->max_ops) || (o->max_time > 0 && now_s() - t0 >= o->max_time))
			break;
		struct fz_gen *g = NULL;
		struct fz_run run;
		if ((rc = fz_gen_new(&gc, seq_seed(o->seed, k), &g)) ||
		    (rc = fz_run_begin(&run, &o->ro, "fuzz"))) {
			fz_gen_free(g);
			fprintf(stderr, "iommusim fuzz: %s\n", strerror(-rc));
			ret = 2;
			break;
		}
		seqs++;
		l.n = 0;
		struct ims_event ev;
		bool count, failed = false, stop = false;
		while (fz_gen_next(g, &ev, &count) > 0) {
			ev.line = l.n + 1;
			if (fz_list_push(&l, &ev)) {
				ret = 2;
				break;
			}
			int er = fz_run_event(&run, &ev, count);
			ops++;
			if (count)
				fz_gen_feedback(g, run.accesses);
			if (er < 0) {
				/* Generated input is valid by construction. */
				fprintf(stderr,
					"iommusim fuzz: GENERATOR BUG (seed %" PRIu64 ", sequence %" PRIu64
					"): the replayer rejected event %zu:\n  ",
					o->seed, k, l.n);
				print_event(stderr, &ev);
				fprintf(stderr, "  %s\n", run.err);
				ret = 2;
				break;
			}
			if (er > 0) {
				failed = true;
				break;
			}
			if (!(ops & 255)) {
				double t = now_s();
				if (progress && t - last_progress >= 1.0) {
					last_progress = t;
					fprintf(stderr, "%siommusim fuzz: %" PRIu64 " ops, %" PRIu64
						" sequences, %.0f ops/s%s",
						tty ? "\r" : "", ops, seqs, (double)ops / (t - t0),
						tty ? "  " : "\n");
				}
				if (o->max_time > 0 && t - t0 >= o->max_time) {
					stop = true;
					break;
				}
			}
			if (o->max_ops && ops >= o->max_ops) {
				stop = true;
				break;
			}
		}
		struct fz_fail fail = run.fail;
		fz_run_end(&run);
		fz_gen_free(g);
		if (ret)
			break;
		if (failed) {
			double t = now_s() - t0;
			if (progress && tty)
				fputc('\n', stderr);
			printf("iommusim fuzz: %s after %" PRIu64 " ops, %" PRIu64
			       " sequences, %.2f s: %s\n",
			       fz_fail_name(fail.first), ops, k + 1, t, fail.msg);
			fflush(stdout);
			size_t found = l.n;
			struct fz_shrink_stats st;
			bool shrunk = false;
			if (o->shrink) {
				double s0 = now_s();
				rc = fz_shrink(&o->ro, &l, fail.first, &st);
				if (rc) {
					fprintf(stderr, "iommusim fuzz: shrinking failed (%s); writing the "
						"sequence as found\n", strerror(-rc));
				} else {
					shrunk = true;
					printf("iommusim fuzz: shrunk %zu -> %zu events in %.2f s (%" PRIu64
					       " replays)\n", found, l.n, now_s() - s0, st.tests);
				}
			}
			ret = write_repro(o, &l, k, found, shrunk ? &st : NULL);
			break;
		}
		if (stop)
			break;
	}
	if (progress && tty && !ret)
		fputc('\n', stderr);
	if (!ret) {
		double t = now_s() - t0;
		printf("iommusim fuzz: no failure in %" PRIu64 " ops (%" PRIu64 " sequences, %.1f s, "
		       "%.0f ops/s), format %s, seed %" PRIu64 ", walker %s\n",
		       ops, seqs, t, t > 0 ? (double)ops / t : 0.0, o->fmt_name, o->seed,
		       walker_name(&o->wc));
	}
	fz_list_free(&l);
	free(geos);
	return ret;
}

int cmd_fuzz(int argc, char **argv)
{
	static const struct option longopts[] = {
		/* Before the model's: --seed here is the fuzzer's. */
		{"seed", required_argument, 0, OPT_FZ_SEED},
		{"format", required_argument, 0, OPT_FZ_FORMAT},
		{"ops", required_argument, 0, OPT_FZ_OPS},
		{"time", required_argument, 0, OPT_FZ_TIME},
		{"out", required_argument, 0, OPT_FZ_OUT},
		WALKER_LONG_OPTS,
		{"progress", no_argument, 0, OPT_FZ_PROGRESS},
		{"no-shrink", no_argument, 0, OPT_FZ_NO_SHRINK},
		{"max-len", required_argument, 0, OPT_FZ_MAX_LEN},
		{"model-seed", required_argument, 0, OPT_FZ_MODEL_SEED},
		{"smmu-granule", required_argument, 0, OPT_FZ_GRANULE},
		{"help", no_argument, 0, 'h'},
		MODEL_LONG_OPTS,
		{0, 0, 0, 0},
	};
	struct fuzz_opts o;
	memset(&o, 0, sizeof(o));
	ims_replay_opts_default(&o.ro);
	o.formats = (1u << IMS_FMT_COUNT) - 1;
	o.fmt_name = "all";
	o.seed = 1;
	o.out = ".";
	o.shrink = true;
	o.max_len = 300;
	bool have_time = false;
	int c, idx;
	uint64_t v;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, &idx)) != -1) {
		switch (c) {
		case 'h':
			help_fuzz(stdout);
			return 0;
		case OPT_FZ_FORMAT: {
			enum ims_format f;
			if (!strcmp(optarg, "all")) {
				o.formats = (1u << IMS_FMT_COUNT) - 1;
				o.fmt_name = "all";
			} else if (!ims_format_parse(optarg, strlen(optarg), &f)) {
				o.formats = 1u << f;
				o.fmt_name = ims_format_name(f);
			} else {
				fprintf(stderr, "iommusim fuzz: --format: '%s' (expected amdv1, vtd, "
					"smmuv3 or all)\n", optarg);
				return 2;
			}
			break;
		}
		case OPT_FZ_SEED:
			if (opt_u64("fuzz", "--seed", optarg, false, &o.seed))
				return 2;
			break;
		case OPT_FZ_OPS:
			if (opt_u64("fuzz", "--ops", optarg, false, &o.max_ops))
				return 2;
			if (!o.max_ops) {
				fprintf(stderr, "iommusim fuzz: --ops must be at least 1\n");
				return 2;
			}
			break;
		case OPT_FZ_TIME: {
			char *end;
			errno = 0;
			double t = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(t > 0) || t > 1e9) {
				fprintf(stderr, "iommusim fuzz: --time: '%s' is not a number of seconds\n",
					optarg);
				return 2;
			}
			o.max_time = t;
			have_time = true;
			break;
		}
		case OPT_FZ_OUT:
			o.out = optarg;
			break;
		case OPT_FZ_PROGRESS:
			o.progress = true;
			break;
		case OPT_FZ_NO_SHRINK:
			o.shrink = false;
			break;
		case OPT_FZ_MAX_LEN:
			if (opt_u64("fuzz", "--max-len", optarg, false, &v))
				return 2;
			if (v < 24 || v > 100000) {
				fprintf(stderr, "iommusim fuzz: --max-len must be 24..100000\n");
				return 2;
			}
			o.max_len = (unsigned)v;
			break;
		case OPT_FZ_GRANULE:
			if (opt_u64("fuzz", "--smmu-granule", optarg, true, &v))
				return 2;
			if (v != 4096 && v != 16384 && v != 65536) {
				fprintf(stderr, "iommusim fuzz: --smmu-granule: '%s' (expected 4K, 16K or "
					"64K)\n", optarg);
				return 2;
			}
			o.smmu_gshift = ims_log2(v);
			break;
		case OPT_FZ_MODEL_SEED:
			if (model_opt("fuzz", OPT_SEED, optarg, &o.ro.model) < 0)
				return 2;
			add_arg(&o, "seed", optarg);
			break;
		case '?':
			fprintf(stderr, "iommusim fuzz: unknown or incomplete option '%s' (see iommusim "
				"help fuzz)\n", argv[optind - 1]);
			return 2;
		default: {
			int w = walker_opt("fuzz", c, optarg, &o.wc);
			if (w < 0) {
				walker_fini(&o.wc);
				return 2;
			}
			if (w)
				break;
			int m = model_opt("fuzz", c, optarg, &o.ro.model);
			if (m < 0)
				return 2;
			if (m == 0) {
				fprintf(stderr, "iommusim fuzz: option '%s' is not supported here\n",
					argv[optind - 1]);
				return 2;
			}
			/* Replays of the reproducer need the same model. */
			add_arg(&o, longopts[idx].name, longopts[idx].has_arg ? optarg : NULL);
			break;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iommusim fuzz: unexpected argument '%s' (see iommusim help fuzz)\n",
			argv[optind]);
		return 2;
	}
	if (!have_time && !o.max_ops)
		o.max_time = 60;
	o.ro.walker = o.wc.builtin;
	o.ro.plugin = walker_plugin_ops(&o.wc);
	int ret = fuzz(&o);
	walker_fini(&o.wc);
	return ret;
}
