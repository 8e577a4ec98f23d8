/* The Linux compatibility runtime, kernel-API half: diagnostics (WARN, BUG,
 * printk), the dirty bitmap's record onto the host's harvest output, and
 * the out-of-line table-page helpers of drivers/iommu/iommu-pages.h (6.15
 * and later declare them; iommu-pages.c, which defines them in the kernel,
 * is not compiled here).
 *
 * Our own code; a walker built with it from a kernel source tree is a
 * GPL-2.0 work (docs/linux.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims_lx.h"
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>
#include <linux/mm.h>

/* How many WARNs of a domain are printed; the rest are only counted. */
#define LX_WARN_PRINTED 3

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void say(const char *msg)
{
	struct ims_lx_dom *lx = ims_lx_current();
	if (lx && lx->wd)
		lx->wd->host->log(lx->wd, msg);
	else
		fprintf(stderr, "linux compat: %s\n", msg);
}

void ims_lx_warn(const char *file, int line, const char *what)
{
	struct ims_lx_dom *lx = ims_lx_current();
	if (lx) {
		lx->warnings++;
		if (lx->logged >= LX_WARN_PRINTED)
			return;
		lx->logged++;
	}
	char msg[256];
	snprintf(msg, sizeof(msg), "WARNING at %s:%d: %s", base_name(file), line, what);
	say(msg);
}

_Noreturn void ims_lx_bug(const char *file, int line, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "BUG at %s:%d: %s", base_name(file), line, what);
	say(msg);
	abort();
}

void ims_lx_printk(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	say(msg);
}

/* ---- the dirty bitmap ---------------------------------------------------------------- */

/* The glue makes dirty->bitmap the host's harvest output (iova_bitmap.h). */
void ims_lx_dirty_record(struct iommu_dirty_bitmap *dirty, unsigned long iova,
			 unsigned long length)
{
	struct ims_lx_dom *lx = ims_lx_current();
	struct ims_walker_dirty *out = (struct ims_walker_dirty *)dirty->bitmap;
	if (out && lx)
		lx->wd->host->record(out, iova, length);
	if (dirty->gather)
		iommu_iotlb_gather_add_range(dirty->gather, iova, length);
}

void iova_bitmap_set(struct iova_bitmap *bitmap, unsigned long iova, size_t length)
{
	struct ims_lx_dom *lx = ims_lx_current();
	if (bitmap && lx)
		lx->wd->host->bitmap_set((struct ims_walker_dirty *)bitmap, iova, length);
}

/* ---- iommu-pages.h (6.15 and later) --------------------------------------------- */

/* Declared here, not by including the kernel's iommu-pages.h: this file is
 * built once for every kernel version, whose helpers differ. */
void *iommu_alloc_pages_node_sz(int nid, gfp_t gfp, size_t size);
void iommu_free_pages(void *virt);
void iommu_put_pages_list(struct iommu_pages_list *list);
int iommu_pages_start_incoherent(void *virt, struct device *dma_dev);
int iommu_pages_start_incoherent_list(struct iommu_pages_list *list, struct device *dma_dev);
void iommu_pages_stop_incoherent_list(struct iommu_pages_list *list, struct device *dma_dev);
void iommu_pages_free_incoherent(void *virt, struct device *dma_dev);

/* A zeroed table of at least `size` bytes (a power of two pages). */
void *iommu_alloc_pages_node_sz(int nid, gfp_t gfp, size_t size)
{
	(void)nid;
	(void)gfp;
	struct page *pg = ims_lx_alloc_pages((unsigned)get_order(size));
	return pg ? ims_lx_page_address(pg) : NULL;
}

void iommu_free_pages(void *virt)
{
	if (!virt)
		return;
	struct page *pg = ims_lx_virt_to_page(virt);
	if (pg)
		ims_lx_free_pages(pg, pg->ims_order);
}

/* The list links the pages through the descriptor the kernel overlays on
 * struct page (its list sits where our lru does: mm_types.h). */
void iommu_put_pages_list(struct iommu_pages_list *list)
{
	while (!list_empty(&list->pages)) {
		struct page *pg = list_first_entry(&list->pages, struct page, lru);
		list_del(&pg->lru);
		ims_lx_free_pages(pg, pg->ims_order);
	}
}

/* The model's table walker is coherent: nothing to start or stop. */
int iommu_pages_start_incoherent(void *virt, struct device *dma_dev)
{
	(void)virt;
	(void)dma_dev;
	return 0;
}

int iommu_pages_start_incoherent_list(struct iommu_pages_list *list, struct device *dma_dev)
{
	(void)list;
	(void)dma_dev;
	return 0;
}

void iommu_pages_stop_incoherent_list(struct iommu_pages_list *list, struct device *dma_dev)
{
	(void)list;
	(void)dma_dev;
}

void iommu_pages_free_incoherent(void *virt, struct device *dma_dev)
{
	(void)dma_dev;
	iommu_free_pages(virt);
}
