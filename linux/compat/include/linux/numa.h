/* Stand-in for <linux/numa.h> (linux/compat). */
#ifndef IMS_LX_LINUX_NUMA_H
#define IMS_LX_LINUX_NUMA_H

#define NUMA_NO_NODE (-1)
#define MAX_NUMNODES 1

#endif
