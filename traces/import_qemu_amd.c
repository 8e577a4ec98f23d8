/* QEMU importer: amd-iommu events (hw/i386/trace-events, amdvi_*). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import_qemu.h"

/* ---- amd-iommu -------------------------------------------------------------------- */

static bool amd_dev(const char *a, const char *e, uint32_t *dev)
{
	return bdf_arg(a, e, "devid", dev);
}

static int qh_amd_cache(struct q *q, const char *a, const char *e, bool update)
{
	uint32_t dev;
	uint64_t gpa, dom = 0;
	if (!amd_dev(a, e, &dev) || !arg_num(a, e, "gpa", &gpa) ||
	    (update && !arg_num(a, e, "domid", &dom)))
		return bad(q, update ? "'update iotlb domid 0x.. devid: BB:DD.F gpa 0x... hpa 0x...'"
				     : "'hit iotlb devid BB:DD.F gpa 0x... hpa 0x...'");
	/* Domain ids are 16 bits (AMD IOMMU 2.2.2.1, DTE DomainID). */
	if (dom > 0xffff)
		return bad_range(q, "domid", dom, 0xffff);
	q->last.valid = true;
	q->last.sid = dev;
	q->last.iova = gpa;
	q->last.dom = update ? (int)dom : -1;
	if (update) {
		size_t i = 0;
		while (i < q->ndevdom && q->devdom[i].dev != dev)
			i++;
		if (i == q->ndevdom) {
			if (q->ndevdom == q->capdevdom) {
				size_t cap = q->capdevdom ? 2 * q->capdevdom : 16;
				struct devdom *x = realloc(q->devdom, cap * sizeof(*x));
				if (!x)
					return -ENOMEM;
				q->devdom = x;
				q->capdevdom = cap;
			}
			q->ndevdom++;
		}
		q->devdom[i].dev = dev;
		q->devdom[i].dom = (uint16_t)dom;
	}
	return 0;
}

int qh_amd_update(struct q *q, const char *a, const char *e)
{
	return qh_amd_cache(q, a, e, true);
}

int qh_amd_hit(struct q *q, const char *a, const char *e)
{
	return qh_amd_cache(q, a, e, false);
}

int qh_amd_translate(struct q *q, const char *a, const char *e)
{
	uint32_t dev;
	uint64_t in, out;
	/* QEMU calls the IOVA "gpa" and the result "hpa"; accept "iova"/"addr"
	 * and "translated"/"txaddr" too. */
	bool ok = amd_dev(a, e, &dev) &&
		  (arg_num(a, e, "iova", &in) ? arg_num(a, e, "gpa", &out) || arg_num(a, e, "hpa", &out)
					      : (arg_num(a, e, "gpa", &in) || arg_num(a, e, "addr", &in)) &&
							(arg_num(a, e, "hpa", &out) ||
							 arg_num(a, e, "translated", &out) ||
							 arg_num(a, e, "txaddr", &out)));
	if (!ok)
		return bad(q, "'devid: BB:DD.F gpa 0x... hpa 0x...'");
	int dom = -1;
	if (q->last.valid && q->last.sid == dev &&
	    (q->last.iova & ~(IMS_PAGE_SIZE - 1)) == (in & ~(IMS_PAGE_SIZE - 1)))
		dom = q->last.dom;
	q->last.valid = false;
	for (size_t i = 0; dom < 0 && i < q->ndevdom; i++)
		if (q->devdom[i].dev == dev)
			dom = q->devdom[i].dom;
	if (dom < 0)
		dom = imp_dev_dom(q->m, dev);
	if (dom < 0)
		dom = q->m->o.domain;
	struct xl x = {.dev = dev, .dom = (uint16_t)dom, .iova = in, .pa = out, .shift = 12,
		       .pa_base = true};
	imp_dom_geometry(q->m, x.dom, IMS_FMT_AMDV1, q->m->o.levels ? q->m->o.levels : 3, 0, 0, true);
	return qemu_translate(q, &x);
}

int qh_amd_pages_inval(struct q *q, const char *a, const char *e)
{
	uint64_t dom;
	if (!arg_num(a, e, "domain", &dom))
		return bad(q, "'AMD-Vi pages for domain 0x... invalidated'");
	if (dom > 0xffff)
		return bad_range(q, "domain", dom, 0xffff);
	/* No address in the event (QEMU flushes the whole domain): nothing
	 * here says which pages went away. */
	return imp_flush(q->m, (uint16_t)dom);
}
