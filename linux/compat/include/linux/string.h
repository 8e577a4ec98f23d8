/* Stand-in for <linux/string.h> (linux/compat). */
#ifndef IMS_LX_LINUX_STRING_H
#define IMS_LX_LINUX_STRING_H

#include <string.h>

#endif
