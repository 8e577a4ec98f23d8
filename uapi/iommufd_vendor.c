/* The nesting drivers' checks of a nested domain's vendor data (docs/
 * uapi.md, "Nesting"), shared by pt_id a parent HWPT (iommufd_nested.c)
 * and pt_id a vIOMMU (iommufd_viommu.c): include/linux/iommu.h
 * (__iommu_copy_struct_from_user), intel/nested.c
 * (intel_iommu_domain_alloc_nested), arm/arm-smmu-v3/arm-smmu-v3-iommufd.c
 * (arm_vsmmu_alloc_domain_nested, arm_smmu_validate_vste) and amd/nested.c
 * (amd_iommu_alloc_domain_nested, validate_gdte_nested), Linux 7.2.
 */
#include <errno.h>
#include <string.h>

#include "uapi/iommufd_int.h"

/* __iommu_copy_struct_from_user() (include/linux/iommu.h): the data's type
 * must be the driver's, and its length between the struct's first
 * version (min) and the struct (ksize), else -EINVAL; what is missing
 * reads as zero. */
int iommufd_copy_user_data(void *dst, size_t ksize, size_t min, uint32_t type, uint32_t want,
			  const void *src, size_t usize)
{
	if (type != want || usize < min || usize > ksize)
		return -EINVAL;
	return iommufd_copy_struct(dst, ksize, src, usize);
}

/* IHI0070 5.2, the STE fields Linux lets a guest set
 * (arm-smmu-v3.h STRTAB_STE_0_NESTING_ALLOWED / STRTAB_STE_1_NESTING_ALLOWED). */
#define STE0_V (1ull << 0)
#define STE0_CFG_SHIFT 1
#define STE0_CFG_MASK (7ull << STE0_CFG_SHIFT)
#define STE0_ALLOWED (STE0_V | STE0_CFG_MASK | (3ull << 4) /* S1Fmt */ | \
		      (0x3ffffffffffull << 6) /* S1ContextPtr 51:6 */ | (0x1full << 59) /* S1CDMax */)
#define STE1_EATS_SHIFT 28
#define STE1_EATS_MASK (3ull << STE1_EATS_SHIFT)
#define STE1_ALLOWED ((3ull << 0) /* S1DSS */ | (3ull << 2) /* S1CIR */ | (3ull << 4) /* S1COR */ | \
		      (3ull << 6) /* S1CSH */ | (1ull << 27) /* S1STALLD */ | STE1_EATS_MASK)
#define STE_CFG_ABORT 0
#define STE_CFG_BYPASS 4
#define STE_CFG_S1 5
#define STE_EATS_ABT 0
#define STE_EATS_TRANS 1

/* arm-smmu-v3-iommufd.c, arm_smmu_validate_vste(): an STE without V is an
 * abort STE (its words are cleared); EIO is the driver's error for STE
 * data it cannot take, EATS included (IHI0070 5.2: only 0b00, ATS
 * aborted, and 0b01, full ATS; it is taken out of the stored word). */
static int arm_vste(struct ims_iommu_hwpt_arm_smmuv3 *a)
{
	if (!(a->ste[0] & STE0_V)) {
		memset(a->ste, 0, sizeof(a->ste));
		return 0;
	}
	if ((a->ste[0] & ~STE0_ALLOWED) || (a->ste[1] & ~STE1_ALLOWED))
		return -EIO;
	unsigned cfg = (unsigned)((a->ste[0] & STE0_CFG_MASK) >> STE0_CFG_SHIFT);
	if (cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS && cfg != STE_CFG_S1)
		return -EIO;
	unsigned eats = (unsigned)((a->ste[1] & STE1_EATS_MASK) >> STE1_EATS_SHIFT);
	a->ste[1] &= ~STE1_EATS_MASK;
	if (eats != STE_EATS_ABT && eats != STE_EATS_TRANS)
		return -EIO;
	return 0;
}

bool iommufd_arm_translates(const struct ims_iommufd_nested *n)
{
	return ((n->u.arm.ste[0] & STE0_CFG_MASK) >> STE0_CFG_SHIFT) == STE_CFG_S1;
}

/* AMD 48882 2.2.2.1 (Device Table Entry), the guest DTE as amd/nested.c's
 * validate_gdte_nested() takes it. */
#define DTE0_V (1ull << 0)
#define DTE0_MODE_MASK (7ull << 9)
#define DTE0_HOST_TRP_MASK (0xffffffffffull << 12) /* 51:12 */
#define DTE0_GV (1ull << 55)
#define DTE0_GLX_SHIFT 56
#define DTE0_GCR3_A (7ull << 58)          /* GCR3 root 14:12 */
#define DTE1_GCR3_B (0xffffull << 16)     /* 30:15 */
#define DTE1_GCR3_C (0x1fffffull << 43)   /* 51:31 */
#define DTE2_GPT_LEVEL_SHIFT 54           /* guest paging mode: 0 4-level, 1 5-level */

static int amd_gdte(const struct ims_iommu_hwpt_amd_guest *g)
{
	if ((g->dte[0] & DTE0_MODE_MASK) || (g->dte[0] & DTE0_HOST_TRP_MASK))
		return -EINVAL;
	if ((g->dte[0] & DTE0_V) && (g->dte[0] & DTE0_GV) && !(g->dte[0] & DTE0_GCR3_A) &&
	    !(g->dte[1] & (DTE1_GCR3_B | DTE1_GCR3_C)))
		return -EINVAL;
	unsigned gpt = (unsigned)((g->dte[2] >> DTE2_GPT_LEVEL_SHIFT) & 3);
	if (gpt > 1)
		return -EINVAL;
	if (((g->dte[0] >> DTE0_GLX_SHIFT) & 3) == 3) /* GLX = 3 is reserved */
		return -EINVAL;
	return 0;
}

int iommufd_nested_data(enum ims_format s2, const struct ims_iommufd_hwpt_alloc *cmd,
			struct ims_iommufd_nested *n)
{
	n->data_type = cmd->data_type;
	switch (iommufd_driver(s2)) {
	case DRV_INTEL: /* intel/nested.c, intel_iommu_domain_alloc_nested() */
		if (cmd->data_type != IMS_IOMMU_HWPT_DATA_VTD_S1)
			return -EOPNOTSUPP;
		return iommufd_copy_user_data(&n->u.vtd, sizeof(n->u.vtd), 24, cmd->data_type,
				      IMS_IOMMU_HWPT_DATA_VTD_S1, cmd->data, cmd->data_len);
	case DRV_ARM: { /* arm-smmu-v3-iommufd.c, arm_vsmmu_alloc_domain_nested() */
		int rc = iommufd_copy_user_data(&n->u.arm, sizeof(n->u.arm), 16, cmd->data_type,
					IMS_IOMMU_HWPT_DATA_ARM_SMMUV3, cmd->data, cmd->data_len);
		return rc ? rc : arm_vste(&n->u.arm);
	}
	default: { /* amd/nested.c, amd_iommu_alloc_domain_nested() */
		if (cmd->data_type != IMS_IOMMU_HWPT_DATA_AMD_GUEST)
			return -EOPNOTSUPP;
		int rc = iommufd_copy_user_data(&n->u.amd, sizeof(n->u.amd), 32, cmd->data_type,
					IMS_IOMMU_HWPT_DATA_AMD_GUEST, cmd->data, cmd->data_len);
		return rc ? rc : amd_gdte(&n->u.amd);
	}
	}
}

int iommufd_nested_put(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
		       uint32_t ioas, const struct ims_iommufd_nested *n)
{
	if (iommufd_grow((void **)&fd->hwpt, &fd->caphwpt, fd->nhwpt, sizeof(*fd->hwpt)))
		return -ENOMEM;
	fd->hwpt[fd->nhwpt++] = (struct hwpt){.id = cmd->hwpt_id, .ioas = ioas, .nested = true,
					       .n = *n};
	return 0;
}
