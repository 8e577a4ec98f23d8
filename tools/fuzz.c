/* iommusim fuzz: differential fuzzing of the software walkers against the
 * hardware model and the dirty oracle (docs/fuzzing.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/format.h"
#include "iommusim/pt.h"
#include "tools/cmd.h"
#include "tools/fuzz.h"
#include "tools/fuzz_cmd.h"
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
	OPT_FZ_ISOLATE,
	OPT_FZ_NO_ISOLATE,
	OPT_FZ_WALKER_TIMEOUT,
	OPT_FZ_JOBS,
	OPT_FZ_NESTED,
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
		"  --format F            amdv1, vtd, smmuv3, vtd-fs, amdv2, smmuv3-s2 or all\n"
		"                        (default all)\n"
		"  --smmu-granule G      SMMUv3 domains use only granule G (4K, 16K or 64K)\n"
		"  --nested              every sequence a nesting pair: a stage-2 parent with a\n"
		"                        premapped GPA window and a nested stage-1 domain over\n"
		"                        it (the pairs of --format; docs/fuzzing.md)\n"
		"  --fuzz-seed N         the fuzzer's seed (default 1): the op sequences it draws\n"
		"  --ops N               stop after N ops\n"
		"  --time S              stop after S seconds (default 60 when --ops is not given)\n"
		"  -o, --out DIR         where the reproducer goes (default .):\n"
		"                        DIR/fuzz-FORMAT-SEED.trace\n"
		"  --json FILE           write the run (ops, sequences, seconds, the failure and\n"
		"                        its reproducer) as one JSON object ('-' = stdout, which\n"
		"                        then holds the JSON alone)\n"
		"  --progress            ops/s and ops so far on stderr every second (default\n"
		"                        when stderr is a terminal)\n"
		"  -q, --quiet           no progress, nothing printed unless a failure is found\n"
		"  -v, --verbose         progress every second even when stderr is no terminal\n"
		"  --no-shrink           write the failing sequence as found\n"
		"  --max-len N           events per sequence, at most (default 300)\n"
		"  -j, --jobs N          N worker processes (default: the cores this process may\n"
		"                        run on). Worker 0 fuzzes --fuzz-seed itself, worker w > 0 a\n"
		"                        seed derived from it, each its share of --ops; the first\n"
		"                        failure stops the others and is shrunk once. It prints\n"
		"                        the worker's seed: `-j 1 --fuzz-seed THAT` finds the same\n"
		"                        failure again. -j 1 is one process, as deterministic as\n"
		"                        ever\n"
		"  (--seed is the model's seed, as in every command: see the model options\n"
		"  below. Before, fuzz's --seed was the fuzzer's: a note says so when --seed\n"
		"  comes without --fuzz-seed; --model-seed is an old spelling of --seed.)\n");
	model_opts_help(f);
	walker_help(f);
	fprintf(f,
		"  --isolate             fuzz in a child process, and replay each candidate of the\n"
		"                        shrinker in one: a walker that crashes (a signal, or a\n"
		"                        sanitizer's report) or hangs is a failure like any other,\n"
		"                        shrunk and written as a reproducer (default with\n"
		"                        --walker-plugin; docs/fuzzing.md)\n"
		"  --no-isolate          in this process (a crash of the walker ends the run)\n"
		"  --walker-timeout S    with isolation, an op that makes no progress for S\n"
		"                        seconds is a hang (default %g; 0 = no limit)\n",
		ISO_DEFAULT_TIMEOUT);
	fprintf(f,
		"\nexit status: 0 the budget ended without a failure; 1 a failure was found\n"
		"(reproducer written); 2 bad options, an internal error or an output that\n"
		"could not be written; 130 (143) stopped by ^C (SIGTERM) after the op being\n"
		"run, its summary line printed (a second one stops it at once).\n");
}

static void add_arg(struct fuzz_opts *o, const char *name, const char *arg)
{
	size_t n = strlen(o->model_args);
	snprintf(o->model_args + n, sizeof(o->model_args) - n, "%s--%s%s%s", n ? " " : "", name,
		 arg ? " " : "", arg ? arg : "");
}

static int fuzz(const struct fuzz_opts *o)
{
	if (o->jobs > 1)
		return fuzz_parallel(o);
	struct fz_list l = {0};
	struct loop_state found;
	int ret = fuzz_find(o, &l, &found);
	if (o->sum) {
		o->sum->ops = found.ops;
		o->sum->seqs = found.seqs;
		o->sum->secs = found.secs;
		o->sum->workers = 1;
		o->sum->cover = found.cover;
	}
	if (ret == 1)
		ret = fuzz_report(o, &l, &found);
	fz_list_free(&l);
	return ret;
}

static void write_json(FILE *f, const struct fuzz_opts *o, const struct fz_summary *s, int ret)
{
	json_head(f, "fuzz");
	fprintf(f, ",\"format\":\"%s\",\"fuzz_seed\":%" PRIu64 ",\"walker\":", o->fmt_name, o->seed);
	json_string(f, walker_name(&o->wc));
	fprintf(f, ",\"workers\":%u,\"ops\":%" PRIu64 ",\"sequences\":%" PRIu64
		   ",\"seconds\":%.6f,\"ops_per_s\":%.6g,\"failure\":",
		s->workers, s->ops, s->seqs, s->secs, s->secs > 0 ? (double)s->ops / s->secs : 0.0);
	if (!s->failed) {
		fputs("null", f);
	} else {
		fprintf(f, "{\"kind\":\"%s\",\"message\":", fz_fail_name(s->fail.first));
		json_string(f, s->fail.msg);
		fprintf(f, ",\"fuzz_seed\":%" PRIu64 ",\"sequence\":%" PRIu64 ",\"events_found\":%zu",
			s->seed, s->seq, s->found_len);
		if (s->repro[0]) {
			fprintf(f, ",\"events\":%zu,\"reproducer\":", s->len);
			json_string(f, s->repro);
			fputs(",\"replay\":", f);
			json_string(f, s->replay);
		}
		fputc('}', f);
	}
	if (o->nested) {
		/* Stage 2 refusing nested accesses (docs/fuzzing.md, "Nested domains"). */
		const struct fz_cover *c = &s->cover;
		fprintf(f, ",\"nested\":{\"s2_output_maps\":%" PRIu64 ",\"s2_frames_read_only\":%" PRIu64
			   ",\"s2_frames_unmapped\":%" PRIu64 ",\"s2_faults_output\":%" PRIu64
			   ",\"s2_faults_table_read\":%" PRIu64 ",\"s2_faults_ad_write\":%" PRIu64 "}",
			c->s2_out_maps, c->s2_frames_ro, c->s2_frames_absent, c->s2_faults_output,
			c->s2_faults_table, c->s2_faults_ad);
	}
	fprintf(f, ",\"result\":\"%s\",\"exit\":%d}\n",
		ret == 2 ? "error" : ret == 1 ? "fail" : ret ? "interrupted" : "pass", ret);
}

/* Every sequence builds a model, tables and an oracle and throws them away:
 * the same large blocks (table-pool chunks, slot arrays) again and again.
 * Served from the heap and kept there, they are reused warm; mapped and
 * unmapped each time, every sequence would fault its memory in again. */
static void malloc_for_fuzzing(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 64 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

/* The cores this process may run on (sched_getaffinity), at least 1. */
static unsigned cores(void)
{
	cpu_set_t set;
	if (!sched_getaffinity(0, sizeof(set), &set)) {
		int c = CPU_COUNT(&set);
		if (c > 0)
			return (unsigned)c;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fz_rate(unsigned formats, unsigned jobs, uint64_t ops, unsigned walker, double *secs,
	    double *cpu_secs)
{
	struct fuzz_opts o;
	memset(&o, 0, sizeof(o));
	ims_replay_opts_default(&o.ro);
	o.formats = formats;
	o.fmt_name = "bench";
	o.seed = 1;
	o.out = ".";
	o.max_len = 300;
	o.max_ops = ops;
	o.jobs = jobs ? jobs : 1;
	o.quiet = true;
	o.wc.builtin = walker;
	o.ro.walker = walker;
	o.iso.timeout = ISO_DEFAULT_TIMEOUT;
	o.iso.shown = o.iso.timeout;
	malloc_for_fuzzing();
	double t0 = fz_now(), c0 = cpu_s();
	int ret;
	if (o.jobs > 1) {
		ret = fuzz_parallel(&o);
	} else {
		struct fz_list l = {0};
		struct loop_state found;
		ret = fuzz_find(&o, &l, &found);
		fz_list_free(&l);
	}
	*secs = fz_now() - t0;
	*cpu_secs = cpu_s() - c0;
	return ret;
}

unsigned fz_cores(void)
{
	return cores();
}

int cmd_fuzz(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"fuzz-seed", required_argument, 0, OPT_FZ_SEED},
		{"format", required_argument, 0, OPT_FZ_FORMAT},
		{"ops", required_argument, 0, OPT_FZ_OPS},
		{"time", required_argument, 0, OPT_FZ_TIME},
		{"out", required_argument, 0, 'o'},
		WALKER_LONG_OPTS,
		{"progress", no_argument, 0, OPT_FZ_PROGRESS},
		{"no-shrink", no_argument, 0, OPT_FZ_NO_SHRINK},
		{"max-len", required_argument, 0, OPT_FZ_MAX_LEN},
		{"model-seed", required_argument, 0, OPT_FZ_MODEL_SEED},
		{"smmu-granule", required_argument, 0, OPT_FZ_GRANULE},
		{"nested", no_argument, 0, OPT_FZ_NESTED},
		{"isolate", no_argument, 0, OPT_FZ_ISOLATE},
		{"no-isolate", no_argument, 0, OPT_FZ_NO_ISOLATE},
		{"walker-timeout", required_argument, 0, OPT_FZ_WALKER_TIMEOUT},
		{"jobs", required_argument, 0, 'j'},
		{"json", required_argument, 0, OPT_JSON},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		MODEL_LONG_OPTS,
		{0, 0, 0, 0},
	};
	const char *json = NULL;
	bool fuzz_seed = false, model_seed = false;
	struct fz_summary sum;
	memset(&sum, 0, sizeof(sum));
	struct fuzz_opts o;
	memset(&o, 0, sizeof(o));
	ims_replay_opts_default(&o.ro);
	o.formats = fmt_all_mask();
	o.fmt_name = "all";
	o.seed = 1;
	o.out = ".";
	o.shrink = true;
	o.max_len = 300;
	o.verbosity = 1;
	bool have_time = false;
	int isolate = -1; /* -1: with a plug-in */
	o.iso.timeout = ISO_DEFAULT_TIMEOUT;
	int c, idx;
	uint64_t v;
	optind = 1;
	opterr = 0;
	o.jobs = 0;
	while ((c = getopt_long(argc, argv, "+hj:o:qv", longopts, &idx)) != -1) {
		switch (c) {
		case 'h':
			help_fuzz(stdout);
			return 0;
		case 'q':
			o.verbosity = 0;
			break;
		case 'v':
			o.verbosity = 2;
			break;
		case 'j':
			if (opt_u64("fuzz", "--jobs", optarg, false, &v))
				return 2;
			if (v < 1 || v > 1024) {
				fprintf(stderr, "iommusim fuzz: --jobs must be 1..1024\n");
				return 2;
			}
			o.jobs = (unsigned)v;
			break;
		case OPT_FZ_FORMAT: {
			enum ims_format f;
			if (!strcmp(optarg, "all")) {
				o.formats = fmt_all_mask();
				o.fmt_name = "all";
			} else if (!ims_format_parse(optarg, strlen(optarg), &f)) {
				o.formats = 1u << f;
				o.fmt_name = ims_format_name(f);
			} else {
				char names[128];
				fprintf(stderr, "iommusim fuzz: --format: '%s' (expected %s or all)\n",
					optarg, fmt_name_list(names, sizeof(names)));
				return 2;
			}
			break;
		}
		case OPT_FZ_SEED:
			if (opt_u64("fuzz", "--fuzz-seed", optarg, false, &o.seed))
				return 2;
			fuzz_seed = true;
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
		case 'o':
			o.out = optarg;
			break;
		case OPT_JSON:
			json = optarg;
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
		case OPT_FZ_NESTED:
			o.nested = true;
			break;
		case OPT_FZ_ISOLATE:
			isolate = 1;
			break;
		case OPT_FZ_NO_ISOLATE:
			isolate = 0;
			break;
		case OPT_FZ_WALKER_TIMEOUT:
			if (iso_parse_timeout("fuzz", optarg, &o.iso.timeout)) {
				walker_fini(&o.wc);
				return 2;
			}
			break;
		case OPT_FZ_MODEL_SEED:
			fprintf(stderr, "iommusim fuzz: note: --model-seed is an old spelling of --seed "
				"(the model's seed in every command)\n");
			if (model_opt("fuzz", OPT_SEED, optarg, &o.ro.model) < 0)
				return 2;
			add_arg(&o, "seed", optarg);
			break;
		case '?':
			return opt_unknown("fuzz", argv, "+hj:o:qv", longopts);
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
			if (c == OPT_SEED)
				model_seed = true;
			break;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iommusim fuzz: unexpected argument '%s' (see iommusim help fuzz)\n",
			argv[optind]);
		return 2;
	}
	if (model_seed && !fuzz_seed)
		fprintf(stderr, "iommusim fuzz: note: --seed is the model's seed, as in every command; "
			"the fuzzer's seed is --fuzz-seed (fuzz's --seed was the fuzzer's before)\n");
	if (!have_time && !o.max_ops)
		o.max_time = 60;
	o.ro.walker = o.wc.builtin;
	o.ro.plugin = walker_plugin_ops(&o.wc);
	o.iso.on = isolate == 1 || (isolate < 0 && o.wc.plugin);
	o.iso.shown = o.iso.timeout;
	o.iso.walker = walker_name(&o.wc);
	if (!o.jobs)
		o.jobs = cores();
	struct outfile jf = {0};
	if (json && outfile_open(&jf, json)) {
		walker_fini(&o.wc);
		return 2;
	}
	o.sum = &sum;
	malloc_for_fuzzing();
	/* SIGINT or SIGTERM: stop after the op being run, print the summary
	 * (ops, sequences, seed) and exit 128 + N; a second one ends at once. */
	interrupt_poll(true, "\niommusim fuzz: interrupted: stopping after this op (^C again to stop "
			     "at once)\n");
	int ret = fuzz(&o);
	if (!ret && interrupt_caught())
		ret = 128 + interrupt_caught();
	if (json) {
		write_json(jf.f, &o, &sum, ret);
		if (outfile_commit(&jf))
			ret = 2;
	}
	walker_fini(&o.wc);
	return ret;
}
