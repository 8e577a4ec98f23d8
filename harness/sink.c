/* The sink: software -> model. */
#include <stdio.h>

#include "harness/replay_int.h"

/* The commands go as the software built them: a nesting parent's extra
 * invalidations are its format's (smmuv3/s2_sw.c), as in the driver. */
static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct ims_tb *r = arg;
	return ims_iommu_submit(r->mmu, fmt, cmd);
}

static int sink_ctx_update(void *arg, uint16_t tag, unsigned word, uint64_t clear, uint64_t set)
{
	struct ims_tb *r = arg;
	return ims_iommu_ctx_update(r->mmu, tag, word, clear, set);
}

static int sink_ctx_flush(void *arg, uint16_t tag)
{
	struct ims_tb *r = arg;
	return ims_iommu_ctx_invalidate(r->mmu, tag);
}

/* The walker did something wrong through the host: kept for the op being
 * applied, reported as its validation failure once it returns. */
static void sink_finding(void *arg, const char *msg)
{
	struct ims_tb *r = arg;
	if (!r->finding_pending++)
		snprintf(r->finding, sizeof(r->finding), "%s", msg);
}

struct ims_sink rp_sink(struct ims_tb *r)
{
	return (struct ims_sink){.arg = r,
				 .submit = sink_submit,
				 .ctx_update = sink_ctx_update,
				 .ctx_flush = sink_ctx_flush,
				 .finding = sink_finding,
				 .table_alloc = rp_nest_table_alloc,
				 .table_free = rp_nest_table_free};
}
