/* The host services of the walker ABI (struct ims_walker_host, pt_host):
 * simulated memory, table memory, the command path and the harvest's
 * output, for every walker the built-in ones included; and the host's
 * harvest around a walker's read_and_clear_dirty.
 *
 * Every memory call goes through ims_mem_* with the software agent, so the
 * memory hook (the fuzzer's and inject-at's interleaving points) and the
 * lost-update check see it. A walker that writes outside the page tables,
 * or misuses an op, is a finding kept for the report, not a crash of the
 * simulator: the write is not performed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/mem_view.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"
#include "model/hot_path.h"

/* ---- findings ------------------------------------------------------------------ */

void pt_finding(struct ims_pt *pt, const char *fmt, ...)
{
	if (!pt->nfindings++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(pt->finding, sizeof(pt->finding), fmt, ap);
		va_end(ap);
	}
	if (pt->sink.finding) {
		char msg[PT_FINDING_LEN];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		pt->sink.finding(pt->sink.arg, msg);
	}
}

static bool aligned(struct ims_pt *pt, uint64_t pa, const char *what)
{
	if (!(pa & 7))
		return true;
	pt_finding(pt, "walker %s: %s at 0x%llx is not 8-byte aligned", pt->walker->name, what,
		(unsigned long long)pa);
	return false;
}

/* A write must land in a live page-table frame. */
static bool in_tables(struct ims_pt *pt, uint64_t pa, const char *what)
{
	if (!aligned(pt, pa, what))
		return false;
	if (mem_pool_table(pt->mem, pa))
		return true;
	pt_finding(pt, "walker %s: %s at 0x%llx outside the page tables (not performed)",
		pt->walker->name, what, (unsigned long long)pa);
	return false;
}

/* ---- memory -------------------------------------------------------------------- */

static uint64_t h_load(struct ims_walker_dom *d, uint64_t pa)
{
	struct ims_pt *pt = pt_of(d);
	aligned(pt, pa, "load");
	return ims_mem_load(pt->mem, IMS_AGENT_SW, pa & ~7ull);
}

static void h_store(struct ims_walker_dom *d, uint64_t pa, uint64_t val)
{
	struct ims_pt *pt = pt_of(d);
	if (in_tables(pt, pa, "store"))
		ims_mem_store(pt->mem, IMS_AGENT_SW, pa, val);
}

static uint64_t h_cmpxchg(struct ims_walker_dom *d, uint64_t pa, uint64_t expect, uint64_t val)
{
	struct ims_pt *pt = pt_of(d);
	if (!in_tables(pt, pa, "cmpxchg"))
		return ~expect; /* never "succeeded" */
	return ims_mem_cmpxchg(pt->mem, IMS_AGENT_SW, pa, expect, val);
}

static uint64_t h_xchg(struct ims_walker_dom *d, uint64_t pa, uint64_t val)
{
	struct ims_pt *pt = pt_of(d);
	if (!in_tables(pt, pa, "xchg"))
		return 0;
	return ims_mem_rmw(pt->mem, IMS_AGENT_SW, pa, ~0ull, val);
}

static uint64_t h_fetch_and(struct ims_walker_dom *d, uint64_t pa, uint64_t mask)
{
	struct ims_pt *pt = pt_of(d);
	if (!in_tables(pt, pa, "fetch_and"))
		return 0;
	return ims_mem_rmw(pt->mem, IMS_AGENT_SW, pa, ~mask, 0);
}

static uint64_t h_fetch_or(struct ims_walker_dom *d, uint64_t pa, uint64_t mask)
{
	struct ims_pt *pt = pt_of(d);
	if (!in_tables(pt, pa, "fetch_or"))
		return 0;
	return ims_mem_rmw(pt->mem, IMS_AGENT_SW, pa, 0, mask);
}

/* What a frame never written reads as. */
static const uint64_t zero_frame[IMS_PAGE_SIZE / 8];

IMS_HARVEST_PATH
static uint64_t *h_frame(struct ims_walker_dom *d, uint64_t pa, unsigned flags)
{
	struct ims_pt *pt = pt_of(d);
	pa &= ~(uint64_t)(IMS_PAGE_SIZE - 1);
	if (flags & IMS_WALKER_FRAME_MAP) {
		/* Not an access: an address the walker will use through the calls. */
		uint64_t *w = mem_table_frame(pt->mem, pa);
		if (!w)
			(void)in_tables(pt, pa, "mapped frame"); /* a finding if no table */
		return w;
	}
	if (flags & IMS_WALKER_FRAME_WRITE) {
		/* NULL under a hook or the lost-update check (both must see each
		 * write): not an access, the walker then uses the calls. Asking
		 * for a frame that is no page table is a finding. */
		uint64_t *w = mem_table_frame_rw(pt->mem, pa);
		if (!w)
			(void)in_tables(pt, pa, "writable frame"); /* a finding if no table */
		return w;
	}
	/* Taking a frame is an access point: under a hook the model may act
	 * here (counted as one load of the frame's first word). */
	if (mem_hooked(pt->mem))
		(void)ims_mem_load(pt->mem, IMS_AGENT_SW, pa);
	const uint64_t *f = mem_frame(pt->mem, pa);
	/* Read-only by contract: the const is the walker's to keep. */
	return (uint64_t *)(f ? f : zero_frame);
}

/* pt_table_frame_w (pt_int.h). */
IMS_HARVEST_PATH
uint64_t *pt_table_frame_w(struct ims_pt *pt, uint64_t pa)
{
	return mem_table_frame_rw(pt->mem, pa & ~(uint64_t)(IMS_PAGE_SIZE - 1));
}

/* pt_scan (pt_int.h). Hardware never writes an empty entry (it sets A/D in
 * present ones only), so nothing can change a run of empty entries while
 * software reads it, and their loads matter to no lost-update check: the
 * run is read in one pass over the frame and counted as the loads it
 * stands for, as far as the hook lets them pass (an injection due at the
 * K-th access stops the pass before it). The present entry that ends the
 * run is a load of its own. */
unsigned pt_scan(struct ims_pt *pt, uint64_t table, unsigned i, unsigned iend, uint64_t *pte)
{
	*pte = 0;
	while (i <= iend) {
		uint64_t pa = table + 8ull * i;
		const uint64_t *f = mem_table_frame(pt->mem, pa);
		unsigned k = 0, n = 0;
		if (f) {
			/* The empty words of this frame from entry i, up to iend. */
			unsigned w = (unsigned)((pa & (IMS_PAGE_SIZE - 1)) >> 3);
			n = IMS_PAGE_SIZE / 8 - w;
			if (n > iend - i + 1)
				n = iend - i + 1;
			/* Eight words at a time while they are all zero. */
			while (k + 8 <= n && !(f[w + k] | f[w + k + 1] | f[w + k + 2] | f[w + k + 3] |
					       f[w + k + 4] | f[w + k + 5] | f[w + k + 6] | f[w + k + 7]))
				k += 8;
			while (k < n && !f[w + k])
				k++;
			if (k)
				k = (unsigned)mem_pass_loads(pt->mem, k);
		}
		i += k;
		if (f && k == n)
			continue; /* all empty, all passed */
		/* The entry the pass stopped at: present, or the one a hook wants
		 * to see (or no table frame: a finding of its own). */
		*pte = sw_load(pt, table + 8ull * i);
		if (*pte)
			return i;
		i++;
	}
	return i;
}

IMS_HARVEST_PATH
static void h_account(struct ims_walker_dom *d, unsigned op, uint64_t n)
{
	struct ims_pt *pt = pt_of(d);
	if (op == IMS_MEM_LOAD || op == IMS_MEM_RMW)
		mem_count(pt->mem, IMS_AGENT_SW, (enum ims_memop)op, n);
}

static int h_alloc_table(struct ims_walker_dom *d, unsigned order, uint64_t *pa)
{
	struct ims_pt *pt = pt_of(d);
	if (order > 9)
		return -EINVAL;
	int rc = ims_mem_pool_alloc_order(pt->mem, order, pa);
	if (rc)
		return rc;
	if (pt->sink.table_alloc &&
	    (rc = pt->sink.table_alloc(pt->sink.arg, pt->cfg.tag, *pa, order)) != 0) {
		for (uint64_t i = 0; i < (1ull << order); i++)
			ims_mem_pool_free(pt->mem, *pa + (i << IMS_PAGE_SHIFT));
		return rc;
	}
	pt->stats.table_pages += 1ull << order;
	if (pt->stats.table_pages > pt->stats.table_pages_peak)
		pt->stats.table_pages_peak = pt->stats.table_pages;
	return 0;
}

static void h_free_table(struct ims_walker_dom *d, uint64_t pa, unsigned order)
{
	struct ims_pt *pt = pt_of(d);
	if (order > 9 || (pa & ((IMS_PAGE_SIZE << order) - 1))) {
		pt_finding(pt, "walker %s: free_table(0x%llx, order %u) of no table it allocated",
			pt->walker->name, (unsigned long long)pa, order);
		return;
	}
	for (uint64_t i = 0; i < (1ull << order); i++) {
		uint64_t f = pa + (i << IMS_PAGE_SHIFT);
		if (!mem_pool_table(pt->mem, f)) {
			pt_finding(pt, "walker %s: free_table of 0x%llx, which is not a live table",
				pt->walker->name, (unsigned long long)f);
			return;
		}
	}
	if (pt->sink.table_free)
		pt->sink.table_free(pt->sink.arg, pt->cfg.tag, pa, order);
	for (uint64_t i = 0; i < (1ull << order); i++)
		ims_mem_pool_free(pt->mem, pa + (i << IMS_PAGE_SHIFT));
	pt->stats.table_pages -= 1ull << order;
}

/* ---- commands ------------------------------------------------------------------ */

static int h_submit(struct ims_walker_dom *d, const uint64_t cmd[2])
{
	struct ims_pt *pt = pt_of(d);
	pt->stats.flushes++;
	return pt->sink.submit(pt->sink.arg, pt->ops->fmt, cmd);
}

static int h_flush_range(struct ims_walker_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	return pt_flush_range(pt_of(d), iova, size, leaf_only);
}

static int h_ctx_change(struct ims_walker_dom *d, unsigned word, uint64_t mask, uint64_t value)
{
	struct ims_pt *pt = pt_of(d);
	struct pt_dom pd;
	pt_dom_of(pt, &pd);
	return pd.ctx_change(pd.host, word, mask, value);
}

/* ---- the harvest's output ------------------------------------------------------ */

static void gather(struct ims_walker_dirty *dt, uint64_t first, uint64_t last)
{
	pt_gather(&dt->gathered, &dt->g_first, &dt->g_last, first, last);
}

/* Inclusive end of [iova, iova + length); length 0 is 2^64 from 0. */
static uint64_t range_last(uint64_t iova, uint64_t length)
{
	uint64_t l = iova + (length - 1);
	return l < iova ? ~0ull : l;
}

static void h_bitmap_set(struct ims_walker_dirty *dt, uint64_t iova, uint64_t length)
{
	if (!dt->bm)
		return;
	uint64_t last = range_last(iova, length);
	if (last < dt->first || iova > dt->last)
		return;
	uint64_t lo = iova > dt->first ? iova : dt->first;
	uint64_t hi = last < dt->last ? last : dt->last;
	const struct pt_walker *w = dt->pt->knobs;
	if (w && w->record) {
		unsigned shift = length && ims_is_pow2(length) ? ims_log2(length) : 0;
		w->record(dt->bm, lo, hi, iova, shift, w);
	} else {
		ims_bitmap_set(dt->bm, lo, hi - lo + 1);
	}
}

IMS_HARVEST_PATH
static void h_gather_add(struct ims_walker_dirty *dt, uint64_t iova, uint64_t length)
{
	gather(dt, iova, range_last(iova, length));
}

static void h_record(struct ims_walker_dirty *dt, uint64_t iova, uint64_t length)
{
	h_bitmap_set(dt, iova, length);
	h_gather_add(dt, iova, length);
}

static void h_log(struct ims_walker_dom *d, const char *msg)
{
	struct ims_pt *pt = pt_of(d);
	fprintf(stderr, "walker %s: %s\n", pt->walker->name, msg ? msg : "(null)");
}

const struct ims_walker_host pt_host = {
	.load = h_load,
	.store = h_store,
	.cmpxchg = h_cmpxchg,
	.xchg = h_xchg,
	.fetch_and = h_fetch_and,
	.fetch_or = h_fetch_or,
	.frame = h_frame,
	.account = h_account,
	.alloc_table = h_alloc_table,
	.free_table = h_free_table,
	.submit = h_submit,
	.flush_range = h_flush_range,
	.ctx_change = h_ctx_change,
	.record = h_record,
	.bitmap_set = h_bitmap_set,
	.gather_add = h_gather_add,
	.log = h_log,
};

/* The view the walker under test is called with. */
IMS_HARVEST_PATH
struct ims_walker_dom *pt_walker_dom(struct ims_pt *pt)
{
	if (pt->walker->level == IMS_WALKER_FULL || pt->knobs)
		return pt_dom(pt);
	pt->wdom.d.root = pt->root; /* the tables' root, as they have it now */
	return &pt->wdom.d;
}

/* The walker's read_and_clear_dirty of [first, last] into bm (NULL: clear
 * only), then the flush of what it gathered, as iommufd's
 * iommu_read_and_clear_dirty() syncs its gather. */
IMS_HARVEST_PATH
int pt_harvest(struct ims_pt *pt, uint64_t first, uint64_t last, unsigned flags,
	       struct ims_bitmap *bm)
{
	struct ims_walker_dirty dt = {.pt = pt, .bm = bm, .first = first, .last = last};
	int rc = pt->walker->read_and_clear_dirty(pt_walker_dom(pt), first, last - first + 1, flags,
						  &dt);
	if (rc && !pt->knobs) {
		/* The host checked the range and the flags: a plug-in's refusal
		 * is its own failure, reported, and the harvest goes on to be
		 * compared (what it recorded and gathered stands). */
		pt_finding(pt, "walker %s: read_and_clear_dirty(0x%llx, 0x%llx, flags %u) returned %d",
			pt->walker->name, (unsigned long long)first,
			(unsigned long long)(last - first + 1), flags, rc);
		rc = 0;
	}
	if (rc)
		return rc;
	if (dt.gathered && !(flags & IMS_DIRTY_NO_CLEAR)) {
		uint64_t size = dt.g_last - dt.g_first + 1;
		return pt_flush_range(pt, dt.g_first, size, true);
	}
	return 0;
}

