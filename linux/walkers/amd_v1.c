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
 *    flushed: host->ctx_change), read_and_clear_dirty refused with a bitmap
 *    while tracking is off;
 *  - the iommu core and iommufd (ims_lx_core.h): page sizes per map and
 *    unmap call, no map over a mapping, harvests over mapped ranges only.
 * Every table access the kernel code makes with a primitive is a host call
 * (ims_lx.h); its page allocations are host->alloc_table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims_lx.h"
#include "ims_lx_core.h"
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

/* The walker's name: cmake/linux.cmake passes it (IMS_LINUX_WALKER_NAME,
 * with the tree's IMS_LINUX_VERSION), variants included (-fixed,
 * -whole-range). IMS_LX_WHOLE_RANGE builds finding 3's variant, which
 * passes a harvest's range to the kernel whole, holes included. */
#ifdef IMS_LINUX_VERSION
#define IMS_LX_KERNEL IMS_LINUX_VERSION
#else
#define IMS_LX_KERNEL "unknown"
#endif
#ifdef IMS_LINUX_WALKER_NAME
#define IMS_LX_NAME IMS_LINUX_WALKER_NAME
#else
#define IMS_LX_NAME "linux-" IMS_LX_KERNEL "-amd-v1"
#endif

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
	struct ims_lx_dom lx;
	struct ims_lx_areas areas;
	struct ims_amd_pd *pd;
	struct ims_walker_dom *wd;
	bool dirty_tracking; /* the driver's pdomain->dirty_tracking: DTE.HAD */
	uint64_t pgsizes;     /* the iommu core's domain->pgsize_bitmap */
};

static struct amd_dom *amd_of(struct ims_walker_dom *wd)
{
	return wd->priv;
}

/* ---- the driver functions io_pgtable.c calls, onto the host -------------------- */

static void ims_amd_flush_pages(void *cookie, uint64_t address, uint64_t size)
{
	struct amd_dom *ad = cookie;
	/* __domain_flush_pages: PDE = 1; 2^52 or more: the whole domain. */
	if (size >= (1ull << 52))
		size = 0;
	(void)ad->wd->host->flush_range(ad->wd, address, size, false);
}

/* The table grew past the domain's Mode: the kernel rewrites the DTE. The
 * simulator's domain keeps its geometry, so this is reported; the model is
 * still told (mode and root of the DTE). */
static void ims_amd_dte_changed(void *cookie, uint64_t root, unsigned mode)
{
	struct amd_dom *ad = cookie;
	char msg[128];
	snprintf(msg, sizeof(msg), "the kernel grew the table to mode %u (the domain has %u)", mode,
		 ad->wd->levels);
	ad->wd->host->log(ad->wd, msg);
	(void)ad->wd->host->ctx_change(ad->wd, 0, IMS_DTE_MODE_MASK | IMS_DTE_ROOT_MASK,
				       ((uint64_t)mode << IMS_DTE_MODE_SHIFT) | (root & IMS_DTE_ROOT_MASK));
}

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
	if (!ad || ims_lx_dom_init(&ad->lx, wd)) {
		free(ad);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ad->wd = wd;
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
	ad->pd = ims_amd_pd_new(ad, wd->tag, wd->levels);
	ims_lx_leave(prev);
	if (!ad->pd) {
		ims_lx_dom_fini(&ad->lx);
		free(ad);
		snprintf(err, errlen, "io_pgtable_amd_iommu_v1 refused the domain");
		return -ENOMEM;
	}
	ad->pgsizes = ims_amd_pgsizes();
	prev = ims_lx_enter(&ad->lx);
	wd->root = ims_amd_pd_root(ad->pd);
	ims_lx_leave(prev);
	wd->priv = ad;
	return 0;
}

static void amd_domain_free(struct ims_walker_dom *wd)
{
	struct amd_dom *ad = amd_of(wd);
	if (!ad)
		return;
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
	ims_amd_pd_free(ad->pd); /* free_io_pgtable_ops, then the domain */
	ims_lx_leave(prev);
	if (ad->lx.warnings) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%llu kernel WARN(s) in this domain",
			 (unsigned long long)ad->lx.warnings);
		wd->host->log(wd, msg);
	}
	ims_lx_dom_fini(&ad->lx);
	ims_lx_areas_fini(&ad->areas);
	free(ad);
	wd->priv = NULL;
}

/* set_dte_entry of a device attached to the domain. */
static void amd_ctx_words(struct ims_walker_dom *wd, uint64_t w[8])
{
	struct amd_dom *ad = amd_of(wd);
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
	uint64_t root = ims_amd_pd_root(ad->pd);
	ims_lx_leave(prev);
	w[0] = (root & IMS_DTE_ROOT_MASK) |
	       ((uint64_t)ims_amd_pd_mode(ad->pd) << IMS_DTE_MODE_SHIFT) | IMS_DTE_IR | IMS_DTE_IW | IMS_DTE_V |
	       IMS_DTE_TV | (ad->dirty_tracking ? IMS_DTE_HAD : 0);
	w[1] = wd->tag & IMS_DTE1_DOMID_MASK;
}

/* ---- map, unmap, iova_to_phys --------------------------------------------------- */

/* The leaf sizes for what the domain allows: for each allowed size, the
 * kernel's largest not above it (v1 has every power of two but 512G). */
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

/* The iommu core's unmap of one mapped run [lo, hi] through
 * amd_iommu_unmap_pages (which gathers what the table code unmapped). */
static uint64_t unmap_run(struct amd_dom *ad, uint64_t lo, uint64_t hi,
			  struct iommu_iotlb_gather *gather)
{
	struct io_pgtable_ops *ops = ims_amd_pd_ops(ad->pd);
	uint64_t at = lo, done = 0;
	while (at <= hi) {
		uint64_t count;
		uint64_t pg = ims_lx_pgsize(ad->pgsizes, at, at, hi - at + 1, &count);
		size_t n = pg ? ops->unmap_pages(ops, at, pg, count, NULL) : 0;
		if (!n)
			break;
		iommu_iotlb_gather_add_range(gather, at, n);
		done += n;
		at += n;
		if (!at)
			break;
	}
	return done;
}

static int amd_unmap(struct ims_walker_dom *wd, uint64_t iova, uint64_t size, uint64_t *unmapped);

static int amd_map(struct ims_walker_dom *wd, uint64_t iova, uint64_t pa, uint64_t size,
		   unsigned prot, uint64_t pgsize)
{
	struct amd_dom *ad = amd_of(wd);
	uint64_t last = iova + (size - 1);
	if (ims_lx_areas_overlap(&ad->areas, iova, last))
		return -EEXIST; /* iommufd refuses an IOVA range in use */
	int kprot = (prot & IMS_WALKER_PROT_R ? IOMMU_PROT_IR : 0) |
		    (prot & IMS_WALKER_PROT_W ? IOMMU_PROT_IW : 0);
	uint64_t sizes = kernel_sizes(ad->pgsizes, pgsize ? pgsize : wd->pgsizes);
	struct io_pgtable_ops *ops = ims_amd_pd_ops(ad->pd);
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
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
			if (ims_lx_areas_add(&ad->areas, &c))
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
		(void)amd_unmap(wd, iova, at - iova, &undone);
	}
	return rc;
}

static int amd_unmap(struct ims_walker_dom *wd, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	struct amd_dom *ad = amd_of(wd);
	uint64_t last = iova + (size - 1);
	*unmapped = 0;
	if (ims_lx_areas_cuts(&ad->areas, iova, last))
		return -EINVAL;
	struct iommu_iotlb_gather gather;
	iommu_iotlb_gather_init(&gather);
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
	uint64_t from = iova, lo, hi, done = 0;
	while (ims_lx_areas_next_run(&ad->areas, from, last, &lo, &hi)) {
		done += unmap_run(ad, lo, hi, &gather);
		if (hi == last)
			break;
		from = hi + 1;
	}
	/* amd_iommu_iotlb_sync */
	if (gather.start <= gather.end)
		ims_amd_flush_pages(ad, gather.start, gather.end - gather.start + 1);
	ims_lx_leave(prev);
	int64_t was = ims_lx_areas_remove(&ad->areas, iova, last);
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

/* iova_to_phys returns 0 for "not mapped" and has no permissions: those
 * are the mapping's (iommufd's record), which also tells a translation to
 * physical address 0 from a miss. */
static int amd_iova_to_phys(struct ims_walker_dom *wd, uint64_t iova, uint64_t *pa,
			    unsigned *prot)
{
	struct amd_dom *ad = amd_of(wd);
	struct io_pgtable_ops *ops = ims_amd_pd_ops(ad->pd);
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
	phys_addr_t p = ops->iova_to_phys(ops, iova);
	ims_lx_leave(prev);
	const struct ims_lx_chunk *c = ims_lx_areas_find(&ad->areas, iova);
	if (!p && !(c && c->pa + (iova - c->iova) == 0))
		return -ENOENT;
	*pa = p;
	*prot = c ? c->prot : IMS_WALKER_PROT_R;
	return 0;
}

/* ---- dirty tracking --------------------------------------------------------------- */

/* amd_iommu_read_and_clear_dirty, called as iommufd calls it: over each
 * mapped run of the range (ims_lx_core.h). */
static int amd_read_and_clear_dirty(struct ims_walker_dom *wd, uint64_t iova, uint64_t size,
				    unsigned flags, struct ims_walker_dirty *dirty)
{
	struct amd_dom *ad = amd_of(wd);
	uint64_t last = size ? iova + (size - 1) : ~0ull;
	unsigned long kflags = flags & IMS_WALKER_NO_CLEAR ? IOMMU_DIRTY_NO_CLEAR : 0;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap bm;
	iommu_dirty_bitmap_init(&bm, (struct iova_bitmap *)dirty, &gather);
	struct io_pgtable_ops *ops = ims_amd_pd_ops(ad->pd);
	struct ims_lx_dom *prev = ims_lx_enter(&ad->lx);
	int rc = 0;
#ifdef IMS_LX_WHOLE_RANGE
	/* The finding's variant: the whole range in one call, holes included. */
	rc = ops->read_and_clear_dirty(ops, iova, last - iova + 1, kflags, &bm);
#else
	uint64_t from = iova, lo, hi;
	while (!rc && ims_lx_areas_next_run(&ad->areas, from, last, &lo, &hi)) {
		rc = ops->read_and_clear_dirty(ops, lo, hi - lo + 1, kflags, &bm);
		if (hi == last)
			break;
		from = hi + 1;
	}
#endif
	ims_lx_leave(prev);
	return rc;
}

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
	.name = IMS_LX_NAME,
	.description = "Linux " IMS_LX_KERNEL " AMD IOMMU v1 page table (amd/io_pgtable.c), "
		       "compiled from the kernel tree (GPL-2.0)",
	.level = IMS_WALKER_FULL,
	.formats = 1u << IMS_FMT_AMDV1,
	.read_and_clear_dirty = amd_read_and_clear_dirty,
	.domain_init = amd_domain_init,
	.domain_free = amd_domain_free,
	.ctx_words = amd_ctx_words,
	.map = amd_map,
	.unmap = amd_unmap,
	.iova_to_phys = amd_iova_to_phys,
	.set_dirty_tracking = amd_set_dirty_tracking,
	.contract = IMS_WALKER_CONTRACT_TABLES_KEPT,
};

__attribute__((visibility("default"))) const struct ims_walker_ops *
ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &amd_ops : NULL;
}
