/* The replayer's domain table, and what the oracle keeps per domain as
 * mappings come and go: the pages a walker maps dirty by its stated
 * contract, and the dirty state an unmap discards. Used by every front end
 * (plain ops, iommufd, VFIO); depends on none of them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/replay_int.h"

int rp_dom_put(struct ims_tb *r, uint16_t id, struct dom *d)
{
	if (r->ndom_tags == r->capdom_tags) {
		size_t cap = r->capdom_tags ? r->capdom_tags * 2 : 16;
		uint16_t *t = realloc(r->dom_tags, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		r->dom_tags = t;
		r->capdom_tags = cap;
	}
	r->dom_tags[r->ndom_tags++] = id;
	r->doms[id] = d;
	return 0;
}

struct unwritten {
	const struct ims_oracle *written;
	uint16_t tag;
	uint64_t n;
};

static int count_unwritten(void *arg, uint64_t first, uint64_t npages)
{
	struct unwritten *u = arg;
	for (uint64_t k = 0; k < npages; k++)
		if (!ims_oracle_test(u->written, u->tag, first + (k << IMS_PAGE_SHIFT)))
			u->n++;
	return 0;
}

static uint64_t oracle_unmap(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	uint64_t lost = ims_oracle_unmap(ims_iommu_oracle(r->mmu), tag, iova, size);
	if (!size || !ims_oracle_count(r->mapped_dirty, tag, iova, size))
		return lost;
	struct unwritten u = {r->written, tag, 0};
	ims_oracle_for_each(r->mapped_dirty, tag, iova, size, count_unwritten, &u);
	ims_oracle_unmap(r->mapped_dirty, tag, iova, size);
	return lost > u.n ? lost - u.n : 0;
}

uint64_t rp_oracle_unmap(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	uint64_t lost = oracle_unmap(r, tag, iova, size);
	/* Expected by design: counted in the summary, said here under -v. */
	if (lost && r->o.verbosity >= 2 && r->ev)
		fprintf(stdout, "%s:%" PRIu64 ": %" PRIu64 " dirty pages lost on unmap (domain %u): "
			"no read took them before the mapping went\n",
			rp_file(r, r->ev), rp_line(r, r->ev), lost, tag);
	return lost;
}

void rp_mapped(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size, unsigned prot)
{
	struct dom *d = r->doms[tag];
	if (!d || !d->pt || !size || !(prot & IMS_PROT_W) || !ims_pt_tracking(d->pt) ||
	    !(ims_pt_walker_contract(d->pt) & IMS_WALKER_CONTRACT_MAPS_DIRTY))
		return;
	ims_oracle_add(ims_iommu_oracle(r->mmu), tag, iova, size);
	ims_oracle_add(r->mapped_dirty, tag, iova, size);
	r->st.mapped_dirty_by_contract += ((size - 1) >> 12) + 1;
}

