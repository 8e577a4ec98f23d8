/* The VFIO type1 front end (uapi/vfio.c, docs/uapi.md): the rules of
 * VFIO_IOMMU_DIRTY_PAGES, perpetual and pinned-scope dirty reporting, and
 * unmap with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (dirty-semantics.md,
 * "iommufd GET_DIRTY_BITMAP and VFIO type1"). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/vfio.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define DEV 0x30
#define TAG 12

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_pt *pt;
	struct ims_vfio *v;
};

static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	return ims_iommu_submit(((struct rig *)arg)->mmu, fmt, cmd);
}
static int sink_ctx_update(void *arg, uint16_t tag, unsigned w, uint64_t c, uint64_t s)
{
	return ims_iommu_ctx_update(((struct rig *)arg)->mmu, tag, w, c, s);
}
static int sink_ctx_flush(void *arg, uint16_t tag)
{
	return ims_iommu_ctx_invalidate(((struct rig *)arg)->mmu, tag);
}

/* A container over a VT-d domain; pgsizes 0 = all the format has. */
static void rig_up(struct rig *r, uint64_t pgsizes)
{
	r->mem = ims_mem_new();
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG, .pgsizes = pgsizes};
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	char err[128];
	ck_assert_int_eq(ims_pt_new(r->mem, &pc, &sink, &r->pt, err, sizeof(err)), 0);
	uint64_t w[IMS_CTX_WORDS];
	ims_pt_ctx_words(r->pt, w);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_VTD, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	ck_assert_int_eq(ims_vfio_new(r->pt, &r->v), 0);
}

static void rig_down(struct rig *r)
{
	ims_vfio_free(r->v);
	ims_pt_free(r->pt);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static int dirty(struct rig *r, uint32_t flags)
{
	struct ims_vfio_dirty_pages c = {.flags = flags};
	return ims_vfio_dirty_pages(r->v, &c);
}

static int get_bitmap(struct rig *r, uint64_t iova, uint64_t size, uint64_t pgsize, void *data,
		      uint64_t bytes)
{
	struct ims_vfio_dirty_pages c = {.flags = IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP,
					 .iova = iova, .size = size,
					 .bitmap = {.pgsize = pgsize, .size = bytes, .data = data}};
	return ims_vfio_dirty_pages(r->v, &c);
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

START_TEST(map_rules)
{
	struct rig r;
	rig_up(&r, 0);
	ck_assert_uint_eq(ims_vfio_pgsize(r.v), 4 * KiB);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x10f000, 0x50000000, 8 * KiB, IMS_PROT_RW), -EEXIST);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200000, 0x50000000, 0, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200800, 0x50000000, 4 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200000, 0x50000800, 4 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200000, 0x50000000, 6 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, ~0ull - 0xfff, 0, 8 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200000, 0x50000000, 4 * KiB, 0), -EINVAL);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x10f080, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, 0x4000f080);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x200000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	rig_down(&r);
}
END_TEST

/* Exactly one of START, STOP, GET_BITMAP, no other bit. */
START_TEST(dirty_pages_one_flag)
{
	struct rig r;
	rig_up(&r, 0);
	ck_assert_int_eq(dirty(&r, 0), -EINVAL);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START | IMS_VFIO_DIRTY_PAGES_FLAG_STOP), -EINVAL);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START | IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP), -EINVAL);
	ck_assert_int_eq(dirty(&r, 1u << 3), -EINVAL);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START | (1u << 8)), -EINVAL);
	ck_assert(!ims_vfio_tracking(r.v));
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	ck_assert(ims_vfio_tracking(r.v));
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_STOP), 0);
	ck_assert(!ims_vfio_tracking(r.v));
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_STOP), 0);
	rig_down(&r);
}
END_TEST

START_TEST(get_bitmap_rules)
{
	struct rig r;
	rig_up(&r, 0);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, false), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x110000, 0x50000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x140000, 0x60000000, 64 * KiB, IMS_PROT_RW), 0);
	unsigned char bm[64] = {0};
	/* Tracking not started. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), 0);
	/* pgsize: only the smallest IOMMU page size (VT-d: 4K). */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 8 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 2 * MiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 0, bm, 8), -EINVAL);
	/* iova and size aligned to it; size non-zero; no wrap. */
	ck_assert_int_eq(get_bitmap(&r, 0x100800, 64 * KiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 62 * KiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 0, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, ~0ull - 0xfff, 4 * KiB, bm, 64), -EINVAL);
	/* The range matches whole mappings. */
	ck_assert_int_eq(get_bitmap(&r, 0x104000, 60 * KiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 60 * KiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x120000, 128 * KiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 0x30000, 4 * KiB, bm, 8), -EINVAL);
	/* Several mappings, even across a hole, when both ends match. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 128 * KiB, 4 * KiB, bm, 8), 0);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 0x50000, 4 * KiB, bm, 16), 0);
	/* Bitmap size: size / pgsize bits in whole u64 words, at most 256 MiB. */
	ck_assert_uint_eq(ims_vfio_bitmap_bytes(16), 8);
	ck_assert_uint_eq(ims_vfio_bitmap_bytes(80), 16);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 0x50000, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 0), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, IMS_VFIO_DIRTY_BITMAP_MAX + 8),
			 -EINVAL);
	/* The limit itself is allowed: only the range's bits are written. */
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, IMS_VFIO_DIRTY_BITMAP_MAX), 0);
	rig_down(&r);
}
END_TEST

/* No hardware dirty bits: every mapped page, on every query. */
START_TEST(perpetually_dirty)
{
	struct rig r;
	rig_up(&r, 0);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, false), 0);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, false), -EEXIST);
	ck_assert(!ims_vfio_pin_scope(r.v));
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 16 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x120000, 0x50000000, 2 * MiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	uint64_t size = 0x120000 + 2 * MiB - 0x100000, nbits = size / (4 * KiB);
	uint64_t bytes = ims_vfio_bitmap_bytes(nbits);
	unsigned char *bm = calloc(1, bytes);
	for (int round = 0; round < 3; round++) {
		/* No device wrote anything; nothing is pinned. */
		memset(bm, 0, bytes);
		ck_assert_int_eq(get_bitmap(&r, 0x100000, size, 4 * KiB, bm, bytes), 0);
		ck_assert_uint_eq(popcount(bm, bytes), 4 + 512);
		for (uint64_t k = 0; k < nbits; k++)
			ck_assert_int_eq(bit(bm, k), k < 4 || k >= 0x20);
	}
	free(bm);
	rig_down(&r);
}
END_TEST

/* Every group tracks pins: only pages pinned since the last query, or
 * still pinned. */
START_TEST(pinned_scope)
{
	struct rig r;
	rig_up(&r, 0);
	/* With no group at all the scope is every group's: nothing pinned. */
	ck_assert(ims_vfio_pin_scope(r.v));
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, true), 0);
	ck_assert(ims_vfio_pin_scope(r.v));
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	/* Pins must be inside mappings, in whole pages. */
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x0ff000, 8 * KiB), -EINVAL);
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x100800, 4 * KiB), -EINVAL);
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x101000, 8 * KiB), 0); /* pages 1, 2 */
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	unsigned char bm[8];
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x06);
	ck_assert_uint_eq(bm[1], 0);
	/* Still pinned: still dirty. Unpinned after a pin while tracking:
	 * dirty once more, then clean. */
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x108000, 4 * KiB), 0); /* page 8 */
	ck_assert_int_eq(ims_vfio_unpin(r.v, 0x108000, 4 * KiB), 0);
	ck_assert_int_eq(ims_vfio_unpin(r.v, 0x102000, 4 * KiB), 0); /* page 2 */
	ck_assert_int_eq(ims_vfio_unpin(r.v, 0x10c000, 4 * KiB), 0); /* not pinned: nothing */
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x06);
	ck_assert_uint_eq(bm[1], 0x01);
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x02);
	ck_assert_uint_eq(bm[1], 0);
	/* One group that does not track pins makes every page dirty again. */
	ck_assert_int_eq(ims_vfio_group_add(r.v, 2, false), 0);
	ck_assert(!ims_vfio_pin_scope(r.v));
	memset(bm, 0, sizeof(bm));
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), 0);
	ck_assert_uint_eq(popcount(bm, 8), 16);
	rig_down(&r);
}
END_TEST

START_TEST(start_takes_pins_stop_forgets)
{
	struct rig r;
	rig_up(&r, 0);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, true), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	/* Pinned and unpinned before tracking: never reported. */
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x104000, 4 * KiB), 0);
	ck_assert_int_eq(ims_vfio_unpin(r.v, 0x104000, 4 * KiB), 0);
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x105000, 4 * KiB), 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(ims_vfio_unpin(r.v, 0x105000, 4 * KiB), 0);
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x106000, 4 * KiB), 0);
	ck_assert_int_eq(ims_vfio_unpin(r.v, 0x106000, 4 * KiB), 0);
	/* STOP forgets what was dirty; START again begins from the pins. */
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_STOP), 0);
	ck_assert_int_eq(ims_vfio_pin(r.v, 0x107000, 4 * KiB), 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	unsigned char bm[8] = {0};
	ck_assert_int_eq(get_bitmap(&r, 0x100000, 64 * KiB, 4 * KiB, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x80);
	ck_assert_uint_eq(bm[1], 0);
	rig_down(&r);
}
END_TEST

START_TEST(unmap_rules)
{
	struct rig r;
	rig_up(&r, 0);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, false), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 64 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x120000, 0x50000000, 16 * KiB, IMS_PROT_RW), 0);
	uint64_t n = 7;
	unsigned char bm[16] = {0};
	struct ims_vfio_bitmap b = {.pgsize = 4 * KiB, .size = 8, .data = bm};
	const uint32_t get = IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	/* Without tracking the bitmap cannot be asked for. */
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 64 * KiB, get, &b, &n), -EINVAL);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 64 * KiB, get | 2, &b, &n), -EINVAL);
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 64 * KiB, get, NULL, &n), -EINVAL);
	b.pgsize = 8 * KiB;
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 64 * KiB, get, &b, &n), -EINVAL);
	b.pgsize = 4 * KiB;
	b.size = 0;
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 64 * KiB, get, &b, &n), -EINVAL);
	/* 65 pages need two words. */
	b.size = 8;
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 0x41000, get, &b, &n), -EINVAL);
	/* Not starting or ending inside a mapping; aligned; non-zero. */
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x104000, 60 * KiB, 0, NULL, &n), -EINVAL);
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 60 * KiB, 0, NULL, &n), -EINVAL);
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100800, 60 * KiB, 0, NULL, &n), -EINVAL);
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x100000, 0, 0, NULL, &n), -EINVAL);
	/* A range with no mapping unmaps nothing, successfully. */
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0x200000, 64 * KiB, 0, NULL, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* Both mappings, their pages reported from bit 0 = iova. */
	b.size = 16;
	ck_assert_int_eq(ims_vfio_unmap_dma(r.v, 0xff000, 0x26000, get, &b, &n), 0);
	ck_assert_uint_eq(n, 80 * KiB);
	ck_assert_uint_eq(popcount(bm, sizeof(bm)), 20);
	for (uint64_t k = 0; k < 0x26; k++)
		ck_assert_int_eq(bit(bm, k), (k >= 1 && k <= 16) || (k >= 0x21 && k <= 0x24));
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x100000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(ims_pt_stats(r.pt)->table_pages, 1);
	rig_down(&r);
}
END_TEST

/* Pins, unpins, starts and queries at random against a plain model of
 * the rule: reported = pinned since the last query or still pinned. */
START_TEST(pinned_scope_random)
{
	struct rig r;
	rig_up(&r, 4 * KiB);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, true), 0);
	enum { NP = 96 };
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, NP * 4 * KiB, IMS_PROT_RW), 0);
	bool pinned[NP] = {0}, want[NP] = {0}, tracking = false;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int step = 0; step < 4000; step++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		unsigned op = (unsigned)(seed % 8), a = (unsigned)(seed >> 8) % NP;
		unsigned n = 1 + (unsigned)(seed >> 20) % 9;
		if (a + n > NP)
			n = NP - a;
		uint64_t iova = 0x100000 + a * 4 * KiB, size = n * 4 * KiB;
		if (op < 3) {
			ck_assert_int_eq(ims_vfio_pin(r.v, iova, size), 0);
			for (unsigned k = a; k < a + n; k++)
				pinned[k] = true, want[k] |= tracking;
		} else if (op < 6) {
			ck_assert_int_eq(ims_vfio_unpin(r.v, iova, size), 0);
			for (unsigned k = a; k < a + n; k++)
				pinned[k] = false;
		} else if (op == 6) {
			uint32_t f = tracking && (seed >> 40) % 4 == 0 ? IMS_VFIO_DIRTY_PAGES_FLAG_STOP
								      : IMS_VFIO_DIRTY_PAGES_FLAG_START;
			ck_assert_int_eq(dirty(&r, f), 0);
			if (f == IMS_VFIO_DIRTY_PAGES_FLAG_STOP) {
				tracking = false;
			} else if (!tracking) {
				tracking = true;
				for (unsigned k = 0; k < NP; k++)
					want[k] = pinned[k];
			}
		} else {
			unsigned char bm[16] = {0};
			int rc = get_bitmap(&r, 0x100000, NP * 4 * KiB, 4 * KiB, bm, sizeof(bm));
			ck_assert_int_eq(rc, tracking ? 0 : -EINVAL);
			if (!tracking)
				continue;
			for (unsigned k = 0; k < NP; k++) {
				if (bit(bm, k) != want[k])
					ck_abort_msg("step %d page %u: reported %d, expected %d", step, k,
						     bit(bm, k), want[k]);
				want[k] = pinned[k];
			}
		}
	}
	rig_down(&r);
}
END_TEST

/* The user buffer at an aligned address, one page in, and 0xff1 in. */
START_TEST(bitmap_any_alignment)
{
	static const uint64_t off[] = {0, 4096, 0xff1};
	struct rig r;
	rig_up(&r, 0);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, false), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x100000, 0x40000000, 320 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x160000, 0x50000000, 8 * KiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t size = 0x62000, bytes = ims_vfio_bitmap_bytes(size / (4 * KiB));
		unsigned char *raw = calloc(1, off[i] + bytes + 32);
		unsigned char *bm = raw + off[i];
		ck_assert_int_eq(get_bitmap(&r, 0x100000, size, 4 * KiB, bm, bytes), 0);
		for (uint64_t k = 0; k < size / (4 * KiB); k++)
			ck_assert_int_eq(bit(bm, k), k < 80 || k >= 0x60);
		for (uint64_t k = 0; k < off[i]; k++)
			ck_assert_uint_eq(raw[k], 0);
		for (uint64_t k = (size / (4 * KiB) + 7) / 8; k < bytes + 32; k++)
			ck_assert_uint_eq(bm[k], 0);
		free(raw);
	}
	rig_down(&r);
}
END_TEST

/* With 2M leaves allowed the smallest IOMMU page is still the bitmap's. */
START_TEST(pgsize_is_smallest)
{
	struct rig r;
	rig_up(&r, 2 * MiB | 1ull << 30);
	ck_assert_uint_eq(ims_vfio_pgsize(r.v), 2 * MiB);
	ck_assert_int_eq(ims_vfio_group_add(r.v, 1, false), 0);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200000, 0x40000000, 4 * KiB, IMS_PROT_RW), -EINVAL);
	ck_assert_int_eq(ims_vfio_map_dma(r.v, 0x200000, 0x40000000, 4 * MiB, IMS_PROT_RW), 0);
	ck_assert_int_eq(dirty(&r, IMS_VFIO_DIRTY_PAGES_FLAG_START), 0);
	unsigned char bm[8] = {0};
	ck_assert_int_eq(get_bitmap(&r, 0x200000, 4 * MiB, 4 * KiB, bm, 8), -EINVAL);
	ck_assert_int_eq(get_bitmap(&r, 0x200000, 4 * MiB, 2 * MiB, bm, 8), 0);
	ck_assert_uint_eq(bm[0], 0x3);
	rig_down(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vfio");
	TCase *tc = tcase_create("type1");
	tcase_add_test(tc, map_rules);
	tcase_add_test(tc, dirty_pages_one_flag);
	tcase_add_test(tc, get_bitmap_rules);
	tcase_add_test(tc, perpetually_dirty);
	tcase_add_test(tc, pinned_scope);
	tcase_add_test(tc, start_takes_pins_stop_forgets);
	tcase_add_test(tc, pinned_scope_random);
	tcase_add_test(tc, unmap_rules);
	tcase_add_test(tc, bitmap_any_alignment);
	tcase_add_test(tc, pgsize_is_smallest);
	suite_add_tcase(s, tc);
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
