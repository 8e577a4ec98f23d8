/* Stand-in for <linux/kconfig.h>: the kernel configuration the compatibility
 * layer models, and IS_ENABLED().
 *
 * The walkers are built as an x86-64 SMP kernel with iommufd's driver
 * support (CONFIG_IOMMUFD_DRIVER: read_and_clear_dirty is compiled in),
 * without debug options (CONFIG_DEBUG_GENERIC_PT and the like), so what runs
 * is the code a distribution kernel ships. Table memory is coherent: no
 * cache maintenance. */
#ifndef IMS_LX_KCONFIG_H
#define IMS_LX_KCONFIG_H

#define CONFIG_X86 1
#define CONFIG_X86_64 1
#define CONFIG_64BIT 1
#define CONFIG_SMP 1
#define CONFIG_IOMMU_API 1
#define CONFIG_IOMMU_PT 1
#define CONFIG_IOMMUFD_DRIVER 1

/* IS_ENABLED(CONFIG_X) is 1 when CONFIG_X is defined as 1, else 0, and is
 * usable in #if. A defined option expands to 1, which pastes into the name
 * of a macro that supplies an extra leading argument; an undefined one
 * pastes into a name that is no macro, which leaves the argument list one
 * shorter, and the value picked moves accordingly. */
#define IMS_LX_ONE_IS_SET_1 ignored,
#define IMS_LX_SECOND(a, b, ...) b
#define IMS_LX_PICK(list) IMS_LX_SECOND(list 1, 0, 0)
#define IMS_LX_PASTE_SET(v) IMS_LX_PICK(IMS_LX_ONE_IS_SET_##v)
#define IMS_LX_DEFINED(v) IMS_LX_PASTE_SET(v)
#define IS_ENABLED(option) IMS_LX_DEFINED(option)
#define IS_BUILTIN(option) IMS_LX_DEFINED(option)
#define IS_REACHABLE(option) IMS_LX_DEFINED(option)

#endif
