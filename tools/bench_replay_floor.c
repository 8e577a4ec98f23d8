/* iommusim bench: the replay figures' floors (docs/benchmarks.md, "Replay"),
 * each timed beside its figure on the same pages (tools/bench_replay.c):
 *
 * - hit-heavy: one look-up per page in a flat direct-mapped table of 2048
 *   entries;
 * - walk-heavy: one load per page of its leaf entry from a flat array as
 *   large as the leaf tables, and the walk floor (replay_floor_walk), the
 *   work a walk must do for each page and nothing else.
 *
 * The caches of the walk floor are written here, not taken from
 * model/cache.h: a floor must not share code with what it bounds.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "tools/bench.h"

struct tlbfloor {
	uint64_t key, val;
};

double replay_floor_hit(const struct replay_seq *s)
{
	static const unsigned n = 2048;
	struct tlbfloor *t = calloc(n, sizeof(*t));
	if (!t)
		return 0;
	for (unsigned i = 0; i < n; i++)
		t[i].key = i;
	uint64_t acc = 0;
	double t0 = now_seconds();
	for (size_t i = 0; i < s->n; i++) {
		uint64_t vpn = s->iova[i] >> 12;
		const struct tlbfloor *e = &t[(vpn * 0x9e3779b97f4a7c15ull) >> 53];
		acc += e->key == vpn ? e->val : 1;
	}
	double t1 = now_seconds();
	volatile uint64_t sink = acc;
	(void)sink;
	free(t);
	return t1 - t0;
}

double replay_floor_leaf(const struct replay_seq *s, uint64_t span, struct floor_buf *fb)
{
	uint64_t words = span >> 12;
	if (floor_seq_read(fb, words) == 0 && words)
		return 0; /* grows fb to the leaf tables' size */
	uint64_t acc = 0;
	double t0 = now_seconds();
	for (size_t i = 0; i < s->n; i++)
		acc += fb->w[s->iova[i] >> 12];
	double t1 = now_seconds();
	volatile uint64_t sink = acc;
	(void)sink;
	return t1 - t0;
}

/* The walk floor, over caches of the model's default geometry
 * (ims_iommu_cfg_default: a 2048-entry 4-way LRU IOTLB; walk caches of 64
 * entries, 4-way LRU, here for the tables of 2 MiB and 1 GiB regions) with
 * entries of the model's 32 bytes. Per page: probe the IOTLB; on a miss
 * probe the walk cache of the leaf table's 2 MiB region, and when it misses
 * the one of its 1 GiB region (reading the top entry and filling that cache
 * when it misses too), read the region's entry and fill the first; read the
 * leaf entry and set its A bit (and D on a write) when not set; on a write
 * set the page's bit in a bitmap of the span's pages (the oracle's record);
 * fill the IOTLB, the entry dirty when the write or the leaf made it so. The
 * leaf entry is prefetched four pages ahead through its region's entry and
 * the bitmap word with it, as the model's hint does. What it leaves out is
 * what the model keeps beside that work: counters, cycle charges and their
 * histogram, fault and permission checks, the formats' rules, the cache
 * entries' identities and live lists, an oracle that holds any span. */
struct wf_ent {
	uint64_t key, out, stamp;
	uint32_t id; /* 0: invalid */
	uint32_t dirty;
};

static inline struct wf_ent *wf_set(struct wf_ent *c, uint64_t key, unsigned set_bits)
{
	return &c[((key * 0x9e3779b97f4a7c15ull) >> (64 - set_bits)) * 4];
}

static inline struct wf_ent *wf_find(struct wf_ent *set, uint64_t key, uint64_t *clock)
{
	for (unsigned w = 0; w < 4; w++)
		if (set[w].id && set[w].key == key) {
			set[w].stamp = ++*clock;
			return &set[w];
		}
	return NULL;
}

static inline void wf_fill(struct wf_ent *set, uint64_t key, uint64_t out, bool dirty,
			   uint64_t *clock)
{
	unsigned v = 0;
	for (unsigned w = 1; w < 4; w++)
		v = set[w].stamp < set[v].stamp ? w : v;
	set[v] = (struct wf_ent){.key = key, .out = out, .stamp = ++*clock, .id = 1, .dirty = dirty};
}

#define WF_A (1ull << 5)
#define WF_D (1ull << 6)

double replay_floor_walk(const struct replay_seq *s, uint64_t span, struct floor_buf *fb)
{
	/* fb: the leaf entries, grown by replay_floor_leaf, run just before. */
	uint64_t words = span >> 12, n1 = (span + (1ull << 30) - 1) >> 30;
	if (fb->n < words && floor_seq_read(fb, words) == 0)
		return 0;
	struct wf_ent *tlb = calloc(2048, sizeof(*tlb)), *wc1 = calloc(64, sizeof(*wc1)),
		      *wc2 = calloc(64, sizeof(*wc2));
	/* The level-1 tables (a 2 MiB region's entry each, 512 a table) and
	 * the top table above them (a 1 GiB region's entry each). */
	uint64_t *l1 = calloc(n1 * 512, sizeof(*l1)), *top = malloc(n1 * sizeof(*top));
	size_t nbits = (size_t)(words / 64 + 1);
	uint64_t *bits = malloc(nbits * sizeof(*bits));
	double t = 0;
	if (tlb && wc1 && wc2 && l1 && top && bits) {
		memset(bits, 0, nbits * sizeof(*bits)); /* touched before the timing */
		for (uint64_t r = 0; r < (words + 511) / 512; r++)
			l1[r] = (uint64_t)(uintptr_t)(fb->w + 512 * r) | 1;
		for (uint64_t g = 0; g < n1; g++)
			top[g] = (uint64_t)(uintptr_t)(l1 + 512 * g) | 1;
		uint64_t clock = 0, acc = 0;
		const unsigned ahead = 4;
		double t0 = now_seconds();
		for (size_t i = 0; i < s->n; i++) {
			if (i + ahead < s->n) {
				uint64_t pn = s->iova[i + ahead] >> 12;
				const uint64_t *lt = (const uint64_t *)(uintptr_t)(l1[pn >> 9] & ~1ull);
				__builtin_prefetch(lt + (pn & 511), 1);
				if (s->dir[i + ahead] & IMS_ACC_W)
					__builtin_prefetch(&bits[pn / 64], 1);
			}
			uint64_t iova = s->iova[i], pn = iova >> 12;
			bool w = (s->dir[i] & IMS_ACC_W) != 0;
			struct wf_ent *set = wf_set(tlb, pn, 9), *e = wf_find(set, pn, &clock);
			if (e && (!w || e->dirty)) {
				if (w)
					bits[pn / 64] |= 1ull << (pn % 64);
				acc += e->out;
				continue;
			}
			const uint64_t *tbl;
			const struct wf_ent *r = wf_find(wf_set(wc1, iova >> 21, 4), iova >> 21, &clock);
			if (r) {
				tbl = (const uint64_t *)(uintptr_t)r->out;
			} else {
				const struct wf_ent *g = wf_find(wf_set(wc2, iova >> 30, 4), iova >> 30, &clock);
				const uint64_t *t1;
				if (g) {
					t1 = (const uint64_t *)(uintptr_t)g->out;
				} else {
					t1 = (const uint64_t *)(uintptr_t)(top[iova >> 30] & ~1ull);
					wf_fill(wf_set(wc2, iova >> 30, 4), iova >> 30, (uint64_t)(uintptr_t)t1,
						false, &clock);
				}
				tbl = (const uint64_t *)(uintptr_t)(t1[(iova >> 21) & 511] & ~1ull);
				wf_fill(wf_set(wc1, iova >> 21, 4), iova >> 21, (uint64_t)(uintptr_t)tbl,
					false, &clock);
			}
			uint64_t *pte = (uint64_t *)tbl + (pn & 511), v = *pte;
			uint64_t ad = WF_A | (w ? WF_D : 0);
			if ((v & ad) != ad)
				*pte = v |= ad;
			if (w)
				bits[pn / 64] |= 1ull << (pn % 64);
			bool dirty = (v & WF_D) != 0;
			if (e) /* cached clean, now written: the entry is refilled in place */
				*e = (struct wf_ent){.key = pn, .out = v & ~0xfffull, .stamp = ++clock,
						     .id = 1, .dirty = dirty};
			else
				wf_fill(set, pn, v & ~0xfffull, dirty, &clock);
		}
		t = now_seconds() - t0;
		volatile uint64_t sink = acc + clock + bits[(s->n ? s->iova[0] >> 12 : 0) / 64];
		(void)sink;
	}
	free(tlb);
	free(wc1);
	free(wc2);
	free(l1);
	free(top);
	free(bits);
	return t;
}
