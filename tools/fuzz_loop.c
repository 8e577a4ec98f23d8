/* iommusim fuzz: the loop that draws and runs sequences (in a child when
 * isolated), and the report of a failure it found: shrunk, written as a
 * reproducer and checked (tools/fuzz_cmd.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iommusim/model.h"
#include "tools/fuzz_cmd.h"

double fz_now(void)
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
	snprintf(found, sizeof(found), "iommusim fuzz --format %s%s --fuzz-seed %" PRIu64 " -j 1%s%s: "
		 "sequence %" PRIu64, o->fmt_name, o->nested ? " --nested" : "", o->seed,
		 args[0] ? " " : "", args, seq);
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

/* SIGINT or SIGTERM came (to this process, or to the parent of an
 * isolated loop). Not for bench's measurement (quiet), which runs to its
 * end: bench stops after the figure being measured. */
static bool stop_asked(const struct fuzz_opts *o, const struct loop_state *ls)
{
	return !o->quiet && (interrupt_caught() || ls->st.stop);
}

static int fuzz_loop(const struct fuzz_opts *o, struct loop_state *ls)
{
	ls->phase = PH_SETUP;
	struct fz_geo *geos = NULL;
	size_t ngeos = 0;
	/* --nested: the format's pairs, both formats of each. */
	unsigned formats = o->formats;
	if (o->nested)
		for (int f = 0; f < IMS_FMT_COUNT; f++)
			if ((o->formats >> f) & 1) {
				int s1 = ims_format_nest_s1((enum ims_format)f);
				int s2 = ims_format_nest_s2((enum ims_format)f);
				formats |= (s1 >= 0 ? 1u << s1 : 0) | (s2 >= 0 ? 1u << s2 : 0);
			}
	int rc = fz_geos_probe(&o->ro, formats, o->smmu_gshift, &geos, &ngeos, stderr);
	if (rc) {
		fprintf(stderr, "iommusim fuzz: no domain geometry of %s is usable in this build\n",
			o->fmt_name);
		return 2;
	}
	/* Nested sequences write no table corruption: the replayer allocates
	 * the parent's tables for the nested domain's frames between theirs,
	 * where the generator's shadow tables cannot follow. */
	struct fz_gen_cfg gc = {formats, geos, ngeos, o->max_len, &ls->cover,
				o->nested ? 0 : fz_corrupt_pct(&o->ro), o->nested};
	ls->ngeos = ngeos < 64 ? ngeos : 64;
	memcpy(ls->geos, geos, ls->ngeos * sizeof(*geos));
	struct fz_list *l = &ls->l;
	double t0 = fz_now(), last_progress = t0;
	uint64_t ops = 0, seqs = 0;
	int ret = 0;
	bool tty = isatty(STDERR_FILENO);
	/* By default on a terminal (not when standard output is the JSON). */
	bool progress = !o->shared_ops && !o->quiet && o->verbosity >= 1 &&
			(o->progress || o->verbosity >= 2 || progress_wanted(o->verbosity));
	for (uint64_t k = 0;; k++) {
		if ((o->max_ops && ops >= o->max_ops) || (o->max_time > 0 && fz_now() - t0 >= o->max_time))
			break;
		/* Asked to stop (SIGINT, SIGTERM): the summary says how far it came. */
		if (stop_asked(o, ls))
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
		fz_gen_live(g, ims_replay_iommu(run.r), ims_replay_mem(run.r));
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
				double t = fz_now();
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
			if ((o->max_ops && ops >= o->max_ops) || stop_asked(o, ls)) {
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
			ls->secs = fz_now() - t0;
			ret = 1;
			break;
		}
		if (stop)
			break;
	}
	if (progress && tty)
		fputc('\n', stderr);
	if (!ret)
		ls->secs = fz_now() - t0;
	int sig = !stop_asked(o, ls) ? 0 : interrupt_caught() ? interrupt_caught() : ls->st.stop;
	if (!ret && !o->shared_ops && !o->quiet && (o->verbosity >= 1 || sig)) {
		fz_print_summary(o, ops, seqs, fz_now() - t0, 0, sig);
		fz_cover_print(stdout, "iommusim fuzz: ", &ls->cover, ls->geos, ls->ngeos);
	}
	free(geos);
	return ret;
}

void fz_print_summary(const struct fuzz_opts *o, uint64_t ops, uint64_t seqs, double secs,
		      unsigned workers, int sig)
{
	char a[32], b[32], c[32], d[32], w[32] = "", head[64] = "no failure in";
	if (sig)
		snprintf(head, sizeof(head), "interrupted by %s after", interrupt_name(sig));
	if (workers)
		snprintf(w, sizeof(w), ", %u workers", workers);
	printf("iommusim fuzz: %s %s ops (%s sequences, %s, %s ops/s), %sformat %s, fuzz seed "
	       "%" PRIu64 ", walker %s%s\n",
	       head, human_count(ops, a, sizeof(a)), human_count(seqs, b, sizeof(b)),
	       human_seconds(secs, c, sizeof(c)),
	       human_count(secs > 0 ? (uint64_t)((double)ops / secs) : 0, d, sizeof(d)),
	       sig ? "no failure found, " : "", o->fmt_name, o->seed, walker_name(&o->wc), w);
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
	double t0 = fz_now();
	struct fz_fail f;
	int rc = fz_replay(&o->ro, &o->iso, &pre, 1, "calibrate", 0, &f);
	double t = fz_now() - t0;
	fz_list_free(&pre);
	if (rc == 1 && f.first == FZ_F_HANG)
		return o->iso.timeout;
	double lim = 0.25 + 10 * t;
	return lim < o->iso.timeout ? lim : o->iso.timeout;
}

/* Runs the loop (in a child when isolated) until a failure or the budget's
 * end: 0, 1 (a failure: the sequence in *l, what it was in *found) or 2. */
int fuzz_find(const struct fuzz_opts *o, struct fz_list *l, struct loop_state *found)
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
int fuzz_report(const struct fuzz_opts *o, struct fz_list *l, const struct loop_state *found)
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
	if (o->shrink && interrupt_caught()) {
		printf("iommusim fuzz: interrupted: not shrinking; writing the sequence as found\n");
	} else if (o->shrink) {
		double s0 = fz_now();
		int rc = fz_shrink(&o->ro, &iso, l, fail, &st);
		if (rc) {
			fprintf(stderr, "iommusim fuzz: shrinking failed (%s); writing the "
				"sequence as found\n", strerror(-rc));
		} else {
			shrunk = true;
			printf("iommusim fuzz: shrunk %zu -> %zu events in %.2f s (%" PRIu64
			       " replays)%s\n", n_found, l->n, fz_now() - s0, st.tests,
			       interrupt_caught() ? "; interrupted: shrunk so far" : "");
		}
	}
	return write_repro(o, &iso, l, found->seq, fail, n_found, shrunk ? &st : NULL);
}

