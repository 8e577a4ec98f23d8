/* iommufd nesting calls (docs/uapi.md, "Nesting"): `iommufd hwpt-alloc
 * nested=P` / `viommu=V`, `iommufd invalidate`, `iommufd viommu-alloc` and
 * `iommufd vdevice-alloc`.
 *
 * The replayer plays the guest: before the call it builds the guest's
 * stage-1 table for the nested HWPT (its frames go into the parent's IOAS,
 * identity, as guest RAM the VMM maps: nested.c), and fills the vendor data
 * a guest driver would hand its VMM from it (the stage-1 root as the table
 * pointer). data0..3= replace words of it, so every check of the call can
 * be reached. On success the model is programmed with the guest's table
 * (ims_iommu_ctx_set_nested) and the HWPT is a domain: `map domain=N`
 * maps IOVA -> GPA in the guest's table, a device attached to it walks both
 * stages. A `nested=P` line is the legacy reading (struct
 * ims_iommufd_hwpt_alloc): for SMMUv3 and AMD it keeps the meaning it had
 * before iommusim had vIOMMU objects; `viommu=V` is Linux's way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"

#include "harness/replay_int.h"

/* What one line may hand a call as user memory (data-len, entry-len x
 * entry-num). */
#define USER_BYTES_MAX 65536u

static uint32_t vendor_type(enum ims_format s2)
{
	return s2 == IMS_FMT_VTD	 ? IMS_IOMMU_HWPT_DATA_VTD_S1
	       : s2 == IMS_FMT_SMMUV3_S2 ? IMS_IOMMU_HWPT_DATA_ARM_SMMUV3
					 : IMS_IOMMU_HWPT_DATA_AMD_GUEST;
}

static uint32_t vendor_size(uint32_t type)
{
	return type == IMS_IOMMU_HWPT_DATA_VTD_S1 ? 24 : type == IMS_IOMMU_HWPT_DATA_ARM_SMMUV3 ? 16 : 32;
}

/* The data a guest driver gives for a stage-1 table rooted at GPA root with
 * `levels` levels: VT-d 9.6 (FSPTPTR, FSPM), IHI0070 5.2 (STE V, Config =
 * stage-1 translate, S1ContextPtr), AMD 48882 2.2.2.1 (DTE V, GV, GCR3
 * table root, GPM). A guest's CD table / GCR3 table are not modelled: the
 * pointer is the stage-1 root's GPA. */
static void default_data(uint32_t type, uint64_t root, unsigned levels, uint64_t w[4])
{
	memset(w, 0, 4 * sizeof(*w));
	if (type == IMS_IOMMU_HWPT_DATA_VTD_S1) {
		w[1] = root;
		w[2] = levels == 5 ? 57 : 48;
	} else if (type == IMS_IOMMU_HWPT_DATA_ARM_SMMUV3) {
		w[0] = 1 | (5ull << 1) | (root & 0x000fffffffffffc0ull);
	} else {
		w[0] = 1 | (1ull << 55) | (((root >> 12) & 7) << 58);
		w[1] = (((root >> 15) & 0xffff) << 16) | (((root >> 31) & 0x1fffff) << 43);
		w[2] = (uint64_t)(levels == 5) << 54;
	}
}

/* The guest's stage-1 table for HWPT id over parent HWPT p: its frames
 * are mapped in p's IOAS as they are taken. */
static int guest_table(struct ims_tb *r, const struct ims_event *ev, uint16_t id, uint16_t pid,
		       enum ims_format s1, struct ims_pt **pt)
{
	char why[256] = "";
	struct ims_pt_cfg cfg = rp_ev_pt_cfg(r, ev, s1, id);
	struct ims_sink sink = rp_sink(r);
	r->nest_new.on = true;
	r->nest_new.tag = id;
	r->nest_new.parent = pid;
	r->nest_err[0] = '\0';
	int rc = ims_pt_new(r->mem, &cfg, &sink, pt, why, sizeof(why));
	if (rc) {
		r->nest_new.on = false;
		if (r->nest_err[0])
			return rp_input_error(r, ev,
					      ims_ev_has(ev, IMS_K_NESTED) ? IMS_K_NESTED : IMS_K_VIOMMU,
					      "%s", r->nest_err);
		return rp_domain_error(r, rc, IMS_K_HWPT, why);
	}
	return 0;
}

static void drop_guest_table(struct ims_tb *r, struct ims_pt *pt)
{
	ims_pt_free(pt); /* nest_new still names it: its frames leave the IOAS */
	r->nest_new.on = false;
}

int rp_op_iommufd_hwpt_nested(struct ims_tb *r, const struct ims_event *ev)
{
	uint16_t id = (uint16_t)ev->v[IMS_K_HWPT];
	bool on_viommu = ims_ev_has(ev, IMS_K_VIOMMU);
	uint32_t vid = (uint32_t)ev->v[IMS_K_VIOMMU], vparent = 0;
	/* On a vIOMMU the parent is the vIOMMU's; an unknown vIOMMU builds no
	 * guest table (the front end refuses the call). */
	bool known = !on_viommu || (r->fd && !ims_iommufd_viommu_info(r->fd, vid, &vparent, NULL) &&
				    vparent <= 0xffff);
	uint16_t pid = on_viommu ? (uint16_t)vparent : (uint16_t)ev->v[IMS_K_NESTED];
	struct dom *p = known ? r->doms[pid] : NULL;
	int pkey = on_viommu ? IMS_K_VIOMMU : IMS_K_NESTED;
	int s1 = p && p->kind == DOM_HWPT && !p->nested ? ims_format_nest_s1(p->fmt) : -1;
	struct ims_pt *pt = NULL;
	uint64_t w[4] = {0};
	uint32_t type = p && p->kind == DOM_HWPT ? vendor_type(p->fmt) : IMS_IOMMU_HWPT_DATA_NONE;
	int rc;
	if (ims_ev_has(ev, IMS_K_DATA_LEN) && ev->v[IMS_K_DATA_LEN] > USER_BYTES_MAX)
		return rp_input_error(r, ev, IMS_K_DATA_LEN, "data-len above %u bytes is not modelled",
				      USER_BYTES_MAX);
	if (s1 >= 0) {
		if ((rc = guest_table(r, ev, id, pid, (enum ims_format)s1, &pt)))
			return rc;
		unsigned levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 4;
		default_data(type, ims_pt_root(pt), levels, w);
	}
	for (int k = 0; k < 4; k++)
		if (ims_ev_has(ev, IMS_K_DATA0 + k))
			w[k] = ev->v[IMS_K_DATA0 + k];
	if (ims_ev_has(ev, IMS_K_DATA_TYPE))
		type = (uint32_t)ev->v[IMS_K_DATA_TYPE];
	uint32_t len = ims_ev_has(ev, IMS_K_DATA_LEN) ? (uint32_t)ev->v[IMS_K_DATA_LEN]
			: type == IMS_IOMMU_HWPT_DATA_NONE ? 0
							   : vendor_size(type);
	unsigned char *buf = calloc(1, len > 32 ? len : 32);
	if (!buf) {
		drop_guest_table(r, pt);
		return -ENOMEM;
	}
	memcpy(buf, w, len < 32 ? len : 32);
	struct ims_iommufd_hwpt_alloc a = {
		.dev_id = (uint32_t)ev->v[IMS_K_DEV],
		.pt_id = on_viommu ? vid : pid,
		.hwpt_id = id,
		.pt_is_hwpt = !on_viommu,
		.pt_is_viommu = on_viommu,
		.legacy = !on_viommu,
		.reserved = ims_ev_has(ev, IMS_K_RESERVED) ? (uint32_t)ev->v[IMS_K_RESERVED] : 0,
		.data_type = type,
		.data_len = len,
		.data = buf,
	};
	if (ims_ev_has(ev, IMS_K_FLAGS))
		a.flags = (uint32_t)ev->v[IMS_K_FLAGS];
	else
		a.flags = (ims_ev_has(ev, IMS_K_DIRTY) && ev->v[IMS_K_DIRTY]
				   ? IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0) |
			  (ims_ev_has(ev, IMS_K_NEST_PARENT) ? IMS_IOMMU_HWPT_ALLOC_NEST_PARENT : 0);
	char why[256] = "";
	rc = ims_iommufd_hwpt_alloc(r->fd, &a, why, sizeof(why));
	free(buf);
	if (!rp_call_done(r, ev, rc, why)) {
		drop_guest_table(r, pt);
		return 0;
	}
	if (!pt) /* the front end took a parent the replayer has no table for */
		return rp_input_error(r, ev, pkey, "%s names no nesting parent",
				      on_viommu ? "viommu=" : "nested=");
	uint64_t words[IMS_CTX_WORDS];
	ims_pt_ctx_words(pt, words);
	rc = ims_iommu_ctx_set_nested(r->mmu, id, (enum ims_format)s1, words, pid, why, sizeof(why));
	if (rc) {
		drop_guest_table(r, pt);
		return rp_input_error(r, ev, IMS_K_HWPT, "the model refuses the nested context: %s",
				      why[0] ? why : rp_errno_text(rc));
	}
	struct dom *d = calloc(1, sizeof(*d));
	if (!d || rp_dom_put(r, id, d)) {
		free(d);
		drop_guest_table(r, pt);
		return -ENOMEM;
	}
	/* The guest's table is the replayer's (a plain domain to map, unmap
	 * and flush); the front end's object holds only the vendor data. */
	d->fmt = (enum ims_format)s1;
	d->line = ev->line;
	d->pt = pt;
	d->nested = true;
	d->parent = pid;
	r->nest_new.on = false;
	return 0;
}

/* A valid invalidation entry: the guest's stage-1 range is flushed through
 * its own table's invalidation path (the commands a VMM forwards). */
static int inv_cb(void *arg, uint32_t hwpt, uint64_t iova, uint64_t size, bool leaf)
{
	struct ims_tb *r = arg;
	(void)leaf;
	struct dom *d = hwpt <= 0xffff ? r->doms[hwpt] : NULL;
	if (!d || !d->pt)
		return 0;
	uint64_t lim = ims_pt_iova_limit(d->pt);
	if (size && lim && (iova >= lim || size > lim - iova))
		size = 0; /* past the domain: all of it */
	return ims_pt_flush(d->pt, size ? iova : 0, size);
}

int rp_op_iommufd_invalidate(struct ims_tb *r, const struct ims_event *ev)
{
	bool on_viommu = ims_ev_has(ev, IMS_K_VIOMMU);
	uint64_t id = on_viommu ? ev->v[IMS_K_VIOMMU] : ev->v[IMS_K_HWPT];
	uint32_t type = (uint32_t)ev->v[IMS_K_DATA_TYPE];
	struct ims_iommufd_nested n;
	uint32_t deflen = type == IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 ? 24 : 16;
	if (!on_viommu && r->fd && !ims_iommufd_hwpt_nested(r->fd, (uint32_t)id, &n))
		deflen = n.data_type == IMS_IOMMU_HWPT_DATA_VTD_S1 ? 24 : 16;
	else if (on_viommu) /* the SMMUv3 command, the only vIOMMU entry */
		deflen = 16;
	uint64_t elen = ims_ev_has(ev, IMS_K_ENTRY_LEN) ? ev->v[IMS_K_ENTRY_LEN] : deflen;
	uint64_t num = ims_ev_has(ev, IMS_K_ENTRY_NUM) ? ev->v[IMS_K_ENTRY_NUM] : 1;
	if (elen * num > USER_BYTES_MAX)
		return rp_input_error(r, ev, ims_ev_has(ev, IMS_K_ENTRY_NUM) ? IMS_K_ENTRY_NUM : IMS_K_ENTRY_LEN,
				      "entry-len x entry-num above %u bytes is not modelled",
				      USER_BYTES_MAX);
	uint64_t w[4] = {0};
	for (int k = 0; k < 4; k++)
		if (ims_ev_has(ev, IMS_K_DATA0 + k))
			w[k] = ev->v[IMS_K_DATA0 + k];
	/* Each entry is the same data0..3= words, zero past them. */
	uint64_t total = elen * num;
	unsigned char *buf = calloc(1, total ? total : 1);
	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < num; i++)
		memcpy(buf + i * elen, w, elen < 32 ? elen : 32);
	struct ims_iommufd_invalidate c = {
		.hwpt_id = (uint32_t)id,
		.is_viommu = on_viommu,
		.data_type = type,
		.entry_len = (uint32_t)elen,
		.entry_num = (uint32_t)num,
		.reserved = ims_ev_has(ev, IMS_K_RESERVED) ? (uint32_t)ev->v[IMS_K_RESERVED] : 0,
		.data = buf,
		.inv = inv_cb,
		.arg = r,
	};
	int rc = r->fd ? ims_iommufd_invalidate(r->fd, &c) : -ENOENT;
	free(buf);
	rp_call_done(r, ev, rc, NULL);
	return 0;
}

int rp_op_iommufd_viommu(struct ims_tb *r, const struct ims_event *ev)
{
	struct ims_iommufd_viommu_alloc a = {
		.flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS] : 0,
		.type = ims_ev_has(ev, IMS_K_TYPE) ? (uint32_t)ev->v[IMS_K_TYPE]
						    : IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = (uint32_t)ev->v[IMS_K_DEV],
		.hwpt_id = (uint32_t)ev->v[IMS_K_HWPT],
		.viommu_id = (uint32_t)ev->v[IMS_K_VIOMMU],
	};
	int rc = r->fd ? ims_iommufd_viommu_alloc(r->fd, &a) : -ENOENT;
	rp_call_done(r, ev, rc, NULL);
	return 0;
}

int rp_op_iommufd_vdevice(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = r->fd ? ims_iommufd_vdevice_alloc(r->fd, (uint32_t)ev->v[IMS_K_VIOMMU],
						   (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_VIRT_ID])
		       : -ENOENT;
	rp_call_done(r, ev, rc, NULL);
	return 0;
}
