/* Stand-in for <linux/export.h>: a plug-in exports one symbol of its own
 * (ims_walker_entry); the kernel's exports are plain definitions. */
#ifndef IMS_LX_EXPORT_H
#define IMS_LX_EXPORT_H

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS(sym, ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)

#include <linux/module.h>

#endif
