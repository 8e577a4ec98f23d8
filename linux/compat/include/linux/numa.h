/* Stand-in for <linux/numa.h>. */
#ifndef IMS_LX_NUMA_H
#define IMS_LX_NUMA_H

#define NUMA_NO_NODE (-1)

#endif
