/* Stand-in for <linux/errno.h>: the error numbers the kernel code returns,
 * with Linux's values (the ones the C library uses on Linux too), so the
 * glue hands them to the host unchanged. */
#ifndef IMS_LX_ERRNO_H
#define IMS_LX_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define EDOM 33
#define ERANGE 34
#define EOVERFLOW 75
#define EPROTOTYPE 91
#define EOPNOTSUPP 95
#define EADDRINUSE 98
#define ETIMEDOUT 110
/* Kernel-internal (never seen by user space). */
#define ENOTSUPP 524

#endif
