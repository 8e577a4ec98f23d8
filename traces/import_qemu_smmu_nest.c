/* QEMU importer: SMMUv3 with two stages (QEMU 9.1+, hw/arm/smmu-common.c
 * and smmuv3.c of the nested emulation). A nested STE (Config 0b111,
 * IHI0070 5.2) becomes a stage-2 domain (the VMID, format smmuv3-s2) and
 * a nested stage-1 domain over it (the ASID, format smmuv3 nested=VMID);
 * a stage-2-only STE a smmuv3-s2 domain (docs/importers.md, "Two stages");
 * which domain ids they get, traces/import_qemu_smmu_ids.c.
 *
 * What the log shows of each stage:
 * - smmu_ptw_page_pte / smmu_ptw_block_pte "stage=2": a stage-2 leaf,
 *   IPA (`iova=`) -> the page or block base, with S2AP in pte bits 7:6
 *   (bit 6 read, bit 7 write; Arm ARM D8.4.2): a map on the parent.
 * - the same with "stage=3" (SMMU_NESTED: the stage-1 walk of a nested
 *   config runs with cfg->stage): the stage-1 leaf, IOVA -> IPA.
 * - smmuv3_translate_success "stage=3": the access, IOVA -> the final
 *   address, perm the combination of both stages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import_qemu.h"

int qemu_smmu_id(const char *a, const char *e, const char *key, uint64_t *out)
{
	const char *v;
	size_t n;
	if (!arg_str(a, e, key, &v, &n))
		return -1;
	if (n == 2 && v[0] == '-' && v[1] == '1')
		return 1;
	return parse_num(v, n, out) ? 0 : -1;
}

/* "KEY = 0x..." (the ptw lines' "page address = ", "block size = "). */
static bool spaced_num(const char *a, const char *e, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *p = a; p + kl <= e; p++) {
		if (memcmp(p, key, kl))
			continue;
		const char *v = p + kl, *ve = v;
		while (ve < e && *ve != ' ')
			ve++;
		return parse_num(v, (size_t)(ve - v), out);
	}
	return false;
}

/* The VMID's domain: a stage-2 domain of the default geometry (a 48-bit
 * IPA space of 4 KiB granules, which reaches the replayer's frame pool
 * for the guest's stage-1 tables; QEMU logs no STE S2T0SZ). */
static int s2_dom(struct q *q, int vmid, uint16_t *out)
{
	if (vmid < 0)
		return bad(q, "an IOTLB lookup naming the VMID (smmu_iotlb_lookup_hit/miss vmid=N) "
			      "before a stage-2 line");
	int id = qemu_smmu_dom(q, SMMU_S2, vmid, -1, true);
	if (id < 0)
		return id;
	struct dom *d = imp_dom(q->m, (uint16_t)id);
	if (!d)
		return -ENOMEM;
	/* The log's identifiers have a domain id each (import_qemu_smmu_ids.c);
	 * only a stage-1 translation naming no ASID (the device's domain, or
	 * --domain) can have taken this one before. */
	if (d->nested || (d->fmt != IMS_FMT_SMMUV3_S2 && (d->defined || d->fmt == IMS_FMT_SMMUV3)))
		return bad(q, "a VMID whose domain id no stage-1 translation naming no ASID used "
			      "(the device's domain or --domain)");
	imp_dom_geometry(q->m, (uint16_t)id, IMS_FMT_SMMUV3_S2, 0, IMS_PAGE_SIZE, 48, true);
	*out = (uint16_t)id;
	return 1;
}

/* Maps the parent's leaf [ipa, +2^shift) -> pa unless the trace has it. */
static int s2_map(struct q *q, uint16_t vmid, uint64_t ipa, uint64_t pa, unsigned shift,
		  unsigned prot)
{
	struct imp *m = q->m;
	uint64_t sz = 1ull << shift;
	struct leaf *l = imp_lookup(m, vmid, ipa);
	if (l && leaf_pa(l, ipa) == pa + (ipa & (sz - 1)) && (l->prot & prot) == prot)
		return 0;
	int rc = imp_map(m, vmid, ipa & ~(sz - 1), pa & ~(sz - 1), sz, prot, KIND_NONE, sz);
	if (m->rc)
		return m->rc;
	if (rc == -EINVAL || rc == -E2BIG) /* a leaf size the format has not */
		rc = imp_map(m, vmid, ipa & ~(IMS_PAGE_SIZE - 1),
			     (pa + (ipa & (sz - 1))) & ~(IMS_PAGE_SIZE - 1), IMS_PAGE_SIZE, prot,
			     KIND_NONE, 0);
	if (m->rc)
		return m->rc;
	if (rc == -EINVAL || rc == -E2BIG)
		return bad(q, "a stage-2 leaf the parent can hold (an IPA below 2^48)");
	return rc < 0 ? rc : 0;
}

int qh_smmu_ptw_leaf(struct q *q, const char *a, const char *e)
{
	uint64_t stage;
	/* Stage 1 (and QEMU before 9.1, which names no stage) keeps its old
	 * reading: nothing, the translation line says it all. */
	if (!arg_num(a, e, "stage", &stage) || stage == 1)
		return 0;
	bool block = !strcmp(q->evname, "smmu_ptw_block_pte");
	uint64_t iova, pte, addr, mib = 0;
	if (!arg_num(a, e, "iova", &iova) || !arg_num(a, e, "pte", &pte) ||
	    !spaced_num(a, e, block ? "block address = " : "page address = ", &addr) ||
	    (block && (!spaced_num(a, e, "block size = ", &mib) || !ims_is_pow2(mib) ||
		       mib > (1ull << 20))) ||
	    (stage != 2 && stage != 3))
		return bad(q, block ? "'stage=2|3 level=N base@=0x... pte@=0x... pte=0x... "
				      "iova=0x... block address = 0x... block size = N MiB'"
				    : "'stage=2|3 level=N iova=0x... base@=0x... pte@=0x... "
				      "pte=0x... page address = 0x...'");
	unsigned g = stage == 3 && q->tt_granule_log ? q->tt_granule_log : 12;
	unsigned shift = block ? 20 + ims_log2(mib) : g;
	if (stage == 3) {
		q->s1leaf.valid = true;
		q->s1leaf.iova = iova;
		q->s1leaf.ipa = addr;
		q->s1leaf.shift = shift;
		return 0;
	}
	/* S2AP, descriptor bits 7:6: bit 6 read, bit 7 write (Arm ARM D8.4.2,
	 * stage 2 data access permissions). No access: no mapping to make,
	 * QEMU's walk faults. */
	unsigned prot = (unsigned)((pte >> 6 & 1) ? IMS_PROT_R : 0) |
			(unsigned)((pte >> 7 & 1) ? IMS_PROT_W : 0);
	uint16_t pid = 0;
	int rc = s2_dom(q, q->cur_vmid, &pid);
	if (rc <= 0 || !prot || q->g)
		return rc < 0 ? rc : 0;
	return s2_map(q, pid, iova, addr, shift, prot);
}

int qemu_smmu_nested_translate(struct q *q, uint32_t sid, uint64_t iova, uint64_t out,
			       uint64_t perm)
{
	struct imp *m = q->m;
	int asid = q->cur_asid, vmid = q->cur_vmid;
	q->cur_asid = -1;
	q->insert.valid = false;
	if (asid < 0)
		return bad(q, "an IOTLB lookup naming the ASID and VMID (smmu_iotlb_lookup_hit/miss "
			      "asid=N vmid=N) before a stage=3 translation");
	uint16_t pid = 0;
	if (vmid < 0)
		return s2_dom(q, vmid, &pid); /* its refusal */
	/* The ASID of this VMID: its own domain id (an ASID is per VMID,
	 * IHI0070 3.17), whatever other VMIDs' ASIDs are. It and the VMID
	 * get theirs once the line is found good: a line skipped (--lenient)
	 * takes no id. */
	int di = qemu_smmu_dom(q, SMMU_NEST, vmid, asid, false);

	/* The IPA: the stage-1 leaf the walk just printed, else the trace's
	 * own stage-1 mapping (an IOTLB hit walks nothing). */
	uint64_t ipa;
	unsigned shift;
	uint64_t ssz = 1ull << q->s1leaf.shift;
	struct leaf *l = di >= 0 ? imp_lookup(m, (uint16_t)di, iova) : NULL;
	if (q->s1leaf.valid && (q->s1leaf.iova & ~(ssz - 1)) == (iova & ~(ssz - 1))) {
		ipa = (q->s1leaf.ipa & ~(ssz - 1)) + (iova & (ssz - 1));
		shift = q->s1leaf.shift;
	} else if (l) {
		ipa = leaf_pa(l, iova);
		shift = l->shift;
	} else {
		q->s1leaf.valid = false;
		return bad(q, "a stage-1 walk line (smmu_ptw_page_pte or smmu_ptw_block_pte "
			      "stage=3) before the first stage=3 translation of a page");
	}
	q->s1leaf.valid = false;
	unsigned prot = acc_of(perm);
	if ((ipa ^ out) & (IMS_PAGE_SIZE - 1))
		return bad(q, "a translation whose output keeps the page offset of its IPA (the "
			      "stage-1 walk line's page address + the IOVA's offset)");

	int rc = s2_dom(q, vmid, &pid);
	if (rc <= 0)
		return rc;
	if ((di = qemu_smmu_dom(q, SMMU_NEST, vmid, asid, true)) < 0)
		return di;
	uint16_t id = (uint16_t)di;
	struct dom *d = imp_dom(m, id);
	if (!d)
		return -ENOMEM;
	if ((d->defined || d->fmt == IMS_FMT_SMMUV3_S2) && (!d->nested || d->parent != pid))
		return bad(q, "an ASID whose domain id no stage-1 translation naming no ASID used "
			      "(the device's domain or --domain)");
	unsigned g = q->tt_granule_log ? q->tt_granule_log : 12;
	imp_dom_geometry(m, id, IMS_FMT_SMMUV3, 0, 1ull << g,
			 m->o.ias ? m->o.ias : q->tt_ias ? q->tt_ias : 48, true);
	imp_dom_nest(m, id, pid);
	/* Stage 2 must give what QEMU gave: the walk lines mapped it; a log
	 * without them (or a remap) gets the 4 KiB page the access shows. */
	if (prot && !q->g &&
	    (rc = s2_map(q, pid, ipa, out & ~(IMS_PAGE_SIZE - 1), 12, prot)))
		return rc;
	struct xl x = {.dev = sid, .dom = id, .iova = iova, .pa = ipa,
		       .shift = shift, .prot = prot, .nested = true, .final_pa = out};
	return qemu_translate(q, &x);
}

int qemu_smmu_s2_translate(struct q *q, uint32_t sid, uint64_t iova, uint64_t out,
			   uint64_t perm)
{
	int vmid = q->cur_vmid;
	q->cur_asid = -1;
	q->insert.valid = false;
	q->s1leaf.valid = false;
	uint16_t pid = 0;
	int rc = s2_dom(q, vmid, &pid);
	if (rc <= 0)
		return rc;
	struct leaf *l = imp_lookup(q->m, pid, iova);
	struct xl x = {.dev = sid, .dom = pid, .iova = iova, .pa = out,
		       .shift = l && leaf_pa(l, iova) == out ? l->shift : 12,
		       .prot = acc_of(perm)};
	return qemu_translate(q, &x);
}

/* CMD_TLBI_S2_IPA (smmuv3_range_inval stage=2): the VMM unmapped that IPA
 * range (strict mode, as for stage 1). */
int qemu_smmu_s2_inval(struct q *q, const char *a, const char *e)
{
	uint64_t vmid, addr, tg = 0, num = 1;
	if (!arg_num(a, e, "vmid", &vmid) || !arg_num(a, e, "addr", &addr))
		return bad(q, "'vmid=N asid=-1 addr=0x... tg=N num_pages=0x... ttl=N leaf=N "
			      "stage=2'");
	arg_num(a, e, "tg", &tg);
	arg_num(a, e, "num_pages", &num);
	if (vmid > 0xffff)
		return bad_range(q, "vmid", vmid, 0xffff);
	if (tg > 3)
		return bad_range(q, "tg", tg, 3);
	/* TG: 1 = 4K, 2 = 16K, 3 = 64K (IHI0070 4.4.1, range invalidation). */
	unsigned g = tg == 2 ? 14 : tg == 3 ? 16 : 12;
	if (!num || num > (1ull << 36))
		return bad(q, "num_pages between 1 and 2^36");
	/* The VMID's stage-2 domain; none yet: nothing of it to drop. */
	qemu_smmu_named_vmid(q, (int)vmid);
	int id = qemu_smmu_dom(q, SMMU_S2, (int)vmid, -1, false);
	if (id < 0)
		return 0;
	if (q->g)
		return imp_flush(q->m, (uint16_t)id);
	int rc = imp_unmap(q->m, (uint16_t)id, addr & ~((1ull << g) - 1), num << g, NULL, NULL);
	if (rc == 0)
		q->m->st->unmap_untracked++;
	return rc < 0 ? rc : 0;
}

int qh_smmu_s12_vmid(struct q *q, const char *a, const char *e)
{
	uint64_t vmid;
	if (!arg_num(a, e, "vmid", &vmid))
		return bad(q, "'vmid=N'");
	if (vmid > 0xffff)
		return bad_range(q, "vmid", vmid, 0xffff);
	/* CMD_TLBI_S12_VMALL: the parent and what its nested domains combine
	 * (docs/nested.md, "What each invalidation drops"): the VMID's stage-2
	 * domain, of which the nested domains of its ASIDs are children. */
	qemu_smmu_named_vmid(q, (int)vmid);
	int id = qemu_smmu_dom(q, SMMU_S2, (int)vmid, -1, false);
	return id < 0 ? 0 : imp_flush(q->m, (uint16_t)id);
}
