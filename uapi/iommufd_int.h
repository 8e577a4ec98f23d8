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

/* A vDEVICE: a device's virtual id on a vIOMMU. */
struct vdev {
	uint64_t virt_id;
	uint32_t dev;
};

struct viommu {
	uint32_t id, type;
	uint32_t hwpt; /* the nesting parent */
	int driver;    /* the IOMMU it belongs to (iommufd_driver()) */
	struct vdev *v;
	size_t n, cap;
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
	struct viommu *viommu;
	size_t nviommu, capviommu;
	unsigned walker; /* of every HWPT allocated from now on */
	const struct ims_walker_ops *plugin;
};

struct dev *iommufd_dev_find(struct ims_iommufd *fd, uint32_t id);
struct hwpt *iommufd_hwpt_find(struct ims_iommufd *fd, uint32_t id);
struct viommu *iommufd_viommu_find(struct ims_iommufd *fd, uint32_t id);
/* The IOMMU driver of a format (enum iommufd_drv): iommusim has one IOMMU
 * instance per driver, so it is also "the device's IOMMU". */
enum iommufd_drv { DRV_INTEL, DRV_ARM, DRV_AMD };
int iommufd_driver(enum ims_format f);
int iommufd_grow(void **v, size_t *cap, size_t n, size_t sz);
/* IOMMU_HWPT_ALLOC with pt_id a HWPT (iommufd_nested.c). */
int iommufd_nested_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
			 const struct dev *d, char *err, size_t errlen);
/* IOMMU_HWPT_ALLOC with pt_id a vIOMMU (iommufd_viommu.c). */
int iommufd_viommu_nested_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
				const struct dev *d, char *err, size_t errlen);
/* __iommu_copy_struct_from_user(): data of type `type` (the driver's:
 * want) and usize bytes, from min to ksize, else -EINVAL
 * (iommufd_vendor.c). */
int iommufd_copy_user_data(void *dst, size_t ksize, size_t min, uint32_t type, uint32_t want,
			   const void *src, size_t usize);
/* The driver's nested domain allocation: checks the vendor data into *n
 * (iommufd_vendor.c). */
int iommufd_nested_data(enum ims_format s2, const struct ims_iommufd_hwpt_alloc *cmd,
			struct ims_iommufd_nested *n);
/* Stores a nested HWPT (iommufd_vendor.c). */
int iommufd_nested_put(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
		       uint32_t ioas, const struct ims_iommufd_nested *n);
/* copy_struct_from_user(): usize bytes at src into a ksize-byte struct;
 * a longer one must be zero past it (-E2BIG), a shorter one reads as
 * zero-extended. */
int iommufd_copy_struct(void *dst, size_t ksize, const void *src, size_t usize);
/* An SMMUv3 nested HWPT whose STE translates (Config = stage 1). */
bool iommufd_arm_translates(const struct ims_iommufd_nested *n);
/* A device's vDEVICE id on a vIOMMU; -ENOENT if none. */
int iommufd_vdev_id(const struct viommu *v, uint32_t dev, uint64_t *virt_id);
/* arm_vsmmu_cache_invalidate() (iommufd_viommu.c): v NULL for a legacy
 * nested HWPT (no vSID check). */
int iommufd_arm_invalidate(struct ims_iommufd *fd, const struct viommu *v,
			   struct ims_iommufd_invalidate *c, uint32_t *done);
/* Attach to a nested HWPT: the vendor checks Linux makes then. */
int iommufd_nested_attach(struct ims_iommufd *fd, const struct hwpt *h, const struct dev *d);

#endif
