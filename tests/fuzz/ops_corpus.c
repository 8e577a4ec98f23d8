/* The seed corpus of the guided target (fuzz_ops.c) from traces
 * (docs/fuzzing.md, "Coverage guidance: the libFuzzer target").
 *
 *   ops_corpus DIR TRACE...          writes DIR/NAME for each trace
 *   ops_corpus --check DIR TRACE...  compares instead: exit 1 when a file
 *                                    differs, is missing, or DIR holds one
 *                                    that no trace makes
 *   ops_corpus --events TRACE        prints the events the trace's input
 *                                    steers the generator to, as trace lines
 *
 * NAME is the trace's folder and file name: amd-had-gating for
 * tests/traces/amd/had-gating.trace.
 *
 * An input of fuzz_ops is the generator's decisions, so a trace cannot be
 * translated into one; it is searched for instead. From the trace the
 * builder keeps its first domains (format, geometry, dirty tracking), its
 * length, and the kinds of its ops in order: maps with the leaf size each
 * lays out, device reads and writes, harvests with or without NO_CLEAR,
 * unmaps with or without read-dirty, tracking on and off, flushes (the
 * iommufd and VFIO calls count as the ops they stand for). It then runs the
 * generator on candidate bytes and keeps, event by event, the bytes of a
 * candidate whose next event is the op the trace has next. An event's
 * decisions are exactly the bytes its draws took, so the kept bytes
 * replay to the kept events; where the bytes end, the target's generator
 * goes on from the hash of the input. The candidates come from a PRNG
 * seeded with NAME: the same trace always gives the same input.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/pt.h"
#include "tools/cmd.h"
#include "tools/fuzz_gen.h"

#include "ops_cfg.h"

#define MAX_WANTS 48     /* ops of a trace steered towards, at most */
#define STEER_MAX 96     /* events steered, at most */
#define SETUP_TRIES 1024 /* candidates for the domains, */
#define SETUP_CLIMB 2048 /* then mutations of the best one */
#define STEP_TRIES 64    /* candidates for one event */
#define RLEN 1024        /* candidate bytes: more than any one event draws */

#define MAP_RO 0x100 /* a read-only map */

enum kind { W_MAP, W_UNMAP, W_DMA, W_HARVEST, W_TRACK, W_FLUSH };

struct want {
	enum kind k;
	unsigned attr; /* map: leaf shift | MAP_RO; unmap: read-dirty;
			* dma: IMS_ACC_*; harvest: NO_CLEAR; track: on */
};

struct tdom {
	enum ims_format fmt;
	unsigned levels, gshift, ias; /* 0: the trace leaves it to the default */
	bool dirty;
};

/* What is kept of a trace. */
struct pic {
	struct tdom dom[MAXDOMS];
	unsigned ndoms;
	struct want w[MAX_WANTS];
	unsigned nw;
};

struct ctx {
	struct ims_replay_opts ro;
	struct fz_gen_cfg gc;
	struct walker_choice wc;
};

/* ---- the trace ---------------------------------------------------------------- */

/* The leaf a map of [iova, iova + size) to pa lays out first when the
 * trace leaves the size to the software: the largest the alignment and
 * the length allow (the format may have a smaller one). */
static unsigned leaf_guess(uint64_t iova, uint64_t pa, uint64_t size)
{
	uint64_t a = low_bit(iova | pa | size);
	uint64_t s = size ? high_bit(size) : 4096;
	return ims_log2(a && a < s ? a : s);
}

static void add_want(struct pic *p, enum kind k, unsigned attr)
{
	if (p->nw < MAX_WANTS)
		p->w[p->nw++] = (struct want){k, attr};
}

static void add_dom(struct pic *p, const struct ims_event *ev, bool dirty)
{
	if (p->ndoms == MAXDOMS || !ims_ev_has(ev, IMS_K_FORMAT))
		return;
	struct tdom *d = &p->dom[p->ndoms++];
	memset(d, 0, sizeof(*d));
	d->fmt = (enum ims_format)ev->v[IMS_K_FORMAT];
	if (ims_ev_has(ev, IMS_K_LEVELS))
		d->levels = (unsigned)ev->v[IMS_K_LEVELS];
	if (ims_ev_has(ev, IMS_K_GRANULE) && ev->v[IMS_K_GRANULE])
		d->gshift = ims_log2(ev->v[IMS_K_GRANULE]);
	if (ims_ev_has(ev, IMS_K_IAS))
		d->ias = (unsigned)ev->v[IMS_K_IAS];
	d->dirty = dirty;
}

static int read_trace(const char *path, struct pic *p)
{
	memset(p, 0, sizeof(*p));
	char err[512];
	struct ims_reader *rd;
	if (ims_reader_open(path, &rd, err, sizeof(err))) {
		fprintf(stderr, "ops_corpus: %s\n", err);
		return -1;
	}
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(rd, &ev)) > 0) {
		const uint64_t *v = ev.v;
		bool has_on = ims_ev_has(&ev, IMS_K_ON);
		switch (ev.op) {
		case IMS_OP_DOMAIN: {
			bool dirty = ims_ev_has(&ev, IMS_K_DIRTY) ? v[IMS_K_DIRTY] != 0
								  : ims_ev_has(&ev, IMS_K_HD) && v[IMS_K_HD];
			add_dom(p, &ev, dirty);
			break;
		}
		case IMS_OP_IOMMUFD_BIND:
		case IMS_OP_VFIO_CONTAINER:
			add_dom(p, &ev, true);
			break;
		case IMS_OP_MAP: {
			unsigned ro = ims_ev_has(&ev, IMS_K_PROT) && !(v[IMS_K_PROT] & IMS_PROT_W);
			add_want(p, W_MAP, (ims_ev_has(&ev, IMS_K_PGSIZE) && v[IMS_K_PGSIZE]
						    ? ims_log2(v[IMS_K_PGSIZE])
						    : leaf_guess(v[IMS_K_IOVA], v[IMS_K_PA], v[IMS_K_SIZE])) |
						   (ro ? MAP_RO : 0));
			break;
		}
		case IMS_OP_IOMMUFD_MAP:
		case IMS_OP_VFIO_MAP:
			add_want(p, W_MAP, leaf_guess(v[IMS_K_IOVA], v[IMS_K_PA], v[IMS_K_LENGTH]));
			break;
		case IMS_OP_UNMAP:
			add_want(p, W_UNMAP, ims_ev_has(&ev, IMS_K_READ_DIRTY));
			break;
		case IMS_OP_IOMMUFD_UNMAP:
			add_want(p, W_UNMAP, 0);
			break;
		case IMS_OP_VFIO_UNMAP:
			add_want(p, W_UNMAP, ims_ev_has(&ev, IMS_K_GET_DIRTY_BITMAP));
			break;
		case IMS_OP_DMA:
			add_want(p, W_DMA, (unsigned)v[IMS_K_DIR]);
			break;
		case IMS_OP_HARVEST:
		case IMS_OP_IOMMUFD_GET_DIRTY:
			add_want(p, W_HARVEST, ims_ev_has(&ev, IMS_K_NOCLEAR));
			break;
		case IMS_OP_VFIO_DIRTY:
			if (ims_ev_has(&ev, IMS_K_GET_BITMAP))
				add_want(p, W_HARVEST, 0);
			else if (ims_ev_has(&ev, IMS_K_START) || ims_ev_has(&ev, IMS_K_STOP))
				add_want(p, W_TRACK, ims_ev_has(&ev, IMS_K_START));
			break;
		case IMS_OP_TRACK:
		case IMS_OP_IOMMUFD_SET_DIRTY:
			add_want(p, W_TRACK, has_on);
			break;
		case IMS_OP_FLUSH:
			add_want(p, W_FLUSH, 0);
			break;
		default:
			break;
		}
	}
	ims_reader_close(rd);
	if (rc < 0) {
		fprintf(stderr, "ops_corpus: %s: cannot read it (%s)\n", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* ---- scores --------------------------------------------------------------------- */

static unsigned geo_score(const struct fz_geo *g, const struct tdom *t)
{
	if (g->fmt != t->fmt)
		return 0;
	unsigned s = 4;
	s += t->levels && g->levels == t->levels ? 2 : 0;
	s += t->gshift && g->gshift == t->gshift ? 2 : 0;
	s += t->ias && g->ias == t->ias ? 2 : 0;
	return s;
}

/* The geometry is the trace's, as far as the trace gives it. */
static bool geo_same(const struct fz_geo *g, const struct tdom *t)
{
	return g->fmt == t->fmt && (!t->levels || g->levels == t->levels) &&
	       (!t->gshift || g->gshift == t->gshift) && (!t->ias || g->ias == t->ias);
}

/* The generator's length: its set-up, the trace's ops and the checks and
 * flushes it adds around them. */
static unsigned want_target(const struct pic *p)
{
	unsigned t = 3 * (p->ndoms ? p->ndoms : 1) + p->nw * 3 / 2;
	return t < 16 ? 16 : t > OPS_MAX_LEN - 1 ? OPS_MAX_LEN - 1 : t;
}

static long setup_score(const struct fz_gen *g, const struct pic *p)
{
	long s = 0;
	unsigned n = p->ndoms < MAXDOMS ? p->ndoms : MAXDOMS;
	if (g->ndoms == (n ? n : 1))
		s += 20;
	for (unsigned i = 0; i < n && i < g->ndoms; i++)
		s += 4 * geo_score(g->doms[i].geo, &p->dom[i]) + (g->doms[i].dirty == p->dom[i].dirty);
	long d = (long)g->target - (long)want_target(p);
	return s * 1000 - (d < 0 ? -d : d);
}

/* Did the map of ev lay out a leaf of 2^shift bytes (the generator's own
 * picture of the domain: exactly the software's leaves)? */
static bool map_has_leaf(const struct fz_gen *g, const struct ims_event *ev, unsigned shift)
{
	for (unsigned i = 0; i < g->ndoms; i++) {
		const struct gdom *d = &g->doms[i];
		if (d->id != ev->v[IMS_K_DOMAIN])
			continue;
		for (unsigned k = 0; k < d->nmaps; k++) {
			const struct gmap *m = &d->maps[k];
			if (m->iova != ev->v[IMS_K_IOVA])
				continue;
			for (unsigned j = 0; j < m->nleaves; j++)
				if (m->leaves[j].shift == shift)
					return true;
		}
	}
	return false;
}

/* 2: the op the trace wants, as it wants it; 1: that kind of op; 0: not. */
static int score(const struct fz_gen *g, const struct ims_event *ev, const struct want *w)
{
	if (!w)
		return 0;
	switch (w->k) {
	case W_MAP: {
		if (ev->op != IMS_OP_MAP)
			return 0;
		bool ro = ims_ev_has(ev, IMS_K_PROT) && !(ev->v[IMS_K_PROT] & IMS_PROT_W);
		return map_has_leaf(g, ev, w->attr & ~MAP_RO) && ro == !!(w->attr & MAP_RO) ? 2 : 1;
	}
	case W_UNMAP:
		if (ev->op != IMS_OP_UNMAP)
			return 0;
		return ims_ev_has(ev, IMS_K_READ_DIRTY) == (w->attr != 0) ? 2 : 1;
	case W_DMA:
		if (ev->op != IMS_OP_DMA)
			return 0;
		return ev->v[IMS_K_DIR] == w->attr ? 2 : 1;
	case W_HARVEST:
		if (ev->op != IMS_OP_HARVEST)
			return 0;
		return ims_ev_has(ev, IMS_K_NOCLEAR) == (w->attr != 0) ? 2 : 1;
	case W_TRACK:
		if (ev->op != IMS_OP_TRACK)
			return 0;
		return ims_ev_has(ev, IMS_K_ON) == (w->attr != 0) ? 2 : 1;
	case W_FLUSH:
		return ev->op == IMS_OP_FLUSH ? 2 : 0;
	}
	return 0;
}

/* ---- the search ----------------------------------------------------------------- */

struct cand {
	struct ims_event ev;
	bool count, left, ended;
	size_t used;
	unsigned phase;
	int score;
};

/* Generates events 0..i from in[0, len), the first i fed the accesses the
 * runner measured for them (acc), and scores event i against w. */
static int regen(const struct ctx *c, const uint8_t *in, size_t len, size_t i,
		 const uint64_t *acc, const struct want *w, struct cand *out)
{
	struct fz_gen *g;
	int rc = fz_gen_new_input(&c->gc, in, len, &g);
	if (rc)
		return rc;
	out->ended = false;
	for (size_t k = 0; k <= i; k++) {
		bool count;
		if (fz_gen_next(g, &out->ev, &count) <= 0) {
			out->ended = true;
			break;
		}
		if (k < i && count)
			fz_gen_feedback(g, acc[k]);
		out->count = count;
	}
	out->used = fz_gen_input_used(g, &out->left);
	out->phase = g->phase;
	out->score = out->ended || !out->left ? -1 : score(g, &out->ev, w);
	fz_gen_free(g);
	return 0;
}

static void fill(struct fz_rng *r, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = fz_next(r);
		for (size_t j = 0; j < 8 && i + j < n; j++)
			b[i + j] = (uint8_t)(v >> (8 * j));
	}
}

struct result {
	uint8_t *in;
	size_t len;
	struct ims_event *kept; /* the events steered (events of them) */
	unsigned events, matched, geo_ok;
};

/* The input for picture p: its bytes in res (malloc'd). */
static int build(const struct ctx *c, const char *name, const struct pic *p, struct result *res)
{
	memset(res, 0, sizeof(*res));
	struct fz_rng rng = {0};
	fz_rng_input(&rng, (const uint8_t *)name, strlen(name));
	rng.in = NULL; /* the name seeds the candidates' PRNG */
	uint8_t *buf = malloc((size_t)(STEER_MAX + 1) * RLEN), *best = malloc(RLEN);
	uint64_t *acc = calloc(STEER_MAX, sizeof(*acc));
	struct ims_event *kept = calloc(STEER_MAX, sizeof(*kept));
	if (!buf || !best || !acc || !kept) {
		free(buf), free(best), free(acc), free(kept);
		return -ENOMEM;
	}
	int rc = 0;
	/* The domains, their geometry and the sequence's length come first
	 * (fz_gen_new draws them). */
	long top = -1;
	size_t plen = 0;
	for (unsigned t = 0; t < SETUP_TRIES + SETUP_CLIMB; t++) {
		if (t < SETUP_TRIES) {
			fill(&rng, buf, RLEN);
		} else {
			/* Then one byte of the best at a time: each domain's
			 * geometry is a decision of its own. */
			memcpy(buf, best, plen);
			fill(&rng, buf + plen, RLEN - plen);
			buf[fz_below(&rng, plen)] = (uint8_t)fz_next(&rng);
		}
		struct fz_gen *g;
		if ((rc = fz_gen_new_input(&c->gc, buf, RLEN, &g)))
			goto out;
		bool left;
		size_t used = fz_gen_input_used(g, &left);
		long s = left ? setup_score(g, p) : -1;
		fz_gen_free(g);
		if (s > top) {
			top = s;
			plen = used;
			memcpy(best, buf, used);
		}
	}
	memcpy(buf, best, plen);
	struct fz_gen *g0;
	if ((rc = fz_gen_new_input(&c->gc, buf, plen, &g0)))
		goto out;
	for (unsigned k = 0; k < p->ndoms && k < g0->ndoms; k++)
		res->geo_ok += geo_same(g0->doms[k].geo, &p->dom[k]);
	fz_gen_free(g0);

	struct fz_run run;
	if ((rc = fz_run_begin(&run, &c->ro, name)))
		goto out;
	unsigned w = 0, misses = 0;
	size_t i;
	for (i = 0; i < STEER_MAX && w < p->nw; i++) {
		const struct want *want = &p->w[w];
		struct cand bc, cc;
		fill(&rng, buf + plen, RLEN);
		if ((rc = regen(c, buf, plen + RLEN, i, acc, want, &bc)))
			break;
		if (bc.ended)
			break;
		memcpy(best, buf + plen, RLEN);
		/* An event that draws nothing (set-up, a queued check) is what
		 * it is; otherwise the first candidate that is the op wanted. */
		for (unsigned t = 1; bc.used > plen && bc.score < 2 && t < STEP_TRIES; t++) {
			fill(&rng, buf + plen, RLEN);
			if ((rc = regen(c, buf, plen + RLEN, i, acc, want, &cc)))
				goto done;
			if (cc.score > bc.score) {
				bc = cc;
				memcpy(best, buf + plen, RLEN);
			}
		}
		if (bc.score < 0) /* no candidate had bytes enough: stop here */
			break;
		memcpy(buf + plen, best, bc.used - plen);
		plen = bc.used;
		bc.ev.line = i + 1;
		kept[i] = bc.ev;
		int er = fz_run_event(&run, &bc.ev, bc.count);
		if (er) {
			fprintf(stderr, "ops_corpus: %s: event %zu: %s\n", name, i + 1,
				er < 0 ? run.err : run.fail.msg);
			rc = -EINVAL;
			break;
		}
		acc[i] = bc.count ? run.accesses : 0;
		if (bc.score >= 1) {
			res->matched += bc.score == 2;
			w++;
			misses = 0;
		} else if (bc.phase == 1 && ++misses >= 2) {
			/* Not to be had here (a harvest while tracking is off): the
			 * trace's next op instead. */
			w++;
			misses = 0;
		}
		if (bc.phase >= 2)
			break;
	}
done:
	fz_run_end(&run);
	res->events = (unsigned)i;
	/* The input alone must give the events kept, in order. */
	for (size_t k = 0; !rc && k < i; k++) {
		struct cand cc;
		if ((rc = regen(c, buf, plen, k, acc, NULL, &cc)))
			break;
		char a[1024], b[1024];
		ims_event_format(&cc.ev, a, sizeof(a));
		ims_event_format(&kept[k], b, sizeof(b));
		if (cc.ended || strcmp(a, b)) {
			fprintf(stderr, "ops_corpus: %s: internal error: event %zu replays as '%s', "
				"not '%s'\n", name, k + 1, cc.ended ? "(none)" : a, b);
			rc = -EINVAL;
		}
	}
	if (!rc) {
		res->in = malloc(plen ? plen : 1);
		if (!res->in)
			rc = -ENOMEM;
		else
			memcpy(res->in, buf, plen);
		res->len = plen;
		res->kept = kept;
		kept = NULL;
	}
out:
	free(buf), free(best), free(acc), free(kept);
	return rc;
}

/* ---- files -------------------------------------------------------------------------- */

/* "amd-had-gating" for ".../amd/had-gating.trace". */
static void corpus_name(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dir = path, *e = base > path ? base - 1 : path;
	for (const char *q = path; q < e; q++)
		if (*q == '/')
			dir = q + 1;
	size_t blen = strlen(base);
	if (blen > 6 && !strcmp(base + blen - 6, ".trace"))
		blen -= 6;
	if (base > path)
		snprintf(out, len, "%.*s-%.*s", (int)(e - dir), dir, (int)blen, base);
	else
		snprintf(out, len, "%.*s", (int)blen, base);
}

static int same_file(const char *path, const uint8_t *in, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	bool same = true;
	for (size_t i = 0; i < len && same; i++)
		same = fgetc(f) == in[i];
	same = same && fgetc(f) == EOF;
	fclose(f);
	return same;
}

int main(int argc, char **argv)
{
	bool check = argc > 1 && !strcmp(argv[1], "--check");
	bool events = argc > 1 && !strcmp(argv[1], "--events");
	int a = check || events ? 2 : 1;
	if (argc - a < (events ? 1 : 2)) {
		fprintf(stderr, "usage: ops_corpus [--check] DIR TRACE...\n"
			"       ops_corpus --events TRACE...\n");
		return 2;
	}
	const char *dir = events ? NULL : argv[a++];
	struct ctx c;
	memset(&c, 0, sizeof(c));
	ims_replay_opts_default(&c.ro);
	if (ims_pt_walker_parse(OPS_WALKER, &c.wc.builtin))
		return 2;
	c.ro.walker = c.wc.builtin;
	struct fz_geo *geos;
	size_t ngeos;
	unsigned formats = (1u << IMS_FMT_COUNT) - 1;
	if (fz_geos_probe(&c.ro, formats, 0, &geos, &ngeos, stderr))
		return 2;
	c.gc = (struct fz_gen_cfg){formats, geos, ngeos, OPS_MAX_LEN, NULL, 0, false}; /* no corruption */
	if (dir && !check && mkdirs(dir)) {
		fprintf(stderr, "ops_corpus: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	int ret = 0;
	char (*names)[256] = calloc((size_t)argc, sizeof(*names));
	if (!names)
		return 2;
	for (int t = a; t < argc && ret < 2; t++) {
		char *name = names[t], path[4096];
		corpus_name(argv[t], name, sizeof(names[t]));
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", name);
		struct pic p;
		struct result r;
		if (read_trace(argv[t], &p) || build(&c, name, &p, &r)) {
			ret = 2;
			break;
		}
		if (events) {
			for (unsigned k = 0; k < r.events; k++) {
				char line[1024];
				ims_event_format(&r.kept[k], line, sizeof(line));
				printf("%s\n", line);
			}
			free(r.in);
			free(r.kept);
			continue;
		}
		printf("%s: %u of %u domains of its geometry; %u events steered, %u of its %u ops as "
		       "it has them; %zu bytes\n", name, r.geo_ok, p.ndoms, r.events, r.matched, p.nw,
		       r.len);
		if (check && !same_file(path, r.in, r.len)) {
			fprintf(stderr, "ops_corpus: %s differs from what %s gives\n", path, argv[t]);
			ret = 1;
		} else if (!check) {
			FILE *f = fopen(path, "wb");
			if (!f || fwrite(r.in, 1, r.len, f) != r.len || fclose(f)) {
				fprintf(stderr, "ops_corpus: %s: %s\n", path, strerror(errno));
				ret = 2;
			}
		}
		free(r.in);
		free(r.kept);
	}
	if (check && ret < 2) {
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			bool made = false;
			for (int t = a; t < argc && !made; t++)
				made = !strcmp(names[t], de->d_name);
			if (!made) {
				fprintf(stderr, "ops_corpus: %s/%s comes from no trace\n", dir, de->d_name);
				ret = 1;
			}
		}
		if (d)
			closedir(d);
	}
	if (ret == 1)
		fprintf(stderr, "ops_corpus: the corpus has drifted from the generator or the traces; "
			"make it again (docs/fuzzing.md, \"Coverage guidance\")\n");
	free(names);
	free(geos);
	return ret;
}
