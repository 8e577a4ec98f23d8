/* The format registry (formats/list.h) and the names of formats. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/format.h"
#include "model/hot_path.h"

#define FORMAT(id, desc) extern const struct fmt_desc desc;
#include "formats/list.h"
#undef FORMAT

static const struct fmt_desc *const registry[IMS_FMT_COUNT] = {
#define FORMAT(id, desc) [id] = &desc,
#include "formats/list.h"
#undef FORMAT
};

IMS_HARVEST_PATH
const struct fmt_desc *fmt_get(enum ims_format f)
{
	return (unsigned)f < IMS_FMT_COUNT ? registry[f] : NULL;
}

unsigned fmt_all_mask(void)
{
	unsigned m = 0;
	for (unsigned i = 0; i < IMS_FMT_COUNT; i++)
		m |= registry[i] ? 1u << i : 0;
	return m;
}

const char *fmt_name_list(char *buf, size_t len)
{
	size_t at = 0;
	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < IMS_FMT_COUNT && len; i++) {
		if (!registry[i])
			continue;
		int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", registry[i]->name);
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
	return buf;
}

const struct fmt_desc *fmt_find(const char *name, size_t len)
{
	for (unsigned i = 0; i < IMS_FMT_COUNT; i++) {
		const struct fmt_desc *d = registry[i];
		if (d && strlen(d->name) == len && !memcmp(d->name, name, len))
			return d;
	}
	return NULL;
}

const char *ims_format_name(enum ims_format f)
{
	const struct fmt_desc *d = fmt_get(f);
	return d ? d->name : "?";
}

int ims_format_parse(const char *name, size_t len, enum ims_format *out)
{
	const struct fmt_desc *d = fmt_find(name, len);
	if (!d)
		return -EINVAL;
	*out = d->id;
	return 0;
}
