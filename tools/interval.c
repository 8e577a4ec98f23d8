/* Counts and spans of trace time on the command line (tools/interval.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/interval.h"

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ns", 1},
	{"us", 1000},
	{"ms", 1000000},
	{"s", 1000000000},
};

#define NUNITS (sizeof(units) / sizeof(units[0]))

int opt_interval(const char *cmd, const char *opt, const char *arg, const char *counts,
		 uint64_t *n, bool *time)
{
	char *end = NULL;
	errno = 0;
	/* strtoull takes a sign and blanks; an interval has neither. */
	unsigned long long v = 0;
	bool digits = *arg >= '0' && *arg <= '9';
	if (digits)
		v = strtoull(arg, &end, 0);
	bool t = digits && *end;
	size_t u = 0;
	while (t && u < NUNITS && strcmp(end, units[u].name))
		u++;
	if (!digits || u == NUNITS) {
		fprintf(stderr,
			"iommusim %s: %s: '%s' is not an interval (expected N %s, or N followed "
			"by ns, us, ms or s of trace time)\n",
			cmd, opt, arg, counts);
		return -1;
	}
	if (errno == ERANGE || (t && v > UINT64_MAX / units[u].ns)) {
		fprintf(stderr, "iommusim %s: %s: '%s' does not fit in 64 bits%s\n", cmd, opt, arg,
			t ? " of nanoseconds" : "");
		return -1;
	}
	if (t && !v) {
		fprintf(stderr, "iommusim %s: %s: '%s': a span of trace time must be at least 1ns\n",
			cmd, opt, arg);
		return -1;
	}
	*n = t ? (uint64_t)v * units[u].ns : (uint64_t)v;
	*time = t;
	return 0;
}
