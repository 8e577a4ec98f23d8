/* The domain API of iommusim/pt.h over the walker ABI (iommusim/walker.h):
 * every walker, the built-in ones included, is called through its ops and
 * reaches memory only through pt_host (host_mem.c).
 *
 * The domain API is iommufd's core around the driver: it checks ranges,
 * clears dirty state before tracking is switched on, and flushes the
 * harvest's gathered range (iommu_iotlb_sync) after the walker returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "model/mem_view.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"
#include "model/hot_path.h"

/* ---- checking a walker's ops ----------------------------------------------------- */

int ims_walker_check(const struct ims_walker_ops *w, enum ims_format fmt, char *err,
		     size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!w) {
		snprintf(err, errlen, "no walker ops");
		return -EINVAL;
	}
	if (w->abi_version != IMS_WALKER_ABI_VERSION) {
		snprintf(err, errlen, "walker ABI version %u, this build speaks version %u",
			 w->abi_version, IMS_WALKER_ABI_VERSION);
		return -EINVAL;
	}
	if (w->size < sizeof(struct ims_walker_ops)) {
		snprintf(err, errlen, "walker ops of %u bytes, version %u has %zu", w->size,
			 IMS_WALKER_ABI_VERSION, sizeof(struct ims_walker_ops));
		return -EINVAL;
	}
	if (!w->name || !*w->name) {
		snprintf(err, errlen, "walker has no name");
		return -EINVAL;
	}
	if (!w->read_and_clear_dirty) {
		snprintf(err, errlen, "walker %s has no read_and_clear_dirty", w->name);
		return -EINVAL;
	}
	if (w->level == IMS_WALKER_FULL) {
		const char *miss = !w->domain_init	   ? "domain_init"
				   : !w->domain_free	   ? "domain_free"
				   : !w->ctx_words	   ? "ctx_words"
				   : !w->map		   ? "map"
				   : !w->unmap		   ? "unmap"
				   : !w->iova_to_phys	   ? "iova_to_phys"
				   : !w->set_dirty_tracking ? "set_dirty_tracking"
							   : NULL;
		if (miss) {
			snprintf(err, errlen, "full-level walker %s has no %s", w->name, miss);
			return -EINVAL;
		}
	} else if (w->level != IMS_WALKER_HARVEST) {
		snprintf(err, errlen, "walker %s: level %d is neither harvest (1) nor full (2)",
			 w->name, (int)w->level);
		return -EINVAL;
	} else if (w->contract & (IMS_WALKER_CONTRACT_MAPS_DIRTY | IMS_WALKER_CONTRACT_TABLES_KEPT)) {
		/* Those speak of the walker's own map and unmap: at the harvest
		 * level the tables are the built-in software's. */
		snprintf(err, errlen, "walker %s: a harvest-level walker cannot state %s (it does "
			 "not map or unmap)", w->name,
			 w->contract & IMS_WALKER_CONTRACT_MAPS_DIRTY ? "MAPS_DIRTY" : "TABLES_KEPT");
		return -EINVAL;
	}
	if (w->contract & ~(IMS_WALKER_CONTRACT_CLEAN_RACE_LOST | IMS_WALKER_CONTRACT_TABLES_KEPT |
			    IMS_WALKER_CONTRACT_MAPS_DIRTY)) {
		snprintf(err, errlen, "walker %s states contract bits 0x%x this build does not know",
			 w->name, w->contract);
		return -EINVAL;
	}
	if ((unsigned)fmt < IMS_FMT_COUNT && !(w->formats & (1u << fmt))) {
		snprintf(err, errlen, "walker %s does not handle format %s", w->name,
			 ims_format_name(fmt));
		return -EINVAL;
	}
	return 0;
}

/* ---- the domain ---------------------------------------------------------------- */

static const struct pt_fmt *fmt_ops(enum ims_format f)
{
	const struct fmt_desc *d = fmt_get(f);
	return d && d->sw && d->sw->init ? d->sw : NULL;
}

/* The domain as every view shows it. */
static void view_fill(struct ims_pt *pt, struct pt_view *v)
{
	void *priv = v->d.priv;
	v->d = (struct ims_walker_dom){
		.fmt = pt->ops->fmt,
		.tag = pt->cfg.tag,
		.levels = pt->cfg.levels,
		.top = pt->g.top,
		.granule_shift = pt->g.gshift,
		.stride = pt->g.stride,
		.ias = pt->g.ias,
		.pgsizes = pt->pgsizes,
		.dirty_tracking = pt->cfg.dirty_tracking,
		.root = pt->root,
		.host = &pt_host,
		.priv = priv,
	};
	v->pt = pt;
}

static int attach(struct ims_pt *pt, const struct ims_walker_ops *w)
{
	pt->walker = w;
	pt->knobs = pt_walker_of(w);
	pt->attached = false;
	if (w->level != IMS_WALKER_FULL && !pt->knobs) {
		pt->wdom.d.priv = NULL;
		view_fill(pt, &pt->wdom);
	}
	if (w->attach) {
		int rc = w->attach(pt_walker_dom(pt));
		if (rc)
			return rc;
	}
	pt->attached = true;
	return 0;
}

static void detach(struct ims_pt *pt)
{
	if (pt->attached && pt->walker->detach)
		pt->walker->detach(pt_walker_dom(pt));
	pt->attached = false;
}

int ims_pt_new(struct ims_mem *mem, const struct ims_pt_cfg *cfg_in, const struct ims_sink *sink,
	       struct ims_pt **out, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*out = NULL;
	const struct pt_fmt *ops = fmt_ops(cfg_in->fmt);
	if (!ops) {
		snprintf(err, errlen, "format %s is not built in", ims_format_name(cfg_in->fmt));
		return -EINVAL;
	}
	const struct ims_walker_ops *w = cfg_in->plugin;
	if (!w) {
		if (cfg_in->walker >= ims_pt_walker_count()) {
			snprintf(err, errlen, "walker variant %u is not built in", cfg_in->walker);
			return -EINVAL;
		}
		w = &pt_walker_get(cfg_in->walker)->ops;
	}
	int rc = ims_walker_check(w, cfg_in->fmt, err, errlen);
	if (rc)
		return rc;
	struct ims_pt *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->ops = ops;
	pt->mem = mem;
	pt->sink = *sink;
	pt->cfg = *cfg_in;
	pt->walker = w;
	pt->tables = w->level == IMS_WALKER_FULL ? w : &pt_builtin_tables;
	struct pt_params prm = {pt->cfg.levels, pt->cfg.granule_shift, pt->cfg.ias, pt->cfg.pgsizes};
	rc = ops->init(&prm, &pt->g, err, errlen);
	pt->cfg.levels = prm.levels;
	pt->cfg.granule_shift = prm.granule_shift;
	pt->cfg.ias = prm.ias;
	pt->cfg.pgsizes = prm.pgsizes;
	if (rc)
		goto fail;
	if (pt->cfg.pgsizes & ~pt->g.pgsizes) {
		uint64_t bad = pt->cfg.pgsizes & ~pt->g.pgsizes;
		snprintf(err, errlen, "page size 0x%llx is not a leaf size of %s in this geometry",
			 1ull << __builtin_ctzll(bad), ims_format_name(cfg_in->fmt));
		rc = -EINVAL;
		goto fail;
	}
	pt->pgsizes = pt->cfg.pgsizes;
	if (!pt->pgsizes) {
		snprintf(err, errlen, "no leaf size left");
		rc = -EINVAL;
		goto fail;
	}
	view_fill(pt, &pt->dom);
	err[0] = 0;
	rc = pt->tables->domain_init(pt_dom(pt), err, errlen);
	if (rc) {
		if (!err[0])
			snprintf(err, errlen, "walker %s refused the domain (%d)", w->name, rc);
		goto fail;
	}
	pt->root = pt->dom.d.root;
	if (pt->tables != &pt_builtin_tables && !mem_pool_table(mem, pt->root)) {
		snprintf(err, errlen, "walker %s: domain_init left a root (0x%llx) that is no table it allocated",
			 w->name, (unsigned long long)pt->root);
		pt->tables->domain_free(pt_dom(pt));
		rc = -EINVAL;
		goto fail;
	}
	pt_memo_init(pt);
	rc = attach(pt, w);
	if (rc) {
		snprintf(err, errlen, "walker %s: attach failed (%d)", w->name, rc);
		pt->tables->domain_free(pt_dom(pt));
		goto fail;
	}
	*out = pt;
	return 0;
fail:
	free(pt);
	return rc;
}

void ims_pt_free(struct ims_pt *pt)
{
	if (!pt)
		return;
	detach(pt);
	pt->tables->domain_free(pt_dom(pt));
	free(pt);
}

int ims_pt_use_walker(struct ims_pt *pt, const struct ims_walker_ops *w, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	int rc = ims_walker_check(w, pt->ops->fmt, err, errlen);
	if (rc)
		return rc;
	if (w->level == IMS_WALKER_FULL || pt->tables != &pt_builtin_tables) {
		snprintf(err, errlen, "only a harvest-level walker over the built-in tables can be switched");
		return -EINVAL;
	}
	detach(pt);
	rc = attach(pt, w);
	if (rc) {
		snprintf(err, errlen, "walker %s: attach failed (%d)", w->name, rc);
		attach(pt, &pt_walker_get(0)->ops);
	}
	return rc;
}

int ims_pt_set_walker(struct ims_pt *pt, unsigned walker)
{
	if (walker >= ims_pt_walker_count())
		return -EINVAL;
	pt->cfg.walker = walker;
	return ims_pt_use_walker(pt, &pt_walker_get(walker)->ops, NULL, 0);
}

const char *ims_pt_walker_label(const struct ims_pt *pt) { return pt->walker->name; }
uint32_t ims_pt_walker_contract(const struct ims_pt *pt) { return pt->walker->contract; }

const char *ims_pt_finding(const struct ims_pt *pt, unsigned *count)
{
	if (count)
		*count = pt->nfindings;
	return pt->nfindings ? pt->finding : NULL;
}

void ims_pt_ctx_words(const struct ims_pt *pt, uint64_t words[8])
{
	memset(words, 0, 8 * sizeof(words[0]));
	pt->tables->ctx_words((struct ims_walker_dom *)&pt->dom.d, words);
}
uint64_t ims_pt_pgsizes(const struct ims_pt *pt) { return pt->pgsizes; }
uint64_t ims_pt_min_pgsize(const struct ims_pt *pt) { return pt->pgsizes & -pt->pgsizes; }
enum ims_format ims_pt_format(const struct ims_pt *pt) { return pt->ops->fmt; }
bool ims_pt_tracking(const struct ims_pt *pt) { return pt->tracking; }
bool ims_pt_nest_parent(const struct ims_pt *pt) { return pt->cfg.nest_parent; }
void ims_pt_set_nest_parent(struct ims_pt *pt) { pt->cfg.nest_parent = true; }
const struct ims_pt_stats *ims_pt_stats(const struct ims_pt *pt) { return &pt->stats; }

uint64_t ims_pt_root(const struct ims_pt *pt)
{
	return pt->root;
}

uint64_t ims_pt_iova_limit(const struct ims_pt *pt)
{
	return pt->g.ias >= 64 ? 0 : 1ull << pt->g.ias;
}

uint64_t ims_pt_pa_limit(const struct ims_pt *pt)
{
	return !pt->g.oas || pt->g.oas >= 64 ? 0 : 1ull << pt->g.oas;
}

int ims_pt_map(struct ims_pt *pt, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot,
	       uint64_t pgsize)
{
	uint64_t last;
	uint64_t sizes = pt->pgsizes;
	if (pgsize) {
		if (!ims_is_pow2(pgsize) || !(sizes & pgsize))
			return -EINVAL;
		sizes = pgsize;
	}
	uint64_t min = sizes & -sizes;
	if (!prot || prot > IMS_PROT_RW)
		return -EINVAL;
	int rc = check_range(pt, iova, size, min, &last);
	if (rc)
		return rc;
	if (pa & (min - 1))
		return -EINVAL;
	/* An output address the leaf cannot hold is refused, not truncated
	 * (Linux's io-pgtable says -ERANGE too). */
	uint64_t lim = ims_pt_pa_limit(pt);
	if ((lim && (pa >= lim || size > lim - pa)) || pa + (size - 1) < pa)
		return -ERANGE;
	return pt->tables->map(pt_dom(pt), iova, pa, size, prot, pgsize);
}

int ims_pt_unmap(struct ims_pt *pt, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	uint64_t last, bytes = 0;
	if (unmapped)
		*unmapped = 0;
	int rc = check_range(pt, iova, size, ims_pt_min_pgsize(pt), &last);
	if (rc)
		return rc;
	rc = pt->tables->unmap(pt_dom(pt), iova, size, &bytes);
	if (unmapped)
		*unmapped = bytes;
	return rc;
}

int ims_pt_iova_to_phys(struct ims_pt *pt, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	if (iova > iova_last(pt))
		return -ENOENT;
	uint64_t p = 0;
	unsigned pr = 0;
	int rc = pt->tables->iova_to_phys(pt_dom(pt), iova, &p, &pr);
	if (!rc) {
		if (pa)
			*pa = p;
		if (prot)
			*prot = pr;
	}
	return rc;
}

IMS_HARVEST_PATH
int ims_pt_read_and_clear_dirty(struct ims_pt *pt, uint64_t iova, uint64_t size, unsigned flags,
				struct ims_bitmap *bm)
{
	uint64_t last;
	if (flags & ~(unsigned)IMS_DIRTY_NO_CLEAR)
		return -EOPNOTSUPP;
	if (bm && !pt->tracking)
		return -EINVAL;
	int rc = check_range(pt, iova, size, 1, &last);
	if (rc)
		return rc;
	if (bm && (bm->iova > iova || bm->iova + (bm->length - 1) < last))
		return -EINVAL;
	return pt_harvest(pt, iova, last, flags, bm);
}

int ims_pt_unmap_read_dirty(struct ims_pt *pt, uint64_t iova, uint64_t size, struct ims_bitmap *bm,
			    uint64_t *unmapped)
{
	if (unmapped)
		*unmapped = 0;
	if (!pt->tracking)
		return -EINVAL;
	uint64_t last;
	int rc = check_range(pt, iova, size, ims_pt_min_pgsize(pt), &last);
	if (rc)
		return rc;
	if (pt->tables->unmap_read_dirty) {
		struct ims_walker_dirty dt = {.pt = pt, .bm = bm, .first = iova, .last = last};
		uint64_t bytes = 0;
		rc = pt->tables->unmap_read_dirty(pt_dom(pt), iova, size, &dt, &bytes);
		if (unmapped)
			*unmapped = bytes;
		return rc;
	}
	rc = pt_harvest(pt, iova, last, 0, bm);
	if (rc)
		return rc;
	return ims_pt_unmap(pt, iova, size, unmapped);
}

int ims_pt_set_dirty_tracking(struct ims_pt *pt, bool enable)
{
	if (!pt->cfg.dirty_tracking)
		return -EINVAL;
	if (enable && !(pt->knobs && pt->knobs->no_clear_on_enable)) {
		/* iommufd: clear stale dirty state first, then switch updates on. */
		int rc = pt_harvest(pt, 0, iova_last(pt), 0, NULL);
		if (rc)
			return rc;
	}
	int rc = pt->tables->set_dirty_tracking(pt_dom(pt), enable);
	if (rc) {
		/* Hardware refused (e.g. no capability): put the context back. */
		pt->tables->set_dirty_tracking(pt_dom(pt), !enable);
		return rc;
	}
	pt->tracking = enable;
	return 0;
}

int ims_pt_flush(struct ims_pt *pt, uint64_t iova, uint64_t size)
{
	if (size) {
		uint64_t last;
		int rc = check_range(pt, iova, size, 1, &last);
		if (rc)
			return rc;
	}
	return pt_flush_range(pt, iova, size, false);
}
