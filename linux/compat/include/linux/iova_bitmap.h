/* Stand-in for <linux/iova_bitmap.h> (linux/compat). iommufd's bitmap of
 * dirty IOVAs is, here, the host's harvest output: a struct iova_bitmap *
 * is a struct ims_walker_dirty * (the glue passes one for the other). */
#ifndef IMS_LX_LINUX_IOVA_BITMAP_H
#define IMS_LX_LINUX_IOVA_BITMAP_H

#include <stddef.h>

struct iova_bitmap;

void iova_bitmap_set(struct iova_bitmap *bitmap, unsigned long iova, size_t length);

#endif
