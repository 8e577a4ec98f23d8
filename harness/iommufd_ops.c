/* iommufd calls (docs/uapi.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"

#include "harness/replay_int.h"

static int need_fd(struct ims_tb *r)
{
	if (r->fd)
		return 0;
	struct ims_sink sink = rp_sink(r);
	int rc = ims_iommufd_new(r->mem, &sink, &r->fd);
	if (!rc)
		ims_iommufd_set_walker(r->fd, r->o.walker, r->o.plugin);
	return rc;
}

int rp_op_iommufd_bind(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	/* The model's capability registers, as IOMMU_GET_HW_INFO reports them:
	 * what the hardware needs for dirty updates at all. */
	bool cap = ims_iommu_cfg_dirty_capable(ims_iommu_config(r->mmu), fmt);
	if (ims_ev_has(ev, IMS_K_DIRTY_CAP)) {
		if (ev->v[IMS_K_DIRTY_CAP] && !cap)
			return rp_input_error(r, ev, IMS_K_DIRTY_CAP,
					      "dirty-cap=on, but the model's %s capability registers do not "
					      "offer dirty tracking",
					      ims_format_name(fmt));
		cap = ev->v[IMS_K_DIRTY_CAP] != 0;
	}
	struct ims_iommufd_hw_info info = {fmt, cap ? IMS_IOMMU_HW_CAP_DIRTY_TRACKING : 0};
	rc = ims_iommufd_bind(r->fd, (uint32_t)ev->v[IMS_K_DEV], &info);
	if (rc == -EEXIST)
		return rp_input_error(r, ev, IMS_K_DEV, "device 0x%" PRIx64 " is already bound",
				      ev->v[IMS_K_DEV]);
	return rc;
}

int rp_op_iommufd_hw_info(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	struct ims_iommufd_hw_info info;
	rc = ims_iommufd_get_hw_info(r->fd, (uint32_t)ev->v[IMS_K_DEV], &info);
	if (rp_call_done(r, ev, rc, NULL) && ims_ev_has(ev, IMS_K_DIRTY_CAP)) {
		bool got = (info.out_capabilities & IMS_IOMMU_HW_CAP_DIRTY_TRACKING) != 0;
		r->st.assertions++;
		if (got != (ev->v[IMS_K_DIRTY_CAP] != 0)) {
			r->st.assertion_failures++;
			rp_validation_failure(r, ev, "hw-info: IOMMU_HW_CAP_DIRTY_TRACKING is %s, expected %s",
					      got ? "set" : "clear", got ? "clear" : "set");
		}
	}
	return 0;
}

int rp_op_iommufd_ioas(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	rp_call_done(r, ev, ims_iommufd_ioas_alloc(r->fd, (uint32_t)ev->v[IMS_K_IOAS]), NULL);
	return 0;
}

int rp_op_iommufd_map(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	unsigned prot = ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT] : IMS_PROT_RW;
	/* The output addresses and the page tables of every HWPT of the
	 * IOAS, before any is touched. */
	uint64_t tables = 0, pa = ev->v[IMS_K_PA], len = ev->v[IMS_K_LENGTH];
	/* A pa + length that wraps is the call's to refuse (EOVERFLOW). */
	for (size_t k = 0; len && pa + (len - 1) >= pa && k < r->ndom_tags; k++) {
		struct dom *d = r->doms[r->dom_tags[k]];
		if (d && d->kind == DOM_HWPT && d->ioas == (uint32_t)ev->v[IMS_K_IOAS] &&
		    (rc = rp_check_map(r, ev, d->pt, ev->v[IMS_K_IOVA], ev->v[IMS_K_PA],
				       ev->v[IMS_K_LENGTH], 0, IMS_K_LENGTH, &tables)))
			return rc;
	}
	if ((rc = rp_check_tables(r, ev, IMS_K_LENGTH, tables, "the map")))
		return rc;
	rc = ims_iommufd_ioas_map(r->fd, (uint32_t)ev->v[IMS_K_IOAS], ev->v[IMS_K_IOVA],
				  ev->v[IMS_K_PA], ev->v[IMS_K_LENGTH], prot);
	if (rc == -ENOSPC)
		return rp_tables_full(r, ev, IMS_K_LENGTH, "the map");
	if (rp_call_done(r, ev, rc, NULL)) {
		/* Every HWPT of the IOAS got the mapping (the domains in use). */
		for (size_t k = 0; k < r->ndom_tags; k++) {
			uint16_t t = r->dom_tags[k];
			struct dom *d = r->doms[t];
			if (d && d->kind == DOM_HWPT && d->ioas == (uint32_t)ev->v[IMS_K_IOAS])
				rp_mapped(r, t, ev->v[IMS_K_IOVA],
					  rp_clip_size(ev->v[IMS_K_IOVA], ev->v[IMS_K_LENGTH]), prot);
		}
		r->st.maps++;
	}
	return 0;
}

int rp_op_iommufd_unmap(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint32_t ioas = (uint32_t)ev->v[IMS_K_IOAS];
	uint64_t iova = ev->v[IMS_K_IOVA], size = rp_clip_size(iova, ev->v[IMS_K_LENGTH]);
	/* Every HWPT of the IOAS loses the range: keep their leaves first. */
	struct hw {
		uint16_t tag;
		struct snap s;
	} *hw = NULL;
	size_t nhw = 0;
	for (unsigned t = 0; t < 65536; t++) {
		struct dom *d = r->doms[t];
		if (!d || d->kind != DOM_HWPT || d->ioas != ioas)
			continue;
		struct hw *n = realloc(hw, (nhw + 1) * sizeof(*hw));
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		hw = n;
		hw[nhw].tag = (uint16_t)t;
		memset(&hw[nhw].s, 0, sizeof(hw[nhw].s));
		if (rp_gpa_needs_snap(r, (uint16_t)t, iova, size))
			rp_snap_take(d, iova, size, &hw[nhw].s);
		nhw++;
	}
	uint64_t bytes = 0;
	rc = ims_iommufd_ioas_unmap(r->fd, ioas, iova, ev->v[IMS_K_LENGTH], &bytes);
	if (rp_call_done(r, ev, rc, NULL)) {
		for (size_t i = 0; i < nhw; i++) {
			/* iommufd: unmap never reports dirty state; it is discarded. */
			r->st.lost_on_unmap += rp_oracle_unmap(r, hw[i].tag, iova, size);
			rp_gpa_unmapped(r, hw[i].tag, iova, size, &hw[i].s, false);
			if (size)
				rp_maybe_settle(r, hw[i].tag, iova, iova + (size - 1));
		}
		r->st.unmaps++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nhw; i++)
		free(hw[i].s.l);
	free(hw);
	return rc;
}

int rp_op_iommufd_hwpt(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint64_t id = ev->v[IMS_K_HWPT];
	if (id > 0xffff)
		return rp_input_error(r, ev, IMS_K_HWPT, "hwpt=%" PRIu64 " is out of range (0..65535)", id);
	if (r->doms[id])
		return rp_input_error(r, ev, IMS_K_HWPT,
				      "hwpt=%" PRIu64 " names domain %" PRIu64 " of line %" PRIu64
				      " (a HWPT id is also its domain's hardware tag)",
				      id, id, r->doms[id]->line);
	struct rp_geom g = rp_ev_geom(ev);
	struct ims_iommufd_hwpt_alloc a = {
		.dev_id = (uint32_t)ev->v[IMS_K_DEV],
		.pt_id = (uint32_t)ev->v[IMS_K_IOAS],
		.hwpt_id = (uint16_t)id,
		.levels = g.levels,
		.granule_shift = g.granule_shift,
		.ias = g.ias,
		.pgsizes = g.pgsizes,
	};
	if (ims_ev_has(ev, IMS_K_LEVELS) && (ev->v[IMS_K_LEVELS] == 0 || ev->v[IMS_K_LEVELS] > 64))
		return rp_input_error(r, ev, IMS_K_LEVELS, "levels=%" PRIu64 " is out of range",
				      ev->v[IMS_K_LEVELS]);
	if (ims_ev_has(ev, IMS_K_IAS) && (ev->v[IMS_K_IAS] == 0 || ev->v[IMS_K_IAS] > 64))
		return rp_input_error(r, ev, IMS_K_IAS, "ias=%" PRIu64 " is out of range", ev->v[IMS_K_IAS]);
	if (ims_ev_has(ev, IMS_K_NESTED) || ims_ev_has(ev, IMS_K_VIOMMU))
		return rp_op_iommufd_hwpt_nested(r, ev);
	if (ims_ev_has(ev, IMS_K_FLAGS))
		a.flags = (uint32_t)ev->v[IMS_K_FLAGS];
	else
		a.flags = (ims_ev_has(ev, IMS_K_DIRTY) && ev->v[IMS_K_DIRTY]
				   ? IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0) |
			  (ims_ev_has(ev, IMS_K_NEST_PARENT) ? IMS_IOMMU_HWPT_ALLOC_NEST_PARENT : 0);
	a.reserved = ims_ev_has(ev, IMS_K_RESERVED) ? (uint32_t)ev->v[IMS_K_RESERVED] : 0;
	a.data_type = ims_ev_has(ev, IMS_K_DATA_TYPE) ? (uint32_t)ev->v[IMS_K_DATA_TYPE] : 0;
	/* A paging HWPT's data is refused before it is read: its words need
	 * no buffer of their own. */
	uint64_t pdata[4] = {0};
	a.data_len = ims_ev_has(ev, IMS_K_DATA_LEN) ? (uint32_t)ev->v[IMS_K_DATA_LEN]
		     : a.data_type ? (uint32_t)sizeof(pdata) : 0;
	a.data = pdata;
	char why[256] = "";
	rc = ims_iommufd_hwpt_alloc(r->fd, &a, why, sizeof(why));
	if (rc == -ENOSPC) /* its IOAS's areas, mapped into the new table */
		return rp_tables_full(r, ev, IMS_K_HWPT, "the HWPT's allocation");
	if (!rp_call_done(r, ev, rc, why))
		return 0;
	struct ims_pt *pt = ims_iommufd_hwpt_pt(r->fd, a.hwpt_id);
	uint64_t words[IMS_CTX_WORDS];
	ims_pt_ctx_words(pt, words);
	rc = ims_iommu_ctx_set(r->mmu, a.hwpt_id, ims_pt_format(pt), words, why, sizeof(why));
	if (rc)
		return rp_input_error(r, ev, IMS_K_HWPT, "the model refuses the HWPT's context: %s",
				      why[0] ? why : rp_errno_text(rc));
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fmt = ims_pt_format(pt);
	d->line = ev->line;
	d->pt = pt;
	d->kind = DOM_HWPT;
	d->ioas = a.pt_id;
	d->dirty_alloc = (a.flags & IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING) != 0;
	if (rp_dom_put(r, (uint16_t)id, d)) {
		free(d); /* the HWPT's table is the iommufd's */
		return -ENOMEM;
	}
	return 0;
}

int rp_op_iommufd_attach(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint32_t dev = (uint32_t)ev->v[IMS_K_DEV];
	uint64_t id = ev->v[IMS_K_HWPT];
	rc = ims_iommufd_attach(r->fd, dev, (uint32_t)id);
	if (!rp_call_done(r, ev, rc, NULL))
		return 0;
	rc = ims_iommu_attach(r->mmu, dev, (uint16_t)id);
	if (rc)
		return rp_input_error(r, ev, IMS_K_DEV, "attach failed in the model: %s", rp_errno_text(rc));
	return 0;
}

int rp_op_iommufd_set_dirty(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint32_t flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS]
			 : ims_ev_has(ev, IMS_K_ON)  ? IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE
						     : 0;
	uint64_t id = ev->v[IMS_K_HWPT];
	rc = ims_iommufd_set_dirty_tracking(r->fd, (uint32_t)id, flags);
	if (rp_call_done(r, ev, rc, NULL) && (flags & IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE))
		rp_tracking_enabled(r, (uint16_t)id);
	return 0;
}

int rp_op_iommufd_get_dirty(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint64_t id = ev->v[IMS_K_HWPT];
	uint64_t iova = ev->v[IMS_K_IOVA], length = ev->v[IMS_K_LENGTH], ps = ev->v[IMS_K_PAGE_SIZE];
	uint32_t flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS] : 0;
	if (ims_ev_has(ev, IMS_K_NOCLEAR))
		flags |= IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (d && d->kind != DOM_HWPT)
		d = NULL;
	bool geo = rp_geometry_ok(iova, length, ps);
	struct ubuf b = {0};
	if ((rc = rp_ubuf_get(r, ev, geo ? ims_iommufd_bitmap_bytes(length, ps) : 0, &b)))
		return rc;
	/* The oracle's expectation, from before the call. */
	struct ims_bitmap want = {0}, got = {0};
	bool have = d && geo && b.size >= b.need;
	if (have && (ims_bitmap_init(&want, iova, length, ims_log2(ps)) ||
		     ims_bitmap_init(&got, iova, length, ims_log2(ps)))) {
		ims_bitmap_fini(&want);
		free(b.data);
		return -ENOMEM;
	}
	if (have)
		ims_oracle_expected(ims_iommu_oracle(r->mmu), (uint16_t)id, want.iova, want.length,
				    want.pgshift, want.words);
	struct ims_iommufd_dirty_bitmap c = {
		.hwpt_id = (uint32_t)id,
		.flags = flags,
		.reserved = ims_ev_has(ev, IMS_K_RESERVED) ? (uint32_t)ev->v[IMS_K_RESERVED] : 0,
		.iova = iova,
		.length = length,
		.page_size = ps,
		.data = b.data,
		.data_len = b.size,
	};
	rc = ims_iommufd_get_dirty_bitmap(r->fd, &c);
	if (rp_call_done(r, ev, rc, NULL) && have) {
		rp_ubuf_decode(&b, &got);
		bool clear = !(flags & IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
		rp_settle_dirty_read(r, ev, ims_op_name(ev->op), (uint16_t)id, &want, &got, clear, NULL);
		rp_gpa_harvested(r, ev, (uint16_t)id, iova, length);
		rp_gpa_reported(r, d, &got, NULL);
		rc = rp_check_bitmap_expect(r, ev, (int)id, clear, &got);
	} else {
		rc = 0;
	}
	ims_bitmap_fini(&want);
	ims_bitmap_fini(&got);
	free(b.data);
	return rc;
}
