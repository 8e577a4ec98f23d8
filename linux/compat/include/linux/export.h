/* Stand-in for <linux/export.h> (linux/compat): symbols stay local to the
 * walker's shared object. */
#ifndef IMS_LX_LINUX_EXPORT_H
#define IMS_LX_LINUX_EXPORT_H

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS(sym, ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)
#define EXPORT_SYMBOL_FOR_MODULES(sym, mods)

/* The kernel's include graph brings MODULE_*() to the files that use
 * them with <linux/export.h> alone (generic_pt's iommu_pt.h). */
#include <linux/module.h>

#endif
