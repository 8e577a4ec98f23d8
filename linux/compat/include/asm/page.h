/* Stand-in for <asm/page.h> (linux/compat): 4 KiB pages, and the linear
 * map of a table's physical address (__va) onto the host's storage of the
 * frame (ims_lx.h). */
#ifndef IMS_LX_ASM_PAGE_H
#define IMS_LX_ASM_PAGE_H

#include "ims_lx.h"
/* x86's page.h brings ilog2() (through asm-generic/getorder.h). */
#include <linux/log2.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define __va(pa) ims_lx_phys_to_virt((uint64_t)(pa))
#define __pa(va) ims_lx_virt_to_phys((const void *)(va))

#endif
