/* Stand-in for <linux/args.h>: pasting after expansion. */
#ifndef IMS_LX_ARGS_H
#define IMS_LX_ARGS_H

#define IMS_LX_CONCAT(a, b) a##b
#define CONCATENATE(a, b) IMS_LX_CONCAT(a, b)

#endif
