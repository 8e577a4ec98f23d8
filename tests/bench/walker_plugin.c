/* A plug-in walker for the bench tests (tests/bench/tests.cmake): a plain
 * harvest-level read_and_clear_dirty for Intel VT-d second stage only, so
 * `bench --walker-plugin` times it on the vtd rows and shows '-' on the
 * others. Written against <iommusim/walker.h> alone, as a user's walker is.
 *
 * Built with -DBENCH_FULL_LEVEL=1 it claims the full level instead, with
 * table operations that refuse everything: enough to load, and for bench
 * to fail the first row it handles with the walker's own reason, not crash
 * (a full-level walker is timed on a domain of its own, which this one
 * never creates). tests/bench/full_walker.c is a working full-level one.
 */
#include <errno.h>
#include <stdio.h>

#include <iommusim/walker.h>

#ifndef BENCH_FULL_LEVEL
#define BENCH_FULL_LEVEL 0
#endif
/* -DBENCH_FORMATS=0: a walker of no format at all, which bench refuses. */
#ifndef BENCH_FORMATS
#define BENCH_FORMATS (1u << IMS_FMT_VTD)
#endif

#define BIT(n) (1ull << (n))
#define VTD_RWX 7ull                /* present when any of R, W, X (formats.md, VT-d) */
#define VTD_PS BIT(7)               /* a leaf above level 0 */
#define VTD_D BIT(9)                /* dirty */
#define VTD_ADDR 0x000ffffffffff000ull /* bits 51:12 */

struct walk {
	struct ims_walker_dom *d;
	uint64_t first, last; /* inclusive */
	unsigned flags;
	struct ims_walker_dirty *dirty;
};

/* Every entry of the table at `level` (covering IOVAs from `base`) that
 * meets [first, last]. */
static void walk_table(struct walk *w, uint64_t table, int level, uint64_t base)
{
	const struct ims_walker_host *h = w->d->host;
	unsigned shift = w->d->granule_shift + w->d->stride * (unsigned)level;
	uint64_t span = BIT(shift);
	uint64_t n = BIT(w->d->stride);
	if (level == w->d->top && w->d->ias < shift + w->d->stride)
		n = w->d->ias > shift ? BIT(w->d->ias - shift) : 1;
	uint64_t lo = w->first > base ? (w->first - base) >> shift : 0;
	for (uint64_t i = lo; i < n; i++) {
		uint64_t iova = base + i * span;
		if (iova > w->last)
			break;
		uint64_t slot = table + 8 * i;
		uint64_t pte = h->load(w->d, slot);
		if (!(pte & VTD_RWX))
			continue;
		if (level > 0 && !(pte & VTD_PS)) {
			walk_table(w, pte & VTD_ADDR, level - 1, iova);
			continue;
		}
		if (!(pte & VTD_D))
			continue;
		h->record(w->dirty, iova, span);
		if (!(w->flags & IMS_WALKER_NO_CLEAR))
			h->fetch_and(w->d, slot, ~VTD_D); /* atomic: a racing D update stays */
	}
}

static int rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
	       struct ims_walker_dirty *dirty)
{
	if (d->fmt != IMS_FMT_VTD)
		return -EINVAL;
	struct walk w = {d, iova, iova + size - 1, flags, dirty};
	walk_table(&w, d->root, d->top, 0);
	return 0;
}

#if BENCH_FULL_LEVEL
static int refuse_init(struct ims_walker_dom *d, char *err, size_t errlen)
{
	(void)d;
	snprintf(err, errlen, "bench-test-refuse creates no domain");
	return -EOPNOTSUPP;
}
static void no_free(struct ims_walker_dom *d) { (void)d; }
static void no_ctx(struct ims_walker_dom *d, uint64_t words[8])
{
	(void)d;
	(void)words;
}
static int no_map(struct ims_walker_dom *d, uint64_t iova, uint64_t pa, uint64_t size,
		  unsigned prot, uint64_t pgsize)
{
	(void)d, (void)iova, (void)pa, (void)size, (void)prot, (void)pgsize;
	return -EOPNOTSUPP;
}
static int no_unmap(struct ims_walker_dom *d, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	(void)d, (void)iova, (void)size;
	*unmapped = 0;
	return -EOPNOTSUPP;
}
static int no_i2p(struct ims_walker_dom *d, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	(void)d, (void)iova, (void)pa, (void)prot;
	return -ENOENT;
}
static int no_track(struct ims_walker_dom *d, bool enable)
{
	(void)d, (void)enable;
	return -EOPNOTSUPP;
}
#endif

static const struct ims_walker_ops ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
#if BENCH_FULL_LEVEL
	.name = "bench-test-refuse",
	.description = "tests/bench/walker_plugin.c: a full-level walker that creates no domain",
	.level = IMS_WALKER_FULL,
	.domain_init = refuse_init,
	.domain_free = no_free,
	.ctx_words = no_ctx,
	.map = no_map,
	.unmap = no_unmap,
	.iova_to_phys = no_i2p,
	.set_dirty_tracking = no_track,
#else
	.name = "bench-test-vtd",
	.description = "tests/bench/walker_plugin.c: a plain VT-d harvest walker",
	.level = IMS_WALKER_HARVEST,
#endif
	.formats = BENCH_FORMATS,
	.read_and_clear_dirty = rcd,
};

const struct ims_walker_ops *ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &ops : NULL;
}
