/* The library's version at run time (include/iommusim/common.h). */
#include "iommusim/common.h"

const char *ims_version(void)
{
	return IMS_VERSION_STRING;
}
