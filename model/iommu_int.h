/* The IOMMU instance's insides, shared by the files that hold its concerns:
 * iommu.c (lifetime), ctx.c (contexts), devices.c, faults.c, translate.c
 * (the walk, with tlb.h and walkcache.h), inv.c (invalidation) and
 * latency.c (the latency histogram). Internal: no user of the library
 * includes it.
 */
#ifndef IMS_MODEL_IOMMU_INT_H
#define IMS_MODEL_IOMMU_INT_H

#include <stdlib.h>

#include "model/cache.h"
#include "model/mem_view.h"
#include "formats/format.h"

#define MAX_LEVELS HW_MAX_LEVELS

struct ctx_slot {
	enum ims_format fmt;
	uint64_t words[IMS_CTX_WORDS];
	struct hw_ctx hw;
	bool hw_valid; /* the last decode succeeded */
	/* hw_valid and not nested: translate() takes the single-stage path
	 * after one test of this flag; every other context goes out of line. */
	bool plain;
	bool nested;     /* stage 1 of a nested pair (model/nested.c) */
	uint16_t parent; /* nested: the stage-2 context's tag */
	uint32_t users;  /* nested contexts whose parent this is */
};

/* What a combined (stage 1 + 2) IOTLB entry remembers beyond struct
 * tlb_ent, by the entry's index (model/nested.c): the IPA its page starts
 * at and the two leaves it was made from. */
struct nest_info {
	uint64_t ipa;
	uint8_t s1_shift, s2_shift;
	bool s1_hd, s2_hd; /* each stage's dirty updates, when it was filled */
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
	const struct mem_pool *pool; /* mem_pool(mem): table frames looked up inline */
	struct ims_iommu_cfg cfg;
	struct ims_oracle *oracle;
	const struct oracle_memo *oracle_memo; /* oracle_memo(oracle) */
	struct ctx_slot **ctx; /* 65536 slots, by tag */
	/* Tags whose slot was allocated (a tag may repeat after a remove), so
	 * tear-down visits only those. */
	uint16_t *ctx_tags;
	size_t nctx_tags, capctx_tags;

	struct dev_slot *devs;
	size_t ndev_cap, ndev;
	/* Where the device found last was (a trace's DMAs come from few
	 * devices, each in runs). An index, checked on use, so that slots may
	 * move (growth, detach) without telling it. */
	size_t dev_last;

	struct cache tlb;
	struct cache wc[MAX_LEVELS];
	bool wc_any; /* some walk-cache level is on */
	uint32_t wc_on; /* bit l: walk-cache level l is on */
	/* translate() serves IOTLB hits itself: there is an IOTLB and no
	 * iommu_set_reference. */
	bool fast_hits;
	bool ref_path; /* iommu_set_reference */

	uint64_t stamp;
	uint64_t rng;

	struct ims_fault *faults;
	size_t fq_head, fq_len, fq_cap;
	size_t fq_limit; /* records the queue holds before it overflows (faults.c) */
	bool probing; /* a side-effect-free probe is walking */

	/* The translation under way: its cycles and its device. */
	uint64_t cyc;
	uint64_t link2;    /* both ways of the link */
	uint64_t hit_cost; /* link2 + the IOTLB lookup */
	struct dev_slot *cur;
	bool tlb_missed; /* during cur's walk: the IOTLB look-up missed */
	uint64_t hw_loads; /* entries the walk under way read (hw_load) */
	uint64_t *hw_load_count; /* the memory's count of hardware loads (mem_counter) */
	/* Latencies of the translations that took the slow path (walk or
	 * fault). A micro-TLB or IOTLB hit that serves the access costs a
	 * fixed amount: those are counted by the hit counters and added when
	 * a percentile is asked for, which keeps the hit path short. */
	uint64_t *hist;
	uint64_t slow_max;
	uint64_t iotlb_unserved, utlb_unserved; /* hits that could not serve */
	uint64_t pf_walks; /* walks when iommu_prefetch last ran */
	/* The hint's memo: the level-1 table of a region (an entry of a
	 * level-2 table) met by an earlier hint, keyed by tag, root and region,
	 * valid while no pool frame is freed (mem_pool_epoch), with the
	 * view of the frame its entry was read from. */
	struct pf_memo {
		uint64_t key, root, table, epoch;
		const uint64_t *frame; /* view of frame fn (the entry's), live while epoch holds */
		uint64_t fn;
		uint16_t tag;
		bool valid;
	} pf_memo[PF_MEMO];

	struct ims_iommu_counters n;

	/* Nested translation (model/nested.c), last so that the fields the
	 * single-stage path reads keep their places. quiet: a nested
	 * translation's stage-2 walk is under way, and a fault is returned
	 * (with its level in quiet_level) for nested.c to report as the
	 * nested translation's. */
	bool quiet;
	int quiet_level;
	struct nest_info *nest; /* one per IOTLB entry, once a context nests */
	uint32_t nnested;       /* nested contexts */
	int (*nest_xlate)(struct ims_iommu *m, uint32_t dev, const struct dev_slot *d,
			  const struct ctx_slot *s, uint64_t iova, unsigned acc,
			  struct ims_xlate *out);
	int (*nest_probe)(struct ims_iommu *m, const struct ctx_slot *s, uint64_t iova,
			  unsigned acc, struct ims_xlate *out, struct ims_leaf *lf);
};

/* The model's random choices (model.replica), apart from the caches'. */
static inline uint64_t iommu_rng(struct ims_iommu *m) { return xorshift64s(&m->rng); }

/* Seeds of the caches' random replacement: distinct per cache, all from
 * cfg.seed. */
static inline uint64_t cache_seed(const struct ims_iommu *m, unsigned salt)
{
	return (m->cfg.seed + 1 + salt) * 0x9e3779b97f4a7c15ull;
}

/* Device look-up: translate.c finds a DMA's device on every access,
 * devices.c on attach and detach. */

static inline uint32_t dev_hash(uint32_t dev)
{
	return (dev * 0x9e3779b1u) >> 7;
}

static inline struct dev_slot *dev_probe(const struct ims_iommu *m, uint32_t dev)
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
	if (m->dev_last < m->ndev_cap && m->devs[m->dev_last].used &&
	    m->devs[m->dev_last].dev == dev)
		return &m->devs[m->dev_last];
	struct dev_slot *s = dev_probe(m, dev);
	if (s)
		m->dev_last = (size_t)(s - m->devs);
	return s;
}

/* The histogram bucket of a latency: translate.c records, latency.c reads. */
static inline unsigned hist_bucket(uint64_t c)
{
	if (c < HIST_EXACT)
		return (unsigned)c;
	unsigned e = ims_log2(c);
	unsigned sub = (unsigned)(c >> (e - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1);
	return HIST_EXACT + ((e - 10) << HIST_SUB_BITS) + sub;
}

/* Queue a fault for the caller to pop (faults.c). Here rather than in
 * faults.c: the translation path pushes, and keeps all it runs in its own
 * translation unit. Static, not inline: the compiler weighs inlining it as
 * for any function of the file (translate.c) that uses it. */
static __attribute__((unused)) void fault_push(struct ims_iommu *m, const struct ims_fault *f)
{
	m->n.faults++;
	m->cyc += m->cfg.lat.fault;
	/* A full queue overflows as the hardware's logs do (AMD event log
	 * overflow, VT-d PFO, SMMU EVENTQ overflow): the new record is lost
	 * and counted. A failed allocation is an overflow too, so no fault
	 * goes uncounted. */
	if (m->fq_len >= m->fq_limit) {
		m->n.faults_dropped++;
		return;
	}
	if (m->fq_len == m->fq_cap) {
		size_t cap = m->fq_cap ? m->fq_cap * 2 : 64;
		if (cap > m->fq_limit)
			cap = m->fq_limit;
		struct ims_fault *n = malloc(cap * sizeof(*n));
		if (!n) {
			m->n.faults_dropped++;
			return;
		}
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

/* devices.c: a device's micro-TLB, freed with its slot. */
void iommu_utlb_free(struct cache *c);

/* inv.c: drop the entries of micro-TLB ut that match. */
void iommu_utlb_inv(struct ims_iommu *m, struct cache *ut, bool all, uint16_t tag, bool ranged,
		    uint64_t first, uint64_t last);

/* translate.c, for model/nested.c: one walk of context c (the engine's,
 * the format's fused rules when it has them), and its side-effect-free
 * probe. */
int iommu_walk(struct ims_iommu *m, uint32_t dev, const struct hw_ctx *c, uint64_t iova,
	       unsigned acc, struct ims_xlate *out);
int iommu_walk_probe(struct ims_iommu *m, const struct hw_ctx *c, uint64_t iova, unsigned acc,
		     struct ims_xlate *out, struct ims_leaf *lf);

/* model/nested.c: a translation through nested context slot s, and its
 * probe. translate.c calls them through ims_iommu.nest_xlate / nest_probe,
 * which model/ctx.c sets when a context nests. */
int nest_translate(struct ims_iommu *m, uint32_t dev, const struct dev_slot *d,
		   const struct ctx_slot *s, uint64_t iova, unsigned acc, struct ims_xlate *out);
int nest_probe(struct ims_iommu *m, const struct ctx_slot *s, uint64_t iova, unsigned acc,
	       struct ims_xlate *out, struct ims_leaf *lf);
/* inv.c: drop the IOTLB entries of tag that match (and walk-cache ones
 * unless leaf_only), as every invalidation does. */
void iommu_inv_match(struct ims_iommu *m, bool all, uint16_t tag, bool ranged, uint64_t first,
		     uint64_t last, bool leaf_only);

/* inv.c: an invalidation of tag, of a range [first, last] or all of it,
 * by a command of the given stage (ims_iommu_inv_* give HW_STAGE_ANY,
 * native commands what their format decodes). */
void iommu_inv_stage(struct ims_iommu *m, uint16_t tag, enum hw_stage stage, bool ranged,
		     uint64_t first, uint64_t last, bool leaf_only);

/* The format's hardware rules, from the registry; NULL when not built in
 * (model/ctx.c). */
const struct hw_fmt *hw_fmt_get(enum ims_format f);

#endif
