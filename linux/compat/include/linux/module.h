/* Stand-in for <linux/module.h> (linux/compat). */
#ifndef IMS_LX_LINUX_MODULE_H
#define IMS_LX_LINUX_MODULE_H

#include <linux/export.h>

#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_AUTHOR(x)
#define MODULE_IMPORT_NS(x)
#define module_init(fn)
#define module_exit(fn)
#define subsys_initcall(fn)
#define THIS_MODULE ((void *)0)

#endif
