/* The IOMMU instance and its generic translation engine.
 *
 * micro-TLB (device side) -> link -> IOTLB lookup -> walk (from the deepest
 * walk-cache hit) -> permission check -> atomic A/D update -> success or a
 * queued fault. The format supplies the per-level rules (formats/hwfmt.h);
 * this file knows no descriptor bit. Every translation is given a cycle
 * count from the latencies of cfg.lat (docs/timing.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cache.h"
#include "formats/format.h"

#define MAX_LEVELS HW_MAX_LEVELS

struct ctx_slot {
	enum ims_format fmt;
	uint64_t words[IMS_CTX_WORDS];
	struct hw_ctx hw;
	bool hw_valid; /* the last decode succeeded */
};

struct dev_slot {
	uint32_t dev;
	uint16_t tag;
	bool used;
	struct cache *ut; /* the device's micro-TLB (NULL: off) */
};

/* Latency histogram: one bucket per cycle count below HIST_EXACT, then 64
 * log-linear buckets per power of two up to 2^63. Fixed size, so recording
 * a translation never allocates. */
#define HIST_EXACT 1024u
#define HIST_SUB_BITS 6
#define HIST_BUCKETS (HIST_EXACT + (64u - 10u) * (1u << HIST_SUB_BITS))
#define PF_MEMO 256u /* hint memo entries: 256 regions of 1 GiB at 4 KiB pages */

struct ims_iommu {
	struct ims_mem *mem;
	struct ims_iommu_cfg cfg;
	struct ims_oracle *oracle;
	struct ctx_slot **ctx; /* 65536 slots, by tag */

	struct dev_slot *devs;
	size_t ndev_cap, ndev;
	/* Where the device found last was (a trace's DMAs come from few
	 * devices, each in runs). An index, checked on use, so that slots may
	 * move (growth, detach) without telling it. */
	size_t dev_last;

	struct cache tlb;
	struct cache wc[MAX_LEVELS];
	bool wc_any; /* some walk-cache level is on */

	uint64_t stamp;
	uint64_t rng;

	struct ims_fault *faults;
	size_t fq_head, fq_len, fq_cap;
	bool probing; /* a side-effect-free probe is walking */

	/* The translation under way: its cycles and its device. */
	uint64_t cyc;
	uint64_t link2;    /* both ways of the link */
	uint64_t hit_cost; /* link2 + the IOTLB lookup */
	struct dev_slot *cur;
	bool tlb_missed; /* during cur's walk: the IOTLB look-up missed */
	uint64_t hw_loads; /* entries the walk under way read (hw_load) */
	/* Latencies of the translations that took the slow path (walk or
	 * fault). A micro-TLB or IOTLB hit that serves the access costs a
	 * fixed amount: those are counted by the hit counters and added when
	 * a percentile is asked for, which keeps the hit path short. */
	uint64_t *hist;
	uint64_t slow_max;
	uint64_t iotlb_unserved, utlb_unserved; /* hits that could not serve */
	uint64_t pf_walks; /* walks when ims_iommu_prefetch last ran */
	/* The hint's memo: the level-1 table of a region (an entry of a
	 * level-2 table) met by an earlier hint, keyed by tag, root and region,
	 * valid while no pool frame is freed (ims_mem_pool_epoch), with the
	 * view of the frame its entry was read from. */
	struct pf_memo {
		uint64_t key, root, table, epoch;
		const uint64_t *frame; /* view of frame fn (the entry's), live while epoch holds */
		uint64_t fn;
		uint16_t tag;
		bool valid;
	} pf_memo[PF_MEMO];

	struct ims_iommu_counters n;
};

void ims_iommu_cfg_default(struct ims_iommu_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* Sources of each value: docs/timing.md ("Defaults"). gem5 is
	 * src/dev/arm/SMMUv3.py (SMMUv3DeviceInterface, SMMUv3). */
	cfg->iotlb_entries = 2048; /* gem5 tlb_entries */
	cfg->iotlb_ways = 4;       /* gem5 tlb_assoc */
	cfg->iotlb_policy = IMS_REPL_LRU;
	cfg->iotlb_latency = 3;    /* gem5 tlb_lat */
	cfg->utlb_enable = false;
	cfg->utlb_entries = 32;    /* gem5 utlb_entries */
	cfg->utlb_ways = 0;        /* gem5 utlb_assoc: fully associative */
	cfg->utlb_policy = IMS_REPL_ROUND_ROBIN; /* gem5 utlb_policy "rr" */
	cfg->utlb_latency = 1;     /* gem5 utlb_lat */
	cfg->wc_entries = 64;
	cfg->wc_ways = 4;          /* gem5 walk_assoc */
	cfg->wc_policy = IMS_REPL_LRU;
	cfg->wc_latency = 4;       /* gem5 walk_lat */
	cfg->lat.link = 8;         /* gem5 ifc_smmu_lat, smmu_ifc_lat */
	cfg->lat.pte_read = 100;
	cfg->lat.ad_update = 100;
	cfg->lat.inv_range = 100;
	cfg->lat.inv_domain = 100;
	cfg->lat.inv_all = 100;
	cfg->lat.inv_context = 100;
	cfg->lat.fault = 100;
	cfg->replica = IMS_REPLICA_COVERING;
	cfg->seed = 1;
	cfg->vtd_nonleaf_accessed = true;
	/* Every A/D capability present, as each format defines it. */
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		if (d && d->caps_default)
			d->caps_default(cfg);
	}
}

static const struct hw_fmt *hw_fmt_get(enum ims_format f)
{
	const struct fmt_desc *d = fmt_get(f);
	return d && d->hw && d->hw->decode_ctx ? d->hw : NULL;
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
	const struct fmt_desc *d = fmt_get(fmt);
	int (*enc)(const struct ims_ctx_params *, uint64_t *, char *, size_t) =
		d ? d->ctx_encode : NULL;
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

/* Seeds of the caches' random replacement: distinct per cache, all from
 * cfg.seed. */
static uint64_t cache_seed(const struct ims_iommu *m, unsigned salt)
{
	return (m->cfg.seed + 1 + salt) * 0x9e3779b97f4a7c15ull;
}

static int utlb_new(struct ims_iommu *m, struct cache **out)
{
	*out = NULL;
	if (!m->cfg.utlb_enable || !m->cfg.utlb_entries)
		return 0;
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (cache_init(c, m->cfg.utlb_entries, m->cfg.utlb_ways, m->cfg.utlb_policy,
		       m->cfg.utlb_latency, cache_seed(m, 100 + (unsigned)m->ndev))) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

static void utlb_free(struct cache *c)
{
	if (c) {
		cache_fini(c);
		free(c);
	}
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

	m->link2 = 2ull * m->cfg.lat.link;
	m->hit_cost = m->link2 + m->cfg.iotlb_latency;
	m->hist = calloc(HIST_BUCKETS, sizeof(*m->hist));
	if (!m->hist)
		goto nomem;
	const struct ims_iommu_cfg *k = &m->cfg;
	if (cache_init(&m->tlb, k->iotlb_entries, k->iotlb_ways ? k->iotlb_ways : 1, k->iotlb_policy,
		       k->iotlb_latency, cache_seed(m, 0)))
		goto nomem;
	for (int l = 0; l < MAX_LEVELS; l++) {
		const struct ims_wc_level_cfg *lc = l < IMS_WC_LEVELS ? &k->wc_level[l] : NULL;
		bool on = lc && lc->set ? lc->enable : !k->wc_disable;
		unsigned entries = lc && lc->set ? lc->entries : k->wc_entries;
		unsigned ways = lc && lc->set ? lc->ways : k->wc_ways;
		if (cache_init(&m->wc[l], on ? entries : 0, ways ? ways : 1,
			       lc && lc->set ? lc->policy : k->wc_policy,
			       lc && lc->set ? lc->latency : k->wc_latency, cache_seed(m, 1 + (unsigned)l)))
			goto nomem;
		m->wc_any |= m->wc[l].sets != 0;
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
	for (size_t i = 0; i < m->ndev_cap; i++)
		if (m->devs[i].used)
			utlb_free(m->devs[i].ut);
	free(m->devs);
	cache_fini(&m->tlb);
	for (int l = 0; l < MAX_LEVELS; l++)
		cache_fini(&m->wc[l]);
	free(m->hist);
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
	hw_ctx_index_init(&c);
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
	m->n.inv_cycles += m->cfg.lat.inv_context;
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

static void utlb_inv(struct ims_iommu *m, struct cache *ut, bool all, uint16_t tag, bool ranged,
		     uint64_t first, uint64_t last);

static uint32_t dev_hash(uint32_t dev)
{
	return (dev * 0x9e3779b1u) >> 7;
}

static struct dev_slot *dev_probe(const struct ims_iommu *m, uint32_t dev)
{
	if (m->dev_last < m->ndev_cap && m->devs[m->dev_last].used &&
	    m->devs[m->dev_last].dev == dev)
		return &m->devs[m->dev_last];
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

/* dev_probe, remembering what it found. */
static inline struct dev_slot *dev_find(struct ims_iommu *m, uint32_t dev)
{
	struct dev_slot *s = dev_probe(m, dev);
	if (s)
		m->dev_last = (size_t)(s - m->devs);
	return s;
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
		/* The device's micro-TLB holds translations of its old
		 * context: a new attachment starts it empty. */
		if (s->ut)
			utlb_inv(m, s->ut, true, 0, false, 0, 0);
		s->tag = tag;
		return 0;
	}
	struct cache *ut;
	int rc = utlb_new(m, &ut);
	if (rc)
		return rc;
	if ((m->ndev + 1) * 2 > m->ndev_cap) {
		rc = dev_grow(m);
		if (rc) {
			utlb_free(ut);
			return rc;
		}
	}
	size_t mask = m->ndev_cap - 1;
	size_t i = dev_hash(dev) & mask;
	while (m->devs[i].used)
		i = (i + 1) & mask;
	m->devs[i] = (struct dev_slot){.dev = dev, .tag = tag, .used = true, .ut = ut};
	m->ndev++;
	return 0;
}

int ims_iommu_dev_domain(const struct ims_iommu *m, uint32_t dev)
{
	const struct dev_slot *s = dev_probe(m, dev);
	return s ? s->tag : -ENOENT;
}

int ims_iommu_detach(struct ims_iommu *m, uint32_t dev)
{
	struct dev_slot *s = dev_find(m, dev);
	if (!s)
		return -ENOENT;
	/* Backward-shift deletion keeps probe chains intact. */
	size_t mask = m->ndev_cap - 1;
	size_t i = (size_t)(s - m->devs);
	utlb_free(s->ut);
	s->ut = NULL;
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
	m->cyc += m->cfg.lat.fault;
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

/* ---- IOTLB and micro-TLBs -------------------------------------------------- */

static uint64_t tlb_hash(uint16_t tag, uint64_t vpn, unsigned shift)
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
		struct tlb_ent *set = cache_set(c, tlb_hash(tag, vpn, shift));
		for (unsigned w = 0; w < c->ways; w++) {
			struct tlb_ent *e = &set[w];
			if (e->valid && e->key == vpn && e->tag == tag && e->shift == shift) {
				e->stamp = ++m->stamp;
				return e;
			}
		}
	}
	return NULL;
}

/* Out of line: the micro-TLB is off by default, and a second inlined copy
 * would crowd the IOTLB path's registers. */
static __attribute__((noinline)) struct tlb_ent *utlb_lookup(struct ims_iommu *m, struct cache *c,
							      uint16_t tag, uint64_t iova)
{
	return tlb_lookup(m, c, tag, iova);
}

/* Cache page [iova, +2^shift) -> pa. Returns true when it evicted another
 * page. `absent`: the caller knows no way holds the page (a look-up just
 * missed it), so only a victim is chosen. Inlined: it runs on every walk,
 * and its ten arguments would cost a fifth of it as a call. */
static inline __attribute__((always_inline)) bool
tlb_fill(struct ims_iommu *m, struct cache *c, uint16_t tag, uint64_t iova, unsigned shift,
	 uint64_t pa, bool r, bool w, bool dirty, bool absent)
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
	return cache_put(c, slot, &v, same);
}

static void iotlb_fill(struct ims_iommu *m, uint16_t tag, uint64_t iova, unsigned shift,
		       uint64_t pa, bool r, bool w, bool dirty)
{
	if (tlb_fill(m, &m->tlb, tag, iova, shift, pa, r, w, dirty, m->tlb_missed))
		m->n.iotlb_evictions++;
	m->n.iotlb_fills++;
}

static void utlb_fill(struct ims_iommu *m, struct cache *ut, uint16_t tag, uint64_t iova,
		      unsigned shift, uint64_t pa, bool r, bool w, bool dirty)
{
	if (tlb_fill(m, ut, tag, iova, shift, pa, r, w, dirty, false))
		m->n.utlb_evictions++;
	m->n.utlb_fills++;
}

/* ---- walk caches --------------------------------------------------------- */

static struct tlb_ent *wc_set(const struct cache *wc, uint16_t tag, uint64_t key)
{
	return cache_set(wc, (key ^ ((uint64_t)tag << 44)) * 0x9e3779b97f4a7c15ull);
}

static bool wc_lookup(struct ims_iommu *m, const struct hw_ctx *c, int level, uint64_t iova,
		      uint64_t *table, bool *r, bool *w)
{
	struct cache *wc = &m->wc[level];
	uint64_t key = iova >> c->ix_shift[level + 1];
	struct tlb_ent *set = wc_set(wc, c->tag, key);
	for (unsigned i = 0; i < wc->ways; i++) {
		struct tlb_ent *e = &set[i];
		if (e->valid && e->key == key && e->tag == c->tag) {
			if (wc->pol == IMS_REPL_LRU)
				e->stamp = ++m->stamp;
			*table = e->out;
			*r = e->r;
			*w = e->w;
			return true;
		}
	}
	return false;
}

/* Only walk() fills, and only the levels below the one it started at:
 * each was probed on this walk and missed (the probes go deepest first and
 * stop at a hit), so the key is absent and no way needs searching for it. */
static void wc_fill(struct ims_iommu *m, const struct hw_ctx *c, int level, uint64_t iova,
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

/* A walk's read of a table entry. A hardware load runs no hook and no race
 * check (mem.h), so a frame view reads what ims_mem_load would; the loads
 * are handed to the memory's counters in one call when the walk ends
 * (walk_done), which saves a call per entry on every walk. */
static inline uint64_t hw_load(struct ims_iommu *m, uint64_t pa)
{
	m->hw_loads++;
	const uint64_t *f = ims_mem_frame(m->mem, pa);
	return f ? f[(pa >> 3) % 512] : 0;
}

static void walk_done(struct ims_iommu *m)
{
	ims_mem_count(m->mem, IMS_AGENT_HW, IMS_MEM_LOAD, m->hw_loads);
	m->hw_loads = 0;
}

/* Apply the A/D update u for an access through the leaf run [first, first+n)
 * of a table, the walk having read entry `covering`, whose value was cval.
 * Returns the covering entry's value after the update: the hardware knows
 * what it wrote and need not read it back. */
static uint64_t apply_update(struct ims_iommu *m, const struct hw_ctx *c, int level,
			     const struct hw_ent *leaf, uint64_t first, unsigned n,
			     uint64_t covering, uint64_t cval, struct hw_upd *u)
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
			target = first + 8 * (rng_next(m) % n);
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
	return target == covering ? val : cval;
}

/* One body, two instances (walk, walk_probe): `probe` is a constant in
 * each, so a translation's walk carries none of the probe's branches. */
static inline __attribute__((always_inline)) int
walk_body(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova, unsigned acc,
	  struct ims_xlate *out, bool probe)
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
		for (int l = 0; l < c->top && l < MAX_LEVELS && !hit; l++) {
			if (!m->wc[l].sets)
				continue;
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
			if (m->wc_any && !probe && level < MAX_LEVELS)
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
			unsigned span = e.page_shift - shift, bits = hw_level_bits(c, level);
			n = span >= bits ? (1u << bits) : (1u << span);
			first = table + 8 * (idx & ~(uint64_t)(n - 1));
		}
		bool write = (acc & IMS_ACC_W) != 0;
		uint64_t before = m->n.dirty_sets;
		uint64_t now = apply_update(m, c, level, &e, first, n, pte_pa, pte, &u);

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

		struct cache *ut = m->cur ? m->cur->ut : NULL;
		if ((m->tlb.sets || ut) && ops->cacheable(c, now)) {
			/* The check of this very access needs no repeating when
			 * the update changed nothing. */
			uint32_t dummy;
			bool cr = (now == pte && acc == IMS_ACC_R) ||
				  ops->check(c, now, &e, r, w, IMS_ACC_R, &dummy) == IMS_FAULT_NONE;
			bool cw = (now == pte && acc == IMS_ACC_W) ||
				  ops->check(c, now, &e, r, w, IMS_ACC_W, &dummy) == IMS_FAULT_NONE;
			/* A write needs no update once this page is dirty, or when
			 * hardware does not track dirty state at all. */
			bool clean_ok = !c->hd || write || ops->is_dirty(c, now);
			if (m->tlb.sets)
				iotlb_fill(m, c->tag, page_iova, e.page_shift, e.addr, cr, cw, clean_ok);
			if (ut)
				utlb_fill(m, ut, c->tag, page_iova, e.page_shift, e.addr, cr, cw,
					  clean_ok);
		}
		return 0;
	}
}

static __attribute__((noinline)) int walk(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c,
					  uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	return walk_body(m, dev, c, iova, acc, out, false);
}

static __attribute__((noinline)) int walk_probe(struct ims_iommu *m, const struct hw_ctx *c,
						uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	return walk_body(m, 0, c, iova, acc, out, true);
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
		if (c->hd)
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

static inline unsigned hist_bucket(uint64_t c)
{
	if (c < HIST_EXACT)
		return (unsigned)c;
	unsigned e = ims_log2(c);
	unsigned sub = (unsigned)(c >> (e - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1);
	return HIST_EXACT + ((e - 10) << HIST_SUB_BITS) + sub;
}

/* A translation that took the slow path costs c. */
static uint64_t slow_done(struct ims_iommu *m, uint64_t c)
{
	m->hist[hist_bucket(c)]++;
	if (c > m->slow_max)
		m->slow_max = c;
	return c;
}

/* Sets *cyc to what the translation costs. A hit that serves the access
 * adds two constants and touches no histogram: this runs for every 4 KiB of
 * every DMA. */
static inline __attribute__((always_inline)) int
translate(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc, struct ims_xlate *out,
	  uint64_t *cyc)
{
	/* Whatever the outcome, a request the micro-TLB does not serve
	 * crosses the link to the IOMMU and its answer crosses back. */
	int rc;
	struct dev_slot *d = dev_find(m, dev);
	if (!d) {
		rc = fault(m, dev, NULL, iova, acc, IMS_FAULT_UNATTACHED, 0, out);
		*cyc = slow_done(m, m->link2 + slow_cycles(m));
		return rc;
	}
	struct ctx_slot *s = m->ctx[d->tag];
	if (!s || !s->hw_valid) {
		struct ims_fault f = {.dev = dev, .dom = d->tag, .has_dom = true, .iova = iova,
				      .kind = IMS_FAULT_NOTPRESENT, .write = (acc & IMS_ACC_W) != 0};
		fault_push(m, &f);
		out->fault = f.kind;
		*cyc = slow_done(m, m->link2 + slow_cycles(m));
		return (int)f.kind;
	}
	const struct hw_ctx *c = &s->hw;
	if (c->ias < 64 && (iova >> c->ias)) {
		rc = fault(m, dev, c, iova, acc, IMS_FAULT_NOTPRESENT,
			   c->ops->cond_code(c, COND_RANGE, acc & IMS_ACC_W), out);
		*cyc = slow_done(m, m->link2 + slow_cycles(m));
		return rc;
	}

	uint64_t t = 0;
	struct cache *ut = d->ut;
	if (ut) {
		t = ut->latency;
		struct tlb_ent *e = utlb_lookup(m, ut, c->tag, iova);
		if (e) {
			m->n.utlb_hits++;
			if (tlb_serves(e, acc)) {
				out->utlb_hit = true;
				*cyc = t;
				return tlb_serve(m, c, e, iova, acc, out);
			}
			m->utlb_unserved++;
			/* Cached clean (or lacking the permission): the IOMMU
			 * decides, exactly as for an IOTLB entry. */
		} else {
			m->n.utlb_misses++;
		}
	}

	if (m->tlb.sets) {
		t += m->hit_cost;
		struct tlb_ent *e = tlb_lookup(m, &m->tlb, c->tag, iova);
		if (e) {
			m->n.iotlb_hits++;
			if (tlb_serves(e, acc)) {
				if (ut)
					utlb_fill(m, ut, e->tag, e->key << e->shift, e->shift, e->out,
						  e->r, e->w, e->dirty);
				*cyc = t;
				return tlb_serve(m, c, e, iova, acc, out);
			}
			m->iotlb_unserved++;
			/* A write through an entry cached clean (or a permission the
			 * entry lacks) goes back to memory: hardware re-walks. */
		} else {
			m->n.iotlb_misses++;
			/* Probed at every page size it holds: the walk's page is
			 * not in it, and nothing the walk does adds it. */
			m->tlb_missed = true;
		}
	} else {
		t += m->link2;
	}
	m->cur = d;
	uint64_t reads = m->n.pte_reads, writes = m->n.ad_writes;
	rc = walk(m, dev, c, iova, acc, out);
	walk_done(m);
	m->cur = NULL;
	m->tlb_missed = false;
	*cyc = slow_done(m, t + slow_cycles(m) + (m->n.pte_reads - reads) * m->cfg.lat.pte_read +
				    (m->n.ad_writes - writes) * m->cfg.lat.ad_update);
	return rc;
}

static uint64_t hist_value(unsigned b)
{
	if (b < HIST_EXACT)
		return b;
	unsigned e = 10 + ((b - HIST_EXACT) >> HIST_SUB_BITS);
	uint64_t sub = (b - HIST_EXACT) & ((1u << HIST_SUB_BITS) - 1);
	return ((1ull << HIST_SUB_BITS) + sub) << (e - HIST_SUB_BITS);
}

/* One access, acc checked and *out cleared by the caller. Inlined into
 * ims_iommu_dma too: a DMA's page then costs no call, and no clearing of a
 * result that nothing reads (the translation only writes it). */
static inline __attribute__((always_inline)) int
access_one(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc, struct ims_xlate *out)
{
	m->n.translations++;
	uint64_t cyc;
	int rc = translate(m, dev, iova, acc, out, &cyc);
	out->cycles = cyc;
	m->n.cycles += cyc;
	return rc;
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
	return access_one(m, dev, iova, acc, out);
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
 * Out of line, behind ims_iommu_prefetch's test: a dropped hint then
 * saves no registers. */
static __attribute__((noinline)) bool hint_walk(struct ims_iommu *m, uint32_t dev, uint64_t iova,
						unsigned acc)
{
	const struct dev_slot *d = dev_find(m, dev);
	const struct ctx_slot *s = d ? m->ctx[d->tag] : NULL;
	if (!s || !s->hw_valid || !acc || acc > IMS_ACC_RW)
		return false;
	const struct hw_ctx *c = &s->hw;
	if (c->ias < 64 && (iova >> c->ias))
		return false;
	if ((acc & IMS_ACC_W) && c->hd)
		ims_oracle_prefetch(m->oracle, c->tag, iova);
	int level = c->top;
	uint64_t table = c->root;
	struct pf_memo *pm = NULL, *from = NULL;
	uint64_t key = 0, epoch = 0;
	if (level >= 2) {
		key = iova >> c->ix_shift[2];
		epoch = ims_mem_pool_epoch(m->mem);
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
								 : ims_mem_frame(m->mem, pa);
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
bool ims_iommu_prefetch(struct ims_iommu *m, uint32_t dev, uint64_t iova, unsigned acc)
{
	bool walked = m->n.walks != m->pf_walks;
	m->pf_walks = m->n.walks;
	return walked && hint_walk(m, dev, iova, acc);
}

/* The fixed costs of hits that served their access, and how many. */
static void hit_classes(const struct ims_iommu *m, uint64_t cost[2], uint64_t count[2])
{
	bool ut = m->cfg.utlb_enable && m->cfg.utlb_entries;
	cost[0] = ut ? m->cfg.utlb_latency : 0;
	count[0] = ut ? m->n.utlb_hits - m->utlb_unserved : 0;
	cost[1] = cost[0] + m->hit_cost;
	count[1] = m->n.iotlb_hits - m->iotlb_unserved;
}

uint64_t ims_iommu_latency_max(const struct ims_iommu *m)
{
	uint64_t cost[2], count[2], max = m->slow_max;
	hit_classes(m, cost, count);
	for (int i = 0; i < 2; i++)
		if (count[i] && cost[i] > max)
			max = cost[i];
	return max;
}

uint64_t ims_iommu_latency_percentile(const struct ims_iommu *m, double q)
{
	uint64_t total = m->n.translations;
	if (!total)
		return 0;
	if (!(q > 0))
		q = 0;
	if (q > 1)
		q = 1;
	uint64_t cost[2], count[2];
	hit_classes(m, cost, count);
	/* Nearest rank: the smallest value with at least ceil(q * n) values
	 * at or below it. */
	double want = q * (double)total;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (!rank)
		rank = 1;
	unsigned at[2] = {hist_bucket(cost[0]), hist_bucket(cost[1])};
	uint64_t seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		uint64_t here = m->hist[b];
		for (int i = 0; i < 2; i++)
			if (at[i] == b)
				here += count[i];
		seen += here;
		if (here && seen >= rank)
			return hist_value(b);
	}
	return ims_iommu_latency_max(m);
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
	m->cur = NULL;
	int rc = walk_probe(m, c, iova, acc ? acc : IMS_ACC_R, out);
	walk_done(m);
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
			ims_iommu_prefetch(m, dev, at + n, acc);
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

/* ---- invalidation -------------------------------------------------------- */

static bool overlaps(uint64_t a, uint64_t alen_shift_end, uint64_t b, uint64_t bend)
{
	/* [a, alen_shift_end] and [b, bend] are inclusive ranges. */
	return a <= bend && b <= alen_shift_end;
}

/* Drop the TLB entries that match; returns how many. Only valid entries
 * are visited (the live list), from the end so that a drop, which moves the
 * last live entry into the hole, never skips one. */
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

static void utlb_inv(struct ims_iommu *m, struct cache *ut, bool all, uint16_t tag, bool ranged,
		     uint64_t first, uint64_t last)
{
	m->n.utlb_inv_entries += tlb_inv(ut, all, tag, ranged, first, last);
}

static void inv_match(struct ims_iommu *m, bool all, uint16_t tag, bool ranged, uint64_t first,
		      uint64_t last, bool leaf_only)
{
	if (m->tlb.sets)
		m->n.inv_entries += tlb_inv(&m->tlb, all, tag, ranged, first, last);
	/* A device-side micro-TLB caches leaves only: every kind reaches it. */
	if (m->cfg.utlb_enable)
		for (size_t i = 0; i < m->ndev_cap; i++)
			if (m->devs[i].used && m->devs[i].ut)
				utlb_inv(m, m->devs[i].ut, all, tag, ranged, first, last);
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
	inv_match(m, false, tag, true, iova, last, flags & IMS_INV_LEAF);
}

void ims_iommu_inv_domain(struct ims_iommu *m, uint16_t tag)
{
	m->n.inv_domain++;
	m->n.inv_cycles += m->cfg.lat.inv_domain;
	inv_match(m, false, tag, false, 0, 0, false);
}

void ims_iommu_inv_all(struct ims_iommu *m)
{
	m->n.inv_all++;
	m->n.inv_cycles += m->cfg.lat.inv_all;
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
	case CMD_NONE:
		return 0; /* a command the model knows to have no effect here */
	default:
		return -EINVAL;
	}
}
