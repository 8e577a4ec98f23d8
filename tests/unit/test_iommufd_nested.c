/* iommufd nesting (uapi/iommufd_nested.c, docs/uapi.md "Nesting"): the
 * NEST_PARENT allocation, nested HWPT allocation with pt_id the parent HWPT
 * and each vendor's data (SMMUv3 and AMD in the legacy reading), attach,
 * and IOMMU_HWPT_INVALIDATE, each error case in Linux's order. The vIOMMU
 * path: test_iommufd_viommu.c. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"
#include "iommusim/pt.h"
#include "smmuv3/s2_codec.h"

#include "nop_sink.h"

#define IOAS 1
#define DEV 0x10   /* the parent's IOMMU */
#define DEV_S1 0x18 /* an IOMMU of the pair's stage-1 format */
#define PARENT 5
#define PLAIN 6    /* a paging HWPT without NEST_PARENT */
#define NESTED 9

struct rig {
	struct ims_mem *mem;
	struct ims_iommufd *fd;
	enum ims_format s2;
};

static const enum ims_format s2s[3] = {IMS_FMT_VTD, IMS_FMT_SMMUV3_S2, IMS_FMT_AMDV1};

static void up_sink(struct rig *r, enum ims_format s2, const struct ims_sink *sink)
{
	r->s2 = s2;
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommufd_new(r->mem, sink, &r->fd), 0);
	struct ims_iommufd_hw_info hi = {s2, IMS_IOMMU_HW_CAP_DIRTY_TRACKING};
	struct ims_iommufd_hw_info s1 = {(enum ims_format)ims_iommufd_nest_s1(s2),
					 IMS_IOMMU_HW_CAP_DIRTY_TRACKING};
	ck_assert_int_eq(ims_iommufd_bind(r->fd, DEV, &hi), 0);
	ck_assert_int_eq(ims_iommufd_bind(r->fd, DEV_S1, &s1), 0);
	ck_assert_int_eq(ims_iommufd_ioas_alloc(r->fd, IOAS), 0);
}

static void up(struct rig *r, enum ims_format s2)
{
	struct ims_sink sink = {NULL, nop_submit, nop_update, nop_flush, NULL, NULL, NULL};
	up_sink(r, s2, &sink);
}

static void down(struct rig *r)
{
	ims_iommufd_free(r->fd);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_mem_free(r->mem);
}

static int paging(struct rig *r, uint16_t id, uint32_t dev, uint32_t flags)
{
	struct ims_iommufd_hwpt_alloc a = {.flags = flags, .dev_id = dev, .pt_id = IOAS,
					   .hwpt_id = id};
	return ims_iommufd_hwpt_alloc(r->fd, &a, NULL, 0);
}

/* Good vendor data for the rig's pair, 32 bytes of room. */
static uint32_t good_data(const struct rig *r, uint64_t w[4])
{
	memset(w, 0, 4 * sizeof(*w));
	switch (r->s2) {
	case IMS_FMT_VTD: /* flags, pgtbl_addr, addr_width | reserved << 32 */
		w[1] = 0x80000000;
		w[2] = 48;
		return IMS_IOMMU_HWPT_DATA_VTD_S1;
	case IMS_FMT_SMMUV3_S2: /* V, Config = S1 translate, S1ContextPtr */
		w[0] = 1 | (5ull << 1) | 0x80000000;
		return IMS_IOMMU_HWPT_DATA_ARM_SMMUV3;
	default: /* V, GV, GCR3 root 14:12 and 30:15 */
		w[0] = 1 | (1ull << 55) | (1ull << 58);
		w[1] = 0x8000ull << 16;
		return IMS_IOMMU_HWPT_DATA_AMD_GUEST;
	}
}

static uint32_t data_size(uint32_t type)
{
	return type == IMS_IOMMU_HWPT_DATA_VTD_S1 ? 24 : type == IMS_IOMMU_HWPT_DATA_ARM_SMMUV3 ? 16 : 32;
}

static int nested(struct rig *r, uint16_t id, uint32_t dev, uint32_t parent, uint32_t flags,
		  uint32_t type, uint32_t len, const uint64_t *w)
{
	struct ims_iommufd_hwpt_alloc a = {.flags = flags, .dev_id = dev, .pt_id = parent,
					   .hwpt_id = id, .pt_is_hwpt = true, .legacy = true,
					   .data_type = type, .data_len = len, .data = w};
	return ims_iommufd_hwpt_alloc(r->fd, &a, NULL, 0);
}

START_TEST(nest_parent_needs_a_stage2_format)
{
	struct rig r;
	up(&r, s2s[_i]);
	/* The pair's stage-1 format has no nesting parent. */
	ck_assert_int_eq(paging(&r, PARENT, DEV_S1, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), -EOPNOTSUPP);
	/* Its stage 2 does, with dirty tracking too on VT-d and AMD; not on
	 * SMMUv3 (arm_smmu_domain_alloc_paging_flags). */
	const uint32_t both = IMS_IOMMU_HWPT_ALLOC_NEST_PARENT | IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	bool arm = r.s2 == IMS_FMT_SMMUV3_S2;
	ck_assert_int_eq(paging(&r, PARENT, DEV, both), arm ? -EOPNOTSUPP : 0);
	if (arm)
		ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	bool dirty = arm;
	ck_assert_int_eq(ims_iommufd_hwpt_info(r.fd, PARENT, &dirty, NULL), 0);
	ck_assert(dirty == !arm);
	/* A paging HWPT takes no vendor data. */
	uint64_t w[4];
	struct ims_iommufd_hwpt_alloc a = {.dev_id = DEV, .pt_id = IOAS, .hwpt_id = PLAIN,
					   .data_type = good_data(&r, w), .data_len = 24, .data = w};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &a, NULL, 0), -EOPNOTSUPP);
	down(&r);
}
END_TEST

START_TEST(nested_alloc_rules)
{
	struct rig r;
	up(&r, s2s[_i]);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	ck_assert_int_eq(paging(&r, PLAIN, DEV, 0), 0);
	uint64_t w[8] = {0};
	uint32_t t = good_data(&r, w), n = data_size(t);
	/* hw_pagetable.c iommufd_hwpt_alloc(): __reserved, then type vs len. */
	struct ims_iommufd_hwpt_alloc a = {.dev_id = DEV, .pt_id = PARENT, .hwpt_id = NESTED,
					   .pt_is_hwpt = true, .data_type = t, .data_len = n,
					   .data = w, .reserved = 1};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &a, NULL, 0), -EOPNOTSUPP);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, IMS_IOMMU_HWPT_DATA_NONE, n, w), -EINVAL);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, 0, w), -EINVAL);
	ck_assert_int_eq(nested(&r, NESTED, 0x77, PARENT, 0, t, n, w), -ENOENT);
	/* iommufd_hwpt_alloc(): a pt_id that is no object is EINVAL. */
	ck_assert_int_eq(nested(&r, NESTED, DEV, 42, 0, t, n, w), -EINVAL);
	/* iommufd_hwpt_nested_alloc(): no allocation flag, some data, a
	 * NEST_PARENT parent. */
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, t, n, w),
			 -EOPNOTSUPP);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, t, n, w),
			 -EOPNOTSUPP);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, IMS_IOMMU_HWPT_DATA_NONE, 0, w),
			 -EOPNOTSUPP);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PLAIN, 0, t, n, w), -EINVAL);
	/* Another driver's device. */
	ck_assert_int_eq(nested(&r, NESTED, DEV_S1, PARENT, 0, t, n, w), -EINVAL);
	/* Another vendor's type: intel/nested.c and amd/nested.c check it
	 * (EOPNOTSUPP), SMMUv3 through iommu_copy_struct_from_user() (EINVAL). */
	uint32_t other = t == IMS_IOMMU_HWPT_DATA_VTD_S1 ? IMS_IOMMU_HWPT_DATA_AMD_GUEST
							 : IMS_IOMMU_HWPT_DATA_VTD_S1;
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, other, n, w),
			 r.s2 == IMS_FMT_SMMUV3_S2 ? -EINVAL : -EOPNOTSUPP);
	/* __iommu_copy_struct_from_user(): shorter or longer than the struct
	 * is EINVAL, even zero past it. */
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, n - 4, w), -EINVAL);
	w[n / 8] = 1;
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, n + 8, w), -EINVAL);
	w[n / 8] = 0;
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, n + 8, w), -EINVAL);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, n, w), 0);
	ck_assert_ptr_null(ims_iommufd_hwpt_pt(r.fd, NESTED));
	struct ims_iommufd_nested got;
	ck_assert_int_eq(ims_iommufd_hwpt_nested(r.fd, NESTED, &got), 0);
	ck_assert_uint_eq(got.parent, PARENT);
	ck_assert_uint_eq(got.data_type, t);
	ck_assert_int_eq(ims_iommufd_hwpt_nested(r.fd, PARENT, &got), -ENOENT);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, n, w), -EEXIST);
	/* A nested HWPT is no parent, and no paging HWPT to track dirty pages
	 * (iommufd_get_hwpt_paging(): ENOENT). */
	ck_assert_int_eq(nested(&r, NESTED + 1, DEV, NESTED, 0, t, n, w), -EINVAL);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, NESTED, 1), -ENOENT);
	struct ims_iommufd_dirty_bitmap gb = {.hwpt_id = NESTED, .iova = 0, .length = 0x1000,
					      .page_size = 0x1000, .data = w, .data_len = 8};
	ck_assert_int_eq(ims_iommufd_get_dirty_bitmap(r.fd, &gb), -ENOENT);
	/* Attach: the parent's device; not the stage-1 format's. */
	ck_assert_int_eq(ims_iommufd_attach(r.fd, DEV_S1, NESTED), -EINVAL);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, DEV, NESTED), 0);
	uint32_t h;
	ck_assert_int_eq(ims_iommufd_dev_hwpt(r.fd, DEV, &h), 0);
	ck_assert_uint_eq(h, NESTED);
	/* The IOAS's maps go to the paging HWPTs only. */
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 0x2000, IMS_PROT_RW), 0);
	uint64_t unmapped;
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x100000, 0x2000, &unmapped), 0);
	ck_assert_uint_eq(unmapped, 0x2000);
	down(&r);
}
END_TEST

static int try_data(enum ims_format s2, const uint64_t *w)
{
	struct rig r;
	up(&r, s2);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t g[4];
	uint32_t t = good_data(&r, g);
	int rc = nested(&r, NESTED, DEV, PARENT, 0, t, data_size(t), w);
	down(&r);
	return rc;
}

START_TEST(arm_ste_rules)
{
	/* arm_smmu_validate_vste(): only the guest's STE fields, Config
	 * abort, bypass or stage-1; V clear is an abort STE. */
	uint64_t w[2] = {1 | (5ull << 1) | 0x80000000, 0};
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), 0);
	w[0] = 1 | (4ull << 1);
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), 0);
	w[0] = 1 | (6ull << 1); /* stage 2 only: the host's */
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), -EIO);
	w[0] = 1 | (5ull << 1) | (1ull << 53); /* beyond S1ContextPtr */
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), -EIO);
	w[0] = 1 | (5ull << 1);
	w[1] = 1ull << 32; /* not a guest field of word 1 */
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), -EIO);
	w[1] = 2ull << 28; /* EATS 0b10 (split-stage ATS): only 0b00 and 0b01 */
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), -EIO);
	w[1] = 3ull << 28;
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), -EIO);
	w[1] = 1ull << 28;
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), 0);
	w[0] = 6ull << 1; /* V clear: whatever else, an abort STE */
	w[1] = ~0ull;
	ck_assert_int_eq(try_data(IMS_FMT_SMMUV3_S2, w), 0);
}
END_TEST

START_TEST(amd_gdte_rules)
{
	/* validate_gdte_nested(). */
	uint64_t w[4] = {1 | (1ull << 55) | (1ull << 58), 0, 0, 0};
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), 0);
	w[0] |= 4ull << 9; /* Mode: the host's */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), -EINVAL);
	w[0] = 1 | (1ull << 55) | (0x1234ull << 12); /* host table root */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), -EINVAL);
	w[0] = 1 | (1ull << 55); /* V and GV without a GCR3 table */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), -EINVAL);
	w[1] = 1ull << 43; /* GCR3 root bit 31 */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), 0);
	w[2] = 2ull << 54; /* guest paging mode 2 */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), -EINVAL);
	w[2] = 1ull << 54; /* 5-level */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), 0);
	w[0] |= 3ull << 56; /* GLX = 3 is reserved */
	ck_assert_int_eq(try_data(IMS_FMT_AMDV1, w), -EINVAL);
}
END_TEST

/* Without the legacy reading, pt_id a parent HWPT is VT-d's alone:
 * iommufd_hwpt_nested_alloc() needs ops->domain_alloc_nested, which the
 * SMMUv3 and AMD drivers do not have. */
START_TEST(parent_pt_id_is_vtd_only)
{
	struct rig r;
	up(&r, s2s[_i]);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t w[4];
	uint32_t t = good_data(&r, w);
	struct ims_iommufd_hwpt_alloc a = {.dev_id = DEV, .pt_id = PARENT, .hwpt_id = NESTED,
					   .pt_is_hwpt = true, .data_type = t,
					   .data_len = data_size(t), .data = w};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &a, NULL, 0),
			 r.s2 == IMS_FMT_VTD ? 0 : -EOPNOTSUPP);
	down(&r);
}
END_TEST

START_TEST(vtd_addr_width_at_attach)
{
	struct rig r;
	up(&r, IMS_FMT_VTD);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t w[3] = {0, 0x80000000, 39};
	/* intel/nested.c takes any width; intel_pasid_setup_nested() refuses it. */
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, 24, w), 0);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, DEV, NESTED), -EINVAL);
	w[2] = 57;
	ck_assert_int_eq(nested(&r, NESTED + 1, DEV, PARENT, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, 24, w), 0);
	ck_assert_int_eq(ims_iommufd_attach(r.fd, DEV, NESTED + 1), 0);
	down(&r);
}
END_TEST

struct seen {
	unsigned n;
	uint64_t iova[8], size[8];
	bool leaf[8];
};

static int on_inv(void *arg, uint32_t hwpt, uint64_t iova, uint64_t size, bool leaf)
{
	struct seen *s = arg;
	ck_assert_uint_eq(hwpt, NESTED);
	if (s->n < 8) {
		s->iova[s->n] = iova;
		s->size[s->n] = size;
		s->leaf[s->n] = leaf;
	}
	s->n++;
	return 0;
}

static int inv(struct rig *r, uint32_t hwpt, uint32_t type, uint32_t len, uint32_t num,
	       const void *data, struct seen *s, uint32_t *done)
{
	struct ims_iommufd_invalidate c = {.hwpt_id = hwpt, .data_type = type, .entry_len = len,
					   .entry_num = num, .data = data, .inv = on_inv, .arg = s};
	int rc = ims_iommufd_invalidate(r->fd, &c);
	*done = c.entry_num;
	return rc;
}

START_TEST(vtd_invalidate_rules)
{
	struct rig r;
	struct seen s = {0};
	uint32_t done;
	up(&r, IMS_FMT_VTD);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t w[3] = {0, 0x80000000, 48};
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, 24, w), 0);
	/* addr, npages, flags | reserved << 32: three entries. */
	uint64_t e[9] = {0x10000, 2, 1, 0, UINT64_MAX, 0, 0x3000, 1, 0};
	struct ims_iommufd_invalidate c = {.hwpt_id = NESTED, .entry_len = 24, .entry_num = 1,
					   .data = e, .reserved = 1};
	ck_assert_int_eq(ims_iommufd_invalidate(r.fd, &c), -EOPNOTSUPP);
	ck_assert_uint_eq(c.entry_num, 0);
	ck_assert_int_eq(inv(&r, NESTED, 0, 0, 1, e, &s, &done), -EINVAL); /* entry_len 0 */
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 1, NULL, &s, &done), -EINVAL);
	ck_assert_int_eq(inv(&r, 77, 0, 24, 1, e, &s, &done), -ENOENT);
	ck_assert_int_eq(inv(&r, PARENT, 0, 24, 1, e, &s, &done), -EINVAL); /* not nested */
	ck_assert_int_eq(inv(&r, NESTED, 1, 24, 1, e, &s, &done), -EINVAL); /* type */
	ck_assert_int_eq(inv(&r, NESTED, 0, 16, 1, e, &s, &done), -EINVAL); /* short entry */
	ck_assert_int_eq(inv(&r, NESTED, 0, 32, 1, e, &s, &done), -EINVAL); /* longer */
	ck_assert_int_eq(inv(&r, NESTED, 0, 4097, 1, e, &s, &done), -EINVAL); /* above a page */
	ck_assert_uint_eq(s.n, 0);
	/* All three: a leaf range, everything, one page. */
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 3, e, &s, &done), 0);
	ck_assert_uint_eq(done, 3);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.iova[0], 0x10000);
	ck_assert_uint_eq(s.size[0], 0x2000);
	ck_assert(s.leaf[0]);
	ck_assert_uint_eq(s.size[1], 0);
	ck_assert_uint_eq(s.size[2], 0x1000);
	ck_assert(!s.leaf[2]);
	/* An entry's own errors stop the array there: entry_num says how
	 * many were done. */
	e[5] = 2; /* flags bit 1 */
	s.n = 0;
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 3, e, &s, &done), -EOPNOTSUPP);
	ck_assert_uint_eq(done, 1);
	e[5] = 1ull << 32; /* __reserved */
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 3, e, &s, &done), -EOPNOTSUPP);
	e[5] = 0;
	e[3] = 0x800; /* not 4 KiB aligned */
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 3, e, &s, &done), -EINVAL);
	ck_assert_uint_eq(done, 1);
	e[3] = 0x1000; /* npages UINT64_MAX needs addr 0 */
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 3, e, &s, &done), -EINVAL);
	/* No entry at all is a success. */
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 0, NULL, &s, &done), 0);
	down(&r);
}
END_TEST

START_TEST(arm_invalidate_rules)
{
	struct rig r;
	struct seen s = {0};
	uint32_t done;
	up(&r, IMS_FMT_SMMUV3_S2);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t w[2] = {1 | (5ull << 1) | 0x80000000, 0};
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, IMS_IOMMU_HWPT_DATA_ARM_SMMUV3, 16, w), 0);
	/* CMD_TLBI_NH_VA (leaf), CMD_CFGI_CD, then a stage-2 command. */
	uint64_t c[6] = {0x12, 0x5000 | 1, 0x05, 0, 0x2a /* CMD_TLBI_S2_IPA */, 0};
	ck_assert_int_eq(inv(&r, NESTED, 0, 16, 2, c, &s, &done), -EINVAL); /* type */
	ck_assert_int_eq(inv(&r, NESTED, 1, 16, 2, c, &s, &done), 0);
	ck_assert_uint_eq(done, 2);
	ck_assert_uint_eq(s.iova[0], 0x5000);
	ck_assert(s.leaf[0]);
	ck_assert_uint_eq(s.size[1], 0);
	s.n = 0;
	ck_assert_int_eq(inv(&r, NESTED, 1, 16, 3, c, &s, &done), -EIO);
	ck_assert_uint_eq(done, 2);
	down(&r);
}
END_TEST

START_TEST(amd_invalidate_unsupported)
{
	struct rig r;
	struct seen s = {0};
	uint32_t done;
	up(&r, IMS_FMT_AMDV1);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	uint64_t w[4];
	uint32_t t = good_data(&r, w);
	ck_assert_int_eq(nested(&r, NESTED, DEV, PARENT, 0, t, 32, w), 0);
	ck_assert_int_eq(inv(&r, NESTED, 0, 24, 1, w, &s, &done), -EOPNOTSUPP);
	ck_assert_uint_eq(s.n, 0);
	down(&r);
}
END_TEST

/* The SMMU stage-2 commands the software submits, in order. */
struct cmds {
	unsigned n;
	uint64_t w0[64];
};

static int rec_submit(void *a, enum ims_format f, const uint64_t c[2])
{
	struct cmds *s = a;
	ck_assert_int_eq(f, IMS_FMT_SMMUV3_S2);
	ck_assert_uint_lt(s->n, 64);
	s->w0[s->n++] = c[0];
	return 0;
}

static unsigned count(const struct cmds *s, uint64_t op, uint16_t vmid)
{
	unsigned k = 0;
	for (unsigned i = 0; i < s->n; i++)
		k += (s->w0[i] & SMMU_CMD_OP_MASK) == op &&
		     ((s->w0[i] >> SMMU_CMD_VMID_SHIFT) & SMMU_CMD_VMID_MASK) == vmid;
	return k;
}

/* The opcode of the last command to vmid (0: none). */
static uint64_t last_op(const struct cmds *s, uint16_t vmid)
{
	uint64_t op = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (((s->w0[i] >> SMMU_CMD_VMID_SHIFT) & SMMU_CMD_VMID_MASK) == vmid)
			op = s->w0[i] & SMMU_CMD_OP_MASK;
	return op;
}

/* A nesting parent's stage-2 range invalidation (CMD_TLBI_S2_IPA) is
 * followed by CMD_TLBI_NH_ALL of its VMID, which a domain allocated
 * without NEST_PARENT does not send (Linux arm_smmu_tlb_inv_range_domain;
 * IHI0070 4.4.3); the whole-VMID CMD_TLBI_S12_VMALL needs nothing more. */
START_TEST(arm_nest_parent_range_flush)
{
	struct rig r;
	struct cmds s = {0};
	struct ims_sink sink = {&s, rec_submit, nop_update, nop_flush, NULL, NULL, NULL};
	up_sink(&r, IMS_FMT_SMMUV3_S2, &sink);
	ck_assert_int_eq(paging(&r, PARENT, DEV, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), 0);
	ck_assert_int_eq(paging(&r, PLAIN, DEV, 0), 0);
	struct ims_pt *parent = ims_iommufd_hwpt_pt(r.fd, PARENT);
	struct ims_pt *plain = ims_iommufd_hwpt_pt(r.fd, PLAIN);
	ck_assert(ims_pt_nest_parent(parent));
	ck_assert(!ims_pt_nest_parent(plain));
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x200000, 0x4000,
					      IMS_PROT_R | IMS_PROT_W),
			 0);
	s.n = 0;
	uint64_t unmapped = 0;
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x100000, 0x4000, &unmapped), 0);
	ck_assert_uint_eq(unmapped, 0x4000);
	ck_assert_uint_ge(count(&s, SMMU_CMD_TLBI_S2_IPA, PARENT), 1);
	ck_assert_uint_eq(count(&s, SMMU_CMD_TLBI_NH_ALL, PARENT), 1);
	ck_assert_uint_eq(last_op(&s, PARENT), SMMU_CMD_TLBI_NH_ALL);
	ck_assert_uint_ge(count(&s, SMMU_CMD_TLBI_S2_IPA, PLAIN), 1);
	ck_assert_uint_eq(count(&s, SMMU_CMD_TLBI_NH_ALL, PLAIN), 0);
	/* The whole VMID. */
	s.n = 0;
	ck_assert_int_eq(ims_pt_flush(parent, 0, 0), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(count(&s, SMMU_CMD_TLBI_S12_VMALL, PARENT), 1);
	/* A domain made a parent later (a trace's `nested=`) flushes as one. */
	ims_pt_set_nest_parent(plain);
	ck_assert(ims_pt_nest_parent(plain));
	s.n = 0;
	ck_assert_int_eq(ims_pt_flush(plain, 0x100000, 0x4000), 0);
	ck_assert_uint_ge(count(&s, SMMU_CMD_TLBI_S2_IPA, PLAIN), 1);
	ck_assert_uint_eq(count(&s, SMMU_CMD_TLBI_NH_ALL, PLAIN), 1);
	ck_assert_uint_eq(last_op(&s, PLAIN), SMMU_CMD_TLBI_NH_ALL);
	down(&r);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("iommufd_nested");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, nest_parent_needs_a_stage2_format, 0, 3);
	tcase_add_loop_test(tc, nested_alloc_rules, 0, 3);
	tcase_add_test(tc, arm_ste_rules);
	tcase_add_test(tc, amd_gdte_rules);
	tcase_add_loop_test(tc, parent_pt_id_is_vtd_only, 0, 3);
	tcase_add_test(tc, vtd_addr_width_at_attach);
	tcase_add_test(tc, vtd_invalidate_rules);
	tcase_add_test(tc, arm_invalidate_rules);
	tcase_add_test(tc, amd_invalidate_unsupported);
	tcase_add_test(tc, arm_nest_parent_range_flush);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
