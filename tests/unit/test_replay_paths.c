/* The replay's fast DMA paths against its general one.
 *
 * A dma that fits in a page takes one call to the model (iommu_dma_page),
 * ims_replay_run hands runs of them to the model in one call
 * (replay_dmas, iommu_dma_pages), and the model serves IOTLB hits on a
 * path of their own. replay_set_reference() sends every dma through the
 * general loop of dma_core, one event at a time, and every translation
 * through translate_general. Random traces of every format, under model
 * configurations that take each branch (micro-TLB, no IOTLB, tiny caches
 * with every replacement policy, a fault queue that overflows, a DMA
 * budget that stops the replay, a live migration's GPA accounting), are
 * replayed four ways: whole with
 * ims_replay_run, whole with an on_event hook (one event at a time inside
 * the batches), event by event, and event by event on the reference
 * paths. Everything must come out the same: return codes and messages,
 * the replay's statistics and fault bookkeeping, the model's counters,
 * latency histogram and fault queue, the memory's counters, every leaf
 * entry of the mapped ranges, the model's oracle and the replay's records
 * of written pages (IOVA, and GPA during a migration).
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"
#include "iommusim/mem.h"
#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "iommusim/replay.h"
#include "iommusim/trace.h"

struct fmt {
	const char *line; /* the domain line's format part */
	uint64_t g;       /* granule */
};

static const struct fmt fmts[] = {
	{"format=amdv1 levels=4", 4096},
	{"format=vtd levels=4", 4096},
	{"format=smmuv3 granule=4K ias=48", 4096},
	{"format=smmuv3 granule=16K ias=48", 16384},
	{"format=smmuv3 granule=64K ias=48", 65536},
};

struct region {
	uint64_t iova, size;
	bool mapped;
};

#define NREG 3
#define NDOM 2

struct gen {
	char *buf;
	size_t len, cap;
	unsigned seed;
	const struct fmt *f;
	struct region reg[NDOM][NREG];
	bool tracked[NDOM];
	uint64_t max_len; /* longest dma */
};

static void put(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(n, 0);
		if (g->len + (size_t)n < g->cap) {
			g->len += (size_t)n;
			return;
		}
		g->cap = g->cap * 2 + (size_t)n + 1024;
		g->buf = realloc(g->buf, g->cap);
		ck_assert_ptr_nonnull(g->buf);
	}
}

static unsigned rnd(struct gen *g, unsigned n)
{
	return (unsigned)rand_r(&g->seed) % n;
}

static void map_region(struct gen *g, unsigned d, unsigned k)
{
	struct region *r = &g->reg[d][k];
	put(g, "map domain=%u iova=0x%" PRIx64 " pa=0x%" PRIx64 " size=0x%" PRIx64 "\n", d + 1,
	    r->iova, (uint64_t)(d + 1) << 36 | r->iova, r->size);
	r->mapped = true;
}

/* A random valid trace of n events after the set-up; the last one is a dma
 * past the budget when over_budget (the replay stops there). */
static void make_trace(struct gen *g, const struct fmt *f, unsigned n, bool over_budget)
{
	g->len = 0;
	g->f = f;
	put(g, "iommusim-trace 1\n");
	for (unsigned d = 0; d < NDOM; d++) {
		put(g, "domain id=%u %s dirty=on\n", d + 1, f->line);
		/* A region of large leaves, one of granule pages, one small. */
		g->reg[d][0] = (struct region){0x40000000ull + (d << 30), 8ull << 20, false};
		g->reg[d][1] = (struct region){0x10000000ull + f->g * rnd(g, 64), 64 * f->g, false};
		g->reg[d][2] = (struct region){0x20000000ull, 4 * f->g, false};
		for (unsigned k = 0; k < NREG; k++)
			map_region(g, d, k);
	}
	put(g, "attach dev=1 domain=1\nattach dev=2 domain=2\nattach dev=3 domain=1\n");
	put(g, "track domain=1 on\ntrack domain=2 on\n");
	g->tracked[0] = g->tracked[1] = true;
	static const char *dirs[] = {"r", "w", "rw"};
	for (unsigned i = 0; i < n; i++) {
		unsigned k = rnd(g, 100);
		unsigned d = rnd(g, NDOM);
		struct region *r = &g->reg[d][rnd(g, NREG)];
		if (k < 78) {
			/* Mostly devices of domain d, now and then one of no domain. */
			unsigned dev = rnd(g, 20) == 0 ? 9 : d == 0 ? (rnd(g, 2) ? 1 : 3) : 2;
			static const uint64_t lens[] = {8, 64, 512, 4096, 4096, 4096, 16, 0x3100, 8192};
			uint64_t len = lens[rnd(g, sizeof(lens) / sizeof(lens[0]))];
			if (len > g->max_len)
				len = g->max_len;
			/* Within the region, sometimes a little outside (a fault). */
			uint64_t off = (uint64_t)rnd(g, (unsigned)(r->size / 8)) * 8;
			uint64_t iova = r->iova + off;
			if (rnd(g, 25) == 0)
				iova = r->iova + r->size + 8 * rnd(g, 64);
			else if (rnd(g, 3) == 0)
				iova &= ~4095ull; /* page-aligned: a whole-page DMA */
			put(g, "dma dev=%u iova=0x%" PRIx64 " len=%" PRIu64 " dir=%s\n", dev, iova, len,
			    dirs[rnd(g, 3)]);
		} else if (k < 85 && g->tracked[d]) {
			put(g, "harvest domain=%u iova=0x%" PRIx64 " size=0x%" PRIx64 "%s\n", d + 1,
			    r->iova, r->size, rnd(g, 3) == 0 ? " noclear" : "");
		} else if (k < 90) {
			if (r->mapped) {
				put(g, "unmap domain=%u iova=0x%" PRIx64 " size=0x%" PRIx64 "\n", d + 1,
				    r->iova, r->size);
				r->mapped = false;
			} else {
				map_region(g, d, (unsigned)(r - g->reg[d]));
			}
		} else if (k < 94) {
			g->tracked[d] = rnd(g, 3) != 0;
			put(g, "track domain=%u %s\n", d + 1, g->tracked[d] ? "on" : "off");
		} else if (k < 97) {
			put(g, "flush domain=%u\n", d + 1);
		} else {
			/* A burst of writes to one page: IOTLB hits and the memos. */
			uint64_t iova = r->iova + f->g * rnd(g, (unsigned)(r->size / f->g));
			for (unsigned j = 0; j < 6; j++)
				put(g, "dma dev=%u iova=0x%" PRIx64 " len=8 dir=%s\n", d == 0 ? 1 : 2,
				    iova + 8 * j, dirs[1 + rnd(g, 2)]);
		}
	}
	/* Past the budget; with a budget below a page, within one page. */
	if (over_budget)
		put(g, "dma dev=1 iova=0x%" PRIx64 " len=%" PRIu64 " dir=w\n", g->reg[0][0].iova,
		    g->max_len + (g->max_len < 4096 ? 88 : 4096));
}

enum way { WHOLE, WHOLE_HOOKED, EVENTS, REFERENCE };

static void hook(void *arg, struct ims_replay *r, const struct ims_event *ev)
{
	(void)r;
	(void)ev;
	++*(uint64_t *)arg;
}

struct run {
	struct ims_replay *rp;
	int rc;
	uint64_t hooked;
	struct ims_fault *faults; /* the reference's, popped (pop_faults) */
	size_t nfaults;
};

static void replay(struct run *out, const char *text, size_t len, const struct ims_replay_opts *base,
		   enum way way, bool mig)
{
	struct ims_replay_opts o = *base;
	out->hooked = 0;
	if (way == WHOLE_HOOKED) {
		o.on_event = hook;
		o.on_event_arg = &out->hooked;
	}
	ck_assert_int_eq(ims_replay_new(&o, &out->rp), 0);
	if (way == REFERENCE)
		replay_set_reference(out->rp, true);
	/* A live migration's accounting: the GPA pages devices write. */
	if (mig)
		ck_assert_int_eq(ims_replay_mig_start(out->rp, IMS_MIG_HW), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("paths", text, len, 1, &rd), 0);
	if (way == WHOLE || way == WHOLE_HOOKED) {
		out->rc = ims_replay_run(out->rp, rd);
	} else {
		/* As ims_replay_run ends: a read error is the replay's. */
		struct ims_event ev;
		int k = 0;
		out->rc = 0;
		while (!out->rc && (k = ims_reader_next(rd, &ev)) == 1)
			out->rc = ims_replay_event(out->rp, &ev, "paths");
		if (!out->rc && k < 0) {
			out->rc = k;
			snprintf(out->rp->t.err, sizeof(out->rp->t.err), "%s", ims_reader_error(rd));
		}
	}
	ims_reader_close(rd);
}

struct runs_list {
	uint64_t v[4096];
	size_t n;
};

static int collect(void *arg, uint64_t iova, uint64_t npages)
{
	struct runs_list *l = arg;
	if (l->n + 2 <= sizeof(l->v) / sizeof(l->v[0])) {
		l->v[l->n++] = iova;
		l->v[l->n++] = npages;
	}
	return 0;
}

static void same_oracle(const struct ims_oracle *a, const struct ims_oracle *b, uint16_t dom)
{
	static struct runs_list la, lb;
	la.n = lb.n = 0;
	ck_assert_uint_eq(ims_oracle_count(a, dom, 0, 0), ims_oracle_count(b, dom, 0, 0));
	ims_oracle_for_each(a, dom, 0, 0, collect, &la);
	ims_oracle_for_each(b, dom, 0, 0, collect, &lb);
	ck_assert_uint_eq(la.n, lb.n);
	ck_assert_mem_eq(la.v, lb.v, la.n * sizeof(la.v[0]));
}

/* Everything that a DMA path touches, a against the reference b: domains
 * 1..ndom, and with g every leaf entry of its regions. */
static void same(const struct run *a, const struct run *b, const struct gen *g, uint16_t ndom)
{
	ck_assert_int_eq(a->rc, b->rc);
	ck_assert_str_eq(ims_replay_error(a->rp), ims_replay_error(b->rp));
	ck_assert_mem_eq(ims_replay_stats(a->rp), ims_replay_stats(b->rp),
			 sizeof(struct ims_replay_stats));
	const struct ims_tb *ta = &a->rp->t, *tb = &b->rp->t;
	ck_assert_uint_eq(ta->fline.n, tb->fline.n);
	if (ta->fline.n)
		ck_assert_mem_eq(ta->fline.v, tb->fline.v, ta->fline.n * sizeof(uint64_t));
	ck_assert_uint_eq(ta->fdrop_seen, tb->fdrop_seen);
	ck_assert_uint_eq(ta->fdrop_told, tb->fdrop_told);
	ck_assert_uint_eq(ta->fdrop_line, tb->fdrop_line);
	struct ims_iommu *ma = ims_replay_iommu(a->rp), *mb = ims_replay_iommu(b->rp);
	ck_assert_mem_eq(ims_iommu_counters(ma), ims_iommu_counters(mb),
			 sizeof(struct ims_iommu_counters));
	ck_assert_mem_eq(ims_mem_counters(ims_replay_mem(a->rp)), ims_mem_counters(ims_replay_mem(b->rp)),
			 sizeof(struct ims_mem_counters));
	for (double q = 0.1; q < 1.0; q += 0.1)
		ck_assert_uint_eq(ims_iommu_latency_percentile(ma, q),
				  ims_iommu_latency_percentile(mb, q));
	ck_assert_uint_eq(ims_iommu_latency_max(ma), ims_iommu_latency_max(mb));
	same_oracle(ta->mig, tb->mig, MIG_WRITTEN);
	for (uint16_t dom = 1; dom <= ndom; dom++) {
		same_oracle(ims_iommu_oracle(ma), ims_iommu_oracle(mb), dom);
		same_oracle(ta->written, tb->written, dom);
		/* Every leaf entry of the ranges, A/D bits included. */
		for (unsigned k = 0; g && k < NREG; k++) {
			const struct region *r = &g->reg[dom - 1][k];
			for (uint64_t at = r->iova; at < r->iova + r->size; at += g->f->g) {
				struct ims_leaf la, lb;
				int ka = ims_iommu_leaf(ma, dom, at, &la);
				int kb = ims_iommu_leaf(mb, dom, at, &lb);
				ck_assert_int_eq(ka, kb);
				if (!ka) {
					ck_assert_uint_eq(la.pte, lb.pte);
					ck_assert_uint_eq(la.pte_pa, lb.pte_pa);
					ck_assert_int_eq(la.dirty, lb.dirty);
					ck_assert_int_eq(la.accessed, lb.accessed);
				}
			}
		}
	}
	/* The queue, popped from a; b's was popped into b->faults. */
	struct ims_fault fa;
	size_t k = 0;
	while (ims_iommu_fault_pop(ma, &fa)) {
		ck_assert_uint_lt(k, b->nfaults);
		ck_assert_mem_eq(&fa, &b->faults[k], sizeof(fa));
		k++;
	}
	ck_assert_uint_eq(k, b->nfaults);
}

/* The reference's fault queue, popped once for every comparison. */
static void pop_faults(struct run *r)
{
	struct ims_iommu *m = ims_replay_iommu(r->rp);
	r->nfaults = 0;
	r->faults = malloc((ims_iommu_fault_pending(m) + 1) * sizeof(*r->faults));
	ck_assert_ptr_nonnull(r->faults);
	while (ims_iommu_fault_pop(m, &r->faults[r->nfaults]))
		r->nfaults++;
}

/* Model configurations: each sends some translations down another path. */
static void config(unsigned c, struct ims_replay_opts *o, struct gen *g)
{
	ims_replay_opts_default(o);
	o->verbosity = 0;
	g->max_len = 0x3100;
	switch (c) {
	case 1: /* a micro-TLB per device: translate_general */
		o->model.utlb_enable = true;
		o->model.utlb_entries = 8;
		break;
	case 2: /* no IOTLB: every translation walks */
		o->model.iotlb_entries = 0;
		o->model.wc_disable = true;
		break;
	case 3: /* tiny caches, other policies, replicas picked at random, a
		 * small fault queue and DMA budget */
		o->model.iotlb_entries = 16;
		o->model.iotlb_ways = 4;
		o->model.iotlb_policy = IMS_REPL_RANDOM;
		o->model.wc_entries = 4;
		o->model.wc_ways = 2;
		o->model.wc_policy = IMS_REPL_ROUND_ROBIN;
		o->model.replica = IMS_REPLICA_RANDOM;
		o->budgets.fault_records = 8;
		o->budgets.dma_bytes = 8192;
		g->max_len = 8192;
		break;
	case 4: /* a DMA budget below a page */
		o->budgets.dma_bytes = 512;
		g->max_len = 512;
		break;
	default:
		break;
	}
}

START_TEST(paths_agree)
{
	const struct fmt *f = &fmts[_i];
	struct gen g = {.cap = 1 << 16, .seed = 7 + (unsigned)_i};
	g.buf = malloc(g.cap);
	ck_assert_ptr_nonnull(g.buf);
	for (unsigned c = 0; c < 5; c++) {
		for (unsigned round = 0; round < 2; round++) {
			struct ims_replay_opts o;
			config(c, &o, &g);
			bool over = c >= 3 && round == 1, mig = c < 3 && round == 1;
			make_trace(&g, f, 1500, over);
			struct run ref, other;
			replay(&ref, g.buf, g.len, &o, REFERENCE, mig);
			if (over)
				ck_assert_int_ne(ref.rc, 0); /* the budget stopped it */
			else
				ck_assert_msg(ref.rc == 0, "%s: %s", f->line, ims_replay_error(ref.rp));
			ck_assert_uint_gt(ims_replay_stats(ref.rp)->dma_ops, 1000);
			ck_assert_uint_gt(ims_iommu_counters(ims_replay_iommu(ref.rp))->faults, 0);
			pop_faults(&ref);
			for (enum way w = WHOLE; w < REFERENCE; w++) {
				replay(&other, g.buf, g.len, &o, w, mig);
				same(&other, &ref, &g, NDOM);
				if (w == WHOLE_HOOKED)
					ck_assert_uint_eq(other.hooked, ims_replay_stats(ref.rp)->events);
				ims_replay_free(other.rp);
			}
			ims_replay_free(ref.rp);
			free(ref.faults);
		}
	}
	free(g.buf);
}
END_TEST

/* Every trace of the tree (tests/traces, tests/traces-fail, examples) and
 * of the shared samples, as the ways above replay them with the model's
 * defaults: the ones meant to fail must fail alike. */
static void each_trace(const char *dir, void (*fn)(const char *path, const char *text, size_t len),
		       unsigned *n)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "find '%s' -name '*.trace' | sort", dir);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	char path[4096];
	while (fgets(path, sizeof(path), p)) {
		path[strcspn(path, "\n")] = 0;
		FILE *f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		static char text[1 << 20];
		size_t len = fread(text, 1, sizeof(text), f);
		fclose(f);
		ck_assert_uint_lt(len, sizeof(text));
		fn(path, text, len);
		++*n;
	}
	pclose(p);
}

static void trace_ways(const char *path, const char *text, size_t len)
{
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	o.diag = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(o.diag);
	struct run ref, other;
	replay(&ref, text, len, &o, REFERENCE, false);
	pop_faults(&ref);
	for (enum way w = WHOLE; w < REFERENCE; w++) {
		replay(&other, text, len, &o, w, false);
		ck_assert_msg(other.rc == ref.rc, "%s: %d against %d", path, other.rc, ref.rc);
		same(&other, &ref, NULL, 64);
		ims_replay_free(other.rp);
	}
	ims_replay_free(ref.rp);
	free(ref.faults);
	fclose(o.diag);
}

START_TEST(traces_agree)
{
	const char *src = getenv("IMS_SRC");
	if (!src)
		return;
	static const char *dirs[] = {"tests/traces", "tests/traces-fail", "examples"};
	unsigned n = 0;
	for (unsigned i = 0; i < 3; i++) {
		char d[4096];
		snprintf(d, sizeof(d), "%s/%s", src, dirs[i]);
		each_trace(d, trace_ways, &n);
	}
	const char *shared = getenv("IMS_SHARED");
	if (shared) {
		char d[4096];
		snprintf(d, sizeof(d), "%s/traces", shared);
		each_trace(d, trace_ways, &n);
	}
	ck_assert_uint_gt(n, 50);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("replay_paths");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, paths_agree, 0, (int)(sizeof(fmts) / sizeof(fmts[0])));
	tcase_add_test(tc, traces_agree);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
