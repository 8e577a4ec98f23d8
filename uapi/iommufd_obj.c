/* The iommufd front end's object lookups, shared by its files (uapi/
 * iommufd.c, iommufd_nested.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uapi/iommufd_int.h"

/* Grows *v (of *cap elements of size sz) to hold one more. */
int iommufd_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 4;
	void *p = realloc(*v, c * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

struct dev *iommufd_dev_find(struct ims_iommufd *fd, uint32_t id)
{
	for (size_t i = 0; i < fd->ndev; i++)
		if (fd->dev[i].id == id)
			return &fd->dev[i];
	return NULL;
}

struct hwpt *iommufd_hwpt_find(struct ims_iommufd *fd, uint32_t id)
{
	for (size_t i = 0; i < fd->nhwpt; i++)
		if (fd->hwpt[i].id == id)
			return &fd->hwpt[i];
	return NULL;
}

struct viommu *iommufd_viommu_find(struct ims_iommufd *fd, uint32_t id)
{
	for (size_t i = 0; i < fd->nviommu; i++)
		if (fd->viommu[i].id == id)
			return &fd->viommu[i];
	return NULL;
}

int iommufd_driver(enum ims_format f)
{
	switch (f) {
	case IMS_FMT_VTD:
	case IMS_FMT_VTD_FS:
		return DRV_INTEL;
	case IMS_FMT_SMMUV3:
	case IMS_FMT_SMMUV3_S2:
		return DRV_ARM;
	default:
		return DRV_AMD;
	}
}

int iommufd_copy_struct(void *dst, size_t ksize, const void *src, size_t usize)
{
	if (!src)
		return -EFAULT;
	const unsigned char *s = src;
	for (size_t i = ksize; i < usize; i++)
		if (s[i])
			return -E2BIG;
	memset(dst, 0, ksize);
	memcpy(dst, src, usize < ksize ? usize : ksize);
	return 0;
}
