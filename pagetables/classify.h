/* Classifying a block of 64 leaf entries for the harvest's fast path
 * (pagetables/harvest.c, "entry shapes"): which entries have the clean shape,
 * which the dirty shape, which are empty. A shape is the entry with its
 * output address masked off (entry & keymask); ~0 stands for "no shape
 * known", which no entry has. */
#ifndef IMS_PAGETABLES_CLASSIFY_H
#define IMS_PAGETABLES_CLASSIFY_H

#include <stdint.h>

struct pt_cls64 {
	uint64_t clean, dirty, empty; /* bit k: entry k is of that kind */
};

typedef void (*pt_classify64_fn)(const uint64_t *p, uint64_t keymask, uint64_t kclean,
				 uint64_t kdirty, struct pt_cls64 *out);

/* The fastest classifier this host runs: AVX2 where the CPU has it, else
 * portable C. IMS_HARVEST_SIMD=0 in the environment picks the portable
 * one (the tests run the harvest both ways). Both give the same masks. */
pt_classify64_fn pt_classify64_pick(void);
/* The portable classifier, the reference the others must equal. */
void pt_classify64_portable(const uint64_t *p, uint64_t keymask, uint64_t kclean, uint64_t kdirty,
			    struct pt_cls64 *out);

#endif
