/* Stand-in for <linux/device.h> (linux/compat): the IOMMU's struct device
 * the page-table code only passes to the DMA API and to dev_*() messages. */
#ifndef IMS_LX_LINUX_DEVICE_H
#define IMS_LX_LINUX_DEVICE_H

#include <linux/numa.h>
#include <linux/ratelimit.h>
#include <linux/printk.h>
#include <linux/types.h>

struct device {
	int numa_node;
	void *driver_data;
};

static inline int dev_to_node(const struct device *dev)
{
	return dev ? dev->numa_node : NUMA_NO_NODE;
}

static inline void set_dev_node(struct device *dev, int node)
{
	dev->numa_node = node;
}

#ifndef dev_fmt
#define dev_fmt(fmt) fmt
#endif
#define dev_err(dev, fmt, ...) ((void)(dev), ims_lx_printk(dev_fmt(fmt), ##__VA_ARGS__))
#define dev_warn(dev, fmt, ...) ((void)(dev), ims_lx_printk(dev_fmt(fmt), ##__VA_ARGS__))
#define dev_info(dev, fmt, ...) ((void)(dev), ims_lx_no_printk(dev_fmt(fmt), ##__VA_ARGS__))
#define dev_dbg(dev, fmt, ...) ((void)(dev), ims_lx_no_printk(dev_fmt(fmt), ##__VA_ARGS__))
#define dev_err_once dev_err
#define dev_warn_once dev_warn
#define dev_err_ratelimited dev_err

#endif
