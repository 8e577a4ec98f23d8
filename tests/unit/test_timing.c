/* Cycle accounting (docs/timing.md): exact totals on small hand-computed
 * sequences, the percentiles, invalidation cycles, and the replay summary. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "iommusim/replay.h"

#define RW (AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW)
#define ROOT 0x100000ull
#define L1T 0x101000ull
#define L0T 0x102000ull
#define DEV 10

/* Latencies chosen so that every term of a sum is told apart. */
static void cfg_timed(struct ims_iommu_cfg *c)
{
	ims_iommu_cfg_default(c);
	c->iotlb_latency = 3;
	c->utlb_latency = 1;
	c->wc_latency = 4;
	c->lat = (struct ims_latency_cfg){.link = 8, .pte_read = 100, .ad_update = 50,
					  .inv_range = 7, .inv_domain = 11, .inv_all = 13,
					  .inv_context = 17, .fault = 20};
}

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	const struct ims_iommu_counters *n;
};

/* AMD, 3 levels (top = 2: walk caches probed at levels 0 and 1), HA/HD
 * on, 512 pages at 0..2M. AMD sets no A in PDEs by default, so the only
 * A/D writes are to leaves. */
static void rig_up(struct rig *r, const struct ims_iommu_cfg *c)
{
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(r->mem, c, &r->mmu), 0);
	r->n = ims_iommu_counters(r->mmu);
	struct ims_ctx_params p = {.tag = 1, .root = ROOT, .levels = 3, .ha = true, .hd = true};
	uint64_t w[IMS_CTX_WORDS];
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_AMDV1, &p, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, 1, IMS_FMT_AMDV1, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, 1), 0);
	ims_mem_store(r->mem, IMS_AGENT_HW, ROOT, RW | (2ull << 9) | L1T);
	ims_mem_store(r->mem, IMS_AGENT_HW, L1T, RW | (1ull << 9) | L0T);
	for (uint64_t i = 0; i < 512; i++)
		ims_mem_store(r->mem, IMS_AGENT_HW, L0T + 8 * i, RW | (0x40000000ull + (i << 12)));
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t cost(struct rig *r, uint32_t dev, uint64_t iova, unsigned acc, int want)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r->mmu, dev, iova, acc, &x), want);
	return x.cycles;
}

START_TEST(iotlb_sequence)
{
	struct ims_iommu_cfg c;
	cfg_timed(&c);
	struct rig r;
	rig_up(&r, &c);
	/* Cold read: link in 8 + IOTLB 3 + walk-cache probes at levels 0 and 1
	 * (both miss) 2 x 4 + three table reads and the A update's read of the
	 * leaf 4 x 100 + the A write 50 + link out 8 = 477. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5000, IMS_ACC_R, 0), 477);
	/* IOTLB hit: 8 + 3 + 8. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5008, IMS_ACC_R, 0), 19);
	/* Write through the clean entry: 19, then a walk from the level-0
	 * walk cache (one probe, a hit: 4), leaf read + update read 200, the D
	 * write 50. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5010, IMS_ACC_W, 0), 273);
	/* Cached dirty now. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5018, IMS_ACC_W, 0), 19);
	ck_assert_uint_eq(r.n->cycles, 477 + 19 + 273 + 19);
	ck_assert_uint_eq(r.n->translations, 4);
	/* A DMA of 3 pieces: a cold page, then 2 hits on it. */
	uint64_t before = r.n->cycles;
	uint64_t pieces;
	ck_assert_uint_eq(ims_iommu_dma(r.mmu, DEV, 0x7800, 0x1800, IMS_ACC_R, &pieces), 0);
	ck_assert_uint_eq(pieces, 2);
	/* 0x7800..0x7fff: cold, the walk-cache level-0 entry hits (4), leaf +
	 * update read 200, A write 50: 19 + 254 = 273; 0x8000..0x8fff the same. */
	ck_assert_uint_eq(r.n->cycles - before, 273 + 273);
	rig_down(&r);
}
END_TEST

START_TEST(documented_example)
{
	/* docs/timing.md's worked example, with the default latencies. */
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	struct rig r;
	rig_up(&r, &c);
	ck_assert_uint_eq(cost(&r, DEV, 0x5000, IMS_ACC_R, 0), 527);
	ck_assert_uint_eq(cost(&r, DEV, 0x5008, IMS_ACC_R, 0), 19);
	ck_assert_uint_eq(cost(&r, DEV, 0x5010, IMS_ACC_W, 0), 323);
	ck_assert_uint_eq(cost(&r, DEV, 0x5018, IMS_ACC_W, 0), 19);
	rig_down(&r);
}
END_TEST

START_TEST(utlb_sequence)
{
	struct ims_iommu_cfg c;
	cfg_timed(&c);
	c.utlb_enable = true;
	struct rig r;
	rig_up(&r, &c);
	/* Every request first pays the micro-TLB lookup (1). */
	ck_assert_uint_eq(cost(&r, DEV, 0x5000, IMS_ACC_R, 0), 1 + 477);
	/* Served device-side: no link, no IOTLB. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5008, IMS_ACC_R, 0), 1);
	/* Clean in the micro-TLB and in the IOTLB: 1 + 19 + 254. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5010, IMS_ACC_W, 0), 274);
	ck_assert_uint_eq(cost(&r, DEV, 0x5018, IMS_ACC_W, 0), 1);
	/* Dropped from the micro-TLB only (a reattachment): the IOTLB serves. */
	ck_assert_int_eq(ims_iommu_attach(r.mmu, DEV, 1), 0);
	ck_assert_uint_eq(cost(&r, DEV, 0x5020, IMS_ACC_W, 0), 1 + 19);
	ck_assert_uint_eq(r.n->cycles, 478 + 1 + 274 + 1 + 20);
	/* The IOTLB's answer refilled the micro-TLB. */
	ck_assert_uint_eq(cost(&r, DEV, 0x5028, IMS_ACC_W, 0), 1);
	r.n = ims_iommu_counters(r.mmu);
	ck_assert_uint_eq(r.n->cycles, 478 + 1 + 274 + 1 + 20 + 1);
	ck_assert_uint_eq(ims_iommu_latency_max(r.mmu), 478);
	/* Sorted: 1 1 1 20 274 478. */
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.5), 1);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.51), 20);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.8), 274);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.9), 478);
	rig_down(&r);
}
END_TEST

START_TEST(no_caches_and_faults)
{
	struct ims_iommu_cfg c;
	cfg_timed(&c);
	c.iotlb_entries = 0;
	c.wc_disable = true;
	struct rig r;
	rig_up(&r, &c);
	/* No IOTLB, no walk cache: 8 + 4 x 100 + 50 + 8; again without the
	 * A write. */
	ck_assert_uint_eq(cost(&r, DEV, 0x1000, IMS_ACC_R, 0), 466);
	ck_assert_uint_eq(cost(&r, DEV, 0x1000, IMS_ACC_R, 0), 416);
	/* An unattached device: across the link and back, plus the fault
	 * record. */
	ck_assert_uint_eq(cost(&r, 99, 0x1000, IMS_ACC_R, IMS_FAULT_UNATTACHED), 8 + 20 + 8);
	/* Not present at level 0: three reads, the fault record. */
	ims_mem_store(r.mem, IMS_AGENT_HW, L0T + 8 * 9, 0);
	ck_assert_uint_eq(cost(&r, DEV, 0x9000, IMS_ACC_R, IMS_FAULT_NOTPRESENT), 16 + 300 + 20);
	/* Beyond the IOVA range: decided before any read. */
	ck_assert_uint_eq(cost(&r, DEV, 1ull << 40, IMS_ACC_R, IMS_FAULT_NOTPRESENT), 16 + 20);
	ck_assert_uint_eq(r.n->cycles, 466 + 416 + 36 + 336 + 36);
	rig_down(&r);
}
END_TEST

START_TEST(invalidation_cycles)
{
	struct ims_iommu_cfg c;
	cfg_timed(&c);
	struct rig r;
	rig_up(&r, &c);
	ims_iommu_inv_range(r.mmu, 1, 0, 0x1000, IMS_INV_LEAF);
	ims_iommu_inv_range(r.mmu, 1, 0, 0x200000, 0);
	ims_iommu_inv_domain(r.mmu, 1);
	ims_iommu_inv_all(r.mmu);
	ck_assert_int_eq(ims_iommu_ctx_invalidate(r.mmu, 1), 0);
	/* A native command costs what its kind costs. */
	uint64_t cmd[2] = {(AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT) | (1ull << AMD_CMD_DOMID_SHIFT),
			   0x3000};
	ck_assert_int_eq(ims_iommu_submit(r.mmu, IMS_FMT_AMDV1, cmd), 0);
	ck_assert_uint_eq(r.n->inv_cycles, 7 + 7 + 11 + 13 + 17 + 7);
	/* Invalidations are not translations. */
	ck_assert_uint_eq(r.n->cycles, 0);
	rig_down(&r);
}
END_TEST

START_TEST(percentiles)
{
	struct ims_iommu_cfg c;
	cfg_timed(&c);
	struct rig r;
	rig_up(&r, &c);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.5), 0);
	/* 477, 19, 273, 19 -> sorted 19 19 273 477. */
	cost(&r, DEV, 0x5000, IMS_ACC_R, 0);
	cost(&r, DEV, 0x5000, IMS_ACC_R, 0);
	cost(&r, DEV, 0x5000, IMS_ACC_W, 0);
	cost(&r, DEV, 0x5000, IMS_ACC_W, 0);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.25), 19);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.50), 19);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.51), 273);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.75), 273);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.90), 477);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.99), 477);
	ck_assert_uint_eq(ims_iommu_latency_percentile(r.mmu, 0.0), 19);
	ck_assert_uint_eq(ims_iommu_latency_max(r.mmu), 477);
	rig_down(&r);

	/* Above 1024 cycles the histogram keeps 64 steps per power of two:
	 * the percentile is rounded down, by less than 1/64. */
	c.lat.pte_read = 1000;
	rig_up(&r, &c);
	uint64_t big = cost(&r, DEV, 0x5000, IMS_ACC_R, 0);
	ck_assert_uint_eq(big, 19 + 8 + 4000 + 50);
	uint64_t p = ims_iommu_latency_percentile(r.mmu, 0.99);
	ck_assert_uint_le(p, big);
	ck_assert_uint_gt(p * 64, big * 63);
	ck_assert_uint_eq(p, 4064); /* 4077 = 127 << 5 + 13: the step [4064, 4096) */
	ck_assert_uint_eq(ims_iommu_latency_max(r.mmu), big);
	rig_down(&r);
}
END_TEST

/* ---- through the replayer ----------------------------------------------------------- */

static const char trace[] =
	"iommusim-trace 1\n"
	"domain id=1 format=amdv1 levels=3 root=0x100000 raw ha=on hd=on\n"
	"attach dev=10 domain=1\n"
	"mem pa=0x100000 val=0x6000000000101401\n"
	"mem pa=0x101000 val=0x6000000000102201\n"
	"mem pa=0x102028 val=0x6000000040005001\n"
	"mem pa=0x102030 val=0x6000000040006001\n"
	"dma dev=10 iova=0x5000 len=8 dir=r\n"     /* 477 */
	"dma dev=10 iova=0x5000 len=0x2000 dir=w\n" /* 273 (clean hit, walk) + 273 (cold, wc hit) */
	"expect pa dev=10 iova=0x6000 pa=0x40006000\n" /* 19 */
	"flush domain=1\n"                          /* raw: a domain invalidation, 11 */
	"dma dev=10 iova=0x6000 len=8 dir=w\n";     /* cold, A and D already set: 19 + 8 + 400 */

START_TEST(replay_summary)
{
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	cfg_timed(&o.model);
	o.verbosity = 0;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&o, &r), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("t", trace, sizeof(trace) - 1, 1, &rd), 0);
	ck_assert_int_eq(ims_replay_run(r, rd), 0);
	ims_reader_close(rd);
	ck_assert_uint_eq(ims_replay_stats(r)->validation_failures, 0);
	const struct ims_iommu_counters *n = ims_iommu_counters(ims_replay_iommu(r));
	ck_assert_uint_eq(n->translations, 5);
	/* Page 6's first write sets A and D in one atomic update. */
	ck_assert_uint_eq(n->cycles, 477 + 273 + 273 + 19 + 427);
	ck_assert_uint_eq(n->inv_cycles, 11);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ims_replay_write_json(r, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\"timing\":{\"cycles\":1469,\"pages\":5,"
					  "\"mean_cycles_per_page\":293.8000,\"p50\":273,\"p90\":477,"
					  "\"p99\":477,\"max\":477,\"inv_cycles\":11"));
	/* Per page: 5 lookups (3 misses), 1 invalidation, memory: reads
	 * 4 + 2 + 2 + 0 + 4 = 12, A/D writes 1 + 1 + 1 = 3. */
	ck_assert_ptr_nonnull(strstr(buf, "\"per_page\":{\"iotlb_lookups\":1.000000,"
					  "\"iotlb_misses\":0.600000,\"invalidations\":0.200000,"
					  "\"memory_accesses\":3.000000}"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	ims_replay_print_summary(r, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "timing: 1,469 cycles over 5 pages, mean 293.80 cycles/page, "
					  "p50 273 p90 477 p99 477 max 477; invalidations 11 cycles"));
	ck_assert_ptr_nonnull(strstr(buf, "per 4 KiB page: iotlb lookups 1.0000, iotlb misses 0.6000, "
					  "invalidations 0.2000, iommu memory accesses 3.0000"));
	free(buf);
	ims_replay_free(r);
}
END_TEST

/* ---- the per-event hook ------------------------------------------------------------- */

struct seen {
	uint64_t calls;
	uint64_t events_before[16];
};

static void hook(void *arg, struct ims_replay *r, const struct ims_event *ev)
{
	(void)ev;
	struct seen *s = arg;
	if (s->calls < 16)
		s->events_before[s->calls] = ims_replay_stats(r)->events;
	s->calls++;
}

START_TEST(event_hook)
{
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	struct seen s = {0};
	o.on_event = hook;
	o.on_event_arg = &s;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&o, &r), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("t", trace, sizeof(trace) - 1, 1, &rd), 0);
	ck_assert_int_eq(ims_replay_run(r, rd), 0);
	ims_reader_close(rd);
	ck_assert_uint_eq(s.calls, ims_replay_stats(r)->events);
	ck_assert_uint_eq(s.calls, 11);
	/* Before each event: the counters cover the events before it. */
	for (uint64_t i = 0; i < s.calls; i++)
		ck_assert_uint_eq(s.events_before[i], i);
	ims_replay_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timing");
	TCase *tc = tcase_create("timing");
	tcase_add_test(tc, iotlb_sequence);
	tcase_add_test(tc, documented_example);
	tcase_add_test(tc, utlb_sequence);
	tcase_add_test(tc, no_caches_and_faults);
	tcase_add_test(tc, invalidation_cycles);
	tcase_add_test(tc, percentiles);
	tcase_add_test(tc, replay_summary);
	tcase_add_test(tc, event_hook);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
