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

#include "harness/replay_int.h"
#include "model/prefetch.h"

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
	int rc = rp_tb_init(&rp->t, &o);
	if (rc) {
		ims_replay_free(rp);
		return rc;
	}
	rp->t.file = "-";
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

/* A DMA as the model does it, piece by piece (ims_iommu_dma), keeping what
 * each write reached in IOVA and GPA space (docs/uapi.md), a run at a
 * time, and with res each piece's result (ims_tb_dma). Returns the pieces
 * that faulted. Inlined into both callers: the replay's has no res. */
static inline __attribute__((always_inline)) uint64_t
dma_core(struct ims_tb *r, uint32_t dev, uint64_t iova, uint64_t len, unsigned acc,
	 uint64_t *pieces_out, struct rp_dma_res *res)
{
	uint64_t pieces = 0, faulted = 0;
	/* Only a write is recorded: a read needs neither look-up. */
	int tag = (acc & IMS_ACC_W) ? ims_iommu_dev_domain(r->mmu, dev) : -1;
	bool tracked = tag >= 0 && ims_iommu_ctx_dirty_enabled(r->mmu, (uint16_t)tag);
	if (res || (tag >= 0 && (tracked || r->mig_on))) {
		int dtag = res ? ims_iommu_dev_domain(r->mmu, dev) : tag;
		uint64_t left = len, at = iova;
		uint64_t run_iova = 0, run_pa = 0, run_len = 0;
		while (left) {
			uint64_t room = IMS_PAGE_SIZE - (at & (IMS_PAGE_SIZE - 1));
			uint64_t n = room < left ? room : left;
			struct ims_xlate x;
			struct ims_leaf lf;
			bool a0 = false;
			if (res && pieces < res->n && dtag >= 0)
				a0 = ims_iommu_leaf(r->mmu, (uint16_t)dtag, at, &lf) == 0 && lf.accessed;
			if (left > n)
				iommu_prefetch(r->mmu, dev, at + n, acc);
			int k = ims_iommu_access(r->mmu, dev, at, acc, &x);
			if (k > 0)
				faulted++;
			if (res && pieces < res->n) {
				struct ims_tb_access *o = &res->acc[pieces];
				*o = (struct ims_tb_access){.iova = at, .len = n};
				if (k == 0) {
					o->pa = x.pa;
					o->iotlb_hit = x.iotlb_hit;
					o->dirty_set = x.dirtied;
					o->leaf_iova = x.leaf_iova;
					o->leaf_shift = x.leaf_shift;
					o->accessed_set = !a0 && dtag >= 0 &&
							  ims_iommu_leaf(r->mmu, (uint16_t)dtag, at, &lf) == 0 &&
							  lf.accessed;
				} else if (k > 0) {
					o->fault = (int)x.fault;
					o->code = x.code;
				}
				o->cycles = x.cycles;
			}
			if (tag >= 0 && (tracked || r->mig_on)) {
				if (k == 0 && run_len && at == run_iova + run_len &&
				    x.pa == run_pa + run_len) {
					run_len += n;
				} else {
					if (run_len)
						gpa_write(r, (uint16_t)tag, run_iova, run_pa, run_len,
							  tracked);
					run_len = 0;
					if (k == 0) {
						run_iova = at;
						run_pa = x.pa;
						run_len = n;
					}
				}
			}
			pieces++;
			left -= n;
			at += n;
		}
		if (run_len)
			gpa_write(r, (uint16_t)tag, run_iova, run_pa, run_len, tracked);
	} else {
		faulted = ims_iommu_dma(r->mmu, dev, iova, len, acc, &pieces);
	}
	r->st.dma_ops++;
	r->st.dma_pages += pieces;
	r->st.dma_bytes += len;
	r->st.faults += faulted;
	*pieces_out = pieces;
	return faulted;
}

/* The testbench's DMA lives beside the replay's, so that tb.c, which the
 * replayer calls, does not call back into this file (scripts/file-deps.sh:
 * no cycle of files). */
int64_t ims_tb_dma(struct ims_tb *r, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir,
		   struct ims_tb_access *acc, size_t nacc, uint64_t *npieces)
{
	if (npieces)
		*npieces = 0;
	if (!dir || (dir & ~(unsigned)(IMS_ACC_R | IMS_ACC_W)))
		return rp_input_error(r, r->ev, IMS_K_DIR, "dir must be IMS_ACC_R or IMS_ACC_W");
	if (len && iova + (len - 1) < iova)
		return rp_input_error(r, r->ev, IMS_K_LEN, "the DMA wraps past 2^64");
	struct rp_dma_res res = {.acc = acc, .n = acc ? nacc : 0};
	uint64_t pieces = 0;
	uint64_t faulted = dma_core(r, dev, iova, len, dir, &pieces, acc ? &res : NULL);
	if (npieces)
		*npieces = pieces;
	return (int64_t)faulted;
}

/* Out of line: see ims_replay_event. */
static __attribute__((noinline)) int op_dma(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t pieces;
	dma_core(r, (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA], ev->v[IMS_K_LEN],
		 (unsigned)ev->v[IMS_K_DIR], &pieces, NULL);
	return 0;
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

/* A dma, most of any trace, goes straight to op_dma: the switch's frame,
 * with every other op inlined into it, cost more than a read DMA's own
 * bookkeeping. */
int ims_replay_event(struct ims_replay *rp, const struct ims_event *ev, const char *file)
{
	struct ims_tb *r = &rp->t;
	r->file = file ? file : "-";
	r->line = ev->line;
	if (rp->ro.on_event)
		rp->ro.on_event(rp->ro.on_event_arg, rp, ev);
	r->st.events++;
	if (ev->op == IMS_OP_DMA)
		return op_dma(r, ev);
	r->ev = ev;
	if (ims_ev_has(ev, IMS_K_INJECT_AT)) {
		r->inj_next.armed = true;
		r->inj_next.at = ev->v[IMS_K_INJECT_AT];
		r->inj_next.dev = ev->v[IMS_K_INJECT_DEV];
		r->inj_next.iova = ev->v[IMS_K_INJECT_IOVA];
	}
	int rc = op_other(r, ev);
	r->inj_next.armed = false;
	if (r->finding_pending) {
		r->st.walker_findings++;
		if (r->finding_pending > 1)
			rp_fail(r, ev, IMS_TB_FAIL_WALKER, "%s (and %u more)", r->finding,
				r->finding_pending - 1);
		else
			rp_fail(r, ev, IMS_TB_FAIL_WALKER, "%s", r->finding);
		r->finding_pending = 0;
	}
	r->ev = NULL;
	return rc;
}

void replay_prefetch(struct ims_replay *rp, const struct ims_event *ev)
{
	if (ev->op != IMS_OP_DMA || !ev->v[IMS_K_LEN])
		return;
	struct ims_tb *r = &rp->t;
	uint32_t dev = (uint32_t)ev->v[IMS_K_DEV];
	unsigned acc = (unsigned)ev->v[IMS_K_DIR];
	if (!iommu_prefetch(r->mmu, dev, ev->v[IMS_K_IOVA], acc))
		return;
	int tag = (acc & IMS_ACC_W) ? ims_iommu_dev_domain(r->mmu, dev) : -1;
	if (tag >= 0)
		oracle_prefetch(r->written, (uint16_t)tag, ev->v[IMS_K_IOVA]);
}

int ims_replay_run(struct ims_replay *r, struct ims_reader *rd)
{
	/* Up to REPLAY_AHEAD dmas are read before the one being replayed and
	 * hinted as they are read, so that their misses overlap the work in
	 * between (random DMAs over a large domain are bound by them). The
	 * window closes at any other event: nothing is read past it until it
	 * has been replayed, so whatever it points into in the reader stays
	 * valid. A read error is reported after the events before it are
	 * done, as without the window. */
	enum { W = REPLAY_AHEAD + 1 };
	struct ims_event q[W];
	unsigned head = 0, n = 0;
	int rc = 1;
	for (;;) {
		while (rc > 0 && n < W && (!n || q[(head + n - 1) % W].op == IMS_OP_DMA)) {
			struct ims_event *e = &q[(head + n) % W];
			rc = ims_reader_next(rd, e);
			if (rc > 0) {
				if (n)
					replay_prefetch(r, e);
				n++;
			}
		}
		if (!n)
			break;
		int k = ims_replay_event(r, &q[head], ims_reader_name(rd));
		if (k)
			return k;
		head = (head + 1) % W;
		n--;
	}
	if (rc < 0) {
		snprintf(r->t.err, sizeof(r->t.err), "%s", ims_reader_error(rd));
		return rc;
	}
	return 0;
}
