/* libFuzzer harness: a text trace replayed through the whole stack (reader,
 * replayer, software page tables, hardware model, oracle).
 *
 * Any input must end in a result or an input error, never a crash, a leak
 * or undefined behaviour. Events whose cost is unbounded by design (a map
 * of terabytes in 4 KiB pages, a bitmap of billions of bits) are left out,
 * so each input runs in milliseconds.
 */
#include <stdint.h>
#include <stdio.h>

#include "iommusim/replay.h"

#define MAX_EVENTS 128
#define MAX_MAP (16ull << 20)
#define MAX_DMA (1ull << 20)
#define MAX_BITS (1ull << 20)

static bool affordable(const struct ims_event *ev)
{
	uint64_t size = ims_ev_has(ev, IMS_K_SIZE) ? ev->v[IMS_K_SIZE] : 0;
	uint64_t pg = ims_ev_has(ev, IMS_K_PGSIZE) && ev->v[IMS_K_PGSIZE] ? ev->v[IMS_K_PGSIZE]
									  : 4096;
	switch (ev->op) {
	case IMS_OP_MAP:
		return size <= MAX_MAP;
	case IMS_OP_DMA:
		return ev->v[IMS_K_LEN] <= MAX_DMA;
	case IMS_OP_HARVEST:
	case IMS_OP_UNMAP:
		return size / pg <= MAX_BITS;
	default:
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	struct ims_reader *rd;
	if (ims_reader_open_mem("fuzz", (const char *)data, size, 1, &rd))
		return 0;
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	o.diag = null;
	struct ims_replay *r;
	if (ims_replay_new(&o, &r)) {
		ims_reader_close(rd);
		return 0;
	}
	struct ims_event ev;
	for (int n = 0; n < MAX_EVENTS && ims_reader_next(rd, &ev) > 0; n++) {
		if (!affordable(&ev))
			continue;
		if (ims_replay_event(r, &ev, "fuzz"))
			break; /* an input error ends a replay */
	}
	(void)ims_replay_stats(r);
	ims_replay_free(r);
	ims_reader_close(rd);
	return 0;
}
