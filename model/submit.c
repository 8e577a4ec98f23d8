/* Native commands (formats.md, "Caches and invalidation"): the format
 * decodes the command, and it goes to invalidation (model/inv.c) or to the
 * context cache (model/ctx.c). */
#include <errno.h>
#include <string.h>

#include "model/iommu_int.h"

int ims_iommu_submit(struct ims_iommu *m, enum ims_format fmt, const uint64_t cmd[2])
{
	const struct hw_fmt *ops = hw_fmt_get(fmt);
	struct hw_cmd c;
	memset(&c, 0, sizeof(c));
	if (!ops || ops->decode_cmd(cmd, &c))
		return -EINVAL;
	switch (c.kind) {
	case CMD_INV_RANGE:
		ims_iommu_inv_range(m, c.tag, c.iova, c.size, c.leaf_only ? IMS_INV_LEAF : 0);
		return 0;
	case CMD_INV_DOMAIN:
		ims_iommu_inv_domain(m, c.tag);
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
