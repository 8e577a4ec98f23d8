/* Widening a mask of dirty pages into bitmap bits, for the harvest's fast
 * path (pagetables/harvest.c): a page 2^a times the bitmap's page (a 16K or
 * 64K page over a 4 KiB bitmap) owns 2^a neighbouring bits. */
#ifndef IMS_PAGETABLES_SPREAD_H
#define IMS_PAGETABLES_SPREAD_H

#include <stdint.h>

/* ORs into words[] the bits of the pages first..last (bit k of dm[] is page
 * k; page k owns bits [k f, k f + f) of words[], f = 2^a, a = 1 .. 6). Only
 * the words from the one holding page first's bits to the one holding page
 * last's are touched, and of those only the ones with a dirty page: a word
 * with none is neither read nor written. */
typedef void (*pt_spread_fn)(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first,
			     unsigned last);

/* The fastest this host runs: a bit deposit (BMI2's pdep) where the CPU has
 * it, else portable C. IMS_HARVEST_SIMD=0 in the environment picks the
 * portable one, as for the block classifier (pagetables/classify.h). Both
 * give the same bits. */
pt_spread_fn pt_spread_pick(void);
/* The portable one, the reference the others must equal. */
void pt_spread_portable(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first,
			unsigned last);

#endif
