/* The walker variants: the correct one and, when built in, the seeded bugs
 * the fuzzer must catch (dirty-semantics.md, "The classic bugs"). */
#include <errno.h>
#include <string.h>

#include "iommusim/pt.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"

static void record_clipped(struct ims_bitmap *bm, uint64_t lo, uint64_t hi, uint64_t page_iova,
			   unsigned shift, const struct pt_walker *w)
{
	(void)page_iova, (void)shift, (void)w;
	ims_bitmap_set(bm, lo, hi - lo + 1);
}

#ifdef IMS_SEEDED_BUGS
/* Bug 5: the page recorded from the caller's (possibly unaligned) start with
 * the full page size, so bits run past the end of the page. */
static void record_unaligned(struct ims_bitmap *bm, uint64_t lo, uint64_t hi, uint64_t page_iova,
			     unsigned shift, const struct pt_walker *w)
{
	(void)hi, (void)page_iova, (void)w;
	uint64_t len = 1ull << shift;
	ims_bitmap_set(bm, lo, len);
}

/* Bug 8: a bitmap "window" of 64 bits per chunk, as Linux's iova_bitmap
 * maps user pages: a page that straddles a chunk boundary is recorded only
 * up to the end of the chunk it starts in. */
static void record_window(struct ims_bitmap *bm, uint64_t lo, uint64_t hi, uint64_t page_iova,
			  unsigned shift, const struct pt_walker *w)
{
	(void)page_iova, (void)shift, (void)w;
	uint64_t first = (lo - bm->iova) >> bm->pgshift;
	uint64_t last = (hi - bm->iova) >> bm->pgshift;
	uint64_t chunk_last = first | 63;
	if (last > chunk_last)
		last = chunk_last;
	ims_bitmap_set_bits(bm, first, last - first + 1);
}

/* Bug 8 in the bitmap writer itself: the run's last word is the inclusive
 * last bit's, but its mask is built from the exclusive end, last + 1. When
 * the run ends on bit 63 of a word that mask is empty, and the run's bits
 * in its last word are left out (a single page at bit 63, the last 64 bits
 * of a 2 MiB page at 4 KiB). The oracle writes its bitmap with its own
 * code, so it disagrees. */
static void record_word_end(struct ims_bitmap *bm, uint64_t lo, uint64_t hi, uint64_t page_iova,
			    unsigned shift, const struct pt_walker *w)
{
	(void)page_iova, (void)shift, (void)w;
	if (lo < bm->iova || !bm->nbits)
		return;
	uint64_t first = (lo - bm->iova) >> bm->pgshift;
	uint64_t last = (hi - bm->iova) >> bm->pgshift;
	if (first >= bm->nbits)
		return;
	if (last >= bm->nbits)
		last = bm->nbits - 1;
	uint64_t w0 = first / 64, w1 = last / 64;
	uint64_t head = ~0ull << (first % 64);
	uint64_t tailm = (1ull << ((last + 1) % 64)) - 1;
	if (w0 == w1) {
		bm->words[w0] |= head & tailm;
		return;
	}
	bm->words[w0] |= head;
	for (uint64_t i = w0 + 1; i < w1; i++)
		bm->words[i] = ~0ull;
	bm->words[w1] |= tailm;
}
#endif

#define ALL_FORMATS ((1u << IMS_FMT_COUNT) - 1)
#define BUILTIN(n, d, rcd)                                                                   \
	.ops = {.abi_version = IMS_WALKER_ABI_VERSION, .size = sizeof(struct ims_walker_ops),     \
		.name = n, .description = d, .level = IMS_WALKER_HARVEST, .formats = ALL_FORMATS,  \
		.read_and_clear_dirty = rcd}
#define SEEDED(n, d) BUILTIN(n, d, pt_fast_rcd)

static const struct pt_walker walkers[] = {
	{BUILTIN("fast", "the tuned walker that runs by default (memo, frame pass, SIMD)",
		 pt_fast_rcd),
	 .plain = true, .record = record_clipped},
#ifdef IMS_SEEDED_BUGS
	{SEEDED("bug1-first-entry", "dirty state read from the first replica / group entry only"),
	 .check_first_only = true, .record = record_clipped},
	{SEEDED("bug2-clean-one", "only the first replica / group entry cleaned"),
	 .clean_first_only = true, .record = record_clipped},
	{SEEDED("bug3-no-flush", "cleaned without IOTLB invalidation"),
	 .skip_flush = true, .record = record_clipped},
	{SEEDED("bug4-nonatomic", "clean as a load then a store, racing hardware"),
	 .nonatomic_clean = true, .record = record_clipped},
	{SEEDED("bug5-unaligned", "page recorded from the unaligned start with the full size"),
	 .record = record_unaligned},
	{SEEDED("bug7-unmap-unread", "unmap while tracking without reading dirty first"),
	 .no_read_before_unmap = true, .record = record_clipped},
	{SEEDED("bug8-window", "a page straddling a 64-bit bitmap chunk recorded in part"),
	 .record = record_window},
	{SEEDED("bug9-no-clear", "tracking enabled without clearing stale dirty state"),
	 .no_clear_on_enable = true, .record = record_clipped},
	{SEEDED("bug8-word-end", "a bitmap run ending on bit 63 of a word: that word left out"),
	 .record = record_word_end},
	/* Not in the catalogue: the mistake a fast path that skips the flag
	 * makes (NO_CLEAR reads clean, and nothing flushes them). */
	{SEEDED("bug10-noclear-cleans", "NO_CLEAR ignored: a NO_CLEAR read cleans the entries it reports"),
	 .ignore_no_clear = true, .plain = true, .record = record_clipped},
#endif
	/* Last, so that the seeded bugs keep their indexes in every build. */
	{BUILTIN("reference", "the reference walker, shaped like a driver (ref_walker.c)",
		 pt_ref_rcd),
	 .record = record_clipped},
	{BUILTIN("rewalk", "bug 6: each page walked from the root (correct but slow: the bench's peer)",
		 pt_fast_rcd),
	 .rewalk = true, .record = record_clipped},
};

#define NWALKERS (sizeof(walkers) / sizeof(walkers[0]))

const struct pt_walker *pt_walker_get(unsigned idx)
{
	return &walkers[idx < NWALKERS ? idx : 0];
}

const struct pt_walker *pt_walker_of(const struct ims_walker_ops *ops)
{
	for (unsigned i = 0; i < NWALKERS; i++)
		if (ops == &walkers[i].ops)
			return &walkers[i];
	return NULL;
}

unsigned ims_pt_walker_count(void) { return (unsigned)NWALKERS; }

const char *ims_pt_walker_name(unsigned idx)
{
	return idx < NWALKERS ? walkers[idx].ops.name : NULL;
}

const char *ims_pt_walker_what(unsigned idx)
{
	return idx < NWALKERS ? walkers[idx].ops.description : NULL;
}

const struct ims_walker_ops *ims_pt_walker_ops(unsigned idx)
{
	return idx < NWALKERS ? &walkers[idx].ops : NULL;
}

int ims_pt_walker_parse(const char *name, unsigned *out)
{
	/* "correct" was the fast walker's name before the reference walker
	 * came: traces and suites written since keep working. */
	if (!strcmp(name, "correct"))
		name = "fast";
	for (unsigned i = 0; i < NWALKERS; i++) {
		/* Accept the full name or its "bugN" prefix. */
		const char *wn = walkers[i].ops.name;
		size_t n = strlen(name);
		if (!strcmp(wn, name) || (n >= 4 && !strncmp(wn, name, n) && wn[n] == '-')) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}
