/* iommusim replay, one concern a file: the command and its options
 * (replay_cmd.c); the options a trace carries in its `# replay-args:`
 * header line (replay_args.c); replaying the traces, in this process or in
 * worker processes (replay_run.c); the per-trace records, written and read
 * back (replay_record.c); the summary over all traces and the merge of
 * --json-lines files (replay_merge.c).
 *
 * Every trace ends as one record, a JSON object on one line:
 *   {"file":F,"status":0|1|2,"result":"pass"|"fail"|"bad input",
 *    "summary":{...}|null,"walker":W[,"error":E,"line":N][,"failure":M]
 *    [,"failures":[...],"failures_omitted":N,"harvests":[...],
 *    "harvests_omitted":N]}
 * the element of --json's "traces" array and the line of --json-lines.
 * The summary over traces is computed from the records alone, so a merge
 * of --json-lines files gives what one run over all their traces gives.
 */
#ifndef IMS_TOOLS_REPLAY_H
#define IMS_TOOLS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "iommusim/replay.h"
#include "tools/cmd.h"
#include "tools/stats.h"

/* A model option of the command line, kept to be applied again over a
 * trace's own (the command line wins, key by key). */
struct rp_model_arg {
	int opt;
	char *arg; /* NULL for a flag */
};

/* What the command line chose; a trace's header fills in what it left. */
struct rp_cmdline {
	struct ims_replay_opts o;  /* o.model: defaults + the command line's model options */
	struct ims_iommu_cfg base; /* the defaults alone */
	struct rp_model_arg *model;
	size_t nmodel;
	struct walker_choice *wc;
	bool walker_set; /* --walker or --walker-plugin given */
	int isolate;     /* --isolate 1, --no-isolate 0, neither -1 */
	bool timeout_set;
	double timeout;
	bool strict_faults; /* --strict-faults */
};

/* Plug-ins the traces' headers named, loaded once each (by path). */
struct rp_plugin {
	char *path;
	struct ims_walker_plugin *p;
};
struct rp_plugins {
	struct rp_plugin *v;
	size_t n;
};
void rp_plugins_free(struct rp_plugins *pl);

/* The options one trace replays with. */
struct rp_trace_opts {
	struct ims_iommu_cfg model;
	unsigned walker;
	const struct ims_walker_ops *plugin; /* NULL: the built-in `walker` */
	const char *walker_name;
	bool isolate;   /* a crash or hang of its walker fails the trace */
	double timeout; /* with isolate: seconds without progress that are a hang */
};

/* The options of trace `path`: the command line's, and where it set
 * nothing, its header's. 0, or -1 with "FILE:LINE:COL: replay-args: why"
 * in err (an input error of the trace). */
int rp_trace_opts(const struct rp_cmdline *cl, struct rp_plugins *pl, const char *path,
		  struct rp_trace_opts *out, char *err, size_t len);
/* Whether the header of `path` asks for isolation the command line left
 * open (a plug-in walker, or --isolate); false when it cannot be read. */
bool rp_header_isolates(const struct rp_cmdline *cl, const char *path);

/* ---- records and the summary (replay_merge.c) ---- */

/* A record (malloc'd; NULL without memory). summary: a JSON object or
 * NULL; error: an input error's message ("FILE:LINE:COL: ...", whose line
 * becomes the record's "line"); failure: a crash's or hang's; detail:
 * members spliced in after them (",\"failures\":[...]...", rp_detail_json),
 * or NULL. */
char *rp_record(const char *file, int status, const char *walker, const char *summary,
		const char *error, const char *failure, const char *detail);

/* ---- a trace's failures and dirty reads, for its record (replay_detail.c) ---- */

/* Records kept per list; the rest are counted ("failures_omitted",
 * "harvests_omitted"). */
#define RP_DETAIL_MAX 1000
struct rp_detail;
/* Takes over the failure callback of rp's testbench: each failure is
 * printed to diag as the default printer does, and recorded. NULL without
 * memory. */
struct rp_detail *rp_detail_new(struct ims_replay *rp, FILE *diag);
/* Before each event of the replay (its on_event), and once at the end. */
void rp_detail_event(struct rp_detail *d, const struct ims_event *ev);
void rp_detail_end(struct rp_detail *d);
/* The members ,"failures":[{line, kind, message[, domain, iova, size,
 * page_size, expected, got (hex, null when long), expected_bits, got_bits,
 * under, over, first_diff_iova, first_under_iova, first_over_iova]}...],
 * "failures_omitted":N,"harvests":[{line, op, domain, iova, reads,
 * bits_reported, bits_expected, match}...],"harvests_omitted":N. */
void rp_detail_json(struct rp_detail *d, FILE *f);
void rp_detail_free(struct rp_detail *d);

/* A record read back: what a merge takes from it. */
struct rp_counter {
	const char *key; /* as written between its quotes, in the line */
	size_t keylen;
	uint64_t v;
};
struct rp_rec {
	char *file, *walker, *error, *failure;
	int status;
	bool have_file, have_status;
	struct rp_counter *c; /* the summary's whole-number members */
	size_t nc, ccap;
};
/* Reads line[0, n) as a record; 0, or -1 with "SRC:LINE:COL: what was
 * expected" in err. The counters point into line. */
int rp_record_read(const char *line, size_t n, const char *src, uint64_t lineno,
		   struct rp_rec *r, char *err, size_t len);
void rp_rec_free(struct rp_rec *r);

struct rp_total {
	char *key; /* as written, between its quotes */
	uint64_t sum;
	bool capped; /* the sum passed 2^64 - 1 (said once) */
};

/* Records in order, their counts and totals, and where they go. */
struct rp_agg {
	FILE *text;     /* the summary's lines */
	int verbosity;  /* as -q / -v set it */
	bool merging;   /* --merge-json-lines: a line per failed record too */
	bool keep;      /* hold the records for --json */
	char **rec;
	size_t nrec, cap;
	uint64_t n, ok, failed, bad;
	int worst;
	struct rp_total *tot;
	size_t ntot, tcap;
	char *walker; /* the walker of every record; NULL with `mixed` */
	bool mixed;
	struct outfile jl; /* --json-lines */
	bool jl_on;
	/* An output named '-' goes here when set: standard output's own
	 * descriptor, while what is printed for people goes to standard error. */
	FILE *out;
	FILE *held; /* merging: the records' lines, printed at the end */
	char *held_buf;
	size_t held_len;
};

/* --json-lines FILE ('-': standard output), opened before anything runs so
 * that a bad path costs no replay. 0 or -1 (said). */
int rp_agg_lines(struct rp_agg *a, const char *path);
/* Adds a record (taken over). src:line name it in a message when it is
 * not a record (a --merge-json-lines input). 0, or -1 with
 * "SRC:LINE:COL: what was expected" in err. */
int rp_agg_add(struct rp_agg *a, char *rec, const char *src, uint64_t line, char *err,
	       size_t len);
/* The end: counts and totals printed (verbosity >= 1, with `always` or more
 * than one record), --json written (json non-NULL), --json-lines
 * committed. The worst status, or 2 when an output failed. */
int rp_agg_finish(struct rp_agg *a, const char *json, bool always);
void rp_agg_free(struct rp_agg *a);

/* iommusim replay --merge-json-lines [--json FILE] [-q|-v] FILE... */
int rp_merge(const char *json, int verbosity, char **files, int nfiles);

/* ---- running the traces (replay_run.c) ---- */

struct rp_run {
	struct rp_cmdline *cl;
	char **traces;
	int n;
	int jobs;         /* worker processes; 1 with isolation: one */
	bool children;    /* in worker processes (-j N > 1, or isolation) */
	FILE *text;       /* per-trace lines: stdout, or stderr when stdout is JSON */
	bool progress;    /* a status line on the terminal (in this process only) */
	struct series *series;
	const char *stats_out, *plot_dir;
	struct rp_agg *agg;
};

/* Replays every trace; the records go to r->agg in the traces' order.
 * The worst status (2 also for a failed output of the series). */
int rp_run(struct rp_run *r);

#endif
