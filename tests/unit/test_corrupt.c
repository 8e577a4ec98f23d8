/* A corrupt page table is a finding, never undefined behaviour or unbounded
 * work (issue 23): every built-in walker (fast, reference, rewalk) and the
 * built-in page table's own walks (map, unmap, iova_to_phys, for_each_leaf)
 * on tables a raw store has damaged, in every format.
 *
 * The cases name the classes the software must refuse (pagetables/
 * pt_check.c and each format's kind()); the sweeps flip every bit of every
 * live entry and set every AMD size code at every level, and require of
 * each walk that it returns, that its work stays within what the tables
 * hold, and (under ASan and UBSan) that nothing is read or shifted out of
 * bounds.
 */
#include "test_stride.h"
#include "walker_rig.h"

#include <stdio.h>

#include "iommusim/mem.h"

#define ADDR_BITS 0x0000fffffffff000ull /* a next table below 2^48, every format */

static const char *const walkers[] = {"fast", "reference", "rewalk"};

static unsigned walker_index(const char *name)
{
	for (unsigned i = 0; i < ims_pt_walker_count(); i++)
		if (!strcmp(ims_pt_walker_name(i), name))
			return i;
	ck_abort_msg("no walker %s", name);
	return 0;
}

struct geo {
	enum ims_format fmt;
	unsigned levels, gshift, ias;
};

/* The last finding of the domain (ims_pt_finding keeps the first). */
static char last[256];

static void on_finding(void *arg, const char *msg)
{
	(void)arg;
	snprintf(last, sizeof(last), "%s", msg);
}

/* A dirty-tracking domain of geometry g on walker w, tracking on (as
 * rig_domain, with the findings kept). */
static void up(struct rig *r, const struct geo *g, const char *w)
{
	rig_base(r);
	struct ims_pt_cfg pc = {.fmt = g->fmt, .tag = TAG, .levels = g->levels,
				.granule_shift = g->gshift, .ias = g->ias, .dirty_tracking = true,
				.walker = walker_index(w)};
	char err[200] = "";
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, on_finding, NULL, NULL};
	ck_assert_msg(ims_pt_new(r->mem, &pc, &sink, &r->pt, err, sizeof(err)) == 0, "%s", err);
	uint64_t w8[IMS_CTX_WORDS];
	ims_pt_ctx_words(r->pt, w8);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, pc.fmt, w8, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r->pt, true), 0);
	last[0] = 0;
}

/* Tear-down without the pool check: a corrupt table may hide tables. */
static void down_any(struct rig *r)
{
	ims_pt_free(r->pt);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t root_of(const struct rig *r)
{
	(void)r;
	return IMS_MEM_POOL_BASE; /* the first table of a fresh memory */
}

/* The slot of iova's entry at `level` (walking the well-formed tables down
 * from the root of a geometry with `stride` index bits a level). */
static uint64_t slot_of(struct rig *r, unsigned gshift, unsigned stride, int top, int level,
			uint64_t iova)
{
	uint64_t table = root_of(r);
	for (int l = top;; l--) {
		unsigned sh = gshift + stride * (unsigned)l;
		uint64_t idx = (iova >> sh) & ((1ull << stride) - 1);
		uint64_t slot = table + 8 * idx;
		if (l == level)
			return slot;
		table = ims_mem_load(r->mem, IMS_AGENT_HW, slot) & ADDR_BITS;
	}
}

static void poke(struct rig *r, uint64_t pa, uint64_t v)
{
	ims_mem_store(r->mem, IMS_AGENT_HW, pa, v);
}

static uint64_t peek(struct rig *r, uint64_t pa)
{
	return ims_mem_load(r->mem, IMS_AGENT_HW, pa);
}

static void dirty(struct rig *r, uint64_t iova)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r->mmu, DEV, iova, IMS_ACC_W, &x), 0);
}

static int count_leaf(void *arg, uint64_t iova, unsigned shift, uint64_t pa, unsigned prot)
{
	(void)iova, (void)shift, (void)pa, (void)prot;
	++*(unsigned *)arg;
	return 0;
}

/* A harvest of [iova, iova + size) over a bitmap of 2^20 bits at 4 KiB or
 * larger: returns its findings (the count ims_pt_finding gives, grown). The
 * entries it examined may not pass `max_entries`. */
static unsigned harvest_findings(struct rig *r, uint64_t iova, uint64_t size, unsigned flags,
				 uint64_t max_entries, const char *want)
{
	unsigned before = 0, after = 0;
	(void)ims_pt_finding(r->pt, &before);
	uint64_t e0 = ims_pt_stats(r->pt)->harvest_entries;
	unsigned pg = 12;
	while ((size >> pg) > (1ull << 20))
		pg++;
	struct ims_bitmap bm;
	ck_assert_int_eq(ims_bitmap_init(&bm, iova, size, pg), 0);
	ck_assert_int_eq(ims_pt_read_and_clear_dirty(r->pt, iova, size, flags, &bm), 0);
	ims_bitmap_fini(&bm);
	uint64_t examined = ims_pt_stats(r->pt)->harvest_entries - e0;
	ck_assert_msg(examined <= max_entries, "harvest examined %llu entries, at most %llu",
		      (unsigned long long)examined, (unsigned long long)max_entries);
	(void)ims_pt_finding(r->pt, &after);
	if (want)
		ck_assert_msg(after > before && has(last, want), "finding '%s' does not say '%s'",
			      after > before ? last : "(none)", want);
	return after - before;
}

/* ---- the reproducers: AMD NextLevel=7 size codes -------------------------- */

/* An AMD PTE: present, IR, IW, NextLevel 7 with the size code of 2^n. */
static uint64_t amd_sized(unsigned n, uint64_t pa)
{
	uint64_t ones = ((1ull << (n - 1)) - 1) & ~0xfffull & 0x000ffffffffff000ull;
	return 1 | (7ull << 9) | (3ull << 61) | ((pa & ~((1ull << n) - 1)) | ones);
}

START_TEST(amd_size_code_beyond_the_level)
{
	/* 2^53 (a shift by 41), 2^43 (2^31 replicas), 2^21 (the next level's
	 * size, not strictly between), and 2^13, a size of level 0 whose second
	 * replica is missing. */
	static const unsigned sizes[] = {53, 43, 21, 13};
	static const char *const want[] = {"NextLevel 7", "NextLevel 7", "NextLevel 7",
					   "run it lies in"};
	const struct geo g = {IMS_FMT_AMDV1, 3, 0, 0};
	for (unsigned wi = 0; wi < 3; wi++) {
		for (unsigned k = 0; k < 4; k++) {
			struct rig r;
			up(&r, &g, walkers[wi]);
			ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
			dirty(&r, 0);
			uint64_t slot = slot_of(&r, 12, 9, 2, 0, 0);
			poke(&r, slot, amd_sized(sizes[k], 0x40000000) | (1ull << 6)); /* D set */
			harvest_findings(&r, 0, 2ull << 20, 0, 1024, want[k]);
			/* The entry is left as it is: nothing cleaned. */
			ck_assert(peek(&r, slot) & (1ull << 6));
			/* iova_to_phys and for_each_leaf skip it, with a finding. */
			uint64_t pa;
			unsigned prot, n = 0;
			ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0, &pa, &prot), -ENOENT);
			ck_assert_int_eq(ims_pt_for_each_leaf(r.pt, 0, 0, count_leaf, &n), 0);
			ck_assert_uint_eq(n, 0);
			/* A map over it fails as corrupt, an unmap clears it and
			 * frees the tables it emptied. */
			ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0),
					 -EUCLEAN);
			uint64_t bytes = 1;
			ck_assert_int_eq(ims_pt_unmap(r.pt, 0, 4096, &bytes), 0);
			/* The 8K replica is a leaf entry of its own; the others no leaf. */
			ck_assert_uint_eq(bytes, k == 3 ? 4096 : 0);
			ck_assert_uint_eq(ims_pt_stats(r.pt)->table_pages, 1);
			rig_down(&r);
		}
	}
}
END_TEST

/* The hardware faults on the same entry: the device wrote nothing through
 * it, so the walker has nothing to miss. */
START_TEST(amd_size_code_faults_in_hardware_too)
{
	const struct geo g = {IMS_FMT_AMDV1, 3, 0, 0};
	struct rig r;
	up(&r, &g, "fast");
	ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
	poke(&r, slot_of(&r, 12, 9, 2, 0, 0), amd_sized(53, 0x40000000));
	ims_iommu_inv_all(r.mmu);
	struct ims_xlate x;
	ck_assert_int_gt(ims_iommu_access(r.mmu, DEV, 0, IMS_ACC_W, &x), 0);
	rig_down(&r);
}
END_TEST

START_TEST(amd_pde_next_level_not_one_below)
{
	const struct geo g = {IMS_FMT_AMDV1, 3, 0, 0};
	/* NextLevel 3 at level 2 (names itself), 1 (a level skip). */
	static const struct {
		unsigned nl;
		const char *want;
	} cases[] = {{3, "at or above"}, {1, "skips a level"}};
	for (unsigned wi = 0; wi < 3; wi++) {
		for (unsigned k = 0; k < 2; k++) {
			struct rig r;
			up(&r, &g, walkers[wi]);
			ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
			uint64_t slot = slot_of(&r, 12, 9, 2, 2, 0);
			uint64_t v = peek(&r, slot);
			poke(&r, slot, (v & ~(7ull << 9)) | ((uint64_t)cases[k].nl << 9));
			harvest_findings(&r, 0, 1ull << 30, 0, 16, cases[k].want);
			poke(&r, slot, v);
			ck_assert_uint_eq(harvest_findings(&r, 0, 1ull << 30, 0, 1024, NULL), 0);
			rig_down(&r);
		}
	}
}
END_TEST

/* ---- other formats -------------------------------------------------------------- */

START_TEST(vtd_large_page_bit_where_no_large_pages)
{
	const struct geo g = {IMS_FMT_VTD, 4, 0, 0};
	for (unsigned wi = 0; wi < 3; wi++) {
		struct rig r;
		up(&r, &g, walkers[wi]);
		ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
		uint64_t top = slot_of(&r, 12, 9, 3, 3, 0);
		uint64_t v = peek(&r, top);
		poke(&r, top, v | (1ull << 7)); /* PS in an SL-PML4E */
		harvest_findings(&r, 0, 1ull << 39, 0, 16, "PS set at a level");
		poke(&r, top, v | (1ull << 11)); /* SNP in a non-leaf */
		harvest_findings(&r, 0, 1ull << 39, 0, 16, "SNP");
		poke(&r, top, v);
		/* A 2 MiB leaf with address bits 20:12 set (reserved). */
		uint64_t pde = slot_of(&r, 12, 9, 3, 1, 0);
		uint64_t pv = peek(&r, pde);
		poke(&r, pde, 0x40000000 | (1ull << 12) | (1ull << 7) | 3);
		harvest_findings(&r, 0, 1ull << 30, 0, 16, "below its size");
		poke(&r, pde, pv);
		ck_assert_uint_eq(harvest_findings(&r, 0, 1ull << 39, 0, 1024, NULL), 0);
		rig_down(&r);
	}
}
END_TEST

START_TEST(smmu_block_at_page_level_and_broken_group)
{
	const struct geo g = {IMS_FMT_SMMUV3, 0, 12, 39};
	for (unsigned wi = 0; wi < 3; wi++) {
		struct rig r;
		up(&r, &g, walkers[wi]);
		/* A 64 KiB contiguous group of 16 pages at 0, a page at 1 MiB. */
		ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 1ull << 16, IMS_PROT_RW, 1ull << 16), 0);
		ck_assert_int_eq(ims_pt_map(r.pt, 1ull << 20, 0x50000000, 4096, IMS_PROT_RW, 0), 0);
		dirty(&r, 0x5000);
		uint64_t page = slot_of(&r, 12, 9, 2, 0, 1ull << 20);
		uint64_t v = peek(&r, page);
		poke(&r, page, (v & ~3ull) | 1); /* type 01 at the page level */
		harvest_findings(&r, 1ull << 20, 4096, 0, 16, "block descriptor");
		poke(&r, page, v);
		/* Entry 5 of the group without the contiguous bit: the group is
		 * corrupt, and nothing of it is recorded or cleaned. */
		uint64_t e5 = slot_of(&r, 12, 9, 2, 0, 0x5000);
		uint64_t v5 = peek(&r, e5);
		poke(&r, e5, v5 & ~(1ull << 52));
		harvest_findings(&r, 0x3000, 4096, 0, 32, "run it lies in");
		unsigned n = 0;
		ck_assert_int_eq(ims_pt_for_each_leaf(r.pt, 0, 1ull << 16, count_leaf, &n), 0);
		ck_assert_uint_eq(n, 0); /* the group is skipped whole */
		poke(&r, e5, v5);
		ck_assert_uint_eq(harvest_findings(&r, 0, 1ull << 21, 0, 1024, NULL), 0);
		rig_down(&r);
	}
}
END_TEST

/* ---- where a table entry leads ----------------------------------------------------- */

START_TEST(table_pointer_to_no_table)
{
	const struct geo g = {IMS_FMT_AMDV1, 3, 0, 0};
	for (unsigned wi = 0; wi < 3; wi++) {
		struct rig r;
		up(&r, &g, walkers[wi]);
		ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
		uint64_t slot = slot_of(&r, 12, 9, 2, 1, 0);
		uint64_t v = peek(&r, slot);
		/* Data memory (mapped, written), and a pool frame one off. */
		poke(&r, 0x40000000, 0x6000000040000001ull);
		poke(&r, slot, (v & ~ADDR_BITS) | 0x40000000);
		harvest_findings(&r, 0, 2ull << 20, 0, 16, "is no page table");
		poke(&r, slot, v + 0x10000);
		harvest_findings(&r, 0, 2ull << 20, 0, 16, "is no page table");
		poke(&r, slot, v);
		rig_down(&r);
	}
}
END_TEST

/* Upper tables whose every entry leads to the same next table: 512^3
 * paths to one leaf table in a 6-level AMD domain. A walk stops once it
 * has entered as many table frames as the domain holds (rewalk: once it has
 * taken as many steps as the tables hold entries). */
START_TEST(shared_tables_bound_the_walk)
{
	const struct geo g = {IMS_FMT_AMDV1, 6, 0, 0};
	for (unsigned wi = 0; wi < 3; wi++) {
		struct rig r;
		up(&r, &g, walkers[wi]);
		ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
		for (int level = 1; level <= 3; level++) {
			uint64_t s0 = slot_of(&r, 12, 9, 5, level, 0);
			uint64_t v = peek(&r, s0);
			for (unsigned i = 1; i < 512; i++)
				poke(&r, s0 + 8 * i, v);
		}
		uint64_t frames = ims_pt_stats(r.pt)->table_pages;
		ck_assert_uint_eq(frames, 6);
		harvest_findings(&r, 0, 1ull << 48, IMS_DIRTY_NO_CLEAR, 512 * frames,
				 "reachable twice");
		unsigned n = 0;
		ck_assert_int_eq(ims_pt_for_each_leaf(r.pt, 0, 0, count_leaf, &n), 0);
		ck_assert_uint_le(n, frames * 512);
		down_any(&r);
	}
}
END_TEST

/* ---- sweeps ----------------------------------------------------------------------- */

static const struct geo sweep_geos[] = {
	{IMS_FMT_AMDV1, 3, 0, 0},   {IMS_FMT_VTD, 3, 0, 0},	 {IMS_FMT_SMMUV3, 0, 12, 39},
	{IMS_FMT_SMMUV3, 0, 14, 36}, {IMS_FMT_SMMUV3, 0, 16, 42}, {IMS_FMT_VTD_FS, 4, 0, 0},
	{IMS_FMT_AMDV2, 5, 0, 0},
};

/* Every live table entry of the domain (the slots holding something), up
 * to max. */
static unsigned live_slots(struct rig *r, uint64_t *out, unsigned max)
{
	unsigned n = 0;
	/* The pool hands frames out from its base up; a few dozen at most. */
	for (uint64_t f = 0; f < 64 && n < max; f++) {
		uint64_t fr = IMS_MEM_POOL_BASE + (f << 12);
		for (unsigned i = 0; i < 512 && n < max; i++)
			if (peek(r, fr + 8 * i))
				out[n++] = fr + 8 * i;
	}
	return n;
}

/* A domain with a 4 KiB page, a run (AMD replicas, an Arm group), a large
 * leaf and a second-level table, some of it dirty. */
static void populate(struct rig *r, const struct geo *g)
{
	uint64_t sizes = ims_pt_pgsizes(r->pt);
	uint64_t small = sizes & -sizes;
	ck_assert_int_eq(ims_pt_map(r->pt, 0, 0x40000000, small, IMS_PROT_RW, 0), 0);
	dirty(r, 0);
	/* The next size up (a run or a large leaf) and a leaf of level 1's
	 * entry size when the geometry has one, each at 4 times its size. */
	uint64_t rest = sizes & ~small;
	unsigned gs = g->gshift ? g->gshift : 12;
	uint64_t l1 = 1ull << (gs + gs - 3);
	uint64_t more[2] = {rest & -rest, (sizes & l1) ? l1 : 0};
	for (int k = 0; k < 2; k++) {
		uint64_t s = more[k];
		if (!s || (k == 1 && s == more[0]))
			continue;
		uint64_t at = s * 4;
		ck_assert_int_eq(ims_pt_map(r->pt, at, 0x80000000ull + at, s, IMS_PROT_RW, s), 0);
		dirty(r, at + s / 2);
	}
}

/* Flip each bit of each live entry; every walk returns within bounds. */
START_TEST(sweep_bit_flips)
{
	const struct geo *g = &sweep_geos[_i];
	for (unsigned wi = 0; wi < 3; wi++) {
		struct rig r;
		up(&r, g, walkers[wi]);
		populate(&r, g);
		uint64_t slots[128];
		unsigned ns = live_slots(&r, slots, 128);
		ck_assert_uint_gt(ns, 2);
		uint64_t bound = 4 * 8192 * ims_pt_stats(r.pt)->table_pages;
		for (unsigned s = 0; s < ns; s++) {
			uint64_t v = peek(&r, slots[s]);
			for (unsigned b = 0; b < 64; b++) {
				if (!test_sample(s, b))
					continue;
				poke(&r, slots[s], v ^ (1ull << b));
				harvest_findings(&r, 0, 1ull << 32, IMS_DIRTY_NO_CLEAR, bound, NULL);
				harvest_findings(&r, 0, 1ull << 32, 0, bound, NULL);
				unsigned n = 0;
				ims_pt_for_each_leaf(r.pt, 0, 0, count_leaf, &n);
				ck_assert_uint_le(n, bound);
				uint64_t pa;
				unsigned prot;
				(void)ims_pt_iova_to_phys(r.pt, 0, &pa, &prot);
				poke(&r, slots[s], v);
			}
		}
		down_any(&r);
	}
}
END_TEST

/* Flip each bit of each live entry, then map over, unmap and free the
 * domain: the software's own walks stay in bounds too. */
START_TEST(sweep_bit_flips_map_unmap)
{
	const struct geo *g = &sweep_geos[_i];
	struct rig r;
	up(&r, g, "fast");
	populate(&r, g);
	uint64_t slots[128];
	unsigned ns = live_slots(&r, slots, 128);
	down_any(&r);
	for (unsigned s = 0; s < ns; s++) {
		for (unsigned b = 0; b < 64; b += 3) {
			up(&r, g, "fast");
			populate(&r, g);
			poke(&r, slots[s], peek(&r, slots[s]) ^ (1ull << b));
			uint64_t bytes;
			(void)ims_pt_map(r.pt, 1ull << 31, 0x40000000, 4096, IMS_PROT_RW, 0);
			(void)ims_pt_unmap(r.pt, 0, 1ull << 31, &bytes);
			(void)ims_pt_unmap(r.pt, 1ull << 31, 4096, &bytes);
			down_any(&r);
		}
	}
}
END_TEST

/* Every NextLevel=7 size code at every level of a 4-level AMD domain. */
START_TEST(sweep_amd_size_codes)
{
	const struct geo g = {IMS_FMT_AMDV1, 4, 0, 0};
	for (unsigned wi = 0; wi < 3; wi++) {
		struct rig r;
		up(&r, &g, walkers[wi]);
		ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x40000000, 4096, IMS_PROT_RW, 0), 0);
		for (int level = 0; level <= 3; level++) {
			uint64_t slot = slot_of(&r, 12, 9, 3, level, 0);
			uint64_t v = peek(&r, slot);
			unsigned es = 12 + 9 * (unsigned)level;
			for (unsigned n = 13; n <= 53; n++) {
				/* A size of this level fills its run of replicas. */
				bool fits = n > es && n < es + 9;
				unsigned run = fits ? 1u << (n - es) : 1;
				for (unsigned k = 0; k < run; k++)
					poke(&r, slot + 8 * k, amd_sized(n, 0) | (1ull << 6));
				unsigned f = harvest_findings(&r, 0, 1ull << 39, 0, 2 * 8192, NULL);
				ck_assert_msg(fits ? f == 0 : f > 0, "level %d size 2^%u: %u findings",
					      level, n, f);
				for (unsigned k = 0; k < run; k++)
					poke(&r, slot + 8 * k, 0);
			}
			poke(&r, slot, v);
		}
		rig_down(&r);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("corrupt");
	TCase *tc = tcase_create("corrupt");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, amd_size_code_beyond_the_level);
	tcase_add_test(tc, amd_size_code_faults_in_hardware_too);
	tcase_add_test(tc, amd_pde_next_level_not_one_below);
	tcase_add_test(tc, vtd_large_page_bit_where_no_large_pages);
	tcase_add_test(tc, smmu_block_at_page_level_and_broken_group);
	tcase_add_test(tc, table_pointer_to_no_table);
	tcase_add_test(tc, shared_tables_bound_the_walk);
	unsigned ng = sizeof(sweep_geos) / sizeof(sweep_geos[0]);
	tcase_add_loop_test(tc, sweep_bit_flips, 0, (int)ng);
	tcase_add_loop_test(tc, sweep_bit_flips_map_unmap, 0, (int)ng);
	tcase_add_test(tc, sweep_amd_size_codes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
