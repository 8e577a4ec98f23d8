/* The budget options (tools/budgets.h). */
#include <inttypes.h>

#include "tools/budgets.h"
#include "tools/cmd.h"

int budget_opt(const char *cmd, int c, const char *arg, struct ims_budgets *b)
{
	uint64_t *field;
	const char *name;
	bool size = true;
	switch (c) {
	case OPT_MAX_DMA:
		field = &b->dma_bytes, name = "--max-dma-bytes";
		break;
	case OPT_MAX_BITMAP:
		field = &b->bitmap_bytes, name = "--max-bitmap-bytes";
		break;
	case OPT_MAX_TABLE:
		field = &b->table_bytes, name = "--max-table-bytes";
		break;
	case OPT_MAX_FAULTS:
		field = &b->fault_records, name = "--max-fault-records", size = false;
		break;
	default:
		return 0;
	}
	uint64_t v;
	if (opt_u64(cmd, name, arg, size, &v))
		return -1;
	if (!v) {
		fprintf(stderr, "iommusim %s: %s: the budget must be at least 1\n", cmd, name);
		return -1;
	}
	*field = v;
	return 1;
}

void budget_help(FILE *f)
{
	fprintf(f,
		"budgets (what one trace may ask for; over one is bad input, exit 2, at the\n"
		"key's column; docs/limits.md):\n"
		"  --max-dma-bytes N     bytes one dma line may cover (default %" PRIu64 "G)\n"
		"  --max-bitmap-bytes N  bytes of one dirty bitmap a harvest, unmap read-dirty\n"
		"                        or GET_DIRTY_BITMAP builds (default %" PRIu64 "G)\n"
		"  --max-table-bytes N   simulated memory: the page tables maps build and the\n"
		"                        frames mem lines write (default %" PRIu64 "G)\n"
		"  --max-fault-records N\n"
		"                        faults the queue holds; more are counted as not\n"
		"                        recorded, as a full hardware fault log (default %zu)\n",
		(uint64_t)(IMS_BUDGET_DMA_BYTES >> 30), (uint64_t)(IMS_BUDGET_BITMAP_BYTES >> 30),
		(uint64_t)(IMS_BUDGET_TABLE_BYTES >> 30), IMS_FAULT_RECORDS_DEFAULT);
}
