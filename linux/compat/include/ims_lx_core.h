/* What sits between a kernel page-table walker and its user in Linux, in
 * the compatibility layer's glue: the iommu core's choice of page sizes
 * (iommu_pgsize) and iommufd's record of what is mapped (its areas), which
 * decides the calls a driver's page-table code ever sees:
 *  - a map never lands on a mapped range (iommufd: -EEXIST);
 *  - an unmap covers whole leaves (the glue refuses one that cuts a leaf,
 *    -EINVAL, as the walker ABI asks) and only mapped ranges;
 *  - read_and_clear_dirty is called over mapped ranges only: iommufd
 *    walks "contiguous areas" (dirty-semantics.md: the range must be fully
 *    mapped); a range with holes is cut at the holes here, one call per
 *    mapped run.
 * Our own code (MIT, as the repository); see docs/linux.md.
 */
#ifndef IMS_LX_CORE_H
#define IMS_LX_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One map_pages call's worth: `size` bytes from `iova` in leaves of `leaf`
 * bytes each, to `pa`, with walker-ABI protection `prot`. */
struct ims_lx_chunk {
	uint64_t iova, size, pa, leaf;
	unsigned prot;
};

/* The chunks of a domain, sorted by IOVA, disjoint. */
struct ims_lx_areas {
	struct ims_lx_chunk *v;
	size_t n, cap;
};

void ims_lx_areas_fini(struct ims_lx_areas *a);
/* Whether anything in [iova, last] is mapped. */
bool ims_lx_areas_overlap(const struct ims_lx_areas *a, uint64_t iova, uint64_t last);
/* Records a chunk (0, or -ENOMEM); it must not overlap what is recorded. */
int ims_lx_areas_add(struct ims_lx_areas *a, const struct ims_lx_chunk *c);
/* Whether [iova, last] starts or ends strictly inside a recorded leaf. */
bool ims_lx_areas_cuts(const struct ims_lx_areas *a, uint64_t iova, uint64_t last);
/* Forgets [iova, last] (which cuts no leaf); returns the bytes that were
 * mapped there, or -ENOMEM as a negative value when a split fails. */
int64_t ims_lx_areas_remove(struct ims_lx_areas *a, uint64_t iova, uint64_t last);
/* The first maximal mapped run meeting [from, last], clipped to it: true
 * and [*lo, *hi], or false when nothing there is mapped. */
bool ims_lx_areas_next_run(const struct ims_lx_areas *a, uint64_t from, uint64_t last,
			   uint64_t *lo, uint64_t *hi);
/* The chunk holding iova, or NULL. */
const struct ims_lx_chunk *ims_lx_areas_find(const struct ims_lx_areas *a, uint64_t iova);

/* The iommu core's page size for mapping (or unmapping) `size` bytes at
 * iova -> pa with the sizes of `bitmap`: the largest one that iova and pa
 * are aligned to and that fits; *count of them, stopping where a larger
 * size becomes usable. 0 when none fits. */
uint64_t ims_lx_pgsize(uint64_t bitmap, uint64_t iova, uint64_t pa, uint64_t size,
		       uint64_t *count);

#endif
