/* Importer options: the names of the sources and of the assumed accesses,
 * and the defaults (include/iommusim/import.h).
 */
#include <errno.h>
#include <string.h>

#include "iommusim/import.h"

static const char *const from_names[IMS_FROM_COUNT] = {
	[IMS_FROM_QEMU_VTD] = "qemu-vtd",
	[IMS_FROM_QEMU_AMDVI] = "qemu-amdvi",
	[IMS_FROM_QEMU_SMMUV3] = "qemu-smmuv3",
	[IMS_FROM_FTRACE] = "ftrace",
};

static const char *const assume_names[IMS_ASSUME_COUNT] = {
	[IMS_ASSUME_TO_DEVICE] = "to-device",
	[IMS_ASSUME_FROM_DEVICE] = "from-device",
	[IMS_ASSUME_BIDIR] = "bidirectional",
	[IMS_ASSUME_COHERENT] = "coherent",
	[IMS_ASSUME_UNKNOWN] = "unknown",
};

const char *ims_import_from_name(enum ims_import_from f)
{
	return (unsigned)f < IMS_FROM_COUNT ? from_names[f] : "?";
}

int ims_import_from_parse(const char *s, enum ims_import_from *out)
{
	for (unsigned i = 0; i < IMS_FROM_COUNT; i++)
		if (!strcmp(s, from_names[i])) {
			*out = (enum ims_import_from)i;
			return 0;
		}
	return -EINVAL;
}

const char *ims_assume_name(enum ims_assume a)
{
	return (unsigned)a < IMS_ASSUME_COUNT ? assume_names[a] : "?";
}

int ims_assume_parse(const char *s, enum ims_assume *out)
{
	for (unsigned i = 0; i < IMS_ASSUME_COUNT; i++)
		if (!strcmp(s, assume_names[i])) {
			*out = (enum ims_assume)i;
			return 0;
		}
	return -EINVAL;
}

void ims_import_opts_default(struct ims_import_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->assume[IMS_ASSUME_TO_DEVICE] = IMS_ACC_R;
	o->assume[IMS_ASSUME_FROM_DEVICE] = IMS_ACC_W;
	o->assume[IMS_ASSUME_BIDIR] = IMS_ACC_W;
	o->assume[IMS_ASSUME_COHERENT] = IMS_ACC_W;
	o->assume[IMS_ASSUME_UNKNOWN] = IMS_ACC_W;
	o->map_prot = IMS_PROT_RW;
	o->expect_pa = IMS_EXPECT_PA_FIRST;
	o->timestamps = true;
	o->access_len = 8;
	o->format = -1;
	o->domain = 1;
}
