/* iommusim fuzz: the generator's state, shared by the op generator
 * (fuzz_gen.c) and its picture of each domain (fuzz_dom.c: the geometries
 * a build supports, a domain's set-up, its maps laid out in leaves as the
 * software lays them out, and points in them). fuzz_gen.c calls
 * fuzz_dom.c, never the reverse.
 */
#ifndef IMS_TOOLS_FUZZ_GEN_H
#define IMS_TOOLS_FUZZ_GEN_H

#include <string.h>

#include "formats/hwfmt.h"
#include "tools/fuzz.h"

#define MAXDOMS 3
#define MAXMAPS 12
#define MAXRANGES 8
#define QLEN 8
#define NCACHE 32
/* A map holds at most this many leaves (memory and walk time stay small). */
#define MAX_LEAVES 512
/* Largest leaf the generator maps, and the most bytes one map covers. */
#define MAX_LEAF_SHIFT 34
#define MAX_MAP_BYTES (1ull << 35)
/* Harvest bitmaps hold at most this many bits. */
#define MAX_BITS (1ull << 18)
/* Output addresses stay below this (every format's output size allows it,
 * and it is far from the page-table pool). */
#define PA_LIMIT_SHIFT 40

struct gleaf {
	uint64_t iova;
	unsigned char shift;
};

struct gmap {
	uint64_t iova, size, pa;
	uint64_t pgsize; /* forced leaf size, 0 = the software's choice */
	unsigned prot;
	struct gleaf *leaves; /* as the software lays them out */
	unsigned nleaves;
};

struct grange {
	uint64_t iova, size;
};

struct gdom {
	uint16_t id;
	const struct fz_geo *geo;
	unsigned depth;   /* table levels */
	unsigned stride;  /* index bits per level */
	uint64_t pgsizes; /* the leaf sizes this domain's software uses */
	uint64_t minpg;
	bool dirty, tracking;
	uint32_t dev;
	uint64_t wbase, wlast; /* the window where maps go (inclusive) */
	struct gmap maps[MAXMAPS];
	unsigned nmaps;
	struct grange ranges[MAXRANGES]; /* harvest ranges used before */
	unsigned nranges;
	bool has_hot;
	uint64_t hot; /* a point written recently: later ops come back to it */
	/* The same software page table, built in the generator's own memory:
	 * the exact leaves, to keep clearing harvests on whole leaves. */
	struct ims_pt *pt;
	/* Table pages of the empty domain: the root's 4 KiB frames (an SMMU
	 * root may span several). */
	uint64_t empty_tables;
	/* Nesting (--nested): the parent's id for a nested stage-1 domain (0:
	 * not nested), whose maps' output addresses (guest-physical) stay in
	 * [pa_lo, pa_hi], the parent's premapped window; `parent`: a stage-2
	 * domain whose tables also hold the nested domain's table frames,
	 * mapped there by the replayer, not in this picture. */
	uint16_t nested_on;
	bool parent;
	unsigned npinned; /* maps[0, npinned): the premapped window, kept until tear-down */
	uint64_t pa_lo, pa_hi;
	/* A nested domain's refused GPA window (fuzz_s2.c; 0 = none): the
	 * parent maps [rf_lo, rf_lo + 2 MiB) read-only and leaves the rest up
	 * to rf_hi to its own random maps (mostly unmapped). */
	uint64_t rf_lo, rf_hi;
};

/* The parent's premapped GPA window (docs/fuzzing.md, "Nested domains"):
 * its maps, made in the set-up before any stage-1 map. */
#define NPREMAP 4
#define NEST_WINDOW (1ull << 26)
/* The refused GPA window after the read-write one: 2 MiB read-only, 2 MiB
 * left to the parent's own maps (docs/fuzzing.md, "Nested domains"). */
#define REFUSED_RO (2ull << 20)
#define REFUSED_SPAN (4ull << 20)

/* Accesses measured for an op over a range (inject-at estimates). */
struct measured {
	bool valid;
	enum ims_op op;
	uint16_t dom;
	uint64_t iova, size, count;
};

struct fz_gen {
	struct fz_gen_cfg cfg;
	struct fz_rng rng;
	struct ims_mem *mem; /* of the shadow page tables */
	struct gdom doms[MAXDOMS];
	unsigned ndoms;
	unsigned phase; /* 0 set-up, 1 random ops, 2 tear-down, 3 done */
	unsigned setup_step;
	unsigned emitted, target;
	struct ims_event q[QLEN];
	bool qcount[QLEN];
	unsigned qhead, qn;
	struct measured cache[NCACHE];
	unsigned cnext;
	struct measured pending; /* the op whose count the runner measures */
	bool corrupt; /* this sequence writes into live tables (fuzz_corrupt.c) */
	unsigned idle; /* ops in a row that emitted nothing (corrupting sequences) */
	struct gleaf scratch[MAX_LEAVES];
	struct ims_event premap[NPREMAP]; /* the parent's window maps (--nested) */
	unsigned npremap;
	/* The live replay (fz_gen_live; NULL: none): where the nested domain's
	 * table frames are (fuzz_s2.c). */
	struct ims_iommu *live_mmu;
	struct ims_mem *live_mem;
	/* A stage-1 table frame the parent maps read-only or not at all now:
	 * the frame, and a point whose walk met it. */
	struct {
		bool on;
		uint64_t frame, point;
	} rf;
};

/* ---- small helpers ------------------------------------------------------------------- */

static inline void ev_init(struct ims_event *ev, enum ims_op op)
{
	memset(ev, 0, sizeof(*ev));
	ev->op = op;
}

static inline void ev_set(struct ims_event *ev, enum ims_key k, uint64_t v)
{
	ev->keys |= 1ull << k;
	ev->v[k] = v;
}

static inline uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

static inline uint64_t low_bit(uint64_t x) { return x & -x; }

/* Largest set bit of x (x != 0). */
static inline uint64_t high_bit(uint64_t x) { return 1ull << ims_log2(x); }

/* The sizes in mask, at most `limit` (a power of two or ~0). */
static inline uint64_t sizes_upto(uint64_t mask, uint64_t limit)
{
	return limit >= (1ull << 63) ? mask : mask & ((limit << 1) - 1);
}

/* Entry size (log2) of the level that holds leaves of 2^shift bytes: a leaf
 * larger than its entry is a run (AMD replicas, Arm contiguous group). */
static inline unsigned entry_shift(const struct gdom *d, unsigned shift)
{
	unsigned g = d->geo->gshift ? d->geo->gshift : 12;
	return g + d->stride * ((shift - g) / d->stride);
}

static inline uint64_t map_sizes(const struct gdom *d, const struct gmap *m)
{
	return m->pgsize ? m->pgsize : d->pgsizes;
}

static inline void fz_enqueue(struct fz_gen *g, const struct ims_event *ev, bool count)
{
	if (g->qn == QLEN)
		return;
	unsigned i = (g->qhead + g->qn++) % QLEN;
	g->q[i] = *ev;
	g->qcount[i] = count;
}

/* ---- the domain picture (fuzz_dom.c) ------------------------------------------------- */

/* The map's leaves as the software lays them out; false when there would
 * be more than MAX_LEAVES or the length does not come out in leaves. */
bool fz_lay_out(const struct gdom *d, struct gmap *m, struct gleaf *out);
/* Index of the leaf of m holding iova (inside m), by bisection. */
unsigned fz_leaf_index(const struct gmap *m, uint64_t iova);
/* A point inside a mapped leaf within [lo, hi], biased to the non-first
 * entries of runs (where bugs 1, 2 and 4 live). Fills the leaf too. */
bool fz_pick_point_in(struct fz_gen *g, struct gdom *d, uint64_t lo, uint64_t hi, uint64_t *p,
		      uint64_t *leaf, uint64_t *lsize);
/* A point inside any mapped leaf. */
bool fz_pick_point(struct fz_gen *g, struct gdom *d, uint64_t *p, uint64_t *leaf,
		   uint64_t *lsize);
/* The leaf holding iova in the generator's picture, if any. */
bool fz_leaf_of(const struct gdom *d, uint64_t iova, uint64_t *leaf, uint64_t *size);
/* A point for device traffic: the hot point, a mapped leaf, or anywhere in
 * the window (holes fault). */
uint64_t fz_traffic_point(struct fz_gen *g, struct gdom *d);
/* Domain i of g: a geometry of the configured formats, an id and a device,
 * the leaf sizes, the shadow page table and the window where maps go. */
int fz_setup_domain(struct fz_gen *g, struct gdom *d, unsigned i);
/* A nesting pair (cfg.nested): doms[0] the stage-2 parent, its window
 * below the frame pool, doms[1] the nested stage-1 domain. -ENOENT when the
 * geometries hold no pair. */
int fz_setup_nested(struct fz_gen *g);
/* Adds map m (its iova, size, pa, pgsize and prot set) to d's picture and
 * shadow table. false: it does not fit (nothing changed). */
bool fz_add_map(struct fz_gen *g, struct gdom *d, struct gmap *m);
/* [iova, iova + size) meets a map of d. */
bool fz_overlaps(const struct gdom *d, uint64_t iova, uint64_t size);
/* Grows [*lo, *hi] to whole leaves. A clearing harvest cleans every leaf it
 * touches whole (dirty-semantics.md) while the oracle clears only the
 * range, so a clearing range that cut into a dirty leaf would leave the
 * oracle expecting pages no correct walker can still report (docs/fuzzing.md,
 * "Clearing harvests cover whole leaves"). True when it grew. */
bool fz_whole_leaves(const struct gdom *d, uint64_t *lo, uint64_t *hi);
/* Forgets map i of d (the last map takes its place). */
void fz_remove_map(struct gdom *d, unsigned i);

/* ---- corrupted tables (fuzz_corrupt.c) ----------------------------------------------- */

/* Whether the sequence of `seed` (or an input's hash) corrupts tables. */
bool fz_corrupt_pick(const struct fz_gen_cfg *cfg, uint64_t seed);
/* A `mem` line into a live table entry of d on the path to a mapped point
 * (written to the shadow as well); false when there is none. *flush: a
 * flush of the domain should follow. */
bool fz_gen_corrupt(struct fz_gen *g, struct gdom *d, struct ims_event *ev, bool *flush);

/* The live entries on the path to iova of the table in mem that context
 * words w of format fmt point to (the root's first): their slots, levels
 * and values, and the tables they are in. false: no entry, or the words
 * do not decode. */
struct fz_path {
	uint64_t slot[HW_MAX_LEVELS], val[HW_MAX_LEVELS], table[HW_MAX_LEVELS];
	int level[HW_MAX_LEVELS];
	unsigned n;
};
bool fz_walk_path(struct ims_mem *mem, enum ims_format fmt, const uint64_t w[IMS_CTX_WORDS],
		  uint64_t iova, struct fz_path *p);

/* ---- stage 2 refusing nested accesses (fuzz_s2.c) ------------------------------------ */

/* Unmaps from the parent, or remaps read-only there, a frame of nested
 * domain d's stage-1 table on the path to a mapped point (a flush of d may
 * follow); false without a live view or a point. */
bool fz_gen_refuse_frame(struct fz_gen *g, struct gdom *d, struct ims_event *ev);
/* Maps the refused frame read-write again if it is still a table frame;
 * false when there is nothing to give back (the refusal ends anyway). */
bool fz_gen_restore_frame(struct fz_gen *g, struct ims_event *ev);

#endif
