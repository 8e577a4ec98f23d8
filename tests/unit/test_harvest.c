/* The harvest's fast path (pagetables/harvest.c: memoised entry shapes, frame
 * views, dirty masks) against the word-by-word path it replaces.
 *
 * Three rigs take the same random stream of maps, unmaps, device writes,
 * tracking switches and harvests (random ranges, bitmap page sizes,
 * NO_CLEAR, no bitmap): a plain one (the fast path), one with a hook that
 * does nothing (every access goes through memory one by one: the original
 * path) and one with lost-update detection on (the fast scan, with the
 * cleans through ims_mem_rmw). After every operation their results,
 * bitmaps, page-table frames, counters and model state must be identical;
 * the re-walk peer (bug 6) must report the same bitmaps too. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "pagetables/classify.h"
#include "pagetables/spread.h"
#include "model/mem_view.h"

#define DEV 7
#define TAG 5
#define NRIGS 3
#define SPAN (4ull << 30) /* IOVAs in use */
#define PA0 (1ull << 40)

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_pt *pt;
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

static void quiet_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)arg, (void)op, (void)pa;
}

struct geo {
	enum ims_format fmt;
	unsigned gshift;
	const char *name;
};

static const struct geo geos[] = {
	{IMS_FMT_AMDV1, 12, "amdv1"},    {IMS_FMT_VTD, 12, "vtd"},
	{IMS_FMT_SMMUV3, 12, "smmu-4k"}, {IMS_FMT_SMMUV3, 14, "smmu-16k"},
	{IMS_FMT_SMMUV3, 16, "smmu-64k"}, {IMS_FMT_VTD_FS, 12, "vtd-fs"},
	{IMS_FMT_AMDV2, 12, "amdv2"},
};

static void rig_up(struct rig *r, const struct geo *g, int kind)
{
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
	struct ims_pt_cfg pc = {.fmt = g->fmt, .tag = TAG, .granule_shift = g->gshift,
				.levels = g->fmt == IMS_FMT_SMMUV3 ? 0 : 4, .dirty_tracking = true};
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	char err[128];
	ck_assert_int_eq(ims_pt_new(r->mem, &pc, &sink, &r->pt, err, sizeof(err)), 0);
	uint64_t w[IMS_CTX_WORDS];
	ims_pt_ctx_words(r->pt, w);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, g->fmt, w, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	if (kind == 1)
		ims_mem_set_hook(r->mem, quiet_hook, NULL);
	if (kind == 2)
		ims_mem_set_race_check(r->mem, true);
}

static void rig_down(struct rig *r)
{
	ims_pt_free(r->pt);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Pool frames of every rig hold the same words (the rigs allocate in the
 * same order, so a table sits at the same address in each). */
static void same_tables(struct rig *r)
{
	uint64_t want = ims_mem_counters(r[0].mem)->pool_frames;
	for (int k = 1; k < NRIGS; k++)
		ck_assert_uint_eq(ims_mem_counters(r[k].mem)->pool_frames, want);
	uint64_t seen = 0;
	for (uint64_t idx = 0; seen < want && idx < want * 2 + 64; idx++) {
		uint64_t pa = IMS_MEM_POOL_BASE + (idx << 12);
		const uint64_t *f0 = mem_frame(r[0].mem, pa);
		for (int k = 1; k < NRIGS; k++) {
			const uint64_t *fk = mem_frame(r[k].mem, pa);
			ck_assert((f0 == NULL) == (fk == NULL));
			if (f0)
				ck_assert_msg(!memcmp(f0, fk, 4096), "table frame 0x%llx differs in rig %d",
					      (unsigned long long)pa, k);
		}
		seen += f0 != NULL;
	}
}

static void same_counters(struct rig *r)
{
	const struct ims_mem_counters *c0 = ims_mem_counters(r[0].mem);
	const struct ims_iommu_counters *m0 = ims_iommu_counters(r[0].mmu);
	const struct ims_pt_stats *s0 = ims_pt_stats(r[0].pt);
	for (int k = 1; k < NRIGS; k++) {
		const struct ims_mem_counters *ck = ims_mem_counters(r[k].mem);
		const struct ims_iommu_counters *mk = ims_iommu_counters(r[k].mmu);
		const struct ims_pt_stats *sk = ims_pt_stats(r[k].pt);
		ck_assert_uint_eq(ck->ops[IMS_AGENT_SW][IMS_MEM_RMW], c0->ops[IMS_AGENT_SW][IMS_MEM_RMW]);
		ck_assert_uint_eq(ck->ops[IMS_AGENT_SW][IMS_MEM_STORE],
				  c0->ops[IMS_AGENT_SW][IMS_MEM_STORE]);
		ck_assert_uint_eq(ck->ops[IMS_AGENT_HW][IMS_MEM_RMW], c0->ops[IMS_AGENT_HW][IMS_MEM_RMW]);
		ck_assert_uint_eq(sk->harvest_entries, s0->harvest_entries);
		ck_assert_uint_eq(sk->flushes, s0->flushes);
		ck_assert_uint_eq(mk->dirty_sets, m0->dirty_sets);
		ck_assert_uint_eq(mk->walks, m0->walks);
		ck_assert_uint_eq(mk->inv_entries, m0->inv_entries);
	}
	ck_assert_uint_eq(ims_mem_lost_updates(r[2].mem, NULL, NULL), 0);
}

static void one_stream(const struct geo *g, uint64_t seed)
{
	struct rig r[NRIGS];
	for (int k = 0; k < NRIGS; k++)
		rig_up(&r[k], g, k);
	uint64_t sizes = ims_pt_pgsizes(r[0].pt) & ((2ull << 30) - 1);
	uint64_t minpg = sizes & -sizes;
	unsigned rewalk;
	ck_assert_int_eq(ims_pt_walker_parse("rewalk", &rewalk), 0);
	bool tracking = false;
	uint64_t s = seed;
	uint64_t hot[16];
	unsigned nhot = 0;
	for (unsigned op = 0; op < 300; op++) {
		unsigned what = (unsigned)(rnd(&s) % 100);
		if (what < 25) {
			/* Map 1..8 pages of a random size, often next to others. */
			uint64_t pick = sizes;
			for (uint64_t n = rnd(&s) % (uint64_t)__builtin_popcountll(sizes); n; n--)
				pick &= pick - 1;
			uint64_t pg = pick & -pick;
			if (rnd(&s) % 2 || (pg > (64ull << 20) && rnd(&s) % 4))
				pg = minpg;
			uint64_t room = SPAN / pg;
			uint64_t n = 1 + rnd(&s) % (room < 16 ? room / 2 : pg <= (64u << 10) ? 1024 : 8);
			uint64_t iova = (rnd(&s) % (room - n + 1)) * pg;
			if (rnd(&s) % 2)
				iova &= ~((64ull << 20) - 1);
			hot[nhot++ % 16] = iova;
			int rc0 = 0;
			for (int k = 0; k < NRIGS; k++) {
				int rc = ims_pt_map(r[k].pt, iova, PA0 + iova, n * pg, IMS_PROT_RW, pg);
				if (!k)
					rc0 = rc;
				ck_assert_int_eq(rc, rc0);
			}
		} else if (what < 30) {
			uint64_t len = minpg << (rnd(&s) % 12);
			uint64_t iova = (rnd(&s) % (SPAN / len)) * len;
			for (int k = 0; k < NRIGS; k++) {
				uint64_t got;
				int rc = ims_pt_unmap(r[k].pt, iova, len, &got);
				(void)rc;
			}
		} else if (what < 70) {
			/* A burst of device writes (and some reads) near one spot. */
			uint64_t at = nhot && rnd(&s) % 4 ? hot[rnd(&s) % (nhot < 16 ? nhot : 16)]
							  : (rnd(&s) % (SPAN >> 12)) << 12;
			unsigned n = 1 + (unsigned)(rnd(&s) % 256);
			for (unsigned j = 0; j < n; j++) {
				uint64_t iova = at + ((rnd(&s) % 2048) << 12);
				unsigned acc = rnd(&s) % 5 ? IMS_ACC_W : IMS_ACC_R;
				int rc0 = 0;
				for (int k = 0; k < NRIGS; k++) {
					struct ims_xlate x;
					int rc = ims_iommu_access(r[k].mmu, DEV, iova % SPAN, acc, &x);
					if (!k)
						rc0 = rc;
					ck_assert_int_eq(rc, rc0);
				}
			}
		} else if (what < 74) {
			tracking = rnd(&s) % 3 != 0;
			for (int k = 0; k < NRIGS; k++)
				ck_assert_int_eq(ims_pt_set_dirty_tracking(r[k].pt, tracking), 0);
		} else {
			/* A harvest over a random range, with a random bitmap page. */
			uint64_t first = rnd(&s) % SPAN;
			uint64_t len = 1 + rnd(&s) % (rnd(&s) % 2 ? (64ull << 20) : SPAN - first);
			if (first + len > SPAN)
				len = SPAN - first;
			unsigned pgs = rnd(&s) % 3 ? 12 : 12 + (unsigned)(rnd(&s) % 10);
			unsigned flags = rnd(&s) % 5 ? 0 : IMS_DIRTY_NO_CLEAR;
			bool with_bm = rnd(&s) % 8 != 0;
			uint64_t b0 = first & ~((1ull << pgs) - 1);
			uint64_t b1 = (first + len + (1ull << pgs) - 1) & ~((1ull << pgs) - 1);
			struct ims_bitmap bm[NRIGS];
			int rc0 = 0;
			for (int k = 0; k < NRIGS; k++) {
				ck_assert_int_eq(ims_bitmap_init(&bm[k], b0, b1 - b0, pgs), 0);
				int rc = ims_pt_read_and_clear_dirty(r[k].pt, first, len, flags,
								     with_bm ? &bm[k] : NULL);
				if (!k)
					rc0 = rc;
				ck_assert_int_eq(rc, rc0);
			}
			for (int k = 1; k < NRIGS; k++)
				ck_assert_msg(!memcmp(bm[0].words, bm[k].words, bm[0].nwords * 8),
					      "%s seed %llu op %u: rig %d reported other bits", g->name,
					      (unsigned long long)seed, op, k);
			same_tables(r);
			same_counters(r);
			/* The peer reports what the correct walker reports (NO_CLEAR, so
			 * nothing moves); every rig looks, to keep the counters equal. */
			if (with_bm && tracking) {
				struct ims_bitmap a, b;
				for (int k = 0; k < NRIGS; k++) {
					ck_assert_int_eq(ims_bitmap_init(&a, b0, b1 - b0, pgs), 0);
					ck_assert_int_eq(ims_bitmap_init(&b, b0, b1 - b0, pgs), 0);
					ck_assert_int_eq(ims_pt_read_and_clear_dirty(r[k].pt, first, len,
										     IMS_DIRTY_NO_CLEAR, &a),
							 0);
					ck_assert_int_eq(ims_pt_set_walker(r[k].pt, rewalk), 0);
					ck_assert_int_eq(ims_pt_read_and_clear_dirty(r[k].pt, first, len,
										     IMS_DIRTY_NO_CLEAR, &b),
							 0);
					ck_assert_int_eq(ims_pt_set_walker(r[k].pt, 0), 0);
					ck_assert(!memcmp(a.words, b.words, a.nwords * 8));
					ims_bitmap_fini(&a);
					ims_bitmap_fini(&b);
				}
				same_counters(r);
			}
			for (int k = 0; k < NRIGS; k++)
				ims_bitmap_fini(&bm[k]);
		}
	}
	same_tables(r);
	same_counters(r);
	for (int k = 0; k < NRIGS; k++)
		rig_down(&r[k]);
}

START_TEST(fast_path_matches_word_by_word)
{
	const struct geo *g = &geos[_i % (sizeof(geos) / sizeof(geos[0]))];
	for (uint64_t seed = 1; seed <= 2; seed++)
		one_stream(g, seed * 0x9e3779b97f4a7c15ull + (uint64_t)_i);
}
END_TEST

/* A dense region, rarely, sometimes, half and mostly dirty, harvested in
 * pieces that start and end inside frames and runs, each into a bitmap
 * that starts at the piece (so frames begin before it) or at 0 (so they
 * begin on its words), of pages 4 KiB or 2 to 64 times smaller than a 16K
 * or 64K page: the 8-entry blocks, both ways of classifying them, the
 * masks and the direct bitmap writes, bit by bit and word by word, meet
 * every edge. */
START_TEST(dense_edges)
{
	const struct geo *g = &geos[_i % (sizeof(geos) / sizeof(geos[0]))];
	struct rig r[NRIGS];
	for (int k = 0; k < NRIGS; k++)
		rig_up(&r[k], g, k);
	uint64_t pg = 1ull << g->gshift;
	uint64_t len = 4096 * pg;
	for (int k = 0; k < NRIGS; k++) {
		ck_assert_int_eq(ims_pt_map(r[k].pt, 0, PA0, len, IMS_PROT_RW, pg), 0);
		ck_assert_int_eq(ims_pt_set_dirty_tracking(r[k].pt, true), 0);
	}
	uint64_t s = 77 + (uint64_t)_i;
	static const unsigned pcts[] = {1, 10, 50, 97, 99, 100};
	for (unsigned round = 0; round < 12; round++) {
		unsigned pct = pcts[round % 6];
		for (uint64_t p = 0; p < len / pg; p++) {
			if (rnd(&s) % 100 >= pct)
				continue;
			for (int k = 0; k < NRIGS; k++)
				ck_assert_int_eq(ims_iommu_access(r[k].mmu, DEV, p * pg, IMS_ACC_W, NULL), 0);
		}
		for (uint64_t at = 0; at < len;) {
			uint64_t n = 1 + rnd(&s) % ((rnd(&s) % 2 ? 600 : 3000) * pg);
			if (at + n > len)
				n = len - at;
			/* Bitmap pages of 4 KiB, or 2 to 64 times smaller than a
			 * page; bitmaps from the piece, or from 0 so that frames
			 * start on bitmap words. */
			unsigned pgs = 12;
			if (g->gshift > 12 && rnd(&s) % 2)
				pgs = g->gshift - 1 - (unsigned)(rnd(&s) % 6);
			uint64_t pm = (1ull << pgs) - 1;
			uint64_t b0 = rnd(&s) % 3 ? at & ~pm : 0, b1 = (at + n + pm) & ~pm;
			struct ims_bitmap bm[NRIGS];
			for (int k = 0; k < NRIGS; k++) {
				ck_assert_int_eq(ims_bitmap_init(&bm[k], b0, b1 - b0, pgs), 0);
				ck_assert_int_eq(ims_pt_read_and_clear_dirty(r[k].pt, at, n, 0, &bm[k]), 0);
			}
			for (int k = 1; k < NRIGS; k++)
				ck_assert(!memcmp(bm[0].words, bm[k].words, bm[0].nwords * 8));
			for (int k = 0; k < NRIGS; k++)
				ims_bitmap_fini(&bm[k]);
			at += n;
		}
		same_tables(r);
		same_counters(r);
	}
	for (int k = 0; k < NRIGS; k++)
		rig_down(&r[k]);
}
END_TEST

/* The classifier the harvest picks (AVX2 where the CPU has it) gives the
 * portable one's masks, bit for bit, on blocks mixing the clean and dirty
 * shapes (over random addresses), empty entries and other shapes, with
 * shapes unknown (~0) too. */
START_TEST(block_classifier_matches_portable)
{
	pt_classify64_fn pick = pt_classify64_pick();
	uint64_t s = 99;
	const uint64_t km = ~0x000ffffffffff000ull; /* an address field, as AMD's */
	uint64_t blk[64];
	unsigned seen_clean = 0, seen_dirty = 0, seen_empty = 0;
	for (unsigned round = 0; round < 4000; round++) {
		uint64_t kc = (rnd(&s) & km) | 1, kd = kc | (1ull << 6);
		if (round % 7 == 0)
			kd = ~0ull; /* no dirty shape met yet */
		if (round % 11 == 0)
			kc = ~0ull;
		for (unsigned k = 0; k < 64; k++) {
			/* Empty, clean, dirty, an address alone (shape 0, not
			 * empty), anything. */
			uint64_t a = rnd(&s) & ~km, kind = rnd(&s) % 5;
			blk[k] = kind == 0   ? 0
				 : kind == 1 ? (kc & km) | a
				 : kind == 2 ? (kd & km) | a
				 : kind == 3 ? a | 0x1000
					     : rnd(&s);
		}
		struct pt_cls64 want, got;
		pt_classify64_portable(blk, km, kc, kd, &want);
		pick(blk, km, kc, kd, &got);
		ck_assert_uint_eq(got.clean, want.clean);
		ck_assert_uint_eq(got.dirty, want.dirty);
		ck_assert_uint_eq(got.empty, want.empty);
		seen_clean += want.clean != 0;
		seen_dirty += want.dirty != 0;
		seen_empty += want.empty != 0;
	}
	/* The portable masks themselves, on one block built to order. */
	uint64_t kc = 0x8000000000000003ull, kd = kc | 0x40;
	for (unsigned k = 0; k < 64; k++)
		blk[k] = k % 3 == 0 ? 0 : k % 3 == 1 ? kc | ((uint64_t)k << 12) : kd | ((uint64_t)k << 12);
	struct pt_cls64 b;
	pt_classify64_portable(blk, km, kc, kd, &b);
	ck_assert_uint_eq(b.empty, 0x9249249249249249ull);
	ck_assert_uint_eq(b.clean, 0x9249249249249249ull << 1);
	ck_assert_uint_eq(b.dirty, 0x9249249249249249ull << 2);
	ck_assert_uint_gt(seen_clean, 1000);
	ck_assert_uint_gt(seen_dirty, 1000);
	ck_assert_uint_gt(seen_empty, 1000);
}
END_TEST


/* The cleans a block scan owes: kinds from the portable classifier, each
 * dirty entry with cc cleared and cs set, every other word as it was. */
struct scan_want {
	bool ok;
	uint64_t dirty;
	unsigned present;
	uint64_t words[64];
};

static void scan_reference(const uint64_t *blk, const struct pt_scan_keys *k, struct scan_want *w)
{
	struct pt_cls64 b;
	pt_classify64_portable(blk, k->km, k->kc, k->kd, &b);
	w->ok = (b.clean | b.dirty | b.empty) == ~0ull;
	w->dirty = w->ok ? b.dirty : 0;
	w->present = w->ok ? 64 - (unsigned)__builtin_popcountll(b.empty) : 0;
	for (unsigned i = 0; i < 64; i++)
		w->words[i] = w->ok && (b.dirty >> i & 1) ? (blk[i] & ~k->cc) | k->cs : blk[i];
}

/* The cleans of the three formats' kinds: AMD clears D (bit 6), VT-d D
 * (bit 9), SMMU sets AP[2] (bit 7) (formats.md). */
static const uint64_t clean_bits[3][2] = {{1ull << 6, 0}, {1ull << 9, 0}, {0, 1ull << 7}};

/* Every block scan this host runs (the portable one, and the AVX2 and
 * AVX-512 ones where the CPU has them) cleans exactly the dirty entries of
 * a block all of known kinds, each by clearing cc and setting cs, and
 * gives its dirty mask and count of entries not empty; a block with an
 * entry of another kind it leaves as it was and refuses. Blocks of every
 * mix: no dirty entry, a few, most, all; shapes unknown (~0) too. */
START_TEST(block_scan_cleans_dirty_entries)
{
	pt_scan_clean64_fn fns[PT_SCAN_VARIANTS];
	unsigned nf = pt_scan_clean64_variants(fns);
	ck_assert_uint_ge(nf, 1);
	ck_assert(fns[0] == pt_scan_clean64_portable);
	uint64_t s = 4711;
	const uint64_t km = ~0x000ffffffffff000ull;
	unsigned seen_ok = 0, seen_refused = 0, seen_all = 0, seen_none = 0;
	for (unsigned round = 0; round < 6000; round++) {
		const uint64_t *cb = clean_bits[round % 3];
		uint64_t kc = (rnd(&s) & km) | 1;
		kc = cb[1] ? kc | cb[1] : kc & ~cb[0];
		uint64_t kd = (kc & ~cb[1]) | cb[0];
		if (round % 13 == 0)
			kd = ~0ull;
		if (round % 17 == 0)
			kc = ~0ull;
		struct pt_scan_keys keys = {km, kc, kd, cb[0], cb[1]};
		/* Percent of dirty entries, of empty ones, and whether an
		 * entry of another shape may appear. */
		unsigned pd = (unsigned)(rnd(&s) % 5) * 25, pe = (unsigned)(rnd(&s) % 3) * 10;
		bool other = rnd(&s) % 3 == 0;
		uint64_t blk[64];
		for (unsigned k = 0; k < 64; k++) {
			uint64_t a = rnd(&s) & ~km, r = rnd(&s) % 100;
			blk[k] = r < pe ? 0 : rnd(&s) % 100 < pd ? (kd & km) | a : (kc & km) | a;
			if (other && rnd(&s) % 64 == 0)
				blk[k] = rnd(&s) % 2 ? a | 0x1000 : rnd(&s);
		}
		struct scan_want want;
		scan_reference(blk, &keys, &want);
		for (unsigned n = 0; n < nf; n++) {
			uint64_t got[64], dirty = 0xdead;
			unsigned present = 999;
			memcpy(got, blk, sizeof(got));
			bool ok = fns[n](got, &keys, &dirty, &present);
			ck_assert_msg(ok == want.ok, "variant %u round %u: %d, want %d", n, round, ok,
				      want.ok);
			if (ok) {
				ck_assert_uint_eq(dirty, want.dirty);
				ck_assert_uint_eq(present, want.present);
			}
			for (unsigned k = 0; k < 64; k++)
				ck_assert_msg(got[k] == want.words[k],
					      "variant %u round %u entry %u: %#llx, want %#llx", n, round,
					      k, (unsigned long long)got[k],
					      (unsigned long long)want.words[k]);
		}
		seen_ok += want.ok && want.dirty;
		seen_refused += !want.ok;
		seen_all += want.ok && want.dirty == ~0ull;
		seen_none += want.ok && !want.dirty && want.present;
	}
	ck_assert_uint_gt(seen_ok, 1000);
	ck_assert_uint_gt(seen_refused, 500);
	ck_assert_uint_gt(seen_all, 100);
	ck_assert_uint_gt(seen_none, 100);
}
END_TEST

/* A block scan writes no entry but the dirty ones (a clean entry stored
 * back as read would undo a hardware update made since: classic bug 4):
 * the block straddles a page boundary with the page above read-only and
 * every entry there clean or empty, so any write to them, even of the
 * same value, faults. The dirty entries below are cleaned. */
START_TEST(block_scan_writes_only_dirty_entries)
{
	pt_scan_clean64_fn fns[PT_SCAN_VARIANTS];
	unsigned nf = pt_scan_clean64_variants(fns);
	long pg = sysconf(_SC_PAGESIZE);
	ck_assert_int_ge(pg, 4096);
	uint8_t *mem = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(mem != MAP_FAILED);
	const uint64_t km = ~0x000ffffffffff000ull;
	uint64_t s = 808;
	for (unsigned round = 0; round < 300; round++) {
		const uint64_t *cb = clean_bits[round % 3];
		uint64_t kc = cb[1] ? 0x403ull | cb[1] : 0x463ull & ~cb[0];
		uint64_t kd = (kc & ~cb[1]) | cb[0];
		struct pt_scan_keys keys = {km, kc, kd, cb[0], cb[1]};
		/* Entries 0 .. below-1 in the writable page, the rest above. */
		unsigned below = 1 + (unsigned)(rnd(&s) % 63);
		uint64_t *blk = (uint64_t *)(mem + pg) - below;
		ck_assert_int_eq(mprotect(mem + pg, (size_t)pg, PROT_READ | PROT_WRITE), 0);
		for (unsigned k = 0; k < 64; k++) {
			uint64_t a = (rnd(&s) & ~km) & ~0xfffull;
			bool dirty = k < below && rnd(&s) % 2;
			blk[k] = k >= below && rnd(&s) % 4 == 0 ? 0 : ((dirty ? kd : kc) & km) | a;
		}
		struct scan_want want;
		scan_reference(blk, &keys, &want);
		ck_assert(want.ok);
		uint64_t orig[64];
		memcpy(orig, blk, sizeof(orig));
		ck_assert_int_eq(mprotect(mem + pg, (size_t)pg, PROT_READ), 0);
		for (unsigned n = 0; n < nf; n++) {
			memcpy(blk, orig, below * 8);
			uint64_t dirty;
			unsigned present;
			ck_assert(fns[n](blk, &keys, &dirty, &present));
			ck_assert_uint_eq(dirty, want.dirty);
			ck_assert(!memcmp(blk, want.words, sizeof(want.words)));
		}
	}
	munmap(mem, 2 * (size_t)pg);
}
END_TEST

/* Every widening this host runs (the portable one; a bit deposit where
 * the CPU has BMI2; AVX-512BW's mask widening where it has that) sets
 * exactly the bits of a page-by-page reference, for pages 2 to 64 bitmap
 * bits wide: each dirty page's f bits ORed into what the words held
 * (random, or zero), and every other bit, in the span or outside it, as
 * it was. */
START_TEST(spread_matches_reference)
{
	enum { NDM = 8, NW = NDM * 64 };
	pt_spread_fn fns[PT_SPREAD_VARIANTS];
	unsigned nfns = pt_spread_variants(fns);
	ck_assert(fns[0] == pt_spread_portable);
	uint64_t s = 4242;
	unsigned set_words = 0;
	for (unsigned round = 0; round < 3000; round++) {
		unsigned a = 1 + round % 6, f = 1u << a;
		unsigned first = (unsigned)(rnd(&s) % NW), last = (unsigned)(rnd(&s) % NW);
		if (first > last) {
			unsigned t = first;
			first = last;
			last = t;
		}
		uint64_t dm[NDM] = {0};
		unsigned pct = (unsigned)(rnd(&s) % 4) * 30 + 1;
		for (unsigned k = first; k <= last; k++)
			if (k == first || k == last || rnd(&s) % 100 < pct)
				dm[k / 64] |= 1ull << (k % 64);
		uint64_t init[NW], want[NW], got[NW];
		for (unsigned w = 0; w < NW; w++)
			init[w] = rnd(&s) % 3 ? 0 : rnd(&s);
		memcpy(want, init, sizeof(want));
		for (unsigned k = first; k <= last; k++) {
			if (!(dm[k / 64] >> (k % 64) & 1))
				continue;
			for (unsigned b = k * f; b < k * f + f; b++)
				want[b / 64] |= 1ull << (b % 64);
		}
		for (unsigned n = 0; n < nfns; n++) {
			memcpy(got, init, sizeof(got));
			fns[n](got, dm, a, first, last);
			for (unsigned w = 0; w < NW; w++)
				ck_assert_msg(got[w] == want[w], "fn %u a %u word %u: %#llx, want %#llx",
					      n, a, w, (unsigned long long)got[w],
					      (unsigned long long)want[w]);
		}
		set_words += memcmp(want, init, sizeof(want)) != 0;
	}
	ck_assert_uint_gt(set_words, 2900);
}
END_TEST

/* Three pages of which only the middle one may be read or written; *len:
 * the mapping's length. */
static uint8_t *guarded_page(size_t *len)
{
	long pg = sysconf(_SC_PAGESIZE);
	ck_assert_int_ge(pg, 4096);
	*len = 3 * (size_t)pg;
	uint8_t *mem = mmap(NULL, *len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(mem != MAP_FAILED);
	ck_assert_int_eq(mprotect(mem + pg, (size_t)pg, PROT_READ | PROT_WRITE), 0);
	return mem;
}

/* Every widening touches no word outside the span of the dirty pages (the
 * bitmap may end at the last dirty page's word, or start at the first's):
 * the span is placed against a page with no access, below it and then
 * above it, so a word read or written past either end faults. */
START_TEST(spread_stays_in_span)
{
	pt_spread_fn fns[PT_SPREAD_VARIANTS];
	unsigned nfns = pt_spread_variants(fns);
	size_t len;
	uint8_t *mem = guarded_page(&len);
	uint64_t *lo = (uint64_t *)(mem + len / 3), *hi = (uint64_t *)(mem + 2 * len / 3);
	uint64_t s = 31337;
	for (unsigned round = 0; round < 3000; round++) {
		unsigned a = 1 + round % 6, per = 64u >> a;
		unsigned first = (unsigned)(rnd(&s) % 512), last = (unsigned)(rnd(&s) % 512);
		if (first > last) {
			unsigned t = first;
			first = last;
			last = t;
		}
		unsigned q0 = first / per, q1 = last / per;
		if (q1 - q0 + 1 > 512)
			continue;
		uint64_t dm[8] = {0};
		for (unsigned k = first; k <= last; k++)
			if (k == first || k == last || rnd(&s) % 3 == 0)
				dm[k / 64] |= 1ull << (k % 64);
		for (unsigned n = 0; n < nfns; n++) {
			for (unsigned side = 0; side < 2; side++) {
				/* words[q0] on the page's first word, or words[q1]
				 * on its last. */
				uint64_t *words = side ? hi - 1 - q1 : lo - q0;
				memset(words + q0, 0, (q1 - q0 + 1) * 8);
				fns[n](words, dm, a, first, last);
				for (unsigned k = first; k <= last; k++) {
					unsigned b = k << a;
					bool want = dm[k / 64] >> (k % 64) & 1;
					ck_assert_msg((bool)(words[b / 64] >> (b % 64) & 1) == want,
						      "fn %u a %u page %u", n, a, k);
				}
			}
		}
	}
	munmap(mem, len);
}
END_TEST

/* Every block widening this host runs (the portable one; AVX-512BW's for
 * pages of 8 and 16 bits; with VBMI, VL and GFNI for 4 bits) ORs exactly
 * each dirty page's bits into its block's 2^a words, the other bits as
 * they were, for every page width and density (none, scattered, all), and
 * touches no word outside those (a page with no access on either side).
 * What the harvest picks for each width is one of them. */
START_TEST(spread64_matches_reference)
{
	pt_spread64_fn fns[PT_SPREAD64_VARIANTS];
	unsigned nfns = pt_spread64_variants(fns);
	ck_assert(fns[0] == pt_spread64_portable);
	for (unsigned a = 1; a <= 6; a++) {
		pt_spread64_fn p = pt_spread64_pick(a);
		bool known = !p;
		for (unsigned n = 0; n < nfns; n++)
			known |= p == fns[n];
		ck_assert_msg(known, "a %u: picked a widening the variants do not list", a);
	}
	size_t len;
	uint8_t *mem = guarded_page(&len);
	uint64_t *lo = (uint64_t *)(mem + len / 3), *hi = (uint64_t *)(mem + 2 * len / 3);
	uint64_t s = 2718;
	unsigned changed = 0;
	for (unsigned round = 0; round < 6000; round++) {
		const unsigned a = 1 + round % 6, nw = 1u << a, f = 1u << a;
		const unsigned kind = round / 6 % 4;
		uint64_t bits = kind == 0 ? 0 : kind == 1 ? ~0ull : rnd(&s) & rnd(&s) & rnd(&s);
		if (kind == 3)
			bits = rnd(&s);
		uint64_t init[64], want[64];
		for (unsigned w = 0; w < nw; w++)
			init[w] = rnd(&s) % 3 ? 0 : rnd(&s);
		memcpy(want, init, nw * 8);
		for (unsigned k = 0; k < 64; k++)
			if (bits >> k & 1)
				for (unsigned b = k * f; b < k * f + f; b++)
					want[b / 64] |= 1ull << (b % 64);
		changed += memcmp(want, init, nw * 8) != 0;
		for (unsigned n = 0; n < nfns; n++) {
			for (unsigned side = 0; side < 2; side++) {
				uint64_t *words = side ? hi - nw : lo;
				memcpy(words, init, nw * 8);
				fns[n](words, bits, a);
				for (unsigned w = 0; w < nw; w++)
					ck_assert_msg(words[w] == want[w],
						      "fn %u a %u word %u: %#llx, want %#llx", n, a, w,
						      (unsigned long long)words[w],
						      (unsigned long long)want[w]);
			}
		}
	}
	ck_assert_uint_gt(changed, 3000);
	/* A fully dirty block stored as ones, and the fully dirty blocks of a
	 * frame before its first widened one: the words of those blocks only. */
	for (unsigned round = 0; round < 600; round++) {
		const unsigned a = 1 + round % 6, nb = 1 + (unsigned)(rnd(&s) % 8);
		uint64_t dm[8], init[512], want[512];
		unsigned wmask = 0;
		for (unsigned w = 0; w < nb; w++) {
			dm[w] = rnd(&s) % 2 ? ~0ull : rnd(&s);
			wmask |= (unsigned)(dm[w] == ~0ull) << w;
		}
		for (unsigned w = 0; w < (nb << a); w++)
			init[w] = want[w] = rnd(&s) % 3 ? 0 : rnd(&s);
		for (unsigned w = 0; w < nb; w++)
			if (dm[w] == ~0ull)
				pt_spread64_portable(want + (w << a), ~0ull, a);
		uint64_t *words = hi - (nb << a);
		memcpy(words, init, (size_t)(nb << a) * 8);
		ck_assert_uint_eq(pt_fill64_full(words, dm, nb, a), wmask);
		ck_assert(!memcmp(words, want, (size_t)(nb << a) * 8));
		words = lo;
		memcpy(words, init, 8u << a);
		pt_fill64(words, a);
		pt_spread64_portable(init, ~0ull, a);
		ck_assert(!memcmp(words, init, 8u << a));
	}
	munmap(mem, len);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("harvest");
	TCase *tc = tcase_create("harvest");
	tcase_set_timeout(tc, 300);
	int n = (int)(sizeof(geos) / sizeof(geos[0]));
	tcase_add_loop_test(tc, fast_path_matches_word_by_word, 0, n);
	tcase_add_loop_test(tc, dense_edges, 0, n);
	tcase_add_test(tc, block_classifier_matches_portable);
	tcase_add_test(tc, spread_matches_reference);
	tcase_add_test(tc, spread_stays_in_span);
	tcase_add_test(tc, spread64_matches_reference);
	tcase_add_test(tc, block_scan_cleans_dirty_entries);
	tcase_add_test(tc, block_scan_writes_only_dirty_entries);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
