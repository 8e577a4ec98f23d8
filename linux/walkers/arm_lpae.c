/* Linux's io-pgtable-arm (drivers/iommu/io-pgtable-arm.c, compiled
 * unmodified from a kernel tree) as a full-level walker of the walker ABI:
 * Arm SMMUv3 stage 1 (ARM_64_LPAE_S1), with IO_PGTABLE_QUIRK_ARM_HD for a
 * domain allocated for dirty tracking, 4K, 16K and 64K granules.
 *
 * This file is ours (MIT, as the repository). The shared object built from
 * it contains the kernel's io-pgtable-arm.c and is therefore a GPL-2.0
 * work: it is distributed, if at all, under GPL-2.0 (docs/linux.md).
 *
 * What the glue does is what surrounds io-pgtable-arm in Linux:
 *  - the SMMUv3 driver (arm-smmu-v3.c): the io_pgtable_cfg it passes
 *    (coherent walk, the HD quirk when dirty tracking is asked for), the CD
 *    it builds from the resulting cfg (arm_smmu_make_s1_cd: TCR fields,
 *    TTB0, MAIR, HA and HD with the quirk), its TLB callbacks (a walk flush
 *    is a non-leaf range invalidation, a page goes into the gather, the
 *    gather's sync is a leaf range invalidation), set_dirty_tracking that
 *    does nothing (HA/HD are on from allocation: arm_smmu_set_dirty_tracking);
 *  - io-pgtable.c's alloc_io_pgtable_ops (the format's alloc, then fmt,
 *    cookie and cfg copied into the io_pgtable);
 *  - the iommu core and iommufd (ims_lx_glue.h, ims_lx_core.h): page
 *    sizes per map and unmap call, no map over a mapping, harvests over
 *    mapped ranges only; what the SMMUv3 driver does differently there
 *    is arm_driver below.
 * Every table access the kernel code makes with a primitive is a host call
 * (ims_lx.h); its page allocations are host->alloc_table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims_lx.h"
#include "ims_lx_glue.h"
#include "iommusim/walker.h"
#include <linux/io-pgtable.h>
#include <linux/sizes.h>

/* SMMUv3 CD word 0 (SMMUv3 5.4; smmuv3/smmu_codec.h has the model's names). */
#define CD0_TG0_SHIFT 6
#define CD0_IRGN0_SHIFT 8
#define CD0_ORGN0_SHIFT 10
#define CD0_SH0_SHIFT 12
#define CD0_EPD1 (1ull << 30)
#define CD0_V (1ull << 31)
#define CD0_IPS_SHIFT 32
#define CD0_AA64 (1ull << 41)
#define CD0_HD (1ull << 42)
#define CD0_HA (1ull << 43)
#define CD0_R (1ull << 45)
#define CD0_A (1ull << 46)
#define CD0_ASET (1ull << 47)
#define CD0_ASID_SHIFT 48
#define CD1_TTB0_MASK 0x000ffffffffffff0ull /* address bits 51:4 */
#define CD_WORD_MAIR 3

struct arm_dom {
	struct ims_lx_glue g; /* wd->priv */
	struct io_pgtable_cfg cfg; /* as passed to the format, and filled by it */
	struct io_pgtable *iop;
	struct iommu_domain domain; /* for the gather's early sync */
	struct iommu_domain_ops domain_ops;
	struct device dev;
};

static struct arm_dom *arm_of(struct ims_walker_dom *wd)
{
	struct ims_lx_glue *g = wd->priv;
	return g ? container_of(g, struct arm_dom, g) : NULL;
}

/* ---- the driver's TLB callbacks (arm_smmu_flush_ops) ------------------------------ */

static void tlb_flush_all(void *cookie)
{
	struct arm_dom *ad = cookie;
	(void)ad->g.wd->host->flush_range(ad->g.wd, 0, 0, false);
}

/* Tables were freed: leaf and walk-cache entries of the range. */
static void tlb_flush_walk(unsigned long iova, size_t size, size_t granule, void *cookie)
{
	struct arm_dom *ad = cookie;
	(void)granule;
	(void)ad->g.wd->host->flush_range(ad->g.wd, iova, size, false);
}

static void tlb_add_page(struct iommu_iotlb_gather *gather, unsigned long iova, size_t granule,
			 void *cookie)
{
	struct arm_dom *ad = cookie;
	iommu_iotlb_gather_add_page(&ad->domain, gather, iova, granule);
}

static const struct iommu_flush_ops arm_flush_ops = {
	.tlb_flush_all = tlb_flush_all,
	.tlb_flush_walk = tlb_flush_walk,
	.tlb_add_page = tlb_add_page,
};

/* The driver's iotlb_sync: the gathered leaves, one range invalidation. */
static void iotlb_sync(struct iommu_domain *domain, struct iommu_iotlb_gather *gather)
{
	struct arm_dom *ad = (struct arm_dom *)((char *)domain - offsetof(struct arm_dom, domain));
	if (gather->start > gather->end)
		return;
	(void)ad->g.wd->host->flush_range(ad->g.wd, gather->start,
					  gather->end - gather->start + 1, true);
}

/* ---- the driver's map, unmap and sync around io-pgtable (ims_lx_glue.h) ------------- */

/* arm_smmu_map_pages passes the core's prot on as it is; iommufd maps
 * coherent-DMA memory cacheable (the model's attributes: Normal
 * write-back, inner shareable). */
static int arm_map_prot(unsigned prot)
{
	return IOMMU_CACHE | (prot & IMS_WALKER_PROT_R ? IOMMU_READ : 0) |
	       (prot & IMS_WALKER_PROT_W ? IOMMU_WRITE : 0);
}

/* arm_smmu_unmap_pages: io-pgtable-arm gathers the leaves itself, through
 * tlb_add_page. */
static size_t arm_unmap_pages(struct ims_lx_glue *g, unsigned long iova, size_t pgsize,
			      size_t pgcount, struct iommu_iotlb_gather *gather)
{
	return g->ops->unmap_pages(g->ops, iova, pgsize, pgcount, gather);
}

/* The core's iommu_iotlb_sync of the domain: iotlb_sync above. */
static void arm_iotlb_sync(struct ims_lx_glue *g, struct iommu_iotlb_gather *gather)
{
	iommu_iotlb_sync(&container_of(g, struct arm_dom, g)->domain, gather);
}

static const struct ims_lx_glue_driver arm_driver = {
	.map_prot = arm_map_prot,
	.unmap_pages = arm_unmap_pages,
	.iotlb_sync = arm_iotlb_sync,
	.dirty_whole_range = IMS_LX_WHOLE_RANGE_BUILD,
};

/* ---- domain ------------------------------------------------------------------------ */

static int arm_domain_init(struct ims_walker_dom *wd, char *err, size_t errlen)
{
	unsigned gs = wd->granule_shift;
	if (wd->fmt != IMS_FMT_SMMUV3) {
		snprintf(err, errlen, "io-pgtable-arm walks only SMMUv3 stage-1 tables");
		return -EINVAL;
	}
	if (gs != 12 && gs != 14 && gs != 16) {
		snprintf(err, errlen, "granule 2^%u is not an Arm granule", gs);
		return -EINVAL;
	}
	/* io-pgtable-arm caps the input size at 48 bits but for the 64K
	 * granule (arm_lpae_restrict_pgsizes): it has no FEAT_LPA2 (DS). */
	if (gs != 16 && wd->ias > 48) {
		snprintf(err, errlen,
			 "io-pgtable-arm has no 52-bit input with the %uK granule (no FEAT_LPA2)",
			 1u << (gs - 10));
		return -EINVAL;
	}
	struct arm_dom *ad = calloc(1, sizeof(*ad));
	if (!ad || ims_lx_glue_init(&ad->g, wd, &arm_driver)) {
		free(ad);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ad->dev.numa_node = NUMA_NO_NODE;
	ad->domain_ops.iotlb_sync = iotlb_sync;
	ad->domain.ops = &ad->domain_ops;
	ad->domain.type = IOMMU_DOMAIN_UNMANAGED;
	/* arm_smmu_domain_finalise: the SMMU's page sizes (the domain's),
	 * its input and output sizes, a coherent walk, HD for tracking. The
	 * model's CD uses a 52-bit IPS with the 64K granule, 48 otherwise. */
	ad->cfg = (struct io_pgtable_cfg){
		.quirks = wd->dirty_tracking ? IO_PGTABLE_QUIRK_ARM_HD : 0,
		/* An SMMU with this one granule (SMMU_IDR5), all its page and
		 * block sizes; the domain's own list (which may leave the
		 * page size out) narrows what map uses, not the format. */
		.pgsize_bitmap = gs == 12 ? SZ_4K | SZ_2M | SZ_1G
			       : gs == 14 ? SZ_16K | SZ_32M
					  : SZ_64K | SZ_512M | (1ul << 42),
		.ias = wd->ias,
		.oas = gs == 16 ? 52 : 48,
		.coherent_walk = true,
		.tlb = &arm_flush_ops,
		.iommu_dev = &ad->dev,
	};
	struct ims_lx_dom *prev = ims_lx_enter(&ad->g.lx);
	/* alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, cookie) */
	struct io_pgtable *iop = io_pgtable_arm_64_lpae_s1_init_fns.alloc(&ad->cfg, ad);
	if (iop) {
		iop->fmt = ARM_64_LPAE_S1;
		iop->cookie = ad;
		iop->cfg = ad->cfg;
	}
	ims_lx_leave(prev);
	const char *why = !iop ? "io-pgtable-arm refused the configuration"
		: (iop->cfg.pgsize_bitmap & -iop->cfg.pgsize_bitmap) != (1ul << gs)
		? "io-pgtable-arm chose another granule"
		: iop->cfg.ias != wd->ias ? "io-pgtable-arm cut the input size"
					  : NULL;
	if (why) {
		snprintf(err, errlen, "%s (granule %uK, ias %u, page sizes 0x%llx)", why,
			 1u << (gs - 10), wd->ias, (unsigned long long)wd->pgsizes);
		if (iop) {
			prev = ims_lx_enter(&ad->g.lx);
			io_pgtable_arm_64_lpae_s1_init_fns.free(iop);
			ims_lx_leave(prev);
		}
		ims_lx_dom_fini(&ad->g.lx);
		free(ad);
		return -EINVAL;
	}
	ad->iop = iop;
	ad->domain.pgsize_bitmap = iop->cfg.pgsize_bitmap;
	ad->g.ops = &iop->ops;
	ad->g.pgsizes = iop->cfg.pgsize_bitmap;
	wd->root = iop->cfg.arm_lpae_s1_cfg.ttbr;
	wd->priv = &ad->g;
	return 0;
}

static void arm_domain_free(struct ims_walker_dom *wd)
{
	struct arm_dom *ad = arm_of(wd);
	if (!ad)
		return;
	struct ims_lx_dom *prev = ims_lx_enter(&ad->g.lx);
	io_pgtable_arm_64_lpae_s1_init_fns.free(ad->iop); /* free_io_pgtable_ops */
	ims_lx_leave(prev);
	ims_lx_glue_fini(&ad->g);
	free(ad);
	wd->priv = NULL;
}

/* arm_smmu_make_s1_cd, from the cfg io-pgtable-arm filled in. */
static void arm_ctx_words(struct ims_walker_dom *wd, uint64_t w[8])
{
	const struct io_pgtable_cfg *cfg = &arm_of(wd)->iop->cfg;
	w[0] = (uint64_t)cfg->arm_lpae_s1_cfg.tcr.tsz |
	       (uint64_t)cfg->arm_lpae_s1_cfg.tcr.tg << CD0_TG0_SHIFT |
	       (uint64_t)cfg->arm_lpae_s1_cfg.tcr.irgn << CD0_IRGN0_SHIFT |
	       (uint64_t)cfg->arm_lpae_s1_cfg.tcr.orgn << CD0_ORGN0_SHIFT |
	       (uint64_t)cfg->arm_lpae_s1_cfg.tcr.sh << CD0_SH0_SHIFT | CD0_EPD1 | CD0_V |
	       (uint64_t)cfg->arm_lpae_s1_cfg.tcr.ips << CD0_IPS_SHIFT | CD0_AA64 | CD0_R |
	       CD0_A | CD0_ASET | (uint64_t)wd->tag << CD0_ASID_SHIFT;
	if (cfg->quirks & IO_PGTABLE_QUIRK_ARM_HD)
		w[0] |= CD0_HA | CD0_HD;
	w[1] = cfg->arm_lpae_s1_cfg.ttbr & CD1_TTB0_MASK;
	w[CD_WORD_MAIR] = cfg->arm_lpae_s1_cfg.mair;
}

/* ---- dirty tracking ----------------------------------------------------------------- */

/* arm_smmu_set_dirty_tracking: "always enabled and the dirty bitmap is
 * cleared prior to set_dirty_tracking()": CD.HA/HD are set when a tracking
 * domain is allocated (ctx_words), nothing changes here. */
static int arm_set_dirty_tracking(struct ims_walker_dom *wd, bool enable)
{
	(void)enable;
	return wd->dirty_tracking ? 0 : -EINVAL;
}

/* ---- the entry point ---------------------------------------------------------------- */

static const struct ims_walker_ops arm_ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = IMS_LX_NAME("io-pgtable-arm"),
	.description = "Linux " IMS_LX_KERNEL " io-pgtable-arm (ARM_64_LPAE_S1, QUIRK_ARM_HD), "
		       "compiled from the kernel tree (GPL-2.0)",
	.level = IMS_WALKER_FULL,
	.formats = 1u << IMS_FMT_SMMUV3,
	/* arm_smmu_read_and_clear_dirty, as iommufd calls it (ims_lx_glue.h) */
	.read_and_clear_dirty = ims_lx_glue_read_and_clear_dirty,
	.domain_init = arm_domain_init,
	.domain_free = arm_domain_free,
	.ctx_words = arm_ctx_words,
	.map = ims_lx_glue_map,
	.unmap = ims_lx_glue_unmap,
	.iova_to_phys = ims_lx_glue_iova_to_phys,
	.set_dirty_tracking = arm_set_dirty_tracking,
	.contract = IMS_WALKER_CONTRACT_MAPS_DIRTY | IMS_WALKER_CONTRACT_TABLES_KEPT,
};

__attribute__((visibility("default"))) const struct ims_walker_ops *
ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &arm_ops : NULL;
}
