/* iommusim fuzz: shrinking a failing sequence.
 *
 * Delta debugging (ddmin) over events, then one-by-one removal, then
 * simplification of the events that are left (fewer keys, shorter DMAs).
 * A candidate is kept only when it still fails with the same kind of
 * failure (a crash: by the same signal; fuzz_iso.c); a candidate the replayer rejects as input (an unmap whose map was
 * removed, a harvest with tracking off) is a failed test, never kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/pt.h"
#include "tools/cmd.h"
#include "tools/fuzz.h"

struct shr {
	const struct ims_replay_opts *opts;
	const struct fz_iso *iso;
	const struct fz_fail *want;
	struct fz_shrink_stats *st;
};

/* A candidate keeps the rules the generator followed, checked on a shadow
 * of the software page tables (the same code, in memory of its own):
 * - a clearing harvest covers whole leaves: one that cut into a dirty leaf
 *   would clean all of it while the oracle keeps expecting the rest
 *   (docs/fuzzing.md), a failure of its own;
 * - `expect tables` comes when its domain maps nothing: with one of the
 *   unmaps removed, its claim is false and its failure means nothing.
 * Events the shadow refuses are input errors the replay rejects anyway. */
struct shadow {
	struct ims_mem *mem;
	uint64_t id[8];
	struct ims_pt *pt[8];
	unsigned n;
};

static struct ims_pt *shadow_pt(const struct shadow *sh, uint64_t id)
{
	for (unsigned i = 0; i < sh->n; i++)
		if (sh->id[i] == id)
			return sh->pt[i];
	return NULL;
}

static int first_leaf(void *arg, uint64_t page_iova, unsigned page_shift, uint64_t pa,
		      unsigned prot)
{
	(void)pa, (void)prot;
	uint64_t *span = arg;
	span[0] = page_iova;
	span[1] = page_iova + ((1ull << page_shift) - 1);
	return 1;
}

/* Does [iova, last] start and end on leaf boundaries? */
static bool on_leaves(struct ims_pt *pt, uint64_t iova, uint64_t last)
{
	uint64_t span[2];
	if (ims_pt_for_each_leaf(pt, iova, 1, first_leaf, span) == 1 && span[0] < iova)
		return false;
	if (ims_pt_for_each_leaf(pt, last, 1, first_leaf, span) == 1 && span[1] > last)
		return false;
	return true;
}

static bool shadow_event(struct shadow *sh, const struct ims_event *ev)
{
	struct ims_pt *pt = shadow_pt(sh, ev->v[IMS_K_DOMAIN]);
	uint64_t iova = ev->v[IMS_K_IOVA], size = ev->v[IMS_K_SIZE];
	switch (ev->op) {
	case IMS_OP_DOMAIN: {
		if (ims_ev_has(ev, IMS_K_RAW) || sh->n == 8)
			return true;
		struct ims_pt_cfg cfg = {
			.fmt = (enum ims_format)ev->v[IMS_K_FORMAT],
			.tag = (uint16_t)ev->v[IMS_K_ID],
			.levels = (unsigned)ev->v[IMS_K_LEVELS],
			.granule_shift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0,
			.ias = (unsigned)ev->v[IMS_K_IAS],
			.pgsizes = ev->v[IMS_K_PGSIZES],
			.dirty_tracking = ev->v[IMS_K_DIRTY] != 0,
		};
		if (shadow_pt(sh, ev->v[IMS_K_ID]) ||
		    ims_pt_new(sh->mem, &cfg, &fz_nop_sink, &sh->pt[sh->n], NULL, 0))
			return false;
		sh->id[sh->n++] = ev->v[IMS_K_ID];
		return true;
	}
	case IMS_OP_MAP:
		return pt && !ims_pt_map(pt, iova, ev->v[IMS_K_PA], size,
					 ims_ev_has(ev, IMS_K_PROT) ? (unsigned)ev->v[IMS_K_PROT]
								    : IMS_PROT_RW,
					 ev->v[IMS_K_PGSIZE]);
	case IMS_OP_UNMAP:
		return pt && !ims_pt_unmap(pt, iova, size, NULL);
	case IMS_OP_HARVEST:
		return pt && (ims_ev_has(ev, IMS_K_NOCLEAR) || on_leaves(pt, iova, iova + (size - 1)));
	case IMS_OP_EXPECT_TABLES: {
		uint64_t span[2];
		return pt && ims_pt_for_each_leaf(pt, 0, 0, first_leaf, span) == 0;
	}
	case IMS_OP_MEM:
		/* A corrupted table: the shadow's pool has the replay's addresses. */
		if (!(ev->v[IMS_K_PA] & 7))
			ims_mem_store(sh->mem, IMS_AGENT_HW, ev->v[IMS_K_PA], ev->v[IMS_K_VAL]);
		return true;
	default:
		return true;
	}
}

static bool rules_hold(const struct fz_list *l)
{
	struct shadow sh = {0};
	sh.mem = ims_mem_new();
	if (!sh.mem)
		return false;
	bool ok = true;
	for (size_t i = 0; i < l->n && ok; i++)
		ok = shadow_event(&sh, &l->ev[i]);
	for (unsigned i = 0; i < sh.n; i++)
		ims_pt_free(sh.pt[i]);
	ims_mem_free(sh.mem);
	return ok;
}

/* Does l still fail the wanted way? Cuts l after the failing event. */
static bool still_fails(struct shr *s, struct fz_list *l)
{
	struct fz_fail f;
	/* Interrupted (SIGINT, SIGTERM: tools/outputs.c): no more replays, so
	 * the shrinker ends with what it has, a sequence that still fails. */
	if (interrupt_caught() || !rules_hold(l))
		return false;
	s->st->tests++;
	if (fz_replay(s->opts, s->iso, l, 1, "shrink", s->want->first, &f) != 1 ||
	    !fz_same_failure(s->want, &f))
		return false;
	l->n = f.at + 1;
	return true;
}

/* cand = cur without [from, from + len). */
static int without(struct fz_list *cand, const struct fz_list *cur, size_t from, size_t len)
{
	int rc = fz_list_copy(cand, cur);
	if (rc)
		return rc;
	memmove(cand->ev + from, cand->ev + from + len, (cur->n - from - len) * sizeof(*cand->ev));
	cand->n = cur->n - len;
	return 0;
}

static int ddmin(struct shr *s, struct fz_list *cur)
{
	struct fz_list cand = {0};
	size_t parts = 2;
	int rc = 0;
	while (cur->n >= 2) {
		size_t chunk = (cur->n + parts - 1) / parts;
		bool reduced = false;
		for (size_t from = 0; from < cur->n; from += chunk) {
			size_t len = from + chunk > cur->n ? cur->n - from : chunk;
			if ((rc = without(&cand, cur, from, len)))
				goto out;
			if (still_fails(s, &cand)) {
				struct fz_list t = *cur;
				*cur = cand;
				cand = t;
				parts = parts > 2 ? parts - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (parts >= cur->n)
				break;
			parts = parts * 2 < cur->n ? parts * 2 : cur->n;
		}
	}
out:
	fz_list_free(&cand);
	return rc;
}

/* Removes single events until none can go. */
static int one_by_one(struct shr *s, struct fz_list *cur)
{
	struct fz_list cand = {0};
	int rc = 0;
	for (size_t i = cur->n; i-- > 0;) {
		if (i >= cur->n)
			continue;
		if ((rc = without(&cand, cur, i, 1)))
			break;
		if (still_fails(s, &cand)) {
			struct fz_list t = *cur;
			*cur = cand;
			cand = t;
		}
	}
	fz_list_free(&cand);
	return rc;
}

static void drop(struct ims_event *ev, enum ims_key k)
{
	ev->keys &= ~(1ull << k);
	ev->v[k] = 0;
}

/* The simplifications tried on each event, one at a time. None changes how
 * a map is laid out in leaves, and only the failing (last) harvest may
 * become a clearing one: a clearing harvest that cuts into a dirty leaf
 * cleans all of it while the oracle keeps expecting the rest
 * (docs/fuzzing.md), a failure of its own that must not stand in for the
 * one being shrunk. */
enum { S_NOCLEAR, S_INJECT, S_PGSIZE, S_PROT, S_READ_DIRTY, S_RANGE, S_LEN, S_DIR, S_N };

static bool simplify(struct ims_event *ev, int what, bool last)
{
	switch (what) {
	case S_NOCLEAR:
		if (!last || !ims_ev_has(ev, IMS_K_NOCLEAR))
			return false;
		drop(ev, IMS_K_NOCLEAR);
		return true;
	case S_INJECT:
		if (!ims_ev_has(ev, IMS_K_INJECT_AT))
			return false;
		drop(ev, IMS_K_INJECT_AT);
		drop(ev, IMS_K_INJECT_DEV);
		drop(ev, IMS_K_INJECT_IOVA);
		return true;
	case S_PGSIZE:
		if (ev->op == IMS_OP_MAP || !ims_ev_has(ev, IMS_K_PGSIZE))
			return false;
		drop(ev, IMS_K_PGSIZE);
		return true;
	case S_PROT:
		if (!ims_ev_has(ev, IMS_K_PROT))
			return false;
		drop(ev, IMS_K_PROT);
		return true;
	case S_READ_DIRTY:
		if (!ims_ev_has(ev, IMS_K_READ_DIRTY))
			return false;
		drop(ev, IMS_K_READ_DIRTY);
		drop(ev, IMS_K_PGSIZE);
		return true;
	case S_RANGE:
		if (ev->op != IMS_OP_FLUSH || !ims_ev_has(ev, IMS_K_IOVA))
			return false;
		drop(ev, IMS_K_IOVA);
		drop(ev, IMS_K_SIZE);
		return true;
	case S_LEN:
		if (ev->op != IMS_OP_DMA || ev->v[IMS_K_LEN] <= 1)
			return false;
		ev->v[IMS_K_LEN] = 1;
		return true;
	case S_DIR:
		if (ev->op != IMS_OP_DMA || ev->v[IMS_K_DIR] != IMS_ACC_RW)
			return false;
		ev->v[IMS_K_DIR] = IMS_ACC_W;
		return true;
	default:
		return false;
	}
}

static int simplify_all(struct shr *s, struct fz_list *cur, bool *changed)
{
	struct fz_list cand = {0};
	int rc = 0;
	*changed = false;
	for (size_t i = 0; i < cur->n; i++) {
		for (int w = 0; w < S_N; w++) {
			if ((rc = fz_list_copy(&cand, cur)))
				goto out;
			if (!simplify(&cand.ev[i], w, i + 1 == cur->n))
				continue;
			if (still_fails(s, &cand)) {
				struct fz_list t = *cur;
				*cur = cand;
				cand = t;
				*changed = true;
				if (i >= cur->n)
					goto out;
			}
		}
	}
out:
	fz_list_free(&cand);
	return rc;
}

int fz_shrink(const struct ims_replay_opts *opts, const struct fz_iso *iso, struct fz_list *l,
	      const struct fz_fail *want, struct fz_shrink_stats *st)
{
	struct shr s = {opts, iso, want, st};
	memset(st, 0, sizeof(*st));
	st->before = l->n;
	/* The failure must reproduce from the list alone. */
	if (!still_fails(&s, l))
		return -EAGAIN;
	int rc = ddmin(&s, l);
	for (int round = 0; !rc && round < 4; round++) {
		size_t n = l->n;
		bool changed = false;
		rc = one_by_one(&s, l);
		if (!rc)
			rc = simplify_all(&s, l, &changed);
		if (l->n == n && !changed)
			break;
	}
	st->after = l->n;
	return rc;
}
