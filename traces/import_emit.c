/* Importer machinery: the emitter that turns what a log shows into trace
 * events and keeps the imported trace replayable (traces/import.h), with
 * the domains, devices and leaves it tracks, the harvest cadence and the
 * counters of the summary. The rules it follows are docs/importers.md's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "traces/import.h"
#include "traces/validate.h"

#define CHUNK_SHIFT 30
/* Leaves one map may make, and the importer may hold: 1 GiB of 4 KiB pages
 * in one map, 8 GiB in all. Logs that map more use larger pages. */
#define MAX_MAP_LEAVES ((uint64_t)1 << 18)
#define MAX_LEAVES ((uint64_t)1 << 21)

/* ---- counters ------------------------------------------------------------ */

void imp_count(struct ims_import_count *tab, unsigned *n, const char *name, size_t len,
	       uint64_t add)
{
	if (len >= sizeof(tab[0].name))
		len = sizeof(tab[0].name) - 1;
	for (unsigned i = 0; i < *n; i++)
		if (strlen(tab[i].name) == len && !memcmp(tab[i].name, name, len)) {
			tab[i].n += add;
			return;
		}
	unsigned i = *n;
	if (i == IMS_IMPORT_NAMES) {
		/* The last slot collects the rest. */
		i = IMS_IMPORT_NAMES - 1;
		snprintf(tab[i].name, sizeof(tab[i].name), "(others)");
		tab[i].n += add;
		return;
	}
	memcpy(tab[i].name, name, len);
	tab[i].name[len] = '\0';
	tab[i].n = add;
	(*n)++;
}

/* ---- emitter: events ----------------------------------------------------- */

int imp_refuse(struct imp *m, const char *fmt, ...)
{
	int n = snprintf(m->err, m->errlen, "%s:%" PRIu64 ": ", m->at_name, m->at_line);
	if (n >= 0 && (size_t)n < m->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->err + n, m->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void ev_init(struct ims_event *ev, enum ims_op op)
{
	memset(ev, 0, sizeof(*ev));
	ev->op = op;
}

static inline void kv(struct ims_event *ev, enum ims_key k, uint64_t v)
{
	ev->keys |= 1ull << k;
	ev->v[k] = v;
}

static int sync_due(struct imp *m);

static int emit(struct imp *m, struct ims_event *ev)
{
	if (m->rc)
		return m->rc;
	if (m->o.timestamps && m->ts_have) {
		uint64_t t = m->syncing ? m->next_sync : m->ts - m->ts_base;
		/* Logs from several threads or CPUs are not strictly ordered;
		 * the trace's clock never goes back. */
		if (t < m->ts_last)
			t = m->ts_last;
		m->ts_last = t;
		ev->has_ts = true;
		ev->ts = t;
	}
	/* Whatever the log said, a trace that replay refuses is never
	 * written: each event meets the checks the trace reader makes
	 * (traces/validate.h). The importers check what they read first, so
	 * this names the line of an input they let through. */
	char why[160];
	if (trc_event_validate(ev, why, sizeof(why))) {
		imp_refuse(m, "the %s this line makes would not replay: %s", ims_op_name(ev->op),
			   why);
		return m->rc = -EINVAL;
	}
	/* The output budget, as it is spent: a log whose harvests grow as
	 * accesses x mapped regions stops here, not when the disk is full. */
	if (m->written >= m->o.max_events) {
		snprintf(m->err, m->errlen, "%s:%" PRIu64 ": the trace would hold more than %" PRIu64
			 " events (the output budget of an import, which --max-output raises; "
			 "docs/limits.md)", m->at_name, m->at_line, m->o.max_events);
		return m->rc = -E2BIG;
	}
	m->written++;
	m->st->ops[ev->op]++;
	int rc = m->sink->event(m->sink->arg, ev);
	if (rc)
		m->rc = rc;
	return rc;
}

void imp_time(struct imp *m, uint64_t ns)
{
	if (!m->ts_base_set) {
		m->ts_base_set = true;
		m->ts_base = ns;
	}
	m->ts_have = true;
	m->ts = ns < m->ts_base ? m->ts_base : ns;
	/* The sync comes before anything of a line at or past its time (a
	 * sink's error stays in m->rc). */
	if (m->o.harvest_every_ns)
		sync_due(m);
}

int imp_comment(struct imp *m, const char *fmt, ...)
{
	if (m->rc)
		return m->rc;
	if (!m->sink->comment)
		return 0;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	int rc = m->sink->comment(m->sink->arg, text);
	if (rc)
		m->rc = rc;
	return rc;
}

int imp_init(struct imp *m, const struct ims_import_opts *o, const struct ims_import_sink *sink,
	     struct ims_import_stats *st, const char *name, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->o = *o;
	if (!m->o.access_len)
		m->o.access_len = 8;
	m->sink = sink;
	m->st = st;
	m->name = name;
	m->err = err;
	m->errlen = errlen;
	imp_at(m, name, 0);
	if (!m->o.max_events)
		m->o.max_events = IMS_IMPORT_MAX_EVENTS;
	m->tabcap = 1024;
	m->tab = calloc(m->tabcap, sizeof(*m->tab));
	return m->tab ? 0 : -ENOMEM;
}

void imp_fini(struct imp *m)
{
	for (size_t i = 0; i < m->ndoms; i++)
		free(m->doms[i].spans);
	free(m->doms);
	free(m->att);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

/* ---- emitter: domains and devices ---------------------------------------- */

struct dom *imp_dom(struct imp *m, uint16_t id)
{
	for (size_t i = 0; i < m->ndoms; i++)
		if (m->doms[i].id == id)
			return &m->doms[i];
	if (m->ndoms == m->capdoms) {
		size_t cap = m->capdoms ? m->capdoms * 2 : 4;
		struct dom *nd = realloc(m->doms, cap * sizeof(*nd));
		if (!nd)
			return NULL;
		m->doms = nd;
		m->capdoms = cap;
	}
	struct dom *d = &m->doms[m->ndoms++];
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->fmt = IMS_FMT_AMDV1;
	return d;
}

void imp_dom_geometry(struct imp *m, uint16_t id, enum ims_format fmt, unsigned levels,
		      uint64_t granule, unsigned ias, bool weak)
{
	struct dom *d = imp_dom(m, id);
	if (!d || d->defined || (weak && d->geom))
		return;
	d->geom |= !weak;
	d->fmt = fmt;
	d->levels = levels;
	d->granule = granule;
	d->ias = ias;
}

void imp_dom_nest(struct imp *m, uint16_t id, uint16_t parent)
{
	/* The parent first: define() then finds both without growing the
	 * table under its callers' pointers. */
	if (!imp_dom(m, parent))
		return;
	struct dom *d = imp_dom(m, id);
	if (!d || d->defined)
		return;
	d->nested = true;
	d->parent = parent;
}

static int define(struct imp *m, struct dom *d)
{
	if (d->defined)
		return 0;
	struct ims_event ev;
	if (d->nested) {
		/* The stage-2 parent's line comes first: nested= names a domain
		 * defined before (trace-format.md, "Nested domains"). */
		uint16_t id = d->id;
		struct dom *p = imp_dom(m, d->parent);
		if (!p)
			return -ENOMEM;
		int rc = define(m, p);
		if (rc)
			return rc;
		d = imp_dom(m, id); /* imp_dom may have moved the table */
	}
	ev_init(&ev, IMS_OP_DOMAIN);
	kv(&ev, IMS_K_ID, d->id);
	kv(&ev, IMS_K_FORMAT, d->fmt);
	if (d->nested)
		kv(&ev, IMS_K_NESTED, d->parent);
	/* What the log did not state comes from the format's import defaults. */
	const struct fmt_desc *fd = fmt_get(d->fmt);
	if (fd->import_geom.levels) {
		if (!d->levels)
			d->levels = fd->import_geom.levels;
		kv(&ev, IMS_K_LEVELS, d->levels);
	} else {
		if (!d->granule)
			d->granule = 1ull << fd->import_geom.granule_shift;
		if (!d->ias)
			d->ias = fd->import_geom.ias;
		kv(&ev, IMS_K_GRANULE, d->granule);
		kv(&ev, IMS_K_IAS, d->ias);
	}
	kv(&ev, IMS_K_DIRTY, 1);
	/* The domain line's geometry meets the format's own rule, as replay
	 * checks it (formats/format.h): --levels and --ias do not bypass it. */
	struct fmt_geom g = fd->import_geom.levels ? (struct fmt_geom){d->levels, 0, 0}
						   : (struct fmt_geom){0, ims_log2(d->granule), d->ias};
	char why[128];
	if (fd->geometry(&g, why, sizeof(why)))
		return m->rc = imp_refuse(m, "domain %u: %s (a geometry the log or --levels/--ias "
					  "gives; expected one the format takes)", d->id, why);
	d->defined = true;
	int rc = emit(m, &ev);
	if (rc || !(m->o.harvest_every || m->o.harvest_every_ns))
		return rc;
	ev_init(&ev, IMS_OP_TRACK);
	kv(&ev, IMS_K_DOMAIN, d->id);
	kv(&ev, IMS_K_ON, 0);
	d->tracked = true;
	return emit(m, &ev);
}

int imp_dev_dom(const struct imp *m, uint32_t dev)
{
	for (size_t i = 0; i < m->natt; i++)
		if (m->att[i].dev == dev)
			return m->att[i].dom;
	return -1;
}

int imp_attach(struct imp *m, uint32_t dev, uint16_t domid)
{
	struct attach *a = NULL;
	for (size_t i = 0; i < m->natt; i++)
		if (m->att[i].dev == dev)
			a = &m->att[i];
	if (a && a->dom == domid)
		return 0;
	struct dom *d = imp_dom(m, domid);
	if (!d)
		return -ENOMEM;
	int rc = define(m, d);
	if (rc)
		return rc;
	struct ims_event ev;
	if (a) {
		ev_init(&ev, IMS_OP_DETACH);
		kv(&ev, IMS_K_DEV, dev);
		if ((rc = emit(m, &ev)))
			return rc;
	} else {
		if (m->natt == m->capatt) {
			size_t cap = m->capatt ? m->capatt * 2 : 4;
			struct attach *na = realloc(m->att, cap * sizeof(*na));
			if (!na)
				return -ENOMEM;
			m->att = na;
			m->capatt = cap;
		}
		a = &m->att[m->natt++];
		a->dev = dev;
	}
	a->dom = domid;
	ev_init(&ev, IMS_OP_ATTACH);
	kv(&ev, IMS_K_DEV, dev);
	kv(&ev, IMS_K_DOMAIN, domid);
	return emit(m, &ev);
}

/* ---- emitter: the leaf table ---------------------------------------------- */

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline size_t home(const struct imp *m, uint16_t dom, unsigned shift, uint64_t iova)
{
	return (size_t)mix(iova ^ (uint64_t)dom << 48 ^ (uint64_t)shift << 56) & (m->tabcap - 1);
}

static struct leaf *find(struct imp *m, uint16_t dom, unsigned shift, uint64_t iova)
{
	for (size_t i = home(m, dom, shift, iova);; i = (i + 1) & (m->tabcap - 1)) {
		struct leaf *l = &m->tab[i];
		if (!l->used)
			return NULL;
		if (l->iova == iova && l->dom == dom && l->shift == shift)
			return l;
	}
}

static int grow(struct imp *m)
{
	size_t oldcap = m->tabcap;
	struct leaf *old = m->tab;
	struct leaf *nt = calloc(oldcap * 2, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	m->tab = nt;
	m->tabcap = oldcap * 2;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		size_t j = home(m, old[i].dom, old[i].shift, old[i].iova);
		while (nt[j].used)
			j = (j + 1) & (m->tabcap - 1);
		nt[j] = old[i];
	}
	free(old);
	return 0;
}

static int insert(struct imp *m, const struct leaf *l)
{
	if ((m->tablive + 1) * 2 > m->tabcap) {
		int rc = grow(m);
		if (rc)
			return rc;
	}
	size_t j = home(m, l->dom, l->shift, l->iova);
	while (m->tab[j].used)
		j = (j + 1) & (m->tabcap - 1);
	m->tab[j] = *l;
	m->tab[j].used = 1;
	m->tablive++;
	return 0;
}

/* Backward-shift deletion keeps probe chains whole without tombstones. */
static void erase(struct imp *m, struct leaf *l)
{
	size_t mask = m->tabcap - 1;
	size_t i = (size_t)(l - m->tab), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->tab[j].used)
			break;
		size_t k = home(m, m->tab[j].dom, m->tab[j].shift, m->tab[j].iova);
		bool move = i <= j ? (k <= i || k > j) : (k <= i && k > j);
		if (move) {
			m->tab[i] = m->tab[j];
			i = j;
		}
	}
	m->tab[i].used = 0;
	m->tablive--;
}

struct leaf *imp_lookup(struct imp *m, uint16_t domid, uint64_t iova)
{
	struct dom *d = NULL;
	for (size_t i = 0; i < m->ndoms; i++)
		if (m->doms[i].id == domid)
			d = &m->doms[i];
	if (!d || !d->leaves)
		return NULL;
	for (uint64_t s = d->shifts; s; s &= s - 1) {
		unsigned sh = (unsigned)__builtin_ctzll(s);
		struct leaf *l = find(m, domid, sh, iova & ~((1ull << sh) - 1));
		if (l)
			return l;
	}
	return NULL;
}

/* Keys of the leaves meeting [iova, iova + size), copied out so that the
 * caller may erase while it walks them. */
struct found {
	struct leaf *v;
	size_t n, cap;
};

static int collect(struct imp *m, struct dom *d, uint64_t iova, uint64_t size, struct found *f)
{
	f->n = 0;
	if (!d->leaves || !size)
		return 0;
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = UINT64_MAX;
	for (uint64_t s = d->shifts; s; s &= s - 1) {
		unsigned sh = (unsigned)__builtin_ctzll(s);
		uint64_t start = iova & ~((1ull << sh) - 1);
		uint64_t count = ((last - start) >> sh) + 1;
		bool scan = count == 0 || count > m->tablive * 2 + 64;
		for (uint64_t i = 0; i < (scan ? m->tabcap : count); i++) {
			struct leaf *l;
			if (scan) {
				l = &m->tab[i];
				if (!l->used || l->dom != d->id || l->shift != sh || l->iova > last ||
				    l->iova + ((1ull << sh) - 1) < iova)
					continue;
			} else {
				l = find(m, d->id, sh, start + (i << sh));
				if (!l)
					continue;
			}
			if (f->n == f->cap) {
				size_t cap = f->cap ? f->cap * 2 : 16;
				struct leaf *nv = realloc(f->v, cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				f->v = nv;
				f->cap = cap;
			}
			f->v[f->n++] = *l;
		}
	}
	return 0;
}

static struct dom *dom_of(struct imp *m, uint16_t id)
{
	for (size_t i = 0; i < m->ndoms; i++)
		if (m->doms[i].id == id)
			return &m->doms[i];
	return NULL;
}

int imp_for_each(struct imp *m, uint16_t domid, uint64_t iova, uint64_t size, imp_leaf_fn fn,
		 void *arg)
{
	struct dom *d = dom_of(m, domid);
	if (!d)
		return 0;
	struct found f = {0};
	int rc = collect(m, d, iova, size, &f);
	for (size_t i = 0; !rc && i < f.n; i++) {
		struct leaf *l = find(m, domid, f.v[i].shift, f.v[i].iova);
		if (l)
			rc = fn(m, l, arg);
	}
	free(f.v);
	return rc;
}

static int emit_unmap(struct imp *m, uint16_t dom, uint64_t iova, uint64_t size)
{
	struct ims_event ev;
	ev_init(&ev, IMS_OP_UNMAP);
	kv(&ev, IMS_K_DOMAIN, dom);
	kv(&ev, IMS_K_IOVA, iova);
	kv(&ev, IMS_K_SIZE, size);
	return emit(m, &ev);
}

static int cmp_leaf(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;
	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

int imp_unmap(struct imp *m, uint16_t domid, uint64_t iova, uint64_t size, imp_leaf_fn before,
	      void *arg)
{
	struct dom *d = dom_of(m, domid);
	if (!d)
		return 0;
	struct found f = {0};
	int rc = collect(m, d, iova, size, &f);
	if (rc || !f.n) {
		free(f.v);
		return rc;
	}
	qsort(f.v, f.n, sizeof(*f.v), cmp_leaf);
	for (size_t i = 0; before && !rc && i < f.n; i++) {
		struct leaf *l = find(m, domid, f.v[i].shift, f.v[i].iova);
		if (l)
			rc = before(m, l, arg);
	}
	/* One unmap per run of adjacent leaves: whole leaves, no holes. */
	for (size_t i = 0; !rc && i < f.n;) {
		uint64_t lo = f.v[i].iova, hi = lo + (1ull << f.v[i].shift);
		size_t j = i + 1;
		while (j < f.n && f.v[j].iova == hi) {
			hi += 1ull << f.v[j].shift;
			j++;
		}
		rc = emit_unmap(m, domid, lo, hi - lo);
		i = j;
	}
	for (size_t i = 0; i < f.n; i++) {
		struct leaf *l = find(m, domid, f.v[i].shift, f.v[i].iova);
		if (l) {
			erase(m, l);
			d->leaves--;
		}
	}
	int n = (int)f.n;
	free(f.v);
	return rc ? rc : n;
}

/* A domain's geometry as the registry's import rules take it. */
static struct fmt_geom dom_geom(const struct dom *d)
{
	return (struct fmt_geom){d->levels, d->granule ? ims_log2(d->granule) : 0, d->ias};
}

/* Leaf sizes the importer may pick for a format, as Linux's drivers offer
 * them (pgsize_bitmap). */
static uint64_t leaf_sizes(const struct dom *d)
{
	struct fmt_geom g = dom_geom(d);
	return fmt_get(d->fmt)->driver_pgsizes(&g);
}

static void span_add(struct dom *d, uint64_t iova, uint64_t size)
{
	uint64_t chunk = iova >> CHUNK_SHIFT;
	for (size_t i = 0; i < d->nspans; i++) {
		struct span *s = &d->spans[i];
		if (s->chunk != chunk)
			continue;
		if (iova < s->lo)
			s->lo = iova;
		if (iova + size > s->hi)
			s->hi = iova + size;
		return;
	}
	if (d->nspans == d->capspans) {
		size_t cap = d->capspans ? d->capspans * 2 : 4;
		struct span *ns = realloc(d->spans, cap * sizeof(*ns));
		if (!ns)
			return; /* a span less to harvest, nothing wrong */
		d->spans = ns;
		d->capspans = cap;
	}
	d->spans[d->nspans++] = (struct span){chunk, iova, iova + size};
}

static int emit_map(struct imp *m, uint16_t dom, uint64_t iova, uint64_t pa, uint64_t size,
		    unsigned prot, uint64_t pgsize)
{
	struct ims_event ev;
	ev_init(&ev, IMS_OP_MAP);
	kv(&ev, IMS_K_DOMAIN, dom);
	kv(&ev, IMS_K_IOVA, iova);
	kv(&ev, IMS_K_PA, pa);
	kv(&ev, IMS_K_SIZE, size);
	kv(&ev, IMS_K_PROT, prot);
	if (pgsize)
		kv(&ev, IMS_K_PGSIZE, pgsize);
	return emit(m, &ev);
}

int imp_map(struct imp *m, uint16_t domid, uint64_t iova, uint64_t pa, uint64_t size,
	    unsigned prot, unsigned kind, uint64_t pgsize)
{
	struct dom *d = imp_dom(m, domid);
	if (!d)
		return -ENOMEM;
	int rc = define(m, d);
	if (rc)
		return rc;
	uint64_t sizes = leaf_sizes(d);
	uint64_t min = sizes & -sizes;
	if (!prot)
		prot = IMS_PROT_R;
	if (!size || (iova | pa | size) & (min - 1) || iova + size - 1 < iova)
		return -EINVAL;
	if (pgsize && (!(sizes & pgsize) || (iova | pa | size) & (pgsize - 1)))
		return -EINVAL;
	/* Inside the domain's input range, and an output address every format
	 * holds (48 bits: SMMU without LPA). */
	struct fmt_geom dg = dom_geom(d);
	unsigned bits = fmt_get(d->fmt)->iova_bits(&dg);
	if ((bits < 64 && (iova >> bits || (iova + size - 1) >> bits)) || (pa + size - 1) >> 48 ||
	    pa + size - 1 < pa)
		return -EINVAL;
	/* The leaves it takes, at most: as many as the smallest size that the
	 * alignment allows. */
	uint64_t a = iova | pa;
	uint64_t step = pgsize ? pgsize : a ? a & -a : min;
	if (step < min)
		step = min;
	if (size / step > MAX_MAP_LEAVES && size / min > MAX_MAP_LEAVES)
		return -E2BIG;
	if (m->tablive + (size / step < MAX_MAP_LEAVES ? size / step : MAX_MAP_LEAVES) > MAX_LEAVES)
		return -E2BIG;

	/* What was mapped there goes first. */
	rc = imp_unmap(m, domid, iova, size, NULL, NULL);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->st->remaps++;

	/* What the hardware allows: a format without write-only pages makes
	 * a writable one readable too (Arm stage 1, AP[2:1]). */
	unsigned hw_prot = fmt_get(d->fmt)->write_implies_read && (prot & IMS_PROT_W)
				   ? prot | IMS_PROT_R : prot;
	uint64_t run_iova = iova, run_pa = pa, run_len = 0, run_pg = 0;
	while (size) {
		uint64_t pg = pgsize;
		if (!pg) {
			/* The largest size that both addresses are aligned to and
			 * that fits what is left (Linux's iommu_pgsize()). */
			uint64_t a = iova | pa;
			uint64_t fit = sizes;
			if (a)
				fit &= ((a & -a) << 1) - 1;
			fit &= size >> 63 ? ~0ull : (1ull << (64 - __builtin_clzll(size))) - 1;
			pg = fit ? 1ull << (63 - __builtin_clzll(fit)) : min;
		}
		if (run_len && pg != run_pg) {
			rc = emit_map(m, domid, run_iova, run_pa, run_len, prot,
				      run_len == min && run_pg == min ? 0 : run_pg);
			if (rc)
				return rc;
			run_iova = iova;
			run_pa = pa;
			run_len = 0;
		}
		run_pg = pg;
		struct leaf l = {.iova = iova, .pa = pa, .dom = domid, .shift = (uint8_t)ims_log2(pg),
				 .prot = (uint8_t)hw_prot, .kind = (uint8_t)kind};
		if ((rc = insert(m, &l)))
			return rc;
		d->leaves++;
		d->shifts |= pg;
		span_add(d, iova, pg);
		run_len += pg;
		iova += pg;
		pa += pg;
		size -= pg;
	}
	return emit_map(m, domid, run_iova, run_pa, run_len, prot,
			run_len == min && run_pg == min ? 0 : run_pg);
}

int imp_flush(struct imp *m, uint16_t domid)
{
	struct dom *d = dom_of(m, domid);
	if (!d || !d->defined)
		return 0;
	struct ims_event ev;
	ev_init(&ev, IMS_OP_FLUSH);
	kv(&ev, IMS_K_DOMAIN, domid);
	return emit(m, &ev);
}

static int harvest_all(struct imp *m)
{
	m->since_harvest = 0;
	for (size_t i = 0; i < m->ndoms; i++) {
		struct dom *d = &m->doms[i];
		if (!d->tracked)
			continue;
		for (size_t j = 0; j < d->nspans; j++) {
			struct ims_event ev;
			ev_init(&ev, IMS_OP_HARVEST);
			kv(&ev, IMS_K_DOMAIN, d->id);
			kv(&ev, IMS_K_IOVA, d->spans[j].lo);
			kv(&ev, IMS_K_SIZE, d->spans[j].hi - d->spans[j].lo);
			int rc = emit(m, &ev);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Before an event at log time t: the sync at the first multiple of the
 * cadence that t has reached, if there was an access since the last one.
 * Every event written so far is earlier than next_sync (else its sync
 * would have come first), so the harvests' time keeps the trace's clock
 * from going back. Multiples passed with no access make no harvest. */
static int sync_due(struct imp *m)
{
	uint64_t every = m->o.harvest_every_ns, t = m->ts - m->ts_base;
	if (!m->next_sync)
		m->next_sync = every;
	if (t < m->next_sync)
		return 0;
	int rc = 0;
	if (m->since_harvest) {
		m->syncing = true;
		rc = harvest_all(m);
		m->syncing = false;
	}
	uint64_t last = t - t % every;
	m->next_sync = last > UINT64_MAX - every ? UINT64_MAX : last + every;
	return rc;
}

/* One dma event per IMS_TRACE_DMA_BYTES_DEFAULT of [start, end): replay
 * refuses a longer one under its default budget. */
static int emit_dma(struct imp *m, uint32_t dev, uint64_t start, uint64_t end, unsigned dir)
{
	while (start < end) {
		uint64_t n = end - start;
		if (n > IMS_TRACE_DMA_BYTES_DEFAULT)
			n = IMS_TRACE_DMA_BYTES_DEFAULT;
		struct ims_event ev;
		ev_init(&ev, IMS_OP_DMA);
		kv(&ev, IMS_K_DEV, dev);
		kv(&ev, IMS_K_IOVA, start);
		kv(&ev, IMS_K_LEN, n);
		kv(&ev, IMS_K_DIR, dir);
		int rc = emit(m, &ev);
		if (rc)
			return rc;
		m->since_harvest++;
		start += n;
	}
	return 0;
}

int imp_dma(struct imp *m, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir)
{
	int domid = imp_dev_dom(m, dev);
	if (domid < 0 || !len || !dir)
		return 0;
	const struct dom *nd = imp_dom(m, (uint16_t)domid);
	if (nd && !nd->nested)
		nd = NULL;
	uint64_t end = iova + len < iova ? UINT64_MAX : iova + len;
	/* One dma per stretch of mapped leaves that allow the access; for a
	 * nested domain the mapping is both stages': the stage-2 leaf of the
	 * IPA (in the parent) must allow it too, and bounds the stretch. */
	uint64_t start = iova, at = iova;
	unsigned rdir = 0;
	bool clipped = false;
	int rc = 0;
	while (at < end) {
		struct leaf *l = imp_lookup(m, (uint16_t)domid, at);
		if (!l) {
			/* An access runs inside its mapping: it ends here. */
			clipped = true;
			break;
		}
		uint64_t lend = l->iova + (1ull << l->shift);
		if (lend > end || lend == 0)
			lend = end;
		unsigned d = dir & l->prot;
		if (nd) {
			uint64_t ipa = l->pa + (at - l->iova);
			const struct leaf *s2 = imp_lookup(m, nd->parent, ipa);
			if (!s2) {
				clipped = true;
				break;
			}
			uint64_t s2end = s2->iova + (1ull << s2->shift);
			if (s2end && s2end - ipa < lend - at)
				lend = at + (s2end - ipa);
			d &= s2->prot;
		}
		clipped |= d != dir;
		if (d != rdir || !d) {
			if (rdir && at > start && (rc = emit_dma(m, dev, start, at, rdir)))
				return rc;
			start = at;
			rdir = d;
		}
		at = lend;
	}
	if (rdir && at > start && (rc = emit_dma(m, dev, start, at, rdir)))
		return rc;
	if (clipped)
		m->st->dir_clipped++;
	if (m->o.harvest_every && m->since_harvest >= m->o.harvest_every)
		return harvest_all(m);
	return 0;
}

int imp_dma_raw(struct imp *m, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir)
{
	struct ims_event ev;
	ev_init(&ev, IMS_OP_DMA);
	kv(&ev, IMS_K_DEV, dev);
	kv(&ev, IMS_K_IOVA, iova);
	kv(&ev, IMS_K_LEN, len);
	kv(&ev, IMS_K_DIR, dir);
	return emit(m, &ev);
}

int imp_expect_pa(struct imp *m, uint32_t dev, uint64_t iova, uint64_t pa)
{
	struct ims_event ev;
	ev_init(&ev, IMS_OP_EXPECT_PA);
	kv(&ev, IMS_K_DEV, dev);
	kv(&ev, IMS_K_IOVA, iova);
	kv(&ev, IMS_K_PA, pa);
	return emit(m, &ev);
}

int imp_expect_fault(struct imp *m, uint32_t dev, uint64_t iova, enum ims_fault_kind kind)
{
	struct ims_event ev;
	ev_init(&ev, IMS_OP_EXPECT_FAULT);
	kv(&ev, IMS_K_DEV, dev);
	kv(&ev, IMS_K_IOVA, iova);
	kv(&ev, IMS_K_KIND, kind);
	return emit(m, &ev);
}

int imp_finish(struct imp *m)
{
	if (m->rc)
		return m->rc;
	if (m->o.harvest_every_ns && !m->ts_base_set) {
		snprintf(m->err, m->errlen,
			 "%s: --harvest-every: a cadence of log time needs timestamps, and the log "
			 "has none (expected a log with timestamps, or a count of accesses)",
			 m->name);
		return -EINVAL;
	}
	return m->o.harvest_every || m->o.harvest_every_ns ? harvest_all(m) : 0;
}
