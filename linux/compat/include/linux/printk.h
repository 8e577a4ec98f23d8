/* Stand-in for <linux/printk.h>: errors and warnings go to the host's log
 * (ims_lx_warn); informational messages are dropped. */
#ifndef IMS_LX_PRINTK_H
#define IMS_LX_PRINTK_H

#include <linux/compiler.h>

#define IMS_LX_PR(fmt, ...) ims_lx_warn(__FILE__, __LINE__, fmt)
#define pr_err(fmt, ...) IMS_LX_PR(fmt)
#define pr_warn(fmt, ...) IMS_LX_PR(fmt)
#define pr_err_ratelimited(fmt, ...) IMS_LX_PR(fmt)
#define pr_warn_ratelimited(fmt, ...) IMS_LX_PR(fmt)
#define pr_err_once(fmt, ...) IMS_LX_PR(fmt)
#define pr_warn_once(fmt, ...) IMS_LX_PR(fmt)
#define pr_info(fmt, ...) ((void)0)
#define pr_debug(fmt, ...) ((void)0)
#define dev_err(dev, fmt, ...) IMS_LX_PR(fmt)
#define dev_warn(dev, fmt, ...) IMS_LX_PR(fmt)
#define dev_err_ratelimited(dev, fmt, ...) IMS_LX_PR(fmt)

#endif
