/* Stand-in for <linux/module.h>: module metadata means nothing in a plug-in. */
#ifndef IMS_LX_MODULE_H
#define IMS_LX_MODULE_H

#include <linux/export.h>

#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_AUTHOR(x)
#define MODULE_IMPORT_NS(x)

#endif
