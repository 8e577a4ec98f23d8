/* Stand-in for <linux/kernel.h> (linux/compat): the grab-bag the kernel's
 * own header is. */
#ifndef IMS_LX_LINUX_KERNEL_H
#define IMS_LX_LINUX_KERNEL_H

#include <linux/align.h>
#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/errno.h>
#include <linux/kconfig.h>
#include <linux/limits.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>

#define might_sleep() ((void)0)
#define might_sleep_if(cond) ((void)0)
#define cond_resched() ((void)0)
#define lockdep_assert_held(l) ((void)(l))
#define lockdep_assert_not_held(l) ((void)(l))

#define typecheck(type, x) 1

#endif
