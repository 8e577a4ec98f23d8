/* Stand-in for <linux/stddef.h> (linux/compat). */
#ifndef IMS_LX_LINUX_STDDEF_H
#define IMS_LX_LINUX_STDDEF_H

#include <stddef.h>

#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))
#define offsetofend(TYPE, MEMBER) (offsetof(TYPE, MEMBER) + sizeof_field(TYPE, MEMBER))

#endif
