/* GPA bookkeeping (docs/uapi.md, "GPA pages missed by IOVA tracking";
 * docs/migrate.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"

int rp_snap_leaf(void *arg, uint64_t page_iova, unsigned shift, uint64_t pa, unsigned prot)
{
	(void)prot;
	struct snap *s = arg;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct leaf *n = realloc(s->l, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->l = n;
		s->cap = cap;
	}
	s->l[s->n++] = (struct leaf){page_iova, pa, shift};
	return 0;
}

void rp_snap_take(struct dom *d, uint64_t iova, uint64_t size, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	uint64_t lim = ims_pt_iova_limit(d->pt);
	if (!size || (lim && iova >= lim))
		return;
	if (size > 0 - iova)
		size = 0 - iova; /* a range to 2^64 */
	if (lim && size > lim - iova)
		size = lim - iova;
	if (size)
		ims_pt_for_each_leaf(d->pt, iova, size, rp_snap_leaf, s);
}

/* The leaf's bytes within [first, last]; false when none. */
bool rp_leaf_clip(const struct leaf *lf, uint64_t first, uint64_t last, uint64_t *lo,
		  uint64_t *hi)
{
	uint64_t end = lf->iova + (lf->shift >= 64 ? ~0ull : (1ull << lf->shift) - 1);
	if (end < first || lf->iova > last)
		return false;
	*lo = lf->iova > first ? lf->iova : first;
	*hi = end < last ? end : last;
	return true;
}

static int run_to_gpa(void *arg, uint64_t first, uint64_t npages)
{
	struct to_gpa *t = arg;
	uint64_t a = first > t->lo ? first : t->lo;
	uint64_t b = first + (npages << IMS_PAGE_SHIFT) - 1;
	if (b < first || b > t->hi)
		b = t->hi;
	ims_oracle_add(t->dst, t->key, t->lf->pa + (a - t->lf->iova), b - a + 1);
	return 0;
}

/* Adds to dst[key] the GPA of the leaf's bytes within [first, last]; with
 * a filter, only of the IOVA pages in filter[fkey]. */
static void leaf_to_gpa(const struct leaf *lf, uint64_t first, uint64_t last,
			const struct ims_oracle *filter, uint16_t fkey, struct ims_oracle *dst,
			uint16_t key)
{
	struct to_gpa t = {lf, 0, 0, dst, key};
	if (!rp_leaf_clip(lf, first, last, &t.lo, &t.hi))
		return;
	if (!filter) {
		ims_oracle_add(dst, key, lf->pa + (t.lo - lf->iova), t.hi - t.lo + 1);
		return;
	}
	ims_oracle_for_each(filter, fkey, t.lo, t.hi - t.lo + 1, run_to_gpa, &t);
}

/* Next run [*k0, *k1] of set bits at or after bit `from`, before `end`. */
static bool next_run(const struct ims_bitmap *bm, uint64_t from, uint64_t end, uint64_t *k0,
		     uint64_t *k1)
{
	uint64_t k = from;
	while (k < end) {
		uint64_t w = bm->words[k / 64] >> (k % 64);
		if (!w) {
			k = (k / 64 + 1) * 64;
			continue;
		}
		k += (uint64_t)__builtin_ctzll(w);
		break;
	}
	if (k >= end)
		return false;
	*k0 = k;
	while (k < end) {
		uint64_t w = ~(bm->words[k / 64] >> (k % 64));
		if (k % 64)
			w &= ~0ull >> (k % 64); /* bits shifted in are not set bits */
		if (!w) {
			k = (k / 64 + 1) * 64;
			continue;
		}
		k += (uint64_t)__builtin_ctzll(w);
		break;
	}
	*k1 = (k < end ? k : end) - 1;
	return true;
}

/* Adds to dst[key] the GPA of every byte the bitmap's set bits cover,
 * through the leaves of s. */
void rp_bits_to_gpa(const struct ims_bitmap *bm, const struct snap *s, struct ims_oracle *dst,
		    uint16_t key)
{
	uint64_t blast = bm->iova + (bm->length - 1);
	for (size_t i = 0; i < s->n; i++) {
		uint64_t lo, hi, k0, k1;
		if (!rp_leaf_clip(&s->l[i], bm->iova, blast, &lo, &hi))
			continue;
		uint64_t b = (lo - bm->iova) >> bm->pgshift, e = ((hi - bm->iova) >> bm->pgshift) + 1;
		while (next_run(bm, b, e, &k0, &k1)) {
			uint64_t a = bm->iova + (k0 << bm->pgshift);
			uint64_t z = bm->iova + (((k1 + 1) << bm->pgshift) - 1);
			if (z < a || z > hi) /* the last bit's page may end past the leaf, or 2^64 */
				z = hi;
			if (a < lo)
				a = lo;
			struct leaf one = s->l[i];
			leaf_to_gpa(&one, a, z, NULL, 0, dst, key);
			b = k1 + 1;
		}
	}
}

/* A dirty read reported bm (domain d): for the migration estimate, the
 * GPA pages the VMM learnt. */
void rp_gpa_reported(struct ims_tb *r, struct dom *d, const struct ims_bitmap *bm,
		     const struct snap *taken)
{
	if (!r->mig_on)
		return;
	struct snap s;
	if (!taken)
		rp_snap_take(d, bm->iova, bm->length, &s);
	rp_bits_to_gpa(bm, taken ? taken : &s, r->mig, MIG_REPORTED);
	if (!taken)
		free(s.l);
}

/* A dirty read of [iova, iova + size) of domain tag (a harvest): what was
 * written there is reported; what was written and then unmapped before
 * it is counted as missed, once. */
void rp_gpa_harvested(struct ims_tb *r, const struct ims_event *ev, uint16_t tag,
		      uint64_t iova, uint64_t size)
{
	ims_oracle_clear(r->written, tag, iova, size);
	uint64_t n = ims_oracle_count(r->stranded, tag, 0, 0);
	if (!n)
		return;
	r->st.gpa_missed += n;
	ims_oracle_reset(r->stranded, tag);
	/* Expected by design, not a failure: counted in the summary, and said
	 * here line by line only under -v. */
	if (r->o.verbosity >= 2 && ev && ev->line)
		fprintf(stdout,
			"%s:%" PRIu64 ": %" PRIu64 " GPA pages missed by IOVA tracking: written "
			"through domain %u, then unmapped or remapped before this read\n",
			r->file, ev->line, n, tag);
}

/* [iova, iova + size) of domain tag was unmapped; s holds its leaves from
 * before. read: its dirty state was read first (VFIO's unmap with a
 * bitmap); without it, pages written since the last read are stranded. */
void rp_gpa_unmapped(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size,
		     const struct snap *s, bool read)
{
	if (!size)
		return;
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	for (size_t i = 0; i < s->n; i++) {
		if (!read)
			leaf_to_gpa(&s->l[i], iova, last, r->written, tag, r->stranded, tag);
		if (r->mig_on)
			leaf_to_gpa(&s->l[i], iova, last, NULL, 0, r->mig_unmapped, tag);
	}
	ims_oracle_clear(r->written, tag, iova, size);
}

/* Whether an unmap of the range needs the leaves from before it. */
bool rp_gpa_needs_snap(const struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	return r->mig_on || ims_oracle_count(r->written, tag, iova, size) != 0;
}

/* Tracking (re)starts: the oracle's set and the GPA bookkeeping restart. */
void rp_tracking_enabled(struct ims_tb *r, uint16_t tag)
{
	ims_oracle_reset(ims_iommu_oracle(r->mmu), tag);
	ims_oracle_reset(r->written, tag);
	ims_oracle_reset(r->stranded, tag);
	ims_oracle_reset(r->mapped_dirty, tag);
}

/* dst[key] gets src[key]'s pages within [iova, iova + size). */
int rp_copy_run(void *arg, uint64_t first, uint64_t npages)
{
	struct to_gpa *t = arg;
	ims_oracle_add(t->dst, t->key, first, npages << IMS_PAGE_SHIFT);
	return 0;
}

void rp_set_copy(struct ims_oracle *dst, const struct ims_oracle *src, uint16_t key,
		 uint64_t iova, uint64_t size)
{
	struct to_gpa t = {.dst = dst, .key = key};
	ims_oracle_for_each(src, key, iova, size, rp_copy_run, &t);
}
