/* The testbench (iommusim/tb.h): the core software ops on a domain — make
 * it, attach, map, unmap (reading dirty state or not), track, harvest,
 * flush — with the oracle kept in step. The replayer's trace ops decode an
 * event and call these; a direct call has no event, and its input errors
 * are the message alone (rp_input_error with r->ev NULL).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/iommufd.h"
#include "iommusim/vfio.h"

#include "formats/format.h"
#include "harness/dma.h"

void ims_tb_opts_default(struct ims_tb_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	ims_iommu_cfg_default(&o->model);
	o->verbosity = 1;
}

/* A budget's value in force: 0 stands for the default. */
static uint64_t or_default(uint64_t v, uint64_t def)
{
	return v ? v : def;
}

int rp_tb_init(struct ims_tb *r, const struct ims_tb_opts *o)
{
	r->o = *o;
	struct ims_budgets *b = &r->o.budgets;
	b->dma_bytes = or_default(b->dma_bytes, IMS_BUDGET_DMA_BYTES);
	b->bitmap_bytes = or_default(b->bitmap_bytes, IMS_BUDGET_BITMAP_BYTES);
	b->table_bytes = or_default(b->table_bytes, IMS_BUDGET_TABLE_BYTES);
	b->fault_records = or_default(b->fault_records, IMS_FAULT_RECORDS_DEFAULT);
	if (b->fault_records > SIZE_MAX / sizeof(struct ims_fault))
		b->fault_records = SIZE_MAX / sizeof(struct ims_fault);
	r->mem = ims_mem_new();
	if (!r->mem)
		return -ENOMEM;
	/* Whole frames, at least one (a frame limit of 0 is none). */
	uint64_t frames = b->table_bytes >> IMS_PAGE_SHIFT;
	ims_mem_set_frame_limit(r->mem, frames ? frames : 1);
	int rc = ims_iommu_new(r->mem, &r->o.model, &r->mmu);
	if (rc)
		return rc;
	ims_iommu_set_fault_limit(r->mmu, (size_t)b->fault_records);
	r->written = ims_oracle_new();
	r->stranded = ims_oracle_new();
	r->mapped_dirty = ims_oracle_new();
	r->pin_now = ims_oracle_new();
	r->pin_dirty = ims_oracle_new();
	r->mig = ims_oracle_new();
	r->mig_unmapped = ims_oracle_new();
	if (!r->written || !r->stranded || !r->mapped_dirty || !r->pin_now || !r->pin_dirty ||
	    !r->mig || !r->mig_unmapped)
		return -ENOMEM;
	r->written_memo = oracle_memo(r->written);
	return 0;
}

void rp_tb_fini(struct ims_tb *r)
{
	/* Parents go in any order: no stage-2 unmap of a freed frame now. */
	r->tearing_down = true;
	for (size_t k = 0; k < r->ndom_tags; k++) {
		struct dom *d = r->doms[r->dom_tags[k]];
		if (!d)
			continue;
		ims_vfio_free(d->vfio);
		if (d->kind != DOM_HWPT)
			ims_pt_free(d->pt); /* a nested HWPT's guest table is the replayer's */
		free(d);
		r->doms[r->dom_tags[k]] = NULL;
	}
	free(r->dom_tags);
	ims_iommufd_free(r->fd);
	ims_oracle_free(r->written);
	ims_oracle_free(r->mapped_dirty);
	ims_oracle_free(r->stranded);
	ims_oracle_free(r->pin_now);
	ims_oracle_free(r->pin_dirty);
	ims_oracle_free(r->mig);
	ims_oracle_free(r->mig_unmapped);
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
	free(r->maybe);
	free(r->fline.v);
}

int ims_tb_new(const struct ims_tb_opts *opts, struct ims_tb **out)
{
	*out = NULL;
	struct ims_tb_opts def;
	if (!opts) {
		ims_tb_opts_default(&def);
		opts = &def;
	}
	/* API version 1's struct ended where the budgets start: its fields
	 * are read, the budgets take their defaults. */
	struct ims_tb_opts full;
	if (opts->size == offsetof(struct ims_tb_opts, budgets)) {
		ims_tb_opts_default(&full);
		memcpy(&full, opts, opts->size);
		full.size = sizeof(full);
		opts = &full;
	}
	if (opts->size != sizeof(struct ims_tb_opts))
		return -EINVAL;
	struct ims_tb *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	int rc = rp_tb_init(r, opts);
	if (rc) {
		rp_tb_fini(r);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void ims_tb_free(struct ims_tb *tb)
{
	if (!tb)
		return;
	rp_tb_fini(tb);
	free(tb);
}

const char *ims_tb_error(const struct ims_tb *tb) { return tb->err; }
const struct ims_replay_stats *ims_tb_stats(const struct ims_tb *tb) { return &tb->st; }
struct ims_iommu *ims_tb_iommu(struct ims_tb *tb) { return tb->mmu; }
struct ims_mem *ims_tb_mem(struct ims_tb *tb) { return tb->mem; }

void ims_tb_set_where(struct ims_tb *tb, const char *file, uint64_t line)
{
	tb->wfile = file;
	tb->wline = line;
}

void ims_tb_set_failure_cb(struct ims_tb *tb, ims_tb_failure_fn fn, void *arg)
{
	tb->o.on_failure = fn;
	tb->o.on_failure_arg = arg;
}

/* A direct call is over: what the walker did wrong through the host during
 * it is reported now (a replayed event's, by ims_replay_event after it). */
static int direct_done(struct ims_tb *r, int rc)
{
	if (!r->ev)
		rp_report_findings(r, NULL);
	return rc;
}

/* The same for an op that takes an injection: it is spent (used, or not if
 * the op failed its checks). */
static int inject_done(struct ims_tb *r, int rc)
{
	r->inj_next.armed = false;
	return direct_done(r, rc);
}

/* Whether the op being replayed gives key k (a direct call gives none). */
static bool has(const struct ims_tb *r, enum ims_key k)
{
	return r->ev && ims_ev_has(r->ev, k);
}

int rp_check_bitmap(struct ims_tb *r, const struct ims_event *ev, int key, uint64_t bits)
{
	/* As ims_bitmap_init allocates it: whole 64-bit words. */
	uint64_t bytes = bits / 64 * 8 + (bits % 64 ? 8 : 0);
	if (bytes <= r->o.budgets.bitmap_bytes)
		return 0;
	char want[32], lim[32];
	return rp_over_budget(r, ev, key,
			      "a bitmap of %" PRIu64 " bits (%s) is more than one dirty read may "
			      "hold (%s; %s raises it): read a smaller range, or at a larger page size",
			      bits, rp_bytes_text(bytes, want, sizeof(want)),
			      rp_bytes_text(r->o.budgets.bitmap_bytes, lim, sizeof(lim)),
			      rp_raise(ev != NULL, RP_BUDGET_BITMAP));
}

int rp_check_map(struct ims_tb *r, const struct ims_event *ev, struct ims_pt *pt, uint64_t iova,
		 uint64_t pa, uint64_t size, uint64_t pgsize, int size_key, uint64_t *tables)
{
	uint64_t lim = ims_pt_pa_limit(pt); /* 0: 2^64 */
	if (!size)
		return 0;
	if (lim && pa >= lim)
		return rp_input_error(r, ev, IMS_K_PA,
				      "pa=0x%" PRIx64 " is past the domain's output addresses (%s leaves "
				      "here hold %u bits: below 0x%" PRIx64 ")",
				      pa, ims_format_name(ims_pt_format(pt)), ims_log2(lim), lim);
	uint64_t room = lim ? lim - pa : 0 - pa; /* 0: 2^64 */
	if (room && size > room) {
		char end[24] = "2^64";
		if (lim)
			snprintf(end, sizeof(end), "0x%" PRIx64, lim);
		return rp_input_error(r, ev, size_key,
				      "pa=0x%" PRIx64 " + 0x%" PRIx64 " reaches past %s, where the "
				      "domain's output addresses end",
				      pa, size, end);
	}
	uint64_t t = ims_pt_map_tables(pt, iova, pa, size, pgsize);
	*tables = *tables > UINT64_MAX - t ? UINT64_MAX : *tables + t;
	return 0;
}

int rp_check_tables(struct ims_tb *r, const struct ims_event *ev, int key, uint64_t frames,
		    const char *what)
{
	uint64_t now = ims_mem_counters(r->mem)->frames;
	uint64_t lim = r->o.budgets.table_bytes >> IMS_PAGE_SHIFT;
	if (frames <= lim && now <= lim - frames)
		return 0;
	char need[32], has[32], max[32];
	return rp_over_budget(r, ev, key,
			      "%s needs up to %s more simulated memory (it holds %s): more than "
			      "the table budget (%s; %s raises it)",
			      what, rp_bytes_text(frames > UINT64_MAX >> IMS_PAGE_SHIFT ? UINT64_MAX : frames << IMS_PAGE_SHIFT, need, sizeof(need)),
			      rp_bytes_text(now << IMS_PAGE_SHIFT, has, sizeof(has)),
			      rp_bytes_text(r->o.budgets.table_bytes, max, sizeof(max)),
			      rp_raise(ev != NULL, RP_BUDGET_TABLE));
}

int rp_tables_full(struct ims_tb *r, const struct ims_event *ev, int key, const char *what)
{
	char max[32];
	return rp_over_budget(r, ev, key,
			      "%s needs more simulated memory than the table budget (%s) leaves; %s "
			      "raises it",
			      what, rp_bytes_text(r->o.budgets.table_bytes, max, sizeof(max)),
			      rp_raise(ev != NULL, RP_BUDGET_TABLE));
}

int rp_dma_over(struct ims_tb *r, const struct ims_event *ev, uint64_t len)
{
	char lim[32];
	return rp_over_budget(r, ev, IMS_K_LEN,
			      "len=0x%" PRIx64 " is more than one DMA may cover (%s; %s raises it)",
			      len, rp_bytes_text(r->o.budgets.dma_bytes, lim, sizeof(lim)),
			      rp_raise(ev != NULL, RP_BUDGET_DMA));
}

struct dom *rp_need_dom(struct ims_tb *r, uint64_t id, enum ims_op op, bool software, int *rc)
{
	struct dom *d = id <= 0xffff ? r->doms[id] : NULL;
	if (!d) {
		*rc = rp_input_error(r, r->ev, IMS_K_DOMAIN, "domain %" PRIu64 " is not defined", id);
		return NULL;
	}
	if (software && d->raw) {
		*rc = rp_input_error(r, r->ev, -1,
				     "%s is a software operation; domain %" PRIu64
				     " is raw (defined at line %" PRIu64 ")",
				     ims_op_name(op), id, d->line);
		return NULL;
	}
	return d;
}

int rp_check_aligned(struct ims_tb *r, enum ims_key k, uint64_t v, uint64_t align,
		     const char *what)
{
	if (v & (align - 1))
		return rp_input_error(r, r->ev, k,
				      "%s=0x%" PRIx64 " is not aligned to %s (0x%" PRIx64 ")",
				      ims_key_name(k), v, what, align);
	return 0;
}

int rp_check_in_domain(struct ims_tb *r, struct dom *d, uint64_t iova, uint64_t size)
{
	uint64_t lim = ims_pt_iova_limit(d->pt);
	if (lim && (iova >= lim || size > lim - iova))
		return rp_input_error(r, r->ev, IMS_K_IOVA,
				      "range [0x%" PRIx64 ", +0x%" PRIx64
				      ") leaves the domain's IOVA space (below 0x%" PRIx64 ")",
				      iova, size, lim);
	return 0;
}

int rp_new_domain_keys(struct ims_tb *r, const struct ims_event *ev)
{
	uint64_t id = ev->v[IMS_K_ID];
	if (r->doms[id])
		return rp_input_error(r, ev, IMS_K_ID,
				      "domain %" PRIu64 " is already defined at line %" PRIu64, id,
				      r->doms[id]->line);
	if (ims_ev_has(ev, IMS_K_LEVELS) && (ev->v[IMS_K_LEVELS] == 0 || ev->v[IMS_K_LEVELS] > 64))
		return rp_input_error(r, ev, IMS_K_LEVELS, "levels=%" PRIu64 " is out of range",
				      ev->v[IMS_K_LEVELS]);
	if (ims_ev_has(ev, IMS_K_IAS) && (ev->v[IMS_K_IAS] == 0 || ev->v[IMS_K_IAS] > 64))
		return rp_input_error(r, ev, IMS_K_IAS, "ias=%" PRIu64 " is out of range",
				      ev->v[IMS_K_IAS]);
	return 0;
}

struct rp_geom rp_ev_geom(const struct ims_event *ev)
{
	return (struct rp_geom){
		.levels = ims_ev_has(ev, IMS_K_LEVELS) ? (unsigned)ev->v[IMS_K_LEVELS] : 0,
		.granule_shift = ims_ev_has(ev, IMS_K_GRANULE) ? ims_log2(ev->v[IMS_K_GRANULE]) : 0,
		.ias = ims_ev_has(ev, IMS_K_IAS) ? (unsigned)ev->v[IMS_K_IAS] : 0,
		.pgsizes = ims_ev_has(ev, IMS_K_PGSIZES) ? ev->v[IMS_K_PGSIZES] : 0,
	};
}

struct ims_tb_domain_cfg rp_ev_domain_cfg(const struct ims_event *ev, enum ims_format fmt)
{
	struct rp_geom g = rp_ev_geom(ev);
	return (struct ims_tb_domain_cfg){
		.fmt = fmt,
		.levels = g.levels,
		.granule_shift = g.granule_shift,
		.ias = g.ias,
		.pgsizes = g.pgsizes,
		.dirty = ims_ev_has(ev, IMS_K_DIRTY) && ev->v[IMS_K_DIRTY],
	};
}

struct ims_pt_cfg rp_ev_pt_cfg(const struct ims_tb *r, const struct ims_event *ev,
			       enum ims_format fmt, uint16_t tag)
{
	struct rp_geom g = rp_ev_geom(ev);
	return (struct ims_pt_cfg){
		.fmt = fmt,
		.tag = tag,
		.levels = g.levels,
		.granule_shift = g.granule_shift,
		.ias = g.ias,
		.pgsizes = g.pgsizes,
		.walker = r->o.walker,
		.plugin = r->o.plugin,
	};
}

int rp_tb_domain(struct ims_tb *r, uint16_t tag, const struct ims_tb_domain_cfg *c, int parent)
{
	if (r->doms[tag] && !r->ev)
		return rp_input_error(r, NULL, -1, "domain %u is already defined", tag);
	if (r->doms[tag])
		return rp_input_error(r, r->ev, IMS_K_ID,
				      "domain %u is already defined at line %" PRIu64, tag,
				      r->doms[tag]->line);
	if (!r->ev && (!fmt_get(c->fmt) || c->levels > 64 || c->ias > 64 ||
			c->granule_shift > 63))
		return rp_input_error(r, NULL, -1,
				      "fmt=%u, levels=%u, ias=%u or granule_shift=%u is out of range",
				      (unsigned)c->fmt, c->levels, c->ias, c->granule_shift);
	char why[256] = "";
	uint64_t words[IMS_CTX_WORDS];
	struct dom *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fmt = c->fmt;
	d->line = rp_line(r, r->ev);
	int key = IMS_K_FORMAT;
	struct ims_pt_cfg cfg = {
		.fmt = c->fmt,
		.tag = tag,
		.levels = c->levels,
		.granule_shift = c->granule_shift,
		.ias = c->ias,
		.pgsizes = c->pgsizes,
		.dirty_tracking = c->dirty,
		.walker = r->o.walker,
		.plugin = r->o.plugin,
	};
	d->dirty_alloc = cfg.dirty_tracking;
	if (cfg.dirty_tracking && !ims_iommu_cfg_dirty_capable(&r->o.model, c->fmt)) {
		free(d);
		return rp_input_error(r, r->ev, IMS_K_DIRTY,
				      "dirty=on: the IOMMU lacks dirty tracking for %s "
				      "(-EOPNOTSUPP; see its capability registers)",
				      ims_format_name(c->fmt));
	}
	struct ims_sink sink = rp_sink(r);
	/* The parent of a nested domain is a nesting parent from now on, as if
	 * allocated with IOMMU_HWPT_ALLOC_NEST_PARENT (a trace names it only
	 * at the nested domain, which comes later): its stage-2 invalidations
	 * must reach what combines both stages. Set before the nested context
	 * exists, so every flush that could leave a combined entry has it. */
	if (parent >= 0)
		ims_pt_set_nest_parent(r->doms[parent]->pt);
	/* A nested domain's root frame is mapped in its parent's stage 2 as
	 * it is allocated, before the domain is installed (nested.c). */
	r->nest_new.on = parent >= 0;
	r->nest_new.tag = tag;
	r->nest_new.parent = (uint16_t)parent;
	r->nest_err[0] = '\0';
	int rc = ims_pt_new(r->mem, &cfg, &sink, &d->pt, why, sizeof(why));
	if (!rc)
		ims_pt_ctx_words(d->pt, words);
	if (rc && r->nest_err[0]) {
		snprintf(why, sizeof(why), "%s", r->nest_err);
		key = IMS_K_NESTED;
	} else if (rc && strstr(why, "page size")) {
		key = IMS_K_PGSIZES;
	}
	if (!rc && parent >= 0) {
		rc = ims_iommu_ctx_set_nested(r->mmu, tag, c->fmt, words, (uint16_t)parent, why,
					      sizeof(why));
		key = IMS_K_NESTED;
	} else if (!rc) {
		rc = ims_iommu_ctx_set(r->mmu, tag, c->fmt, words, why, sizeof(why));
	}
	if (rc) {
		ims_pt_free(d->pt); /* a nested one's frames leave the parent too */
		r->nest_new.on = false;
		free(d);
		if (rc == -ENOSPC && !r->nest_err[0])
			return rp_tables_full(r, r->ev, IMS_K_ID, "the domain's root table");
		return rp_domain_error(r, rc, key, why);
	}
	if (parent >= 0) {
		d->nested = true;
		d->parent = (uint16_t)parent;
	}
	if (rp_dom_put(r, tag, d)) {
		ims_pt_free(d->pt);
		r->nest_new.on = false;
		free(d);
		return -ENOMEM;
	}
	r->nest_new.on = false;
	return 0;
}

/* A domain that could not be made: the key its reason names, if the op
 * gave it. */
int rp_domain_error(struct ims_tb *r, int rc, int key, const char *why)
{
	if (strstr(why, "level") && has(r, IMS_K_LEVELS))
		key = IMS_K_LEVELS;
	else if (strstr(why, "granule") && has(r, IMS_K_GRANULE))
		key = IMS_K_GRANULE;
	else if (strstr(why, "ias") && has(r, IMS_K_IAS))
		key = IMS_K_IAS;
	return rp_input_error(r, r->ev, key, "%s", why[0] ? why : rp_errno_text(rc));
}

int ims_tb_attach(struct ims_tb *r, uint32_t dev, uint16_t tag)
{
	int rc = 0;
	if (!rp_need_dom(r, tag, IMS_OP_ATTACH, false, &rc))
		return rc;
	rc = ims_iommu_attach(r->mmu, dev, tag);
	if (rc)
		return rp_input_error(r, r->ev, IMS_K_DEV, "attach failed: %s", rp_errno_text(rc));
	return 0;
}

int ims_tb_detach(struct ims_tb *r, uint32_t dev)
{
	if (ims_iommu_detach(r->mmu, dev))
		return rp_input_error(r, r->ev, IMS_K_DEV, "device 0x%" PRIx32 " is not attached",
				      dev);
	return 0;
}

/* Maps of a HWPT follow its IOAS, maps of a container its vfio calls. */
static int not_front_end(struct ims_tb *r, uint16_t tag, const struct dom *d)
{
	if (d->kind == DOM_HWPT)
		return rp_input_error(r, r->ev, IMS_K_DOMAIN,
				      "domain %u is an iommufd HWPT (line %" PRIu64
				      "): map and unmap its IOAS with iommufd map / unmap",
				      tag, d->line);
	if (d->kind == DOM_VFIO)
		return rp_input_error(r, r->ev, IMS_K_DOMAIN,
				      "domain %u is a VFIO container (line %" PRIu64
				      "): use vfio map / unmap",
				      tag, d->line);
	return 0;
}

/* A direct call starts with no error message; front-end domains (an
 * iommufd HWPT, a VFIO container) take their tracking and dirty reads
 * through their own calls. */
static int direct_start(struct ims_tb *r, uint16_t tag, bool software_only)
{
	if (r->ev)
		return 0;
	r->err[0] = 0;
	const struct dom *d = r->doms[tag];
	if (software_only && d && d->kind != DOM_PLAIN)
		return not_front_end(r, tag, d);
	return 0;
}

static int tb_map(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t pa, uint64_t size,
	       unsigned prot, uint64_t pgsize)
{
	int rc = 0;
	struct dom *d = rp_need_dom(r, tag, IMS_OP_MAP, true, &rc);
	if (!d)
		return rc;
	if ((rc = not_front_end(r, tag, d)))
		return rc;
	uint64_t align = ims_pt_min_pgsize(d->pt);
	if (pgsize) {
		if (!(ims_pt_pgsizes(d->pt) & pgsize))
			return rp_input_error(r, r->ev, IMS_K_PGSIZE,
					      "pgsize=0x%" PRIx64 " is not a leaf size this domain uses",
					      pgsize);
		align = pgsize;
	}
	const char *what = pgsize ? "pgsize" : "the smallest leaf size";
	uint64_t tables = 0;
	if ((rc = rp_check_aligned(r, IMS_K_IOVA, iova, align, what)) ||
	    (rc = rp_check_aligned(r, IMS_K_PA, pa, align, what)) ||
	    (rc = rp_check_aligned(r, IMS_K_SIZE, size, align, what)) ||
	    (rc = rp_check_in_domain(r, d, iova, size)) ||
	    (rc = rp_check_map(r, r->ev, d->pt, iova, pa, size, pgsize, IMS_K_SIZE, &tables)) ||
	    (rc = rp_check_tables(r, r->ev, IMS_K_SIZE, tables, "the map")))
		return rc;
	rp_inject_begin(r);
	rc = ims_pt_map(d->pt, iova, pa, size, prot, pgsize);
	rp_inject_end(r, NULL, NULL);
	if (rc == -EUCLEAN && r->finding_pending)
		return 0; /* a corrupt entry in the way: its finding is the op's failure */
	if (rc == -ENOSPC) {
		/* What the walker mapped before the budget stopped it goes. */
		ims_pt_unmap(d->pt, iova, size, NULL);
		return rp_tables_full(r, r->ev, IMS_K_SIZE, "the map");
	}
	if (rc)
		return rp_input_error(r, r->ev, IMS_K_IOVA, "map failed: %s", rp_errno_text(rc));
	rp_mapped(r, tag, iova, size, prot);
	r->st.maps++;
	return 0;
}

/* The bitmap a dirty read of domain tag fills (got) and the oracle's
 * expectation of it (want), over [iova, iova + size) at pgsize. */
static int bitmaps_for(struct ims_tb *r, uint16_t tag, struct dom *d, uint64_t iova,
		       uint64_t size, uint64_t pgsize, struct ims_bitmap *got,
		       struct ims_bitmap *want)
{
	int rc;
	if (!ims_is_pow2(pgsize))
		return rp_input_error(r, r->ev, IMS_K_PGSIZE,
				      "pgsize=0x%" PRIx64 " is not a power of two", pgsize);
	if ((rc = rp_check_aligned(r, IMS_K_IOVA, iova, pgsize, "the bitmap page size")) ||
	    (rc = rp_check_aligned(r, IMS_K_SIZE, size, pgsize, "the bitmap page size")) ||
	    (rc = rp_check_in_domain(r, d, iova, size)) ||
	    (rc = rp_check_bitmap(r, r->ev, IMS_K_SIZE, size >> ims_log2(pgsize))))
		return rc;
	rc = ims_bitmap_init(got, iova, size, ims_log2(pgsize));
	if (rc)
		return rp_input_error(r, r->ev, IMS_K_SIZE, "bitmap: %s", rp_errno_text(rc));
	rc = ims_bitmap_init(want, iova, size, ims_log2(pgsize));
	if (rc) {
		ims_bitmap_fini(got);
		return rp_input_error(r, r->ev, IMS_K_SIZE, "bitmap: %s", rp_errno_text(rc));
	}
	ims_oracle_expected(ims_iommu_oracle(r->mmu), tag, want->iova, want->length, want->pgshift,
			    want->words);
	return 0;
}

int rp_tb_unmap(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size,
		      uint64_t pgsize, struct ims_bitmap *got)
{
	int rc = 0;
	struct dom *d = rp_need_dom(r, tag, IMS_OP_UNMAP, true, &rc);
	if (!d)
		return rc;
	if ((rc = not_front_end(r, tag, d)))
		return rc;
	uint64_t align = ims_pt_min_pgsize(d->pt);
	if ((rc = rp_check_aligned(r, IMS_K_IOVA, iova, align, "the smallest leaf size")) ||
	    (rc = rp_check_aligned(r, IMS_K_SIZE, size, align, "the smallest leaf size")) ||
	    (rc = rp_check_in_domain(r, d, iova, size)))
		return rc;
	bool read = got != NULL;
	struct ims_bitmap want;
	if (read) {
		if (!ims_pt_tracking(d->pt))
			return rp_input_error(r, r->ev, IMS_K_READ_DIRTY,
					      r->ev ? "read-dirty needs tracking on (track domain=%u on)"
						    : "a read-dirty unmap needs tracking on (ims_tb_track(tb, %u, true))",
					      tag);
		if ((rc = bitmaps_for(r, tag, d, iova, size, pgsize ? pgsize : align, got, &want)))
			return rc;
	}
	uint64_t bytes = 0;
	struct snap leaves = {0};
	if (rp_gpa_needs_snap(r, tag, iova, size))
		rp_snap_take(d, iova, size, &leaves);
	rp_inject_begin(r);
	if (read)
		rc = ims_pt_unmap_read_dirty(d->pt, iova, size, got, &bytes);
	else
		rc = ims_pt_unmap(d->pt, iova, size, &bytes);
	rp_inject_end(r, d->pt, read ? got : NULL);
	if (rc) {
		free(leaves.l);
		if (read) {
			ims_bitmap_fini(got);
			ims_bitmap_fini(&want);
		}
		if (rc == -EINVAL)
			return rp_input_error(r, r->ev, IMS_K_SIZE,
					      "unmap [0x%" PRIx64 ", +0x%" PRIx64 ") cuts into a leaf; "
					      "unmap must cover whole leaves",
					      iova, size);
		return rp_input_error(r, r->ev, IMS_K_IOVA, "unmap failed: %s", rp_errno_text(rc));
	}
	if (read) {
		rp_settle_dirty_read(r, r->ev, "unmap read-dirty bitmap", tag, &want, got, true, NULL);
		rp_gpa_reported(r, d, got, &leaves);
		ims_bitmap_fini(&want);
	}
	/* iommufd: dirty state of unmapped entries is discarded; what the
	 * oracle still expected there is lost (before the GPA bookkeeping
	 * forgets what devices wrote there: rp_oracle_unmap asks it). */
	r->st.lost_on_unmap += rp_oracle_unmap(r, tag, iova, size);
	rp_gpa_unmapped(r, tag, iova, size, &leaves, read);
	free(leaves.l);
	rp_maybe_settle(r, tag, iova, iova + (size - 1));
	r->st.unmaps++;
	return 0;
}

int ims_tb_unmap(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size, uint64_t pgsize,
		 struct ims_bitmap *dirty)
{
	int rc = direct_start(r, tag, false);
	if (!rc && !r->ev && !size)
		rc = rp_input_error(r, NULL, -1, "size=0: an unmap covers at least one leaf");
	if (!rc)
		rc = rp_tb_unmap(r, tag, iova, size, pgsize, dirty);
	if (rc && dirty)
		memset(dirty, 0, sizeof(*dirty));
	return inject_done(r, rc);
}

static int tb_track(struct ims_tb *r, uint16_t tag, bool on)
{
	int rc = 0;
	struct dom *d = rp_need_dom(r, tag, IMS_OP_TRACK, true, &rc);
	if (!d)
		return rc;
	if (!d->dirty_alloc && !r->ev)
		return rp_input_error(r, NULL, -1,
				      "track needs a domain allocated for dirty tracking (domain %u "
				      "was made without dirty)",
				      tag);
	if (!d->dirty_alloc)
		return rp_input_error(r, r->ev, -1,
				      "track needs a domain allocated for dirty tracking (dirty=on at "
				      "line %" PRIu64 ")",
				      d->line);
	rp_inject_begin(r);
	rc = ims_pt_set_dirty_tracking(d->pt, on);
	rp_inject_end(r, NULL, NULL);
	if (rc)
		return rp_input_error(r, r->ev, -1, "set_dirty_tracking failed: %s",
				      rp_errno_text(rc));
	if (on) /* a new tracking session: what was written before is not owed */
		rp_tracking_enabled(r, tag);
	return 0;
}

static int tb_harvest(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size,
		   uint64_t pgsize, unsigned flags, struct ims_bitmap *got,
		   struct ims_tb_verdict *v)
{
	int rc = 0;
	memset(got, 0, sizeof(*got));
	if (v)
		memset(v, 0, sizeof(*v));
	struct dom *d = rp_need_dom(r, tag, IMS_OP_HARVEST, true, &rc);
	if (!d)
		return rc;
	if (!ims_pt_tracking(d->pt))
		return rp_input_error(r, r->ev, -1,
				      r->ev ? "harvest needs tracking on (track domain=%u on)"
					    : "harvest needs tracking on (ims_tb_track(tb, %u, true))",
				      tag);
	struct ims_bitmap want;
	if ((rc = bitmaps_for(r, tag, d, iova, size, pgsize ? pgsize : IMS_PAGE_SIZE, got, &want)))
		return rc;
	bool noclear = flags & IMS_DIRTY_NO_CLEAR;
	if (noclear)
		r->st.harvests_noclear++;
	rp_inject_begin(r);
	rc = ims_pt_read_and_clear_dirty(d->pt, got->iova, got->length,
					 noclear ? IMS_DIRTY_NO_CLEAR : 0, got);
	rp_inject_end(r, d->pt, got);
	if (rc) {
		ims_bitmap_fini(got);
		ims_bitmap_fini(&want);
		memset(got, 0, sizeof(*got));
		return rp_input_error(r, r->ev, -1, "read_and_clear_dirty failed: %s",
				      rp_errno_text(rc));
	}
	rp_settle_dirty_read(r, r->ev, ims_op_name(IMS_OP_HARVEST), tag, &want, got, !noclear, v);
	rp_gpa_harvested(r, r->ev, tag, got->iova, got->length);
	rp_gpa_reported(r, d, got, NULL);
	ims_bitmap_fini(&want);
	return 0;
}

static int tb_flush(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	int rc = 0;
	struct dom *d = rp_need_dom(r, tag, IMS_OP_FLUSH, false, &rc);
	if (!d)
		return rc;
	if (d->raw) {
		if (size)
			ims_iommu_inv_range(r->mmu, tag, iova, size, 0);
		else
			ims_iommu_inv_domain(r->mmu, tag);
		return 0;
	}
	if (size && (rc = rp_check_in_domain(r, d, iova, size)))
		return rc;
	rc = ims_pt_flush(d->pt, iova, size);
	if (rc)
		return rp_input_error(r, r->ev, -1, "flush failed: %s", rp_errno_text(rc));
	return 0;
}

int ims_tb_inject(struct ims_tb *r, uint64_t at, uint32_t dev, uint64_t iova)
{
	if (!at)
		return rp_input_error(r, r->ev, IMS_K_INJECT_AT,
				      "inject: at counts memory accesses from 1");
	if (ims_iommu_dev_domain(r->mmu, dev) < 0)
		return rp_input_error(r, r->ev, IMS_K_INJECT_DEV,
				      "inject: device 0x%" PRIx32 " is not attached", dev);
	r->inj_next.armed = true;
	r->inj_next.at = at;
	r->inj_next.dev = dev;
	r->inj_next.iova = iova;
	return 0;
}

int ims_tb_leaf(struct ims_tb *r, uint16_t tag, uint64_t iova, struct ims_leaf *out)
{
	r->err[0] = 0;
	int k = ims_iommu_leaf(r->mmu, tag, iova, out);
	if (k < 0)
		rp_input_error(r, NULL, -1, "domain %u has no valid context", tag);
	else if (k > 0)
		snprintf(r->err, sizeof(r->err), "no leaf maps iova 0x%" PRIx64 " in domain %u (%s)",
			 iova, tag, ims_fault_kind_name((enum ims_fault_kind)k));
	return k;
}

int64_t ims_tb_dma(struct ims_tb *r, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir,
		   struct ims_tb_access *acc, size_t nacc, uint64_t *npieces)
{
	if (npieces)
		*npieces = 0;
	r->err[0] = 0;
	if (!dir || (dir & ~(unsigned)(IMS_ACC_R | IMS_ACC_W)))
		return rp_input_error(r, r->ev, IMS_K_DIR,
				      "dir=0x%x: expected IMS_ACC_R, IMS_ACC_W or both", dir);
	if (len && iova + (len - 1) < iova)
		return rp_input_error(r, r->ev, IMS_K_LEN, "the DMA wraps past 2^64");
	if (len > r->o.budgets.dma_bytes)
		return rp_dma_over(r, r->ev, len);
	struct rp_dma_res res = {.acc = acc, .n = acc ? nacc : 0};
	uint64_t pieces = 0;
	uint64_t faulted = dma_core(r, dev, iova, len, dir, &pieces, acc ? &res : NULL);
	/* Drops of a direct call are not a replayed event's to account. */
	r->fdrop_seen = ims_iommu_counters(r->mmu)->faults_dropped;
	if (npieces)
		*npieces = pieces;
	return (int64_t)faulted;
}

struct ims_tb *ims_replay_tb(struct ims_replay *rp) { return &rp->t; }

/* The public calls: the ops above, then the walker's findings. The
 * replay's trace ops call these too. */

int ims_tb_domain(struct ims_tb *r, uint16_t tag, const struct ims_tb_domain_cfg *c)
{
	direct_start(r, tag, false);
	return direct_done(r, rp_tb_domain(r, tag, c, -1));
}

int ims_tb_map(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t pa, uint64_t size,
	       unsigned prot, uint64_t pgsize)
{
	direct_start(r, tag, false);
	return inject_done(r, tb_map(r, tag, iova, pa, size, prot, pgsize));
}

int ims_tb_track(struct ims_tb *r, uint16_t tag, bool on)
{
	int rc = direct_start(r, tag, true);
	return inject_done(r, rc ? rc : tb_track(r, tag, on));
}

int ims_tb_harvest(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size,
		   uint64_t pgsize, unsigned flags, struct ims_bitmap *got,
		   struct ims_tb_verdict *v)
{
	memset(got, 0, sizeof(*got));
	if (v)
		memset(v, 0, sizeof(*v));
	int rc = direct_start(r, tag, true);
	if (!rc && (flags & ~(unsigned)IMS_DIRTY_NO_CLEAR))
		rc = rp_input_error(r, r->ev, -1, "flags=0x%x: only IMS_DIRTY_NO_CLEAR is known", flags);
	if (!rc && !r->ev && !size)
		rc = rp_input_error(r, NULL, -1, "size=0: a harvest covers at least one page");
	return inject_done(r, rc ? rc : tb_harvest(r, tag, iova, size, pgsize, flags, got, v));
}

int ims_tb_flush(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size)
{
	direct_start(r, tag, false);
	return direct_done(r, tb_flush(r, tag, iova, size));
}
