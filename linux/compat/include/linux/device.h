/* Stand-in for <linux/device.h>: devices are the model's; the kernel code
 * only passes the pointer along. */
#ifndef IMS_LX_DEVICE_H
#define IMS_LX_DEVICE_H

struct device;

#endif
