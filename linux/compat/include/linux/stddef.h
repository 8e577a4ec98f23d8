/* Stand-in for <linux/stddef.h>. */
#ifndef IMS_LX_STDDEF_H
#define IMS_LX_STDDEF_H

#include <stddef.h>

#define sizeof_field(type, member) sizeof(((type *)0)->member)
#define offsetofend(type, member) (offsetof(type, member) + sizeof_field(type, member))

#endif
