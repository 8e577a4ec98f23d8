/* The replayer: trace events -> software page tables, model and oracle.
 *
 * Software ops (map/unmap/track/harvest/flush) go to the domain's ims_pt,
 * whose sink forwards native commands to the model; device traffic goes to
 * the model; every harvest is compared bit for bit with the oracle.
 *
 * This file: the replayer's lifetime and the dispatch of each event. A dma
 * is replayed here whole, so the hot path stays in one translation unit;
 * every other op goes to its room (replay_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"
#include "iommusim/vfio.h"

#include "harness/dma.h"

void ims_replay_opts_default(struct ims_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	ims_iommu_cfg_default(&o->model);
	o->verbosity = 1;
}

int ims_replay_new(const struct ims_replay_opts *opts, struct ims_replay **out)
{
	*out = NULL;
	struct ims_replay *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	if (opts)
		rp->ro = *opts;
	else
		ims_replay_opts_default(&rp->ro);
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	o.model = rp->ro.model;
	o.walker = rp->ro.walker;
	o.plugin = rp->ro.plugin;
	o.verbosity = rp->ro.verbosity;
	o.diag = rp->ro.diag;
	o.budgets = rp->ro.budgets;
	int rc = rp_tb_init(&rp->t, &o);
	if (rc) {
		ims_replay_free(rp);
		return rc;
	}
	*out = rp;
	return 0;
}

void ims_replay_free(struct ims_replay *rp)
{
	if (!rp)
		return;
	rp_tb_fini(&rp->t);
	free(rp);
}

const char *ims_replay_error(const struct ims_replay *r) { return r->t.err; }
const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *r) { return &r->t.st; }
struct ims_iommu *ims_replay_iommu(struct ims_replay *r) { return r->t.mmu; }
struct ims_mem *ims_replay_mem(struct ims_replay *r) { return r->t.mem; }

/* Inlined into ims_replay_event: its general loop is out of line. */
static inline __attribute__((always_inline)) int op_dma(struct ims_tb *r,
							const struct ims_event *ev)
{
	if (__builtin_expect(ev->v[IMS_K_LEN] > r->o.budgets.dma_bytes, 0))
		return rp_dma_over(r, ev, ev->v[IMS_K_LEN]);
	uint64_t pieces;
	uint64_t faulted = dma_core(r, (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA],
				    ev->v[IMS_K_LEN], (unsigned)ev->v[IMS_K_DIR], &pieces, NULL);
	return faulted ? rp_faults_raised(r, ev, faulted) : 0;
}

/* Every op but dma, which ims_replay_event dispatches first. */
static __attribute__((noinline)) int op_other(struct ims_tb *r, const struct ims_event *ev)
{
	switch (ev->op) {
	case IMS_OP_DOMAIN:
		return rp_op_domain(r, ev);
	case IMS_OP_ATTACH:
		return rp_op_attach(r, ev);
	case IMS_OP_DETACH:
		return rp_op_detach(r, ev);
	case IMS_OP_MAP:
		return rp_op_map(r, ev);
	case IMS_OP_UNMAP:
		return rp_op_unmap(r, ev);
	case IMS_OP_TRACK:
		return rp_op_track(r, ev);
	case IMS_OP_HARVEST:
		return rp_op_harvest(r, ev);
	case IMS_OP_FLUSH:
		return rp_op_flush(r, ev);
	case IMS_OP_MEM:
		return rp_op_mem(r, ev);
	case IMS_OP_EXPECT_MEM:
		return rp_op_expect_mem(r, ev);
	case IMS_OP_EXPECT_PA:
		return rp_op_expect_pa(r, ev);
	case IMS_OP_EXPECT_FAULT:
		return rp_op_expect_fault(r, ev);
	case IMS_OP_EXPECT_NOFAULT:
		return rp_op_expect_nofault(r, ev);
	case IMS_OP_EXPECT_CONSISTENT:
		return rp_op_expect_consistent(r, ev);
	case IMS_OP_EXPECT_TABLES:
		return rp_op_expect_tables(r, ev);
	case IMS_OP_IOMMUFD_BIND:
		return rp_op_iommufd_bind(r, ev);
	case IMS_OP_IOMMUFD_HW_INFO:
		return rp_op_iommufd_hw_info(r, ev);
	case IMS_OP_IOMMUFD_IOAS:
		return rp_op_iommufd_ioas(r, ev);
	case IMS_OP_IOMMUFD_MAP:
		return rp_op_iommufd_map(r, ev);
	case IMS_OP_IOMMUFD_UNMAP:
		return rp_op_iommufd_unmap(r, ev);
	case IMS_OP_IOMMUFD_HWPT:
		return rp_op_iommufd_hwpt(r, ev);
	case IMS_OP_IOMMUFD_ATTACH:
		return rp_op_iommufd_attach(r, ev);
	case IMS_OP_IOMMUFD_SET_DIRTY:
		return rp_op_iommufd_set_dirty(r, ev);
	case IMS_OP_IOMMUFD_GET_DIRTY:
		return rp_op_iommufd_get_dirty(r, ev);
	case IMS_OP_IOMMUFD_INVALIDATE:
		return rp_op_iommufd_invalidate(r, ev);
	case IMS_OP_IOMMUFD_VIOMMU:
		return rp_op_iommufd_viommu(r, ev);
	case IMS_OP_IOMMUFD_VDEVICE:
		return rp_op_iommufd_vdevice(r, ev);
	case IMS_OP_VFIO_CONTAINER:
		return rp_op_vfio_container(r, ev);
	case IMS_OP_VFIO_GROUP:
		return rp_op_vfio_group(r, ev);
	case IMS_OP_VFIO_MAP:
		return rp_op_vfio_map(r, ev);
	case IMS_OP_VFIO_UNMAP:
		return rp_op_vfio_unmap(r, ev);
	case IMS_OP_VFIO_DIRTY:
		return rp_op_vfio_dirty(r, ev);
	case IMS_OP_VFIO_PIN:
	case IMS_OP_VFIO_UNPIN:
		return rp_op_vfio_pin(r, ev);
	default:
		return rp_input_error(r, ev, -1, "op not supported by the replayer");
	}
}

/* Any op but a dma, with its injection, faults and findings. */
static __attribute__((noinline)) int event_other(struct ims_tb *r, const struct ims_event *ev)
{
	r->ev = ev;
	bool inject = ims_ev_has(ev, IMS_K_INJECT_AT);
	if (inject) {
		r->inj_next.armed = true;
		r->inj_next.at = ev->v[IMS_K_INJECT_AT];
		r->inj_next.dev = ev->v[IMS_K_INJECT_DEV];
		r->inj_next.iova = ev->v[IMS_K_INJECT_IOVA];
	}
	uint64_t faults = ims_iommu_counters(r->mmu)->faults;
	int rc = op_other(r, ev);
	if (inject)
		r->inj_next.armed = false;
	/* Faults other ops raised: an expect pa's read, an injected write. */
	faults = ims_iommu_counters(r->mmu)->faults - faults;
	if (faults) {
		int k = rp_faults_raised(r, ev, faults);
		if (k && !rc)
			rc = k;
	}
	rp_report_findings(r, ev);
	r->ev = NULL;
	return rc;
}

/* A dma, most of any trace, goes straight to op_dma: the switch's frame,
 * with every other op inlined into it, cost more than a read DMA's own
 * bookkeeping, and so would the frame of the other ops' common steps. */
int ims_replay_event(struct ims_replay *rp, const struct ims_event *ev, const char *file)
{
	struct ims_tb *r = &rp->t;
	r->file = file ? file : "-";
	if (rp->ro.on_event)
		rp->ro.on_event(rp->ro.on_event_arg, rp, ev);
	r->st.events++;
	if (ev->op == IMS_OP_DMA)
		return op_dma(r, ev);
	return event_other(r, ev);
}

/* The replay's own part of a hint: the record a write makes. Out of line:
 * a hint dropped (no walk since the last) then saves no registers. */
static __attribute__((noinline)) void prefetch_record(struct ims_tb *r, uint32_t dev, uint64_t iova)
{
	int tag = ims_iommu_dev_domain(r->mmu, dev);
	if (tag >= 0)
		oracle_prefetch(r->written, (uint16_t)tag, iova);
}

void replay_prefetch(struct ims_replay *rp, const struct ims_event *ev)
{
	if (ev->op != IMS_OP_DMA || !ev->v[IMS_K_LEN])
		return;
	struct ims_tb *r = &rp->t;
	uint32_t dev = (uint32_t)ev->v[IMS_K_DEV];
	unsigned acc = (unsigned)ev->v[IMS_K_DIR];
	if (iommu_prefetch(r->mmu, dev, ev->v[IMS_K_IOVA], acc) && (acc & IMS_ACC_W))
		prefetch_record(r, dev, ev->v[IMS_K_IOVA]);
}

/* A dma replay_dmas hands to the model with others: dma_one_page's test
 * (the reference switch aside) and within the DMA budget, budget. */
static inline bool batchable(const struct ims_event *ev, uint64_t budget)
{
	uint64_t len = ev->v[IMS_K_LEN], iova = ev->v[IMS_K_IOVA];
	uint64_t room = IMS_PAGE_SIZE - (iova & (IMS_PAGE_SIZE - 1));
	/* len - 1 wraps for len 0, which is then past both bounds. */
	return ev->op == IMS_OP_DMA && len - 1 < (room < budget ? room : budget) &&
	       ev->v[IMS_K_DIR] - 1 < IMS_ACC_RW;
}

int replay_dmas(struct ims_replay *rp, const struct ims_event *ev, size_t n, size_t nhint,
		const char *file)
{
	struct ims_tb *r = &rp->t;
	struct iommu_req req[REPLAY_BATCH + REPLAY_AHEAD];
	struct iommu_page res[REPLAY_BATCH];
	uint64_t budget = r->o.budgets.dma_bytes;
	size_t i = 0;
	while (i < n) {
		/* The model takes a run of one-page dmas in one call, unless a
		 * hook must see the state before each event. */
		size_t k = 0, lim = n - i < REPLAY_BATCH ? n - i : REPLAY_BATCH;
		uint64_t bytes = 0;
		if (!rp->ro.on_event && !r->ref_dma)
			while (k < lim && batchable(&ev[i + k], budget)) {
				const struct ims_event *e = &ev[i + k];
				bytes += e->v[IMS_K_LEN];
				req[k++] = (struct iommu_req){.iova = e->v[IMS_K_IOVA],
							      .len = e->v[IMS_K_LEN],
							      .dev = (uint32_t)e->v[IMS_K_DEV],
							      .acc = (uint32_t)e->v[IMS_K_DIR]};
			}
		if (!k) {
			if (i + REPLAY_AHEAD < nhint)
				replay_prefetch(rp, &ev[i + REPLAY_AHEAD]);
			int rc = ims_replay_event(rp, &ev[i], file);
			if (rc)
				return rc;
			i++;
			continue;
		}
		/* The dmas after the run, hinted while it is replayed. */
		size_t h = k;
		while (h < k + REPLAY_AHEAD && i + h < nhint && ev[i + h].op == IMS_OP_DMA &&
		       ev[i + h].v[IMS_K_LEN]) {
			const struct ims_event *e = &ev[i + h];
			req[h++] = (struct iommu_req){.iova = e->v[IMS_K_IOVA],
						      .len = e->v[IMS_K_LEN],
						      .dev = (uint32_t)e->v[IMS_K_DEV],
						      .acc = (uint32_t)e->v[IMS_K_DIR]};
		}
		/* The model records the IOVA pages written (r->written) as
		 * gpa_write does. */
		size_t did = iommu_dma_pages(r->mmu, req, k, h, REPLAY_AHEAD, r->written, res);
		/* The rest of what ims_replay_event does for each, none of which
		 * reaches the model: the statistics, added up for the run; the
		 * GPA record of a migration; the faults of the last, which
		 * stopped the run (iommu_dma_pages) so that they are taken before
		 * the model goes on. */
		r->file = file ? file : "-";
		r->st.events += did;
		r->st.dma_ops += did;
		r->st.dma_pages += did;
		if (did < k)
			for (size_t j = did; j < k; j++)
				bytes -= req[j].len;
		r->st.dma_bytes += bytes;
		if (r->mig_on)
			for (size_t j = 0; j < did; j++)
				if (res[j].rc == 0 && res[j].dom >= 0)
					gpa_write(r, (uint16_t)res[j].dom, req[j].iova, res[j].pa,
						  req[j].len, false);
		if (res[did - 1].rc > 0) {
			r->st.faults++;
			int rc = rp_faults_raised(r, &ev[i + did - 1], 1);
			if (rc)
				return rc;
		}
		i += did;
	}
	return 0;
}

int ims_replay_run(struct ims_replay *r, struct ims_reader *rd)
{
	/* Up to REPLAY_BATCH dmas are read before they are replayed
	 * (replay_dmas), so that the model takes them in one pass and each
	 * is hinted REPLAY_AHEAD dmas before its turn (the first ones of a
	 * batch as they are read): their misses then overlap the work in
	 * between (random DMAs over a large domain are bound by them). The
	 * batch closes at any other event, which is replayed after it:
	 * nothing is read past that event until it has been replayed, so
	 * whatever it points into in the reader stays valid. A read error is
	 * reported after the events before it are done, as without the
	 * batch. */
	struct ims_event q[REPLAY_BATCH];
	const char *name = ims_reader_name(rd);
	int rc = 1;
	while (rc > 0) {
		size_t n = 0;
		bool other = false;
		while (n < REPLAY_BATCH && (rc = ims_reader_next(rd, &q[n])) > 0) {
			if (q[n].op != IMS_OP_DMA) {
				other = true;
				break;
			}
			if (n < REPLAY_AHEAD)
				replay_prefetch(r, &q[n]);
			n++;
		}
		int k = n ? replay_dmas(r, q, n, n, name) : 0;
		if (!k && other)
			k = ims_replay_event(r, &q[n], name);
		if (k)
			return k;
	}
	if (rc < 0) {
		snprintf(r->t.err, sizeof(r->t.err), "%s", ims_reader_error(rd));
		return rc;
	}
	if (r->t.strict_faults)
		rp_faults_unexpected(&r->t);
	return 0;
}

void replay_set_reference(struct ims_replay *r, bool on)
{
	r->t.ref_dma = on;
	iommu_set_reference(r->t.mmu, on);
}

void ims_replay_set_strict_faults(struct ims_replay *r, bool on)
{
	r->t.strict_faults = on;
}
