/* Stand-in for <linux/stringify.h>: the text of a macro's expansion. */
#ifndef IMS_LX_STRINGIFY_H
#define IMS_LX_STRINGIFY_H

#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)

#endif
