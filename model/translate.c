/* The generic translation engine: a DMA's pages, one access each, and the
 * walk hint that runs ahead of them.
 *
 * micro-TLB (device side) -> link -> IOTLB lookup -> walk (from the deepest
 * walk-cache hit) -> permission check -> atomic A/D update -> success or a
 * queued fault. The format supplies the per-level rules (formats/hwfmt.h);
 * this file knows no descriptor bit. Every translation is given a cycle
 * count from the latencies of cfg.lat (docs/timing.md).
 *
 * Everything an access runs is in this file or inlined from model/tlb.h,
 * model/walkcache.h and model/iommu_int.h: the steps inline into each other,
 * and a call between files would cost a hit-heavy trace a call per page.
 */
#include <errno.h>
#include <string.h>

#include "model/iommu_int.h"
#include "model/tlb.h"
#include "model/walkcache.h"
#include "model/mem_view.h"
#include "model/prefetch.h"
#include "model/dma_path.h"
#include "model/oracle_memo.h"

/* level: the table level whose entry faulted; -1 before any was read. */
static int fault(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova,
		 unsigned acc, enum ims_fault_kind kind, uint32_t code, int level, struct ims_xlate *out)
{
	if (m->probing || m->quiet) {
		out->fault = kind;
		out->code = code;
		m->quiet_level = level;
		return (int)kind;
	}
	struct ims_fault f = {.dev = dev, .iova = iova, .kind = kind, .code = code,
			      .write = (acc & IMS_ACC_W) != 0, .has_level = level >= 0,
			      .level = level >= 0 ? (uint8_t)level : 0};
	if (c) {
		f.dom = c->tag;
		f.has_dom = true;
		f.fmt = c->ops->fmt;
	}
	fault_push(m, &f);
	out->fault = kind;
	out->code = code;
	return (int)kind;
}

/* A walk's read of a table entry. A hardware load runs no hook and no race
 * check (mem.h), so a frame view reads what ims_mem_load would; the loads
 * are added to the memory's counter in one step when the walk ends
 * (walk_done), which saves a call per entry on every walk. */
static inline uint64_t hw_load(struct ims_iommu *m, uint64_t pa)
{
	m->hw_loads++;
	const uint64_t *f = mem_frame_at(m->mem, m->pool, pa);
	return f ? f[(pa >> 3) % 512] : 0;
}

static void walk_done(struct ims_iommu *m)
{
	*m->hw_load_count += m->hw_loads;
	m->hw_loads = 0;
}

/* Apply the A/D update u for an access through the leaf run [first, first+n)
 * of a table, the walk having read entry `covering`, whose value was cval.
 * Returns the covering entry's value after the update: the hardware knows
 * what it wrote and need not read it back. */
static inline __attribute__((always_inline)) uint64_t
apply_update(struct ims_iommu *m, const struct hw_ctx *c, int level, const struct hw_ent *leaf,
	     uint64_t first, unsigned n, uint64_t covering, uint64_t cval, struct hw_upd *u)
{
	if (n > 1 && c->ops->group_skip_if_any && ((u->a_set | u->a_clear) || (u->d_set | u->d_clear))) {
		/* D8.5.5: an update another entry of the group records is skipped. */
		bool any_a = false, any_d = false;
		for (unsigned i = 0; i < n; i++) {
			uint64_t v = hw_load(m, first + 8ull * i);
			m->n.pte_reads++;
			any_a |= c->ops->is_accessed(c, v);
			any_d |= c->ops->is_dirty(c, v);
		}
		if (any_a)
			u->a_set = u->a_clear = 0;
		if (any_d)
			u->d_set = u->d_clear = 0;
	}
	uint64_t clear = u->a_clear | u->d_clear, set = u->a_set | u->d_set;
	if (!clear && !set)
		return cval;
	uint64_t target = covering;
	if (n > 1) {
		switch (m->cfg.replica) {
		case IMS_REPLICA_FIRST:
			target = first;
			break;
		case IMS_REPLICA_RANDOM:
			target = first + 8 * (iommu_rng(m) % n);
			break;
		default:
			break;
		}
	}
	/* Interlocked RMW: only a word that would change is written. The
	 * covering entry still holds cval: nothing runs between the walk's
	 * read and this one (hooks and races watch software only), so its
	 * read is counted, not repeated. */
	uint64_t old;
	m->n.pte_reads++;
	if (target == covering) {
		old = cval;
		m->hw_loads++;
	} else {
		old = hw_load(m, target);
		/* The chosen entry must still be a member of the same page (software
		 * may be clearing the run entry by entry): otherwise hardware updates
		 * the entry it walked through, never a cleared or foreign slot. */
		struct hw_ent e;
		memset(&e, 0, sizeof(e));
		c->ops->decode(c, level, old, IMS_ACC_R, &e);
		if (e.kind != HWE_LEAF || e.page_shift != leaf->page_shift || e.addr != leaf->addr) {
			target = covering;
			old = hw_load(m, target);
			m->n.pte_reads++;
		}
	}
	uint64_t val = (old & ~clear) | set;
	if (val == old)
		return cval;
	ims_mem_rmw(m->mem, IMS_AGENT_HW, target, clear, set);
	m->n.ad_writes++;
	if (u->d_set | u->d_clear)
		m->n.dirty_sets++;
	if ((old ^ val) & (u->a_set | u->a_clear))
		u->a_done = true;
	return target == covering ? val : cval;
}

/* The first byte of the 2^shift-byte page holding iova (shift 64: the
 * whole space). */
static inline uint64_t page_base(uint64_t iova, unsigned shift)
{
	return shift >= 64 ? 0 : iova & ~((1ull << shift) - 1);
}

/* The entries of the leaf a walk met at `level`, index idx of `table`: a
 * page larger than the level's entries is a run of them (AMD replicas, an
 * Arm contiguous group), aligned to its length. Returns their number and
 * the first one's address in *first. */
static inline unsigned leaf_run(const struct hw_ctx *c, int level, unsigned shift,
				unsigned page_shift, uint64_t table, uint64_t idx, uint64_t *first)
{
	unsigned n = hw_run_len(c, level, shift, page_shift);
	*first = table + 8 * (idx & ~(uint64_t)(n - 1));
	return n;
}

/* One body, three instances (walk, walk_fused, walk_probe): `probe` and
 * `fused` are constants in each, so a translation's walk carries none of
 * the probe's branches. `fused`: the format's rules come through its
 * step() and fill() (formats/hwfmt.h), one call per entry read and one per
 * fill instead of one per rule; otherwise, and on the reference path
 * (iommu_set_reference), rule by rule. */
static inline __attribute__((always_inline)) int
walk_body(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova, unsigned acc,
	  struct ims_xlate *out, bool probe, bool fused, struct ims_leaf *lf)
{
	const struct hw_fmt *ops = c->ops;
	int level = c->top;
	uint64_t table = c->root;
	bool r = c->r, w = c->w;
	if (!probe)
		m->n.walks++;

	/* A probe reads memory only: no cache, no A/D, no fault, no counter.
	 * The levels are probed deepest first, each probe costing its
	 * level's latency. */
	if (m->wc_any && !probe) {
		bool hit = false;
		/* The levels that are on, below the top (c->top < MAX_LEVELS). */
		for (uint32_t on = m->wc_on & ((1u << c->top) - 1); on && !hit; on &= on - 1) {
			int l = __builtin_ctz(on);
			m->cyc += m->wc[l].latency;
			hit = wc_lookup(m, c, l, iova, &table, &r, &w) && (level = l, true);
		}
		if (hit)
			m->n.wc_hits++;
		else
			m->n.wc_misses++;
	}

	for (;;) {
		unsigned shift = c->ix_shift[level];
		uint64_t idx = hw_level_index(c, level, iova);
		uint64_t pte_pa = table + 8 * idx;
		uint64_t pte = hw_load(m, pte_pa);
		if (!probe)
			m->n.pte_reads++;
		/* Both ways fill st.e, and a leaf's st.u, in place: no copy. */
		struct hw_step st;
		struct hw_ent *ep = &st.e;
		if (fused) {
			ops->step(c, level, pte, acc, r, w, &st);
		} else {
			memset(ep, 0, sizeof(*ep));
			ops->decode(c, level, pte, acc, ep);
		}

		if (ep->kind == HWE_INVALID || ep->kind == HWE_RESERVED)
			return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT, ep->code, level, out);

		if (ep->kind == HWE_TABLE) {
			if (ep->next >= level || ep->next < 0)
				return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
					     ops->cond_code(c, COND_SKIP, acc & IMS_ACC_W), level, out);
			uint64_t a = 0;
			if (fused)
				a = st.table_a;
			else if (ops->table_update && !probe)
				a = ops->table_update(c, pte);
			if (a && (pte & a) != a) {
				ims_mem_rmw(m->mem, IMS_AGENT_HW, pte_pa, 0, a);
				m->n.ad_writes++;
			}
			r = r && ep->r;
			w = w && ep->w;
			if (ep->next < level - 1) {
				/* Skipped levels translate only IOVAs whose bits there are 0. */
				unsigned lo = hw_level_shift(c, ep->next + 1);
				uint64_t span = (shift - lo) >= 64 ? ~0ull : ((1ull << (shift - lo)) - 1);
				if ((iova >> lo) & span)
					return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
						     ops->cond_code(c, COND_SKIP, acc & IMS_ACC_W),
						     level, out);
			}
			level = ep->next;
			table = ep->addr;
			if (m->wc_any && !probe && level < MAX_LEVELS)
				wc_fill(m, c, level, iova, table, r, w);
			continue;
		}

		/* Leaf. */
		uint32_t code = 0;
		if (probe && lf) {
			/* Read back whatever its permissions: the run, its A/D by
			 * the format's rules, and what a read or a write would meet. */
			uint64_t first;
			unsigned n = leaf_run(c, level, shift, ep->page_shift, table, idx, &first);
			uint64_t pbase = page_base(iova, ep->page_shift);
			lf->level = level;
			lf->pte_pa = pte_pa;
			lf->pte = pte;
			lf->first_pa = first;
			lf->nentries = n;
			lf->leaf_iova = pbase;
			lf->leaf_shift = ep->page_shift;
			lf->pa = ep->addr + (iova - pbase);
			for (unsigned k = 0; k < n; k++) {
				uint64_t v = hw_load(m, first + 8ull * k);
				lf->dirty = lf->dirty || ops->is_dirty(c, v);
				lf->accessed = lf->accessed || ops->is_accessed(c, v);
			}
			lf->readable = ops->check(c, pte, ep, r, w, IMS_ACC_R, &code) == IMS_FAULT_NONE;
			lf->writable = ops->check(c, pte, ep, r, w, IMS_ACC_W, &code) == IMS_FAULT_NONE;
			return 0;
		}
		enum ims_fault_kind k;
		if (fused) {
			k = st.k;
			code = st.code;
		} else {
			k = ops->check(c, pte, ep, r, w, acc, &code);
		}
		if (k != IMS_FAULT_NONE)
			return fault(m, dev, c, iova, acc, k, code, level, out);
		if (probe) {
			uint64_t pbase = page_base(iova, ep->page_shift);
			out->pa = ep->addr + (iova - pbase);
			out->leaf_iova = pbase;
			out->leaf_shift = ep->page_shift;
			return 0;
		}

		if (!fused) {
			st.u = (struct hw_upd){.a_done = false};
			ops->leaf_update(c, pte, acc, &st.u);
		}
		uint64_t first;
		unsigned n = leaf_run(c, level, shift, ep->page_shift, table, idx, &first);
		bool write = (acc & IMS_ACC_W) != 0;
		uint64_t before = m->n.dirty_sets;
		uint64_t now = apply_update(m, c, level, ep, first, n, pte_pa, pte, &st.u);

		uint64_t page_iova = page_base(iova, ep->page_shift);
		uint64_t off = iova - page_iova;
		out->pa = ep->addr + off;
		out->leaf_iova = page_iova;
		out->leaf_shift = ep->page_shift;
		out->dirtied = m->n.dirty_sets != before;
		out->accessed = st.u.a_done;
		if (write) {
			m->n.writes_ok++;
			if (c->hd && !(ep->page_shift == 12 &&
				       oracle_memo_has(m->oracle_memo, c->tag, page_iova >> 12)))
				ims_oracle_write(m->oracle, c->tag, page_iova, ep->page_shift);
		} else {
			m->n.reads_ok++;
		}

		struct cache *ut = m->cur ? m->cur->ut : NULL;
		if (fused && (m->tlb.sets || ut)) {
			unsigned f = ops->fill(c, now, ep, r, w);
			if (f & HW_FILL_CACHEABLE) {
				bool cr = f & HW_FILL_R, cw = f & HW_FILL_W;
				bool clean_ok = !c->hd || write || (f & HW_FILL_DIRTY);
				if (m->tlb.sets)
					iotlb_fill(m, c->tag, page_iova, ep->page_shift, ep->addr, cr, cw,
						   clean_ok);
				if (ut)
					utlb_fill(m, ut, c->tag, page_iova, ep->page_shift, ep->addr, cr,
						  cw, clean_ok);
			}
		} else if ((m->tlb.sets || ut) && ops->cacheable(c, now)) {
			/* The check of this very access needs no repeating when
			 * the update changed nothing. */
			uint32_t dummy;
			bool cr = (now == pte && acc == IMS_ACC_R) ||
				  ops->check(c, now, ep, r, w, IMS_ACC_R, &dummy) == IMS_FAULT_NONE;
			bool cw = (now == pte && acc == IMS_ACC_W) ||
				  ops->check(c, now, ep, r, w, IMS_ACC_W, &dummy) == IMS_FAULT_NONE;
			/* A write needs no update once this page is dirty, or when
			 * hardware does not track dirty state at all. */
			bool clean_ok = !c->hd || write || ops->is_dirty(c, now);
			if (m->tlb.sets)
				iotlb_fill(m, c->tag, page_iova, ep->page_shift, ep->addr, cr, cw, clean_ok);
			if (ut)
				utlb_fill(m, ut, c->tag, page_iova, ep->page_shift, ep->addr, cr, cw,
					  clean_ok);
		}
		return 0;
	}
}

static __attribute__((noinline)) int walk(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c,
					  uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	return walk_body(m, dev, c, iova, acc, out, false, false, NULL);
}

/* Inlined into translate_walk, its one caller: a walk then sets up one
 * frame, not two. */
static inline __attribute__((always_inline)) int walk_fused(struct ims_iommu *m, uint32_t dev,
							    const struct hw_ctx *c, uint64_t iova,
							    unsigned acc, struct ims_xlate *out)
{
	return walk_body(m, dev, c, iova, acc, out, false, true, NULL);
}

static __attribute__((noinline)) int walk_probe(struct ims_iommu *m, const struct hw_ctx *c,
						uint64_t iova, unsigned acc, struct ims_xlate *out,
						struct ims_leaf *lf)
{
	return walk_body(m, 0, c, iova, acc, out, true, false, lf);
}

int iommu_walk(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova,
	       unsigned acc, struct ims_xlate *out)
{
	if (c->ops->step && c->ops->fill && !m->ref_path)
		return walk_body(m, dev, c, iova, acc, out, false, true, NULL);
	return walk(m, dev, c, iova, acc, out);
}

int iommu_walk_probe(struct ims_iommu *m, const struct hw_ctx *c, uint64_t iova, unsigned acc,
		     struct ims_xlate *out, struct ims_leaf *lf)
{
	return walk_probe(m, c, iova, acc, out, lf);
}

/* A cached entry can serve the access: the permissions it caches, and for a
 * write, no memory update needed (formats.md "Caches and invalidation"). */
static inline bool tlb_serves(const struct tlb_ent *e, unsigned acc)
{
	return (!(acc & IMS_ACC_R) || e->r) && (!(acc & IMS_ACC_W) || (e->w && e->dirty));
}

static inline int tlb_serve(struct ims_iommu *m, const struct hw_ctx *c, const struct tlb_ent *e,
			    uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	out->pa = e->out + (iova & ((1ull << e->shift) - 1));
	out->leaf_iova = e->key << e->shift;
	out->leaf_shift = e->shift;
	out->iotlb_hit = true;
	if (acc & IMS_ACC_W) {
		m->n.writes_ok++;
		if (c->hd && !(e->shift == 12 && oracle_memo_has(m->oracle_memo, c->tag, e->key)))
			ims_oracle_write(m->oracle, c->tag, out->leaf_iova, e->shift);
	} else {
		m->n.reads_ok++;
	}
	return 0;
}

/* Cycles spent by the walk and by faults (m->cyc, zero between
 * translations), handed to the translation's count. */
static inline uint64_t slow_cycles(struct ims_iommu *m)
{
	uint64_t c = m->cyc;
	m->cyc = 0;
	return c;
}

/* A translation that took the slow path costs c. */
static uint64_t slow_done(struct ims_iommu *m, uint64_t c)
{
	m->hist[hist_bucket(c)]++;
	if (c > m->slow_max)
		m->slow_max = c;
	return c;
}

/* Charges a translation: its result's cycles and the model's total. */
static inline int charged(struct ims_iommu *m, struct ims_xlate *out, uint64_t cyc, int rc)
{
	out->cycles = cyc;
	m->n.cycles += cyc;
	return rc;
}

/* A request refused before any cache is looked at: the device is not
 * attached, its context is not valid, or the IOVA is past the input range.
 * Out of line, as every slow part of translate(): a hit then saves no
 * registers for them. */
static __attribute__((noinline)) int translate_refused(struct ims_iommu *m, uint32_t dev,
						       const struct dev_slot *d, uint64_t iova,
						       unsigned acc, struct ims_xlate *out)
{
	int rc;
	const struct ctx_slot *s = d ? m->ctx[d->tag] : NULL;
	if (!d) {
		rc = fault(m, dev, NULL, iova, acc, IMS_FAULT_UNATTACHED, 0, -1, out);
	} else if (!s || !s->hw_valid) {
		struct ims_fault f = {.dev = dev, .dom = d->tag, .has_dom = true, .iova = iova,
				      .kind = IMS_FAULT_NOTPRESENT, .write = (acc & IMS_ACC_W) != 0};
		fault_push(m, &f);
		out->fault = f.kind;
		rc = (int)f.kind;
	} else {
		const struct hw_ctx *c = &s->hw;
		rc = fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
			   c->ops->cond_code(c, COND_RANGE, acc & IMS_ACC_W), -1, out);
	}
	/* Whatever the outcome, a request the micro-TLB does not serve
	 * crosses the link to the IOMMU and its answer crosses back. */
	return charged(m, out, slow_done(m, m->link2 + slow_cycles(m)), rc);
}

/* What translate() does not take on its single-stage path: a nested
 * context (model/nested.c, through the pointer ctx.c set), or a refusal.
 * The nested walk fills a copy of the result: `out` (the caller's local)
 * then never reaches a function the compiler cannot see, which would make
 * it assume the DMA loop's locals escape and cost the hit path registers. */
static __attribute__((noinline)) int translate_cold(struct ims_iommu *m, uint32_t dev,
						    const struct dev_slot *d, uint64_t iova,
						    unsigned acc, struct ims_xlate *out)
{
	const struct ctx_slot *s = d ? m->ctx[d->tag] : NULL;
	if (s && s->nested && s->hw_valid) {
		struct ims_xlate x = *out;
		int rc = m->nest_xlate(m, dev, d, s, iova, acc, &x);
		*out = x;
		return rc;
	}
	return translate_refused(m, dev, d, iova, acc, out);
}

/* The rest of a translation no cache served: e is the IOTLB's entry for the
 * page when it could not serve the access (NULL: the IOTLB, if there is
 * one, missed), t what the look-ups cost. */
static __attribute__((noinline)) int translate_walk(struct ims_iommu *m, struct dev_slot *d,
						    uint64_t iova, unsigned acc,
						    struct ims_xlate *out, const struct tlb_ent *e,
						    uint64_t t)
{
	const struct hw_ctx *c = &m->ctx[d->tag]->hw;
	if (m->tlb.sets) {
		if (e) {
			m->n.iotlb_hits++;
			m->iotlb_unserved++;
			/* A write through an entry cached clean (or a permission the
			 * entry lacks) goes back to memory: hardware re-walks. */
		} else {
			m->n.iotlb_misses++;
			/* Probed at every page size it holds: the walk's page is
			 * not in it, and nothing the walk does adds it. */
			m->tlb_missed = true;
		}
	}
	m->cur = d;
	uint64_t reads = m->n.pte_reads, writes = m->n.ad_writes;
	bool fused = c->ops->step && c->ops->fill && !m->ref_path;
	int rc = fused ? walk_fused(m, d->dev, c, iova, acc, out) : walk(m, d->dev, c, iova, acc, out);
	walk_done(m);
	m->cur = NULL;
	m->tlb_missed = false;
	return charged(m, out,
		       slow_done(m, t + slow_cycles(m) +
					    (m->n.pte_reads - reads) * m->cfg.lat.pte_read +
					    (m->n.ad_writes - writes) * m->cfg.lat.ad_update),
		       rc);
}

/* A translation of an attached device through a valid context, every case,
 * the micro-TLB's included: the whole path as formats.md tells it.
 * translate() takes its IOTLB hits without it when the device has no
 * micro-TLB; with iommu_set_reference, every translation comes here. */
static __attribute__((noinline)) int translate_general(struct ims_iommu *m, struct dev_slot *d,
						       uint64_t iova, unsigned acc,
						       struct ims_xlate *out)
{
	const struct hw_ctx *c = &m->ctx[d->tag]->hw;
	uint64_t t = 0;
	struct cache *ut = d->ut;
	if (ut) {
		t = ut->latency;
		struct tlb_ent *e = utlb_lookup(m, ut, c->tag, iova);
		if (e) {
			m->n.utlb_hits++;
			if (tlb_serves(e, acc)) {
				out->utlb_hit = true;
				return charged(m, out, t, tlb_serve(m, c, e, iova, acc, out));
			}
			m->utlb_unserved++;
			/* Cached clean (or lacking the permission): the IOMMU
			 * decides, exactly as for an IOTLB entry. */
		} else {
			m->n.utlb_misses++;
		}
	}
	struct tlb_ent *e = NULL;
	if (m->tlb.sets) {
		t += m->hit_cost;
		e = tlb_lookup(m, &m->tlb, c->tag, iova);
		if (e && tlb_serves(e, acc)) {
			m->n.iotlb_hits++;
			if (ut)
				utlb_fill(m, ut, e->tag, e->key << e->shift, e->shift, e->out, e->r, e->w,
					  e->dirty);
			return charged(m, out, t, tlb_serve(m, c, e, iova, acc, out));
		}
	} else {
		t += m->link2;
	}
	return translate_walk(m, d, iova, acc, out, e, t);
}

/* One translation, charged to out->cycles and the model's total, for
 * device dev, whose slot is d (NULL: not attached) and d's context slot s.
 * A hit that serves the access adds two constants and touches no
 * histogram: this runs for every 4 KiB of every DMA, so it is all that is
 * inlined into the callers; everything else is a call away. translate()
 * looks d and s up; a batch of DMAs looks them up when the device changes
 * (a DMA attaches nothing and sets no context). */
static inline __attribute__((always_inline)) int
translate_at(struct ims_iommu *m, uint32_t dev, struct dev_slot *d, const struct ctx_slot *s,
	     uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	if (__builtin_expect(!s || !s->plain || (iova & s->hw.ias_over), 0))
		return translate_cold(m, dev, d, iova, acc, out);
	if (d->ut || !m->fast_hits)
		return translate_general(m, d, iova, acc, out);
	const struct hw_ctx *c = &s->hw;
	struct tlb_ent *e = tlb_lookup(m, &m->tlb, c->tag, iova);
	if (__builtin_expect(e && tlb_serves(e, acc), 1)) {
		m->n.iotlb_hits++;
		return charged(m, out, m->hit_cost, tlb_serve(m, c, e, iova, acc, out));
	}
	return translate_walk(m, d, iova, acc, out, e, m->hit_cost);
}

static inline __attribute__((always_inline)) int
translate(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	struct dev_slot *d = dev_find(m, dev);
	return translate_at(m, dev, d, d ? m->ctx[d->tag] : NULL, iova, acc, out);
}

/* One access, acc checked and *out cleared by the caller. Inlined into
 * ims_iommu_dma too: a DMA's page then costs no call, and no clearing of a
 * result that nothing reads (the translation only writes it). */
static inline __attribute__((always_inline)) int
access_one(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	m->n.translations++;
	return translate(m, dev, iova, acc, out);
}

int ims_iommu_access(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc,
		     struct ims_xlate *out)
{
	struct ims_xlate dummy;
	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	if (!acc || acc > IMS_ACC_RW)
		return -EINVAL;
	out->ipa = iova; /* a nested translation gives its own */
	return access_one(m, dev, iova, acc, out);
}

/* What the replayer records a write of device slot d to: iommu_page.dom. */
static inline int32_t page_dom(const struct ims_iommu *m, const struct dev_slot *d)
{
	if (!d)
		return -1;
	const struct ctx_slot *s = m->ctx[d->tag];
	return d->tag | (s && s->hw_valid && s->hw.hd ? IOMMU_PAGE_TRACKED : 0);
}

/* iommu_dma_page's body for device dev at slot d (page_dom: dom), inlined
 * into it and into iommu_dma_pages. */
static inline __attribute__((always_inline)) struct iommu_page
dma_page(struct ims_iommu *m, uint32_t dev, struct dev_slot *d, int32_t dom, uint64_t iova,
	 unsigned acc)
{
	struct ims_xlate x;
	m->n.translations++;
	int rc = translate_at(m, dev, d, d ? m->ctx[d->tag] : NULL, iova, acc, &x);
	return (struct iommu_page){.pa = rc ? 0 : x.pa, .rc = rc,
				   .dom = (acc & IMS_ACC_W) ? dom : -1};
}

struct iommu_page iommu_dma_page(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc)
{
	struct dev_slot *d = dev_find(m, dev);
	return dma_page(m, dev, d, page_dom(m, d), iova, acc);
}

static bool hint(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc,
		 const struct ims_oracle *rec);

size_t iommu_dma_pages(struct ims_iommu *m, const struct iommu_req *req, size_t n, size_t nhint,
		       unsigned ahead, struct ims_oracle *rec, struct iommu_page *res)
{
	struct dev_slot *d = NULL;
	uint32_t dev = 0;
	int32_t dom = -1;
	const struct oracle_memo *rm = rec ? oracle_memo(rec) : NULL;
	for (size_t i = 0; i < n; i++) {
		if (i + ahead < nhint)
			hint(m, req[i + ahead].dev, req[i + ahead].iova, req[i + ahead].acc, rec);
		if (!i || req[i].dev != dev) {
			dev = req[i].dev;
			d = dev_find(m, dev);
			dom = page_dom(m, d);
		}
		uint64_t iova = req[i].iova;
		struct iommu_page p = dma_page(m, dev, d, dom, iova, req[i].acc);
		res[i] = p;
		if (p.rc > 0)
			return i + 1;
		/* The record of a write: a page written again is most often in
		 * the set already, which the memo tells without a call. */
		if (rec && p.rc == 0 && p.dom >= 0 && (p.dom & IOMMU_PAGE_TRACKED) &&
		    !oracle_memo_has(rm, (uint16_t)p.dom, iova >> 12))
			ims_oracle_add(rec, (uint16_t)p.dom, iova, req[i].len);
	}
	return n;
}

void iommu_set_reference(struct ims_iommu *m, bool on)
{
	m->ref_path = on;
	m->fast_hits = m->tlb.sets && !on;
}

/* The walk of translate() from the root, reading entries through frame
 * views (no counter, no cache touched) and issuing a host prefetch for the
 * leaf entry instead of waiting for it. The tables above the leaf are few
 * and stay in the host's caches; the leaf entry, one of millions, is the
 * miss worth overlapping. The format's next_table() stands in for decode():
 * a hint needs no permission or fault code, and starting from the root costs
 * less than probing the IOTLB and walk caches the walk will probe anyway.
 * The walk starts lower when the hint memo knows the level-1 table of the
 * region, under the same root and with no pool frame freed since, and
 * reads it through the view the memo kept (no frame look-up). It may
 * still be stale (software pointed the region elsewhere without freeing),
 * which costs only a useless prefetch: a hint changes nothing, and reads
 * through frame views that are live or NULL.
 * Out of line, behind iommu_prefetch's test: a dropped hint then
 * saves no registers. */
static __attribute__((noinline)) bool hint_walk(struct ims_iommu *m, uint32_t dev, uint64_t iova,
						unsigned acc, const struct ims_oracle *rec)
{
	const struct dev_slot *d = dev_find(m, dev);
	const struct ctx_slot *s = d ? m->ctx[d->tag] : NULL;
	/* A nested context's tables are at IPAs: no hint. */
	if (!s || !s->plain || !acc || acc > IMS_ACC_RW)
		return false;
	const struct hw_ctx *c = &s->hw;
	if (iova & c->ias_over)
		return false;
	if ((acc & IMS_ACC_W) && c->hd) {
		oracle_prefetch(m->oracle, c->tag, iova);
		if (rec)
			oracle_prefetch(rec, c->tag, iova);
	}
	int level = c->top;
	uint64_t table = c->root;
	struct pf_memo *pm = NULL, *from = NULL;
	uint64_t key = 0, epoch = 0;
	if (level >= 2) {
		key = iova >> c->ix_shift[2];
		epoch = m->pool->epoch;
		pm = &m->pf_memo[(((key * 0x9e3779b97f4a7c15ull) >> 56) ^ c->tag) % PF_MEMO];
		if (pm->valid && pm->key == key && pm->tag == c->tag && pm->root == c->root &&
		    pm->epoch == epoch) {
			level = 1;
			table = pm->table;
			from = pm;
		}
	}
	for (;;) {
		uint64_t pa = table + 8 * hw_level_index(c, level, iova);
		/* A 16K or 64K table spans frames: the memo's view serves the
		 * entries of its own frame only. */
		const uint64_t *f = from && (pa >> 12) == from->fn ? from->frame
								 : mem_frame_at(m->mem, m->pool, pa);
		if (!f)
			break;
		/* A hint from the root meets the region's level-1 table: memo it
		 * (tested !from first: the memo's own hints skip the rest). */
		if (!from && pm && level == 1)
			*pm = (struct pf_memo){.key = key, .root = c->root, .table = table,
					       .epoch = epoch, .frame = f, .fn = pa >> 12,
					       .tag = c->tag, .valid = true};
		const uint64_t *p = &f[(pa >> 3) % 512];
		if (level == 0) {
			__builtin_prefetch(p, 1);
			return true;
		}
		level = c->ops->next_table(c, level, *p, &table);
		if (level < 0)
			break;
	}
	/* A walk from the memo that finds no table may have started from a
	 * stale one: the next hint of the region starts from the root. */
	if (from)
		from->valid = false;
	return true;
}

/* When no walk happened since the last call, the accesses are hitting the
 * IOTLB, whose entries are in the host's caches: then the hint would cost
 * as much as the access and is dropped. */
static inline bool hint(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc,
			const struct ims_oracle *rec)
{
	bool walked = m->n.walks != m->pf_walks;
	m->pf_walks = m->n.walks;
	return walked && hint_walk(m, dev, iova, acc, rec);
}

bool iommu_prefetch(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc)
{
	return hint(m, dev, iova, acc, NULL);
}

int ims_iommu_probe(struct ims_iommu *m, uint16_t tag, uint64_t iova, unsigned acc,
		    struct ims_xlate *out)
{
	memset(out, 0, sizeof(*out));
	const struct ctx_slot *s = m->ctx[tag];
	if (!s || !s->hw_valid)
		return -ENOENT;
	const struct hw_ctx *c = &s->hw;
	out->ipa = iova;
	if (c->ias < 64 && (iova >> c->ias)) {
		out->fault = IMS_FAULT_NOTPRESENT;
		out->stage = s->nested ? 1 : 0;
		return IMS_FAULT_NOTPRESENT;
	}
	if (s->nested) {
		int rc = m->nest_probe(m, s, iova, acc ? acc : IMS_ACC_R, out, NULL);
		walk_done(m);
		return rc;
	}
	m->probing = true;
	m->cur = NULL;
	int rc = walk_probe(m, c, iova, acc ? acc : IMS_ACC_R, out, NULL);
	walk_done(m);
	m->probing = false;
	return rc;
}

int ims_iommu_leaf(struct ims_iommu *m, uint16_t tag, uint64_t iova, struct ims_leaf *out)
{
	memset(out, 0, sizeof(*out));
	const struct ctx_slot *s = m->ctx[tag];
	if (!s || !s->hw_valid)
		return -ENOENT;
	const struct hw_ctx *c = &s->hw;
	if (c->ias < 64 && (iova >> c->ias))
		return IMS_FAULT_NOTPRESENT;
	struct ims_xlate x;
	memset(&x, 0, sizeof(x));
	uint64_t loads = m->hw_loads;
	if (s->nested) {
		int rc = m->nest_probe(m, s, iova, IMS_ACC_R, &x, out);
		m->hw_loads = loads;
		return rc;
	}
	m->probing = true;
	m->cur = NULL;
	int rc = walk_probe(m, c, iova, IMS_ACC_R, &x, out);
	/* A read-back for the testbench is no access of the hardware's: its
	 * loads are not counted. */
	m->hw_loads = loads;
	m->probing = false;
	return rc;
}

uint64_t ims_iommu_dma(struct ims_iommu *m, uint32_t dev, uint64_t iova, uint64_t len,
		       unsigned acc, uint64_t *pieces)
{
	uint64_t faulted = 0, count = 0;
	uint64_t left = len, at = iova;
	bool acc_ok = acc && acc <= IMS_ACC_RW;
	while (left) {
		uint64_t room = IMS_PAGE_SIZE - (at & (IMS_PAGE_SIZE - 1));
		uint64_t n = room < left ? room : left;
		if (left > n)
			iommu_prefetch(m, dev, at + n, acc);
		struct ims_xlate x;
		if (acc_ok && access_one(m, dev, at, acc, &x) > 0)
			faulted++;
		count++;
		left -= n;
		at += n;
	}
	if (pieces)
		*pieces = count;
	return faulted;
}
