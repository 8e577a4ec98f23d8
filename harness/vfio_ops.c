/* VFIO type1 calls (docs/uapi.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "iommusim/vfio.h"

#include "harness/replay_int.h"

static struct dom *need_container(struct ims_tb *r, const struct ims_event *ev, int *rc)
{
	uint64_t id = ev->v[IMS_K_CONTAINER];
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (!d || d->kind != DOM_VFIO) {
		*rc = rp_input_error(r, ev, IMS_K_CONTAINER,
				     "container %" PRIu64 " is not defined (expected 'vfio container id=%" PRIu64
				     " ...' first)",
				     id, id);
		return NULL;
	}
	return d;
}

int rp_op_vfio_container(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	int rc = rp_new_domain_keys(r, ev);
	if (rc)
		return rc;
	/* Type1 uses no hardware dirty bits: the domain is not allocated for
	 * dirty tracking. */
	struct ims_pt_cfg cfg =
		rp_ev_pt_cfg(r, ev, (enum ims_format)ev->v[IMS_K_FORMAT], (uint16_t)id);
	struct ims_sink sink = rp_sink(r);
	char why[256] = "";
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	rc = ims_pt_new(r->mem, &cfg, &sink, &d->pt, why, sizeof(why));
	uint64_t words[IMS_CTX_WORDS];
	if (!rc) {
		ims_pt_ctx_words(d->pt, words);
		rc = ims_iommu_ctx_set(r->mmu, (uint16_t)id, cfg.fmt, words, why, sizeof(why));
	}
	if (!rc)
		rc = ims_vfio_new(d->pt, &d->vfio);
	if (rc) {
		ims_pt_free(d->pt);
		free(d);
		if (rc == -ENOSPC)
			return rp_tables_full(r, ev, IMS_K_ID, "the container's root table");
		return rp_input_error(r, ev, IMS_K_FORMAT, "%s", why[0] ? why : rp_errno_text(rc));
	}
	d->fmt = cfg.fmt;
	d->line = ev->line;
	d->kind = DOM_VFIO;
	if (rp_dom_put(r, (uint16_t)id, d)) {
		ims_vfio_free(d->vfio);
		ims_pt_free(d->pt);
		free(d);
		return -ENOMEM;
	}
	return 0;
}

int rp_op_vfio_group(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	bool pins = ims_ev_has(ev, IMS_K_PIN_SCOPE);
	rc = ims_vfio_group_add(d->vfio, (uint32_t)ev->v[IMS_K_ID], pins);
	if (rc == -EEXIST)
		return rp_input_error(r, ev, IMS_K_ID, "group %" PRIu64 " is already in the container",
				      ev->v[IMS_K_ID]);
	if (rc)
		return rc;
	if (!pins)
		d->non_pinned++;
	if (ims_ev_has(ev, IMS_K_DEV)) {
		uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
		rc = ims_iommu_attach(r->mmu, (uint32_t)ev->v[IMS_K_DEV], tag);
		if (rc)
			return rp_input_error(r, ev, IMS_K_DEV, "attach failed: %s", rp_errno_text(rc));
	}
	return 0;
}

int rp_op_vfio_map(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	unsigned prot = ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT] : IMS_PROT_RW;
	uint64_t tables = 0, pa = ev->v[IMS_K_PA], len = ev->v[IMS_K_LENGTH];
	/* A pa + length that wraps is the call's to refuse (EINVAL). */
	if (len && pa + (len - 1) >= pa &&
	    ((rc = rp_check_map(r, ev, d->pt, ev->v[IMS_K_IOVA], pa, len, 0, IMS_K_LENGTH, &tables)) ||
	     (rc = rp_check_tables(r, ev, IMS_K_LENGTH, tables, "the map"))))
		return rc;
	rc = ims_vfio_map_dma(d->vfio, ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ev->v[IMS_K_LENGTH], prot);
	if (rc == -ENOSPC)
		return rp_tables_full(r, ev, IMS_K_LENGTH, "the map");
	if (rp_call_done(r, ev, rc, NULL)) {
		rp_mapped(r, (uint16_t)ev->v[IMS_K_CONTAINER], ev->v[IMS_K_IOVA],
			  rp_clip_size(ev->v[IMS_K_IOVA], ev->v[IMS_K_LENGTH]), prot);
		r->st.maps++;
	}
	return 0;
}

/* A successful call's bitmap: checked, and what the VMM learnt. */
static int vbm_done(struct ims_tb *r, const struct ims_event *ev, struct dom *d, struct vbm *v,
		    const struct snap *s)
{
	if (!v->have)
		return 0;
	rp_ubuf_decode(&v->b, &v->got);
	rp_vfio_compare(r, ev, &v->want, &v->got);
	rp_gpa_harvested(r, ev, (uint16_t)ev->v[IMS_K_CONTAINER], v->got.iova, v->got.length);
	rp_gpa_reported(r, d, &v->got, s);
	return rp_check_bitmap_expect(r, ev, ev->v[IMS_K_CONTAINER], true, &v->got);
}

int rp_op_vfio_unmap(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
	uint64_t iova = ev->v[IMS_K_IOVA], length = ev->v[IMS_K_LENGTH];
	uint64_t size = rp_clip_size(iova, length);
	uint32_t flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS]
			 : ims_ev_has(ev, IMS_K_GET_DIRTY_BITMAP) ? IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP
								  : 0;
	bool get = flags & IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	struct vbm v = {0};
	if (get && (rc = rp_vbm_get(r, ev, d, iova, length, &v))) {
		rp_vbm_put(&v);
		return rc;
	}
	struct snap s = {0};
	if (rp_gpa_needs_snap(r, tag, iova, size))
		rp_snap_take(d, iova, size, &s);
	struct ims_vfio_bitmap vb = {v.ps, v.b.size, v.b.data};
	uint64_t bytes = 0;
	rc = ims_vfio_unmap_dma(d->vfio, iova, length, flags, get ? &vb : NULL, &bytes);
	if (rp_call_done(r, ev, rc, NULL)) {
		rc = get ? vbm_done(r, ev, d, &v, &s) : 0;
		r->st.lost_on_unmap += rp_oracle_unmap(r, tag, iova, size);
		rp_gpa_unmapped(r, tag, iova, size, &s, get);
		if (size)
			rp_maybe_settle(r, tag, iova, iova + (size - 1));
		ims_oracle_clear(r->pin_now, tag, iova, size);
		ims_oracle_clear(r->pin_dirty, tag, iova, size);
		r->st.unmaps++;
	} else {
		rc = 0;
	}
	free(s.l);
	rp_vbm_put(&v);
	return rc;
}

int rp_op_vfio_dirty(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
	uint32_t flags;
	if (ims_ev_has(ev, IMS_K_FLAGS))
		flags = (uint32_t)ev->v[IMS_K_FLAGS];
	else
		flags = (ims_ev_has(ev, IMS_K_START) ? IMS_VFIO_DIRTY_PAGES_FLAG_START : 0) |
			(ims_ev_has(ev, IMS_K_STOP) ? IMS_VFIO_DIRTY_PAGES_FLAG_STOP : 0) |
			(ims_ev_has(ev, IMS_K_GET_BITMAP) ? IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP : 0);
	bool get = flags == IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP;
	uint64_t iova = ims_ev_has(ev, IMS_K_IOVA) ? ev->v[IMS_K_IOVA] : 0;
	uint64_t length = ims_ev_has(ev, IMS_K_LENGTH) ? ev->v[IMS_K_LENGTH] : 0;
	struct vbm v = {0};
	if (get && (rc = rp_vbm_get(r, ev, d, iova, length, &v))) {
		rp_vbm_put(&v);
		return rc;
	}
	struct ims_vfio_dirty_pages c = {.flags = flags, .iova = iova, .size = length,
					 .bitmap = {v.ps, v.b.size, v.b.data}};
	rc = ims_vfio_dirty_pages(d->vfio, &c);
	if (rp_call_done(r, ev, rc, NULL)) {
		rc = 0;
		if (flags == IMS_VFIO_DIRTY_PAGES_FLAG_START) {
			rp_vfio_started(r, d, tag);
		} else if (flags == IMS_VFIO_DIRTY_PAGES_FLAG_STOP) {
			d->vtrack = false;
			ims_oracle_reset(r->pin_dirty, tag);
		} else if (get) {
			rc = vbm_done(r, ev, d, &v, NULL);
			rp_pins_queried(r, tag, iova, length);
		}
	} else {
		rc = 0;
	}
	rp_vbm_put(&v);
	return rc;
}

int rp_op_vfio_pin(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
	uint64_t iova = ev->v[IMS_K_IOVA], length = ev->v[IMS_K_LENGTH];
	bool pin = ev->op == IMS_OP_VFIO_PIN;
	rc = pin ? ims_vfio_pin(d->vfio, iova, length) : ims_vfio_unpin(d->vfio, iova, length);
	if (!rp_call_done(r, ev, rc, NULL))
		return 0;
	if (pin) {
		ims_oracle_add(r->pin_now, tag, iova, length);
		if (d->vtrack)
			ims_oracle_add(r->pin_dirty, tag, iova, length);
	} else {
		ims_oracle_clear(r->pin_now, tag, iova, length);
	}
	return 0;
}
