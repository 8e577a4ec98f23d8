/* The AMD v1 walker's glue, the half that includes the kernel tree's AMD
 * driver headers (amd_iommu_types.h, amd_iommu.h): it is compiled like the
 * kernel's own files, against the compatibility headers. It allocates the
 * driver's struct protection_domain around the page table, as the driver
 * does, and defines the driver functions and the variable io_pgtable.c
 * uses. See amd_v1.h.
 *
 * This file is ours (MIT, as the repository); the shared object built
 * from it contains the kernel's io_pgtable.c and is a GPL-2.0 work
 * (docs/linux.md).
 */
/* What io_pgtable.c includes before the driver headers, which rely on it. */
#include <linux/io-pgtable.h>
#include <linux/kernel.h>
#include <linux/seqlock.h>
#include <linux/slab.h>

#include "amd_iommu_types.h"
#include "amd_iommu.h"

#include "amd_v1.h"

/* The v1 page sizes (init.c's default): every power of two from 4 KiB to
 * 2^51 but 512 GiB. A variable because io_pgtable.c reads it by name; it
 * never changes. */
unsigned long amd_iommu_pgsize_bitmap = AMD_IOMMU_PGSIZES;

uint64_t ims_amd_pgsizes(void)
{
	return AMD_IOMMU_PGSIZES;
}

static void *cookie_of(struct protection_domain *domain)
{
	return domain->iop.pgtbl.cookie;
}

void amd_iommu_domain_flush_pages(struct protection_domain *domain, u64 address, size_t size)
{
	ims_amd_flush_pages(cookie_of(domain), address, size);
}

void amd_iommu_update_and_flush_device_table(struct protection_domain *domain)
{
	ims_amd_dte_changed(cookie_of(domain), iommu_virt_to_phys(domain->iop.root),
			    (unsigned)domain->iop.mode);
}

struct ims_amd_pd *ims_amd_pd_new(void *cookie, uint16_t id, unsigned mode)
{
	struct protection_domain *domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		return NULL;
	spin_lock_init(&domain->lock);
	INIT_LIST_HEAD(&domain->dev_list);
	INIT_LIST_HEAD(&domain->dev_data_list);
	domain->id = id;
	domain->pd_mode = PD_MODE_V1;
	domain->domain.type = IOMMU_DOMAIN_UNMANAGED;
	/* pdom_setup_pgtable / alloc_io_pgtable_ops(AMD_IOMMU_V1, cfg, domain) */
	domain->iop.pgtbl.cfg.amd.nid = NUMA_NO_NODE;
	domain->iop.pgtbl.cfg.coherent_walk = true;
	struct io_pgtable *iop =
		io_pgtable_amd_iommu_v1_init_fns.alloc(&domain->iop.pgtbl.cfg, domain);
	if (!iop) {
		kfree(domain);
		return NULL;
	}
	iop->fmt = AMD_IOMMU_V1;
	iop->cookie = cookie;
	/* The table starts at 3 levels and grows on demand; the simulator's
	 * domain has its DTE Mode fixed when it is created, so an empty table
	 * starts at that mode (what growing an empty table to it would give,
	 * less the chain of empty tables). */
	domain->iop.mode = (int)mode;
	domain->domain.pgsize_bitmap = domain->iop.pgtbl.cfg.pgsize_bitmap;
	return (struct ims_amd_pd *)domain;
}

void ims_amd_pd_free(struct ims_amd_pd *pd)
{
	struct protection_domain *domain = (struct protection_domain *)pd;
	io_pgtable_amd_iommu_v1_init_fns.free(&domain->iop.pgtbl);
	kfree(domain);
}

struct io_pgtable_ops *ims_amd_pd_ops(struct ims_amd_pd *pd)
{
	return &((struct protection_domain *)pd)->iop.pgtbl.ops;
}

uint64_t ims_amd_pd_root(struct ims_amd_pd *pd)
{
	return iommu_virt_to_phys(((struct protection_domain *)pd)->iop.root);
}

unsigned ims_amd_pd_mode(struct ims_amd_pd *pd)
{
	return (unsigned)((struct protection_domain *)pd)->iop.mode;
}
