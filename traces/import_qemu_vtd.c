/* QEMU importer: intel-iommu events (hw/i386/trace-events, vtd_*). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import_qemu.h"

/* ---- intel-iommu ----------------------------------------------------------------- */

int qh_vtd_iotlb_page(struct q *q, const char *a, const char *e)
{
	uint64_t sid, iova, pte, dom;
	/* "sid 0x.. iova 0x.. slpte 0x.. domain 0x.." (QEMU <= 8); "pte" since
	 * first-stage support. */
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "iova", &iova) ||
	    !(arg_num(a, e, "slpte", &pte) || arg_num(a, e, "pte", &pte)) ||
	    !arg_num(a, e, "domain", &dom))
		return bad(q, "'sid 0x... iova 0x... slpte 0x... domain 0x...'");
	/* Source ids and domain ids are 16 bits (VT-d 9.3, context entry). */
	if (sid > 0xffff)
		return bad_range(q, "sid", sid, 0xffff);
	if (dom > 0xffff)
		return bad_range(q, "domain", dom, 0xffff);
	q->last.valid = true;
	q->last.sid = (uint32_t)sid;
	q->last.iova = iova;
	q->last.pte = pte;
	q->last.dom = (int)dom;
	return 0;
}

int qh_vtd_cc_update(struct q *q, const char *a, const char *e)
{
	uint64_t hi;
	if (!arg_num(a, e, "high", &hi))
		return bad(q, "'bus 0x.. devfn 0x.. high 0x... low 0x... gen N -> gen N'");
	/* Context entry, upper word: AW in bits 2:0 (39-bit = 1, 3 levels),
	 * DID in bits 23:8 (VT-d spec 9.3). */
	unsigned aw = (unsigned)(hi & 7);
	uint16_t did = (uint16_t)((hi >> 8) & 0xffff);
	/* AW 0 is a 2-level (30-bit) table, 4 to 7 are reserved: no geometry
	 * the model translates, where a default would be a silent guess. */
	if (aw < 1 || aw > 3)
		return bad(q, "a context entry whose AW (high bits 2:0) is 1, 2 or 3 (3, 4 or 5 "
			      "levels)");
	imp_dom_geometry(q->m, did, IMS_FMT_VTD, aw + 2, 0, 0, false);
	return 0;
}

int qh_vtd_translate(struct q *q, const char *a, const char *e)
{
	uint32_t dev;
	uint64_t iova, gpa, mask;
	if (!bdf_arg(a, e, "dev", &dev) || !arg_num(a, e, "iova", &iova) ||
	    !arg_num(a, e, "gpa", &gpa) || !arg_num(a, e, "mask", &mask) ||
	    !ims_is_pow2(mask + 1) || mask < 0xfff)
		return bad(q, "'dev BB:DD.F iova 0x... -> gpa 0x... mask 0x...'");
	struct xl x = {.dev = dev, .iova = iova, .pa = gpa, .shift = ims_log2(mask + 1)};
	int dom = -1;
	if (q->last.valid && q->last.sid == dev && (q->last.iova & ~mask) == (iova & ~mask)) {
		x.iova = q->last.iova;
		x.pa = (gpa & ~mask) | (q->last.iova & mask);
		/* Second-level entry bits 0 (R) and 1 (W). */
		x.prot = acc_of(q->last.pte);
		dom = q->last.dom;
	}
	q->last.valid = false;
	if (dom < 0)
		dom = imp_dev_dom(q->m, dev);
	if (dom < 0 || !x.prot) {
		if (dom < 0) {
			return bad(q, "an IOTLB line (vtd_iotlb_page_hit/update) naming the domain "
				      "before the first translation of a device");
		}
		struct leaf *l = imp_lookup(q->m, (uint16_t)dom, iova);
		x.prot = l ? l->prot : 0;
	}
	x.dom = (uint16_t)dom;
	imp_dom_geometry(q->m, x.dom, IMS_FMT_VTD, q->m->o.levels ? q->m->o.levels : 3, 0, 0, true);
	return qemu_translate(q, &x);
}

int qh_vtd_inv_pages(struct q *q, const char *a, const char *e)
{
	uint64_t dom, addr, am;
	if (!arg_num(a, e, "domain", &dom) || !arg_num(a, e, "addr", &addr) ||
	    !arg_num(a, e, "mask", &am) || am > 52)
		return bad(q, "'iotlb invalidate domain 0x... addr 0x... mask 0x..'");
	if (dom > 0xffff)
		return bad_range(q, "domain", dom, 0xffff);
	/* Strict mode: the guest invalidates what it has just unmapped. */
	uint64_t size = IMS_PAGE_SIZE << am;
	addr &= ~(size - 1);
	if (q->g)
		return imp_flush(q->m, (uint16_t)dom);
	int rc = imp_unmap(q->m, (uint16_t)dom, addr, size, NULL, NULL);
	if (rc == 0)
		q->m->st->unmap_untracked++;
	return rc < 0 ? rc : 0;
}

int qh_vtd_inv_domain(struct q *q, const char *a, const char *e)
{
	uint64_t dom;
	if (!arg_num(a, e, "domain", &dom))
		return bad(q, "'iotlb invalidate whole domain 0x...'");
	if (dom > 0xffff)
		return bad_range(q, "domain", dom, 0xffff);
	return imp_flush(q->m, (uint16_t)dom);
}

int qh_vtd_fault(struct q *q, const char *a, const char *e)
{
	uint64_t sid, addr, wr;
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "addr", &addr) ||
	    !arg_num(a, e, "write", &wr))
		return bad(q, "'sid 0x... fault N addr 0x... write 0|1'");
	if (sid > 0xffff)
		return bad_range(q, "sid", sid, 0xffff);
	return qemu_fault(q, (uint32_t)sid, addr, wr != 0);
}
