/* Invalidation: of ranges, domains and everything, reaching the IOTLB, the
 * micro-TLBs and the walk caches (native commands arrive through
 * model/submit.c), with the rules of nested and parent tags (docs/nested.md).
 */
#include <errno.h>
#include <string.h>

#include "model/iommu_int.h"
#include "model/hot_path.h"

static bool overlaps(uint64_t a, uint64_t alen_shift_end, uint64_t b, uint64_t bend)
{
	/* [a, alen_shift_end] and [b, bend] are inclusive ranges. */
	return a <= bend && b <= alen_shift_end;
}

/* Drop the TLB entries that match; returns how many. Only valid entries
 * are visited (the live list), from the end so that a drop, which moves the
 * last live entry into the hole, never skips one. */
IMS_HARVEST_PATH
static uint64_t tlb_inv(struct cache *c, bool all, uint16_t tag, bool ranged, uint64_t first,
			uint64_t last)
{
	uint64_t dropped = 0;
	for (uint32_t i = c->nlive; i-- > 0;) {
		struct tlb_ent *e = &c->e[c->live[i]];
		if (!all && e->tag != tag)
			continue;
		if (ranged) {
			uint64_t s = e->key << e->shift;
			uint64_t end = s + ((1ull << e->shift) - 1);
			if (!overlaps(s, end, first, last))
				continue;
		}
		cache_drop(c, e);
		dropped++;
	}
	return dropped;
}

void iommu_utlb_inv(struct ims_iommu *m, struct cache *ut, bool all, uint16_t tag, bool ranged,
		    uint64_t first, uint64_t last)
{
	m->n.utlb_inv_entries += tlb_inv(ut, all, tag, ranged, first, last);
}

IMS_HARVEST_PATH
void iommu_inv_match(struct ims_iommu *m, bool all, uint16_t tag, bool ranged, uint64_t first,
		     uint64_t last, bool leaf_only)
{
	if (m->tlb.sets)
		m->n.inv_entries += tlb_inv(&m->tlb, all, tag, ranged, first, last);
	/* A device-side micro-TLB caches leaves only: every kind reaches it. */
	if (m->cfg.utlb_enable)
		for (size_t i = 0; i < m->ndev_cap; i++)
			if (m->devs[i].used && m->devs[i].ut)
				iommu_utlb_inv(m, m->devs[i].ut, all, tag, ranged, first, last);
	if (leaf_only || !m->wc_any)
		return;
	for (int l = 0; l < MAX_LEVELS; l++) {
		struct cache *wc = &m->wc[l];
		for (uint32_t i = wc->nlive; i-- > 0;) {
			struct tlb_ent *e = &wc->e[wc->live[i]];
			if (!all && e->tag != tag)
				continue;
			if (ranged && m->ctx[e->tag] && m->ctx[e->tag]->hw_valid) {
				unsigned sh = hw_level_shift(&m->ctx[e->tag]->hw, l + 1);
				uint64_t s = sh >= 64 ? 0 : e->key << sh;
				uint64_t end = sh >= 64 ? ~0ull : s + ((1ull << sh) - 1);
				if (!overlaps(s, end, first, last))
					continue;
			}
			cache_drop(wc, e);
			m->n.inv_entries++;
		}
	}
}

/* Drop the combined entries of nested tag `tag` (any nested tag whose
 * parent is `parent`, when tag_is_parent) whose IPA range meets
 * [first, last] (all when !ranged). */
static void drop_combined(struct ims_iommu *m, uint16_t tag, bool tag_is_parent, bool ranged,
			  uint64_t first, uint64_t last)
{
	struct cache *c = &m->tlb;
	if (!c->sets || !m->nest)
		return;
	for (uint32_t i = c->nlive; i-- > 0;) {
		struct tlb_ent *e = &c->e[c->live[i]];
		const struct ctx_slot *s = m->ctx[e->tag];
		if (!s || !s->nested)
			continue;
		if (tag_is_parent ? s->parent != tag : e->tag != tag)
			continue;
		if (ranged) {
			uint64_t a = m->nest[c->live[i]].ipa;
			uint64_t b = a + (e->shift >= 64 ? ~0ull : (1ull << e->shift) - 1);
			if (a > last || b < first)
				continue;
		}
		cache_drop(c, e);
		m->n.inv_entries++;
	}
}

static bool nest_inv(struct ims_iommu *m, uint16_t tag, enum hw_stage stage, bool ranged,
		     uint64_t first, uint64_t last, bool leaf_only)
{
	const struct ctx_slot *s = m->ctx[tag];
	if (!s)
		return false;
	if (s->nested) {
		/* A stage-1 command (or the API's) names input addresses: the
		 * plain rule drops the tag's combined entries by IOVA. */
		if (stage != HW_STAGE_2)
			return false;
		/* A stage-2 command naming the nested context's own tag (VT-d
		 * IOTLB descriptor with its DID, AMD GN = 0 with its DomainID)
		 * names GPAs: its combined entries built on them, and the
		 * stage-2 entries its walks use (kept under the parent's tag). */
		drop_combined(m, tag, false, ranged, first, last);
		iommu_inv_match(m, false, s->parent, ranged, first, last, leaf_only);
		/* Its stage-1 walk-cache entries hold IPAs, which a stage-2
		 * range leaves meaning what they did; a whole-domain command
		 * (VT-d domain-selective IOTLB, 6.5.2.3: all of the DID's
		 * mappings and paging-structure caches) drops them too. */
		if (!ranged)
			iommu_inv_match(m, false, tag, false, 0, 0, false);
		return true;
	}
	if (!s->users || stage == HW_STAGE_1)
		return false;
	/* The parent: its own entries, and its nested contexts' combined
	 * entries, all of them for a whole-domain command (SMMU
	 * CMD_TLBI_S12_VMALL), those the range meets where the format says
	 * a range reaches them (hw_fmt.nest_range_combined). */
	iommu_inv_match(m, false, tag, ranged, first, last, leaf_only);
	const struct fmt_desc *fd = fmt_get(s->fmt);
	if (!ranged || (fd && fd->hw && fd->hw->nest_range_combined))
		drop_combined(m, tag, true, ranged, first, last);
	return true;
}

/* An invalidation of one tag: a nested or parent tag as nest_inv says
 * (docs/nested.md), any other as it always was. */
IMS_HARVEST_PATH
void iommu_inv_stage(struct ims_iommu *m, uint16_t tag, enum hw_stage stage, bool ranged,
		     uint64_t first, uint64_t last, bool leaf_only)
{
	if (m->nnested && nest_inv(m, tag, stage, ranged, first, last, leaf_only))
		return;
	iommu_inv_match(m, false, tag, ranged, first, last, leaf_only);
}

void ims_iommu_inv_range(struct ims_iommu *m, uint16_t tag, uint64_t iova, uint64_t size,
			 unsigned flags)
{
	m->n.inv_range++;
	m->n.inv_cycles += m->cfg.lat.inv_range;
	if (!size)
		return;
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	iommu_inv_stage(m, tag, HW_STAGE_ANY, true, iova, last, flags & IMS_INV_LEAF);
}

void ims_iommu_inv_domain(struct ims_iommu *m, uint16_t tag)
{
	m->n.inv_domain++;
	m->n.inv_cycles += m->cfg.lat.inv_domain;
	iommu_inv_stage(m, tag, HW_STAGE_ANY, false, 0, 0, false);
}

void ims_iommu_inv_all(struct ims_iommu *m)
{
	m->n.inv_all++;
	m->n.inv_cycles += m->cfg.lat.inv_all;
	iommu_inv_match(m, true, 0, false, 0, 0, false);
}
