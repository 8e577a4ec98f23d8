/* read_and_clear_dirty: the harvest, the whole hot path in one translation
 * unit so the compiler sees it whole.
 *
 * The "fast" built-in walker of the walker ABI (pt_fast_rcd), and the
 * seeded-bug variants on the same path. One pass over the range: every leaf
 * run's dirty state is ORed over its entries, recorded into the bitmap
 * clipped to the range, and each entry cleaned atomically; the cleaned range
 * is gathered once for the host to flush. Tables are read a 4 KiB frame at
 * a time through the host's frame() (memoised entry shapes, a frame
 * classified 64 entries at a time); each frame taken and each clean is a
 * host call, so under the fuzzer's or inject-at's memory hook the model may
 * act between them, and this path is the one the fuzzer exercises. Cleans
 * are written through a writable frame when the host gives one (no hook, no
 * lost-update check), else with the host's atomics. The plain recorder
 * writes bitmap words itself (the built-in's shortcut; a plug-in records
 * through the host); the seeded recorders record through the host.
 */
#include <errno.h>
#include <string.h>

#include "pagetables/classify.h"
#include "pagetables/spread.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"
#include "model/hot_path.h"

#define FRAME_ENTRIES (IMS_PAGE_SIZE / 8)

/* Short runs of whole bitmap words waiting to be set (whole_word_pages):
 * stored in bursts of QUEUE_RUNS, apart from the table reads, each run's
 * words prefetched a few runs ahead. Set among the reads, frame by frame,
 * the scattered misses of a partly dirty large-page table overlapped less,
 * and its harvest took longer than a fully dirty one's. */
#define QUEUE_RUNS 1024
#define QUEUE_AHEAD 8
struct word_queue {
	unsigned n;
	uint32_t len[QUEUE_RUNS];
	uint64_t *at[QUEUE_RUNS];
};

struct harvest {
	struct ims_walker_dom *d;
	struct ims_walker_dirty *dt;
	uint64_t first, last; /* inclusive range */
	unsigned flags;
	struct ims_bitmap *bm;
	uint64_t g_first, g_last; /* gathered (cleaned) range, inclusive */
	bool gathered;
	const struct pt_walker *w;
	/* Fast path (every walker but rewalk): single-entry leaves whose shape
	 * is memoised; a plain walker's records merge into one pending range,
	 * entries and view RMWs are counted at the end. */
	bool fast;
	/* Blocks of 64 entries classified at once; the clean and dirty shapes
	 * met last at each level, kept from frame to frame. */
	pt_classify64_fn classify;
	pt_scan_clean64_fn scan; /* the same, cleaning through a writable view */
	pt_spread_fn spread; /* pages of 2 to 64 bitmap bits, widened */
	uint64_t kc[PT_MAX_LEVELS], kd[PT_MAX_LEVELS];
	bool pend;
	uint64_t pend_lo, pend_hi;
	uint64_t entries, rmws, loads;
	uint64_t left; /* the walk's budget of tables (pt_enter) */
	/* The frame of the table the walk enters after the one it enters
	 * now, when the entry after this one is a table entry (NULL:
	 * unknown): read ahead while this one is scanned. */
	const uint64_t *pf;
	struct word_queue *q;
};

static void gather_add(struct harvest *h, uint64_t first, uint64_t last)
{
	pt_gather(&h->gathered, &h->g_first, &h->g_last, first, last);
}

/* Clean one entry with the host's atomic: every format here either clears
 * or sets bits to clean (AMD, VT-d clear D; SMMU sets AP[2]). */
static void clean_atomic(struct ims_pt *pt, struct harvest *h, uint64_t slot)
{
	const uint64_t cc = pt->ops->clean_clear, cs = pt->ops->clean_set;
	if (!cs) {
		pt_host.fetch_and(h->d, slot, ~cc);
	} else if (!cc) {
		pt_host.fetch_or(h->d, slot, cs);
	} else {
		uint64_t v = pt_host.load(h->d, slot);
		for (uint64_t was; (was = pt_host.cmpxchg(h->d, slot, v, (v & ~cc) | cs)) != v;)
			v = was;
	}
}

/* Clean the entry at slot, as the walker's knobs say. */
static void clean_one(struct ims_pt *pt, struct harvest *h, uint64_t slot)
{
	if (h->w->nonatomic_clean) {
		/* Bug 4: a plain load, then a store of what was read. */
		uint64_t v = pt_host.load(h->d, slot);
		pt_host.store(h->d, slot, (v & ~pt->ops->clean_clear) | pt->ops->clean_set);
	} else {
		clean_atomic(pt, h, slot);
	}
}

/* A dirty page [piova, piova + 2^shift) recorded through the host (which
 * clips it to the range and, for a seeded variant, writes it with the
 * variant's recorder). */
static void record_page(struct harvest *h, uint64_t piova, unsigned shift)
{
	if (h->bm)
		pt_host.bitmap_set(h->dt, piova, shift >= 64 ? 0 : 1ull << shift);
}

/* One leaf run (decoded by pt_decode: n fits the frame): OR the dirty state
 * over every entry, record the page clipped to the range, clean every entry
 * atomically. An entry of a run that is not a leaf of the run's size makes
 * the run corrupt: a finding, and nothing recorded or cleaned. */
IMS_HARVEST_PATH
static void harvest_run(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			const uint64_t *view, unsigned idx0, unsigned n, uint64_t page_iova,
			unsigned shift)
{
	const struct pt_walker *w = h->w;
	bool dirty = false;
	unsigned look = w->check_first_only ? 1 : n;
	for (unsigned i = 0; i < look; i++) {
		uint64_t v = view ? view[(idx0 + i) % FRAME_ENTRIES]
				 : sw_load(pt, table + 8ull * (idx0 + i));
		if (n > 1 && !pt_run_entry_ok(pt, level, v, shift)) {
			pt_bad_run(pt, level, table + 8ull * (idx0 + i), v, shift);
			pt->stats.harvest_entries += i + 1;
			return;
		}
		dirty |= pt->ops->is_dirty(v);
	}
	pt->stats.harvest_entries += look;
	if (!dirty)
		return;
	uint64_t plast = page_iova + (shift >= 64 ? ~0ull : (1ull << shift) - 1);
	record_page(h, page_iova, shift);
	if (h->flags & IMS_DIRTY_NO_CLEAR)
		return;
	unsigned nclean = w->clean_first_only ? 1 : n;
	for (unsigned i = 0; i < nclean; i++) {
		uint64_t slot = table + 8ull * (idx0 + i);
		if (w->nonatomic_clean || pt->ops->is_dirty(view ? view[(idx0 + i) % FRAME_ENTRIES]
								  : sw_load(pt, slot)))
			clean_one(pt, h, slot);
	}
	if (!w->skip_flush)
		gather_add(h, page_iova, plast);
}

/* ---- the fast path: entry shapes ------------------------------------------------
 *
 * A dense harvest meets the same few kinds of leaf entry millions of times:
 * clean, accessed, dirty, read-only. What the decoders say about an entry
 * depends on its bits outside the output address (present, type, size
 * code, A/D) and, for every format here, not on the address, except where
 * the address field itself carries a size code (AMD NextLevel=7). So the
 * decoders run once per shape (the entry with its address masked off) and
 * their answer is kept per level; a shape is kept only if the decoders give
 * the same answer over probes of its address field (all zeros, all ones,
 * each bit alone, each run of low ones: the AMD size code is such a run),
 * else it stays on the slow path. Only single-entry leaves and empty
 * entries are answered from the memo; tables and runs always decode. */

enum { CLS_NONE = 1, CLS_CLEAN, CLS_DIRTY, CLS_SLOW };

/* The address field of a single-entry leaf at each level, from the
 * format's own encoder: the bits mk_leaf changes when only pa changes. */
void pt_memo_init(struct ims_pt *pt)
{
	const struct pt_geom *g = &pt->g;
	memset(pt->memo, 0, sizeof(pt->memo));
	for (int l = 0; l <= g->top && l < PT_MAX_LEVELS; l++) {
		unsigned s = pt_level_shift(g, l);
		if (s >= 52 || pt->ops->leaf_level(g, s) != l)
			continue;
		bool dt = pt->cfg.dirty_tracking;
		uint64_t a = 0, e0 = pt->ops->mk_leaf(g, l, s, 0, 0, IMS_PROT_RW, dt);
		for (unsigned b = s; b < 52; b++)
			a |= e0 ^ pt->ops->mk_leaf(g, l, s, 1ull << b, 0, IMS_PROT_RW, dt);
		pt->memo[l].addr = a;
		pt->memo[l].keymask = a ? ~a : 0;
	}
	/* The address field of a table entry: next tables are aligned to the
	 * granule, so bits below it stay in the shape (where a format calls
	 * them reserved). */
	for (int l = 1; l <= g->top && l < PT_MAX_LEVELS; l++) {
		uint64_t a = 0, e0 = pt->ops->mk_table(g, l, 0);
		for (unsigned b = g->gshift; b < 52; b++)
			a |= e0 ^ pt->ops->mk_table(g, l, 1ull << b);
		pt->memo[l].tmask = a;
		pt->memo[l].tkey = ~0ull;
	}
}

/* Only a well-formed single-entry leaf is answered from the memo: a
 * corrupt entry always takes the slow path, where pt_decode reports it. */
static int classify(const struct ims_pt *pt, int level, uint64_t pte)
{
	const struct pt_geom *g = &pt->g;
	enum pt_kind k = pte ? pt->ops->kind(g, level, pte) : PT_NONE;
	if (k == PT_NONE)
		return CLS_NONE;
	unsigned es = pt_level_shift(g, level);
	if (k != PT_LEAF || pt->ops->leaf_shift(g, level, pte) != es ||
	    !pt_leaf_fits(pt, level, es))
		return CLS_SLOW;
	return pt->ops->is_dirty(pte) ? CLS_DIRTY : CLS_CLEAN;
}

static void memo_learn(struct ims_pt *pt, int level, uint64_t pte)
{
	struct pt_memo *m = &pt->memo[level];
	uint64_t key = pte & m->keymask;
	int c = classify(pt, level, pte);
	bool same = c != CLS_SLOW && classify(pt, level, key) == c &&
		    classify(pt, level, key | m->addr) == c;
	uint64_t low = 0;
	for (uint64_t a = m->addr; a && same; a &= a - 1) {
		uint64_t bit = a & -a;
		low |= bit;
		same = classify(pt, level, key | bit) == c && classify(pt, level, key | low) == c;
	}
	unsigned w = m->n < PT_MEMO_WAYS ? m->n++ : m->next++ % PT_MEMO_WAYS;
	m->key[w] = key;
	m->cls[w] = (uint8_t)(same ? c : CLS_SLOW);
}

static inline int memo_find(const struct pt_memo *m, uint64_t key)
{
	for (unsigned w = 0; w < m->n; w++)
		if (m->key[w] == key)
			return m->cls[w];
	return 0;
}

/* The plain recorder's merged range, written directly. */
IMS_HARVEST_PATH
static void record_flush(struct harvest *h)
{
	if (h->pend) {
		ims_bitmap_set(h->bm, h->pend_lo, h->pend_hi - h->pend_lo + 1);
		h->pend = false;
	}
}

/* The dirty range [lo, hi] (inside the harvest range) joins the pending
 * record when adjacent to it, else the pending one is written and this one
 * waits: a long stretch of dirty pages is written by one call. */
IMS_HARVEST_PATH
static void pend_add(struct harvest *h, uint64_t lo, uint64_t hi)
{
	if (h->pend && lo == h->pend_hi + 1) {
		h->pend_hi = hi;
	} else {
		record_flush(h);
		h->pend = true;
		h->pend_lo = lo;
		h->pend_hi = hi;
	}
}

/* Dirty single-entry leaves [piova, plast] found side by side: recorded
 * (merged with the pending record when adjacent) and gathered as a whole,
 * which sets the same bits and gathers the same range as one at a time. */
IMS_HARVEST_PATH
static void dirty_span(struct harvest *h, uint64_t piova, uint64_t plast)
{
	if (h->bm)
		pend_add(h, piova > h->first ? piova : h->first, plast < h->last ? plast : h->last);
	if (!(h->flags & IMS_DIRTY_NO_CLEAR))
		gather_add(h, piova, plast);
}

static void harvest_walk(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			 uint64_t base, uint64_t *w0);

/* Whether the walk of a table at `level` cleans through writable views. */
static inline bool wants_wview(const struct ims_pt *pt, const struct harvest *h, int level)
{
	return h->fast && level < PT_MAX_LEVELS && pt->memo[level].keymask &&
	       !h->w->nonatomic_clean && !(h->flags & IMS_DIRTY_NO_CLEAR);
}

/* Entry *i (value pte, non-zero) of a table at `level`, the slow path's
 * way: decoded (a corrupt entry is a finding and skipped), a table walked, a
 * leaf run harvested; *i ends on the run's last entry. Runs are aligned to
 * their length, which divides a frame's 512 entries: a run never leaves its
 * frame (pt_decode). */
IMS_HARVEST_PATH
static void harvest_entry(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			  uint64_t base, const uint64_t *view, uint64_t pte, unsigned *i)
{
	unsigned shift = pt_level_shift(&pt->g, level);
	uint64_t slot = table + 8ull * *i;
	struct pt_ent e;
	if (level > 0 && level < PT_MAX_LEVELS) {
		/* A table entry of a shape met before: decoded once per shape,
		 * not once per entry (every upper-level entry of a dense walk). */
		struct pt_memo *m = &pt->memo[level];
		uint64_t key = pte & ~m->tmask;
		if (m->tmask && key == m->tkey) {
			uint64_t next = pt->ops->table_pa(pte);
			/* A table of one frame whose walk cleans through a
			 * writable view: that view, asked for here, is the
			 * proof that it is a live table (one lookup, not two). */
			uint64_t *w0 = NULL;
			bool one = pt_level_bits(&pt->g, level - 1) + 3 <= IMS_PAGE_SHIFT;
			if (one && !(next & (IMS_PAGE_SIZE - 1)) && wants_wview(pt, h, level - 1))
				w0 = pt_table_frame_w(pt, next);
			if (w0 || pt_table_live(pt, level, next)) {
				/* The next entry's table, read ahead (its shape
				 * may differ: where the hardware sets A in table
				 * entries, only the walked ones have it). */
				unsigned n1 = (*i + 1) % FRAME_ENTRIES;
				uint64_t np = view && n1 ? view[n1] : 0;
				h->pf = NULL;
				if (np && ((np & ~m->tmask) == m->tkey ||
					   pt->ops->kind(&pt->g, level, np) == PT_TABLE))
					h->pf = pt_table_frame_w(pt, pt->ops->table_pa(np));
				if (pt_enter(pt, &h->left, level, slot, pte, false))
					harvest_walk(pt, h, next, level - 1,
						     base + ((uint64_t)*i << shift), w0);
				return;
			}
		}
		if (m->tmask && pt_decode(pt, level, slot, pte, true, &e) == PT_TABLE)
			m->tkey = key;
	}
	enum pt_kind k = pt_decode(pt, level, slot, pte, false, &e);
	if (k == PT_TABLE) {
		h->pf = NULL;
		if (pt_enter(pt, &h->left, level, slot, pte, false))
			harvest_walk(pt, h, e.next, level - 1, base + ((uint64_t)*i << shift),
				     NULL);
	} else if (k == PT_LEAF) {
		unsigned i0 = *i & ~(e.n - 1);
		uint64_t piova = base + ((uint64_t)i0 << shift);
		harvest_run(pt, h, table, level, view, i0, e.n, piova, e.shift);
		*i = i0 + e.n - 1;
	}
}

/* The bit of bm for the page at iova, negative before the bitmap. */
static inline int64_t bm_bit(const struct ims_bitmap *bm, uint64_t iova)
{
	return iova >= bm->iova ? (int64_t)((iova - bm->iova) >> bm->pgshift)
				: -(int64_t)((bm->iova - iova) >> bm->pgshift);
}

/* Set bits [b, b + 512) of bm from m[8] (bit k of m = bit b + k); bits of
 * m below -b (when b < 0) are zero, as are those past the bitmap. */
IMS_HARVEST_PATH
static void or_mask(struct ims_bitmap *bm, int64_t b, const uint64_t m[FRAME_ENTRIES / 64])
{
	for (unsigned w = 0; w < FRAME_ENTRIES / 64; w++, b += 64) {
		uint64_t v = m[w];
		if (!v)
			continue;
		int64_t at = b;
		if (at < 0) {
			v >>= -at; /* -at < 64: a lower bit of this word is set */
			at = 0;
		}
		unsigned off = (unsigned)(at & 63);
		uint64_t wi = (uint64_t)at >> 6;
		bm->words[wi] |= v << off;
		if (off && v >> (64 - off))
			bm->words[wi + 1] |= v >> (64 - off);
	}
}

/* The lowest run of set bits of *bits: returns where it starts, puts its
 * length in *len and clears it from *bits. A run's end is the first zero
 * above its start. */
static inline unsigned next_run(uint64_t *bits, unsigned *len)
{
	unsigned s = (unsigned)__builtin_ctzll(*bits);
	uint64_t above = ~(*bits >> s);
	*len = above ? (unsigned)__builtin_ctzll(above) : 64 - s;
	*bits = s + *len >= 64 ? 0 : *bits & (~0ull << (s + *len));
	return s;
}

/* Every queued run's words set. */
IMS_HARVEST_PATH
static void queue_flush(struct word_queue *q)
{
	/* Opaque to the compiler, which would otherwise make the loop below a
	 * memset call (or a rep stos), slower than the stores for the few
	 * words of a page. */
	uint64_t ones = ~0ull;
	__asm__("" : "+r"(ones));
	for (unsigned i = 0; i < q->n; i++) {
		if (i + QUEUE_AHEAD < q->n)
			__builtin_prefetch(q->at[i + QUEUE_AHEAD], 1);
		uint64_t *p = q->at[i];
		for (uint32_t k = 0; k < q->len[i]; k++)
			p[k] = ones;
	}
	q->n = 0;
}

/* Runs of dirty pages at least this many bitmap words long join the
 * pending record (one memset for a long stretch, which the C library
 * writes with streaming stores when it is large); shorter ones are stored
 * where they are found. */
#define LONG_RUN_WORDS 512

/* The dirty pages dm[] (frame entries first..last) of a frame whose entry 0
 * maps fbase, each page 2^shift bytes and at least 64 bitmap bits, none cut
 * by the range or the bitmap, the first starting a bitmap word: every page
 * is whole words, so a run of them is stored without reading the words
 * first (no read-modify-write, and no call per page, which at a few pages
 * per frame cost more than the stores). The plain recorder sets the same
 * bits. Short runs wait in the queue, long ones in the pending record. */
IMS_HARVEST_PATH
static void whole_word_pages(struct harvest *h, const uint64_t dm[FRAME_ENTRIES / 64],
			     unsigned first, unsigned last, unsigned shift, uint64_t fbase)
{
	struct ims_bitmap *bm = h->bm;
	const unsigned wshift = shift - bm->pgshift - 6; /* log2 of a page's words */
	uint64_t *w0 = bm->words + ((uint64_t)bm_bit(bm, fbase + ((uint64_t)first << shift)) >> 6);
	for (unsigned w = first / 64; w <= last / 64; w++) {
		for (uint64_t bits = dm[w]; bits;) {
			unsigned len, j = w * 64 + next_run(&bits, &len);
			uint64_t n = (uint64_t)len << wshift;
			if (n >= LONG_RUN_WORDS) {
				pend_add(h, fbase + ((uint64_t)j << shift),
					 fbase + ((uint64_t)(j + len) << shift) - 1);
			} else {
				struct word_queue *q = h->q;
				if (q->n == QUEUE_RUNS)
					queue_flush(q);
				q->at[q->n] = w0 + ((uint64_t)(j - first) << wshift);
				q->len[q->n++] = (uint32_t)n;
			}
		}
	}
}

/* Baseline x86-64 has no popcnt instruction, so __builtin_popcountll is a
 * libgcc call in the frame pass's inner loop; and its vectors are 16 bytes, two entries per step where a whole dirty word is
 * cleaned. The frame pass is built three times, for AVX2, with popcnt, and
 * for the baseline, and the loader picks the best the CPU runs (an ifunc):
 * the build stays baseline. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define PT_FRAME_CLONES __attribute__((target_clones("avx2", "popcnt", "default")))
#endif
#endif
#ifndef PT_FRAME_CLONES
#define PT_FRAME_CLONES
#endif
/* The frame pass's loops start on 32-byte boundaries (GCC's default is
 * less): the loop that cleans a whole dirty word is a few instructions
 * run millions of times on a dense table, and where it straddled a fetch
 * block, as unrelated edits to the function can make it, a fully dirty
 * table's harvest was measurably slower. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__ELF__)
/* Placed with the rest of the harvest's path in .text.hot by section name
 * alone: the hot attribute would change this function's code. */
#define PT_FRAME_ALIGN __attribute__((optimize("align-loops=32"), section(".text.hot.pt_frame")))
#elif defined(__GNUC__) && !defined(__clang__)
#define PT_FRAME_ALIGN __attribute__((optimize("align-loops=32")))
#else
#define PT_FRAME_ALIGN
#endif

/* The entries [i, fend] of one frame on the fast path; returns where the
 * scan ended (past fend).
 *
 * A first pass classifies. Eight entries at a time while they are all of
 * the last clean or dirty shape met (or empty): no branch per entry, so
 * scattered dirty pages cost no mispredictions, and loops the compiler can
 * vectorise; anything else goes entry by entry. Dirty entries are marked
 * in a 512-bit mask. A second pass cleans the marked entries and records
 * them: with a page per bitmap bit the mask is ORed into the bitmap as it
 * is; pages of whole bitmap words are stored word by word (short runs
 * queued, so that the misses on a cold bitmap overlap instead of coming
 * one by one); otherwise each run of neighbours is one record. Without a hook nothing
 * observes the order of the cleans, records and descents into tables, and
 * each is what the slow path does. */
PT_FRAME_CLONES PT_FRAME_ALIGN
static unsigned harvest_walk_frame(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
				   uint64_t base, const uint64_t *view, uint64_t *wview, unsigned i,
				   unsigned fend, const uint64_t *pf)
{
	const struct pt_geom *g = &pt->g;
	struct pt_memo *m = &pt->memo[level];
	const unsigned shift = pt_level_shift(g, level);
	const uint64_t km = m->keymask;
	/* The last clean and dirty shapes met; ~0 is no shape, as the address
	 * field is never empty. */
	uint64_t kc = h->kc[level], kd = h->kd[level];
	uint64_t cnt = 0;
	/* dm: the dirty entries; todo: those not cleaned yet. */
	uint64_t dm[FRAME_ENTRIES / 64] = {0}, todo[FRAME_ENTRIES / 64] = {0};
	struct ims_bitmap *bm = h->bm;
	const bool clear = !(h->flags & IMS_DIRTY_NO_CLEAR);
	const uint64_t cc = pt->ops->clean_clear, cs = pt->ops->clean_set;
	/* Pages of 4, 8 or 16 bitmap bits in a frame wholly inside the range
	 * and the bitmap, the frame starting a bitmap word: a partly dirty
	 * block's pages are widened into the bitmap as soon as it is scanned
	 * (bw: the frame's first bitmap word; wid: the blocks done so). Left
	 * for after the frame, as a fully dirty block still is, they were
	 * read again and widened word by word, and a partly dirty table took
	 * longer than a fully dirty one. */
	uint64_t *bw = NULL;
	pt_spread64_fn sp64 = NULL;
	unsigned a = 0, wid = 0;
	if (bm && h->w->plain && shift > bm->pgshift && shift - bm->pgshift <= 6 &&
	    (sp64 = pt_spread64_pick(a = shift - bm->pgshift))) {
		const uint64_t fb = base + ((uint64_t)(fend & ~(FRAME_ENTRIES - 1)) << shift);
		const uint64_t fl = fb + (((uint64_t)FRAME_ENTRIES << shift) - 1);
		const int64_t b0 = bm_bit(bm, fb);
		if (fl > fb && fb >= h->first && fl <= h->last && fb >= bm->iova &&
		    fl - bm->iova <= bm->length - 1 && !(b0 & 63))
			bw = bm->words + ((uint64_t)b0 >> 6);
	}
	for (; i <= fend; i++) {
		unsigned j = i % FRAME_ENTRIES;
		if (!(j & 63) && pf) {
			/* The same eighth of the next frame: once the walk
			 * leaves a 4 KiB frame the hardware prefetcher starts
			 * over, and a dense walk does enough per line that its
			 * own loads run few misses ahead. */
			for (unsigned l = 0; l < 8; l++)
				__builtin_prefetch(pf + j + 8 * l);
		}
		if (!(j & 63) && i + 63 <= fend && clear && wview) {
			/* 64 entries at once, as below, and their dirty ones
			 * cleaned while the block is in the cache, by masked
			 * stores: scattered dirty entries cost no branch each. */
			const struct pt_scan_keys keys = {km, kc, kd, cc, cs};
			uint64_t bd;
			unsigned np;
			if (h->scan(wview + j, &keys, &bd, &np)) {
				cnt += np;
				dm[j / 64] |= bd;
				if (bw && bd == ~0ull && wid) {
					/* Fully dirty after a widened block (most blocks
					 * at 60 % dirty and up are partly dirty): its
					 * words stored as ones now, so the frame still
					 * skips the pass over its mask below. */
					pt_fill64(bw + (((uint64_t)j << a) >> 6), a);
					wid |= 1u << (j / 64);
				} else if (bw && bd && bd != ~0ull) {
					if (!wid)
						wid = pt_fill64_full(bw, dm, j / 64, a);
					sp64(bw + (((uint64_t)j << a) >> 6), bd, a);
					wid |= 1u << (j / 64);
				}
				i += 63;
				continue;
			}
		} else if (!(j & 63) && i + 63 <= fend) {
			/* 64 entries at once: when each is of the last clean or
			 * dirty shape or empty, as in a dense or an unused table,
			 * nothing below is needed; else the blocks of 8 learn. */
			struct pt_cls64 b;
			h->classify(view + j, km, kc, kd, &b);
			if ((b.clean | b.dirty | b.empty) == ~0ull) {
				cnt += (uint64_t)__builtin_popcountll(~b.empty);
				dm[j / 64] |= b.dirty;
				todo[j / 64] |= b.dirty;
				i += 63;
				continue;
			}
		}
		if (!(j & 7) && i + 7 <= fend) {
			const uint64_t *p = view + j;
			if (!(p[0] | p[1] | p[2] | p[3] | p[4] | p[5] | p[6] | p[7])) {
				/* Empty: a 16K or 64K table a sparse mapping barely
				 * uses is mostly this, so run past it. */
				while (i + 15 <= fend && !(p[8] | p[9] | p[10] | p[11] | p[12] | p[13] |
							   p[14] | p[15])) {
					p += 8;
					i += 8;
				}
				i += 7;
				continue;
			}
			/* Left over from the blocks of 64 (range edges, shapes
			 * being learnt): "all clean" and "all dirty" first. */
			uint64_t xc = 0, xd = 0;
			for (unsigned k = 0; k < 8; k++) {
				xc |= (p[k] & km) ^ kc;
				xd |= (p[k] & km) ^ kd;
			}
			if (!xc) {
				cnt += 8;
				i += 7;
				continue;
			}
			unsigned cmask = 0, dmask = 0xff;
			if (xd) {
				dmask = 0;
				for (unsigned k = 0; k < 8; k++) {
					uint64_t key = p[k] & km;
					cmask |= (unsigned)(key == kc) << k;
					dmask |= (unsigned)(key == kd) << k;
				}
			}
			if ((cmask | dmask) == 0xff) {
				cnt += 8;
				dm[j / 64] |= (uint64_t)dmask << (j % 64);
				todo[j / 64] |= (uint64_t)dmask << (j % 64);
				i += 7;
				continue;
			}
		}
		uint64_t pte = view[j];
		if (!pte)
			continue;
		uint64_t key = pte & km;
		if (key == kc) {
			cnt++;
			continue;
		}
		if ((pte & ~m->tmask) == m->tkey) {
			/* A table entry of the shape met before (a leaf's memo
			 * would learn nothing from it: its key holds the table's
			 * address bits below a leaf's). */
			harvest_entry(pt, h, table, level, base, view, pte, &i);
			continue;
		}
		int c = key == kd ? CLS_DIRTY : memo_find(m, key);
		if (c == CLS_CLEAN) {
			kc = key;
			cnt++;
			continue;
		}
		if (c == CLS_DIRTY) {
			kd = key;
			cnt++;
			dm[j / 64] |= 1ull << (j % 64);
			todo[j / 64] |= 1ull << (j % 64);
			continue;
		}
		if (c == CLS_NONE)
			continue;
		if (!c)
			memo_learn(pt, level, pte);
		/* Decoded the long way, as on the slow path. */
		harvest_entry(pt, h, table, level, base, view, pte, &i);
	}

	h->kc[level] = kc;
	h->kd[level] = kd;

	const unsigned f0 = fend & ~(FRAME_ENTRIES - 1);
	const uint64_t fbase = base + ((uint64_t)f0 << shift);
	unsigned first = FRAME_ENTRIES, last = 0;
	uint64_t nd = 0;
	if (wid) {
		/* When every dirty entry was in a block cleaned and widened
		 * during the scan (as at 10 % dirty), only the count and the
		 * gathered span are left: no pass over the mask below. */
		uint64_t other = 0;
		for (unsigned w = 0; w < FRAME_ENTRIES / 64; w++) {
			other |= todo[w] | (wid >> w & 1 ? 0 : dm[w]);
			nd += (uint64_t)__builtin_popcountll(dm[w]);
		}
		if (!other) {
			const unsigned w0 = (unsigned)__builtin_ctz(wid), w1 = 31 - (unsigned)__builtin_clz(wid);
			first = w0 * 64 + (unsigned)__builtin_ctzll(dm[w0]);
			last = w1 * 64 + 63 - (unsigned)__builtin_clzll(dm[w1]);
			h->entries += cnt;
			h->rmws += nd; /* widened blocks come only from the cleaning scan */
			if (clear)
				gather_add(h, fbase + ((uint64_t)first << shift),
					   fbase + ((uint64_t)(last + 1) << shift) - 1);
			return i;
		}
		nd = 0;
	}

	/* The marked entries: clean each, then record and gather them. */
	for (unsigned w = 0; w < FRAME_ENTRIES / 64; w++) {
		if (!dm[w])
			continue;
		if (first == FRAME_ENTRIES)
			first = w * 64 + (unsigned)__builtin_ctzll(dm[w]);
		last = w * 64 + 63 - (unsigned)__builtin_clzll(dm[w]);
	}
	if (first == FRAME_ENTRIES) {
		h->entries += cnt;
		return i;
	}
	for (unsigned w = first / 64; w <= last / 64; w++)
		nd += (uint64_t)__builtin_popcountll(dm[w]);
	if (clear && wview) {
		for (unsigned w = first / 64; w <= last / 64; w++) {
			uint64_t bits = todo[w], *q = wview + w * 64;
			if (bits == ~0ull) {
				/* A dirty entry always changes when cleaned. */
				for (unsigned k = 0; k < 64; k++)
					q[k] = (q[k] & ~cc) | cs;
				continue;
			}
			for (; bits; bits &= bits - 1) {
				unsigned k = (unsigned)__builtin_ctzll(bits);
				q[k] = (q[k] & ~cc) | cs;
			}
		}
	} else if (clear) {
		for (unsigned w = first / 64; w <= last / 64; w++)
			for (uint64_t bits = todo[w]; bits; bits &= bits - 1)
				clean_one(pt, h,
					  table + 8ull * (f0 + w * 64 + (unsigned)__builtin_ctzll(bits)));
	}
	h->entries += cnt;
	if (clear && wview)
		h->rmws += nd;
	if (!h->w->plain) {
		/* A seeded variant: each page recorded through the host. */
		for (unsigned w = first / 64; w <= last / 64; w++) {
			for (uint64_t bits = dm[w]; bits; bits &= bits - 1) {
				unsigned k = w * 64 + (unsigned)__builtin_ctzll(bits);
				uint64_t piova = fbase + ((uint64_t)k << shift);
				record_page(h, piova, shift);
				if (clear && !h->w->skip_flush)
					gather_add(h, piova, piova + ((1ull << shift) - 1));
			}
		}
		return i;
	}
	if (!bm || shift == bm->pgshift) {
		/* A page per bit: a page cut by the range still owns its whole bit,
		 * as with the plain recorder; the gathered range needs only the
		 * frame's first and last dirty page. */
		if (bm) {
			or_mask(bm, bm_bit(bm, fbase), dm);
		}
		if (clear)
			gather_add(h, fbase + ((uint64_t)first << shift),
				   fbase + ((uint64_t)(last + 1) << shift) - 1);
		return i;
	}
	uint64_t dlo = fbase + ((uint64_t)first << shift);
	uint64_t dhi = fbase + ((uint64_t)(last + 1) << shift) - 1;
	const bool inside = dlo >= h->first && dhi <= h->last && dlo >= bm->iova &&
			    dhi - bm->iova <= bm->length - 1;
	if (wid) {
		/* Blocks widened during the scan: gathered here, and only the
		 * other dirty pages recorded below (a subset of this span,
		 * still inside). */
		if (clear)
			gather_add(h, dlo, dhi);
		nd = 0;
		first = FRAME_ENTRIES;
		for (unsigned w = 0; w < FRAME_ENTRIES / 64; w++) {
			if (wid >> w & 1)
				dm[w] = 0;
			if (!dm[w])
				continue;
			nd += (uint64_t)__builtin_popcountll(dm[w]);
			if (first == FRAME_ENTRIES)
				first = w * 64 + (unsigned)__builtin_ctzll(dm[w]);
			last = w * 64 + 63 - (unsigned)__builtin_clzll(dm[w]);
		}
		if (first == FRAME_ENTRIES)
			return i;
		dlo = fbase + ((uint64_t)first << shift);
		dhi = fbase + ((uint64_t)(last + 1) << shift) - 1;
	}
	if (inside && shift >= bm->pgshift + 6 && !(bm_bit(bm, dlo) & 63)) {
		whole_word_pages(h, dm, first, last, shift, fbase);
		if (clear)
			gather_add(h, dlo, dhi);
		return i;
	}
	uint64_t runs = 0;
	for (unsigned w = first / 64, carry = 0; w <= last / 64; w++) {
		runs += (uint64_t)__builtin_popcountll(dm[w] & ~(dm[w] << 1 | carry));
		carry = (unsigned)(dm[w] >> 63);
	}
	if (runs * 2 > nd && shift > bm->pgshift && shift - bm->pgshift <= 6 && inside) {
		/* Short runs of pages of up to 64 bits (a 16K or 64K page over a
		 * 4 KiB bitmap), none cut by the range or the bitmap: each dirty
		 * page's bits are ORed in directly, the bits the plain recorder
		 * sets; long runs are cheaper as one record each, below. */
		const unsigned a = shift - bm->pgshift;
		const unsigned f = 1u << a;
		/* The frame may start before the bitmap; its dirty pages do not. */
		const int64_t b0 = bm_bit(bm, fbase);
		/* Widening writes every word from the first dirty page's to
		 * the last's; page by page, one or two words a dirty page:
		 * a few dirty pages are cheaper one by one. */
		const uint64_t span = (((uint64_t)(last - first) << a) >> 6) + 2;
		if (b0 >= 0 && !(b0 & 63) && nd * (pt_spread_wide(h->spread, a) ? 4 : 2) >= span) {
			/* The frame starts a bitmap word: the mask is widened a
			 * word at a time, with no branch per page (a word without
			 * a dirty page is skipped). Every word from the first
			 * dirty page's to the last's is in the bitmap. */
			h->spread(bm->words + ((uint64_t)b0 >> 6), dm, a, first, last);
		} else {
			const uint64_t ones = f == 64 ? ~0ull : (1ull << f) - 1;
			for (unsigned w = first / 64; w <= last / 64; w++) {
				for (uint64_t bits = dm[w]; bits; bits &= bits - 1) {
					uint64_t bit = (uint64_t)(b0 + (int64_t)(w * 64 + (unsigned)__builtin_ctzll(bits)) * f);
					unsigned off = (unsigned)(bit & 63);
					bm->words[bit >> 6] |= ones << off;
					if (off + f > 64)
						bm->words[(bit >> 6) + 1] |= ones >> (64 - off);
				}
			}
		}
		if (clear)
			gather_add(h, dlo, dhi);
		return i;
	}
	/* Run by run, not bit by bit. */
	unsigned run0 = first, run1 = first;
	for (unsigned w = first / 64; w <= last / 64; w++) {
		for (uint64_t bits = dm[w]; bits;) {
			unsigned len, j = w * 64 + next_run(&bits, &len);
			if (j != run1) {
				dirty_span(h, fbase + ((uint64_t)run0 << shift),
					   fbase + ((uint64_t)run1 << shift) - 1);
				run0 = j;
			}
			run1 = j + len;
		}
	}
	dirty_span(h, fbase + ((uint64_t)run0 << shift), fbase + ((uint64_t)run1 << shift) - 1);
	return i;
}

/* w0: the writable view of a one-frame table, already taken (NULL: none). */
IMS_HARVEST_PATH
static void harvest_walk(struct ims_pt *pt, struct harvest *h, uint64_t table, int level,
			 uint64_t base, uint64_t *w0)
{
	const struct pt_geom *g = &pt->g;
	unsigned shift = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	uint64_t span_last = base + (bits + shift >= 64 ? ~0ull - base : ((1ull << (bits + shift)) - 1));
	uint64_t lo = h->first > base ? h->first : base;
	uint64_t hi = h->last < span_last ? h->last : span_last;
	unsigned i = (unsigned)((lo - base) >> shift);
	unsigned iend = (unsigned)((hi - base) >> shift);
	/* One frame() per 4 KiB frame of the table (a 16K or 64K table spans
	 * several); entry loads are accounted in bulk. A level without single-
	 * entry leaves (no memo) decodes entry by entry from the frame. */
	struct pt_memo *m = h->fast && level < PT_MAX_LEVELS && pt->memo[level].keymask
				    ? &pt->memo[level]
				    : NULL;
	const bool want_w = wants_wview(pt, h, level);
	const uint64_t *pf_after = h->pf; /* the frame after this table's last */
	while (i <= iend) {
		unsigned fend = (i / FRAME_ENTRIES) * FRAME_ENTRIES + (FRAME_ENTRIES - 1);
		if (fend > iend)
			fend = iend;
		uint64_t fpa = table + 8ull * (i / FRAME_ENTRIES) * FRAME_ENTRIES;
		const uint64_t *view = pt_host.frame(h->d, fpa, 0);
		uint64_t *wview = w0;
		h->loads += fend - i + 1;
		if (want_w && !wview)
			wview = pt_host.frame(h->d, fpa, IMS_WALKER_FRAME_WRITE);
		if (m) {
			/* This table's next frame, or the table after it. */
			const uint64_t *pf = fend < iend ? pt_table_frame_w(pt, fpa + IMS_PAGE_SIZE) : pf_after;
			i = harvest_walk_frame(pt, h, table, level, base, view, wview, i, fend, pf);
			continue;
		}
		for (; i <= fend; i++) {
			uint64_t pte = view ? view[i % FRAME_ENTRIES] : sw_load(pt, table + 8ull * i);
			if (pte)
				harvest_entry(pt, h, table, level, base, view, pte, &i);
		}
	}
}

/* Classic bug 6, kept as the benchmark's peer: every page is looked up by
 * a walk from the root, as the older Linux AMD and Intel walkers did (an
 * absent entry skips its whole span, as theirs did). Each leaf run is then
 * handled exactly as the one-pass walker handles it. */
static void harvest_rewalk(struct ims_pt *pt, struct harvest *h)
{
	const struct pt_geom *g = &pt->g;
	uint64_t iova = h->first;
	/* Each step ends on an entry after the last step's: in a tree at most
	 * one step per entry the tables hold. Tables reachable twice (a corrupt
	 * table) would repeat them: the walk stops there. */
	uint64_t steps = pt->stats.table_pages * FRAME_ENTRIES;
	for (;; steps--) {
		if (!steps) {
			pt_finding(pt, "walker %s: corrupt page table: the walk took more steps than "
				   "the tables hold entries (a table reachable twice); stopped at iova "
				   "0x%llx", pt->walker->name, (unsigned long long)iova);
			break;
		}
		uint64_t table = pt->root, start = iova;
		unsigned span = 0;
		for (int level = g->top; level >= 0; level--) {
			unsigned shift = pt_level_shift(g, level);
			unsigned idx = level_index(g, level, iova);
			uint64_t slot = table + 8ull * idx;
			uint64_t pte = sw_load(pt, slot);
			struct pt_ent e;
			/* One path from the root per step: bounded by the levels, and
			 * the steps by the range, whatever the tables hold. */
			enum pt_kind k = pt_decode(pt, level, slot, pte, false, &e);
			if (k == PT_TABLE) {
				table = e.next;
				continue;
			}
			span = shift;
			if (k == PT_LEAF) {
				span = e.shift;
				start = span >= 64 ? 0 : iova & ~((1ull << span) - 1);
				harvest_run(pt, h, table, level, NULL, idx & ~(e.n - 1), e.n, start,
					    e.shift);
			} else {
				start = iova & ~((1ull << shift) - 1);
			}
			break;
		}
		uint64_t end = start + (span >= 64 ? ~0ull : (1ull << span) - 1);
		if (end >= h->last || end < start)
			break;
		iova = end + 1;
	}
}

/* read_and_clear_dirty of the fast walker and its seeded variants (walker
 * ABI): [iova, iova + size) was checked by the host (size 0: to 2^64). */
IMS_HARVEST_PATH
int pt_fast_rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
		struct ims_walker_dirty *dt)
{
	struct ims_pt *pt = pt_of(d);
	const struct pt_walker *w = pt->knobs;
	if (!w)
		return -EINVAL; /* only the built-in walkers carry knobs */
	if (w->ignore_no_clear)
		flags &= ~IMS_WALKER_NO_CLEAR;
	/* Not in h, whose initialiser would zero all of it on every call. */
	struct word_queue q;
	q.n = 0;
	struct harvest h = {.d = d, .dt = dt, .first = iova, .last = iova + (size - 1),
			    .flags = flags, .bm = dt->bm, .w = w, .q = &q};
	if (!size || h.last < iova)
		h.last = ~0ull;
	h.fast = !w->rewalk;
	h.left = pt_walk_budget(pt);
	h.classify = pt_classify64_pick();
	h.scan = pt_scan_clean64_pick();
	h.spread = pt_spread_pick();
	for (int l = 0; l < PT_MAX_LEVELS; l++)
		h.kc[l] = h.kd[l] = ~0ull;
	if (w->rewalk)
		harvest_rewalk(pt, &h);
	else
		harvest_walk(pt, &h, pt->root, pt->g.top, 0, NULL);
	queue_flush(&q);
	record_flush(&h);
	pt->stats.harvest_entries += h.entries;
	if (h.loads)
		pt_host.account(d, IMS_MEM_LOAD, h.loads);
	if (h.rmws)
		pt_host.account(d, IMS_MEM_RMW, h.rmws);
	if (h.gathered)
		pt_host.gather_add(dt, h.g_first, h.g_last - h.g_first + 1);
	return 0;
}
