/* The IOTLB and the device-side micro-TLBs: look-up and fill of the pages
 * they cache. They run on every translation, so they are inlined into the
 * translation path (model/translate.c, their one includer); their
 * invalidation is in model/inv.c.
 */
#ifndef IMS_MODEL_TLB_H
#define IMS_MODEL_TLB_H

#include "model/iommu_int.h"

static inline uint64_t tlb_hash(uint16_t tag, uint64_t vpn, unsigned shift)
{
	return (vpn ^ ((uint64_t)tag << 40) ^ ((uint64_t)shift << 56)) * 0x9e3779b97f4a7c15ull;
}

/* The cached page holding iova, or NULL. Inlined into the IOTLB path: on a
 * hit-heavy trace a call would cost as much as the lookup. A hit is
 * stamped whatever the policy (a test costs as much as the store). */
static inline __attribute__((always_inline)) struct tlb_ent *
tlb_lookup(struct ims_iommu *m, struct cache *c, uint16_t tag, uint64_t iova)
{
	for (uint64_t sm = c->shift_mask; sm; sm &= sm - 1) {
		unsigned shift = (unsigned)__builtin_ctzll(sm);
		uint64_t vpn = iova >> shift;
		uint32_t id = want_id(tag, shift);
		struct tlb_ent *e = cache_find(c, cache_set(c, tlb_hash(tag, vpn, shift)), vpn, id);
		if (e) {
			e->stamp = ++m->stamp;
			return e;
		}
	}
	return NULL;
}

/* Out of line: the micro-TLB is off by default, and a second inlined copy
 * would crowd the IOTLB path's registers. */
static __attribute__((noinline, unused)) struct tlb_ent *
utlb_lookup(struct ims_iommu *m, struct cache *c, uint16_t tag, uint64_t iova)
{
	return tlb_lookup(m, c, tag, iova);
}

/* Cache page [iova, +2^shift) -> pa and return the slot it filled;
 * *evicted: it evicted another page. `absent`: the caller knows no way holds
 * the page (a look-up just missed it), so only a victim is chosen. Inlined:
 * it runs on every walk, and passing its arguments would cost about as much
 * as its body. */
static inline __attribute__((always_inline)) struct tlb_ent *
tlb_fill_at(struct ims_iommu *m, struct cache *c, uint16_t tag, uint64_t iova, unsigned shift,
	    uint64_t pa, bool r, bool w, bool dirty, bool absent, bool *evicted)
{
	uint64_t vpn = iova >> shift;
	struct tlb_ent *set = cache_set(c, tlb_hash(tag, vpn, shift));
	struct tlb_ent *slot = NULL, *empty = NULL;
	for (unsigned i = 0; i < c->ways && !absent; i++) {
		struct tlb_ent *e = &set[i];
		if (!e->valid) {
			if (!empty)
				empty = e;
		} else if (e->key == vpn && e->tag == tag && e->shift == shift) {
			slot = e; /* refresh in place */
			break;
		}
	}
	bool same = slot != NULL;
	if (!slot)
		slot = empty ? empty : cache_victim(c, set);
	struct tlb_ent v = {.key = vpn, .out = pa, .stamp = ++m->stamp, .tag = tag,
			    .shift = (uint8_t)shift, .valid = true, .r = r, .w = w, .dirty = dirty};
	*evicted = cache_put(c, slot, &v, same);
	return slot;
}

/* tlb_fill_at without the slot: true when it evicted another page. */
static inline __attribute__((always_inline)) bool
tlb_fill(struct ims_iommu *m, struct cache *c, uint16_t tag, uint64_t iova, unsigned shift,
	 uint64_t pa, bool r, bool w, bool dirty, bool absent)
{
	bool evicted;
	tlb_fill_at(m, c, tag, iova, shift, pa, r, w, dirty, absent, &evicted);
	return evicted;
}

static inline __attribute__((always_inline)) void iotlb_fill(struct ims_iommu *m, uint16_t tag, uint64_t iova, unsigned shift,
			      uint64_t pa, bool r, bool w, bool dirty)
{
	if (tlb_fill(m, &m->tlb, tag, iova, shift, pa, r, w, dirty, m->tlb_missed))
		m->n.iotlb_evictions++;
	m->n.iotlb_fills++;
}

/* Out of line, as utlb_lookup. */
static __attribute__((noinline, unused)) void
utlb_fill(struct ims_iommu *m, struct cache *ut, uint16_t tag, uint64_t iova, unsigned shift,
	  uint64_t pa, bool r, bool w, bool dirty)
{
	if (tlb_fill(m, ut, tag, iova, shift, pa, r, w, dirty, false))
		m->n.utlb_evictions++;
	m->n.utlb_fills++;
}

#endif
