/* The built-in walkers of the walker ABI against each other: "fast"
 * (harvest.c: memoised shapes, frame pass, SIMD; the default) and "rewalk"
 * against "reference" (ref_walker.c, the one a reader checks against
 * dirty-semantics.md).
 *
 * same_*: three rigs (memory, model, domain), one per walker, take one
 * random stream of maps of every leaf size the geometry has (AMD
 * NextLevel=7 replica runs, Arm contiguous groups), device DMA through the
 * model, unmaps (some reading dirty state), tracking switches and harvests
 * (unaligned ranges, NO_CLEAR or clearing, bitmap pages of 4 KiB to 2 MiB,
 * or no bitmap). After each, results, bitmaps, every page-table word and
 * the model's counters (IOTLB hits and misses, walks, dirty updates,
 * invalidated entries) must be equal; after a clearing harvest the next
 * device writes must translate the same way (IOTLB hit or not, dirty update
 * or not) and a following harvest must agree too.
 *
 * race_*: each walker alone, with a memory hook that makes a device write at
 * a random access point of the harvest. The walkers reach memory in
 * different orders, so here each is held to the model's oracle with the
 * replayer's rules (harness/dirty_read.c): no page the oracle expects is
 * missing, no page is reported that neither the oracle nor the racing
 * write explains, and a racing write the harvest did not report is owed by
 * a later one; no clean undoes a hardware update.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "model/mem_view.h"

#define DEV 7
#define TAG 5
#define PA0 (1ull << 40)
#define MAX_SPAN (16ull << 30) /* IOVAs in use */
#define NREG 32                /* mapped regions remembered as DMA targets */

/* Check logs every ck_assert that passes (a write to its channel each):
 * in the loops over table words and accesses a check must cost only its
 * comparison. */
#define REQUIRE(cond, ...)                                                                   \
	do {                                                                                 \
		if (!(cond))                                                                 \
			ck_abort_msg(__VA_ARGS__);                                           \
	} while (0)

enum { W_REF, W_FAST, W_REWALK, NW };
static const char *const wname[NW] = {"reference", "fast", "rewalk"};

struct geo {
	enum ims_format fmt;
	unsigned levels; /* AMD Mode / VT-d levels; 0 for SMMU */
	unsigned gshift;
	const char *name;
};

static const struct geo geos[] = {
	{IMS_FMT_AMDV1, 2, 12, "amdv1-2"}, {IMS_FMT_AMDV1, 3, 12, "amdv1-3"},
	{IMS_FMT_AMDV1, 4, 12, "amdv1-4"}, {IMS_FMT_AMDV1, 6, 12, "amdv1-6"},
	{IMS_FMT_VTD, 3, 12, "vtd-3"},     {IMS_FMT_VTD, 4, 12, "vtd-4"},
	{IMS_FMT_SMMUV3, 0, 12, "smmu-4k"}, {IMS_FMT_SMMUV3, 0, 14, "smmu-16k"},
	{IMS_FMT_SMMUV3, 0, 16, "smmu-64k"}, {IMS_FMT_VTD_FS, 4, 12, "vtd-fs-4"},
	{IMS_FMT_VTD_FS, 5, 12, "vtd-fs-5"},  {IMS_FMT_AMDV2, 4, 12, "amdv2-4"},
};
#define NGEOS ((int)(sizeof(geos) / sizeof(geos[0])))

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_pt *pt;
	/* race_*: the device write the hook makes at the countdown-th access. */
	bool armed, fired;
	unsigned countdown;
	uint64_t inj_iova;
	int inj_rc;
	struct ims_xlate inj_x;
};

/* The stream's state shared by every rig. */
struct env {
	const struct geo *g;
	uint64_t seed, s;
	uint64_t span, sizes, minpg;
	uint64_t reg_iova[NREG], reg_size[NREG];
	unsigned nreg;
	bool tracking;
	uint64_t bits; /* dirty bits reported so far (the reference's) */
	char where[160]; /* what is being checked, for failure messages */
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

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

/* Every leaf size up to 8 GiB the AMD geometry has (the default stops at
 * 1 GiB): replica runs at every level; the others' defaults are all. */
static uint64_t geo_pgsizes(const struct geo *g)
{
	if (g->fmt != IMS_FMT_AMDV1)
		return 0;
	unsigned hi = 11 + 9 * g->levels;
	if (hi > 33)
		hi = 33;
	return ((2ull << hi) - 1) & ~0xfffull;
}

static void rig_up(struct rig *r, const struct geo *g, const char *walker,
		   enum ims_replica_policy pol)
{
	memset(r, 0, sizeof(*r));
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.replica = pol;
	cfg.seed = 1234;
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
	unsigned w;
	ck_assert_int_eq(ims_pt_walker_parse(walker, &w), 0);
	struct ims_pt_cfg pc = {.fmt = g->fmt, .tag = TAG, .levels = g->levels,
				.granule_shift = g->gshift, .pgsizes = geo_pgsizes(g),
				.dirty_tracking = true, .walker = w};
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	char err[160] = "";
	ck_assert_msg(ims_pt_new(r->mem, &pc, &sink, &r->pt, err, sizeof(err)) == 0, "%s: %s",
		      g->name, err);
	ck_assert_str_eq(ims_pt_walker_label(r->pt), walker);
	uint64_t words[IMS_CTX_WORDS];
	ims_pt_ctx_words(r->pt, words);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, g->fmt, words, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
}

static void rig_down(struct rig *r)
{
	ck_assert_ptr_null(ims_pt_finding(r->pt, NULL));
	ims_pt_free(r->pt);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static void env_init(struct env *e, const struct geo *g, uint64_t seed, const struct rig *r0)
{
	memset(e, 0, sizeof(*e));
	e->g = g;
	e->seed = seed;
	e->s = seed;
	uint64_t lim = ims_pt_iova_limit(r0->pt);
	e->span = lim && lim < MAX_SPAN ? lim : MAX_SPAN;
	/* A leaf must fit in a quarter of the span, for room. */
	e->sizes = ims_pt_pgsizes(r0->pt) & ((e->span / 4) * 2 - 1);
	e->minpg = e->sizes & -e->sizes;
	ck_assert_uint_ne(e->sizes, 0);
}

/* A random leaf size: the smallest half the time (dense tables), else any. */
static uint64_t pick_size(struct env *e)
{
	if (rnd(&e->s) % 2)
		return e->minpg;
	uint64_t m = e->sizes;
	for (uint64_t n = rnd(&e->s) % (uint64_t)__builtin_popcountll(m); n; n--)
		m &= m - 1;
	return m & -m;
}

/* A random mapped region's page, or any page of the span. */
static uint64_t pick_target(struct env *e)
{
	if (e->nreg && rnd(&e->s) % 8) {
		unsigned k = (unsigned)(rnd(&e->s) % (e->nreg < NREG ? e->nreg : NREG));
		return e->reg_iova[k] + ((rnd(&e->s) % (e->reg_size[k] >> 12)) << 12);
	}
	return (rnd(&e->s) % (e->span >> 12)) << 12;
}

/* Map 1..n leaves of a random size at a random aligned IOVA, in every rig. */
static void map_all(struct env *e, struct rig *r, unsigned nr)
{
	uint64_t pg = pick_size(e);
	uint64_t room = e->span / pg;
	uint64_t most = pg <= (64u << 10) ? 256 : pg <= (2u << 20) ? 24 : 3;
	if (most > room / 2)
		most = room / 2 ? room / 2 : 1;
	uint64_t n = 1 + rnd(&e->s) % most;
	uint64_t iova = (rnd(&e->s) % (room - n + 1)) * pg;
	unsigned prot = rnd(&e->s) % 8 ? IMS_PROT_RW : IMS_PROT_R;
	int rc0 = ims_pt_map(r[0].pt, iova, PA0 + iova, n * pg, prot, pg);
	for (unsigned k = 1; k < nr; k++)
		REQUIRE(ims_pt_map(r[k].pt, iova, PA0 + iova, n * pg, prot, pg) == rc0,
			"%s: map differs in %s", e->where, wname[k]);
	if (!rc0) {
		e->reg_iova[e->nreg % NREG] = iova;
		e->reg_size[e->nreg % NREG] = n * pg;
		e->nreg++;
	}
}

/* ---- same_*: the walkers side by side ------------------------------------------ */

/* Every live page-table frame holds the same words in every rig (the rigs
 * allocate in the same order, so a table has the same address in each). */
static void same_tables(const struct env *e, struct rig *r)
{
	uint64_t want = ims_mem_counters(r[0].mem)->pool_frames;
	for (unsigned k = 1; k < NW; k++)
		REQUIRE(ims_mem_counters(r[k].mem)->pool_frames == want, "%s: table frames differ",
			e->where);
	uint64_t seen = 0;
	for (uint64_t idx = 0; seen < want; idx++) {
		REQUIRE(idx < (1ull << 24), "%s: table frames not found", e->where);
		uint64_t pa = IMS_MEM_POOL_BASE + (idx << 12);
		bool live = mem_pool_table(r[0].mem, pa);
		for (unsigned k = 1; k < NW; k++)
			REQUIRE(mem_pool_table(r[k].mem, pa) == live, "%s: table 0x%llx in one rig only",
				e->where, (unsigned long long)pa);
		if (!live)
			continue;
		seen++;
		const uint64_t *f0 = mem_frame(r[0].mem, pa);
		for (unsigned k = 1; k < NW; k++) {
			const uint64_t *fk = mem_frame(r[k].mem, pa);
			REQUIRE(f0 && fk, "%s: table 0x%llx has no frame", e->where,
				(unsigned long long)pa);
			if (!memcmp(f0, fk, 4096))
				continue;
			for (unsigned i = 0; i < 512; i++)
				REQUIRE(f0[i] == fk[i],
					      "%s: table word 0x%llx is 0x%llx after %s, 0x%llx after %s",
					      e->where, (unsigned long long)(pa + 8 * i),
					      (unsigned long long)fk[i], wname[k],
					      (unsigned long long)f0[i], wname[0]);
		}
	}
}

/* What the hardware saw of the software: same invalidations, so the same
 * IOTLB hits, walks and dirty updates since. */
static void same_counters(const struct env *e, struct rig *r)
{
	const struct ims_iommu_counters *m0 = ims_iommu_counters(r[0].mmu);
	const struct ims_pt_stats *s0 = ims_pt_stats(r[0].pt);
	for (unsigned k = 1; k < NW; k++) {
		const struct ims_iommu_counters *mk = ims_iommu_counters(r[k].mmu);
		const struct ims_pt_stats *sk = ims_pt_stats(r[k].pt);
#define SAME(a, b, f)                                                                        \
	REQUIRE((a)->f == (b)->f, "%s: %s %s %llu, %s %llu", e->where, #f, wname[k],    \
		      (unsigned long long)(a)->f, wname[0], (unsigned long long)(b)->f)
		SAME(mk, m0, iotlb_hits);
		SAME(mk, m0, iotlb_misses);
		SAME(mk, m0, walks);
		SAME(mk, m0, ad_writes);
		SAME(mk, m0, dirty_sets);
		SAME(mk, m0, faults);
		SAME(mk, m0, inv_range);
		SAME(mk, m0, inv_domain);
		SAME(mk, m0, inv_entries);
		SAME(sk, s0, flushes);
		SAME(sk, s0, leaves);
		SAME(sk, s0, table_pages);
#undef SAME
	}
}

static void drain_faults(struct rig *r, unsigned nr)
{
	struct ims_fault f;
	for (unsigned k = 0; k < nr; k++)
		while (ims_iommu_fault_pop(r[k].mmu, &f))
			;
}

/* One device access in every rig: the same outcome, IOTLB hit and dirty
 * update included. */
static void access_all(const struct env *e, struct rig *r, uint64_t iova, unsigned acc)
{
	struct ims_xlate x0 = {0};
	int rc0 = ims_iommu_access(r[0].mmu, DEV, iova, acc, &x0);
	for (unsigned k = 1; k < NW; k++) {
		struct ims_xlate x = {0};
		int rc = ims_iommu_access(r[k].mmu, DEV, iova, acc, &x);
		REQUIRE(rc == rc0, "%s: access 0x%llx: %d after %s, %d after %s", e->where,
			      (unsigned long long)iova, rc, wname[k], rc0, wname[0]);
		if (rc)
			continue;
		REQUIRE(x.pa == x0.pa && x.leaf_iova == x0.leaf_iova && x.leaf_shift == x0.leaf_shift,
			"%s: access 0x%llx translates otherwise after %s", e->where,
			(unsigned long long)iova, wname[k]);
		REQUIRE(x.iotlb_hit == x0.iotlb_hit && x.dirtied == x0.dirtied,
			      "%s: write 0x%llx: hit %d dirtied %d after %s, hit %d dirtied %d after %s",
			      e->where, (unsigned long long)iova, x.iotlb_hit, x.dirtied, wname[k],
			      x0.iotlb_hit, x0.dirtied, wname[0]);
	}
}

static void same_bits(const struct env *e, const struct ims_bitmap *bm)
{
	for (unsigned k = 1; k < NW; k++) {
		for (uint64_t w = 0; w < bm[0].nwords; w++) {
			if (bm[k].words[w] == bm[0].words[w])
				continue;
			uint64_t x = bm[k].words[w] ^ bm[0].words[w];
			uint64_t bit = w * 64 + (unsigned)__builtin_ctzll(x);
			ck_abort_msg("%s: bit %llu (iova 0x%llx, page 2^%u): %s %d, %s %d", e->where,
				     (unsigned long long)bit,
				     (unsigned long long)(bm[0].iova + (bit << bm[0].pgshift)),
				     bm[0].pgshift, wname[k], ims_bitmap_test(&bm[k], bit), wname[0],
				     ims_bitmap_test(&bm[0], bit));
		}
	}
}

/* A harvest of [first, first + len) in every rig, into bitmaps of 2^pgs
 * pages covering it (NULL bitmaps when !with_bm): just the range, or with
 * pages before and after it, whose bits must stay clear. */
static int harvest_all(struct env *e, struct rig *r, uint64_t first, uint64_t len, unsigned pgs,
		       unsigned flags, bool with_bm)
{
	uint64_t pm = (1ull << pgs) - 1;
	uint64_t b0 = first & ~pm, b1 = (first + len + pm) & ~pm;
	if (rnd(&e->s) % 2) {
		uint64_t before = (rnd(&e->s) % 130) << pgs, after = (rnd(&e->s) % 130) << pgs;
		b0 = b0 > before ? b0 - before : 0;
		b1 += after;
	}
	struct ims_bitmap bm[NW];
	int rc0 = 0;
	for (unsigned k = 0; k < NW; k++) {
		REQUIRE(ims_bitmap_init(&bm[k], b0, b1 - b0, pgs) == 0, "bitmap");
		int rc = ims_pt_read_and_clear_dirty(r[k].pt, first, len, flags,
						     with_bm ? &bm[k] : NULL);
		if (!k)
			rc0 = rc;
		REQUIRE(rc == rc0, "%s: harvest rc %d after %s, %d after %s", e->where, rc,
			      wname[k], rc0, wname[0]);
	}
	same_bits(e, bm);
	if (with_bm)
		e->bits += ims_bitmap_count(&bm[0]);
	for (unsigned k = 0; k < NW; k++)
		ims_bitmap_fini(&bm[k]);
	same_tables(e, r);
	same_counters(e, r);
	return rc0;
}

static void same_stream(const struct geo *g, uint64_t seed, unsigned nops)
{
	struct rig r[NW];
	enum ims_replica_policy pol = (enum ims_replica_policy)(seed % 3);
	for (unsigned k = 0; k < NW; k++)
		rig_up(&r[k], g, wname[k], pol);
	struct env e;
	env_init(&e, g, seed, &r[0]);
	for (unsigned i = 0; i < 6; i++)
		map_all(&e, r, NW);
	for (unsigned k = 0; k < NW; k++)
		ck_assert_int_eq(ims_pt_set_dirty_tracking(r[k].pt, true), 0);
	e.tracking = true;
	unsigned harvests = 0, clearing = 0;
	for (unsigned op = 0; op < nops; op++) {
		snprintf(e.where, sizeof(e.where), "%s seed %llu op %u", g->name,
			 (unsigned long long)seed, op);
		unsigned what = (unsigned)(rnd(&e.s) % 100);
		if (what < 16) {
			map_all(&e, r, NW);
		} else if (what < 22) {
			/* Unmap a region, whole or cutting into a leaf (refused);
			 * with tracking on, half of them read dirty state first. */
			uint64_t iova, len;
			if (e.nreg && rnd(&e.s) % 4) {
				unsigned k = (unsigned)(rnd(&e.s) % (e.nreg < NREG ? e.nreg : NREG));
				iova = e.reg_iova[k];
				len = e.reg_size[k];
			} else {
				len = e.minpg << (rnd(&e.s) % 10);
				iova = (rnd(&e.s) % (e.span / len)) * len;
			}
			bool read = e.tracking && rnd(&e.s) % 2;
			struct ims_bitmap bm[NW];
			int rc0 = 0;
			for (unsigned k = 0; k < NW; k++) {
				uint64_t got = 0;
				int rc;
				if (read) {
					REQUIRE(ims_bitmap_init(&bm[k], iova, len, 12) == 0, "bitmap");
					rc = ims_pt_unmap_read_dirty(r[k].pt, iova, len, &bm[k], &got);
				} else {
					rc = ims_pt_unmap(r[k].pt, iova, len, &got);
				}
				if (!k)
					rc0 = rc;
				REQUIRE(rc == rc0, "%s: unmap rc %d after %s, %d after %s", e.where,
					rc, wname[k], rc0, wname[0]);
			}
			if (read) {
				same_bits(&e, bm);
				for (unsigned k = 0; k < NW; k++)
					ims_bitmap_fini(&bm[k]);
			}
			same_tables(&e, r);
		} else if (what < 60) {
			/* A burst of device accesses, mostly writes. */
			unsigned n = 1 + (unsigned)(rnd(&e.s) % 64);
			for (unsigned j = 0; j < n; j++)
				access_all(&e, r, pick_target(&e),
					   rnd(&e.s) % 5 ? IMS_ACC_W : IMS_ACC_R);
			drain_faults(r, NW);
		} else if (what < 64) {
			e.tracking = rnd(&e.s) % 4 != 0;
			for (unsigned k = 0; k < NW; k++)
				REQUIRE(ims_pt_set_dirty_tracking(r[k].pt, e.tracking) == 0, "%s: track",
					e.where);
			same_tables(&e, r);
			same_counters(&e, r);
		} else {
			/* A harvest of an unaligned range: near a region or
			 * anywhere, a few pages to the whole span. */
			uint64_t first = rnd(&e.s) % 2 ? pick_target(&e) : rnd(&e.s) % e.span;
			first += rnd(&e.s) % 2 ? rnd(&e.s) % 4096 : 0;
			static const uint64_t lens[] = {16u << 10, 4u << 20, 256u << 20, MAX_SPAN};
			uint64_t len = 1 + rnd(&e.s) % lens[rnd(&e.s) % 4];
			if (first >= e.span)
				first = e.span - 1;
			if (len > e.span - first)
				len = e.span - first;
			unsigned pgs = 12 + (unsigned)(rnd(&e.s) % 10);
			while (((len >> pgs) >> 22) != 0)
				pgs++; /* at most 4 Mi bits a bitmap */
			unsigned flags = rnd(&e.s) % 3 ? 0 : IMS_DIRTY_NO_CLEAR;
			bool with_bm = rnd(&e.s) % 10 != 0;
			int rc = harvest_all(&e, r, first, len, pgs, flags, with_bm);
			REQUIRE(rc == (with_bm && !e.tracking ? -EINVAL : 0), "%s: harvest rc %d",
				e.where, rc);
			harvests += !rc;
			if (rc || (flags & IMS_DIRTY_NO_CLEAR))
				continue;
			clearing++;
			/* What the clean and its flush left for the hardware:
			 * writes into the range set dirty state again (or hit a
			 * cached dirty entry) the same way, and a look at the
			 * range afterwards agrees. */
			for (unsigned j = 0; j < 8; j++)
				access_all(&e, r, (first + rnd(&e.s) % len) & ~0xfffull, IMS_ACC_W);
			drain_faults(r, NW);
			same_counters(&e, r);
			if (e.tracking)
				harvest_all(&e, r, first, len, pgs, IMS_DIRTY_NO_CLEAR, true);
		}
	}
	/* The stream did what it is for: harvests that cleaned, dirty pages. */
	ck_assert_uint_gt(harvests, nops / 10);
	ck_assert_uint_gt(clearing, nops / 20);
	ck_assert_uint_gt(ims_iommu_counters(r[0].mmu)->dirty_sets, 0);
	ck_assert_uint_gt(e.bits, 0);
	for (unsigned k = 0; k < NW; k++)
		rig_down(&r[k]);
}

START_TEST(same_as_reference)
{
	const struct geo *g = &geos[_i];
	for (uint64_t n = 1; n <= 5; n++)
		same_stream(g, n * 0x9e3779b97f4a7c15ull + (uint64_t)_i, 300);
}
END_TEST

/* One rig per walker, covering replicas, and the stream's state. */
static void rigs_up(struct rig *r, struct env *e, const struct geo *g, uint64_t seed)
{
	for (unsigned k = 0; k < NW; k++)
		rig_up(&r[k], g, wname[k], IMS_REPLICA_COVERING);
	env_init(e, g, seed, &r[0]);
}

/* A dense region at the smallest leaf size, one in 1, 3 or 50 pages dirty
 * (and every page, for whole dirty frames), harvested in unaligned pieces
 * into bitmaps of every page size: the fast walker's block classifier and
 * direct bitmap writes against the reference walker's entry by entry. */
START_TEST(same_on_dense_tables)
{
	const struct geo *g = &geos[_i];
	struct rig r[NW];
	struct env e;
	rigs_up(r, &e, g, 42 + (uint64_t)_i);
	uint64_t pg = e.minpg, len = 2048 * pg;
	if (len > e.span)
		len = e.span;
	for (unsigned k = 0; k < NW; k++) {
		ck_assert_int_eq(ims_pt_map(r[k].pt, 0, PA0, len, IMS_PROT_RW, pg), 0);
		ck_assert_int_eq(ims_pt_set_dirty_tracking(r[k].pt, true), 0);
	}
	e.tracking = true;
	static const unsigned every[] = {1, 3, 50, 1};
	for (unsigned round = 0; round < 12; round++) {
		snprintf(e.where, sizeof(e.where), "%s dense round %u", g->name, round);
		for (uint64_t p = 0; p < len / pg; p++)
			if (rnd(&e.s) % every[round % 4] == 0)
				access_all(&e, r, p * pg, IMS_ACC_W);
		for (uint64_t at = 0; at < len;) {
			uint64_t n = 1 + rnd(&e.s) % (rnd(&e.s) % 2 ? 100 * pg : len);
			if (n > len - at)
				n = len - at;
			unsigned pgs = 12 + (rnd(&e.s) % 2 ? 0 : (unsigned)(rnd(&e.s) % 10));
			unsigned flags = rnd(&e.s) % 4 ? 0 : IMS_DIRTY_NO_CLEAR;
			REQUIRE(harvest_all(&e, r, at, n, pgs, flags, true) == 0, "%s: harvest",
				e.where);
			at += n;
		}
	}
	/* Every page was written, and cleaned, round after round. */
	ck_assert_uint_ge(ims_iommu_counters(r[0].mmu)->dirty_sets, 4 * (len / pg));
	ck_assert_uint_ge(e.bits, len / pg);
	for (unsigned k = 0; k < NW; k++)
		rig_down(&r[k]);
}
END_TEST

/* Regions of large leaves (2 MiB and 1 GiB at a 4 KiB granule, 32 MiB at
 * 16K, 512 MiB at 64K), one in 1, 3 or 50 dirty or every other one (a
 * write somewhere inside each), harvested whole or in unaligned pieces
 * into bitmaps of 4 to 32 KiB pages, their first bit on a word or not: a
 * page is then a run of 2^(shift - pgs) bits (512 and 262144 at 4 KiB)
 * starting and ending on a word or inside one, which the fast walker
 * stores as whole words (short runs queued, more than its queue holds in
 * one harvest) or merges into one record. NO_CLEAR now and then. Against
 * the reference walker. */
START_TEST(same_on_large_leaves)
{
	const struct geo *g = &geos[_i];
	struct rig r[NW];
	struct env e;
	rigs_up(r, &e, g, 7 + (uint64_t)_i);
	static const uint64_t big[] = {2ull << 20, 32ull << 20, 512ull << 20, 1ull << 30};
	uint64_t half = e.span / 2, reg[2], pgsz[2];
	unsigned nr = 0;
	for (unsigned b = 0; b < 4 && nr < 2; b++) {
		uint64_t pg = big[b];
		if (!(e.sizes & pg) || half / pg < 4)
			continue;
		uint64_t n = half / pg < 3000 ? half / pg : 3000;
		for (unsigned k = 0; k < NW; k++)
			ck_assert_int_eq(ims_pt_map(r[k].pt, nr * half, PA0 + nr * half, n * pg,
						    IMS_PROT_RW, pg), 0);
		reg[nr] = n * pg;
		pgsz[nr++] = pg;
	}
	if (!nr) { /* a geometry too small for any of them */
		for (unsigned k = 0; k < NW; k++)
			rig_down(&r[k]);
		return;
	}
	for (unsigned k = 0; k < NW; k++)
		ck_assert_int_eq(ims_pt_set_dirty_tracking(r[k].pt, true), 0);
	e.tracking = true;
	/* 2: every other leaf, a short run each, more than the fast walker
	 * queues at once in a whole 2 MiB region. */
	static const unsigned every[] = {1, 3, 50, 1, 2};
	uint64_t writes = 0;
	for (unsigned round = 0; round < 10; round++) {
		unsigned ri = (round / 2) % nr; /* whole, then in pieces */
		uint64_t base = ri * half, len = reg[ri], pg = pgsz[ri];
		snprintf(e.where, sizeof(e.where), "%s large leaves 0x%llx round %u", g->name,
			 (unsigned long long)pg, round);
		for (uint64_t p = 0; p < len / pg; p++) {
			unsigned ev = every[round % 5];
			if (ev == 2 ? p % 2 != 0 : rnd(&e.s) % ev != 0)
				continue;
			access_all(&e, r, base + p * pg + ((rnd(&e.s) % (pg >> 12)) << 12), IMS_ACC_W);
			writes++;
		}
		bool whole = round % 2 == 0;
		for (uint64_t at = 0; at < len;) {
			uint64_t n = whole ? len : 1 + rnd(&e.s) % (rnd(&e.s) % 2 ? 100 * pg : len);
			if (n > len - at)
				n = len - at;
			unsigned pgs = 12 + (unsigned)(rnd(&e.s) % 4);
			unsigned flags = rnd(&e.s) % 4 ? 0 : IMS_DIRTY_NO_CLEAR;
			REQUIRE(harvest_all(&e, r, base + at, n, pgs, flags, true) == 0,
				"%s: harvest", e.where);
			at += n;
		}
	}
	ck_assert_uint_gt(writes, 0);
	ck_assert_uint_gt(e.bits, 0);
	for (unsigned k = 0; k < NW; k++)
		rig_down(&r[k]);
}
END_TEST

/* ---- race_*: a device write inside the harvest, against the oracle ------------ */

static void inject_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)op, (void)pa;
	struct rig *r = arg;
	if (!r->armed || r->fired || --r->countdown)
		return;
	r->fired = true;
	r->inj_rc = ims_iommu_access(r->mmu, DEV, r->inj_iova, IMS_ACC_W, &r->inj_x);
}

static void count_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)op, (void)pa;
	(*(unsigned *)arg)++;
}

#define NMAYBE 1024

/* Pages a racing write may have dirtied again after the walker reported and
 * cleaned them: a later harvest may report them or not. */
struct maybe {
	uint64_t first[NMAYBE], last[NMAYBE];
	unsigned n;
};

static bool maybe_explains(const struct maybe *m, uint64_t f, uint64_t l)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->first[i] <= l && m->last[i] >= f)
			return true;
	return false;
}

static void maybe_settle(struct maybe *m, uint64_t f, uint64_t l)
{
	unsigned j = 0;
	for (unsigned i = 0; i < m->n; i++)
		if (!(m->first[i] >= f && m->last[i] <= l)) {
			m->first[j] = m->first[i];
			m->last[j++] = m->last[i];
		}
	m->n = j;
}

/* The leaf of the hardware's view at iova: false when it does not translate. */
static bool hw_leaf(struct rig *r, uint64_t iova, uint64_t *lf, uint64_t *ll)
{
	struct ims_xlate x;
	if (ims_iommu_probe(r->mmu, TAG, iova, IMS_ACC_R, &x) != 0 || x.leaf_shift >= 64)
		return false;
	*lf = x.leaf_iova;
	*ll = x.leaf_iova + ((1ull << x.leaf_shift) - 1);
	return true;
}

struct race_stats {
	unsigned harvests, fired, owed, raced_reported;
};

/* One harvest with a device write at a random access point, checked
 * against the oracle; then the oracle learns what the harvest cleared. */
static void race_harvest(struct env *e, struct rig *r, struct maybe *mb, struct race_stats *st,
			 bool armed, uint64_t first, uint64_t len, unsigned pgs, unsigned flags)
{
	struct ims_oracle *o = ims_iommu_oracle(r->mmu);
	uint64_t last = first + (len - 1);
	/* The racing write's target: mostly a writable page of the range, for
	 * writes the walk meets (any page of it, or a mapped region's page
	 * that falls in it), else any page. */
	r->armed = false;
	for (unsigned t = 0; armed && t < 32 && !r->armed; t++) {
		uint64_t iova = t % 2 ? (first + rnd(&e->s) % len) & ~0xfffull : pick_target(e);
		if (t < 24) {
			struct ims_xlate x;
			if (iova < first || iova > last ||
			    ims_iommu_probe(r->mmu, TAG, iova, IMS_ACC_W, &x) != 0)
				continue;
		}
		r->armed = true;
		r->inj_iova = iova;
	}
	struct ims_bitmap want, got;
	REQUIRE(ims_bitmap_init(&want, first, len, pgs) == 0 &&
			ims_bitmap_init(&got, first, len, pgs) == 0,
		"bitmap");
	/* The access points: those of a look at the range (NO_CLEAR changes
	 * nothing); the clean's come on top. The write comes at one of them,
	 * or past the last. */
	r->fired = false;
	if (r->armed) {
		unsigned points = 0;
		ims_mem_set_hook(r->mem, count_hook, &points);
		int rc = ims_pt_read_and_clear_dirty(r->pt, first, len, IMS_DIRTY_NO_CLEAR, &got);
		REQUIRE(rc == 0, "%s: look", e->where);
		ims_mem_set_hook(r->mem, NULL, NULL);
		ims_bitmap_zero(&got);
		r->countdown = 1 + (unsigned)(rnd(&e->s) % (points + points / 4 + 2));
	}
	ims_oracle_expected(o, TAG, first, len, pgs, want.words);
	ims_mem_set_race_check(r->mem, true);
	ims_mem_set_hook(r->mem, inject_hook, r);
	int rc = ims_pt_read_and_clear_dirty(r->pt, first, len, flags, &got);
	ims_mem_set_hook(r->mem, NULL, NULL);
	uint64_t lost_pa = 0, lost_bits = 0;
	uint64_t lost = ims_mem_lost_updates(r->mem, &lost_pa, &lost_bits);
	ims_mem_set_race_check(r->mem, false);
	REQUIRE(rc == 0, "%s: harvest rc %d", e->where, rc);
	REQUIRE(lost == 0, "%s: the clean of 0x%llx undid hardware bits 0x%llx", e->where,
		      (unsigned long long)lost_pa, (unsigned long long)lost_bits);
	st->harvests++;
	bool raced = r->fired && r->inj_rc == 0;
	uint64_t wf = 0, wl = 0;
	if (raced) {
		st->fired++;
		wf = r->inj_x.leaf_iova;
		wl = wf + ((1ull << r->inj_x.leaf_shift) - 1);
	}
	/* Nothing expected is missing; nothing reported is unexplained. */
	for (uint64_t w = 0; w < want.nwords; w++) {
		uint64_t under = want.words[w] & ~got.words[w];
		uint64_t over = got.words[w] & ~want.words[w];
		if (under) {
			uint64_t bit = w * 64 + (unsigned)__builtin_ctzll(under);
			ck_abort_msg("%s: page 0x%llx (2^%u) was written but not reported", e->where,
				     (unsigned long long)(first + (bit << pgs)), pgs);
		}
		for (; over; over &= over - 1) {
			uint64_t bit = w * 64 + (unsigned)__builtin_ctzll(over);
			uint64_t pf = first + (bit << pgs), pl = pf + ((1ull << pgs) - 1);
			bool why = (raced && wf <= pl && wl >= pf) || maybe_explains(mb, pf, pl);
			REQUIRE(why, "%s: page 0x%llx (2^%u) reported but never written",
				      e->where, (unsigned long long)pf, pgs);
		}
	}
	if (!(flags & IMS_DIRTY_NO_CLEAR)) {
		/* The harvest cleaned the range, and every leaf it cut at either
		 * end whole: what the oracle held outside the range there is
		 * gone by the semantics, not lost by the walker. */
		ims_oracle_clear(o, TAG, first, len);
		const uint64_t ends[2] = {first, last};
		for (int i = 0; i < 2; i++) {
			uint64_t lf, ll;
			if (!hw_leaf(r, ends[i], &lf, &ll))
				continue;
			if (i == 0 && lf < first)
				ims_oracle_clear(o, TAG, lf, first - lf);
			if (i == 1 && ll > last)
				ims_oracle_clear(o, TAG, last + 1, ll - last);
		}
		maybe_settle(mb, first, last);
		if (raced && wl >= first && wf <= last) {
			/* Reported: hardware may have dirtied it again after the
			 * clean, or not. Not reported: the write came after the
			 * walker passed, so a later harvest owes it. The whole
			 * leaf either way: one the range cuts is cleaned whole,
			 * and dirtied again whole. */
			uint64_t f = wf > first ? wf : first, l = wl < last ? wl : last;
			bool all = true;
			for (uint64_t b = (f - first) >> pgs; b <= (l - first) >> pgs && all; b++)
				all = ims_bitmap_test(&got, b);
			if (all) {
				REQUIRE(mb->n < NMAYBE, "too many racing writes");
				mb->first[mb->n] = wf;
				mb->last[mb->n++] = wl;
				st->raced_reported++;
			} else {
				ims_oracle_write(o, TAG, wf, r->inj_x.leaf_shift);
				st->owed++;
			}
		}
	}
	ims_bitmap_fini(&want);
	ims_bitmap_fini(&got);
}

static void race_stream(const struct geo *g, const char *walker, uint64_t seed, unsigned nops,
			struct race_stats *st)
{
	struct rig r;
	rig_up(&r, g, walker, (enum ims_replica_policy)(seed % 3));
	struct ims_oracle *o = ims_iommu_oracle(r.mmu);
	struct env e;
	env_init(&e, g, seed, &r);
	struct maybe *mb = calloc(1, sizeof(*mb));
	ck_assert_ptr_nonnull(mb);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ims_oracle_reset(o, TAG);
	for (unsigned i = 0; i < 8; i++)
		map_all(&e, &r, 1);
	for (unsigned op = 0; op < nops; op++) {
		snprintf(e.where, sizeof(e.where), "%s walker %s seed %llu op %u", g->name, walker,
			 (unsigned long long)seed, op);
		unsigned what = (unsigned)(rnd(&e.s) % 100);
		if (what < 10) {
			map_all(&e, &r, 1);
		} else if (what < 14 && e.nreg) {
			unsigned k = (unsigned)(rnd(&e.s) % (e.nreg < NREG ? e.nreg : NREG));
			uint64_t got = 0;
			if (ims_pt_unmap(r.pt, e.reg_iova[k], e.reg_size[k], &got) == 0) {
				/* iommufd: dirty state of unmapped entries is dropped. */
				ims_oracle_unmap(o, TAG, e.reg_iova[k], e.reg_size[k]);
				maybe_settle(mb, e.reg_iova[k], e.reg_iova[k] + e.reg_size[k] - 1);
			}
		} else if (what < 50) {
			unsigned n = 1 + (unsigned)(rnd(&e.s) % 64);
			for (unsigned j = 0; j < n; j++)
				(void)ims_iommu_access(r.mmu, DEV, pick_target(&e),
						       rnd(&e.s) % 5 ? IMS_ACC_W : IMS_ACC_R, NULL);
			drain_faults(&r, 1);
		} else {
			/* Bitmap-aligned ranges (the oracle's bitmap is), which
			 * still cut leaves larger than the bitmap page. */
			unsigned pgs = 12 + (unsigned)(rnd(&e.s) % 10);
			uint64_t pg = 1ull << pgs;
			uint64_t first = rnd(&e.s) % 4 ? pick_target(&e) & ~(pg - 1)
						      : (rnd(&e.s) % (e.span >> pgs)) << pgs;
			uint64_t len = (1 + rnd(&e.s) % (rnd(&e.s) % 2 ? 64 : 4096)) << pgs;
			if (len > e.span - first)
				len = e.span - first;
			unsigned flags = rnd(&e.s) % 4 ? 0 : IMS_DIRTY_NO_CLEAR;
			/* Now and then from a clean range, where a write behind the
			 * walker is one it cannot report. */
			if (rnd(&e.s) % 3 == 0)
				race_harvest(&e, &r, mb, st, false, first, len, pgs, 0);
			/* Now and then with the IOTLB emptied (as an unmap elsewhere
			 * does): a write must then update the entry in memory, which
			 * a clean that is not atomic may undo. */
			if (rnd(&e.s) % 3 == 0)
				REQUIRE(ims_pt_flush(r.pt, 0, 0) == 0, "%s: flush", e.where);
			race_harvest(&e, &r, mb, st, rnd(&e.s) % 8 != 0, first, len, pgs, flags);
		}
	}
	/* Last, the whole span with nothing racing: every page owed is there
	 * ("no dirty page lost"), nothing else is. */
	snprintf(e.where, sizeof(e.where), "%s walker %s seed %llu final harvest", g->name, walker,
		 (unsigned long long)seed);
	race_harvest(&e, &r, mb, st, false, 0, e.span, 12, 0);
	free(mb);
	rig_down(&r);
}

START_TEST(race_against_oracle)
{
	const struct geo *g = &geos[_i];
	struct race_stats st[NW] = {{0}};
	for (unsigned k = 0; k < NW; k++)
		for (uint64_t n = 1; n <= 3; n++) {
			uint64_t seed = n * 0x2545f4914f6cdd1dull + (uint64_t)_i;
			race_stream(g, wname[k], seed, 300, &st[k]);
		}
	/* Racing writes happened, and both outcomes were met: reported in the
	 * harvest they raced, and owed by a later one. */
	for (unsigned k = 0; k < NW; k++) {
		ck_assert_msg(st[k].fired >= st[k].harvests / 8, "%s %s: %u of %u harvests raced",
			      g->name, wname[k], st[k].fired, st[k].harvests);
		ck_assert_msg(st[k].owed > 0 && st[k].raced_reported > 0,
			      "%s %s: %u owed, %u reported of %u racing writes", g->name, wname[k],
			      st[k].owed, st[k].raced_reported, st[k].fired);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walker_diff");
	TCase *tc = tcase_create("same");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, same_as_reference, 0, NGEOS);
	suite_add_tcase(s, tc);
	tc = tcase_create("dense");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, same_on_dense_tables, 0, NGEOS);
	suite_add_tcase(s, tc);
	tc = tcase_create("large");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, same_on_large_leaves, 0, NGEOS);
	suite_add_tcase(s, tc);
	tc = tcase_create("race");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, race_against_oracle, 0, NGEOS);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
