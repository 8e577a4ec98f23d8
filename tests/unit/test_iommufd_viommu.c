/* iommufd vIOMMU objects (uapi/iommufd_viommu.c, docs/uapi.md "Nesting"):
 * IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC, IOMMU_HWPT_ALLOC with pt_id a
 * vIOMMU, attach, and IOMMU_HWPT_INVALIDATE on a vIOMMU; each error case
 * in the order Linux 7.2 checks it (each check is made to fail where a
 * later one would fail too, so the order shows). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"
#include "iommusim/pt.h"

#include "nop_sink.h"

#define IOAS 1
#define ARM 0x10    /* smmuv3-s2: an SMMU that nests */
#define ARM_S1 0x11 /* smmuv3: one whose domains are stage 1 */
#define ARM2 0x12   /* a second device on the nesting SMMU */
#define VTD 0x20
#define AMD 0x40
#define NODEV 0x77
#define P_ARM 5  /* NEST_PARENT HWPTs */
#define PLAIN 6  /* an SMMUv3 paging HWPT without NEST_PARENT */
#define P_VTD 7
#define P_AMD 8
#define N_VTD 9  /* a nested HWPT (VT-d, pt_id the parent) */
#define NESTED 20
#define V1 100
#define V2 101
#define V_AMD 102

struct rig {
	struct ims_mem *mem;
	struct ims_iommufd *fd;
};

static void bind(struct rig *r, uint32_t dev, enum ims_format f)
{
	struct ims_iommufd_hw_info hi = {f, IMS_IOMMU_HW_CAP_DIRTY_TRACKING};
	ck_assert_int_eq(ims_iommufd_bind(r->fd, dev, &hi), 0);
}

static int paging(struct rig *r, uint16_t id, uint32_t dev, uint32_t flags)
{
	struct ims_iommufd_hwpt_alloc a = {.flags = flags, .dev_id = dev, .pt_id = IOAS,
					   .hwpt_id = id};
	return ims_iommufd_hwpt_alloc(r->fd, &a, NULL, 0);
}

/* Devices of each driver and a parent for each. */
static void up(struct rig *r)
{
	struct ims_sink sink = {NULL, nop_submit, nop_update, nop_flush, NULL, NULL, NULL};
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommufd_new(r->mem, &sink, &r->fd), 0);
	bind(r, ARM, IMS_FMT_SMMUV3_S2);
	bind(r, ARM_S1, IMS_FMT_SMMUV3);
	bind(r, ARM2, IMS_FMT_SMMUV3_S2);
	bind(r, VTD, IMS_FMT_VTD);
	bind(r, AMD, IMS_FMT_AMDV1);
	ck_assert_int_eq(ims_iommufd_ioas_alloc(r->fd, IOAS), 0);
	ck_assert_int_eq(paging(r, P_ARM, ARM, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	ck_assert_int_eq(paging(r, PLAIN, ARM, 0), 0);
	ck_assert_int_eq(paging(r, P_VTD, VTD, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	ck_assert_int_eq(paging(r, P_AMD, AMD, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t vtd[3] = {0, 0x80000000, 48};
	struct ims_iommufd_hwpt_alloc a = {.dev_id = VTD, .pt_id = P_VTD, .hwpt_id = N_VTD,
					   .pt_is_hwpt = true,
					   .data_type = IMS_IOMMU_HWPT_DATA_VTD_S1,
					   .data_len = 24, .data = vtd};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r->fd, &a, NULL, 0), 0);
}

static void down(struct rig *r)
{
	ims_iommufd_free(r->fd);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_mem_free(r->mem);
}

static int viommu(struct rig *r, uint32_t id, uint32_t dev, uint32_t hwpt, uint32_t type,
		  uint32_t flags)
{
	struct ims_iommufd_viommu_alloc a = {.flags = flags, .type = type, .dev_id = dev,
					     .hwpt_id = hwpt, .viommu_id = id};
	return ims_iommufd_viommu_alloc(r->fd, &a);
}

#define TYPE_ARM IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3

START_TEST(viommu_alloc_rules)
{
	struct rig r;
	up(&r);
	/* viommu.c, iommufd_viommu_alloc_ioctl(): flags, then type DEFAULT,
	 * both before the device. */
	ck_assert_int_eq(viommu(&r, V1, NODEV, 99, TYPE_ARM, 1), -EOPNOTSUPP);
	ck_assert_int_eq(viommu(&r, V1, NODEV, 99, IMS_IOMMU_VIOMMU_TYPE_DEFAULT, 0), -EOPNOTSUPP);
	ck_assert_int_eq(viommu(&r, V1, NODEV, 99, TYPE_ARM, 0), -ENOENT);
	/* The driver before the HWPT: VT-d has no vIOMMU ops; an SMMU
	 * without nesting, or a type of an SMMU implementation, gets no size
	 * from arm_smmu_get_viommu_size(). */
	ck_assert_int_eq(viommu(&r, V1, VTD, 99, TYPE_ARM, 0), -EOPNOTSUPP);
	ck_assert_int_eq(viommu(&r, V1, ARM_S1, 99, TYPE_ARM, 0), -EOPNOTSUPP);
	ck_assert_int_eq(viommu(&r, V1, ARM, 99, 2 /* TEGRA241_CMDQV */, 0), -EOPNOTSUPP);
	/* iommufd_get_hwpt_paging(): none, or a nested HWPT, is ENOENT. */
	ck_assert_int_eq(viommu(&r, V1, ARM, 99, TYPE_ARM, 0), -ENOENT);
	ck_assert_int_eq(viommu(&r, V1, ARM, N_VTD, TYPE_ARM, 0), -ENOENT);
	ck_assert_int_eq(viommu(&r, V1, ARM, PLAIN, TYPE_ARM, 0), -EINVAL);
	/* arm_vsmmu_init(): a parent of another IOMMU. */
	ck_assert_int_eq(viommu(&r, V1, ARM, P_VTD, TYPE_ARM, 0), -EINVAL);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), 0);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), -EEXIST);
	/* Several vIOMMUs may share a parent. */
	ck_assert_int_eq(viommu(&r, V2, ARM2, P_ARM, TYPE_ARM, 0), 0);
	/* amd_iommufd_get_viommu_size() takes any type but DEFAULT. */
	ck_assert_int_eq(viommu(&r, V_AMD, AMD, P_ARM, 7, 0), -EINVAL);
	ck_assert_int_eq(viommu(&r, V_AMD, AMD, P_AMD, 7, 0), 0);
	uint32_t h = 0, t = 0;
	ck_assert_int_eq(ims_iommufd_viommu_info(r.fd, V_AMD, &h, &t), 0);
	ck_assert_uint_eq(h, P_AMD);
	ck_assert_uint_eq(t, 7);
	ck_assert_int_eq(ims_iommufd_viommu_info(r.fd, 55, &h, &t), -ENOENT);
	down(&r);
}
END_TEST

START_TEST(vdevice_alloc_rules)
{
	struct rig r;
	up(&r);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), 0);
	ck_assert_int_eq(viommu(&r, V2, ARM, P_ARM, TYPE_ARM, 0), 0);
	/* iommufd_vdevice_alloc_ioctl(): the vIOMMU before the device. */
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, 55, NODEV, 3), -ENOENT);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, NODEV, 3), -ENOENT);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, VTD, 3), -EINVAL);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, ARM, 3), 0);
	/* One vDEVICE per device, on any vIOMMU; one device per virtual id. */
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, ARM, 4), -EEXIST);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V2, ARM, 4), -EEXIST);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, ARM2, 3), -EEXIST);
	/* The same virtual id on another vIOMMU is another id space. */
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V2, ARM2, 3), 0);
	down(&r);
}
END_TEST

static int on_viommu(struct rig *r, uint16_t id, uint32_t dev, uint32_t v, uint32_t flags,
		     uint32_t type, uint32_t len, const void *w)
{
	struct ims_iommufd_hwpt_alloc a = {.flags = flags, .dev_id = dev, .pt_id = v,
					   .hwpt_id = id, .pt_is_viommu = true, .data_type = type,
					   .data_len = len, .data = w};
	return ims_iommufd_hwpt_alloc(r->fd, &a, NULL, 0);
}

#define STE_S1 (1 | (5ull << 1) | 0x80000000) /* V, Config = stage 1, S1ContextPtr */
#define T_ARM IMS_IOMMU_HWPT_DATA_ARM_SMMUV3

START_TEST(viommu_nested_alloc_rules)
{
	struct rig r;
	up(&r);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), 0);
	ck_assert_int_eq(viommu(&r, V_AMD, AMD, P_AMD, 1, 0), 0);
	uint64_t w[4] = {STE_S1, 0, 0, 0};
	/* iommufd_hwpt_alloc(): __reserved, type against length, the device,
	 * pt_id no object (EINVAL), a vIOMMU of another IOMMU. */
	struct ims_iommufd_hwpt_alloc a = {.dev_id = NODEV, .pt_id = 55, .hwpt_id = NESTED,
					   .pt_is_viommu = true, .data_type = T_ARM,
					   .data_len = 16, .data = w, .reserved = 1};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &a, NULL, 0), -EOPNOTSUPP);
	ck_assert_int_eq(on_viommu(&r, NESTED, NODEV, 55, 0, T_ARM, 0, w), -EINVAL);
	ck_assert_int_eq(on_viommu(&r, NESTED, NODEV, 55, 0, T_ARM, 16, w), -ENOENT);
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, 55, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, T_ARM,
				   16, w),
			 -EINVAL);
	ck_assert_int_eq(on_viommu(&r, NESTED, VTD, V1, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, T_ARM,
				   16, w),
			 -EINVAL);
	/* iommufd_viommu_alloc_hwpt_nested(): flags, data, the vIOMMU's
	 * alloc_domain_nested (none on AMD in 7.2). */
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, T_ARM,
				   16, w),
			 -EOPNOTSUPP);
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, T_ARM, 16,
				   w),
			 -EOPNOTSUPP);
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, IMS_IOMMU_HWPT_DATA_NONE, 0, w),
			 -EOPNOTSUPP);
	uint64_t g[4] = {1 | (1ull << 55) | (1ull << 58), 0x8000ull << 16, 0, 0};
	ck_assert_int_eq(on_viommu(&r, NESTED, AMD, V_AMD, 0, IMS_IOMMU_HWPT_DATA_AMD_GUEST, 32, g),
			 -EOPNOTSUPP);
	/* A taken HWPT id (iommusim's ids are the caller's). */
	ck_assert_int_eq(on_viommu(&r, P_VTD, ARM, V1, 0, T_ARM, 16, w), -EEXIST);
	/* arm_vsmmu_alloc_domain_nested(): iommu_copy_struct_from_user()'s
	 * type and length, then arm_smmu_validate_vste(). */
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, 16, w),
			 -EINVAL);
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 8, w), -EINVAL);
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 24, w), -EINVAL);
	w[1] = 2ull << 28; /* EATS 0b10 */
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 16, w), -EIO);
	w[1] = 1ull << 28; /* full ATS: taken, and left out of the stored STE */
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 16, w), 0);
	struct ims_iommufd_nested n;
	ck_assert_int_eq(ims_iommufd_hwpt_nested(r.fd, NESTED, &n), 0);
	ck_assert(n.on_viommu);
	ck_assert(!n.legacy);
	ck_assert_uint_eq(n.viommu, V1);
	ck_assert_uint_eq(n.parent, P_ARM);
	ck_assert_uint_eq(n.u.arm.ste[0], STE_S1);
	ck_assert_uint_eq(n.u.arm.ste[1], 0);
	ck_assert_ptr_null(ims_iommufd_hwpt_pt(r.fd, NESTED));
	/* The legacy flag changes nothing on a vIOMMU's path. */
	struct ims_iommufd_hwpt_alloc b = {.dev_id = AMD, .pt_id = V_AMD, .hwpt_id = NESTED + 1,
					   .pt_is_viommu = true, .legacy = true,
					   .data_type = IMS_IOMMU_HWPT_DATA_AMD_GUEST,
					   .data_len = 32, .data = g};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &b, NULL, 0), -EOPNOTSUPP);
	down(&r);
}
END_TEST

/* arm_smmu_attach_prepare_vmaster(): a translating nested domain of a
 * vIOMMU needs the device's vDEVICE there; abort and bypass do not. */
START_TEST(viommu_attach_needs_vdevice)
{
	struct rig r;
	up(&r);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), 0);
	ck_assert_int_eq(viommu(&r, V2, ARM, P_ARM, TYPE_ARM, 0), 0);
	uint64_t w[2] = {STE_S1, 0};
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 16, w), 0);
	uint64_t byp[2] = {1 | (4ull << 1), 0};
	ck_assert_int_eq(on_viommu(&r, NESTED + 1, ARM, V1, 0, T_ARM, 16, byp), 0);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, ARM, NESTED), -ENOENT);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, ARM, NESTED + 1), 0);
	/* A vDEVICE on another vIOMMU is not the one. */
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V2, ARM, 3), 0);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, ARM, NESTED), -ENOENT);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, ARM2, 3), 0);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, ARM2, NESTED), 0);
	/* Another driver's device: the nested domain's format check. */
	ck_assert_int_eq(ims_iommufd_attach(r.fd, VTD, NESTED), -EINVAL);
	down(&r);
}
END_TEST

struct seen {
	unsigned n;
	uint32_t hwpt[256];
	uint64_t iova[256], size[256];
};

static int on_inv(void *arg, uint32_t hwpt, uint64_t iova, uint64_t size, bool leaf)
{
	struct seen *s = arg;
	(void)leaf;
	if (s->n < 256) {
		s->hwpt[s->n] = hwpt;
		s->iova[s->n] = iova;
		s->size[s->n] = size;
	}
	s->n++;
	return 0;
}

static int inv(struct rig *r, uint32_t v, uint32_t type, uint32_t len, uint32_t num,
	       const void *data, struct seen *s, uint32_t *done)
{
	struct ims_iommufd_invalidate c = {.hwpt_id = v, .is_viommu = true, .data_type = type,
					   .entry_len = len, .entry_num = num, .data = data,
					   .inv = on_inv, .arg = s};
	int rc = ims_iommufd_invalidate(r->fd, &c);
	*done = c.entry_num;
	return rc;
}

#define T_INV IMS_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3

START_TEST(viommu_invalidate_rules)
{
	struct rig r;
	struct seen s = {0};
	uint32_t done;
	up(&r);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), 0);
	ck_assert_int_eq(viommu(&r, V2, ARM, P_ARM, TYPE_ARM, 0), 0);
	ck_assert_int_eq(viommu(&r, V_AMD, AMD, P_AMD, 1, 0), 0);
	uint64_t w[2] = {STE_S1, 0};
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 16, w), 0);
	ck_assert_int_eq(on_viommu(&r, NESTED + 1, ARM, V1, 0, T_ARM, 16, w), 0);
	ck_assert_int_eq(on_viommu(&r, NESTED + 2, ARM, V2, 0, T_ARM, 16, w), 0);
	ck_assert_int_eq(ims_iommufd_vdevice_alloc(r.fd, V1, ARM, 3), 0);
	/* TLBI_NH_VA, TLBI_NSNH_ALL, CFGI_CD of vSID 3, ATC_INV of vSID 3. */
	uint64_t c[8] = {0x12, 0x5000, 0x30, 0, 0x300000005ull, 0, 0x300000040ull, 0};
	/* hw_pagetable.c, iommufd_hwpt_invalidate(). */
	struct ims_iommufd_invalidate rv = {.hwpt_id = 55, .is_viommu = true, .data_type = T_INV,
					    .entry_len = 0, .entry_num = 1, .reserved = 1};
	ck_assert_int_eq(ims_iommufd_invalidate(r.fd, &rv), -EOPNOTSUPP);
	ck_assert_int_eq(inv(&r, 55, T_INV, 0, 1, c, &s, &done), -EINVAL);
	ck_assert_int_eq(inv(&r, 55, T_INV, 16, 1, NULL, &s, &done), -EINVAL);
	ck_assert_int_eq(inv(&r, 55, T_INV, 4097, 1, c, &s, &done), -EINVAL);
	ck_assert_int_eq(inv(&r, 55, T_INV, 16, (1u << 19) + 1, c, &s, &done), -EINVAL);
	ck_assert_int_eq(inv(&r, 55, T_INV, 16, 1, c, &s, &done), -ENOENT);
	ck_assert_int_eq(inv(&r, V_AMD, T_INV, 16, 1, c, &s, &done), -EOPNOTSUPP);
	/* arm_vsmmu_cache_invalidate(): the type, at least one entry, each
	 * entry copied before any is converted. */
	ck_assert_int_eq(inv(&r, V1, 0, 16, 1, c, &s, &done), -EINVAL);
	ck_assert_int_eq(inv(&r, V1, T_INV, 16, 0, c, &s, &done), -EINVAL);
	uint64_t longer[3] = {0x30, 0, 1};
	ck_assert_int_eq(inv(&r, V1, T_INV, 24, 1, longer, &s, &done), -E2BIG);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(s.n, 0);
	longer[2] = 0;
	ck_assert_int_eq(inv(&r, V1, T_INV, 24, 1, longer, &s, &done), 0);
	ck_assert_uint_eq(s.n, 2); /* NSNH_ALL to both nested HWPTs of V1 */
	ck_assert_uint_eq(s.hwpt[0], NESTED);
	ck_assert_uint_eq(s.hwpt[1], NESTED + 1);
	ck_assert_uint_eq(s.size[0], 0);
	s.n = 0;
	ck_assert_int_eq(inv(&r, V1, T_INV, 8, 1, c, &s, &done), 0); /* shorter: NH_VA of 0 */
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.iova[0], 0);
	ck_assert_uint_eq(s.size[0], 0x1000);
	s.n = 0;
	ck_assert_int_eq(inv(&r, V1, T_INV, 16, 4, c, &s, &done), 0);
	ck_assert_uint_eq(done, 4);
	ck_assert_uint_eq(s.n, 6); /* ATC_INV reaches no modelled cache */
	ck_assert_uint_eq(s.iova[0], 0x5000);
	ck_assert_uint_eq(s.size[0], 0x1000);
	/* A vSID without a vDEVICE on this vIOMMU, an opcode a guest may not
	 * issue: EIO, entry_num the commands converted before. */
	c[4] = 0x400000005ull;
	s.n = 0;
	ck_assert_int_eq(inv(&r, V1, T_INV, 16, 4, c, &s, &done), -EIO);
	ck_assert_uint_eq(done, 2);
	ck_assert_uint_eq(s.n, 0); /* the run before it was never issued */
	c[4] = 0x2a; /* CMD_TLBI_S2_IPA */
	ck_assert_int_eq(inv(&r, V1, T_INV, 16, 4, c, &s, &done), -EIO);
	ck_assert_uint_eq(done, 2);
	/* V2 has no vDEVICE: its CFGI_CD of vSID 3 is EIO. */
	ck_assert_int_eq(inv(&r, V2, T_INV, 16, 1, &c[6], &s, &done), -EIO);
	/* A nested HWPT of a vIOMMU takes no commands itself; a paging one
	 * has no user invalidation. */
	struct ims_iommufd_invalidate h = {.hwpt_id = NESTED, .data_type = T_INV, .entry_len = 16,
					   .entry_num = 1, .data = c};
	ck_assert_int_eq(ims_iommufd_invalidate(r.fd, &h), -EOPNOTSUPP);
	h.hwpt_id = P_ARM;
	ck_assert_int_eq(ims_iommufd_invalidate(r.fd, &h), -EINVAL);
	down(&r);
}
END_TEST

/* Commands go to the queue in runs of CMDQ_BATCH_ENTRIES - 1 (63): a
 * command that cannot be converted leaves the run it ends unissued. */
START_TEST(viommu_invalidate_batches)
{
	struct rig r;
	struct seen s = {0};
	uint32_t done;
	up(&r);
	ck_assert_int_eq(viommu(&r, V1, ARM, P_ARM, TYPE_ARM, 0), 0);
	uint64_t w[2] = {STE_S1, 0};
	ck_assert_int_eq(on_viommu(&r, NESTED, ARM, V1, 0, T_ARM, 16, w), 0);
	uint64_t c[2 * 70];
	for (unsigned i = 0; i < 70; i++) {
		c[2 * i] = 0x12;
		c[2 * i + 1] = (uint64_t)(i + 1) << 12;
	}
	c[2 * 65] = 0x2a;
	ck_assert_int_eq(inv(&r, V1, T_INV, 16, 70, c, &s, &done), -EIO);
	ck_assert_uint_eq(done, 65);
	ck_assert_uint_eq(s.n, 63);
	ck_assert_uint_eq(s.iova[62], 63ull << 12);
	c[2 * 65] = 0x12;
	s.n = 0;
	ck_assert_int_eq(inv(&r, V1, T_INV, 16, 70, c, &s, &done), 0);
	ck_assert_uint_eq(done, 70);
	ck_assert_uint_eq(s.n, 70);
	down(&r);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("iommufd_viommu");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, viommu_alloc_rules);
	tcase_add_test(tc, vdevice_alloc_rules);
	tcase_add_test(tc, viommu_nested_alloc_rules);
	tcase_add_test(tc, viommu_attach_needs_vdevice);
	tcase_add_test(tc, viommu_invalidate_rules);
	tcase_add_test(tc, viommu_invalidate_batches);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
