/* The iommufd front end's objects, shared by its files (uapi/ only). */
#ifndef IMS_UAPI_IOMMUFD_INT_H
#define IMS_UAPI_IOMMUFD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "iommusim/iommufd.h"

struct area {
	uint64_t iova, length, pa;
	unsigned prot;
};

struct ioas {
	uint32_t id;
	struct area *a;
	size_t n, cap;
};

struct hwpt {
	uint16_t id;
	uint32_t ioas;
	bool dirty; /* allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING */
	struct ims_pt *pt; /* NULL for a nested HWPT: the guest owns stage 1 */
	bool nest_parent;  /* allocated with IOMMU_HWPT_ALLOC_NEST_PARENT */
	bool nested;
	struct ims_iommufd_nested n; /* nested: parent and vendor data */
};

struct dev {
	uint32_t id;
	struct ims_iommufd_hw_info info;
	bool attached;
	uint16_t hwpt;
};

struct ims_iommufd {
	struct ims_mem *mem;
	struct ims_sink sink;
	struct dev *dev;
	size_t ndev, capdev;
	struct ioas *ioas;
	size_t nioas, capioas;
	struct hwpt *hwpt;
	size_t nhwpt, caphwpt;
	unsigned walker; /* of every HWPT allocated from now on */
	const struct ims_walker_ops *plugin;
};

struct dev *iommufd_dev_find(struct ims_iommufd *fd, uint32_t id);
struct hwpt *iommufd_hwpt_find(struct ims_iommufd *fd, uint32_t id);
int iommufd_grow(void **v, size_t *cap, size_t n, size_t sz);
/* IOMMU_HWPT_ALLOC with pt_id a HWPT (iommufd_nested.c). */
int iommufd_nested_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
			 const struct dev *d, char *err, size_t errlen);
/* Attach to a nested HWPT: the vendor checks Linux makes then. */
int iommufd_nested_attach(const struct hwpt *h, const struct dev *d);

#endif
