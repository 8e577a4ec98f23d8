/* iommusim fuzz: differential fuzzing of the software walkers (docs/fuzzing.md).
 *
 * fuzz_gen.c generates op sequences online (each op may depend on what the
 * previous ones did), fuzz_run.c applies events in-process through the
 * replayer and classifies failures, fuzz_shrink.c reduces a failing
 * sequence, fuzz.c is the command.
 */
#ifndef IMS_TOOLS_FUZZ_H
#define IMS_TOOLS_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "iommusim/trace.h"
#include "tools/isolate.h"

/* ---- random numbers: splitmix64, one state per owner ---------------------- */

/* In the guided mode (tests/fuzz/fuzz_ops.c, docs/fuzzing.md "Coverage
 * guidance") the generator's decisions come from a libFuzzer input: while
 * its bytes last, each draw takes its value from as few of them as it needs,
 * so a mutated byte changes one decision and coverage can steer the op
 * sequences; then the draws go on from splitmix64 seeded with a hash of the
 * whole input (the same input, the same sequence). Without an input (in
 * NULL) nothing of that runs: the random mode's draws are plain splitmix64,
 * one test of a pointer that is always NULL away. */
struct fz_rng {
	uint64_t s;
	const uint8_t *in; /* the input's bytes not yet drawn from: NULL none (left) */
	size_t len, pos;   /* the input's length; bytes used so far */
};

static inline uint64_t fz_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t fz_splitmix(struct fz_rng *r)
{
	return fz_mix(r->s += 0x9e3779b97f4a7c15ull);
}

/* A draw from the input of a value in [0, max]: as many little-endian
 * bytes as max needs (none for 0, one up to 255, two up to 65535, ...),
 * reduced modulo max + 1, so byte b of a one-byte draw below n is b % n.
 * When fewer bytes are left than the draw needs, the input is done with
 * and this draw and all later ones are splitmix64's. Kept out of line: the
 * random mode never calls it (unused: not every file that includes this
 * draws). */
static __attribute__((noinline, cold, unused)) uint64_t fz_in_take(struct fz_rng *r, uint64_t max)
{
	unsigned k = 0;
	for (uint64_t m = max; m; m >>= 8)
		k++;
	if (r->len - r->pos < k) {
		r->in = NULL;
		uint64_t v = fz_splitmix(r);
		return max == ~0ull ? v : v % (max + 1);
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < k; i++)
		v |= (uint64_t)r->in[r->pos + i] << (8 * i);
	r->pos += k;
	return max == ~0ull ? v : v % (max + 1);
}

/* A hash of a whole input: the seed of the draws after its bytes. */
static inline uint64_t fz_in_hash(const uint8_t *data, size_t len)
{
	uint64_t h = fz_mix(0x6a09e667f3bcc909ull ^ len);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		for (size_t j = 0; j < 8 && i + j < len; j++)
			w |= (uint64_t)data[i + j] << (8 * j);
		h = fz_mix(h ^ w) + 0x9e3779b97f4a7c15ull;
	}
	return h;
}

/* r draws from the input first (it must outlive r's use), then from
 * splitmix64 seeded with its hash. */
static inline void fz_rng_input(struct fz_rng *r, const uint8_t *data, size_t len)
{
	r->s = fz_in_hash(data, len);
	r->in = len ? data : NULL;
	r->len = len;
	r->pos = 0;
}

static inline uint64_t fz_next(struct fz_rng *r)
{
	if (__builtin_expect(r->in != NULL, 0))
		return fz_in_take(r, ~0ull);
	return fz_splitmix(r);
}

/* Uniform in [0, n); n 0 gives 0. */
static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	if (__builtin_expect(r->in != NULL, 0))
		return n ? fz_in_take(r, n - 1) : 0;
	return n ? fz_splitmix(r) % n : 0;
}

/* True with probability pct / 100 (one byte of an input). */
static inline bool fz_pct(struct fz_rng *r, unsigned pct)
{
	return fz_below(r, 100) < pct;
}

/* A sink that drops what it gets: for the shadow page tables that the
 * generator and the shrinker build in memory of their own. */
extern const struct ims_sink fz_nop_sink;

/* ---- event lists ------------------------------------------------------------ */

struct fz_list {
	struct ims_event *ev;
	size_t n, cap;
	bool fixed; /* ev is storage of someone else's (a shared block): never
		     * grown or freed; a push past cap is -ENOSPC */
};

int fz_list_push(struct fz_list *l, const struct ims_event *ev);
int fz_list_copy(struct fz_list *dst, const struct fz_list *src);
void fz_list_free(struct fz_list *l);

/* ---- failures ------------------------------------------------------------------ */

/* What kind of validation failed; a shrunk sequence must keep the kind. */
enum {
	FZ_F_UNDER = 1u << 0,   /* harvest / read-dirty bitmap missed dirty pages */
	FZ_F_OVER = 1u << 1,    /* reported pages nobody wrote */
	FZ_F_LOST = 1u << 2,    /* a software store undid a hardware update */
	FZ_F_CONSIST = 1u << 3, /* iova_to_phys differs from the hardware walk */
	FZ_F_TABLES = 1u << 4,  /* page-table pages left after unmapping all */
	FZ_F_OTHER = 1u << 5,
	/* The walker misused the host: a write outside its tables, a
	 * misaligned access (ims_pt_finding). */
	FZ_F_WALKER = 1u << 6,
	/* The walker took its process down or stopped making progress; only
	 * an isolated run (fuzz_iso.c) sees these. */
	FZ_F_CRASH = 1u << 7,
	FZ_F_HANG = 1u << 8,
};

const char *fz_fail_name(unsigned kind);

struct fz_fail {
	unsigned kinds; /* every kind seen */
	unsigned first; /* kind of the first failure */
	size_t at;      /* index of the first failing event */
	int sig, status; /* FZ_F_CRASH: the signal, or 0 and the exit status */
	bool freeing;    /* FZ_F_CRASH, FZ_F_HANG: after event `at`, freeing the domains */
	char msg[512];  /* its message (first line) */
};

/* ---- running events in-process ----------------------------------------------------- */

struct fz_run {
	struct ims_replay *r;
	FILE *diag;
	char *dbuf;
	size_t dlen;
	const char *file;
	struct fz_fail fail;
	bool failed;
	size_t nev;
	uint64_t accesses; /* software accesses of the last counted event */
	char err[512];     /* input error of the last event */
	/* A `mem` event came (the generator writes one only to corrupt a live
	 * table): from then on what the replayer reports, validation failures
	 * and input errors alike, is an expected outcome of the corruption, not
	 * a failure (docs/fuzzing.md, "Corrupted tables"). */
	bool corrupt;
	uint64_t corrupt_outcomes; /* events since that failed or were refused */
};

int fz_run_begin(struct fz_run *run, const struct ims_replay_opts *opts, const char *file);
/* Applies one event. count: measure its software memory accesses (into
 * run->accesses). Returns 0, 1 (this event failed a validation: see
 * run->fail), or -EINVAL (an input error: run->err); after a corruption
 * (run->corrupt) only 0. */
int fz_run_event(struct fz_run *run, const struct ims_event *ev, bool count);
void fz_run_end(struct fz_run *run);

/* Replays a list on a fresh replayer. Returns 0 (passes), 1 (fails:
 * *fail), -EINVAL (an input error) or -ENOMEM. Lines are renumbered from
 * first_line. With stop non-zero it stops at the first failure of a kind
 * in stop, and fail->at is that event. */
int fz_replay_list(const struct ims_replay_opts *opts, struct fz_list *l, uint64_t first_line,
		   const char *file, unsigned stop, struct fz_fail *fail);

/* ---- a walker that may crash or hang (fuzz_iso.c, tools/isolate.h) ------------------ */

/* Where a replay in a child is, for the parent that watches it. */
struct fz_where {
	struct iso_state st;  /* beat: one per event */
	volatile size_t at;   /* the event being applied, then the last one applied */
	volatile int freeing; /* past the events: the replayer frees the domains */
};

/* fz_replay_list, telling w (NULL: nobody) where it is. */
int fz_replay_list_at(const struct ims_replay_opts *opts, struct fz_list *l, uint64_t first_line,
		      const char *file, unsigned stop, struct fz_fail *fail, struct fz_where *w);

struct fz_iso {
	bool on;             /* replays run in a child; off: in-process, fz_replay_list */
	double timeout;      /* an event without progress this long is a hang (0: never) */
	double shown;        /* the --walker-timeout that messages name */
	const char *walker;  /* the walker's name, for messages */
};

/* fz_replay_list in a child when iso->on: a crash or a hang of the walker
 * is a failure too (1, fail->first FZ_F_CRASH or FZ_F_HANG, at the event it
 * happened in), its message "FILE:LINE: FAIL: walker NAME crashed (SIGSEGV)
 * at this line" as `iommusim replay` prints it. */
int fz_replay(const struct ims_replay_opts *opts, const struct fz_iso *iso, struct fz_list *l,
	      uint64_t first_line, const char *file, unsigned stop, struct fz_fail *fail);
/* Replays a trace file as `iommusim replay` does (in a child when
 * iso->on): 0 it passes, 1 it fails (fail: first and message filled for a
 * crash or hang, first FZ_F_OTHER for any validation failure), 2 it does
 * not replay (printed). */
int fz_replay_file(const struct ims_replay_opts *opts, const struct fz_iso *iso, const char *path,
		   struct fz_fail *fail);
/* The failure of a crash or hang o at event `at` of l (after it, freeing
 * the domains, when `freeing`). */
void fz_crash_fail(const struct fz_iso *iso, const struct iso_outcome *o, const char *file,
		   const struct fz_list *l, size_t at, bool freeing, struct fz_fail *f);
/* b fails the way a does: a's first kind is among b's kinds, and a crash is
 * by the same signal or exit status. */
bool fz_same_failure(const struct fz_fail *a, const struct fz_fail *b);

/* ---- the generator --------------------------------------------------------------------- */

struct fz_geo {
	enum ims_format fmt;
	unsigned levels, gshift, ias; /* as the domain line gives them (0 = left out) */
	uint64_t pgsizes;             /* leaf sizes the software uses by default */
	uint64_t pgsizes_all;         /* every size pgsizes= may ask for */
	uint64_t last;                /* last IOVA of the domain */
};

/* What a campaign exercised (docs/fuzzing.md, "What a run covered"). */
struct fz_cover {
	uint64_t geos;                       /* bit i: geometry i of the probe (the first 64) */
	uint64_t leaf_shifts[IMS_FMT_COUNT]; /* bit s: a 2^s leaf mapped */
	uint64_t harvests, noclear;          /* harvests, those with NO_CLEAR */
	uint64_t inj_armed, inj_fired, inj_changed; /* injections; inside a walk; set A/D */
	/* Corrupted tables (docs/fuzzing.md, "Corrupted tables"): sequences
	 * that wrote into live tables, the entries written, and what followed
	 * (validation failures and walker findings, expected there). */
	uint64_t corrupt_seqs, corrupt_writes, corrupt_failures, corrupt_findings;
	/* Nested sequences (--nested), by the pair's stage-1 format. */
	uint64_t nested[IMS_FMT_COUNT];
	/* Stage 2 refusing nested accesses (docs/fuzzing.md, "Nested
	 * domains"): stage-1 maps whose output stage 2 maps read-only or not
	 * at all; stage-1 table frames the parent was made to map read-only
	 * or not at all; and the stage-2 faults that followed (the replayer's
	 * s2_faults_*: on the output, on a table read, on an A/D write). */
	uint64_t s2_out_maps, s2_frames_ro, s2_frames_absent;
	uint64_t s2_faults_output, s2_faults_table, s2_faults_ad;
};
void fz_cover_add(struct fz_cover *dst, const struct fz_cover *src);
/* The replayer's share of one sequence (its harvests and injections). */
void fz_cover_replay(struct fz_cover *c, const struct ims_replay_stats *st);
/* One line for the progress display: "G geometries, L leaf sizes, ...". */
void fz_cover_short(const struct fz_cover *c, char *buf, size_t len);
/* The summary's lines, each starting with `prefix`. */
void fz_cover_print(FILE *f, const char *prefix, const struct fz_cover *c,
		    const struct fz_geo *geos, size_t ngeos);

struct fz_gen_cfg {
	unsigned formats; /* bit f = enum ims_format f allowed */
	const struct fz_geo *geos;
	size_t ngeos;
	unsigned max_len; /* events per sequence, at most */
	struct fz_cover *cover; /* what the generator laid out goes here (NULL: nowhere) */
	/* Percent of sequences that corrupt live page-table entries with `mem`
	 * lines (0: none; fz_corrupt_pct gives the default). Which sequences is
	 * decided apart from the draws of the others, so a sequence that does
	 * not corrupt is the one it was without corruption. */
	unsigned corrupt_pct;
	/* Every sequence is a nesting pair (docs/fuzzing.md, "Nested
	 * domains"): a stage-2 parent of a pair's format and a nested stage-1
	 * domain over it, of formats both in `formats`. */
	bool nested;
};

/* The share of corrupting sequences for a replay's walker: FZ_CORRUPT_PCT
 * for the correct built-in walkers (fast, reference, rewalk), whose
 * distrust of their tables is what corruption tests; none for a seeded bug
 * (its proof is about its bug) or a plug-in (which, like a kernel driver,
 * may trust the tables it wrote). */
#define FZ_CORRUPT_PCT 10
unsigned fz_corrupt_pct(const struct ims_replay_opts *ro);

struct fz_gen;

/* Finds the geometries this build supports (a domain line the replayer
 * accepts), for the formats in mask (SMMUv3: only granule 2^smmu_gshift
 * when non-zero). *out is malloc'd. Prints what it leaves out on `warn`. */
int fz_geos_probe(const struct ims_replay_opts *opts, unsigned formats, unsigned smmu_gshift,
		  struct fz_geo **out, size_t *n, FILE *warn);

int fz_gen_new(const struct fz_gen_cfg *cfg, uint64_t seed, struct fz_gen **out);
/* The same, its decisions drawn from an input's bytes first (struct fz_rng;
 * the guided mode): data must stay until fz_gen_free. */
int fz_gen_new_input(const struct fz_gen_cfg *cfg, const uint8_t *data, size_t len,
		     struct fz_gen **out);
/* Bytes of the input its decisions have taken so far; *left: it still
 * draws from the input (false once the bytes ran out, or without one). */
size_t fz_gen_input_used(const struct fz_gen *g, bool *left);
void fz_gen_free(struct fz_gen *g);
/* Next event of the sequence: 1 (*ev filled; *count set when the runner
 * should measure its accesses), 0 (the sequence is over). */
int fz_gen_next(struct fz_gen *g, struct ims_event *ev, bool *count);
/* What the previous event did: its measured accesses (when asked for). */
void fz_gen_feedback(struct fz_gen *g, uint64_t accesses);
/* The replay the events go to, read (never changed) by the generator of a
 * nested sequence to find the nested domain's table frames (fuzz_s2.c);
 * without it no frame is refused. */
void fz_gen_live(struct fz_gen *g, struct ims_iommu *mmu, struct ims_mem *mem);

/* ---- for bench --------------------------------------------------------------------------- */

/* fuzz --ops OPS -j JOBS --seed 1 of the formats' mask with built-in walker
 * WALKER (ims_pt_walker_name index), silent: 0 when nothing was found, with
 * the wall time in *secs and, with one job (in this process), its CPU time
 * in *cpu_secs; 1 a failure (not reported), 2 an error (printed). */
int fz_rate(unsigned formats, unsigned jobs, uint64_t ops, unsigned walker, double *secs,
	    double *cpu_secs);
/* The cores this process may run on (fuzz's default -j). */
unsigned fz_cores(void);

/* ---- shrinking --------------------------------------------------------------------------- */

struct fz_shrink_stats {
	uint64_t tests;
	size_t before, after;
};

/* Reduces l (failing as `want` says) in place to a small list that fails
 * the same way (fz_same_failure), each candidate replayed through
 * fz_replay with iso. */
int fz_shrink(const struct ims_replay_opts *opts, const struct fz_iso *iso, struct fz_list *l,
	      const struct fz_fail *want, struct fz_shrink_stats *st);

/* ---- the reproducer (fuzz_repro.c) -------------------------------------------------------- */

/* One event as a trace line. */
void fz_print_event(FILE *f, const struct ims_event *ev);

struct walker_choice;
/* What `iommusim replay` needs to fail the same way: the walker, the model
 * (model_args, as replay takes them), and for a crash or hang of a
 * built-in walker the isolation that a plug-in gets by default, with the
 * same time limit (timeout_shown, when not the default). */
void fz_repro_args(const struct walker_choice *wc, double timeout_shown, const char *model_args,
		   unsigned kind, char *buf, size_t len);

struct fz_repro {
	const struct ims_replay_opts *ro;
	const struct fz_iso *iso; /* the user's: the written file is checked under its limit */
	const char *dir, *name;   /* written as DIR/NAME */
	const char *args;         /* fz_repro_args ("" none) */
	const char *found;        /* the header's line on what found it, and how again */
	const char *walker;       /* the walker's name */
	const char *who;          /* the prefix of messages ("iommusim fuzz") */
};

/* Writes l as rp says: checks first that it fails as `want` (replayed with
 * iso, how the shrinker replayed: its time limit may be shorter), writes
 * the trace, reads it back and replays it, which must fail (the same way
 * for a crash or a hang). found_len: events before shrinking; st NULL: not
 * shrunk. Returns 1 (written and checked: *fail is the failure, its path
 * in path) or 2 (an error, printed). */
int fz_repro_write(const struct fz_repro *rp, const struct fz_iso *iso, struct fz_list *l,
		   const struct fz_fail *want, size_t found_len, const struct fz_shrink_stats *st,
		   struct fz_fail *fail, char *path, size_t plen);

#endif
