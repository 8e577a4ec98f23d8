/* Linux's AMD IOMMU v1 page table before generic_pt
 * (drivers/iommu/amd/io_pgtable.c, 6.7 to 6.18; built from 6.12, compiled
 * unmodified) as a full-level walker of the walker ABI.
 *
 * This file is ours (MIT, as the repository). The shared object built from
 * it contains the kernel's io_pgtable.c and is therefore a GPL-2.0 work:
 * it is distributed, if at all, under GPL-2.0 (docs/linux.md).
 *
 * What the glue does is what surrounds io_pgtable.c in Linux:
 *  - the AMD driver (amd/iommu.c): the protection domain around the table
 *    (the tree's own struct protection_domain), the DTE it programs (set_dte_entry: root, Mode, IR,
 *    IW, V, TV, HAD while tracking, the DomainID), map and unmap through
 *    the page-table ops with the IOTLB gather and its sync (an
 *    INVALIDATE_IOMMU_PAGES with PDE = 1 of the gathered range),
 *    set_dirty_tracking (DTE.HAD, then the DTE and the domain's IOTLB
 *    flushed: host->ctx_change). amd_iommu_read_and_clear_dirty's refusal
 *    of a bitmap while tracking is off needs no code here: the host's
 *    domain API harvests only while tracking is on (its clear pass before
 *    tracking has no bitmap);
 *  - the iommu core and iommufd (ims_lx_glue.h, ims_lx_core.h): page
 *    sizes per map and unmap call, no map over a mapping, harvests over
 *    mapped ranges only; what the AMD driver does differently there is
 *    amd_driver below.
 * Every table access the kernel code makes with a primitive is a host call
 * (ims_lx.h); its page allocations are host->alloc_table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims_lx.h"
#include "ims_lx_glue.h"
#include "iommusim/walker.h"
/* What io_pgtable.c includes before the driver headers, which rely on it. */
#include <linux/io-pgtable.h>
#include <linux/kernel.h>
#include <linux/seqlock.h>
#include <linux/slab.h>

/* The kernel tree's AMD driver headers, for the layout of struct
 * protection_domain (io_pgtable.c finds its io_pgtable in it with
 * container_of) and the v1 constants. Not our code: the warnings our
 * rules add are not theirs to meet. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "amd_iommu_types.h"
#include "amd_iommu.h"
#pragma GCC diagnostic pop

struct ims_amd_pd; /* the kernel's struct protection_domain */
static void ims_amd_flush_pages(void *cookie, uint64_t address, uint64_t size);
static void ims_amd_dte_changed(void *cookie, uint64_t root, unsigned mode);

/* ---- the driver around the page table (amd/iommu.c's part) -------------------- */

/* The v1 page sizes (init.c's default): every power of two from 4 KiB to
 * 2^51 but 512 GiB. A variable because io_pgtable.c reads it by name; it
 * never changes. */
unsigned long amd_iommu_pgsize_bitmap = AMD_IOMMU_PGSIZES;

static uint64_t ims_amd_pgsizes(void)
{
	return AMD_IOMMU_PGSIZES;
}

static void *cookie_of(struct protection_domain *domain)
{
	return domain->iop.pgtbl.cookie;
}

void amd_iommu_domain_flush_pages(struct protection_domain *domain, u64 address, size_t size)
{
	ims_amd_flush_pages(cookie_of(domain), address, size);
}

void amd_iommu_update_and_flush_device_table(struct protection_domain *domain)
{
	ims_amd_dte_changed(cookie_of(domain), iommu_virt_to_phys(domain->iop.root),
			    (unsigned)domain->iop.mode);
}

static struct ims_amd_pd *ims_amd_pd_new(void *cookie, uint16_t id, unsigned mode)
{
	struct protection_domain *domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		return NULL;
	spin_lock_init(&domain->lock);
	INIT_LIST_HEAD(&domain->dev_list);
	INIT_LIST_HEAD(&domain->dev_data_list);
	domain->id = id;
	domain->pd_mode = PD_MODE_V1;
	domain->domain.type = IOMMU_DOMAIN_UNMANAGED;
	/* pdom_setup_pgtable / alloc_io_pgtable_ops(AMD_IOMMU_V1, cfg, domain) */
	domain->iop.pgtbl.cfg.amd.nid = NUMA_NO_NODE;
	domain->iop.pgtbl.cfg.coherent_walk = true;
	struct io_pgtable *iop =
		io_pgtable_amd_iommu_v1_init_fns.alloc(&domain->iop.pgtbl.cfg, domain);
	if (!iop) {
		kfree(domain);
		return NULL;
	}
	iop->fmt = AMD_IOMMU_V1;
	iop->cookie = cookie;
	/* The table starts at 3 levels and grows on demand; the simulator's
	 * domain has its DTE Mode fixed when it is created, so an empty table
	 * starts at that mode (what growing an empty table to it would give,
	 * less the chain of empty tables). */
	domain->iop.mode = (int)mode;
	domain->domain.pgsize_bitmap = domain->iop.pgtbl.cfg.pgsize_bitmap;
	return (struct ims_amd_pd *)domain;
}

static void ims_amd_pd_free(struct ims_amd_pd *pd)
{
	struct protection_domain *domain = (struct protection_domain *)pd;
	io_pgtable_amd_iommu_v1_init_fns.free(&domain->iop.pgtbl);
	kfree(domain);
}

static struct io_pgtable_ops *ims_amd_pd_ops(struct ims_amd_pd *pd)
{
	return &((struct protection_domain *)pd)->iop.pgtbl.ops;
}

static uint64_t ims_amd_pd_root(struct ims_amd_pd *pd)
{
	return iommu_virt_to_phys(((struct protection_domain *)pd)->iop.root);
}

static unsigned ims_amd_pd_mode(struct ims_amd_pd *pd)
{
	return (unsigned)((struct protection_domain *)pd)->iop.mode;
}

/* The DTE's first words (AMD IOMMU spec 2.2.2.1; amd/amd_codec.h has the
 * model's names). */
#define IMS_DTE_V (1ull << 0)
#define IMS_DTE_TV (1ull << 1)
#define IMS_DTE_HAD (3ull << 7)
#define IMS_DTE_MODE_SHIFT 9
#define IMS_DTE_MODE_MASK (7ull << IMS_DTE_MODE_SHIFT)
#define IMS_DTE_ROOT_MASK 0x000ffffffffff000ull
#define IMS_DTE_IR (1ull << 61)
#define IMS_DTE_IW (1ull << 62)
#define IMS_DTE1_DOMID_MASK 0xffffull


struct amd_dom {
	struct ims_lx_glue g; /* wd->priv */
	struct ims_amd_pd *pd;
	bool dirty_tracking; /* the driver's pdomain->dirty_tracking: DTE.HAD */
};

static struct amd_dom *amd_of(struct ims_walker_dom *wd)
{
	struct ims_lx_glue *g = wd->priv;
	return g ? container_of(g, struct amd_dom, g) : NULL;
}

/* ---- the driver functions io_pgtable.c calls, onto the host -------------------- */

static void ims_amd_flush_pages(void *cookie, uint64_t address, uint64_t size)
{
	struct amd_dom *ad = cookie;
	/* __domain_flush_pages: PDE = 1; 2^52 or more: the whole domain. */
	if (size >= (1ull << 52))
		size = 0;
	(void)ad->g.wd->host->flush_range(ad->g.wd, address, size, false);
}

/* The table grew past the domain's Mode: the kernel rewrites the DTE. The
 * simulator's domain keeps its geometry, so this is reported; the model is
 * still told (mode and root of the DTE). */
static void ims_amd_dte_changed(void *cookie, uint64_t root, unsigned mode)
{
	struct amd_dom *ad = cookie;
	char msg[128];
	snprintf(msg, sizeof(msg), "the kernel grew the table to mode %u (the domain has %u)", mode,
		 ad->g.wd->levels);
	ad->g.wd->host->log(ad->g.wd, msg);
	(void)ad->g.wd->host->ctx_change(ad->g.wd, 0, IMS_DTE_MODE_MASK | IMS_DTE_ROOT_MASK,
					 ((uint64_t)mode << IMS_DTE_MODE_SHIFT) |
						 (root & IMS_DTE_ROOT_MASK));
}

/* ---- the driver's map, unmap and sync around io_pgtable.c (ims_lx_glue.h) --------- */

/* amd_iommu_map_pages: the core's IOMMU_READ and IOMMU_WRITE become the
 * table's IOMMU_PROT_IR and IOMMU_PROT_IW. */
static int amd_map_prot(unsigned prot)
{
	return (prot & IMS_WALKER_PROT_R ? IOMMU_PROT_IR : 0) |
	       (prot & IMS_WALKER_PROT_W ? IOMMU_PROT_IW : 0);
}

/* amd_iommu_unmap_pages: the table code gets no gather; the driver gathers
 * what it unmapped. */
static size_t amd_unmap_pages(struct ims_lx_glue *g, unsigned long iova, size_t pgsize,
			      size_t pgcount, struct iommu_iotlb_gather *gather)
{
	size_t n = g->ops->unmap_pages(g->ops, iova, pgsize, pgcount, NULL);
	if (n)
		iommu_iotlb_gather_add_range(gather, iova, n);
	return n;
}

/* amd_iommu_iotlb_sync: the gathered range, one INVALIDATE_IOMMU_PAGES. */
static void amd_iotlb_sync(struct ims_lx_glue *g, struct iommu_iotlb_gather *gather)
{
	if (gather->start <= gather->end)
		ims_amd_flush_pages(container_of(g, struct amd_dom, g), gather->start,
				    gather->end - gather->start + 1);
}

static const struct ims_lx_glue_driver amd_driver = {
	.map_prot = amd_map_prot,
	.unmap_pages = amd_unmap_pages,
	.iotlb_sync = amd_iotlb_sync,
	.dirty_whole_range = IMS_LX_WHOLE_RANGE_BUILD,
};

/* ---- domain --------------------------------------------------------------------- */

static int amd_domain_init(struct ims_walker_dom *wd, char *err, size_t errlen)
{
	if (wd->fmt != IMS_FMT_AMDV1) {
		snprintf(err, errlen, "the AMD v1 page table walks only amdv1 domains");
		return -EINVAL;
	}
	if (wd->levels < 1 || wd->levels > 6) {
		snprintf(err, errlen, "mode %u is not a v1 page-table mode", wd->levels);
		return -EINVAL;
	}
	struct amd_dom *ad = calloc(1, sizeof(*ad));
	if (!ad || ims_lx_glue_init(&ad->g, wd, &amd_driver)) {
		free(ad);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct ims_lx_dom *prev = ims_lx_enter(&ad->g.lx);
	ad->pd = ims_amd_pd_new(ad, wd->tag, wd->levels);
	ims_lx_leave(prev);
	if (!ad->pd) {
		ims_lx_dom_fini(&ad->g.lx);
		free(ad);
		snprintf(err, errlen, "io_pgtable_amd_iommu_v1 refused the domain");
		return -ENOMEM;
	}
	ad->g.ops = ims_amd_pd_ops(ad->pd);
	ad->g.pgsizes = ims_amd_pgsizes();
	prev = ims_lx_enter(&ad->g.lx);
	wd->root = ims_amd_pd_root(ad->pd);
	ims_lx_leave(prev);
	wd->priv = &ad->g;
	return 0;
}

static void amd_domain_free(struct ims_walker_dom *wd)
{
	struct amd_dom *ad = amd_of(wd);
	if (!ad)
		return;
	struct ims_lx_dom *prev = ims_lx_enter(&ad->g.lx);
	ims_amd_pd_free(ad->pd); /* free_io_pgtable_ops, then the domain */
	ims_lx_leave(prev);
	ims_lx_glue_fini(&ad->g);
	free(ad);
	wd->priv = NULL;
}

/* set_dte_entry of a device attached to the domain. */
static void amd_ctx_words(struct ims_walker_dom *wd, uint64_t w[8])
{
	struct amd_dom *ad = amd_of(wd);
	struct ims_lx_dom *prev = ims_lx_enter(&ad->g.lx);
	uint64_t root = ims_amd_pd_root(ad->pd);
	ims_lx_leave(prev);
	w[0] = (root & IMS_DTE_ROOT_MASK) |
	       ((uint64_t)ims_amd_pd_mode(ad->pd) << IMS_DTE_MODE_SHIFT) | IMS_DTE_IR | IMS_DTE_IW | IMS_DTE_V |
	       IMS_DTE_TV | (ad->dirty_tracking ? IMS_DTE_HAD : 0);
	w[1] = wd->tag & IMS_DTE1_DOMID_MASK;
}

/* ---- dirty tracking --------------------------------------------------------------- */

/* amd_iommu_set_dirty_tracking: DTE.HAD of every device of the domain,
 * the DTE flushed, then the domain's IOTLB (host->ctx_change does both). */
static int amd_set_dirty_tracking(struct ims_walker_dom *wd, bool enable)
{
	struct amd_dom *ad = amd_of(wd);
	if (!wd->dirty_tracking)
		return -EINVAL;
	if (ad->dirty_tracking == enable)
		return 0;
	int rc = wd->host->ctx_change(wd, 0, IMS_DTE_HAD, enable ? IMS_DTE_HAD : 0);
	if (!rc)
		ad->dirty_tracking = enable;
	return rc;
}

/* ---- the entry point ---------------------------------------------------------------- */

static const struct ims_walker_ops amd_ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = IMS_LX_NAME("amd-v1"),
	.description = "Linux " IMS_LX_KERNEL " AMD IOMMU v1 page table (amd/io_pgtable.c), "
		       "compiled from the kernel tree (GPL-2.0)",
	.level = IMS_WALKER_FULL,
	.formats = 1u << IMS_FMT_AMDV1,
	/* amd_iommu_read_and_clear_dirty, as iommufd calls it (ims_lx_glue.h) */
	.read_and_clear_dirty = ims_lx_glue_read_and_clear_dirty,
	.domain_init = amd_domain_init,
	.domain_free = amd_domain_free,
	.ctx_words = amd_ctx_words,
	.map = ims_lx_glue_map,
	.unmap = ims_lx_glue_unmap,
	.iova_to_phys = ims_lx_glue_iova_to_phys,
	.set_dirty_tracking = amd_set_dirty_tracking,
	.contract = IMS_WALKER_CONTRACT_TABLES_KEPT,
};

__attribute__((visibility("default"))) const struct ims_walker_ops *
ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &amd_ops : NULL;
}
