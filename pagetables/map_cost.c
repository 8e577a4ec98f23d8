/* What a map may cost in page-table memory, worked out before it is done
 * (iommusim/pt.h, ims_pt_map_tables), so that a replay can refuse a map
 * over its table budget without building half of it (docs/limits.md).
 *
 * The leaves follow the built-in software's choice (pt.c, bt_map): at each
 * piece the largest allowed size within the alignment of iova and pa that
 * the remaining length's bits allow. While the remaining length is a
 * multiple of the size chosen, the same size is chosen up to the next
 * alignment of a larger one, where the choice is made again, so the range
 * splits into runs of equal leaves, taken a run at a time; each run needs, at each level from its
 * leaves' up to below the root, one table per span of the level above that
 * it touches, less the one the run before counted. Tables that exist
 * already count too: the figure is an upper bound of what the built-in
 * tables allocate, and exactly it in an empty domain.
 */
#include "pagetables/pt_int.h"

/* Runs worked out one by one before the rest is bounded as a whole. */
#define MAX_ROUNDS (1u << 20)

static uint64_t high_bit(uint64_t v)
{
	return v ? 1ull << (63 - __builtin_clzll(v)) : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Tables a map touches so far: at each level, the last span of the level
 * above counted (runs come in IOVA order, so a later run shares at most
 * the last one). */
struct seen {
	uint64_t span[PT_MAX_LEVELS];
	bool any[PT_MAX_LEVELS];
};

/* Tables from level `level` up to below the root over [first, last] that
 * no run before has counted. */
static uint64_t tables_over(const struct pt_geom *g, struct seen *sn, int level, uint64_t first,
			    uint64_t last, uint64_t per)
{
	uint64_t n = 0;
	for (int l = level; l < g->top && l < PT_MAX_LEVELS; l++) {
		unsigned span = pt_level_shift(g, l + 1);
		uint64_t lo = span >= 64 ? 0 : first >> span, hi = span >= 64 ? 0 : last >> span;
		if (sn->any[l] && sn->span[l] >= lo)
			lo = sn->span[l] + 1;
		if (lo <= hi) {
			uint64_t count = hi - lo + 1;
			n = add_sat(n, count > UINT64_MAX / per ? UINT64_MAX : count * per);
		}
		sn->span[l] = hi;
		sn->any[l] = true;
	}
	return n;
}

uint64_t ims_pt_map_tables(const struct ims_pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
			   uint64_t pgsize)
{
	const struct pt_geom *g = &pt->g;
	uint64_t sizes = pgsize ? pgsize & pt->pgsizes : pt->pgsizes;
	uint64_t per = g->gshift > 12 ? 1ull << (g->gshift - 12) : 1; /* frames a table */
	uint64_t min = sizes & -sizes, last;
	if (!sizes || check_range(pt, iova, size, min, &last) || (pa & (min - 1)))
		return 0; /* ims_pt_map refuses it */
	uint64_t frames = 0, at = iova, out = pa, left = size;
	struct seen sn = {{0}, {false}};
	for (unsigned round = 0; left; round++) {
		if (round == MAX_ROUNDS) {
			/* Bound the rest as if it were all of the smallest leaf. */
			int lv = pt->ops->leaf_level(g, ims_log2(min));
			return add_sat(frames, tables_over(g, &sn, lv < 0 ? 0 : lv, at, at + (left - 1), per));
		}
		uint64_t fit = sizes;
		uint64_t align = (at | out) & -(at | out);
		if (align)
			fit &= (align << 1) - 1;
		fit &= left | (left - 1);
		uint64_t s = high_bit(fit);
		while (s && (s > left || !(fit & s)))
			s >>= 1;
		if (!s)
			break; /* the map fails here */
		unsigned shift = ims_log2(s);
		int level = pt->ops->leaf_level(g, shift);
		if (level < 0)
			break;
		uint64_t n = 1;
		if (!(left & (s - 1))) {
			n = left >> shift;
			/* Up to where iova and pa both reach a larger size. */
			for (uint64_t big = sizes & ~(s | (s - 1)); big; big &= big - 1) {
				uint64_t b = big & -big;
				if ((at ^ out) & (b - 1))
					continue;
				/* Already at b's alignment (b was not chosen:
				 * the length's bits left it out): the next one. */
				uint64_t k = (b - (at & (b - 1))) >> shift;
				if (k < n)
					n = k;
				break;
			}
		}
		uint64_t len = n << shift;
		frames = add_sat(frames, tables_over(g, &sn, level, at, at + (len - 1), per));
		at += len;
		out += len;
		left -= len;
	}
	return frames;
}
