/* iommufd nesting (docs/uapi.md, "Nesting"): nested HWPT allocation over a
 * NEST_PARENT HWPT with each vendor's data checked, attach, and
 * IOMMU_HWPT_INVALIDATE. The rules, and the order they are checked in, are
 * Linux 7.2's: drivers/iommu/iommufd/hw_pagetable.c (iommufd_hwpt_alloc,
 * iommufd_hwpt_nested_alloc, iommufd_hwpt_invalidate),
 * include/linux/iommu.h (iommu_copy_struct_from_user*), and the drivers'
 * drivers/iommu/intel/nested.c, arm/arm-smmu-v3/arm-smmu-v3-iommufd.c and
 * amd/nested.c. Only VT-d allocates a nested domain with pt_id the parent
 * HWPT (intel_iommu_ops.domain_alloc_nested); SMMUv3 does through a vIOMMU
 * (iommufd_viommu.c), AMD not at all in 7.2; the drivers' checks of the
 * vendor data are iommufd_vendor.c. The legacy reading (old trace
 * lines) keeps iommusim's earlier pt_id = parent for every vendor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uapi/iommufd_int.h"

int ims_iommufd_nest_s1(enum ims_format s2)
{
	switch (s2) {
	case IMS_FMT_VTD: /* VT-d 3.4 9.6: PASID entry PGTT=011b, nested */
		return IMS_FMT_VTD_FS;
	case IMS_FMT_SMMUV3_S2: /* IHI0070 5.2: STE.Config = 0b111 */
		return IMS_FMT_SMMUV3;
	case IMS_FMT_AMDV1: /* AMD 48882 2.2.6: DTE Mode != 0 with GV = 1 */
		return IMS_FMT_AMDV2;
	default:
		return -1;
	}
}

int iommufd_nested_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
			 const struct dev *d, char *err, size_t errlen)
{
	if (cmd->pt_is_viommu)
		return iommufd_viommu_nested_alloc(fd, cmd, d, err, errlen);
	/* hw_pagetable.c, iommufd_hwpt_alloc(): a pt_id that is no object, or
	 * one that is neither an IOAS, a paging HWPT nor a vIOMMU (a nested
	 * HWPT), is EINVAL. */
	struct hwpt *p = iommufd_hwpt_find(fd, cmd->pt_id);
	if (!p || p->nested)
		return -EINVAL;
	/* iommufd_hwpt_nested_alloc(): no allocation flag but FAULT_ID_VALID
	 * and PASID (so DIRTY_TRACKING and NEST_PARENT are EOPNOTSUPP), some
	 * data, and a driver with domain_alloc_nested: VT-d's only (the ARM
	 * and AMD drivers nest through a vIOMMU), unless legacy. */
	int drv = iommufd_driver(d->info.fmt);
	bool legacy = cmd->legacy && drv != DRV_INTEL;
	if (cmd->flags || !cmd->data_len || (drv != DRV_INTEL && !legacy))
		return -EOPNOTSUPP;
	/* The parent was allocated as one, by this device's driver. */
	enum ims_format s2 = ims_pt_format(p->pt);
	if (!p->nest_parent || s2 != d->info.fmt)
		return -EINVAL;
	if (iommufd_hwpt_find(fd, cmd->hwpt_id))
		return -EEXIST;
	struct ims_iommufd_nested n = {.parent = cmd->pt_id, .legacy = legacy};
	int rc = iommufd_nested_data(s2, cmd, &n);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "the %s nesting driver refuses the vendor data",
				 ims_format_name(s2));
		return rc;
	}
	return iommufd_nested_put(fd, cmd, p->ioas, &n);
}

/* The vendor data type of a nesting parent's driver. */
static uint32_t vendor_type(enum ims_format s2)
{
	switch (iommufd_driver(s2)) {
	case DRV_INTEL:
		return IMS_IOMMU_HWPT_DATA_VTD_S1;
	case DRV_ARM:
		return IMS_IOMMU_HWPT_DATA_ARM_SMMUV3;
	default:
		return IMS_IOMMU_HWPT_DATA_AMD_GUEST;
	}
}

int iommufd_nested_attach(struct ims_iommufd *fd, const struct hwpt *h, const struct dev *d)
{
	if (ims_iommufd_nest_s1(d->info.fmt) < 0 || vendor_type(d->info.fmt) != h->n.data_type)
		return -EINVAL;
	/* arm-smmu-v3-iommufd.c, arm_smmu_attach_prepare_vmaster(): a
	 * translating (stage-1) nested domain of a vIOMMU needs the device's
	 * vDEVICE there (iommufd_viommu_get_vdev_id(): ENOENT); abort and
	 * bypass STEs do not. */
	if (h->n.on_viommu && h->n.data_type == IMS_IOMMU_HWPT_DATA_ARM_SMMUV3 &&
	    iommufd_arm_translates(&h->n)) {
		uint64_t vsid;
		const struct viommu *v = iommufd_viommu_find(fd, h->n.viommu);
		if (!v || iommufd_vdev_id(v, d->id, &vsid))
			return -ENOENT;
	}
	/* intel/pasid.c, intel_pasid_setup_nested(): a first-stage table of 4
	 * or 5 levels (VT-d 3.4 9.6, PASID entry FSPM), checked at attach. */
	if (h->n.data_type == IMS_IOMMU_HWPT_DATA_VTD_S1 && h->n.u.vtd.addr_width != 48 &&
	    h->n.u.vtd.addr_width != 57)
		return -EINVAL;
	return 0;
}

int ims_iommufd_hwpt_nested(struct ims_iommufd *fd, uint32_t hwpt_id, struct ims_iommufd_nested *out)
{
	const struct hwpt *h = iommufd_hwpt_find(fd, hwpt_id);
	if (!h || !h->nested)
		return -ENOENT;
	*out = h->n;
	return 0;
}

static int inv_range(struct ims_iommufd_invalidate *c, uint64_t iova, uint64_t size, bool leaf)
{
	return c->inv ? c->inv(c->arg, c->hwpt_id, iova, size, leaf) : 0;
}

/* intel/nested.c, intel_nested_cache_invalidate_user(): entry by entry,
 * each copied by iommu_copy_struct_from_user_array(). */
static int vtd_invalidate(struct ims_iommufd_invalidate *c, uint32_t *done)
{
	if (c->data_type != IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
		return -EINVAL;
	const unsigned char *p = c->data;
	for (uint32_t i = 0; i < c->entry_num; i++) {
		struct ims_iommu_hwpt_vtd_s1_invalidate e;
		int rc = iommufd_copy_user_data(&e, sizeof(e), 24, c->data_type,
					IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
					p + (size_t)i * c->entry_len, c->entry_len);
		if (rc)
			return rc;
		if ((e.flags & ~(uint32_t)IMS_IOMMU_VTD_INV_FLAGS_LEAF) || e.reserved)
			return -EOPNOTSUPP;
		if ((e.addr & 0xfff) || (e.npages == UINT64_MAX && e.addr))
			return -EINVAL;
		/* npages of 4 KiB from addr; past 2^64 (UINT64_MAX: everything)
		 * is the whole space. */
		uint64_t room = e.addr ? (0 - e.addr) >> 12 : 1ull << 52;
		uint64_t size = e.npages >= room ? 0 - e.addr : e.npages << 12; /* 0: all */
		if (e.npages && (rc = inv_range(c, e.addr, size,
						(e.flags & IMS_IOMMU_VTD_INV_FLAGS_LEAF) != 0)))
			return rc;
		(*done)++;
	}
	return 0;
}

/* hw_pagetable.c, IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX, and entry_len's cap
 * of PAGE_SIZE (4 KiB here). */
#define INV_ENTRY_NUM_MAX (1u << 19)
#define INV_ENTRY_LEN_MAX 4096u

int ims_iommufd_invalidate(struct ims_iommufd *fd, struct ims_iommufd_invalidate *cmd)
{
	uint32_t done = 0;
	int rc;
	/* hw_pagetable.c, iommufd_hwpt_invalidate(). */
	if (cmd->reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data || !cmd->entry_len || cmd->entry_len > INV_ENTRY_LEN_MAX ||
			       cmd->entry_num > INV_ENTRY_NUM_MAX)) {
		rc = -EINVAL;
		goto out;
	}
	if (cmd->is_viommu) {
		const struct viommu *v = iommufd_viommu_find(fd, cmd->hwpt_id);
		if (!v)
			rc = -ENOENT;
		else if (v->driver != DRV_ARM) /* AMD's amd_viommu_ops: no cache_invalidate */
			rc = -EOPNOTSUPP;
		else
			rc = iommufd_arm_invalidate(fd, v, cmd, &done);
		goto out;
	}
	const struct hwpt *h = iommufd_hwpt_find(fd, cmd->hwpt_id);
	if (!h) {
		rc = -ENOENT;
		goto out;
	}
	if (!h->nested) { /* a paging HWPT has no user invalidation */
		rc = -EINVAL;
		goto out;
	}
	switch (h->n.data_type) {
	case IMS_IOMMU_HWPT_DATA_VTD_S1:
		rc = vtd_invalidate(cmd, &done);
		break;
	case IMS_IOMMU_HWPT_DATA_ARM_SMMUV3:
		/* arm_smmu_nested_ops has no cache_invalidate_user: the commands
		 * go to the vIOMMU. A legacy nested HWPT takes them itself. */
		rc = h->n.legacy ? iommufd_arm_invalidate(fd, NULL, cmd, &done) : -EOPNOTSUPP;
		break;
	default:
		/* amd/nested.c's nested_domain_ops have no cache_invalidate_user. */
		rc = -EOPNOTSUPP;
		break;
	}
out:
	cmd->entry_num = done;
	return rc;
}
