/* Stand-in for <asm/page.h>: 4 KiB pages; __va and virt_to_phys over the
 * current domain's table frames (ims_linux.h). Only table memory has a
 * physical address here. */
#ifndef IMS_LX_ASM_PAGE_H
#define IMS_LX_ASM_PAGE_H

#include <linux/types.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define __va(pa) ims_lx_va((u64)(pa))
#define __pa(p) ((phys_addr_t)ims_lx_pa(p))
#define virt_to_phys(p) ((phys_addr_t)ims_lx_pa(p))
#define phys_to_virt(pa) ims_lx_va((u64)(pa))

#endif
