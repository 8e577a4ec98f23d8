/* The Linux compatibility runtime, memory half (ims_lx.h): a domain's table
 * frames, the current domain, the kernel primitives' accesses and the page
 * allocator, all onto the walker ABI's host calls.
 *
 * Our own code; a walker built with it from a kernel source tree is a
 * GPL-2.0 work (docs/linux.md).
 *
 * Every table frame the kernel code allocates is recorded twice: by its
 * physical frame number (for __va) and by the frame number of its storage
 * in the host (for virt_to_phys, and to recognise a primitive's pointer as
 * a page-table entry). The host's frame storage is 4 KiB aligned, and the
 * frames of one allocation are contiguous there (walker.h), so a pointer
 * anywhere in a 16 KiB or 64 KiB table resolves through its own frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims_lx.h"
#include <linux/mm_types.h>

#define LX_FRAME 4096u
#define LX_FRAME_SHIFT 12

struct ims_lx_slot {
	uint64_t key; /* frame number + 1; 0 = empty */
	uint64_t pa;  /* physical address of the frame */
	char *virt;   /* the host's storage of the frame */
	struct page *page;
};

/* The domain an op serves, set by the glue (ims_lx.h explains why it is
 * thread-local). */
static _Thread_local struct ims_lx_dom *lx_current;

struct ims_lx_dom *ims_lx_enter(struct ims_lx_dom *lx)
{
	struct ims_lx_dom *prev = lx_current;
	lx_current = lx;
	return prev;
}

void ims_lx_leave(struct ims_lx_dom *prev)
{
	lx_current = prev;
}

struct ims_lx_dom *ims_lx_current(void)
{
	return lx_current;
}

/* ---- the two indexes: open addressing, linear probing ------------------------ */

static size_t slot_of(uint64_t key, size_t cap)
{
	/* Fibonacci hashing: neighbouring frames spread over the table. */
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static struct ims_lx_slot *find(struct ims_lx_slot *tab, size_t cap, uint64_t key)
{
	if (!cap)
		return NULL;
	for (size_t i = slot_of(key, cap);; i = (i + 1) & (cap - 1)) {
		if (tab[i].key == key)
			return &tab[i];
		if (!tab[i].key)
			return NULL;
	}
}

static void put(struct ims_lx_slot *tab, size_t cap, const struct ims_lx_slot *s)
{
	size_t i = slot_of(s->key, cap);
	while (tab[i].key)
		i = (i + 1) & (cap - 1);
	tab[i] = *s;
}

/* Removal keeps every probe chain unbroken: the entries after the hole move
 * back when their home slot is not between the hole and them. */
static void drop(struct ims_lx_slot *tab, size_t cap, uint64_t key)
{
	struct ims_lx_slot *s = find(tab, cap, key);
	if (!s)
		return;
	size_t hole = (size_t)(s - tab);
	for (size_t i = (hole + 1) & (cap - 1); tab[i].key; i = (i + 1) & (cap - 1)) {
		size_t home = slot_of(tab[i].key, cap);
		bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
		if (movable) {
			tab[hole] = tab[i];
			hole = i;
		}
	}
	tab[hole].key = 0;
}

static int grow(struct ims_lx_dom *lx)
{
	size_t cap = lx->cap ? lx->cap * 2 : 1024;
	struct ims_lx_slot *bp = calloc(cap, sizeof(*bp));
	struct ims_lx_slot *bv = calloc(cap, sizeof(*bv));
	if (!bp || !bv) {
		free(bp);
		free(bv);
		return -1;
	}
	for (size_t i = 0; i < lx->cap; i++) {
		if (lx->by_pa[i].key)
			put(bp, cap, &lx->by_pa[i]);
		if (lx->by_va[i].key)
			put(bv, cap, &lx->by_va[i]);
	}
	free(lx->by_pa);
	free(lx->by_va);
	lx->by_pa = bp;
	lx->by_va = bv;
	lx->cap = cap;
	return 0;
}

static uint64_t pa_key(uint64_t pa)
{
	return (pa >> LX_FRAME_SHIFT) + 1;
}

static uint64_t va_key(const volatile void *p)
{
	return ((uint64_t)(uintptr_t)p >> LX_FRAME_SHIFT) + 1;
}

static int add_frame(struct ims_lx_dom *lx, uint64_t pa, char *virt, struct page *pg)
{
	if (2 * (lx->n + 1) > lx->cap && grow(lx))
		return -1;
	struct ims_lx_slot s = {pa_key(pa), pa, virt, pg};
	put(lx->by_pa, lx->cap, &s);
	s.key = va_key(virt);
	put(lx->by_va, lx->cap, &s);
	lx->n++;
	return 0;
}

static void drop_frame(struct ims_lx_dom *lx, uint64_t pa)
{
	struct ims_lx_slot *s = find(lx->by_pa, lx->cap, pa_key(pa));
	if (!s)
		return;
	uint64_t vk = va_key(s->virt);
	drop(lx->by_pa, lx->cap, pa_key(pa));
	drop(lx->by_va, lx->cap, vk);
	lx->n--;
}

/* ---- the domain ---------------------------------------------------------------------- */

int ims_lx_dom_init(struct ims_lx_dom *lx, struct ims_walker_dom *wd)
{
	memset(lx, 0, sizeof(*lx));
	lx->wd = wd;
	return grow(lx) ? -12 /* -ENOMEM */ : 0;
}

void ims_lx_dom_fini(struct ims_lx_dom *lx)
{
	/* Pages the kernel code did not free: a leak of the kernel code,
	 * reported, then given back so the host's table count stays true. */
	uint64_t leaked = 0;
	for (size_t i = 0; i < lx->cap; i++) {
		struct page *pg = lx->by_pa[i].key ? lx->by_pa[i].page : NULL;
		if (!pg || lx->by_pa[i].pa != pg->ims_pa)
			continue; /* empty, or not the allocation's first frame */
		leaked += 1ull << pg->ims_order;
		struct ims_lx_dom *prev = ims_lx_enter(lx);
		ims_lx_free_pages(pg, pg->ims_order);
		ims_lx_leave(prev);
		i = (size_t)-1; /* the table changed under us: scan again */
	}
	if (leaked && lx->wd) {
		char msg[128];
		snprintf(msg, sizeof(msg), "kernel code left %llu table frame(s) allocated",
			 (unsigned long long)leaked);
		lx->wd->host->log(lx->wd, msg);
	}
	free(lx->by_pa);
	free(lx->by_va);
	lx->by_pa = lx->by_va = NULL;
	lx->cap = lx->n = 0;
}

/* ---- addresses ------------------------------------------------------------------------- */

static struct ims_lx_slot *table_slot(struct ims_lx_dom *lx, const volatile void *p)
{
	return lx ? find(lx->by_va, lx->cap, va_key(p)) : NULL;
}

bool ims_lx_table_pa(const volatile void *p, uint64_t *pa)
{
	struct ims_lx_slot *s = table_slot(lx_current, p);
	if (!s)
		return false;
	*pa = s->pa + ((uint64_t)(uintptr_t)p & (LX_FRAME - 1));
	return true;
}

static void lx_log(struct ims_lx_dom *lx, const char *msg)
{
	if (lx && lx->wd)
		lx->wd->host->log(lx->wd, msg);
	else
		fprintf(stderr, "linux compat: %s\n", msg);
}

uint64_t ims_lx_virt_to_phys(const volatile void *p)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		return pa;
	char msg[128];
	snprintf(msg, sizeof(msg), "virt_to_phys(%p): not a table page of this domain", (void *)p);
	lx_log(lx_current, msg);
	if (lx_current)
		lx_current->failed = true;
	return ~0ull;
}

void *ims_lx_phys_to_virt(uint64_t pa)
{
	struct ims_lx_dom *lx = lx_current;
	if (!lx)
		return NULL;
	uint64_t off = pa & (LX_FRAME - 1);
	struct ims_lx_slot *s = find(lx->by_pa, lx->cap, pa_key(pa));
	if (s)
		return s->virt + off;
	/* Not one of ours: the host's view (NULL, and a finding, for memory
	 * that is no page table). */
	uint64_t *f = lx->wd->host->frame(lx->wd, pa, IMS_WALKER_FRAME_MAP);
	if (!f) {
		lx->failed = true;
		return NULL;
	}
	return (char *)f + off;
}

/* ---- the primitives' accesses ----------------------------------------------------- */

uint64_t ims_lx_read64(const volatile void *p)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		return lx_current->wd->host->load(lx_current->wd, pa);
	return *(const volatile uint64_t *)p;
}

void ims_lx_write64(volatile void *p, uint64_t v)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		lx_current->wd->host->store(lx_current->wd, pa, v);
	else
		*(volatile uint64_t *)p = v;
}

uint64_t ims_lx_cmpxchg64(volatile void *p, uint64_t expect, uint64_t v)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		return lx_current->wd->host->cmpxchg(lx_current->wd, pa, expect, v);
	uint64_t old = expect;
	__atomic_compare_exchange_n((volatile uint64_t *)p, &old, v, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;
}

uint64_t ims_lx_xchg64(volatile void *p, uint64_t v)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		return lx_current->wd->host->xchg(lx_current->wd, pa, v);
	return __atomic_exchange_n((volatile uint64_t *)p, v, __ATOMIC_SEQ_CST);
}

uint64_t ims_lx_fetch_and64(volatile void *p, uint64_t mask)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		return lx_current->wd->host->fetch_and(lx_current->wd, pa, mask);
	return __atomic_fetch_and((volatile uint64_t *)p, mask, __ATOMIC_SEQ_CST);
}

uint64_t ims_lx_fetch_or64(volatile void *p, uint64_t mask)
{
	uint64_t pa;
	if (ims_lx_table_pa(p, &pa))
		return lx_current->wd->host->fetch_or(lx_current->wd, pa, mask);
	return __atomic_fetch_or((volatile uint64_t *)p, mask, __ATOMIC_SEQ_CST);
}

/* ---- table pages ------------------------------------------------------------------- */

struct page *ims_lx_alloc_pages(unsigned order)
{
	struct ims_lx_dom *lx = lx_current;
	if (!lx || order > 9)
		return NULL;
	struct ims_walker_dom *wd = lx->wd;
	struct page *pg = calloc(1, sizeof(*pg));
	uint64_t pa;
	if (!pg)
		return NULL;
	if (wd->host->alloc_table(wd, order, &pa)) {
		free(pg);
		return NULL;
	}
	uint64_t n = 1ull << order;
	char *base = NULL;
	for (uint64_t i = 0; i < n; i++) {
		char *v = (char *)wd->host->frame(wd, pa + i * LX_FRAME, IMS_WALKER_FRAME_MAP);
		if (i == 0)
			base = v;
		/* walker.h: storage 4 KiB aligned, one allocation's frames contiguous. */
		bool ok = v && !((uintptr_t)v & (LX_FRAME - 1)) && v == base + i * LX_FRAME;
		if (!ok || add_frame(lx, pa + i * LX_FRAME, v, pg)) {
			for (uint64_t j = 0; j < i; j++)
				drop_frame(lx, pa + j * LX_FRAME);
			wd->host->free_table(wd, pa, order);
			lx_log(lx, ok ? "out of memory indexing a table page"
				      : "table frames not contiguous in host memory");
			lx->failed = true;
			free(pg);
			return NULL;
		}
	}
	pg->ims_pa = pa;
	pg->ims_virt = base;
	pg->ims_order = order;
	pg->refcount.counter = 1;
	pg->lru.next = pg->lru.prev = &pg->lru;
	lx->frames += n;
	return pg;
}

void ims_lx_free_pages(struct page *pg, unsigned order)
{
	struct ims_lx_dom *lx = lx_current;
	if (!pg || !lx)
		return;
	if (order != pg->ims_order) {
		char msg[128];
		snprintf(msg, sizeof(msg), "page of order %u freed as order %u", pg->ims_order,
			 order);
		lx_log(lx, msg);
	}
	uint64_t n = 1ull << pg->ims_order;
	for (uint64_t i = 0; i < n; i++)
		drop_frame(lx, pg->ims_pa + i * LX_FRAME);
	lx->frames -= n;
	/* The host checks the order against what it gave. */
	lx->wd->host->free_table(lx->wd, pg->ims_pa, order);
	free(pg);
}

void *ims_lx_page_address(const struct page *pg)
{
	return pg ? pg->ims_virt : NULL;
}

struct page *ims_lx_virt_to_page(const void *p)
{
	struct ims_lx_slot *s = table_slot(lx_current, p);
	if (s)
		return s->page;
	char msg[128];
	snprintf(msg, sizeof(msg), "virt_to_page(%p): not a table page of this domain", p);
	lx_log(lx_current, msg);
	return NULL;
}

unsigned ims_lx_page_order(const struct page *pg)
{
	return pg ? pg->ims_order : 0;
}
