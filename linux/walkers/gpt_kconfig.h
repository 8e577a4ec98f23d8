/* The kernel configuration the generic_pt walkers are built as (the
 * compat layer's IS_ENABLED() reads these; linux/compat/include/linux/
 * kconfig.h): an x86-64 SMP kernel with iommufd's driver support, so
 * read_and_clear_dirty is compiled in (iommu_pt.h returns -EOPNOTSUPP
 * without CONFIG_IOMMUFD_DRIVER), and without CONFIG_DEBUG_GENERIC_PT, so
 * what runs is the code a distribution kernel ships. CONFIG_X86 selects
 * iommu-pages.h's coherent x86 path (no DMA API cache maintenance), as on
 * the machines these IOMMUs sit in.
 *
 * License: iommusim's (MIT); see gpt_glue.h for the walker it builds. */
#ifndef IMS_GPT_KCONFIG_H
#define IMS_GPT_KCONFIG_H

#define CONFIG_X86 1
#define CONFIG_X86_64 1
#define CONFIG_64BIT 1
#define CONFIG_SMP 1
#define CONFIG_IOMMU_API 1
#define CONFIG_IOMMU_PT 1
#define CONFIG_IOMMUFD_DRIVER 1

#endif
