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
	/* --walker / --walker-plugin: a walker timed beside the fast one on
	 * every harvest row it handles, on the same table (harvest level) or
	 * on a second domain of its own tables (full level); NULL = none. */
	const struct ims_walker_ops *walker;
	const char *walker_path; /* its shared object; NULL for a built-in */
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

/* ---- results ------------------------------------------------------------ */

/* One harvest figure: a domain, a dirty fraction, the correct walker and
 * its floor, and the per-page re-walk peer (peer.runs 0 = not measured). */
struct harvest_row {
	char format[16];    /* amdv1, vtd, smmuv3-4k, smmuv3-16k, smmuv3-64k */
	char layout[16];    /* dense, 2M, 1G, sparse */
	uint64_t range;     /* bytes harvested (the bitmap covers them at 4 KiB) */
	uint64_t mapped;    /* bytes mapped inside the range */
	uint64_t page;      /* bytes per leaf page */
	double dirty_pct;   /* of the leaf pages */
	uint64_t entries;   /* leaf entries one harvest examines (harvest_entries) */
	uint64_t dirty_pages;
	uint64_t out_words; /* bitmap words the dirty pages cover */
	/* floor: the read floor; floor_out: writing out_words words in a row,
	 * the least a harvest must do to report its bits (it dominates for
	 * large leaves: a dirty 1 GiB page is 4096 bitmap words). */
	struct timing t, floor, floor_out, peer;
	uint64_t peer_entries; /* leaf entries the re-walk examined */
	bool verified;         /* bitmap == what the oracle says devices wrote */
	/* The walker under test on the same table (walker.runs 0 = not timed:
	 * none chosen, or it does not handle the format); failed: it erred or
	 * its bitmap differed, so it has no figure. */
	struct timing walker;
	bool walker_failed;
	/* A full-level walker runs on tables of its own (a second domain with
	 * the same layout and device writes): the floors measured over them
	 * in the same runs, and the leaf entries they hold in the range. */
	struct timing walker_floor, walker_floor_out;
	uint64_t walker_entries;
};

/* One replay figure. */
struct replay_row {
	char name[24];   /* hit-heavy, walk-heavy */
	char path[16];   /* replay (ims_replay_event), model (ims_iommu_access) */
	char format[16];
	uint64_t pages;  /* DMA pages per timed run */
	uint64_t span;   /* bytes the pages are drawn from */
	struct timing t, floor;
	double target;   /* pages/s the issue asks for, 0 = none */
	uint64_t iotlb_hits, walks;
	/* Path replay: its time over the model alone's on the same pages,
	 * best and median (0 = none). */
	double x_model, x_model_median;
};

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
/* Sequential write of n 64-bit words (all ones) into a flat array. */
double floor_seq_write(struct floor_buf *fb, uint64_t n);
void floor_free(struct floor_buf *fb);

/* ---- sections ----------------------------------------------------------- */

/* Each returns 0, or -1 after printing why (a set-up failure, a harvest that
 * disagreed with the oracle). */
int bench_harvest(const struct bench_opts *o, struct bench_results *r);
int bench_memory(const struct bench_opts *o, struct bench_results *r);
int bench_replay(const struct bench_opts *o, struct bench_results *r);
int bench_read(const struct bench_opts *o, struct bench_results *r);
int bench_fuzz(const struct bench_opts *o, struct bench_results *r);
/* Whether o->walker can be timed by bench_harvest: it handles one of the
 * formats it times. -1 after printing why not (a usage error). */
int bench_walker_check(const struct bench_opts *o);

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
