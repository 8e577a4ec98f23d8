/* Unit test of the Linux compatibility runtime (linux/compat), against a
 * fake walker host: no kernel tree needed. Checks that the kernel
 * primitives reach the host as the right memory calls, that table pages
 * map both ways (__va / virt_to_phys, 16 KiB tables across frames), that
 * the dirty bitmap's record is host->record, and the iommu core / iommufd
 * helpers (page sizes per call, the mapped-range record).
 * Exit 0 when every check holds; prints each failed check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ims_lx.h"
#include "ims_lx_core.h"
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/io-pgtable.h>
#include <linux/mm.h>
#include <linux/sizes.h>

static int failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			printf("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                  \
		}                                                                    \
	} while (0)

/* ---- a fake host: table frames from one aligned arena ------------------------ */

#define ARENA_FRAMES 64
#define PA_BASE 0x100000000ull

struct fake {
	struct ims_walker_dom dom;
	struct ims_walker_host host;
	char *arena;
	unsigned order_of[ARENA_FRAMES]; /* allocation order + 1 at its first frame */
	unsigned next;
	unsigned loads, stores, cmpxchgs, xchgs, ands, ors, frees, records, logs;
	uint64_t last_mask, rec_iova, rec_len;
	unsigned freed_order;
};

static struct fake *fake_of(struct ims_walker_dom *d)
{
	return (struct fake *)((char *)d - offsetof(struct fake, dom));
}

static uint64_t *word(struct fake *f, uint64_t pa)
{
	if (pa < PA_BASE || pa >= PA_BASE + ARENA_FRAMES * 4096ull)
		return NULL;
	return (uint64_t *)(f->arena + (pa - PA_BASE));
}

static uint64_t f_load(struct ims_walker_dom *d, uint64_t pa)
{
	fake_of(d)->loads++;
	return *word(fake_of(d), pa);
}

static void f_store(struct ims_walker_dom *d, uint64_t pa, uint64_t v)
{
	fake_of(d)->stores++;
	*word(fake_of(d), pa) = v;
}

static uint64_t f_cmpxchg(struct ims_walker_dom *d, uint64_t pa, uint64_t e, uint64_t v)
{
	uint64_t *w = word(fake_of(d), pa), old = *w;
	fake_of(d)->cmpxchgs++;
	if (old == e)
		*w = v;
	return old;
}

static uint64_t f_xchg(struct ims_walker_dom *d, uint64_t pa, uint64_t v)
{
	uint64_t *w = word(fake_of(d), pa), old = *w;
	fake_of(d)->xchgs++;
	*w = v;
	return old;
}

static uint64_t f_and(struct ims_walker_dom *d, uint64_t pa, uint64_t m)
{
	uint64_t *w = word(fake_of(d), pa), old = *w;
	fake_of(d)->ands++;
	fake_of(d)->last_mask = m;
	*w &= m;
	return old;
}

static uint64_t f_or(struct ims_walker_dom *d, uint64_t pa, uint64_t m)
{
	uint64_t *w = word(fake_of(d), pa), old = *w;
	fake_of(d)->ors++;
	fake_of(d)->last_mask = m;
	*w |= m;
	return old;
}

static uint64_t *f_frame(struct ims_walker_dom *d, uint64_t pa, unsigned flags)
{
	(void)flags;
	return word(fake_of(d), pa & ~4095ull);
}

static int f_alloc(struct ims_walker_dom *d, unsigned order, uint64_t *pa)
{
	struct fake *f = fake_of(d);
	unsigned n = 1u << order;
	unsigned at = (f->next + n - 1) & ~(n - 1); /* aligned to its size */
	if (at + n > ARENA_FRAMES)
		return -12;
	memset(f->arena + at * 4096ull, 0, n * 4096ull);
	f->order_of[at] = order + 1;
	f->next = at + n;
	*pa = PA_BASE + at * 4096ull;
	return 0;
}

static void f_free(struct ims_walker_dom *d, uint64_t pa, unsigned order)
{
	struct fake *f = fake_of(d);
	f->frees++;
	f->freed_order = order;
	f->order_of[(pa - PA_BASE) / 4096] = 0;
}

static void f_record(struct ims_walker_dirty *dirty, uint64_t iova, uint64_t len)
{
	struct fake *f = (struct fake *)dirty;
	f->records++;
	f->rec_iova = iova;
	f->rec_len = len;
}

static void f_log(struct ims_walker_dom *d, const char *msg)
{
	(void)msg;
	fake_of(d)->logs++;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->arena = aligned_alloc(4096, ARENA_FRAMES * 4096ull);
	f->host = (struct ims_walker_host){
		.load = f_load,
		.store = f_store,
		.cmpxchg = f_cmpxchg,
		.xchg = f_xchg,
		.fetch_and = f_and,
		.fetch_or = f_or,
		.frame = f_frame,
		.alloc_table = f_alloc,
		.free_table = f_free,
		.record = f_record,
		.log = f_log,
	};
	f->dom.host = &f->host;
}

/* ---- the runtime ------------------------------------------------------------------ */

static void test_runtime(void)
{
	struct fake f;
	fake_init(&f);
	struct ims_lx_dom lx;
	CHECK(ims_lx_dom_init(&lx, &f.dom) == 0);
	struct ims_lx_dom *prev = ims_lx_enter(&lx);

	/* A 16 KiB table (order 2): four contiguous frames, both ways. */
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	CHECK(pg != NULL);
	u64 *t = page_address(pg);
	CHECK(t == (u64 *)word(&f, PA_BASE));
	CHECK(virt_to_phys(&t[1024 + 3]) == PA_BASE + 0x2000 + 24);
	CHECK(phys_to_virt(PA_BASE + 0x3008) == (void *)&t[1536 + 1]);
	CHECK(virt_to_page(&t[700]) == pg);

	/* The primitives on a table entry are host calls ... */
	WRITE_ONCE(t[1025], 0x1234ull);
	CHECK(f.stores == 1 && *word(&f, PA_BASE + 0x2008) == 0x1234);
	CHECK(READ_ONCE(t[1025]) == 0x1234 && f.loads == 1);
	CHECK(cmpxchg64(&t[1025], 0x1234ull, 0x5678ull) == 0x1234 && f.cmpxchgs == 1);
	CHECK(t[1025] == 0x5678);
	u64 old = 0x5678;
	CHECK(try_cmpxchg64(&t[1025], &old, 0x9ull) && t[1025] == 0x9);
	CHECK(xchg(&t[1025], 0x80ull) == 0x9 && f.xchgs == 1);
	set_bit(7, (unsigned long *)&t[2]);
	CHECK(f.ors == 1 && f.last_mask == 0x80 && t[2] == 0x80);
	CHECK(test_and_clear_bit(7, (unsigned long *)&t[2]) && f.ands == 1);
	CHECK(f.last_mask == ~0x80ull && t[2] == 0);
	CHECK(!test_and_clear_bit(7, (unsigned long *)&t[2]));
	unsigned loads = f.loads;
	CHECK(!test_bit(6, (unsigned long *)&t[2]) && f.loads == loads + 1);
	/* A bit beyond the first word of the pointer lands in the next entry. */
	set_bit(64 + 3, (unsigned long *)&t[4]);
	CHECK(t[5] == 8);

	/* ... and in place on anything else. */
	u64 local = 5;
	unsigned calls = f.loads + f.stores + f.cmpxchgs;
	WRITE_ONCE(local, 6ull);
	CHECK(READ_ONCE(local) == 6 && cmpxchg64(&local, 6ull, 7ull) == 6 && local == 7);
	CHECK(f.loads + f.stores + f.cmpxchgs == calls);

	/* The dirty bitmap's record is host->record. */
	struct iommu_iotlb_gather g;
	struct iommu_dirty_bitmap bm;
	iommu_dirty_bitmap_init(&bm, (struct iova_bitmap *)&f, &g);
	iommu_dirty_bitmap_record(&bm, 0x200000, 0x200000);
	CHECK(f.records == 1 && f.rec_iova == 0x200000 && f.rec_len == 0x200000);
	CHECK(g.start == 0x200000 && g.end == 0x3fffff);

	/* Freeing gives the host back the order it gave. */
	__free_pages(pg, 2);
	CHECK(f.frees == 1 && f.freed_order == 2);

	/* A page the kernel code leaves allocated is freed, and reported, at
	 * the end. */
	CHECK(alloc_pages(GFP_KERNEL, 0) != NULL);
	ims_lx_leave(prev);
	unsigned logs = f.logs;
	ims_lx_dom_fini(&lx);
	CHECK(f.frees == 2 && f.logs == logs + 1);
	free(f.arena);
}

/* ---- the iommu core and iommufd helpers ------------------------------------------- */

static void test_core(void)
{
	const uint64_t arm4k = SZ_4K | SZ_2M | SZ_1G;
	uint64_t n;
	/* The largest size that fits, not one below the size's lowest bit. */
	CHECK(ims_lx_pgsize(arm4k, 0x3a000000, 0x3a000000, 0x4002000, &n) == SZ_2M && n == 32);
	CHECK(ims_lx_pgsize(arm4k, 0x3e000000, 0x3e000000, 0x2000, &n) == SZ_4K && n == 2);
	/* Stop where the next size becomes usable. */
	CHECK(ims_lx_pgsize(arm4k, 0x1ff000, 0x1ff000, 0x401000, &n) == SZ_4K && n == 1);
	CHECK(ims_lx_pgsize(arm4k, 0x3fe00000, 0x7fe00000, 0x40200000, &n) == SZ_2M && n == 1);
	/* iova and pa not congruent modulo the next size: no stop. */
	CHECK(ims_lx_pgsize(arm4k, 0x1ff000, 0x2ff000, 0x401000, &n) == SZ_4K && n == 0x401);
	CHECK(ims_lx_pgsize(SZ_2M, 0x1000, 0x1000, 0x400000, &n) == 0);

	struct ims_lx_areas a = {0};
	struct ims_lx_chunk c1 = {0x200000, 0x400000, 0x40000000, SZ_2M, 3};
	struct ims_lx_chunk c2 = {0x600000, 0x2000, 0x50000000, SZ_4K, 1};
	struct ims_lx_chunk c3 = {0x800000, 0x1000, 0x60000000, SZ_4K, 3};
	CHECK(!ims_lx_areas_add(&a, &c3) && !ims_lx_areas_add(&a, &c1) && !ims_lx_areas_add(&a, &c2));
	CHECK(ims_lx_areas_overlap(&a, 0x5ff000, 0x5fffff));
	CHECK(!ims_lx_areas_overlap(&a, 0x602000, 0x7fffff));
	CHECK(ims_lx_areas_cuts(&a, 0x300000, 0x5fffff));  /* starts inside a 2M leaf */
	CHECK(ims_lx_areas_cuts(&a, 0x200000, 0x2fffff));  /* ends inside one */
	CHECK(!ims_lx_areas_cuts(&a, 0x400000, 0x600fff)); /* leaf boundaries */
	uint64_t lo, hi;
	CHECK(ims_lx_areas_next_run(&a, 0x100000, 0x900000, &lo, &hi));
	CHECK(lo == 0x200000 && hi == 0x601fff); /* c1 and c2 touch: one run */
	CHECK(ims_lx_areas_next_run(&a, hi + 1, 0x900000, &lo, &hi) && lo == 0x800000 && hi == 0x800fff);
	CHECK(!ims_lx_areas_next_run(&a, 0x801000, 0x900000, &lo, &hi));
	/* Removing the middle of c1 splits it, keeping its leaves' pa. */
	CHECK(ims_lx_areas_remove(&a, 0x400000, 0x5fffff) == 0x200000);
	const struct ims_lx_chunk *t = ims_lx_areas_find(&a, 0x200000);
	CHECK(t && t->size == 0x200000);
	CHECK(!ims_lx_areas_find(&a, 0x400000));
	CHECK(ims_lx_areas_remove(&a, 0x0, 0xffffffff) == 0x200000 + 0x2000 + 0x1000 && a.n == 0);
	ims_lx_areas_fini(&a);
}

int main(void)
{
	test_runtime();
	test_core();
	if (failures) {
		printf("test_compat: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_compat: ok\n");
	return 0;
}
