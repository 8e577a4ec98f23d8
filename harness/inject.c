/* Injections (trace extension: a device write between two software
 * memory accesses of one op). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"

static void inject_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)op, (void)pa;
	struct ims_tb *r = arg;
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

/* Accesses before the K-th pass unseen (counted down); the K-th is the
 * hook's. */
static uint64_t inject_pass(void *arg, uint64_t n)
{
	struct ims_tb *r = arg;
	if (!r->inj.armed || r->inj.fired)
		return n;
	uint64_t p = r->inj.countdown - 1;
	if (p > n)
		p = n;
	r->inj.countdown -= p;
	return p;
}

void rp_inject_begin(struct ims_tb *r)
{
	memset(&r->inj, 0, sizeof(r->inj));
	if (!r->inj_next.armed)
		return;
	r->inj_next.armed = false;
	r->inj.armed = true;
	r->inj.at = r->inj.countdown = r->inj_next.at;
	r->inj.dev = r->inj_next.dev;
	r->inj.iova = r->inj_next.iova;
	ims_mem_set_race_check(r->mem, true);
	ims_mem_set_hook(r->mem, inject_hook, r);
	ims_mem_set_hook_pass(r->mem, inject_pass);
}

/* The injected write reached its domain's leaf: it went through, or it
 * faulted at stage 2 on its output after stage 1 had set D (docs/nested.md,
 * "The walk"; the model says so in x.dirtied), which a harvest of the
 * nested domain may report or not, as for any write that races it. */
static bool inject_wrote(const struct ims_tb *r)
{
	return r->inj.fired && (r->inj.kind == 0 || (r->inj.x.stage == 2 && r->inj.x.dirtied));
}

/* Whether the injected write's page is recorded in got. */
static bool inject_recorded(const struct ims_tb *r, const struct ims_bitmap *got)
{
	if (!inject_wrote(r) || !r->inj.x.dirtied || !got || !got->nbits)
		return false;
	uint64_t first = r->inj.x.leaf_iova;
	uint64_t last = first + ((1ull << r->inj.x.leaf_shift) - 1);
	uint64_t gl = got->iova + (got->length - 1);
	if (last < got->iova || first > gl)
		return false;
	uint64_t b0 = ((first > got->iova ? first : got->iova) - got->iova) >> got->pgshift;
	uint64_t b1 = ((last < gl ? last : gl) - got->iova) >> got->pgshift;
	return ims_bitmap_any(got, b0, b1);
}

/* Ends the op's injection: a software store that undid the hardware's
 * update is a lost update (classic bug 4), unless the walker's stated
 * contract allows it for a page this dirty read recorded (the only
 * hardware write of the op is the injected one, so the undone update is
 * its). */
void rp_inject_end(struct ims_tb *r, const struct ims_pt *pt, const struct ims_bitmap *got)
{
	if (!r->inj.armed)
		return;
	r->st.inject_armed++;
	if (r->inj.fired)
		r->st.inject_fired++;
	if (inject_wrote(r) && r->inj.x.dirtied)
		r->st.inject_changed++;
	ims_mem_set_hook(r->mem, NULL, NULL);
	uint64_t pa = 0, bits = 0;
	uint64_t lost = ims_mem_lost_updates(r->mem, &pa, &bits);
	ims_mem_set_race_check(r->mem, false);
	if (lost && pt && (ims_pt_walker_contract(pt) & IMS_WALKER_CONTRACT_CLEAN_RACE_LOST) &&
	    inject_recorded(r, got)) {
		r->st.lost_by_contract += lost;
		if (r->o.verbosity >= 2)
			fprintf(stdout, "%s:%" PRIu64 ": lost hardware update at pa 0x%" PRIx64
				" (bits 0x%" PRIx64 ") allowed by walker %s's contract: its page is "
				"recorded by this read\n",
				rp_file(r, r->ev), rp_line(r, r->ev), pa, bits, ims_pt_walker_label(pt));
	} else if (lost)
		rp_fail(r, r->ev, IMS_TB_FAIL_LOST_UPDATE,
				      "lost hardware update: a software store to the entry at pa 0x%" PRIx64
				      " undid bits 0x%" PRIx64 " that hardware set after the software "
				      "read it (non-atomic update)",
				      pa, bits);
	else if (!r->inj.fired && r->o.verbosity >= 2)
		fprintf(stdout, "%s:%" PRIu64 ": inject-at=%" PRIu64 " is past the op's last access\n",
			rp_file(r, r->ev), rp_line(r, r->ev), r->inj.at);
}

/* The leaf range the injected write dirtied, if it did (dirty updates on). */
bool rp_inject_dirtied(const struct ims_tb *r, uint16_t dom, uint64_t *first,
		       uint64_t *last)
{
	if (!inject_wrote(r) || !ims_iommu_ctx_dirty_enabled(r->mmu, dom))
		return false;
	*first = r->inj.x.leaf_iova;
	*last = r->inj.x.leaf_iova + ((1ull << r->inj.x.leaf_shift) - 1);
	return true;
}

void rp_maybe_add(struct ims_tb *r, uint16_t dom, uint64_t first, uint64_t last)
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
void rp_maybe_settle(struct ims_tb *r, uint16_t dom, uint64_t first, uint64_t last)
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
void rp_forgive(const struct ims_tb *r, uint16_t dom, struct ims_bitmap *want,
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
		ims_bitmap_or_bits(want, got, b0, b1);
	}
}
