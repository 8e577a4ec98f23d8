/* Stand-in for <linux/bug.h> (linux/compat). A WARN is counted per domain
 * and the first few are printed through the host's log; a BUG prints and
 * aborts, as the kernel would oops (the host isolates a plug-in that
 * crashes and reports the op that did it). WARN_ON_ONCE warns every time:
 * "once" would need state shared by every domain. */
#ifndef IMS_LX_LINUX_BUG_H
#define IMS_LX_LINUX_BUG_H

#include "ims_lx.h"
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/printk.h>

#define WARN_ON(cond)                                                        \
	__extension__({                                                      \
		int __wc = !!(cond);                                         \
		if (unlikely(__wc))                                          \
			ims_lx_warn(__FILE__, __LINE__, #cond);              \
		unlikely(__wc);                                              \
	})
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN(cond, fmt, ...)                                                 \
	__extension__({                                                      \
		int __wc = !!(cond);                                         \
		if (unlikely(__wc)) {                                        \
			ims_lx_warn(__FILE__, __LINE__, #cond);              \
			(void)ims_lx_no_printk(fmt, ##__VA_ARGS__);          \
		}                                                            \
		unlikely(__wc);                                              \
	})
#define WARN_ONCE(cond, fmt, ...) WARN(cond, fmt, ##__VA_ARGS__)
#define WARN_ON_SMP(cond) WARN_ON(cond)

#define BUG() ims_lx_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond)                                                         \
	do {                                                                 \
		if (unlikely(cond))                                          \
			ims_lx_bug(__FILE__, __LINE__, #cond);               \
	} while (0)
/* Without CONFIG_DEBUG_VM the kernel does not evaluate these. */
#define VM_BUG_ON(cond) ((void)sizeof(!!(cond)))
#define VM_WARN_ON(cond) ((void)sizeof(!!(cond)))
#define VM_WARN_ON_ONCE(cond) ((void)sizeof(!!(cond)))

#endif
