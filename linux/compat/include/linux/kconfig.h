/* Stand-in for <linux/kconfig.h> (linux/compat). IS_ENABLED(CONFIG_X) is 1
 * when the build defines CONFIG_X as 1 (-DCONFIG_X=1), else 0: the
 * preprocessor trick of pasting the value onto a placeholder that expands
 * to an extra argument only for "1". */
#ifndef IMS_LX_LINUX_KCONFIG_H
#define IMS_LX_LINUX_KCONFIG_H

#define IMS_LX_PLACEHOLDER_1 0,
#define ims_lx_second(ignored, val, ...) val
#define ims_lx_defined3(arg1_or_junk) ims_lx_second(arg1_or_junk 1, 0, 0)
#define ims_lx_defined2(val) ims_lx_defined3(IMS_LX_PLACEHOLDER_##val)
#define __is_defined(x) ims_lx_defined2(x)
#define IS_BUILTIN(option) __is_defined(option)
#define IS_MODULE(option) 0
#define IS_REACHABLE(option) __is_defined(option)
#define IS_ENABLED(option) __is_defined(option)

/* The one option every walker is built with: iommufd's driver support,
 * without which generic_pt compiles read_and_clear_dirty to -EOPNOTSUPP
 * (iommu_pt.h). The other walkers' files do not test it. */
#ifndef CONFIG_IOMMUFD_DRIVER
#define CONFIG_IOMMUFD_DRIVER 1
#endif

#endif
