/* The sink: software -> model. */
#include <stdio.h>

#include "harness/replay_int.h"

/* IHI0070 4.4.3 CMD_TLBI_S2_IPA (opcode cmd[0] 7:0, VMID 47:32) and 4.4.2
 * CMD_TLBI_NH_ALL. */
#define CMD_OP_MASK 0xffull
#define CMD_TLBI_S2_IPA 0x2aull
#define CMD_TLBI_NH_ALL 0x10ull
#define CMD_VMID_SHIFT 32

static int sink_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	struct ims_tb *r = arg;
	int rc = ims_iommu_submit(r->mmu, fmt, cmd);
	/* An SMMU stage-2 range invalidation need not drop what combines both
	 * stages (IHI0070 4.4.3): for a nesting parent the driver follows it
	 * with CMD_TLBI_NH_ALL of the VMID, as Linux's arm-smmu-v3.c does
	 * (arm_smmu_tlb_inv_range_domain). The stage-2 format's software ops
	 * do not know a domain is a parent; the replayer, which does, adds it. */
	if (!rc && fmt == IMS_FMT_SMMUV3_S2 && (cmd[0] & CMD_OP_MASK) == CMD_TLBI_S2_IPA) {
		uint16_t vmid = (uint16_t)(cmd[0] >> CMD_VMID_SHIFT);
		const struct dom *d = r->doms[vmid];
		if (d && d->children) {
			const uint64_t nh[2] = {CMD_TLBI_NH_ALL | (uint64_t)vmid << CMD_VMID_SHIFT, 0};
			rc = ims_iommu_submit(r->mmu, IMS_FMT_SMMUV3, nh);
		}
	}
	return rc;
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
