/* Stand-in for <linux/pci.h> (linux/compat): PCI devices appear in driver
 * headers only by pointer. */
#ifndef IMS_LX_LINUX_PCI_H
#define IMS_LX_LINUX_PCI_H

#include <linux/device.h>
#include <linux/types.h>

struct pci_bus;

struct pci_dev {
	struct device dev;
	struct pci_bus *bus;
	unsigned int devfn;
	unsigned short vendor;
	unsigned short device;
};

#define PCI_VENDOR_ID_ATI 0x1002
#define PCI_DEVICE_ID_RD890_IOMMU 0x5a23

static inline int pci_domain_nr(struct pci_bus *bus)
{
	(void)bus;
	return 0;
}

static inline u16 pci_dev_id(struct pci_dev *dev)
{
	return (u16)dev->devfn;
}

#define PCI_DEVID(bus, devfn) ((((u16)(bus)) << 8) | (devfn))
#define PCI_BUS_NUM(x) (((x) >> 8) & 0xff)
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 0x07)

#endif
