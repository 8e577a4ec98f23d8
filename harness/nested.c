/* Nested domains (docs/trace-format.md, "Nested domains"): a stage-1
 * software page table whose table frames are guest RAM. A guest builds its
 * stage-1 tables in its own memory, which the VMM has mapped in stage 2;
 * the hardware's stage-2 translation of each table address (nested.md of
 * the model) must find them. The replayer plays that VMM: every table
 * frame the stage-1 table takes is mapped identity (GPA == HPA, 4 KiB, rw)
 * in the parent's table as it is allocated, and unmapped as it is freed
 * (the `domain ... nested=P` line itself is ops.c's).
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
