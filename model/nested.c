/* Nested (two-stage) translation (docs/nested.md): a stage-1 context whose
 * table addresses are intermediate (guest-physical) addresses, walked
 * through the stage-2 context it nests over.
 *
 * Every stage-1 table entry is read at an IPA that stage 2 translates
 * first, as a read (SMMUv3 IHI0070 3.4.1 / Arm ARM D8.2 "stage 2 for stage
 * 1 table walks"; VT-d 3.8; AMD IOMMU 2.2.6). A hardware A/D update of a
 * stage-1 entry is a write through stage 2: it needs stage-2 write
 * permission and makes the stage-2 page dirty when stage-2 dirty updates
 * are on (IHI0070 3.13.3 "HTTU with two stages"; VT-d 3.8). The stage-1
 * output IPA is then translated by stage 2 with the access's own kind.
 * Each stage applies its format's own hardware rules (formats/hwfmt.h):
 * stage 1 rule by rule here, stage 2 through the engine's walk
 * (model/translate.c), which also keeps the parent's stage-2 IOTLB entries,
 * A/D updates and oracle records.
 *
 * The IOTLB holds, under the nested tag, combined entries: the page is the
 * smaller of the two leaves, and the IPA it came from is kept beside the
 * entry (struct nest_info) for the oracle and for stage-2 invalidations.
 * The walk caches serve stage-2 walks under the parent's tag and, under the
 * nested tag, the stage-1 walk: IOVA prefix -> the next stage-1 table's
 * IPA, which each use still translates through stage 2, so that a stage-2
 * invalidation needs nothing more (docs/nested.md "What is cached").
 */
#include <errno.h>
#include <string.h>

#include "model/iommu_int.h"
#include "model/mem_view.h"
#include "model/tlb.h"
#include "model/walkcache.h"

/* The translation under way. */
struct nw {
	struct ims_iommu *m;
	uint32_t dev;
	const struct hw_ctx *c; /* stage 1 */
	const struct hw_ctx *p; /* stage 2 */
	uint64_t iova;
	unsigned acc;
	bool probe;
	struct ims_xlate *out;
	struct ims_leaf *lf; /* probe only: read the stage-1 leaf back */
};

/* What stage 2 made of an IPA. */
struct s2r {
	uint64_t pa;
	const struct tlb_ent *e; /* the parent's IOTLB entry for it afterwards (NULL: none) */
	bool dirtied, accessed;
	int level; /* fault: the stage-2 level whose entry faulted (-1 none) */
	uint32_t code;
};

/* The hardware rules of format f (NULL when not built in): from the
 * registry, as model/ctx.c finds them. */
static const struct hw_fmt *hw_of(int f)
{
	const struct fmt_desc *d = f >= 0 ? fmt_get((enum ims_format)f) : NULL;
	return d && d->hw && d->hw->decode_ctx ? d->hw : NULL;
}

int ims_format_nest_s2(enum ims_format s1)
{
	const struct hw_fmt *h = hw_of((int)s1);
	return h && h->nest_over && hw_of((int)h->nest_over - 1) ? (int)h->nest_over - 1 : -1;
}

int ims_format_nest_s1(enum ims_format s2)
{
	for (int f = 0; f < IMS_FMT_COUNT; f++)
		if (ims_format_nest_s2((enum ims_format)f) == (int)s2)
			return f;
	return -1;
}

static inline uint64_t lmask(unsigned shift)
{
	return shift >= 64 ? ~0ull : (1ull << shift) - 1;
}

static inline uint64_t nload(struct ims_iommu *m, uint64_t pa)
{
	m->hw_loads++;
	const uint64_t *f = mem_frame_at(m->mem, m->pool, pa);
	return f ? f[(pa >> 3) % 512] : 0;
}

static inline bool serves(const struct tlb_ent *e, unsigned acc)
{
	return (!(acc & IMS_ACC_R) || e->r) && (!(acc & IMS_ACC_W) || (e->w && e->dirty));
}

/* Report a fault of the nested translation (queued unless probing). A
 * stage-2 fault's code is the stage-2 format's, as the format turns it for
 * where it arose (hw_fmt.nest_code). */
static int nfault(struct nw *w, int stage, enum hw_nest_where where, uint64_t ipa,
		  enum ims_fault_kind kind, uint32_t code, int level)
{
	const struct hw_fmt *ops = stage == 2 ? w->p->ops : w->c->ops;
	if (stage == 2 && ops->nest_code)
		code = ops->nest_code(code, where);
	w->out->fault = kind;
	w->out->code = code;
	w->out->stage = (uint8_t)stage;
	if (w->probe)
		return (int)kind;
	struct ims_fault f = {.dev = w->dev, .dom = w->c->tag, .has_dom = true,
			      .write = (w->acc & IMS_ACC_W) != 0, .iova = w->iova, .kind = kind,
			      .code = code, .fmt = ops->fmt, .has_level = level >= 0,
			      .level = level >= 0 ? (uint8_t)level : 0, .stage = (uint8_t)stage,
			      .s1_walk = stage == 2 && where != NEST_FINAL,
			      .ipa = stage == 2 ? ipa : 0};
	fault_push(w->m, &f);
	return (int)kind;
}

/* Stage 2 of ipa for an access acc: the parent's IOTLB, else its walk (with
 * its A/D updates and its oracle record of a write). Returns 0 or the
 * fault kind, with r->code and r->level; queues nothing. */
static int s2_access(struct nw *w, uint64_t ipa, unsigned acc, struct s2r *r)
{
	struct ims_iommu *m = w->m;
	const struct hw_ctx *p = w->p;
	struct ims_xlate x;
	memset(&x, 0, sizeof(x));
	memset(r, 0, sizeof(*r));
	r->level = -1;
	if (ipa & p->ias_over) {
		r->code = p->ops->cond_code(p, COND_RANGE, acc & IMS_ACC_W);
		return IMS_FAULT_NOTPRESENT;
	}
	if (w->probe) {
		int rc = iommu_walk_probe(m, p, ipa, acc, &x, NULL);
		r->pa = x.pa;
		r->code = x.code;
		r->level = m->quiet_level;
		return rc;
	}
	m->n.s2_lookups++;
	struct tlb_ent *e = NULL;
	if (m->tlb.sets) {
		m->cyc += m->tlb.latency;
		e = tlb_lookup(m, &m->tlb, p->tag, ipa);
		if (e && serves(e, acc)) {
			m->n.s2_hits++;
			r->pa = e->out + (ipa & lmask(e->shift));
			r->e = e;
			if ((acc & IMS_ACC_W) && p->hd)
				ims_oracle_write(m->oracle, p->tag, e->key << e->shift, e->shift);
			return 0;
		}
	}
	m->n.s2_walks++;
	/* The walk counts no access of its own: the nested translation is
	 * the one access (reads_ok / writes_ok). */
	uint64_t rd = m->n.reads_ok, wr = m->n.writes_ok;
	m->tlb_missed = m->tlb.sets && !e;
	m->quiet = true;
	int rc = iommu_walk(m, w->dev, p, ipa, acc, &x);
	m->quiet = false;
	m->tlb_missed = false;
	m->n.reads_ok = rd;
	m->n.writes_ok = wr;
	if (rc) {
		r->code = x.code;
		r->level = m->quiet_level;
		return rc;
	}
	r->pa = x.pa;
	r->dirtied = x.dirtied;
	r->accessed = x.accessed;
	r->e = m->tlb.sets ? tlb_lookup(m, &m->tlb, p->tag, ipa) : NULL;
	return 0;
}

/* A hardware update of the stage-1 entry at pte_ipa: a write through stage
 * 2 (its write permission, its dirty state), then the atomic RMW. */
static int s1_update(struct nw *w, uint64_t pte_ipa, uint64_t clear, uint64_t set, bool dirty)
{
	struct ims_iommu *m = w->m;
	struct s2r r;
	int rc = s2_access(w, pte_ipa, IMS_ACC_W, &r);
	if (rc)
		return nfault(w, 2, NEST_S1_AD, pte_ipa, rc, r.code, r.level);
	ims_mem_rmw(m->mem, IMS_AGENT_HW, r.pa, clear, set);
	m->n.ad_writes++;
	if (dirty)
		m->n.dirty_sets++;
	return 0;
}

/* Cache the combined page [iova, +2^shift) -> pa, made from IPA ipa; the
 * slot's nest_info keeps the IPA and both leaf sizes. */
static void combined_fill(struct ims_iommu *m, uint16_t tag, uint64_t iova, unsigned shift,
			  uint64_t pa, uint64_t ipa, unsigned s1_shift, unsigned s2_shift, bool r,
			  bool wr, bool dirty, bool absent)
{
	bool evicted;
	struct tlb_ent *slot =
		tlb_fill_at(m, &m->tlb, tag, iova, shift, pa, r, wr, dirty, absent, &evicted);
	if (evicted)
		m->n.iotlb_evictions++;
	m->n.iotlb_fills++;
	m->nest[slot - m->tlb.e] = (struct nest_info){.ipa = ipa, .s1_shift = (uint8_t)s1_shift,
						      .s2_shift = (uint8_t)s2_shift};
}

/* The stage-1 leaf read back for ims_iommu_leaf: its run, A/D, and what a
 * read or a write would meet at both stages; pa the final address. */
static int leaf_back(struct nw *w, int level, uint64_t pte_pa, uint64_t pte,
		     const struct hw_ent *e, uint64_t idx, bool r, bool wr)
{
	const struct hw_ctx *c = w->c;
	struct ims_leaf *lf = w->lf;
	unsigned n = hw_run_len(c, level, c->ix_shift[level], e->page_shift);
	uint64_t first_idx = idx & ~(uint64_t)(n - 1);
	uint64_t pbase = w->iova & ~lmask(e->page_shift);
	lf->level = level;
	lf->pte_pa = pte_pa;
	lf->pte = pte;
	lf->first_pa = pte_pa - 8 * (idx - first_idx);
	lf->nentries = n;
	lf->leaf_iova = pbase;
	lf->leaf_shift = e->page_shift;
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = nload(w->m, lf->first_pa + 8ull * k);
		lf->dirty = lf->dirty || c->ops->is_dirty(c, v);
		lf->accessed = lf->accessed || c->ops->is_accessed(c, v);
	}
	uint32_t code;
	struct ims_leaf l2;
	struct ims_xlate x;
	memset(&l2, 0, sizeof(l2));
	memset(&x, 0, sizeof(x));
	uint64_t ipa = e->addr + (w->iova - pbase);
	int rc = (ipa & w->p->ias_over) ? IMS_FAULT_NOTPRESENT
					: iommu_walk_probe(w->m, w->p, ipa, IMS_ACC_R, &x, &l2);
	if (rc)
		return rc;
	lf->pa = l2.pa;
	lf->readable = l2.readable &&
		       c->ops->check(c, pte, e, r, wr, IMS_ACC_R, &code) == IMS_FAULT_NONE;
	lf->writable = l2.writable &&
		       c->ops->check(c, pte, e, r, wr, IMS_ACC_W, &code) == IMS_FAULT_NONE;
	return 0;
}

/* The entry of a stage-1 leaf run (an Arm contiguous group) that the
 * hardware's A/D update goes to, under model.replica as in a single-stage
 * walk (model/translate.c, apply_update): the walked entry, the run's
 * first, or one drawn at random. DDI0487 D8.5.5: an update of a contiguous
 * group touches any one of its descriptors. The
 * run lies in one 1 KiB-aligned stretch of the table (at most 128
 * entries), so in the walked entry's 4 KiB page: its host address is the
 * walked one's moved by the same offset. Sets *ipa to the chosen entry's
 * IPA and returns its value; an entry that no longer maps the same page
 * (software clearing the run entry by entry) is passed over for the walked
 * one. */
static uint64_t replica_target(struct nw *w, int level, const struct hw_ent *e, uint64_t idx,
			       uint64_t pte_pa, uint64_t *ipa, uint64_t pte)
{
	struct ims_iommu *m = w->m;
	const struct hw_ctx *c = w->c;
	unsigned n = hw_run_len(c, level, c->ix_shift[level], e->page_shift);
	uint64_t k = idx & (n - 1), pick = k;
	if (n <= 1 || n > 128)
		return pte;
	if (m->cfg.replica == IMS_REPLICA_FIRST)
		pick = 0;
	else if (m->cfg.replica == IMS_REPLICA_RANDOM)
		pick = iommu_rng(m) % n;
	if (pick == k)
		return pte;
	uint64_t v = nload(m, pte_pa - 8 * k + 8 * pick);
	m->n.pte_reads++;
	struct hw_ent o;
	memset(&o, 0, sizeof(o));
	c->ops->decode(c, level, v, IMS_ACC_R, &o);
	if (o.kind != HWE_LEAF || o.page_shift != e->page_shift || o.addr != e->addr)
		return pte;
	*ipa = *ipa - 8 * k + 8 * pick;
	return v;
}

/* The stage-1 walk, each table read through stage 2, then stage 2 of the
 * output. */
static int s1_walk(struct nw *w, bool absent)
{
	struct ims_iommu *m = w->m;
	const struct hw_ctx *c = w->c;
	const struct hw_fmt *ops = c->ops;
	unsigned acc = w->acc;
	bool write = (acc & IMS_ACC_W) != 0;
	int level = c->top;
	uint64_t table = c->root;
	bool r = c->r, wr = c->w;
	if (!w->probe)
		m->n.walks++;
	/* The stage-1 walk caches, under the nested tag, deepest level
	 * first, each probe costing its level's latency, as a single-stage
	 * walk probes them (model/translate.c); a probe uses none. A hit
	 * gives the IPA of the table to start at. */
	if (m->wc_any && !w->probe) {
		bool hit = false;
		for (uint32_t on = m->wc_on & ((1u << c->top) - 1); on && !hit; on &= on - 1) {
			int l = __builtin_ctz(on);
			m->cyc += m->wc[l].latency;
			hit = wc_lookup(m, c, l, w->iova, &table, &r, &wr) && (level = l, true);
		}
		if (hit)
			m->n.wc_hits++;
		else
			m->n.wc_misses++;
	}
	for (;;) {
		uint64_t idx = hw_level_index(c, level, w->iova);
		uint64_t pte_ipa = table + 8 * idx;
		struct s2r s2;
		int rc = s2_access(w, pte_ipa, IMS_ACC_R, &s2);
		if (rc)
			return nfault(w, 2, level == c->top ? NEST_S1_ROOT : NEST_S1_TABLE, pte_ipa, rc,
				      s2.code, s2.level);
		uint64_t pte_pa = s2.pa;
		uint64_t pte = nload(m, pte_pa);
		if (!w->probe)
			m->n.pte_reads++;
		struct hw_ent e;
		memset(&e, 0, sizeof(e));
		ops->decode(c, level, pte, acc, &e);
		if (e.kind == HWE_INVALID || e.kind == HWE_RESERVED)
			return nfault(w, 1, NEST_FINAL, 0, IMS_FAULT_NOTPRESENT, e.code, level);
		if (e.kind == HWE_TABLE) {
			uint32_t skip = ops->cond_code(c, COND_SKIP, write);
			if (e.next >= level || e.next < 0)
				return nfault(w, 1, NEST_FINAL, 0, IMS_FAULT_NOTPRESENT, skip, level);
			uint64_t a = !w->probe && ops->table_update ? ops->table_update(c, pte) : 0;
			if (a && (pte & a) != a && (rc = s1_update(w, pte_ipa, 0, a, false)))
				return rc;
			r = r && e.r;
			wr = wr && e.w;
			if (e.next < level - 1) {
				/* Skipped levels translate only IOVAs whose bits there are 0. */
				unsigned lo = hw_level_shift(c, e.next + 1);
				unsigned sh = c->ix_shift[level];
				if ((w->iova >> lo) & lmask(sh - lo))
					return nfault(w, 1, NEST_FINAL, 0, IMS_FAULT_NOTPRESENT, skip,
						      level);
			}
			level = e.next;
			table = e.addr;
			if (m->wc_any && !w->probe && level < MAX_LEVELS)
				wc_fill(m, c, level, w->iova, table, r, wr);
			continue;
		}

		/* The stage-1 leaf. */
		if (w->lf)
			return leaf_back(w, level, pte_pa, pte, &e, idx, r, wr);
		uint32_t code = 0;
		enum ims_fault_kind k = ops->check(c, pte, &e, r, wr, acc, &code);
		if (k != IMS_FAULT_NONE)
			return nfault(w, 1, NEST_FINAL, 0, k, code, level);
		uint64_t pbase = w->iova & ~lmask(e.page_shift);
		uint64_t ipa = e.addr + (w->iova - pbase);
		uint64_t now = pte;
		bool dirtied = false, accessed = false;
		if (!w->probe) {
			struct hw_upd u = {.a_done = false};
			ops->leaf_update(c, pte, acc, &u);
			unsigned shift = c->ix_shift[level];
			if (e.page_shift > shift && ops->group_skip_if_any &&
			    (u.a_set | u.a_clear | u.d_set | u.d_clear)) {
				/* D8.5.5: an update another entry of the group records
				 * is skipped. The group lies in the covering entry's
				 * page (at most 128 entries, aligned). */
				unsigned n = hw_run_len(c, level, shift, e.page_shift);
				uint64_t first = pte_pa - 8 * (idx & (n - 1));
				bool any_a = false, any_d = false;
				for (unsigned i = 0; i < n; i++) {
					uint64_t v = nload(m, first + 8ull * i);
					m->n.pte_reads++;
					any_a |= ops->is_accessed(c, v);
					any_d |= ops->is_dirty(c, v);
				}
				if (any_a)
					u.a_set = u.a_clear = 0;
				if (any_d)
					u.d_set = u.d_clear = 0;
			}
			uint64_t clear = u.a_clear | u.d_clear, set = u.a_set | u.d_set;
			uint64_t tgt_ipa = pte_ipa, old = pte;
			if (e.page_shift > shift && (clear | set))
				old = replica_target(w, level, &e, idx, pte_pa, &tgt_ipa, pte);
			uint64_t val = (old & ~clear) | set;
			if (val != old) {
				bool d = (u.d_set | u.d_clear) != 0;
				if ((rc = s1_update(w, tgt_ipa, clear, set, d)))
					return rc;
				dirtied = d;
				accessed = ((old ^ val) & (u.a_set | u.a_clear)) != 0;
				if (tgt_ipa == pte_ipa)
					now = val;
			}
		}
		/* Stage 2 of the output, with the access's own kind. The
		 * stage-1 update above comes first, as in the Arm ARM's
		 * AArch64.S1Translate, which swaps the descriptor before
		 * AArch64.FullTranslate's stage 2 of the output address: a
		 * stage-2 fault there leaves stage-1 D set, so the oracle
		 * expects that leaf dirty although the write faulted. */
		rc = s2_access(w, ipa, acc, &s2);
		if (rc) {
			if (dirtied && write && c->hd)
				ims_oracle_write(m->oracle, c->tag, pbase, e.page_shift);
			/* The faulted access says what it dirtied all the same
			 * (the stage-1 leaf): a replayer's injected write that
			 * races a harvest needs it (harness/inject.c). */
			w->out->dirtied = dirtied;
			w->out->leaf_iova = pbase;
			w->out->leaf_shift = e.page_shift;
			return nfault(w, 2, NEST_FINAL, ipa, rc, s2.code, s2.level);
		}
		struct ims_xlate *out = w->out;
		out->pa = s2.pa;
		out->ipa = ipa;
		if (w->probe) {
			out->leaf_iova = pbase;
			out->leaf_shift = e.page_shift;
			return 0;
		}
		const struct tlb_ent *e2 = s2.e;
		/* The combined entry's page is the smaller leaf; the leaf a
		 * caller is told of is stage 1's, the IOVA range the access
		 * dirties (as the probe reports). */
		unsigned shift = e2 && e2->shift < e.page_shift ? e2->shift : e.page_shift;
		out->leaf_iova = pbase;
		out->leaf_shift = e.page_shift;
		out->dirtied = dirtied || s2.dirtied;
		out->accessed = accessed || s2.accessed;
		if (write) {
			m->n.writes_ok++;
			/* The stage-1 leaf under the nested tag; stage 2 recorded
			 * the IPA's leaf under the parent's (s2_access). */
			if (c->hd)
				ims_oracle_write(m->oracle, c->tag, pbase, e.page_shift);
		} else {
			m->n.reads_ok++;
		}
		/* A combined entry needs both leaves cacheable: stage 2's is when
		 * the parent's IOTLB holds it. */
		if (m->nest && e2 && ops->cacheable(c, now)) {
			uint32_t dummy;
			bool cr = ops->check(c, now, &e, r, wr, IMS_ACC_R, &dummy) == IMS_FAULT_NONE;
			bool cw = ops->check(c, now, &e, r, wr, IMS_ACC_W, &dummy) == IMS_FAULT_NONE;
			bool clean_ok = !c->hd || write || ops->is_dirty(c, now);
			uint64_t pa = s2.pa & ~lmask(shift);
			combined_fill(m, c->tag, w->iova & ~lmask(shift), shift, pa, ipa & ~lmask(shift),
				      e.page_shift, e2->shift, cr && e2->r, cw && e2->w,
				      clean_ok && e2->dirty, absent);
		}
		return 0;
	}
}

/* The stage-2 context of nested slot s, or NULL when it cannot translate
 * (removed contexts are refused while in use; a parent replaced by one of
 * another format or that no longer decodes). */
static const struct ctx_slot *parent_of(const struct ims_iommu *m, const struct ctx_slot *s)
{
	const struct ctx_slot *p = m->ctx[s->parent];
	if (!p || !p->hw_valid || p->nested || (int)p->fmt != ims_format_nest_s2(s->fmt))
		return NULL;
	return p;
}

/* Charges a slow translation (as translate.c does). */
static int charge(struct ims_iommu *m, struct ims_xlate *out, uint64_t t, uint64_t reads,
		  uint64_t writes, int rc)
{
	*m->hw_load_count += m->hw_loads;
	m->hw_loads = 0;
	uint64_t c = t + m->cyc + (m->n.pte_reads - reads) * m->cfg.lat.pte_read +
		     (m->n.ad_writes - writes) * m->cfg.lat.ad_update;
	m->cyc = 0;
	m->hist[hist_bucket(c)]++;
	if (c > m->slow_max)
		m->slow_max = c;
	out->cycles = c;
	m->n.cycles += c;
	return rc;
}

int nest_translate(struct ims_iommu *m, uint32_t dev, const struct dev_slot *d,
		   const struct ctx_slot *s, uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	(void)d;
	const struct hw_ctx *c = &s->hw;
	const struct ctx_slot *ps = parent_of(m, s);
	struct nw w = {.m = m, .dev = dev, .c = c, .p = ps ? &ps->hw : NULL, .iova = iova,
		       .acc = acc, .out = out};
	uint64_t reads = m->n.pte_reads, writes = m->n.ad_writes;
	bool write = (acc & IMS_ACC_W) != 0;
	if (iova & c->ias_over)
		return charge(m, out, m->link2, reads, writes,
			      nfault(&w, 1, NEST_FINAL, 0, IMS_FAULT_NOTPRESENT,
				     c->ops->cond_code(c, COND_RANGE, write), -1));
	if (!ps) {
		/* No usable stage 2: the stage-2 format's invalid-context code
		 * (C_BAD_STE, ...), which no walk qualifies (no nest_code). */
		struct hw_fmt p2 = *hw_of(ims_format_nest_s2(s->fmt));
		p2.nest_code = NULL;
		struct hw_ctx dummy;
		memset(&dummy, 0, sizeof(dummy));
		dummy.ops = &p2;
		w.p = &dummy;
		return charge(m, out, m->link2, reads, writes,
			      nfault(&w, 2, NEST_FINAL, 0, IMS_FAULT_NOTPRESENT,
				     p2.cond_code(&dummy, COND_CTX, write), -1));
	}
	const struct hw_ctx *p = w.p;
	uint64_t t = m->link2;
	struct tlb_ent *e = NULL;
	if (m->tlb.sets) {
		t = m->hit_cost;
		e = tlb_lookup(m, &m->tlb, c->tag, iova);
		if (e && serves(e, acc) && m->nest) {
			m->n.iotlb_hits++;
			const struct nest_info *ni = &m->nest[e - m->tlb.e];
			uint64_t off = iova & lmask(e->shift);
			out->pa = e->out + off;
			out->ipa = ni->ipa + off;
			out->leaf_iova = iova & ~lmask(ni->s1_shift);
			out->leaf_shift = ni->s1_shift;
			out->iotlb_hit = true;
			if (write) {
				m->n.writes_ok++;
				if (c->hd)
					ims_oracle_write(m->oracle, c->tag, iova & ~lmask(ni->s1_shift),
							 ni->s1_shift);
				if (p->hd)
					ims_oracle_write(m->oracle, p->tag,
							 out->ipa & ~lmask(ni->s2_shift), ni->s2_shift);
			} else {
				m->n.reads_ok++;
			}
			out->cycles = m->hit_cost;
			m->n.cycles += m->hit_cost;
			return 0;
		}
		if (e) {
			/* Cached without the permission or the dirty state the
			 * access needs: hardware walks again. */
			m->n.iotlb_hits++;
			m->iotlb_unserved++;
		} else {
			m->n.iotlb_misses++;
		}
	}
	m->cur = NULL;
	int rc = s1_walk(&w, e == NULL);
	return charge(m, out, t, reads, writes, rc);
}

int nest_probe(struct ims_iommu *m, const struct ctx_slot *s, uint64_t iova, unsigned acc,
	       struct ims_xlate *out, struct ims_leaf *lf)
{
	const struct ctx_slot *ps = parent_of(m, s);
	if (!ps)
		return -ENOENT;
	struct nw w = {.m = m, .c = &s->hw, .p = &ps->hw, .iova = iova, .acc = acc, .probe = true,
		       .out = out, .lf = lf};
	bool was = m->probing;
	m->probing = true;
	m->cur = NULL;
	int rc = s1_walk(&w, false);
	m->probing = was;
	return rc;
}
