/* Messages: input errors (file:line:column) and validation failures. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/replay_int.h"

static void say_at(struct ims_tb *r, const struct ims_event *ev, int key, const char *fmt,
		   va_list ap)
{
	int n = 0;
	if (ev) {
		uint32_t col = key >= 0 && ims_ev_has(ev, (enum ims_key)key) ? ev->col[key] : ev->op_col;
		if (col)
			n = snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ":%u: ", r->file, ev->line, col);
		else
			n = snprintf(r->err, sizeof(r->err), "%s:%" PRIu64 ": ", r->file, ev->line);
		if (n < 0 || (size_t)n >= sizeof(r->err))
			n = 0;
	}
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
}

__attribute__((format(printf, 4, 5))) int rp_input_error(struct ims_tb *r,
							 const struct ims_event *ev, int key,
							 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say_at(r, ev, key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

__attribute__((format(printf, 4, 5))) int rp_over_budget(struct ims_tb *r,
							 const struct ims_event *ev, int key,
							 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say_at(r, ev, key, fmt, ap);
	va_end(ap);
	return -E2BIG;
}

const char *rp_raise(bool trace, int budget)
{
	static const char *const opt[] = {"--max-dma-bytes", "--max-bitmap-bytes",
					  "--max-table-bytes", "--max-fault-records"};
	static const char *const field[] = {"budgets.dma_bytes", "budgets.bitmap_bytes",
					    "budgets.table_bytes", "budgets.fault_records"};
	return trace ? opt[budget] : field[budget];
}

const char *rp_bytes_text(uint64_t v, char *buf, size_t len)
{
	static const char *const u[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned i = 0;
	uint64_t w = v;
	while (i < 6 && w >= 1024) {
		w >>= 10;
		i++;
	}
	if (v == 1)
		snprintf(buf, len, "1 byte");
	else if (!i || !(v & ((1ull << (10 * i)) - 1)))
		snprintf(buf, len, "%" PRIu64 " %s", w, u[i]);
	else
		snprintf(buf, len, "%.1f %s", (double)v / (double)(1ull << (10 * i)), u[i]);
	return buf;
}

FILE *rp_diag(const struct ims_tb *r)
{
	return r->o.diag ? r->o.diag : stderr;
}

/* The default failure printer: "FILE:LINE: FAIL: message", and for a dirty
 * read the first differing bits and (when short) both bitmaps. */
const char *ims_tb_failure_kind_name(enum ims_tb_failure_kind k)
{
	switch (k) {
	case IMS_TB_FAIL_DIRTY_READ:
		return "dirty-read";
	case IMS_TB_FAIL_EXPECT:
		return "expect";
	case IMS_TB_FAIL_LOST_UPDATE:
		return "lost-update";
	case IMS_TB_FAIL_WALKER:
		return "walker";
	}
	return "other";
}

void ims_tb_print_failure(FILE *o, const struct ims_tb_failure *f)
{
	if (f->file)
		fprintf(o, "%s:%" PRIu64 ": FAIL: %s\n", f->file, f->line, f->message);
	else
		fprintf(o, "FAIL: %s\n", f->message);
	if (f->kind != IMS_TB_FAIL_DIRTY_READ)
		return;
	const struct ims_bitmap *got = f->got;
	if (f->under)
		fprintf(o, "    first under-reported bit %" PRIu64 " (iova 0x%" PRIx64 ")\n",
			(f->first_under_iova - got->iova) >> got->pgshift, f->first_under_iova);
	if (f->over)
		fprintf(o, "    first over-reported bit %" PRIu64 " (iova 0x%" PRIx64 ")\n",
			(f->first_over_iova - got->iova) >> got->pgshift, f->first_over_iova);
	rp_print_bits(o, "expected", f->expected);
	rp_print_bits(o, "got     ", got);
}

static void deliver(struct ims_tb *r, struct ims_tb_failure *f, const struct ims_event *ev,
		    const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->st.validation_failures++;
	f->file = ev ? rp_file(r, ev) : r->wfile;
	f->line = rp_line(r, ev);
	f->message = msg;
	if (r->o.on_failure)
		r->o.on_failure(r->o.on_failure_arg, f);
	else
		ims_tb_print_failure(rp_diag(r), f);
}

__attribute__((format(printf, 4, 5))) void rp_fail(struct ims_tb *r, const struct ims_event *ev,
						   enum ims_tb_failure_kind kind, const char *fmt,
						   ...)
{
	struct ims_tb_failure f = {.kind = kind};
	va_list ap;
	va_start(ap, fmt);
	deliver(r, &f, ev, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 7, 8))) void
rp_dirty_read_fail(struct ims_tb *r, const struct ims_event *ev, uint16_t tag,
		   const struct ims_bitmap *want, const struct ims_bitmap *got,
		   const struct ims_bitmap_diff *df, const char *fmt, ...)
{
	struct ims_tb_failure f = {
		.kind = IMS_TB_FAIL_DIRTY_READ,
		.domain = tag,
		.expected = want,
		.got = got,
		.expected_bits = ims_bitmap_count(want),
		.got_bits = ims_bitmap_count(got),
		.under = df->under,
		.over = df->over,
		.first_under_iova = df->under ? got->iova + (df->first_under << got->pgshift) : 0,
		.first_over_iova = df->over ? got->iova + (df->first_over << got->pgshift) : 0,
	};
	va_list ap;
	va_start(ap, fmt);
	deliver(r, &f, ev, fmt, ap);
	va_end(ap);
}

void rp_report_findings(struct ims_tb *r, const struct ims_event *ev)
{
	if (!r->finding_pending)
		return;
	r->st.walker_findings++;
	if (r->finding_pending > 1)
		rp_fail(r, ev, IMS_TB_FAIL_WALKER, "%s (and %u more)", r->finding,
			r->finding_pending - 1);
	else
		rp_fail(r, ev, IMS_TB_FAIL_WALKER, "%s", r->finding);
	r->finding_pending = 0;
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
	case -EUCLEAN:
		return "a corrupt page-table entry is in the way";
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
