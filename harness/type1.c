/* VFIO type1: what its dirty bitmaps must report (docs/uapi.md), for its
 * calls and for a migration sync. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/vfio.h"

#include "harness/replay_int.h"

/* What type1 must report for want's range (docs/uapi.md), from the page
 * table and the trace's own pins, never from the front end's records:
 * every mapped page; or, when every group tracks pins, the pages pinned
 * since the last query or still pinned. */
static void vfio_expected(struct ims_tb *r, struct dom *d, uint16_t tag, struct ims_bitmap *want)
{
	ims_bitmap_zero(want);
	if (!d->non_pinned) {
		ims_oracle_expected(r->pin_dirty, tag, want->iova, want->length, want->pgshift,
				    want->words);
		return;
	}
	struct snap s;
	rp_snap_take(d, want->iova, want->length, &s);
	uint64_t last = want->iova + (want->length - 1), lo, hi;
	for (size_t i = 0; i < s.n; i++)
		if (rp_leaf_clip(&s.l[i], want->iova, last, &lo, &hi))
			ims_bitmap_set(want, lo, hi - lo + 1);
	free(s.l);
}

/* After a query of [iova, iova + size): only still-pinned pages stay dirty. */
void rp_pins_queried(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	ims_oracle_clear(r->pin_dirty, tag, iova, size);
	rp_set_copy(r->pin_dirty, r->pin_now, tag, iova, size);
}

/* A type1 bitmap against its rule; counted like a harvest. */
void rp_vfio_compare(struct ims_tb *r, const struct ims_event *ev,
		     const struct ims_bitmap *want, const struct ims_bitmap *got)
{
	r->st.harvests++;
	uint64_t ngot = ims_bitmap_count(got), nwant = ims_bitmap_count(want);
	r->st.bits_reported += ngot;
	r->st.bits_expected += nwant;
	struct ims_bitmap_diff df;
	if (ims_bitmap_compare(want, got, &df))
		return;
	r->st.harvest_mismatches++;
	r->st.bits_under += df.under;
	r->st.bits_over += df.over;
	rp_dirty_read_fail(r, ev, (uint16_t)ev->v[IMS_K_CONTAINER], want, got, &df,
			   "%s bitmap breaks type1's rule: expected %" PRIu64 " bits, got %" PRIu64
			   " (under-reported %" PRIu64 ", over-reported %" PRIu64 ")",
			   ims_op_name(ev->op), nwant, ngot, df.under, df.over);
}

int rp_vbm_get(struct ims_tb *r, const struct ims_event *ev, struct dom *d, uint64_t iova,
	       uint64_t length, struct vbm *v)
{
	memset(v, 0, sizeof(*v));
	v->ps = ims_ev_has(ev, IMS_K_PAGE_SIZE) ? ev->v[IMS_K_PAGE_SIZE] : ims_vfio_pgsize(d->vfio);
	bool geo = rp_geometry_ok(iova, length, v->ps);
	int rc = rp_ubuf_get(r, ev, geo ? ims_vfio_bitmap_bytes(length / v->ps) : 0, &v->b);
	if (rc)
		return rc;
	v->have = geo && v->b.size >= v->b.need && v->b.need <= IMS_VFIO_DIRTY_BITMAP_MAX;
	if (!v->have)
		return 0;
	if (ims_bitmap_init(&v->want, iova, length, ims_log2(v->ps)) ||
	    ims_bitmap_init(&v->got, iova, length, ims_log2(v->ps)))
		return -ENOMEM;
	vfio_expected(r, d, (uint16_t)ev->v[IMS_K_CONTAINER], &v->want);
	return 0;
}

void rp_vbm_put(struct vbm *v)
{
	free(v->b.data);
	ims_bitmap_fini(&v->want);
	ims_bitmap_fini(&v->got);
}

/* Type1 starts tracking: pages pinned now are dirty from the start. */
void rp_vfio_started(struct ims_tb *r, struct dom *d, uint16_t tag)
{
	if (d->vtrack)
		return;
	d->vtrack = true;
	ims_oracle_reset(r->pin_dirty, tag);
	rp_set_copy(r->pin_dirty, r->pin_now, tag, 0, 0);
}
