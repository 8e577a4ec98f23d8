/* The dirty oracle: ground truth of which 4 KiB IOVA pages devices wrote.
 *
 * Per domain (hardware tag) a sparse set E of 4 KiB pages expected dirty
 * (dirty-semantics.md, "The oracle"). Fed only by successful hardware writes
 * and by the software events track / harvest / unmap; it never reads page
 * tables. Memory grows with the pages in E, never with an IOVA range.
 */
#ifndef IOMMUSIM_ORACLE_H
#define IOMMUSIM_ORACLE_H

#include "iommusim/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ims_oracle;

struct ims_oracle *ims_oracle_new(void);
void ims_oracle_free(struct ims_oracle *o);

/* A device write through a leaf [leaf_iova, leaf_iova + 2^size_shift). */
void ims_oracle_write(struct ims_oracle *o, uint16_t dom, uint64_t leaf_iova, unsigned size_shift);
/* track on: E becomes empty. */
void ims_oracle_reset(struct ims_oracle *o, uint16_t dom);
/* A clearing harvest of [iova, iova + size): removes the range. */
void ims_oracle_clear(struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size);
/* Unmap of [iova, iova + size): removes it, returns pages that were in E
 * (lost) and adds them to the domain's lost counter. */
uint64_t ims_oracle_unmap(struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size);
/* The expected bitmap of a harvest of [iova, iova + length) at page size
 * 2^pgshift (dirty-semantics.md, "The iova bitmap"): bit k covers
 * [iova + k * 2^pgshift, iova + (k + 1) * 2^pgshift) and is bit k % 64 of
 * words[k / 64]; it is set when any 4 KiB page of E meets those bytes.
 * words holds ceil((length >> pgshift) / 64) words, all zeroed here before
 * the bits are set; bits past length >> pgshift stay zero. iova and length
 * are multiples of 2^pgshift (pgshift <= 63) and the range ends at 2^64 at
 * most, as for a struct ims_bitmap (pass its iova, length, pgshift, words).
 * The oracle writes the bits with its own code, none of the software's. */
void ims_oracle_expected(const struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t length,
			 unsigned pgshift, uint64_t *words);
/* Pages of E inside [iova, iova + size) (size 0 = whole space). */
uint64_t ims_oracle_count(const struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size);
bool ims_oracle_test(const struct ims_oracle *o, uint16_t dom, uint64_t iova);
uint64_t ims_oracle_lost(const struct ims_oracle *o, uint16_t dom);
/* Adds every page that [iova, iova + size) meets (size 0 adds nothing):
 * the same set as writes, for ranges that are not one aligned leaf (the
 * replayer also keeps page sets in output-address, GPA, space). */
void ims_oracle_add(struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size);
/* Calls fn for each maximal run of pages of E inside [iova, iova + size)
 * (size 0 = whole space), in address order, clipped to the range's pages;
 * first is the run's first page address, npages its length (a run that
 * reaches 2^64 has 2^52 pages at most, so it fits). Stops when fn returns
 * non-zero and returns that value. */
typedef int (*ims_oracle_run_fn)(void *arg, uint64_t first, uint64_t npages);
int ims_oracle_for_each(const struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size,
			ims_oracle_run_fn fn, void *arg);
uint64_t ims_oracle_footprint(const struct ims_oracle *o);

#ifdef __cplusplus
}
#endif

#endif
