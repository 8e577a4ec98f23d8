/* iommufd nesting (docs/uapi.md, "Nesting"): nested HWPT allocation over a
 * NEST_PARENT HWPT with each vendor's data checked, attach, and
 * IOMMU_HWPT_INVALIDATE. The rules, and the order they are checked in, are
 * Linux's: drivers/iommu/iommufd/hw_pagetable.c (iommufd_hwpt_alloc,
 * iommufd_hwpt_nested_alloc, iommufd_hwpt_invalidate),
 * include/linux/iommu.h (iommu_copy_struct_from_user*), and the drivers'
 * drivers/iommu/intel/nested.c, arm/arm-smmu-v3/arm-smmu-v3-iommufd.c and
 * amd/nested.c. Linux allocates the ARM and AMD nested domains through a
 * vIOMMU object (IOMMU_VIOMMU_ALLOC) over the parent; iommusim has no
 * vIOMMU object and takes the parent HWPT as pt_id for every vendor, and
 * the ARM invalidation entries on the nested HWPT.
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

/* The vendor data type of a nesting parent's driver. */
static uint32_t vendor_type(enum ims_format s2)
{
	switch (s2) {
	case IMS_FMT_VTD:
		return IMS_IOMMU_HWPT_DATA_VTD_S1;
	case IMS_FMT_SMMUV3_S2:
		return IMS_IOMMU_HWPT_DATA_ARM_SMMUV3;
	default:
		return IMS_IOMMU_HWPT_DATA_AMD_GUEST;
	}
}

/* copy_struct_from_user() as iommu_copy_struct_from_user() calls it: a
 * shorter struct than min (the end of the last named field) is -EINVAL; a
 * longer one is -E2BIG unless its extra bytes are zero; what is missing of
 * the kernel's struct reads as zero. */
static int copy_struct(void *dst, size_t ksize, size_t min, const void *src, size_t usize)
{
	if (usize < min)
		return -EINVAL;
	if (!src)
		return -EFAULT;
	const unsigned char *s = src;
	for (size_t i = ksize; i < usize; i++)
		if (s[i])
			return -E2BIG;
	memset(dst, 0, ksize);
	memcpy(dst, src, usize < ksize ? usize : ksize);
	return 0;
}

/* IHI0070 5.2, the STE fields Linux lets a guest set
 * (STRTAB_STE_0_NESTING_ALLOWED / STRTAB_STE_1_NESTING_ALLOWED). */
#define STE0_V (1ull << 0)
#define STE0_CFG_SHIFT 1
#define STE0_CFG_MASK (7ull << STE0_CFG_SHIFT)
#define STE0_ALLOWED (STE0_V | STE0_CFG_MASK | (3ull << 4) /* S1Fmt */ | \
		      (0x3ffffffffffull << 6) /* S1ContextPtr 51:6 */ | (0x1full << 59) /* S1CDMax */)
#define STE1_ALLOWED ((3ull << 0) /* S1DSS */ | (3ull << 2) /* S1CIR */ | (3ull << 4) /* S1COR */ | \
		      (3ull << 6) /* S1CSH */ | (1ull << 27) /* S1STALLD */ | (3ull << 28) /* EATS */)
#define STE_CFG_ABORT 0
#define STE_CFG_BYPASS 4
#define STE_CFG_S1 5

/* arm-smmu-v3-iommufd.c, arm_smmu_validate_vste(): an STE without V is an
 * abort STE (its words are cleared); EIO is the driver's error for STE
 * data it cannot take. */
static int arm_vste(struct ims_iommu_hwpt_arm_smmuv3 *a)
{
	if (!(a->ste[0] & STE0_V)) {
		memset(a->ste, 0, sizeof(a->ste));
		return 0;
	}
	if ((a->ste[0] & ~STE0_ALLOWED) || (a->ste[1] & ~STE1_ALLOWED))
		return -EIO;
	unsigned cfg = (unsigned)((a->ste[0] & STE0_CFG_MASK) >> STE0_CFG_SHIFT);
	if (cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS && cfg != STE_CFG_S1)
		return -EIO;
	return 0;
}

/* AMD 48882 2.2.2.1 (Device Table Entry), the guest DTE as amd/nested.c's
 * validate_gdte_nested() takes it. */
#define DTE0_V (1ull << 0)
#define DTE0_MODE_MASK (7ull << 9)
#define DTE0_HOST_TRP_MASK (0xffffffffffull << 12) /* 51:12 */
#define DTE0_GV (1ull << 55)
#define DTE0_GLX_SHIFT 56
#define DTE0_GCR3_A (7ull << 58)          /* GCR3 root 14:12 */
#define DTE1_GCR3_B (0xffffull << 16)     /* 30:15 */
#define DTE1_GCR3_C (0x1fffffull << 43)   /* 51:31 */
#define DTE2_GPT_LEVEL_SHIFT 54           /* guest paging mode: 0 4-level, 1 5-level */

static int amd_gdte(const struct ims_iommu_hwpt_amd_guest *g)
{
	if ((g->dte[0] & DTE0_MODE_MASK) || (g->dte[0] & DTE0_HOST_TRP_MASK))
		return -EINVAL;
	if ((g->dte[0] & DTE0_V) && (g->dte[0] & DTE0_GV) && !(g->dte[0] & DTE0_GCR3_A) &&
	    !(g->dte[1] & (DTE1_GCR3_B | DTE1_GCR3_C)))
		return -EINVAL;
	unsigned gpt = (unsigned)((g->dte[2] >> DTE2_GPT_LEVEL_SHIFT) & 3);
	if (gpt > 1)
		return -EINVAL;
	if (((g->dte[0] >> DTE0_GLX_SHIFT) & 3) == 3) /* GLX = 3 is reserved */
		return -EINVAL;
	return 0;
}

int iommufd_nested_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
			 const struct dev *d, char *err, size_t errlen)
{
	struct hwpt *p = iommufd_hwpt_find(fd, cmd->pt_id);
	if (!p)
		return -ENOENT;
	/* hw_pagetable.c: pt_id must be a paging HWPT (not a nested one). */
	if (p->nested)
		return -EINVAL;
	/* iommufd_hwpt_nested_alloc(): no allocation flag but FAULT_ID_VALID
	 * (so DIRTY_TRACKING and NEST_PARENT are EOPNOTSUPP), and some data. */
	if (cmd->flags || !cmd->data_len)
		return -EOPNOTSUPP;
	/* The parent was allocated as one, by this device's driver. */
	enum ims_format s2 = ims_pt_format(p->pt);
	if (!p->nest_parent || s2 != d->info.fmt)
		return -EINVAL;
	if (iommufd_hwpt_find(fd, cmd->hwpt_id))
		return -EEXIST;
	struct ims_iommufd_nested n = {.parent = cmd->pt_id, .data_type = cmd->data_type};
	uint32_t want = vendor_type(s2);
	int rc;
	if (cmd->data_type != want) {
		/* intel/nested.c checks the type itself (EOPNOTSUPP); the ARM
		 * and AMD drivers leave it to iommu_copy_struct_from_user()
		 * (EINVAL). */
		rc = s2 == IMS_FMT_VTD ? -EOPNOTSUPP : -EINVAL;
	} else if (want == IMS_IOMMU_HWPT_DATA_VTD_S1) {
		rc = copy_struct(&n.u.vtd, sizeof(n.u.vtd), 24, cmd->data, cmd->data_len);
	} else if (want == IMS_IOMMU_HWPT_DATA_ARM_SMMUV3) {
		rc = copy_struct(&n.u.arm, sizeof(n.u.arm), 16, cmd->data, cmd->data_len);
		if (!rc)
			rc = arm_vste(&n.u.arm);
	} else {
		rc = copy_struct(&n.u.amd, sizeof(n.u.amd), 32, cmd->data, cmd->data_len);
		if (!rc)
			rc = amd_gdte(&n.u.amd);
	}
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "the %s nesting driver refuses the vendor data",
				 ims_format_name(s2));
		return rc;
	}
	if (iommufd_grow((void **)&fd->hwpt, &fd->caphwpt, fd->nhwpt, sizeof(*fd->hwpt)))
		return -ENOMEM;
	fd->hwpt[fd->nhwpt++] = (struct hwpt){.id = cmd->hwpt_id, .ioas = p->ioas, .nested = true,
					       .n = n};
	return 0;
}

int iommufd_nested_attach(const struct hwpt *h, const struct dev *d)
{
	if (ims_iommufd_nest_s1(d->info.fmt) < 0 || vendor_type(d->info.fmt) != h->n.data_type)
		return -EINVAL;
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

/* IHI0070 4.4: the stage-1 invalidations a guest may issue
 * (arm_vsmmu_convert_user_cmd(); any other opcode is EIO). */
enum {
	CMD_CFGI_CD = 0x05,
	CMD_CFGI_CD_ALL = 0x06,
	CMD_TLBI_NH_ALL = 0x10,
	CMD_TLBI_NH_ASID = 0x11,
	CMD_TLBI_NH_VA = 0x12,
	CMD_TLBI_NH_VAA = 0x13,
	CMD_ATC_INV = 0x40,
};

static int inv_range(struct ims_iommufd_invalidate *c, uint64_t iova, uint64_t size, bool leaf)
{
	return c->inv ? c->inv(c->arg, c->hwpt_id, iova, size, leaf) : 0;
}

/* intel/nested.c, intel_nested_cache_invalidate_user(). */
static int vtd_invalidate(struct ims_iommufd_invalidate *c, uint32_t *done)
{
	if (c->data_type != IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
		return -EINVAL;
	const unsigned char *p = c->data;
	for (uint32_t i = 0; i < c->entry_num; i++) {
		struct ims_iommu_hwpt_vtd_s1_invalidate e;
		int rc = copy_struct(&e, sizeof(e), 24, p + (size_t)i * c->entry_len, c->entry_len);
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

/* arm-smmu-v3-iommufd.c, arm_vsmmu_cache_invalidate(): the whole array is
 * copied first (iommu_copy_struct_from_full_user_array(): a shorter entry
 * reads as zero-extended, a longer one must be zero past the command),
 * then each command is converted in turn. */
static int arm_invalidate(struct ims_iommufd_invalidate *c, uint32_t *done)
{
	if (c->data_type != IMS_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3)
		return -EINVAL;
	const unsigned char *p = c->data;
	for (uint32_t i = 0; i < c->entry_num; i++) {
		struct ims_iommu_viommu_arm_smmuv3_invalidate e;
		int rc = copy_struct(&e, sizeof(e), 0, p + (size_t)i * c->entry_len, c->entry_len);
		if (rc)
			return rc;
	}
	for (uint32_t i = 0; i < c->entry_num; i++) {
		struct ims_iommu_viommu_arm_smmuv3_invalidate e;
		copy_struct(&e, sizeof(e), 0, p + (size_t)i * c->entry_len, c->entry_len);
		int rc = 0;
		switch (e.cmd[0] & 0xff) {
		case CMD_TLBI_NH_VA:
		case CMD_TLBI_NH_VAA: /* IHI0070 4.4.2: Address[63:12], Leaf bit 0 */
			rc = inv_range(c, e.cmd[1] & ~0xfffull, 0x1000, e.cmd[1] & 1);
			break;
		case CMD_TLBI_NH_ALL:
		case CMD_TLBI_NH_ASID:
		case CMD_CFGI_CD:
		case CMD_CFGI_CD_ALL:
			rc = inv_range(c, 0, 0, false);
			break;
		case CMD_ATC_INV: /* no ATC is modelled */
			break;
		default:
			return -EIO;
		}
		if (rc)
			return rc;
		(*done)++;
	}
	return 0;
}

int ims_iommufd_invalidate(struct ims_iommufd *fd, struct ims_iommufd_invalidate *cmd)
{
	uint32_t done = 0;
	int rc;
	/* hw_pagetable.c, iommufd_hwpt_invalidate(). */
	if (cmd->reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data || !cmd->entry_len)) {
		rc = -EINVAL;
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
		rc = arm_invalidate(cmd, &done);
		break;
	default:
		/* amd/nested.c's domain ops have no cache_invalidate_user: the
		 * guest's invalidations reach the hardware another way. */
		rc = -EOPNOTSUPP;
		break;
	}
out:
	cmd->entry_num = done;
	return rc;
}
