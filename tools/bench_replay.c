/* `iommusim bench`: the replay and trace-reading sections.
 *
 * Replay: a domain is set up through the replayer from trace text, then a
 * dma event (parsed once from text) is replayed over and over with its
 * iova changed, so the time is the replayer's and the model's, not the
 * reader's. The same page sequence also goes straight to the model
 * (ims_iommu_access), which splits the cost between the two. Floors: a
 * hit-heavy page costs at least one look-up in a flat direct-mapped table
 * the size of the IOTLB; a walk-heavy page at least one load of its leaf
 * entry from a flat array as large as the leaf tables.
 *
 * Reading: one trace, written as text, gzip text and binary, is read back
 * through ims_reader; the floor is getting the same file's bytes without
 * parsing them (read(2) for text; inflating for gzip, and for binary its
 * blocks' deflate payloads, found by walking its block framing).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "formats/format.h"
#include "harness/replay_int.h"
#include "iommusim/replay.h"
#include "iommusim/trace.h"
#include "iommusim/tracebin.h"
#include "model/prefetch.h"
#include "tools/bench.h"
#include "tools/cmd.h"

#define GiB (1ull << 30)

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ---- replay ------------------------------------------------------------------ */

struct rp {
	struct ims_replay *r;
	struct ims_event dma; /* template: iova and dir change per page */
};

/* Parses `text` and applies every event but a trailing dma, which becomes
 * the template. */
static int rp_open(struct rp *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	int rc = ims_replay_new(&o, &p->r);
	if (rc)
		return rc;
	struct ims_reader *rd;
	rc = ims_reader_open_mem("bench", text, strlen(text), 1, &rd);
	if (rc) {
		ims_replay_free(p->r);
		return rc;
	}
	struct ims_event ev;
	bool have = false;
	while ((rc = ims_reader_next(rd, &ev)) == 1) {
		if (ev.op == IMS_OP_DMA) {
			p->dma = ev;
			have = true;
			continue;
		}
		rc = ims_replay_event(p->r, &ev, "bench");
		if (rc) {
			fprintf(stderr, "iommusim bench: replay set-up: %s\n", ims_replay_error(p->r));
			break;
		}
	}
	if (rc < 0 && rc != -EINVAL)
		fprintf(stderr, "iommusim bench: replay set-up: %s\n", ims_reader_error(rd));
	ims_reader_close(rd);
	if (rc || !have) {
		ims_replay_free(p->r);
		return rc ? rc : -EINVAL;
	}
	p->dma.expect_hex = NULL;
	return 0;
}

/* Hit-heavy: pages of a small working set (it fits the IOTLB); walk-heavy:
 * uniformly random 4 KiB pages of the whole span. Every other page of a
 * hit-heavy run is a write, every fourth of a walk-heavy one. */
static int seq_make(struct replay_seq *s, size_t n, uint64_t span, bool hot)
{
	s->iova = malloc(n * sizeof(*s->iova));
	s->dir = malloc(n);
	s->n = n;
	if (!s->iova || !s->dir)
		return -ENOMEM;
	uint64_t pages = span >> 12;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = mix(i * 2 + hot);
		s->iova[i] = (h % pages) << 12;
		s->dir[i] = (uint8_t)(hot ? (i % 2 ? IMS_ACC_W : IMS_ACC_R)
					  : (i % 4 ? IMS_ACC_R : IMS_ACC_W));
	}
	return 0;
}

static void seq_free(struct replay_seq *s)
{
	free(s->iova);
	free(s->dir);
}

/* As ims_replay_run replays the dmas it reads: REPLAY_BATCH at a time
 * (replay_dmas), each hinted REPLAY_AHEAD dmas before its turn. */
static int run_replay(struct rp *p, const struct replay_seq *s, double *secs)
{
	enum { B = REPLAY_BATCH, H = REPLAY_BATCH + REPLAY_AHEAD };
	struct ims_event ev[H];
	for (size_t k = 0; k < H; k++)
		ev[k] = p->dma;
	double t0 = now_seconds();
	for (size_t i = 0; i < s->n; i += B) {
		size_t n = s->n - i < B ? s->n - i : B, nh = s->n - i < H ? s->n - i : H;
		for (size_t k = 0; k < nh; k++) {
			ev[k].v[IMS_K_IOVA] = s->iova[i + k];
			ev[k].v[IMS_K_DIR] = s->dir[i + k];
		}
		int rc = replay_dmas(p->r, ev, n, nh, "bench");
		if (rc) {
			fprintf(stderr, "iommusim bench: replay: %s\n", ims_replay_error(p->r));
			return rc;
		}
	}
	*secs = now_seconds() - t0;
	return 0;
}

static int run_model(struct ims_iommu *mmu, uint32_t dev, const struct replay_seq *s, double *secs)
{
	uint64_t faults = 0;
	double t0 = now_seconds();
	for (size_t i = 0; i < s->n; i++) {
		struct ims_xlate x;
		size_t a = i + REPLAY_AHEAD;
		if (a < s->n)
			iommu_prefetch(mmu, dev, s->iova[a], s->dir[a]);
		faults += ims_iommu_access(mmu, dev, s->iova[i], s->dir[i], &x) != 0;
	}
	*secs = now_seconds() - t0;
	return faults ? -EFAULT : 0;
}

static void probe_min(double *best, double t)
{
	if (t > 0 && (*best <= 0 || t < *best))
		*best = t;
}

/* Seconds for a fixed loop of six independent chains, each a load from a
 * 32 KiB table (it stays in the L1 cache), an xor, a shift and an add: it
 * needs the core's ports and its L1 cache and nothing beyond, so it runs
 * slower only when the core is slower or shared. On a shared VM host the
 * core's other hardware thread may run another guest's work: a hit-heavy
 * replay then runs at about 0.55 of its speed for seconds at a time, in
 * no relation to what this process does (docs/benchmarks.md, "Replay").
 * The bench's timer is the thread's CPU time, so a preemption inside the
 * guest does not show; a chain of dependent multiplies does not see it
 * either (its latency does not change). */
static double host_probe_once(void)
{
	static uint64_t tab[4096];
	if (!tab[1])
		for (unsigned i = 0; i < 4096; i++)
			tab[i] = mix(i) | 1;
	uint64_t a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6;
	double t0 = now_seconds();
	for (uint64_t k = 0; k < 25000; k++) {
		a0 = (a0 ^ tab[a0 & 4095]) + (a0 >> 3);
		a1 = (a1 ^ tab[a1 & 4095]) + (a1 >> 5);
		a2 = (a2 ^ tab[a2 & 4095]) + (a2 >> 7);
		a3 = (a3 ^ tab[a3 & 4095]) + (a3 >> 11);
		a4 = (a4 ^ tab[a4 & 4095]) + (a4 >> 13);
		a5 = (a5 ^ tab[a5 & 4095]) + (a5 >> 17);
	}
	double t = now_seconds() - t0;
	volatile uint64_t sink = a0 + a1 + a2 + a3 + a4 + a5;
	(void)sink;
	return t;
}

/* The best of four: an interrupt lands in one of them. */
static double host_probe(void)
{
	double best = 0;
	for (int i = 0; i < 4; i++)
		probe_min(&best, host_probe_once());
	return best;
}

struct rfmt {
	const char *name;
	const char *domain; /* the domain line's format part */
};

/* Each format's first benchmark layout (formats/format.h), as a domain
 * line's format part; false when the format is not registered. */
static bool replay_format(enum ims_format f, struct rfmt *out, char *buf, size_t len)
{
	const struct fmt_desc *d = fmt_get(f);
	if (!d || !d->n_bench_layouts)
		return false;
	const struct fmt_geom *g = &d->bench_layouts[0].geom;
	int n = snprintf(buf, len, "format=%s", d->name);
	if (g->levels && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " levels=%u", g->levels);
	if (g->granule_shift && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " granule=%uK", 1u << (g->granule_shift - 10));
	if (g->ias && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " ias=%u", g->ias);
	*out = (struct rfmt){d->name, buf};
	return true;
}

/* The probe beside the fastest of the runs in `t` (the run a figure's
 * best rate comes from); 0 without runs. */
static double probe_at_best(const struct timer_runs *t, const struct timer_runs *probe)
{
	unsigned b = 0;
	for (unsigned i = 1; i < t->n; i++)
		if (t->t[i] < t->t[b])
			b = i;
	return b < t->n && b < probe->n ? probe->t[b] : 0;
}

static int one_replay(const struct bench_opts *o, struct bench_results *res, const struct rfmt *f,
		      bool hot, uint64_t span, size_t npages, struct floor_buf *fb)
{
	char text[1024];
	char sz[32];
	snprintf(text, sizeof(text), "%s %s", f->name, hot ? "hit-heavy" : "walk-heavy");
	if (o->match && !strstr(text, o->match))
		return 0;
	snprintf(text, sizeof(text),
		 "iommusim-trace 1\n"
		 "domain id=1 %s pgsizes=4K dirty=on\n"
		 "attach dev=00:03.0 domain=1\n"
		 "map domain=1 iova=0 pa=0x10000000000 size=%s pgsize=4K\n"
		 "track domain=1 on\n"
		 "dma dev=00:03.0 iova=0 len=4K dir=w\n",
		 f->domain, bench_size_str(hot ? (span < GiB ? span : GiB) : span, sz, sizeof(sz)));
	bench_note(o, "replay %s %s over %s: set-up", f->name, hot ? "hit-heavy" : "walk-heavy", sz);
	struct rp p;
	int rc = rp_open(&p, text);
	if (rc) {
		fprintf(stderr, "iommusim bench: replay %s: set-up failed (%s)\n", f->name, strerror(-rc));
		return -1;
	}
	struct replay_seq s = {0};
	uint64_t seq_span = hot ? 256 * 4096 : span; /* 256 pages: 1 MiB, an eighth of the IOTLB */
	if (seq_make(&s, npages, seq_span, hot)) {
		seq_free(&s);
		ims_replay_free(p.r);
		return -1;
	}
	struct replay_row *rr = res_add_replay(res), *rm = res_add_replay(res);
	if (!rr || !rm) {
		seq_free(&s);
		ims_replay_free(p.r);
		return -1;
	}
	struct ims_iommu *mmu = ims_replay_iommu(p.r);
	struct timer_runs tr = {.n = 0}, tm = {.n = 0}, tf = {.n = 0}, tw = {.n = 0};
	const struct ims_iommu_counters *c = ims_iommu_counters(mmu);
	uint64_t h0 = 0, w0 = 0;
	/* A run lasts 0.1 s (hit-heavy) to 1 s (walk-heavy), no longer than
	 * the bursts in which a shared host halves a rate (seen: runs at half
	 * speed, then full speed again in the same process); three times the
	 * runs give the best a fair chance at a quiet moment. */
	unsigned reps = o->repeat * 3 < 64 ? o->repeat * 3 : 64;
	/* host_probe beside each timed run, indexed as tr's and tm's runs */
	struct timer_runs pr = {.n = 0}, pm = {.n = 0};
	/* Interrupted: the runs so far make the figure (one at least). */
	for (unsigned rep = 0; rep <= reps && !rc && !(rep > 1 && bench_interrupted()); rep++) {
		double t;
		/* Run 0 warms the caches (and the IOTLB) and is not counted. */
		if (rep == 1) {
			h0 = c->iotlb_hits;
			w0 = c->walks;
		}
		/* Probed before and after each run: the faster of the two, so
		 * that a burst must cover the run to show. */
		double p0 = rep ? host_probe() : 0;
		rc = run_replay(&p, &s, &t);
		double p1 = rep ? host_probe() : 0;
		if (!rc && rep) {
			runs_add(&tr, t);
			runs_add(&pr, p0 < p1 ? p0 : p1);
		}
		if (!rc && rep == 1) {
			rr->iotlb_hits = c->iotlb_hits - h0;
			rr->walks = c->walks - w0;
		}
		if (!rc)
			rc = run_model(mmu, (uint32_t)p.dma.v[IMS_K_DEV], &s, &t);
		if (!rc && rep) {
			double p2 = host_probe();
			runs_add(&tm, t);
			runs_add(&pm, p1 < p2 ? p1 : p2);
		}
		if (rep)
			runs_add(&tf, hot ? replay_floor_hit(&s) : replay_floor_leaf(&s, span, fb));
		if (rep && !hot) {
			double w = replay_floor_walk(&s, span, fb);
			if (w > 0) /* 0: out of memory, no walk floor */
				runs_add(&tw, w);
		}
	}
	if (rc)
		fprintf(stderr, "iommusim bench: replay %s: %s\n", f->name,
			rc == -EFAULT ? "a DMA faulted" : "failed");
	struct replay_row *rows[2] = {rr, rm};
	for (int k = 0; k < 2; k++) {
		struct replay_row *x = rows[k];
		snprintf(x->name, sizeof(x->name), "%s", hot ? "hit-heavy" : "walk-heavy");
		snprintf(x->path, sizeof(x->path), "%s", k ? "model" : "replay");
		snprintf(x->format, sizeof(x->format), "%s", f->name);
		x->pages = s.n;
		x->span = seq_span;
		x->t = runs_summary(k ? &tm : &tr);
		x->floor = runs_summary(&tf);
		x->walk_floor = runs_summary(&tw);
		x->target = hot ? 60e6 : 15e6; /* issue 24 */
		x->host_probe = probe_at_best(k ? &tm : &tr, k ? &pm : &pr);
	}
	if (tr.n && tm.n) {
		rr->x_model = rr->t.best / rm->t.best;
		rr->x_model_median = rr->t.median / rm->t.median;
	}
	rm->iotlb_hits = rr->iotlb_hits;
	rm->walks = rr->walks;
	seq_free(&s);
	ims_replay_free(p.r);
	return rc ? -1 : 0;
}

/* Nanoseconds per load of pointer chases (one random cycle) through
 * `bytes` of memory, `chains` of them in flight (each starting elsewhere
 * on the cycle, so that their loads are independent). One chain: what a
 * walk-heavy page costs when nothing overlaps its leaf-entry miss; several:
 * how fast memory serves misses that do overlap, the bound of memory-level
 * parallelism. The host's memory latency moves from run to run on a shared
 * machine; the table prints it next to the rates it explains. */
static void chase_ns(uint64_t bytes, const unsigned *chains, double *ns, unsigned n)
{
	size_t words = (size_t)(bytes / sizeof(uint64_t));
	uint64_t *a = malloc(words * sizeof(*a));
	for (unsigned k = 0; k < n; k++)
		ns[k] = 0;
	if (!a || words < 2) {
		free(a);
		return;
	}
	/* Sattolo's shuffle: a single cycle through every slot. */
	for (size_t i = 0; i < words; i++)
		a[i] = i;
	for (size_t i = words - 1; i > 0; i--) {
		size_t j = (size_t)(mix(i) % i);
		uint64_t t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
	enum { MAXC = 16 };
	const unsigned loads = 2000000;
	uint64_t sum = 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned c = chains[k] < MAXC ? chains[k] : MAXC;
		uint64_t at[MAXC];
		for (unsigned j = 0; j < c; j++)
			at[j] = mix(j + 1) % words;
		double t0 = now_seconds();
		for (unsigned i = 0; i < loads / c; i++)
			for (unsigned j = 0; j < c; j++)
				at[j] = a[at[j]];
		double t1 = now_seconds();
		for (unsigned j = 0; j < c; j++)
			sum += at[j];
		ns[k] = (t1 - t0) * 1e9 / (double)(loads / c * c);
	}
	volatile uint64_t sink = sum;
	(void)sink;
	free(a);
}

/* Each figure's host speed: the probe beside the section's typical
 * fastest run (the median of the figures' probes) over the one beside the
 * figure's fastest run, at most 1. Not the section's fastest probe: a
 * moment of higher turbo would mark every figure down. */
static void host_speeds(struct replay_row *rows, size_t n)
{
	struct timer_runs all = {.n = 0};
	for (size_t i = 0; i < n; i++)
		if (rows[i].host_probe > 0)
			runs_add(&all, rows[i].host_probe);
	double ref = all.n ? runs_summary(&all).median : 0;
	for (size_t i = 0; i < n; i++) {
		double h = rows[i].host_probe > 0 ? ref / rows[i].host_probe : 0;
		rows[i].host_speed = h > 1 ? 1 : h;
	}
}

int bench_replay(const struct bench_opts *o, struct bench_results *res)
{
	uint64_t span = o->size == BENCH_FULL ? 64 * GiB : o->size == BENCH_QUICK ? GiB : 64ull << 20;
	size_t n = o->size == BENCH_FULL ? 4000000 : o->size == BENCH_QUICK ? 1000000 : 20000;
	unsigned nf = o->size == BENCH_FULL ? IMS_FMT_COUNT : 1;
	struct floor_buf fb = {0};
	size_t first = res->nrp;
	int rc = 0;
	for (unsigned fi = 0; fi < nf && !rc && !bench_interrupted(); fi++) {
		struct rfmt rf;
		char dline[96];
		if (!replay_format((enum ims_format)fi, &rf, dline, sizeof(dline)))
			continue;
		rc = one_replay(o, res, &rf, true, span, n, &fb);
		if (!rc && !bench_interrupted())
			rc = one_replay(o, res, &rf, false, span, n, &fb);
	}
	floor_free(&fb);
	host_speeds(res->rp + first, res->nrp - first);
	if (!rc && !bench_interrupted()) {
		uint64_t bytes = span >> 9; /* the leaf tables: 8 bytes per 4 KiB */
		static const unsigned chains[2] = {1, 8};
		double ns[2];
		chase_ns(bytes, chains, ns, 2);
		res->mem_latency_bytes = bytes;
		res->mem_latency_ns = ns[0];
		res->mem_mlp_ns = ns[1];
		res->mem_mlp_chains = chains[1];
	}
	return rc;
}

/* ---- trace reading -------------------------------------------------------------- */

/* A scratch trace in --tmpdir, registered before it is made so that an
 * interruption removes it (tools/outputs.c). */
struct tfile {
	char path[4096];
	bool made;
	int id;
};

static void tf_register(struct tfile *t)
{
	t->id = pend_add(t->path, NULL, false);
}

static void tf_remove(struct tfile *t)
{
	if (t->made)
		unlink(t->path);
	t->made = false;
	pend_drop(t->id, false);
	t->id = -1;
}

/* Lines like a device's DMA stream with some software events among them:
 * 1 in 64 a map, an unmap or a harvest. */
static int write_text(FILE *f, gzFile gz, uint64_t nev)
{
	char line[160];
	int n = snprintf(line, sizeof(line),
			 "iommusim-trace 1\n"
			 "domain id=1 format=amdv1 levels=4 dirty=on\n"
			 "attach dev=00:03.0 domain=1\n"
			 "map domain=1 iova=0 pa=0x10000000000 size=1G\n"
			 "track domain=1 on\n");
	if ((f && fwrite(line, 1, (size_t)n, f) != (size_t)n) ||
	    (gz && gzwrite(gz, line, (unsigned)n) != n))
		return -EIO;
	for (uint64_t i = 4; i < nev; i++) {
		uint64_t h = mix(i);
		uint64_t iova = (h % (1ull << 18)) << 12;
		switch (h >> 58) {
		case 0:
			n = snprintf(line, sizeof(line), "harvest domain=1 iova=0x%" PRIx64 " size=2M\n",
				     (uint64_t)(iova & ~(uint64_t)0x1fffff));
			break;
		case 1:
			n = snprintf(line, sizeof(line),
				     "map domain=1 iova=0x%" PRIx64 " pa=0x%" PRIx64 " size=64K\n",
				     (uint64_t)((1ull << 32) + iova), (uint64_t)((2ull << 40) + iova));
			break;
		default:
			n = snprintf(line, sizeof(line), "dma dev=00:03.0 iova=0x%" PRIx64 " len=%s dir=%s\n",
				     iova + ((h >> 20) & 0xff0), (h >> 40) & 1 ? "4K" : "512",
				     (h >> 41) & 3 ? "r" : "w");
			break;
		}
		if ((f && fwrite(line, 1, (size_t)n, f) != (size_t)n) ||
		    (gz && gzwrite(gz, line, (unsigned)n) != n))
			return -EIO;
	}
	return 0;
}

static uint64_t file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n > 0 ? (uint64_t)n : 0;
}

/* Every event of the file through the reader; events counted. */
static int read_all(const char *path, uint64_t *events, double *secs, char *why, size_t n)
{
	struct ims_reader *r;
	char err[512];
	double t0 = now_seconds();
	int rc = ims_reader_open(path, &r, err, sizeof(err));
	if (rc) {
		snprintf(why, n, "%s", err);
		return rc;
	}
	struct ims_event ev;
	uint64_t k = 0;
	while ((rc = ims_reader_next(r, &ev)) == 1)
		k++;
	*secs = now_seconds() - t0;
	if (rc < 0)
		snprintf(why, n, "%s", ims_reader_error(r));
	ims_reader_close(r);
	*events = k;
	return rc < 0 ? rc : 0;
}

static double floor_read(const char *path)
{
	static char buf[1 << 20];
	double t0 = now_seconds();
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t got;
	uint64_t sum = 0;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		sum += (unsigned char)buf[got - 1];
	close(fd);
	volatile uint64_t sink = sum;
	(void)sink;
	return now_seconds() - t0;
}

static double floor_gunzip(const char *path)
{
	static char buf[1 << 20];
	double t0 = now_seconds();
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return 0;
	gzbuffer(gz, 1 << 17);
	int got;
	while ((got = gzread(gz, buf, sizeof(buf))) > 0)
		;
	gzclose(gz);
	return now_seconds() - t0;
}

static int varint(const unsigned char **p, const unsigned char *e, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned sh = 0; sh < 64 && *p < e; sh += 7) {
		unsigned char c = *(*p)++;
		x |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* The binary form's framing (docs/trace-binary.md): a 12-byte header, then
 * blocks 'B' nev rawlen clen <clen bytes of raw deflate> crc32, then 'E'.
 * Each payload is inflated; nothing is decoded. 0 when the framing is not
 * what this expects (the figure is then reported without a floor). */
static double floor_binary(const char *path)
{
	uint64_t size = file_size(path);
	unsigned char *data = malloc(size ? size : 1);
	unsigned char *out = NULL;
	size_t outcap = 0;
	double t0 = now_seconds(), result = 0;
	FILE *f = fopen(path, "rb");
	if (!data || !f || fread(data, 1, size, f) != size)
		goto done;
	const unsigned char *p = data + 12, *e = data + size;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (size < 12 || memcmp(data, "IMSB", 4) || inflateInit2(&zs, -15) != Z_OK)
		goto done;
	bool ok = false;
	while (p < e) {
		if (*p == 'E') {
			ok = true;
			break;
		}
		uint64_t nev, raw, clen;
		if (*p++ != 'B' || varint(&p, e, &nev) || varint(&p, e, &raw) || varint(&p, e, &clen) ||
		    clen > (uint64_t)(e - p) || raw > (1ull << 31))
			break;
		if (raw > outcap) {
			unsigned char *o = realloc(out, raw);
			if (!o)
				break;
			out = o;
			outcap = raw;
		}
		inflateReset(&zs);
		zs.next_in = (unsigned char *)p;
		zs.avail_in = (uInt)clen;
		zs.next_out = out;
		zs.avail_out = (uInt)raw;
		if (inflate(&zs, Z_FINISH) != Z_STREAM_END)
			break;
		p += clen + 4;
	}
	inflateEnd(&zs);
	if (ok)
		result = now_seconds() - t0;
done:
	if (f)
		fclose(f);
	free(data);
	free(out);
	return result;
}

/* Converts the text trace to binary through the reader and the writer. */
static int make_binary(const char *text, const char *bin, char *why, size_t n)
{
	struct ims_reader *r;
	char err[512];
	int rc = ims_reader_open(text, &r, err, sizeof(err));
	if (rc) {
		snprintf(why, n, "%s", err);
		return rc;
	}
	FILE *f = fopen(bin, "wb");
	struct ims_binwriter *w = NULL;
	if (!f || (rc = ims_binwriter_open(f, NULL, &w))) {
		snprintf(why, n, "binary: the writer failed to start (%s)", strerror(rc ? -rc : errno));
		if (f)
			fclose(f);
		ims_reader_close(r);
		return rc ? rc : -EIO;
	}
	struct ims_event ev;
	while ((rc = ims_reader_next(r, &ev)) == 1) {
		rc = ims_binwriter_add(w, &ev);
		if (rc) {
			snprintf(why, n, "binary: the writer refused an event (%s)", strerror(-rc));
			break;
		}
	}
	ims_reader_close(r);
	int crc = ims_binwriter_close(w, NULL);
	if (fclose(f) && !rc)
		rc = -EIO;
	if (!rc && crc) {
		snprintf(why, n, "binary: the writer failed to finish (%s)", strerror(-crc));
		rc = crc;
	}
	return rc < 0 ? rc : 0;
}

int bench_read(const struct bench_opts *o, struct bench_results *res)
{
	uint64_t nev = o->size == BENCH_FULL ? 2000000 : o->size == BENCH_QUICK ? 300000 : 5000;
	struct tfile tt = {{0}, false, -1}, tg = {{0}, false, -1}, tb = {{0}, false, -1};
	snprintf(tt.path, sizeof(tt.path), "%s/iommusim-bench-%d.trace", o->tmpdir, (int)getpid());
	snprintf(tg.path, sizeof(tg.path), "%s/iommusim-bench-%d.trace.gz", o->tmpdir, (int)getpid());
	snprintf(tb.path, sizeof(tb.path), "%s/iommusim-bench-%d.imsb", o->tmpdir, (int)getpid());
	tf_register(&tt);
	tf_register(&tg);
	tf_register(&tb);
	bench_note(o, "read: writing %" PRIu64 " events to %s", nev, tt.path);
	int rc = 0;
	FILE *f = fopen(tt.path, "w");
	gzFile gz = gzopen(tg.path, "wb6");
	tt.made = f != NULL;
	tg.made = gz != NULL;
	if (!f || !gz || write_text(f, NULL, nev) || write_text(NULL, gz, nev)) {
		fprintf(stderr, "iommusim bench: read: cannot write traces in %s\n", o->tmpdir);
		rc = -1;
	}
	if (f && fclose(f))
		rc = -1;
	if (gz && gzclose(gz) != Z_OK)
		rc = -1;

	struct read_row *rows[3] = {0};
	const char *forms[3] = {"text", "text.gz", "binary"};
	struct tfile *files[3] = {&tt, &tg, &tb};
	for (int k = 0; k < 3 && !rc; k++) {
		rows[k] = res_add_read(res);
		if (!rows[k]) {
			rc = -1;
			break;
		}
		snprintf(rows[k]->form, sizeof(rows[k]->form), "%s", forms[k]);
		rows[k]->available = true;
	}
	if (!rc) {
		tb.made = true;
		if (make_binary(tt.path, tb.path, rows[2]->why, sizeof(rows[2]->why))) {
			rows[2]->available = false;
			if (!rows[2]->why[0])
				snprintf(rows[2]->why, sizeof(rows[2]->why), "binary: not available in this build");
		}
	}
	for (int k = 0; k < 3 && !rc; k++) {
		struct read_row *x = rows[k];
		if (!x->available)
			continue;
		if (bench_interrupted()) {
			x->available = false;
			snprintf(x->why, sizeof(x->why), "not measured: interrupted");
			continue;
		}
		bench_note(o, "read %s: timing", x->form);
		struct timer_runs t = {.n = 0}, fl = {.n = 0};
		bool floor_ok = true;
		for (unsigned rep = 0; rep < o->repeat && !rc; rep++) {
			double s;
			if (read_all(files[k]->path, &x->events, &s, x->why, sizeof(x->why))) {
				fprintf(stderr, "iommusim bench: read %s: %s\n", x->form, x->why);
				rc = -1;
				break;
			}
			runs_add(&t, s);
			double fs = k == 0 ? floor_read(files[k]->path)
				    : k == 1 ? floor_gunzip(files[k]->path)
					     : floor_binary(files[k]->path);
			if (fs > 0)
				runs_add(&fl, fs);
			else
				floor_ok = false;
		}
		x->bytes = file_size(files[k]->path);
		x->t = runs_summary(&t);
		if (floor_ok)
			x->floor = runs_summary(&fl);
		snprintf(x->floor_what, sizeof(x->floor_what), "%s",
			 !floor_ok ? "none (framing not recognised)"
			 : k == 0  ? "read(2) of the file"
			 : k == 1  ? "gzread of the file"
				   : "inflate of every block");
		bench_note(o, "read %s: %" PRIu64 " events in %.3f s (floor %.3f s)", x->form, x->events,
			   x->t.best, x->floor.best);
	}
	tf_remove(&tt);
	tf_remove(&tg);
	tf_remove(&tb);
	return rc;
}
