/* Prefetch hints: what the replayer tells the model about accesses to come,
 * so that their host cache misses overlap the work done meanwhile. Internal
 * to the build, not part of the library's API: a hint changes no state of
 * the model, so leaving it out gives the same results.
 */
#ifndef IMS_MODEL_PREFETCH_H
#define IMS_MODEL_PREFETCH_H

#include "iommusim/model.h"
#include "iommusim/oracle.h"

/* Hint that an access to (dev, iova) comes soon, e.g. the next DMA of a
 * trace: the host memory its walk and its oracle record will read is
 * prefetched into the host's caches, so that its misses overlap the work
 * done meanwhile. Changes no state of the model (no cache, LRU, counter,
 * cycle or A/D); calling it or not gives the same results. While accesses
 * hit the IOTLB (no walk since the last call) it does nothing and returns
 * false; true when it went on to prefetch. */
bool iommu_prefetch(struct ims_iommu *mmu, uint32_t dev, uint64_t iova, unsigned acc);

/* Hint: a write to the page of iova may come soon. Brings what recording
 * it reads into the host's caches; changes nothing. */
void oracle_prefetch(const struct ims_oracle *o, uint16_t dom, uint64_t iova);

#endif
