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

/* ---- random numbers: splitmix64, one state per owner ---------------------- */

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n 0 gives 0. */
static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_next(r) % n : 0;
}

/* True with probability pct / 100. */
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
};

const char *fz_fail_name(unsigned kind);

struct fz_fail {
	unsigned kinds; /* every kind seen */
	unsigned first; /* kind of the first failure */
	size_t at;      /* index of the first failing event */
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
};

int fz_run_begin(struct fz_run *run, const struct ims_replay_opts *opts, const char *file);
/* Applies one event. count: measure its software memory accesses (into
 * run->accesses). Returns 0, 1 (this event failed a validation: see
 * run->fail), or -EINVAL (an input error: run->err). */
int fz_run_event(struct fz_run *run, const struct ims_event *ev, bool count);
void fz_run_end(struct fz_run *run);

/* Replays a list on a fresh replayer. Returns 0 (passes), 1 (fails:
 * *fail), -EINVAL (an input error) or -ENOMEM. Lines are renumbered from
 * first_line. With stop non-zero it stops at the first failure of a kind
 * in stop, and fail->at is that event. */
int fz_replay_list(const struct ims_replay_opts *opts, struct fz_list *l, uint64_t first_line,
		   const char *file, unsigned stop, struct fz_fail *fail);

/* ---- the generator --------------------------------------------------------------------- */

struct fz_geo {
	enum ims_format fmt;
	unsigned levels, gshift, ias; /* as the domain line gives them (0 = left out) */
	uint64_t pgsizes;             /* leaf sizes the software uses by default */
	uint64_t pgsizes_all;         /* every size pgsizes= may ask for */
	uint64_t last;                /* last IOVA of the domain */
};

struct fz_gen_cfg {
	unsigned formats; /* bit f = enum ims_format f allowed */
	const struct fz_geo *geos;
	size_t ngeos;
	unsigned max_len; /* events per sequence, at most */
};

struct fz_gen;

/* Finds the geometries this build supports (a domain line the replayer
 * accepts), for the formats in mask (SMMUv3: only granule 2^smmu_gshift
 * when non-zero). *out is malloc'd. Prints what it leaves out on `warn`. */
int fz_geos_probe(const struct ims_replay_opts *opts, unsigned formats, unsigned smmu_gshift,
		  struct fz_geo **out, size_t *n, FILE *warn);

int fz_gen_new(const struct fz_gen_cfg *cfg, uint64_t seed, struct fz_gen **out);
void fz_gen_free(struct fz_gen *g);
/* Next event of the sequence: 1 (*ev filled; *count set when the runner
 * should measure its accesses), 0 (the sequence is over). */
int fz_gen_next(struct fz_gen *g, struct ims_event *ev, bool *count);
/* What the previous event did: its measured accesses (when asked for). */
void fz_gen_feedback(struct fz_gen *g, uint64_t accesses);

/* ---- shrinking --------------------------------------------------------------------------- */

struct fz_shrink_stats {
	uint64_t tests;
	size_t before, after;
};

/* Reduces l (failing with `want` kinds) in place to a small list that fails
 * with the same first kind. */
int fz_shrink(const struct ims_replay_opts *opts, struct fz_list *l, unsigned want,
	      struct fz_shrink_stats *st);

#endif
