/* A sink whose commands go nowhere: for front-end tests whose page tables
 * need a sink but whose rules are not about what it is sent
 * (test_iommufd_nested.c, test_iommufd_viommu.c). */
#ifndef IMS_TESTS_UNIT_NOP_SINK_H
#define IMS_TESTS_UNIT_NOP_SINK_H

#include <stdint.h>

#include "iommusim/pt.h"

static inline int nop_submit(void *a, enum ims_format f, const uint64_t c[2])
{
	(void)a, (void)f, (void)c;
	return 0;
}
static inline int nop_update(void *a, uint16_t t, unsigned w, uint64_t c, uint64_t s)
{
	(void)a, (void)t, (void)w, (void)c, (void)s;
	return 0;
}
static inline int nop_flush(void *a, uint16_t t)
{
	(void)a, (void)t;
	return 0;
}

#endif
