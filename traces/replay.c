/* The replayer: trace events -> software page tables, model and oracle.
 *
 * Software ops (map/unmap/track/harvest/flush) go to the domain's ims_pt,
 * whose sink forwards native commands to the model; device traffic goes to
 * the model; every harvest is compared bit for bit with the oracle.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/bitmap.h"
#include "iommusim/oracle.h"
#include "iommusim/pt.h"
#include "iommusim/replay.h"

struct dom {
	enum ims_format fmt;
	bool raw;
	bool dirty_alloc;
	uint64_t line; /* where it was defined */
	struct ims_pt *pt;
};

struct ims_replay {
	struct ims_replay_opts o;
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct dom *doms[65536];
	struct ims_replay_stats st;
	const char *file; /* of the event being applied */
	char err[512];
	/* The injection of the op being applied (trace extension inject-*). */
	struct {
		bool armed, fired;
		uint64_t countdown, dev, iova;
		struct ims_xlate x; /* what the injected write did */
		int kind;           /* its fault kind, 0 on success */
	} inj;
	/* Pages an injected write may have dirtied again after the walker
	 * cleaned them: the next harvest may report them (or not). */
	struct maybe {
		uint16_t dom;
		uint64_t first, last;
	} *maybe;
	size_t nmaybe, capmaybe;
	bool has_ts;
	uint64_t last_ts;
};

void ims_replay_opts_default(struct ims_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	ims_iommu_cfg_default(&o->model);
	o->verbosity = 1;
}

/* ---- sink: software -> model ---------------------------------------------- */

static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct ims_replay *r = arg;
	return ims_iommu_submit(r->mmu, fmt, cmd);
}

static int sink_ctx_update(void *arg, uint16_t tag, unsigned word, uint64_t clear, uint64_t set)
{
	struct ims_replay *r = arg;
	return ims_iommu_ctx_update(r->mmu, tag, word, clear, set);
}

static int sink_ctx_flush(void *arg, uint16_t tag)
{
	struct ims_replay *r = arg;
	return ims_iommu_ctx_invalidate(r->mmu, tag);
}

int ims_replay_new(const struct ims_replay_opts *opts, struct ims_replay **out)
{
	*out = NULL;
	struct ims_replay *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (opts)
		r->o = *opts;
	else
		ims_replay_opts_default(&r->o);
	r->mem = ims_mem_new();
	if (!r->mem) {
		free(r);
		return -ENOMEM;
	}
	int rc = ims_iommu_new(r->mem, &r->o.model, &r->mmu);
	if (rc) {
		ims_mem_free(r->mem);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void ims_replay_free(struct ims_replay *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < 65536; i++) {
		if (!r->doms[i])
			continue;
		ims_pt_free(r->doms[i]->pt);
		free(r->doms[i]);
	}
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
	free(r->maybe);
	free(r);
}

const char *ims_replay_error(const struct ims_replay *r) { return r->err; }
const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *r) { return &r->st; }
struct ims_iommu *ims_replay_iommu(struct ims_replay *r) { return r->mmu; }
struct ims_mem *ims_replay_mem(struct ims_replay *r) { return r->mem; }

/* ---- messages ---------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int input_error(struct ims_replay *r,
							     const struct ims_event *ev, int key,
							     const char *fmt, ...)
{
	uint32_t col = key >= 0 && ims_ev_has(ev, (enum ims_key)key) ? ev->col[key] : ev->op_col;
	int n;
	if (col)
		n = snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ":%u: ", r->file, ev->line, col);
	else
		n = snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ": ", r->file, ev->line);
	if (n < 0 || (size_t)n >= sizeof(r->err))
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static FILE *diag(const struct ims_replay *r)
{
	return r->o.diag ? r->o.diag : stderr;
}

__attribute__((format(printf, 3, 4))) static void
validation_failure(struct ims_replay *r, const struct ims_event *ev, const char *fmt, ...)
{
	r->st.validation_failures++;
	FILE *f = diag(r);
	fprintf(f, "%s:%" PRIu64 ": FAIL: ", r->file, ev->line);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static const char *errno_text(int rc)
{
	switch (rc) {
	case -EEXIST:
		return "the range overlaps an existing mapping";
	case -EOVERFLOW:
		return "the range wraps past 2^64";
	case -ENOMEM:
		return "out of memory";
	case -EOPNOTSUPP:
		return "not supported";
	default:
		return "invalid argument";
	}
}

/* ---- helpers ------------------------------------------------------------------- */

static struct dom *need_dom(struct ims_replay *r, const struct ims_event *ev, bool software,
			    int *rc)
{
	uint64_t id = ev->v[IMS_K_DOMAIN];
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (!d) {
		*rc = input_error(r, ev, IMS_K_DOMAIN, "domain %" PRIu64 " is not defined", id);
		return NULL;
	}
	if (software && d->raw) {
		*rc = input_error(r, ev, -1,
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
		return input_error(r, ev, k, "%s=0x%" PRIx64 " is not aligned to %s (0x%" PRIx64 ")",
				   ims_key_name(k), ev->v[k], what, align);
	return 0;
}

static int check_in_domain(struct ims_replay *r, const struct ims_event *ev, struct dom *d,
			   uint64_t iova, uint64_t size)
{
	uint64_t lim = ims_pt_iova_limit(d->pt);
	if (lim && (iova >= lim || size > lim - iova))
		return input_error(r, ev, IMS_K_IOVA,
				   "range [0x%" PRIx64 ", +0x%" PRIx64
				   ") leaves the domain's IOVA space (below 0x%" PRIx64 ")",
				   iova, size, lim);
	return 0;
}

/* ---- injections (trace extension: a device write between two software
 * memory accesses of one op) ---------------------------------------------------- */

static void inject_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)op, (void)pa;
	struct ims_replay *r = arg;
	if (!r->inj.armed || r->inj.fired || --r->inj.countdown)
		return;
	r->inj.fired = true;
	r->inj.kind = ims_iommu_access(r->mmu, (uint32_t)r->inj.dev, r->inj.iova, IMS_ACC_W,
				       &r->inj.x);
	r->st.dma_ops++;
	r->st.dma_pages++;
	r->st.dma_bytes++;
	if (r->inj.kind > 0)
		r->st.faults++;
}

static void inject_begin(struct ims_replay *r, const struct ims_event *ev)
{
	memset(&r->inj, 0, sizeof(r->inj));
	if (!ims_ev_has(ev, IMS_K_INJECT_AT))
		return;
	r->inj.armed = true;
	r->inj.countdown = ev->v[IMS_K_INJECT_AT];
	r->inj.dev = ev->v[IMS_K_INJECT_DEV];
	r->inj.iova = ev->v[IMS_K_INJECT_IOVA];
	ims_mem_set_race_check(r->mem, true);
	ims_mem_set_hook(r->mem, inject_hook, r);
}

/* Ends the op's injection: a software store that undid the hardware's
 * update is a lost update (classic bug 4). */
static void inject_end(struct ims_replay *r, const struct ims_event *ev)
{
	if (!r->inj.armed)
		return;
	ims_mem_set_hook(r->mem, NULL, NULL);
	uint64_t pa = 0, bits = 0;
	uint64_t lost = ims_mem_lost_updates(r->mem, &pa, &bits);
	ims_mem_set_race_check(r->mem, false);
	if (lost)
		validation_failure(r, ev,
				   "lost hardware update: a software store to the entry at pa 0x%" PRIx64
				   " undid bits 0x%" PRIx64 " that hardware set after the software "
				   "read it (non-atomic update)",
				   pa, bits);
	else if (!r->inj.fired && r->o.verbosity >= 2)
		fprintf(stdout, "%s:%" PRIu64 ": inject-at=%" PRIu64 " is past the op's last access\n",
			r->file, ev->line, ev->v[IMS_K_INJECT_AT]);
}

/* The leaf range the injected write dirtied, if it did (dirty updates on). */
static bool inject_dirtied(const struct ims_replay *r, uint16_t dom, uint64_t *first,
			   uint64_t *last)
{
	if (!r->inj.fired || r->inj.kind != 0 || !ims_iommu_ctx_dirty_enabled(r->mmu, dom))
		return false;
	*first = r->inj.x.leaf_iova;
	*last = r->inj.x.leaf_iova + ((1ull << r->inj.x.leaf_shift) - 1);
	return true;
}

static void maybe_add(struct ims_replay *r, uint16_t dom, uint64_t first, uint64_t last)
{
	if (r->nmaybe == r->capmaybe) {
		size_t cap = r->capmaybe ? r->capmaybe * 2 : 8;
		struct maybe *n = realloc(r->maybe, cap * sizeof(*n));
		if (!n)
			return;
		r->maybe = n;
		r->capmaybe = cap;
	}
	r->maybe[r->nmaybe++] = (struct maybe){dom, first, last};
}

/* Drop maybe-ranges of dom inside [first, last] (a clearing harvest or an
 * unmap settled them). */
static void maybe_settle(struct ims_replay *r, uint16_t dom, uint64_t first, uint64_t last)
{
	size_t j = 0;
	for (size_t i = 0; i < r->nmaybe; i++) {
		struct maybe *m = &r->maybe[i];
		if (m->dom == dom && m->first >= first && m->last <= last)
			continue;
		r->maybe[j++] = *m;
	}
	r->nmaybe = j;
}

/* Bits reported over the oracle that a maybe-range (or this op's own
 * injected write) explains are not over-reporting. */
static void forgive(const struct ims_replay *r, uint16_t dom, struct ims_bitmap *want,
		    const struct ims_bitmap *got, bool has_w, uint64_t wf, uint64_t wl)
{
	for (size_t i = 0; i <= r->nmaybe; i++) {
		uint64_t f, l;
		if (i < r->nmaybe) {
			if (r->maybe[i].dom != dom)
				continue;
			f = r->maybe[i].first;
			l = r->maybe[i].last;
		} else if (has_w) {
			f = wf;
			l = wl;
		} else {
			break;
		}
		uint64_t blast = got->iova + (got->length - 1);
		if (l < got->iova || f > blast)
			continue;
		uint64_t b0 = ((f > got->iova ? f : got->iova) - got->iova) >> got->pgshift;
		uint64_t b1 = ((l < blast ? l : blast) - got->iova) >> got->pgshift;
		for (uint64_t b = b0; b <= b1; b++)
			if (ims_bitmap_test(got, b))
				ims_bitmap_set_bits(want, b, 1);
	}
}

/* ---- ops ------------------------------------------------------------------------- */

static int op_domain(struct ims_replay *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	if (r->doms[id])
		return input_error(r, ev, IMS_K_ID, "domain %" PRIu64 " is already defined at line %" PRIu64,
				   id, r->doms[id]->line);
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	unsigned levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 0;
	unsigned gshift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0;
	unsigned ias = ims_ev_has(ev, IMS_K_IAS) ? (unsigned)ev->v[IMS_K_IAS] : 0;
	if (ims_ev_has(ev, IMS_K_LEVELS) && (ev->v[IMS_K_LEVELS] == 0 || ev->v[IMS_K_LEVELS] > 64))
		return input_error(r, ev, IMS_K_LEVELS, "levels=%" PRIu64 " is out of range",
				   ev->v[IMS_K_LEVELS]);
	if (ims_ev_has(ev, IMS_K_IAS) && (ev->v[IMS_K_IAS] == 0 || ev->v[IMS_K_IAS] > 64))
		return input_error(r, ev, IMS_K_IAS, "ias=%" PRIu64 " is out of range",
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
			return input_error(r, ev, ims_ev_has(ev, IMS_K_DIRTY) ? IMS_K_DIRTY : IMS_K_PGSIZES,
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
		};
		d->dirty_alloc = cfg.dirty_tracking;
		if (cfg.dirty_tracking && !ims_iommu_cfg_dirty_capable(&r->o.model, fmt)) {
			free(d);
			return input_error(r, ev, IMS_K_DIRTY,
					   "dirty=on: the IOMMU lacks dirty tracking for %s "
					   "(-EOPNOTSUPP; see its capability registers)",
					   ims_format_name(fmt));
		}
		struct ims_sink sink = {.arg = r,
					.submit = sink_submit,
					.ctx_update = sink_ctx_update,
					.ctx_flush = sink_ctx_flush};
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
		return input_error(r, ev, key, "%s", why[0] ? why : errno_text(rc));
	}
	r->doms[id] = d;
	return 0;
}

static int op_attach(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, false, &rc);
	if (!d)
		return rc;
	rc = ims_iommu_attach(r->mmu, (uint32_t)ev->v[IMS_K_DEV], (uint16_t)ev->v[IMS_K_DOMAIN]);
	if (rc)
		return input_error(r, ev, IMS_K_DEV, "attach failed: %s", errno_text(rc));
	return 0;
}

static int op_detach(struct ims_replay *r, const struct ims_event *ev)
{
	if (ims_iommu_detach(r->mmu, (uint32_t)ev->v[IMS_K_DEV]))
		return input_error(r, ev, IMS_K_DEV, "device 0x%" PRIx64 " is not attached",
				   ev->v[IMS_K_DEV]);
	return 0;
}

static int op_map(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : 0;
	uint64_t align = ims_pt_min_pgsize(d->pt);
	if (pgsize) {
		if (!(ims_pt_pgsizes(d->pt) & pgsize))
			return input_error(r, ev, IMS_K_PGSIZE,
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
	inject_begin(r, ev);
	rc = ims_pt_map(d->pt, ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ev->v[IMS_K_SIZE], prot, pgsize);
	inject_end(r, ev);
	if (rc)
		return input_error(r, ev, IMS_K_IOVA, "map failed: %s", errno_text(rc));
	r->st.maps++;
	return 0;
}

static void print_bits(FILE *f, const char *label, const struct ims_bitmap *bm)
{
	char *hex = ims_bitmap_to_hex(bm);
	if (hex && strlen(hex) <= 64)
		fprintf(f, "    %s 0x%s\n", label, hex);
	free(hex);
}

/* A read of dirty state into `got` (a harvest, or the read of an unmap with
 * read-dirty) checked against `want`, the oracle's expectation taken before
 * the op; then the oracle learns what the read cleared. */
static void settle_dirty_read(struct ims_replay *r, const struct ims_event *ev, uint16_t tag,
			      struct ims_bitmap *want, const struct ims_bitmap *got, bool clear)
{
	struct ims_oracle *o = ims_iommu_oracle(r->mmu);
	uint64_t wf = 0, wl = 0;
	bool has_w = inject_dirtied(r, tag, &wf, &wl);
	forgive(r, tag, want, got, has_w, wf, wl);

	uint64_t iova = got->iova, size = got->length;
	r->st.harvests++;
	uint64_t ngot = ims_bitmap_count(got), nwant = ims_bitmap_count(want);
	r->st.bits_reported += ngot;
	r->st.bits_expected += nwant;
	struct ims_bitmap_diff df;
	if (!ims_bitmap_compare(want, got, &df)) {
		r->st.harvest_mismatches++;
		r->st.bits_under += df.under;
		r->st.bits_over += df.over;
		validation_failure(r, ev,
				   "%s differs from the oracle: expected %" PRIu64 " bits, got %" PRIu64
				   " (under-reported %" PRIu64 ", over-reported %" PRIu64 ")",
				   ev->op == IMS_OP_HARVEST ? "harvest" : "unmap read-dirty bitmap",
				   nwant, ngot, df.under, df.over);
		FILE *f = diag(r);
		if (df.under)
			fprintf(f, "    first under-reported bit %" PRIu64 " (iova 0x%" PRIx64 ")\n",
				df.first_under, iova + (df.first_under << got->pgshift));
		if (df.over)
			fprintf(f, "    first over-reported bit %" PRIu64 " (iova 0x%" PRIx64 ")\n",
				df.first_over, iova + (df.first_over << got->pgshift));
		print_bits(f, "expected", want);
		print_bits(f, "got     ", got);
	} else if (r->o.verbosity >= 2) {
		fprintf(stdout, "%s:%" PRIu64 ": harvest ok, %" PRIu64 " bits\n", r->file, ev->line,
			ngot);
	}
	if (!clear)
		return;
	uint64_t last = iova + (size - 1);
	ims_oracle_clear(o, tag, iova, size);
	maybe_settle(r, tag, iova, last);
	if (has_w && wl >= iova && wf <= last) {
		/* The injected write raced the walk: if the walker reported its
		 * page, hardware may have dirtied it again after the clean (the
		 * next round may report it); if not, it must come next round. */
		uint64_t f = wf > iova ? wf : iova, l = wl < last ? wl : last;
		uint64_t b0 = (f - iova) >> got->pgshift, b1 = (l - iova) >> got->pgshift;
		bool all = true;
		for (uint64_t b = b0; b <= b1 && all; b++)
			all = ims_bitmap_test(got, b);
		if (all)
			maybe_add(r, tag, f, l);
		else
			ims_oracle_write(o, tag, wf, r->inj.x.leaf_shift);
	}
}

static int bitmaps_for(struct ims_replay *r, const struct ims_event *ev, struct dom *d,
		       uint64_t pgsize, struct ims_bitmap *got, struct ims_bitmap *want)
{
	int rc;
	uint64_t iova = ev->v[IMS_K_IOVA], size = ev->v[IMS_K_SIZE];
	if (!ims_is_pow2(pgsize))
		return input_error(r, ev, IMS_K_PGSIZE, "pgsize=0x%" PRIx64 " is not a power of two",
				   pgsize);
	if ((rc = check_aligned(r, ev, IMS_K_IOVA, pgsize, "the bitmap page size")) ||
	    (rc = check_aligned(r, ev, IMS_K_SIZE, pgsize, "the bitmap page size")) ||
	    (rc = check_in_domain(r, ev, d, iova, size)))
		return rc;
	rc = ims_bitmap_init(got, iova, size, ims_log2(pgsize));
	if (rc)
		return input_error(r, ev, IMS_K_SIZE, "bitmap: %s", errno_text(rc));
	rc = ims_bitmap_init(want, iova, size, ims_log2(pgsize));
	if (rc) {
		ims_bitmap_fini(got);
		return input_error(r, ev, IMS_K_SIZE, "bitmap: %s", errno_text(rc));
	}
	ims_oracle_expected(ims_iommu_oracle(r->mmu), (uint16_t)ev->v[IMS_K_DOMAIN], want);
	return 0;
}

static int op_unmap(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
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
			return input_error(r, ev, IMS_K_READ_DIRTY,
					   "read-dirty needs tracking on (track domain=%u on)", tag);
		uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : align;
		if ((rc = bitmaps_for(r, ev, d, pgsize, &got, &want)))
			return rc;
	}
	uint64_t bytes = 0;
	inject_begin(r, ev);
	if (read)
		rc = ims_pt_unmap_read_dirty(d->pt, iova, size, &got, &bytes);
	else
		rc = ims_pt_unmap(d->pt, iova, size, &bytes);
	inject_end(r, ev);
	if (rc) {
		if (read) {
			ims_bitmap_fini(&got);
			ims_bitmap_fini(&want);
		}
		if (rc == -EINVAL)
			return input_error(r, ev, IMS_K_SIZE,
					   "unmap [0x%" PRIx64 ", +0x%" PRIx64 ") cuts into a leaf; "
					   "unmap must cover whole leaves",
					   iova, size);
		return input_error(r, ev, IMS_K_IOVA, "unmap failed: %s", errno_text(rc));
	}
	if (read) {
		settle_dirty_read(r, ev, tag, &want, &got, true);
		ims_bitmap_fini(&got);
		ims_bitmap_fini(&want);
	}
	/* iommufd: dirty state of unmapped entries is discarded; what the
	 * oracle still expected there is lost. */
	r->st.lost_on_unmap += ims_oracle_unmap(ims_iommu_oracle(r->mmu), tag, iova, size);
	maybe_settle(r, tag, iova, iova + (size - 1));
	r->st.unmaps++;
	return 0;
}

static int op_track(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	if (!d->dirty_alloc)
		return input_error(r, ev, -1,
				   "track needs a domain allocated for dirty tracking (dirty=on at "
				   "line %" PRIu64 ")",
				   d->line);
	bool on = ims_ev_has(ev, IMS_K_ON);
	inject_begin(r, ev);
	rc = ims_pt_set_dirty_tracking(d->pt, on);
	inject_end(r, ev);
	if (rc)
		return input_error(r, ev, -1, "set_dirty_tracking failed: %s", errno_text(rc));
	if (on)
		ims_oracle_reset(ims_iommu_oracle(r->mmu), (uint16_t)ev->v[IMS_K_DOMAIN]);
	return 0;
}

static int op_harvest(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	if (!ims_pt_tracking(d->pt))
		return input_error(r, ev, -1, "harvest needs tracking on (track domain=%" PRIu64 " on)",
				   ev->v[IMS_K_DOMAIN]);
	uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : IMS_PAGE_SIZE;
	struct ims_bitmap got, want;
	if ((rc = bitmaps_for(r, ev, d, pgsize, &got, &want)))
		return rc;
	bool noclear = ims_ev_has(ev, IMS_K_NOCLEAR);
	uint16_t tag = (uint16_t)ev->v[IMS_K_DOMAIN];
	inject_begin(r, ev);
	rc = ims_pt_read_and_clear_dirty(d->pt, got.iova, got.length,
					 noclear ? IMS_DIRTY_NO_CLEAR : 0, &got);
	inject_end(r, ev);
	if (rc) {
		ims_bitmap_fini(&got);
		ims_bitmap_fini(&want);
		return input_error(r, ev, -1, "read_and_clear_dirty failed: %s", errno_text(rc));
	}
	settle_dirty_read(r, ev, tag, &want, &got, !noclear);
	uint64_t ngot = ims_bitmap_count(&got);
	if (ims_ev_has(ev, IMS_K_EXPECT)) {
		r->st.assertions++;
		int eq = ims_bitmap_equals_hex(&got, ev->expect_hex, ev->expect_hex_len);
		if (eq < 0) {
			ims_bitmap_fini(&got);
			ims_bitmap_fini(&want);
			return input_error(r, ev, IMS_K_EXPECT, "expect= is not a hex bitmap");
		}
		if (!eq) {
			r->st.assertion_failures++;
			char *hex = ims_bitmap_to_hex(&got);
			validation_failure(r, ev, "harvest bitmap: expected 0x%.*s, got 0x%s",
					   (int)(ev->expect_hex_len > 200 ? 200 : ev->expect_hex_len),
					   ev->expect_hex, hex ? hex : "?");
			free(hex);
		}
	}
	if (ims_ev_has(ev, IMS_K_EXPECT_COUNT)) {
		r->st.assertions++;
		if (ngot != ev->v[IMS_K_EXPECT_COUNT]) {
			r->st.assertion_failures++;
			validation_failure(r, ev, "harvest: expected %" PRIu64 " bits set, got %" PRIu64,
					   ev->v[IMS_K_EXPECT_COUNT], ngot);
		}
	}
	ims_bitmap_fini(&got);
	ims_bitmap_fini(&want);
	return 0;
}

static int op_flush(struct ims_replay *r, const struct ims_event *ev)
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
		return input_error(r, ev, -1, "flush failed: %s", errno_text(rc));
	return 0;
}

static int op_dma(struct ims_replay *r, const struct ims_event *ev)
{
	uint64_t pieces = 0;
	uint64_t faulted = ims_iommu_dma(r->mmu, (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA],
					 ev->v[IMS_K_LEN], (unsigned)ev->v[IMS_K_DIR], &pieces);
	r->st.dma_ops++;
	r->st.dma_pages += pieces;
	r->st.dma_bytes += ev->v[IMS_K_LEN];
	r->st.faults += faulted;
	return 0;
}

static int op_mem(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = check_aligned(r, ev, IMS_K_PA, 8, "8 bytes");
	if (rc)
		return rc;
	/* Raw set-up is neither the software under test nor a device. */
	ims_mem_store(r->mem, IMS_AGENT_HW, ev->v[IMS_K_PA], ev->v[IMS_K_VAL]);
	return 0;
}

static int op_expect_mem(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = check_aligned(r, ev, IMS_K_PA, 8, "8 bytes");
	if (rc)
		return rc;
	uint64_t mask = ims_ev_has(ev, IMS_K_MASK) ? ev->v[IMS_K_MASK] : ~0ull;
	uint64_t got = ims_mem_load(r->mem, IMS_AGENT_HW, ev->v[IMS_K_PA]);
	r->st.assertions++;
	if ((got & mask) != (ev->v[IMS_K_VAL] & mask)) {
		r->st.assertion_failures++;
		validation_failure(r, ev,
				   "expect mem pa=0x%" PRIx64 ": expected 0x%016" PRIx64
				   ", got 0x%016" PRIx64 " (mask 0x%" PRIx64 ", differing bits 0x%" PRIx64 ")",
				   ev->v[IMS_K_PA], ev->v[IMS_K_VAL] & mask, got & mask, mask,
				   (got ^ ev->v[IMS_K_VAL]) & mask);
	}
	return 0;
}

static int op_expect_pa(struct ims_replay *r, const struct ims_event *ev)
{
	struct ims_xlate x;
	/* A read translation, with exactly the side effects of a read DMA. */
	int k = ims_iommu_access(r->mmu, (uint32_t)ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA], IMS_ACC_R, &x);
	r->st.assertions++;
	if (k < 0)
		return input_error(r, ev, -1, "translation failed");
	if (k > 0) {
		r->st.faults++;
		r->st.assertion_failures++;
		validation_failure(r, ev, "expect pa iova=0x%" PRIx64 ": expected pa 0x%" PRIx64
				   ", got a %s fault (code 0x%x)",
				   ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ims_fault_kind_name(x.fault),
				   x.code);
		return 0;
	}
	if (x.pa != ev->v[IMS_K_PA]) {
		r->st.assertion_failures++;
		validation_failure(r, ev, "expect pa iova=0x%" PRIx64 ": expected pa 0x%" PRIx64
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

static int op_expect_fault(struct ims_replay *r, const struct ims_event *ev)
{
	struct ims_fault f;
	char buf[160];
	r->st.assertions++;
	if (!ims_iommu_fault_pop(r->mmu, &f)) {
		r->st.assertion_failures++;
		validation_failure(r, ev, "expected a %s fault at iova 0x%" PRIx64 ", none is pending",
				   ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]),
				   ev->v[IMS_K_IOVA]);
		return 0;
	}
	if (f.dev != ev->v[IMS_K_DEV] || f.iova != ev->v[IMS_K_IOVA] ||
	    f.kind != (enum ims_fault_kind)ev->v[IMS_K_KIND]) {
		r->st.assertion_failures++;
		describe_fault(buf, sizeof(buf), &f);
		validation_failure(r, ev, "expected fault dev=0x%" PRIx64 " iova=0x%" PRIx64
				   " kind=%s, got %s",
				   ev->v[IMS_K_DEV], ev->v[IMS_K_IOVA],
				   ims_fault_kind_name((enum ims_fault_kind)ev->v[IMS_K_KIND]), buf);
	}
	return 0;
}

static int op_expect_nofault(struct ims_replay *r, const struct ims_event *ev)
{
	r->st.assertions++;
	size_t n = ims_iommu_fault_pending(r->mmu);
	if (n) {
		struct ims_fault f;
		char buf[160];
		ims_iommu_fault_pop(r->mmu, &f);
		describe_fault(buf, sizeof(buf), &f);
		r->st.assertion_failures++;
		validation_failure(r, ev, "expected no pending fault, %zu pending; the oldest: %s", n,
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
				validation_failure(c->r, c->ev,
						   "iova_to_phys(0x%" PRIx64 ") = 0x%" PRIx64
						   " but %s (fault %d, pa 0x%" PRIx64 ")",
						   probes[i], want, what, k, x.pa);
			return 0;
		}
	}
	return 0;
}

static int op_expect_consistent(struct ims_replay *r, const struct ims_event *ev)
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

static int op_expect_tables(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_dom(r, ev, true, &rc);
	if (!d)
		return rc;
	r->st.assertions++;
	uint64_t n = ims_pt_stats(d->pt)->table_pages;
	if (n != ev->v[IMS_K_CNT]) {
		r->st.assertion_failures++;
		validation_failure(r, ev, "expected %" PRIu64 " page-table pages, the domain holds %" PRIu64,
				   ev->v[IMS_K_CNT], n);
	}
	return 0;
}

int ims_replay_event(struct ims_replay *r, const struct ims_event *ev, const char *file)
{
	r->file = file ? file : "-";
	r->st.events++;
	switch (ev->op) {
	case IMS_OP_DOMAIN:
		return op_domain(r, ev);
	case IMS_OP_ATTACH:
		return op_attach(r, ev);
	case IMS_OP_DETACH:
		return op_detach(r, ev);
	case IMS_OP_MAP:
		return op_map(r, ev);
	case IMS_OP_UNMAP:
		return op_unmap(r, ev);
	case IMS_OP_TRACK:
		return op_track(r, ev);
	case IMS_OP_HARVEST:
		return op_harvest(r, ev);
	case IMS_OP_FLUSH:
		return op_flush(r, ev);
	case IMS_OP_DMA:
		return op_dma(r, ev);
	case IMS_OP_MEM:
		return op_mem(r, ev);
	case IMS_OP_EXPECT_MEM:
		return op_expect_mem(r, ev);
	case IMS_OP_EXPECT_PA:
		return op_expect_pa(r, ev);
	case IMS_OP_EXPECT_FAULT:
		return op_expect_fault(r, ev);
	case IMS_OP_EXPECT_NOFAULT:
		return op_expect_nofault(r, ev);
	case IMS_OP_EXPECT_CONSISTENT:
		return op_expect_consistent(r, ev);
	case IMS_OP_EXPECT_TABLES:
		return op_expect_tables(r, ev);
	default:
		return input_error(r, ev, -1, "op not supported by the replayer");
	}
}

int ims_replay_run(struct ims_replay *r, struct ims_reader *rd)
{
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(rd, &ev)) > 0) {
		rc = ims_replay_event(r, &ev, ims_reader_name(rd));
		if (rc)
			return rc;
	}
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "%s", ims_reader_error(rd));
		return rc;
	}
	return 0;
}

/* ---- summary ---------------------------------------------------------------------- */

void ims_replay_print_summary(const struct ims_replay *r, FILE *out)
{
	const struct ims_replay_stats *s = &r->st;
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	const struct ims_mem_counters *m = ims_mem_counters(r->mem);
	fprintf(out, "  events %" PRIu64 " (maps %" PRIu64 ", unmaps %" PRIu64 ", dma %" PRIu64
		     " ops / %" PRIu64 " pages)\n",
		s->events, s->maps, s->unmaps, s->dma_ops, s->dma_pages);
	fprintf(out, "  faults %" PRIu64 "\n", s->faults);
	fprintf(out, "  harvests %" PRIu64 ": bits reported %" PRIu64 ", expected %" PRIu64
		     " (under %" PRIu64 ", over %" PRIu64 "), mismatches %" PRIu64 "\n",
		s->harvests, s->bits_reported, s->bits_expected, s->bits_under, s->bits_over,
		s->harvest_mismatches);
	fprintf(out, "  lost on unmap %" PRIu64 " pages\n", s->lost_on_unmap);
	fprintf(out, "  assertions %" PRIu64 " (%" PRIu64 " failed)\n", s->assertions,
		s->assertion_failures);
	fprintf(out, "  model: translations %" PRIu64 ", iotlb hits %" PRIu64 " misses %" PRIu64
		     ", walks %" PRIu64 ", walk-cache hits %" PRIu64 ", pte reads %" PRIu64
		     ", A/D writes %" PRIu64 "\n",
		n->translations, n->iotlb_hits, n->iotlb_misses, n->walks, n->wc_hits, n->pte_reads,
		n->ad_writes);
	fprintf(out, "  invalidations: range %" PRIu64 ", domain %" PRIu64 ", all %" PRIu64
		     ", context %" PRIu64 " (%" PRIu64 " entries dropped)\n",
		n->inv_range, n->inv_domain, n->inv_all, n->inv_ctx, n->inv_entries);
	fprintf(out, "  memory: software loads %" PRIu64 " stores %" PRIu64 " rmw %" PRIu64
		     ", hardware loads %" PRIu64 " rmw %" PRIu64 ", frames %" PRIu64 " (peak %" PRIu64
		     ")\n",
		m->ops[IMS_AGENT_SW][IMS_MEM_LOAD], m->ops[IMS_AGENT_SW][IMS_MEM_STORE],
		m->ops[IMS_AGENT_SW][IMS_MEM_RMW], m->ops[IMS_AGENT_HW][IMS_MEM_LOAD],
		m->ops[IMS_AGENT_HW][IMS_MEM_RMW], m->frames, m->frames_peak);
}

void ims_replay_write_json(const struct ims_replay *r, FILE *out)
{
	const struct ims_replay_stats *s = &r->st;
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	const struct ims_mem_counters *m = ims_mem_counters(r->mem);
	fprintf(out,
		"{\"events\":%" PRIu64 ",\"maps\":%" PRIu64 ",\"unmaps\":%" PRIu64
		",\"dma_ops\":%" PRIu64 ",\"dma_pages\":%" PRIu64 ",\"dma_bytes\":%" PRIu64
		",\"faults\":%" PRIu64 ",\"harvests\":%" PRIu64 ",\"harvest_mismatches\":%" PRIu64
		",\"bits_reported\":%" PRIu64 ",\"bits_expected\":%" PRIu64
		",\"bits_under\":%" PRIu64 ",\"bits_over\":%" PRIu64 ",\"lost_on_unmap\":%" PRIu64
		",\"assertions\":%" PRIu64 ",\"assertion_failures\":%" PRIu64
		",\"validation_failures\":%" PRIu64,
		s->events, s->maps, s->unmaps, s->dma_ops, s->dma_pages, s->dma_bytes, s->faults,
		s->harvests, s->harvest_mismatches, s->bits_reported, s->bits_expected, s->bits_under,
		s->bits_over, s->lost_on_unmap, s->assertions, s->assertion_failures,
		s->validation_failures);
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
		",\"frames\":%" PRIu64 ",\"frames_peak\":%" PRIu64 ",\"footprint_bytes\":%" PRIu64 "}}",
		m->ops[IMS_AGENT_SW][IMS_MEM_LOAD], m->ops[IMS_AGENT_SW][IMS_MEM_STORE],
		m->ops[IMS_AGENT_SW][IMS_MEM_RMW], m->ops[IMS_AGENT_HW][IMS_MEM_LOAD],
		m->ops[IMS_AGENT_HW][IMS_MEM_STORE], m->ops[IMS_AGENT_HW][IMS_MEM_RMW], m->frames,
		m->frames_peak, ims_mem_footprint(r->mem));
}
