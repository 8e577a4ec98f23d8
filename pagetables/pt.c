/* Generic radix I/O page table: the software side under test.
 *
 * Table lifetime, map / unmap / iova_to_phys / for_each_leaf and switching
 * dirty tracking over any format through its pt_fmt ops. Walks are one pass
 * over the range and skip empty entries. read_and_clear_dirty is harvest.c;
 * the format ops' command path is pt_dom.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats/format.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"

static const struct pt_fmt *fmt_ops(enum ims_format f)
{
	const struct fmt_desc *d = fmt_get(f);
	return d && d->sw && d->sw->init ? d->sw : NULL;
}

/* log2 of the 4 KiB frames a table at `level` spans: a table is
 * 8 * 2^bits bytes, aligned to its size (SMMU 16K and 64K granules). */
static unsigned table_order(const struct ims_pt *pt, int level)
{
	unsigned lg = pt_level_bits(&pt->g, level) + 3;
	return lg > IMS_PAGE_SHIFT ? lg - IMS_PAGE_SHIFT : 0;
}

static int table_alloc(struct ims_pt *pt, int level, uint64_t *pa)
{
	unsigned order = table_order(pt, level);
	int rc = ims_mem_pool_alloc_order(pt->mem, order, pa);
	if (rc)
		return rc;
	pt->stats.table_pages += 1ull << order;
	if (pt->stats.table_pages > pt->stats.table_pages_peak)
		pt->stats.table_pages_peak = pt->stats.table_pages;
	return 0;
}

static void table_free(struct ims_pt *pt, int level, uint64_t pa)
{
	unsigned order = table_order(pt, level);
	for (uint64_t i = 0; i < (1ull << order); i++)
		ims_mem_pool_free(pt->mem, pa + (i << IMS_PAGE_SHIFT));
	pt->stats.table_pages -= 1ull << order;
}

int ims_pt_new(struct ims_mem *mem, const struct ims_pt_cfg *cfg_in, const struct ims_sink *sink,
	       struct ims_pt **out, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*out = NULL;
	const struct pt_fmt *ops = fmt_ops(cfg_in->fmt);
	if (!ops) {
		snprintf(err, errlen, "format %s is not built in", ims_format_name(cfg_in->fmt));
		return -EINVAL;
	}
	if (cfg_in->walker >= ims_pt_walker_count()) {
		snprintf(err, errlen, "walker variant %u is not built in", cfg_in->walker);
		return -EINVAL;
	}
	struct ims_pt *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->ops = ops;
	pt->mem = mem;
	pt->sink = *sink;
	pt->cfg = *cfg_in;
	struct pt_params prm = {pt->cfg.levels, pt->cfg.granule_shift, pt->cfg.ias, pt->cfg.pgsizes};
	int rc = ops->init(&prm, &pt->g, err, errlen);
	pt->cfg.levels = prm.levels;
	pt->cfg.granule_shift = prm.granule_shift;
	pt->cfg.ias = prm.ias;
	pt->cfg.pgsizes = prm.pgsizes;
	if (rc)
		goto fail;
	if (pt->cfg.pgsizes & ~pt->g.pgsizes) {
		uint64_t bad = pt->cfg.pgsizes & ~pt->g.pgsizes;
		snprintf(err, errlen, "page size 0x%llx is not a leaf size of %s in this geometry",
			 1ull << __builtin_ctzll(bad), ims_format_name(cfg_in->fmt));
		rc = -EINVAL;
		goto fail;
	}
	pt->pgsizes = pt->cfg.pgsizes;
	if (!pt->pgsizes) {
		snprintf(err, errlen, "no leaf size left");
		rc = -EINVAL;
		goto fail;
	}
	rc = table_alloc(pt, pt->g.top, &pt->root);
	if (rc)
		goto fail;
	pt_memo_init(pt);
	*out = pt;
	return 0;
fail:
	free(pt);
	return rc;
}

static void free_tree(struct ims_pt *pt, uint64_t table, int level)
{
	if (level > 0) {
		for (unsigned i = 0; i < (1u << pt_level_bits(&pt->g, level)); i++) {
			uint64_t pte = ims_mem_load(pt->mem, IMS_AGENT_SW, table + 8ull * i);
			if (pte && pt->ops->kind(&pt->g, level, pte) == PT_TABLE)
				free_tree(pt, pt->ops->table_pa(pte), level - 1);
		}
	}
	table_free(pt, level, table);
}

void ims_pt_free(struct ims_pt *pt)
{
	if (!pt)
		return;
	/* Tear-down is not part of what the hook observes. */
	free_tree(pt, pt->root, pt->g.top);
	free(pt);
}

void ims_pt_ctx_words(const struct ims_pt *pt, uint64_t words[8])
{
	struct pt_dom d;
	pt_dom_of(pt, &d);
	pt->ops->ctx_words(&d, words);
}
uint64_t ims_pt_pgsizes(const struct ims_pt *pt) { return pt->pgsizes; }
uint64_t ims_pt_min_pgsize(const struct ims_pt *pt) { return pt->pgsizes & -pt->pgsizes; }
enum ims_format ims_pt_format(const struct ims_pt *pt) { return pt->ops->fmt; }
bool ims_pt_tracking(const struct ims_pt *pt) { return pt->tracking; }
const struct ims_pt_stats *ims_pt_stats(const struct ims_pt *pt) { return &pt->stats; }

int ims_pt_set_walker(struct ims_pt *pt, unsigned walker)
{
	if (walker >= ims_pt_walker_count())
		return -EINVAL;
	pt->cfg.walker = walker;
	return 0;
}

uint64_t ims_pt_iova_limit(const struct ims_pt *pt)
{
	return pt->g.ias >= 64 ? 0 : 1ull << pt->g.ias;
}

/* ---- leaf iteration -------------------------------------------------------- */

/* Calls fn for every leaf run that intersects [first, last], in IOVA order.
 * fn gets the table, level, index of the run's first entry, its entry count,
 * the page's IOVA and shift; returns non-zero to stop. */
typedef int (*leaf_fn)(struct ims_pt *pt, void *arg, uint64_t table, int level, unsigned idx0,
		       unsigned n, uint64_t page_iova, unsigned shift);

static int for_leaves(struct ims_pt *pt, uint64_t table, int level, uint64_t base, uint64_t first,
		      uint64_t last, leaf_fn fn, void *arg)
{
	const struct pt_geom *g = &pt->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	uint64_t span_last = base + (bits + shift >= 64 ? ~0ull - base : ((1ull << (bits + shift)) - 1));
	uint64_t lo = first > base ? first : base;
	uint64_t hi = last < span_last ? last : span_last;
	unsigned i = (unsigned)((lo - base) >> shift);
	unsigned iend = (unsigned)((hi - base) >> shift);
	for (; i <= iend; i++) {
		uint64_t pte = sw_load(pt, table + 8ull * i);
		if (!pte)
			continue;
		enum pt_kind k = pt->ops->kind(g, level, pte);
		uint64_t ebase = base + ((uint64_t)i << shift);
		if (k == PT_TABLE) {
			if (level == 0)
				continue;
			int rc = for_leaves(pt, pt->ops->table_pa(pte), level - 1, ebase, first, last,
					    fn, arg);
			if (rc)
				return rc;
		} else if (k == PT_LEAF) {
			unsigned s = pt->ops->leaf_shift(g, level, pte);
			unsigned n = s > shift ? 1u << (s - shift) : 1;
			unsigned i0 = i & ~(n - 1);
			uint64_t piova = base + ((uint64_t)i0 << shift);
			int rc = fn(pt, arg, table, level, i0, n, piova, s);
			if (rc)
				return rc;
			i = i0 + n - 1;
		}
	}
	return 0;
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
		if (!pte) {
			uint64_t nt;
			int rc = table_alloc(pt, level - 1, &nt);
			if (rc)
				return rc;
			sw_store(pt, slot, pt->ops->mk_table(g, level, nt));
			table = nt;
		} else if (pt->ops->kind(g, level, pte) == PT_TABLE) {
			table = pt->ops->table_pa(pte);
		} else {
			return -EEXIST;
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

int ims_pt_map(struct ims_pt *pt, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot,
	       uint64_t pgsize)
{
	uint64_t last;
	uint64_t sizes = pt->pgsizes;
	if (pgsize) {
		if (!ims_is_pow2(pgsize) || !(sizes & pgsize))
			return -EINVAL;
		sizes = pgsize;
	}
	uint64_t min = sizes & -sizes;
	if (!prot || prot > IMS_PROT_RW)
		return -EINVAL;
	int rc = check_range(pt, iova, size, min, &last);
	if (rc)
		return rc;
	if (pa & (min - 1))
		return -EINVAL;
	if (for_leaves(pt, pt->root, pt->g.top, 0, iova, last, any_leaf, NULL))
		return -EEXIST;
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

int ims_pt_iova_to_phys(struct ims_pt *pt, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	const struct pt_geom *g = &pt->g;
	if (iova > iova_last(pt))
		return -ENOENT;
	uint64_t table = pt->root;
	for (int level = g->top; level >= 0; level--) {
		uint64_t pte = sw_load(pt, table + 8ull * level_index(g, level, iova));
		enum pt_kind k = pte ? pt->ops->kind(g, level, pte) : PT_NONE;
		if (k == PT_NONE)
			return -ENOENT;
		if (k == PT_LEAF) {
			if (pa)
				*pa = pt->ops->leaf_pa(g, level, pte, iova);
			if (prot)
				*prot = pt->ops->leaf_prot(pte);
			return 0;
		}
		if (level == 0)
			return -ENOENT;
		table = pt->ops->table_pa(pte);
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

/* Clears leaves in [first, last] under `table`; frees tables left empty.
 * Returns true when `table` itself is now empty. */
static bool unmap_walk(struct ims_pt *pt, uint64_t table, int level, uint64_t base, uint64_t first,
		       uint64_t last, uint64_t *bytes, bool *freed)
{
	const struct pt_geom *g = &pt->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	unsigned nent = 1u << bits;
	uint64_t span_last = base + (bits + shift >= 64 ? ~0ull - base : ((1ull << (bits + shift)) - 1));
	uint64_t lo = first > base ? first : base;
	uint64_t hi = last < span_last ? last : span_last;
	unsigned i = (unsigned)((lo - base) >> shift);
	unsigned iend = (unsigned)((hi - base) >> shift);
	for (; i <= iend; i++) {
		uint64_t slot = table + 8ull * i;
		uint64_t pte = sw_load(pt, slot);
		if (!pte)
			continue;
		enum pt_kind k = pt->ops->kind(g, level, pte);
		if (k == PT_TABLE && level > 0) {
			uint64_t ebase = base + ((uint64_t)i << shift);
			uint64_t child = pt->ops->table_pa(pte);
			if (unmap_walk(pt, child, level - 1, ebase, first, last, bytes, freed)) {
				sw_store(pt, slot, 0);
				table_free(pt, level - 1, child);
				*freed = true;
			}
		} else if (k == PT_LEAF) {
			sw_store(pt, slot, 0);
			*bytes += 1ull << shift;
		}
	}
	for (unsigned j = 0; j < nent; j++)
		if (sw_load(pt, table + 8ull * j))
			return false;
	return true;
}

int ims_pt_unmap(struct ims_pt *pt, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	uint64_t last, bytes = 0;
	bool freed = false;
	if (unmapped)
		*unmapped = 0;
	int rc = check_range(pt, iova, size, ims_pt_min_pgsize(pt), &last);
	if (rc)
		return rc;
	struct cut_arg c = {iova, last};
	if (for_leaves(pt, pt->root, pt->g.top, 0, iova, last, cuts_leaf, &c))
		return -EINVAL;
	unmap_walk(pt, pt->root, pt->g.top, 0, iova, last, &bytes, &freed);
	if (bytes) {
		/* Freed tables may sit in walk caches: then the flush covers them. */
		rc = pt_flush_range(pt, iova, size, !freed);
		if (rc)
			return rc;
	}
	if (unmapped)
		*unmapped = bytes;
	return 0;
}


int ims_pt_unmap_read_dirty(struct ims_pt *pt, uint64_t iova, uint64_t size, struct ims_bitmap *bm,
			    uint64_t *unmapped)
{
	if (unmapped)
		*unmapped = 0;
	if (!pt->tracking)
		return -EINVAL;
	uint64_t last;
	int rc = check_range(pt, iova, size, ims_pt_min_pgsize(pt), &last);
	if (rc)
		return rc;
	struct cut_arg c = {iova, last};
	if (for_leaves(pt, pt->root, pt->g.top, 0, iova, last, cuts_leaf, &c))
		return -EINVAL;
	if (!pt_walker_get(pt->cfg.walker)->no_read_before_unmap) {
		rc = ims_pt_read_and_clear_dirty(pt, iova, size, 0, bm);
		if (rc)
			return rc;
	}
	return ims_pt_unmap(pt, iova, size, unmapped);
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
	return for_leaves(pt, pt->root, pt->g.top, 0, iova, last, leaf_visit, &cb);
}

int ims_pt_set_dirty_tracking(struct ims_pt *pt, bool enable)
{
	if (!pt->cfg.dirty_tracking)
		return -EINVAL;
	if (enable) {
		/* iommufd: clear stale dirty state first, then switch updates on. */
		if (!pt_walker_get(pt->cfg.walker)->no_clear_on_enable) {
			int rc = pt_harvest_range(pt, 0, iova_last(pt), 0, NULL);
			if (rc)
				return rc;
		}
	}
	struct pt_dom d;
	pt_dom_of(pt, &d);
	int rc = pt->ops->set_hw_dirty(&d, enable);
	if (rc) {
		/* Hardware refused (e.g. no capability): put the context back. */
		pt->ops->set_hw_dirty(&d, !enable);
		return rc;
	}
	pt->tracking = enable;
	return 0;
}

int ims_pt_flush(struct ims_pt *pt, uint64_t iova, uint64_t size)
{
	if (size) {
		uint64_t last;
		int rc = check_range(pt, iova, size, 1, &last);
		if (rc)
			return rc;
	}
	return pt_flush_range(pt, iova, size, false);
}
