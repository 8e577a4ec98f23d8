/* Cadences given on the command line: a count of things (plain N) or a
 * span of trace time (N followed by ns, us, ms or s). --stats-interval
 * (docs/timing.md) and trace import --harvest-every (docs/importers.md).
 */
#ifndef IMS_TOOLS_INTERVAL_H
#define IMS_TOOLS_INTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* arg into *n (the count, or nanoseconds when *time). `counts` names what
 * a plain N counts ("events", "accesses") in messages. On error prints
 * "iommusim CMD: OPT: 'ARG' ... (expected ...)" and returns -1. A zero
 * count is accepted (the caller decides what it means); a zero span is
 * not. */
int opt_interval(const char *cmd, const char *opt, const char *arg, const char *counts,
		 uint64_t *n, bool *time);

#endif
