/* What the Arm SMMUv3 stage 1 unit tests share (test_smmu.c: geometry,
 * codec, CD and command decode; test_smmu_walk.c: the hardware rules
 * through the model): the test geometry and descriptors built by hand. */
#ifndef IMS_TESTS_UNIT_SMMU_TEST_H
#define IMS_TESTS_UNIT_SMMU_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "smmuv3/smmu_codec.h"

#define DEV 9
#define TAG 5
#define ROOT 0x100000ull
#define IOVA 0x40000000ull
#define PA 0x80000000ull

static const unsigned GRANULES[3] = {12, 14, 16};

static inline unsigned stride(unsigned g) { return g - 3; }
static inline unsigned lshift(unsigned g, int level) { return g + stride(g) * (unsigned)level; }

/* Our level of the top table by the Arm ARM formula: start level
 * 4 - ceil((ias - g) / stride) in Arm numbering, our level 3 - that. */
static inline int formula_top(unsigned g, unsigned ias)
{
	int arm_start = 4 - (int)((ias - g + stride(g) - 1) / stride(g));
	return 3 - arm_start;
}

/* Table descriptor for an address below 2^48 (every layout agrees there). */
static inline uint64_t tdesc(uint64_t pa) { return pa | SMMU_D_TABLE; }

static inline uint64_t page_desc(uint64_t pa, bool page, uint64_t flags)
{
	return pa | (page ? SMMU_D_PAGE : SMMU_D_BLOCK) | SMMU_D_AF | SMMU_D_AP1 | flags;
}

#endif
