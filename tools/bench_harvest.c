/* `iommusim bench`: the harvest and memory sections.
 *
 * Harvest: a domain is mapped, dirty tracking switched on, and devices write
 * the chosen pages through the hardware model (ims_iommu_access), which sets
 * the dirty state in the page tables by its own rules. The words its A/D
 * updates changed are then found by comparing the table frames with a copy
 * taken before the writes; before each further timed run those same words
 * are stored back (as the hardware agent), so every run harvests tables
 * bit-identical to what the device writes produced, without paying for
 * millions of device writes per run. The first harvest of each figure is
 * checked against the oracle, which recorded the real writes. A walker
 * under test is timed on the same table (harvest level), or on a second
 * domain whose tables it owns, set up and dirtied the same way (full level).
 *
 * Memory: a fresh child process maps a domain at 4 KiB and reports how much
 * its resident set grew, so nothing freed by an earlier figure hides in the
 * allocator.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/format.h"
#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "tools/bench.h"
#include "model/mem_view.h"

#define TAG 1
#define DEV 0x18 /* 00:03.0 */
#define GiB (1ull << 30)
#define TiB (1ull << 40)
#define PA_BASE TiB /* guest RAM starts here: clear of IOVAs and of the table pool */

struct hfmt {
	const char *name;
	enum ims_format fmt;
	unsigned gshift;
	unsigned levels; /* 0: the format's default */
	unsigned ias;    /* 0: the format's default */
};

/* The layouts each format's description asks the benchmark to time, in
 * registry order (formats/format.h). */
#define MAX_HFMT 32
static unsigned bench_formats(struct hfmt *out)
{
	unsigned n = 0;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		for (unsigned i = 0; d && i < d->n_bench_layouts && n < MAX_HFMT; i++) {
			const struct fmt_layout *l = &d->bench_layouts[i];
			struct fmt_geom g = l->geom; /* its defaults filled in */
			char err[8];
			if (d->geometry(&g, err, sizeof(err)))
				continue;
			out[n++] = (struct hfmt){l->label, d->id, g.granule_shift, l->geom.levels,
						 l->geom.ias};
		}
	}
	return n;
}

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_pt *pt;
};

static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	return ims_iommu_submit(((struct rig *)arg)->mmu, fmt, cmd);
}

static int sink_ctx_update(void *arg, uint16_t tag, unsigned w, uint64_t c, uint64_t s)
{
	return ims_iommu_ctx_update(((struct rig *)arg)->mmu, tag, w, c, s);
}

static int sink_ctx_flush(void *arg, uint16_t tag)
{
	return ims_iommu_ctx_invalidate(((struct rig *)arg)->mmu, tag);
}

static void rig_close(struct rig *r)
{
	ims_pt_free(r->pt);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
	memset(r, 0, sizeof(*r));
}

/* A domain of format f (4 levels where the format has a choice: 48 bits),
 * its tables the built-in ones (plugin NULL) or a full-level walker's,
 * programmed into a model with one device attached. On failure, err gets
 * why (empty: strerror of the result) and nothing is left open. */
static int rig_open_tables(struct rig *r, const struct hfmt *f,
			   const struct ims_walker_ops *plugin, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	r->mem = ims_mem_new();
	if (!r->mem)
		return -ENOMEM;
	struct ims_iommu_cfg mc;
	ims_iommu_cfg_default(&mc);
	int rc = ims_iommu_new(r->mem, &mc, &r->mmu);
	struct ims_pt_cfg pc = {.fmt = f->fmt, .tag = TAG, .granule_shift = f->gshift,
				.levels = f->levels, .ias = f->ias, .dirty_tracking = true,
				.plugin = plugin};
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	if (!rc)
		rc = ims_pt_new(r->mem, &pc, &sink, &r->pt, err, errlen);
	uint64_t w[IMS_CTX_WORDS];
	if (!rc) {
		ims_pt_ctx_words(r->pt, w);
		rc = ims_iommu_ctx_set(r->mmu, TAG, f->fmt, w, err, errlen);
	}
	if (!rc)
		rc = ims_iommu_attach(r->mmu, DEV, TAG);
	if (rc)
		rig_close(r);
	return rc;
}

static int rig_open(struct rig *r, const struct hfmt *f)
{
	char err[160];
	int rc = rig_open_tables(r, f, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "iommusim bench: %s: domain set-up failed: %s\n", f->name,
			err[0] ? err : strerror(-rc));
	return rc;
}

/* ---- the page-table frames: copy, difference, restore -------------------- */

struct snap {
	uint64_t *pa;    /* frame addresses */
	uint64_t *words; /* 512 per frame */
	size_t n;
};

struct wordlist {
	uint64_t *pa, *val;
	size_t n, cap;
};

static void snap_free(struct snap *s)
{
	free(s->pa);
	free(s->words);
	memset(s, 0, sizeof(*s));
}

/* Table frames come from the pool, handed out upwards from its base (16K
 * and 64K tables leave alignment holes, never more than a table's size). */
static int snap_take(struct snap *s, struct ims_mem *mem)
{
	uint64_t want = ims_mem_counters(mem)->pool_frames;
	memset(s, 0, sizeof(*s));
	s->pa = malloc((size_t)want * sizeof(uint64_t));
	s->words = malloc((size_t)want * 4096);
	if (!s->pa || !s->words) {
		snap_free(s);
		return -ENOMEM;
	}
	for (uint64_t idx = 0; s->n < want && idx < want * 2 + 64; idx++) {
		uint64_t pa = IMS_MEM_POOL_BASE + (idx << 12);
		const uint64_t *f = mem_frame(mem, pa);
		if (!f)
			continue;
		s->pa[s->n] = pa;
		memcpy(s->words + s->n * 512, f, 4096);
		s->n++;
	}
	return s->n == want ? 0 : -EIO;
}

static int wl_push(struct wordlist *l, uint64_t pa, uint64_t val)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint64_t *p = realloc(l->pa, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->pa = p;
		uint64_t *v = realloc(l->val, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->val = v;
		l->cap = cap;
	}
	l->pa[l->n] = pa;
	l->val[l->n] = val;
	l->n++;
	return 0;
}

/* The words that differ from the copy now: what the hardware wrote. */
static int snap_diff(const struct snap *s, struct ims_mem *mem, struct wordlist *out)
{
	out->n = 0;
	for (size_t i = 0; i < s->n; i++) {
		const uint64_t *f = mem_frame(mem, s->pa[i]);
		const uint64_t *c = s->words + i * 512;
		if (!f)
			return -EIO;
		for (unsigned j = 0; j < 512; j++)
			if (f[j] != c[j] && wl_push(out, s->pa[i] + 8ull * j, f[j]))
				return -ENOMEM;
	}
	return 0;
}

static void wl_restore(const struct wordlist *l, struct ims_mem *mem)
{
	for (size_t i = 0; i < l->n; i++)
		ims_mem_store(mem, IMS_AGENT_HW, l->pa[i], l->val[i]);
}

static void wl_free(struct wordlist *l)
{
	free(l->pa);
	free(l->val);
	memset(l, 0, sizeof(*l));
}

/* ---- layouts --------------------------------------------------------------- */

/* What is mapped: `pieces` extents of `piece` bytes, `stride` apart, from 0;
 * harvested over [0, range). */
struct layout {
	const char *name;
	uint64_t range, piece, stride, pieces, page;
};

/* Page k of the layout (k < pieces * piece / page). */
static uint64_t layout_page(const struct layout *l, uint64_t k)
{
	uint64_t per = l->piece / l->page;
	return (k / per) * l->stride + (k % per) * l->page;
}

static int layout_map(struct rig *r, const struct layout *l)
{
	for (uint64_t i = 0; i < l->pieces; i++) {
		int rc = ims_pt_map(r->pt, i * l->stride, PA_BASE + i * l->piece, l->piece,
				    IMS_PROT_RW, l->page);
		if (rc)
			return rc;
	}
	return 0;
}

/* Deterministic scatter: page k is among the first `ppm` parts per million
 * of pages, so a smaller fraction's pages are a subset of a larger one's.
 * The middle page is dirty at every fraction: 0.1 % of 1024 1 GiB leaves is
 * one leaf, not none (the row's dirty_pages says how many there are). */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool chosen(uint64_t k, uint64_t npages, uint64_t ppm)
{
	return ppm && (ppm >= 1000000 || k == npages / 2 || mix(k) % 1000000 < ppm);
}

/* Device writes (one 4 KiB piece per chosen page) for pages chosen at
 * `ppm` but not at `prev_ppm`. Returns pages written or -1. */
static int64_t dirty_pages(struct rig *r, const struct layout *l, uint64_t prev_ppm, uint64_t ppm)
{
	uint64_t npages = l->pieces * (l->piece / l->page);
	int64_t n = 0;
	for (uint64_t k = 0; k < npages; k++) {
		if (!chosen(k, npages, ppm) || chosen(k, npages, prev_ppm))
			continue;
		/* A 4 KiB piece somewhere inside the page, not always its first. */
		uint64_t off = (mix(k ^ 0x5555) % (l->page >> 12)) << 12;
		struct ims_xlate x;
		if (ims_iommu_access(r->mmu, DEV, layout_page(l, k) + off, IMS_ACC_W, &x) != 0)
			return -1;
		n++;
	}
	return n;
}

/* ---- checks ---------------------------------------------------------------- */

/* Bits set in [b0, b0 + nb) of bm; *all gets whether every one is. */
static uint64_t bits_in(const struct ims_bitmap *bm, uint64_t b0, uint64_t nb, bool *all)
{
	uint64_t n = 0;
	*all = true;
	for (uint64_t b = b0; b < b0 + nb;) {
		uint64_t w = b / 64, lo = b % 64;
		uint64_t take = 64 - lo < b0 + nb - b ? 64 - lo : b0 + nb - b;
		uint64_t m = (take == 64 ? ~0ull : ((1ull << take) - 1)) << lo;
		uint64_t v = w < bm->nwords ? bm->words[w] & m : 0;
		n += (uint64_t)__builtin_popcountll(v);
		if (v != m)
			*all = false;
		b += take;
	}
	return n;
}

struct vcheck {
	const struct ims_bitmap *bm;
	uint64_t pages;
	bool ok;
};

static int vcheck_run(void *arg, uint64_t first, uint64_t npages)
{
	struct vcheck *v = arg;
	bool all;
	bits_in(v->bm, first >> 12, npages, &all);
	v->ok &= all;
	v->pages += npages;
	return 0;
}

/* Bits of bm set inside the mapped extents (everything else must be zero:
 * checked word by word when the bitmap is small enough to read whole). */
static uint64_t bits_in_layout(const struct ims_bitmap *bm, const struct layout *l, bool *outside)
{
	uint64_t n = 0;
	bool all;
	for (uint64_t i = 0; i < l->pieces; i++)
		n += bits_in(bm, (i * l->stride) >> 12, l->piece >> 12, &all);
	*outside = false;
	if (bm->nwords <= (64ull << 20) / 8)
		*outside = ims_bitmap_count(bm) != n;
	return n;
}

/* The harvest reported exactly the pages the oracle saw devices write. */
static bool verify(struct rig *r, const struct ims_bitmap *bm, const struct layout *l)
{
	struct vcheck v = {bm, 0, true};
	ims_oracle_for_each(ims_iommu_oracle(r->mmu), TAG, 0, l->range, vcheck_run, &v);
	bool outside;
	uint64_t got = bits_in_layout(bm, l, &outside);
	return v.ok && !outside && got == v.pages;
}

/* Zero the bitmap words of the mapped extents: a huge bitmap is otherwise
 * left as calloc made it, and its first touch (a page fault per extent)
 * would land inside the timed harvest. */
static void touch_bits(struct ims_bitmap *bm, const struct layout *l)
{
	for (uint64_t i = 0; i < l->pieces; i++) {
		uint64_t w0 = ((i * l->stride) >> 12) / 64, w1 = ((i * l->stride + l->piece - 1) >> 12) / 64;
		memset(bm->words + w0, 0, (w1 - w0 + 1) * 8);
	}
}

static bool same_bits(const struct ims_bitmap *a, const struct ims_bitmap *b,
		      const struct layout *l)
{
	for (uint64_t i = 0; i < l->pieces; i++) {
		uint64_t w0 = ((i * l->stride) >> 12) / 64, nw = (l->piece >> 12) / 64;
		if (!nw)
			nw = 1;
		if (memcmp(a->words + w0, b->words + w0, nw * 8))
			return false;
	}
	return true;
}

/* ---- one figure -------------------------------------------------------------- */

struct hctx {
	const struct bench_opts *o;
	struct bench_results *res;
	unsigned rewalk; /* walker index of the peer, 0 = none */
	struct figclock fc; /* the figure being timed: its clock and runs */
	bool failed;     /* a walker of o->walkers failed a row: the run's exit status 1 */
};

static unsigned peer_repeats(const struct bench_opts *o, uint64_t entries)
{
	/* The peer is the slow side by design; one run is plenty once it
	 * takes seconds. */
	return entries > (4ull << 20) ? 1 : o->repeat;
}

/* Walker wi failed on this row: no figure, a message naming the row, and
 * the run's exit status 1; the other walkers and rows go on. */
static void walker_fail(struct hctx *hc, const struct hfmt *f, const struct layout *l,
			struct harvest_row *row, unsigned wi, const char *why)
{
	char sz[32];
	bench_size_str(l->range, sz, sizeof(sz));
	fprintf(stderr, "iommusim bench: %s %s %s %.1f%%: walker %s: %s\n", f->name, l->name, sz,
		row->dirty_pct, hc->o->walkers[wi]->name, why);
	row->w[wi].failed = true;
	hc->failed = true;
}

/* The bitmap zeroed outside the timing: a huge one only where pages are
 * mapped (all of it would be gigabytes of page faults). */
static void bits_clear(struct ims_bitmap *bm, const struct layout *l, bool small_bm)
{
	if (small_bm)
		ims_bitmap_zero(bm);
	else
		touch_bits(bm, l);
}

/* One timed harvest of the layout's range into bm, zeroed first outside
 * the timing, by the wall clock or CPU time (struct figclock). *secs gets
 * the time. */
static int timed_harvest(struct rig *r, const struct layout *l, struct ims_bitmap *bm,
			 bool small_bm, bool wall, double *secs)
{
	bits_clear(bm, l, small_bm);
	double t0 = bench_seconds(wall);
	int rc = ims_pt_read_and_clear_dirty(r->pt, 0, l->range, 0, bm);
	*secs = bench_seconds(wall) - t0;
	return rc;
}

/* Harvest-level walker wi on the same table, each run prepared as the fast
 * walker's are: the dirty words restored and the bitmap zeroed outside the
 * timing. Every run's bitmap must equal the fast walker's (bm) and the
 * oracle's, and the walker must do nothing wrong through the host: a
 * walker that is fast because it is wrong gets no figure. Always leaves
 * the fast walker in place. */
static void time_walker(struct hctx *hc, struct rig *r, const struct hfmt *f,
			const struct layout *l, const struct wordlist *dirt, struct harvest_row *row,
			unsigned wi, const struct ims_bitmap *bm, struct ims_bitmap *bmw, bool small_bm)
{
	const struct bench_opts *o = hc->o;
	const struct ims_walker_ops *ops = o->walkers[wi];
	char err[256] = "", sz[32];
	unsigned nf0, nf;
	ims_pt_finding(r->pt, &nf0);
	int rc = ims_pt_use_walker(r->pt, ops, err, sizeof(err));
	struct timer_runs tw = {.n = 0};
	for (unsigned rep = 0; rep < hc->fc.runs && !rc && !err[0]; rep++) {
		wl_restore(dirt, r->mem);
		double secs;
		rc = timed_harvest(r, l, bmw, small_bm, hc->fc.wall, &secs);
		const char *finding = ims_pt_finding(r->pt, &nf);
		if (rc)
			snprintf(err, sizeof(err), "read_and_clear_dirty failed: %s", strerror(-rc));
		else if (nf != nf0)
			snprintf(err, sizeof(err), "%s", finding ? finding : "a host finding");
		else if (!same_bits(bm, bmw, l))
			snprintf(err, sizeof(err), "its bitmap differs from the fast walker's (run %u)",
				 rep + 1);
		else if (!verify(r, bmw, l))
			snprintf(err, sizeof(err), "its bitmap differs from the oracle's (run %u)",
				 rep + 1);
		else
			runs_add(&tw, secs);
	}
	ims_pt_set_walker(r->pt, 0);
	if (rc || err[0]) {
		walker_fail(hc, f, l, row, wi, err[0] ? err : strerror(-rc));
		return;
	}
	row->w[wi].t = runs_summary(&tw);
	bench_note(o, "harvest %-10s %-6s %5s %6.1f%%: walker %s %.3f ms", f->name, l->name,
		   bench_size_str(l->range, sz, sizeof(sz)), row->dirty_pct, ops->name,
		   row->w[wi].t.best * 1e3);
}

/* A full-level walker (it owns its tables) is timed on a second domain of
 * its own, set up as the row's was: the same layout mapped with the same
 * calls (its map writes the tables in the format's encoding), tracking
 * switched on, and the same device writes through the model, which sets
 * A/D in those tables by the format's rules. Its runs are then prepared
 * and checked as the fast walker's are (dirty words restored, bitmap
 * zeroed, outside the timing; every bitmap equal to the fast walker's and
 * to this domain's oracle, no host finding), and its floor is measured the
 * same way over its own tables, interleaved with its runs. An error return
 * anywhere (domain, map, tracking, a device write its tables fault) fails
 * the row, naming it. The domain doubles the row's table memory; it is
 * gone when this returns. */
static void time_full_walker(struct hctx *hc, const struct hfmt *f, const struct layout *l,
			     uint64_t ppm, struct harvest_row *row, unsigned wi,
			     const struct ims_bitmap *bm, struct ims_bitmap *bmw, bool small_bm)
{
	const struct bench_opts *o = hc->o;
	const struct ims_walker_ops *ops = o->walkers[wi];
	char err[256] = "", sz[32];
	struct rig r;
	struct snap clean = {0};
	struct wordlist dirt = {0};
	struct floor_plan plan = {0};
	struct timer_runs tw = {.n = 0}, tf = {.n = 0};
	const char *finding;
	unsigned nf = 0;
	int rc = rig_open_tables(&r, f, ops, err, sizeof(err));
	if (rc) {
		char why[300];
		snprintf(why, sizeof(why), "domain set-up failed: %s", err[0] ? err : strerror(-rc));
		walker_fail(hc, f, l, row, wi, why);
		return;
	}
	rc = layout_map(&r, l);
	if (rc)
		snprintf(err, sizeof(err), "map failed: %s", strerror(-rc));
	if (!rc && (rc = ims_pt_set_dirty_tracking(r.pt, true)))
		snprintf(err, sizeof(err), "set_dirty_tracking failed: %s", strerror(-rc));
	if (!rc && (rc = snap_take(&clean, r.mem)))
		snprintf(err, sizeof(err), "its table frames could not be copied: %s",
			 strerror(-rc));
	if (!rc && dirty_pages(&r, l, 0, ppm) < 0)
		snprintf(err, sizeof(err), "a device write faulted on its tables");
	if (!err[0] && (rc = snap_diff(&clean, r.mem, &dirt)))
		snprintf(err, sizeof(err), "its table frames could not be compared: %s",
			 strerror(-rc));
	if (!err[0]) {
		char why[160] = "";
		rc = floor_plan_build(&plan, r.mem, r.pt, ims_iommu_oracle(r.mmu), TAG, 0, l->range,
				      why, sizeof(why));
		if (rc)
			snprintf(err, sizeof(err), "its tables could not be walked: %s",
				 why[0] ? why : strerror(-rc));
	}
	if (!err[0] && (finding = ims_pt_finding(r.pt, &nf)) != NULL)
		snprintf(err, sizeof(err), "%s", finding);
	for (unsigned rep = 0; rep < hc->fc.runs && !err[0]; rep++) {
		wl_restore(&dirt, r.mem);
		double secs;
		rc = timed_harvest(&r, l, bmw, small_bm, hc->fc.wall, &secs);
		finding = ims_pt_finding(r.pt, &nf);
		if (rc)
			snprintf(err, sizeof(err), "read_and_clear_dirty failed: %s", strerror(-rc));
		else if (nf)
			snprintf(err, sizeof(err), "%s", finding ? finding : "a host finding");
		else if (!same_bits(bm, bmw, l))
			snprintf(err, sizeof(err), "its bitmap differs from the fast walker's (run %u)",
				 rep + 1);
		else if (!verify(&r, bmw, l))
			snprintf(err, sizeof(err), "its bitmap differs from the oracle's (run %u)",
				 rep + 1);
		if (err[0])
			break;
		runs_add(&tw, secs);
		bits_clear(bmw, l, small_bm); /* as the walker's bitmap was before its run */
		runs_add(&tf, floor_plan_time(&plan, bmw->words, hc->fc.wall));
	}
	struct walker_fig *wf = &row->w[wi];
	wf->read_words = plan.read_words;
	wf->write_words = plan.write_words;
	wf->tables = plan.tables;
	floor_plan_free(&plan);
	snap_free(&clean);
	wl_free(&dirt);
	rig_close(&r);
	if (err[0]) {
		walker_fail(hc, f, l, row, wi, err);
		return;
	}
	wf->t = runs_summary(&tw);
	wf->floor = runs_summary(&tf);
	bench_note(o, "harvest %-10s %-6s %5s %6.1f%%: walker %s %.3f ms (its floor %.3f ms)",
		   f->name, l->name, bench_size_str(l->range, sz, sizeof(sz)), row->dirty_pct,
		   ops->name, wf->t.best * 1e3, wf->floor.best * 1e3);
}

/* The per-page re-walk peer on the same table: its first bitmap must be
 * the fast walker's. */
static int time_rewalk(struct hctx *hc, struct rig *r, const struct hfmt *f,
		       const struct layout *l, const struct wordlist *dirt, struct harvest_row *row,
		       const struct ims_bitmap *bm, struct ims_bitmap *bm2, bool small_bm)
{
	const struct ims_pt_stats *st = ims_pt_stats(r->pt);
	struct timer_runs tp = {.n = 0};
	unsigned n = peer_repeats(hc->o, row->entries);
	ims_pt_set_walker(r->pt, hc->rewalk);
	for (unsigned rep = 0; rep < n && !(rep && bench_interrupted()); rep++) {
		wl_restore(dirt, r->mem);
		uint64_t e0 = st->harvest_entries;
		double secs;
		int rc = timed_harvest(r, l, bm2, small_bm, false, &secs);
		if (rc || (!rep && !same_bits(bm, bm2, l))) {
			fprintf(stderr, "iommusim bench: %s %s: the re-walk peer %s\n", f->name,
				l->name, rc ? "failed" : "reported other pages");
			ims_pt_set_walker(r->pt, 0);
			return -1;
		}
		runs_add(&tp, secs);
		row->peer_entries = st->harvest_entries - e0;
	}
	ims_pt_set_walker(r->pt, 0);
	row->peer = runs_summary(&tp);
	return 0;
}

static int one_fraction(struct hctx *hc, struct rig *r, const struct hfmt *f,
			const struct layout *l, const struct snap *clean, struct wordlist *dirt,
			uint64_t prev_ppm, uint64_t ppm, struct ims_bitmap *bm, struct ims_bitmap *bm2)
{
	const struct bench_opts *o = hc->o;
	/* The previous fraction's pages, as the hardware left them, then the
	 * new ones from devices. */
	wl_restore(dirt, r->mem);
	int64_t nw = dirty_pages(r, l, prev_ppm, ppm);
	if (nw < 0) {
		fprintf(stderr, "iommusim bench: %s %s: a device write faulted\n", f->name, l->name);
		return -1;
	}
	if (snap_diff(clean, r->mem, dirt)) {
		fprintf(stderr, "iommusim bench: %s %s: table copy lost track\n", f->name, l->name);
		return -1;
	}
	struct harvest_row *row = res_add_harvest(hc->res);
	if (!row)
		return -1;
	snprintf(row->format, sizeof(row->format), "%s", f->name);
	snprintf(row->layout, sizeof(row->layout), "%s", l->name);
	row->range = l->range;
	row->mapped = l->pieces * l->piece;
	row->page = l->page;
	row->dirty_pct = (double)ppm / 1e4;
	row->dirty_pages = ims_oracle_count(ims_iommu_oracle(r->mmu), TAG, 0, l->range);
	bool small_bm = bm->nwords <= (64ull << 20) / 8;

	/* The floor's words, found once: the dirty words restored below are
	 * stores into the same tables, which stay where they are. */
	struct floor_plan plan = {0};
	char why[160] = "";
	int prc = floor_plan_build(&plan, r->mem, r->pt, ims_iommu_oracle(r->mmu), TAG, 0,
				   l->range, why, sizeof(why));
	if (prc) {
		fprintf(stderr, "iommusim bench: %s %s: the floor's tables: %s\n", f->name, l->name,
			why[0] ? why : strerror(-prc));
		return -1;
	}
	row->read_words = plan.read_words;
	row->write_words = plan.write_words;
	row->tables = plan.tables;

	/* Run 0 warms up, untimed in the figure: the first harvest of the
	 * device-dirtied tables, checked against the oracle, and a floor run
	 * after it. Its CPU time picks how the runs are timed (struct
	 * figclock): a figure whose tables sit in the cache varies more from
	 * run to run than a few runs can sort out. */
	struct timer_runs th = {.n = 0}, tf = {.n = 0};
	const struct ims_pt_stats *st = ims_pt_stats(r->pt);
	hc->fc = (struct figclock){false, 0};
	for (unsigned rep = 0; rep <= hc->fc.runs; rep++) {
		if (rep)
			wl_restore(dirt, r->mem);
		uint64_t e0 = st->harvest_entries;
		double secs;
		int rc = timed_harvest(r, l, bm, small_bm, hc->fc.wall, &secs);
		if (rc) {
			fprintf(stderr, "iommusim bench: %s %s: harvest failed: %s\n", f->name,
				l->name, strerror(-rc));
			floor_plan_free(&plan);
			return -1;
		}
		row->entries = st->harvest_entries - e0;
		/* The floor's bitmap is prepared as the harvest's was. */
		bits_clear(bm2, l, small_bm);
		double fsecs = floor_plan_time(&plan, bm2->words, hc->fc.wall);
		if (rep) {
			runs_add(&th, secs);
			runs_add(&tf, fsecs);
			continue;
		}
		row->verified = verify(r, bm, l);
		if (!row->verified) {
			fprintf(stderr,
				"iommusim bench: %s %s %.1f%%: the harvest disagrees with the oracle\n",
				f->name, l->name, row->dirty_pct);
			floor_plan_free(&plan);
			return -1;
		}
		hc->fc = bench_figclock(o, secs);
		row->wall = hc->fc.wall;
	}
	floor_plan_free(&plan);
	row->t = runs_summary(&th);
	row->floor = runs_summary(&tf);

	if (hc->rewalk && time_rewalk(hc, r, f, l, dirt, row, bm, bm2, small_bm))
		return -1;
	for (unsigned wi = 0; wi < o->nwalkers && !bench_interrupted(); wi++) {
		const struct ims_walker_ops *w = o->walkers[wi];
		if (ims_walker_check(w, f->fmt, NULL, 0))
			continue;
		if (w->level == IMS_WALKER_FULL)
			time_full_walker(hc, f, l, ppm, row, wi, bm, bm2, small_bm);
		else
			time_walker(hc, r, f, l, dirt, row, wi, bm, bm2, small_bm);
	}
	char sz[32];
	bench_note(o, "harvest %-10s %-6s %5s %6.1f%%: %.3f ms (floor %.3f ms) peer %.3f ms",
		   f->name, l->name, bench_size_str(l->range, sz, sizeof(sz)), row->dirty_pct,
		   row->t.best * 1e3, row->floor.best * 1e3, row->peer.best * 1e3);
	return 0;
}

static int one_layout(struct hctx *hc, const struct hfmt *f, const struct layout *l,
		      const uint64_t *ppms, unsigned nppm)
{
	struct rig r;
	char sz[32], label[64];
	snprintf(label, sizeof(label), "%s %s", f->name, l->name);
	if (hc->o->match && !strstr(label, hc->o->match))
		return 0;
	bench_note(hc->o, "harvest %s %s %s: mapping", f->name, l->name,
		   bench_size_str(l->range, sz, sizeof(sz)));
	if (rig_open(&r, f))
		return -1;
	struct snap clean = {0};
	struct wordlist dirt = {0};
	struct ims_bitmap bm = {0}, bm2 = {0};
	int rc = layout_map(&r, l);
	if (rc) {
		fprintf(stderr, "iommusim bench: %s %s: map failed: %s\n", f->name, l->name,
			strerror(-rc));
		goto out;
	}
	rc = ims_pt_set_dirty_tracking(r.pt, true);
	if (!rc)
		rc = snap_take(&clean, r.mem);
	if (!rc)
		rc = ims_bitmap_init(&bm, 0, l->range, 12);
	/* The floor's stores, the peer's and the walkers' bitmaps. */
	if (!rc)
		rc = ims_bitmap_init(&bm2, 0, l->range, 12);
	if (rc) {
		fprintf(stderr, "iommusim bench: %s %s: set-up failed: %s\n", f->name, l->name,
			strerror(-rc));
		goto out;
	}
	uint64_t prev = 0;
	for (unsigned i = 0; i < nppm && !rc && !bench_interrupted(); i++) {
		bench_note(hc->o, "harvest %s %s %s, %.1f%% dirty: timing", f->name, l->name,
			   bench_size_str(l->range, sz, sizeof(sz)), (double)ppms[i] / 1e4);
		rc = one_fraction(hc, &r, f, l, &clean, &dirt, prev, ppms[i], &bm, &bm2);
		prev = ppms[i];
	}
out:
	ims_bitmap_fini(&bm);
	ims_bitmap_fini(&bm2);
	snap_free(&clean);
	wl_free(&dirt);
	rig_close(&r);
	return rc ? -1 : 0;
}

int bench_harvest(const struct bench_opts *o, struct bench_results *res)
{
	static const uint64_t ppm_all[] = {1000, 100000, 1000000}; /* 0.1 %, 10 %, 100 % */
	static const uint64_t ppm_ten[] = {100000};
	struct hctx hc = {.o = o, .res = res};
	if (o->no_peer || ims_pt_walker_parse("rewalk", &hc.rewalk))
		hc.rewalk = 0;

	uint64_t dense_tiny[] = {16ull << 20};
	uint64_t dense_quick[] = {GiB};
	uint64_t dense_full[] = {GiB, 16 * GiB, 64 * GiB};
	const uint64_t *dense = o->size == BENCH_TINY ? dense_tiny
			      : o->size == BENCH_QUICK ? dense_quick
						       : dense_full;
	unsigned ndense = o->size == BENCH_FULL ? 3 : 1;
	const uint64_t *ppms = o->size == BENCH_TINY ? ppm_ten : ppm_all;
	unsigned nppm = o->size == BENCH_TINY ? 1 : 3;
	const uint64_t *ppm_sparse = ppm_ten;
	if (o->dirty_ppm) {
		ppms = ppm_sparse = &o->dirty_ppm;
		nppm = 1;
	}
	struct hfmt formats[MAX_HFMT];
	unsigned nformats = bench_formats(formats);
	int rc = 0;

	/* Dense: every page of the domain mapped at the granule. */
	for (unsigned s = 0; s < ndense && !rc; s++) {
		for (unsigned fi = 0; fi < nformats && !rc && !bench_interrupted(); fi++) {
			uint64_t page = 1ull << formats[fi].gshift;
			struct layout l = {"dense", dense[s], dense[s], dense[s], 1, page};
			rc = one_layout(&hc, &formats[fi], &l, ppms, nppm);
		}
	}
	/* 2 MiB and 1 GiB leaves over 1 TiB (the 4 KiB-granule formats). */
	uint64_t big = o->size == BENCH_TINY ? 4 * GiB : TiB;
	for (unsigned fi = 0; fi < nformats && !rc && !bench_interrupted(); fi++) {
		if (formats[fi].gshift != 12)
			continue;
		struct layout l2 = {"2M", big, big, big, 1, 2ull << 20};
		struct layout l1 = {"1G", big, big, big, 1, GiB};
		rc = one_layout(&hc, &formats[fi], &l2, ppms, nppm);
		if (!rc && !bench_interrupted())
			rc = one_layout(&hc, &formats[fi], &l1, ppms, nppm);
	}
	/* 1 GiB in 512 pieces of 2 MiB scattered over 1 TiB and over 64 TiB,
	 * at the granule: the cost must follow what is mapped, so the two
	 * ranges must cost the same. */
	for (unsigned fi = 0; fi < nformats && !rc && !bench_interrupted(); fi++) {
		uint64_t pieces = o->size == BENCH_TINY ? 8 : 512;
		for (unsigned k = 0; k < 2 && !rc && !bench_interrupted(); k++) {
			uint64_t range = o->size == BENCH_TINY ? (k ? TiB : 64 * GiB)
							       : (k ? 64 * TiB : TiB);
			struct layout l = {"sparse", range, 2ull << 20, range / pieces, pieces,
					   1ull << formats[fi].gshift};
			rc = one_layout(&hc, &formats[fi], &l, ppm_sparse, 1);
		}
	}
	return rc || hc.failed ? -1 : 0;
}

bool bench_walker_fits(const struct ims_walker_ops *w)
{
	struct hfmt formats[MAX_HFMT];
	unsigned n = bench_formats(formats);
	for (unsigned i = 0; i < n; i++)
		if (!ims_walker_check(w, formats[i].fmt, NULL, 0))
			return true;
	return false;
}

int bench_walker_check(const struct ims_walker_ops *w)
{
	if (bench_walker_fits(w))
		return 0;
	struct hfmt formats[MAX_HFMT];
	unsigned n = bench_formats(formats);
	fprintf(stderr, "iommusim bench: walker %s handles none of the formats bench times:",
		w->name);
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, " %s", formats[i].name);
	fputc('\n', stderr);
	return -1;
}

/* ---- memory ---------------------------------------------------------------- */

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

struct mem_msg {
	int rc;
	uint64_t table_bytes, footprint, rss;
};

/* In a child: map `bytes` at 4 KiB, report the growth. */
static void mem_child(const struct hfmt *f, uint64_t bytes, int fd)
{
	struct mem_msg m;
	memset(&m, 0, sizeof(m)); /* padding too: the whole struct goes down the pipe */
	uint64_t before = rss_bytes();
	struct rig r;
	if (rig_open(&r, f)) {
		m.rc = -1;
	} else {
		m.rc = ims_pt_map(r.pt, 0, PA_BASE, bytes, IMS_PROT_RW, 4096);
		m.table_bytes = ims_pt_stats(r.pt)->table_pages * 4096;
		m.footprint = ims_mem_footprint(r.mem);
		uint64_t after = rss_bytes();
		m.rss = before && after > before ? after - before : 0;
	}
	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(1);
	_exit(0);
}

static int mem_measure(const struct hfmt *f, uint64_t bytes, struct mem_msg *m)
{
	int p[2];
	if (pipe(p))
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		close(p[0]);
		mem_child(f, bytes, p[1]);
	}
	close(p[1]);
	ssize_t got = read(p[0], m, sizeof(*m));
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return got == (ssize_t)sizeof(*m) && !m->rc ? 0 : -1;
}

int bench_memory(const struct bench_opts *o, struct bench_results *res)
{
	struct hfmt formats[MAX_HFMT];
	unsigned nformats = bench_formats(formats);
	uint64_t lo = o->size == BENCH_TINY ? 16ull << 20 : GiB;
	uint64_t hi = o->size == BENCH_TINY ? 64ull << 20 : o->size == BENCH_QUICK ? 4 * GiB : 16 * GiB;
	double slope_sum = 0, fixed_sum = 0, fp_sum = 0;
	unsigned n = 0;
	for (unsigned fi = 0; fi < nformats && !bench_interrupted(); fi++) {
		if (formats[fi].gshift != 12)
			continue;
		bench_note(o, "memory %s: resident bytes at two sizes", formats[fi].name);
		struct mem_msg a, b;
		if (mem_measure(&formats[fi], lo, &a) || mem_measure(&formats[fi], hi, &b)) {
			fprintf(stderr, "iommusim bench: memory %s: measurement failed\n",
				formats[fi].name);
			return -1;
		}
		const struct mem_msg *ms[2] = {&a, &b};
		uint64_t sizes[2] = {lo, hi};
		for (unsigned k = 0; k < 2; k++) {
			struct mem_row *row = res_add_mem(res);
			if (!row)
				return -1;
			snprintf(row->format, sizeof(row->format), "%s", formats[fi].name);
			row->mapped = sizes[k];
			row->table_bytes = ms[k]->table_bytes;
			row->leaf_bytes = sizes[k] / 4096 * 8;
			row->footprint = ms[k]->footprint;
			row->rss = ms[k]->rss;
		}
		/* Two sizes give the cost of each further GiB and the fixed part. */
		double gib = (double)(hi - lo) / (double)GiB;
		double slope = ((double)b.rss - (double)a.rss) / gib;
		slope_sum += slope;
		fixed_sum += (double)a.rss - slope * (double)lo / (double)GiB;
		fp_sum += ((double)b.footprint - (double)a.footprint) / gib;
		n++;
		bench_note(o, "memory %s: %.0f bytes per GiB resident", formats[fi].name, slope);
	}
	if (n) {
		double raw = (double)(2ull << 20); /* 8 bytes per 4 KiB page */
		res->mem_per_gib = slope_sum / n;
		res->mem_fixed = fixed_sum / n;
		res->mem_ratio = res->mem_per_gib / raw;
		res->fp_per_gib = fp_sum / n;
		res->fp_ratio = res->fp_per_gib / raw;
	}
	return 0;
}
