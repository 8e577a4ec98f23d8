/* Linux generic_pt, AMD IOMMU v1 format, as a full-level walker plug-in
 * (linux/walkers/gpt_glue.h says what runs and how).
 *
 * License: this file is iommusim's (MIT). It compiles, in the same
 * translation unit, Linux's drivers/iommu/generic_pt/fmt/iommu_amdv1.c
 * (GPL-2.0-only), unmodified, from the kernel tree the build points at: the
 * plug-in built from it is a GPL-2.0 work, a separate artifact from
 * iommusim.
 *
 * Include path (cmake/linux.cmake): linux/compat/include,
 * the tree's include/linux/generic_pt/ as <linux/generic_pt/...> (nothing
 * else of the tree's include/), the tree's drivers/iommu/generic_pt.
 */
#include <stdio.h>
#include <stdlib.h>

/* The kernel's own instantiation of generic_pt for the format, unmodified
 * (its template: iommu_template.h, iommu_pt.h), in this translation unit:
 * the glue also uses the format's entry decoding (gpt_glue.h's gpt_find).
 * The kernel's code is compiled as the kernel compiles it: these warnings
 * are not enabled there. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include "fmt/iommu_amdv1.c"
#pragma GCC diagnostic pop

/* The kernel's entry points for the format (generic_pt/iommu.h). */
#define GPT_IMS_FMT IMS_FMT_AMDV1
#define GPT_FMT_TEXT "amdv1"
#define GPT_TABLE pt_iommu_amdv1
#define GPT_CFG pt_iommu_amdv1_cfg
#define GPT_HW_INFO pt_iommu_amdv1_hw_info
#define GPT_INIT pt_iommu_amdv1_init
#define GPT_HW_INFO_OF pt_iommu_amdv1_hw_info
#define GPT_IOVA_TO_PHYS pt_iommu_amdv1_iova_to_phys
#define GPT_READ_AND_CLEAR_DIRTY pt_iommu_amdv1_read_and_clear_dirty
#include "gpt_glue.h"

/* Device Table Entry, the bits the driver's amd_iommu_set_dte_v1() and
 * set_dte_entry() program (AMD IOMMU spec 2.2.2; formats.md, "AMD IOMMU v1
 * host page tables"). */
#define DTE_V (1ull << 0)
#define DTE_TV (1ull << 1)
#define DTE_HAD (3ull << 7) /* host access + dirty updates */
#define DTE_MODE_SHIFT 9
#define DTE_ROOT (((1ull << 52) - 1) & ~0xfffull) /* bits 51:12 */
#define DTE_IR (1ull << 61)
#define DTE_IW (1ull << 62)
#define DTE1_DOMID 0xffffull

static int gpt_fmt_cfg(const struct ims_walker_dom *dom, struct GPT_CFG *cfg, char *err, size_t errlen)
{
	/* The driver's (amd_iommu_domain_alloc_paging_v1, on bare metal). */
	cfg->common.features = BIT(PT_FEAT_DYNAMIC_TOP) | BIT(PT_FEAT_AMDV1_ENCRYPT_TABLES) |
			       BIT(PT_FEAT_AMDV1_FORCE_COHERENCE) | BIT(PT_FEAT_FLUSH_RANGE);
	cfg->common.hw_max_oasz_lg2 = 52;
	/* The driver starts at level 2 (Mode 3) and lets the top grow up to
	 * the hardware's VA size; the domain's Mode is fixed, so the table
	 * starts with that top and a VA size that fills it (the top never
	 * grows). Level 0 cannot be a top here: Mode 1 is refused. */
	if (dom->levels < 2) {
		snprintf(err, errlen,
			 "%s: generic_pt's amdv1 starts at level 1 at least; DTE Mode %u is not supported",
			 GPT_NAME, dom->levels);
		return -EOPNOTSUPP;
	}
	cfg->common.hw_max_vasz_lg2 = (u8)dom->ias;
	cfg->starting_level = dom->levels - 1;
	return 0;
}

static int gpt_fmt_root(const struct ims_walker_dom *dom, const struct GPT_HW_INFO *info, uint64_t *root,
			char *err, size_t errlen)
{
	if (info->mode != dom->levels) {
		snprintf(err, errlen, "%s: the kernel's table has Mode %u, the domain %u", GPT_NAME,
			 info->mode, dom->levels);
		return -EINVAL;
	}
	*root = info->host_pt_root;
	return 0;
}

static void gpt_fmt_ctx(const struct gpt_dom *g, const struct GPT_HW_INFO *info, uint64_t w[8])
{
	w[0] = DTE_V | DTE_TV | ((uint64_t)info->mode << DTE_MODE_SHIFT) |
	       (__sme_set(info->host_pt_root) & DTE_ROOT) | DTE_IR | DTE_IW |
	       (g->tracking ? DTE_HAD : 0);
	w[1] = g->dom->tag & DTE1_DOMID;
}

/* amd_iommu_set_dirty_tracking(): DTE.HAD, then the DTE and the domain's
 * IOTLB flushed (host->ctx_change does both). */
static int gpt_fmt_track(struct gpt_dom *g, bool enable)
{
	return g->dom->host->ctx_change(g->dom, 0, DTE_HAD, enable ? DTE_HAD : 0);
}

static unsigned gpt_fmt_prot(u64 descriptor_bits)
{
	return ((descriptor_bits & AMDV1PT_FMT_IR) ? IMS_WALKER_PROT_R : 0) |
	       ((descriptor_bits & AMDV1PT_FMT_IW) ? IMS_WALKER_PROT_W : 0);
}

