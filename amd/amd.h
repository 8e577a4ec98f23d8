/* AMD IOMMU: what the folder gives the registry (amd/amd.c: v1 host tables,
 * amd/amdv2.c: v2 guest tables). */
#ifndef IMS_AMD_AMD_H
#define IMS_AMD_AMD_H

#include "amd/amd_codec.h"
#include "formats/format.h"
#include "x86/x86_hw.h"

extern const struct hw_fmt amd_hw_fmt;
extern const struct pt_fmt amd_pt_fmt;
int amd_geometry(struct fmt_geom *g, char *err, size_t errlen);
int amd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
/* The commands the v1 tables know, which a v2 domain's include. */
int amd_decode_cmd(const uint64_t cmd[2], struct hw_cmd *out);
/* INVALIDATE_IOMMU_PAGES for a range (size 0: the domain), flags1 ORed
 * into its dwords 2-3. */
int amd_flush_with(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only,
		   uint64_t flags1);

/* AMD IOMMU v2 guest tables (amdv2): amd/amdv2*.c on the shared x86-64
 * rules of x86/. */
extern const struct x86_hw_fmt amdv2_x86_fmt;
extern const struct pt_fmt amdv2_pt_fmt;
int amdv2_geometry(struct fmt_geom *g, char *err, size_t errlen);
int amdv2_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
/* The context words (DTE, GCR3 entry as word 4) of a v2 domain. */
void amdv2_words(uint16_t tag, unsigned levels, uint64_t root, uint64_t *w);

/* Whether hardware sets the guest tables' Accessed / Dirty flags: unless
 * the IOMMU Control register's GAUpdateDis / GDUpdateDis says not, which it
 * can only where EFR.GAUpdateDisSup is set (amd/amd_codec.h). The same for
 * every device of the IOMMU: no DTE or GCR3 field gates them. */
static inline bool amdv2_guest_a(const struct ims_iommu_cfg *cfg)
{
	return !((cfg->amd_efr & AMD_EFR_GAUPDATEDISSUP) &&
		 (cfg->amd_control & AMD_CTRL_GAUPDATEDIS));
}

static inline bool amdv2_guest_d(const struct ims_iommu_cfg *cfg)
{
	return !((cfg->amd_efr & AMD_EFR_GAUPDATEDISSUP) &&
		 (cfg->amd_control & AMD_CTRL_GDUPDATEDIS));
}

#endif
