/* Linux generic_pt, Intel VT-d second-stage format, as a full-level walker plug-in
 * (linux/walkers/gpt_glue.h says what runs and how).
 *
 * License: this file is iommusim's (MIT). It compiles, in the same
 * translation unit, Linux's drivers/iommu/generic_pt/fmt/iommu_vtdss.c
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
#include "fmt/iommu_vtdss.c"
#pragma GCC diagnostic pop

/* The kernel's entry points for the format (generic_pt/iommu.h). */
#define GPT_IMS_FMT IMS_FMT_VTD
#define GPT_FMT_TEXT "vtdss"
#define GPT_TABLE pt_iommu_vtdss
#define GPT_CFG pt_iommu_vtdss_cfg
#define GPT_HW_INFO pt_iommu_vtdss_hw_info
#define GPT_INIT pt_iommu_vtdss_init
#define GPT_HW_INFO_OF pt_iommu_vtdss_hw_info
#define GPT_IOVA_TO_PHYS pt_iommu_vtdss_iova_to_phys
#define GPT_READ_AND_CLEAR_DIRTY pt_iommu_vtdss_read_and_clear_dirty
#include "gpt_glue.h"

/* Scalable-mode PASID-table entry, the bits the driver's
 * intel_pasid_setup_second_level() and intel_pasid_setup_dirty_tracking()
 * program (VT-d spec 9.6; formats.md, "Intel VT-d second-stage tables"). */
#define PE0_P (1ull << 0)
#define PE0_AW_SHIFT 2
#define PE0_PGTT_SHIFT 6
#define PE0_PGTT_SL 2ull /* second-stage translation only */
#define PE0_SSADE (1ull << 9)
#define PE0_SSPTPTR (~0xfffull) /* bits 63:12 */
#define PE1_DID 0xffffull

static int gpt_fmt_cfg(const struct ims_walker_dom *dom, struct GPT_CFG *cfg, char *err, size_t errlen)
{
	/* The driver's (intel_iommu_domain_alloc_second_stage, coherent
	 * paging structures): the largest table the hardware's SAGAW and
	 * MGAW allow, here the domain's 3, 4 or 5 levels. */
	(void)err;
	(void)errlen;
	cfg->common.features = BIT(PT_FEAT_FLUSH_RANGE);
	cfg->common.hw_max_oasz_lg2 = 52;
	cfg->common.hw_max_vasz_lg2 = (u8)dom->ias;
	cfg->top_level = dom->levels - 1;
	return 0;
}

static int gpt_fmt_root(const struct ims_walker_dom *dom, const struct GPT_HW_INFO *info, uint64_t *root,
			char *err, size_t errlen)
{
	/* AW 1, 2, 3 = 3, 4, 5 levels. */
	if (info->aw + 2u != dom->levels) {
		snprintf(err, errlen, "%s: the kernel's table has AW %u, the domain %u levels", GPT_NAME,
			 info->aw, dom->levels);
		return -EINVAL;
	}
	*root = info->ssptptr;
	return 0;
}

static void gpt_fmt_ctx(const struct gpt_dom *g, const struct GPT_HW_INFO *info, uint64_t w[8])
{
	w[0] = PE0_P | ((uint64_t)info->aw << PE0_AW_SHIFT) | (PE0_PGTT_SL << PE0_PGTT_SHIFT) |
	       (info->ssptptr & PE0_SSPTPTR) | (g->tracking ? PE0_SSADE : 0);
	w[1] = g->dom->tag & PE1_DID;
}

/* intel_pasid_setup_dirty_tracking(): SSADE, then the PASID cache and the
 * domain's IOTLB invalidated (host->ctx_change does both). */
static int gpt_fmt_track(struct gpt_dom *g, bool enable)
{
	return g->dom->host->ctx_change(g->dom, 0, PE0_SSADE, enable ? PE0_SSADE : 0);
}

static unsigned gpt_fmt_prot(u64 descriptor_bits)
{
	return ((descriptor_bits & VTDSS_FMT_R) ? IMS_WALKER_PROT_R : 0) |
	       ((descriptor_bits & VTDSS_FMT_W) ? IMS_WALKER_PROT_W : 0);
}

