/* Widening a mask of dirty pages into bitmap bits, for the harvest's fast
 * path (pagetables/harvest.c): a page 2^a times the bitmap's page (a 16K or
 * 64K page over a 4 KiB bitmap) owns 2^a neighbouring bits. */
#ifndef IMS_PAGETABLES_SPREAD_H
#define IMS_PAGETABLES_SPREAD_H

#include <stdbool.h>
#include <stdint.h>

/* ORs into words[] the bits of the pages first..last (bit k of dm[] is page
 * k; page k owns bits [k f, k f + f) of words[], f = 2^a, a = 1 .. 6). Only
 * the words from the one holding page first's bits to the one holding page
 * last's are touched (a word with no dirty page may be ORed with 0). */
typedef void (*pt_spread_fn)(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first,
			     unsigned last);

/* The fastest this host runs: for pages of 4, 8 or 16 bits a mask widened
 * eight words at a time (AVX-512BW; VBMI and GFNI for 4), else a bit deposit (BMI2's pdep)
 * where the CPU has it, else portable C. IMS_HARVEST_SIMD=0 in the
 * environment picks the portable one, IMS_HARVEST_SIMD=avx2 leaves out
 * AVX-512, as for the block classifier (pagetables/classify.h). All give
 * the same bits. */
pt_spread_fn pt_spread_pick(void);
/* Whether fn widens pages of 2^a bits eight words at a time (AVX-512BW
 * for a = 3 or 4, with VBMI and GFNI for a = 2 too): then it beats page-by-page writes at fewer dirty pages per
 * word than the byte table or the bit deposit do. */
bool pt_spread_wide(pt_spread_fn fn, unsigned a);
/* Every one this host runs, the portable one first (for the tests):
 * returns how many. */
#define PT_SPREAD_VARIANTS 4
unsigned pt_spread_variants(pt_spread_fn out[PT_SPREAD_VARIANTS]);
/* ORs into words[0 .. 2^a) the bits of 64 pages of 2^a bits each (bit k
 * of bits is page k, a = 1 .. 6): one block of 64 entries widened while
 * the frame pass holds it, the pages starting a bitmap word. */
typedef void (*pt_spread64_fn)(uint64_t *words, uint64_t bits, unsigned a);
/* The one this host widens pages of 2^a bits with in a few instructions
 * (AVX-512BW for a = 3 or 4; with VBMI, VL and GFNI for a = 2 too), else
 * NULL: there the frame's pages are widened after the frame, as above.
 * NULL under IMS_HARVEST_SIMD=0 or =avx2. */
pt_spread64_fn pt_spread64_pick(unsigned a);
/* Every one this host runs, the portable one first (for the tests); each
 * takes every a. Returns how many. */
#define PT_SPREAD64_VARIANTS 3
unsigned pt_spread64_variants(pt_spread64_fn out[PT_SPREAD64_VARIANTS]);
void pt_spread64_portable(uint64_t *words, uint64_t bits, unsigned a);
/* Sets words[0 .. 2^a): a fully dirty block's 64 pages of 2^a bits.
 * Inline, its ones opaque to the compiler, which would otherwise call
 * memset for these few words. */
static inline void pt_fill64(uint64_t *words, unsigned a)
{
	uint64_t ones = ~0ull;
	__asm__("" : "+r"(ones));
	for (unsigned q = 0; q < (1u << a); q++)
		words[q] = ones;
}
/* Fills, as pt_fill64, the words of each block w < nb whose 64 pages are
 * all dirty in dm[w] (block w's words start at words + (w << a)); returns
 * the mask of the blocks filled (bit w). */
unsigned pt_fill64_full(uint64_t *words, const uint64_t *dm, unsigned nb, unsigned a);
/* The portable one, the reference the others must equal. */
void pt_spread_portable(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first,
			unsigned last);

#endif
