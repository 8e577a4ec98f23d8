/* read_and_clear_dirty walker variants.
 *
 * Variant 0 is the correct walker. With IMS_SEEDED_BUGS the build also holds
 * one variant per classic bug of dirty-semantics.md, so the fuzzer can prove
 * it finds each; they differ from the correct walker only in these knobs.
 * Every build also holds "rewalk", the performance peer: classic bug 6, a
 * walk from the root for every page (functionally correct, depth x slower),
 * which `iommusim bench` times next to the correct walker.
 */
#ifndef IMS_PAGETABLES_WALKER_H
#define IMS_PAGETABLES_WALKER_H

#include "iommusim/bitmap.h"

struct pt_walker;

/* Record the dirty page [page_iova, page_iova + 2^shift) into bm, clipped to
 * the harvest range [lo, hi] (inclusive). */
typedef void (*pt_record_fn)(struct ims_bitmap *bm, uint64_t lo, uint64_t hi, uint64_t page_iova,
			     unsigned shift, const struct pt_walker *w);

struct pt_walker {
	const char *name;
	const char *what; /* one line: the bug it carries */
	bool check_first_only;   /* bug 1: dirty read from the first entry of a run */
	bool clean_first_only;   /* bug 2: only the first entry of a run cleaned */
	bool skip_flush;         /* bug 3: clean without IOTLB invalidation */
	bool nonatomic_clean;    /* bug 4: load, then store */
	bool no_read_before_unmap; /* bug 7: unmap while tracking without reading */
	bool no_clear_on_enable; /* bug 9: enable without clearing first */
	bool rewalk;             /* bug 6: every page walked from the root */
	/* No knob above and a plain clipping recorder: single-entry leaves
	 * may take the harvest's fast path, adjacent records merged. */
	bool plain;
	pt_record_fn record;     /* bugs 5 and 8 live in the recorder */
};

const struct pt_walker *pt_walker_get(unsigned idx);

#endif
