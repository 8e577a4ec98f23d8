/* The DMA path, shared by the replay's dma op and ims_tb_dma. */
#ifndef IMS_HARNESS_DMA_H
#define IMS_HARNESS_DMA_H

#include "harness/replay_int.h"
#include "model/prefetch.h"
#include "model/dma_path.h"

/* Each piece's result goes to acc[0..n). */
struct rp_dma_res {
	struct ims_tb_access *acc;
	size_t n;
};

/* A DMA as the model does it, piece by piece (ims_iommu_dma), keeping what
 * each write reached in IOVA and GPA space (docs/uapi.md), a run at a
 * time, and with res each piece's result (ims_tb_dma). Returns the pieces
 * that faulted; *pieces_out the pieces. The general path: dma_core takes
 * most DMAs without it. */
static __attribute__((noinline, unused)) uint64_t
dma_loop(struct ims_tb *r, uint32_t dev, uint64_t iova, uint64_t len, unsigned acc,
	 uint64_t *pieces_out, struct rp_dma_res *res)
{
	uint64_t pieces = 0, faulted = 0;
	/* Only a write is recorded: a read needs neither look-up. */
	int tag = (acc & IMS_ACC_W) ? ims_iommu_dev_domain(r->mmu, dev) : -1;
	bool tracked = tag >= 0 && ims_iommu_ctx_dirty_enabled(r->mmu, (uint16_t)tag);
	bool record = tag >= 0 && (tracked || r->mig_on);
	if (res || record) {
		uint64_t left = len, at = iova;
		uint64_t run_iova = 0, run_pa = 0, run_len = 0;
		while (left) {
			uint64_t room = IMS_PAGE_SIZE - (at & (IMS_PAGE_SIZE - 1));
			uint64_t n = room < left ? room : left;
			struct ims_xlate x;
			if (left > n)
				iommu_prefetch(r->mmu, dev, at + n, acc);
			int k = ims_iommu_access(r->mmu, dev, at, acc, &x);
			if (k > 0)
				faulted++;
			if (res && pieces < res->n) {
				struct ims_tb_access *o = &res->acc[pieces];
				*o = (struct ims_tb_access){.iova = at, .len = n};
				if (k == 0) {
					o->pa = x.pa;
					o->iotlb_hit = x.iotlb_hit;
					o->dirty_set = x.dirtied;
					o->leaf_iova = x.leaf_iova;
					o->leaf_shift = x.leaf_shift;
					o->accessed_set = x.accessed;
				} else if (k > 0) {
					o->fault = (int)x.fault;
					o->code = x.code;
				}
				o->cycles = x.cycles;
			}
			if (record) {
				if (k == 0 && run_len && at == run_iova + run_len &&
				    x.pa == run_pa + run_len) {
					run_len += n;
				} else {
					if (run_len)
						gpa_write(r, (uint16_t)tag, run_iova, run_pa, run_len,
							  tracked);
					run_len = 0;
					if (k == 0) {
						run_iova = at;
						run_pa = x.pa;
						run_len = n;
					}
				}
			}
			pieces++;
			left -= n;
			at += n;
		}
		if (run_len)
			gpa_write(r, (uint16_t)tag, run_iova, run_pa, run_len, tracked);
	} else {
		faulted = ims_iommu_dma(r->mmu, dev, iova, len, acc, &pieces);
	}
	*pieces_out = pieces;
	return faulted;
}

/* Whether a DMA is one the model does in one call: it fits in a page and
 * its direction is valid (the budget is the caller's to check). */
static inline bool dma_one_page(const struct ims_tb *r, uint64_t iova, uint64_t len, unsigned acc)
{
	return len && len <= IMS_PAGE_SIZE - (iova & (IMS_PAGE_SIZE - 1)) && acc &&
	       acc <= IMS_ACC_RW && !r->ref_dma;
}

/* The rest of such a DMA once the model has done it (p): the record of a
 * write, the statistics. Returns the pieces that faulted (0 or 1). */
static inline __attribute__((always_inline)) uint64_t
dma_page_done(struct ims_tb *r, uint64_t iova, uint64_t len, struct iommu_page p)
{
	bool tracked = p.dom & IOMMU_PAGE_TRACKED;
	if (p.rc == 0 && p.dom >= 0 && (tracked || r->mig_on))
		gpa_write(r, (uint16_t)p.dom, iova, p.pa, len, tracked);
	uint64_t faulted = p.rc > 0;
	r->st.dma_ops++;
	r->st.dma_pages++;
	r->st.dma_bytes += len;
	r->st.faults += faulted;
	return faulted;
}

/* A DMA (dma_loop), counted in the replay's statistics. One that fits in a
 * page with no result asked per piece, most DMAs of a trace, makes one call
 * to the model, which also names the domain a write records to: what
 * dma_loop makes of it, in fewer steps (replay_set_reference sends every
 * DMA to dma_loop). Inlined into both callers (the replay's dma op, which
 * has no res, and ims_tb_dma). */
static inline __attribute__((always_inline)) uint64_t
dma_core(struct ims_tb *r, uint32_t dev, uint64_t iova, uint64_t len, unsigned acc,
	 uint64_t *pieces_out, struct rp_dma_res *res)
{
	if (!res && dma_one_page(r, iova, len, acc)) {
		*pieces_out = 1;
		return dma_page_done(r, iova, len, iommu_dma_page(r->mmu, dev, iova, acc));
	}
	uint64_t pieces;
	uint64_t faulted = dma_loop(r, dev, iova, len, acc, &pieces, res);
	r->st.dma_ops++;
	r->st.dma_pages += pieces;
	r->st.dma_bytes += len;
	r->st.faults += faulted;
	*pieces_out = pieces;
	return faulted;
}

#endif
