/* The latency histogram's read side: the maximum and the percentiles of the
 * translations' cycle counts. translate.c records only the translations that
 * took the slow path; the hits that served their access cost a fixed amount
 * each, counted by the hit counters, and are added in here.
 */
#include "model/iommu_int.h"

static uint64_t hist_value(unsigned b)
{
	if (b < HIST_EXACT)
		return b;
	unsigned e = 10 + ((b - HIST_EXACT) >> HIST_SUB_BITS);
	uint64_t sub = (b - HIST_EXACT) & ((1u << HIST_SUB_BITS) - 1);
	return ((1ull << HIST_SUB_BITS) + sub) << (e - HIST_SUB_BITS);
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

