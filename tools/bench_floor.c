/* iommusim bench: the harvest floor (docs/benchmarks.md, "Harvest"), the
 * least memory traffic any correct read_and_clear_dirty of a range has:
 *
 * - it reads every entry of every table in the range, present or not, the
 *   upper levels included: the root is visited, and a table is visited when
 *   a present table entry whose span meets the range points to it; of a
 *   visited table, the entries whose spans meet the range are read;
 * - it writes the bitmap words that cover the dirty pages.
 *
 * A plan lists both once, outside the timing: the tables are found by the
 * format's HARDWARE rules (formats/hwfmt.h decode, as the model's walk
 * finds them), not by the software that built them, so the same plan
 * serves the built-in tables and a full-level walker's own; the dirty pages
 * come from the oracle. Then floor_plan_time reads those words where they
 * are (the simulated memory's frames, host pointers taken once) in the
 * order a depth-first walk reads them, and stores the bitmap words in the
 * order such a walk writes them: after each stretch of table words, the
 * words of the pages that stretch finished.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "iommusim/pt.h"
#include "model/mem_view.h"
#include "tools/bench.h"

struct fwalk {
	struct floor_plan *fp;
	struct ims_mem *mem;
	struct hw_ctx c;
	uint64_t lo, hi; /* the range, hi exclusive */
	char *err;
	size_t errlen;
};

static void *grow_array(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 256;
	void *q = realloc(p, c * size);
	if (q)
		*cap = c;
	return q;
}

/* Words [pa, pa + 8n) of a table, cut at frame edges (frames are not
 * contiguous in the host). done_iova: every page below it is finished
 * once these words are read (0 for none). */
static int seg_add(struct fwalk *w, uint64_t pa, uint64_t n, uint64_t done_iova)
{
	struct floor_plan *fp = w->fp;
	uint64_t pages = done_iova > w->lo ? (done_iova - w->lo) >> 12 : 0;
	uint64_t word_end = (pages + 63) / 64;
	while (n) {
		const uint64_t *f = mem_frame(w->mem, pa & ~0xfffull);
		if (!f) {
			snprintf(w->err, w->errlen, "no table frame at 0x%llx",
				 (unsigned long long)(pa & ~0xfffull));
			return -EIO;
		}
		uint64_t off = (pa & 0xfff) >> 3, take = 512 - off < n ? 512 - off : n;
		struct floor_seg *s = grow_array(fp->seg, &fp->capseg, fp->nseg, sizeof(*s));
		if (!s)
			return -ENOMEM;
		fp->seg = s;
		fp->seg[fp->nseg++] = (struct floor_seg){f + off, take, take == n ? word_end : 0};
		fp->read_words += take;
		pa += take * 8;
		n -= take;
	}
	return 0;
}

static uint64_t entry_at(struct fwalk *w, uint64_t pa)
{
	const uint64_t *f = mem_frame(w->mem, pa & ~0xfffull);
	return f ? f[(pa & 0xfff) >> 3] : 0;
}

/* The table at pa, of `level`, whose entry 0 starts at IOVA base: its
 * entries in the range as stretches ending at each table entry, each
 * followed by the table it points to (depth first, as a walk goes). */
static int visit(struct fwalk *w, uint64_t pa, int level, uint64_t base, unsigned depth)
{
	if (depth > HW_MAX_LEVELS)
		return 0;
	unsigned shift = w->c.ix_shift[level];
	uint64_t last_ix = w->c.ix_mask[level]; /* the table's last entry */
	uint64_t lo = w->lo > base ? w->lo : base, last = w->hi - 1;
	if (last < base || (shift < 64 && (lo - base) >> shift > last_ix))
		return 0; /* a skipped-level table that covers none of the range */
	w->fp->tables++;
	uint64_t i0 = (lo - base) >> shift, i1 = (last - base) >> shift;
	bool clipped = i1 <= last_ix; /* the range ends inside this table */
	if (!clipped)
		i1 = last_ix;
	uint64_t start = i0;
	for (uint64_t i = i0; i <= i1; i++) {
		struct hw_ent e;
		memset(&e, 0, sizeof(e));
		w->c.ops->decode(&w->c, level, entry_at(w, pa + 8 * i), IMS_ACC_W, &e);
		if (e.kind != HWE_TABLE || e.next >= level || e.next < 0)
			continue;
		uint64_t ebase = base + (i << shift);
		int rc = seg_add(w, pa + 8 * start, i - start + 1, ebase > w->lo ? ebase : w->lo);
		if (!rc)
			rc = visit(w, e.addr, e.next, ebase, depth + 1);
		if (rc)
			return rc;
		start = i + 1;
	}
	if (start > i1)
		return 0;
	uint64_t done = clipped ? w->hi : base + ((i1 + 1) << shift);
	return seg_add(w, pa + 8 * start, i1 - start + 1, done);
}

struct frun_ctx {
	struct floor_plan *fp;
	uint64_t iova;
};

static int add_run(void *arg, uint64_t first, uint64_t npages)
{
	struct frun_ctx *x = arg;
	struct floor_plan *fp = x->fp;
	uint64_t p0 = (first - x->iova) >> 12;
	uint64_t w0 = p0 / 64, w1 = (p0 + npages - 1) / 64; /* inclusive */
	if (fp->nrun) {
		struct floor_run *r = &fp->run[fp->nrun - 1];
		if (w0 <= r->w0 + r->n) { /* shares or touches the last run's words */
			if (w1 + 1 > r->w0 + r->n)
				r->n = w1 + 1 - r->w0;
			return 0;
		}
	}
	struct floor_run *r = grow_array(fp->run, &fp->caprun, fp->nrun, sizeof(*r));
	if (!r)
		return -ENOMEM;
	fp->run = r;
	fp->run[fp->nrun++] = (struct floor_run){w0, w1 - w0 + 1};
	return 0;
}

int floor_plan_build(struct floor_plan *fp, struct ims_mem *mem, const struct ims_pt *pt,
		     const struct ims_oracle *o, uint16_t tag, uint64_t iova, uint64_t size,
		     char *err, size_t errlen)
{
	floor_plan_free(fp);
	const struct fmt_desc *d = fmt_get(ims_pt_format(pt));
	if (!d || !d->hw || !size)
		return -EINVAL;
	struct fwalk w = {.fp = fp, .mem = mem, .lo = iova, .hi = iova + size, .err = err,
			  .errlen = errlen};
	uint64_t words[IMS_CTX_WORDS];
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	ims_pt_ctx_words(pt, words);
	int rc = d->hw->decode_ctx(words, &cfg, &w.c, err, errlen);
	if (rc)
		return rc;
	w.c.ops = d->hw;
	hw_ctx_index_init(&w.c);
	rc = visit(&w, w.c.root, w.c.top, 0, 0);
	struct frun_ctx x = {fp, iova};
	if (!rc)
		rc = ims_oracle_for_each(o, tag, iova, size, add_run, &x);
	for (size_t i = 0; !rc && i < fp->nrun; i++)
		fp->write_words += fp->run[i].n;
	if (rc)
		floor_plan_free(fp);
	return rc;
}

/* Words [pos, stop) of bm all ones; returns stop. A long run goes to
 * memset, which may store the way a walker's own memset does (wider, or
 * past the caches): the floor must not be slower than a walker can be. */
static inline uint64_t fill(uint64_t *bm, uint64_t pos, uint64_t stop)
{
	if (stop - pos >= 16) {
		memset(bm + pos, 0xff, (size_t)(stop - pos) * 8);
		return stop;
	}
	/* Opaque to the compiler, which would otherwise make the short loop a
	 * rep stos, whose start-up costs more than the few plain stores of a
	 * scattered run (a 2 MiB page is 8 words): the floor would then be
	 * slower than a walker's plain stores. */
	uint64_t ones = ~0ull;
	__asm__("" : "+r"(ones));
	for (; pos < stop; pos++)
		bm[pos] = ones;
	return stop;
}

/* The read loop starts on a 32-byte boundary (GCC's default is less):
 * where it straddled a fetch block, as unrelated edits to this function
 * can make it, the floor read measurably slower than a walker's reads. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("align-loops=32")))
#endif
double floor_plan_time(const struct floor_plan *fp, uint64_t *bm, bool wall)
{
	const struct floor_seg *seg = fp->seg;
	const struct floor_run *run = fp->run;
	size_t k = 0, nrun = fp->nrun;
	uint64_t pos = nrun ? run[0].w0 : 0, acc = 0;
	double t0 = bench_seconds(wall);
	for (size_t s = 0; s < fp->nseg; s++) {
		const uint64_t *p = seg[s].p;
		for (uint64_t i = 0; i < seg[s].n; i++)
			acc += p[i];
		uint64_t we = seg[s].word_end;
		while (k < nrun && pos < we) {
			uint64_t end = run[k].w0 + run[k].n, stop = end < we ? end : we;
			pos = fill(bm, pos, stop);
			if (pos == end && ++k < nrun)
				pos = run[k].w0;
		}
	}
	/* Pages past the last table word (none when the plan is whole). */
	for (; k < nrun; k++, pos = k < nrun ? run[k].w0 : pos)
		pos = fill(bm, pos, run[k].w0 + run[k].n);
	double t1 = bench_seconds(wall);
	/* Keeps the sum and the stores, so that neither can be dropped. */
	volatile uint64_t sink = acc;
	(void)sink;
	__asm__ volatile("" : : "r"(bm) : "memory");
	return t1 - t0;
}

void floor_plan_free(struct floor_plan *fp)
{
	free(fp->seg);
	free(fp->run);
	memset(fp, 0, sizeof(*fp));
}
