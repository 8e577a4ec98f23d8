/* The VFIO type1 front end (include/iommusim/vfio.h, docs/uapi.md).
 *
 * Mappings are a sorted array (type1's vfio_dma tree). Pinned pages and
 * the pages pinned since the last query are sets of byte ranges, kept
 * sorted, disjoint and merged: drivers pin few, mostly contiguous, pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/vfio.h"

struct rng {
	uint64_t a, b; /* inclusive */
};

struct rset {
	struct rng *r;
	size_t n, cap;
};

struct dma {
	uint64_t iova, size, pa;
	unsigned prot;
};

struct ims_vfio {
	struct ims_pt *pt;
	uint64_t pgsize;
	struct dma *m;
	size_t n, cap;
	uint32_t *groups;
	size_t ngroups, capgroups;
	size_t non_pinned; /* groups whose devices do not track pins */
	bool tracking;
	struct rset pinned; /* pinned now */
	struct rset dirty;  /* reportable in pin scope */
};

static int grow(void **v, size_t *cap, size_t n, size_t add, size_t sz)
{
	if (n + add <= *cap)
		return 0;
	size_t c = *cap ? *cap : 4;
	while (c < n + add)
		c *= 2;
	void *p = realloc(*v, c * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* ---- range sets ------------------------------------------------------------- */

/* First range whose end is at or after a (or, with touch, one byte before a). */
static size_t rs_find(const struct rset *s, uint64_t a, bool touch)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t b = s->r[mid].b;
		bool before = touch ? (b != UINT64_MAX && b + 1 < a) : b < a;
		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int rs_add(struct rset *s, uint64_t a, uint64_t b)
{
	size_t i = rs_find(s, a, true), j = i;
	/* Ranges i..j-1 overlap or touch [a, b]: they merge into one. */
	while (j < s->n && (b == UINT64_MAX || s->r[j].a <= b + 1)) {
		if (s->r[j].a < a)
			a = s->r[j].a;
		if (s->r[j].b > b)
			b = s->r[j].b;
		j++;
	}
	if (i == j) {
		if (grow((void **)&s->r, &s->cap, s->n, 1, sizeof(*s->r)))
			return -ENOMEM;
		memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
		s->n++;
	} else {
		memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(*s->r));
		s->n -= j - i - 1;
	}
	s->r[i] = (struct rng){a, b};
	return 0;
}

static int rs_del(struct rset *s, uint64_t a, uint64_t b)
{
	size_t i = rs_find(s, a, false);
	if (i < s->n && s->r[i].a < a && s->r[i].b > b) {
		/* [a, b] inside one range: it splits in two. */
		if (grow((void **)&s->r, &s->cap, s->n, 1, sizeof(*s->r)))
			return -ENOMEM;
		memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
		s->n++;
		s->r[i].b = a - 1;
		s->r[i + 1].a = b + 1;
		return 0;
	}
	if (i < s->n && s->r[i].a < a) {
		s->r[i].b = a - 1;
		i++;
	}
	size_t j = i;
	while (j < s->n && s->r[j].b <= b)
		j++;
	if (j < s->n && s->r[j].a <= b)
		s->r[j].a = b + 1;
	if (j > i) {
		memmove(&s->r[i], &s->r[j], (s->n - j) * sizeof(*s->r));
		s->n -= j - i;
	}
	return 0;
}

/* dst gets src's ranges within [a, b]. */
static int rs_add_from(struct rset *dst, const struct rset *src, uint64_t a, uint64_t b)
{
	for (size_t i = rs_find(src, a, false); i < src->n && src->r[i].a <= b; i++) {
		uint64_t x = src->r[i].a > a ? src->r[i].a : a;
		uint64_t y = src->r[i].b < b ? src->r[i].b : b;
		int rc = rs_add(dst, x, y);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- container ---------------------------------------------------------------- */

int ims_vfio_new(struct ims_pt *pt, struct ims_vfio **out)
{
	*out = NULL;
	struct ims_vfio *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->pt = pt;
	v->pgsize = ims_pt_min_pgsize(pt);
	*out = v;
	return 0;
}

void ims_vfio_free(struct ims_vfio *v)
{
	if (!v)
		return;
	free(v->m);
	free(v->groups);
	free(v->pinned.r);
	free(v->dirty.r);
	free(v);
}

int ims_vfio_group_add(struct ims_vfio *v, uint32_t group, bool pin_scope)
{
	for (size_t i = 0; i < v->ngroups; i++)
		if (v->groups[i] == group)
			return -EEXIST;
	if (grow((void **)&v->groups, &v->capgroups, v->ngroups, 1, sizeof(*v->groups)))
		return -ENOMEM;
	v->groups[v->ngroups++] = group;
	if (!pin_scope)
		v->non_pinned++;
	return 0;
}

bool ims_vfio_pin_scope(const struct ims_vfio *v) { return v->non_pinned == 0; }
bool ims_vfio_tracking(const struct ims_vfio *v) { return v->tracking; }
uint64_t ims_vfio_pgsize(const struct ims_vfio *v) { return v->pgsize; }

uint64_t ims_vfio_bitmap_bytes(uint64_t npages)
{
	return (npages / 64 + (npages % 64 != 0)) * 8;
}

/* First mapping whose last byte is at or after iova. */
static size_t dma_at(const struct ims_vfio *v, uint64_t iova)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->m[mid].iova + (v->m[mid].size - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* iova and size in whole pages, size non-zero, no wrap; *last = end. */
static int pages_ok(const struct ims_vfio *v, uint64_t iova, uint64_t size, uint64_t *last)
{
	if (!size || ((iova | size) & (v->pgsize - 1)))
		return -EINVAL;
	*last = iova + (size - 1);
	return *last < iova ? -EINVAL : 0;
}

int ims_vfio_map_dma(struct ims_vfio *v, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
	uint64_t last;
	if (pages_ok(v, iova, size, &last) || (pa & (v->pgsize - 1)) || pa + (size - 1) < pa ||
	    !prot || prot > IMS_PROT_RW)
		return -EINVAL;
	size_t at = dma_at(v, iova);
	if (at < v->n && v->m[at].iova <= last)
		return -EEXIST;
	if (grow((void **)&v->m, &v->cap, v->n, 1, sizeof(*v->m)))
		return -ENOMEM;
	int rc = ims_pt_map(v->pt, iova, pa, size, prot, 0);
	if (rc)
		return rc == -EEXIST || rc == -ENOSPC ? rc : -EINVAL; /* ENOSPC: the memory's budget */
	memmove(&v->m[at + 1], &v->m[at], (v->n - at) * sizeof(*v->m));
	v->m[at] = (struct dma){iova, size, pa, prot};
	v->n++;
	return 0;
}

static void set_bits(unsigned char *data, uint64_t first, uint64_t count)
{
	for (uint64_t k = first; k < first + count;) {
		if (!(k % 8) && first + count - k >= 8) {
			data[k / 8] = 0xff;
			k += 8;
		} else {
			data[k / 8] |= (unsigned char)(1u << (k % 8));
			k++;
		}
	}
}

/* Reports the dirty pages of mappings [i, j) into a bitmap whose bit 0 is
 * base, then leaves only still-pinned pages dirty in [base, last]. */
static int report(struct ims_vfio *v, size_t i, size_t j, uint64_t base, uint64_t last,
		  unsigned char *data)
{
	unsigned sh = ims_log2(v->pgsize);
	if (!ims_vfio_pin_scope(v)) {
		/* No hardware dirty bits: every mapped page may have been
		 * written, on every query. */
		for (size_t k = i; k < j; k++)
			set_bits(data, (v->m[k].iova - base) >> sh, v->m[k].size >> sh);
	} else {
		for (size_t k = rs_find(&v->dirty, base, false); k < v->dirty.n && v->dirty.r[k].a <= last; k++) {
			uint64_t x = v->dirty.r[k].a > base ? v->dirty.r[k].a : base;
			uint64_t y = v->dirty.r[k].b < last ? v->dirty.r[k].b : last;
			set_bits(data, (x - base) >> sh, ((y - x) >> sh) + 1);
		}
	}
	int rc = rs_del(&v->dirty, base, last);
	return rc ? rc : rs_add_from(&v->dirty, &v->pinned, base, last);
}

/* type1's verify_bitmap_size: room for npages bits, within the limit. */
static int bitmap_ok(const struct ims_vfio *v, const struct ims_vfio_bitmap *bm, uint64_t size)
{
	if (!bm || bm->pgsize != v->pgsize)
		return -EINVAL;
	uint64_t npages = size / bm->pgsize;
	if (!npages || !bm->size || bm->size > IMS_VFIO_DIRTY_BITMAP_MAX ||
	    bm->size < ims_vfio_bitmap_bytes(npages))
		return -EINVAL;
	return bm->data ? 0 : -EFAULT;
}

int ims_vfio_unmap_dma(struct ims_vfio *v, uint64_t iova, uint64_t size, uint32_t flags,
		       const struct ims_vfio_bitmap *bm, uint64_t *unmapped)
{
	uint64_t last;
	if (unmapped)
		*unmapped = 0;
	if (flags & ~(uint32_t)IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
		return -EINVAL;
	int rc = pages_ok(v, iova, size, &last);
	if (rc)
		return rc;
	bool get = flags & IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	if (get) {
		if (!v->tracking)
			return -EINVAL;
		if ((rc = bitmap_ok(v, bm, size)))
			return rc;
	}
	size_t i = dma_at(v, iova), j = i;
	/* A range may not start or end inside a mapping. */
	if (i < v->n && v->m[i].iova < iova)
		return -EINVAL;
	while (j < v->n && v->m[j].iova <= last)
		j++;
	if (j > i && v->m[j - 1].iova + (v->m[j - 1].size - 1) > last)
		return -EINVAL;
	if (get && (rc = report(v, i, j, iova, last, bm->data)))
		return rc;
	uint64_t total = 0;
	for (size_t k = i; k < j; k++) {
		ims_pt_unmap(v->pt, v->m[k].iova, v->m[k].size, NULL);
		total += v->m[k].size;
	}
	if (j > i) {
		memmove(&v->m[i], &v->m[j], (v->n - j) * sizeof(*v->m));
		v->n -= j - i;
	}
	/* Pins of what is gone go with it. */
	if ((rc = rs_del(&v->pinned, iova, last)) || (rc = rs_del(&v->dirty, iova, last)))
		return rc;
	if (unmapped)
		*unmapped = total;
	return 0;
}

int ims_vfio_dirty_pages(struct ims_vfio *v, const struct ims_vfio_dirty_pages *cmd)
{
	const uint32_t all = IMS_VFIO_DIRTY_PAGES_FLAG_START | IMS_VFIO_DIRTY_PAGES_FLAG_STOP |
			     IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP;
	/* Exactly one flag. */
	if ((cmd->flags & ~all) || !ims_is_pow2(cmd->flags))
		return -EINVAL;
	if (cmd->flags == IMS_VFIO_DIRTY_PAGES_FLAG_START) {
		if (!v->tracking) {
			v->tracking = true;
			v->dirty.n = 0;
			/* Pages pinned now are dirty from the start. */
			return rs_add_from(&v->dirty, &v->pinned, 0, UINT64_MAX);
		}
		return 0;
	}
	if (cmd->flags == IMS_VFIO_DIRTY_PAGES_FLAG_STOP) {
		v->tracking = false;
		v->dirty.n = 0;
		return 0;
	}
	uint64_t last;
	int rc = pages_ok(v, cmd->iova, cmd->size, &last);
	if (rc || (rc = bitmap_ok(v, &cmd->bitmap, cmd->size)))
		return rc;
	if (!v->tracking)
		return -EINVAL;
	/* The range matches whole mappings: it starts at the first byte of one
	 * and ends at the last byte of one. */
	size_t i = dma_at(v, cmd->iova), j = dma_at(v, last);
	if (i >= v->n || v->m[i].iova != cmd->iova || j >= v->n ||
	    v->m[j].iova + (v->m[j].size - 1) != last)
		return -EINVAL;
	return report(v, i, j + 1, cmd->iova, last, cmd->bitmap.data);
}

/* Every page of [iova, last] lies in a mapping. */
static bool all_mapped(const struct ims_vfio *v, uint64_t iova, uint64_t last)
{
	uint64_t next = iova;
	for (size_t k = dma_at(v, iova); k < v->n; k++) {
		if (v->m[k].iova > next)
			return false;
		uint64_t mlast = v->m[k].iova + (v->m[k].size - 1);
		if (mlast >= last)
			return true;
		next = mlast + 1;
	}
	return false;
}

int ims_vfio_pin(struct ims_vfio *v, uint64_t iova, uint64_t size)
{
	uint64_t last;
	if (pages_ok(v, iova, size, &last) || !all_mapped(v, iova, last))
		return -EINVAL;
	int rc = rs_add(&v->pinned, iova, last);
	if (!rc && v->tracking)
		rc = rs_add(&v->dirty, iova, last);
	return rc;
}

int ims_vfio_unpin(struct ims_vfio *v, uint64_t iova, uint64_t size)
{
	uint64_t last;
	if (pages_ok(v, iova, size, &last))
		return -EINVAL;
	return rs_del(&v->pinned, iova, last);
}
