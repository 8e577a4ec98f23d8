/* The software page tables and read_and_clear_dirty walker (pagetables/),
 * on AMD v1, with the model as the hardware on the other side. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "iommusim/pt.h"

#define DEV 3
#define TAG 9

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_pt *pt;
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

static void rig_cfg(struct rig *r, unsigned levels, uint64_t pgsizes, enum ims_replica_policy pol,
		    unsigned walker)
{
	r->mem = ims_mem_new();
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.replica = pol;
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_AMDV1, .tag = TAG, .levels = levels,
				.pgsizes = pgsizes, .dirty_tracking = true, .walker = walker};
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	char err[128];
	ck_assert_int_eq(ims_pt_new(r->mem, &pc, &sink, &r->pt, err, sizeof(err)), 0);
	uint64_t w[8];
	ims_pt_ctx_words(r->pt, w);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_AMDV1, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	r->submits = 0;
}

static void rig_up(struct rig *r) { rig_cfg(r, 4, 0, IMS_REPLICA_COVERING, 0); }

static void rig_down(struct rig *r)
{
	ims_pt_free(r->pt);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static unsigned hw_leaf_shift(struct rig *r, uint64_t iova)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r->mmu, DEV, iova, IMS_ACC_R, &x), 0);
	return x.leaf_shift;
}

START_TEST(map_picks_largest_size)
{
	struct rig r;
	rig_up(&r);
	/* 0x1f000 + 0x20000 + 0x200000 ...: 4K up to a 128K boundary, then the
	 * largest powers of two that fit alignment and length. */
	ck_assert_int_eq(ims_pt_map(r.pt, 0x3ff000, 0x7ff000, 0x201000 + 0x1000, IMS_PROT_RW, 0), 0);
	ck_assert_uint_eq(hw_leaf_shift(&r, 0x3ff000), 12);
	ck_assert_uint_eq(hw_leaf_shift(&r, 0x400000), 21); /* aligned 2M in iova and pa */
	ck_assert_uint_eq(hw_leaf_shift(&r, 0x600000), 12); /* 4K tail */
	uint64_t pa;
	unsigned prot;
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x5abcde, &pa, &prot), 0);
	ck_assert_uint_eq(pa, 0x9abcdeull);
	ck_assert_uint_eq(prot, IMS_PROT_RW);
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x601000, &pa, &prot), -ENOENT);
	/* 24K at a 8K-aligned address with a 16K-aligned pa: 8K + 16K. */
	ck_assert_int_eq(ims_pt_map(r.pt, 0x802000, 0x804000 - 0x2000 + 0x4000, 0x6000, IMS_PROT_RW, 0), 0);
	ck_assert_uint_eq(hw_leaf_shift(&r, 0x802000), 13);
	ck_assert_uint_eq(hw_leaf_shift(&r, 0x804000), 14);
	/* Misaligned pa limits the size: pa 4K-aligned only -> all 4K. */
	ck_assert_int_eq(ims_pt_map(r.pt, 0x40000000, 0x1001000, 0x200000, IMS_PROT_R, 0), 0);
	ck_assert_uint_eq(hw_leaf_shift(&r, 0x40000000), 12);
	/* Every power of two 8K..1G through NextLevel=7 when forced. */
	for (unsigned s = 13; s <= 30; s++) {
		uint64_t iova = 1ull << 40 | (uint64_t)s << 31;
		ck_assert_int_eq(ims_pt_map(r.pt, iova, 1ull << 31, 1ull << s, IMS_PROT_RW, 1ull << s), 0);
		ck_assert_uint_eq(hw_leaf_shift(&r, iova + (1ull << s) - 1), s);
	}
	rig_down(&r);
}
END_TEST

START_TEST(map_errors_change_nothing)
{
	struct rig r;
	rig_up(&r);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x100000, 0x200000, 0x10000, IMS_PROT_RW, 0), 0);
	uint64_t pages = ims_pt_stats(r.pt)->table_pages;
	ck_assert_int_eq(ims_pt_map(r.pt, 0xf0000, 0x300000, 0x20000, IMS_PROT_RW, 0), -EEXIST);
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0xf0000, NULL, NULL), -ENOENT);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x1800, 0x1000, 0x1000, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x1000, 0x1000, 0, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_int_eq(ims_pt_map(r.pt, 1ull << 48, 0x1000, 0x1000, IMS_PROT_RW, 0), -EINVAL);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x1000, 0x1000, 0x1000, IMS_PROT_RW, 0x3000), -EINVAL);
	ck_assert_uint_eq(ims_pt_stats(r.pt)->table_pages, pages);
	rig_down(&r);
}
END_TEST

START_TEST(unmap_whole_leaves_frees_tables_and_flushes)
{
	struct rig r;
	rig_up(&r);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x40000000, 0x80000000, 0x400000, IMS_PROT_RW, 0), 0);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x7f000000, 0x90000000, 0x8000, IMS_PROT_RW, 0x8000), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x40001000, IMS_ACC_R, NULL), 0);
	uint64_t before = ims_pt_stats(r.pt)->table_pages;
	ck_assert_uint_gt(before, 1);
	/* Cutting into the 2M leaf or into the 32K page: refused, nothing changes. */
	uint64_t bytes = 123;
	ck_assert_int_eq(ims_pt_unmap(r.pt, 0x40000000, 0x1000, &bytes), -EINVAL);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_int_eq(ims_pt_unmap(r.pt, 0x7f004000, 0x4000, &bytes), -EINVAL);
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x40000000, NULL, NULL), 0);
	unsigned s0 = r.submits;
	ck_assert_int_eq(ims_pt_unmap(r.pt, 0x40000000, 0x400000, &bytes), 0);
	ck_assert_uint_eq(bytes, 0x400000);
	ck_assert_uint_eq(r.submits, s0 + 1); /* one flush */
	/* The IOTLB no longer translates it: the flush reached the hardware. */
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x40001000, IMS_ACC_R, NULL), IMS_FAULT_NOTPRESENT);
	ck_assert_int_eq(ims_pt_unmap(r.pt, 0x7f000000, 0x8000, &bytes), 0);
	ck_assert_uint_eq(bytes, 0x8000);
	ck_assert_uint_eq(ims_pt_stats(r.pt)->table_pages, 1); /* only the root */
	/* Unmapping nothing is fine and flushes nothing. */
	s0 = r.submits;
	ck_assert_int_eq(ims_pt_unmap(r.pt, 0x1000, 0x1000, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_uint_eq(r.submits, s0);
	rig_down(&r);
}
END_TEST

static int harvest(struct rig *r, uint64_t iova, uint64_t size, unsigned pgshift, unsigned flags,
		   char **hex)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, iova, size, pgshift), 0);
	int rc = ims_pt_read_and_clear_dirty(r->pt, iova, size, flags, &bm);
	*hex = ims_bitmap_to_hex(&bm);
	ims_bitmap_fini(&bm);
	return rc;
}

START_TEST(harvest_ors_and_cleans_every_replica)
{
	/* Hardware dirties replica 5 of a 32K page (covering policy); the walker
	 * reports the whole page and cleans every replica. */
	struct rig r;
	rig_up(&r);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x200000, 0x7fff8000, 0x8000, IMS_PROT_RW, 0x8000), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x205010, IMS_ACC_W, NULL), 0);
	char *hex;
	ck_assert_int_eq(harvest(&r, 0x200000, 0x10000, 12, 0, &hex), 0);
	ck_assert_str_eq(hex, "ff");
	free(hex);
	ck_assert_int_eq(harvest(&r, 0x200000, 0x10000, 12, 0, &hex), 0);
	ck_assert_str_eq(hex, "0");
	free(hex);
	/* Cleaned and flushed: the next write sets D again and is reported. */
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x200000, IMS_ACC_W, NULL), 0);
	ck_assert_int_eq(harvest(&r, 0x200000, 0x8000, 15, 0, &hex), 0);
	ck_assert_str_eq(hex, "1");
	free(hex);
	rig_down(&r);
}
END_TEST

START_TEST(harvest_no_clear_and_one_flush)
{
	struct rig r;
	rig_up(&r);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x100000, 0x40000000, 0x40000, IMS_PROT_RW, 0x1000), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	for (int i = 0; i < 64; i += 3)
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x100000 + 0x1000ull * i, IMS_ACC_W, NULL), 0);
	unsigned s0 = r.submits;
	char *a, *b;
	ck_assert_int_eq(harvest(&r, 0x100000, 0x40000, 12, IMS_DIRTY_NO_CLEAR, &a), 0);
	ck_assert_uint_eq(r.submits, s0); /* NO_CLEAR: nothing cleaned, nothing flushed */
	ck_assert_int_eq(harvest(&r, 0x100000, 0x40000, 12, 0, &b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "9249249249249249"); /* every third page of 64 */
	ck_assert_uint_eq(r.submits, s0 + 1); /* a clearing harvest: one ranged flush */
	free(a);
	free(b);
	/* Harvest with a bitmap needs tracking on; flags beyond NO_CLEAR refused. */
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, false), 0);
	ck_assert_int_eq(harvest(&r, 0x100000, 0x40000, 12, 0, &a), -EINVAL);
	free(a);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ck_assert_int_eq(harvest(&r, 0x100000, 0x40000, 12, 2, &a), -EOPNOTSUPP);
	free(a);
	ck_assert_int_eq(ims_pt_read_and_clear_dirty(r.pt, 0x100000, 0, 0, NULL), -EINVAL);
	rig_down(&r);
}
END_TEST

START_TEST(harvest_clips_to_range)
{
	/* A 2M leaf partly inside the range is recorded clipped to it. */
	struct rig r;
	rig_up(&r);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x200000, 0x400000, 0x200000, IMS_PROT_RW, 0), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x300000, IMS_ACC_W, NULL), 0);
	char *hex;
	ck_assert_int_eq(harvest(&r, 0x3fc000, 0x8000, 12, IMS_DIRTY_NO_CLEAR, &hex), 0);
	ck_assert_str_eq(hex, "f"); /* 4 pages inside the leaf, 4 past it */
	free(hex);
	rig_down(&r);
}
END_TEST

START_TEST(enable_clears_stale_state)
{
	struct rig r;
	rig_up(&r);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x100000, 0x40000000, 0x10000, IMS_PROT_RW, 0x1000), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x104000, IMS_ACC_W, NULL), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, false), 0);
	/* Tracking off: hardware sets no D. */
	ck_assert(!ims_iommu_ctx_dirty_enabled(r.mmu, TAG));
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	char *hex;
	ck_assert_int_eq(harvest(&r, 0x100000, 0x10000, 12, 0, &hex), 0);
	ck_assert_str_eq(hex, "0");
	free(hex);
	rig_down(&r);
}
END_TEST

/* A hook that lets a device write page 0x100000 (hardware) between two
 * software accesses, once, at the first software store or rmw it sees. */
struct race {
	struct rig *r;
	int armed;
};

static void race_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)pa;
	struct race *x = arg;
	if (x->armed && op != IMS_MEM_LOAD) {
		x->armed = 0;
		ims_iommu_access(x->r->mmu, DEV, 0x100000, IMS_ACC_W, NULL);
	}
}

START_TEST(atomic_clean_survives_a_racing_write)
{
	/* A device write lands between two software accesses of a harvest:
	 * it must not be lost, whichever entry it dirties. */
	{
		struct rig r;
		rig_up(&r);
		ck_assert_int_eq(ims_pt_map(r.pt, 0x100000, 0x40000000, 0x10000, IMS_PROT_RW, 0x1000), 0);
		ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x101000, IMS_ACC_W, NULL), 0);
		struct race x = {&r, 1};
		ims_mem_set_hook(r.mem, race_hook, &x);
		char *hex;
		ck_assert_int_eq(harvest(&r, 0x100000, 0x10000, 12, 0, &hex), 0);
		ims_mem_set_hook(r.mem, NULL, NULL);
		ck_assert_int_eq(x.armed, 0);
		ck_assert_str_eq(hex, "2");
		free(hex);
		/* The walker had passed page 0 when the racing write landed (at
		 * its clean of page 1), so page 0 is reported in the next round. */
		ck_assert_int_eq(harvest(&r, 0x100000, 0x10000, 12, 0, &hex), 0);
		ck_assert_str_eq(hex, "1");
		free(hex);
		rig_down(&r);
	}
}
END_TEST

#ifdef IMS_SEEDED_BUGS
/* Injects a device write to `iova` before the n-th software store. */
struct inject {
	struct rig *r;
	uint64_t iova;
	int countdown;
};

static void inject_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)pa;
	struct inject *x = arg;
	if (op == IMS_MEM_STORE && x->countdown > 0 && --x->countdown == 0)
		ims_iommu_access(x->r->mmu, DEV, x->iova, IMS_ACC_W, NULL);
}

START_TEST(nonatomic_clean_loses_a_hardware_update)
{
	/* Classic bug 4: an 8K run, replica 0 dirty; the walker rewrites both
	 * replicas from plain loads. A device write to the second half lands
	 * between the load and the store of replica 1 and sets its D; the
	 * store undoes it: a lost hardware update. The correct walker's atomic
	 * RMW cannot lose it. */
	for (int variant = 0; variant < 2; variant++) {
		unsigned v = 0;
		if (variant)
			ck_assert_int_eq(ims_pt_walker_parse("bug4", &v), 0);
		struct rig r;
		rig_cfg(&r, 4, 0, IMS_REPLICA_COVERING, v);
		ims_mem_set_race_check(r.mem, true);
		ck_assert_int_eq(ims_pt_map(r.pt, 0x100000, 0x40000000, 0x2000, IMS_PROT_RW, 0x2000), 0);
		ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x100000, IMS_ACC_W, NULL), 0);
		ims_iommu_inv_all(r.mmu); /* the racing write must walk */
		/* Buggy walker: store 1 = replica 0, store 2 = replica 1. The
		 * correct walker makes one RMW and no store, so nothing fires. */
		struct inject x = {&r, 0x101000, 2};
		ims_mem_set_hook(r.mem, inject_hook, &x);
		char *hex;
		ck_assert_int_eq(harvest(&r, 0x100000, 0x2000, 12, 0, &hex), 0);
		ims_mem_set_hook(r.mem, NULL, NULL);
		ck_assert_str_eq(hex, "3");
		free(hex);
		uint64_t pa = 0, bits = 0;
		uint64_t lost = ims_mem_lost_updates(r.mem, &pa, &bits);
		if (variant) {
			ck_assert_int_eq(x.countdown, 0);
			ck_assert_uint_eq(lost, 1);
			ck_assert(bits & AMD_PTE_D); /* A may go with it */
		} else {
			ck_assert_uint_eq(lost, 0);
		}
		rig_down(&r);
	}
}
END_TEST
#endif

START_TEST(sparse_terabyte)
{
	/* 1 GiB mapped at 4 KiB in 512 pieces of 2 MiB spread over 1 TiB:
	 * tables grow with what is mapped, and a harvest over the whole 1 TiB
	 * costs in proportion to it. */
	struct rig r;
	rig_up(&r);
	for (uint64_t i = 0; i < 512; i++)
		ck_assert_int_eq(ims_pt_map(r.pt, i << 31, 0x100000000ull + (i << 21), 1ull << 21,
					    IMS_PROT_RW, 0x1000),
				 0);
	const struct ims_pt_stats *st = ims_pt_stats(r.pt);
	/* 512 leaf tables + 512 level-1 + 2 level-2 + root. */
	ck_assert_uint_eq(st->table_pages, 512 + 512 + 2 + 1);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	for (uint64_t i = 0; i < 512; i += 7)
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, (i << 31) + 0x5000, IMS_ACC_W, NULL), 0);
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, 0, 1ull << 40, 12), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(ims_pt_read_and_clear_dirty(r.pt, 0, 1ull << 40, 0, &bm), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_uint_eq(ims_bitmap_count(&bm), (512 + 6) / 7);
	for (uint64_t i = 0; i < 512; i += 7)
		ck_assert(ims_bitmap_test(&bm, ((i << 31) + 0x5000) >> 12));
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("sparse 1 TiB: %llu table pages (%llu KiB), memory footprint %llu KiB, "
	       "harvest over 1 TiB %.2f ms, %llu leaf entries examined\n",
	       (unsigned long long)st->table_pages, (unsigned long long)st->table_pages * 4,
	       (unsigned long long)ims_mem_footprint(r.mem) / 1024, ms,
	       (unsigned long long)st->harvest_entries);
	ck_assert_uint_lt(ims_mem_footprint(r.mem), 8ull << 20);
	ims_bitmap_fini(&bm);
	rig_down(&r);
}
END_TEST

START_TEST(walker_variants_listed)
{
	ck_assert_uint_ge(ims_pt_walker_count(), 1);
	ck_assert_str_eq(ims_pt_walker_name(0), "fast");
	unsigned v;
	/* "correct", the default's name before the reference walker came,
	 * still names it. */
	ck_assert_int_eq(ims_pt_walker_parse("correct", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(ims_pt_walker_parse("reference", &v), 0);
	ck_assert_str_eq(ims_pt_walker_name(v), "reference");
	ck_assert_ptr_nonnull(ims_pt_walker_ops(v));
	ck_assert_int_eq(ims_walker_check(ims_pt_walker_ops(v), IMS_FMT_AMDV1, NULL, 0), 0);
	ck_assert_int_eq(ims_pt_walker_parse("nonsense", &v), -EINVAL);
#ifdef IMS_SEEDED_BUGS
	ck_assert_int_eq(ims_pt_walker_parse("bug4", &v), 0);
	ck_assert_str_eq(ims_pt_walker_name(v), "bug4-nonatomic");
#endif
}
END_TEST


int main(void)
{
	Suite *s = suite_create("pt");
	TCase *tc = tcase_create("pt");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, map_picks_largest_size);
	tcase_add_test(tc, map_errors_change_nothing);
	tcase_add_test(tc, unmap_whole_leaves_frees_tables_and_flushes);
	tcase_add_test(tc, harvest_ors_and_cleans_every_replica);
	tcase_add_test(tc, harvest_no_clear_and_one_flush);
	tcase_add_test(tc, harvest_clips_to_range);
	tcase_add_test(tc, enable_clears_stale_state);
	tcase_add_test(tc, atomic_clean_survives_a_racing_write);
	tcase_add_test(tc, sparse_terabyte);
	tcase_add_test(tc, walker_variants_listed);
#ifdef IMS_SEEDED_BUGS
	tcase_add_test(tc, nonatomic_clean_loses_a_hardware_update);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
