/* The IOTLB and walk caches (formats.md "Caches and invalidation"), driven
 * through AMD raw domains. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"

#define ROOT 0x100000ull
#define L1T 0x101000ull
#define L0T 0x102000ull

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	const struct ims_iommu_counters *n;
};

static void add_domain(struct rig *r, uint16_t tag, uint64_t root, uint32_t dev)
{
	struct ims_ctx_params p = {.tag = tag, .root = root, .levels = 3, .ha = true, .hd = true};
	uint64_t w[IMS_CTX_WORDS];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_AMDV1, &p, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, tag, IMS_FMT_AMDV1, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, dev, tag), 0);
}

/* 512 4 KiB pages at iova 0..2M under root, each to 0x40000000 + iova. */
static void build(struct rig *r, uint64_t root, uint64_t l1, uint64_t l0)
{
	ims_mem_store(r->mem, IMS_AGENT_HW, root, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (2ull << 9) | l1);
	ims_mem_store(r->mem, IMS_AGENT_HW, l1, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (1ull << 9) | l0);
	for (uint64_t i = 0; i < 512; i++)
		ims_mem_store(r->mem, IMS_AGENT_HW, l0 + 8 * i,
			      AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (0x40000000ull + (i << 12)));
}

static void rig_up(struct rig *r, unsigned entries, unsigned ways)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.iotlb_entries = entries;
	cfg.iotlb_ways = ways;
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
	r->n = ims_iommu_counters(r->mmu);
	add_domain(r, 1, ROOT, 10);
	build(r, ROOT, L1T, L0T);
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

START_TEST(hit_and_miss)
{
	struct rig r;
	rig_up(&r, 64, 4);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x3000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ck_assert_uint_eq(r.n->iotlb_misses, 1);
	ck_assert_uint_eq(r.n->walks, 1);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x3ff8, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert_uint_eq(x.pa, 0x40003ff8ull);
	ck_assert_uint_eq(r.n->iotlb_hits, 1);
	ck_assert_uint_eq(r.n->walks, 1);
	rig_down(&r);
}
END_TEST

START_TEST(eviction_lru)
{
	/* 8 entries, 8 ways (one set): the 9th page evicts the least recently
	 * used one, which then misses again. */
	struct rig r;
	rig_up(&r, 8, 8);
	for (uint64_t i = 0; i < 8; i++)
		ck_assert_int_eq(ims_iommu_access(r.mmu, 10, i << 12, IMS_ACC_R, NULL), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0, IMS_ACC_R, NULL), 0); /* touch page 0 */
	ck_assert_uint_eq(r.n->iotlb_evictions, 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 8ull << 12, IMS_ACC_R, NULL), 0);
	ck_assert_uint_eq(r.n->iotlb_evictions, 1);
	uint64_t misses = r.n->iotlb_misses;
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0, IMS_ACC_R, NULL), 0);
	ck_assert_uint_eq(r.n->iotlb_misses, misses); /* page 0 survived */
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 1ull << 12, IMS_ACC_R, NULL), 0);
	ck_assert_uint_eq(r.n->iotlb_misses, misses + 1); /* page 1 was the LRU */
	rig_down(&r);
}
END_TEST

START_TEST(clean_to_dirty_write_hit)
{
	struct rig r;
	rig_up(&r, 64, 4);
	uint64_t slot = L0T + 8 * 5;
	/* A read caches the page clean. */
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x5000, IMS_ACC_R, NULL), 0);
	ck_assert(!(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D));
	/* A write hits the clean entry: hardware goes to memory and sets D. */
	uint64_t walks = r.n->walks;
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x5010, IMS_ACC_W, &x), 0);
	ck_assert(x.dirtied);
	ck_assert_uint_eq(r.n->walks, walks + 1);
	ck_assert(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D);
	/* Now cached dirty: a write touches no memory at all. */
	const struct ims_mem_counters *mc = ims_mem_counters(r.mem);
	uint64_t loads = mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD], rmw = mc->ops[IMS_AGENT_HW][IMS_MEM_RMW];
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x5020, IMS_ACC_W, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD], loads);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_HW][IMS_MEM_RMW], rmw);
	/* Software clears D without invalidating: the next write is lost
	 * (classic bug 3), until an invalidation makes hardware look again. */
	ims_mem_rmw(r.mem, IMS_AGENT_SW, slot, AMD_PTE_D, 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x5030, IMS_ACC_W, NULL), 0);
	ck_assert(!(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D));
	ims_iommu_inv_range(r.mmu, 1, 0x5000, 0x1000, IMS_INV_LEAF);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x5030, IMS_ACC_W, NULL), 0);
	ck_assert(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D);
	rig_down(&r);
}
END_TEST

START_TEST(range_invalidation_leaf_only_keeps_walk_caches)
{
	struct rig r;
	rig_up(&r, 64, 4);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, NULL), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x2000, IMS_ACC_R, NULL), 0);
	/* Point the level-1 entry elsewhere; with leaf-only invalidation the
	 * walk cache still leads to the old level-0 table. */
	uint64_t l0b = 0x103000ull;
	for (uint64_t i = 0; i < 512; i++)
		ims_mem_store(r.mem, IMS_AGENT_HW, l0b + 8 * i,
			      AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (0x50000000ull + (i << 12)));
	ims_mem_store(r.mem, IMS_AGENT_HW, L1T, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (1ull << 9) | l0b);
	ims_iommu_inv_range(r.mmu, 1, 0x1000, 0x1000, IMS_INV_LEAF);
	uint64_t wc = r.n->wc_hits;
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x40001000ull);
	ck_assert_uint_eq(r.n->wc_hits, wc + 1);
	/* Page 2 is still in the IOTLB: untouched by a range that misses it. */
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x2000, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	/* With walk caches: the new table is seen. */
	ims_iommu_inv_range(r.mmu, 1, 0x1000, 0x1000, 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x50001000ull);
	rig_down(&r);
}
END_TEST

START_TEST(domain_and_all_invalidation)
{
	struct rig r;
	rig_up(&r, 64, 4);
	add_domain(&r, 2, 0x110000ull, 11);
	build(&r, 0x110000ull, 0x111000ull, 0x112000ull);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, NULL), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 11, 0x1000, IMS_ACC_R, NULL), 0);
	struct ims_xlate x;
	ims_iommu_inv_domain(r.mmu, 2);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 11, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ims_iommu_inv_all(r.mmu);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 11, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	ck_assert_uint_eq(r.n->inv_domain, 1);
	ck_assert_uint_eq(r.n->inv_all, 1);
	rig_down(&r);
}
END_TEST

START_TEST(tags_are_separate)
{
	/* The same IOVA in two domains caches two translations. */
	struct rig r;
	rig_up(&r, 64, 4);
	add_domain(&r, 2, 0x110000ull, 11);
	build(&r, 0x110000ull, 0x111000ull, 0x112000ull);
	ims_mem_store(r.mem, IMS_AGENT_HW, 0x112000ull + 8, AMD_PTE_PR | AMD_PTE_IR | 0x70001000ull);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x40001000ull);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 11, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x70001000ull);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(x.iotlb_hit);
	ck_assert_uint_eq(x.pa, 0x40001000ull);
	rig_down(&r);
}
END_TEST

START_TEST(no_iotlb_always_walks)
{
	struct rig r;
	rig_up(&r, 0, 1);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x1000, IMS_ACC_W, NULL), 0);
	ck_assert_uint_eq(r.n->walks, 4);
	ck_assert_uint_eq(r.n->iotlb_hits, 0);
	rig_down(&r);
}
END_TEST

START_TEST(faults_queue_in_order_and_unattached)
{
	struct rig r;
	rig_up(&r, 64, 4);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 99, 0x1000, IMS_ACC_R, NULL), IMS_FAULT_UNATTACHED);
	ck_assert_uint_eq(ims_iommu_dma(r.mmu, 10, 0x1ff000, 0x2000, IMS_ACC_R, NULL), 1);
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 2);
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(r.mmu, &f));
	ck_assert_int_eq(f.kind, IMS_FAULT_UNATTACHED);
	ck_assert_uint_eq(f.dev, 99);
	ck_assert(ims_iommu_fault_pop(r.mmu, &f));
	ck_assert_int_eq(f.kind, IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(f.iova, 0x200000ull); /* the 4 KiB boundary of the later piece */
	ck_assert(!ims_iommu_fault_pop(r.mmu, &f));
	rig_down(&r);
}
END_TEST

START_TEST(probe_has_no_side_effects)
{
	struct rig r;
	rig_up(&r, 64, 4);
	struct ims_xlate x;
	uint64_t before_leaf = ims_mem_load(r.mem, IMS_AGENT_HW, L0T + 8 * 5);
	ck_assert_int_eq(ims_iommu_probe(r.mmu, 1, 0x5123, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, 0x40005123ull);
	ck_assert_uint_eq(x.leaf_shift, 12);
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, L0T + 8 * 5), before_leaf);
	ck_assert_uint_eq(r.n->walks + r.n->translations + r.n->iotlb_fills + r.n->pte_reads, 0);
	ck_assert_int_eq(ims_iommu_probe(r.mmu, 1, 0x200000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(ims_iommu_fault_pending(r.mmu), 0);
	ck_assert_int_eq(ims_iommu_probe(r.mmu, 77, 0x5000, IMS_ACC_R, &x), -ENOENT);
	/* The first real access still misses: the probe filled nothing. */
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x5000, IMS_ACC_R, &x), 0);
	ck_assert(!x.iotlb_hit);
	rig_down(&r);
}
END_TEST

START_TEST(walk_loads_reach_memory_counters)
{
	/* Every entry a walk reads is a hardware load of memory, counted there
	 * as the model counts its pte_reads: a write walk (with the A/D
	 * update's read), a faulting walk, and a probe, which reads memory
	 * but counts no pte_read. */
	struct rig r;
	rig_up(&r, 64, 4);
	const struct ims_mem_counters *mc = ims_mem_counters(r.mem);
	uint64_t hw0 = mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD];
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x3000, IMS_ACC_W, NULL), 0);
	ck_assert_uint_eq(r.n->pte_reads, 4);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD] - hw0, 4);
	ck_assert_int_eq(ims_iommu_access(r.mmu, 10, 0x200000, IMS_ACC_R, NULL), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD] - hw0, r.n->pte_reads);
	uint64_t reads = r.n->pte_reads;
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_probe(r.mmu, 1, 0x7000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(r.n->pte_reads, reads);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD] - hw0, reads + 3);
	rig_down(&r);
}
END_TEST

START_TEST(many_devices_grow_and_detach)
{
	/* Forty devices over two domains: the device table grows under the
	 * look-ups, a detached device faults at once, even when it was the
	 * last one looked up, and the others keep their domains. */
	struct rig r;
	rig_up(&r, 64, 4);
	add_domain(&r, 2, 0x300000ull, 11);
	for (uint32_t d = 100; d < 140; d++) {
		ck_assert_int_eq(ims_iommu_attach(r.mmu, d, (uint16_t)(1 + d % 2)), 0);
		ck_assert_int_eq(ims_iommu_dev_domain(r.mmu, 100), 1);
		ck_assert_int_eq(ims_iommu_access(r.mmu, 100, 0x1000, IMS_ACC_R, NULL), 0);
		ck_assert_int_eq(ims_iommu_dev_domain(r.mmu, d), (int)(1 + d % 2));
	}
	for (uint32_t d = 100; d < 140; d += 3) {
		ck_assert_int_eq(ims_iommu_access(r.mmu, d, 0x1000, IMS_ACC_R, NULL),
				 d % 2 ? IMS_FAULT_NOTPRESENT : 0); /* domain 2 maps nothing */
		ck_assert_int_eq(ims_iommu_detach(r.mmu, d), 0);
		ck_assert_int_eq(ims_iommu_access(r.mmu, d, 0x1000, IMS_ACC_R, NULL),
				 IMS_FAULT_UNATTACHED);
		ck_assert_int_eq(ims_iommu_dev_domain(r.mmu, d), -ENOENT);
	}
	for (uint32_t d = 100; d < 140; d++)
		ck_assert_int_eq(ims_iommu_dev_domain(r.mmu, d),
				 (d - 100) % 3 ? (int)(1 + d % 2) : -ENOENT);
	rig_down(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("iotlb");
	TCase *tc = tcase_create("iotlb");
	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, eviction_lru);
	tcase_add_test(tc, clean_to_dirty_write_hit);
	tcase_add_test(tc, range_invalidation_leaf_only_keeps_walk_caches);
	tcase_add_test(tc, domain_and_all_invalidation);
	tcase_add_test(tc, tags_are_separate);
	tcase_add_test(tc, no_iotlb_always_walks);
	tcase_add_test(tc, faults_queue_in_order_and_unattached);
	tcase_add_test(tc, probe_has_no_side_effects);
	tcase_add_test(tc, walk_loads_reach_memory_counters);
	tcase_add_test(tc, many_devices_grow_and_detach);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
