/* The format ops' view of a generic page table (struct pt_dom) and its
 * command path: what the ops submit goes to the table's sink, counted. Both
 * pt.c and harvest.c flush through here; it calls neither.
 */
#include "pagetables/pt_int.h"
#include "model/hot_path.h"

IMS_HARVEST_PATH
static int host_submit(void *host, const uint64_t cmd[2])
{
	struct ims_pt *pt = host;
	pt->stats.flushes++;
	return pt->sink.submit(pt->sink.arg, pt->ops->fmt, cmd);
}

static int host_ctx_change(void *host, unsigned word, uint64_t mask, uint64_t value)
{
	struct ims_pt *pt = host;
	int rc = pt->sink.ctx_update(pt->sink.arg, pt->cfg.tag, word, mask, value);
	if (!rc)
		rc = pt->sink.ctx_flush(pt->sink.arg, pt->cfg.tag);
	if (!rc) {
		struct pt_dom d;
		pt_dom_of(pt, &d);
		rc = pt->ops->flush(&d, 0, 0, false);
	}
	return rc;
}

IMS_HARVEST_PATH
void pt_dom_of(const struct ims_pt *pt, struct pt_dom *d)
{
	*d = (struct pt_dom){
		.tag = pt->cfg.tag,
		.levels = pt->cfg.levels,
		.dirty_tracking = pt->cfg.dirty_tracking,
		.tracking = pt->tracking,
		.nest_parent = pt->cfg.nest_parent,
		.root = pt->root,
		.g = &pt->g,
		.submit = host_submit,
		.ctx_change = host_ctx_change,
		.host = (void *)pt, /* the host callbacks own the table */
	};
}

IMS_HARVEST_PATH
int pt_flush_range(struct ims_pt *pt, uint64_t iova, uint64_t size, bool leaf_only)
{
	struct pt_dom d;
	pt_dom_of(pt, &d);
	return pt->ops->flush(&d, iova, size, leaf_only);
}
