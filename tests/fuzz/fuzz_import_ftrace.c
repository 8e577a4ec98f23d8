/* libFuzzer harness: the ftrace importer (docs/importers.md).
 *
 * Byte 0 chooses the format when the log names none (bits 0-1: from the
 * log, amdv1, vtd, smmuv3) and options (bit 2 --lenient, bit 3
 * --harvest-every 2, bit 5 --access-at unmap, bit 6 --harvest-every 1us);
 * the rest is the log. Any input must import without a crash, leak or
 * undefined behaviour; an error must be "fuzz:LINE: ..." (or "fuzz: ..."
 * for the log as a whole); and a trace that imports must replay with no
 * input error and no failed validation (the importer's promise).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/import.h"
#include "iommusim/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct text {
	char *s;
	size_t n, cap;
	uint64_t pages; /* 4 KiB pages the trace maps and DMAs touch, summed */
	unsigned events;
};

/* What replaying the imported trace costs, in page operations: a log can
 * map gigabytes in 4 KiB pages again and again, legitimately, which takes
 * seconds in an instrumented build. Above this the import is still checked
 * and the replay left out, so each input runs in milliseconds. */
#define MAX_REPLAY_PAGES (1ull << 18)

/* Events an input may import: a few kilobytes of log can legitimately
 * expand to millions of events (a DMA per chunk of a gigabyte mapping),
 * which takes seconds in an instrumented build. Past this the sink stops
 * the import as if out of memory (the importer's own bounds are
 * docs/importers.md's business, not this harness's). */
#define MAX_EVENTS (1u << 16)

static int sink(void *arg, const struct ims_event *ev)
{
	struct text *t = arg;
	if (++t->events > MAX_EVENTS)
		return -ENOMEM;
	size_t need = ims_event_format(ev, NULL, 0) + 2;
	if (t->n + need > t->cap) {
		t->cap = (t->n + need) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
	if (ev->op == IMS_OP_MAP && ims_ev_has(ev, IMS_K_SIZE))
		t->pages += ev->v[IMS_K_SIZE] >> 12;
	if (ev->op == IMS_OP_DMA && ims_ev_has(ev, IMS_K_LEN))
		t->pages += ev->v[IMS_K_LEN] >> 12;
	t->n += ims_event_format(ev, t->s + t->n, need);
	t->s[t->n++] = '\n';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	o.from = IMS_FROM_FTRACE;
	o.format = (int)(data[0] & 3) - 1;
	o.lenient = data[0] & 4;
	o.harvest_every = data[0] & 8 ? 2 : 0;
	o.expect_pa = data[0] & 16 ? IMS_EXPECT_PA_ALL : IMS_EXPECT_PA_FIRST;
	o.access_at_unmap = data[0] & 32;
	o.harvest_every_ns = data[0] & 64 ? 1000 : 0;
	struct text t = {0};
	struct ims_import_sink s = {sink, NULL, &t};
	struct ims_import_stats *st = malloc(sizeof(*st));
	char err[1024];
	int rc = ims_import_mem(&o, "fuzz", (const char *)data + 1, size - 1, &s, st, err,
				sizeof(err));
	if (rc && rc != -ENOMEM && strncmp(err, "fuzz:", 5))
		abort();
	if (!rc && t.n && t.pages <= MAX_REPLAY_PAGES) {
		struct ims_replay_opts ro;
		ims_replay_opts_default(&ro);
		ro.verbosity = 0;
		FILE *devnull = fopen("/dev/null", "w");
		ro.diag = devnull;
		struct ims_replay *r;
		struct ims_reader *rd;
		if (ims_replay_new(&ro, &r) || ims_reader_open_mem("imported", t.s, t.n, 1, &rd))
			abort();
		if (ims_replay_run(r, rd) || ims_replay_stats(r)->validation_failures) {
			fprintf(stderr, "%s\n%.*s", ims_replay_error(r), (int)t.n, t.s);
			abort();
		}
		ims_reader_close(rd);
		ims_replay_free(r);
		fclose(devnull);
	}
	free(st);
	free(t.s);
	return 0;
}
