/* iommusim fuzz: differential fuzzing of the software walkers against the
 * hardware model and the dirty oracle (docs/fuzzing.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
	OPT_FZ_ISOLATE,
	OPT_FZ_NO_ISOLATE,
	OPT_FZ_WALKER_TIMEOUT,
	OPT_FZ_JOBS,
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
		"(reproducer written); 2 bad options or an internal error.\n");
}

/* What a run came to, for --json. */
struct fz_summary {
	uint64_t ops, seqs;
	double secs;
	unsigned workers;
	bool failed;
	struct fz_fail fail;  /* the failure as found */
	uint64_t seed;        /* the seed that found it (a worker's) */
	uint64_t seq;         /* its sequence */
	size_t found_len, len; /* its events as found, and written */
	char repro[4096];     /* the reproducer's path ("" when none was written) */
	char replay[5400];    /* the command that replays it */
};

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
	struct fz_iso iso;
	unsigned jobs;  /* worker processes (1: this one) */
	/* A worker of fuzz_parallel: no progress or summary of its own; its
	 * ops and sequences so far go to the shared counters. */
	volatile uint64_t *shared_ops, *shared_seqs;
	struct fz_cover *shared_cover; /* updated after each sequence */
	bool quiet; /* no progress, summary or failure report (fz_rate) */
	int verbosity; /* -q 0: no progress, nothing on success; 1; -v 2: progress always */
	struct fz_summary *sum; /* NULL: none kept (a worker, fz_rate) */
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
	struct fz_rng r = {.s = seed * 0xd1342543de82ef95ull + k};
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

/* Writes the trace, checks that it replays to the same failure, prints
 * where. iso: how the shrinker replayed (its time limit may be shorter);
 * the written file is checked under the limit the user gave. */
static int write_repro(const struct fuzz_opts *o, const struct fz_iso *iso, struct fz_list *l,
		       uint64_t seq, const struct fz_fail *want, size_t found_len,
		       const struct fz_shrink_stats *st)
{
	char name[128], path[4096], args[1200], found[1400];
	snprintf(name, sizeof(name), "fuzz-%s-%" PRIu64 ".trace", o->fmt_name, o->seed);
	fz_repro_args(&o->wc, o->iso.shown, o->model_args, want->first, args, sizeof(args));
	/* The command that finds it again: one worker, this seed. */
	snprintf(found, sizeof(found), "iommusim fuzz --format %s --fuzz-seed %" PRIu64 " -j 1%s%s: "
		 "sequence %" PRIu64, o->fmt_name, o->seed, args[0] ? " " : "", args, seq);
	struct fz_repro rp = {&o->ro, &o->iso, o->out, name, args, found, walker_name(&o->wc),
			      "iommusim fuzz"};
	struct fz_fail fail;
	int rc = fz_repro_write(&rp, iso, l, want, found_len, st, &fail, path, sizeof(path));
	if (rc != 1)
		return rc;
	printf("iommusim fuzz: fuzz seed %" PRIu64 " (sequence %" PRIu64 "): %s\n", o->seed, seq,
	       fail.msg);
	printf("iommusim fuzz: reproducer %s (%zu event lines)\n", path, l->n);
	printf("iommusim fuzz: replay with: iommusim replay%s%s %s\n", args[0] ? " " : "", args, path);
	if (o->sum) {
		snprintf(o->sum->repro, sizeof(o->sum->repro), "%s", path);
		snprintf(o->sum->replay, sizeof(o->sum->replay), "iommusim replay%s%s %s",
			 args[0] ? " " : "", args, path);
		o->sum->len = l->n;
	}
	return 1;
}

/* ---- the loop ------------------------------------------------------------------------------- */

/* What the loop is doing, for the parent that watches an isolated run. */
enum { PH_SETUP, PH_GEN, PH_EVENT, PH_FREE };

/* The loop's state that outlives it: in the shared block of its child when
 * isolated (the events of the sequence follow it there), else on the
 * stack. */
struct loop_state {
	struct iso_state st; /* beat: one per event */
	volatile int phase;
	volatile uint64_t seq, ops;
	struct fz_list l; /* the sequence being run */
	/* When the loop returns 1: the failure, and when it was found. */
	struct fz_fail fail;
	double secs;
	struct fz_cover cover; /* what the sequences so far exercised */
	struct fz_geo geos[64]; /* the geometries cover.geos numbers (the first 64) */
	size_t ngeos;
	volatile uint64_t seqs; /* sequences begun */
};

static int fuzz_loop(const struct fuzz_opts *o, struct loop_state *ls)
{
	ls->phase = PH_SETUP;
	struct fz_geo *geos = NULL;
	size_t ngeos = 0;
	int rc = fz_geos_probe(&o->ro, o->formats, o->smmu_gshift, &geos, &ngeos, stderr);
	if (rc) {
		fprintf(stderr, "iommusim fuzz: no domain geometry of %s is usable in this build\n",
			o->fmt_name);
		return 2;
	}
	struct fz_gen_cfg gc = {o->formats, geos, ngeos, o->max_len, &ls->cover, fz_corrupt_pct(&o->ro)};
	ls->ngeos = ngeos < 64 ? ngeos : 64;
	memcpy(ls->geos, geos, ls->ngeos * sizeof(*geos));
	struct fz_list *l = &ls->l;
	double t0 = now_s(), last_progress = t0;
	uint64_t ops = 0, seqs = 0;
	int ret = 0;
	bool tty = isatty(STDERR_FILENO);
	/* By default on a terminal (not when standard output is the JSON). */
	bool progress = !o->shared_ops && !o->quiet && o->verbosity >= 1 &&
			(o->progress || o->verbosity >= 2 || progress_wanted(o->verbosity));
	for (uint64_t k = 0;; k++) {
		if ((o->max_ops && ops >= o->max_ops) || (o->max_time > 0 && now_s() - t0 >= o->max_time))
			break;
		ls->phase = PH_GEN;
		ls->seq = k;
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
		ls->seqs = seqs;
		if (o->shared_seqs)
			*o->shared_seqs = seqs;
		l->n = 0;
		struct ims_event ev;
		bool count, failed = false, stop = false;
		while (fz_gen_next(g, &ev, &count) > 0) {
			ev.line = l->n + 1;
			if ((rc = fz_list_push(l, &ev))) {
				fprintf(stderr, "iommusim fuzz: %s\n", strerror(-rc));
				ret = 2;
				break;
			}
			ls->phase = PH_EVENT;
			ls->ops = ++ops;
			if (o->shared_ops)
				*o->shared_ops = ops;
			ls->st.beat++;
			int er = fz_run_event(&run, &ev, count);
			ls->phase = PH_GEN;
			if (count)
				fz_gen_feedback(g, run.accesses);
			if (er < 0) {
				/* Generated input is valid by construction. */
				fprintf(stderr,
					"iommusim fuzz: GENERATOR BUG (fuzz seed %" PRIu64 ", sequence %" PRIu64
					"): the replayer rejected event %zu:\n  ",
					o->seed, k, l->n);
				fz_print_event(stderr, &ev);
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
					char cv[256];
					fz_cover_short(&ls->cover, cv, sizeof(cv));
					char a[32], b[32], c[32];
					fprintf(stderr, "%siommusim fuzz: %s ops, %s sequences, %s ops/s; %s%s",
						tty ? "\r" : "", human_count(ops, a, sizeof(a)),
						human_count(seqs, b, sizeof(b)),
						human_count((uint64_t)((double)ops / (t - t0)), c, sizeof(c)), cv,
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
		ls->fail = run.fail;
		fz_cover_replay(&ls->cover, ims_replay_stats(run.r));
		if (o->shared_cover)
			*o->shared_cover = ls->cover;
		ls->phase = PH_FREE;
		fz_run_end(&run);
		ls->phase = PH_GEN;
		fz_gen_free(g);
		if (ret)
			break;
		if (failed) {
			ls->secs = now_s() - t0;
			ret = 1;
			break;
		}
		if (stop)
			break;
	}
	if (progress && tty)
		fputc('\n', stderr);
	if (!ret)
		ls->secs = now_s() - t0;
	if (!ret && !o->shared_ops && !o->quiet && o->verbosity >= 1) {
		double t = now_s() - t0;
		char a[32], b[32], c[32], d[32];
		printf("iommusim fuzz: no failure in %s ops (%s sequences, %s, %s ops/s), format %s, "
		       "fuzz seed %" PRIu64 ", walker %s\n",
		       human_count(ops, a, sizeof(a)), human_count(seqs, b, sizeof(b)),
		       human_seconds(t, c, sizeof(c)),
		       human_count(t > 0 ? (uint64_t)((double)ops / t) : 0, d, sizeof(d)), o->fmt_name,
		       o->seed, walker_name(&o->wc));
		fz_cover_print(stdout, "iommusim fuzz: ", &ls->cover, ls->geos, ls->ngeos);
	}
	free(geos);
	return ret;
}

struct loop_job {
	const struct fuzz_opts *o;
	struct loop_state *ls;
};

static int loop_child(void *arg)
{
	struct loop_job *j = arg;
	return fuzz_loop(j->o, j->ls);
}

/* The loop in a child. 1: a failure, with the sequence in *l and what it
 * was in *ls_out (a crash or hang: of the event the child was applying). */
static int fuzz_isolated(const struct fuzz_opts *o, struct fz_list *l, struct loop_state *out)
{
	size_t cap = (size_t)o->max_len + 1024; /* set-up and tear-down come on top */
	size_t size = sizeof(struct loop_state) + cap * sizeof(struct ims_event);
	struct loop_state *ls = iso_shared_new(size);
	if (!ls) {
		fprintf(stderr, "iommusim fuzz: %s\n", strerror(errno));
		return 2;
	}
	ls->l = (struct fz_list){.ev = (struct ims_event *)(ls + 1), .cap = cap, .fixed = true};
	struct loop_job j = {o, ls};
	struct iso_outcome r;
	int ret = iso_run(loop_child, &j, &ls->st, o->iso.timeout, &r);
	if (ret) {
		fprintf(stderr, "iommusim fuzz: cannot start the fuzzing process: %s\n", strerror(-ret));
		ret = 2;
	} else if (r.how == ISO_EXITED) {
		ret = r.status;
	} else if (ls->phase == PH_EVENT || ls->phase == PH_FREE) {
		if (ls->l.n && o->verbosity >= 1 &&
		    (o->progress || o->verbosity >= 2 || progress_wanted(o->verbosity)))
			fputc('\n', stderr);
		ret = 1;
		fz_crash_fail(&o->iso, &r, "fuzz", &ls->l, ls->l.n - 1, ls->phase == PH_FREE, &ls->fail);
		ls->secs = r.secs;
	} else {
		char what[128];
		iso_describe(&r, o->iso.shown, what, sizeof(what));
		if (ls->phase == PH_SETUP)
			fprintf(stderr, "iommusim fuzz: walker %s %s while the fuzzer tried the domain "
				"geometries (a domain line of each); no reproducer\n",
				walker_name(&o->wc), what);
		else
			fprintf(stderr, "iommusim fuzz: internal error: the fuzzing process %s outside "
				"the walker (sequence %" PRIu64 ")\n", what, (uint64_t)ls->seq);
		ret = ls->phase == PH_SETUP ? 1 : 2;
		iso_shared_free(ls, size);
		return ret;
	}
	if (ret == 1 && fz_list_copy(l, &ls->l)) {
		fprintf(stderr, "iommusim fuzz: out of memory\n");
		ret = 2;
	}
	*out = *ls;
	out->l = (struct fz_list){0};
	iso_shared_free(ls, size);
	return ret;
}

/* The time limit of the shrinker's replays of a hang: what the events
 * before the hanging one take, with a wide margin, and never more than the
 * user's limit. Each replay that still hangs costs the whole limit. */
static double hang_limit(const struct fuzz_opts *o, const struct fz_list *l, size_t at)
{
	struct fz_list pre = {0};
	if (fz_list_copy(&pre, l))
		return o->iso.timeout;
	pre.n = at;
	double t0 = now_s();
	struct fz_fail f;
	int rc = fz_replay(&o->ro, &o->iso, &pre, 1, "calibrate", 0, &f);
	double t = now_s() - t0;
	fz_list_free(&pre);
	if (rc == 1 && f.first == FZ_F_HANG)
		return o->iso.timeout;
	double lim = 0.25 + 10 * t;
	return lim < o->iso.timeout ? lim : o->iso.timeout;
}

/* Runs the loop (in a child when isolated) until a failure or the budget's
 * end: 0, 1 (a failure: the sequence in *l, what it was in *found) or 2. */
static int fuzz_find(const struct fuzz_opts *o, struct fz_list *l, struct loop_state *found)
{
	memset(found, 0, sizeof(*found));
	if (o->iso.on)
		return fuzz_isolated(o, l, found);
	int ret = fuzz_loop(o, found);
	*l = found->l;
	found->l = (struct fz_list){0};
	return ret;
}

/* A failure found: said, shrunk, written as a reproducer that is checked
 * to fail the same way. Returns the command's exit status. */
static int fuzz_report(const struct fuzz_opts *o, struct fz_list *l, const struct loop_state *found)
{
	const struct fz_fail *fail = &found->fail;
	if (o->sum) {
		o->sum->failed = true;
		o->sum->fail = *fail;
		o->sum->seed = o->seed;
		o->sum->seq = found->seq;
		o->sum->found_len = l->n;
	}
	char a[32], b[32], c[32];
	printf("iommusim fuzz: %s after %s ops, %s sequences, %s: %s\n", fz_fail_name(fail->first),
	       human_count(found->ops, a, sizeof(a)), human_count(found->seq + 1, b, sizeof(b)),
	       human_seconds(found->secs, c, sizeof(c)), fail->msg);
	fflush(stdout);
	struct fz_iso iso = o->iso;
	if (fail->first == FZ_F_HANG && iso.timeout > 0) {
		iso.timeout = hang_limit(o, l, fail->at);
		printf("iommusim fuzz: replays of the hang are stopped after %.2f s\n", iso.timeout);
	}
	size_t n_found = l->n;
	struct fz_shrink_stats st;
	bool shrunk = false;
	if (o->shrink) {
		double s0 = now_s();
		int rc = fz_shrink(&o->ro, &iso, l, fail, &st);
		if (rc) {
			fprintf(stderr, "iommusim fuzz: shrinking failed (%s); writing the "
				"sequence as found\n", strerror(-rc));
		} else {
			shrunk = true;
			printf("iommusim fuzz: shrunk %zu -> %zu events in %.2f s (%" PRIu64
			       " replays)\n", n_found, l->n, now_s() - s0, st.tests);
		}
	}
	return write_repro(o, &iso, l, found->seq, fail, n_found, shrunk ? &st : NULL);
}

/* ---- all cores: worker processes ------------------------------------------------------- */

/* The seed of worker w: worker 0 fuzzes the seed itself, so -j N finds
 * what -j 1 finds among its sequences. */
static uint64_t worker_seed(uint64_t seed, unsigned w)
{
	if (!w)
		return seed;
	struct fz_rng r = {.s = seed ^ (0x6a09e667f3bcc909ull * w)};
	return fz_next(&r);
}

/* A worker's corner of the shared block: its counters while it runs, then
 * its result, and its failing sequence (cap events follow). */
struct wslot {
	volatile uint64_t ops, seqs;
	struct fz_cover cover; /* after its last sequence (for the progress line) */
	volatile int done;
	int ret;
	uint64_t seed;
	struct loop_state found;
	size_t n;
};

static size_t wslot_size(size_t cap)
{
	size_t s = sizeof(struct wslot) + cap * sizeof(struct ims_event);
	return (s + 63) & ~(size_t)63;
}

static struct ims_event *wslot_events(struct wslot *w)
{
	return (struct ims_event *)(w + 1);
}

static int worker_main(const struct fuzz_opts *o, unsigned w, uint64_t max_ops, struct wslot *ws,
		       size_t cap)
{
	struct fuzz_opts ow = *o;
	ow.seed = ws->seed;
	ow.max_ops = max_ops;
	ow.shared_ops = &ws->ops;
	ow.shared_seqs = &ws->seqs;
	ow.shared_cover = &ws->cover;
	struct fz_list l = {0};
	struct loop_state found;
	int ret = fuzz_find(&ow, &l, &found);
	ws->found = found;
	ws->found.l = (struct fz_list){0};
	ws->n = 0;
	if (ret == 1 && l.n > cap) {
		fprintf(stderr, "iommusim fuzz: internal error: worker %u's failing sequence has %zu "
			"events, more than the %zu it can hand on\n", w, l.n, cap);
		ret = 2;
	} else if (ret == 1) {
		memcpy(wslot_events(ws), l.ev, l.n * sizeof(*l.ev));
		ws->n = l.n;
	}
	fz_list_free(&l);
	ws->ret = ret;
	__atomic_store_n(&ws->done, 1, __ATOMIC_RELEASE);
	return ret;
}

static double progress_sum(struct wslot **ws, unsigned n, uint64_t *seqs, struct fz_cover *cv)
{
	uint64_t ops = 0, sq = 0;
	memset(cv, 0, sizeof(*cv));
	for (unsigned i = 0; i < n; i++) {
		ops += ws[i]->ops;
		sq += ws[i]->seqs;
		struct fz_cover c = ws[i]->cover; /* a snapshot: it may be mid-update */
		fz_cover_add(cv, &c);
	}
	*seqs = sq;
	return (double)ops;
}

static int fuzz_parallel(const struct fuzz_opts *o)
{
	unsigned n = o->jobs;
	if (o->max_ops && o->max_ops < n)
		n = (unsigned)o->max_ops;
	/* A sequence's random ops, its set-up and a tear-down unmap per map
	 * still live: twice the length and more, at most. */
	size_t cap = 2 * (size_t)o->max_len + 1024;
	size_t one = wslot_size(cap), size = one * n;
	unsigned char *blk = iso_shared_new(size);
	pid_t *pid = calloc(n, sizeof(*pid));
	struct wslot **ws = calloc(n, sizeof(*ws));
	if (!blk || !pid || !ws) {
		fprintf(stderr, "iommusim fuzz: out of memory\n");
		if (blk)
			iso_shared_free(blk, size);
		free(pid);
		free(ws);
		return 2;
	}
	fflush(stdout);
	fflush(stderr);
	/* The workers' results come through waitpid: an ignored SIGCHLD
	 * (inherited across exec) would reap them unseen. */
	signal(SIGCHLD, SIG_DFL);
	double t0 = now_s();
	int ret = 0;
	unsigned started = 0;
	pid_t parent = getpid();
	for (unsigned w = 0; w < n; w++) {
		ws[w] = (struct wslot *)(blk + one * w);
		ws[w]->seed = worker_seed(o->seed, w);
		uint64_t share = o->max_ops ? o->max_ops / n + (w < o->max_ops % n) : 0;
		pid[w] = fork();
		if (pid[w] < 0) {
			fprintf(stderr, "iommusim fuzz: cannot start worker %u: %s\n", w,
				strerror(errno));
			ret = 2;
			for (unsigned k = 0; k < started; k++)
				kill(-pid[k], SIGKILL);
			break;
		}
		if (!pid[w]) {
			/* Its own process group: a stop takes its isolated children
			 * too. Out of the terminal's group, ^C reaches only the
			 * parent: the worker goes when the parent does. */
			setpgid(0, 0);
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(2);
			_exit(worker_main(o, w, share, ws[w], cap));
		}
		setpgid(pid[w], pid[w]);
		started++;
	}
	bool tty = isatty(STDERR_FILENO);
	bool progress = !o->quiet && o->verbosity >= 1 &&
			(o->progress || o->verbosity >= 2 || progress_wanted(o->verbosity));
	double last_progress = t0;
	unsigned left = started;
	int winner = -1;
	bool stopping = ret != 0;
	while (left) {
		int st;
		pid_t p = waitpid(-1, &st, stopping ? 0 : WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			/* No child to wait for (reaped elsewhere): the slots say
			 * what each worker found. */
			for (unsigned w = 0; w < started; w++) {
				if (pid[w] <= 0)
					continue;
				pid[w] = 0;
				left--;
				int r = ws[w]->done ? ws[w]->ret : 2;
				if (r == 1 && winner < 0 && !stopping)
					winner = (int)w;
				else if (r == 2 && !stopping)
					ret = 2;
			}
			break;
		}
		if (p > 0) {
			unsigned w = 0;
			while (w < started && pid[w] != p)
				w++;
			if (w == started)
				continue;
			pid[w] = 0;
			left--;
			(void)st;
			int r = ws[w]->done ? ws[w]->ret : 2; /* no result: it did not finish */
			if (!ws[w]->done && !stopping)
				fprintf(stderr, "iommusim fuzz: internal error: worker %u (fuzz seed %" PRIu64
					") ended without a result\n", w, ws[w]->seed);
			if (r == 1 && winner < 0 && !stopping)
				winner = (int)w;
			if (r == 2 && !stopping)
				ret = 2;
			if ((winner >= 0 || ret) && !stopping) {
				stopping = true;
				for (unsigned k = 0; k < started; k++)
					if (pid[k] > 0)
						kill(-pid[k], SIGKILL);
			}
			continue;
		}
		struct timespec d = {0, 50 * 1000 * 1000};
		nanosleep(&d, NULL);
		double t = now_s();
		if (progress && t - last_progress >= 1.0) {
			last_progress = t;
			uint64_t seqs;
			struct fz_cover cv;
			double ops = progress_sum(ws, started, &seqs, &cv);
			char cs[256];
			fz_cover_short(&cv, cs, sizeof(cs));
			fprintf(stderr, "%siommusim fuzz: %.0f ops, %" PRIu64 " sequences, %.0f ops/s, "
				"%u workers; %s%s", tty ? "\r" : "", ops, seqs, ops / (t - t0), started,
				cs, tty ? "  " : "\n");
		}
	}
	if (progress && tty)
		fputc('\n', stderr);
	uint64_t seqs;
	struct fz_cover cv;
	double ops = progress_sum(ws, started, &seqs, &cv), t = now_s() - t0;
	if (o->sum) {
		o->sum->ops = (uint64_t)ops;
		o->sum->seqs = seqs;
		o->sum->secs = t;
		o->sum->workers = started;
	}
	if (winner >= 0 && o->quiet) {
		ret = 1;
	} else if (winner >= 0) {
		struct wslot *w = ws[winner];
		printf("iommusim fuzz: worker %d of %u found it, fuzz seed %" PRIu64 " (reproduce with "
		       "-j 1 --fuzz-seed %" PRIu64 "); %.0f ops in all workers\n", winner, started,
		       w->seed, w->seed, ops);
		struct fuzz_opts ow = *o;
		ow.seed = w->seed;
		struct fz_list l = {0};
		for (size_t i = 0; i < w->n && !ret; i++)
			if (fz_list_push(&l, &wslot_events(w)[i]))
				ret = 2;
		if (!ret)
			ret = fuzz_report(&ow, &l, &w->found);
		fz_list_free(&l);
	} else if (!ret && !o->quiet && o->verbosity >= 1) {
		char a[32], b[32], c[32], d[32];
		printf("iommusim fuzz: no failure in %s ops (%s sequences, %s, %s ops/s), format %s, "
		       "fuzz seed %" PRIu64 ", walker %s, %u workers\n",
		       human_count((uint64_t)ops, a, sizeof(a)), human_count(seqs, b, sizeof(b)),
		       human_seconds(t, c, sizeof(c)), human_count(t > 0 ? (uint64_t)(ops / t) : 0, d, sizeof(d)),
		       o->fmt_name, o->seed, walker_name(&o->wc), started);
		fz_cover_print(stdout, "iommusim fuzz: ", &cv, ws[0]->found.geos, ws[0]->found.ngeos);
	}
	iso_shared_free(blk, size);
	free(pid);
	free(ws);
	return ret;
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
	fprintf(f, ",\"result\":\"%s\",\"exit\":%d}\n",
		ret == 2 ? "error" : ret ? "fail" : "pass", ret);
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
	double t0 = now_s(), c0 = cpu_s();
	int ret;
	if (o.jobs > 1) {
		ret = fuzz_parallel(&o);
	} else {
		struct fz_list l = {0};
		struct loop_state found;
		ret = fuzz_find(&o, &l, &found);
		fz_list_free(&l);
	}
	*secs = now_s() - t0;
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
	o.formats = (1u << IMS_FMT_COUNT) - 1;
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
	int ret = fuzz(&o);
	if (json) {
		write_json(jf.f, &o, &sum, ret);
		if (outfile_commit(&jf))
			ret = 2;
	}
	walker_fini(&o.wc);
	return ret;
}
