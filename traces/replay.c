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
#include "iommusim/iommufd.h"
#include "iommusim/oracle.h"
#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "iommusim/vfio.h"

/* What made a domain (docs/uapi.md): a `domain` line, an iommufd HWPT
 * (its page table belongs to the front end), a VFIO type1 container. */
enum dom_kind { DOM_PLAIN = 0, DOM_HWPT, DOM_VFIO };

struct dom {
	enum ims_format fmt;
	bool raw;
	bool dirty_alloc;
	uint64_t line; /* where it was defined */
	struct ims_pt *pt;
	enum dom_kind kind;
	uint32_t ioas;             /* HWPT: its IOAS */
	struct ims_vfio *vfio;     /* VFIO: the container */
	unsigned non_pinned;       /* VFIO: groups that do not track pins */
	bool vtrack;               /* VFIO: dirty tracking started */
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
	/* docs/uapi.md. */
	struct ims_iommufd *fd;
	/* Per domain tag: IOVA pages written (dirty updates on) since a dirty
	 * read last covered them; GPA pages of those whose IOVA was then
	 * unmapped, so no IOVA-based read can report them. */
	struct ims_oracle *written, *stranded;
	/* VFIO pinned scope, as the trace drove it: pages pinned now, pages
	 * the next query must report (per container tag). */
	struct ims_oracle *pin_now, *pin_dirty;
	/* Live-migration accounting (docs/migrate.md), GPA page sets: key
	 * MIG_REPORTED / MIG_WRITTEN in mig; mig_unmapped per domain tag. */
	bool mig_on;
	struct ims_oracle *mig, *mig_unmapped;
};

enum { MIG_REPORTED = 0, MIG_WRITTEN = 1 };

static void gpa_write(struct ims_replay *r, uint16_t tag, uint64_t iova, uint64_t pa,
		      uint64_t len, bool tracked);

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
	r->written = ims_oracle_new();
	r->stranded = ims_oracle_new();
	r->pin_now = ims_oracle_new();
	r->pin_dirty = ims_oracle_new();
	r->mig = ims_oracle_new();
	r->mig_unmapped = ims_oracle_new();
	if (!r->written || !r->stranded || !r->pin_now || !r->pin_dirty || !r->mig ||
	    !r->mig_unmapped) {
		ims_replay_free(r);
		return -ENOMEM;
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
		ims_vfio_free(r->doms[i]->vfio);
		if (r->doms[i]->kind != DOM_HWPT)
			ims_pt_free(r->doms[i]->pt);
		free(r->doms[i]);
	}
	ims_iommufd_free(r->fd);
	ims_oracle_free(r->written);
	ims_oracle_free(r->stranded);
	ims_oracle_free(r->pin_now);
	ims_oracle_free(r->pin_dirty);
	ims_oracle_free(r->mig);
	ims_oracle_free(r->mig_unmapped);
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
	int tag = ims_iommu_dev_domain(r->mmu, (uint32_t)r->inj.dev);
	if (r->inj.kind == 0 && tag >= 0)
		gpa_write(r, (uint16_t)tag, r->inj.iova, r->inj.x.pa, 1,
			  ims_iommu_ctx_dirty_enabled(r->mmu, (uint16_t)tag));
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

/* ---- GPA bookkeeping (docs/uapi.md, "GPA pages missed by IOVA tracking";
 * docs/migrate.md) ------------------------------------------------------------------ */

/* A device wrote [iova, iova + len) (output addresses from pa on) of
 * domain tag; tracked: with dirty updates on. */
static void gpa_write(struct ims_replay *r, uint16_t tag, uint64_t iova, uint64_t pa,
		      uint64_t len, bool tracked)
{
	if (tracked)
		ims_oracle_add(r->written, tag, iova, len);
	if (r->mig_on)
		ims_oracle_add(r->mig, MIG_WRITTEN, pa, len);
}

/* The leaves of a domain over a range, taken before an unmap changes
 * them: IOVA -> GPA for what the op read or unmapped. */
struct leaf {
	uint64_t iova, pa;
	unsigned shift;
};

struct snap {
	struct leaf *l;
	size_t n, cap;
};

static int snap_leaf(void *arg, uint64_t page_iova, unsigned shift, uint64_t pa, unsigned prot)
{
	(void)prot;
	struct snap *s = arg;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct leaf *n = realloc(s->l, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->l = n;
		s->cap = cap;
	}
	s->l[s->n++] = (struct leaf){page_iova, pa, shift};
	return 0;
}

static void snap_take(struct dom *d, uint64_t iova, uint64_t size, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	uint64_t lim = ims_pt_iova_limit(d->pt);
	if (!size || (lim && iova >= lim))
		return;
	if (size > 0 - iova)
		size = 0 - iova; /* a range to 2^64 */
	if (lim && size > lim - iova)
		size = lim - iova;
	if (size)
		ims_pt_for_each_leaf(d->pt, iova, size, snap_leaf, s);
}

/* The leaf's bytes within [first, last]; false when none. */
static bool leaf_clip(const struct leaf *lf, uint64_t first, uint64_t last, uint64_t *lo,
		      uint64_t *hi)
{
	uint64_t end = lf->iova + (lf->shift >= 64 ? ~0ull : (1ull << lf->shift) - 1);
	if (end < first || lf->iova > last)
		return false;
	*lo = lf->iova > first ? lf->iova : first;
	*hi = end < last ? end : last;
	return true;
}

struct to_gpa {
	const struct leaf *lf;
	uint64_t lo, hi;
	struct ims_oracle *dst;
	uint16_t key;
};

static int run_to_gpa(void *arg, uint64_t first, uint64_t npages)
{
	struct to_gpa *t = arg;
	uint64_t a = first > t->lo ? first : t->lo;
	uint64_t b = first + (npages << IMS_PAGE_SHIFT) - 1;
	if (b < first || b > t->hi)
		b = t->hi;
	ims_oracle_add(t->dst, t->key, t->lf->pa + (a - t->lf->iova), b - a + 1);
	return 0;
}

/* Adds to dst[key] the GPA of the leaf's bytes within [first, last]; with
 * a filter, only of the IOVA pages in filter[fkey]. */
static void leaf_to_gpa(const struct leaf *lf, uint64_t first, uint64_t last,
			const struct ims_oracle *filter, uint16_t fkey, struct ims_oracle *dst,
			uint16_t key)
{
	struct to_gpa t = {lf, 0, 0, dst, key};
	if (!leaf_clip(lf, first, last, &t.lo, &t.hi))
		return;
	if (!filter) {
		ims_oracle_add(dst, key, lf->pa + (t.lo - lf->iova), t.hi - t.lo + 1);
		return;
	}
	ims_oracle_for_each(filter, fkey, t.lo, t.hi - t.lo + 1, run_to_gpa, &t);
}

/* Next run [*k0, *k1] of set bits at or after bit `from`, before `end`. */
static bool next_run(const struct ims_bitmap *bm, uint64_t from, uint64_t end, uint64_t *k0,
		     uint64_t *k1)
{
	uint64_t k = from;
	while (k < end) {
		uint64_t w = bm->words[k / 64] >> (k % 64);
		if (!w) {
			k = (k / 64 + 1) * 64;
			continue;
		}
		k += (uint64_t)__builtin_ctzll(w);
		break;
	}
	if (k >= end)
		return false;
	*k0 = k;
	while (k < end) {
		uint64_t w = ~(bm->words[k / 64] >> (k % 64));
		if (k % 64)
			w &= ~0ull >> (k % 64); /* bits shifted in are not set bits */
		if (!w) {
			k = (k / 64 + 1) * 64;
			continue;
		}
		k += (uint64_t)__builtin_ctzll(w);
		break;
	}
	*k1 = (k < end ? k : end) - 1;
	return true;
}

/* Adds to dst[key] the GPA of every byte the bitmap's set bits cover,
 * through the leaves of s. */
static void bits_to_gpa(const struct ims_bitmap *bm, const struct snap *s, struct ims_oracle *dst,
			uint16_t key)
{
	uint64_t blast = bm->iova + (bm->length - 1);
	for (size_t i = 0; i < s->n; i++) {
		uint64_t lo, hi, k0, k1;
		if (!leaf_clip(&s->l[i], bm->iova, blast, &lo, &hi))
			continue;
		uint64_t b = (lo - bm->iova) >> bm->pgshift, e = ((hi - bm->iova) >> bm->pgshift) + 1;
		while (next_run(bm, b, e, &k0, &k1)) {
			uint64_t a = bm->iova + (k0 << bm->pgshift);
			uint64_t z = bm->iova + (((k1 + 1) << bm->pgshift) - 1);
			if (z < a || z > hi) /* the last bit's page may end past the leaf, or 2^64 */
				z = hi;
			if (a < lo)
				a = lo;
			struct leaf one = s->l[i];
			leaf_to_gpa(&one, a, z, NULL, 0, dst, key);
			b = k1 + 1;
		}
	}
}

/* A dirty read reported bm (domain d): for the migration estimate, the
 * GPA pages the VMM learnt. */
static void gpa_reported(struct ims_replay *r, struct dom *d, const struct ims_bitmap *bm,
			 const struct snap *taken)
{
	if (!r->mig_on)
		return;
	struct snap s;
	if (!taken)
		snap_take(d, bm->iova, bm->length, &s);
	bits_to_gpa(bm, taken ? taken : &s, r->mig, MIG_REPORTED);
	if (!taken)
		free(s.l);
}

/* A dirty read of [iova, iova + size) of domain tag (a harvest): what was
 * written there is reported; what was written and then unmapped before
 * it is counted as missed, once. */
static void gpa_harvested(struct ims_replay *r, const struct ims_event *ev, uint16_t tag,
			  uint64_t iova, uint64_t size)
{
	ims_oracle_clear(r->written, tag, iova, size);
	uint64_t n = ims_oracle_count(r->stranded, tag, 0, 0);
	if (!n)
		return;
	r->st.gpa_missed += n;
	ims_oracle_reset(r->stranded, tag);
	if (r->o.verbosity >= 1 && ev->line)
		fprintf(stdout,
			"%s:%" PRIu64 ": %" PRIu64 " GPA pages missed by IOVA tracking: written "
			"through domain %u, then unmapped or remapped before this read\n",
			r->file, ev->line, n, tag);
}

/* [iova, iova + size) of domain tag was unmapped; s holds its leaves from
 * before. read: its dirty state was read first (VFIO's unmap with a
 * bitmap); without it, pages written since the last read are stranded. */
static void gpa_unmapped(struct ims_replay *r, uint16_t tag, uint64_t iova, uint64_t size,
			 const struct snap *s, bool read)
{
	if (!size)
		return;
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	for (size_t i = 0; i < s->n; i++) {
		if (!read)
			leaf_to_gpa(&s->l[i], iova, last, r->written, tag, r->stranded, tag);
		if (r->mig_on)
			leaf_to_gpa(&s->l[i], iova, last, NULL, 0, r->mig_unmapped, tag);
	}
	ims_oracle_clear(r->written, tag, iova, size);
}

/* Whether an unmap of the range needs the leaves from before it. */
static bool gpa_needs_snap(const struct ims_replay *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	return r->mig_on || ims_oracle_count(r->written, tag, iova, size) != 0;
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

/* Maps of a HWPT follow its IOAS, maps of a container its vfio calls. */
static int not_front_end(struct ims_replay *r, const struct ims_event *ev, const struct dom *d)
{
	if (d->kind == DOM_HWPT)
		return input_error(r, ev, IMS_K_DOMAIN,
				   "domain %" PRIu64 " is an iommufd HWPT (line %" PRIu64
				   "): map and unmap its IOAS with iommufd map / unmap",
				   ev->v[IMS_K_DOMAIN], d->line);
	if (d->kind == DOM_VFIO)
		return input_error(r, ev, IMS_K_DOMAIN,
				   "domain %" PRIu64 " is a VFIO container (line %" PRIu64
				   "): use vfio map / unmap",
				   ev->v[IMS_K_DOMAIN], d->line);
	return 0;
}

static int op_map(struct ims_replay *r, const struct ims_event *ev)
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

/* The walker reports a dirty leaf clipped to the range but cleans every
 * entry of it (dirty-semantics.md), so a clearing read whose range cuts
 * into a leaf erases the dirty state of the leaf's pages outside the range.
 * The hardware's own view of the leaf at each end (a probe: no side effect)
 * says where it reaches; what the oracle expected there is lost. */
static void lose_cut_leaves(struct ims_replay *r, uint16_t tag, uint64_t first, uint64_t last)
{
	struct ims_oracle *o = ims_iommu_oracle(r->mmu);
	const uint64_t ends[2] = {first, last};
	for (int i = 0; i < 2; i++) {
		struct ims_xlate x;
		if (ims_iommu_probe(r->mmu, tag, ends[i], IMS_ACC_R, &x) != 0 || x.leaf_shift >= 64)
			continue;
		uint64_t lf = x.leaf_iova, ll = x.leaf_iova + ((1ull << x.leaf_shift) - 1);
		uint64_t part_f = i == 0 ? lf : last + 1, part_l = i == 0 ? first - 1 : ll;
		if ((i == 0 && lf >= first) || (i == 1 && ll <= last))
			continue;
		uint64_t n = ims_oracle_count(o, tag, part_f, part_l - part_f + 1);
		if (!n)
			continue;
		ims_oracle_clear(o, tag, part_f, part_l - part_f + 1);
		r->st.lost_partial += n;
	}
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
				   ev->op == IMS_OP_UNMAP ? "unmap read-dirty bitmap" : ims_op_name(ev->op),
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
	lose_cut_leaves(r, tag, iova, iova + (size - 1));
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
	ims_oracle_expected(ims_iommu_oracle(r->mmu), (uint16_t)ev->v[IMS_K_DOMAIN], want->iova,
			    want->length, want->pgshift, want->words);
	return 0;
}

static int op_unmap(struct ims_replay *r, const struct ims_event *ev)
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
			return input_error(r, ev, IMS_K_READ_DIRTY,
					   "read-dirty needs tracking on (track domain=%u on)", tag);
		uint64_t pgsize = ims_ev_has(ev, IMS_K_PGSIZE) ? ev->v[IMS_K_PGSIZE] : align;
		if ((rc = bitmaps_for(r, ev, d, pgsize, &got, &want)))
			return rc;
	}
	uint64_t bytes = 0;
	struct snap leaves = {0};
	if (gpa_needs_snap(r, tag, iova, size))
		snap_take(d, iova, size, &leaves);
	inject_begin(r, ev);
	if (read)
		rc = ims_pt_unmap_read_dirty(d->pt, iova, size, &got, &bytes);
	else
		rc = ims_pt_unmap(d->pt, iova, size, &bytes);
	inject_end(r, ev);
	if (rc) {
		free(leaves.l);
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
		gpa_reported(r, d, &got, &leaves);
		ims_bitmap_fini(&got);
		ims_bitmap_fini(&want);
	}
	gpa_unmapped(r, tag, iova, size, &leaves, read);
	free(leaves.l);
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
	if (on) {
		ims_oracle_reset(ims_iommu_oracle(r->mmu), (uint16_t)ev->v[IMS_K_DOMAIN]);
		/* A new tracking session: what was written before is not owed. */
		ims_oracle_reset(r->written, (uint16_t)ev->v[IMS_K_DOMAIN]);
		ims_oracle_reset(r->stranded, (uint16_t)ev->v[IMS_K_DOMAIN]);
	}
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
	gpa_harvested(r, ev, tag, got.iova, got.length);
	gpa_reported(r, d, &got, NULL);
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

/* Out of line: see ims_replay_event. */
static __attribute__((noinline)) int op_dma(struct ims_replay *r, const struct ims_event *ev)
{
	uint64_t pieces = 0, faulted = 0;
	uint32_t dev = (uint32_t)ev->v[IMS_K_DEV];
	unsigned acc = (unsigned)ev->v[IMS_K_DIR];
	/* Only a write is recorded: a read needs neither look-up. */
	int tag = (acc & IMS_ACC_W) ? ims_iommu_dev_domain(r->mmu, dev) : -1;
	bool tracked = tag >= 0 && ims_iommu_ctx_dirty_enabled(r->mmu, (uint16_t)tag);
	if (tag >= 0 && (tracked || r->mig_on)) {
		/* Piece by piece as ims_iommu_dma does, keeping what each write
		 * reached in IOVA and GPA space (docs/uapi.md), a run at a time. */
		uint64_t left = ev->v[IMS_K_LEN], at = ev->v[IMS_K_IOVA];
		uint64_t run_iova = 0, run_pa = 0, run_len = 0;
		while (left) {
			uint64_t room = IMS_PAGE_SIZE - (at & (IMS_PAGE_SIZE - 1));
			uint64_t n = room < left ? room : left;
			struct ims_xlate x;
			if (left > n)
				ims_iommu_prefetch(r->mmu, dev, at + n, acc);
			int k = ims_iommu_access(r->mmu, dev, at, acc, &x);
			if (k > 0)
				faulted++;
			if (k == 0 && run_len && at == run_iova + run_len && x.pa == run_pa + run_len) {
				run_len += n;
			} else {
				if (run_len)
					gpa_write(r, (uint16_t)tag, run_iova, run_pa, run_len, tracked);
				run_len = 0;
				if (k == 0) {
					run_iova = at;
					run_pa = x.pa;
					run_len = n;
				}
			}
			pieces++;
			left -= n;
			at += n;
		}
		if (run_len)
			gpa_write(r, (uint16_t)tag, run_iova, run_pa, run_len, tracked);
	} else {
		faulted = ims_iommu_dma(r->mmu, dev, ev->v[IMS_K_IOVA], ev->v[IMS_K_LEN], acc, &pieces);
	}
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

/* ---- iommufd and VFIO type1 calls (docs/uapi.md) ------------------------------------- */

static const char *err_name(int rc, char *buf, size_t n)
{
	if (!rc)
		return "success";
	const char *e = ims_errno_name(-rc);
	if (e)
		return e;
	snprintf(buf, n, "errno %d", -rc);
	return buf;
}

/* A call's return against expect-err=: another error, an error where none
 * was expected, or success where one was, is a validation failure (not an
 * input error), so conformance traces can pin error codes. Returns true
 * when the call succeeded. */
static bool call_done(struct ims_replay *r, const struct ims_event *ev, int rc, const char *why)
{
	r->st.uapi_calls++;
	if (rc)
		r->st.uapi_errors++;
	bool has = ims_ev_has(ev, IMS_K_EXPECT_ERR);
	int want = has ? -(int)ev->v[IMS_K_EXPECT_ERR] : 0;
	if (has)
		r->st.assertions++;
	if (rc != want) {
		if (has)
			r->st.assertion_failures++;
		char a[24], b[24];
		bool detail = rc && why && why[0];
		validation_failure(r, ev, "%s returned %s, expected %s%s%s", ims_op_name(ev->op),
				   err_name(rc, a, sizeof(a)), err_name(want, b, sizeof(b)),
				   detail ? ": " : "", detail ? why : "");
	} else if (rc && r->o.verbosity >= 2) {
		char a[24];
		fprintf(stdout, "%s:%" PRIu64 ": %s returned %s, as expected\n", r->file, ev->line,
			ims_op_name(ev->op), err_name(rc, a, sizeof(a)));
	}
	return rc == 0;
}

/* The model's capability registers, as IOMMU_GET_HW_INFO reports them:
 * what the hardware needs for dirty updates at all. */
static bool model_dirty_cap(const struct ims_iommu_cfg *c, enum ims_format fmt)
{
	switch (fmt) {
	case IMS_FMT_AMDV1: /* EFR HASup (49) and HDSup (52): DTE.HAD = 11b */
		return ((c->amd_efr >> 49) & 1) && ((c->amd_efr >> 52) & 1);
	case IMS_FMT_VTD: /* ECAP SSADS (45) and SMPWC (48) */
		return ((c->vtd_ecap >> 45) & 1) && ((c->vtd_ecap >> 48) & 1);
	case IMS_FMT_SMMUV3: /* IDR0.HTTU: access flag and dirty state */
		return ((c->smmu_idr0 >> 6) & 3) >= 2;
	default:
		return false;
	}
}

static int need_fd(struct ims_replay *r)
{
	if (r->fd)
		return 0;
	struct ims_sink sink = {.arg = r,
				.submit = sink_submit,
				.ctx_update = sink_ctx_update,
				.ctx_flush = sink_ctx_flush};
	return ims_iommufd_new(r->mem, &sink, &r->fd);
}

/* expect= and expect-count= of a bitmap the call returned. */
static int check_bitmap_expect(struct ims_replay *r, const struct ims_event *ev,
			       const struct ims_bitmap *got)
{
	if (ims_ev_has(ev, IMS_K_EXPECT)) {
		r->st.assertions++;
		int eq = ims_bitmap_equals_hex(got, ev->expect_hex, ev->expect_hex_len);
		if (eq < 0)
			return input_error(r, ev, IMS_K_EXPECT, "expect= is not a hex bitmap");
		if (!eq) {
			r->st.assertion_failures++;
			char *hex = ims_bitmap_to_hex(got);
			validation_failure(r, ev, "%s bitmap: expected 0x%.*s, got 0x%s",
					   ims_op_name(ev->op),
					   (int)(ev->expect_hex_len > 200 ? 200 : ev->expect_hex_len),
					   ev->expect_hex, hex ? hex : "?");
			free(hex);
		}
	}
	if (ims_ev_has(ev, IMS_K_EXPECT_COUNT)) {
		r->st.assertions++;
		uint64_t n = ims_bitmap_count(got);
		if (n != ev->v[IMS_K_EXPECT_COUNT]) {
			r->st.assertion_failures++;
			validation_failure(r, ev, "%s: expected %" PRIu64 " bits set, got %" PRIu64,
					   ims_op_name(ev->op), ev->v[IMS_K_EXPECT_COUNT], n);
		}
	}
	return 0;
}

/* The user's bitmap buffer of a call: bitmap-size= bytes (default: what
 * the range's bits need). Only what a successful call can write is
 * allocated: the bytes the range's bits need, when the buffer holds them. */
struct ubuf {
	unsigned char *data;
	uint64_t size, need;
};

#define UBUF_MAX (1ull << 30)

static int ubuf_get(struct ims_replay *r, const struct ims_event *ev, uint64_t need, struct ubuf *b)
{
	b->need = need;
	b->size = ims_ev_has(ev, IMS_K_BITMAP_SIZE) ? ev->v[IMS_K_BITMAP_SIZE] : need;
	uint64_t alloc = b->size < need ? b->size : need;
	if (alloc > UBUF_MAX)
		return input_error(r, ev, ims_ev_has(ev, IMS_K_BITMAP_SIZE) ? IMS_K_BITMAP_SIZE : IMS_K_LENGTH,
				   "a bitmap of 0x%" PRIx64 " bytes is more than the replayer holds "
				   "(1 GiB); give a smaller range or bitmap-size=",
				   alloc);
	b->data = calloc(1, alloc ? alloc : 1);
	return b->data ? 0 : -ENOMEM;
}

/* The bits a call wrote into the user's buffer, as a bitmap of the range. */
static void ubuf_decode(const struct ubuf *b, struct ims_bitmap *got)
{
	ims_bitmap_zero(got);
	uint64_t nbytes = (got->nbits + 7) / 8;
	for (uint64_t i = 0; i < nbytes && i < b->need; i++)
		for (unsigned v = b->data[i], k = 0; v; v >>= 1, k++)
			if (v & 1)
				ims_bitmap_set_bits(got, i * 8 + k, 1);
}

/* The range's geometry is one a call can accept: a power-of-two page,
 * non-empty, no wrap past 2^64, aligned at both ends. */
static bool geometry_ok(uint64_t iova, uint64_t length, uint64_t page)
{
	if (!ims_is_pow2(page) || !length || iova + (length - 1) < iova)
		return false;
	return !((iova | (iova + length)) & (page - 1));
}

static int op_iommufd_bind(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	enum ims_format fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	bool cap = model_dirty_cap(ims_iommu_config(r->mmu), fmt);
	if (ims_ev_has(ev, IMS_K_DIRTY_CAP)) {
		if (ev->v[IMS_K_DIRTY_CAP] && !cap)
			return input_error(r, ev, IMS_K_DIRTY_CAP,
					   "dirty-cap=on, but the model's %s capability registers do not "
					   "offer dirty tracking",
					   ims_format_name(fmt));
		cap = ev->v[IMS_K_DIRTY_CAP] != 0;
	}
	struct ims_iommufd_hw_info info = {fmt, cap ? IMS_IOMMU_HW_CAP_DIRTY_TRACKING : 0};
	rc = ims_iommufd_bind(r->fd, (uint32_t)ev->v[IMS_K_DEV], &info);
	if (rc == -EEXIST)
		return input_error(r, ev, IMS_K_DEV, "device 0x%" PRIx64 " is already bound",
				   ev->v[IMS_K_DEV]);
	return rc;
}

static int op_iommufd_hw_info(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	struct ims_iommufd_hw_info info;
	rc = ims_iommufd_get_hw_info(r->fd, (uint32_t)ev->v[IMS_K_DEV], &info);
	if (call_done(r, ev, rc, NULL) && ims_ev_has(ev, IMS_K_DIRTY_CAP)) {
		bool got = (info.out_capabilities & IMS_IOMMU_HW_CAP_DIRTY_TRACKING) != 0;
		r->st.assertions++;
		if (got != (ev->v[IMS_K_DIRTY_CAP] != 0)) {
			r->st.assertion_failures++;
			validation_failure(r, ev, "hw-info: IOMMU_HW_CAP_DIRTY_TRACKING is %s, expected %s",
					   got ? "set" : "clear", got ? "clear" : "set");
		}
	}
	return 0;
}

static int op_iommufd_ioas(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	call_done(r, ev, ims_iommufd_ioas_alloc(r->fd, (uint32_t)ev->v[IMS_K_IOAS]), NULL);
	return 0;
}

static int op_iommufd_map(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	unsigned prot = ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT] : IMS_PROT_RW;
	rc = ims_iommufd_ioas_map(r->fd, (uint32_t)ev->v[IMS_K_IOAS], ev->v[IMS_K_IOVA],
				  ev->v[IMS_K_PA], ev->v[IMS_K_LENGTH], prot);
	if (call_done(r, ev, rc, NULL))
		r->st.maps++;
	return 0;
}

/* [iova, iova + length) clipped at 2^64, as (iova, size); size 0 for an
 * empty range, 2^64 - 1 for the whole space. */
static uint64_t clip_size(uint64_t iova, uint64_t length)
{
	if (!length)
		return 0;
	if (iova + (length - 1) < iova)
		return iova ? 0 - iova : ~0ull;
	return length;
}

static int op_iommufd_unmap(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint32_t ioas = (uint32_t)ev->v[IMS_K_IOAS];
	uint64_t iova = ev->v[IMS_K_IOVA], size = clip_size(iova, ev->v[IMS_K_LENGTH]);
	/* Every HWPT of the IOAS loses the range: keep their leaves first. */
	struct hw {
		uint16_t tag;
		struct snap s;
	} *hw = NULL;
	size_t nhw = 0;
	for (unsigned t = 0; t < 65536; t++) {
		struct dom *d = r->doms[t];
		if (!d || d->kind != DOM_HWPT || d->ioas != ioas)
			continue;
		struct hw *n = realloc(hw, (nhw + 1) * sizeof(*hw));
		if (!n) {
			rc = -ENOMEM;
			goto out;
		}
		hw = n;
		hw[nhw].tag = (uint16_t)t;
		memset(&hw[nhw].s, 0, sizeof(hw[nhw].s));
		if (gpa_needs_snap(r, (uint16_t)t, iova, size))
			snap_take(d, iova, size, &hw[nhw].s);
		nhw++;
	}
	uint64_t bytes = 0;
	rc = ims_iommufd_ioas_unmap(r->fd, ioas, iova, ev->v[IMS_K_LENGTH], &bytes);
	if (call_done(r, ev, rc, NULL)) {
		for (size_t i = 0; i < nhw; i++) {
			/* iommufd: unmap never reports dirty state; it is discarded. */
			gpa_unmapped(r, hw[i].tag, iova, size, &hw[i].s, false);
			r->st.lost_on_unmap +=
				ims_oracle_unmap(ims_iommu_oracle(r->mmu), hw[i].tag, iova, size);
			if (size)
				maybe_settle(r, hw[i].tag, iova, iova + (size - 1));
		}
		r->st.unmaps++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nhw; i++)
		free(hw[i].s.l);
	free(hw);
	return rc;
}

static int op_iommufd_hwpt(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint64_t id = ev->v[IMS_K_HWPT];
	if (id > 0xffff)
		return input_error(r, ev, IMS_K_HWPT, "hwpt=%" PRIu64 " is out of range (0..65535)", id);
	if (r->doms[id])
		return input_error(r, ev, IMS_K_HWPT,
				   "hwpt=%" PRIu64 " names domain %" PRIu64 " of line %" PRIu64
				   " (a HWPT id is also its domain's hardware tag)",
				   id, id, r->doms[id]->line);
	struct ims_iommufd_hwpt_alloc a = {
		.dev_id = (uint32_t)ev->v[IMS_K_DEV],
		.pt_id = (uint32_t)ev->v[IMS_K_IOAS],
		.hwpt_id = (uint16_t)id,
		.levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 0,
		.granule_shift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0,
		.ias = ims_ev_has(ev, IMS_K_IAS) ? (unsigned)ev->v[IMS_K_IAS] : 0,
		.pgsizes = ims_ev_has(ev, IMS_K_PGSIZES) ? ev->v[IMS_K_PGSIZES] : 0,
	};
	if (ims_ev_has(ev, IMS_K_LEVELS) && (ev->v[IMS_K_LEVELS] == 0 || ev->v[IMS_K_LEVELS] > 64))
		return input_error(r, ev, IMS_K_LEVELS, "levels=%" PRIu64 " is out of range",
				   ev->v[IMS_K_LEVELS]);
	if (ims_ev_has(ev, IMS_K_IAS) && (ev->v[IMS_K_IAS] == 0 || ev->v[IMS_K_IAS] > 64))
		return input_error(r, ev, IMS_K_IAS, "ias=%" PRIu64 " is out of range", ev->v[IMS_K_IAS]);
	if (ims_ev_has(ev, IMS_K_FLAGS))
		a.flags = (uint32_t)ev->v[IMS_K_FLAGS];
	else if (ims_ev_has(ev, IMS_K_DIRTY) && ev->v[IMS_K_DIRTY])
		a.flags = IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	char why[256] = "";
	rc = ims_iommufd_hwpt_alloc(r->fd, &a, why, sizeof(why));
	if (!call_done(r, ev, rc, why))
		return 0;
	struct ims_pt *pt = ims_iommufd_hwpt_pt(r->fd, a.hwpt_id);
	uint64_t words[IMS_CTX_WORDS];
	ims_pt_ctx_words(pt, words);
	rc = ims_iommu_ctx_set(r->mmu, a.hwpt_id, ims_pt_format(pt), words, why, sizeof(why));
	if (rc)
		return input_error(r, ev, IMS_K_HWPT, "the model refuses the HWPT's context: %s",
				   why[0] ? why : errno_text(rc));
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fmt = ims_pt_format(pt);
	d->line = ev->line;
	d->pt = pt;
	d->kind = DOM_HWPT;
	d->ioas = a.pt_id;
	d->dirty_alloc = (a.flags & IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING) != 0;
	r->doms[id] = d;
	return 0;
}

static int op_iommufd_attach(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint32_t dev = (uint32_t)ev->v[IMS_K_DEV];
	uint64_t id = ev->v[IMS_K_HWPT];
	rc = ims_iommufd_attach(r->fd, dev, (uint32_t)id);
	if (!call_done(r, ev, rc, NULL))
		return 0;
	rc = ims_iommu_attach(r->mmu, dev, (uint16_t)id);
	if (rc)
		return input_error(r, ev, IMS_K_DEV, "attach failed in the model: %s", errno_text(rc));
	return 0;
}

/* Tracking (re)starts: the oracle's set and the GPA bookkeeping restart. */
static void tracking_enabled(struct ims_replay *r, uint16_t tag)
{
	ims_oracle_reset(ims_iommu_oracle(r->mmu), tag);
	ims_oracle_reset(r->written, tag);
	ims_oracle_reset(r->stranded, tag);
}

static int op_iommufd_set_dirty(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint32_t flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS]
			 : ims_ev_has(ev, IMS_K_ON)  ? IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE
						     : 0;
	uint64_t id = ev->v[IMS_K_HWPT];
	rc = ims_iommufd_set_dirty_tracking(r->fd, (uint32_t)id, flags);
	if (call_done(r, ev, rc, NULL) && (flags & IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE))
		tracking_enabled(r, (uint16_t)id);
	return 0;
}

static int op_iommufd_get_dirty(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = need_fd(r);
	if (rc)
		return rc;
	uint64_t id = ev->v[IMS_K_HWPT];
	uint64_t iova = ev->v[IMS_K_IOVA], length = ev->v[IMS_K_LENGTH], ps = ev->v[IMS_K_PAGE_SIZE];
	uint32_t flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS] : 0;
	if (ims_ev_has(ev, IMS_K_NOCLEAR))
		flags |= IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (d && d->kind != DOM_HWPT)
		d = NULL;
	bool geo = geometry_ok(iova, length, ps);
	struct ubuf b = {0};
	if ((rc = ubuf_get(r, ev, geo ? ims_iommufd_bitmap_bytes(length, ps) : 0, &b)))
		return rc;
	/* The oracle's expectation, from before the call. */
	struct ims_bitmap want = {0}, got = {0};
	bool have = d && geo && b.size >= b.need;
	if (have && (ims_bitmap_init(&want, iova, length, ims_log2(ps)) ||
		     ims_bitmap_init(&got, iova, length, ims_log2(ps)))) {
		ims_bitmap_fini(&want);
		free(b.data);
		return -ENOMEM;
	}
	if (have)
		ims_oracle_expected(ims_iommu_oracle(r->mmu), (uint16_t)id, want.iova, want.length,
				    want.pgshift, want.words);
	struct ims_iommufd_dirty_bitmap c = {
		.hwpt_id = (uint32_t)id,
		.flags = flags,
		.reserved = ims_ev_has(ev, IMS_K_RESERVED) ? (uint32_t)ev->v[IMS_K_RESERVED] : 0,
		.iova = iova,
		.length = length,
		.page_size = ps,
		.data = b.data,
		.data_len = b.size,
	};
	rc = ims_iommufd_get_dirty_bitmap(r->fd, &c);
	if (call_done(r, ev, rc, NULL) && have) {
		ubuf_decode(&b, &got);
		bool clear = !(flags & IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
		settle_dirty_read(r, ev, (uint16_t)id, &want, &got, clear);
		gpa_harvested(r, ev, (uint16_t)id, iova, length);
		gpa_reported(r, d, &got, NULL);
		rc = check_bitmap_expect(r, ev, &got);
	} else {
		rc = 0;
	}
	ims_bitmap_fini(&want);
	ims_bitmap_fini(&got);
	free(b.data);
	return rc;
}

/* ---- VFIO type1 ---- */

static struct dom *need_container(struct ims_replay *r, const struct ims_event *ev, int *rc)
{
	uint64_t id = ev->v[IMS_K_CONTAINER];
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (!d || d->kind != DOM_VFIO) {
		*rc = input_error(r, ev, IMS_K_CONTAINER,
				  "container %" PRIu64 " is not defined (expected 'vfio container id=%" PRIu64
				  " ...' first)",
				  id, id);
		return NULL;
	}
	return d;
}

static int op_vfio_container(struct ims_replay *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	if (r->doms[id])
		return input_error(r, ev, IMS_K_ID, "domain %" PRIu64 " is already defined at line %" PRIu64,
				   id, r->doms[id]->line);
	if (ims_ev_has(ev, IMS_K_LEVELS) && (ev->v[IMS_K_LEVELS] == 0 || ev->v[IMS_K_LEVELS] > 64))
		return input_error(r, ev, IMS_K_LEVELS, "levels=%" PRIu64 " is out of range",
				   ev->v[IMS_K_LEVELS]);
	if (ims_ev_has(ev, IMS_K_IAS) && (ev->v[IMS_K_IAS] == 0 || ev->v[IMS_K_IAS] > 64))
		return input_error(r, ev, IMS_K_IAS, "ias=%" PRIu64 " is out of range", ev->v[IMS_K_IAS]);
	/* Type1 uses no hardware dirty bits: the domain is not allocated for
	 * dirty tracking. */
	struct ims_pt_cfg cfg = {
		.fmt = (enum ims_format)ev->v[IMS_K_FORMAT],
		.tag = (uint16_t)id,
		.levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 0,
		.granule_shift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0,
		.ias = ims_ev_has(ev, IMS_K_IAS) ? (unsigned)ev->v[IMS_K_IAS] : 0,
		.pgsizes = ims_ev_has(ev, IMS_K_PGSIZES) ? ev->v[IMS_K_PGSIZES] : 0,
		.walker = r->o.walker,
	};
	struct ims_sink sink = {.arg = r,
				.submit = sink_submit,
				.ctx_update = sink_ctx_update,
				.ctx_flush = sink_ctx_flush};
	char why[256] = "";
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	int rc = ims_pt_new(r->mem, &cfg, &sink, &d->pt, why, sizeof(why));
	uint64_t words[IMS_CTX_WORDS];
	if (!rc) {
		ims_pt_ctx_words(d->pt, words);
		rc = ims_iommu_ctx_set(r->mmu, (uint16_t)id, cfg.fmt, words, why, sizeof(why));
	}
	if (!rc)
		rc = ims_vfio_new(d->pt, &d->vfio);
	if (rc) {
		ims_pt_free(d->pt);
		free(d);
		return input_error(r, ev, IMS_K_FORMAT, "%s", why[0] ? why : errno_text(rc));
	}
	d->fmt = cfg.fmt;
	d->line = ev->line;
	d->kind = DOM_VFIO;
	r->doms[id] = d;
	return 0;
}

static int op_vfio_group(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	bool pins = ims_ev_has(ev, IMS_K_PIN_SCOPE);
	rc = ims_vfio_group_add(d->vfio, (uint32_t)ev->v[IMS_K_ID], pins);
	if (rc == -EEXIST)
		return input_error(r, ev, IMS_K_ID, "group %" PRIu64 " is already in the container",
				   ev->v[IMS_K_ID]);
	if (rc)
		return rc;
	if (!pins)
		d->non_pinned++;
	if (ims_ev_has(ev, IMS_K_DEV)) {
		uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
		rc = ims_iommu_attach(r->mmu, (uint32_t)ev->v[IMS_K_DEV], tag);
		if (rc)
			return input_error(r, ev, IMS_K_DEV, "attach failed: %s", errno_text(rc));
	}
	return 0;
}

static int op_vfio_map(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	unsigned prot = ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT] : IMS_PROT_RW;
	rc = ims_vfio_map_dma(d->vfio, ev->v[IMS_K_IOVA], ev->v[IMS_K_PA], ev->v[IMS_K_LENGTH], prot);
	if (call_done(r, ev, rc, NULL))
		r->st.maps++;
	return 0;
}

/* What type1 must report for want's range (docs/uapi.md), from the page
 * table and the trace's own pins, never from the front end's records:
 * every mapped page; or, when every group tracks pins, the pages pinned
 * since the last query or still pinned. */
static void vfio_expected(struct ims_replay *r, struct dom *d, uint16_t tag, struct ims_bitmap *want)
{
	ims_bitmap_zero(want);
	if (!d->non_pinned) {
		ims_oracle_expected(r->pin_dirty, tag, want->iova, want->length, want->pgshift,
				    want->words);
		return;
	}
	struct snap s;
	snap_take(d, want->iova, want->length, &s);
	uint64_t last = want->iova + (want->length - 1), lo, hi;
	for (size_t i = 0; i < s.n; i++)
		if (leaf_clip(&s.l[i], want->iova, last, &lo, &hi))
			ims_bitmap_set(want, lo, hi - lo + 1);
	free(s.l);
}

/* dst[key] gets src[key]'s pages within [iova, iova + size). */
static int copy_run(void *arg, uint64_t first, uint64_t npages)
{
	struct to_gpa *t = arg;
	ims_oracle_add(t->dst, t->key, first, npages << IMS_PAGE_SHIFT);
	return 0;
}

static void set_copy(struct ims_oracle *dst, const struct ims_oracle *src, uint16_t key,
		     uint64_t iova, uint64_t size)
{
	struct to_gpa t = {.dst = dst, .key = key};
	ims_oracle_for_each(src, key, iova, size, copy_run, &t);
}

/* After a query of [iova, iova + size): only still-pinned pages stay dirty. */
static void pins_queried(struct ims_replay *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	ims_oracle_clear(r->pin_dirty, tag, iova, size);
	set_copy(r->pin_dirty, r->pin_now, tag, iova, size);
}

/* A type1 bitmap against its rule; counted like a harvest. */
static void vfio_compare(struct ims_replay *r, const struct ims_event *ev,
			 const struct ims_bitmap *want, const struct ims_bitmap *got)
{
	r->st.harvests++;
	uint64_t ngot = ims_bitmap_count(got), nwant = ims_bitmap_count(want);
	r->st.bits_reported += ngot;
	r->st.bits_expected += nwant;
	struct ims_bitmap_diff df;
	if (ims_bitmap_compare(want, got, &df))
		return;
	r->st.harvest_mismatches++;
	r->st.bits_under += df.under;
	r->st.bits_over += df.over;
	validation_failure(r, ev,
			   "%s bitmap breaks type1's rule: expected %" PRIu64 " bits, got %" PRIu64
			   " (under-reported %" PRIu64 ", over-reported %" PRIu64 ")",
			   ims_op_name(ev->op), nwant, ngot, df.under, df.over);
	FILE *f = diag(r);
	if (df.under)
		fprintf(f, "    first under-reported bit %" PRIu64 " (iova 0x%" PRIx64 ")\n",
			df.first_under, got->iova + (df.first_under << got->pgshift));
	if (df.over)
		fprintf(f, "    first over-reported bit %" PRIu64 " (iova 0x%" PRIx64 ")\n",
			df.first_over, got->iova + (df.first_over << got->pgshift));
	print_bits(f, "expected", want);
	print_bits(f, "got     ", got);
}

/* The bitmap of a type1 call (unmap with GET_DIRTY_BITMAP, or
 * GET_BITMAP): user buffer, and the expectation when the call can succeed. */
struct vbm {
	struct ubuf b;
	struct ims_bitmap want, got;
	bool have;
	uint64_t ps;
};

static int vbm_get(struct ims_replay *r, const struct ims_event *ev, struct dom *d, uint64_t iova,
		   uint64_t length, struct vbm *v)
{
	memset(v, 0, sizeof(*v));
	v->ps = ims_ev_has(ev, IMS_K_PAGE_SIZE) ? ev->v[IMS_K_PAGE_SIZE] : ims_vfio_pgsize(d->vfio);
	bool geo = geometry_ok(iova, length, v->ps);
	int rc = ubuf_get(r, ev, geo ? ims_vfio_bitmap_bytes(length / v->ps) : 0, &v->b);
	if (rc)
		return rc;
	v->have = geo && v->b.size >= v->b.need && v->b.need <= IMS_VFIO_DIRTY_BITMAP_MAX;
	if (!v->have)
		return 0;
	if (ims_bitmap_init(&v->want, iova, length, ims_log2(v->ps)) ||
	    ims_bitmap_init(&v->got, iova, length, ims_log2(v->ps)))
		return -ENOMEM;
	vfio_expected(r, d, (uint16_t)ev->v[IMS_K_CONTAINER], &v->want);
	return 0;
}

static void vbm_put(struct vbm *v)
{
	free(v->b.data);
	ims_bitmap_fini(&v->want);
	ims_bitmap_fini(&v->got);
}

/* A successful call's bitmap: checked, and what the VMM learnt. */
static int vbm_done(struct ims_replay *r, const struct ims_event *ev, struct dom *d, struct vbm *v,
		    const struct snap *s)
{
	if (!v->have)
		return 0;
	ubuf_decode(&v->b, &v->got);
	vfio_compare(r, ev, &v->want, &v->got);
	gpa_harvested(r, ev, (uint16_t)ev->v[IMS_K_CONTAINER], v->got.iova, v->got.length);
	gpa_reported(r, d, &v->got, s);
	return check_bitmap_expect(r, ev, &v->got);
}

static int op_vfio_unmap(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
	uint64_t iova = ev->v[IMS_K_IOVA], length = ev->v[IMS_K_LENGTH];
	uint64_t size = clip_size(iova, length);
	uint32_t flags = ims_ev_has(ev, IMS_K_FLAGS) ? (uint32_t)ev->v[IMS_K_FLAGS]
			 : ims_ev_has(ev, IMS_K_GET_DIRTY_BITMAP) ? IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP
								  : 0;
	bool get = flags & IMS_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	struct vbm v = {0};
	if (get && (rc = vbm_get(r, ev, d, iova, length, &v))) {
		vbm_put(&v);
		return rc;
	}
	struct snap s = {0};
	if (gpa_needs_snap(r, tag, iova, size))
		snap_take(d, iova, size, &s);
	struct ims_vfio_bitmap vb = {v.ps, v.b.size, v.b.data};
	uint64_t bytes = 0;
	rc = ims_vfio_unmap_dma(d->vfio, iova, length, flags, get ? &vb : NULL, &bytes);
	if (call_done(r, ev, rc, NULL)) {
		rc = get ? vbm_done(r, ev, d, &v, &s) : 0;
		gpa_unmapped(r, tag, iova, size, &s, get);
		r->st.lost_on_unmap += ims_oracle_unmap(ims_iommu_oracle(r->mmu), tag, iova, size);
		if (size)
			maybe_settle(r, tag, iova, iova + (size - 1));
		ims_oracle_clear(r->pin_now, tag, iova, size);
		ims_oracle_clear(r->pin_dirty, tag, iova, size);
		r->st.unmaps++;
	} else {
		rc = 0;
	}
	free(s.l);
	vbm_put(&v);
	return rc;
}

/* Type1 starts tracking: pages pinned now are dirty from the start. */
static void vfio_started(struct ims_replay *r, struct dom *d, uint16_t tag)
{
	if (d->vtrack)
		return;
	d->vtrack = true;
	ims_oracle_reset(r->pin_dirty, tag);
	set_copy(r->pin_dirty, r->pin_now, tag, 0, 0);
}

static int op_vfio_dirty(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
	uint32_t flags;
	if (ims_ev_has(ev, IMS_K_FLAGS))
		flags = (uint32_t)ev->v[IMS_K_FLAGS];
	else
		flags = (ims_ev_has(ev, IMS_K_START) ? IMS_VFIO_DIRTY_PAGES_FLAG_START : 0) |
			(ims_ev_has(ev, IMS_K_STOP) ? IMS_VFIO_DIRTY_PAGES_FLAG_STOP : 0) |
			(ims_ev_has(ev, IMS_K_GET_BITMAP) ? IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP : 0);
	bool get = flags == IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP;
	uint64_t iova = ims_ev_has(ev, IMS_K_IOVA) ? ev->v[IMS_K_IOVA] : 0;
	uint64_t length = ims_ev_has(ev, IMS_K_LENGTH) ? ev->v[IMS_K_LENGTH] : 0;
	struct vbm v = {0};
	if (get && (rc = vbm_get(r, ev, d, iova, length, &v))) {
		vbm_put(&v);
		return rc;
	}
	struct ims_vfio_dirty_pages c = {.flags = flags, .iova = iova, .size = length,
					 .bitmap = {v.ps, v.b.size, v.b.data}};
	rc = ims_vfio_dirty_pages(d->vfio, &c);
	if (call_done(r, ev, rc, NULL)) {
		rc = 0;
		if (flags == IMS_VFIO_DIRTY_PAGES_FLAG_START) {
			vfio_started(r, d, tag);
		} else if (flags == IMS_VFIO_DIRTY_PAGES_FLAG_STOP) {
			d->vtrack = false;
			ims_oracle_reset(r->pin_dirty, tag);
		} else if (get) {
			rc = vbm_done(r, ev, d, &v, NULL);
			pins_queried(r, tag, iova, length);
		}
	} else {
		rc = 0;
	}
	vbm_put(&v);
	return rc;
}

static int op_vfio_pin(struct ims_replay *r, const struct ims_event *ev)
{
	int rc = 0;
	struct dom *d = need_container(r, ev, &rc);
	if (!d)
		return rc;
	uint16_t tag = (uint16_t)ev->v[IMS_K_CONTAINER];
	uint64_t iova = ev->v[IMS_K_IOVA], length = ev->v[IMS_K_LENGTH];
	bool pin = ev->op == IMS_OP_VFIO_PIN;
	rc = pin ? ims_vfio_pin(d->vfio, iova, length) : ims_vfio_unpin(d->vfio, iova, length);
	if (!call_done(r, ev, rc, NULL))
		return 0;
	if (pin) {
		ims_oracle_add(r->pin_now, tag, iova, length);
		if (d->vtrack)
			ims_oracle_add(r->pin_dirty, tag, iova, length);
	} else {
		ims_oracle_clear(r->pin_now, tag, iova, length);
	}
	return 0;
}

/* ---- live-migration accounting (docs/migrate.md) ---- */

const char *ims_mig_mode_name(enum ims_mig_mode m)
{
	static const char *const n[IMS_MIG_COUNT] = {"hw", "type1", "none"};
	return (unsigned)m < IMS_MIG_COUNT ? n[m] : "?";
}

int ims_replay_mig_start(struct ims_replay *r, enum ims_mig_mode mode)
{
	struct ims_oracle *a = ims_oracle_new(), *b = ims_oracle_new();
	if (!a || !b) {
		ims_oracle_free(a);
		ims_oracle_free(b);
		return -ENOMEM;
	}
	ims_oracle_free(r->mig);
	ims_oracle_free(r->mig_unmapped);
	r->mig = a;
	r->mig_unmapped = b;
	r->mig_on = true;
	for (unsigned t = 0; t < 65536; t++) {
		struct dom *d = r->doms[t];
		if (!d || d->raw)
			continue;
		if (mode == IMS_MIG_HW && d->dirty_alloc) {
			/* iommufd: the session starts with every dirty bit cleared. */
			int rc = ims_pt_set_dirty_tracking(d->pt, true);
			if (rc)
				return rc;
			tracking_enabled(r, (uint16_t)t);
		}
		if (mode == IMS_MIG_TYPE1 && d->kind == DOM_VFIO && !d->vtrack) {
			struct ims_vfio_dirty_pages c = {.flags = IMS_VFIO_DIRTY_PAGES_FLAG_START};
			int rc = ims_vfio_dirty_pages(d->vfio, &c);
			if (rc)
				return rc;
			vfio_started(r, d, (uint16_t)t);
		}
	}
	return 0;
}

static int leaf_gpa_add(void *arg, uint64_t page_iova, unsigned shift, uint64_t pa, unsigned prot)
{
	(void)prot;
	struct to_gpa *t = arg;
	uint64_t size = shift >= 64 ? ~0ull : 1ull << shift;
	(void)page_iova;
	ims_oracle_add(t->dst, t->key, pa, size);
	return 0;
}

/* Every GPA page the domain maps, into dst[key]. */
static void mapped_gpa(struct dom *d, struct ims_oracle *dst, uint16_t key)
{
	struct to_gpa t = {.dst = dst, .key = key};
	ims_pt_for_each_leaf(d->pt, 0, 0, leaf_gpa_add, &t);
}

/* A VMM harvest of every page the domain maps, checked against the oracle
 * like a trace harvest; what it reports goes to dst[0] as GPA. */
static int mig_harvest(struct ims_replay *r, struct dom *d, uint16_t tag, struct ims_oracle *dst)
{
	struct snap s = {0};
	int rc = ims_pt_for_each_leaf(d->pt, 0, 0, snap_leaf, &s);
	struct ims_event ev = {.op = IMS_OP_HARVEST};
	memset(&r->inj, 0, sizeof(r->inj));
	for (size_t i = 0; !rc && i < s.n;) {
		/* One read per run of adjacent leaves. */
		size_t j = i;
		uint64_t first = s.l[i].iova, last = first + ((1ull << s.l[i].shift) - 1);
		while (j + 1 < s.n && last != ~0ull && s.l[j + 1].iova == last + 1) {
			j++;
			last = s.l[j].iova + ((1ull << s.l[j].shift) - 1);
		}
		struct ims_bitmap want, got;
		uint64_t len = last - first + 1;
		if (ims_bitmap_init(&want, first, len, IMS_PAGE_SHIFT)) {
			rc = -ENOMEM;
			break;
		}
		if (ims_bitmap_init(&got, first, len, IMS_PAGE_SHIFT)) {
			ims_bitmap_fini(&want);
			rc = -ENOMEM;
			break;
		}
		ims_oracle_expected(ims_iommu_oracle(r->mmu), tag, want.iova, want.length, want.pgshift,
				    want.words);
		rc = ims_pt_read_and_clear_dirty(d->pt, first, len, 0, &got);
		if (!rc) {
			settle_dirty_read(r, &ev, tag, &want, &got, true);
			gpa_harvested(r, &ev, tag, first, len);
			bits_to_gpa(&got, &s, dst, 0);
		}
		ims_bitmap_fini(&want);
		ims_bitmap_fini(&got);
		i = j + 1;
	}
	free(s.l);
	return rc;
}

/* A type1 query of everything a pinned-scope container maps. */
static int mig_vfio_query(struct ims_replay *r, struct dom *d, uint16_t tag, struct ims_oracle *dst)
{
	struct snap s = {0};
	int rc = ims_pt_for_each_leaf(d->pt, 0, 0, snap_leaf, &s);
	if (rc || !s.n) {
		free(s.l);
		return rc;
	}
	const struct leaf *z = &s.l[s.n - 1];
	uint64_t first = s.l[0].iova, last = z->iova + ((1ull << z->shift) - 1);
	struct ims_event ev = {.op = IMS_OP_VFIO_DIRTY};
	ev.keys = 1ull << IMS_K_CONTAINER;
	ev.v[IMS_K_CONTAINER] = tag;
	struct vbm v;
	rc = vbm_get(r, &ev, d, first, last - first + 1, &v);
	if (!rc && v.have) {
		struct ims_vfio_dirty_pages c = {.flags = IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP,
						 .iova = first, .size = last - first + 1,
						 .bitmap = {v.ps, v.b.size, v.b.data}};
		rc = ims_vfio_dirty_pages(d->vfio, &c);
		if (!rc) {
			ubuf_decode(&v.b, &v.got);
			vfio_compare(r, &ev, &v.want, &v.got);
			bits_to_gpa(&v.got, &s, dst, 0);
			pins_queried(r, tag, first, last - first + 1);
		}
	}
	vbm_put(&v);
	free(s.l);
	return rc;
}

struct count_out {
	const struct ims_oracle *set;
	uint64_t out;
};

static int count_outside(void *arg, uint64_t first, uint64_t npages)
{
	struct count_out *c = arg;
	c->out += npages - ims_oracle_count(c->set, 0, first, npages << IMS_PAGE_SHIFT);
	return 0;
}

int ims_replay_mig_sync(struct ims_replay *r, enum ims_mig_mode mode, struct ims_oracle *gpa,
			struct ims_mig_sync *out)
{
	memset(out, 0, sizeof(*out));
	if (!r->mig_on)
		return -EINVAL;
	uint64_t before = ims_oracle_count(gpa, 0, 0, 0);
	struct ims_oracle *mapped = ims_oracle_new();
	if (!mapped)
		return -ENOMEM;
	int rc = 0;
	struct to_gpa t = {.dst = gpa, .key = 0};
	for (unsigned tag = 0; tag < 65536 && !rc; tag++) {
		struct dom *d = r->doms[tag];
		if (!d || d->raw || !d->pt)
			continue;
		mapped_gpa(d, mapped, 0);
		if (mode == IMS_MIG_HW && ims_pt_tracking(d->pt)) {
			rc = mig_harvest(r, d, (uint16_t)tag, gpa);
		} else if (mode == IMS_MIG_TYPE1 && d->kind == DOM_VFIO && !d->non_pinned && d->vtrack) {
			rc = mig_vfio_query(r, d, (uint16_t)tag, gpa);
		} else {
			/* Nothing tells what devices wrote: all of it, and what was
			 * mapped for a while since the last sync (not in type1, whose
			 * query sees only what is mapped now). */
			mapped_gpa(d, gpa, 0);
			if (mode != IMS_MIG_TYPE1)
				ims_oracle_for_each(r->mig_unmapped, (uint16_t)tag, 0, 0, copy_run, &t);
		}
	}
	if (!rc && mode != IMS_MIG_NONE)
		ims_oracle_for_each(r->mig, MIG_REPORTED, 0, 0, copy_run, &t);
	out->dirty = ims_oracle_count(gpa, 0, 0, 0) - before;
	out->written = ims_oracle_count(r->mig, MIG_WRITTEN, 0, 0);
	struct count_out c = {gpa, 0};
	ims_oracle_for_each(r->mig, MIG_WRITTEN, 0, 0, count_outside, &c);
	out->missed = c.out;
	out->mapped = ims_oracle_count(mapped, 0, 0, 0);
	ims_oracle_free(mapped);
	ims_oracle_reset(r->mig, MIG_REPORTED);
	ims_oracle_reset(r->mig, MIG_WRITTEN);
	struct ims_oracle *fresh = ims_oracle_new();
	if (fresh) {
		ims_oracle_free(r->mig_unmapped);
		r->mig_unmapped = fresh;
	}
	return rc;
}

/* Every op but dma, which ims_replay_event dispatches first. */
static __attribute__((noinline)) int op_other(struct ims_replay *r, const struct ims_event *ev)
{
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
	case IMS_OP_IOMMUFD_BIND:
		return op_iommufd_bind(r, ev);
	case IMS_OP_IOMMUFD_HW_INFO:
		return op_iommufd_hw_info(r, ev);
	case IMS_OP_IOMMUFD_IOAS:
		return op_iommufd_ioas(r, ev);
	case IMS_OP_IOMMUFD_MAP:
		return op_iommufd_map(r, ev);
	case IMS_OP_IOMMUFD_UNMAP:
		return op_iommufd_unmap(r, ev);
	case IMS_OP_IOMMUFD_HWPT:
		return op_iommufd_hwpt(r, ev);
	case IMS_OP_IOMMUFD_ATTACH:
		return op_iommufd_attach(r, ev);
	case IMS_OP_IOMMUFD_SET_DIRTY:
		return op_iommufd_set_dirty(r, ev);
	case IMS_OP_IOMMUFD_GET_DIRTY:
		return op_iommufd_get_dirty(r, ev);
	case IMS_OP_VFIO_CONTAINER:
		return op_vfio_container(r, ev);
	case IMS_OP_VFIO_GROUP:
		return op_vfio_group(r, ev);
	case IMS_OP_VFIO_MAP:
		return op_vfio_map(r, ev);
	case IMS_OP_VFIO_UNMAP:
		return op_vfio_unmap(r, ev);
	case IMS_OP_VFIO_DIRTY:
		return op_vfio_dirty(r, ev);
	case IMS_OP_VFIO_PIN:
	case IMS_OP_VFIO_UNPIN:
		return op_vfio_pin(r, ev);
	default:
		return input_error(r, ev, -1, "op not supported by the replayer");
	}
}

/* A dma, most of any trace, goes straight to op_dma: the switch's frame,
 * with every other op inlined into it, cost more than a read DMA's own
 * bookkeeping. */
int ims_replay_event(struct ims_replay *r, const struct ims_event *ev, const char *file)
{
	r->file = file ? file : "-";
	if (r->o.on_event)
		r->o.on_event(r->o.on_event_arg, r, ev);
	r->st.events++;
	if (ev->op == IMS_OP_DMA)
		return op_dma(r, ev);
	return op_other(r, ev);
}

void ims_replay_prefetch(struct ims_replay *r, const struct ims_event *ev)
{
	if (ev->op != IMS_OP_DMA || !ev->v[IMS_K_LEN])
		return;
	uint32_t dev = (uint32_t)ev->v[IMS_K_DEV];
	unsigned acc = (unsigned)ev->v[IMS_K_DIR];
	if (!ims_iommu_prefetch(r->mmu, dev, ev->v[IMS_K_IOVA], acc))
		return;
	int tag = (acc & IMS_ACC_W) ? ims_iommu_dev_domain(r->mmu, dev) : -1;
	if (tag >= 0)
		ims_oracle_prefetch(r->written, (uint16_t)tag, ev->v[IMS_K_IOVA]);
}

int ims_replay_run(struct ims_replay *r, struct ims_reader *rd)
{
	/* Up to IMS_REPLAY_AHEAD dmas are read before the one being replayed and
	 * hinted as they are read, so that their misses overlap the work in
	 * between (random DMAs over a large domain are bound by them). The
	 * window closes at any other event: nothing is read past it until it
	 * has been replayed, so whatever it points into in the reader stays
	 * valid. A read error is reported after the events before it are
	 * done, as without the window. */
	enum { W = IMS_REPLAY_AHEAD + 1 };
	struct ims_event q[W];
	unsigned head = 0, n = 0;
	int rc = 1;
	for (;;) {
		while (rc > 0 && n < W && (!n || q[(head + n - 1) % W].op == IMS_OP_DMA)) {
			struct ims_event *e = &q[(head + n) % W];
			rc = ims_reader_next(rd, e);
			if (rc > 0) {
				if (n)
					ims_replay_prefetch(r, e);
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
		snprintf(r->err, sizeof(r->err), "%s", ims_reader_error(rd));
		return rc;
	}
	return 0;
}

/* ---- summary ---------------------------------------------------------------------- */

/* Cycle-light timing (docs/timing.md). "Pages" are the model's
 * translations: every 4 KiB piece of a dma and every `expect pa` (a
 * one-byte read DMA), which is what per-page figures of measurement papers
 * divide by. */
struct timing {
	uint64_t pages, lookups, invs, mem;
	double mean, lookups_pp, misses_pp, invs_pp, mem_pp;
	uint64_t p50, p90, p99;
};

static void timing_of(const struct ims_replay *r, struct timing *t)
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

static void print_timing(const struct ims_replay *r, FILE *out)
{
	const struct ims_iommu_counters *n = ims_iommu_counters(r->mmu);
	struct timing t;
	timing_of(r, &t);
	fprintf(out, "  timing: %" PRIu64 " cycles over %" PRIu64 " pages, mean %.2f cycles/page, p50 %" PRIu64
		     " p90 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "; invalidations %" PRIu64 " cycles\n",
		n->cycles, t.pages, t.mean, t.p50, t.p90, t.p99, ims_iommu_latency_max(r->mmu), n->inv_cycles);
	fprintf(out, "  per 4 KiB page: iotlb lookups %.4f, iotlb misses %.4f, invalidations %.4f, "
		     "iommu memory accesses %.4f\n",
		t.lookups_pp, t.misses_pp, t.invs_pp, t.mem_pp);
	if (ims_iommu_config(r->mmu)->utlb_enable)
		fprintf(out, "  micro-TLB: hits %" PRIu64 " misses %" PRIu64 ", entries dropped %" PRIu64 "\n",
			n->utlb_hits, n->utlb_misses, n->utlb_inv_entries);
}

static void write_timing_json(const struct ims_replay *r, FILE *out)
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
	fprintf(out, "  lost on unmap %" PRIu64 " pages, lost to partial-leaf clears %" PRIu64
		     " pages\n",
		s->lost_on_unmap, s->lost_partial);
	fprintf(out, "  GPA pages missed by IOVA tracking: %" PRIu64 "\n", s->gpa_missed);
	if (s->uapi_calls)
		fprintf(out, "  iommufd/vfio calls %" PRIu64 " (%" PRIu64 " returned an error)\n",
			s->uapi_calls, s->uapi_errors);
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
	print_timing(r, out);
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
	fprintf(out, ",\"gpa_missed\":%" PRIu64 ",\"uapi_calls\":%" PRIu64 ",\"uapi_errors\":%" PRIu64
		     ",\"lost_partial\":%" PRIu64,
		s->gpa_missed, s->uapi_calls, s->uapi_errors, s->lost_partial);
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
