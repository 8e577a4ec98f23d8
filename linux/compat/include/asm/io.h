/* Stand-in for <asm/io.h> (linux/compat). */
#ifndef IMS_LX_ASM_IO_H
#define IMS_LX_ASM_IO_H

#include <asm/page.h>

static inline phys_addr_t virt_to_phys(const volatile void *address)
{
	return ims_lx_virt_to_phys(address);
}

static inline void *phys_to_virt(phys_addr_t address)
{
	return ims_lx_phys_to_virt(address);
}

#endif
