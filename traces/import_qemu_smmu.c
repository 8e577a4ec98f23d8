/* QEMU importer: smmuv3 and smmu-common events (hw/arm/trace-events,
 * smmuv3_*, smmu_*).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "traces/import_qemu.h"

/* ---- smmuv3 -------------------------------------------------------------------------- */

int qh_smmu_lookup(struct q *q, const char *a, const char *e)
{
	uint64_t asid, vmid;
	/* QEMU 9.1+: "vmid=N", -1 for a stage-1-only STE; "asid=-1" for a
	 * stage-2 lookup (of a stage-2 STE, or of a nested walk's IPAs). */
	int vk = qemu_smmu_id(a, e, "vmid", &vmid);
	if (vk == 0 && vmid > 0xffff)
		return bad_range(q, "vmid", vmid, 0xffff);
	int ak = qemu_smmu_id(a, e, "asid", &asid);
	if (ak == 1) {
		if (vk != 0)
			return bad(q, "'IOTLB cache HIT|MISS asid=-1 vmid=N addr=0x...'");
		q->cur_vmid = (int)vmid;
		return 0;
	}
	if (ak != 0)
		return bad(q, "'IOTLB cache HIT|MISS asid=N addr=0x...'");
	q->cur_vmid = vk == 0 ? (int)vmid : -1;
	/* ASIDs are 16 bits (SMMUv3 5.4, CD.ASID). */
	if (asid > 0xffff)
		return bad_range(q, "asid", asid, 0xffff);
	q->cur_asid = (int)asid;
	return 0;
}

static unsigned tg_log(uint64_t tg, unsigned dflt)
{
	/* TG encoding of the range TLBI commands: 1 = 4K, 2 = 16K, 3 = 64K. */
	return tg == 1 ? 12 : tg == 2 ? 14 : tg == 3 ? 16 : dflt;
}

int qh_smmu_insert(struct q *q, const char *a, const char *e)
{
	uint64_t asid, addr, tg = 0, level = 3;
	/* A stage-2 entry (asid=-1, QEMU 9.1+) is no leaf of a domain's
	 * translation line: the stage-2 walk lines give the parent's leaves. */
	if (qemu_smmu_id(a, e, "asid", &asid) == 1)
		return 0;
	if (!arg_num(a, e, "asid", &asid) || !arg_num(a, e, "addr", &addr))
		return bad(q, "'IOTLB ++ asid=N addr=0x... tg=N level=N'");
	arg_num(a, e, "tg", &tg);
	arg_num(a, e, "level", &level);
	if (asid > 0xffff)
		return bad_range(q, "asid", asid, 0xffff);
	if (tg > 3)
		return bad_range(q, "tg", tg, 3);
	/* Levels 0..3 of a VMSAv8-64 walk; a leaf at level 3 is a page. */
	if (level > 3)
		return bad_range(q, "level", level, 3);
	unsigned g = tg_log(tg, q->tt_granule_log ? q->tt_granule_log : 12);
	q->cur_asid = (int)asid;
	q->insert.valid = true;
	q->insert.addr = addr;
	q->insert.shift = g + (unsigned)(3 - level) * (g - 3);
	return 0;
}

int qh_smmu_cd_tt(struct q *q, const char *a, const char *e)
{
	uint64_t tsz, gs;
	if (!inner_num(a, e, "tsz:", &tsz) || !inner_num(a, e, "granule_sz:", &gs))
		return bad(q, "'TT[N]:tsz:N ttb:0x... granule_sz:N had:N'");
	if (!memmem(a, (size_t)(e - a), "TT[0]", 5))
		return 0;
	/* The domain line this CD leads to must be one the format takes (its
	 * geometry check, formats/format.h): a TT[0] whose input size or
	 * granule the model does not translate is refused here, so that the
	 * importer never writes a trace that replay refuses. */
	struct fmt_geom g = {0, gs <= 16 ? (unsigned)gs : 0, tsz < 64 ? (unsigned)(64 - tsz) : 0};
	char why[96];
	if (tsz >= 64 || gs > 16 || !g.granule_shift ||
	    fmt_get(IMS_FMT_SMMUV3)->geometry(&g, why, sizeof(why)))
		return bad(q, "'TT[0]:tsz:N ... granule_sz:N' giving a granule of 4K, 16K or 64K "
			      "and an input size (64 - tsz) of 32 to 52 bits");
	q->tt_ias = g.ias;
	q->tt_granule_log = g.granule_shift;
	return 0;
}

int qh_smmu_translate(struct q *q, const char *a, const char *e)
{
	uint64_t sid, iova, out, perm;
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "iova", &iova) ||
	    !arg_num(a, e, "translated", &out) || !arg_num(a, e, "perm", &perm))
		return bad(q, "'NAME sid=0x... iova=0x... translated=0x... perm=0x...'");
	/* StreamIDs are at most 32 bits (SMMU_IDR1.SIDSIZE). */
	if (sid > UINT32_MAX)
		return bad_range(q, "sid", sid, UINT32_MAX);
	/* QEMU 9.1+ "stage=%d": cfg->stage, SMMU_STAGE_1 = 1, SMMU_STAGE_2,
	 * SMMU_NESTED (hw/arm/smmu-common.h); no stage: stage 1. */
	uint64_t stage = 1;
	if (memmem(a, (size_t)(e - a), " stage=", 7) &&
	    (!arg_num(a, e, "stage", &stage) || stage < 1 || stage > 3))
		return bad(q, "'NAME sid=0x... iova=0x... translated=0x... perm=0x... stage=1|2|3'");
	if (stage == 3)
		return qemu_smmu_nested_translate(q, (uint32_t)sid, iova, out, perm);
	if (stage == 2)
		return qemu_smmu_s2_translate(q, (uint32_t)sid, iova, out, perm);
	int dom = q->cur_asid >= 0 ? qemu_smmu_dom(q, SMMU_S1, -1, q->cur_asid, true)
				   : imp_dev_dom(q->m, (uint32_t)sid);
	if (dom < -1)
		return dom;
	if (dom < 0)
		dom = q->m->o.domain;
	/* A nested domain's translations are two-stage ones: its map is to an
	 * IPA, which a stage-1 line does not give. */
	struct dom *dd = imp_dom(q->m, (uint16_t)dom);
	if (!dd)
		return -ENOMEM;
	if (dd->nested)
		return bad(q, "stage=3 on a translation of a nested domain's ASID");
	unsigned g = q->tt_granule_log ? q->tt_granule_log : 12;
	struct xl x = {.dev = (uint32_t)sid, .dom = (uint16_t)dom, .iova = iova, .pa = out,
		       .shift = g, .prot = acc_of(perm)};
	if (q->insert.valid) {
		uint64_t sz = 1ull << q->insert.shift;
		if ((q->insert.addr & ~(sz - 1)) == (iova & ~(sz - 1)) &&
		    (iova & (sz - 1)) == (out & (sz - 1)))
			x.shift = q->insert.shift;
		q->insert.valid = false;
	} else {
		struct leaf *l = imp_lookup(q->m, x.dom, iova);
		if (l && leaf_pa(l, iova) == out)
			x.shift = l->shift;
	}
	q->cur_asid = -1;
	imp_dom_geometry(q->m, x.dom, IMS_FMT_SMMUV3, 0, 1ull << g,
			 q->m->o.ias ? q->m->o.ias : q->tt_ias ? q->tt_ias : 48, true);
	return qemu_translate(q, &x);
}

struct s1_range {
	uint64_t iova, size;
};

static int s1_unmap(struct q *q, uint16_t dom, void *arg)
{
	const struct s1_range *r = arg;
	if (q->g)
		return imp_flush(q->m, dom);
	int rc = imp_unmap(q->m, dom, r->iova, r->size, NULL, NULL);
	if (rc == 0)
		q->m->st->unmap_untracked++;
	return rc < 0 ? rc : 0;
}

static int s1_flush(struct q *q, uint16_t dom, void *arg)
{
	(void)arg;
	return imp_flush(q->m, dom);
}

/* The line's "vmid=N" (1: in *vmid, -1 for "-1"; 0: none; <0: refused). */
static int line_vmid(struct q *q, const char *a, const char *e, int *vmid)
{
	uint64_t v;
	int k = qemu_smmu_id(a, e, "vmid", &v);
	if (k < 0)
		return 0;
	if (k == 0 && v > 0xffff)
		return bad_range(q, "vmid", v, 0xffff); /* 0 (none) when lenient */
	*vmid = k == 1 ? -1 : (int)v;
	return 1;
}

int qh_smmu_range_inval(struct q *q, const char *a, const char *e)
{
	uint64_t asid, addr, tg = 0, num = 1, stage = 1;
	int vmid = -1, named;
	/* QEMU 9.1+ "stage=2": CMD_TLBI_S2_IPA, an IPA range of the VMID. */
	if (arg_num(a, e, "stage", &stage) && stage == 2)
		return qemu_smmu_s2_inval(q, a, e);
	if (!arg_num(a, e, "asid", &asid) || !arg_num(a, e, "addr", &addr))
		return bad(q, "'vmid=N asid=N addr=0x... tg=N num_pages=0x... ttl=N leaf=N'");
	arg_num(a, e, "tg", &tg);
	arg_num(a, e, "num_pages", &num);
	if (asid > 0xffff)
		return bad_range(q, "asid", asid, 0xffff);
	if (tg > 3)
		return bad_range(q, "tg", tg, 3);
	unsigned g = tg_log(tg, q->tt_granule_log ? q->tt_granule_log : 12);
	if (!num || num > (1ull << 40))
		return bad(q, "num_pages between 1 and 2^40");
	if ((named = line_vmid(q, a, e, &vmid)) < 0)
		return named;
	/* CMD_TLBI_NH_VA / NH_VAA: the ASID of the command's VMID only
	 * (IHI0070 4.4.1; traces/import_qemu_smmu_ids.c). */
	struct s1_range r = {addr & ~((1ull << g) - 1), num << g};
	return qemu_smmu_asid_scope(q, vmid, named > 0, (int)asid, s1_unmap, &r);
}

int qh_smmu_inv_asid(struct q *q, const char *a, const char *e)
{
	uint64_t asid;
	if (!arg_num(a, e, "asid", &asid))
		return bad(q, "'IOTLB invalidate asid=N'");
	if (asid > 0xffff)
		return bad_range(q, "asid", asid, 0xffff);
	/* CMD_TLBI_NH_ASID: the ASID of one VMID (IHI0070 4.4.2). */
	return qemu_smmu_asid_scope(q, -1, false, (int)asid, s1_flush, NULL);
}

int qh_smmu_abort(struct q *q, const char *a, const char *e)
{
	uint64_t sid, iova, wr;
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "iova", &iova) ||
	    !arg_num(a, e, "is_write", &wr))
		return bad(q, "'NAME sid=0x... abort on iova:0x... is_write=0|1'");
	if (sid > UINT32_MAX)
		return bad_range(q, "sid", sid, UINT32_MAX);
	return qemu_fault(q, (uint32_t)sid, iova, wr != 0);
}
