/* The budget options of the commands that replay traces (docs/limits.md,
 * "Replay and model budgets"): how much one trace may make the replay do
 * or hold, each raised by its option. */
#ifndef IMS_TOOLS_BUDGETS_H
#define IMS_TOOLS_BUDGETS_H

#include <getopt.h>
#include <stdio.h>

#include "iommusim/replay.h"
#include "tools/opts.h"

/* Clear of the shared option ids and of each command's own. */
enum {
	OPT_MAX_DMA = OPT_FIRST_FREE + 224,
	OPT_MAX_BITMAP,
	OPT_MAX_TABLE,
	OPT_MAX_FAULTS,
};

#define BUDGET_LONG_OPTS                                                                       \
	{"max-dma-bytes", required_argument, 0, OPT_MAX_DMA},                                     \
	    {"max-bitmap-bytes", required_argument, 0, OPT_MAX_BITMAP},                           \
	    {"max-table-bytes", required_argument, 0, OPT_MAX_TABLE},                             \
	    {"max-fault-records", required_argument, 0, OPT_MAX_FAULTS}

/* Option c (of getopt_long) with its argument into b: 1 when it was a
 * budget option, 0 when not, -1 after saying what is wrong. */
int budget_opt(const char *cmd, int c, const char *arg, struct ims_budgets *b);
/* The options' lines of a command's --help. */
void budget_help(FILE *f);

#endif
