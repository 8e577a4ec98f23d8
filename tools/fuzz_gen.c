/* iommusim fuzz: the op-sequence generator.
 *
 * Sequences are generated online from one seed: the generator keeps the
 * state a driver would (mapped ranges per domain, tracking, attached
 * devices), so every event it emits is valid input, and it learns from the
 * runner how many software memory accesses an op made, to place injections
 * (inject-at) where a walk actually has accesses. It biases toward what
 * the classic bugs of dirty-semantics.md need: writes into non-first
 * entries of replica runs and contiguous groups, repeated writes to one
 * page across harvests, harvest ranges that start or end inside large
 * leaves, bitmap pages smaller and larger than leaves, flushes before
 * injected harvests, tracking toggled with dirty pages, unmaps that read
 * dirty state. Its picture of each domain (geometries, set-up, the leaves
 * of each map, points in them) is fuzz_dom.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "iommusim/pt.h"
#include "tools/fuzz_gen.h"

/* ---- small helpers ------------------------------------------------------------------- */

/* A uniformly chosen set bit of mask (mask != 0). */
static uint64_t pick_bit(struct fz_rng *r, uint64_t mask)
{
	unsigned n = (unsigned)__builtin_popcountll(mask);
	unsigned k = (unsigned)fz_below(r, n);
	while (k--)
		mask &= mask - 1;
	return low_bit(mask);
}

/* ---- inject-at estimates ------------------------------------------------------------ */

static const struct measured *cache_find(const struct fz_gen *g, enum ims_op op, uint16_t dom,
					 uint64_t iova, uint64_t size)
{
	for (unsigned i = 0; i < NCACHE; i++) {
		const struct measured *m = &g->cache[i];
		if (m->valid && m->op == op && m->dom == dom && m->iova == iova && m->size == size)
			return m;
	}
	return NULL;
}

/* Software accesses a read of dirty state over [lo, hi] makes, roughly: a
 * load per slot in range of every table on the way (empty slots too), and
 * for each leaf run its entries looked at and cleaned. */
static uint64_t estimate(struct fz_gen *g, struct gdom *d, enum ims_op op, uint64_t iova,
			 uint64_t size)
{
	const struct measured *m = cache_find(g, op, d->id, iova, size);
	if (m)
		return m->count ? m->count : 1;
	uint64_t lo = iova, hi = iova + (size - 1), sum = 2ull * d->depth;
	for (unsigned i = 0; i < d->nmaps && sum <= (1u << 20); i++) {
		const struct gmap *mp = &d->maps[i];
		uint64_t mlast = mp->iova + (mp->size - 1);
		if (mp->iova > hi || mlast < lo)
			continue;
		/* Each run's entries: looked at, then cleaned. */
		for (unsigned k = fz_leaf_index(mp, lo > mp->iova ? lo : mp->iova);
		     k < mp->nleaves && mp->leaves[k].iova <= hi; k++) {
			unsigned sh = mp->leaves[k].shift;
			sum += 3ull << (sh - entry_shift(d, sh));
		}
		/* Slots of the lowest tables around the map, mapped or not. */
		uint64_t small = low_bit(map_sizes(d, mp));
		unsigned es = entry_shift(d, ims_log2(small));
		unsigned bs = es + d->stride;
		uint64_t blo = bs >= 64 ? 0 : align_down(mp->iova, 1ull << bs);
		uint64_t bhi = bs >= 64 ? ~0ull : align_down(mlast, 1ull << bs) + ((1ull << bs) - 1);
		uint64_t a = blo > lo ? blo : lo, b = bhi < hi ? bhi : hi;
		if (a <= b)
			sum += ((b - a) >> es) + 1;
	}
	return sum;
}

/* ---- the event queue ---------------------------------------------------------------------- */

/* ---- op generators --------------------------------------------------------------------------- */

static void gen_domain(const struct gdom *d, struct ims_event *ev)
{
	const struct fz_geo *geo = d->geo;
	ev_init(ev, IMS_OP_DOMAIN);
	ev_set(ev, IMS_K_ID, d->id);
	ev_set(ev, IMS_K_FORMAT, geo->fmt);
	if (d->nested_on)
		ev_set(ev, IMS_K_NESTED, d->nested_on);
	if (geo->levels)
		ev_set(ev, IMS_K_LEVELS, geo->levels);
	if (geo->gshift)
		ev_set(ev, IMS_K_GRANULE, 1ull << geo->gshift);
	if (geo->ias)
		ev_set(ev, IMS_K_IAS, geo->ias);
	if (d->pgsizes != geo->pgsizes)
		ev_set(ev, IMS_K_PGSIZES, d->pgsizes);
	ev_set(ev, IMS_K_DIRTY, d->dirty);
}

static bool gen_map(struct fz_gen *g, struct gdom *d, struct ims_event *ev)
{
	if (d->nmaps >= MAXMAPS)
		return false;
	uint64_t wsize = d->wlast - d->wbase + 1;
	/* A nested domain's maps fit the parent's window as well. */
	uint64_t room = d->nested_on && d->pa_hi - d->pa_lo + 1 < wsize ? d->pa_hi - d->pa_lo + 1
									 : wsize;
	for (int attempt = 0; attempt < 12; attempt++) {
		uint64_t sizes = d->pgsizes;
		uint64_t fit = sizes_upto(sizes, high_bit(room) >> 1);
		if (!fit)
			fit = d->minpg;
		/* Small sizes and run sizes are where the bugs are: a second
		 * draw from the small end half the time. */
		uint64_t s = pick_bit(&g->rng, fit);
		if (fz_pct(&g->rng, 40))
			s = pick_bit(&g->rng, fit & ((s << 1) - 1));
		uint64_t forced = fz_pct(&g->rng, 35) ? s : 0;
		uint64_t count = 1 + fz_below(&g->rng, s <= (1ull << 16) ? 8 : 3);
		uint64_t size = count * s, off = 0;
		if (!forced && fz_pct(&g->rng, 30)) {
			/* Unaligned start and length: mixed leaf sizes. */
			off = d->minpg * fz_below(&g->rng, 4);
			size += d->minpg * fz_below(&g->rng, 4);
		}
		if (size > MAX_MAP_BYTES || size + off > wsize)
			continue;
		uint64_t iova = d->wbase + align_down(fz_below(&g->rng, wsize - size - off + 1), s) + off;
		if (iova + (size - 1) > d->wlast)
			continue;
		/* Mostly congruent with the iova modulo the largest leaf, so the
		 * software can use large leaves; otherwise only page-aligned. */
		uint64_t big = high_bit(d->pgsizes);
		uint64_t pmask = (1ull << PA_LIMIT_SHIFT) - 1;
		uint64_t pa;
		bool refused = false;
		if (d->nested_on) {
			/* Guest-physical, inside the parent's premapped window
			 * (aligned to its size): congruent as above, capped by it.
			 * Now and then in the refused window instead, where stage 2
			 * faults the output (fuzz_s2.c). */
			refused = d->rf_hi && fz_pct(&g->rng, 12);
			uint64_t lo = refused ? d->rf_lo : d->pa_lo, hi = refused ? d->rf_hi : d->pa_hi;
			uint64_t span = hi - lo + 1;
			if (size > span)
				continue;
			uint64_t al = fz_pct(&g->rng, 80) ? big : forced ? forced : d->minpg;
			if (al > span)
				al = span;
			pa = lo + (align_down(fz_below(&g->rng, span - size + 1), al) |
				   (al <= big ? iova & (al - 1) : 0));
			if (pa + (size - 1) > hi)
				continue;
		} else if (fz_pct(&g->rng, 80))
			pa = align_down(fz_next(&g->rng) & pmask, big) | (iova & (big - 1));
		else
			pa = align_down(fz_next(&g->rng) & pmask, forced ? forced : d->minpg);
		if (pa > pmask - (size - 1))
			continue;
		if (forced && ((iova | pa | size) & (forced - 1)))
			continue;
		if ((iova | pa | size) & (d->minpg - 1))
			continue;
		if (fz_overlaps(d, iova, size))
			continue;
		struct gmap m = {iova, size, pa, forced,
				 fz_pct(&g->rng, 15) ? IMS_PROT_R : IMS_PROT_RW, NULL, 0};
		if (!fz_add_map(g, d, &m))
			continue;
		if (refused && g->cfg.cover)
			g->cfg.cover->s2_out_maps++;
		ev_init(ev, IMS_OP_MAP);
		ev_set(ev, IMS_K_DOMAIN, d->id);
		ev_set(ev, IMS_K_IOVA, iova);
		ev_set(ev, IMS_K_PA, pa);
		ev_set(ev, IMS_K_SIZE, size);
		if (m.prot != IMS_PROT_RW || fz_pct(&g->rng, 10))
			ev_set(ev, IMS_K_PROT, m.prot);
		if (forced)
			ev_set(ev, IMS_K_PGSIZE, forced);
		return true;
	}
	return false;
}

static void set_inject(struct fz_gen *g, struct gdom *d, struct ims_event *ev, uint64_t est,
		       uint64_t lo, uint64_t hi)
{
	uint64_t p = 0, leaf, size;
	if (!fz_pick_point_in(g, d, lo, hi, &p, &leaf, &size))
		p = lo + fz_below(&g->rng, hi - lo == ~0ull ? ~0ull : hi - lo + 1);
	ev_set(ev, IMS_K_INJECT_AT, 1 + fz_below(&g->rng, est ? est : 1));
	ev_set(ev, IMS_K_INJECT_DEV, d->dev);
	ev_set(ev, IMS_K_INJECT_IOVA, p);
}

/* A bitmap page size for [iova, iova+size): 4K, the smallest leaf, or
 * anything up to the range; never more than MAX_BITS bits. */
static uint64_t bitmap_pgsize(struct fz_gen *g, const struct gdom *d, uint64_t size)
{
	unsigned c = (unsigned)fz_below(&g->rng, 20);
	uint64_t pg;
	if (c < 9)
		pg = 1ull << 12;
	else if (c < 13)
		pg = d->minpg;
	else {
		unsigned top = size ? ims_log2(size) : 36;
		if (top > 36)
			top = 36;
		if (top < 12)
			top = 12;
		pg = 1ull << (12 + fz_below(&g->rng, top - 12 + 1));
	}
	while ((size / pg) > MAX_BITS)
		pg <<= 1;
	return pg;
}

/* [*lo, *hi] grown to whole bitmap pages. pg is a power of two no larger
 * than the (power-of-two) space, so the result stays inside it. */
static void round_range(uint64_t pg, uint64_t *lo, uint64_t *hi)
{
	*lo = align_down(*lo, pg);
	*hi = align_down(*hi, pg) + (pg - 1);
}

static bool gen_harvest(struct fz_gen *g, struct gdom *d, struct ims_event *ev, bool *count)
{
	uint64_t lo, hi;
	if (d->nranges && fz_pct(&g->rng, 35)) {
		struct grange *r = &d->ranges[fz_below(&g->rng, d->nranges)];
		lo = r->iova;
		hi = r->iova + (r->size - 1);
	} else {
		unsigned c = (unsigned)fz_below(&g->rng, 20);
		uint64_t p, leaf, lsize;
		if (c < 5 && d->nmaps) {
			/* Everything mapped. */
			lo = ~0ull;
			hi = 0;
			for (unsigned i = 0; i < d->nmaps; i++) {
				uint64_t a = d->maps[i].iova, b = a + (d->maps[i].size - 1);
				lo = a < lo ? a : lo;
				hi = b > hi ? b : hi;
			}
		} else if (c < 10 && d->nmaps) {
			/* One map, give or take a little. */
			struct gmap *m = &d->maps[fz_below(&g->rng, d->nmaps)];
			lo = m->iova;
			hi = m->iova + (m->size - 1);
			uint64_t x = d->minpg * fz_below(&g->rng, 3);
			lo = lo - d->wbase >= x ? lo - x : d->wbase;
			x = d->minpg * fz_below(&g->rng, 3);
			hi = d->wlast - hi >= x ? hi + x : d->wlast;
		} else if (c < 17 && ((d->has_hot && fz_pct(&g->rng, 50) &&
				       fz_leaf_of(d, d->hot, &leaf, &lsize) && (p = d->hot, true)) ||
				      fz_pick_point(g, d, &p, &leaf, &lsize))) {
			/* Starting (or ending) inside a leaf, crossing its end (or
			 * start): bugs 5 and 8. */
			uint64_t llast = leaf + (lsize - 1);
			if (fz_pct(&g->rng, 70)) {
				lo = leaf + fz_below(&g->rng, lsize);
				uint64_t more = fz_below(&g->rng, lsize * 2 > lsize ? lsize * 2 : lsize);
				hi = d->wlast - llast >= more ? llast + more : d->wlast;
			} else {
				hi = leaf + fz_below(&g->rng, lsize);
				uint64_t more = fz_below(&g->rng, lsize);
				lo = leaf - d->wbase >= more ? leaf - more : d->wbase;
			}
		} else {
			lo = d->wbase + fz_below(&g->rng, d->wlast - d->wbase + 1);
			uint64_t len = 1 + fz_below(&g->rng, d->wlast - lo + 1);
			hi = lo + (len - 1);
		}
	}
	/* Ranges stay inside the window (or near it): far below 2^64 bytes. */
	bool clear = !fz_pct(&g->rng, 22);
	uint64_t pg = bitmap_pgsize(g, d, hi - lo + 1);
	for (int i = 0; i < 64; i++) {
		round_range(pg, &lo, &hi);
		if ((hi - lo + 1) / pg > MAX_BITS) {
			pg <<= 1;
			continue;
		}
		if (!clear || !fz_whole_leaves(d, &lo, &hi))
			break;
	}
	if (hi > d->geo->last || hi < lo || (hi - lo + 1) / pg > MAX_BITS ||
	    (clear && fz_whole_leaves(d, &lo, &hi)))
		return false;
	uint64_t size = hi - lo + 1;
	if (d->nranges < MAXRANGES)
		d->ranges[d->nranges++] = (struct grange){lo, size};
	else
		d->ranges[fz_below(&g->rng, MAXRANGES)] = (struct grange){lo, size};
	ev_init(ev, IMS_OP_HARVEST);
	ev_set(ev, IMS_K_DOMAIN, d->id);
	ev_set(ev, IMS_K_IOVA, lo);
	ev_set(ev, IMS_K_SIZE, size);
	if (pg != (1ull << 12) || fz_pct(&g->rng, 10))
		ev_set(ev, IMS_K_PGSIZE, pg);
	if (!clear)
		ev_set(ev, IMS_K_NOCLEAR, 0);
	if (fz_pct(&g->rng, 35)) {
		set_inject(g, d, ev, estimate(g, d, IMS_OP_HARVEST, lo, size), lo, hi);
		if (fz_pct(&g->rng, 45)) {
			/* Drop the IOTLB first, so the injected write reaches memory. */
			struct ims_event f;
			ev_init(&f, IMS_OP_FLUSH);
			ev_set(&f, IMS_K_DOMAIN, d->id);
			fz_enqueue(g, &f, false);
			fz_enqueue(g, ev, false);
			return false;
		}
	} else {
		*count = true;
	}
	return true;
}

static bool gen_unmap(struct fz_gen *g, struct gdom *d, struct ims_event *ev, bool *count,
		      bool teardown)
{
	if (!d->nmaps || (!teardown && d->nmaps == d->npinned))
		return false;
	unsigned i = teardown ? 0 : d->npinned + (unsigned)fz_below(&g->rng, d->nmaps - d->npinned);
	uint64_t iova = d->maps[i].iova, size = d->maps[i].size;
	bool gone[MAXMAPS] = {false};
	gone[i] = true;
	/* A union of adjacent whole maps now and then. */
	for (int k = 0; k < 3 && fz_pct(&g->rng, 30); k++) {
		bool grew = false;
		for (unsigned j = 0; j < d->nmaps && !grew; j++) {
			struct gmap *m = &d->maps[j];
			if (gone[j] || j < d->npinned || size + m->size > MAX_MAP_BYTES * 2)
				continue;
			if (m->iova == iova + size || m->iova + m->size == iova) {
				iova = m->iova < iova ? m->iova : iova;
				size += m->size;
				gone[j] = grew = true;
			}
		}
	}
	ev_init(ev, IMS_OP_UNMAP);
	ev_set(ev, IMS_K_DOMAIN, d->id);
	ev_set(ev, IMS_K_IOVA, iova);
	ev_set(ev, IMS_K_SIZE, size);
	bool read = d->tracking && fz_pct(&g->rng, teardown ? 50 : 55);
	if (read) {
		ev_set(ev, IMS_K_READ_DIRTY, 0);
		if (fz_pct(&g->rng, 40)) {
			uint64_t pg = 1ull << (12 + fz_below(&g->rng, 8));
			uint64_t a = low_bit(iova | size);
			if (pg > a)
				pg = a;
			while (size / pg > MAX_BITS)
				pg <<= 1;
			if (!((iova | size) & (pg - 1)))
				ev_set(ev, IMS_K_PGSIZE, pg);
		}
	}
	unsigned pct = read ? 35 : 8;
	if (fz_pct(&g->rng, pct))
		set_inject(g, d, ev, estimate(g, d, IMS_OP_UNMAP, iova, size), iova,
			   iova + (size - 1));
	else
		*count = true;
	for (unsigned j = d->nmaps; j-- > 0;)
		if (gone[j])
			fz_remove_map(d, j);
	ims_pt_unmap(d->pt, iova, size, NULL);
	if (d->has_hot && d->hot >= iova && d->hot - iova < size)
		d->has_hot = false;
	return true;
}

static bool gen_dma(struct fz_gen *g, struct gdom *d, struct ims_event *ev)
{
	uint64_t p = fz_traffic_point(g, d), leaf, lsize;
	uint64_t len;
	unsigned c = (unsigned)fz_below(&g->rng, 20);
	if (c < 11) {
		len = 1 + fz_below(&g->rng, 64);
	} else if (c < 15) {
		len = 1 + fz_below(&g->rng, 3 * 4096);
	} else {
		/* Across the end of the leaf, into the next one or a hole. */
		if (fz_leaf_of(d, p, &leaf, &lsize)) {
			uint64_t end = leaf + (lsize - 1);
			uint64_t back = fz_below(&g->rng, 64);
			p = end - back >= leaf ? end - back : leaf;
		}
		len = 1 + fz_below(&g->rng, 2 * 4096);
	}
	if (p + (len - 1) < p)
		len = 0 - p;
	unsigned dir = (unsigned)fz_below(&g->rng, 20);
	unsigned acc = dir < 11 ? IMS_ACC_W : dir < 17 ? IMS_ACC_R : IMS_ACC_RW;
	ev_init(ev, IMS_OP_DMA);
	ev_set(ev, IMS_K_DEV, d->dev);
	ev_set(ev, IMS_K_IOVA, p);
	ev_set(ev, IMS_K_LEN, len);
	ev_set(ev, IMS_K_DIR, acc);
	if (acc != IMS_ACC_R && fz_leaf_of(d, p, &leaf, &lsize)) {
		d->hot = p;
		d->has_hot = true;
	}
	return true;
}

/* A race aimed at a run written recently: drop the IOTLB, then harvest
 * just that page with a device write into another entry of the run placed
 * somewhere among the walk's accesses. A non-atomic clean (bug 4) loses
 * the write when it lands between the load and the store of that entry.
 * On an Arm group the entry must come after the one already dirty: the
 * hardware skips an update while any entry of the group records it
 * (D8.5.5), and the walker cleans in order. */
static bool gen_race(struct fz_gen *g, struct gdom *d)
{
	uint64_t leaf, lsize;
	if (!d->tracking || !d->has_hot || !fz_leaf_of(d, d->hot, &leaf, &lsize))
		return false;
	unsigned s = ims_log2(lsize), es = entry_shift(d, s);
	uint64_t n = 1ull << (s - es), j = (d->hot - leaf) >> es, i;
	if (n < 2)
		return false;
	if (fmt_get(d->geo->fmt)->hw->group_skip_if_any && j + 1 < n) {
		i = j + 1 + fz_below(&g->rng, n - 1 - j);
	} else {
		i = fz_below(&g->rng, n - 1);
		i += i >= j;
	}
	uint64_t pg = 1ull << 12;
	while (lsize / pg > MAX_BITS)
		pg <<= 1;
	struct ims_event f, h;
	ev_init(&f, IMS_OP_FLUSH);
	ev_set(&f, IMS_K_DOMAIN, d->id);
	ev_init(&h, IMS_OP_HARVEST);
	ev_set(&h, IMS_K_DOMAIN, d->id);
	ev_set(&h, IMS_K_IOVA, leaf);
	ev_set(&h, IMS_K_SIZE, lsize);
	if (pg != (1ull << 12))
		ev_set(&h, IMS_K_PGSIZE, pg);
	uint64_t est = estimate(g, d, IMS_OP_HARVEST, leaf, lsize);
	ev_set(&h, IMS_K_INJECT_AT, 1 + fz_below(&g->rng, est));
	ev_set(&h, IMS_K_INJECT_DEV, d->dev);
	ev_set(&h, IMS_K_INJECT_IOVA, leaf + (i << es) + fz_below(&g->rng, 1ull << es));
	fz_enqueue(g, &f, false);
	fz_enqueue(g, &h, false);
	return true;
}

static bool gen_track(struct fz_gen *g, struct gdom *d, struct ims_event *ev)
{
	if (!d->dirty)
		return false;
	bool on = !d->tracking || fz_pct(&g->rng, 35);
	ev_init(ev, IMS_OP_TRACK);
	ev_set(ev, IMS_K_DOMAIN, d->id);
	ev_set(ev, on ? IMS_K_ON : IMS_K_OFF, 0);
	d->tracking = on;
	return true;
}

static bool gen_flush(struct fz_gen *g, struct gdom *d, struct ims_event *ev)
{
	ev_init(ev, IMS_OP_FLUSH);
	ev_set(ev, IMS_K_DOMAIN, d->id);
	if (fz_pct(&g->rng, 50)) {
		uint64_t lo, hi;
		if (d->nmaps && fz_pct(&g->rng, 70)) {
			struct gmap *m = &d->maps[fz_below(&g->rng, d->nmaps)];
			lo = m->iova;
			hi = m->iova + (m->size - 1);
		} else {
			lo = d->wbase + fz_below(&g->rng, d->wlast - d->wbase + 1);
			hi = lo + fz_below(&g->rng, d->wlast - lo + 1);
		}
		ev_set(ev, IMS_K_IOVA, lo);
		ev_set(ev, IMS_K_SIZE, hi - lo + 1);
	}
	return true;
}

static void gen_check(struct gdom *d, struct ims_event *ev, enum ims_op op)
{
	ev_init(ev, op);
	ev_set(ev, IMS_K_DOMAIN, d->id);
	if (op == IMS_OP_EXPECT_TABLES)
		ev_set(ev, IMS_K_CNT, d->empty_tables);
}

/* After a map or unmap: the invariants, now and then or when it matters. */
static void queue_checks(struct fz_gen *g, struct gdom *d)
{
	struct ims_event c;
	/* A parent's tables hold the nested domain's frames too. */
	if (!d->nmaps && !d->parent) {
		gen_check(d, &c, IMS_OP_EXPECT_TABLES);
		fz_enqueue(g, &c, false);
	}
	/* A nested domain's hardware translation is both stages' (HPA), its
	 * software's stage 1 alone (GPA): nothing to compare. */
	if (fz_pct(&g->rng, 45) && !d->nested_on) {
		gen_check(d, &c, IMS_OP_EXPECT_CONSISTENT);
		fz_enqueue(g, &c, false);
	}
}

/* One random op of the main phase. false: nothing emitted this time. */
static bool gen_op(struct fz_gen *g, struct ims_event *ev, bool *count)
{
	struct gdom *d = &g->doms[fz_below(&g->rng, g->ndoms)];
	if (!d->nmaps)
		return gen_map(g, d, ev) && (queue_checks(g, d), true);
	unsigned w_map = d->nmaps < MAXMAPS ? 10 : 0;
	unsigned w_unmap = 6, w_dma = 36;
	unsigned w_harvest = d->tracking ? 22 : 0;
	unsigned w_track = d->dirty ? (d->tracking ? 4 : 14) : 0;
	unsigned w_flush = 6, w_check = 3;
	unsigned w_race = d->tracking && d->has_hot ? 4 : 0;
	/* Only in a corrupting sequence: the others draw as they did. */
	unsigned w_corrupt = g->corrupt ? 4 : 0;
	/* Only on a nested domain: a stage-1 table frame refused at stage 2,
	 * and given back (fuzz_s2.c). */
	unsigned w_refuse = d->nested_on && !g->rf.on ? 3 : 0;
	unsigned w_restore = d->nested_on && g->rf.on ? 5 : 0;
	unsigned total = w_map + w_unmap + w_dma + w_harvest + w_track + w_flush + w_check + w_race +
			 w_corrupt + w_refuse + w_restore;
	unsigned x = (unsigned)fz_below(&g->rng, total);
	if (x >= total - w_restore)
		return fz_gen_restore_frame(g, ev);
	if (x >= total - w_restore - w_refuse)
		return fz_gen_refuse_frame(g, d, ev);
	if (x >= total - w_restore - w_refuse - w_corrupt) {
		bool flush = false;
		if (!fz_gen_corrupt(g, d, ev, &flush))
			return false;
		if (flush) {
			/* After the mem line (queued events come after this one). */
			struct ims_event f;
			ev_init(&f, IMS_OP_FLUSH);
			ev_set(&f, IMS_K_DOMAIN, d->id);
			fz_enqueue(g, &f, false);
		}
		return true;
	}
	if (x < w_map)
		return gen_map(g, d, ev) && (queue_checks(g, d), true);
	x -= w_map;
	if (x < w_unmap)
		return gen_unmap(g, d, ev, count, false) && (queue_checks(g, d), true);
	x -= w_unmap;
	if (x < w_dma)
		return gen_dma(g, d, ev);
	x -= w_dma;
	if (x < w_harvest)
		return gen_harvest(g, d, ev, count);
	x -= w_harvest;
	if (x < w_track)
		return gen_track(g, d, ev);
	x -= w_track;
	if (x < w_flush)
		return gen_flush(g, d, ev);
	x -= w_flush;
	if (x < w_race)
		return (void)gen_race(g, d), false;
	if (d->nested_on)
		return false;
	gen_check(d, ev, IMS_OP_EXPECT_CONSISTENT);
	return true;
}

/* ---- sequence ------------------------------------------------------------------ */

static int gen_new(const struct fz_gen_cfg *cfg, const struct fz_rng *rng, struct fz_gen **out)
{
	*out = NULL;
	if (!cfg->ngeos)
		return -EINVAL;
	struct fz_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cfg = *cfg;
	g->rng = *rng;
	g->corrupt = fz_corrupt_pick(cfg, rng->s);
	if (g->corrupt && cfg->cover)
		cfg->cover->corrupt_seqs++;
	unsigned maxlen = cfg->max_len < 24 ? 24 : cfg->max_len;
	g->target = 16 + (unsigned)fz_below(&g->rng, maxlen - 16);
	unsigned c = (unsigned)fz_below(&g->rng, 20);
	g->ndoms = cfg->nested ? 2 : c < 14 ? 1 : c < 18 ? 2 : 3;
	g->mem = ims_mem_new();
	if (!g->mem) {
		free(g);
		return -ENOMEM;
	}
	if (cfg->nested) {
		int rc = fz_setup_nested(g);
		if (rc) {
			fz_gen_free(g);
			return rc;
		}
		*out = g;
		return 0;
	}
	for (unsigned i = 0; i < g->ndoms; i++) {
		int rc = fz_setup_domain(g, &g->doms[i], i);
		if (rc) {
			g->ndoms = i;
			fz_gen_free(g);
			return rc;
		}
	}
	*out = g;
	return 0;
}

int fz_gen_new(const struct fz_gen_cfg *cfg, uint64_t seed, struct fz_gen **out)
{
	struct fz_rng rng = {.s = seed};
	return gen_new(cfg, &rng, out);
}

int fz_gen_new_input(const struct fz_gen_cfg *cfg, const uint8_t *data, size_t len,
		     struct fz_gen **out)
{
	struct fz_rng rng;
	fz_rng_input(&rng, data, len);
	return gen_new(cfg, &rng, out);
}

size_t fz_gen_input_used(const struct fz_gen *g, bool *left)
{
	*left = g->rng.in != NULL;
	return g->rng.pos;
}

void fz_gen_free(struct fz_gen *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->ndoms; i++) {
		ims_pt_free(g->doms[i].pt);
		while (g->doms[i].nmaps)
			fz_remove_map(&g->doms[i], 0);
	}
	ims_mem_free(g->mem);
	free(g);
}

/* Set-up: every domain line, a nesting parent's premaps, then each
 * domain's device, then tracking. */
static bool gen_setup(struct fz_gen *g, struct ims_event *ev)
{
	unsigned n = g->ndoms;
	unsigned s = g->setup_step++;
	if (s < n) {
		gen_domain(&g->doms[s], ev);
		return true;
	}
	s -= n;
	if (s < g->npremap) {
		*ev = g->premap[s];
		return true;
	}
	s -= g->npremap;
	s += n;
	if (s < 2 * n) {
		struct gdom *d = &g->doms[s - n];
		ev_init(ev, IMS_OP_ATTACH);
		ev_set(ev, IMS_K_DEV, d->dev);
		ev_set(ev, IMS_K_DOMAIN, d->id);
		return true;
	}
	if (s < 3 * n) {
		struct gdom *d = &g->doms[s - 2 * n];
		if (!d->dirty || fz_pct(&g->rng, 25))
			return false;
		return gen_track(g, d, ev);
	}
	g->phase = 1;
	return false;
}

static bool gen_teardown(struct fz_gen *g, struct ims_event *ev, bool *count)
{
	/* A refused table frame is given back first: the tear-down's
	 * injected writes walk the nested domain's tables. */
	if (g->rf.on && fz_gen_restore_frame(g, ev))
		return true;
	/* The nested domain first: its unmaps' injected writes need the
	 * parent's window. */
	for (unsigned k = 0; k < g->ndoms; k++) {
		unsigned i = g->cfg.nested ? g->ndoms - 1 - k : k;
		struct gdom *d = &g->doms[i];
		if (!g->cfg.nested || !g->doms[1].nmaps)
			d->npinned = 0;
		if (d->nmaps) {
			if (gen_unmap(g, d, ev, count, true)) {
				if (!d->nmaps) {
					struct ims_event c;
					if (!d->parent) {
						gen_check(d, &c, IMS_OP_EXPECT_TABLES);
						fz_enqueue(g, &c, false);
					}
					if (!d->nested_on) {
						gen_check(d, &c, IMS_OP_EXPECT_CONSISTENT);
						fz_enqueue(g, &c, false);
					}
				}
				return true;
			}
		}
	}
	g->phase = 3;
	return false;
}

int fz_gen_next(struct fz_gen *g, struct ims_event *ev, bool *count)
{
	for (;;) {
		*count = false;
		if (g->qn) {
			*ev = g->q[g->qhead];
			*count = g->qcount[g->qhead];
			g->qhead = (g->qhead + 1) % QLEN;
			g->qn--;
		} else {
			bool got = false;
			switch (g->phase) {
			case 0:
				got = gen_setup(g, ev);
				break;
			case 1:
				if (g->emitted >= g->target)
					g->phase = 2;
				else
					got = gen_op(g, ev, count);
				/* A corrupt table may leave no map that the software
				 * can make (every op of a domain without maps is one):
				 * then the sequence goes on to its tear-down. */
				if (g->corrupt && !got && ++g->idle > 1024)
					g->phase = 2;
				else if (got)
					g->idle = 0;
				break;
			case 2:
				got = gen_teardown(g, ev, count);
				break;
			default:
				return 0;
			}
			if (!got)
				continue;
		}
		g->emitted++;
		g->pending.valid = *count;
		if (*count) {
			g->pending.op = ev->op;
			g->pending.dom = (uint16_t)ev->v[IMS_K_DOMAIN];
			g->pending.iova = ev->v[IMS_K_IOVA];
			g->pending.size = ev->v[IMS_K_SIZE];
		}
		return 1;
	}
}

void fz_gen_feedback(struct fz_gen *g, uint64_t accesses)
{
	if (!g->pending.valid)
		return;
	struct measured *m = (struct measured *)cache_find(g, g->pending.op, g->pending.dom,
							  g->pending.iova, g->pending.size);
	if (!m) {
		m = &g->cache[g->cnext];
		g->cnext = (g->cnext + 1) % NCACHE;
	}
	*m = g->pending;
	m->count = accesses;
	g->pending.valid = false;
}
