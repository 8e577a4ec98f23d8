/* The format registry: one line per format, FORMAT(enum value, description).
 * A new format adds its folder, its enum value (iommusim/common.h) and a
 * line here. */
FORMAT(IMS_FMT_AMDV1, amd_fmt_desc)
FORMAT(IMS_FMT_VTD, vtd_fmt_desc)
FORMAT(IMS_FMT_SMMUV3, smmu_fmt_desc)
FORMAT(IMS_FMT_VTD_FS, vtd_fs_fmt_desc)
FORMAT(IMS_FMT_AMDV2, amdv2_fmt_desc)
FORMAT(IMS_FMT_SMMUV3_S2, s2_fmt_desc)
