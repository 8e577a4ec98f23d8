/* iommusim bench: the pieces every benchmark section shares (tools/bench.h):
 * timing, floors, the results table, sizes and progress notes. It calls no
 * section; the sections (tools/bench_harvest.c, tools/bench_replay.c) and
 * the command (tools/bench.c) call it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/bench.h"
#include "tools/cmd.h"

/* ---- timing ------------------------------------------------------------------ */

/* The thread's CPU time: on a shared machine the time spent descheduled is
 * not the code's, and every measured loop is single-threaded. */
static double clock_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double now_seconds(void)
{
	return clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

/* The monotonic clock, for figures too short for the CPU-time clock: in a
 * virtual machine that clock is a system call, and it can read a short
 * interval lower than the monotonic clock bracketing it (likely steal-time
 * accounting landing inside it), which a best of runs then picks
 * (docs/benchmarks.md, "How it measures"). */
double wall_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

double bench_seconds(bool wall)
{
	return wall ? wall_seconds() : now_seconds();
}

struct figclock bench_figclock(const struct bench_opts *o, double first_run_s)
{
	struct figclock fc = {false, o->repeat};
	if (first_run_s < BENCH_SHORT_S) {
		unsigned n = o->repeat * BENCH_SHORT_FACTOR;
		fc.wall = true;
		fc.runs = n > 64 ? 64 : n; /* struct timer_runs holds 64 */
	}
	return fc;
}

void runs_add(struct timer_runs *r, double s)
{
	if (r->n < sizeof(r->t) / sizeof(r->t[0]))
		r->t[r->n++] = s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct timing runs_summary(const struct timer_runs *r)
{
	struct timing t = {0, 0, r->n};
	if (!r->n)
		return t;
	double s[64];
	memcpy(s, r->t, r->n * sizeof(double));
	qsort(s, r->n, sizeof(double), cmp_double);
	t.best = s[0];
	t.median = r->n % 2 ? s[r->n / 2] : (s[r->n / 2 - 1] + s[r->n / 2]) / 2;
	return t;
}

/* ---- floors -------------------------------------------------------------------- */

double floor_seq_read(struct floor_buf *fb, uint64_t n)
{
	if (!n)
		return 0;
	if (fb->n < n) {
		uint64_t *w = realloc(fb->w, (size_t)n * sizeof(uint64_t));
		if (!w)
			return 0;
		/* Words like page-table entries: non-zero, varied. */
		for (uint64_t i = fb->n; i < n; i++)
			w[i] = (i << 12) | 0x67;
		fb->w = w;
		fb->n = (size_t)n;
	}
	const volatile uint64_t *vp = fb->w;
	const uint64_t *p = (const uint64_t *)vp;
	double t0 = now_seconds();
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++)
		acc += p[i];
	double t1 = now_seconds();
	/* Keeps the sum, so the reads cannot be dropped. */
	volatile uint64_t sink = acc;
	(void)sink;
	return t1 - t0;
}

void floor_free(struct floor_buf *fb)
{
	free(fb->w);
	fb->w = NULL;
	fb->n = 0;
}

/* ---- results ----------------------------------------------------------------- */

static void *grow(void **p, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		void *q = realloc(*p, c * size);
		if (!q)
			return NULL;
		*p = q;
		*cap = c;
	}
	void *e = (char *)*p + (*n)++ * size;
	memset(e, 0, size);
	return e;
}

struct harvest_row *res_add_harvest(struct bench_results *r)
{
	return grow((void **)&r->h, &r->nh, &r->caph, sizeof(*r->h));
}
struct replay_row *res_add_replay(struct bench_results *r)
{
	return grow((void **)&r->rp, &r->nrp, &r->caprp, sizeof(*r->rp));
}
struct read_row *res_add_read(struct bench_results *r)
{
	return grow((void **)&r->rd, &r->nrd, &r->caprd, sizeof(*r->rd));
}
struct mem_row *res_add_mem(struct bench_results *r)
{
	return grow((void **)&r->m, &r->nm, &r->capm, sizeof(*r->m));
}

struct fuzz_row *res_add_fuzz(struct bench_results *r)
{
	return grow((void **)&r->fz, &r->nfz, &r->capfz, sizeof(*r->fz));
}

void res_free(struct bench_results *r)
{
	free(r->fz);
	free(r->h);
	free(r->rp);
	free(r->rd);
	free(r->m);
}

const char *bench_size_str(uint64_t b, char *buf, size_t n)
{
	static const char units[] = "KMGTPE";
	int u = -1;
	while (b >= 1024 && !(b % 1024) && u < 5) {
		b /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, n, "%" PRIu64, b);
	else
		snprintf(buf, n, "%" PRIu64 "%c", b, units[u]);
	return buf;
}

void bench_note(const struct bench_opts *o, const char *fmt, ...)
{
	if (!o->verbose && !o->progress)
		return;
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (o->verbose)
		fprintf(stderr, "bench: %s\n", text);
	else
		progress_line("iommusim bench: %s", text);
}

/* The first SIGINT or SIGTERM stops the run after the figure being
 * measured; a second one ends it at once (tools/outputs.c, which also
 * removes the outputs it had not finished). */
void bench_catch_interrupt(void)
{
	interrupt_poll(true, "\niommusim bench: interrupted: stopping after the figure being "
			     "measured (^C again to stop at once)\n");
}

bool bench_interrupted(void)
{
	return interrupt_caught() != 0;
}
