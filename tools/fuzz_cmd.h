/* The fuzz command's own pieces: tools/fuzz.c (options, --json, bench's
 * rate), tools/fuzz_loop.c (the loop, the report of a failure) and
 * tools/fuzz_par.c (-j N worker processes). */
#ifndef IMS_TOOLS_FUZZ_CMD_H
#define IMS_TOOLS_FUZZ_CMD_H

#include "tools/cmd.h"
#include "tools/fuzz.h"

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
	struct fz_cover cover; /* what the sequences exercised (all workers) */
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
	bool nested; /* --nested: every sequence a nesting pair */
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

/* tools/fuzz_loop.c. Seconds on a monotonic clock. */
double fz_now(void);
/* Runs the loop (in a child when isolated) until a failure or the budget's
 * end: 0, 1 (a failure: the sequence in *l, what it was in *found) or 2. */
int fuzz_find(const struct fuzz_opts *o, struct fz_list *l, struct loop_state *found);
/* A failure found: said, shrunk, written as a reproducer that is checked
 * to fail the same way. Returns the command's exit status. */
int fuzz_report(const struct fuzz_opts *o, struct fz_list *l, const struct loop_state *found);
/* The line a run ends with when it found nothing: "no failure in N ops
 * (...)", or with sig (SIGINT, SIGTERM) "interrupted by SIG after N ops
 * (...)"; workers: ", W workers" (0: one process). */
void fz_print_summary(const struct fuzz_opts *o, uint64_t ops, uint64_t seqs, double secs,
		      unsigned workers, int sig);
/* fuzz -j N (tools/fuzz_par.c): N worker processes, the first failure
 * reported; the command's exit status. */
int fuzz_parallel(const struct fuzz_opts *o);

#endif
