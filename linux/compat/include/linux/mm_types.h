/* Stand-in for <linux/mm_types.h>: the page descriptor. A table allocation
 * carries one (ims_linux.h, ims_lx_desc): storage the kernel's per-page
 * bookkeeping overlays (struct ioptdesc keeps its free-list link there). */
#ifndef IMS_LX_MM_TYPES_H
#define IMS_LX_MM_TYPES_H

#include <linux/types.h>

struct folio {
	unsigned long ims_words[ims_lx_desc_words];
};

struct page {
	unsigned long ims_words[ims_lx_desc_words];
};

#endif
