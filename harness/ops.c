/* Ops: the trace's core events (domain, attach, map, unmap, track, harvest,
 * flush, mem, expect); a dma is replayed in replay.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"
#include "model/mem_view.h"

static struct dom *need_dom(struct ims_tb *r, const struct ims_event *ev, bool software, int *rc)
{
	return rp_need_dom(r, ev->v[IMS_K_DOMAIN], ev->op, software, rc);
}

static uint16_t dom_of(const struct ims_event *ev)
{
	return (uint16_t)ev->v[IMS_K_DOMAIN];
}

/* A raw domain: tables the trace writes with mem lines, a context from its
 * keys (no software page table). */
static int raw_domain(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	if (ims_ev_has(ev, IMS_K_DIRTY) || ims_ev_has(ev, IMS_K_PGSIZES))
		return rp_input_error(r, ev, ims_ev_has(ev, IMS_K_DIRTY) ? IMS_K_DIRTY : IMS_K_PGSIZES,
				      "dirty= and pgsizes= are for software domains; a raw "
				      "domain takes ha= and hd=");
	char why[256] = "";
	uint64_t words[IMS_CTX_WORDS];
	struct rp_geom g = rp_ev_geom(ev);
	struct ims_ctx_params p = {
		.tag = (uint16_t)id,
		.root = ev->v[IMS_K_ROOT],
		.levels = g.levels,
		.granule_shift = g.granule_shift,
		.ias = g.ias,
		.ha = ims_ev_has(ev, IMS_K_HA) && ev->v[IMS_K_HA],
		.hd = ims_ev_has(ev, IMS_K_HD) && ev->v[IMS_K_HD],
	};
	int rc = ims_ctx_encode(fmt, &p, words, why, sizeof(why));
	if (!rc)
		rc = ims_iommu_ctx_set(r->mmu, (uint16_t)id, fmt, words, why, sizeof(why));
	if (rc)
		return rp_domain_error(r, rc, IMS_K_FORMAT, why);
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fmt = fmt;
	d->line = ev->line;
	d->raw = true;
	if (rp_dom_put(r, (uint16_t)id, d)) {
		free(d);
		return -ENOMEM;
	}
	return 0;
}

/* A nested domain over stage-2 domain P (docs/trace-format.md, "Nested
 * domains"): P checked here, the table frames mapped by nested.c's hook. */
static int nested_domain(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID], pid = ev->v[IMS_K_NESTED];
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	struct dom *p = r->doms[pid];
	int s2 = ims_format_nest_s2(fmt);
	if (pid == id)
		return rp_input_error(r, ev, IMS_K_NESTED, "nested=%" PRIu64 " names the domain itself",
				      pid);
	if (s2 < 0)
		return rp_input_error(r, ev, IMS_K_FORMAT,
				      "format=%s has no nested pair (stage 1 over stage 2: smmuv3 over "
				      "smmuv3-s2, vtd-fs over vtd, amdv2 over amdv1)",
				      ims_format_name(fmt));
	if (!p)
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " is not defined (define the "
				      "stage-2 parent first)",
				      pid, pid);
	if (p->raw || p->nested || p->kind != DOM_PLAIN)
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " (line %" PRIu64 ") is %s; "
				      "a parent is a software domain of a `domain` line",
				      pid, pid, p->line,
				      p->raw ? "raw" : p->nested ? "nested itself"
				      : p->kind == DOM_HWPT ? "an iommufd HWPT (use iommufd hwpt-alloc nested=)"
							    : "a VFIO container");
	if (p->fmt != (enum ims_format)s2)
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " has format %s; a %s stage 1 "
				      "nests over %s",
				      pid, pid, ims_format_name(p->fmt), ims_format_name(fmt),
				      ims_format_name((enum ims_format)s2));
	if (!(ims_pt_pgsizes(p->pt) & IMS_PAGE_SIZE))
		return rp_input_error(r, ev, IMS_K_NESTED,
				      "nested=%" PRIu64 ": domain %" PRIu64 " cannot map 4 KiB pages, "
				      "which its nested domain's table frames need",
				      pid, pid);
	struct ims_tb_domain_cfg c = rp_ev_domain_cfg(ev, fmt);
	return rp_tb_domain(r, (uint16_t)id, &c, (int)pid);
}

int rp_op_domain(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	int rc = rp_new_domain_keys(r, ev);
	if (rc)
		return rc;
	if (ims_ev_has(ev, IMS_K_RAW))
		return raw_domain(r, ev);
	if (ims_ev_has(ev, IMS_K_NESTED))
		return nested_domain(r, ev);
	struct ims_tb_domain_cfg c = rp_ev_domain_cfg(ev, (enum ims_format)ev->v[IMS_K_FORMAT]);
	return ims_tb_domain(r, (uint16_t)id, &c);
}

int rp_op_attach(struct ims_tb *r, const struct ims_event *ev)
{
	return ims_tb_attach(r, (uint32_t)ev->v[IMS_K_DEV], dom_of(ev));
}

int rp_op_detach(struct ims_tb *r, const struct ims_event *ev)
{
	return ims_tb_detach(r, (uint32_t)ev->v[IMS_K_DEV]);
}

int rp_op_map(struct ims_tb *r, const struct ims_event *ev)
{
	return ims_tb_map(r, dom_of(ev), ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ev->v[IMS_K_SIZE],
			  ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT] : IMS_PROT_RW,
			  ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : 0);
}

int rp_op_unmap(struct ims_tb *r, const struct ims_event *ev)
{
	struct ims_bitmap got;
	bool read = ims_ev_has(ev, IMS_K_READ_DIRTY);
	int rc = rp_tb_unmap(r, dom_of(ev), ev->v[IMS_K_IOVA], ev->v[IMS_K_SIZE],
				   ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : 0,
				   read ? &got : NULL);
	if (!rc && read)
		ims_bitmap_fini(&got);
	return rc;
}

int rp_op_track(struct ims_tb *r, const struct ims_event *ev)
{
	return ims_tb_track(r, dom_of(ev), ims_ev_has(ev, IMS_K_ON));
}

int rp_op_harvest(struct ims_tb *r, const struct ims_event *ev)
{
	struct ims_bitmap got;
	bool noclear = ims_ev_has(ev, IMS_K_NOCLEAR);
	int rc = ims_tb_harvest(r, dom_of(ev), ev->v[IMS_K_IOVA], ev->v[IMS_K_SIZE],
				ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : 0,
				noclear ? IMS_DIRTY_NO_CLEAR : 0, &got, NULL);
	if (rc)
		return rc;
	rc = rp_check_bitmap_expect(r, ev, dom_of(ev), !noclear, &got);
	ims_bitmap_fini(&got);
	return rc;
}

int rp_op_flush(struct ims_tb *r, const struct ims_event *ev)
{
	bool ranged = ims_ev_has(ev, IMS_K_IOVA);
	return ims_tb_flush(r, dom_of(ev), ranged ? ev->v[IMS_K_IOVA] : 0,
			    ranged ? ev->v[IMS_K_SIZE] : 0);
}

static int check_aligned(struct ims_tb *r, const struct ims_event *ev, enum ims_key k,
			 uint64_t align, const char *what)
{
	return rp_check_aligned(r, k, ev->v[k], align, what);
}

int rp_op_mem(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = check_aligned(r, ev, IMS_K_PA, 8, "8 bytes");
	if (rc)
		return rc;
	/* A word in a frame not yet held brings a new frame (raw tables are
	 * built this way): it counts against the table budget. */
	if (!mem_frame(r->mem, ev->v[IMS_K_PA]) &&
	    (rc = rp_check_tables(r, ev, IMS_K_PA, 1, "the mem line")))
		return rc;
	/* Raw set-up is neither the software under test nor a device. */
	ims_mem_store(r->mem, IMS_AGENT_HW, ev->v[IMS_K_PA], ev->v[IMS_K_VAL]);
	return 0;
}

int rp_op_expect_mem(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = check_aligned(r, ev, IMS_K_PA, 8, "8 bytes");
	if (rc)
		return rc;
	uint64_t mask = ims_ev_has(ev, IMS_K_MASK) ? ev->v[IMS_K_MASK] : ~0ull;
	uint64_t got = ims_mem_load(r->mem, IMS_AGENT_HW, ev->v[IMS_K_PA]);
	r->st.assertions++;
	if ((got & mask) != (ev->v[IMS_K_VAL] & mask)) {
		r->st.assertion_failures++;
		rp_validation_failure(r, ev,
				      "expect mem pa=0x%" PRIx64 ": expected 0x%016" PRIx64
				      ", got 0x%016" PRIx64 " (mask 0x%" PRIx64 ", differing bits 0x%" PRIx64 ")",
				      ev->v[IMS_K_PA], ev->v[IMS_K_VAL] & mask, got & mask, mask,
				      (got ^ ev->v[IMS_K_VAL]) & mask);
	}
	return 0;
}

int rp_op_expect_pa(struct ims_tb *r, const struct ims_event *ev)
{
	struct ims_xlate x;
	uint64_t dropped = ims_iommu_counters(r->mmu)->faults_dropped;
	/* A read translation, with exactly the side effects of a read DMA. */
	int k = ims_iommu_access(r->mmu, (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA], IMS_ACC_R, &x);
	r->st.assertions++;
	if (k < 0)
		return rp_input_error(r, ev, -1, "translation failed");
	if (k > 0) {
		r->st.faults++;
		r->st.assertion_failures++;
		/* The fault it queued, the newest. */
		struct ims_fault f;
		size_t n = ims_iommu_fault_pending(r->mmu);
		char buf[512];
		if (n && ims_iommu_counters(r->mmu)->faults_dropped == dropped &&
		    ims_iommu_fault_peek(r->mmu, n - 1, &f))
			rp_fault_text(r, &f, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%s (code 0x%x)", ims_fault_kind_name(x.fault), x.code);
		rp_validation_failure(r, ev, "expect pa iova=0x%" PRIx64 ": expected pa 0x%" PRIx64
				      ", got a fault: %s",
				      ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], buf);
		return 0;
	}
	if (x.pa != ev->v[IMS_K_PA]) {
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expect pa iova=0x%" PRIx64 ": expected pa 0x%" PRIx64
				      ", got 0x%" PRIx64,
				      ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], x.pa);
	}
	return 0;
}

int rp_op_expect_fault(struct ims_tb *r, const struct ims_event *ev)
{
	struct ims_fault f;
	char buf[512], dev[32];
	r->st.assertions++;
	if (!ims_iommu_fault_pop(r->mmu, &f)) {
		char lost[256];
		r->st.assertion_failures++;
		if (rp_faults_untold(r, lost, sizeof(lost)))
			rp_validation_failure(r, ev, "expected a %s fault at iova 0x%" PRIx64
					      ", none is pending; %s",
					      ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]),
					      ev->v[IMS_K_IOVA], lost);
		else
			rp_validation_failure(r, ev, "expected a %s fault at iova 0x%" PRIx64
					      ", none is pending",
					      ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]),
					      ev->v[IMS_K_IOVA]);
		return 0;
	}
	if (f.dev != ev->v[IMS_K_DEV] || f.iova != ev->v[IMS_K_IOVA] ||
	    f.kind != (enum ims_fault_kind)ev->v[IMS_K_KIND]) {
		r->st.assertion_failures++;
		rp_fault_text(r, &f, buf, sizeof(buf));
		rp_dev_text(r, (uint32_t)ev->v[IMS_K_DEV], dev, sizeof(dev));
		rp_validation_failure(r, ev, "expected a %s fault from %s at iova 0x%" PRIx64
				      ", got %s",
				      ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]), dev,
				      ev->v[IMS_K_IOVA], buf);
	}
	return 0;
}

int rp_op_expect_nofault(struct ims_tb *r, const struct ims_event *ev)
{
	r->st.assertions++;
	size_t n = ims_iommu_fault_pending(r->mmu);
	char lost[256] = "";
	uint64_t untold = rp_faults_untold(r, lost, sizeof(lost));
	if (n) {
		struct ims_fault f;
		char buf[512];
		ims_iommu_fault_pop(r->mmu, &f);
		rp_fault_text(r, &f, buf, sizeof(buf));
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expected no pending fault, %zu pending; the oldest: %s%s%s",
				      n, buf, untold ? "; and " : "", untold ? lost : "");
		/* Report each unconsumed fault once. */
		while (ims_iommu_fault_pop(r->mmu, &f))
			;
	} else if (untold) {
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expected no pending fault: %s", lost);
	}
	return 0;
}

struct consist {
	struct ims_tb *r;
	const struct ims_event *ev;
	uint16_t tag;
	uint64_t bad;
};

static int consist_leaf(void *arg, uint64_t page_iova, unsigned page_shift, uint64_t pa,
			unsigned prot)
{
	struct consist *c = arg;
	uint64_t last = page_iova + ((1ull << page_shift) - 1);
	const uint64_t probes[2] = {page_iova, last & ~7ull};
	for (int i = 0; i < 2; i++) {
		struct ims_xlate x;
		uint64_t want = pa + (probes[i] - page_iova);
		int k = ims_iommu_probe(c->r->mmu, c->tag, probes[i], IMS_ACC_R, &x);
		const char *what = NULL;
		if (k != 0)
			what = "hardware faults where software maps";
		else if (x.pa != want)
			what = "hardware translates elsewhere";
		else if ((prot & IMS_PROT_W) &&
			 ims_iommu_probe(c->r->mmu, c->tag, probes[i], IMS_ACC_W, &x) != 0)
			what = "software maps writable, hardware refuses a write";
		else if (!(prot & IMS_PROT_W) &&
			 ims_iommu_probe(c->r->mmu, c->tag, probes[i], IMS_ACC_W, &x) == 0)
			what = "software maps read-only, hardware allows a write";
		if (what) {
			if (!c->bad++)
				rp_validation_failure(c->r, c->ev,
						      "iova_to_phys(0x%" PRIx64 ") = 0x%" PRIx64
						      " but %s (fault %d, pa 0x%" PRIx64 ")",
						      probes[i], want, what, k, x.pa);
			return 0;
		}
	}
	return 0;
}

int rp_op_expect_consistent(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	struct consist c = {r, ev, (uint16_t)ev->v[IMS_K_DOMAIN], 0};
	r->st.assertions++;
	ims_pt_for_each_leaf(d->pt, 0, 0, consist_leaf, &c);
	if (c.bad)
		r->st.assertion_failures++;
	return 0;
}

int rp_op_expect_tables(struct ims_tb *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	r->st.assertions++;
	uint64_t n = ims_pt_stats(d->pt)->table_pages;
	if (n > ev->v[IMS_K_CNT] &&
	    (ims_pt_walker_contract(d->pt) & IMS_WALKER_CONTRACT_TABLES_KEPT)) {
		r->st.tables_kept_by_contract += n - ev->v[IMS_K_CNT];
		if (r->o.verbosity >= 2)
			fprintf(stdout, "%s:%" PRIu64 ": %" PRIu64 " page-table pages beyond the %" PRIu64
				" expected, kept by walker %s's contract\n",
				r->file, ev->line, n - ev->v[IMS_K_CNT], ev->v[IMS_K_CNT],
				ims_pt_walker_label(d->pt));
	} else if (n != ev->v[IMS_K_CNT]) {
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expected %" PRIu64 " page-table pages, the domain holds %" PRIu64,
				      ev->v[IMS_K_CNT], n);
	}
	return 0;
}
