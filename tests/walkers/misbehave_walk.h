/* The walker the misbehaving test plug-ins share (tests/walkers/misbehave.cmake):
 * a correct harvest-level read_and_clear_dirty over AMD IOMMU v1 tables
 * (formats.md, "AMD IOMMU v1 host page tables"), written against the walker
 * ABI alone, as dirty-semantics.md asks: a leaf is dirty when any of its
 * replicas is, recorded whole, every replica cleaned with an atomic
 * fetch_and unless NO_CLEAR. Each plug-in defines mw_dirty_leaf, called at
 * every dirty leaf before it is recorded: its misbehaviour lives there and
 * nowhere else, so the fuzzer finds nothing but it.
 *
 * With MW_PLAIN_CLEAN defined, every replica of a dirty leaf is cleaned as
 * Linux generic_pt's amdv1 format does it (a plain load, then a store of
 * the value without D), and MW_CONTRACT gives the ops' contract bits;
 * MW_NO_RECORD records nothing (a contract covers only recorded pages).
 */
#ifndef IMS_TESTS_MISBEHAVE_WALK_H
#define IMS_TESTS_MISBEHAVE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommusim/walker.h"

#define MW_PR (1ull << 0)
#define MW_D (1ull << 6)
#define MW_ADDR 0x000ffffffffff000ull /* bits 51:12 */

static inline unsigned mw_nl(uint64_t pte)
{
	return (unsigned)(pte >> 9) & 7;
}

/* NextLevel 7: a 2^n-byte page has address bits [n-2:12] set, n-1 clear. */
static inline unsigned mw_size_decode(uint64_t pte)
{
	return (unsigned)__builtin_ctzll(~((pte & MW_ADDR) | 0xfff)) + 1;
}

struct mw_leaf {
	uint64_t slot0; /* physical address of its first entry */
	unsigned n;     /* entries (replicas) */
	unsigned level; /* 0 = the 4 KiB level */
	uint64_t iova;
	unsigned shift; /* log2 of its size */
	uint64_t pte;   /* its first entry as read */
};

static void mw_dirty_leaf(struct ims_walker_dom *d, const struct mw_leaf *lf, unsigned flags);

struct mw_walk {
	struct ims_walker_dom *d;
	uint64_t first, last; /* inclusive */
	unsigned flags;
	struct ims_walker_dirty *dirty;
};

static void mw_leaf(struct mw_walk *w, const struct mw_leaf *lf)
{
	const struct ims_walker_host *h = w->d->host;
	bool dirty = false;
	for (unsigned k = 0; k < lf->n; k++)
		dirty |= (h->load(w->d, lf->slot0 + 8ull * k) & MW_D) != 0;
	if (!dirty)
		return;
	mw_dirty_leaf(w->d, lf, w->flags);
#ifndef MW_NO_RECORD
	h->record(w->dirty, lf->iova, lf->shift >= 64 ? 0 : 1ull << lf->shift);
#endif
	if (w->flags & IMS_WALKER_NO_CLEAR)
		return;
	for (unsigned k = 0; k < lf->n; k++) {
#ifdef MW_PLAIN_CLEAN
		uint64_t slot = lf->slot0 + 8ull * k;
		h->store(w->d, slot, h->load(w->d, slot) & ~MW_D);
#else
		h->fetch_and(w->d, lf->slot0 + 8ull * k, ~MW_D);
#endif
	}
}

static void mw_table(struct mw_walk *w, uint64_t table, unsigned level, uint64_t base)
{
	unsigned shift = 12 + 9 * level;
	uint64_t i = w->first > base ? (w->first - base) >> shift : 0;
	for (; i < 512; i++) {
		uint64_t lo = base + (i << shift);
		if (lo > w->last || (i && lo == base))
			break; /* past the range, or wrapped at 2^64 */
		uint64_t pte = w->d->host->load(w->d, table + 8 * i);
		if (!(pte & MW_PR))
			continue;
		unsigned nl = mw_nl(pte);
		if (nl >= 1 && nl <= 6) {
			if (nl <= level)
				mw_table(w, pte & MW_ADDR, nl - 1, lo);
			continue;
		}
		unsigned s = nl == 7 ? mw_size_decode(pte) : shift;
		uint64_t n = s > shift ? 1ull << (s - shift) : 1;
		uint64_t i0 = i & ~(n - 1); /* a replica run is aligned to its length */
		struct mw_leaf lf = {table + 8 * i0, (unsigned)n, level, base + (i0 << shift), s, pte};
		mw_leaf(w, &lf);
		i = i0 + n - 1;
	}
}

static int mw_read_and_clear_dirty(struct ims_walker_dom *d, uint64_t iova, uint64_t size,
				   unsigned flags, struct ims_walker_dirty *dirty)
{
	struct mw_walk w = {d, iova, size ? iova + (size - 1) : ~0ull, flags, dirty};
	mw_table(&w, d->root, (unsigned)d->top, 0);
	return 0;
}

/* The plug-in's ops and entry point: MW_NAME and MW_WHAT come from it. */
#ifndef MW_CONTRACT
#define MW_CONTRACT 0u
#endif
#define MW_PLUGIN(NAME, WHAT)                                                                  \
	static const struct ims_walker_ops mw_ops = {                                          \
		.abi_version = IMS_WALKER_ABI_VERSION,                                         \
		.size = sizeof(struct ims_walker_ops),                                         \
		.name = NAME,                                                                  \
		.description = WHAT,                                                           \
		.level = IMS_WALKER_HARVEST,                                                   \
		.formats = 1u << IMS_FMT_AMDV1,                                                \
		.read_and_clear_dirty = mw_read_and_clear_dirty,                               \
		.contract = MW_CONTRACT,                                                       \
	};                                                                                     \
	const struct ims_walker_ops *ims_walker_entry(uint32_t version);                       \
	const struct ims_walker_ops *ims_walker_entry(uint32_t version)                        \
	{                                                                                      \
		return version == IMS_WALKER_ABI_VERSION ? &mw_ops : NULL;                     \
	}

#endif
