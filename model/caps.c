/* What the capability registers advertise, as GET_HW_INFO reports it. */
#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "smmuv3/smmu_codec.h"
#include "vtd/vtd_codec.h"

bool ims_iommu_cfg_dirty_capable(const struct ims_iommu_cfg *cfg, enum ims_format fmt)
{
	switch (fmt) {
	case IMS_FMT_AMDV1:
		/* DTE.HAD = 11b needs both EFR.HASup and EFR.HDSup. */
		return (cfg->amd_efr & AMD_EFR_HASUP) && (cfg->amd_efr & AMD_EFR_HDSUP);
	case IMS_FMT_VTD:
		/* SSADE needs ECAP.SSADS, and A/D updates need a coherent walk
		 * (ECAP.SMPWC; "3.10": otherwise a non-recoverable fault). */
		return (cfg->vtd_ecap & VTD_ECAP_SSADS) && (cfg->vtd_ecap & VTD_ECAP_SMPWC);
	case IMS_FMT_SMMUV3:
		/* IDR0.HTTU = 2 or 3: access flag and dirty state. */
		return ((cfg->smmu_idr0 >> SMMU_IDR0_HTTU_SHIFT) & 3) >= 2;
	default:
		return false;
	}
}
