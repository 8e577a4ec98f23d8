/* Native commands (formats.md, "Caches and invalidation"): the format
 * decodes the command, and it goes to invalidation (model/inv.c) or to the
 * context cache (model/ctx.c). */
#include <errno.h>
#include <string.h>

#include "model/iommu_int.h"
#include "model/hot_path.h"

IMS_HARVEST_PATH
int ims_iommu_submit(struct ims_iommu *m, enum ims_format fmt, const uint64_t cmd[2])
{
	const struct hw_fmt *ops = hw_fmt_get(fmt);
	struct hw_cmd c;
	memset(&c, 0, sizeof(c));
	if (!ops || ops->decode_cmd(cmd, &c))
		return -EINVAL;
	switch (c.kind) {
	case CMD_INV_RANGE: {
		/* As ims_iommu_inv_range, with the command's stage (docs/nested.md). */
		m->n.inv_range++;
		m->n.inv_cycles += m->cfg.lat.inv_range;
		if (!c.size)
			return 0;
		uint64_t last = c.iova + (c.size - 1);
		if (last < c.iova)
			last = ~0ull;
		iommu_inv_stage(m, c.tag, c.stage, true, c.iova, last, c.leaf_only);
		return 0;
	}
	case CMD_INV_DOMAIN:
		m->n.inv_domain++;
		m->n.inv_cycles += m->cfg.lat.inv_domain;
		iommu_inv_stage(m, c.tag, c.stage, false, 0, 0, false);
		return 0;
	case CMD_INV_ALL:
		ims_iommu_inv_all(m);
		return 0;
	case CMD_INV_CTX:
		return ims_iommu_ctx_invalidate(m, c.tag);
	case CMD_NONE:
		return 0; /* a command the model knows to have no effect here */
	default:
		return -EINVAL;
	}
}
