/* The reference walker: read_and_clear_dirty as a driver writes it, through
 * the walker ABI's host only, for a reader to check against
 * dirty-semantics.md ("read_and_clear_dirty") in minutes. The fast walker
 * (harvest.c) is checked against it differentially (unit.test_walker_diff, and
 * `fuzz --walker reference`).
 *
 * What it relies on: the format's software decoders (formats/swfmt.h) to
 * tell a table from a leaf and read a leaf's size and dirty state, through
 * pt_decode (pt_check.c), which turns a corrupt entry into a finding the
 * walk skips; nothing of the fast walker. It reads entry by entry, so every access is a point
 * where the model may act: host->load for each entry it uses, and for a
 * run of empty entries the host's scan (pt_scan), which is those loads,
 * one by one whenever something watches them.
 */
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"

struct ref {
	struct ims_walker_dom *d;
	const struct pt_fmt *f;
	const struct pt_geom *g;
	uint64_t first, last; /* inclusive */
	unsigned flags;
	struct ims_walker_dirty *dirty;
	uint64_t entries;
	uint64_t left; /* tables the walk may still enter (pt_enter) */
};

/* dirty-semantics.md: the clean is one atomic operation on the entry, so a
 * hardware update between a read and the clean is never undone. Every
 * format here cleans by clearing bits (AMD, VT-d: D) or by setting them
 * (SMMU: AP[2], read-only). */
static void clean(struct ref *r, uint64_t slot)
{
	const struct ims_walker_host *h = r->d->host;
	if (r->f->clean_clear)
		h->fetch_and(r->d, slot, ~r->f->clean_clear);
	if (r->f->clean_set)
		h->fetch_or(r->d, slot, r->f->clean_set);
}

/* One leaf of 2^size_shift bytes at page_iova, made of n entries from
 * slot0 (AMD replicas, an Arm contiguous group, or one entry) at `level`:
 * dirty when any entry is; recorded whole (the host clips to the range);
 * every entry cleaned unless NO_CLEAR. A run with an entry that is no leaf
 * of its size is corrupt: reported, and left as it is. */
static void leaf(struct ref *r, int level, uint64_t slot0, unsigned n, uint64_t page_iova,
		 unsigned size_shift)
{
	const struct ims_walker_host *h = r->d->host;
	struct ims_pt *pt = pt_of(r->d);
	bool dirty = false;
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = h->load(r->d, slot0 + 8ull * k);
		if (n > 1 && !pt_run_entry_ok(pt, level, v, size_shift)) {
			pt_bad_run(pt, level, slot0 + 8ull * k, v, size_shift);
			r->entries += k + 1;
			return;
		}
		dirty |= r->f->is_dirty(v);
	}
	r->entries += n;
	if (!dirty)
		return;
	h->record(r->dirty, page_iova, size_shift >= 64 ? 0 : 1ull << size_shift);
	if (r->flags & IMS_WALKER_NO_CLEAR)
		return;
	for (unsigned k = 0; k < n; k++)
		clean(r, slot0 + 8ull * k);
}

/* The entries of `table` (at `level`, mapping from `base`) that meet
 * [first, last]. */
static void walk(struct ref *r, uint64_t table, int level, uint64_t base)
{
	const struct pt_geom *g = r->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	/* The entries from the one holding `first` (or 0) to the one holding
	 * `last` (or the table's end); the table spans 2^(bits + shift) bytes
	 * from base, all of the 64-bit space at most. */
	uint64_t span_last = bits + shift >= 64 ? ~0ull : (1ull << (bits + shift)) - 1;
	unsigned i = r->first > base ? (unsigned)((r->first - base) >> shift) : 0;
	unsigned iend = r->last - base < span_last ? (unsigned)((r->last - base) >> shift)
						   : (1u << bits) - 1;
	uint64_t pte;
	struct ims_pt *pt = pt_of(r->d);
	for (; (i = pt_scan(pt, table, i, iend, &pte)) <= iend; i++) {
		uint64_t lo = base + ((uint64_t)i << shift);
		uint64_t slot = table + 8ull * i;
		struct pt_ent e;
		enum pt_kind k = pt_decode(pt, level, slot, pte, false, &e);
		if (k == PT_TABLE) {
			if (pt_enter(pt, &r->left, level, slot, pte, false))
				walk(r, e.next, level - 1, lo);
		} else if (k == PT_LEAF) {
			unsigned i0 = i & ~(e.n - 1); /* a run is aligned to its length */
			leaf(r, level, table + 8ull * i0, e.n, base + ((uint64_t)i0 << shift), e.shift);
			i = i0 + e.n - 1;
		}
	}
}

int pt_ref_rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
	       struct ims_walker_dirty *dirty)
{
	struct ims_pt *pt = pt_of(d);
	struct ref r = {.d = d, .f = pt->ops, .g = &pt->g, .first = iova,
			.last = size ? iova + (size - 1) : ~0ull, .flags = flags, .dirty = dirty,
			.left = pt_walk_budget(pt)};
	walk(&r, d->root, d->top, 0);
	pt->stats.harvest_entries += r.entries;
	return 0;
}
