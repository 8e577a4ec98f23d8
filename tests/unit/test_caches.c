/* Replacement and invalidation of each cache structure: the IOTLB, the
 * device-side micro-TLB and the walk caches (docs/timing.md; formats.md
 * "Caches and invalidation"), through AMD raw domains. */
#include <check.h>
#include <stdlib.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "model/prefetch.h"

#define RW (AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW)
#define ROOT 0x100000ull
#define L1T 0x101000ull
#define L1B 0x102000ull /* where prefetch_changes_nothing moves L1T */
#define DEV 10
#define DEV2 11

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	const struct ims_iommu_counters *n;
};

/* 3-level AMD domain `tag` at `root`: 8 level-0 tables, one per 2 MiB
 * region, page i of region k at 0x40000000 + (k << 21) + (i << 12). */
static void build(struct rig *r, uint16_t tag, uint64_t root, uint64_t l1, uint64_t l0base,
		  uint32_t dev)
{
	struct ims_ctx_params p = {.tag = tag, .root = root, .levels = 3, .ha = true, .hd = true};
	uint64_t w[IMS_CTX_WORDS];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_AMDV1, &p, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, tag, IMS_FMT_AMDV1, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, dev, tag), 0);
	ims_mem_store(r->mem, IMS_AGENT_HW, root, RW | (2ull << 9) | l1);
	for (uint64_t k = 0; k < 8; k++) {
		uint64_t l0 = l0base + (k << 12);
		ims_mem_store(r->mem, IMS_AGENT_HW, l1 + 8 * k, RW | (1ull << 9) | l0);
		for (uint64_t i = 0; i < 512; i++)
			ims_mem_store(r->mem, IMS_AGENT_HW, l0 + 8 * i,
				      RW | (0x40000000ull + (k << 21) + (i << 12)));
	}
}

static void rig_up(struct rig *r, const struct ims_iommu_cfg *cfg)
{
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	r->n = ims_iommu_counters(r->mmu);
	build(r, 1, ROOT, L1T, 0x200000ull, DEV);
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t page(uint64_t i) { return i << 12; }

static void rd(struct rig *r, uint32_t dev, uint64_t iova)
{
	ck_assert_int_eq(ims_iommu_access(r->mmu, dev, iova, IMS_ACC_R, NULL), 0);
}

/* ---- which cache a test drives --------------------------------------------- */

enum which { IOTLB, UTLB };

/* One set of 4 ways in the cache under test; the other TLB stays out of the
 * way (the IOTLB large when the micro-TLB is tested, the micro-TLB off when
 * the IOTLB is). */
static void cfg_for(struct ims_iommu_cfg *c, enum which w, enum ims_repl_policy pol,
		    uint64_t seed)
{
	ims_iommu_cfg_default(c);
	c->seed = seed;
	if (w == IOTLB) {
		c->iotlb_entries = 4;
		c->iotlb_ways = 4;
		c->iotlb_policy = pol;
	} else {
		c->utlb_enable = true;
		c->utlb_entries = 4;
		c->utlb_ways = 0; /* fully associative */
		c->utlb_policy = pol;
	}
}

/* Misses of the cache under test so far. */
static uint64_t misses(const struct rig *r, enum which w)
{
	return w == IOTLB ? r->n->iotlb_misses : r->n->utlb_misses;
}

static bool hits(struct rig *r, enum which w, uint64_t iova)
{
	uint64_t before = misses(r, w);
	rd(r, DEV, iova);
	return misses(r, w) == before;
}

static void lru(enum which w)
{
	struct ims_iommu_cfg c;
	cfg_for(&c, w, IMS_REPL_LRU, 1);
	struct rig r;
	rig_up(&r, &c);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert(!hits(&r, w, page(i)));
	ck_assert(hits(&r, w, page(0))); /* 1 is now the least recently used */
	ck_assert(!hits(&r, w, page(4))); /* evicts 1 */
	ck_assert(hits(&r, w, page(0)));
	ck_assert(hits(&r, w, page(2)));
	ck_assert(hits(&r, w, page(3)));
	ck_assert(hits(&r, w, page(4)));
	ck_assert(!hits(&r, w, page(1)));
	ck_assert_uint_eq(w == IOTLB ? r.n->iotlb_evictions : r.n->utlb_evictions, 2);
	rig_down(&r);
}

static void round_robin(enum which w)
{
	struct ims_iommu_cfg c;
	cfg_for(&c, w, IMS_REPL_ROUND_ROBIN, 1);
	struct rig r;
	rig_up(&r, &c);
	/* Invalid ways fill first: pages 0..3 in ways 0..3, pointer at way 0. */
	for (uint64_t i = 0; i < 4; i++)
		ck_assert(!hits(&r, w, page(i)));
	ck_assert(hits(&r, w, page(0)));  /* use does not matter to round robin */
	ck_assert(!hits(&r, w, page(4))); /* way 0: page 0 goes */
	ck_assert(hits(&r, w, page(1)));
	ck_assert(!hits(&r, w, page(0))); /* way 1: page 1 goes */
	ck_assert(!hits(&r, w, page(1))); /* way 2: page 2 goes */
	ck_assert(hits(&r, w, page(3)));
	ck_assert(hits(&r, w, page(4)));
	ck_assert(!hits(&r, w, page(2))); /* way 3: page 3 goes */
	ck_assert(!hits(&r, w, page(3))); /* way 0 again: page 4 goes */
	ck_assert(!hits(&r, w, page(4)));
	rig_down(&r);
}

/* The hit/miss pattern of a fixed access sequence, one bit per access. */
static uint64_t pattern(enum which w, enum ims_repl_policy pol, uint64_t seed)
{
	struct ims_iommu_cfg c;
	cfg_for(&c, w, pol, seed);
	struct rig r;
	rig_up(&r, &c);
	uint64_t bits = 0;
	static const unsigned seq[] = {0, 1, 2, 3, 4, 0, 1, 5, 2, 3, 0, 6, 1, 4, 2, 5,
				       3, 0, 6, 1, 2, 4, 5, 3, 0, 1, 6, 2, 4, 3, 5, 0};
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		if (hits(&r, w, page(seq[i])))
			bits |= 1ull << i;
	rig_down(&r);
	return bits;
}

static void random_seeded(enum which w)
{
	/* The same seed replays the same choices. */
	uint64_t a = pattern(w, IMS_REPL_RANDOM, 7);
	ck_assert_uint_eq(pattern(w, IMS_REPL_RANDOM, 7), a);
	/* Other seeds choose other victims: some pattern differs. */
	bool differs = false;
	for (uint64_t s = 8; s < 24 && !differs; s++)
		differs = pattern(w, IMS_REPL_RANDOM, s) != a;
	ck_assert(differs);
	/* And random is not LRU or round robin in disguise for every seed. */
	bool not_lru = false;
	uint64_t l = pattern(w, IMS_REPL_LRU, 7), rr = pattern(w, IMS_REPL_ROUND_ROBIN, 7);
	for (uint64_t s = 1; s < 24 && !not_lru; s++) {
		uint64_t p = pattern(w, IMS_REPL_RANDOM, s);
		not_lru = p != l && p != rr;
	}
	ck_assert(not_lru);
}

/* A way an invalidation emptied is filled before any policy choice: the
 * round-robin pointer (at way 0 here) and a random pick must both leave
 * the pages in the other ways alone. */
static void invalid_way_first(enum which w, enum ims_repl_policy pol)
{
	struct ims_iommu_cfg c;
	cfg_for(&c, w, pol, 1);
	struct rig r;
	rig_up(&r, &c);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert(!hits(&r, w, page(i)));
	ims_iommu_inv_range(r.mmu, 1, page(2), 0x1000, 0);
	uint64_t ev = w == IOTLB ? r.n->iotlb_evictions : r.n->utlb_evictions;
	ck_assert(!hits(&r, w, page(4)));
	ck_assert(hits(&r, w, page(0)));
	ck_assert(hits(&r, w, page(1)));
	ck_assert(hits(&r, w, page(3)));
	ck_assert(hits(&r, w, page(4)));
	ck_assert_uint_eq(w == IOTLB ? r.n->iotlb_evictions : r.n->utlb_evictions, ev);
	rig_down(&r);
}

START_TEST(invalid_way_filled_first)
{
	static const enum ims_repl_policy pols[] = {IMS_REPL_LRU, IMS_REPL_ROUND_ROBIN,
						    IMS_REPL_RANDOM};
	for (unsigned i = 0; i < 3; i++) {
		invalid_way_first(IOTLB, pols[i]);
		invalid_way_first(UTLB, pols[i]);
	}
}
END_TEST

START_TEST(iotlb_lru) { lru(IOTLB); }
END_TEST
START_TEST(iotlb_round_robin) { round_robin(IOTLB); }
END_TEST
START_TEST(iotlb_random) { random_seeded(IOTLB); }
END_TEST
START_TEST(utlb_lru) { lru(UTLB); }
END_TEST
START_TEST(utlb_round_robin) { round_robin(UTLB); }
END_TEST
START_TEST(utlb_random) { random_seeded(UTLB); }
END_TEST

START_TEST(set_associative_conflicts)
{
	/* 8 entries, 2 ways: 4 sets. Pages that share a set evict each
	 * other while the other sets stay untouched; a set count that is not a
	 * power of two (12 entries, 4 ways: 3 sets) works the same way. */
	for (int t = 0; t < 2; t++) {
		struct ims_iommu_cfg c;
		ims_iommu_cfg_default(&c);
		c.iotlb_entries = t ? 12 : 8;
		c.iotlb_ways = t ? 4 : 2;
		struct rig r;
		rig_up(&r, &c);
		for (uint64_t i = 0; i < 64; i++)
			rd(&r, DEV, page(i));
		/* 64 distinct pages through 8 or 12 entries: only that many
		 * can be resident, the rest were evicted. */
		ck_assert_uint_eq(r.n->iotlb_fills, 64);
		ck_assert_uint_eq(r.n->iotlb_evictions, 64 - c.iotlb_entries);
		/* The last pages of each set are resident. Read backwards: a
		 * miss in a set can then only evict pages of it already read,
		 * so every resident page is found, and nothing else. */
		uint64_t resident = 0;
		for (uint64_t i = 64; i-- > 0;) {
			uint64_t m = r.n->iotlb_misses;
			rd(&r, DEV, page(i));
			resident += r.n->iotlb_misses == m;
		}
		ck_assert_uint_eq(resident, c.iotlb_entries);
		rig_down(&r);
	}
}
END_TEST

/* ---- invalidation reaching the micro-TLB ----------------------------------------- */

static void utlb_cfg(struct ims_iommu_cfg *c)
{
	ims_iommu_cfg_default(c);
	c->utlb_enable = true;
}

START_TEST(utlb_hit_skips_iommu)
{
	struct ims_iommu_cfg c;
	utlb_cfg(&c);
	struct rig r;
	rig_up(&r, &c);
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x3000, IMS_ACC_R, &x), 0);
	ck_assert(!x.utlb_hit && !x.iotlb_hit);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x3ff8, IMS_ACC_R, &x), 0);
	ck_assert(x.utlb_hit);
	ck_assert(x.iotlb_hit);
	ck_assert_uint_eq(x.pa, 0x40003ff8ull);
	/* The IOTLB was looked up once (the first miss), never for the hit. */
	ck_assert_uint_eq(r.n->iotlb_hits + r.n->iotlb_misses, 1);
	ck_assert_uint_eq(r.n->utlb_hits, 1);
	/* A second device on the same domain has its own micro-TLB: it
	 * misses there and hits the shared IOTLB. */
	ck_assert_int_eq(ims_iommu_attach(r.mmu, DEV2, 1), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV2, 0x3000, IMS_ACC_R, &x), 0);
	ck_assert(!x.utlb_hit && x.iotlb_hit);
	ck_assert_uint_eq(r.n->iotlb_hits, 1);
	rig_down(&r);
}
END_TEST

/* Whether dev's next read of iova is served by its micro-TLB. */
static bool utlb_has(struct rig *r, uint32_t dev, uint64_t iova)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r->mmu, dev, iova, IMS_ACC_R, &x), 0);
	return x.utlb_hit;
}

START_TEST(utlb_invalidation_kinds)
{
	struct ims_iommu_cfg c;
	utlb_cfg(&c);
	struct rig r;
	rig_up(&r, &c);
	build(&r, 2, 0x110000ull, 0x111000ull, 0x300000ull, DEV2);
	static const uint64_t pages[] = {0x1000, 0x2000, 0x5000};
	for (int round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 3; i++) {
			rd(&r, DEV, pages[i]);
			rd(&r, DEV2, pages[i]);
		}
		for (unsigned i = 0; i < 3; i++) {
			ck_assert(utlb_has(&r, DEV, pages[i]));
			ck_assert(utlb_has(&r, DEV2, pages[i]));
		}
		uint64_t dropped = r.n->utlb_inv_entries;
		switch (round) {
		case 0: /* a range of domain 1, leaf only: still reaches leaves */
			ims_iommu_inv_range(r.mmu, 1, 0x2000, 0x1000, IMS_INV_LEAF);
			ck_assert_uint_eq(r.n->utlb_inv_entries - dropped, 1);
			ck_assert(utlb_has(&r, DEV, 0x1000));
			ck_assert(!utlb_has(&r, DEV, 0x2000));
			ck_assert(utlb_has(&r, DEV, 0x5000));
			ck_assert(utlb_has(&r, DEV2, 0x2000)); /* other domain untouched */
			break;
		case 1: /* a range with walk caches, spanning two pages */
			ims_iommu_inv_range(r.mmu, 1, 0x1800, 0x1000, 0);
			ck_assert(!utlb_has(&r, DEV, 0x1000));
			ck_assert(!utlb_has(&r, DEV, 0x2000));
			ck_assert(utlb_has(&r, DEV, 0x5000));
			break;
		case 2: /* a whole domain */
			ims_iommu_inv_domain(r.mmu, 2);
			ck_assert_uint_eq(r.n->utlb_inv_entries - dropped, 3);
			ck_assert(utlb_has(&r, DEV, 0x5000));
			ck_assert(!utlb_has(&r, DEV2, 0x5000));
			break;
		case 3: /* everything */
			ims_iommu_inv_all(r.mmu);
			ck_assert_uint_eq(r.n->utlb_inv_entries - dropped, 6);
			ck_assert(!utlb_has(&r, DEV, 0x1000));
			ck_assert(!utlb_has(&r, DEV2, 0x1000));
			break;
		case 4: { /* a native command: AMD INVALIDATE_IOMMU_PAGES, one page */
			uint64_t cmd[2] = {(AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT) |
						   (1ull << AMD_CMD_DOMID_SHIFT),
					   0x5000};
			ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_AMDV1, cmd), 0);
			ck_assert(!utlb_has(&r, DEV, 0x5000));
			ck_assert(utlb_has(&r, DEV, 0x1000));
			break;
		}
		}
	}
	rig_down(&r);
}
END_TEST

START_TEST(utlb_reattach_and_detach)
{
	struct ims_iommu_cfg c;
	utlb_cfg(&c);
	struct rig r;
	rig_up(&r, &c);
	build(&r, 2, 0x110000ull, 0x111000ull, 0x300000ull, DEV2);
	ims_mem_store(r.mem, IMS_AGENT_HW, 0x300000ull + 8, RW | 0x70001000ull);
	struct ims_xlate x;
	rd(&r, DEV, 0x1000);
	ck_assert(utlb_has(&r, DEV, 0x1000));
	/* Moved to domain 2: the old translation must not be used. */
	ck_assert_int_eq(ims_iommu_attach(r.mmu, DEV, 2), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(!x.utlb_hit);
	ck_assert_uint_eq(x.pa, 0x70001000ull);
	ck_assert_int_eq(ims_iommu_detach(r.mmu, DEV), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x1000, IMS_ACC_R, &x), IMS_FAULT_UNATTACHED);
	ck_assert_int_eq(ims_iommu_attach(r.mmu, DEV, 1), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert(!x.utlb_hit);
	ck_assert_uint_eq(x.pa, 0x40001000ull);
	rig_down(&r);
}
END_TEST

START_TEST(utlb_dirty_rules)
{
	/* formats.md "Caches and invalidation", for the micro-TLB exactly as
	 * for the IOTLB. */
	struct ims_iommu_cfg c;
	utlb_cfg(&c);
	struct rig r;
	rig_up(&r, &c);
	uint64_t slot = 0x200000ull + 8 * 5;
	struct ims_oracle *o = ims_iommu_oracle(r.mmu);
	/* A read caches the page clean in both TLBs. */
	rd(&r, DEV, 0x5000);
	ck_assert(utlb_has(&r, DEV, 0x5000));
	ck_assert(!(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D));
	/* A write through the clean micro-TLB entry goes back to memory. */
	uint64_t walks = r.n->walks;
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5010, IMS_ACC_W, &x), 0);
	ck_assert(!x.utlb_hit);
	ck_assert(x.dirtied);
	ck_assert_uint_eq(r.n->walks, walks + 1);
	ck_assert(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D);
	ck_assert(ims_oracle_test(o, 1, 0x5000));
	/* Now cached dirty: the next write is served device-side, touches no
	 * memory, and is still recorded as a write. */
	ims_oracle_reset(o, 1);
	const struct ims_mem_counters *mc = ims_mem_counters(r.mem);
	uint64_t loads = mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD];
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5020, IMS_ACC_W, &x), 0);
	ck_assert(x.utlb_hit);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_HW][IMS_MEM_LOAD], loads);
	ck_assert(ims_oracle_test(o, 1, 0x5000));
	/* Software clears D without invalidating: the write is lost (bug 3),
	 * even if the IOTLB were flushed and only the micro-TLB kept it. */
	ims_mem_rmw(r.mem, IMS_AGENT_SW, slot, AMD_PTE_D, 0);
	ims_iommu_inv_all(r.mmu);
	rd(&r, DEV, 0x5000); /* re-cache clean */
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5030, IMS_ACC_W, NULL), 0);
	ck_assert(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D);
	ims_mem_rmw(r.mem, IMS_AGENT_SW, slot, AMD_PTE_D, 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5040, IMS_ACC_W, &x), 0);
	ck_assert(x.utlb_hit);
	ck_assert(!(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D));
	/* The invalidation that software owes reaches the micro-TLB. */
	ims_iommu_inv_range(r.mmu, 1, 0x5000, 0x1000, IMS_INV_LEAF);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x5050, IMS_ACC_W, &x), 0);
	ck_assert(!x.utlb_hit);
	ck_assert(ims_mem_load(r.mem, IMS_AGENT_HW, slot) & AMD_PTE_D);
	/* A read-only cached entry never serves a write. */
	ims_mem_store(r.mem, IMS_AGENT_HW, 0x200000ull + 8 * 6,
		      AMD_PTE_PR | AMD_PTE_IR | 0x40006000ull);
	rd(&r, DEV, 0x6000);
	ck_assert(utlb_has(&r, DEV, 0x6000));
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x6000, IMS_ACC_W, &x), IMS_FAULT_PERM);
	rig_down(&r);
}
END_TEST

START_TEST(utlb_off_is_not_there)
{
	/* Disabled (the default): no micro-TLB counter moves. */
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	ck_assert(!c.utlb_enable);
	struct rig r;
	rig_up(&r, &c);
	for (int i = 0; i < 4; i++)
		rd(&r, DEV, 0x1000);
	ck_assert_uint_eq(r.n->utlb_hits + r.n->utlb_misses + r.n->utlb_fills, 0);
	ck_assert_uint_eq(r.n->iotlb_hits, 3);
	rig_down(&r);
}
END_TEST

/* ---- walk caches ------------------------------------------------------------------ */

/* Only level 0 caches (the level-0 tables, keyed by 2 MiB region), 2
 * entries in one set; no IOTLB, so every access walks. */
static void wc_cfg(struct ims_iommu_cfg *c, enum ims_repl_policy pol, uint64_t seed)
{
	ims_iommu_cfg_default(c);
	c->seed = seed;
	c->iotlb_entries = 0;
	c->wc_level[0] = (struct ims_wc_level_cfg){.set = true, .enable = true, .entries = 2,
						   .ways = 2, .policy = pol, .latency = 4};
	for (int l = 1; l < IMS_WC_LEVELS; l++)
		c->wc_level[l] = (struct ims_wc_level_cfg){.set = true, .enable = false};
}

static uint64_t region(uint64_t k) { return k << 21; }

/* A walk that starts from a level-0 walk-cache hit reads one entry. */
static bool wc_hits(struct rig *r, uint64_t iova)
{
	uint64_t before = r->n->pte_reads, h = r->n->wc_hits;
	ck_assert_int_eq(ims_iommu_access(r->mmu, DEV, iova, IMS_ACC_R, NULL), 0);
	/* + 1: the A update reads the leaf once more (A already set: no write). */
	uint64_t reads = r->n->pte_reads - before;
	bool hit = r->n->wc_hits == h + 1;
	ck_assert_uint_eq(reads, hit ? 2 : 4);
	return hit;
}

START_TEST(wc_lru)
{
	struct ims_iommu_cfg c;
	wc_cfg(&c, IMS_REPL_LRU, 1);
	struct rig r;
	rig_up(&r, &c);
	ck_assert(!wc_hits(&r, region(0)));
	ck_assert(!wc_hits(&r, region(1)));
	ck_assert(wc_hits(&r, region(0) + 0x3000));
	ck_assert(!wc_hits(&r, region(2))); /* evicts region 1 */
	ck_assert(wc_hits(&r, region(0)));
	ck_assert(wc_hits(&r, region(2)));
	ck_assert(!wc_hits(&r, region(1)));
	rig_down(&r);
}
END_TEST

START_TEST(wc_round_robin)
{
	struct ims_iommu_cfg c;
	wc_cfg(&c, IMS_REPL_ROUND_ROBIN, 1);
	struct rig r;
	rig_up(&r, &c);
	ck_assert(!wc_hits(&r, region(0)));
	ck_assert(!wc_hits(&r, region(1)));
	ck_assert(wc_hits(&r, region(0)));
	ck_assert(!wc_hits(&r, region(2))); /* way 0: region 0 goes */
	ck_assert(wc_hits(&r, region(1)));
	ck_assert(!wc_hits(&r, region(0))); /* way 1: region 1 goes */
	ck_assert(wc_hits(&r, region(2)));
	ck_assert(!wc_hits(&r, region(1)));
	rig_down(&r);
}
END_TEST

static uint64_t wc_pattern(enum ims_repl_policy pol, uint64_t seed)
{
	struct ims_iommu_cfg c;
	wc_cfg(&c, pol, seed);
	struct rig r;
	rig_up(&r, &c);
	static const unsigned seq[] = {0, 1, 2, 0, 1, 3, 2, 0, 3, 1, 2, 3, 0, 1, 0, 2,
				       3, 1, 0, 2, 1, 3, 0, 2, 1, 0, 3, 2, 1, 3, 0, 1};
	uint64_t bits = 0;
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		if (wc_hits(&r, region(seq[i])))
			bits |= 1ull << i;
	rig_down(&r);
	return bits;
}

START_TEST(wc_random)
{
	uint64_t a = wc_pattern(IMS_REPL_RANDOM, 3);
	ck_assert_uint_eq(wc_pattern(IMS_REPL_RANDOM, 3), a);
	bool differs = false;
	for (uint64_t s = 4; s < 24 && !differs; s++)
		differs = wc_pattern(IMS_REPL_RANDOM, s) != a;
	ck_assert(differs);
}
END_TEST

/* iommu_prefetch is a hint: a model given hints, including hints for
 * pages that fault, unattached devices and accesses that never come, and
 * hints that start from a level-1 table which has since moved, must end up
 * exactly where one without them does. Small caches with LRU make any
 * stamp or counter a hint touched change later evictions. */
static uint64_t seq_iova(unsigned *seed)
{
	unsigned x = (unsigned)rand_r(seed);
	/* One access in 16 outside the 8 mapped regions (a fault). */
	return x % 16 == 0 ? region(9) + page(x % 512) : region(x % 8) + page((x >> 4) % 40);
}

START_TEST(prefetch_changes_nothing)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	c.iotlb_entries = 16;
	c.iotlb_ways = 4;
	c.utlb_enable = true;
	c.utlb_entries = 4;
	c.utlb_policy = IMS_REPL_LRU;
	c.wc_level[0] = (struct ims_wc_level_cfg){.set = true, .enable = true, .entries = 4,
						  .ways = 2, .policy = IMS_REPL_LRU, .latency = 4};
	struct rig a, b;
	rig_up(&a, &c);
	rig_up(&b, &c);
	enum { N = 4000 };
	unsigned seed = 11;
	static uint64_t iova[N + 1];
	static unsigned acc[N + 1];
	for (unsigned i = 0; i <= N; i++) {
		iova[i] = seq_iova(&seed);
		acc[i] = i % 3 ? IMS_ACC_R : IMS_ACC_W;
	}
	unsigned issued = 0;
	for (unsigned i = 0; i < N; i++) {
		if (i == N / 2) {
			/* The level-1 table moves and the old one is zeroed: the
			 * hints' memo of it is stale and must cost nothing. */
			struct rig *rr[2] = {&a, &b};
			for (int k = 0; k < 2; k++) {
				for (uint64_t e = 0; e < 8; e++) {
					uint64_t v = ims_mem_load(rr[k]->mem, IMS_AGENT_HW, L1T + 8 * e);
					ims_mem_store(rr[k]->mem, IMS_AGENT_HW, L1B + 8 * e, v);
					ims_mem_store(rr[k]->mem, IMS_AGENT_HW, L1T + 8 * e, 0);
				}
				ims_mem_store(rr[k]->mem, IMS_AGENT_HW, ROOT, RW | (2ull << 9) | L1B);
				ims_iommu_inv_all(rr[k]->mmu);
			}
		}
		issued += iommu_prefetch(b.mmu, DEV, iova[i + 1], acc[i + 1]);
		iommu_prefetch(b.mmu, DEV2, iova[i], acc[i]);
		iommu_prefetch(b.mmu, DEV, seq_iova(&seed), IMS_ACC_RW);
		struct ims_xlate xa, xb;
		int ra = ims_iommu_access(a.mmu, DEV, iova[i], acc[i], &xa);
		int rb = ims_iommu_access(b.mmu, DEV, iova[i], acc[i], &xb);
		ck_assert_int_eq(ra, rb);
		ck_assert_uint_eq(xa.pa, xb.pa);
		ck_assert_uint_eq(xa.cycles, xb.cycles);
		ck_assert_int_eq(xa.iotlb_hit, xb.iotlb_hit);
		ck_assert_int_eq(xa.utlb_hit, xb.utlb_hit);
		ck_assert_int_eq(xa.dirtied, xb.dirtied);
		ck_assert_int_eq((int)xa.fault, (int)xb.fault);
	}
	ck_assert_uint_gt(issued, N / 4); /* the hints were not all dropped */
	ck_assert_mem_eq(a.n, b.n, sizeof(*a.n));
	ck_assert_mem_eq(ims_mem_counters(a.mem), ims_mem_counters(b.mem),
			 sizeof(struct ims_mem_counters));
	for (uint64_t pa = 0x200000; pa < 0x208000; pa += 8)
		ck_assert_uint_eq(ims_mem_load(a.mem, IMS_AGENT_HW, pa),
				  ims_mem_load(b.mem, IMS_AGENT_HW, pa));
	ck_assert_uint_eq(ims_oracle_count(ims_iommu_oracle(a.mmu), 1, 0, 0),
			  ims_oracle_count(ims_iommu_oracle(b.mmu), 1, 0, 0));
	ck_assert_uint_eq(ims_iommu_latency_percentile(a.mmu, 0.9),
			  ims_iommu_latency_percentile(b.mmu, 0.9));
	struct ims_fault fa, fb;
	unsigned nf = 0;
	while (ims_iommu_fault_pop(a.mmu, &fa)) {
		ck_assert(ims_iommu_fault_pop(b.mmu, &fb));
		ck_assert_uint_eq(fa.iova, fb.iova);
		nf++;
	}
	ck_assert(!ims_iommu_fault_pop(b.mmu, &fb));
	ck_assert_uint_gt(nf, 0);
	rig_down(&a);
	rig_down(&b);
}
END_TEST

START_TEST(wc_invalidation_kinds)
{
	struct ims_iommu_cfg c;
	wc_cfg(&c, IMS_REPL_LRU, 1);
	c.wc_level[0].entries = c.wc_level[0].ways = 4;
	struct rig r;
	rig_up(&r, &c);
	build(&r, 2, 0x110000ull, 0x111000ull, 0x300000ull, DEV2);
	for (int kind = 0; kind < 4; kind++) {
		ims_iommu_inv_all(r.mmu);
		ck_assert(!wc_hits(&r, region(0)));
		ck_assert(!wc_hits(&r, region(1)));
		ck_assert(wc_hits(&r, region(0)));
		uint64_t before = r.n->inv_entries;
		switch (kind) {
		case 0: /* leaf only: walk caches kept */
			ims_iommu_inv_range(r.mmu, 1, region(0), 0x1000, IMS_INV_LEAF);
			ck_assert_uint_eq(r.n->inv_entries, before);
			ck_assert(wc_hits(&r, region(0)));
			ck_assert(wc_hits(&r, region(1)));
			break;
		case 1: /* with walk caches: only the region it covers */
			ims_iommu_inv_range(r.mmu, 1, region(0) + 0x5000, 0x1000, 0);
			ck_assert_uint_eq(r.n->inv_entries - before, 1);
			ck_assert(!wc_hits(&r, region(0)));
			ck_assert(wc_hits(&r, region(1)));
			break;
		case 2: /* another domain's: nothing of domain 1 */
			ims_iommu_inv_domain(r.mmu, 2);
			ck_assert(wc_hits(&r, region(0)));
			ims_iommu_inv_domain(r.mmu, 1);
			ck_assert(!wc_hits(&r, region(0)));
			ck_assert(!wc_hits(&r, region(1)));
			break;
		case 3:
			ims_iommu_inv_all(r.mmu);
			ck_assert_uint_eq(r.n->inv_entries - before, 2);
			ck_assert(!wc_hits(&r, region(1)));
			break;
		}
	}
	rig_down(&r);
}
END_TEST

START_TEST(wc_levels_follow_default_block)
{
	/* Levels without their own block use the default; a disabled level is
	 * never probed. */
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	c.iotlb_entries = 0;
	c.wc_level[0] = (struct ims_wc_level_cfg){.set = true, .enable = false};
	struct rig r;
	rig_up(&r, &c);
	rd(&r, DEV, 0x1000);
	uint64_t reads = r.n->pte_reads;
	rd(&r, DEV, 0x2000);
	/* Level 0 is off; level 1 (default block) hits: read L1 entry, leaf,
	 * and the leaf again for the A update. */
	ck_assert_uint_eq(r.n->pte_reads - reads, 3);
	ck_assert_uint_eq(r.n->wc_hits, 1);
	rig_down(&r);
	c.wc_disable = true;
	c.wc_level[0].set = false;
	rig_up(&r, &c);
	rd(&r, DEV, 0x1000);
	rd(&r, DEV, 0x2000);
	ck_assert_uint_eq(r.n->wc_hits + r.n->wc_misses, 0);
	ck_assert_uint_eq(r.n->pte_reads, 8);
	rig_down(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("caches");
	TCase *tc = tcase_create("caches");
	tcase_add_test(tc, iotlb_lru);
	tcase_add_test(tc, iotlb_round_robin);
	tcase_add_test(tc, invalid_way_filled_first);
	tcase_add_test(tc, iotlb_random);
	tcase_add_test(tc, set_associative_conflicts);
	tcase_add_test(tc, utlb_lru);
	tcase_add_test(tc, utlb_round_robin);
	tcase_add_test(tc, utlb_random);
	tcase_add_test(tc, utlb_hit_skips_iommu);
	tcase_add_test(tc, utlb_invalidation_kinds);
	tcase_add_test(tc, utlb_reattach_and_detach);
	tcase_add_test(tc, utlb_dirty_rules);
	tcase_add_test(tc, utlb_off_is_not_there);
	tcase_add_test(tc, wc_lru);
	tcase_add_test(tc, wc_round_robin);
	tcase_add_test(tc, wc_random);
	tcase_add_test(tc, wc_invalidation_kinds);
	tcase_add_test(tc, prefetch_changes_nothing);
	tcase_add_test(tc, wc_levels_follow_default_block);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
