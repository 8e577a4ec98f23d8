/* Stand-in for <linux/errno.h> (linux/compat). The values are Linux's, the
 * ones the C library uses on this host, so a kernel -errno is the walker
 * ABI's -errno. Defined here rather than by including <errno.h>: the C
 * library's <errno.h> includes <linux/errno.h> itself. */
#ifndef IMS_LX_LINUX_ERRNO_H
#define IMS_LX_LINUX_ERRNO_H

#ifndef EPERM
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#endif
/* generic_pt's (iommu_pt.h, pt_iter.h). */
#ifndef EPROTOTYPE
#define EPROTOTYPE 91
#endif
#ifndef EADDRINUSE
#define EADDRINUSE 98
#endif
#define ENOTSUPP 524

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

#endif
