/* iommufd vIOMMU objects (docs/uapi.md, "Nesting"): IOMMU_VIOMMU_ALLOC,
 * IOMMU_VDEVICE_ALLOC, IOMMU_HWPT_ALLOC with pt_id a vIOMMU, and the
 * SMMUv3 invalidation commands a vIOMMU takes. The rules, and the order
 * they are checked in, are Linux 7.2's: drivers/iommu/iommufd/viommu.c
 * (iommufd_viommu_alloc_ioctl, iommufd_vdevice_alloc_ioctl),
 * hw_pagetable.c (iommufd_hwpt_alloc, iommufd_viommu_alloc_hwpt_nested),
 * and the drivers' get_viommu_size / viommu_init / viommu ops:
 * arm/arm-smmu-v3/arm-smmu-v3-iommufd.c and amd/iommufd.c (the Intel
 * driver has none).
 *
 * iommusim has one IOMMU per driver (iommufd_driver()): "the device's
 * IOMMU" (Linux's viommu->iommu_dev) is its driver.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uapi/iommufd_int.h"

int ims_iommufd_viommu_alloc(struct ims_iommufd *fd, const struct ims_iommufd_viommu_alloc *cmd)
{
	/* viommu.c, iommufd_viommu_alloc_ioctl(). */
	if (cmd->flags || cmd->type == IMS_IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	const struct dev *d = iommufd_dev_find(fd, cmd->dev_id);
	if (!d)
		return -ENOENT;
	int drv = iommufd_driver(d->info.fmt);
	/* ops->get_viommu_size / viommu_init: intel_iommu_ops has neither. */
	if (drv == DRV_INTEL)
		return -EOPNOTSUPP;
	/* arm_smmu_get_viommu_size(): an SMMU with FEAT_NESTING (iommusim: one
	 * whose domains are stage 2, as for NEST_PARENT) and the type
	 * ARM_SMMUV3 (an implementation's types, TEGRA241_CMDQV, need its
	 * impl_ops, which no modelled SMMU has); 0 is EOPNOTSUPP. Its CANWBS /
	 * S2FWB condition holds: every modelled device is coherent.
	 * amd_iommufd_get_viommu_size() takes any type. */
	if (drv == DRV_ARM &&
	    (d->info.fmt != IMS_FMT_SMMUV3_S2 || cmd->type != IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3))
		return -EOPNOTSUPP;
	/* iommufd_get_hwpt_paging(): an IOAS, a nested HWPT or no object at
	 * all is ENOENT. */
	const struct hwpt *h = iommufd_hwpt_find(fd, cmd->hwpt_id);
	if (!h || h->nested)
		return -ENOENT;
	if (!h->nest_parent)
		return -EINVAL;
	if (iommufd_viommu_find(fd, cmd->viommu_id))
		return -EEXIST;
	/* arm_vsmmu_init(): a parent of another SMMU is EINVAL.
	 * amd_iommufd_viommu_init() checks nothing: a parent of another
	 * driver is iommusim's EINVAL too (there, Linux would misread it). */
	if (iommufd_driver(ims_pt_format(h->pt)) != drv)
		return -EINVAL;
	if (iommufd_grow((void **)&fd->viommu, &fd->capviommu, fd->nviommu, sizeof(*fd->viommu)))
		return -ENOMEM;
	fd->viommu[fd->nviommu++] = (struct viommu){.id = cmd->viommu_id, .type = cmd->type,
						     .hwpt = h->id, .driver = drv};
	return 0;
}

int iommufd_vdev_id(const struct viommu *v, uint32_t dev, uint64_t *virt_id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].dev == dev) {
			*virt_id = v->v[i].virt_id;
			return 0;
		}
	return -ENOENT;
}

/* The device behind virtual id virt_id on v, or NULL
 * (iommufd_viommu_find_dev()). */
static const struct vdev *vdev_at(const struct viommu *v, uint64_t virt_id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].virt_id == virt_id)
			return &v->v[i];
	return NULL;
}

int ims_iommufd_vdevice_alloc(struct ims_iommufd *fd, uint32_t viommu_id, uint32_t dev_id,
			      uint64_t virt_id)
{
	/* viommu.c, iommufd_vdevice_alloc_ioctl(). virt_id above ULONG_MAX is
	 * EINVAL there: no 64-bit value is. */
	struct viommu *v = iommufd_viommu_find(fd, viommu_id);
	if (!v)
		return -ENOENT;
	const struct dev *d = iommufd_dev_find(fd, dev_id);
	if (!d)
		return -ENOENT;
	if (iommufd_driver(d->info.fmt) != v->driver)
		return -EINVAL;
	/* idev->vdev: one vDEVICE per device, on any vIOMMU. */
	uint64_t had;
	for (size_t i = 0; i < fd->nviommu; i++)
		if (!iommufd_vdev_id(&fd->viommu[i], dev_id, &had))
			return -EEXIST;
	/* xa_insert() into the vIOMMU's vdevs: a taken virt_id. */
	if (vdev_at(v, virt_id))
		return -EEXIST;
	/* arm_vsmmu_vdevice_init(): a device of more than one StreamID is
	 * EOPNOTSUPP; a modelled device has one. */
	if (iommufd_grow((void **)&v->v, &v->cap, v->n, sizeof(*v->v)))
		return -ENOMEM;
	v->v[v->n++] = (struct vdev){.virt_id = virt_id, .dev = dev_id};
	return 0;
}

int ims_iommufd_viommu_info(struct ims_iommufd *fd, uint32_t viommu_id, uint32_t *hwpt_id,
			    uint32_t *type)
{
	const struct viommu *v = iommufd_viommu_find(fd, viommu_id);
	if (!v)
		return -ENOENT;
	if (hwpt_id)
		*hwpt_id = v->hwpt;
	if (type)
		*type = v->type;
	return 0;
}

int iommufd_viommu_nested_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
				const struct dev *d, char *err, size_t errlen)
{
	/* hw_pagetable.c, iommufd_hwpt_alloc(): no such object is EINVAL; a
	 * vIOMMU of another IOMMU than the device's EINVAL. */
	const struct viommu *v = iommufd_viommu_find(fd, cmd->pt_id);
	if (!v || iommufd_driver(d->info.fmt) != v->driver)
		return -EINVAL;
	/* iommufd_viommu_alloc_hwpt_nested(): no flag but FAULT_ID_VALID and
	 * PASID, some data, and a vIOMMU with alloc_domain_nested: in 7.2
	 * amd_viommu_ops has none (amd/iommufd.c; amd/nested.c's
	 * amd_iommu_alloc_domain_nested() is not reached). */
	if (cmd->flags || !cmd->data_len || v->driver != DRV_ARM)
		return -EOPNOTSUPP;
	if (iommufd_hwpt_find(fd, cmd->hwpt_id))
		return -EEXIST;
	const struct hwpt *p = iommufd_hwpt_find(fd, v->hwpt);
	struct ims_iommufd_nested n = {.parent = v->hwpt, .on_viommu = true, .viommu = v->id};
	int rc = iommufd_nested_data(ims_pt_format(p->pt), cmd, &n);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "the vIOMMU's driver refuses the vendor data");
		return rc;
	}
	return iommufd_nested_put(fd, cmd, p->ioas, &n);
}

/* IHI0070 4.4 command opcodes (arm-smmu-v3.h CMDQ_OP_*) a guest may issue
 * (arm_vsmmu_convert_user_cmd(); any other is EIO). */
enum {
	CMD_CFGI_CD = 0x05,
	CMD_CFGI_CD_ALL = 0x06,
	CMD_TLBI_NH_ALL = 0x10,
	CMD_TLBI_NH_ASID = 0x11,
	CMD_TLBI_NH_VA = 0x12,
	CMD_TLBI_NH_VAA = 0x13,
	CMD_TLBI_NSNH_ALL = 0x30,
	CMD_ATC_INV = 0x40,
};
/* CMDQ_BATCH_ENTRIES (BITS_PER_LONG): commands go to the queue in runs
 * of one less than it. */
#define CMDQ_BATCH 64u

/* Hands one issued command to the caller, for every nested HWPT it
 * reaches: a vIOMMU's commands carry its VMID, so all of its nested
 * HWPTs (iommusim does not narrow by ASID or StreamID); a legacy nested
 * HWPT's reach only itself. */
static int arm_issue(struct ims_iommufd *fd, const struct viommu *v,
		     struct ims_iommufd_invalidate *c, const uint64_t cmd[2])
{
	if (!c->inv)
		return 0;
	uint64_t iova = 0, size = 0; /* size 0: everything */
	bool leaf = false;
	unsigned op = (unsigned)(cmd[0] & 0xff);
	if (op == CMD_ATC_INV)
		return 0; /* no ATC is modelled */
	if (op == CMD_TLBI_NH_VA || op == CMD_TLBI_NH_VAA) {
		iova = cmd[1] & ~0xfffull; /* IHI0070 4.4.2: Address[63:12], Leaf bit 0 */
		size = 0x1000;
		leaf = cmd[1] & 1;
	}
	if (!v)
		return c->inv(c->arg, c->hwpt_id, iova, size, leaf);
	for (size_t i = 0; i < fd->nhwpt; i++) {
		const struct hwpt *h = &fd->hwpt[i];
		if (!h->nested || !h->n.on_viommu || h->n.viommu != v->id)
			continue;
		int rc = c->inv(c->arg, h->id, iova, size, leaf);
		if (rc)
			return rc;
	}
	return 0;
}

/* arm_vsmmu_convert_user_cmd(): the opcode, and for CFGI_CD, CFGI_CD_ALL
 * and ATC_INV a virtual StreamID (bits 63:32) with a vDEVICE on the vIOMMU
 * (arm_vsmmu_vsid_to_sid()); EIO otherwise. A legacy nested HWPT has no
 * vIOMMU: its StreamIDs are not checked. */
static int arm_convert(const struct viommu *v, const uint64_t cmd[2])
{
	switch (cmd[0] & 0xff) {
	case CMD_TLBI_NSNH_ALL:
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_NH_ASID:
		return 0;
	case CMD_ATC_INV:
	case CMD_CFGI_CD:
	case CMD_CFGI_CD_ALL:
		return v && !vdev_at(v, cmd[0] >> 32) ? -EIO : 0;
	default:
		return -EIO;
	}
}

int iommufd_arm_invalidate(struct ims_iommufd *fd, const struct viommu *v,
			   struct ims_iommufd_invalidate *c, uint32_t *done)
{
	/* arm_vsmmu_cache_invalidate(): iommu_copy_struct_from_full_user_array()
	 * first (the type, at least one entry, and each entry: shorter reads
	 * zero-extended, longer must be zero past the command, E2BIG) ... */
	if (c->data_type != IMS_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 || !c->entry_num)
		return -EINVAL;
	const unsigned char *p = c->data;
	struct ims_iommu_viommu_arm_smmuv3_invalidate e;
	for (uint32_t i = 0; i < c->entry_num; i++) {
		int rc = iommufd_copy_struct(&e, sizeof(e), p + (size_t)i * c->entry_len,
					     c->entry_len);
		if (rc)
			return rc;
	}
	/* ... then converts command by command, issuing each run of
	 * CMDQ_BATCH - 1 and the last; a command it cannot convert ends the
	 * call with the run before it not issued, and entry_num counts the
	 * commands converted. */
	uint32_t cur = 0, last = 0;
	int rc = 0;
	while (cur != c->entry_num) {
		iommufd_copy_struct(&e, sizeof(e), p + (size_t)cur * c->entry_len, c->entry_len);
		if ((rc = arm_convert(v, e.cmd)))
			break;
		cur++;
		if (cur != c->entry_num && cur - last != CMDQ_BATCH - 1)
			continue;
		for (uint32_t k = last; k < cur && !rc; k++) {
			iommufd_copy_struct(&e, sizeof(e), p + (size_t)k * c->entry_len, c->entry_len);
			rc = arm_issue(fd, v, c, e.cmd);
		}
		if (rc) {
			cur--;
			break;
		}
		last = cur;
	}
	*done = cur;
	return rc;
}
