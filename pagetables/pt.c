/* Generic radix I/O page table: the software side under test.
 *
 * map / unmap / iova_to_phys / read_and_clear_dirty over any format through
 * its pt_fmt ops. Walks are one pass over the range, skip empty entries and
 * read each table's frame once (word by word only when a memory hook is
 * installed, so the hook sees every software access).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "pagetables/classify.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"

#define FRAME_ENTRIES (IMS_PAGE_SIZE / 8)

static const struct pt_fmt *fmt_ops(enum ims_format f)
{
	const struct fmt_desc *d = fmt_get(f);
	return d && d->sw && d->sw->init ? d->sw : NULL;
}

static int host_submit(void *host, const uint64_t cmd[2])
{
	struct ims_pt *pt = host;
	pt->stats.flushes++;
	return pt->sink.submit(pt->sink.arg, pt->ops->fmt, cmd);
}

static int host_ctx_change(void *host, unsigned word, uint64_t mask, uint64_t value)
{
	struct ims_pt *pt = host;
	int rc = pt->sink.ctx_update(pt->sink.arg, pt->cfg.tag, word, mask, value);
	if (!rc)
		rc = pt->sink.ctx_flush(pt->sink.arg, pt->cfg.tag);
	if (!rc) {
		struct pt_dom d;
		pt_dom_of(pt, &d);
		rc = pt->ops->flush(&d, 0, 0, false);
	}
	return rc;
}

void pt_dom_of(const struct ims_pt *pt, struct pt_dom *d)
{
	*d = (struct pt_dom){
		.tag = pt->cfg.tag,
		.levels = pt->cfg.levels,
		.dirty_tracking = pt->cfg.dirty_tracking,
		.tracking = pt->tracking,
		.root = pt->root,
		.g = &pt->g,
		.submit = host_submit,
		.ctx_change = host_ctx_change,
		.host = (void *)pt, /* the host callbacks own the table */
	};
}

static int pt_flush_range(struct ims_pt *pt, uint64_t iova, uint64_t size, bool leaf_only)
{
	struct pt_dom d;
	pt_dom_of(pt, &d);
	return pt->ops->flush(&d, iova, size, leaf_only);
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

static void memo_init(struct ims_pt *pt);

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
	memo_init(pt);
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

/* Inclusive last byte of the domain's IOVA space. */
static uint64_t iova_last(const struct ims_pt *pt)
{
	return pt->g.ias >= 64 ? ~0ull : (1ull << pt->g.ias) - 1;
}

static uint64_t sw_load(struct ims_pt *pt, uint64_t pa)
{
	return ims_mem_load(pt->mem, IMS_AGENT_SW, pa);
}

static void sw_store(struct ims_pt *pt, uint64_t pa, uint64_t v)
{
	ims_mem_store(pt->mem, IMS_AGENT_SW, pa, v);
}

static unsigned level_index(const struct pt_geom *g, int level, uint64_t iova)
{
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	return (unsigned)((iova >> shift) & ((1ull << bits) - 1));
}

/* Range checks shared by every op: aligned to `align`, non-empty, inside
 * the domain. *last gets the inclusive end. */
static int check_range(const struct ims_pt *pt, uint64_t iova, uint64_t size, uint64_t align,
		       uint64_t *last)
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

/* ---- read_and_clear_dirty ----------------------------------------------------- */

struct harvest {
	uint64_t first, last; /* inclusive range */
	unsigned flags;
	struct ims_bitmap *bm;
	uint64_t g_first, g_last; /* gathered (cleaned) range, inclusive */
	bool gathered;
	const struct pt_walker *w;
	/* Fast path (plain walkers, no hook): single-entry leaves whose shape
	 * is memoised; their records merge into one pending range, their
	 * entries and view RMWs are counted at the end. */
	bool fast;
	/* Blocks of 64 entries classified at once; the clean and dirty shapes
	 * met last at each level, kept from frame to frame. */
	pt_classify64_fn classify;
	uint64_t kc[PT_MAX_LEVELS], kd[PT_MAX_LEVELS];
	bool pend;
	uint64_t pend_lo, pend_hi;
	uint64_t entries, rmws;
};

static void gather_add(struct harvest *h, uint64_t first, uint64_t last)
{
	if (!h->gathered) {
		h->g_first = first;
		h->g_last = last;
		h->gathered = true;
		return;
	}
	if (first < h->g_first)
		h->g_first = first;
	if (last > h->g_last)
		h->g_last = last;
}

/* One leaf run: OR the dirty state over every entry, record the page
 * clipped to the range, clean every entry atomically. */
static void harvest_run(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			const uint64_t *view, unsigned idx0, unsigned n, uint64_t page_iova,
			unsigned shift)
{
	(void)level;
	const struct pt_walker *w = h->w;
	bool dirty = false;
	unsigned look = w->check_first_only ? 1 : n;
	for (unsigned i = 0; i < look; i++) {
		uint64_t v = view ? view[(idx0 + i) % FRAME_ENTRIES]
				 : sw_load(pt, table + 8ull * (idx0 + i));
		dirty |= pt->ops->is_dirty(v);
	}
	pt->stats.harvest_entries += look;
	if (!dirty)
		return;
	uint64_t plast = page_iova + (shift >= 64 ? ~0ull : (1ull << shift) - 1);
	uint64_t lo = page_iova > h->first ? page_iova : h->first;
	uint64_t hi = plast < h->last ? plast : h->last;
	if (h->bm)
		w->record(h->bm, lo, hi, page_iova, shift, w);
	if (h->flags & IMS_DIRTY_NO_CLEAR)
		return;
	unsigned nclean = w->clean_first_only ? 1 : n;
	for (unsigned i = 0; i < nclean; i++) {
		uint64_t slot = table + 8ull * (idx0 + i);
		if (w->nonatomic_clean) {
			/* Bug 4: every entry of the run rewritten from a plain load. */
			uint64_t v = sw_load(pt, slot);
			sw_store(pt, slot, (v & ~pt->ops->clean_clear) | pt->ops->clean_set);
		} else if (pt->ops->is_dirty(view ? view[(idx0 + i) % FRAME_ENTRIES]
						   : sw_load(pt, slot))) {
			ims_mem_rmw(pt->mem, IMS_AGENT_SW, slot, pt->ops->clean_clear,
				    pt->ops->clean_set);
		}
	}
	gather_add(h, page_iova, plast);
}

/* ---- the fast path: entry shapes ------------------------------------------------
 *
 * A dense harvest meets the same few kinds of leaf entry millions of times:
 * clean, accessed, dirty, read-only. What the decoders say about an entry
 * depends on its bits outside the output address (present, type, size
 * code, A/D) and, for every format here, not on the address, except where
 * the address field itself carries a size code (AMD NextLevel=7). So the
 * decoders run once per shape (the entry with its address masked off) and
 * their answer is kept per level; a shape is kept only if the decoders give
 * the same answer over probes of its address field (all zeros, all ones,
 * each bit alone, each run of low ones: the AMD size code is such a run),
 * else it stays on the slow path. Only single-entry leaves and empty
 * entries are answered from the memo; tables and runs always decode. */

enum { CLS_NONE = 1, CLS_CLEAN, CLS_DIRTY, CLS_SLOW };

/* The address field of a single-entry leaf at each level, from the
 * format's own encoder: the bits mk_leaf changes when only pa changes. */
static void memo_init(struct ims_pt *pt)
{
	const struct pt_geom *g = &pt->g;
	memset(pt->memo, 0, sizeof(pt->memo));
	for (int l = 0; l <= g->top && l < PT_MAX_LEVELS; l++) {
		unsigned s = pt_level_shift(g, l);
		if (s >= 52 || pt->ops->leaf_level(g, s) != l)
			continue;
		bool dt = pt->cfg.dirty_tracking;
		uint64_t a = 0, e0 = pt->ops->mk_leaf(g, l, s, 0, 0, IMS_PROT_RW, dt);
		for (unsigned b = s; b < 52; b++)
			a |= e0 ^ pt->ops->mk_leaf(g, l, s, 1ull << b, 0, IMS_PROT_RW, dt);
		pt->memo[l].addr = a;
		pt->memo[l].keymask = a ? ~a : 0;
	}
}

static int classify(const struct ims_pt *pt, int level, uint64_t pte)
{
	const struct pt_geom *g = &pt->g;
	enum pt_kind k = pte ? pt->ops->kind(g, level, pte) : PT_NONE;
	if (k == PT_NONE)
		return CLS_NONE;
	if (k != PT_LEAF || pt->ops->leaf_shift(g, level, pte) != pt_level_shift(g, level))
		return CLS_SLOW;
	return pt->ops->is_dirty(pte) ? CLS_DIRTY : CLS_CLEAN;
}

static void memo_learn(struct ims_pt *pt, int level, uint64_t pte)
{
	struct pt_memo *m = &pt->memo[level];
	uint64_t key = pte & m->keymask;
	int c = classify(pt, level, pte);
	bool same = c != CLS_SLOW && classify(pt, level, key) == c &&
		    classify(pt, level, key | m->addr) == c;
	uint64_t low = 0;
	for (uint64_t a = m->addr; a && same; a &= a - 1) {
		uint64_t bit = a & -a;
		low |= bit;
		same = classify(pt, level, key | bit) == c && classify(pt, level, key | low) == c;
	}
	unsigned w = m->n < PT_MEMO_WAYS ? m->n++ : m->next++ % PT_MEMO_WAYS;
	m->key[w] = key;
	m->cls[w] = (uint8_t)(same ? c : CLS_SLOW);
}

static inline int memo_find(const struct pt_memo *m, uint64_t key)
{
	for (unsigned w = 0; w < m->n; w++)
		if (m->key[w] == key)
			return m->cls[w];
	return 0;
}

static void record_flush(struct harvest *h)
{
	if (h->pend) {
		h->w->record(h->bm, h->pend_lo, h->pend_hi, h->pend_lo, 0, h->w);
		h->pend = false;
	}
}

/* Dirty single-entry leaves [piova, plast] found side by side: recorded
 * (merged with the pending record when adjacent) and gathered as a whole,
 * which sets the same bits and gathers the same range as one at a time. */
static void dirty_span(struct harvest *h, uint64_t piova, uint64_t plast)
{
	if (h->bm) {
		uint64_t lo = piova > h->first ? piova : h->first;
		uint64_t hi = plast < h->last ? plast : h->last;
		if (h->pend && lo == h->pend_hi + 1) {
			h->pend_hi = hi;
		} else {
			record_flush(h);
			h->pend = true;
			h->pend_lo = lo;
			h->pend_hi = hi;
		}
	}
	if (!(h->flags & IMS_DIRTY_NO_CLEAR))
		gather_add(h, piova, plast);
}

static void harvest_walk(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			 uint64_t base);

/* Prefetch for writing the bitmap word of the page at `at` (clipped). */
static inline void prefetch_bit(const struct harvest *h, uint64_t at)
{
	const struct ims_bitmap *bm = h->bm;
	at = at < h->first ? h->first : at;
	__builtin_prefetch(bm->words + (((at - bm->iova) >> bm->pgshift) >> 6), 1);
}

/* The bit of bm for the page at iova, negative before the bitmap. */
static inline int64_t bm_bit(const struct ims_bitmap *bm, uint64_t iova)
{
	return iova >= bm->iova ? (int64_t)((iova - bm->iova) >> bm->pgshift)
				: -(int64_t)((bm->iova - iova) >> bm->pgshift);
}

/* Set bits [b, b + 512) of bm from m[8] (bit k of m = bit b + k); bits of
 * m below -b (when b < 0) are zero, as are those past the bitmap. */
static void or_mask(struct ims_bitmap *bm, int64_t b, const uint64_t m[FRAME_ENTRIES / 64])
{
	for (unsigned w = 0; w < FRAME_ENTRIES / 64; w++, b += 64) {
		uint64_t v = m[w];
		if (!v)
			continue;
		int64_t at = b;
		if (at < 0) {
			v >>= -at; /* -at < 64: a lower bit of this word is set */
			at = 0;
		}
		unsigned off = (unsigned)(at & 63);
		uint64_t wi = (uint64_t)at >> 6;
		bm->words[wi] |= v << off;
		if (off && v >> (64 - off))
			bm->words[wi + 1] |= v >> (64 - off);
	}
}

/* spread_tab[a - 1][b]: bit i of the byte b widened to bits [i f, i f + f)
 * with f = 2^a, the bitmap bits of a page f times the bitmap's page. For
 * f >= 16 a word holds fewer than eight pages and only the low 64 / f bits
 * of b are ever set. Built by the compiler; 12 KiB. */
#define SPREAD_BIT(b, i, f)                                                                  \
	((i) * (f) < 64 ? (((b) >> (i)) & 1ull) *                                             \
				  (((f) >= 64 ? ~0ull : (1ull << ((f) & 63)) - 1) << (((i) * (f)) & 63)) \
			: 0ull)
#define SPREAD_BYTE(b, f)                                                                    \
	(SPREAD_BIT(b, 0, f) | SPREAD_BIT(b, 1, f) | SPREAD_BIT(b, 2, f) | SPREAD_BIT(b, 3, f) | \
	 SPREAD_BIT(b, 4, f) | SPREAD_BIT(b, 5, f) | SPREAD_BIT(b, 6, f) | SPREAD_BIT(b, 7, f))
#define SPREAD_4(b, f)                                                                       \
	SPREAD_BYTE((b), f), SPREAD_BYTE((b) + 1, f), SPREAD_BYTE((b) + 2, f), SPREAD_BYTE((b) + 3, f)
#define SPREAD_16(b, f) SPREAD_4((b), f), SPREAD_4((b) + 4, f), SPREAD_4((b) + 8, f), SPREAD_4((b) + 12, f)
#define SPREAD_64(b, f)                                                                      \
	SPREAD_16((b), f), SPREAD_16((b) + 16, f), SPREAD_16((b) + 32, f), SPREAD_16((b) + 48, f)
#define SPREAD_256(f) {SPREAD_64(0, f), SPREAD_64(64, f), SPREAD_64(128, f), SPREAD_64(192, f)}
static const uint64_t spread_tab[6][256] = {SPREAD_256(2),  SPREAD_256(4),  SPREAD_256(8),
					    SPREAD_256(16), SPREAD_256(32), SPREAD_256(64)};

/* The bitmap word of 64 / f pages whose dirty bits are the low bits of x,
 * each page widened to f bits (f = 2^a, a = 1 .. 6). */
static inline uint64_t spread_word(uint64_t x, unsigned a)
{
	const uint64_t *t = spread_tab[a - 1];
	const unsigned per = 64u >> a; /* pages in the word */
	uint64_t out = t[x & 0xff];
	for (unsigned s = 8; s < per; s += 8)
		out |= t[(x >> s) & 0xff] << (s << a);
	return out;
}

/* Baseline x86-64 has no popcnt instruction, so __builtin_popcountll is a
 * libgcc call, about a sixth of a dense frame's time at 10 % dirty; and its
 * vectors are 16 bytes, two entries per step where a whole dirty word is
 * cleaned. The frame pass is built three times, for AVX2, with popcnt, and
 * for the baseline, and the loader picks the best the CPU runs (an ifunc):
 * the build stays baseline. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define PT_FRAME_CLONES __attribute__((target_clones("avx2", "popcnt", "default")))
#endif
#endif
#ifndef PT_FRAME_CLONES
#define PT_FRAME_CLONES
#endif

/* The entries [i, fend] of one frame on the fast path; returns where the
 * scan ended (past fend).
 *
 * A first pass classifies. Eight entries at a time while they are all of
 * the last clean or dirty shape met (or empty): no branch per entry, so
 * scattered dirty pages cost no mispredictions, and loops the compiler can
 * vectorise; anything else goes entry by entry. Dirty entries are marked
 * in a 512-bit mask, and the bitmap line of an entry that owns a whole one
 * is prefetched. A second pass cleans the marked entries and records them:
 * with a page per bitmap bit the mask is ORed into the bitmap as it is,
 * otherwise each run of neighbours is one record, so that the misses on a
 * cold bitmap overlap instead of coming one by one. Without a hook nothing
 * observes the order of the cleans, records and descents into tables, and
 * each is what the slow path does. */
PT_FRAME_CLONES
static unsigned harvest_walk_frame(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
				   uint64_t base, const uint64_t *view, uint64_t *wview, unsigned i,
				   unsigned fend)
{
	const struct pt_geom *g = &pt->g;
	struct pt_memo *m = &pt->memo[level];
	const unsigned shift = pt_level_shift(g, level);
	const uint64_t km = m->keymask;
	/* The last clean and dirty shapes met; ~0 is no shape, as the address
	 * field is never empty. */
	uint64_t kc = h->kc[level], kd = h->kd[level];
	uint64_t cnt = 0;
	uint64_t dm[FRAME_ENTRIES / 64] = {0};
	struct ims_bitmap *bm = h->bm;
	/* Only an entry that owns a whole bitmap line is worth a prefetch; a
	 * frame of smaller pages shares lines the hardware prefetcher follows. */
	const bool pf = bm && shift >= bm->pgshift + 9;
	for (; i <= fend; i++) {
		unsigned j = i % FRAME_ENTRIES;
		if (!(j & 63) && i + 63 <= fend) {
			/* 64 entries at once: when each is of the last clean or
			 * dirty shape or empty, as in a dense or an unused table,
			 * nothing below is needed; else the blocks of 8 learn. */
			struct pt_cls64 b;
			h->classify(view + j, km, kc, kd, &b);
			if ((b.clean | b.dirty | b.empty) == ~0ull) {
				cnt += (uint64_t)__builtin_popcountll(~b.empty);
				dm[j / 64] |= b.dirty;
				for (uint64_t bits = pf ? b.dirty : 0; bits; bits &= bits - 1)
					prefetch_bit(h, base + ((uint64_t)(i + (unsigned)__builtin_ctzll(bits))
								<< shift));
				i += 63;
				continue;
			}
		}
		if (!(j & 7) && i + 7 <= fend) {
			const uint64_t *p = view + j;
			if (!(p[0] | p[1] | p[2] | p[3] | p[4] | p[5] | p[6] | p[7])) {
				/* Empty: a 16K or 64K table a sparse mapping barely
				 * uses is mostly this, so run past it. */
				while (i + 15 <= fend && !(p[8] | p[9] | p[10] | p[11] | p[12] | p[13] |
							   p[14] | p[15])) {
					p += 8;
					i += 8;
				}
				i += 7;
				continue;
			}
			/* Left over from the blocks of 64 (range edges, shapes
			 * being learnt): "all clean" and "all dirty" first. */
			uint64_t xc = 0, xd = 0;
			for (unsigned k = 0; k < 8; k++) {
				xc |= (p[k] & km) ^ kc;
				xd |= (p[k] & km) ^ kd;
			}
			if (!xc) {
				cnt += 8;
				i += 7;
				continue;
			}
			unsigned cmask = 0, dmask = 0xff;
			if (xd) {
				dmask = 0;
				for (unsigned k = 0; k < 8; k++) {
					uint64_t key = p[k] & km;
					cmask |= (unsigned)(key == kc) << k;
					dmask |= (unsigned)(key == kd) << k;
				}
			}
			if ((cmask | dmask) == 0xff) {
				cnt += 8;
				dm[j / 64] |= (uint64_t)dmask << (j % 64);
				for (unsigned k = 0; pf && k < 8; k++)
					if ((dmask >> k) & 1)
						prefetch_bit(h, base + ((uint64_t)(i + k) << shift));
				i += 7;
				continue;
			}
		}
		uint64_t pte = view[j];
		if (!pte)
			continue;
		uint64_t key = pte & km;
		if (key == kc) {
			cnt++;
			continue;
		}
		int c = key == kd ? CLS_DIRTY : memo_find(m, key);
		if (c == CLS_CLEAN) {
			kc = key;
			cnt++;
			continue;
		}
		if (c == CLS_DIRTY) {
			kd = key;
			cnt++;
			dm[j / 64] |= 1ull << (j % 64);
			if (pf)
				prefetch_bit(h, base + ((uint64_t)i << shift));
			continue;
		}
		if (c == CLS_NONE)
			continue;
		if (!c)
			memo_learn(pt, level, pte);
		/* Decoded the long way, as on the slow path. */
		enum pt_kind k = pt->ops->kind(g, level, pte);
		uint64_t ebase = base + ((uint64_t)i << shift);
		if (k == PT_TABLE) {
			if (level > 0)
				harvest_walk(pt, h, pt->ops->table_pa(pte), level - 1, ebase);
		} else if (k == PT_LEAF) {
			unsigned s = pt->ops->leaf_shift(g, level, pte);
			unsigned n = s > shift ? 1u << (s - shift) : 1;
			unsigned i0 = i & ~(n - 1);
			uint64_t piova = base + ((uint64_t)i0 << shift);
			harvest_run(pt, h, table, level, view, i0, n, piova, s);
			i = i0 + n - 1;
		}
	}

	h->kc[level] = kc;
	h->kd[level] = kd;

	/* The marked entries: clean each, then record and gather them. */
	unsigned first = FRAME_ENTRIES, last = 0;
	uint64_t nd = 0;
	for (unsigned w = 0; w < FRAME_ENTRIES / 64; w++) {
		if (!dm[w])
			continue;
		if (first == FRAME_ENTRIES)
			first = w * 64 + (unsigned)__builtin_ctzll(dm[w]);
		last = w * 64 + 63 - (unsigned)__builtin_clzll(dm[w]);
	}
	if (first == FRAME_ENTRIES) {
		h->entries += cnt;
		return i;
	}
	const uint64_t cc = pt->ops->clean_clear, cs = pt->ops->clean_set;
	const bool clear = !(h->flags & IMS_DIRTY_NO_CLEAR);
	const unsigned f0 = fend & ~(FRAME_ENTRIES - 1);
	const uint64_t fbase = base + ((uint64_t)f0 << shift);
	for (unsigned w = first / 64; w <= last / 64; w++) {
		uint64_t bits = dm[w];
		if (!bits)
			continue;
		nd += (uint64_t)__builtin_popcountll(bits);
		if (!clear)
			continue;
		if (wview && bits == ~0ull) {
			/* A dirty entry always changes when cleaned. */
			uint64_t *q = wview + w * 64;
			for (unsigned k = 0; k < 64; k++)
				q[k] = (q[k] & ~cc) | cs;
			continue;
		}
		for (; bits; bits &= bits - 1) {
			unsigned k = w * 64 + (unsigned)__builtin_ctzll(bits);
			if (wview)
				wview[k] = (wview[k] & ~cc) | cs;
			else
				ims_mem_rmw(pt->mem, IMS_AGENT_SW, table + 8ull * (f0 + k), cc, cs);
		}
	}
	h->entries += cnt;
	if (clear && wview)
		h->rmws += nd;
	if (!bm || shift == bm->pgshift) {
		/* A page per bit: a page cut by the range still owns its whole bit,
		 * as with the plain recorder; the gathered range needs only the
		 * frame's first and last dirty page. */
		if (bm) {
			or_mask(bm, bm_bit(bm, fbase), dm);
		}
		if (clear)
			gather_add(h, fbase + ((uint64_t)first << shift),
				   fbase + ((uint64_t)(last + 1) << shift) - 1);
		return i;
	}
	const uint64_t dlo = fbase + ((uint64_t)first << shift);
	const uint64_t dhi = fbase + ((uint64_t)(last + 1) << shift) - 1;
	uint64_t runs = 0;
	for (unsigned w = first / 64, carry = 0; w <= last / 64; w++) {
		runs += (uint64_t)__builtin_popcountll(dm[w] & ~(dm[w] << 1 | carry));
		carry = (unsigned)(dm[w] >> 63);
	}
	if (runs * 2 > nd && shift > bm->pgshift && shift - bm->pgshift <= 6 && dlo >= h->first &&
	    dhi <= h->last && dlo >= bm->iova && dhi - bm->iova <= bm->length - 1) {
		/* Short runs of pages of up to 64 bits (a 16K or 64K page over a
		 * 4 KiB bitmap), none cut by the range or the bitmap: each dirty
		 * page's bits are ORed in directly, the bits the plain recorder
		 * sets; long runs are cheaper as one record each, below. */
		const unsigned a = shift - bm->pgshift;
		const unsigned f = 1u << a;
		/* The frame may start before the bitmap; its dirty pages do not. */
		const int64_t b0 = bm_bit(bm, fbase);
		if (b0 >= 0 && !(b0 & 63)) {
			/* The frame starts a bitmap word: the mask is widened a
			 * word at a time, with no branch per page. Every word from
			 * the first dirty page's to the last's is in the bitmap. */
			const unsigned per = 64u >> a;
			const uint64_t pmask = (1ull << per) - 1;
			const uint64_t q0 = (uint64_t)b0 >> 6;
			for (uint64_t q = q0 + ((uint64_t)first << a) / 64,
				      q1 = q0 + (((uint64_t)last << a) + f - 1) / 64;
			     q <= q1; q++) {
				unsigned j = (unsigned)(q - q0) * per;
				uint64_t x = (dm[j / 64] >> (j % 64)) & pmask;
				bm->words[q] |= spread_word(x, a);
			}
		} else {
			const uint64_t ones = f == 64 ? ~0ull : (1ull << f) - 1;
			for (unsigned w = first / 64; w <= last / 64; w++) {
				for (uint64_t bits = dm[w]; bits; bits &= bits - 1) {
					uint64_t bit = (uint64_t)(b0 + (int64_t)(w * 64 + (unsigned)__builtin_ctzll(bits)) * f);
					unsigned off = (unsigned)(bit & 63);
					bm->words[bit >> 6] |= ones << off;
					if (off + f > 64)
						bm->words[(bit >> 6) + 1] |= ones >> (64 - off);
				}
			}
		}
		if (clear)
			gather_add(h, dlo, dhi);
		return i;
	}
	/* Run by run, not bit by bit: a run's end is the first zero above
	 * its start. */
	unsigned run0 = first, run1 = first;
	for (unsigned w = first / 64; w <= last / 64; w++) {
		uint64_t bits = dm[w];
		while (bits) {
			unsigned s = (unsigned)__builtin_ctzll(bits);
			uint64_t above = ~(bits >> s);
			unsigned len = above ? (unsigned)__builtin_ctzll(above) : 64 - s;
			unsigned j = w * 64 + s;
			if (j != run1) {
				dirty_span(h, fbase + ((uint64_t)run0 << shift),
					   fbase + ((uint64_t)run1 << shift) - 1);
				run0 = j;
			}
			run1 = j + len;
			bits = s + len >= 64 ? 0 : bits & (~0ull << (s + len));
		}
	}
	dirty_span(h, fbase + ((uint64_t)run0 << shift), fbase + ((uint64_t)run1 << shift) - 1);
	return i;
}

static void harvest_walk(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			 uint64_t base)
{
	const struct pt_geom *g = &pt->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	uint64_t span_last = base + (bits + shift >= 64 ? ~0ull - base : ((1ull << (bits + shift)) - 1));
	uint64_t lo = h->first > base ? h->first : base;
	uint64_t hi = h->last < span_last ? h->last : span_last;
	unsigned i = (unsigned)((lo - base) >> shift);
	unsigned iend = (unsigned)((hi - base) >> shift);
	/* One look-up per 4 KiB frame of the table (a 16K or 64K table spans
	 * several); entry loads are counted in bulk. Under a hook every load
	 * goes through memory so the hook sees it. */
	bool hooked = ims_mem_hooked(pt->mem);
	struct pt_memo *m = h->fast && !hooked && level < PT_MAX_LEVELS && pt->memo[level].keymask
				    ? &pt->memo[level]
				    : NULL;
	while (i <= iend) {
		unsigned fend = (i / FRAME_ENTRIES) * FRAME_ENTRIES + (FRAME_ENTRIES - 1);
		if (fend > iend)
			fend = iend;
		const uint64_t *view = NULL;
		uint64_t *wview = NULL;
		if (!hooked) {
			uint64_t fpa = table + 8ull * (i / FRAME_ENTRIES) * FRAME_ENTRIES;
			view = ims_mem_frame(pt->mem, fpa);
			if (!view) {
				i = fend + 1; /* a frame never written holds no entries */
				continue;
			}
			ims_mem_count(pt->mem, IMS_AGENT_SW, IMS_MEM_LOAD, fend - i + 1);
			if (m)
				wview = ims_mem_frame_rw(pt->mem, fpa);
		}
		if (m) {
			i = harvest_walk_frame(pt, h, table, level, base, view, wview, i, fend);
			continue;
		}
		for (; i <= fend; i++) {
			uint64_t pte = view ? view[i % FRAME_ENTRIES] : sw_load(pt, table + 8ull * i);
			if (!pte)
				continue;
			enum pt_kind k = pt->ops->kind(g, level, pte);
			uint64_t ebase = base + ((uint64_t)i << shift);
			if (k == PT_TABLE) {
				if (level > 0)
					harvest_walk(pt, h, pt->ops->table_pa(pte), level - 1, ebase);
			} else if (k == PT_LEAF) {
				/* Runs are aligned to their length, which divides a
				 * frame's 512 entries: a run never leaves its frame. */
				unsigned s = pt->ops->leaf_shift(g, level, pte);
				unsigned n = s > shift ? 1u << (s - shift) : 1;
				unsigned i0 = i & ~(n - 1);
				uint64_t piova = base + ((uint64_t)i0 << shift);
				harvest_run(pt, h, table, level, view, i0, n, piova, s);
				i = i0 + n - 1;
			}
		}
	}
}

/* Classic bug 6, kept as the benchmark's peer: every page is looked up by
 * a walk from the root, as the older Linux AMD and Intel walkers did (an
 * absent entry skips its whole span, as theirs did). Each leaf run is then
 * handled exactly as the one-pass walker handles it. */
static void harvest_rewalk(struct ims_pt *pt, struct harvest *h)
{
	const struct pt_geom *g = &pt->g;
	uint64_t iova = h->first;
	for (;;) {
		uint64_t table = pt->root, start = iova;
		unsigned span = 0;
		for (int level = g->top; level >= 0; level--) {
			unsigned shift = pt_level_shift(g, level);
			unsigned idx = level_index(g, level, iova);
			uint64_t pte = sw_load(pt, table + 8ull * idx);
			enum pt_kind k = pte ? pt->ops->kind(g, level, pte) : PT_NONE;
			if (k == PT_TABLE && level > 0) {
				table = pt->ops->table_pa(pte);
				continue;
			}
			span = shift;
			if (k == PT_LEAF) {
				unsigned s = pt->ops->leaf_shift(g, level, pte);
				unsigned n = s > shift ? 1u << (s - shift) : 1;
				span = s > shift ? s : shift;
				start = span >= 64 ? 0 : iova & ~((1ull << span) - 1);
				harvest_run(pt, h, table, level, NULL, idx & ~(n - 1), n, start, s);
			} else {
				start = iova & ~((1ull << shift) - 1);
			}
			break;
		}
		uint64_t end = start + (span >= 64 ? ~0ull : (1ull << span) - 1);
		if (end >= h->last || end < start)
			break;
		iova = end + 1;
	}
}

static int harvest_range(struct ims_pt *pt, uint64_t first, uint64_t last, unsigned flags,
			 struct ims_bitmap *bm)
{
	struct harvest h = {.first = first, .last = last, .flags = flags, .bm = bm,
			    .w = pt_walker_get(pt->cfg.walker)};
	h.fast = h.w->plain;
	h.classify = pt_classify64_pick();
	for (int l = 0; l < PT_MAX_LEVELS; l++)
		h.kc[l] = h.kd[l] = ~0ull;
	if (h.w->rewalk)
		harvest_rewalk(pt, &h);
	else
		harvest_walk(pt, &h, pt->root, pt->g.top, 0);
	record_flush(&h);
	pt->stats.harvest_entries += h.entries;
	if (h.rmws)
		ims_mem_count(pt->mem, IMS_AGENT_SW, IMS_MEM_RMW, h.rmws);
	if (h.gathered && !h.w->skip_flush) {
		uint64_t size = h.g_last - h.g_first + 1;
		return pt_flush_range(pt, h.g_first, size ? size : 0, true);
	}
	return 0;
}

int ims_pt_read_and_clear_dirty(struct ims_pt *pt, uint64_t iova, uint64_t size, unsigned flags,
				struct ims_bitmap *bm)
{
	uint64_t last;
	if (flags & ~(unsigned)IMS_DIRTY_NO_CLEAR)
		return -EOPNOTSUPP;
	if (bm && !pt->tracking)
		return -EINVAL;
	int rc = check_range(pt, iova, size, 1, &last);
	if (rc)
		return rc;
	if (bm && (bm->iova > iova || bm->iova + (bm->length - 1) < last))
		return -EINVAL;
	return harvest_range(pt, iova, last, flags, bm);
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
			int rc = harvest_range(pt, 0, iova_last(pt), 0, NULL);
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
