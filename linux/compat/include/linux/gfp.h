/* Stand-in for <linux/gfp.h>: allocation flags (table memory comes from the
 * host whatever they say). */
#ifndef IMS_LX_GFP_H
#define IMS_LX_GFP_H

#include <linux/types.h>

#define __GFP_ZERO 0x100u
#define GFP_KERNEL 0x0cc0u
#define GFP_ATOMIC 0x0820u
#define GFP_NOWAIT 0x0800u

#endif
