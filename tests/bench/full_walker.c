/* A full-level plug-in walker for the bench tests (tests/bench/tests.cmake):
 * Intel VT-d second-stage tables of its own (3, 4 or 5 levels as the domain
 * asks; 4 KiB, 2 MiB and 1 GiB leaves), with map, unmap, iova_to_phys,
 * context words, dirty tracking and read_and_clear_dirty, all through the
 * host. Written against <iommusim/walker.h> alone, as a user's walker is,
 * from formats.md ("Intel VT-d second-stage tables"): R bit 0, W bit 1
 * (present when either is set), PS bit 7 (a leaf at level 1 or 2), D bit 9,
 * the address in 51:12; the scalable-mode PASID-table entry: P bit 0, AW
 * bits 4:2 (levels - 2), PGTT bits 8:6 (2 = second stage), SSADE bit 9, the
 * table pointer in 63:12, the DomainID in bits 15:0 of the second word.
 *
 * Kept small: unmap leaves emptied tables in place (domain_free frees them),
 * which conform's trace-unmap-frees-tables case reports; bench never unmaps.
 *
 * `bench --walker-plugin` times it on a second domain of its own tables.
 * Seeded variants, each of which bench must fail (exit 1):
 *   -DBENCH_BUG=1      read_and_clear_dirty leaves out the last dirty page
 *                      it finds (it still cleans it);
 *   -DBENCH_MAP_FAIL=1 map refuses 1 GiB leaves with -ENOSPC.
 * Policy variants for tests/walkers/maps_dirty.cmake (not bench's):
 *   -DMAPS_DIRTY=1     a writable map while tracking is on sets D (the
 *                      other policy of classic bug 10, io-pgtable-arm's)
 *                      and states it (IMS_WALKER_CONTRACT_MAPS_DIRTY);
 *   -DMAPS_DIRTY=2     the same without stating it: an over-report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <iommusim/walker.h>

#ifndef BENCH_BUG
#define BENCH_BUG 0
#endif
#ifndef MAPS_DIRTY
#define MAPS_DIRTY 0
#endif
#ifndef BENCH_MAP_FAIL
#define BENCH_MAP_FAIL 0
#endif

#define BIT(n) (1ull << (n))
#define VT_R BIT(0)
#define VT_W BIT(1)
#define VT_PS BIT(7)
#define VT_D BIT(9)
#define VT_ADDR 0x000ffffffffff000ull
#define PE_P BIT(0)
#define PE_AW_SHIFT 2
#define PE_PGTT_SL (2ull << 6)
#define PE_SSADE BIT(9)
#define PAGE 4096ull
#define LEAF_SIZES (BIT(12) | BIT(21) | BIT(30))

struct fw {
	bool tracking;
};

static unsigned shift_of(int level) { return 12 + 9 * (unsigned)level; }

static bool present(uint64_t e) { return (e & (VT_R | VT_W)) != 0; }

/* A leaf: level 0, or PS above it. */
static bool is_leaf(uint64_t e, int level) { return level == 0 || (e & VT_PS); }

static uint64_t slot_of(uint64_t table, int level, uint64_t iova)
{
	return table + 8 * ((iova >> shift_of(level)) & 511);
}

/* ---- domain ------------------------------------------------------------------ */

static int fw_init(struct ims_walker_dom *d, char *err, size_t errlen)
{
	if (d->fmt != IMS_FMT_VTD || d->levels < 3 || d->levels > 5 || d->granule_shift != 12) {
		snprintf(err, errlen, "VT-d with 3 to 5 levels of 4 KiB tables only");
		return -EINVAL;
	}
	struct fw *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	int rc = d->host->alloc_table(d, 0, &d->root);
	if (rc) {
		free(w);
		return rc;
	}
	d->priv = w;
	return 0;
}

static void free_tables(struct ims_walker_dom *d, uint64_t table, int level)
{
	for (unsigned i = 0; level > 0 && i < 512; i++) {
		uint64_t e = d->host->load(d, table + 8 * i);
		if (present(e) && !is_leaf(e, level))
			free_tables(d, e & VT_ADDR, level - 1);
	}
	d->host->free_table(d, table, 0);
}

static void fw_free(struct ims_walker_dom *d)
{
	free_tables(d, d->root, d->top);
	free(d->priv);
}

static void fw_ctx_words(struct ims_walker_dom *d, uint64_t words[8])
{
	const struct fw *w = d->priv;
	for (int i = 0; i < 8; i++)
		words[i] = 0;
	words[0] = PE_P | ((uint64_t)(d->levels - 2) << PE_AW_SHIFT) | PE_PGTT_SL |
		   (d->root & VT_ADDR) | (w->tracking ? PE_SSADE : 0);
	words[1] = d->tag;
}

static int fw_set_dirty_tracking(struct ims_walker_dom *d, bool enable)
{
	struct fw *w = d->priv;
	if (!d->dirty_tracking)
		return -EINVAL;
	int rc = d->host->ctx_change(d, 0, PE_SSADE, enable ? PE_SSADE : 0);
	if (!rc)
		w->tracking = enable;
	return rc;
}

/* ---- walking a range ----------------------------------------------------------- */

/* [first, last] clipped to entry i of a table at `level` covering from base. */
struct span {
	uint64_t lo, hi, ebase, elast;
};

static struct span span_of(int level, uint64_t base, unsigned i, uint64_t first, uint64_t last)
{
	uint64_t size = BIT(shift_of(level));
	struct span s = {.ebase = base + i * size};
	s.elast = s.ebase + (size - 1);
	s.lo = first > s.ebase ? first : s.ebase;
	s.hi = last < s.elast ? last : s.elast;
	return s;
}

/* The entries of a table at `level` (covering from base) that meet
 * [first, last]. */
static void index_range(int level, uint64_t base, uint64_t first, uint64_t last, unsigned *i0,
			unsigned *i1)
{
	unsigned shift = shift_of(level);
	uint64_t end = ~0ull;
	if (shift + 9 < 64 && base + ((BIT(shift) << 9) - 1) >= base)
		end = base + ((BIT(shift) << 9) - 1);
	*i0 = first > base ? (unsigned)((first - base) >> shift) : 0;
	*i1 = last < end ? (unsigned)((last - base) >> shift) : 511;
}

/* -EEXIST when anything is mapped in [first, last]. */
static int check_empty(struct ims_walker_dom *d, uint64_t table, int level, uint64_t base,
		       uint64_t first, uint64_t last)
{
	unsigned i0, i1;
	index_range(level, base, first, last, &i0, &i1);
	for (unsigned i = i0; i <= i1; i++) {
		uint64_t e = d->host->load(d, table + 8 * i);
		if (!present(e))
			continue;
		if (is_leaf(e, level))
			return -EEXIST;
		struct span s = span_of(level, base, i, first, last);
		int rc = check_empty(d, e & VT_ADDR, level - 1, s.ebase, s.lo, s.hi);
		if (rc)
			return rc;
	}
	return 0;
}

/* Leaves of 2^shift_of(leaf) bytes over [first, last], first mapping to pa. */
static int install(struct ims_walker_dom *d, uint64_t table, int level, uint64_t base,
		   uint64_t first, uint64_t last, uint64_t pa, int leaf, uint64_t bits)
{
	const struct ims_walker_host *h = d->host;
	unsigned i0, i1;
	index_range(level, base, first, last, &i0, &i1);
	for (unsigned i = i0; i <= i1; i++) {
		struct span s = span_of(level, base, i, first, last);
		uint64_t slot = table + 8 * i;
		if (level == leaf) {
			h->store(d, slot, ((pa + (s.lo - first)) & VT_ADDR) | bits | (level ? VT_PS : 0));
			continue;
		}
		uint64_t e = h->load(d, slot);
		if (!present(e)) {
			uint64_t t;
			int rc = h->alloc_table(d, 0, &t);
			if (rc)
				return rc;
			e = t | VT_R | VT_W;
			h->store(d, slot, e);
		}
		int rc = install(d, e & VT_ADDR, level - 1, s.ebase, s.lo, s.hi, pa + (s.lo - first),
				 leaf, bits);
		if (rc)
			return rc;
	}
	return 0;
}

static int fw_map(struct ims_walker_dom *d, uint64_t iova, uint64_t pa, uint64_t size,
		  unsigned prot, uint64_t pgsize)
{
	uint64_t sizes = d->pgsizes & LEAF_SIZES;
	if (pgsize && !(sizes & pgsize))
		return -EINVAL;
	if (!pgsize) {
		/* The largest size the range, the address and the domain allow. */
		for (pgsize = BIT(30); pgsize > PAGE; pgsize >>= 9)
			if ((sizes & pgsize) && !((iova | pa | size) & (pgsize - 1)))
				break;
	}
	if (!size || ((iova | pa | size) & (pgsize - 1)))
		return -EINVAL;
	if (BENCH_MAP_FAIL && pgsize == BIT(30))
		return -ENOSPC;
	uint64_t last = iova + (size - 1);
	int rc = check_empty(d, d->root, d->top, 0, iova, last);
	if (rc)
		return rc;
	uint64_t bits = ((prot & IMS_WALKER_PROT_R) ? VT_R : 0) |
			((prot & IMS_WALKER_PROT_W) ? VT_W : 0);
	if (MAPS_DIRTY && (prot & IMS_WALKER_PROT_W) && ((struct fw *)d->priv)->tracking)
		bits |= VT_D;
	int leaf = (int)((unsigned)__builtin_ctzll(pgsize) - 12) / 9;
	return install(d, d->root, d->top, 0, iova, last, pa, leaf, bits);
}

/* Whole leaves only: -EINVAL when one sticks out of [first, last]. Clears
 * them when `clear`, adding their bytes to *bytes. */
static int unmap_range(struct ims_walker_dom *d, uint64_t table, int level, uint64_t base,
		       uint64_t first, uint64_t last, bool clear, uint64_t *bytes)
{
	unsigned i0, i1;
	index_range(level, base, first, last, &i0, &i1);
	for (unsigned i = i0; i <= i1; i++) {
		uint64_t slot = table + 8 * i;
		uint64_t e = d->host->load(d, slot);
		if (!present(e))
			continue;
		struct span s = span_of(level, base, i, first, last);
		if (!is_leaf(e, level)) {
			int rc = unmap_range(d, e & VT_ADDR, level - 1, s.ebase, s.lo, s.hi, clear,
					     bytes);
			if (rc)
				return rc;
		} else if (s.lo != s.ebase || s.hi != s.elast) {
			return -EINVAL;
		} else if (clear) {
			d->host->store(d, slot, 0);
			*bytes += s.elast - s.ebase + 1;
		}
	}
	return 0;
}

static int fw_unmap(struct ims_walker_dom *d, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	uint64_t last = iova + (size - 1), bytes = 0;
	*unmapped = 0;
	int rc = unmap_range(d, d->root, d->top, 0, iova, last, false, &bytes);
	if (!rc)
		rc = unmap_range(d, d->root, d->top, 0, iova, last, true, &bytes);
	*unmapped = bytes;
	if (rc)
		return rc;
	return d->host->flush_range(d, iova, size, false);
}

static int fw_iova_to_phys(struct ims_walker_dom *d, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	uint64_t table = d->root;
	for (int level = d->top; level >= 0; level--) {
		uint64_t e = d->host->load(d, slot_of(table, level, iova));
		if (!present(e))
			return -ENOENT;
		if (is_leaf(e, level)) {
			uint64_t mask = BIT(shift_of(level)) - 1;
			*pa = (e & VT_ADDR & ~mask) | (iova & mask);
			*prot = ((e & VT_R) ? IMS_WALKER_PROT_R : 0) | ((e & VT_W) ? IMS_WALKER_PROT_W : 0);
			return 0;
		}
		table = e & VT_ADDR;
	}
	return -ENOENT;
}

/* ---- read_and_clear_dirty ------------------------------------------------------ */

struct harvest {
	struct ims_walker_dom *d;
	unsigned flags;
	struct ims_walker_dirty *dirty;
	bool held; /* BENCH_BUG: the last dirty page found, not recorded yet */
	uint64_t held_iova, held_len;
};

static void dirty_page(struct harvest *hv, uint64_t iova, uint64_t len)
{
	const struct ims_walker_host *h = hv->d->host;
	if (!BENCH_BUG) {
		h->record(hv->dirty, iova, len);
		return;
	}
	/* Each page's bit is set when the next dirty page is found, so the
	 * last one's never is (every page is gathered, every entry cleaned). */
	h->gather_add(hv->dirty, iova, len);
	if (hv->held)
		h->bitmap_set(hv->dirty, hv->held_iova, hv->held_len);
	hv->held = true;
	hv->held_iova = iova;
	hv->held_len = len;
}

static void harvest_table(struct harvest *hv, uint64_t table, int level, uint64_t base,
			  uint64_t first, uint64_t last)
{
	const struct ims_walker_host *h = hv->d->host;
	unsigned i0, i1;
	index_range(level, base, first, last, &i0, &i1);
	for (unsigned i = i0; i <= i1; i++) {
		uint64_t slot = table + 8 * i;
		uint64_t e = h->load(hv->d, slot);
		if (!present(e))
			continue;
		struct span s = span_of(level, base, i, first, last);
		if (!is_leaf(e, level)) {
			harvest_table(hv, e & VT_ADDR, level - 1, s.ebase, s.lo, s.hi);
			continue;
		}
		if (!(e & VT_D))
			continue;
		dirty_page(hv, s.ebase, s.elast - s.ebase + 1);
		if (!(hv->flags & IMS_WALKER_NO_CLEAR))
			h->fetch_and(hv->d, slot, ~VT_D); /* atomic: a racing D update stays */
	}
}

static int fw_rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
		  struct ims_walker_dirty *dirty)
{
	struct harvest hv = {.d = d, .flags = flags, .dirty = dirty};
	uint64_t last = iova + (size - 1);
	if (!size || last < iova)
		last = ~0ull;
	harvest_table(&hv, d->root, d->top, 0, iova, last);
	return 0;
}

static const struct ims_walker_ops ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
#if BENCH_BUG
	.name = "bench-test-full-bug",
	.description = "tests/bench/full_walker.c: VT-d full level, loses the last dirty page",
#elif MAPS_DIRTY == 1
	.name = "test-full-maps-dirty",
	.description = "tests/bench/full_walker.c: VT-d full level, maps writable leaves dirty "
		       "(stated)",
	.contract = IMS_WALKER_CONTRACT_MAPS_DIRTY,
#elif MAPS_DIRTY == 2
	.name = "test-full-maps-dirty-unstated",
	.description = "tests/bench/full_walker.c: VT-d full level, maps writable leaves dirty "
		       "(not stated)",
#elif BENCH_MAP_FAIL
	.name = "bench-test-full-nomap",
	.description = "tests/bench/full_walker.c: VT-d full level, refuses to map 1 GiB leaves",
#else
	.name = "bench-test-full",
	.description = "tests/bench/full_walker.c: VT-d second stage at the full level",
#endif
	.level = IMS_WALKER_FULL,
	.formats = 1u << IMS_FMT_VTD,
	.read_and_clear_dirty = fw_rcd,
	.domain_init = fw_init,
	.domain_free = fw_free,
	.ctx_words = fw_ctx_words,
	.map = fw_map,
	.unmap = fw_unmap,
	.iova_to_phys = fw_iova_to_phys,
	.set_dirty_tracking = fw_set_dirty_tracking,
};

const struct ims_walker_ops *ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &ops : NULL;
}
