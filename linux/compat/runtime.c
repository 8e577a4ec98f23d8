/* The Linux compatibility runtime: kernel memory primitives onto the walker
 * ABI's host calls (the interface and its reasons: include/ims_linux.h).
 *
 * Each domain keeps a reverse map from the host address of every table
 * frame it allocated to the frame's physical address: an open-addressing
 * hash keyed by the frame's address, linear probing, deletion by shifting
 * the probe run back. A 64-bit access through a pointer that falls in a
 * mapped frame becomes the host's memory call on that physical address.
 *
 * This file is compiled without the kernel-header stand-ins; it includes the
 * C library and the walker ABI only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/walker.h"
#include "ims_linux.h"

#define FRAME_SHIFT 12
#define FRAME_SIZE (1ull << FRAME_SHIFT)

/* One table allocation; desc first, so a descriptor pointer is the
 * allocation's address. */
struct alloc {
	unsigned long desc[ims_lx_desc_words];
	uint64_t pa;
	uintptr_t host;
	unsigned order;
};

struct slot {
	uintptr_t frame; /* host address of a 4 KiB frame; 0 = empty */
	uint64_t pa;
	struct alloc *a;
};

struct ims_lx_dom {
	struct ims_walker_dom *dom;
	struct slot *tab;
	size_t cap; /* a power of two */
	size_t n;
	uint64_t warnings;
};

/* The domain the kernel code runs for on this thread (ims_linux.h). */
static _Thread_local struct ims_lx_dom *cur;

/* ---- the reverse map ------------------------------------------------------------ */

static size_t home(const struct ims_lx_dom *lx, uintptr_t frame)
{
	uint64_t k = (uint64_t)frame >> FRAME_SHIFT;
	return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (lx->cap - 1);
}

static struct slot *find(const struct ims_lx_dom *lx, uintptr_t frame)
{
	if (!lx->n)
		return NULL;
	for (size_t i = home(lx, frame);; i = (i + 1) & (lx->cap - 1)) {
		struct slot *s = &lx->tab[i];
		if (s->frame == frame)
			return s;
		if (!s->frame)
			return NULL;
	}
}

static int grow(struct ims_lx_dom *lx)
{
	size_t cap = lx->cap ? lx->cap * 2 : 256;
	struct slot *old = lx->tab, *t = calloc(cap, sizeof(*t));
	if (!t)
		return -1;
	size_t oldcap = lx->cap;
	lx->tab = t;
	lx->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].frame)
			continue;
		size_t j = home(lx, old[i].frame);
		while (t[j].frame)
			j = (j + 1) & (cap - 1);
		t[j] = old[i];
	}
	free(old);
	return 0;
}

static int insert(struct ims_lx_dom *lx, uintptr_t frame, uint64_t pa, struct alloc *a)
{
	if ((lx->n + 1) * 4 > lx->cap * 3 && grow(lx))
		return -1;
	size_t i = home(lx, frame);
	while (lx->tab[i].frame)
		i = (i + 1) & (lx->cap - 1);
	lx->tab[i] = (struct slot){frame, pa, a};
	lx->n++;
	return 0;
}

/* Removes a slot and moves later members of its probe run back over the
 * hole, so every lookup still finds its key before an empty slot. */
static void erase(struct ims_lx_dom *lx, struct slot *s)
{
	size_t mask = lx->cap - 1, hole = (size_t)(s - lx->tab);
	lx->tab[hole].frame = 0;
	lx->n--;
	for (size_t i = (hole + 1) & mask; lx->tab[i].frame; i = (i + 1) & mask) {
		size_t h = home(lx, lx->tab[i].frame);
		/* Can the member at i move to the hole? Only if its home is not
		 * cyclically in (hole, i]. */
		bool stays = hole <= i ? (h > hole && h <= i) : (h > hole || h <= i);
		if (stays)
			continue;
		lx->tab[hole] = lx->tab[i];
		lx->tab[i].frame = 0;
		hole = i;
	}
}

/* The slot of the table frame holding p in the current domain, or NULL. */
static const struct slot *table_slot(const volatile void *p)
{
	struct ims_lx_dom *lx = cur;
	if (!lx)
		return NULL;
	return find(lx, (uintptr_t)p & ~(uintptr_t)(FRAME_SIZE - 1));
}

static uint64_t pa_of(const struct slot *s, const volatile void *p)
{
	return s->pa + ((uintptr_t)p & (FRAME_SIZE - 1));
}

/* ---- domains -------------------------------------------------------------------- */

struct ims_lx_dom *ims_lx_dom_new(struct ims_walker_dom *dom)
{
	struct ims_lx_dom *lx = calloc(1, sizeof(*lx));
	if (!lx)
		return NULL;
	lx->dom = dom;
	return lx;
}

void ims_lx_dom_free(struct ims_lx_dom *lx)
{
	if (!lx)
		return;
	/* Allocations still registered (a walker that leaked tables): their
	 * descriptors go; the frames are the host's. */
	for (size_t i = 0; i < lx->cap; i++) {
		struct slot *s = &lx->tab[i];
		if (s->frame && s->a && s->a->host == s->frame)
			free(s->a);
	}
	free(lx->tab);
	if (cur == lx)
		cur = NULL;
	free(lx);
}

uint64_t ims_lx_live_frames(const struct ims_lx_dom *lx)
{
	return lx->n;
}

uint64_t ims_lx_warnings(const struct ims_lx_dom *lx)
{
	return lx->warnings;
}

struct ims_lx_dom *ims_lx_enter(struct ims_lx_dom *lx, struct ims_walker_dom *dom)
{
	struct ims_lx_dom *prev = cur;
	lx->dom = dom;
	cur = lx;
	return prev;
}

void ims_lx_leave(struct ims_lx_dom *prev)
{
	cur = prev;
}

struct ims_lx_dom *ims_lx_current(void)
{
	return cur;
}

/* ---- memory --------------------------------------------------------------------- */

uint64_t ims_lx_load64(const volatile void *p)
{
	const struct slot *s = table_slot(p);
	if (s)
		return cur->dom->host->load(cur->dom, pa_of(s, p));
	return *(const volatile uint64_t *)p;
}

void ims_lx_store64(volatile void *p, uint64_t v)
{
	const struct slot *s = table_slot(p);
	if (s)
		cur->dom->host->store(cur->dom, pa_of(s, p), v);
	else
		*(volatile uint64_t *)p = v;
}

uint64_t ims_lx_cmpxchg64(volatile void *p, uint64_t expect, uint64_t v)
{
	const struct slot *s = table_slot(p);
	if (s)
		return cur->dom->host->cmpxchg(cur->dom, pa_of(s, p), expect, v);
	__atomic_compare_exchange_n((volatile uint64_t *)p, &expect, v, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return expect; /* the old value, success or not */
}

uint64_t ims_lx_xchg64(volatile void *p, uint64_t v)
{
	const struct slot *s = table_slot(p);
	if (s)
		return cur->dom->host->xchg(cur->dom, pa_of(s, p), v);
	return __atomic_exchange_n((volatile uint64_t *)p, v, __ATOMIC_SEQ_CST);
}

uint64_t ims_lx_fetch_and64(volatile void *p, uint64_t mask)
{
	const struct slot *s = table_slot(p);
	if (s)
		return cur->dom->host->fetch_and(cur->dom, pa_of(s, p), mask);
	return __atomic_fetch_and((volatile uint64_t *)p, mask, __ATOMIC_SEQ_CST);
}

uint64_t ims_lx_fetch_or64(volatile void *p, uint64_t mask)
{
	const struct slot *s = table_slot(p);
	if (s)
		return cur->dom->host->fetch_or(cur->dom, pa_of(s, p), mask);
	return __atomic_fetch_or((volatile uint64_t *)p, mask, __ATOMIC_SEQ_CST);
}

void *ims_lx_va(uint64_t pa)
{
	struct ims_lx_dom *lx = cur;
	if (!lx)
		return NULL;
	uint64_t *f = lx->dom->host->frame(lx->dom, pa & ~(FRAME_SIZE - 1), IMS_WALKER_FRAME_MAP);
	return f ? (char *)f + (pa & (FRAME_SIZE - 1)) : NULL;
}

uint64_t ims_lx_pa(const volatile void *p)
{
	const struct slot *s = table_slot(p);
	return s ? pa_of(s, p) : ~0ull;
}

/* ---- table memory --------------------------------------------------------------- */

void *ims_lx_alloc_table(size_t size)
{
	struct ims_lx_dom *lx = cur;
	if (!lx)
		return NULL;
	unsigned order = 0;
	while ((FRAME_SIZE << order) < size)
		order++;
	struct ims_walker_dom *d = lx->dom;
	uint64_t pa;
	if (d->host->alloc_table(d, order, &pa))
		return NULL;
	struct alloc *a = calloc(1, sizeof(*a));
	uint64_t *base = d->host->frame(d, pa, IMS_WALKER_FRAME_MAP);
	if (!a || !base)
		goto fail;
	*a = (struct alloc){.pa = pa, .host = (uintptr_t)base, .order = order};
	for (uint64_t i = 0; i < (1ull << order); i++) {
		uintptr_t f = a->host + (uintptr_t)(i << FRAME_SHIFT);
		/* The ABI promises contiguous host storage for one allocation. */
		if ((uintptr_t)d->host->frame(d, pa + (i << FRAME_SHIFT), IMS_WALKER_FRAME_MAP) != f ||
		    insert(lx, f, pa + (i << FRAME_SHIFT), a)) {
			while (i--) {
				struct slot *s = find(lx, a->host + (uintptr_t)(i << FRAME_SHIFT));
				if (s)
					erase(lx, s);
			}
			goto fail;
		}
	}
	return base;
fail:
	free(a);
	d->host->free_table(d, pa, order);
	return NULL;
}

void ims_lx_free_table(void *virt)
{
	struct ims_lx_dom *lx = cur;
	struct slot *s = lx ? find(lx, (uintptr_t)virt & ~(uintptr_t)(FRAME_SIZE - 1)) : NULL;
	if (!s || s->a->host != (uintptr_t)virt) {
		ims_lx_warn(__FILE__, __LINE__, "free of table memory that no allocation starts at");
		return;
	}
	struct alloc *a = s->a;
	for (uint64_t i = 0; i < (1ull << a->order); i++) {
		struct slot *f = find(lx, a->host + (uintptr_t)(i << FRAME_SHIFT));
		if (f)
			erase(lx, f);
	}
	lx->dom->host->free_table(lx->dom, a->pa, a->order);
	free(a);
}

void *ims_lx_desc(const void *virt)
{
	const struct slot *s = table_slot(virt);
	return s ? s->a->desc : NULL;
}

void *ims_lx_desc_virt(const void *desc)
{
	return desc ? (void *)((const struct alloc *)desc)->host : NULL;
}

/* ---- the harvest's output ------------------------------------------------------- */

void ims_lx_bitmap_set(struct iova_bitmap *bm, uint64_t iova, uint64_t length)
{
	struct ims_lx_dom *lx = cur;
	if (lx && bm)
		lx->dom->host->bitmap_set(bm->dirty, iova, length);
}

/* ---- diagnostics ---------------------------------------------------------------- */

void ims_lx_warn(const char *file, int line, const char *what)
{
	struct ims_lx_dom *lx = cur;
	const char *base = strrchr(file, '/');
	char msg[256];
	snprintf(msg, sizeof(msg), "kernel warning at %s:%d: %s", base ? base + 1 : file, line, what);
	if (!lx) {
		fprintf(stderr, "%s\n", msg);
		return;
	}
	lx->warnings++;
	lx->dom->host->log(lx->dom, msg);
}
