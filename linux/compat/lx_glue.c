/* The iommu core's and iommufd's part of the io-pgtable walkers' glue
 * (ims_lx_glue.h). Compiled into every walker with the rest of the compat
 * runtime; only the io-pgtable ones (arm_lpae.c, amd_v1.c) call it.
 *
 * Our own code; a walker built with it from a kernel source tree is a
 * GPL-2.0 work (docs/linux.md).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ims_lx_glue.h"
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>

int ims_lx_glue_init(struct ims_lx_glue *g, struct ims_walker_dom *wd,
		     const struct ims_lx_glue_driver *drv)
{
	int rc = ims_lx_dom_init(&g->lx, wd);
	if (rc)
		return rc;
	g->wd = wd;
	g->drv = drv;
	return 0;
}

void ims_lx_glue_fini(struct ims_lx_glue *g)
{
	if (g->lx.warnings) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%llu kernel WARN(s) in this domain",
			 (unsigned long long)g->lx.warnings);
		g->wd->host->log(g->wd, msg);
	}
	ims_lx_dom_fini(&g->lx);
	ims_lx_areas_fini(&g->areas);
}

/* ---- map, unmap, iova_to_phys ------------------------------------------------------- */

/* The leaf sizes the kernel's table can use for the sizes `want` the domain
 * allows: for each, the largest of the kernel's not above it. An allowed
 * size the format lacks is made of smaller leaves (io-pgtable-arm has no
 * contiguous groups: a 64K group of the 4K granule is 16 pages here; AMD v1
 * has every power of two but 512G). */
static uint64_t kernel_sizes(uint64_t kernel, uint64_t want)
{
	uint64_t out = 0;
	for (; want; want &= want - 1) {
		uint64_t s = want & -want;
		uint64_t below = kernel & (s | (s - 1));
		if (below)
			out |= 1ull << (63 - __builtin_clzll(below));
	}
	return out;
}

/* The iommu core's unmap of one mapped run [lo, hi] (__iommu_unmap: the
 * driver's unmap_pages per iommu_pgsize piece); returns the bytes the
 * kernel unmapped. */
static uint64_t unmap_run(struct ims_lx_glue *g, uint64_t lo, uint64_t hi,
			  struct iommu_iotlb_gather *gather)
{
	uint64_t at = lo, done = 0;
	while (at <= hi) {
		uint64_t count;
		uint64_t pg = ims_lx_pgsize(g->pgsizes, at, at, hi - at + 1, &count);
		size_t n = pg ? g->drv->unmap_pages(g, at, pg, count, gather) : 0;
		if (!n)
			break;
		done += n;
		at += n;
		if (!at)
			break;
	}
	return done;
}

/* iommu_map's loop: the driver's map_pages per iommu_pgsize piece, each
 * piece into iommufd's record as soon as the kernel mapped it. */
int ims_lx_glue_map(struct ims_walker_dom *wd, uint64_t iova, uint64_t pa, uint64_t size,
		    unsigned prot, uint64_t pgsize)
{
	struct ims_lx_glue *g = wd->priv;
	uint64_t last = iova + (size - 1);
	if (ims_lx_areas_overlap(&g->areas, iova, last))
		return -EEXIST; /* iommufd refuses an IOVA range in use */
	int kprot = g->drv->map_prot(prot);
	uint64_t sizes = kernel_sizes(g->pgsizes, pgsize ? pgsize : wd->pgsizes);
	struct io_pgtable_ops *ops = g->ops;
	struct ims_lx_dom *prev = ims_lx_enter(&g->lx);
	uint64_t at = iova, out = pa, left = size;
	int rc = 0;
	while (left) {
		uint64_t count;
		uint64_t pg = ims_lx_pgsize(sizes, at, out, left, &count);
		if (!pg) {
			rc = -EINVAL;
			break;
		}
		size_t mapped = 0;
		rc = ops->map_pages(ops, at, out, pg, count, kprot, GFP_KERNEL, &mapped);
		if (mapped) {
			struct ims_lx_chunk c = {at, mapped, out, pg, prot};
			if (ims_lx_areas_add(&g->areas, &c))
				rc = rc ? rc : -ENOMEM;
		}
		at += mapped;
		out += mapped;
		left -= mapped;
		if (!rc && !mapped)
			rc = -EINVAL;
		if (rc)
			break;
	}
	ims_lx_leave(prev);
	if (rc && at != iova) {
		/* The iommu core unrolls a map that failed half way. */
		uint64_t undone;
		(void)ims_lx_glue_unmap(wd, iova, at - iova, &undone);
	}
	return rc;
}

/* __iommu_unmap over each mapped run of the range, into one gather that
 * the driver syncs once (iommu_iotlb_sync); then iommufd's record. */
int ims_lx_glue_unmap(struct ims_walker_dom *wd, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	struct ims_lx_glue *g = wd->priv;
	uint64_t last = iova + (size - 1);
	*unmapped = 0;
	if (ims_lx_areas_cuts(&g->areas, iova, last))
		return -EINVAL;
	struct iommu_iotlb_gather gather;
	iommu_iotlb_gather_init(&gather);
	struct ims_lx_dom *prev = ims_lx_enter(&g->lx);
	uint64_t from = iova, lo, hi, done = 0;
	while (ims_lx_areas_next_run(&g->areas, from, last, &lo, &hi)) {
		done += unmap_run(g, lo, hi, &gather);
		if (hi == last)
			break;
		from = hi + 1;
	}
	g->drv->iotlb_sync(g, &gather);
	ims_lx_leave(prev);
	int64_t was = ims_lx_areas_remove(&g->areas, iova, last);
	if (was < 0)
		return (int)was;
	*unmapped = done;
	if ((uint64_t)was != done) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "unmap [0x%llx, +0x%llx): the kernel unmapped 0x%llx bytes of 0x%llx mapped",
			 (unsigned long long)iova, (unsigned long long)size,
			 (unsigned long long)done, (unsigned long long)was);
		wd->host->log(wd, msg);
		return -EIO;
	}
	return 0;
}

/* The kernel's iova_to_phys returns 0 for "not mapped" and has no
 * permissions: the permissions are the ones the mapping was made with
 * (iommufd's record), and a translation to physical address 0 is told from
 * a miss by that record too. */
int ims_lx_glue_iova_to_phys(struct ims_walker_dom *wd, uint64_t iova, uint64_t *pa,
			     unsigned *prot)
{
	struct ims_lx_glue *g = wd->priv;
	struct io_pgtable_ops *ops = g->ops;
	struct ims_lx_dom *prev = ims_lx_enter(&g->lx);
	phys_addr_t p = ops->iova_to_phys(ops, iova);
	ims_lx_leave(prev);
	const struct ims_lx_chunk *c = ims_lx_areas_find(&g->areas, iova);
	if (!p && !(c && c->pa + (iova - c->iova) == 0))
		return -ENOENT;
	*pa = p;
	*prot = c ? c->prot : IMS_WALKER_PROT_R;
	return 0;
}

/* ---- dirty tracking ----------------------------------------------------------------- */

/* The driver's read_and_clear_dirty, called as iommufd calls it: over each
 * mapped run of the range (ims_lx_core.h). The bitmap is the host's harvest
 * output; the host syncs the gather afterwards, as iommufd does. */
int ims_lx_glue_read_and_clear_dirty(struct ims_walker_dom *wd, uint64_t iova, uint64_t size,
				     unsigned flags, struct ims_walker_dirty *dirty)
{
	struct ims_lx_glue *g = wd->priv;
	uint64_t last = size ? iova + (size - 1) : ~0ull;
	unsigned long kflags = flags & IMS_WALKER_NO_CLEAR ? IOMMU_DIRTY_NO_CLEAR : 0;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap bm;
	iommu_dirty_bitmap_init(&bm, (struct iova_bitmap *)dirty, &gather);
	struct io_pgtable_ops *ops = g->ops;
	struct ims_lx_dom *prev = ims_lx_enter(&g->lx);
	int rc = 0;
	if (g->drv->dirty_whole_range) {
		/* The finding's variant: the whole range in one call, holes
		 * included. */
		rc = ops->read_and_clear_dirty(ops, iova, last - iova + 1, kflags, &bm);
	} else {
		uint64_t from = iova, lo, hi;
		while (!rc && ims_lx_areas_next_run(&g->areas, from, last, &lo, &hi)) {
			rc = ops->read_and_clear_dirty(ops, lo, hi - lo + 1, kflags, &bm);
			if (hi == last)
				break;
			from = hi + 1;
		}
	}
	ims_lx_leave(prev);
	return rc;
}
