/* QEMU importer, SMMUv3: the log's VMIDs and ASIDs as trace domain ids.
 *
 * An SMMU tags its TLB entries with the VMID and, for stage 1, the ASID;
 * ASIDs are allocated per VMID, and by-ASID invalidations reach only the
 * ASID of the VMID the command names (IHI0070 3.17, "TLB tagging, VMIDs,
 * ASIDs and participation in broadcast TLB maintenance"; 4.4, TLB
 * invalidation scoping). So one number is often a VMID and an ASID at
 * once (both allocators start at 1), or an ASID under two VMIDs. Trace
 * domain ids are one space (docs/trace-format.md, "Domains and devices"):
 * each log identifier gets its own domain id, its own number while no
 * other identifier took it (a log without such collisions imports as
 * before), else the highest id no domain has, counting down from 65535,
 * with a trace comment saying which identifier it stands for.
 */
#include <errno.h>
#include <stdlib.h>

#include "traces/import_qemu.h"

static bool taken(const struct q *q, unsigned id)
{
	return q->smmu_taken[id >> 3] >> (id & 7) & 1;
}

static struct smmu_id *find(struct q *q, enum smmu_kind kind, int vmid, int asid)
{
	for (size_t i = 0; i < q->nsmmu_ids; i++) {
		struct smmu_id *s = &q->smmu_ids[i];
		if (s->kind == kind && (kind == SMMU_S1 || s->vmid == vmid) &&
		    (kind == SMMU_S2 || s->asid == asid))
			return s;
	}
	return NULL;
}

/* An id no identifier and no other domain of the trace has (a stage-1
 * translation naming no ASID uses the device's domain or --domain). */
static int free_id(struct q *q)
{
	for (int id = 0xffff; id >= 0; id--) {
		if (taken(q, (unsigned)id) || (uint16_t)id == q->m->o.domain)
			continue;
		bool used = false;
		for (size_t i = 0; i < q->m->ndoms && !used; i++)
			used = q->m->doms[i].id == id;
		if (!used)
			return id;
	}
	return -1;
}

int qemu_smmu_dom(struct q *q, enum smmu_kind kind, int vmid, int asid, bool create)
{
	struct smmu_id *s = find(q, kind, vmid, asid);
	if (s)
		return s->dom;
	if (!create)
		return -ENOENT;
	if (!q->smmu_taken && !(q->smmu_taken = calloc(0x10000 / 8, 1)))
		return -ENOMEM;
	if (q->nsmmu_ids == q->capsmmu_ids) {
		size_t cap = q->capsmmu_ids ? q->capsmmu_ids * 2 : 8;
		struct smmu_id *n = realloc(q->smmu_ids, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		q->smmu_ids = n;
		q->capsmmu_ids = cap;
	}
	int own = kind == SMMU_S2 ? vmid : asid;
	int id = taken(q, (unsigned)own) ? free_id(q) : own;
	if (id < 0)
		return imp_refuse(q->m, "%s: expected at most 65536 VMIDs and ASIDs (one trace "
				  "domain id each)", q->evname);
	if (id != own) {
		int rc = kind == SMMU_S2 ? imp_comment(q->m, "vmid %d -> domain %d", vmid, id)
			 : kind == SMMU_NEST
			     ? imp_comment(q->m, "vmid %d asid %d -> domain %d", vmid, asid, id)
			     : imp_comment(q->m, "asid %d -> domain %d", asid, id);
		if (rc)
			return rc;
	}
	q->smmu_taken[id >> 3] |= (uint8_t)(1u << (id & 7));
	q->smmu_ids[q->nsmmu_ids++] =
		(struct smmu_id){.kind = kind, .vmid = vmid, .asid = asid, .dom = (uint16_t)id};
	return id;
}

int qemu_smmu_asid_scope(struct q *q, int vmid, bool named, int asid, smmu_dom_fn fn,
			 void *arg)
{
	/* A line naming no VMID (smmu_iotlb_inv_iova, smmu_iotlb_inv_asid)
	 * belongs to the command QEMU traced just before it: the VMID the
	 * last invalidation line named. */
	if (!named && q->inv_vmid_named) {
		vmid = q->inv_vmid;
		named = true;
	}
	if (!named) {
		/* No line said which VMID: every context of the ASID. */
		int rc = 0;
		for (size_t i = 0; !rc && i < q->nsmmu_ids; i++)
			if (q->smmu_ids[i].kind != SMMU_S2 && q->smmu_ids[i].asid == asid)
				rc = fn(q, q->smmu_ids[i].dom, arg);
		return rc;
	}
	qemu_smmu_named_vmid(q, vmid);
	/* The ASID of that VMID's nested domain; else a stage-1-only one,
	 * whose entries carry a VMID (STE.S2VMID) QEMU prints as -1. */
	int d = vmid >= 0 ? qemu_smmu_dom(q, SMMU_NEST, vmid, asid, false) : -ENOENT;
	if (d < 0)
		d = qemu_smmu_dom(q, SMMU_S1, -1, asid, false);
	return d >= 0 ? fn(q, (uint16_t)d, arg) : 0;
}

void qemu_smmu_named_vmid(struct q *q, int vmid)
{
	q->inv_vmid = vmid;
	q->inv_vmid_named = true;
}
