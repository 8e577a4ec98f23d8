/* What a trace's record says beyond its counters (tools/replay.h): a
 * record per validation failure (its line, kind, message and, for a dirty
 * read, the expected and reported bits and the first IOVA where they
 * differ) and one per dirty read (harvest), so that a CI can name the line
 * that failed. The failures come from the testbench's failure callback
 * (iommusim/tb.h), which this file then prints as the default printer
 * would; the dirty reads from the counters, before and after each event.
 * Both lists keep their first RP_DETAIL_MAX records and count the rest,
 * so a record stays bounded whatever the trace. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/tb.h"
#include "tools/replay.h"

/* Bitmaps longer than this (hex digits) are left out of a failure record:
 * its counts and first differing IOVAs say where to look. */
#define HEX_MAX 256

struct rp_detail {
	struct ims_replay *rp;
	FILE *diag;
	FILE *fail; /* the failure records so far, comma-separated */
	char *fail_buf;
	size_t fail_len;
	uint64_t nfail, fail_omitted;
	FILE *harv;
	char *harv_buf;
	size_t harv_len;
	uint64_t nharv, harv_omitted;
	/* The event being applied, settled when the next one comes. */
	bool pending;
	struct ims_event ev;
	struct ims_replay_stats before;
};

static void json_bits(FILE *f, const char *key, const struct ims_bitmap *bm)
{
	char *hex = ims_bitmap_to_hex(bm);
	fprintf(f, ",\"%s\":", key);
	if (hex && strlen(hex) <= HEX_MAX)
		fprintf(f, "\"0x%s\"", hex);
	else
		fputs("null", f);
	free(hex);
}

static void on_failure(void *arg, const struct ims_tb_failure *x)
{
	struct rp_detail *d = arg;
	progress_clear(); /* a status line may stand where this goes */
	ims_tb_print_failure(d->diag, x);
	if (d->nfail >= RP_DETAIL_MAX || !d->fail) {
		d->fail_omitted++;
		return;
	}
	FILE *f = d->fail;
	fprintf(f, "%s{\"line\":%" PRIu64 ",\"kind\":\"%s\",\"message\":", d->nfail ? "," : "",
		x->line, ims_tb_failure_kind_name(x->kind));
	json_string(f, x->message);
	if (x->kind == IMS_TB_FAIL_DIRTY_READ) {
		const struct ims_bitmap *g = x->got;
		fprintf(f, ",\"domain\":%u,\"iova\":\"0x%" PRIx64 "\",\"size\":\"0x%" PRIx64
			   "\",\"page_size\":%llu",
			x->domain, g->iova, g->length, 1ull << g->pgshift);
		json_bits(f, "expected", x->expected);
		json_bits(f, "got", g);
		fprintf(f, ",\"expected_bits\":%" PRIu64 ",\"got_bits\":%" PRIu64
			   ",\"under\":%" PRIu64 ",\"over\":%" PRIu64,
			x->expected_bits, x->got_bits, x->under, x->over);
		/* The first IOVA where they differ, and each side's first. */
		uint64_t first = x->under && x->over
					 ? (x->first_under_iova < x->first_over_iova ? x->first_under_iova
										      : x->first_over_iova)
				 : x->under ? x->first_under_iova
					    : x->first_over_iova;
		if (x->under || x->over)
			fprintf(f, ",\"first_diff_iova\":\"0x%" PRIx64 "\"", first);
		if (x->under)
			fprintf(f, ",\"first_under_iova\":\"0x%" PRIx64 "\"", x->first_under_iova);
		if (x->over)
			fprintf(f, ",\"first_over_iova\":\"0x%" PRIx64 "\"", x->first_over_iova);
	}
	fputc('}', f);
	d->nfail++;
}

struct rp_detail *rp_detail_new(struct ims_replay *rp, FILE *diag)
{
	struct rp_detail *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->rp = rp;
	d->diag = diag ? diag : stderr;
	d->fail = open_memstream(&d->fail_buf, &d->fail_len);
	d->harv = open_memstream(&d->harv_buf, &d->harv_len);
	if (!d->fail || !d->harv) {
		rp_detail_free(d);
		return NULL;
	}
	ims_tb_set_failure_cb(ims_replay_tb(rp), on_failure, d);
	return d;
}

/* The event before: a dirty read when it counted one. */
static void settle(struct rp_detail *d)
{
	if (!d->pending)
		return;
	d->pending = false;
	const struct ims_replay_stats *s = ims_replay_stats(d->rp);
	uint64_t n = s->harvests - d->before.harvests;
	if (!n)
		return;
	if (d->nharv >= RP_DETAIL_MAX) {
		d->harv_omitted += n;
		return;
	}
	const struct ims_event *ev = &d->ev;
	FILE *f = d->harv;
	fprintf(f, "%s{\"line\":%" PRIu64 ",\"op\":\"%s\"", d->nharv ? "," : "", ev->line,
		ims_op_name(ev->op));
	if (ims_ev_has(ev, IMS_K_DOMAIN))
		fprintf(f, ",\"domain\":%" PRIu64, ev->v[IMS_K_DOMAIN]);
	if (ims_ev_has(ev, IMS_K_IOVA))
		fprintf(f, ",\"iova\":\"0x%" PRIx64 "\"", ev->v[IMS_K_IOVA]);
	/* Several reads in one event (a migration sync) are one record. */
	fprintf(f, ",\"reads\":%" PRIu64 ",\"bits_reported\":%" PRIu64 ",\"bits_expected\":%" PRIu64
		   ",\"match\":%s}",
		n, s->bits_reported - d->before.bits_reported,
		s->bits_expected - d->before.bits_expected,
		s->harvest_mismatches == d->before.harvest_mismatches ? "true" : "false");
	d->nharv++;
}

void rp_detail_event(struct rp_detail *d, const struct ims_event *ev)
{
	settle(d);
	/* Only ops that may read dirty state are watched: a dma (most of any
	 * trace) never does. */
	if (ev->op == IMS_OP_DMA)
		return;
	d->pending = true;
	d->ev = *ev;
	d->ev.expect_hex = NULL;
	d->before = *ims_replay_stats(d->rp);
}

void rp_detail_end(struct rp_detail *d)
{
	settle(d);
}

void rp_detail_json(struct rp_detail *d, FILE *f)
{
	fflush(d->fail);
	fflush(d->harv);
	fputs(",\"failures\":[", f);
	if (d->fail_buf)
		fwrite(d->fail_buf, 1, d->fail_len, f);
	fprintf(f, "],\"failures_omitted\":%" PRIu64 ",\"harvests\":[", d->fail_omitted);
	if (d->harv_buf)
		fwrite(d->harv_buf, 1, d->harv_len, f);
	fprintf(f, "],\"harvests_omitted\":%" PRIu64, d->harv_omitted);
}

void rp_detail_free(struct rp_detail *d)
{
	if (!d)
		return;
	if (d->fail)
		fclose(d->fail);
	if (d->harv)
		fclose(d->harv);
	free(d->fail_buf);
	free(d->harv_buf);
	free(d);
}
