/* The walk caches: one per level, each caching the table at its level for
 * the IOVAs of one entry of the level above, so that a walk starts from the
 * deepest hit. Look-up and fill run inside every walk, so they are inlined
 * into it (model/translate.c; model/nested.c for a nested context's stage-1
 * walk, under the nested tag); their invalidation is in model/inv.c.
 */
#ifndef IMS_MODEL_WALKCACHE_H
#define IMS_MODEL_WALKCACHE_H

#include "model/iommu_int.h"

static inline struct tlb_ent *wc_set(const struct cache *wc, uint16_t tag, uint64_t key)
{
	return cache_set(wc, (key ^ ((uint64_t)tag << 44)) * 0x9e3779b97f4a7c15ull);
}

static inline bool wc_lookup(struct ims_iommu *m, const struct hw_ctx *c, int level,
			     uint64_t iova, uint64_t *table, bool *r, bool *w)
{
	struct cache *wc = &m->wc[level];
	uint64_t key = iova >> c->ix_shift[level + 1];
	struct tlb_ent *set = wc_set(wc, c->tag, key);
	/* A walk-cache entry's shift is 0. */
	struct tlb_ent *e = cache_find(wc, set, key, want_id(c->tag, 0));
	if (!e)
		return false;
	if (wc->pol == IMS_REPL_LRU)
		e->stamp = ++m->stamp;
	*table = e->out;
	*r = e->r;
	*w = e->w;
	return true;
}

/* Only walk() fills, and only the levels below the one it started at:
 * each was probed on this walk and missed (the probes go deepest first and
 * stop at a hit), so the key is absent and no way needs searching for it. */
static inline __attribute__((always_inline)) void wc_fill(struct ims_iommu *m, const struct hw_ctx *c, int level, uint64_t iova,
			   uint64_t table, bool r, bool w)
{
	struct cache *wc = &m->wc[level];
	if (!wc->sets)
		return;
	uint64_t key = iova >> c->ix_shift[level + 1];
	struct tlb_ent *slot = cache_victim(wc, wc_set(wc, c->tag, key));
	struct tlb_ent v = {.key = key, .out = table, .stamp = ++m->stamp, .tag = c->tag,
			    .valid = true, .r = r, .w = w};
	cache_put(wc, slot, &v, false);
}

#endif
