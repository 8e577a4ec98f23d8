/* What the replayer's DMA path asks of the model beyond the public API
 * (harness/dma.h). Internal to the build, not part of the library's API.
 */
#ifndef IMS_MODEL_DMA_PATH_H
#define IMS_MODEL_DMA_PATH_H

#include "iommusim/model.h"
#include "iommusim/oracle.h"

/* What iommu_dma_page did: 16 bytes, returned in two registers. */
struct iommu_page {
	uint64_t pa; /* the output address, when rc is 0 */
	int32_t rc;  /* what ims_iommu_access returns */
	/* A write: the tag of the domain the device is attached to, with
	 * IOMMU_PAGE_TRACKED when its context has dirty updates on
	 * (ims_iommu_dev_domain, ims_iommu_ctx_dirty_enabled, which the access
	 * cannot change); -1 for a read (the replayer records writes only) or
	 * a device not attached. */
	int32_t dom;
};
#define IOMMU_PAGE_TRACKED 0x10000

/* The access of a DMA that fits in one page, acc valid (IMS_ACC_R, _W or
 * both): exactly ims_iommu_access, with no result struct to clear or fill,
 * and what the replayer records of a write. */
struct iommu_page iommu_dma_page(struct ims_iommu *mmu, uint32_t dev, uint64_t iova, unsigned acc);

/* A DMA of a batch (iommu_dma_pages): len bytes from iova, which fit in a
 * page, acc valid. */
struct iommu_req {
	uint64_t iova, len;
	uint32_t dev;
	uint32_t acc;
};

/* iommu_dma_page for req[0..n) in order, each result in res[i], in one
 * call; before req[i], req[i + ahead] is hinted (iommu_prefetch) when
 * i + ahead < nhint (req holds nhint entries, those past n only to be
 * hinted). rec (may be NULL): the IOVA bytes each write that succeeds
 * through a context with dirty updates on go into rec under the domain's
 * tag (ims_oracle_add), as the replayer records them, and the hint
 * prefetches what that reads. Stops after the first access that faults,
 * whose faults the caller then takes before any later access queues more:
 * returns how many were done. */
size_t iommu_dma_pages(struct ims_iommu *mmu, const struct iommu_req *req, size_t n, size_t nhint,
		       unsigned ahead, struct ims_oracle *rec, struct iommu_page *res);

/* Whether every translation takes the general path (the micro-TLB's,
 * which the IOTLB-hit path without one must match): for tests. */
void iommu_set_reference(struct ims_iommu *mmu, bool on);

#endif
