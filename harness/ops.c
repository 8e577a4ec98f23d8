/* Ops: the trace's core events (domain, attach, map, unmap, track, harvest,
 * flush, mem, expect); a dma is replayed in replay.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"

/* Helpers. */

static struct dom *need_dom(struct ims_replay *r, const struct ims_event *ev, bool software,
			    int *rc)
{
	uint64_t id = ev->v[IMS_K_DOMAIN];
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (!d) {
		*rc = rp_input_error(r, ev, IMS_K_DOMAIN, "domain %" PRIu64 " is not defined", id);
		return NULL;
	}
	if (software && d->raw) {
		*rc = rp_input_error(r, ev, -1,
				     "%s is a software operation; domain %" PRIu64
				     " is raw (defined at line %" PRIu64 ")",
				     ims_op_name(ev->op), id, d->line);
		return NULL;
	}
	return d;
}

static int check_aligned(struct ims_replay *r, const struct ims_event *ev, enum ims_key k,
			 uint64_t align, const char *what)
{
	if (ev->v[k] & (align - 1))
		return rp_input_error(r, ev, k, "%s=0x%" PRIx64 " is not aligned to %s (0x%" PRIx64 ")",
				      ims_key_name(k), ev->v[k], what, align);
	return 0;
}

static int check_in_domain(struct ims_replay *r, const struct ims_event *ev, struct dom *d,
			   uint64_t iova, uint64_t size)
{
	uint64_t lim = ims_pt_iova_limit(d->pt);
	if (lim && (iova >= lim || size > lim - iova))
		return rp_input_error(r, ev, IMS_K_IOVA,
				      "range [0x%" PRIx64 ", +0x%" PRIx64
				      ") leaves the domain's IOVA space (below 0x%" PRIx64 ")",
				      iova, size, lim);
	return 0;
}

int rp_op_domain(struct ims_replay *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	if (r->doms[id])
		return rp_input_error(r, ev, IMS_K_ID, "domain %" PRIu64 " is already defined at line %" PRIu64,
				      id, r->doms[id]->line);
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	unsigned levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 0;
	unsigned gshift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0;
	unsigned ias = ims_ev_has(ev, IMS_K_IAS) ? (unsigned)ev->v[IMS_K_IAS] : 0;
	if (ims_ev_has(ev, IMS_K_LEVELS) && (ev->v[IMS_K_LEVELS] == 0 || ev->v[IMS_K_LEVELS] > 64))
		return rp_input_error(r, ev, IMS_K_LEVELS, "levels=%" PRIu64 " is out of range",
				      ev->v[IMS_K_LEVELS]);
	if (ims_ev_has(ev, IMS_K_IAS) && (ev->v[IMS_K_IAS] == 0 || ev->v[IMS_K_IAS] > 64))
		return rp_input_error(r, ev, IMS_K_IAS, "ias=%" PRIu64 " is out of range",
				      ev->v[IMS_K_IAS]);
	char why[256] = "";
	uint64_t words[IMS_CTX_WORDS];
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fmt = fmt;
	d->line = ev->line;
	int key = IMS_K_FORMAT;
	int rc;
	if (ims_ev_has(ev, IMS_K_RAW)) {
		if (ims_ev_has(ev, IMS_K_DIRTY) || ims_ev_has(ev, IMS_K_PGSIZES)) {
			free(d);
			return rp_input_error(r, ev, ims_ev_has(ev, IMS_K_DIRTY) ? IMS_K_DIRTY : IMS_K_PGSIZES,
					      "dirty= and pgsizes= are for software domains; a raw "
					      "domain takes ha= and hd=");
		}
		d->raw = true;
		struct ims_ctx_params p = {
			.tag = (uint16_t)id,
			.root = ev->v[IMS_K_ROOT],
			.levels = levels,
			.granule_shift = gshift,
			.ias = ias,
			.ha = ims_ev_has(ev, IMS_K_HA) && ev->v[IMS_K_HA],
			.hd = ims_ev_has(ev, IMS_K_HD) && ev->v[IMS_K_HD],
		};
		rc = ims_ctx_encode(fmt, &p, words, why, sizeof(why));
	} else {
		struct ims_pt_cfg cfg = {
			.fmt = fmt,
			.tag = (uint16_t)id,
			.levels = levels,
			.granule_shift = gshift,
			.ias = ias,
			.pgsizes = ims_ev_has(ev, IMS_K_PGSIZES) ? ev->v[IMS_K_PGSIZES] : 0,
			.dirty_tracking = ims_ev_has(ev, IMS_K_DIRTY) && ev->v[IMS_K_DIRTY],
			.walker = r->o.walker,
			.plugin = r->o.plugin,
		};
		d->dirty_alloc = cfg.dirty_tracking;
		if (cfg.dirty_tracking && !ims_iommu_cfg_dirty_capable(&r->o.model, fmt)) {
			free(d);
			return rp_input_error(r, ev, IMS_K_DIRTY,
					      "dirty=on: the IOMMU lacks dirty tracking for %s "
					      "(-EOPNOTSUPP; see its capability registers)",
					      ims_format_name(fmt));
		}
		struct ims_sink sink = rp_sink(r);
		rc = ims_pt_new(r->mem, &cfg, &sink, &d->pt, why, sizeof(why));
		if (!rc)
			ims_pt_ctx_words(d->pt, words);
		else if (strstr(why, "page size"))
			key = IMS_K_PGSIZES;
	}
	if (!rc)
		rc = ims_iommu_ctx_set(r->mmu, (uint16_t)id, fmt, words, why, sizeof(why));
	if (rc) {
		ims_pt_free(d->pt);
		free(d);
		if (strstr(why, "level") && ims_ev_has(ev, IMS_K_LEVELS))
			key = IMS_K_LEVELS;
		else if (strstr(why, "granule") && ims_ev_has(ev, IMS_K_GRANULE))
			key = IMS_K_GRANULE;
		else if (strstr(why, "ias") && ims_ev_has(ev, IMS_K_IAS))
			key = IMS_K_IAS;
		return rp_input_error(r, ev, key, "%s", why[0] ? why : rp_errno_text(rc));
	}
	if (rp_dom_put(r, (uint16_t)id, d)) {
		ims_pt_free(d->pt);
		free(d);
		return -ENOMEM;
	}
	return 0;
}

int rp_op_attach(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, false, &rc);
	if (!d)
		return rc;
	rc = ims_iommu_attach(r->mmu, (uint32_t)ev->v[IMS_K_DEV], (uint16_t)ev->v[IMS_K_DOMAIN]);
	if (rc)
		return rp_input_error(r, ev, IMS_K_DEV, "attach failed: %s", rp_errno_text(rc));
	return 0;
}

int rp_op_detach(struct ims_replay *r, const struct ims_event *ev)
{
	if (ims_iommu_detach(r->mmu, (uint32_t)ev->v[IMS_K_DEV]))
		return rp_input_error(r, ev, IMS_K_DEV, "device 0x%" PRIx64 " is not attached",
				      ev->v[IMS_K_DEV]);
	return 0;
}

/* Maps of a HWPT follow its IOAS, maps of a container its vfio calls. */
static int not_front_end(struct ims_replay *r, const struct ims_event *ev, const struct dom *d)
{
	if (d->kind == DOM_HWPT)
		return rp_input_error(r, ev, IMS_K_DOMAIN,
				      "domain %" PRIu64 " is an iommufd HWPT (line %" PRIu64
				      "): map and unmap its IOAS with iommufd map / unmap",
				      ev->v[IMS_K_DOMAIN], d->line);
	if (d->kind == DOM_VFIO)
		return rp_input_error(r, ev, IMS_K_DOMAIN,
				      "domain %" PRIu64 " is a VFIO container (line %" PRIu64
				      "): use vfio map / unmap",
				      ev->v[IMS_K_DOMAIN], d->line);
	return 0;
}

int rp_op_map(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	if ((rc = not_front_end(r, ev, d)))
		return rc;
	uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : 0;
	uint64_t align = ims_pt_min_pgsize(d->pt);
	if (pgsize) {
		if (!(ims_pt_pgsizes(d->pt) & pgsize))
			return rp_input_error(r, ev, IMS_K_PGSIZE,
					      "pgsize=0x%" PRIx64 " is not a leaf size this domain uses",
					      pgsize);
		align = pgsize;
	}
	const char *what = pgsize ? "pgsize" : "the smallest leaf size";
	if ((rc = check_aligned(r, ev, IMS_K_IOVA, align, what)) ||
	    (rc = check_aligned(r, ev, IMS_K_PA, align, what)) ||
	    (rc = check_aligned(r, ev, IMS_K_SIZE, align, what)) ||
	    (rc = check_in_domain(r, ev, d, ev->v[IMS_K_IOVA], ev->v[IMS_K_SIZE])))
		return rc;
	unsigned prot = ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT] : IMS_PROT_RW;
	rp_inject_begin(r, ev);
	rc = ims_pt_map(d->pt, ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ev->v[IMS_K_SIZE], prot, pgsize);
	rp_inject_end(r, ev, NULL, NULL);
	if (rc)
		return rp_input_error(r, ev, IMS_K_IOVA, "map failed: %s", rp_errno_text(rc));
	rp_mapped(r, (uint16_t)ev->v[IMS_K_DOMAIN], ev->v[IMS_K_IOVA], ev->v[IMS_K_SIZE], prot);
	r->st.maps++;
	return 0;
}

static int bitmaps_for(struct ims_replay *r, const struct ims_event *ev, struct dom *d,
		       uint64_t pgsize, struct ims_bitmap *got, struct ims_bitmap *want)
{
	int rc;
	uint64_t iova = ev->v[IMS_K_IOVA], size = ev->v[IMS_K_SIZE];
	if (!ims_is_pow2(pgsize))
		return rp_input_error(r, ev, IMS_K_PGSIZE, "pgsize=0x%" PRIx64 " is not a power of two",
				      pgsize);
	if ((rc = check_aligned(r, ev, IMS_K_IOVA, pgsize, "the bitmap page size")) ||
	    (rc = check_aligned(r, ev, IMS_K_SIZE, pgsize, "the bitmap page size")) ||
	    (rc = check_in_domain(r, ev, d, iova, size)))
		return rc;
	rc = ims_bitmap_init(got, iova, size, ims_log2(pgsize));
	if (rc)
		return rp_input_error(r, ev, IMS_K_SIZE, "bitmap: %s", rp_errno_text(rc));
	rc = ims_bitmap_init(want, iova, size, ims_log2(pgsize));
	if (rc) {
		ims_bitmap_fini(got);
		return rp_input_error(r, ev, IMS_K_SIZE, "bitmap: %s", rp_errno_text(rc));
	}
	ims_oracle_expected(ims_iommu_oracle(r->mmu), (uint16_t)ev->v[IMS_K_DOMAIN], want->iova,
			    want->length, want->pgshift, want->words);
	return 0;
}

int rp_op_unmap(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	if ((rc = not_front_end(r, ev, d)))
		return rc;
	uint64_t align = ims_pt_min_pgsize(d->pt);
	uint64_t iova = ev->v[IMS_K_IOVA], size = ev->v[IMS_K_SIZE];
	uint16_t tag = (uint16_t)ev->v[IMS_K_DOMAIN];
	if ((rc = check_aligned(r, ev, IMS_K_IOVA, align, "the smallest leaf size")) ||
	    (rc = check_aligned(r, ev, IMS_K_SIZE, align, "the smallest leaf size")) ||
	    (rc = check_in_domain(r, ev, d, iova, size)))
		return rc;
	bool read = ims_ev_has(ev, IMS_K_READ_DIRTY);
	struct ims_bitmap got, want;
	if (read) {
		if (!ims_pt_tracking(d->pt))
			return rp_input_error(r, ev, IMS_K_READ_DIRTY,
					      "read-dirty needs tracking on (track domain=%u on)", tag);
		uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : align;
		if ((rc = bitmaps_for(r, ev, d, pgsize, &got, &want)))
			return rc;
	}
	uint64_t bytes = 0;
	struct snap leaves = {0};
	if (rp_gpa_needs_snap(r, tag, iova, size))
		rp_snap_take(d, iova, size, &leaves);
	rp_inject_begin(r, ev);
	if (read)
		rc = ims_pt_unmap_read_dirty(d->pt, iova, size, &got, &bytes);
	else
		rc = ims_pt_unmap(d->pt, iova, size, &bytes);
	rp_inject_end(r, ev, d->pt, read ? &got : NULL);
	if (rc) {
		free(leaves.l);
		if (read) {
			ims_bitmap_fini(&got);
			ims_bitmap_fini(&want);
		}
		if (rc == -EINVAL)
			return rp_input_error(r, ev, IMS_K_SIZE,
					      "unmap [0x%" PRIx64 ", +0x%" PRIx64 ") cuts into a leaf; "
					      "unmap must cover whole leaves",
					      iova, size);
		return rp_input_error(r, ev, IMS_K_IOVA, "unmap failed: %s", rp_errno_text(rc));
	}
	if (read) {
		rp_settle_dirty_read(r, ev, tag, &want, &got, true);
		rp_gpa_reported(r, d, &got, &leaves);
		ims_bitmap_fini(&got);
		ims_bitmap_fini(&want);
	}
	/* iommufd: dirty state of unmapped entries is discarded; what the
	 * oracle still expected there is lost (before the GPA bookkeeping
	 * forgets what devices wrote there: rp_oracle_unmap asks it). */
	r->st.lost_on_unmap += rp_oracle_unmap(r, tag, iova, size);
	rp_gpa_unmapped(r, tag, iova, size, &leaves, read);
	free(leaves.l);
	rp_maybe_settle(r, tag, iova, iova + (size - 1));
	r->st.unmaps++;
	return 0;
}

int rp_op_track(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	if (!d->dirty_alloc)
		return rp_input_error(r, ev, -1,
				      "track needs a domain allocated for dirty tracking (dirty=on at "
				      "line %" PRIu64 ")",
				      d->line);
	bool on = ims_ev_has(ev, IMS_K_ON);
	rp_inject_begin(r, ev);
	rc = ims_pt_set_dirty_tracking(d->pt, on);
	rp_inject_end(r, ev, NULL, NULL);
	if (rc)
		return rp_input_error(r, ev, -1, "set_dirty_tracking failed: %s", rp_errno_text(rc));
	if (on) /* a new tracking session: what was written before is not owed */
		rp_tracking_enabled(r, (uint16_t)ev->v[IMS_K_DOMAIN]);
	return 0;
}

int rp_op_harvest(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	if (!ims_pt_tracking(d->pt))
		return rp_input_error(r, ev, -1, "harvest needs tracking on (track domain=%" PRIu64 " on)",
				      ev->v[IMS_K_DOMAIN]);
	uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : IMS_PAGE_SIZE;
	struct ims_bitmap got, want;
	if ((rc = bitmaps_for(r, ev, d, pgsize, &got, &want)))
		return rc;
	bool noclear = ims_ev_has(ev, IMS_K_NOCLEAR);
	uint16_t tag = (uint16_t)ev->v[IMS_K_DOMAIN];
	if (noclear)
		r->st.harvests_noclear++;
	rp_inject_begin(r, ev);
	rc = ims_pt_read_and_clear_dirty(d->pt, got.iova, got.length,
					 noclear ? IMS_DIRTY_NO_CLEAR : 0, &got);
	rp_inject_end(r, ev, d->pt, &got);
	if (rc) {
		ims_bitmap_fini(&got);
		ims_bitmap_fini(&want);
		return rp_input_error(r, ev, -1, "read_and_clear_dirty failed: %s", rp_errno_text(rc));
	}
	rp_settle_dirty_read(r, ev, tag, &want, &got, !noclear);
	rp_gpa_harvested(r, ev, tag, got.iova, got.length);
	rp_gpa_reported(r, d, &got, NULL);
	rc = rp_check_bitmap_expect(r, ev, tag, !noclear, &got);
	ims_bitmap_fini(&got);
	ims_bitmap_fini(&want);
	return rc;
}

int rp_op_flush(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, false, &rc);
	if (!d)
		return rc;
	bool ranged = ims_ev_has(ev, IMS_K_IOVA);
	uint64_t iova = ranged ? ev->v[IMS_K_IOVA] : 0, size = ranged ? ev->v[IMS_K_SIZE] : 0;
	uint16_t tag = (uint16_t)ev->v[IMS_K_DOMAIN];
	if (d->raw) {
		if (ranged)
			ims_iommu_inv_range(r->mmu, tag, iova, size, 0);
		else
			ims_iommu_inv_domain(r->mmu, tag);
		return 0;
	}
	if (ranged && (rc = check_in_domain(r, ev, d, iova, size)))
		return rc;
	rc = ims_pt_flush(d->pt, iova, size);
	if (rc)
		return rp_input_error(r, ev, -1, "flush failed: %s", rp_errno_text(rc));
	return 0;
}

int rp_op_mem(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = check_aligned(r, ev, IMS_K_PA, 8, "8 bytes");
	if (rc)
		return rc;
	/* Raw set-up is neither the software under test nor a device. */
	ims_mem_store(r->mem, IMS_AGENT_HW, ev->v[IMS_K_PA], ev->v[IMS_K_VAL]);
	return 0;
}

int rp_op_expect_mem(struct ims_replay *r, const struct ims_event *ev)
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

int rp_op_expect_pa(struct ims_replay *r, const struct ims_event *ev)
{
	struct ims_xlate x;
	/* A read translation, with exactly the side effects of a read DMA. */
	int k = ims_iommu_access(r->mmu, (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA], IMS_ACC_R, &x);
	r->st.assertions++;
	if (k < 0)
		return rp_input_error(r, ev, -1, "translation failed");
	if (k > 0) {
		r->st.faults++;
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expect pa iova=0x%" PRIx64 ": expected pa 0x%" PRIx64
				      ", got a %s fault (code 0x%x)",
				      ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ims_fault_kind_name(x.fault),
				      x.code);
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

static void describe_fault(char *buf, size_t len, const struct ims_fault *f)
{
	snprintf(buf, len, "dev=0x%x iova=0x%" PRIx64 " kind=%s code=0x%x (%s)", f->dev, f->iova,
		 ims_fault_kind_name(f->kind), f->code, f->write ? "write" : "read");
}

int rp_op_expect_fault(struct ims_replay *r, const struct ims_event *ev)
{
	struct ims_fault f;
	char buf[160];
	r->st.assertions++;
	if (!ims_iommu_fault_pop(r->mmu, &f)) {
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expected a %s fault at iova 0x%" PRIx64 ", none is pending",
				      ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]),
				      ev->v[IMS_K_IOVA]);
		return 0;
	}
	if (f.dev != ev->v[IMS_K_DEV] || f.iova != ev->v[IMS_K_IOVA] ||
	    f.kind != (enum ims_fault_kind)ev->v[IMS_K_KIND]) {
		r->st.assertion_failures++;
		describe_fault(buf, sizeof(buf), &f);
		rp_validation_failure(r, ev, "expected fault dev=0x%" PRIx64 " iova=0x%" PRIx64
				      " kind=%s, got %s",
				      ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA],
				      ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]), buf);
	}
	return 0;
}

int rp_op_expect_nofault(struct ims_replay *r, const struct ims_event *ev)
{
	r->st.assertions++;
	size_t n = ims_iommu_fault_pending(r->mmu);
	if (n) {
		struct ims_fault f;
		char buf[160];
		ims_iommu_fault_pop(r->mmu, &f);
		describe_fault(buf, sizeof(buf), &f);
		r->st.assertion_failures++;
		rp_validation_failure(r, ev, "expected no pending fault, %zu pending; the oldest: %s", n,
				      buf);
		/* Report each unconsumed fault once. */
		while (ims_iommu_fault_pop(r->mmu, &f))
			;
	}
	return 0;
}

struct consist {
	struct ims_replay *r;
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

int rp_op_expect_consistent(struct ims_replay *r, const struct ims_event *ev)
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

int rp_op_expect_tables(struct ims_replay *r, const struct ims_event *ev)
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
