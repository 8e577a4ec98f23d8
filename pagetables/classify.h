/* Classifying a block of 64 leaf entries for the harvest's fast path
 * (pagetables/harvest.c, "entry shapes"): which entries have the clean shape,
 * which the dirty shape, which are empty. A shape is the entry with its
 * output address masked off (entry & keymask); ~0 stands for "no shape
 * known", which no entry has. */
#ifndef IMS_PAGETABLES_CLASSIFY_H
#define IMS_PAGETABLES_CLASSIFY_H

#include <stdbool.h>
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

/* The block scan of a harvest that cleans through a writable frame view:
 * the shapes as for pt_classify64_fn, and the clean (an entry is cleaned by
 * clearing cc and setting cs: AMD and VT-d clear D, SMMU sets AP[2]). */
struct pt_scan_keys {
	uint64_t km, kc, kd;
	uint64_t cc, cs;
};

/* Classifies the 64 entries at p as pt_classify64_fn does. When every one
 * is of the clean shape, of the dirty shape or empty, it cleans each dirty
 * one in place and returns true, with the dirty entries in *dirty (bit k:
 * entry k) and the number of entries not empty in *present; else it writes
 * nothing and returns false. A dirty entry is cleaned by a read-modify-write of that entry
 * alone, with no host call between its read and its write (the walker
 * ABI's rule for writes through a frame, include/iommusim/walker.h), so no
 * hardware A/D update can land between them; no other entry is written,
 * since a clean entry stored back as it was read would undo an update the
 * hardware made to it since (dirty-semantics.md, classic bug 4). Which
 * entries are written depends on the masks only: no branch per entry. */
typedef bool (*pt_scan_clean64_fn)(uint64_t *p, const struct pt_scan_keys *k, uint64_t *dirty,
				   unsigned *present);

/* The fastest this host runs (AVX-512 masked stores, else AVX2 masked
 * stores, else portable C); IMS_HARVEST_SIMD=0 picks the portable one,
 * IMS_HARVEST_SIMD=avx2 the AVX2 one where the CPU has AVX2. All write the
 * same words and give the same masks. */
pt_scan_clean64_fn pt_scan_clean64_pick(void);
/* Every one this host runs, the portable one first (for the tests):
 * returns how many. */
#define PT_SCAN_VARIANTS 3
unsigned pt_scan_clean64_variants(pt_scan_clean64_fn out[PT_SCAN_VARIANTS]);
/* The portable one (the classifier above, then the dirty entries one by
 * one), the reference the others must equal. */
bool pt_scan_clean64_portable(uint64_t *p, const struct pt_scan_keys *k, uint64_t *dirty,
			      unsigned *present);

#endif
