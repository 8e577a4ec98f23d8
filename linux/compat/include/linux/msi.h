/* Stand-in for <linux/msi.h> (linux/compat): the message type only. */
#ifndef IMS_LX_LINUX_MSI_H
#define IMS_LX_LINUX_MSI_H

#include <linux/types.h>

struct msi_msg {
	u32 address_lo;
	u32 address_hi;
	u32 data;
};

#endif
