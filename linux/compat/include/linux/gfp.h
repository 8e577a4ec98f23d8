/* Stand-in for <linux/gfp.h> (linux/compat): page allocation is table
 * allocation from the host's pool (host->alloc_table), always zeroed. */
#ifndef IMS_LX_LINUX_GFP_H
#define IMS_LX_LINUX_GFP_H

#include "ims_lx.h"
#include <linux/mm_types.h>
#include <linux/numa.h>
#include <linux/types.h>

#define __GFP_DMA 0x01u
#define __GFP_HIGHMEM 0x02u
#define __GFP_DMA32 0x04u
#define __GFP_ZERO 0x100u
#define __GFP_NOWARN 0x200u
#define __GFP_NORETRY 0x400u
#define __GFP_ACCOUNT 0x800u
#define __GFP_COMP 0x1000u
#define __GFP_NOFAIL 0x2000u
#define __GFP_DIRECT_RECLAIM 0x4000u
#define GFP_ATOMIC 0x10u
#define GFP_NOWAIT 0x20u
#define GFP_KERNEL (0x40u | __GFP_DIRECT_RECLAIM)
#define GFP_NOIO 0x80u
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_DMA __GFP_DMA
#define GFP_DMA32 __GFP_DMA32

static inline bool gfpflags_allow_blocking(gfp_t gfp)
{
	return (gfp & __GFP_DIRECT_RECLAIM) != 0;
}

static inline struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	(void)gfp;
	return ims_lx_alloc_pages(order);
}

static inline struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	(void)nid;
	return alloc_pages(gfp, order);
}

static inline struct page *alloc_page(gfp_t gfp)
{
	return alloc_pages(gfp, 0);
}

static inline void __free_pages(struct page *page, unsigned int order)
{
	ims_lx_free_pages(page, order);
}

#define __free_page(page) __free_pages((page), 0)

static inline unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *pg = alloc_pages(gfp, order);
	return pg ? (unsigned long)ims_lx_page_address(pg) : 0;
}

static inline unsigned long get_zeroed_page(gfp_t gfp)
{
	return __get_free_pages(gfp, 0);
}

static inline void free_pages(unsigned long addr, unsigned int order)
{
	if (addr)
		ims_lx_free_pages(ims_lx_virt_to_page((const void *)addr), order);
}

#define free_page(addr) free_pages((addr), 0)

#endif
