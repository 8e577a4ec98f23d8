/* AMD v1: codec, DTE decode and the hardware rules, checked through the
 * model (formats.md "AMD IOMMU v1 host page tables"). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"

#define ROOT 0x100000ull
#define DEV 7
#define TAG 3

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
};

static void rig_up(struct rig *r, unsigned levels, bool ha, bool hd, const struct ims_iommu_cfg *cfg)
{
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	struct ims_ctx_params p = {.tag = TAG, .root = ROOT, .levels = levels, .ha = ha, .hd = hd};
	uint64_t w[IMS_CTX_WORDS];
	char err[128];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_AMDV1, &p, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_AMDV1, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t table_at(unsigned i) { return 0x200000ull + 0x1000ull * i; }

/* Build a chain of PDEs from the root down to `leaf_level` for iova; returns
 * the address of the leaf slot. */
static uint64_t chain(struct rig *r, unsigned levels, int leaf_level, uint64_t iova, uint64_t pde_perm)
{
	uint64_t table = ROOT;
	for (int l = (int)levels - 1; l > leaf_level; l--) {
		unsigned shift = 12 + 9 * (unsigned)l;
		uint64_t idx = shift >= 64 ? 0 : (iova >> shift) & 511;
		uint64_t next = table_at((unsigned)l);
		ims_mem_store(r->mem, IMS_AGENT_HW, table + 8 * idx,
			      AMD_PTE_PR | pde_perm | ((uint64_t)l << AMD_PTE_NL_SHIFT) | next);
		table = next;
	}
	unsigned shift = 12 + 9 * (unsigned)leaf_level;
	return table + 8 * ((iova >> shift) & 511);
}

START_TEST(size_code_every_power_of_two)
{
	/* Every power of two from 8K to 512G: encode at an aligned address, the
	 * bit pattern is [n-2:12] ones and bit n-1 zero, and decode gives n. */
	for (unsigned n = 13; n <= 39; n++) {
		uint64_t pa = 0x4000000000000ull & ~((1ull << n) - 1);
		pa |= 1ull << n; /* an aligned, non-zero base */
		uint64_t enc = amd_size_encode(pa, n);
		ck_assert_uint_eq(enc & ~((1ull << n) - 1), pa);
		ck_assert_uint_eq((enc >> 12) & ((1ull << (n - 12)) - 1), (1ull << (n - 13)) - 1);
		ck_assert_uint_eq(amd_size_decode(enc), n);
		ck_assert_uint_eq(amd_size_decode(enc | AMD_PTE_PR | AMD_PTE_IW | (7ull << 9)), n);
	}
	/* The spec's example: 32 KiB = address bits 13:12 = 11b, bit 14 = 0. */
	ck_assert_uint_eq(amd_size_encode(0x7fff8000ull, 15) & 0x7000, 0x3000);
}
END_TEST

START_TEST(every_mode_covers_its_width)
{
	/* Mode N covers 12 + 9N bits: the last IOVA below translates, the
	 * first above faults (notpresent). */
	for (unsigned mode = 1; mode <= 6; mode++) {
		struct rig r;
		rig_up(&r, mode, false, false, NULL);
		unsigned width = 12 + 9 * mode > 64 ? 64 : 12 + 9 * mode;
		uint64_t top = width >= 64 ? ~0ull & ~0xfffull : ((1ull << width) - 1) & ~0xfffull;
		uint64_t slot = chain(&r, mode, 0, top, AMD_PTE_IR | AMD_PTE_IW);
		ims_mem_store(r.mem, IMS_AGENT_HW, slot, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | 0xabc000ull);
		struct ims_xlate x;
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, top + 0x10, IMS_ACC_R, &x), 0);
		ck_assert_uint_eq(x.pa, 0xabc010ull);
		if (width < 64) {
			int k = ims_iommu_access(r.mmu, DEV, 1ull << width, IMS_ACC_R, &x);
			ck_assert_int_eq(k, IMS_FAULT_NOTPRESENT);
		}
		rig_down(&r);
	}
}
END_TEST

START_TEST(dte_decode_errors)
{
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, NULL, &mmu), 0);
	uint64_t w[IMS_CTX_WORDS] = {0};
	char err[128];
	/* V/TV clear, Mode 0 and 7, HAD 10b: all refused. */
	w[0] = (4ull << AMD_DTE_MODE_SHIFT) | ROOT;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	w[0] = AMD_DTE_V | AMD_DTE_TV | ROOT;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	w[0] = AMD_DTE_V | AMD_DTE_TV | (7ull << AMD_DTE_MODE_SHIFT) | ROOT;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	w[0] = AMD_DTE_V | AMD_DTE_TV | (4ull << AMD_DTE_MODE_SHIFT) | (2ull << AMD_DTE_HAD_SHIFT) | ROOT;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	w[0] = AMD_DTE_V | AMD_DTE_TV | (4ull << AMD_DTE_MODE_SHIFT) | (3ull << AMD_DTE_HAD_SHIFT) | ROOT;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), 0);
	ims_iommu_free(mmu);

	/* Without EFR.HDSup, HAD = 11b is refused; without HASup, 01b too. */
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.amd_efr &= ~AMD_EFR_HDSUP;
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	w[0] &= ~(1ull << (AMD_DTE_HAD_SHIFT + 1));
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), 0);
	ims_iommu_free(mmu);
	cfg.amd_efr &= ~AMD_EFR_HASUP;
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	ims_iommu_free(mmu);
	/* HATS = 0 allows 4 levels only. */
	cfg.amd_efr = AMD_EFR_HASUP | AMD_EFR_HDSUP;
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	w[0] = AMD_DTE_V | AMD_DTE_TV | (5ull << AMD_DTE_MODE_SHIFT) | ROOT;
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, 1, IMS_FMT_AMDV1, w, err, sizeof(err)), -EINVAL);
	ims_iommu_free(mmu);

	/* The encoder refuses hd without ha. */
	struct ims_ctx_params p = {.tag = 1, .root = ROOT, .hd = true};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_AMDV1, &p, w, err, sizeof(err)), -EINVAL);
	ims_mem_free(mem);
}
END_TEST

START_TEST(had_gates_a_and_d)
{
	/* HAD 00: nothing; 01: A only; 11: A, and D on writes. */
	const bool has[3][2] = {{false, false}, {true, false}, {true, true}};
	for (int i = 0; i < 3; i++) {
		struct rig r;
		rig_up(&r, 3, has[i][0], has[i][1], NULL);
		uint64_t slot = chain(&r, 3, 0, 0x5000, AMD_PTE_IR | AMD_PTE_IW);
		uint64_t leaf = AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | 0x80000000ull;
		ims_mem_store(r.mem, IMS_AGENT_HW, slot, leaf);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5000, IMS_ACC_R, NULL), 0);
		uint64_t v = ims_mem_load(r.mem, IMS_AGENT_HW, slot);
		ck_assert_int_eq(!!(v & AMD_PTE_A), has[i][0]);
		ck_assert(!(v & AMD_PTE_D));
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5008, IMS_ACC_W, NULL), 0);
		v = ims_mem_load(r.mem, IMS_AGENT_HW, slot);
		ck_assert_int_eq(!!(v & AMD_PTE_D), has[i][1]);
		/* PDEs never get A by default (not established). */
		ck_assert(!(ims_mem_load(r.mem, IMS_AGENT_HW, ROOT) & AMD_PTE_A));
		rig_down(&r);
	}
}
END_TEST

START_TEST(pde_accessed_option)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.amd_pde_accessed = true;
	struct rig r;
	rig_up(&r, 3, true, true, &cfg);
	uint64_t slot = chain(&r, 3, 0, 0x5000, AMD_PTE_IR | AMD_PTE_IW);
	ims_mem_store(r.mem, IMS_AGENT_HW, slot, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | 0x80000000ull);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5000, IMS_ACC_R, NULL), 0);
	ck_assert(ims_mem_load(r.mem, IMS_AGENT_HW, ROOT) & AMD_PTE_A);
	rig_down(&r);
}
END_TEST

START_TEST(permissions_anded)
{
	/* IR/IW ANDed over the DTE and every level: a PDE without IW makes a
	 * writable leaf read-only; the fault carries PR|PE|RW. */
	struct rig r;
	rig_up(&r, 3, true, true, NULL);
	uint64_t slot = chain(&r, 3, 0, 0x5000, AMD_PTE_IR);
	ims_mem_store(r.mem, IMS_AGENT_HW, slot, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | 0x80000000ull);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5000, IMS_ACC_R, &x), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5000, IMS_ACC_W, &x), IMS_FAULT_PERM);
	ck_assert_uint_eq(x.code, AMD_EV_PR | AMD_EV_PE | AMD_EV_RW);
	ck_assert(!(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D));
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(r.mmu, &f));
	ck_assert_int_eq(f.kind, IMS_FAULT_PERM);
	ck_assert(f.write);
	/* DTE IW clear: no write anywhere. */
	ck_assert_int_eq(ims_iommu_ctx_update(r.mmu, TAG, 0, AMD_DTE_IW, 0), 0);
	ck_assert_int_eq(ims_iommu_ctx_invalidate(r.mmu, TAG), 0);
	ims_iommu_inv_domain(r.mmu, TAG);
	ims_mem_store(r.mem, IMS_AGENT_HW, ROOT, ims_mem_load(r.mem, IMS_AGENT_HW, ROOT) | AMD_PTE_IW);
	ims_mem_store(r.mem, IMS_AGENT_HW, table_at(2),
		      ims_mem_load(r.mem, IMS_AGENT_HW, table_at(2)) | AMD_PTE_IW);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5000, IMS_ACC_W, &x), IMS_FAULT_PERM);
	rig_down(&r);
}
END_TEST

START_TEST(default_size_leaves_at_each_level)
{
	/* NextLevel 0 at level L is a 2^(12+9L) page. */
	for (int L = 0; L <= 3; L++) {
		struct rig r;
		rig_up(&r, 5, false, false, NULL);
		unsigned shift = 12 + 9 * (unsigned)L;
		uint64_t iova = 3ull << shift;
		uint64_t pa = 5ull << shift;
		uint64_t slot = chain(&r, 5, L, iova, AMD_PTE_IR | AMD_PTE_IW);
		ims_mem_store(r.mem, IMS_AGENT_HW, slot, AMD_PTE_PR | AMD_PTE_IR | pa);
		struct ims_xlate x;
		uint64_t off = (1ull << shift) - 8;
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova + off, IMS_ACC_R, &x), 0);
		ck_assert_uint_eq(x.pa, pa + off);
		ck_assert_uint_eq(x.leaf_shift, shift);
		rig_down(&r);
	}
}
END_TEST

START_TEST(sized_pages_and_bad_level_encodings)
{
	struct rig r;
	rig_up(&r, 3, true, true, NULL);
	/* 32 KiB page: 8 identical replicas at level 0. */
	uint64_t base = chain(&r, 3, 0, 0x200000, AMD_PTE_IR | AMD_PTE_IW);
	uint64_t pte = AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (7ull << 9) | amd_size_encode(0x7fff8000ull, 15);
	for (int i = 0; i < 8; i++)
		ims_mem_store(r.mem, IMS_AGENT_HW, base + 8 * i, pte);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x205010, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x7fffd010ull);
	ck_assert_uint_eq(x.leaf_shift, 15);
	ck_assert_uint_eq(x.leaf_iova, 0x200000ull);
	/* NextLevel=7 with the level's default size (4K at level 0) is a bad
	 * encoding: the lowest zero bit at 12 means 8K... use a 2M code at
	 * level 0, which belongs to level 1. */
	uint64_t bad = AMD_PTE_PR | AMD_PTE_IR | (7ull << 9) | amd_size_encode(0x40000000ull, 21);
	ims_mem_store(r.mem, IMS_AGENT_HW, base + 8 * 16, bad);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x210000, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert(x.code & AMD_EV_RZ);
	/* A PDE whose NextLevel is not below its own level: reserved. */
	ims_mem_store(r.mem, IMS_AGENT_HW, ROOT + 8 * 3, AMD_PTE_PR | (3ull << 9) | table_at(9));
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 3ull << 30, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert(x.code & AMD_EV_RZ);
	rig_down(&r);
}
END_TEST

START_TEST(level_skip)
{
	/* A level-3 PDE pointing straight at a level-1 table (NextLevel 1 at
	 * our level 2 skips level 1): IOVAs with non-zero skipped bits fault. */
	struct rig r;
	rig_up(&r, 3, false, false, NULL);
	ims_mem_store(r.mem, IMS_AGENT_HW, ROOT, AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (1ull << 9) | table_at(1));
	ims_mem_store(r.mem, IMS_AGENT_HW, table_at(1) + 8 * 5, AMD_PTE_PR | AMD_PTE_IR | 0x9000000ull);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5008, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, 0x9000008ull);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x205008, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	rig_down(&r);
}
END_TEST

START_TEST(replica_policy)
{
	/* Which replica of a 32 KiB page gets D: first, covering, random. */
	const enum ims_replica_policy pol[] = {IMS_REPLICA_FIRST, IMS_REPLICA_COVERING};
	for (int p = 0; p < 2; p++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.replica = pol[p];
		struct rig r;
		rig_up(&r, 3, true, true, &cfg);
		uint64_t base = chain(&r, 3, 0, 0x200000, AMD_PTE_IR | AMD_PTE_IW);
		uint64_t pte = AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (7ull << 9) | amd_size_encode(0x7fff8000ull, 15);
		for (int i = 0; i < 8; i++)
			ims_mem_store(r.mem, IMS_AGENT_HW, base + 8 * i, pte);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x205010, IMS_ACC_W, NULL), 0);
		int want = pol[p] == IMS_REPLICA_FIRST ? 0 : 5;
		for (int i = 0; i < 8; i++) {
			uint64_t v = ims_mem_load(r.mem, IMS_AGENT_HW, base + 8 * i);
			ck_assert_int_eq(!!(v & AMD_PTE_D), i == want);
		}
		rig_down(&r);
	}
	/* Random: over many pages, more than one replica index gets chosen. */
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.replica = IMS_REPLICA_RANDOM;
	cfg.seed = 42;
	struct rig r;
	rig_up(&r, 3, true, true, &cfg);
	unsigned seen = 0;
	for (int pg = 0; pg < 32; pg++) {
		uint64_t iova = 0x200000 + 0x8000ull * pg;
		uint64_t base = chain(&r, 3, 0, iova, AMD_PTE_IR | AMD_PTE_IW);
		uint64_t pte = AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | (7ull << 9) |
			       amd_size_encode(0x7fff8000ull, 15);
		for (int i = 0; i < 8; i++)
			ims_mem_store(r.mem, IMS_AGENT_HW, base + 8 * i, pte);
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova, IMS_ACC_W, NULL), 0);
		int dirty = 0;
		for (int i = 0; i < 8; i++)
			if (ims_mem_load(r.mem, IMS_AGENT_HW, base + 8 * i) & AMD_PTE_D) {
				seen |= 1u << i;
				dirty++;
			}
		ck_assert_int_eq(dirty, 1);
	}
	ck_assert_uint_gt(__builtin_popcount(seen), 1);
	rig_down(&r);
}
END_TEST

START_TEST(inv_pages_command)
{
	/* INVALIDATE_IOMMU_PAGES: S=0 one page; S=1 size from the lowest zero
	 * address bit; the all-pages address drops the whole domain. */
	struct rig r;
	rig_up(&r, 3, false, false, NULL);
	for (int i = 0; i < 16; i++) {
		uint64_t iova = 0x10000ull * (uint64_t)i;
		uint64_t slot = chain(&r, 3, 0, iova, AMD_PTE_IR | AMD_PTE_IW);
		ims_mem_store(r.mem, IMS_AGENT_HW, slot, AMD_PTE_PR | AMD_PTE_IR | (0x1000000ull + iova));
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, iova, IMS_ACC_R, NULL), 0);
	}
	const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
	uint64_t c0 = (AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT) | ((uint64_t)TAG << AMD_CMD_DOMID_SHIFT);
	uint64_t before = n->inv_entries;
	uint64_t one[2] = {c0, 0x30000};
	ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_AMDV1, one), 0);
	ck_assert_uint_eq(n->inv_entries - before, 1);
	/* 256 KiB at 0x40000: bits 16:12 ones, bit 17 zero. */
	before = n->inv_entries;
	uint64_t rng[2] = {c0, amd_size_encode(0x40000, 18) | AMD_CMD_S};
	ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_AMDV1, rng), 0);
	ck_assert_uint_eq(n->inv_entries - before, 4);
	uint64_t misses = n->iotlb_misses;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x40000, IMS_ACC_R, NULL), 0);
	ck_assert_uint_eq(n->iotlb_misses, misses + 1);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x80000, IMS_ACC_R, NULL), 0);
	ck_assert_uint_eq(n->iotlb_misses, misses + 1);
	uint64_t all[2] = {c0, AMD_CMD_ALL_PAGES | AMD_CMD_S | AMD_CMD_PDE};
	ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_AMDV1, all), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x80000, IMS_ACC_R, NULL), 0);
	ck_assert_uint_eq(n->iotlb_misses, misses + 2);
	uint64_t unknown[2] = {0xfull << 60, 0};
	ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_AMDV1, unknown), -EINVAL);
	rig_down(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("amd");
	TCase *tc = tcase_create("amd");
	tcase_add_test(tc, size_code_every_power_of_two);
	tcase_add_test(tc, every_mode_covers_its_width);
	tcase_add_test(tc, dte_decode_errors);
	tcase_add_test(tc, had_gates_a_and_d);
	tcase_add_test(tc, pde_accessed_option);
	tcase_add_test(tc, permissions_anded);
	tcase_add_test(tc, default_size_leaves_at_each_level);
	tcase_add_test(tc, sized_pages_and_bad_level_encodings);
	tcase_add_test(tc, level_skip);
	tcase_add_test(tc, replica_policy);
	tcase_add_test(tc, inv_pages_command);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
