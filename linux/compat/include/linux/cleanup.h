/* Stand-in for <linux/cleanup.h>: scope-based cleanup, for code that uses
 * it; nothing in the walkers built here does yet. */
#ifndef IMS_LX_CLEANUP_H
#define IMS_LX_CLEANUP_H

#define __cleanup(fn) __attribute__((__cleanup__(fn)))

#endif
