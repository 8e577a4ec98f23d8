/* The summary: text and --json. */
#include <inttypes.h>
#include <stdio.h>

#include "harness/replay_int.h"

/* Cycle-light timing (docs/timing.md). "Pages" are the model's
 * translations: every 4 KiB piece of a dma and every `expect pa` (a
 * one-byte read DMA), which is what per-page figures of measurement papers
 * divide by. */
struct timing {
	uint64_t pages, lookups, invs, mem;
	double mean, lookups_pp, misses_pp, invs_pp, mem_pp;
	uint64_t p50, p90, p99;
};

static void timing_of(const struct ims_tb *r, struct timing *t)
{
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	t->pages = n->translations;
	t->lookups = n->iotlb_hits + n->iotlb_misses;
	t->invs = n->inv_range + n->inv_domain + n->inv_all + n->inv_ctx;
	t->mem = n->pte_reads + n->ad_writes;
	double d = t->pages ? (double)t->pages : 1.0;
	t->mean = (double)n->cycles / d;
	t->lookups_pp = (double)t->lookups / d;
	t->misses_pp = (double)n->iotlb_misses / d;
	t->invs_pp = (double)t->invs / d;
	t->mem_pp = (double)t->mem / d;
	t->p50 = ims_iommu_latency_percentile(r->mmu, 0.50);
	t->p90 = ims_iommu_latency_percentile(r->mmu, 0.90);
	t->p99 = ims_iommu_latency_percentile(r->mmu, 0.99);
}

/* Counts for people: thousands separated ("1,234,567"); the JSON below
 * keeps the exact numbers. Each call takes the next of the buffers, so one
 * printf can hold several. */
struct nums {
	char b[24][32];
	unsigned k;
};

static const char *N(struct nums *x, uint64_t v)
{
	char d[32], *o = x->b[x->k++ % 24];
	int len = snprintf(d, sizeof(d), "%" PRIu64, v), j = 0;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			o[j++] = ',';
		o[j++] = d[i];
	}
	o[j] = 0;
	return o;
}

/* Bytes for people: B, KiB, MiB, GiB. */
static const char *B(struct nums *x, uint64_t v)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	char *o = x->b[x->k++ % 24];
	double f = (double)v;
	unsigned i = 0;
	while (f >= 1024 && i < 6) {
		f /= 1024;
		i++;
	}
	snprintf(o, 32, i ? "%.2f %s" : "%.0f %s", f, u[i]);
	return o;
}

static void print_timing(const struct ims_tb *r, FILE *out)
{
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	struct timing t;
	struct nums x = {.k = 0};
	timing_of(r, &t);
	fprintf(out, "  timing: %s cycles over %s pages, mean %.2f cycles/page, p50 %s p90 %s p99 %s "
		     "max %s; invalidations %s cycles\n",
		N(&x, n->cycles), N(&x, t.pages), t.mean, N(&x, t.p50), N(&x, t.p90), N(&x, t.p99),
		N(&x, ims_iommu_latency_max(r->mmu)), N(&x, n->inv_cycles));
	fprintf(out, "  per 4 KiB page: iotlb lookups %.4f, iotlb misses %.4f, invalidations %.4f, "
		     "iommu memory accesses %.4f\n",
		t.lookups_pp, t.misses_pp, t.invs_pp, t.mem_pp);
	if (ims_iommu_config(r->mmu)->utlb_enable)
		fprintf(out, "  micro-TLB: hits %s misses %s, entries dropped %s\n", N(&x, n->utlb_hits),
			N(&x, n->utlb_misses), N(&x, n->utlb_inv_entries));
}

static void write_timing_json(const struct ims_tb *r, FILE *out)
{
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	struct timing t;
	timing_of(r, &t);
	fprintf(out,
		",\"timing\":{\"cycles\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"mean_cycles_per_page\":%.4f"
		",\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64
		",\"inv_cycles\":%" PRIu64 ",\"utlb_hits\":%" PRIu64 ",\"utlb_misses\":%" PRIu64
		",\"per_page\":{\"iotlb_lookups\":%.6f,\"iotlb_misses\":%.6f,\"invalidations\":%.6f"
		",\"memory_accesses\":%.6f}}",
		n->cycles, t.pages, t.mean, t.p50, t.p90, t.p99, ims_iommu_latency_max(r->mmu), n->inv_cycles,
		n->utlb_hits, n->utlb_misses, t.lookups_pp, t.misses_pp, t.invs_pp, t.mem_pp);
}

void ims_replay_print_summary(const struct ims_replay *rp, FILE *out)
{
	const struct ims_tb *r = &rp->t;
	const struct ims_replay_stats *s = &r->st;
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	const struct ims_mem_counters *m = ims_mem_counters(r->mem);
	struct nums x = {.k = 0};
	fprintf(out, "  events %s (maps %s, unmaps %s, dma %s ops / %s pages)\n", N(&x, s->events),
		N(&x, s->maps), N(&x, s->unmaps), N(&x, s->dma_ops), N(&x, s->dma_pages));
	fprintf(out, "  faults %s%s\n", N(&x, s->faults),
		s->faults ? " (replay -v shows each with its reason; --strict-faults fails those no "
			    "expect fault took)"
			  : "");
	if (n->faults_dropped)
		fprintf(out, "    of which not recorded: %s (the fault queue was full: %s records; "
			     "--max-fault-records raises it)\n",
			N(&x, n->faults_dropped), N(&x, ims_iommu_fault_limit(r->mmu)));
	fprintf(out, "  harvests %s: bits reported %s, expected %s (under %s, over %s), mismatches %s\n",
		N(&x, s->harvests), N(&x, s->bits_reported), N(&x, s->bits_expected),
		N(&x, s->bits_under), N(&x, s->bits_over), N(&x, s->harvest_mismatches));
	if (s->uapi_calls)
		fprintf(out, "  iommufd/vfio calls %s (%s returned an error)\n", N(&x, s->uapi_calls),
			N(&x, s->uapi_errors));
	fprintf(out, "  assertions %s (%s failed)\n", N(&x, s->assertions),
		N(&x, s->assertion_failures));
	/* What the semantics lose by design, counted once here rather than
	 * said at each event (-v says each). */
	fprintf(out, "  expected by design (counted, not failures):\n");
	fprintf(out, "    lost on unmap: %s dirty page%s (unmapped before a read; their dirty state "
		     "goes with the mapping)\n",
		N(&x, s->lost_on_unmap), s->lost_on_unmap == 1 ? "" : "s");
	fprintf(out, "    lost to partial-leaf clears: %s page%s (a clearing harvest that cut into a "
		     "dirty leaf cleaned all of it)\n",
		N(&x, s->lost_partial), s->lost_partial == 1 ? "" : "s");
	fprintf(out, "    GPA pages missed by IOVA tracking: %s (written through an IOVA unmapped or "
		     "remapped before a read)\n",
		N(&x, s->gpa_missed));
	if (s->lost_by_contract || s->tables_kept_by_contract || s->mapped_dirty_by_contract)
		fprintf(out, "    by the walker's stated contract: hardware updates lost %s, page-table "
			     "pages kept %s, pages mapped dirty %s\n",
			N(&x, s->lost_by_contract), N(&x, s->tables_kept_by_contract),
			N(&x, s->mapped_dirty_by_contract));
	x.k = 0;
	fprintf(out, "  model: translations %s, iotlb hits %s misses %s, walks %s, walk-cache hits %s, "
		     "pte reads %s, A/D writes %s\n",
		N(&x, n->translations), N(&x, n->iotlb_hits), N(&x, n->iotlb_misses), N(&x, n->walks),
		N(&x, n->wc_hits), N(&x, n->pte_reads), N(&x, n->ad_writes));
	fprintf(out, "  invalidations: range %s, domain %s, all %s, context %s (%s entries dropped)\n",
		N(&x, n->inv_range), N(&x, n->inv_domain), N(&x, n->inv_all), N(&x, n->inv_ctx),
		N(&x, n->inv_entries));
	x.k = 0;
	fprintf(out, "  memory: software loads %s stores %s rmw %s, hardware loads %s rmw %s, "
		     "frames %s (peak %s), footprint %s\n",
		N(&x, m->ops[IMS_AGENT_SW][IMS_MEM_LOAD]), N(&x, m->ops[IMS_AGENT_SW][IMS_MEM_STORE]),
		N(&x, m->ops[IMS_AGENT_SW][IMS_MEM_RMW]), N(&x, m->ops[IMS_AGENT_HW][IMS_MEM_LOAD]),
		N(&x, m->ops[IMS_AGENT_HW][IMS_MEM_RMW]), N(&x, m->frames), N(&x, m->frames_peak),
		B(&x, ims_mem_footprint(r->mem)));
	print_timing(r, out);
}

void ims_replay_write_json(const struct ims_replay *rp, FILE *out)
{
	const struct ims_tb *r = &rp->t;
	const struct ims_replay_stats *s = &r->st;
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	const struct ims_mem_counters *m = ims_mem_counters(r->mem);
	fprintf(out,
		"{\"events\":%" PRIu64 ",\"maps\":%" PRIu64 ",\"unmaps\":%" PRIu64
		",\"dma_ops\":%" PRIu64 ",\"dma_pages\":%" PRIu64 ",\"dma_bytes\":%" PRIu64
		",\"faults\":%" PRIu64 ",\"faults_dropped\":%" PRIu64
		",\"harvests\":%" PRIu64 ",\"harvest_mismatches\":%" PRIu64
		",\"bits_reported\":%" PRIu64 ",\"bits_expected\":%" PRIu64
		",\"bits_under\":%" PRIu64 ",\"bits_over\":%" PRIu64 ",\"lost_on_unmap\":%" PRIu64
		",\"assertions\":%" PRIu64 ",\"assertion_failures\":%" PRIu64
		",\"validation_failures\":%" PRIu64,
		s->events, s->maps, s->unmaps, s->dma_ops, s->dma_pages, s->dma_bytes, s->faults,
		n->faults_dropped, s->harvests, s->harvest_mismatches, s->bits_reported, s->bits_expected, s->bits_under,
		s->bits_over, s->lost_on_unmap, s->assertions, s->assertion_failures,
		s->validation_failures);
	fprintf(out, ",\"gpa_missed\":%" PRIu64 ",\"uapi_calls\":%" PRIu64 ",\"uapi_errors\":%" PRIu64
		     ",\"lost_partial\":%" PRIu64 ",\"lost_by_contract\":%" PRIu64
		     ",\"tables_kept_by_contract\":%" PRIu64 ",\"mapped_dirty_by_contract\":%" PRIu64,
		s->gpa_missed, s->uapi_calls, s->uapi_errors, s->lost_partial, s->lost_by_contract,
		s->tables_kept_by_contract, s->mapped_dirty_by_contract);
	fprintf(out,
		",\"model\":{\"translations\":%" PRIu64 ",\"iotlb_hits\":%" PRIu64
		",\"iotlb_misses\":%" PRIu64 ",\"iotlb_fills\":%" PRIu64 ",\"iotlb_evictions\":%" PRIu64
		",\"walks\":%" PRIu64 ",\"walk_cache_hits\":%" PRIu64 ",\"walk_cache_misses\":%" PRIu64
		",\"pte_reads\":%" PRIu64 ",\"ad_writes\":%" PRIu64 ",\"dirty_sets\":%" PRIu64
		",\"faults\":%" PRIu64 ",\"inv_range\":%" PRIu64 ",\"inv_domain\":%" PRIu64
		",\"inv_all\":%" PRIu64 ",\"inv_context\":%" PRIu64 ",\"inv_entries\":%" PRIu64 "}",
		n->translations, n->iotlb_hits, n->iotlb_misses, n->iotlb_fills, n->iotlb_evictions,
		n->walks, n->wc_hits, n->wc_misses, n->pte_reads, n->ad_writes, n->dirty_sets,
		n->faults, n->inv_range, n->inv_domain, n->inv_all, n->inv_ctx, n->inv_entries);
	fprintf(out,
		",\"memory\":{\"sw_loads\":%" PRIu64 ",\"sw_stores\":%" PRIu64 ",\"sw_rmw\":%" PRIu64
		",\"hw_loads\":%" PRIu64 ",\"hw_stores\":%" PRIu64 ",\"hw_rmw\":%" PRIu64
		",\"frames\":%" PRIu64 ",\"frames_peak\":%" PRIu64 ",\"footprint_bytes\":%" PRIu64 "}",
		m->ops[IMS_AGENT_SW][IMS_MEM_LOAD], m->ops[IMS_AGENT_SW][IMS_MEM_STORE],
		m->ops[IMS_AGENT_SW][IMS_MEM_RMW], m->ops[IMS_AGENT_HW][IMS_MEM_LOAD],
		m->ops[IMS_AGENT_HW][IMS_MEM_STORE], m->ops[IMS_AGENT_HW][IMS_MEM_RMW], m->frames,
		m->frames_peak, ims_mem_footprint(r->mem));
	write_timing_json(r, out);
	fputc('}', out);
}
