/* The iommufd front end's object lookups, shared by its files (uapi/
 * iommufd.c, iommufd_nested.c). */
#include <errno.h>
#include <stdlib.h>

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
