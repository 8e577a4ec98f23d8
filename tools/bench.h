/* `iommusim bench`: shared pieces of the benchmark sections
 * (tools/bench_common.c), and the sections as the command (tools/bench.c)
 * calls them.
 *
 * Every figure is timed N times next to a floor measured in the same run
 * (docs/benchmarks.md), because the machine is shared and its speed moves:
 * ratios to the floor travel between runs and machines, absolute rates do
 * not. Each timing keeps the best and the median of its N runs.
 */
#ifndef IMS_TOOLS_BENCH_H
#define IMS_TOOLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ims_walker_ops;
struct ims_mem;
struct ims_oracle;
struct ims_pt;

/* Walkers timed beside the fast one on every harvest row (--walker,
 * --walker-plugin, --peers), at most this many. */
#define BENCH_MAX_WALKERS 16

enum bench_size { BENCH_TINY = 0, BENCH_QUICK, BENCH_FULL };

struct bench_opts {
	enum bench_size size;
	unsigned repeat; /* timed runs per figure */
	bool verbose;
	bool quiet; /* -q: no progress at all */
	bool progress; /* the figure being measured on a terminal's status line */
	unsigned sections; /* bit per enum bench_section */
	const char *tmpdir;
	const char *match; /* harvest "format layout", replay "format trace" holding it; NULL = all */
	bool no_peer;      /* skip the per-page re-walk */
	uint64_t dirty_ppm; /* one dirty fraction for every layout (parts per million); 0 = the set */
	/* --walker / --walker-plugin / --peers: the walkers timed beside the
	 * fast one on every harvest row they handle, each on the same table
	 * (harvest level) or on a second domain of its own tables (full
	 * level), in the order given. */
	const struct ims_walker_ops *walkers[BENCH_MAX_WALKERS];
	const char *walker_paths[BENCH_MAX_WALKERS]; /* its shared object; NULL: built in */
	unsigned nwalkers;
};

enum bench_section { SEC_HARVEST = 0, SEC_REPLAY, SEC_READ, SEC_MEMORY, SEC_FUZZ, SEC_COUNT };

/* Best and median of the runs of one timing, in seconds. */
struct timing {
	double best, median;
	unsigned runs;
};

/* Collects up to 64 run times and summarises them. */
struct timer_runs {
	double t[64];
	unsigned n;
};

void runs_add(struct timer_runs *r, double seconds);
struct timing runs_summary(const struct timer_runs *r);
double now_seconds(void);
/* CLOCK_MONOTONIC, for the short figures (struct figclock). */
double wall_seconds(void);
/* wall_seconds() if wall, else now_seconds(). */
double bench_seconds(bool wall);

/* How a harvest figure is timed, chosen from its first (warm-up) run: a
 * figure shorter than BENCH_SHORT_S is timed by the wall clock over
 * BENCH_SHORT_FACTOR times --repeat runs (at most 64); any other by CPU
 * time over --repeat runs. Its floor, and the other walkers on its row, are
 * timed the same way. */
#define BENCH_SHORT_S 2e-3
#define BENCH_SHORT_FACTOR 10
struct figclock {
	bool wall;
	unsigned runs;
};
struct figclock bench_figclock(const struct bench_opts *o, double first_run_s);

/* ---- results ------------------------------------------------------------ */

/* One walker of o->walkers on one harvest figure. t.runs 0 and not failed:
 * not timed (it does not handle the format). A full-level walker's floor
 * is measured over its own tables (a second domain), with its plan's
 * counts; a harvest-level one shares the row's. */
struct walker_fig {
	struct timing t, floor;
	uint64_t read_words, write_words, tables;
	bool failed; /* it erred or its bitmap differed: no figure */
};

/* One harvest figure: a domain, a dirty fraction, the fast walker and its
 * floor (tools/bench_floor.c: the table words a correct walk must read and
 * the bitmap words it must write, over this domain's tables), the per-page
 * re-walk peer (peer.runs 0 = not measured) and the walkers asked for. */
struct harvest_row {
	char format[16];    /* amdv1, vtd, smmuv3-4k, smmuv3-16k, smmuv3-64k, ... */
	char layout[16];    /* dense, 2M, 1G, sparse */
	uint64_t range;     /* bytes harvested (the bitmap covers them at 4 KiB) */
	uint64_t mapped;    /* bytes mapped inside the range */
	uint64_t page;      /* bytes per leaf page */
	double dirty_pct;   /* of the leaf pages */
	uint64_t entries;   /* leaf entries one harvest examines (harvest_entries) */
	uint64_t dirty_pages;
	/* The floor's work: table words read (every entry of every table in
	 * the range, the upper levels included), tables they lie in, bitmap
	 * words written (those covering the dirty pages). */
	uint64_t read_words, tables, write_words;
	struct timing t, floor, peer;
	bool wall;             /* t, floor and w[] by the wall clock (struct figclock) */
	uint64_t peer_entries; /* leaf entries the re-walk examined */
	bool verified;         /* bitmap == what the oracle says devices wrote */
	struct walker_fig w[BENCH_MAX_WALKERS]; /* by o->walkers index */
};

/* One replay figure. */
struct replay_row {
	char name[24];   /* hit-heavy, walk-heavy */
	char path[16];   /* replay (ims_replay_event), model (ims_iommu_access) */
	char format[16];
	uint64_t pages;  /* DMA pages per timed run */
	uint64_t span;   /* bytes the pages are drawn from */
	struct timing t, floor;
	/* Walk-heavy: the walk floor (bench_replay_floor.c, replay_floor_walk), the
	 * work a walk must do and nothing else (runs 0: not measured). */
	struct timing walk_floor;
	double target;   /* pages/s the issue asks for, 0 = none */
	uint64_t iotlb_hits, walks;
	/* Path replay: its time over the model alone's on the same pages,
	 * best and median (0 = none). */
	double x_model, x_model_median;
	/* Seconds of a fixed loop (bench_replay.c, host_probe) beside the fastest run
	 * (the faster of the loops just before and just after it), and the
	 * section's fastest such loop over it: below about 0.85 the host ran
	 * that run on a slower or shared core (0 = not measured). */
	double host_probe, host_speed;
};
/* Below this host speed a replay figure is flagged as measured on a slow
 * or shared core. */
#define BENCH_HOST_SLOW 0.85

/* One trace-reading figure. */
struct read_row {
	char form[24];      /* text, text.gz, binary */
	bool available;
	char why[512];      /* when not available, or what failed */
	uint64_t events, bytes;
	struct timing t, floor;
	char floor_what[48];
};

/* One memory figure: a domain mapped at 4 KiB. */
struct mem_row {
	char format[16];
	uint64_t mapped;
	uint64_t table_bytes;  /* raw page-table bytes: table frames x 4 KiB */
	uint64_t leaf_bytes;   /* 8 bytes per leaf entry: 2 MiB per GiB at 4 KiB */
	uint64_t footprint;    /* ims_mem_footprint after mapping */
	uint64_t rss;          /* resident growth of a fresh process (0 = unknown) */
};

/* One fuzzing figure: `iommusim fuzz` with the reference walker on one
 * format, one worker, then every core (the scaling is the ratio of the
 * two rates, measured in the same run). */
struct fuzz_row {
	char format[16];
	uint64_t ops;        /* per timed run, one worker */
	struct timing t;     /* one worker, CPU time (as every single-threaded figure) */
	struct timing t_wall; /* the same runs, wall-clock (the scaling's base) */
	unsigned jobs;       /* workers of the second figure (0: one core only) */
	uint64_t ops_all;    /* per timed run, all workers */
	struct timing t_all; /* every core */
	double target;       /* ops/s one core should reach */
};

struct bench_results {
	struct harvest_row *h;
	size_t nh, caph;
	struct replay_row *rp;
	size_t nrp, caprp;
	struct read_row *rd;
	size_t nrd, caprd;
	struct mem_row *m;
	size_t nm, capm;
	struct fuzz_row *fz;
	size_t nfz, capfz;
	/* Context for walk-heavy replay: ns per dependent load chasing
	 * pointers through an array as large as its leaf tables (0 = not
	 * measured). */
	double mem_latency_ns;
	uint64_t mem_latency_bytes;
	/* The same array with mem_mlp_chains independent chases in flight:
	 * ns per load, what memory-level parallelism allows (0 = not
	 * measured). */
	double mem_mlp_ns;
	unsigned mem_mlp_chains;
	/* Memory fit: resident bytes per GiB and fixed overhead. */
	double mem_per_gib, mem_fixed, mem_ratio;
	double fp_per_gib, fp_ratio;
};

struct harvest_row *res_add_harvest(struct bench_results *r);
struct replay_row *res_add_replay(struct bench_results *r);
struct read_row *res_add_read(struct bench_results *r);
struct mem_row *res_add_mem(struct bench_results *r);
struct fuzz_row *res_add_fuzz(struct bench_results *r);
void res_free(struct bench_results *r);

/* ---- floors ------------------------------------------------------------- */

/* Sequential read of n 64-bit words from a flat array (grown on demand). */
struct floor_buf {
	uint64_t *w;
	size_t n;
};
double floor_seq_read(struct floor_buf *fb, uint64_t n);
void floor_free(struct floor_buf *fb);

/* The pages of a replay figure: iova[i] and its direction dir[i]
 * (IMS_ACC_R or IMS_ACC_W), n of them. */
struct replay_seq {
	uint64_t *iova;
	uint8_t *dir;
	size_t n;
};
/* The replay figures' floors (tools/bench_replay_floor.c), each the seconds
 * of one run over the pages of s (0: could not allocate): a look-up per
 * page in a 2048-entry direct-mapped table (hit-heavy); a load per page of
 * its leaf entry from fb, grown to the span's leaf entries (walk-heavy);
 * the walk floor over the same leaf entries (walk-heavy, after
 * replay_floor_leaf). */
double replay_floor_hit(const struct replay_seq *s);
double replay_floor_leaf(const struct replay_seq *s, uint64_t span, struct floor_buf *fb);
double replay_floor_walk(const struct replay_seq *s, uint64_t span, struct floor_buf *fb);

/* The harvest floor of a domain's range (tools/bench_floor.c): the table
 * words a correct walk must read, as stretches of host memory in the order
 * a depth-first walk reads them (word_end: the bitmap words below it are
 * due once the stretch is read; 0 for none), and the bitmap words covering
 * the dirty pages, as runs of words from the range's first. */
struct floor_seg {
	const uint64_t *p;
	uint64_t n, word_end;
};
struct floor_run {
	uint64_t w0, n;
};
struct floor_plan {
	struct floor_seg *seg;
	size_t nseg, capseg;
	struct floor_run *run;
	size_t nrun, caprun;
	uint64_t read_words, write_words, tables;
};
/* The plan of pt's tables (found by the format's hardware rules from its
 * context words) over [iova, iova + size), and of the pages oracle o holds
 * for domain tag there. The plan points into mem: it holds while no table
 * is freed. 0, or -errno with err set when a table frame is missing. */
int floor_plan_build(struct floor_plan *fp, struct ims_mem *mem, const struct ims_pt *pt,
		     const struct ims_oracle *o, uint16_t tag, uint64_t iova, uint64_t size,
		     char *err, size_t errlen);
/* One timed pass: the reads, and all-ones stores into bm (a bitmap over
 * the range, its words faulted in already). Seconds. */
double floor_plan_time(const struct floor_plan *fp, uint64_t *bm, bool wall);
void floor_plan_free(struct floor_plan *fp);

/* ---- sections ----------------------------------------------------------- */

/* Each returns 0, or -1 after printing why (a set-up failure, a harvest that
 * disagreed with the oracle). */
int bench_harvest(const struct bench_opts *o, struct bench_results *r);
int bench_memory(const struct bench_opts *o, struct bench_results *r);
int bench_replay(const struct bench_opts *o, struct bench_results *r);
int bench_read(const struct bench_opts *o, struct bench_results *r);
int bench_fuzz(const struct bench_opts *o, struct bench_results *r);
/* Whether walker w can be timed by bench_harvest: it handles one of the
 * formats it times. -1 after printing why not (a usage error). */
int bench_walker_check(const struct ims_walker_ops *w);
/* Whether w handles a format bench_harvest times (no message). */
bool bench_walker_fits(const struct ims_walker_ops *w);

/* The walkers of o->walkers (tools/bench_walkers.c): a built-in one by
 * name, a shared object (kept loaded in pl until bench_plugins_free), and
 * --peers: the reference walker and the Linux walkers of dir (NULL: the
 * directory `linux` beside the executable). A walker whose name is there
 * already is not added again. 0, or -1 after a message (a usage error). */
struct ims_walker_plugin;
struct bench_plugins {
	struct ims_walker_plugin *p[BENCH_MAX_WALKERS];
	unsigned n;
};
int bench_add_builtin(struct bench_opts *o, const char *name);
int bench_add_plugin(struct bench_opts *o, struct bench_plugins *pl, const char *path);
int bench_add_peers(struct bench_opts *o, struct bench_plugins *pl, const char *dir);
void bench_plugins_free(struct bench_plugins *pl);

/* Human-readable sizes: "64G", "1T", "4K". */
const char *bench_size_str(uint64_t bytes, char *buf, size_t n);

/* What is being measured: a line on stderr under --verbose, else the
 * status line of a terminal (o->progress). */
void bench_note(const struct bench_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* SIGINT or SIGTERM stops the run after the figure being measured (a
 * second one ends the process): bench_catch_interrupt asks for it, the
 * sections stop starting figures once bench_interrupted says so, and the
 * command writes what was measured, marked partial, and exits 128 + the
 * signal's number (130 for ^C). */
void bench_catch_interrupt(void);
bool bench_interrupted(void);

#endif
