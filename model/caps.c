/* What the capability registers advertise, as GET_HW_INFO reports it: each
 * format decodes its own (formats/format.h, dirty_capable). */
#include "formats/format.h"
#include "iommusim/model.h"

bool ims_iommu_cfg_dirty_capable(const struct ims_iommu_cfg *cfg, enum ims_format fmt)
{
	const struct fmt_desc *d = fmt_get(fmt);
	return d && d->dirty_capable && d->dirty_capable(cfg);
}
