/* Between the two halves of the AMD v1 walker's glue: amd_v1_kernel.c,
 * which includes the kernel tree's AMD driver headers (for the layout of
 * struct protection_domain, in which the page-table code finds its io_pgtable
 * with container_of) and defines what io_pgtable.c calls in the driver;
 * and amd_v1.c, the walker ABI's side. Ours (MIT, as the repository); the
 * shared object they are linked into is a GPL-2.0 work (docs/linux.md). */
#ifndef IMS_LX_AMD_V1_H
#define IMS_LX_AMD_V1_H

#include <stdbool.h>
#include <stdint.h>

struct io_pgtable_ops;
struct ims_amd_pd; /* the kernel's struct protection_domain */

/* A v1 protection domain with its page table (io_pgtable_amd_iommu_v1's
 * alloc), its table started at `mode` levels; `cookie` is handed back to
 * the callbacks below. NULL when the kernel code refuses. Call with the
 * runtime's current domain set (ims_lx_enter). */
struct ims_amd_pd *ims_amd_pd_new(void *cookie, uint16_t id, unsigned mode);
void ims_amd_pd_free(struct ims_amd_pd *pd);
struct io_pgtable_ops *ims_amd_pd_ops(struct ims_amd_pd *pd);
/* The table's root (physical) and mode, as the driver's DTE has them. */
uint64_t ims_amd_pd_root(struct ims_amd_pd *pd);
unsigned ims_amd_pd_mode(struct ims_amd_pd *pd);
/* amd_iommu_pgsize_bitmap of a v1 domain. */
uint64_t ims_amd_pgsizes(void);

/* The driver functions io_pgtable.c calls, done by amd_v1.c:
 * amd_iommu_domain_flush_pages (an INVALIDATE_IOMMU_PAGES of the range
 * and the wait for it) and amd_iommu_update_and_flush_device_table (the
 * table grew: the DTE's mode and root change). */
void ims_amd_flush_pages(void *cookie, uint64_t address, uint64_t size);
void ims_amd_dte_changed(void *cookie, uint64_t root, unsigned mode);

#endif
