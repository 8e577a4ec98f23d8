/* The iommu core's page-size choice and iommufd's mapped-range record, for
 * the walkers' glue (ims_lx_core.h). Our own code; a walker built with it
 * from a kernel source tree is a GPL-2.0 work (docs/linux.md). */
#include <stdlib.h>
#include <string.h>

#include "ims_lx_core.h"

#define LX_ENOMEM 12

static uint64_t chunk_last(const struct ims_lx_chunk *c)
{
	return c->iova + (c->size - 1);
}

/* Index of the first chunk whose last byte is at or past iova. */
static size_t first_from(const struct ims_lx_areas *a, uint64_t iova)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (chunk_last(&a->v[mid]) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void ims_lx_areas_fini(struct ims_lx_areas *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

bool ims_lx_areas_overlap(const struct ims_lx_areas *a, uint64_t iova, uint64_t last)
{
	size_t i = first_from(a, iova);
	return i < a->n && a->v[i].iova <= last;
}

static int reserve(struct ims_lx_areas *a, size_t more)
{
	if (a->n + more <= a->cap)
		return 0;
	size_t cap = a->cap ? a->cap * 2 : 64;
	while (cap < a->n + more)
		cap *= 2;
	struct ims_lx_chunk *v = realloc(a->v, cap * sizeof(*v));
	if (!v)
		return -LX_ENOMEM;
	a->v = v;
	a->cap = cap;
	return 0;
}

int ims_lx_areas_add(struct ims_lx_areas *a, const struct ims_lx_chunk *c)
{
	if (reserve(a, 1))
		return -LX_ENOMEM;
	size_t i = first_from(a, c->iova);
	memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof(*c));
	a->v[i] = *c;
	a->n++;
	return 0;
}

const struct ims_lx_chunk *ims_lx_areas_find(const struct ims_lx_areas *a, uint64_t iova)
{
	size_t i = first_from(a, iova);
	return i < a->n && a->v[i].iova <= iova ? &a->v[i] : NULL;
}

/* Whether address x (a first byte) falls strictly inside a leaf. */
static bool inside_leaf(const struct ims_lx_areas *a, uint64_t x)
{
	const struct ims_lx_chunk *c = ims_lx_areas_find(a, x);
	return c && ((x - c->iova) & (c->leaf - 1)) != 0;
}

bool ims_lx_areas_cuts(const struct ims_lx_areas *a, uint64_t iova, uint64_t last)
{
	return inside_leaf(a, iova) || (last != ~0ull && inside_leaf(a, last + 1));
}

int64_t ims_lx_areas_remove(struct ims_lx_areas *a, uint64_t iova, uint64_t last)
{
	int64_t bytes = 0;
	size_t i = first_from(a, iova);
	while (i < a->n && a->v[i].iova <= last) {
		struct ims_lx_chunk c = a->v[i];
		uint64_t clast = chunk_last(&c);
		uint64_t lo = c.iova > iova ? c.iova : iova;
		uint64_t hi = clast < last ? clast : last;
		bytes += (int64_t)(hi - lo + 1);
		bool keep_head = c.iova < lo, keep_tail = clast > hi;
		if (keep_head && keep_tail) {
			if (reserve(a, 1))
				return -LX_ENOMEM;
			memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof(c));
			a->n++;
		}
		size_t at = i;
		if (keep_head) {
			a->v[at].size = lo - c.iova;
			at++;
		}
		if (keep_tail) {
			struct ims_lx_chunk t = c;
			t.iova = hi + 1;
			t.pa = c.pa + (t.iova - c.iova);
			t.size = clast - hi;
			a->v[at] = t;
			at++;
		}
		if (!keep_head && !keep_tail) {
			memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(c));
			a->n--;
		} else {
			i = at;
		}
	}
	return bytes;
}

bool ims_lx_areas_next_run(const struct ims_lx_areas *a, uint64_t from, uint64_t last,
			   uint64_t *lo, uint64_t *hi)
{
	size_t i = first_from(a, from);
	if (i >= a->n || a->v[i].iova > last)
		return false;
	uint64_t l = a->v[i].iova > from ? a->v[i].iova : from;
	uint64_t h = chunk_last(&a->v[i]);
	while (h < last && i + 1 < a->n && a->v[i + 1].iova == h + 1)
		h = chunk_last(&a->v[++i]);
	*lo = l;
	*hi = h < last ? h : last;
	return true;
}

uint64_t ims_lx_pgsize(uint64_t bitmap, uint64_t iova, uint64_t pa, uint64_t size,
		       uint64_t *count)
{
	uint64_t addr = iova | pa;
	/* Sizes not larger than what is left ... */
	if (!size) {
		*count = 0;
		return 0;
	}
	unsigned top = 63 - (unsigned)__builtin_clzll(size);
	uint64_t fit = bitmap & (top == 63 ? ~0ull : (2ull << top) - 1);
	/* ... that iova and pa are both aligned to. */
	if (addr)
		fit &= (addr & -addr) | ((addr & -addr) - 1);
	if (!fit) {
		*count = 0;
		return 0;
	}
	unsigned shift = 63 - (unsigned)__builtin_clzll(fit);
	uint64_t pgsize = 1ull << shift;
	/* Stop where the next larger size becomes usable (iova and pa
	 * congruent modulo it, and room for one), so the caller's next round
	 * can take it. */
	uint64_t bigger = shift < 63 ? bitmap & ~((pgsize << 1) - 1) : 0;
	if (bigger) {
		uint64_t next = bigger & -bigger;
		uint64_t offset = next - (addr & (next - 1));
		if (!((iova ^ pa) & (next - 1)) && offset + next > offset && offset + next <= size)
			size = offset;
	}
	*count = size >> shift;
	return pgsize;
}
