/* QEMU importer: translations, faults and flushes as the three IOMMUs'
 * handlers hand them over, made into maps, expected translations and
 * accesses through the emitter (traces/import.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import_qemu.h"

/* ---- translations ------------------------------------------------------------ */

/* Whether a leaf already translates the access the way the log says. The
 * guest's own permission counts when combining: Linux's VT-d driver sets
 * bit 0 (R) in every second-level entry, so QEMU shows R|W where the guest
 * mapped DMA_FROM_DEVICE as write-only. */
static bool agrees(const struct leaf *l, const struct xl *x, bool prot)
{
	if (prot && x->prot && l->prot != x->prot)
		return false;
	if (!x->pa_base)
		return leaf_pa(l, x->iova) == x->pa;
	uint64_t h = x->pa & ~(IMS_PAGE_SIZE - 1);
	if (l->flags & LF_NOTE)
		return l->note == h;
	return l->pa == h || (leaf_pa(l, x->iova) & ~(IMS_PAGE_SIZE - 1)) == h;
}

/* Pull guest events until the guest has mapped the access the way QEMU
 * translated it (combining). */
static int guest_sync(struct q *q, const struct xl *x, struct leaf **lp)
{
	imp_guest_set_domain(q->g, x->dom);
	for (;;) {
		struct leaf *l = imp_lookup(q->m, x->dom, x->iova);
		if (l && agrees(l, x, false)) {
			*lp = l;
			return 0;
		}
		const char *mk = NULL;
		size_t mn = 0;
		int rc = imp_guest_step(q->g, &mk, &mn);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			*lp = NULL;
			return 0;
		}
		if (mk && (rc = imp_comment(q->m, "phase: %.*s", (int)mn, mk)))
			return rc;
	}
}

/* The page to map for an access whose log gives only the leaf's base: a
 * page right after one that QEMU gave the same base continues that leaf;
 * otherwise the base itself (a 4 KiB leaf). */
static uint64_t base_page_pa(struct q *q, const struct xl *x)
{
	uint64_t page = x->iova & ~(IMS_PAGE_SIZE - 1);
	uint64_t h = x->pa & ~(IMS_PAGE_SIZE - 1);
	struct leaf *prev = page ? imp_lookup(q->m, x->dom, page - IMS_PAGE_SIZE) : NULL;
	if (prev && (prev->flags & LF_NOTE) && prev->note == h)
		return leaf_pa(prev, page - IMS_PAGE_SIZE) + IMS_PAGE_SIZE;
	return h;
}

/* What the stage-2 leaf of x's IPA (in the parent of x's nested domain)
 * grants: none when there is none; everything for a single-stage domain.
 * A stage-2 page can be write-only (S2AP 0b10, Arm ARM D8.4.2) or read-only
 * under a stage-1 page that grants both.
 * Whether a read of x's page translates, which `expect pa` checks
 * (trace-format.md: a read translation): the leaf l of x's domain grants
 * read, and for a nested domain so does the stage-2 leaf; a write through a
 * write-only stage-2 page gets no expectation. */
static unsigned s2_prot(struct imp *m, const struct xl *x)
{
	if (!x->nested)
		return IMS_PROT_R | IMS_PROT_W;
	const struct dom *d = imp_dom(m, x->dom);
	const struct leaf *s2 = d && d->nested ? imp_lookup(m, d->parent, x->pa) : NULL;
	return s2 ? s2->prot : 0;
}

static bool readable(struct imp *m, const struct xl *x, const struct leaf *l)
{
	return (l->prot & s2_prot(m, x) & IMS_PROT_R) != 0;
}

int qemu_translate(struct q *q, const struct xl *x)
{
	struct imp *m = q->m;
	int rc = imp_attach(m, x->dev, x->dom);
	if (rc)
		return rc;
	struct leaf *l = NULL;
	if (q->g && (rc = guest_sync(q, x, &l)))
		return rc;
	if (!l) {
		l = imp_lookup(m, x->dom, x->iova);
		if (!l || !agrees(l, x, true)) {
			uint64_t sz = 1ull << x->shift;
			unsigned prot = x->prot ? x->prot : m->o.map_prot;
			uint64_t pa = x->pa_base ? base_page_pa(q, x) : x->pa & ~(sz - 1);
			rc = imp_map(m, x->dom, x->iova & ~(sz - 1), pa, sz, prot, KIND_NONE, sz);
			/* An error of the output (its budget, a refused event, the
			 * sink) has its message already. */
			if (m->rc)
				return m->rc;
			if (rc == -EINVAL || rc == -E2BIG) /* a leaf size the format has not */
				rc = imp_map(m, x->dom, x->iova & ~(IMS_PAGE_SIZE - 1),
					     (x->pa_base ? pa : x->pa) & ~(IMS_PAGE_SIZE - 1),
					     IMS_PAGE_SIZE, prot, KIND_NONE, 0);
			if (m->rc)
				return m->rc;
			if (rc == -EINVAL || rc == -E2BIG)
				return bad(q, "a translation the domain can hold (inside its IOVA "
					      "space; see --levels/--ias)");
			if (rc)
				return rc;
			l = imp_lookup(m, x->dom, x->iova);
			if (!l)
				return -EINVAL;
			if (x->pa_base) {
				l->flags |= LF_NOTE;
				l->note = x->pa & ~(IMS_PAGE_SIZE - 1);
			}
		}
	}
	if ((m->o.expect_pa == IMS_EXPECT_PA_ALL ||
	     (m->o.expect_pa == IMS_EXPECT_PA_FIRST && !(l->flags & LF_EXPECTED))) &&
	    readable(m, x, l)) {
		l->flags |= LF_EXPECTED;
		if ((rc = imp_expect_pa(m, x->dev, x->iova,
					x->nested ? x->final_pa : leaf_pa(l, x->iova))))
			return rc;
	}

	/* Direction: the log's, then the device's command, then the mapping. */
	struct range r = {0, 0, 0};
	unsigned dir = x->logdir;
	uint64_t len = m->o.access_len;
	if (!dir) {
		dir = qemu_cmd_dir(q, x->iova, &r);
		if (dir)
			len = r.b - x->iova;
	}
	/* A nested page is read-only when either stage makes it so; imp_dma
	 * clips any direction to what both stages grant. */
	unsigned prot2 = s2_prot(m, x);
	if (dir) {
		m->st->dir_logged++;
	} else if (l->kind == IMS_ASSUME_TO_DEVICE || l->kind == IMS_ASSUME_FROM_DEVICE) {
		dir = m->o.assume[l->kind];
		m->st->dir_logged++;
	} else if ((l->prot & prot2) == IMS_PROT_R) {
		dir = DIR_R;
		m->st->dir_perm++;
	} else {
		dir = m->o.assume[l->kind == KIND_NONE ? IMS_ASSUME_UNKNOWN : l->kind];
		m->st->dir_assumed++;
	}
	/* One translation covers one page of the leaf. */
	uint64_t room = IMS_PAGE_SIZE - (x->iova & (IMS_PAGE_SIZE - 1));
	if (len > room)
		len = room;
	return imp_dma(m, x->dev, x->iova, len, dir);
}

/* A logged fault becomes an access and its expected fault when the trace
 * makes the model fault the same way. */
int qemu_fault(struct q *q, uint32_t dev, uint64_t iova, bool write)
{
	struct imp *m = q->m;
	int dom = imp_dev_dom(m, dev);
	if (dom < 0) {
		m->st->faults_skipped++;
		return 0;
	}
	struct leaf *l = imp_lookup(m, (uint16_t)dom, iova);
	unsigned need = write ? IMS_PROT_W : IMS_PROT_R;
	enum ims_fault_kind kind;
	if (!l)
		kind = IMS_FAULT_NOTPRESENT;
	else if (!(l->prot & need))
		kind = IMS_FAULT_PERM;
	else {
		m->st->faults_skipped++;
		return 0;
	}
	int rc = imp_dma_raw(m, dev, iova, 1, write ? DIR_W : DIR_R);
	if (!rc)
		rc = imp_expect_fault(m, dev, iova, kind);
	return rc;
}

static int qemu_flush_all(struct q *q)
{
	for (size_t i = 0; i < q->m->ndoms; i++) {
		int rc = imp_flush(q->m, q->m->doms[i].id);
		if (rc)
			return rc;
	}
	return 0;
}

int qh_flush_all(struct q *q, const char *a, const char *e)
{
	(void)a;
	(void)e;
	return qemu_flush_all(q);
}

/* A fault the log gives no device or direction for. */
int qh_fault_unknown(struct q *q, const char *a, const char *e)
{
	(void)a;
	(void)e;
	q->m->st->faults_skipped++;
	return 0;
}
