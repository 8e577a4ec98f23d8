/* The generic page table's own state (pagetables/ only). */
#ifndef IMS_PAGETABLES_PT_INT_H
#define IMS_PAGETABLES_PT_INT_H

#include <errno.h>

#include "formats/swfmt.h"
#include "iommusim/pt.h"

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
};

/* The generic page table (pagetables/ only: the format ops see a pt_dom). */
struct ims_pt {
	const struct pt_fmt *ops;
	struct ims_mem *mem;
	struct ims_sink sink;
	struct ims_pt_cfg cfg;
	struct pt_geom g;
	uint64_t root;
	uint64_t pgsizes; /* allowed: cfg.pgsizes & g.pgsizes */
	bool tracking;    /* hardware dirty updates switched on */
	struct ims_pt_stats stats;
	struct pt_memo memo[PT_MAX_LEVELS];
};

/* The format ops' view of pt, its command path included (pt_dom.c). */
void pt_dom_of(const struct ims_pt *pt, struct pt_dom *d);
/* The format's flush of [iova, iova + size) (size 0: everything) through
 * pt's command path (pt_dom.c). */
int pt_flush_range(struct ims_pt *pt, uint64_t iova, uint64_t size, bool leaf_only);

/* The harvest (harvest.c). pt_memo_init sets up the fast path's per-level
 * memo of entry shapes for a new table; pt_harvest_range reads (and unless
 * IMS_DIRTY_NO_CLEAR, clears) the dirty state of [first, last] (inclusive,
 * checked by the caller) into bm (NULL: clear only). */
void pt_memo_init(struct ims_pt *pt);
int pt_harvest_range(struct ims_pt *pt, uint64_t first, uint64_t last, unsigned flags,
		     struct ims_bitmap *bm);

/* Small helpers of every walk, inline in pt.c and harvest.c alike. */

/* Inclusive last byte of the domain's IOVA space. */
static inline uint64_t iova_last(const struct ims_pt *pt)
{
	return pt->g.ias >= 64 ? ~0ull : (1ull << pt->g.ias) - 1;
}

static inline uint64_t sw_load(struct ims_pt *pt, uint64_t pa)
{
	return ims_mem_load(pt->mem, IMS_AGENT_SW, pa);
}

static inline void sw_store(struct ims_pt *pt, uint64_t pa, uint64_t v)
{
	ims_mem_store(pt->mem, IMS_AGENT_SW, pa, v);
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
