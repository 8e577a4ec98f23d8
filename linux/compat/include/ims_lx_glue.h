/* The per-domain glue the io-pgtable walkers share (linux/walkers/arm_lpae.c,
 * amd_v1.c): what the iommu core and iommufd do around a driver whose page
 * table is an io-pgtable format. Both drivers reach their table through the
 * same struct io_pgtable_ops (map_pages, unmap_pages, iova_to_phys,
 * read_and_clear_dirty), so the walker-ABI ops map, unmap, iova_to_phys and
 * read_and_clear_dirty are written once here, on top of ims_lx_core.h (page
 * sizes, iommufd's record of what is mapped):
 *  - map: iommu_map's loop over the iommu core's page sizes (iommu_pgsize),
 *    each piece recorded as iommufd's areas record it, and the unmap of
 *    what a map that failed half way had mapped (iommu_map's unroll);
 *  - unmap: __iommu_unmap over each mapped run, one IOTLB gather, synced
 *    once at the end (iommu_iotlb_sync), and a check that the kernel
 *    unmapped exactly what was mapped there;
 *  - iova_to_phys: iommu_iova_to_phys, with the permissions and the
 *    "mapped at all" the kernel's answer lacks taken from the record;
 *  - read_and_clear_dirty: iommufd's iopt_read_and_clear_dirty_data, one
 *    call per mapped run (or, in a variant, one call over the whole range).
 * What the drivers do differently around those ops (the prot map_pages
 * gets, who gathers what unmap_pages unmapped, the gather's sync) is a
 * struct ims_lx_glue_driver of the walker's; the rest of each driver (its
 * configuration, its context words, its TLB callbacks, set_dirty_tracking,
 * the table's allocation and free) stays in its glue file.
 *
 * Every op enters the domain (ims_lx_enter) around the kernel calls, as
 * ims_lx.h asks. Our own code (MIT, as the repository); see docs/linux.md.
 */
#ifndef IMS_LX_GLUE_H
#define IMS_LX_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ims_lx.h"
#include "ims_lx_core.h"
#include "iommusim/walker.h"

struct io_pgtable_ops;
struct iommu_iotlb_gather;
struct ims_lx_glue;

/* The walker's name and the kernel's version: cmake/linux.cmake passes
 * IMS_LINUX_WALKER_NAME (variants included: -fixed, -whole-range) and the
 * tree's IMS_LINUX_VERSION; a build without them names the walker after
 * its kind. */
#ifdef IMS_LINUX_VERSION
#define IMS_LX_KERNEL IMS_LINUX_VERSION
#else
#define IMS_LX_KERNEL "unknown"
#endif
#ifdef IMS_LINUX_WALKER_NAME
#define IMS_LX_NAME(kind) IMS_LINUX_WALKER_NAME
#else
#define IMS_LX_NAME(kind) "linux-" IMS_LX_KERNEL "-" kind
#endif

/* What the driver does around the io_pgtable_ops the core reaches it by. */
struct ims_lx_glue_driver {
	/* The prot the driver's map_pages (arm_smmu_map_pages,
	 * amd_iommu_map_pages) hands the table's map_pages for walker-ABI
	 * protection `prot`. */
	int (*map_prot)(unsigned prot);
	/* The driver's unmap_pages (arm_smmu_unmap_pages,
	 * amd_iommu_unmap_pages): the table's unmap_pages, and what was
	 * unmapped into `gather` one way or the other; returns the bytes
	 * unmapped (0: none). */
	size_t (*unmap_pages)(struct ims_lx_glue *g, unsigned long iova, size_t pgsize,
			      size_t pgcount, struct iommu_iotlb_gather *gather);
	/* The driver's iotlb_sync of an unmap's gather. */
	void (*iotlb_sync)(struct ims_lx_glue *g, struct iommu_iotlb_gather *gather);
	/* read_and_clear_dirty hands the kernel a harvest's range whole,
	 * holes included, instead of one call per mapped run:
	 * IMS_LX_WHOLE_RANGE_BUILD below. */
	bool dirty_whole_range;
};

/* cmake/linux.cmake's -whole-range build of a walker (IMS_LX_WHOLE_RANGE)
 * is finding 5's variant: it passes a harvest's range to the kernel whole,
 * holes included, as iommufd never does. */
#ifdef IMS_LX_WHOLE_RANGE
#define IMS_LX_WHOLE_RANGE_BUILD true
#else
#define IMS_LX_WHOLE_RANGE_BUILD false
#endif

/* The part of a walker domain the shared ops use. The walker's domain
 * structure embeds it, and wd->priv points at it. */
struct ims_lx_glue {
	struct ims_lx_dom lx;
	struct ims_lx_areas areas; /* iommufd's record of what is mapped */
	struct ims_walker_dom *wd;
	const struct ims_lx_glue_driver *drv;
	struct io_pgtable_ops *ops; /* the kernel's table (set once it exists) */
	uint64_t pgsizes;           /* the iommu core's domain->pgsize_bitmap */
};

/* Sets up the runtime's state for wd (ims_lx_dom_init): 0 or -ENOMEM. The
 * caller sets ops and pgsizes once the kernel's table exists. */
int ims_lx_glue_init(struct ims_lx_glue *g, struct ims_walker_dom *wd,
		     const struct ims_lx_glue_driver *drv);
/* After the kernel freed its table: reports the kernel WARNs the domain
 * saw (host->log), then frees the runtime's state and the record. */
void ims_lx_glue_fini(struct ims_lx_glue *g);

/* The walker-ABI ops (include/iommusim/walker.h), for a domain whose
 * wd->priv is its struct ims_lx_glue. */
int ims_lx_glue_map(struct ims_walker_dom *wd, uint64_t iova, uint64_t pa, uint64_t size,
		    unsigned prot, uint64_t pgsize);
int ims_lx_glue_unmap(struct ims_walker_dom *wd, uint64_t iova, uint64_t size,
		      uint64_t *unmapped);
int ims_lx_glue_iova_to_phys(struct ims_walker_dom *wd, uint64_t iova, uint64_t *pa,
			     unsigned *prot);
int ims_lx_glue_read_and_clear_dirty(struct ims_walker_dom *wd, uint64_t iova, uint64_t size,
				     unsigned flags, struct ims_walker_dirty *dirty);

#endif
