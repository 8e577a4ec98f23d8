/* Stand-in for <linux/bug.h>: a kernel warning becomes a message through the
 * host's log and a count in the domain's runtime state (ims_linux.h); the
 * code goes on, as the kernel's does. */
#ifndef IMS_LX_BUG_H
#define IMS_LX_BUG_H

#include <linux/build_bug.h>
#include <linux/compiler.h>

#define WARN_ON(cond)                                                 \
	({                                                            \
		bool ims_warn_ = !!(cond);                            \
		if (unlikely(ims_warn_))                              \
			ims_lx_warn(__FILE__, __LINE__, "WARN_ON(" #cond ")"); \
		ims_warn_;                                            \
	})
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN(cond, ...) WARN_ON(cond)
#define WARN_ONCE(cond, ...) WARN_ON(cond)
#define BUG_ON(cond)                                                  \
	do {                                                          \
		if (unlikely(cond))                                   \
			ims_lx_warn(__FILE__, __LINE__, "BUG_ON(" #cond ")"); \
	} while (0)
#define BUG() ims_lx_warn(__FILE__, __LINE__, "BUG()")


#include <linux/kernel.h>

#endif
