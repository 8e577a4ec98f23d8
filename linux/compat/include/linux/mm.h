/* Stand-in for <linux/mm.h> (linux/compat): page descriptors, addresses
 * and orders over the runtime's table pages (ims_lx.h). */
#ifndef IMS_LX_LINUX_MM_H
#define IMS_LX_LINUX_MM_H

#include <asm/io.h>
#include <asm/page.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/vmstat.h>

#define PAGE_ALIGN(addr) ALIGN((addr), PAGE_SIZE)
#define PAGE_ALIGNED(addr) IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)

/* Order of the smallest power-of-two number of pages holding size bytes. */
static inline int get_order(unsigned long size)
{
	if (size <= PAGE_SIZE)
		return 0;
	return fls64((size - 1) >> PAGE_SHIFT);
}

static inline void *page_address(const struct page *page)
{
	return ims_lx_page_address(page);
}

#define lowmem_page_address page_address
#define page_to_virt page_address

static inline struct page *virt_to_page(const void *addr)
{
	return ims_lx_virt_to_page(addr);
}

static inline phys_addr_t page_to_phys(const struct page *page)
{
	return page->ims_pa;
}

static inline struct folio *virt_to_folio(const void *addr)
{
	return (struct folio *)ims_lx_virt_to_page(addr);
}

static inline void *folio_address(const struct folio *folio)
{
	return ims_lx_page_address(&folio->page);
}

static inline struct page *folio_page(struct folio *folio, unsigned long n)
{
	(void)n;
	return &folio->page;
}

static inline struct folio *page_folio(struct page *page)
{
	return (struct folio *)page;
}

static inline unsigned int folio_order(const struct folio *folio)
{
	return ims_lx_page_order(&folio->page);
}

/* Frees the pages: every table page the runtime hands out has one user. */
static inline void put_page(struct page *page)
{
	ims_lx_free_pages(page, ims_lx_page_order(page));
}

static inline void folio_put(struct folio *folio)
{
	put_page(&folio->page);
}

static inline int page_to_nid(const struct page *page)
{
	(void)page;
	return 0;
}


#endif
