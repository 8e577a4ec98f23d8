/* iommusim fuzz: the generator's picture of a domain (tools/fuzz_gen.h).
 *
 * Which geometries the build supports, a domain's set-up (geometry, leaf
 * sizes, the window where maps go, the shadow page table in the
 * generator's own memory), its maps laid out in leaves exactly as the
 * software lays them out, and points in those leaves. It calls nothing
 * of the op generator (fuzz_gen.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "iommusim/mem.h"
#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "tools/fuzz_gen.h"

/* The software's choice of leaf at `at` (docs/trace-format.md, "Software
 * page sizes"): the largest allowed size that fits the alignment of iova and
 * pa and the remaining length. 0 when none fits. */
static uint64_t leaf_fit(uint64_t sizes, uint64_t at, uint64_t out, uint64_t left)
{
	uint64_t a = low_bit(at | out);
	uint64_t fit = sizes;
	if (a)
		fit &= (a << 1) - 1;
	fit &= left | (left - 1);
	while (fit) {
		uint64_t s = high_bit(fit);
		if (s <= left)
			return s;
		fit &= ~s;
	}
	return 0;
}

bool fz_lay_out(const struct gdom *d, struct gmap *m, struct gleaf *out)
{
	uint64_t sizes = map_sizes(d, m);
	uint64_t at = m->iova, pa = m->pa, left = m->size;
	unsigned n = 0;
	while (left) {
		uint64_t s = leaf_fit(sizes, at, pa, left);
		if (!s || n == MAX_LEAVES)
			return false;
		out[n++] = (struct gleaf){at, (unsigned char)ims_log2(s)};
		at += s;
		pa += s;
		left -= s;
	}
	m->nleaves = n;
	return n > 0;
}

unsigned fz_leaf_index(const struct gmap *m, uint64_t iova)
{
	unsigned lo = 0, hi = m->nleaves - 1;
	while (lo < hi) {
		unsigned mid = (lo + hi + 1) / 2;
		if (m->leaves[mid].iova <= iova)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

bool fz_pick_point_in(struct fz_gen *g, struct gdom *d, uint64_t lo, uint64_t hi, uint64_t *p,
		      uint64_t *leaf, uint64_t *lsize)
{
	unsigned cand[MAXMAPS], n = 0;
	for (unsigned i = 0; i < d->nmaps; i++)
		if (d->maps[i].iova <= hi && d->maps[i].iova + (d->maps[i].size - 1) >= lo)
			cand[n++] = i;
	if (!n)
		return false;
	const struct gmap *m = &d->maps[cand[fz_below(&g->rng, n)]];
	unsigned k0 = lo > m->iova ? fz_leaf_index(m, lo) : 0;
	unsigned k1 = hi < m->iova + (m->size - 1) ? fz_leaf_index(m, hi) : m->nleaves - 1;
	const struct gleaf *lf = &m->leaves[k0 + fz_below(&g->rng, k1 - k0 + 1)];
	unsigned s = lf->shift;
	unsigned es = entry_shift(d, s);
	uint64_t entries = 1ull << (s - es);
	uint64_t e = fz_below(&g->rng, entries);
	if (entries > 1 && fz_pct(&g->rng, 70))
		e = 1 + fz_below(&g->rng, entries - 1);
	uint64_t off = (e << es) + fz_below(&g->rng, 1ull << es);
	*p = lf->iova + off;
	if (*p < lo || *p > hi) /* the leaf sticks out of the range */
		*p = *p < lo ? lo : hi;
	*leaf = lf->iova;
	*lsize = 1ull << s;
	return true;
}

bool fz_pick_point(struct fz_gen *g, struct gdom *d, uint64_t *p, uint64_t *leaf,
		   uint64_t *lsize)
{
	return fz_pick_point_in(g, d, 0, ~0ull, p, leaf, lsize);
}

bool fz_leaf_of(const struct gdom *d, uint64_t iova, uint64_t *leaf, uint64_t *size)
{
	for (unsigned i = 0; i < d->nmaps; i++) {
		const struct gmap *m = &d->maps[i];
		if (iova < m->iova || iova - m->iova >= m->size)
			continue;
		const struct gleaf *lf = &m->leaves[fz_leaf_index(m, iova)];
		*leaf = lf->iova;
		*size = 1ull << lf->shift;
		return true;
	}
	return false;
}

uint64_t fz_traffic_point(struct fz_gen *g, struct gdom *d)
{
	uint64_t p, leaf, size;
	if (d->has_hot && fz_pct(&g->rng, 45)) {
		p = d->hot;
		if (fz_leaf_of(d, p, &leaf, &size) && fz_pct(&g->rng, 50))
			p = leaf + fz_below(&g->rng, size); /* elsewhere in the same page */
		return p;
	}
	if (fz_pct(&g->rng, 88) && fz_pick_point(g, d, &p, &leaf, &size))
		return p;
	return d->wbase + fz_below(&g->rng, d->wlast - d->wbase + 1);
}

/* A nesting parent's table must reach the frame pool (docs/trace-format.md,
 * "Nested domains": the nested domain's table frames are mapped identity
 * there) and map 4 KiB pages (each frame is one). */
static bool parent_geo(const struct fz_geo *geo)
{
	return ims_format_nest_s1(geo->fmt) >= 0 && geo->last >= IMS_MEM_POOL_BASE + (1ull << 32) &&
	       (geo->pgsizes & (1ull << 12));
}

/* Geometry k of those of format fmt (parents only: `parent`). */
static const struct fz_geo *geo_of(const struct fz_gen *g, int fmt, bool parent, size_t k,
				   size_t *n)
{
	const struct fz_geo *hit = NULL;
	*n = 0;
	for (size_t i = 0; i < g->cfg.ngeos; i++) {
		const struct fz_geo *geo = &g->cfg.geos[i];
		if ((int)geo->fmt != fmt || (parent && !parent_geo(geo)))
			continue;
		if ((*n)++ == k)
			hit = geo;
	}
	return hit;
}

static int setup_domain(struct fz_gen *g, struct gdom *d, unsigned i, const struct fz_geo *geo);

int fz_setup_domain(struct fz_gen *g, struct gdom *d, unsigned i)
{
	const struct fz_geo *geo;
	do {
		geo = &g->cfg.geos[fz_below(&g->rng, g->cfg.ngeos)];
	} while (!((g->cfg.formats >> geo->fmt) & 1));
	return setup_domain(g, d, i, geo);
}

int fz_setup_nested(struct fz_gen *g)
{
	/* The pairs whose both formats are allowed and have geometries. */
	int pairs[IMS_FMT_COUNT];
	unsigned np = 0;
	size_t n;
	for (int s1 = 0; s1 < IMS_FMT_COUNT; s1++) {
		int s2 = ims_format_nest_s2((enum ims_format)s1);
		if (s2 < 0 || !((g->cfg.formats >> s1) & 1) || !((g->cfg.formats >> s2) & 1))
			continue;
		geo_of(g, s1, false, 0, &n);
		size_t n2;
		geo_of(g, s2, true, 0, &n2);
		if (n && n2)
			pairs[np++] = s1;
	}
	if (!np)
		return -ENOENT;
	int s1 = pairs[fz_below(&g->rng, np)], s2 = ims_format_nest_s2((enum ims_format)s1);
	geo_of(g, s2, true, 0, &n);
	const struct fz_geo *pg = geo_of(g, s2, true, fz_below(&g->rng, n), &n);
	struct gdom *p = &g->doms[0], *c = &g->doms[1];
	int rc = setup_domain(g, p, 0, pg);
	if (rc)
		return rc;
	p->parent = true;
	geo_of(g, s1, false, 0, &n);
	rc = setup_domain(g, c, 1, geo_of(g, s1, false, fz_below(&g->rng, n), &n));
	if (rc)
		return rc;
	c->nested_on = p->id;
	if (g->cfg.cover)
		g->cfg.cover->nested[s1]++;

	/* The parent's window, aligned to its size, starts with the GPA window
	 * the stage-1 maps land in: below 2^PA_LIMIT_SHIFT, as every stage-1
	 * output address (and so far below the frame pool). */
	uint64_t w = p->wlast - p->wbase + 1, al = w > NEST_WINDOW ? w : NEST_WINDOW;
	p->wbase = align_down(fz_below(&g->rng, (1ull << PA_LIMIT_SHIFT) - 2 * al), al);
	p->wlast = p->wbase + (al - 1);
	c->pa_lo = p->wbase;
	/* Premapped read-write (GPA -> HPA, the HPA congruent modulo 1 GiB):
	 * 2 MiB of 4 KiB leaves, then 46 MiB of the software's leaves. The
	 * stage-1 maps land only there, and it stays mapped until the tear-down,
	 * so nested DMA reaches memory (docs/fuzzing.md, "Nested domains"). */
	uint64_t hpa = align_down(fz_next(&g->rng) & ((1ull << PA_LIMIT_SHIFT) - 1), 1ull << 30) |
		       (p->wbase & ((1ull << 30) - 1));
	if (hpa + NEST_WINDOW > (1ull << PA_LIMIT_SHIFT))
		hpa = p->wbase & ((1ull << 30) - 1);
	/* After it, the refused window (fuzz_s2.c): 2 MiB of 4 KiB leaves
	 * read-only, then 2 MiB the premaps leave out. */
	static const struct {
		uint64_t off, size;
		bool small;
	} pre[NPREMAP] = {{0, 2ull << 20, true}, {2ull << 20, 30ull << 20, false},
			  {32ull << 20, 16ull << 20, false}, {48ull << 20, REFUSED_RO, true}};
	c->pa_hi = c->pa_lo - 1;
	for (unsigned k = 0; k < NPREMAP; k++) {
		bool ro = k == NPREMAP - 1;
		struct gmap m = {p->wbase + pre[k].off, pre[k].size, hpa + pre[k].off,
				 pre[k].small ? 1ull << 12 : 0, ro ? IMS_PROT_R : IMS_PROT_RW, NULL, 0};
		if (!fz_add_map(g, p, &m))
			break; /* the window ends here */
		p->npinned++;
		if (ro) {
			c->rf_lo = m.iova;
			c->rf_hi = m.iova + (REFUSED_SPAN - 1);
		} else {
			c->pa_hi = m.iova + (m.size - 1);
		}
		struct ims_event *ev = &g->premap[g->npremap++];
		ev_init(ev, IMS_OP_MAP);
		ev_set(ev, IMS_K_DOMAIN, p->id);
		ev_set(ev, IMS_K_IOVA, m.iova);
		ev_set(ev, IMS_K_PA, m.pa);
		ev_set(ev, IMS_K_SIZE, m.size);
		if (m.pgsize)
			ev_set(ev, IMS_K_PGSIZE, m.pgsize);
		if (ro)
			ev_set(ev, IMS_K_PROT, IMS_PROT_R);
	}
	return 0;
}

static int setup_domain(struct fz_gen *g, struct gdom *d, unsigned i, const struct fz_geo *geo)
{
	memset(d, 0, sizeof(*d));
	d->geo = geo;
	size_t gi = (size_t)(geo - g->cfg.geos);
	if (g->cfg.cover && gi < 64)
		g->cfg.cover->geos |= 1ull << gi;
	d->id = (uint16_t)(1 + i + 8 * fz_below(&g->rng, 4));
	for (unsigned j = 0; j < i; j++)
		if (g->doms[j].id == d->id)
			d->id = (uint16_t)(d->id + 100);
	d->dev = (uint32_t)(0x10 + 8 * i + fz_below(&g->rng, 8));
	unsigned gs = geo->gshift ? geo->gshift : 12;
	d->stride = gs - 3;
	unsigned bits = geo->last == ~0ull ? 64 : ims_log2(geo->last + 1);
	d->depth = (bits - gs + d->stride - 1) / d->stride;
	d->dirty = fz_pct(&g->rng, 88);
	d->pgsizes = geo->pgsizes;
	uint64_t cap = 1ull << MAX_LEAF_SHIFT;
	if (fz_pct(&g->rng, 25)) {
		/* A subset of every size the format has here: NextLevel=7 sizes
		 * above 1G included, as pgsizes= asks for them. */
		uint64_t all = sizes_upto(geo->pgsizes_all, cap);
		uint64_t sub = all & fz_next(&g->rng);
		if (fz_pct(&g->rng, 50))
			sub |= low_bit(all);
		if (sub)
			d->pgsizes = sub;
	}
	/* A nesting parent maps the nested domain's 4 KiB table frames. */
	if (g->cfg.nested && i == 0)
		d->pgsizes |= 1ull << 12;
	d->pgsizes = sizes_upto(d->pgsizes, cap);
	if (!d->pgsizes)
		d->pgsizes = low_bit(geo->pgsizes);
	d->minpg = low_bit(d->pgsizes);
	struct ims_pt_cfg cfg = {
		.fmt = geo->fmt,
		.tag = d->id,
		.levels = geo->levels,
		.granule_shift = geo->gshift,
		.ias = geo->ias,
		.pgsizes = d->pgsizes != geo->pgsizes ? d->pgsizes : 0,
		.dirty_tracking = d->dirty,
	};
	int rc = ims_pt_new(g->mem, &cfg, &fz_nop_sink, &d->pt, NULL, 0);
	if (rc)
		return rc;
	d->empty_tables = ims_pt_stats(d->pt)->table_pages;

	/* The window: a few of the largest leaves, somewhere in the space, at
	 * its ends now and then, or across a boundary of the upper levels. */
	uint64_t maxpg = high_bit(d->pgsizes);
	uint64_t w = maxpg << 3;
	if (w < (1ull << 24))
		w = 1ull << 24;
	if (w > MAX_MAP_BYTES * 2)
		w = MAX_MAP_BYTES * 2;
	uint64_t span = geo->last; /* space size - 1 */
	if (w - 1 > span)
		w = span + 1; /* span < 2^64 - 1 here */
	uint64_t wl = w - 1;
	uint64_t base;
	unsigned c = (unsigned)fz_below(&g->rng, 10);
	if (c < 3 || wl == span)
		base = 0;
	else if (c < 5)
		base = span - wl;
	else if (c < 7) {
		/* Across a boundary of a level above the leaves. */
		unsigned lvl = ims_log2(w) + d->stride * (1 + (unsigned)fz_below(&g->rng, 2));
		uint64_t b = lvl >= 64 || (1ull << lvl) > span ? 0 : 1ull << lvl;
		uint64_t k = b ? 1 + fz_below(&g->rng, span / b) : 0;
		base = b && k * b >= w / 2 && k * b - w / 2 <= span - wl ? k * b - w / 2 : 0;
	} else {
		base = align_down(fz_below(&g->rng, span - wl), maxpg);
	}
	base = align_down(base, d->minpg);
	d->wbase = base;
	d->wlast = base + wl;
	return 0;
}

bool fz_overlaps(const struct gdom *d, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + (size - 1);
	for (unsigned i = 0; i < d->nmaps; i++) {
		const struct gmap *m = &d->maps[i];
		if (iova <= m->iova + (m->size - 1) && m->iova <= last)
			return true;
	}
	return false;
}

struct span {
	uint64_t first, last;
};

static int span_cb(void *arg, uint64_t page_iova, unsigned page_shift, uint64_t pa, unsigned prot)
{
	(void)pa, (void)prot;
	struct span *sp = arg;
	sp->first = page_iova;
	sp->last = page_iova + ((1ull << page_shift) - 1);
	return 1;
}

bool fz_whole_leaves(const struct gdom *d, uint64_t *lo, uint64_t *hi)
{
	bool grew = false;
	struct span sp;
	if (ims_pt_for_each_leaf(d->pt, *lo, 1, span_cb, &sp) == 1 && sp.first < *lo) {
		*lo = sp.first;
		grew = true;
	}
	if (ims_pt_for_each_leaf(d->pt, *hi, 1, span_cb, &sp) == 1 && sp.last > *hi) {
		*hi = sp.last;
		grew = true;
	}
	return grew;
}

bool fz_add_map(struct fz_gen *g, struct gdom *d, struct gmap *m)
{
	if (d->nmaps >= MAXMAPS || !fz_lay_out(d, m, g->scratch))
		return false;
	if (ims_pt_map(d->pt, m->iova, m->pa, m->size, m->prot, m->pgsize))
		return false;
	m->leaves = malloc(m->nleaves * sizeof(*m->leaves));
	if (!m->leaves) {
		ims_pt_unmap(d->pt, m->iova, m->size, NULL);
		return false;
	}
	memcpy(m->leaves, g->scratch, m->nleaves * sizeof(*m->leaves));
	d->maps[d->nmaps++] = *m;
	if (g->cfg.cover)
		for (unsigned k = 0; k < m->nleaves; k++)
			g->cfg.cover->leaf_shifts[d->geo->fmt] |= 1ull << (m->leaves[k].shift & 63);
	return true;
}

void fz_remove_map(struct gdom *d, unsigned i)
{
	free(d->maps[i].leaves);
	d->maps[i] = d->maps[--d->nmaps];
}

/* ---- geometries ---------------------------------------------------------------- */

/* The software's leaf sizes for a geometry with pgsizes = `ask` (0 = the
 * default), or 0 when it refuses. */
static uint64_t sw_sizes(struct ims_mem *mem, const struct fz_geo *geo, uint64_t ask,
			 uint64_t *last)
{
	struct ims_pt_cfg cfg = {
		.fmt = geo->fmt,
		.tag = 1,
		.levels = geo->levels,
		.granule_shift = geo->gshift,
		.ias = geo->ias,
		.pgsizes = ask,
		.dirty_tracking = true,
	};
	struct ims_pt *pt;
	if (ims_pt_new(mem, &cfg, &fz_nop_sink, &pt, NULL, 0))
		return 0;
	uint64_t s = ims_pt_pgsizes(pt);
	if (last) {
		uint64_t lim = ims_pt_iova_limit(pt);
		*last = lim ? lim - 1 : ~0ull;
	}
	ims_pt_free(pt);
	return s;
}

int fz_geos_probe(const struct ims_replay_opts *opts, unsigned formats, unsigned smmu_gshift,
		  struct fz_geo **out, size_t *n, FILE *warn)
{
	/* Every geometry each format's description lists, in registry order. */
	size_t ncat = 0;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		ncat += d ? d->n_fuzz_geoms : 0;
	}
	struct fz_geo *cat = calloc(ncat ? ncat : 1, sizeof(*cat));
	if (!cat)
		return -ENOMEM;
	for (unsigned f = 0, c = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		for (unsigned i = 0; d && i < d->n_fuzz_geoms; i++, c++) {
			const struct fmt_geom *fg = &d->fuzz_geoms[i];
			cat[c] = (struct fz_geo){.fmt = d->id, .levels = fg->levels,
						 .gshift = fg->granule_shift, .ias = fg->ias};
		}
	}
	*out = NULL;
	*n = 0;
	struct fz_geo *v = calloc(ncat, sizeof(*v));
	struct ims_mem *mem = ims_mem_new();
	if (!v || !mem) {
		free(v);
		free(cat);
		ims_mem_free(mem);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < ncat; i++) {
		struct fz_geo geo = cat[i];
		if (!((formats >> geo.fmt) & 1))
			continue;
		/* A granule filter leaves the one-granule formats (gshift 0) alone. */
		if (smmu_gshift && geo.gshift && geo.gshift != smmu_gshift)
			continue;
		geo.pgsizes = sw_sizes(mem, &geo, 0, &geo.last);
		for (unsigned b = 12; b < 64 && geo.pgsizes; b++)
			if (sw_sizes(mem, &geo, 1ull << b, NULL))
				geo.pgsizes_all |= 1ull << b;
		/* The replayer (model included) must take the domain line. */
		struct fz_run run;
		int rc = geo.pgsizes ? fz_run_begin(&run, opts, "probe") : -EINVAL;
		if (!rc) {
			struct ims_event ev;
			ev_init(&ev, IMS_OP_DOMAIN);
			ev_set(&ev, IMS_K_ID, 1);
			ev_set(&ev, IMS_K_FORMAT, geo.fmt);
			if (geo.levels)
				ev_set(&ev, IMS_K_LEVELS, geo.levels);
			if (geo.gshift)
				ev_set(&ev, IMS_K_GRANULE, 1ull << geo.gshift);
			if (geo.ias)
				ev_set(&ev, IMS_K_IAS, geo.ias);
			ev_set(&ev, IMS_K_DIRTY, 1);
			rc = fz_run_event(&run, &ev, false);
			fz_run_end(&run);
		}
		if (rc) {
			if (warn)
				fprintf(warn,
					"iommusim fuzz: leaving out %s levels=%u granule=%u ias=%u: "
					"not supported by this build\n",
					ims_format_name(geo.fmt), geo.levels,
					geo.gshift ? 1u << geo.gshift : 0, geo.ias);
			continue;
		}
		v[k++] = geo;
	}
	ims_mem_free(mem);
	free(cat);
	if (!k) {
		free(v);
		return -ENOENT;
	}
	*out = v;
	*n = k;
	return 0;
}
