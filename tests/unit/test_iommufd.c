/* The iommufd front end (uapi/iommufd.c, docs/uapi.md) with the model
 * as the hardware behind it: every rule of dirty-semantics.md "iommufd
 * GET_DIRTY_BITMAP and VFIO type1" and "set_dirty_tracking", and the
 * iommufd selftest catalogue (enforce_dirty, set_dirty_tracking,
 * device_dirty_capability, get_dirty_bitmap, get_dirty_bitmap_no_clear),
 * written from those rules. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"
#include "iommusim/model.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

#define DEV_OK 0x10  /* its IOMMU can track dirty pages */
#define DEV_NO 0x18  /* its IOMMU cannot */
#define DEV_VTD 0x20 /* an IOMMU of another format */
#define IOAS 7
#define HWPT 3

struct rig {
	enum ims_format fmt;
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_iommufd *fd;
	unsigned submits;
};

static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct rig *r = arg;
	r->submits++;
	return ims_iommu_submit(r->mmu, fmt, cmd);
}
static int sink_ctx_update(void *arg, uint16_t tag, unsigned w, uint64_t c, uint64_t s)
{
	return ims_iommu_ctx_update(((struct rig *)arg)->mmu, tag, w, c, s);
}
static int sink_ctx_flush(void *arg, uint16_t tag)
{
	return ims_iommu_ctx_invalidate(((struct rig *)arg)->mmu, tag);
}

static void rig_up(struct rig *r, enum ims_format fmt)
{
	memset(r, 0, sizeof(*r));
	r->fmt = fmt;
	r->mem = ims_mem_new();
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	ck_assert_int_eq(ims_iommufd_new(r->mem, &sink, &r->fd), 0);
	struct ims_iommufd_hw_info ok = {fmt, IMS_IOMMU_HW_CAP_DIRTY_TRACKING};
	struct ims_iommufd_hw_info no = {fmt, 0};
	struct ims_iommufd_hw_info other = {fmt == IMS_FMT_VTD ? IMS_FMT_AMDV1 : IMS_FMT_VTD,
					    IMS_IOMMU_HW_CAP_DIRTY_TRACKING};
	ck_assert_int_eq(ims_iommufd_bind(r->fd, DEV_OK, &ok), 0);
	ck_assert_int_eq(ims_iommufd_bind(r->fd, DEV_NO, &no), 0);
	ck_assert_int_eq(ims_iommufd_bind(r->fd, DEV_VTD, &other), 0);
	ck_assert_int_eq(ims_iommufd_ioas_alloc(r->fd, IOAS), 0);
}

static void rig_down(struct rig *r)
{
	ims_iommufd_free(r->fd);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

/* IOMMU_HWPT_ALLOC, then the hardware context the driver programs. */
static int hwpt(struct rig *r, uint16_t id, uint32_t dev, uint32_t flags, uint64_t pgsizes)
{
	struct ims_iommufd_hwpt_alloc a = {.flags = flags, .dev_id = dev, .pt_id = IOAS,
					   .hwpt_id = id, .pgsizes = pgsizes};
	char err[160];
	int rc = ims_iommufd_hwpt_alloc(r->fd, &a, err, sizeof(err));
	if (rc)
		return rc;
	uint64_t w[IMS_CTX_WORDS];
	struct ims_pt *pt = ims_iommufd_hwpt_pt(r->fd, id);
	ck_assert_ptr_nonnull(pt);
	ims_pt_ctx_words(pt, w);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, id, ims_pt_format(pt), w, err, sizeof(err)), 0);
	return 0;
}

static int attach(struct rig *r, uint32_t dev, uint16_t id)
{
	int rc = ims_iommufd_attach(r->fd, dev, id);
	if (!rc)
		ck_assert_int_eq(ims_iommu_attach(r->mmu, dev, id), 0);
	return rc;
}

static void dirty_hwpt(struct rig *r, uint64_t pgsizes)
{
	ck_assert_int_eq(hwpt(r, HWPT, DEV_OK, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, pgsizes), 0);
	ck_assert_int_eq(attach(r, DEV_OK, HWPT), 0);
}

static void dma_write(struct rig *r, uint64_t iova)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r->mmu, DEV_OK, iova, IMS_ACC_W, &x), 0);
}

static int get_bitmap(struct rig *r, uint64_t iova, uint64_t length, uint64_t page_size,
		      uint32_t flags, void *data, uint64_t len)
{
	struct ims_iommufd_dirty_bitmap c = {.hwpt_id = HWPT, .flags = flags, .iova = iova,
					     .length = length, .page_size = page_size,
					     .data = data, .data_len = len};
	return ims_iommufd_get_dirty_bitmap(r->fd, &c);
}

static unsigned popcount(const unsigned char *b, size_t n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i++)
		c += (unsigned)__builtin_popcount(b[i]);
	return c;
}

static bool bit(const unsigned char *b, uint64_t k)
{
	return (b[k / 8] >> (k % 8)) & 1;
}

/* ---- GET_HW_INFO, HWPT_ALLOC, attach ------------------------------------------ */

START_TEST(device_dirty_capability)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	struct ims_iommufd_hw_info info;
	ck_assert_int_eq(ims_iommufd_get_hw_info(r.fd, DEV_OK, &info), 0);
	ck_assert_uint_eq(info.out_capabilities & IMS_IOMMU_HW_CAP_DIRTY_TRACKING,
			  IMS_IOMMU_HW_CAP_DIRTY_TRACKING);
	ck_assert_int_eq(info.fmt, IMS_FMT_AMDV1);
	ck_assert_int_eq(ims_iommufd_get_hw_info(r.fd, DEV_NO, &info), 0);
	ck_assert_uint_eq(info.out_capabilities & IMS_IOMMU_HW_CAP_DIRTY_TRACKING, 0);
	ck_assert_int_eq(ims_iommufd_get_hw_info(r.fd, 0x99, &info), -ENOENT);
	struct ims_iommufd_hw_info again = {IMS_FMT_AMDV1, 0};
	ck_assert_int_eq(ims_iommufd_bind(r.fd, DEV_OK, &again), -EEXIST);
	rig_down(&r);
}
END_TEST

START_TEST(hwpt_alloc_rules)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	/* DIRTY_TRACKING on a device whose IOMMU lacks it. */
	ck_assert_int_eq(hwpt(&r, 1, DEV_NO, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0), -EOPNOTSUPP);
	ck_assert_ptr_null(ims_iommufd_hwpt_pt(r.fd, 1));
	/* Unknown flags (a nesting parent: test_iommufd_nested.c). */
	ck_assert_int_eq(hwpt(&r, 1, DEV_OK, 1u << 5, 0), -EOPNOTSUPP);
	/* Unknown device or IOAS. */
	ck_assert_int_eq(hwpt(&r, 1, 0x77, 0, 0), -ENOENT);
	struct ims_iommufd_hwpt_alloc a = {.dev_id = DEV_OK, .pt_id = 99, .hwpt_id = 1};
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &a, NULL, 0), -ENOENT);
	/* A geometry the format cannot build. */
	char err[160];
	a.pt_id = IOAS;
	a.levels = 9;
	ck_assert_int_eq(ims_iommufd_hwpt_alloc(r.fd, &a, err, sizeof(err)), -EINVAL);
	ck_assert(err[0] != '\0');
	/* Without the flag any device gets one; with it a capable one does. */
	ck_assert_int_eq(hwpt(&r, 1, DEV_NO, 0, 0), 0);
	ck_assert_int_eq(hwpt(&r, 2, DEV_OK, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0), 0);
	ck_assert_int_eq(hwpt(&r, 2, DEV_OK, 0, 0), -EEXIST);
	bool dirty;
	uint32_t ioas;
	ck_assert_int_eq(ims_iommufd_hwpt_info(r.fd, 2, &dirty, &ioas), 0);
	ck_assert(dirty);
	ck_assert_uint_eq(ioas, IOAS);
	ck_assert_int_eq(ims_iommufd_hwpt_info(r.fd, 1, &dirty, NULL), 0);
	ck_assert(!dirty);
	ck_assert_int_eq(ims_iommufd_hwpt_info(r.fd, 5, &dirty, NULL), -ENOENT);
	/* The domain is of the device's format. */
	ck_assert_int_eq(hwpt(&r, 4, DEV_VTD, 0, 0), 0);
	ck_assert_int_eq(ims_pt_format(ims_iommufd_hwpt_pt(r.fd, 4)), IMS_FMT_VTD);
	rig_down(&r);
}
END_TEST

START_TEST(enforce_dirty)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	ck_assert_int_eq(hwpt(&r, 1, DEV_OK, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0), 0);
	ck_assert_int_eq(hwpt(&r, 2, DEV_OK, 0, 0), 0);
	/* A dirty-tracking domain refuses a device without the capability. */
	ck_assert_int_eq(attach(&r, DEV_NO, 1), -EINVAL);
	uint32_t h;
	ck_assert_int_eq(ims_iommufd_dev_hwpt(r.fd, DEV_NO, &h), -ENOENT);
	ck_assert_int_eq(attach(&r, DEV_OK, 1), 0);
	ck_assert_int_eq(ims_iommufd_dev_hwpt(r.fd, DEV_OK, &h), 0);
	ck_assert_uint_eq(h, 1);
	/* A domain without the flag takes it; a domain of another format
	 * takes no device of this one. */
	ck_assert_int_eq(attach(&r, DEV_NO, 2), 0);
	ck_assert_int_eq(attach(&r, DEV_VTD, 2), -EINVAL);
	ck_assert_int_eq(attach(&r, 0x55, 2), -ENOENT);
	ck_assert_int_eq(attach(&r, DEV_OK, 9), -ENOENT);
	/* Moving a device keeps the rule. */
	ck_assert_int_eq(attach(&r, DEV_OK, 2), 0);
	ck_assert_int_eq(attach(&r, DEV_NO, 1), -EINVAL);
	rig_down(&r);
}
END_TEST

/* ---- IOAS map / unmap ----------------------------------------------------------- */

START_TEST(ioas_map_rules)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	/* Areas mapped before the HWPT exists reach it at allocation. */
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	dirty_hwpt(&r, 0);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV_OK, 0x101234, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x40001234);
	/* Later areas are mapped into it too. */
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x200000, 0x50000000, 8 * KiB, IMS_PROT_R), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV_OK, 0x201000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x50001000);
	ck_assert_int_gt(ims_iommu_access(r.mmu, DEV_OK, 0x201000, IMS_ACC_W, &x), 0);
	/* Errors change nothing. */
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x10f000, 0x60000000, 8 * KiB, IMS_PROT_RW), -EEXIST);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x300800, 0x60000000, 4 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x300000, 0x60000800, 4 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x300000, 0x60000000, 0, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x300000, 0x60000000, 4 * KiB, 0), -EINVAL);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, ~0ull - 0xfff, 0, 8 * KiB, IMS_PROT_RW), -EOVERFLOW);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, 99, 0x300000, 0, 4 * KiB, IMS_PROT_RW), -ENOENT);
	/* Outside the domain's IOVA space (AMD 4 levels: 48 bits). */
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 1ull << 50, 0, 4 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV_OK, 0x300000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_int_eq(ims_iommufd_ioas_alloc(r.fd, IOAS), -EEXIST);
	rig_down(&r);
}
END_TEST

START_TEST(ioas_unmap_rules)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	dirty_hwpt(&r, 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x110000, 0x50000000, 64 * KiB, IMS_PROT_RW), 0);
	uint64_t n = 1;
	/* Splitting or truncating an area. */
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x100000, 32 * KiB, &n), -ENOENT);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x108000, 64 * KiB, &n), -ENOENT);
	/* Nothing there; zero length; wrap. */
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x400000, 64 * KiB, &n), -ENOENT);
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x100000, 0, &n), -EINVAL);
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x100000, ~0ull, &n), -EOVERFLOW);
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, 99, 0x100000, 64 * KiB, &n), -ENOENT);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV_OK, 0x100000, IMS_ACC_R, &x), 0);
	/* A superset of whole areas. */
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0xf0000, 0x30000, &n), 0);
	ck_assert_uint_eq(n, 128 * KiB);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV_OK, 0x100000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	/* 0 .. U64_MAX unmaps everything. */
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 8 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x7000000000, 0x50000000, 4 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0, ~0ull, &n), 0);
	ck_assert_uint_eq(n, 12 * KiB);
	ck_assert_uint_eq(ims_pt_stats(ims_iommufd_hwpt_pt(r.fd, HWPT))->table_pages, 1);
	rig_down(&r);
}
END_TEST

/* Dirty state in unmapped entries is discarded: userspace reads with
 * NO_CLEAR and then unmaps. */
START_TEST(ioas_unmap_discards_dirty)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	dirty_hwpt(&r, 4 * KiB);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	dma_write(&r, 0x103000);
	unsigned char bm[8] = {0};
	/* The read that must come first, without clearing. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB,
				    IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, bm, sizeof(bm)), 0);
	ck_assert_uint_eq(bm[0], 0x08);
	ck_assert_int_eq(ims_iommufd_ioas_unmap(r.fd, IOAS, 0x100000, 64 * KiB, NULL), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, bm, sizeof(bm)), 0);
	ck_assert_uint_eq(popcount(bm, sizeof(bm)), 0);
	rig_down(&r);
}
END_TEST

/* ---- SET_DIRTY_TRACKING ----------------------------------------------------------- */

START_TEST(set_dirty_tracking)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	dirty_hwpt(&r, 0);
	ck_assert_int_eq(hwpt(&r, 4, DEV_OK, 0, 0), 0);
	const uint32_t en = IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, en | 2), -EOPNOTSUPP);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, 1u << 31), -EOPNOTSUPP);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, 4, en), -EOPNOTSUPP);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, 9, en), -ENOENT);
	struct ims_pt *pt = ims_iommufd_hwpt_pt(r.fd, HWPT);
	ck_assert(!ims_pt_tracking(pt));
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, en), 0);
	ck_assert(ims_pt_tracking(pt));
	ck_assert(ims_iommu_ctx_dirty_enabled(r.mmu, HWPT));
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, 0), 0);
	ck_assert(!ims_pt_tracking(pt));
	ck_assert(!ims_iommu_ctx_dirty_enabled(r.mmu, HWPT));
	rig_down(&r);
}
END_TEST

/* Enable clears every dirty bit first and flushes; disable clears nothing. */
START_TEST(set_dirty_tracking_clears_on_enable_only)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	dirty_hwpt(&r, 4 * KiB);
	const uint32_t en = IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, en), 0);
	dma_write(&r, 0x102000);
	const struct ims_mem_counters *mc = ims_mem_counters(r.mem);
	uint64_t rmw = mc->ops[IMS_AGENT_SW][IMS_MEM_RMW], st = mc->ops[IMS_AGENT_SW][IMS_MEM_STORE];
	unsigned submits = r.submits;
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, 0), 0);
	/* Disable: no page-table entry was cleaned. */
	ck_assert_uint_eq(mc->ops[IMS_AGENT_SW][IMS_MEM_RMW], rmw);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_SW][IMS_MEM_STORE], st);
	/* Enable: the stale bit is cleaned and the range flushed before
	 * tracking starts, so the first read reports nothing. */
	submits = r.submits;
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, en), 0);
	ck_assert_uint_gt(mc->ops[IMS_AGENT_SW][IMS_MEM_RMW], rmw);
	ck_assert_uint_gt(r.submits, submits);
	unsigned char bm[8] = {0};
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, bm, sizeof(bm)), 0);
	ck_assert_uint_eq(popcount(bm, sizeof(bm)), 0);
	/* A write after the flush is seen (no stale IOTLB entry held it). */
	dma_write(&r, 0x102000);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, bm, sizeof(bm)), 0);
	ck_assert_uint_eq(bm[0], 0x04);
	rig_down(&r);
}
END_TEST

/* ---- GET_DIRTY_BITMAP: every rule ------------------------------------------------- */

START_TEST(get_dirty_bitmap_rules)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	dirty_hwpt(&r, 0);
	ck_assert_int_eq(hwpt(&r, 4, DEV_OK, 0, 0), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x110000, 0x50000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x140000, 0x60000000, 64 * KiB, IMS_PROT_RW), 0);
	unsigned char bm[64] = {0};
	const uint32_t nc = IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	/* Tracking off, with a bitmap. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	/* flags other than NO_CLEAR, reserved non-zero. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 2, bm, sizeof(bm)), -EOPNOTSUPP);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, nc | 0x80000000u, bm, sizeof(bm)),
			 -EOPNOTSUPP);
	struct ims_iommufd_dirty_bitmap c = {.hwpt_id = HWPT, .reserved = 1, .iova = 0x100000,
					     .length = 64 * KiB, .page_size = 4 * KiB,
					     .data = bm, .data_len = sizeof(bm)};
	ck_assert_int_eq(ims_iommufd_get_dirty_bitmap(r.fd, &c), -EOPNOTSUPP);
	/* A HWPT without dirty tracking support; no HWPT. */
	c.reserved = 0;
	c.hwpt_id = 4;
	ck_assert_int_eq(ims_iommufd_get_dirty_bitmap(r.fd, &c), -EOPNOTSUPP);
	c.hwpt_id = 77;
	ck_assert_int_eq(ims_iommufd_get_dirty_bitmap(r.fd, &c), -ENOENT);
	/* page_size 0 (and not a power of two), length 0. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 0, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 12 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 0, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	/* Overflow of iova + length. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, ~0ull, 4 * KiB, 0, bm, sizeof(bm)), -EOVERFLOW);
	ck_assert_int_eq(get_bitmap(&r, ~0ull - 0xfff, 8 * KiB, 4 * KiB, 0, bm, sizeof(bm)), -EOVERFLOW);
	/* Alignment of iova and of iova + length to page_size. */
	ck_assert_int_eq(get_bitmap(&r, 0x100800, 60 * KiB, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 62 * KiB, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x108000, 64 * KiB, 64 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	/* The bitmap's size: length / page_size bits in whole u64 words. */
	ck_assert_uint_eq(ims_iommufd_bitmap_bytes(64 * KiB, 4 * KiB), 8);
	ck_assert_uint_eq(ims_iommufd_bitmap_bytes(65 * 4 * KiB, 4 * KiB), 16);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, bm, 7), -EFAULT);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, NULL, 8), -EFAULT);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, 0, bm, 8), 0);
	/* Contiguous areas: two adjacent ones are one range; a gap or an
	 * unmapped tail is not. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 128 * KiB, 4 * KiB, 0, bm, sizeof(bm)), 0);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 0x50000, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x140000, 128 * KiB, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0xff000, 8 * KiB, 4 * KiB, 0, bm, sizeof(bm)), -EINVAL);
	/* Part of an area is fine. */
	ck_assert_int_eq(get_bitmap(&r, 0x10c000, 8 * KiB, 4 * KiB, 0, bm, sizeof(bm)), 0);
	ck_assert_uint_eq(popcount(bm, sizeof(bm)), 0);
	rig_down(&r);
}
END_TEST

START_TEST(get_dirty_bitmap_page_sizes_and_no_clear)
{
	struct rig r;
	rig_up(&r, IMS_FMT_AMDV1);
	dirty_hwpt(&r, 0);
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, 0x200000, 0x40200000, 4 * MiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	/* One byte into a 2 MiB leaf: the whole leaf is dirty. */
	dma_write(&r, 0x400123);
	unsigned char bm[256];
	memset(bm, 0, sizeof(bm));
	/* 2 MiB bits. */
	ck_assert_int_eq(get_bitmap(&r, 0x200000, 4 * MiB, 2 * MiB,
				    IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x2);
	/* 4 KiB bits: 512 of them, bits 512..1023. */
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x200000, 4 * MiB, 4 * KiB,
				    IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, bm, 128), 0);
	ck_assert_uint_eq(popcount(bm, 128), 512);
	ck_assert(bit(bm, 512) && bit(bm, 1023) && !bit(bm, 511) && !bit(bm, 0));
	/* A range that covers part of the leaf reports only its part. */
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x3ff000, 8 * KiB, 4 * KiB,
				    IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x2);
	/* The call only sets bits: a bit already set stays set. */
	memset(bm, 0, sizeof(bm));
	bm[0] = 0x01;
	ck_assert_int_eq(get_bitmap(&r, 0x200000, 4 * MiB, 2 * MiB, 0, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x3);
	/* That read cleared: the next one is empty. */
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x200000, 4 * MiB, 2 * MiB, 0, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0);
	rig_down(&r);
}
END_TEST

/* ---- the selftest catalogue: get_dirty_bitmap(_no_clear) ----------------------------
 *
 * Buffers of 8K .. 128M, the last two also with huge mappings; bitmaps at
 * an aligned address, one page in, and 0xff1 in (unaligned); one page
 * dirtied in every second entry (entry = the leaf the buffer is mapped
 * with); read: exactly those entries' bits; read again: nothing (or the
 * same with NO_CLEAR). Over each format. */

static const uint64_t buf_sizes[] = {8 * KiB, 16 * KiB, 64 * KiB, 128 * KiB, 320 * KiB,
				     64 * MiB, 128 * MiB};
#define NSIZES (sizeof(buf_sizes) / sizeof(buf_sizes[0]))
static const uint64_t offsets[] = {0, 4096, 0xff1};
#define NVARIANTS ((NSIZES + 2) * 3 * IMS_FMT_COUNT)

struct variant {
	uint64_t size;
	bool huge;
	uint64_t offset;
	enum ims_format fmt;
};

static struct variant variant(int i)
{
	struct variant v;
	v.fmt = (enum ims_format)(i % IMS_FMT_COUNT);
	i /= IMS_FMT_COUNT;
	v.offset = offsets[i % 3];
	i /= 3;
	v.huge = (unsigned)i >= NSIZES;
	v.size = v.huge ? buf_sizes[NSIZES - 2 + ((unsigned)i - NSIZES)] : buf_sizes[i];
	return v;
}

static void catalogue(int i, bool no_clear)
{
	struct variant v = variant(i);
	if (!strcmp(ims_format_name(v.fmt), "?"))
		return; /* an enum value no built-in format has */
	struct rig r;
	rig_up(&r, v.fmt);
	/* Huge mappings: 2 MiB leaves where alignment allows; otherwise 4K. */
	uint64_t entry = v.huge ? 2 * MiB : 4 * KiB;
	uint64_t pgsizes = v.huge ? (4 * KiB | 2 * MiB) : 4 * KiB;
	dirty_hwpt(&r, pgsizes);
	const uint64_t iova = 1 * GiB, pa = 4 * GiB;
	ck_assert_int_eq(ims_iommufd_ioas_map(r.fd, IOAS, iova, pa, v.size, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_iommufd_set_dirty_tracking(r.fd, HWPT, IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	uint64_t nbits = v.size / (4 * KiB), nent = v.size / entry, per = entry / (4 * KiB);
	/* One page of every second entry, at a page that moves within it. */
	for (uint64_t e = 0; e < nent; e += 2)
		dma_write(&r, iova + e * entry + ((e / 2) % per) * 4 * KiB + 0x18);
	uint64_t bytes = ims_iommufd_bitmap_bytes(v.size, 4 * KiB);
	const uint64_t guard = 64;
	unsigned char *raw = calloc(1, v.offset + bytes + guard);
	unsigned char *bm = raw + v.offset;
	uint32_t flags = no_clear ? IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0;
	ck_assert_int_eq(get_bitmap(&r, iova, v.size, 4 * KiB, flags, bm, bytes), 0);
	for (uint64_t k = 0; k < nbits; k++)
		if (bit(bm, k) != ((k / per) % 2 == 0))
			ck_abort_msg("fmt %s size 0x%llx%s offset 0x%llx: bit %llu is %d",
				     ims_format_name(v.fmt), (unsigned long long)v.size,
				     v.huge ? " huge" : "", (unsigned long long)v.offset,
				     (unsigned long long)k, bit(bm, k));
	/* Nothing outside the bitmap was touched. */
	for (uint64_t k = 0; k < v.offset; k++)
		ck_assert_uint_eq(raw[k], 0);
	for (uint64_t k = (nbits + 7) / 8; k < bytes + guard; k++)
		ck_assert_uint_eq(bm[k], 0);
	/* Again. */
	unsigned char *first = malloc(bytes);
	memcpy(first, bm, bytes);
	memset(bm, 0, bytes);
	ck_assert_int_eq(get_bitmap(&r, iova, v.size, 4 * KiB, flags, bm, bytes), 0);
	if (no_clear)
		ck_assert_int_eq(memcmp(first, bm, bytes), 0);
	else
		ck_assert_uint_eq(popcount(bm, bytes), 0);
	free(first);
	free(raw);
	rig_down(&r);
}

START_TEST(get_dirty_bitmap)
{
	catalogue(_i, false);
}
END_TEST

START_TEST(get_dirty_bitmap_no_clear)
{
	catalogue(_i, true);
}
END_TEST

/* The variant table covers every size, offset and format, huge twice. */
START_TEST(catalogue_coverage)
{
	unsigned huge = 0, seen[NSIZES] = {0};
	for (int i = 0; i < (int)NVARIANTS; i++) {
		struct variant v = variant(i);
		for (unsigned s = 0; s < NSIZES; s++)
			if (buf_sizes[s] == v.size && !v.huge)
				seen[s]++;
		huge += v.huge;
		ck_assert(!v.huge || v.size >= 64 * MiB);
	}
	for (unsigned s = 0; s < NSIZES; s++)
		ck_assert_uint_eq(seen[s], 3 * IMS_FMT_COUNT);
	ck_assert_uint_eq(huge, 2 * 3 * IMS_FMT_COUNT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("iommufd");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, device_dirty_capability);
	tcase_add_test(tc, hwpt_alloc_rules);
	tcase_add_test(tc, enforce_dirty);
	tcase_add_test(tc, ioas_map_rules);
	tcase_add_test(tc, ioas_unmap_rules);
	tcase_add_test(tc, ioas_unmap_discards_dirty);
	tcase_add_test(tc, set_dirty_tracking);
	tcase_add_test(tc, set_dirty_tracking_clears_on_enable_only);
	tcase_add_test(tc, get_dirty_bitmap_rules);
	tcase_add_test(tc, get_dirty_bitmap_page_sizes_and_no_clear);
	suite_add_tcase(s, tc);
	TCase *cat = tcase_create("selftests");
	tcase_set_timeout(cat, 600);
	tcase_add_test(cat, catalogue_coverage);
	tcase_add_loop_test(cat, get_dirty_bitmap, 0, (int)NVARIANTS);
	tcase_add_loop_test(cat, get_dirty_bitmap_no_clear, 0, (int)NVARIANTS);
	suite_add_tcase(s, cat);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
