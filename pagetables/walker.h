/* The built-in walkers (walker.c): each is a struct ims_walker_ops of the
 * walker ABI, as a plug-in's is, plus the knobs that seed a classic bug.
 *
 * "fast" (index 0, also called "correct") is the tuned harvest that runs by
 * default (harvest.c); "reference" is the one a reader checks against
 * dirty-semantics.md (ref_walker.c); "rewalk" is classic bug 6, correct
 * but slow, the benchmark's peer. With IMS_SEEDED_BUGS the build also holds
 * one variant per classic bug of dirty-semantics.md, on the fast walker's
 * path, so the fuzzer proves it finds each on the path that runs by default.
 */
#ifndef IMS_PAGETABLES_WALKER_H
#define IMS_PAGETABLES_WALKER_H

#include "iommusim/bitmap.h"
#include "iommusim/walker.h"

struct pt_walker;

/* Record the dirty page [page_iova, page_iova + 2^shift) into bm, clipped to
 * the harvest range [lo, hi] (inclusive): the host's bitmap writer, which
 * bugs 5 and 8 replace. */
typedef void (*pt_record_fn)(struct ims_bitmap *bm, uint64_t lo, uint64_t hi, uint64_t page_iova,
			     unsigned shift, const struct pt_walker *w);

struct pt_walker {
	struct ims_walker_ops ops; /* name and description included */
	bool check_first_only;   /* bug 1: dirty read from the first entry of a run */
	bool clean_first_only;   /* bug 2: only the first entry of a run cleaned */
	bool skip_flush;         /* bug 3: clean without gathering (no IOTLB flush) */
	bool nonatomic_clean;    /* bug 4: load, then store */
	bool no_read_before_unmap; /* bug 7: unmap while tracking without reading */
	bool no_clear_on_enable; /* bug 9: enable without clearing first */
	bool rewalk;             /* bug 6: every page walked from the root */
	bool ignore_no_clear;    /* NO_CLEAR ignored: entries cleaned anyway */
	/* The plain recorder: the fast walker may merge adjacent records and
	 * write whole bitmap words itself. */
	bool plain;
	pt_record_fn record;     /* bugs 5 and 8 live in the recorder */
};

const struct pt_walker *pt_walker_get(unsigned idx);
/* The built-in walker whose ops these are, or NULL (a plug-in). */
const struct pt_walker *pt_walker_of(const struct ims_walker_ops *ops);

/* The read_and_clear_dirty implementations (walker ABI). */
int pt_fast_rcd(struct ims_walker_dom *dom, uint64_t iova, uint64_t size, unsigned flags,
		struct ims_walker_dirty *dirty);
int pt_ref_rcd(struct ims_walker_dom *dom, uint64_t iova, uint64_t size, unsigned flags,
	       struct ims_walker_dirty *dirty);

/* The built-in page table (pt.c): a full-level walker whose harvest is the
 * selected built-in one. */
extern const struct ims_walker_ops pt_builtin_tables;

#endif
