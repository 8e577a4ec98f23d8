/* A set-associative cache of translation entries: the IOTLB, the device-side
 * micro-TLBs and each walk-cache level share this core.
 *
 * The caller computes the set from its own hash (cache_set) and compares
 * its own key; the core picks victims by policy and keeps a list of the
 * valid entries so that an invalidation visits only those, not every way
 * of a 2048-entry array.
 */
#ifndef IMS_MODEL_CACHE_H
#define IMS_MODEL_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"

/* An IOTLB / micro-TLB entry caches a whole page (leaf, replica run or
 * contiguous group): key = iova >> shift, out = output address, dirty = a
 * write through it needs no memory update. A walk-cache entry caches the
 * table at its level for IOVAs sharing key = iova >> (shift of the level
 * above); out = the table; shift and dirty are unused. */
struct tlb_ent {
	uint64_t key;
	uint64_t out;
	uint64_t stamp; /* last use (LRU) */
	uint16_t tag;
	uint8_t shift;
	bool valid, r, w;
	bool dirty;
};

/* tag, shift and valid sit next to each other: a look-up compares them as
 * one 32-bit word (ent_id) with what it wants (want_id), a compare instead
 * of three. */
_Static_assert(offsetof(struct tlb_ent, shift) == offsetof(struct tlb_ent, tag) + 2 &&
		       offsetof(struct tlb_ent, valid) == offsetof(struct tlb_ent, tag) + 3 &&
		       sizeof(bool) == 1,
	       "tlb_ent: tag, shift and valid must make one 32-bit word");

static inline uint32_t ent_id(const struct tlb_ent *e)
{
	uint32_t v;
	memcpy(&v, &e->tag, sizeof(v));
	return v;
}

/* The word ent_id reads from a valid entry of this tag and shift (bytes
 * tag, shift, valid in memory order). */
static inline uint32_t want_id(uint16_t tag, unsigned shift)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t)tag | (uint32_t)(shift & 0xff) << 16 | 1u << 24;
#else
	return (uint32_t)tag << 16 | (uint32_t)(shift & 0xff) << 8 | 1u;
#endif
}

struct cache {
	struct tlb_ent *e;
	unsigned sets, ways;
	unsigned set_mask;  /* sets - 1 */
	bool pow2;          /* sets is a power of two */
	enum ims_repl_policy pol;
	unsigned latency;
	uint32_t *rr;       /* round robin: next victim way of each set */
	uint32_t *live;     /* indices of the valid entries, in no order */
	uint32_t *pos;      /* pos[i]: where entry i sits in live[] */
	uint32_t nlive;
	uint64_t rng;
	/* TLBs only: valid entries per page shift, and the shifts that have any,
	 * so that a lookup probes only the page sizes present. */
	uint64_t shift_mask;
	uint32_t shift_live[64];
};

static inline void cache_fini(struct cache *c)
{
	free(c->e);
	free(c->rr);
	free(c->live);
	free(c->pos);
	c->e = NULL;
	c->rr = c->live = c->pos = NULL;
	c->sets = c->ways = 0;
	c->nlive = 0;
}

/* entries == 0 leaves the cache off (sets == 0). ways == 0 means fully
 * associative; ways > entries is clamped. The set count need not be a
 * power of two (gem5's 348-entry 4-way walk cache has 87 sets). */
static inline int cache_init(struct cache *c, unsigned entries, unsigned ways,
			     enum ims_repl_policy pol, unsigned latency, uint64_t seed)
{
	c->pol = pol;
	c->latency = latency;
	c->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	if (!entries)
		return 0;
	if (!ways || ways > entries)
		ways = entries;
	c->ways = ways;
	c->sets = entries / ways;
	c->set_mask = c->sets - 1;
	c->pow2 = !(c->sets & (c->sets - 1));
	size_t n = (size_t)c->sets * ways;
	c->e = calloc(n, sizeof(*c->e));
	c->live = malloc(n * sizeof(*c->live));
	c->pos = malloc(n * sizeof(*c->pos));
	c->rr = pol == IMS_REPL_ROUND_ROBIN ? calloc(c->sets, sizeof(*c->rr)) : NULL;
	if (!c->e || !c->live || !c->pos || (pol == IMS_REPL_ROUND_ROBIN && !c->rr)) {
		cache_fini(c);
		return -1;
	}
	return 0;
}

/* The first way of the set that hash h selects. With a power-of-two set
 * count this is the mapping iommusim has always used, so the IOTLB's
 * conflicts (and every counter) stay what they were. */
static __attribute__((noinline, unused)) struct tlb_ent *cache_set_any(const struct cache *c,
									 uint64_t h)
{
	return &c->e[(size_t)(((h >> 32) * c->sets) >> 32) * c->ways];
}

static inline struct tlb_ent *cache_set(const struct cache *c, uint64_t h)
{
	if (__builtin_expect(!c->pow2, 0))
		return cache_set_any(c, h);
	return &c->e[(size_t)((unsigned)(h >> 40) & c->set_mask) * c->ways];
}

/* xorshift64*: deterministic per seed, no global state (the caches' random
 * replacement and the model's replica choices each keep their own). */
static inline uint64_t xorshift64s(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Per cache, so a random policy never perturbs the model's replica
 * choices. */
static inline uint64_t cache_rng(struct cache *c) { return xorshift64s(&c->rng); }

/* The way of `set` holding key with identity id (want_id), or NULL. Four
 * ways (the default of every cache) are searched unrolled. */
static inline struct tlb_ent *cache_find(const struct cache *c, struct tlb_ent *set, uint64_t key,
					 uint32_t id)
{
	if (c->ways == 4) {
		for (unsigned w = 0; w < 4; w++)
			if (set[w].key == key && ent_id(&set[w]) == id)
				return &set[w];
		return NULL;
	}
	for (unsigned w = 0; w < c->ways; w++)
		if (set[w].key == key && ent_id(&set[w]) == id)
			return &set[w];
	return NULL;
}

/* The policy's victim in a set whose ways are all valid, for the
 * policies that keep no stamps: round robin, random. */
static __attribute__((noinline, unused)) struct tlb_ent *cache_victim_policy(struct cache *c,
									   struct tlb_ent *set)
{
	if (c->pol == IMS_REPL_ROUND_ROBIN) {
		uint32_t *next = &c->rr[(size_t)(set - c->e) / c->ways];
		struct tlb_ent *v = &set[*next];
		*next = *next + 1 == c->ways ? 0 : *next + 1;
		return v;
	}
	return &set[cache_rng(c) % c->ways];
}

/* The way to fill in `set` when no way holds the key: the first invalid
 * way, else the policy's choice. An invalid way has stamp 0 and a valid
 * one a later stamp (every fill takes a new one), so the first way of
 * least stamp is the first invalid way when there is one: one scan finds
 * both. Selects, not jumps (gcc emits cmov): which way is oldest is as good
 * as random to a branch predictor, and a wrong guess costs more than the
 * scan. (Unrolled for four ways it ran fewer instructions but measured
 * slower on walk-heavy replays: left a loop.) */
static inline __attribute__((always_inline)) struct tlb_ent *cache_victim(struct cache *c,
										   struct tlb_ent *set)
{
	unsigned best = 0;
	uint64_t low = set[0].stamp;
	for (unsigned w = 1; w < c->ways; w++) {
		uint64_t s = set[w].stamp;
		bool older = s < low;
		best = older ? w : best;
		low = older ? s : low;
	}
	struct tlb_ent *lru = &set[best];
	/* LRU (the default) first: one test on a walk's every fill. */
	if (c->pol == IMS_REPL_LRU || !lru->valid)
		return lru;
	return cache_victim_policy(c, set);
}

/* Book-keeping for an entry that becomes valid (it was not). */
static inline void cache_track(struct cache *c, struct tlb_ent *e)
{
	uint32_t i = (uint32_t)(e - c->e);
	c->pos[i] = c->nlive;
	c->live[c->nlive++] = i;
	c->shift_live[e->shift]++;
	c->shift_mask |= 1ull << e->shift;
}

/* An entry leaves (invalidated, or evicted before reuse with another shift). */
static inline void cache_untrack_shift(struct cache *c, const struct tlb_ent *e)
{
	if (--c->shift_live[e->shift] == 0)
		c->shift_mask &= ~(1ull << e->shift);
}

static inline void cache_drop(struct cache *c, struct tlb_ent *e)
{
	uint32_t i = (uint32_t)(e - c->e);
	uint32_t p = c->pos[i];
	uint32_t last = c->live[--c->nlive];
	c->live[p] = last;
	c->pos[last] = p;
	cache_untrack_shift(c, e);
	e->valid = false;
	e->stamp = 0; /* what cache_victim takes an invalid way by */
}

/* Write entry v (valid) into way `slot`, keeping the live list. Returns
 * true when a valid entry with another key was evicted. */
static inline bool cache_put(struct cache *c, struct tlb_ent *slot, const struct tlb_ent *v,
			     bool same_key)
{
	bool evicted = false;
	if (slot->valid) {
		evicted = !same_key;
		if (slot->shift != v->shift) {
			cache_untrack_shift(c, slot);
			c->shift_live[v->shift]++;
			c->shift_mask |= 1ull << v->shift;
		}
		*slot = *v;
	} else {
		*slot = *v;
		cache_track(c, slot);
	}
	return evicted;
}

#endif
