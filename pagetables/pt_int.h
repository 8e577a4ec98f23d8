/* The generic page table's own state (pagetables/ only). */
#ifndef IMS_PAGETABLES_PT_INT_H
#define IMS_PAGETABLES_PT_INT_H

#include "formats/swfmt.h"
#include "iommusim/pt.h"

/* Harvest fast path (pt.c): per level, the output-address field of a
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

/* The format ops' view of pt, its command path included. */
void pt_dom_of(const struct ims_pt *pt, struct pt_dom *d);

#endif
