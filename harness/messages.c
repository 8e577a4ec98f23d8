/* Messages: input errors (file:line:column) and validation failures. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"

__attribute__((format(printf, 4, 5))) int rp_input_error(struct ims_replay *r,
							 const struct ims_event *ev, int key,
							 const char *fmt, ...)
{
	uint32_t col = key >= 0 && ims_ev_has(ev, (enum ims_key)key) ? ev->col[key] : ev->op_col;
	int n;
	if (col)
		n = snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ":%u: ", r->file, ev->line, col);
	else
		n = snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ": ", r->file, ev->line);
	if (n < 0 || (size_t)n >= sizeof(r->err))
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

FILE *rp_diag(const struct ims_replay *r)
{
	return r->o.diag ? r->o.diag : stderr;
}

__attribute__((format(printf, 3, 4))) void
rp_validation_failure(struct ims_replay *r, const struct ims_event *ev, const char *fmt, ...)
{
	r->st.validation_failures++;
	FILE *f = rp_diag(r);
	fprintf(f, "%s:%" PRIu64 ": FAIL: ", r->file, ev->line);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

const char *rp_errno_text(int rc)
{
	switch (rc) {
	case -EEXIST:
		return "the range overlaps an existing mapping";
	case -EOVERFLOW:
		return "the range wraps past 2^64";
	case -ENOMEM:
		return "out of memory";
	case -EOPNOTSUPP:
		return "not supported";
	default:
		return "invalid argument";
	}
}

void rp_print_bits(FILE *f, const char *label, const struct ims_bitmap *bm)
{
	char *hex = ims_bitmap_to_hex(bm);
	if (hex && strlen(hex) <= 64)
		fprintf(f, "    %s 0x%s\n", label, hex);
	free(hex);
}
