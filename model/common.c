/* Names shared by the model, the software side and the tools (format
 * names come from the format registry, formats/registry.c). */
#include <errno.h>
#include <string.h>

#include "iommusim/common.h"

static int lookup(const char *const *names, unsigned n, const char *s, size_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (names[i] && strlen(names[i]) == len && !memcmp(names[i], s, len))
			return (int)i;
	return -EINVAL;
}

static const char *const kind_names[IMS_FAULT_KIND_COUNT] = {
	"none", "notpresent", "perm", "access", "unattached"};

const char *ims_fault_kind_name(enum ims_fault_kind k)
{
	return (unsigned)k < IMS_FAULT_KIND_COUNT ? kind_names[k] : "?";
}

int ims_fault_kind_parse(const char *s, size_t len, enum ims_fault_kind *out)
{
	/* "none" is not a kind a trace may ask for. */
	int i = lookup(kind_names + 1, IMS_FAULT_KIND_COUNT - 1, s, len);
	if (i < 0)
		return i;
	*out = (enum ims_fault_kind)(i + 1);
	return 0;
}
