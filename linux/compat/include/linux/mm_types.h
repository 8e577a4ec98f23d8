/* Stand-in for <linux/mm_types.h> (linux/compat): a page descriptor per
 * table allocation of the runtime (ims_lx.h). Its head follows the kernel's
 * struct page closely enough for the code that overlays its own descriptor
 * on a page (iommu-pages.h's struct ioptdesc of 6.15 and later: list at
 * offset 8, a flag word after it); the runtime's own fields come after. */
#ifndef IMS_LX_LINUX_MM_TYPES_H
#define IMS_LX_LINUX_MM_TYPES_H

#include <linux/types.h>

struct page {
	unsigned long flags;
	struct list_head lru;
	unsigned long mapping;
	unsigned long index;
	void *private_data;
	unsigned int page_type;
	atomic_t refcount;
	unsigned long memcg_data;
	unsigned long spare[4];
	/* the runtime's */
	uint64_t ims_pa;
	void *ims_virt;
	unsigned ims_order;
};

struct folio {
	struct page page;
};

#endif
