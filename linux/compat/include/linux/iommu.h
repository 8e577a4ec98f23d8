/* Stand-in for <linux/iommu.h>: the domain, the IOTLB gather and the dirty
 * bitmap as the IOMMU drivers' page-table code sees them.
 *
 * The harvest's output of the walker ABI is Linux's struct
 * iommu_dirty_bitmap: its iova_bitmap is the host's output (ims_linux.h),
 * its gather collects what the walker cleaned; the glue hands the gathered
 * range to host->gather_add, and the host syncs it as iommufd's
 * iommu_read_and_clear_dirty() does. iommu_iotlb_sync() calls the domain's
 * ops as the core does; the glue's ops turn it into host->flush_range. */
#ifndef IMS_LX_IOMMU_H
#define IMS_LX_IOMMU_H

#include <asm/page.h>
#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/* Mapping permissions (iommu_map's prot). */
#define IOMMU_READ (1 << 0)
#define IOMMU_WRITE (1 << 1)
#define IOMMU_CACHE (1 << 2)
#define IOMMU_NOEXEC (1 << 3)
#define IOMMU_MMIO (1 << 4)
#define IOMMU_PRIV (1 << 5)

/* Domain types. */
#define __IOMMU_DOMAIN_PAGING (1U << 0)
#define __IOMMU_DOMAIN_DMA_API (1U << 1)
#define __IOMMU_DOMAIN_PT (1U << 2)
#define __IOMMU_DOMAIN_DMA_FQ (1U << 3)
#define IOMMU_DOMAIN_UNMANAGED (__IOMMU_DOMAIN_PAGING)

/* read_and_clear_dirty flags. */
#define IOMMU_DIRTY_NO_CLEAR (1 << 0)

/* iommufd's domain allocation flags. */
#define IOMMU_HWPT_ALLOC_NEST_PARENT (1 << 0)
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1 << 1)

struct iommu_domain;
struct iommu_iotlb_gather;
struct iommu_dirty_bitmap;

struct iommu_domain_geometry {
	dma_addr_t aperture_start;
	dma_addr_t aperture_end;
	bool force_aperture;
};

struct iommu_domain_ops {
	int (*attach_dev)(struct iommu_domain *domain, struct device *dev);
	void (*flush_iotlb_all)(struct iommu_domain *domain);
	int (*iotlb_sync_map)(struct iommu_domain *domain, unsigned long iova, size_t size);
	void (*iotlb_sync)(struct iommu_domain *domain, struct iommu_iotlb_gather *gather);
	phys_addr_t (*iova_to_phys)(struct iommu_domain *domain, dma_addr_t iova);
	void (*free)(struct iommu_domain *domain);
};

struct iommu_dirty_ops {
	int (*set_dirty_tracking)(struct iommu_domain *domain, bool enabled);
	int (*read_and_clear_dirty)(struct iommu_domain *domain, unsigned long iova, size_t size,
				    unsigned long flags, struct iommu_dirty_bitmap *dirty);
};

struct iommu_domain {
	unsigned int type;
	const struct iommu_domain_ops *ops;
	const struct iommu_dirty_ops *dirty_ops;
	unsigned long pgsize_bitmap;
	struct iommu_domain_geometry geometry;
	bool is_iommupt;
	bool dirty_tracking;
};

/* Table pages waiting to be freed once the IOTLB no longer holds them. */
struct iommu_pages_list {
	struct list_head pages;
};

#define IOMMU_PAGES_LIST_INIT(name) {.pages = LIST_HEAD_INIT(name.pages)}

/* What an unmap (or a dirty clear) changed: one range, [start, end]
 * inclusive, and the tables to free after the flush. */
struct iommu_iotlb_gather {
	unsigned long start;
	unsigned long end;
	size_t pgsize;
	struct iommu_pages_list freelist;
	bool queued;
	struct {
		u8 leaf_levels_bitmap;
		u8 table_levels_bitmap;
	} pt;
};

static inline void iommu_iotlb_gather_init(struct iommu_iotlb_gather *g)
{
	*g = (struct iommu_iotlb_gather){
		.start = ULONG_MAX,
		.freelist = IOMMU_PAGES_LIST_INIT(g->freelist),
	};
}

/* Grows the gathered range to cover [iova, iova + size). */
static inline void iommu_iotlb_gather_add_range(struct iommu_iotlb_gather *g, unsigned long iova,
						size_t size)
{
	unsigned long last = iova + size - 1;
	if (iova < g->start)
		g->start = iova;
	if (last > g->end)
		g->end = last;
}

static inline void iommu_iotlb_gather_add_page(struct iommu_domain *domain,
					       struct iommu_iotlb_gather *g,
					       unsigned long iova, size_t size)
{
	(void)domain;
	iommu_iotlb_gather_add_range(g, iova, size);
}

/* True when [iova, iova + size) neither overlaps nor touches a non-empty
 * gathered range. */
static inline bool iommu_iotlb_gather_is_disjoint(struct iommu_iotlb_gather *g,
						  unsigned long iova, size_t size)
{
	unsigned long last = iova + size - 1;
	return g->end != 0 && (last + 1 < g->start || iova > g->end + 1);
}

static inline bool iommu_iotlb_gather_queued(struct iommu_iotlb_gather *g)
{
	return g && g->queued;
}

/* The driver's flush of what was gathered (and the freeing of the tables
 * it holds); the gather starts over. */
static inline void iommu_iotlb_sync(struct iommu_domain *domain, struct iommu_iotlb_gather *g)
{
	if (domain->ops->iotlb_sync)
		domain->ops->iotlb_sync(domain, g);
	iommu_iotlb_gather_init(g);
}

struct iommu_dirty_bitmap {
	struct iova_bitmap *bitmap;
	struct iommu_iotlb_gather *gather;
};

static inline void iova_bitmap_set(struct iova_bitmap *bitmap, unsigned long iova, size_t length)
{
	ims_lx_bitmap_set(bitmap, iova, length);
}

static inline void iommu_dirty_bitmap_init(struct iommu_dirty_bitmap *dirty,
					   struct iova_bitmap *bitmap,
					   struct iommu_iotlb_gather *gather)
{
	if (gather)
		iommu_iotlb_gather_init(gather);
	dirty->bitmap = bitmap;
	dirty->gather = gather;
}

static inline void iommu_dirty_bitmap_record(struct iommu_dirty_bitmap *dirty, unsigned long iova,
					     unsigned long length)
{
	if (dirty->bitmap)
		iova_bitmap_set(dirty->bitmap, iova, length);
	if (dirty->gather)
		iommu_iotlb_gather_add_range(dirty->gather, iova, length);
}

#endif
