/* The VFIO type1 front end: the container interface of Linux's
 * vfio_iommu_type1 (docs/uapi.md) over one software page table.
 *
 * Type1 has no hardware dirty bits. While dirty tracking is started, every
 * page of every DMA mapping is reported dirty on every query ("perpetually
 * dirty"), unless every group of the container tracks the pages its
 * devices pin: then only pages pinned since the last query, or still
 * pinned, are reported (dirty-semantics.md, "iommufd GET_DIRTY_BITMAP and
 * VFIO type1"). Every error of these calls is -EINVAL, as in type1, except
 * -EEXIST for a mapping over another one and -ENOMEM.
 */
#ifndef IOMMUSIM_VFIO_H
#define IOMMUSIM_VFIO_H

#include "iommusim/pt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* uAPI values (include/uapi/linux/vfio.h). */
enum {
	IMS_VFIO_DIRTY_PAGES_FLAG_START = 1 << 0,
	IMS_VFIO_DIRTY_PAGES_FLAG_STOP = 1 << 1,
	IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP = 1 << 2,
	IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0,
};

/* The largest bitmap a query may ask for: one bit per page of INT_MAX
 * pages, rounded to u64 words (256 MiB). */
#define IMS_VFIO_DIRTY_BITMAP_MAX (256ull << 20)

struct ims_vfio;

/* struct vfio_bitmap: data is user memory of `size` bytes, bit k (bit k%8
 * of byte k/8) is the page at the range's iova + k * pgsize; any alignment
 * works. Calls only set bits. */
struct ims_vfio_bitmap {
	uint64_t pgsize;
	uint64_t size;
	void *data;
};

/* VFIO_IOMMU_DIRTY_PAGES; iova, size and bitmap only for GET_BITMAP. */
struct ims_vfio_dirty_pages {
	uint32_t flags;
	uint64_t iova, size;
	struct ims_vfio_bitmap bitmap;
};

/* A container whose one IOMMU domain is pt (borrowed: it must outlive the
 * container, and only the container maps into it). */
int ims_vfio_new(struct ims_pt *pt, struct ims_vfio **out);
void ims_vfio_free(struct ims_vfio *v);

/* A group joins the container; pin_scope: its devices' drivers pin every
 * page they DMA to (vfio_pin_pages), so their dirty scope is what they pin.
 * -EEXIST if it is a member. */
int ims_vfio_group_add(struct ims_vfio *v, uint32_t group, bool pin_scope);
/* Only pinned pages are reported: every group tracks pins. */
bool ims_vfio_pin_scope(const struct ims_vfio *v);
bool ims_vfio_tracking(const struct ims_vfio *v);
/* The smallest IOMMU page size: the only bitmap pgsize type1 accepts. */
uint64_t ims_vfio_pgsize(const struct ims_vfio *v);

/* VFIO_IOMMU_MAP_DMA (iova, the memory at pa, size, IMS_PROT_*): size 0,
 * misalignment to the smallest page size, a wrap past 2^64: -EINVAL; an
 * overlap with a mapping: -EEXIST. */
int ims_vfio_map_dma(struct ims_vfio *v, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot);
/* VFIO_IOMMU_UNMAP_DMA: the range must not start or end inside a mapping;
 * it may hold none (*unmapped = 0). With GET_DIRTY_BITMAP (bm required):
 * tracking must be started, bm->pgsize be the smallest page size and
 * bm->size fit the range; the bitmap gets the dirty pages of every mapping
 * unmapped, bit 0 = iova. */
int ims_vfio_unmap_dma(struct ims_vfio *v, uint64_t iova, uint64_t size, uint32_t flags,
		       const struct ims_vfio_bitmap *bm, uint64_t *unmapped);
/* VFIO_IOMMU_DIRTY_PAGES: exactly one of START, STOP, GET_BITMAP and no
 * other bit. START and STOP are idempotent. GET_BITMAP: pgsize must be the
 * smallest page size, iova and size aligned to it and size non-zero, the
 * range must start at the first byte of a mapping and end at the last
 * byte of one, the bitmap must hold size / pgsize bits (in whole u64
 * words) and be at most IMS_VFIO_DIRTY_BITMAP_MAX bytes, and tracking must
 * be started. After a query, the range's pages are clean again except
 * those still pinned. */
int ims_vfio_dirty_pages(struct ims_vfio *v, const struct ims_vfio_dirty_pages *cmd);

/* vfio_pin_pages / vfio_unpin_pages by a device driver, whole pages of the
 * smallest page size inside mappings (-EINVAL otherwise). A page pinned
 * while tracking is dirty until the next query that reports it; a page
 * still pinned at a query stays dirty. Unpinning pages that are not pinned
 * does nothing. */
int ims_vfio_pin(struct ims_vfio *v, uint64_t iova, uint64_t size);
int ims_vfio_unpin(struct ims_vfio *v, uint64_t iova, uint64_t size);

/* Bytes of bitmap for npages bits, in whole u64 words. */
uint64_t ims_vfio_bitmap_bytes(uint64_t npages);

#ifdef __cplusplus
}
#endif

#endif
