/* libFuzzer harness: the text trace reader, from memory.
 *
 * Any input must be read without a crash, a leak or undefined behaviour,
 * and every event it yields must survive the writer: ims_event_format()
 * then reading that line back gives the same op, keys and values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/trace.h"

static void same_event(const struct ims_event *a, const struct ims_event *b)
{
	if (a->op != b->op || a->keys != b->keys || a->has_ts != b->has_ts ||
	    (a->has_ts && a->ts != b->ts))
		abort();
	for (unsigned k = 0; k < IMS_K_COUNT; k++)
		if (ims_ev_has(a, (enum ims_key)k) && a->v[k] != b->v[k])
			abort();
	if (ims_ev_has(a, IMS_K_EXPECT) &&
	    (a->expect_hex_len != b->expect_hex_len ||
	     memcmp(a->expect_hex, b->expect_hex, a->expect_hex_len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_reader *r;
	if (ims_reader_open_mem("fuzz", (const char *)data, size, 1, &r))
		return 0;
	struct ims_event ev;
	char line[8192];
	while (ims_reader_next(r, &ev) > 0) {
		size_t n = ims_event_format(&ev, line, sizeof(line));
		if (n >= sizeof(line))
			continue;
		struct ims_reader *r2;
		if (ims_reader_open_mem("written", line, n, 1, &r2))
			abort();
		struct ims_event back;
		if (ims_reader_next(r2, &back) != 1)
			abort(); /* the writer wrote a line the reader refuses */
		same_event(&ev, &back);
		ims_reader_close(r2);
	}
	(void)ims_reader_error(r);
	ims_reader_close(r);
	return 0;
}
