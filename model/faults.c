/* Faults: the caller's side of the fault queue, popped in arrival order as
 * a driver reads a fault log. Translations push onto it (fault_push in
 * model/iommu_int.h).
 */
#include <errno.h>

#include "model/iommu_int.h"

size_t ims_iommu_fault_pending(const struct ims_iommu *m) { return m->fq_len; }

int ims_iommu_set_fault_limit(struct ims_iommu *m, size_t records)
{
	if (!records)
		return -EINVAL;
	/* Records already queued past a lower limit stay: they were taken. */
	m->fq_limit = records;
	return 0;
}

size_t ims_iommu_fault_limit(const struct ims_iommu *m) { return m->fq_limit; }

bool ims_iommu_fault_pop(struct ims_iommu *m, struct ims_fault *out)
{
	if (!m->fq_len)
		return false;
	*out = m->faults[m->fq_head];
	m->fq_head = (m->fq_head + 1) % m->fq_cap;
	m->fq_len--;
	return true;
}

bool ims_iommu_fault_peek(const struct ims_iommu *m, size_t i, struct ims_fault *out)
{
	if (i >= m->fq_len)
		return false;
	*out = m->faults[(m->fq_head + i) % m->fq_cap];
	return true;
}
