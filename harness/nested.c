/* Nested domains (docs/trace-format.md, "Nested domains"): a stage-1
 * software page table whose table frames are guest RAM. A guest builds its
 * stage-1 tables in its own memory, which the VMM has mapped in stage 2;
 * the hardware's stage-2 translation of each table address (nested.md of
 * the model) must find them. The replayer plays that VMM: every table
 * frame the stage-1 table takes is mapped identity (GPA == HPA, 4 KiB, rw)
 * in the parent's table as it is allocated, and unmapped as it is freed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "iommusim/iommufd.h"

#include "harness/replay_int.h"

/* The stage-2 domain whose table maps domain tag's table frames, or -1. */
static int frame_parent(const struct ims_tb *r, uint16_t tag)
{
	if (r->tearing_down)
		return -1;
	if (r->nest_new.on && r->nest_new.tag == tag)
		return r->nest_new.parent;
	const struct dom *d = r->doms[tag];
	return d && d->nested ? d->parent : -1;
}

/* An iommufd parent maps what its IOAS holds: the VMM maps a guest table
 * frame into the IOAS (IOMMU_IOAS_MAP, identity), and every paging HWPT of
 * the IOAS gets it; a freed frame is unmapped from the IOAS. */
static int hwpt_frames(struct ims_tb *r, uint16_t tag, const struct dom *pd, uint64_t pa,
		       uint64_t size, bool map)
{
	int rc = map ? ims_iommufd_ioas_map(r->fd, pd->ioas, pa, pa, size, IMS_PROT_RW)
		     : ims_iommufd_ioas_unmap(r->fd, pd->ioas, pa, size, NULL);
	if (rc) {
		if (map)
			snprintf(r->nest_err, sizeof(r->nest_err),
				 "stage-1 table frame 0x%" PRIx64 " of HWPT %u cannot be mapped in "
				 "IOAS %" PRIu32 " of its parent: %s",
				 pa, tag, pd->ioas, rp_errno_text(rc));
		return rc;
	}
	for (size_t k = 0; k < r->ndom_tags; k++) {
		uint16_t t = r->dom_tags[k];
		const struct dom *d = r->doms[t];
		if (!d || d->kind != DOM_HWPT || d->ioas != pd->ioas)
			continue;
		if (map) {
			rp_mapped(r, t, pa, size, IMS_PROT_RW);
		} else {
			r->st.lost_on_unmap += rp_oracle_unmap(r, t, pa, size);
			rp_maybe_settle(r, t, pa, pa + (size - 1));
		}
	}
	return 0;
}

int rp_nest_table_alloc(void *arg, uint16_t tag, uint64_t pa, unsigned order)
{
	struct ims_tb *r = arg;
	int p = frame_parent(r, tag);
	if (p < 0)
		return 0;
	struct dom *pd = r->doms[p];
	uint64_t size = IMS_PAGE_SIZE << order;
	if (pd->kind == DOM_HWPT)
		return hwpt_frames(r, tag, pd, pa, size, true);
	int rc = ims_pt_map(pd->pt, pa, pa, size, IMS_PROT_RW, IMS_PAGE_SIZE);
	if (rc) {
		uint64_t lim = ims_pt_iova_limit(pd->pt);
		if (rc == -EINVAL && lim && pa + size > lim)
			snprintf(r->nest_err, sizeof(r->nest_err),
				 "stage-1 table frame 0x%" PRIx64 " of domain %u is past the input "
				 "range of its parent %d (below 0x%" PRIx64 "): its stage 2 must "
				 "reach the frame pool (page-table frames start at 0x%llx)",
				 pa, tag, p, lim, (unsigned long long)IMS_MEM_POOL_BASE);
		else
			snprintf(r->nest_err, sizeof(r->nest_err),
				 "stage-1 table frame 0x%" PRIx64 " of domain %u cannot be mapped in "
				 "its parent %d: %s%s",
				 pa, tag, p, rp_errno_text(rc),
				 rc == -EEXIST ? " (the parent maps that GPA already)" : "");
		return rc;
	}
	rp_mapped(r, (uint16_t)p, pa, size, IMS_PROT_RW);
	return 0;
}

void rp_nest_table_free(void *arg, uint16_t tag, uint64_t pa, unsigned order)
{
	struct ims_tb *r = arg;
	int p = frame_parent(r, tag);
	if (p < 0)
		return;
	uint64_t size = IMS_PAGE_SIZE << order;
	if (r->doms[p]->kind == DOM_HWPT) {
		hwpt_frames(r, tag, r->doms[p], pa, size, false);
		return;
	}
	if (ims_pt_unmap(r->doms[p]->pt, pa, size, NULL))
		return;
	/* Its dirty state (stage-1 A/D updates through stage 2) goes with it,
	 * as with any unmap. */
	r->st.lost_on_unmap += rp_oracle_unmap(r, (uint16_t)p, pa, size);
	rp_maybe_settle(r, (uint16_t)p, pa, pa + (size - 1));
}

int rp_nested_domain(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID], pid = ev->v[IMS_K_NESTED];
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	struct dom *p = r->doms[pid];
	int s2 = ims_format_nest_s2(fmt);
	if (pid == id)
		return rp_input_error(r, ev, IMS_K_NESTED, "nested=%" PRIu64 " names the domain itself",
				      pid);
	if (s2 < 0)
		return rp_input_error(r, ev, IMS_K_FORMAT,
				      "format=%s has no nested pair (stage 1 over stage 2: smmuv3 over "
				      "smmuv3-s2, vtd-fs over vtd, amdv2 over amdv1)",
				      ims_format_name(fmt));
	if (!p)
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " is not defined (define the "
				      "stage-2 parent first)",
				      pid, pid);
	if (p->raw || p->nested || p->kind != DOM_PLAIN)
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " (line %" PRIu64 ") is %s; "
				      "a parent is a software domain of a `domain` line",
				      pid, pid, p->line,
				      p->raw ? "raw" : p->nested ? "nested itself"
				      : p->kind == DOM_HWPT ? "an iommufd HWPT (use iommufd hwpt-alloc nested=)"
							    : "a VFIO container");
	if (p->fmt != (enum ims_format)s2)
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " has format %s; a %s stage 1 "
				      "nests over %s",
				      pid, pid, ims_format_name(p->fmt), ims_format_name(fmt),
				      ims_format_name((enum ims_format)s2));
	if (!(ims_pt_pgsizes(p->pt) & IMS_PAGE_SIZE))
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " cannot map 4 KiB pages, "
				      "which its nested domain's table frames need",
				      pid, pid);
	struct ims_tb_domain_cfg c = {
		.fmt = fmt,
		.levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 0,
		.granule_shift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0,
		.ias = ims_ev_has(ev, IMS_K_IAS) ? (unsigned)ev->v[IMS_K_IAS] : 0,
		.pgsizes = ims_ev_has(ev, IMS_K_PGSIZES) ? ev->v[IMS_K_PGSIZES] : 0,
		.dirty = ims_ev_has(ev, IMS_K_DIRTY) && ev->v[IMS_K_DIRTY],
	};
	return rp_tb_domain(r, (uint16_t)id, &c, (int)pid);
}
