/* The IOMMU instance: its configuration defaults, its creation (the IOTLB
 * and walk-cache levels sized from the configuration) and teardown, and the
 * accessors of its oracle, configuration and counters. Its other concerns
 * each have their file (model/iommu_int.h lists them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/iommu_int.h"
#include "model/oracle_memo.h"

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
	/* Each format's keys (capability registers: every A/D capability
	 * present; its rules) take the defaults its description gives them. */
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		for (unsigned j = 0; d && j < d->n_cfg_keys; j++)
			ims_iommu_cfg_set(cfg, d->cfg_keys[j].k.name, d->cfg_keys[j].k.def, NULL, 0);
	}
}

int ims_iommu_new(struct ims_mem *mem, const struct ims_iommu_cfg *cfg, struct ims_iommu **out)
{
	*out = NULL;
	struct ims_iommu *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->mem = mem;
	m->pool = mem_pool(mem);
	m->hw_load_count = mem_counter(mem, IMS_AGENT_HW, IMS_MEM_LOAD);
	if (cfg)
		m->cfg = *cfg;
	else
		ims_iommu_cfg_default(&m->cfg);
	m->rng = m->cfg.seed ? m->cfg.seed : 0x9e3779b97f4a7c15ull;
	m->fq_limit = IMS_FAULT_RECORDS_DEFAULT;
	m->ctx = calloc(65536, sizeof(*m->ctx));
	m->oracle = ims_oracle_new();
	if (!m->ctx || !m->oracle)
		goto nomem;
	m->oracle_memo = oracle_memo(m->oracle);

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
		m->wc_on |= (uint32_t)(m->wc[l].sets != 0) << l;
	}
	m->fast_hits = m->tlb.sets != 0;
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
		for (size_t k = 0; k < m->nctx_tags; k++) {
			free(m->ctx[m->ctx_tags[k]]);
			m->ctx[m->ctx_tags[k]] = NULL; /* a tag may be listed twice */
		}
	free(m->ctx_tags);
	free(m->ctx);
	ims_oracle_free(m->oracle);
	for (size_t i = 0; i < m->ndev_cap; i++)
		if (m->devs[i].used)
			iommu_utlb_free(m->devs[i].ut);
	free(m->devs);
	cache_fini(&m->tlb);
	for (int l = 0; l < MAX_LEVELS; l++)
		cache_fini(&m->wc[l]);
	free(m->hist);
	free(m->faults);
	free(m->nest);
	free(m);
}

struct ims_oracle *ims_iommu_oracle(struct ims_iommu *m) { return m->oracle; }
const struct ims_iommu_cfg *ims_iommu_config(const struct ims_iommu *m) { return &m->cfg; }
const struct ims_iommu_counters *ims_iommu_counters(const struct ims_iommu *m) { return &m->n; }
