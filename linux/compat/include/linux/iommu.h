/* Stand-in for <linux/iommu.h> (linux/compat): the pieces page-table code
 * uses (protection flags, the IOTLB gather, the dirty bitmap, the domain)
 * written from their documented behaviour.
 *
 * The dirty bitmap is the host's harvest output: iommu_dirty_bitmap_record
 * is host->record (bitmap bits of the pages the range overlaps, and the
 * range into the harvest's gather, which the host invalidates after the
 * harvest, as iommufd syncs its gather after the driver's walk). */
#ifndef IMS_LX_LINUX_IOMMU_H
#define IMS_LX_LINUX_IOMMU_H

#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/iova_bitmap.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mem_encrypt.h>
#include <linux/mm.h>
#include <linux/types.h>
#include <linux/xarray.h>

/* Protection flags of map. */
#define IOMMU_READ (1 << 0)
#define IOMMU_WRITE (1 << 1)
#define IOMMU_CACHE (1 << 2)
#define IOMMU_NOEXEC (1 << 3)
#define IOMMU_MMIO (1 << 4)
#define IOMMU_PRIV (1 << 5)

/* read_and_clear_dirty flag: record, clean nothing. */
#define IOMMU_DIRTY_NO_CLEAR (1 << 0)

/* iommufd allocation flags (uapi). */
#define IOMMU_HWPT_ALLOC_NEST_PARENT (1 << 0)
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1 << 1)

#define __IOMMU_DOMAIN_PAGING (1U << 0)
#define __IOMMU_DOMAIN_DMA_API (1U << 1)
#define __IOMMU_DOMAIN_PT (1U << 2)
#define __IOMMU_DOMAIN_DMA_FQ (1U << 3)
#define __IOMMU_DOMAIN_SVA (1U << 4)
#define __IOMMU_DOMAIN_PLATFORM (1U << 5)
#define __IOMMU_DOMAIN_NESTED (1U << 6)
#define IOMMU_DOMAIN_BLOCKED (0U)
#define IOMMU_DOMAIN_IDENTITY (__IOMMU_DOMAIN_PT)
#define IOMMU_DOMAIN_UNMANAGED (__IOMMU_DOMAIN_PAGING)
#define IOMMU_DOMAIN_DMA (__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API)
#define IOMMU_DOMAIN_DMA_FQ (__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API | __IOMMU_DOMAIN_DMA_FQ)
#define IOMMU_DOMAIN_SVA (__IOMMU_DOMAIN_SVA)
#define IOMMU_DOMAIN_PLATFORM (__IOMMU_DOMAIN_PLATFORM)
#define IOMMU_DOMAIN_NESTED (__IOMMU_DOMAIN_NESTED)

#define IOMMU_NO_PASID (0U)
#define IOMMU_FIRST_GLOBAL_PASID (1U)
#define IOMMU_PASID_INVALID (-1U)

struct iommu_domain;
struct iommu_ops;
struct iommu_group;
struct iommu_fault;
struct iopf_fault;
struct iommu_page_response;

/* Table pages waiting to be freed after an invalidation. */
struct iommu_pages_list {
	struct list_head pages;
};

#define IOMMU_PAGES_LIST_INIT(name) {.pages = LIST_HEAD_INIT(name.pages)}

/* The range an unmap (or a harvest) has to invalidate: [start, end],
 * inclusive; empty while start > end. */
struct iommu_iotlb_gather {
	unsigned long start;
	unsigned long end;
	union {
		size_t pgsize;
		struct {
			u8 leaf_levels_bitmap;
			u8 table_levels_bitmap;
		} pt;
	};
	bool queued;
	struct iommu_pages_list freelist;
};

struct iommu_dirty_bitmap {
	struct iova_bitmap *bitmap;
	struct iommu_iotlb_gather *gather;
};

struct iommu_domain_geometry {
	dma_addr_t aperture_start;
	dma_addr_t aperture_end;
	bool force_aperture;
};

struct iommu_domain_ops {
	int (*attach_dev)(struct iommu_domain *domain, struct device *dev);
	int (*map_pages)(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr,
			 size_t pgsize, size_t pgcount, int prot, gfp_t gfp, size_t *mapped);
	size_t (*unmap_pages)(struct iommu_domain *domain, unsigned long iova, size_t pgsize,
			      size_t pgcount, struct iommu_iotlb_gather *iotlb_gather);
	void (*flush_iotlb_all)(struct iommu_domain *domain);
	int (*iotlb_sync_map)(struct iommu_domain *domain, unsigned long iova, size_t size);
	void (*iotlb_sync)(struct iommu_domain *domain, struct iommu_iotlb_gather *iotlb_gather);
	phys_addr_t (*iova_to_phys)(struct iommu_domain *domain, dma_addr_t iova);
	void (*free)(struct iommu_domain *domain);
};

struct iommu_dirty_ops {
	int (*set_dirty_tracking)(struct iommu_domain *domain, bool enabled);
	int (*read_and_clear_dirty)(struct iommu_domain *domain, unsigned long iova, size_t size,
				    unsigned long flags, struct iommu_dirty_bitmap *dirty);
};

struct iommu_domain {
	unsigned type;
	const struct iommu_domain_ops *ops;
	const struct iommu_dirty_ops *dirty_ops;
	const struct iommu_ops *owner;
	unsigned long pgsize_bitmap;
	struct iommu_domain_geometry geometry;
	void *iova_cookie;
	bool is_iommupt; /* the table is generic_pt's (7.x) */
};

struct iommu_device {
	struct list_head list;
	const struct iommu_ops *ops;
	struct device *dev;
	u32 max_pasids;
};

/* The IOMMU a device sits behind (drivers keep it in dev->driver_data
 * here) and the driver structure that embeds it. */
static inline struct iommu_device *dev_to_iommu_device(struct device *dev)
{
	return (struct iommu_device *)dev->driver_data;
}

#define iommu_get_iommu_dev(dev, type, member) \
	container_of(dev_to_iommu_device(dev), type, member)

/* ---- the gather ------------------------------------------------------------------- */

static inline void iommu_iotlb_gather_init(struct iommu_iotlb_gather *gather)
{
	gather->start = ULONG_MAX;
	gather->end = 0;
	gather->pgsize = 0;
	gather->queued = false;
	INIT_LIST_HEAD(&gather->freelist.pages);
}

/* Whether [iova, iova + size) neither overlaps nor touches the gathered range. */
static inline bool iommu_iotlb_gather_is_disjoint(struct iommu_iotlb_gather *gather,
						  unsigned long iova, size_t size)
{
	unsigned long start = iova, end = iova + size - 1;
	return gather->end != 0 && (end + 1 < gather->start || start > gather->end + 1);
}

static inline void iommu_iotlb_gather_add_range(struct iommu_iotlb_gather *gather,
						unsigned long iova, size_t size)
{
	unsigned long end = iova + size - 1;
	if (gather->start > iova)
		gather->start = iova;
	if (gather->end < end)
		gather->end = end;
}

static inline void iommu_iotlb_sync(struct iommu_domain *domain,
				    struct iommu_iotlb_gather *iotlb_gather)
{
	if (domain->ops && domain->ops->iotlb_sync)
		domain->ops->iotlb_sync(domain, iotlb_gather);
	iommu_iotlb_gather_init(iotlb_gather);
}

/* Adds a page of `size` bytes; a page of another size, or one disjoint from
 * what is gathered, first syncs what was gathered. */
static inline void iommu_iotlb_gather_add_page(struct iommu_domain *domain,
					       struct iommu_iotlb_gather *gather,
					       unsigned long iova, size_t size)
{
	if ((gather->pgsize && gather->pgsize != size) ||
	    iommu_iotlb_gather_is_disjoint(gather, iova, size))
		iommu_iotlb_sync(domain, gather);
	gather->pgsize = size;
	iommu_iotlb_gather_add_range(gather, iova, size);
}

static inline bool iommu_iotlb_gather_queued(struct iommu_iotlb_gather *gather)
{
	return gather && gather->queued;
}

/* ---- the dirty bitmap --------------------------------------------------------------- */

static inline void iommu_dirty_bitmap_init(struct iommu_dirty_bitmap *dirty,
					   struct iova_bitmap *bitmap,
					   struct iommu_iotlb_gather *gather)
{
	if (gather)
		iommu_iotlb_gather_init(gather);
	dirty->bitmap = bitmap;
	dirty->gather = gather;
}

/* The compat runtime: host->record for the range (lx_kernel.c). */
void ims_lx_dirty_record(struct iommu_dirty_bitmap *dirty, unsigned long iova,
			 unsigned long length);

static inline void iommu_dirty_bitmap_record(struct iommu_dirty_bitmap *dirty,
					     unsigned long iova, unsigned long length)
{
	ims_lx_dirty_record(dirty, iova, length);
}

#endif
