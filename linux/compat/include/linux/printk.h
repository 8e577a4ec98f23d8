/* Stand-in for <linux/printk.h> (linux/compat): errors and warnings go to
 * the host's log (the walker's diagnostics); info and debug are dropped. */
#ifndef IMS_LX_LINUX_PRINTK_H
#define IMS_LX_LINUX_PRINTK_H

#include "ims_lx.h"

#define KERN_EMERG ""
#define KERN_ALERT ""
#define KERN_CRIT ""
#define KERN_ERR ""
#define KERN_WARNING ""
#define KERN_NOTICE ""
#define KERN_INFO ""
#define KERN_DEBUG ""
#define KERN_CONT ""

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

/* Type-checks the arguments and prints nothing. */
static inline __attribute__((format(printf, 1, 2))) int ims_lx_no_printk(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

#define printk(fmt, ...) ims_lx_printk(fmt, ##__VA_ARGS__)
#define no_printk(fmt, ...) ims_lx_no_printk(fmt, ##__VA_ARGS__)
#define pr_emerg(fmt, ...) ims_lx_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) ims_lx_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) ims_lx_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) ims_lx_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) ims_lx_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) ims_lx_no_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) ims_lx_no_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...) ims_lx_no_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_devel(fmt, ...) ims_lx_no_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) ims_lx_no_printk(fmt, ##__VA_ARGS__)
#define pr_err_once pr_err
#define pr_warn_once pr_warn
#define pr_info_once pr_info
#define pr_err_ratelimited pr_err
#define pr_warn_ratelimited pr_warn
#define pr_info_ratelimited pr_info
#define pr_debug_ratelimited pr_debug

#endif
