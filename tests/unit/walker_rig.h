/* What the walker ABI's unit tests share (test_walker_abi.c: harvest-level
 * walkers; test_walker_full.c: a full-level one): memory and the model, a
 * domain on a walker that the model translates for one device, and the
 * helpers both use on a harvest and on a refusal. The walkers stay in their
 * tests: the rig runs whichever walker the domain's config names. */
#ifndef IMS_TESTS_UNIT_WALKER_RIG_H
#define IMS_TESTS_UNIT_WALKER_RIG_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"

#define DEV 3
#define TAG 9

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct ims_pt *pt;
	unsigned submits; /* commands the domain sent: whether the host flushed */
};

/* The domain's sink: its commands and context changes go straight to the
 * model, so a flush the host owes shows in the IOTLB. */
static inline int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct rig *r = arg;
	r->submits++;
	return ims_iommu_submit(r->mmu, fmt, cmd);
}

static inline int sink_ctx_update(void *arg, uint16_t tag, unsigned w, uint64_t c, uint64_t s)
{
	return ims_iommu_ctx_update(((struct rig *)arg)->mmu, tag, w, c, s);
}

static inline int sink_ctx_flush(void *arg, uint16_t tag)
{
	return ims_iommu_ctx_invalidate(((struct rig *)arg)->mmu, tag);
}

/* Memory and model; no domain yet. */
static inline void rig_base(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->mem = ims_mem_new();
	ck_assert_ptr_nonnull(r->mem);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	ck_assert_int_eq(ims_iommu_new(r->mem, &cfg, &r->mmu), 0);
}

/* A domain on pc (its walker pc->plugin, or the built-in one), its context
 * set in the model under TAG with DEV attached. A refusal of ims_pt_new is
 * returned (err says why, r->pt stays NULL) for the tests that provoke it. */
static inline int rig_domain(struct rig *r, const struct ims_pt_cfg *pc, char *err, size_t errlen)
{
	struct ims_sink sink = {r, sink_submit, sink_ctx_update, sink_ctx_flush, NULL, NULL, NULL};
	int rc = ims_pt_new(r->mem, pc, &sink, &r->pt, err, errlen);
	if (rc)
		return rc;
	uint64_t w[IMS_CTX_WORDS];
	ims_pt_ctx_words(r->pt, w);
	ck_assert_int_eq(ims_iommu_ctx_set(r->mmu, TAG, pc->fmt, w, err, errlen), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	return 0;
}

/* Frees the domain (there may be none: every domain refused) and checks
 * that it gave every table frame back to the pool, whoever allocated them;
 * then the model and memory. */
static inline void rig_down(struct rig *r)
{
	ims_pt_free(r->pt);
	ck_assert_uint_eq(ims_mem_counters(r->mem)->pool_frames, 0);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

/* One harvest of [iova, iova + size) into a fresh 4 KiB bitmap over bm_len
 * bytes from 0. */
static inline int harvest(struct rig *r, uint64_t iova, uint64_t size, unsigned flags,
			  struct ims_bitmap *bm, uint64_t bm_len)
{
	ck_assert_int_eq(ims_bitmap_init(bm, 0, bm_len, 12), 0);
	return ims_pt_read_and_clear_dirty(r->pt, iova, size, flags, bm);
}

/* Whether s (which may be NULL: no finding, no error) says sub. */
static inline bool has(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

/* ims_walker_check refuses ops for fmt, and its reason says why. */
static inline void refused(const struct ims_walker_ops *ops, enum ims_format fmt, const char *why)
{
	char err[200] = "";
	ck_assert_int_eq(ims_walker_check(ops, fmt, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, why), "reason '%s' does not say '%s'", err, why);
}

#endif
