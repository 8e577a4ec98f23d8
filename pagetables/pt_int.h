/* The generic page table's own state (pagetables/ only). */
#ifndef IMS_PAGETABLES_PT_INT_H
#define IMS_PAGETABLES_PT_INT_H

#include <errno.h>
#include <stdbool.h>

#include "formats/swfmt.h"
#include "model/mem_view.h"
#include "iommusim/pt.h"
#include "iommusim/walker.h"

/* Harvest fast path (harvest.c): per level, the output-address field of a
 * single-entry leaf and the entry shapes (the other bits) already decoded. */
#define PT_MAX_LEVELS 8
#define PT_MEMO_WAYS 8
struct pt_memo {
	uint64_t keymask; /* ~address field; 0: no fast path at this level */
	uint64_t addr;
	uint64_t key[PT_MEMO_WAYS];
	uint8_t cls[PT_MEMO_WAYS];
	unsigned n, next;
	/* Table entries: their address field (0: none at this level) and the
	 * other bits of one the format's kind() called a table (~0: none yet).
	 * Which entries are tables depends on those bits alone, so an entry
	 * with them is one without asking again; where it leads is still
	 * checked (pt_table_live). */
	uint64_t tmask, tkey;
};

/* A harvest's output as the host keeps it (struct ims_walker_dirty of the
 * walker ABI): the bitmap, the harvest range records are clipped to, and the
 * IOTLB gather. */
struct ims_walker_dirty {
	struct ims_pt *pt;
	struct ims_bitmap *bm; /* NULL: a clear-only pass */
	uint64_t first, last;  /* the harvest range, inclusive */
	bool gathered;
	uint64_t g_first, g_last; /* gathered range, inclusive */
};

#define PT_FINDING_LEN 256

/* One domain: the host side of the walker ABI (host.c) and the built-in
 * page table's state (pt.c), in one struct the caller owns.
 *
 * dom is the built-in table's (and a full-level walker's) view of the
 * domain; wdom is a harvest-level plug-in's, with its own priv. Every host
 * call finds the struct from either through pt_of(). */
struct pt_view {
	struct ims_walker_dom d; /* first: the walker holds &d */
	struct ims_pt *pt;
};

struct ims_pt {
	struct pt_view dom;
	struct pt_view wdom;
	const struct ims_walker_ops *walker; /* the walker under test */
	const struct ims_walker_ops *tables; /* who owns the tables */
	const struct pt_walker *knobs;       /* built-in walker's knobs, or NULL */
	const struct pt_fmt *ops;
	struct ims_mem *mem;
	struct ims_sink sink;
	struct ims_pt_cfg cfg;
	struct pt_geom g;
	uint64_t root;
	uint64_t pgsizes; /* allowed: cfg.pgsizes & g.pgsizes */
	bool tracking;    /* hardware dirty updates switched on */
	bool attached;    /* walker->attach succeeded */
	struct ims_pt_stats stats;
	struct pt_memo memo[PT_MAX_LEVELS];
	unsigned nfindings;
	char finding[PT_FINDING_LEN]; /* the first thing the walker did wrong */
};

extern const struct ims_walker_host pt_host;

static inline struct ims_pt *pt_of(struct ims_walker_dom *d)
{
	return ((struct pt_view *)d)->pt;
}

/* The built-in table's view of its domain. */
static inline struct ims_walker_dom *pt_dom(struct ims_pt *pt)
{
	return &pt->dom.d;
}

/* The format ops' view of pt, its command path included (pt_dom.c). */
void pt_dom_of(const struct ims_pt *pt, struct pt_dom *d);
/* The format's flush of [iova, iova + size) (size 0: everything) through
 * pt's command path (pt_dom.c). */
int pt_flush_range(struct ims_pt *pt, uint64_t iova, uint64_t size, bool leaf_only);

/* The walker's harvest of [first, last] (inclusive, checked by the
 * caller) into bm (NULL: clear only), then the flush of what it gathered
 * unless IMS_DIRTY_NO_CLEAR (host.c). */
int pt_harvest(struct ims_pt *pt, uint64_t first, uint64_t last, unsigned flags,
	       struct ims_bitmap *bm);

/* A finding: something the walker did wrong through the host, or a corrupt
 * table the built-in software met; the first is kept for the report and
 * each goes to the sink (host_mem.c). */
__attribute__((format(printf, 2, 3))) void pt_finding(struct ims_pt *pt, const char *fmt, ...);

/* ---- distrust of the tables (pt_check.c) ----
 * An entry as the built-in software may use it: a table whose next table is
 * a live table of the pool, or a leaf whose size is a leaf size of its level
 * (so its run fits its table and frame). */
struct pt_ent {
	enum pt_kind kind;
	unsigned shift; /* PT_LEAF: log2 of the page, its run included */
	unsigned n;     /* PT_LEAF: entries of the run (1, AMD replicas, an Arm group) */
	uint64_t next;  /* PT_TABLE: the next table */
};

/* pt_table_live for a table of several frames (pt_check.c). */
bool pt_table_live_frames(struct ims_pt *pt, int level, uint64_t pa);
/* The next table of a table entry at `level` is a live table of the pool,
 * aligned to its size (each table the software allocates is). One lookup
 * for a table of one frame, the common case of every walk's descent. */
static inline bool pt_table_live(struct ims_pt *pt, int level, uint64_t pa)
{
	if (pt_level_bits(&pt->g, level - 1) + 3 <= IMS_PAGE_SHIFT)
		return !(pa & (IMS_PAGE_SIZE - 1)) && mem_pool_table(pt->mem, pa);
	return pt_table_live_frames(pt, level, pa);
}
/* pt_decode's whole decode, with the reason and the finding of a bad entry. */
enum pt_kind pt_decode_slow(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte, bool quiet,
			    struct pt_ent *e);

/* Decodes pte, read at slot of a table at `level`. An entry the format or
 * the geometry says is malformed is PT_BAD and a finding (unless quiet):
 * the caller skips it. The common case, a table entry (every upper-level
 * entry of a walk), is decided here, inline in the walks. */
static inline enum pt_kind pt_decode(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte,
				     bool quiet, struct pt_ent *e)
{
	if (!pte) {
		e->kind = PT_NONE;
		return PT_NONE;
	}
	if (level > 0 && pt->ops->kind(&pt->g, level, pte) == PT_TABLE) {
		e->next = pt->ops->table_pa(pte);
		if (pt_table_live(pt, level, e->next)) {
			e->kind = PT_TABLE;
			return PT_TABLE;
		}
	}
	return pt_decode_slow(pt, level, slot, pte, quiet, e);
}
/* 2^s is a leaf size of `level` in pt's geometry. */
bool pt_leaf_fits(const struct ims_pt *pt, int level, unsigned s);
/* pte, an entry of a run of 2^s-byte leaves at `level`, is a leaf of it. */
bool pt_run_entry_ok(struct ims_pt *pt, int level, uint64_t pte, unsigned s);
/* The finding of a run entry that is not (pt_run_entry_ok false). */
void pt_bad_run(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte, unsigned s);
/* Every entry of the run [i0, i0 + n) of table is a 2^s leaf, looked at
 * without a counted access (for a path that reads only the first). */
bool pt_run_ok(struct ims_pt *pt, uint64_t table, int level, unsigned i0, unsigned n, unsigned s,
	       bool quiet);

/* A walk's budget of table frames below the root: each live table frame of
 * the domain once. In a tree no walk needs more; a corrupt table that makes
 * a table reachable from two entries (or from itself) runs it out. */
static inline uint64_t pt_walk_budget(const struct ims_pt *pt)
{
	unsigned lg = pt_level_bits(&pt->g, pt->g.top) + 3;
	uint64_t root = lg > IMS_PAGE_SHIFT ? 1ull << (lg - IMS_PAGE_SHIFT) : 1;
	return pt->stats.table_pages > root ? pt->stats.table_pages - root : 0;
}
/* The finding of pt_enter's refusal. */
void pt_enter_refused(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte);
/* Takes from *left the frames of the table a table entry at `level` (at
 * slot, value pte) leads to; false, and a finding unless quiet, when too
 * few are left: the walk does not enter it. */
static inline bool pt_enter(struct ims_pt *pt, uint64_t *left, int level, uint64_t slot,
			    uint64_t pte, bool quiet)
{
	unsigned lg = pt_level_bits(&pt->g, level - 1) + 3;
	uint64_t frames = lg > IMS_PAGE_SHIFT ? 1ull << (lg - IMS_PAGE_SHIFT) : 1;
	if (*left >= frames) {
		*left -= frames;
		return true;
	}
	if (!quiet)
		pt_enter_refused(pt, level, slot, pte);
	return false;
}

/* The writable view of the live table frame at pa, as frame() with
 * IMS_WALKER_FRAME_WRITE gives it, or NULL (under a hook or the lost-update
 * check, or no live table frame there) without a finding: the fast
 * walker's proof that a table it is about to walk is live (host_mem.c). */
uint64_t *pt_table_frame_w(struct ims_pt *pt, uint64_t pa);

/* The view the walker under test is called with (host_mem.c). */
struct ims_walker_dom *pt_walker_dom(struct ims_pt *pt);

/* The fast walker's per-level memo of entry shapes for a new table
 * (harvest.c). */
void pt_memo_init(struct ims_pt *pt);

/* An IOTLB gather: the smallest range holding every range added. */
static inline void pt_gather(bool *gathered, uint64_t *lo, uint64_t *hi, uint64_t first,
			     uint64_t last)
{
	if (!*gathered) {
		*lo = first;
		*hi = last;
		*gathered = true;
		return;
	}
	if (first < *lo)
		*lo = first;
	if (last > *hi)
		*hi = last;
}

/* Small helpers of every walk, inline in pt.c and harvest.c alike. */

/* Inclusive last byte of the domain's IOVA space. */
static inline uint64_t iova_last(const struct ims_pt *pt)
{
	return pt->g.ias >= 64 ? ~0ull : (1ull << pt->g.ias) - 1;
}

/* The built-in software's table accesses, through the walker ABI's host
 * like any walker's. */
static inline uint64_t sw_load(struct ims_pt *pt, uint64_t pa)
{
	return pt_host.load(pt_dom(pt), pa);
}

/* The first non-empty entry of table[i..iend]: its index (iend + 1 when
 * all are empty) and, in *pte, its value. The same loads, counted the same,
 * as sw_load of entry i, i + 1, ... up to that one (host_mem.c). */
unsigned pt_scan(struct ims_pt *pt, uint64_t table, unsigned i, unsigned iend, uint64_t *pte);

static inline void sw_store(struct ims_pt *pt, uint64_t pa, uint64_t v)
{
	pt_host.store(pt_dom(pt), pa, v);
}

static inline unsigned level_index(const struct pt_geom *g, int level, uint64_t iova)
{
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	return (unsigned)((iova >> shift) & ((1ull << bits) - 1));
}

/* Range checks shared by every op: aligned to `align`, non-empty, inside
 * the domain. *last gets the inclusive end. */
static inline int check_range(const struct ims_pt *pt, uint64_t iova, uint64_t size,
			      uint64_t align, uint64_t *last)
{
	if (!size)
		return -EINVAL;
	if ((iova | size) & (align - 1))
		return -EINVAL;
	uint64_t l = iova + (size - 1);
	if (l < iova)
		return -EOVERFLOW;
	if (l > iova_last(pt))
		return -EINVAL;
	*last = l;
	return 0;
}

#endif
