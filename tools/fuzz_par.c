/* iommusim fuzz -j N: worker processes, each fuzzing its own seed and
 * share of --ops; the first failure stops the others and is reported once
 * (tools/fuzz_cmd.h). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/fuzz_cmd.h"

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

int fuzz_parallel(const struct fuzz_opts *o)
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
	double t0 = fz_now();
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
	int sig = 0;
	while (left) {
		/* Asked to stop (SIGINT, SIGTERM): the workers, in process groups of
		 * their own, are told the same way; each ends after its op and
		 * leaves its counts, which the summary adds up. Not in bench's
		 * measurement (quiet), which runs to its end. */
		if (!stopping && !o->quiet && interrupt_caught()) {
			sig = interrupt_caught();
			stopping = true;
			for (unsigned k = 0; k < started; k++)
				if (pid[k] > 0)
					kill(-pid[k], sig);
		}
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
		double t = fz_now();
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
	double ops = progress_sum(ws, started, &seqs, &cv), t = fz_now() - t0;
	if (o->sum) {
		o->sum->ops = (uint64_t)ops;
		o->sum->seqs = seqs;
		o->sum->secs = t;
		o->sum->workers = started;
		o->sum->cover = cv;
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
	} else if (!ret && !o->quiet && (o->verbosity >= 1 || sig)) {
		fz_print_summary(o, (uint64_t)ops, seqs, t, started, sig);
		fz_cover_print(stdout, "iommusim fuzz: ", &cv, ws[0]->found.geos, ws[0]->found.ngeos);
	}
	iso_shared_free(blk, size);
	free(pid);
	free(ws);
	return ret;
}

