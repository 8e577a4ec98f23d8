/* The built-in page table: a full-level walker of the walker ABI
 * (pt_builtin_tables) over any format through its pt_fmt ops.
 *
 * Table lifetime, map / unmap / iova_to_phys / for_each_leaf and switching
 * hardware dirty updates. Its table accesses and table memory go through
 * the ABI's host (host.c) as any walker's do; host.c checks ranges before
 * calling here. Walks are one pass over the range and skip empty entries.
 * Its harvest is the selected built-in walker (harvest.c, ref_walker.c);
 * the format ops' command path is pt_dom.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats/format.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"

/* log2 of the 4 KiB frames a table at `level` spans: a table is
 * 8 * 2^bits bytes, aligned to its size (SMMU 16K and 64K granules). */
static unsigned table_order(const struct ims_pt *pt, int level)
{
	unsigned lg = pt_level_bits(&pt->g, level) + 3;
	return lg > IMS_PAGE_SHIFT ? lg - IMS_PAGE_SHIFT : 0;
}

static int table_alloc(struct ims_pt *pt, int level, uint64_t *pa)
{
	return pt_host.alloc_table(pt_dom(pt), table_order(pt, level), pa);
}

static void table_free(struct ims_pt *pt, int level, uint64_t pa)
{
	pt_host.free_table(pt_dom(pt), pa, table_order(pt, level));
}

static int bt_init(struct ims_walker_dom *d, char *err, size_t errlen)
{
	struct ims_pt *pt = pt_of(d);
	int rc = table_alloc(pt, pt->g.top, &d->root);
	if (rc)
		snprintf(err, errlen, "no memory for the root table");
	return rc;
}

/* Frees every table below `table`, then it. A table met twice through a
 * corrupt entry is no longer live the second time (pt_decode), and the
 * budget bounds the rest; nothing is reported at tear-down. */
static void free_tree(struct ims_pt *pt, uint64_t table, int level, uint64_t *left)
{
	if (level > 0) {
		for (unsigned i = 0; i < (1u << pt_level_bits(&pt->g, level)); i++) {
			uint64_t slot = table + 8ull * i;
			uint64_t pte = ims_mem_load(pt->mem, IMS_AGENT_SW, slot);
			struct pt_ent e;
			if (pt_decode(pt, level, slot, pte, true, &e) == PT_TABLE &&
			    pt_enter(pt, left, level, slot, pte, true))
				free_tree(pt, e.next, level - 1, left);
		}
	}
	table_free(pt, level, table);
}

static void bt_free(struct ims_walker_dom *d)
{
	struct ims_pt *pt = pt_of(d);
	/* Tear-down is not part of what the hook observes. */
	uint64_t left = pt_walk_budget(pt);
	free_tree(pt, pt->root, pt->g.top, &left);
}

static void bt_ctx_words(struct ims_walker_dom *d, uint64_t words[8])
{
	struct pt_dom pd;
	pt_dom_of(pt_of(d), &pd);
	pt_of(d)->ops->ctx_words(&pd, words);
}

/* ---- leaf iteration -------------------------------------------------------- */

/* Calls fn for every leaf run that intersects [first, last], in IOVA order.
 * fn gets the table, level, index of the run's first entry, its entry count,
 * the page's IOVA and shift; returns non-zero to stop. A corrupt entry or
 * run is a finding and skipped (with stop_bad: the walk stops there and
 * returns -EUCLEAN); *left is the walk's budget of tables. */
typedef int (*leaf_fn)(struct ims_pt *pt, void *arg, uint64_t table, int level, unsigned idx0,
		       unsigned n, uint64_t page_iova, unsigned shift);

static int for_leaves_in(struct ims_pt *pt, uint64_t table, int level, uint64_t base,
			 uint64_t first, uint64_t last, leaf_fn fn, void *arg, uint64_t *left,
			 bool stop_bad)
{
	const struct pt_geom *g = &pt->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	uint64_t span_last = base + (bits + shift >= 64 ? ~0ull - base : ((1ull << (bits + shift)) - 1));
	uint64_t lo = first > base ? first : base;
	uint64_t hi = last < span_last ? last : span_last;
	unsigned i = (unsigned)((lo - base) >> shift);
	unsigned iend = (unsigned)((hi - base) >> shift);
	uint64_t pte;
	for (; (i = pt_scan(pt, table, i, iend, &pte)) <= iend; i++) {
		uint64_t slot = table + 8ull * i;
		struct pt_ent e;
		enum pt_kind k = pt_decode(pt, level, slot, pte, false, &e);
		uint64_t ebase = base + ((uint64_t)i << shift);
		if (k == PT_BAD && stop_bad)
			return -EUCLEAN;
		if (k == PT_TABLE) {
			if (!pt_enter(pt, left, level, slot, pte, false)) {
				if (stop_bad)
					return -EUCLEAN;
				continue;
			}
			int rc = for_leaves_in(pt, e.next, level - 1, ebase, first, last, fn, arg,
					       left, stop_bad);
			if (rc)
				return rc;
		} else if (k == PT_LEAF) {
			unsigned i0 = i & ~(e.n - 1);
			if (!pt_run_ok(pt, table, level, i0, e.n, e.shift, false)) {
				if (stop_bad)
					return -EUCLEAN;
				i = i0 + e.n - 1;
				continue;
			}
			uint64_t piova = base + ((uint64_t)i0 << shift);
			int rc = fn(pt, arg, table, level, i0, e.n, piova, e.shift);
			if (rc)
				return rc;
			i = i0 + e.n - 1;
		}
	}
	return 0;
}

static int for_leaves(struct ims_pt *pt, uint64_t first, uint64_t last, leaf_fn fn, void *arg,
		      bool stop_bad)
{
	uint64_t left = pt_walk_budget(pt);
	return for_leaves_in(pt, pt->root, pt->g.top, 0, first, last, fn, arg, &left, stop_bad);
}

/* ---- map --------------------------------------------------------------------- */

static int any_leaf(struct ims_pt *pt, void *arg, uint64_t table, int level, unsigned idx0,
		    unsigned n, uint64_t page_iova, unsigned shift)
{
	(void)pt, (void)arg, (void)table, (void)level, (void)idx0, (void)n, (void)page_iova,
		(void)shift;
	return 1;
}

static int install(struct ims_pt *pt, uint64_t iova, uint64_t pa, unsigned s, unsigned prot)
{
	const struct pt_geom *g = &pt->g;
	int L = pt->ops->leaf_level(g, s);
	if (L < 0)
		return -EINVAL;
	uint64_t table = pt->root;
	for (int level = g->top; level > L; level--) {
		uint64_t slot = table + 8ull * level_index(g, level, iova);
		uint64_t pte = sw_load(pt, slot);
		/* bt_map's look over the range (for_leaves) has decoded every
		 * table entry on this path, and where it leads, just now. */
		enum pt_kind k = pte ? pt->ops->kind(g, level, pte) : PT_NONE;
		if (!pte) {
			uint64_t nt;
			int rc = table_alloc(pt, level - 1, &nt);
			if (rc)
				return rc;
			sw_store(pt, slot, pt->ops->mk_table(g, level, nt));
			table = nt;
		} else if (k == PT_TABLE) {
			table = pt->ops->table_pa(pte);
		} else {
			/* A leaf, or a corrupt entry (reported) in the way; an
			 * entry that is not present but not empty either is left
			 * alone as well. */
			return k == PT_BAD ? -EUCLEAN : -EEXIST;
		}
	}
	unsigned es = pt_level_shift(g, L);
	unsigned n = 1u << (s - es);
	unsigned i0 = level_index(g, L, iova);
	for (unsigned i = 0; i < n; i++)
		sw_store(pt, table + 8ull * (i0 + i),
			 pt->ops->mk_leaf(g, L, s, pa, i, prot, pt->cfg.dirty_tracking));
	pt->stats.leaves += n;
	return 0;
}

static int bt_map(struct ims_walker_dom *d, uint64_t iova, uint64_t pa, uint64_t size,
		  unsigned prot, uint64_t pgsize)
{
	struct ims_pt *pt = pt_of(d);
	uint64_t sizes = pgsize ? pgsize : pt->pgsizes;
	uint64_t last = iova + (size - 1); /* host.c checked the range */
	int rc;
	/* Nothing may be there: no leaf, nor a corrupt entry to write over. */
	rc = for_leaves(pt, iova, last, any_leaf, NULL, true);
	if (rc)
		return rc < 0 ? rc : -EEXIST;
	uint64_t left = size, at = iova, out = pa;
	while (left) {
		/* The largest size that fits alignment and length. */
		uint64_t fit = sizes;
		uint64_t align = (at | out) & -(at | out);
		if (align)
			fit &= (align << 1) - 1;
		fit &= left | (left - 1);
		uint64_t s = fit;
		while (s & (s - 1))
			s &= s - 1;
		for (; s && (s > left || !(fit & s)); s >>= 1)
			;
		if (!s)
			return -EINVAL;
		rc = install(pt, at, out, ims_log2(s), prot);
		if (rc)
			return rc;
		at += s;
		out += s;
		left -= s;
	}
	return 0;
}

/* ---- iova_to_phys ------------------------------------------------------------ */

static int bt_iova_to_phys(struct ims_walker_dom *d, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	struct ims_pt *pt = pt_of(d);
	const struct pt_geom *g = &pt->g;
	uint64_t table = pt->root;
	for (int level = g->top; level >= 0; level--) {
		uint64_t slot = table + 8ull * level_index(g, level, iova);
		uint64_t pte = sw_load(pt, slot);
		struct pt_ent e;
		enum pt_kind k = pt_decode(pt, level, slot, pte, false, &e);
		if (k == PT_LEAF) {
			unsigned i0 = level_index(g, level, iova) & ~(e.n - 1);
			if (!pt_run_ok(pt, table, level, i0, e.n, e.shift, false))
				return -ENOENT;
			*pa = pt->ops->leaf_pa(g, level, pte, iova);
			*prot = pt->ops->leaf_prot(pte);
			return 0;
		}
		if (k != PT_TABLE)
			return -ENOENT; /* empty, or corrupt (reported) */
		table = e.next;
	}
	return -ENOENT;
}

/* ---- unmap ------------------------------------------------------------------- */

struct cut_arg {
	uint64_t first, last;
};

static int cuts_leaf(struct ims_pt *pt, void *arg, uint64_t table, int level, unsigned idx0,
		     unsigned n, uint64_t page_iova, unsigned shift)
{
	(void)pt, (void)table, (void)level, (void)idx0, (void)n;
	const struct cut_arg *c = arg;
	uint64_t plast = page_iova + ((shift >= 64 ? ~0ull : (1ull << shift) - 1));
	return page_iova < c->first || plast > c->last;
}

struct unmap_arg {
	uint64_t first, last; /* inclusive */
	uint64_t bytes;       /* leaf bytes cleared */
	bool freed;           /* a table was freed */
	uint64_t left;        /* the walk's budget of tables */
};

/* Clears leaves in [first, last] under `table`; frees tables left empty.
 * A corrupt entry whose whole span lies in the range is cleared too (the
 * software unmaps what is there; its finding says what it was). Returns
 * true when `table` itself is now empty. */
static bool unmap_walk(struct ims_pt *pt, uint64_t table, int level, uint64_t base,
		       struct unmap_arg *u)
{
	uint64_t first = u->first, last = u->last;
	const struct pt_geom *g = &pt->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	unsigned nent = 1u << bits;
	uint64_t span_last = base + (bits + shift >= 64 ? ~0ull - base : ((1ull << (bits + shift)) - 1));
	uint64_t lo = first > base ? first : base;
	uint64_t hi = last < span_last ? last : span_last;
	unsigned i = (unsigned)((lo - base) >> shift);
	unsigned iend = (unsigned)((hi - base) >> shift);
	uint64_t pte;
	for (; (i = pt_scan(pt, table, i, iend, &pte)) <= iend; i++) {
		uint64_t slot = table + 8ull * i;
		struct pt_ent e;
		enum pt_kind k = pt_decode(pt, level, slot, pte, false, &e);
		uint64_t ebase = base + ((uint64_t)i << shift);
		if (k == PT_TABLE) {
			if (!pt_enter(pt, &u->left, level, slot, pte, false))
				continue;
			if (unmap_walk(pt, e.next, level - 1, ebase, u)) {
				sw_store(pt, slot, 0);
				table_free(pt, level - 1, e.next);
				u->freed = true;
			}
		} else if (k == PT_LEAF) {
			sw_store(pt, slot, 0);
			u->bytes += 1ull << shift;
		} else if (k == PT_BAD && ebase >= first && ebase + ((1ull << shift) - 1) <= last) {
			sw_store(pt, slot, 0);
		}
	}
	return pt_scan(pt, table, 0, nent - 1, &pte) == nent; /* empty now */
}

static int bt_unmap(struct ims_walker_dom *d, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	struct ims_pt *pt = pt_of(d);
	uint64_t last = iova + (size - 1); /* host.c checked the range */
	struct cut_arg c = {iova, last};
	if (for_leaves(pt, iova, last, cuts_leaf, &c, false))
		return -EINVAL;
	struct unmap_arg u = {.first = iova, .last = last, .left = pt_walk_budget(pt)};
	unmap_walk(pt, pt->root, pt->g.top, 0, &u);
	*unmapped = u.bytes;
	if (u.bytes) {
		/* Freed tables may sit in walk caches: then the flush covers them. */
		return pt_flush_range(pt, iova, size, !u.freed);
	}
	return 0;
}

/* VFIO's unmap with GET_DIRTY_BITMAP: refuse a cut leaf before reading,
 * read and clear with the selected walker, then unmap. */
static int bt_unmap_read_dirty(struct ims_walker_dom *d, uint64_t iova, uint64_t size,
			       struct ims_walker_dirty *dirty, uint64_t *unmapped)
{
	struct ims_pt *pt = pt_of(d);
	uint64_t last = iova + (size - 1);
	struct cut_arg c = {iova, last};
	if (for_leaves(pt, iova, last, cuts_leaf, &c, false))
		return -EINVAL;
	if (!(pt->knobs && pt->knobs->no_read_before_unmap)) {
		int rc = pt_harvest(pt, iova, last, 0, dirty->bm);
		if (rc)
			return rc;
	}
	return bt_unmap(d, iova, size, unmapped);
}

struct leaf_cb {
	ims_pt_leaf_fn fn;
	void *arg;
};

static int leaf_visit(struct ims_pt *pt, void *arg, uint64_t table, int level, unsigned idx0,
		      unsigned n, uint64_t page_iova, unsigned shift)
{
	(void)n;
	struct leaf_cb *cb = arg;
	uint64_t pte = sw_load(pt, table + 8ull * idx0);
	uint64_t pa = pt->ops->leaf_pa(&pt->g, level, pte, page_iova);
	return cb->fn(cb->arg, page_iova, shift, pa, pt->ops->leaf_prot(pte));
}

int ims_pt_for_each_leaf(struct ims_pt *pt, uint64_t iova, uint64_t size, ims_pt_leaf_fn fn,
			 void *arg)
{
	uint64_t last = iova_last(pt);
	if (size) {
		int rc = check_range(pt, iova, size, 1, &last);
		if (rc)
			return rc;
	} else {
		iova = 0;
	}
	struct leaf_cb cb = {fn, arg};
	return for_leaves(pt, iova, last, leaf_visit, &cb, false);
}

static int bt_set_dirty_tracking(struct ims_walker_dom *d, bool enable)
{
	struct ims_pt *pt = pt_of(d);
	if (!pt->cfg.dirty_tracking)
		return -EINVAL;
	struct pt_dom pd;
	pt_dom_of(pt, &pd);
	return pt->ops->set_hw_dirty(&pd, enable);
}

const struct ims_walker_ops pt_builtin_tables = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = "builtin",
	.description = "the built-in page table (map, unmap, context words) with the fast harvest",
	.level = IMS_WALKER_FULL,
	.formats = (1u << IMS_FMT_COUNT) - 1,
	.read_and_clear_dirty = pt_fast_rcd,
	.domain_init = bt_init,
	.domain_free = bt_free,
	.ctx_words = bt_ctx_words,
	.map = bt_map,
	.unmap = bt_unmap,
	.iova_to_phys = bt_iova_to_phys,
	.set_dirty_tracking = bt_set_dirty_tracking,
	.unmap_read_dirty = bt_unmap_read_dirty,
};
