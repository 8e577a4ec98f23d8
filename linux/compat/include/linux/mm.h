/* Stand-in for <linux/mm.h>: from a table address to its descriptor. */
#ifndef IMS_LX_MM_H
#define IMS_LX_MM_H

#include <asm/page.h>
#include <linux/mm_types.h>

static inline struct folio *virt_to_folio(const void *virt)
{
	return (struct folio *)ims_lx_desc(virt);
}

static inline void *folio_address(const struct folio *folio)
{
	return ims_lx_desc_virt(folio);
}

#endif
