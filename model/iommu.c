/* The IOMMU instance and its generic translation engine.
 *
 * IOTLB lookup -> walk (from the deepest walk-cache hit) -> permission check
 * -> atomic A/D update -> success or a queued fault. The format supplies the
 * per-level rules (model/hwfmt.h); this file knows no descriptor bit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hwfmt.h"

#define MAX_LEVELS 8

struct ctx_slot {
	enum ims_format fmt;
	uint64_t words[IMS_CTX_WORDS];
	struct hw_ctx hw;
	bool hw_valid; /* the last decode succeeded */
};

/* One IOTLB entry caches a whole page (leaf, replica run or contiguous
 * group) with its permissions and whether a write needs a memory update. */
struct tlb_ent {
	uint64_t vpn; /* iova >> shift */
	uint64_t pa;  /* output address of the page */
	uint64_t stamp;
	uint16_t tag;
	uint8_t shift;
	bool valid, r, w;
	bool dirty; /* a write through it needs no memory update */
};

/* A walk-cache entry: the table at `level` for IOVAs sharing key. */
struct wc_ent {
	uint64_t key; /* iova >> shift of the entry above (level + 1) */
	uint64_t table;
	uint64_t stamp;
	uint16_t tag;
	bool valid, r, w;
};

struct dev_slot {
	uint32_t dev;
	uint16_t tag;
	bool used;
};

struct ims_iommu {
	struct ims_mem *mem;
	struct ims_iommu_cfg cfg;
	struct ims_oracle *oracle;
	struct ctx_slot **ctx; /* 65536 slots, by tag */

	struct dev_slot *devs;
	size_t ndev_cap, ndev;

	struct tlb_ent *tlb;
	unsigned tlb_sets, tlb_ways;
	unsigned shift_live[64]; /* valid IOTLB entries per page shift */
	uint64_t shift_mask;     /* shifts with live entries */

	struct wc_ent *wc[MAX_LEVELS];
	unsigned wc_sets, wc_ways;

	uint64_t stamp;
	uint64_t rng;

	struct ims_fault *faults;
	size_t fq_head, fq_len, fq_cap;
	bool probing; /* a side-effect-free probe is walking */

	struct ims_iommu_counters n;
};

void ims_iommu_cfg_default(struct ims_iommu_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->iotlb_entries = 512;
	cfg->iotlb_ways = 8;
	cfg->wc_entries = 64;
	cfg->wc_ways = 4;
	cfg->replica = IMS_REPLICA_COVERING;
	cfg->seed = 1;
	cfg->vtd_nonleaf_accessed = true;
	/* Every A/D capability present; HATS = 2 (6 levels). */
	cfg->amd_efr = (1ull << 49) | (1ull << 52) | (2ull << 10);
	cfg->vtd_cap = (1ull << 34) | (1ull << 35);
	cfg->vtd_ecap = (1ull << 45) | (1ull << 48);
	cfg->smmu_idr0 = 2ull << 6;
}

const struct hw_fmt *hw_fmt_get(enum ims_format f)
{
	const struct hw_fmt *ops = NULL;
	switch (f) {
	case IMS_FMT_AMDV1:
		ops = &amd_hw_fmt;
		break;
	case IMS_FMT_VTD:
		ops = &vtd_hw_fmt;
		break;
	case IMS_FMT_SMMUV3:
		ops = &smmu_hw_fmt;
		break;
	default:
		break;
	}
	return ops && ops->decode_ctx ? ops : NULL;
}

int ims_ctx_encode(enum ims_format fmt, const struct ims_ctx_params *p,
		   uint64_t words[IMS_CTX_WORDS], char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	memset(words, 0, sizeof(uint64_t) * IMS_CTX_WORDS);
	int (*enc)(const struct ims_ctx_params *, uint64_t *, char *, size_t) = NULL;
	switch (fmt) {
	case IMS_FMT_AMDV1:
		enc = amd_ctx_encode;
		break;
	case IMS_FMT_VTD:
		enc = vtd_ctx_encode;
		break;
	case IMS_FMT_SMMUV3:
		enc = smmu_ctx_encode;
		break;
	default:
		break;
	}
	if (!enc) {
		snprintf(err, errlen, "format %s is not built in", ims_format_name(fmt));
		return -EINVAL;
	}
	return enc(p, words, err, errlen);
}

static uint64_t rng_next(struct ims_iommu *m)
{
	/* xorshift64*: deterministic per seed, no global state. */
	uint64_t x = m->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static unsigned pow2_floor(unsigned x)
{
	return x ? 1u << ims_log2(x) : 0;
}

int ims_iommu_new(struct ims_mem *mem, const struct ims_iommu_cfg *cfg, struct ims_iommu **out)
{
	*out = NULL;
	struct ims_iommu *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->mem = mem;
	if (cfg)
		m->cfg = *cfg;
	else
		ims_iommu_cfg_default(&m->cfg);
	m->rng = m->cfg.seed ? m->cfg.seed : 0x9e3779b97f4a7c15ull;
	m->ctx = calloc(65536, sizeof(*m->ctx));
	m->oracle = ims_oracle_new();
	if (!m->ctx || !m->oracle)
		goto nomem;

	unsigned ways = m->cfg.iotlb_ways ? m->cfg.iotlb_ways : 1;
	if (m->cfg.iotlb_entries) {
		if (ways > m->cfg.iotlb_entries)
			ways = m->cfg.iotlb_entries;
		m->tlb_ways = ways;
		m->tlb_sets = pow2_floor(m->cfg.iotlb_entries / ways);
		m->tlb = calloc((size_t)m->tlb_sets * ways, sizeof(*m->tlb));
		if (!m->tlb)
			goto nomem;
	}
	ways = m->cfg.wc_ways ? m->cfg.wc_ways : 1;
	if (m->cfg.wc_entries) {
		if (ways > m->cfg.wc_entries)
			ways = m->cfg.wc_entries;
		m->wc_ways = ways;
		m->wc_sets = pow2_floor(m->cfg.wc_entries / ways);
		for (int l = 0; l < MAX_LEVELS; l++) {
			m->wc[l] = calloc((size_t)m->wc_sets * ways, sizeof(struct wc_ent));
			if (!m->wc[l])
				goto nomem;
		}
	}
	*out = m;
	return 0;
nomem:
	ims_iommu_free(m);
	return -ENOMEM;
}

void ims_iommu_free(struct ims_iommu *m)
{
	if (!m)
		return;
	if (m->ctx)
		for (unsigned i = 0; i < 65536; i++)
			free(m->ctx[i]);
	free(m->ctx);
	ims_oracle_free(m->oracle);
	free(m->devs);
	free(m->tlb);
	for (int l = 0; l < MAX_LEVELS; l++)
		free(m->wc[l]);
	free(m->faults);
	free(m);
}

struct ims_oracle *ims_iommu_oracle(struct ims_iommu *m) { return m->oracle; }
const struct ims_iommu_cfg *ims_iommu_config(const struct ims_iommu *m) { return &m->cfg; }
const struct ims_iommu_counters *ims_iommu_counters(const struct ims_iommu *m) { return &m->n; }

/* ---- contexts ---------------------------------------------------------- */

static int decode_slot(struct ims_iommu *m, uint16_t tag, struct ctx_slot *s, char *err,
		       size_t errlen)
{
	const struct hw_fmt *ops = hw_fmt_get(s->fmt);
	struct hw_ctx c;
	memset(&c, 0, sizeof(c));
	if (!ops) {
		if (err)
			snprintf(err, errlen, "format %s is not built in", ims_format_name(s->fmt));
		s->hw_valid = false;
		return -EINVAL;
	}
	int rc = ops->decode_ctx(s->words, &m->cfg, &c, err, errlen);
	if (rc) {
		s->hw_valid = false;
		return rc;
	}
	c.ops = ops;
	c.tag = tag;
	c.priv = m->cfg.dma_privileged;
	s->hw = c;
	s->hw_valid = true;
	return 0;
}

int ims_iommu_ctx_set(struct ims_iommu *m, uint16_t tag, enum ims_format fmt,
		      const uint64_t words[IMS_CTX_WORDS], char *err, size_t errlen)
{
	struct ctx_slot tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.fmt = fmt;
	memcpy(tmp.words, words, sizeof(tmp.words));
	int rc = decode_slot(m, tag, &tmp, err, errlen);
	if (rc)
		return rc;
	if (!m->ctx[tag]) {
		m->ctx[tag] = malloc(sizeof(struct ctx_slot));
		if (!m->ctx[tag])
			return -ENOMEM;
	}
	*m->ctx[tag] = tmp;
	return 0;
}

int ims_iommu_ctx_get(const struct ims_iommu *m, uint16_t tag, uint64_t words[IMS_CTX_WORDS])
{
	if (!m->ctx[tag])
		return -ENOENT;
	memcpy(words, m->ctx[tag]->words, sizeof(m->ctx[tag]->words));
	return 0;
}

int ims_iommu_ctx_update(struct ims_iommu *m, uint16_t tag, unsigned word, uint64_t clear,
			 uint64_t set)
{
	if (!m->ctx[tag])
		return -ENOENT;
	if (word >= IMS_CTX_WORDS)
		return -EINVAL;
	m->ctx[tag]->words[word] = (m->ctx[tag]->words[word] & ~clear) | set;
	return 0;
}

int ims_iommu_ctx_invalidate(struct ims_iommu *m, uint16_t tag)
{
	m->n.inv_ctx++;
	if (!m->ctx[tag])
		return -ENOENT;
	/* A context that no longer decodes stops translating (faults); the
	 * caller learns it, as a driver reads a command-completion error. */
	return decode_slot(m, tag, m->ctx[tag], NULL, 0);
}

int ims_iommu_ctx_remove(struct ims_iommu *m, uint16_t tag)
{
	if (!m->ctx[tag])
		return -ENOENT;
	free(m->ctx[tag]);
	m->ctx[tag] = NULL;
	ims_iommu_inv_domain(m, tag);
	return 0;
}

bool ims_iommu_ctx_dirty_enabled(const struct ims_iommu *m, uint16_t tag)
{
	const struct ctx_slot *s = m->ctx[tag];
	return s && s->hw_valid && s->hw.hd;
}

/* ---- devices ----------------------------------------------------------- */

static uint32_t dev_hash(uint32_t dev)
{
	return (dev * 0x9e3779b1u) >> 7;
}

static struct dev_slot *dev_find(const struct ims_iommu *m, uint32_t dev)
{
	if (!m->ndev_cap)
		return NULL;
	size_t mask = m->ndev_cap - 1;
	for (size_t i = dev_hash(dev) & mask;; i = (i + 1) & mask) {
		if (!m->devs[i].used)
			return NULL;
		if (m->devs[i].dev == dev)
			return &m->devs[i];
	}
}

static int dev_grow(struct ims_iommu *m)
{
	size_t cap = m->ndev_cap ? m->ndev_cap * 2 : 16;
	struct dev_slot *n = calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < m->ndev_cap; i++) {
		if (!m->devs[i].used)
			continue;
		size_t j = dev_hash(m->devs[i].dev) & (cap - 1);
		while (n[j].used)
			j = (j + 1) & (cap - 1);
		n[j] = m->devs[i];
	}
	free(m->devs);
	m->devs = n;
	m->ndev_cap = cap;
	return 0;
}

int ims_iommu_attach(struct ims_iommu *m, uint32_t dev, uint16_t tag)
{
	if (!m->ctx[tag])
		return -ENOENT;
	struct dev_slot *s = dev_find(m, dev);
	if (s) {
		s->tag = tag;
		return 0;
	}
	if ((m->ndev + 1) * 2 > m->ndev_cap) {
		int rc = dev_grow(m);
		if (rc)
			return rc;
	}
	size_t mask = m->ndev_cap - 1;
	size_t i = dev_hash(dev) & mask;
	while (m->devs[i].used)
		i = (i + 1) & mask;
	m->devs[i] = (struct dev_slot){.dev = dev, .tag = tag, .used = true};
	m->ndev++;
	return 0;
}

int ims_iommu_detach(struct ims_iommu *m, uint32_t dev)
{
	struct dev_slot *s = dev_find(m, dev);
	if (!s)
		return -ENOENT;
	/* Backward-shift deletion keeps probe chains intact. */
	size_t mask = m->ndev_cap - 1;
	size_t i = (size_t)(s - m->devs);
	s->used = false;
	for (size_t j = (i + 1) & mask; m->devs[j].used; j = (j + 1) & mask) {
		size_t home = dev_hash(m->devs[j].dev) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->devs[i] = m->devs[j];
			m->devs[j].used = false;
			i = j;
		}
	}
	m->ndev--;
	return 0;
}

/* ---- faults ------------------------------------------------------------ */

static void fault_push(struct ims_iommu *m, const struct ims_fault *f)
{
	m->n.faults++;
	if (m->fq_len == m->fq_cap) {
		size_t cap = m->fq_cap ? m->fq_cap * 2 : 64;
		struct ims_fault *n = malloc(cap * sizeof(*n));
		if (!n)
			return; /* the counter still tells */
		for (size_t i = 0; i < m->fq_len; i++)
			n[i] = m->faults[(m->fq_head + i) % m->fq_cap];
		free(m->faults);
		m->faults = n;
		m->fq_cap = cap;
		m->fq_head = 0;
	}
	m->faults[(m->fq_head + m->fq_len) % m->fq_cap] = *f;
	m->fq_len++;
}

size_t ims_iommu_fault_pending(const struct ims_iommu *m) { return m->fq_len; }

bool ims_iommu_fault_pop(struct ims_iommu *m, struct ims_fault *out)
{
	if (!m->fq_len)
		return false;
	*out = m->faults[m->fq_head];
	m->fq_head = (m->fq_head + 1) % m->fq_cap;
	m->fq_len--;
	return true;
}

/* ---- IOTLB ------------------------------------------------------------- */

static unsigned tlb_set(const struct ims_iommu *m, uint16_t tag, uint64_t vpn, unsigned shift)
{
	uint64_t h = (vpn ^ ((uint64_t)tag << 40) ^ ((uint64_t)shift << 56)) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 40) & (m->tlb_sets - 1);
}

static struct tlb_ent *tlb_lookup(struct ims_iommu *m, uint16_t tag, uint64_t iova)
{
	for (uint64_t sm = m->shift_mask; sm; sm &= sm - 1) {
		unsigned shift = (unsigned)__builtin_ctzll(sm);
		uint64_t vpn = iova >> shift;
		struct tlb_ent *set = &m->tlb[(size_t)tlb_set(m, tag, vpn, shift) * m->tlb_ways];
		for (unsigned w = 0; w < m->tlb_ways; w++) {
			struct tlb_ent *e = &set[w];
			if (e->valid && e->vpn == vpn && e->tag == tag && e->shift == shift) {
				e->stamp = ++m->stamp;
				return e;
			}
		}
	}
	return NULL;
}

static void tlb_drop(struct ims_iommu *m, struct tlb_ent *e)
{
	e->valid = false;
	if (--m->shift_live[e->shift] == 0)
		m->shift_mask &= ~(1ull << e->shift);
	m->n.inv_entries++;
}

static void tlb_fill(struct ims_iommu *m, uint16_t tag, uint64_t iova, unsigned shift,
		     uint64_t pa, bool r, bool w, bool dirty)
{
	if (!m->tlb)
		return;
	uint64_t vpn = iova >> shift;
	struct tlb_ent *set = &m->tlb[(size_t)tlb_set(m, tag, vpn, shift) * m->tlb_ways];
	struct tlb_ent *victim = NULL;
	for (unsigned w_ = 0; w_ < m->tlb_ways; w_++) {
		struct tlb_ent *e = &set[w_];
		if (e->valid && e->vpn == vpn && e->tag == tag && e->shift == shift) {
			victim = e; /* refresh in place */
			break;
		}
		if (!e->valid) {
			if (!victim || victim->valid)
				victim = e;
		} else if (!victim || (victim->valid && e->stamp < victim->stamp)) {
			victim = e;
		}
	}
	if (victim->valid) {
		if (!(victim->vpn == vpn && victim->tag == tag && victim->shift == shift))
			m->n.iotlb_evictions++;
		if (--m->shift_live[victim->shift] == 0)
			m->shift_mask &= ~(1ull << victim->shift);
	}
	*victim = (struct tlb_ent){.vpn = vpn, .pa = pa, .stamp = ++m->stamp, .tag = tag,
				   .shift = (uint8_t)shift, .valid = true, .r = r, .w = w,
				   .dirty = dirty};
	m->shift_live[shift]++;
	m->shift_mask |= 1ull << shift;
	m->n.iotlb_fills++;
}

/* ---- walk caches --------------------------------------------------------- */

static struct wc_ent *wc_set(struct ims_iommu *m, int level, uint16_t tag, uint64_t key)
{
	uint64_t h = (key ^ ((uint64_t)tag << 44)) * 0x9e3779b97f4a7c15ull;
	return &m->wc[level][(size_t)((unsigned)(h >> 40) & (m->wc_sets - 1)) * m->wc_ways];
}

static bool wc_lookup(struct ims_iommu *m, const struct hw_ctx *c, int level, uint64_t iova,
		      uint64_t *table, bool *r, bool *w)
{
	uint64_t key = iova >> hw_level_shift(c, level + 1);
	struct wc_ent *set = wc_set(m, level, c->tag, key);
	for (unsigned i = 0; i < m->wc_ways; i++) {
		struct wc_ent *e = &set[i];
		if (e->valid && e->key == key && e->tag == c->tag) {
			e->stamp = ++m->stamp;
			*table = e->table;
			*r = e->r;
			*w = e->w;
			return true;
		}
	}
	return false;
}

static void wc_fill(struct ims_iommu *m, const struct hw_ctx *c, int level, uint64_t iova,
		    uint64_t table, bool r, bool w)
{
	uint64_t key = iova >> hw_level_shift(c, level + 1);
	struct wc_ent *set = wc_set(m, level, c->tag, key);
	struct wc_ent *victim = &set[0];
	for (unsigned i = 0; i < m->wc_ways; i++) {
		struct wc_ent *e = &set[i];
		if ((e->valid && e->key == key && e->tag == c->tag) || !e->valid) {
			victim = e;
			break;
		}
		if (e->stamp < victim->stamp)
			victim = e;
	}
	*victim = (struct wc_ent){.key = key, .table = table, .stamp = ++m->stamp, .tag = c->tag,
				  .valid = true, .r = r, .w = w};
}

/* ---- translation --------------------------------------------------------- */

static int fault(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova,
		 unsigned acc, enum ims_fault_kind kind, uint32_t code, struct ims_xlate *out)
{
	if (m->probing) {
		out->fault = kind;
		out->code = code;
		return (int)kind;
	}
	struct ims_fault f = {.dev = dev, .iova = iova, .kind = kind, .code = code,
			      .write = (acc & IMS_ACC_W) != 0};
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

/* Apply the A/D update u for an access through the leaf run [first, first+n)
 * of a table, the walk having read entry `covering`. */
static void apply_update(struct ims_iommu *m, const struct hw_ctx *c, uint64_t first, unsigned n,
			 uint64_t covering, struct hw_upd *u)
{
	if (n > 1 && c->ops->group_skip_if_any && ((u->a_set | u->a_clear) || (u->d_set | u->d_clear))) {
		/* D8.5.5: an update another entry of the group records is skipped. */
		bool any_a = false, any_d = false;
		for (unsigned i = 0; i < n; i++) {
			uint64_t v = ims_mem_load(m->mem, IMS_AGENT_HW, first + 8ull * i);
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
		return;
	uint64_t target = covering;
	if (n > 1) {
		switch (m->cfg.replica) {
		case IMS_REPLICA_FIRST:
			target = first;
			break;
		case IMS_REPLICA_RANDOM:
			target = first + 8 * (rng_next(m) % n);
			break;
		default:
			break;
		}
	}
	/* Interlocked RMW: only a word that would change is written. */
	uint64_t old = ims_mem_load(m->mem, IMS_AGENT_HW, target);
	m->n.pte_reads++;
	if (((old & ~clear) | set) == old)
		return;
	ims_mem_rmw(m->mem, IMS_AGENT_HW, target, clear, set);
	m->n.ad_writes++;
	if (u->d_set | u->d_clear)
		m->n.dirty_sets++;
}

static int walk(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova,
		unsigned acc, struct ims_xlate *out, bool probe)
{
	const struct hw_fmt *ops = c->ops;
	int level = c->top;
	uint64_t table = c->root;
	bool r = c->r, w = c->w;
	if (!probe)
		m->n.walks++;

	/* A probe reads memory only: no cache, no A/D, no fault, no counter. */
	if (m->wc_sets && !probe) {
		bool hit = false;
		for (int l = 0; l < c->top && !hit; l++)
			hit = wc_lookup(m, c, l, iova, &table, &r, &w) && (level = l, true);
		if (hit)
			m->n.wc_hits++;
		else
			m->n.wc_misses++;
	}

	for (;;) {
		unsigned shift = hw_level_shift(c, level);
		unsigned bits = hw_level_bits(c, level);
		uint64_t idx = bits >= 64 ? iova >> shift : (iova >> shift) & ((1ull << bits) - 1);
		uint64_t pte_pa = table + 8 * idx;
		uint64_t pte = ims_mem_load(m->mem, IMS_AGENT_HW, pte_pa);
		if (!probe)
			m->n.pte_reads++;
		struct hw_ent e;
		memset(&e, 0, sizeof(e));
		ops->decode(c, level, pte, acc, &e);

		if (e.kind == HWE_INVALID || e.kind == HWE_RESERVED)
			return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT, e.code, out);

		if (e.kind == HWE_TABLE) {
			if (e.next >= level || e.next < 0)
				return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
					     ops->cond_code(c, COND_SKIP, acc & IMS_ACC_W), out);
			uint64_t a = ops->table_update && !probe ? ops->table_update(c, pte) : 0;
			if (a && (pte & a) != a) {
				ims_mem_rmw(m->mem, IMS_AGENT_HW, pte_pa, 0, a);
				m->n.ad_writes++;
			}
			r = r && e.r;
			w = w && e.w;
			if (e.next < level - 1) {
				/* Skipped levels translate only IOVAs whose bits there are 0. */
				unsigned lo = hw_level_shift(c, e.next + 1);
				uint64_t span = (shift - lo) >= 64 ? ~0ull : ((1ull << (shift - lo)) - 1);
				if ((iova >> lo) & span)
					return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
						     ops->cond_code(c, COND_SKIP, acc & IMS_ACC_W),
						     out);
			}
			level = e.next;
			table = e.addr;
			if (m->wc_sets && !probe)
				wc_fill(m, c, level, iova, table, r, w);
			continue;
		}

		/* Leaf. */
		uint32_t code = 0;
		enum ims_fault_kind k = ops->check(c, pte, &e, r, w, acc, &code);
		if (k != IMS_FAULT_NONE)
			return fault(m, dev, c, iova, acc, k, code, out);
		if (probe) {
			uint64_t pbase = e.page_shift >= 64 ? 0 : iova & ~((1ull << e.page_shift) - 1);
			out->pa = e.addr + (iova - pbase);
			out->leaf_iova = pbase;
			out->leaf_shift = e.page_shift;
			return 0;
		}

		struct hw_upd u = {0};
		ops->leaf_update(c, pte, acc, &u);
		unsigned n = 1;
		uint64_t first = pte_pa;
		if (e.page_shift > shift) {
			unsigned span = e.page_shift - shift;
			n = span >= bits ? (1u << bits) : (1u << span);
			first = table + 8 * (idx & ~(uint64_t)(n - 1));
		}
		bool write = (acc & IMS_ACC_W) != 0;
		uint64_t before = m->n.dirty_sets;
		apply_update(m, c, first, n, pte_pa, &u);

		uint64_t page_iova = e.page_shift >= 64 ? 0 : iova & ~((1ull << e.page_shift) - 1);
		uint64_t off = iova - page_iova;
		out->pa = e.addr + off;
		out->leaf_iova = page_iova;
		out->leaf_shift = e.page_shift;
		out->dirtied = m->n.dirty_sets != before;
		if (write) {
			m->n.writes_ok++;
			if (c->hd)
				ims_oracle_write(m->oracle, c->tag, page_iova, e.page_shift);
		} else {
			m->n.reads_ok++;
		}

		uint64_t now = ims_mem_load(m->mem, IMS_AGENT_HW, pte_pa);
		if (m->tlb && ops->cacheable(c, now)) {
			uint32_t dummy;
			bool cr = ops->check(c, now, &e, r, w, IMS_ACC_R, &dummy) == IMS_FAULT_NONE;
			bool cw = ops->check(c, now, &e, r, w, IMS_ACC_W, &dummy) == IMS_FAULT_NONE;
			/* A write needs no update once this page is dirty, or when
			 * hardware does not track dirty state at all. */
			bool clean_ok = !c->hd || write || ops->is_dirty(c, now);
			tlb_fill(m, c->tag, page_iova, e.page_shift, e.addr, cr, cw, clean_ok);
		}
		return 0;
	}
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
	m->n.translations++;
	struct dev_slot *d = dev_find(m, dev);
	if (!d)
		return fault(m, dev, NULL, iova, acc, IMS_FAULT_UNATTACHED, 0, out);
	struct ctx_slot *s = m->ctx[d->tag];
	if (!s || !s->hw_valid) {
		struct ims_fault f = {.dev = dev, .dom = d->tag, .has_dom = true, .iova = iova,
				      .kind = IMS_FAULT_NOTPRESENT, .write = (acc & IMS_ACC_W) != 0};
		fault_push(m, &f);
		out->fault = f.kind;
		return (int)f.kind;
	}
	const struct hw_ctx *c = &s->hw;
	if (c->ias < 64 && (iova >> c->ias))
		return fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
			     c->ops->cond_code(c, COND_RANGE, acc & IMS_ACC_W), out);

	if (m->tlb) {
		struct tlb_ent *e = tlb_lookup(m, c->tag, iova);
		if (e) {
			m->n.iotlb_hits++;
			bool ok = (!(acc & IMS_ACC_R) || e->r) && (!(acc & IMS_ACC_W) || (e->w && e->dirty));
			if (ok) {
				out->pa = e->pa + (iova & ((1ull << e->shift) - 1));
				out->leaf_iova = e->vpn << e->shift;
				out->leaf_shift = e->shift;
				out->iotlb_hit = true;
				if (acc & IMS_ACC_W) {
					m->n.writes_ok++;
					if (c->hd)
						ims_oracle_write(m->oracle, c->tag, out->leaf_iova,
								 e->shift);
				} else {
					m->n.reads_ok++;
				}
				return 0;
			}
			/* A write through an entry cached clean (or a permission the
			 * entry lacks) goes back to memory: hardware re-walks. */
		} else {
			m->n.iotlb_misses++;
		}
	}
	return walk(m, dev, c, iova, acc, out, false);
}

int ims_iommu_probe(struct ims_iommu *m, uint16_t tag, uint64_t iova, unsigned acc,
		    struct ims_xlate *out)
{
	memset(out, 0, sizeof(*out));
	const struct ctx_slot *s = m->ctx[tag];
	if (!s || !s->hw_valid)
		return -ENOENT;
	const struct hw_ctx *c = &s->hw;
	if (c->ias < 64 && (iova >> c->ias)) {
		out->fault = IMS_FAULT_NOTPRESENT;
		return IMS_FAULT_NOTPRESENT;
	}
	m->probing = true;
	int rc = walk(m, 0, c, iova, acc ? acc : IMS_ACC_R, out, true);
	m->probing = false;
	return rc;
}

uint64_t ims_iommu_dma(struct ims_iommu *m, uint32_t dev, uint64_t iova, uint64_t len,
		       unsigned acc, uint64_t *pieces)
{
	uint64_t faulted = 0, count = 0;
	uint64_t left = len, at = iova;
	while (left) {
		uint64_t room = IMS_PAGE_SIZE - (at & (IMS_PAGE_SIZE - 1));
		uint64_t n = room < left ? room : left;
		if (ims_iommu_access(m, dev, at, acc, NULL) > 0)
			faulted++;
		count++;
		left -= n;
		at += n;
	}
	if (pieces)
		*pieces = count;
	return faulted;
}

/* ---- invalidation -------------------------------------------------------- */

static bool overlaps(uint64_t a, uint64_t alen_shift_end, uint64_t b, uint64_t bend)
{
	/* [a, alen_shift_end] and [b, bend] are inclusive ranges. */
	return a <= bend && b <= alen_shift_end;
}

static void inv_match(struct ims_iommu *m, bool all, uint16_t tag, bool ranged, uint64_t first,
		      uint64_t last, bool leaf_only)
{
	size_t nt = (size_t)m->tlb_sets * m->tlb_ways;
	for (size_t i = 0; i < nt; i++) {
		struct tlb_ent *e = &m->tlb[i];
		if (!e->valid || (!all && e->tag != tag))
			continue;
		if (ranged) {
			uint64_t s = e->vpn << e->shift;
			uint64_t end = s + ((1ull << e->shift) - 1);
			if (!overlaps(s, end, first, last))
				continue;
		}
		tlb_drop(m, e);
	}
	if (leaf_only || !m->wc_sets)
		return;
	size_t nw = (size_t)m->wc_sets * m->wc_ways;
	for (int l = 0; l < MAX_LEVELS; l++) {
		for (size_t i = 0; i < nw; i++) {
			struct wc_ent *e = &m->wc[l][i];
			if (!e->valid || (!all && e->tag != tag))
				continue;
			if (ranged && m->ctx[e->tag] && m->ctx[e->tag]->hw_valid) {
				unsigned sh = hw_level_shift(&m->ctx[e->tag]->hw, l + 1);
				uint64_t s = sh >= 64 ? 0 : e->key << sh;
				uint64_t end = sh >= 64 ? ~0ull : s + ((1ull << sh) - 1);
				if (!overlaps(s, end, first, last))
					continue;
			}
			e->valid = false;
			m->n.inv_entries++;
		}
	}
}

void ims_iommu_inv_range(struct ims_iommu *m, uint16_t tag, uint64_t iova, uint64_t size,
			 unsigned flags)
{
	m->n.inv_range++;
	if (!size)
		return;
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	inv_match(m, false, tag, true, iova, last, flags & IMS_INV_LEAF);
}

void ims_iommu_inv_domain(struct ims_iommu *m, uint16_t tag)
{
	m->n.inv_domain++;
	inv_match(m, false, tag, false, 0, 0, false);
}

void ims_iommu_inv_all(struct ims_iommu *m)
{
	m->n.inv_all++;
	inv_match(m, true, 0, false, 0, 0, false);
}

int ims_iommu_submit(struct ims_iommu *m, enum ims_format fmt, const uint64_t cmd[2])
{
	const struct hw_fmt *ops = hw_fmt_get(fmt);
	struct hw_cmd c;
	memset(&c, 0, sizeof(c));
	if (!ops || ops->decode_cmd(cmd, &c))
		return -EINVAL;
	switch (c.kind) {
	case CMD_INV_RANGE:
		ims_iommu_inv_range(m, c.tag, c.iova, c.size, c.leaf_only ? IMS_INV_LEAF : 0);
		return 0;
	case CMD_INV_DOMAIN:
		ims_iommu_inv_domain(m, c.tag);
		return 0;
	case CMD_INV_ALL:
		ims_iommu_inv_all(m);
		return 0;
	case CMD_INV_CTX:
		return ims_iommu_ctx_invalidate(m, c.tag);
	default:
		return -EINVAL;
	}
}
