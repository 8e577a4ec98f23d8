/* `iommusim trace stat`: events per op, the IOVA footprint (distinct 4 KiB
 * pages mapped and accessed) and bytes per event of one trace, streamed. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iommusim/tracebin.h"
#include "tools/cmd.h"
#include "tools/opts.h"

enum { O_JSON = OPT_FIRST_FREE + 100 };

/* Distinct 4 KiB pages, as intervals of page numbers: a map or a dma adds
 * one (or widens the last), so the set grows with the events, 16 bytes at
 * most each, never with the size of a range. When the intervals have
 * doubled since they were last merged they are sorted and merged in place;
 * the count is the merged set's, exact. */
struct span {
	uint64_t first, last; /* page numbers, inclusive */
};

struct pageset {
	struct span *v;
	size_t n, cap;
	size_t merged; /* how many the last merge left */
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

static void ps_merge(struct pageset *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), span_cmp);
	size_t k = 0;
	for (size_t i = 1; i < s->n; i++) {
		/* Page numbers stay below 2^52: last + 1 does not wrap. */
		if (s->v[i].first <= s->v[k].last + 1) {
			if (s->v[i].last > s->v[k].last)
				s->v[k].last = s->v[i].last;
		} else {
			s->v[++k] = s->v[i];
		}
	}
	s->n = s->merged = k + 1;
}

static int ps_add(struct pageset *s, uint64_t iova, uint64_t len)
{
	if (!len)
		return 0;
	uint64_t first = iova >> 12, last = (iova + (len - 1)) >> 12;
	if (iova + (len - 1) < iova)
		last = UINT64_MAX >> 12;
	struct span *t = s->n ? &s->v[s->n - 1] : NULL;
	if (t && first <= t->last + 1 && last + 1 >= t->first) {
		/* Touching the last one (a sequential trace): their union. */
		if (first < t->first)
			t->first = first;
		if (last > t->last)
			t->last = last;
		return 0;
	}
	if (s->n == s->cap && s->n >= 2 * s->merged + 1024)
		ps_merge(s);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct span *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct span){first, last};
	return 0;
}

static uint64_t ps_pages(struct pageset *s)
{
	ps_merge(s);
	uint64_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].last - s->v[i].first + 1;
	return n;
}

int trace_stat(int argc, char **argv)
{
	static const struct option sopts[] = {
		{"json", required_argument, 0, O_JSON},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *json = NULL;
	bool quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qvh", sopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
			json = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			quiet = false;
			break;
		case 'h':
			help_trace(stdout);
			return 0;
		default:
			return opt_unknown("trace stat", argv, "qvh", sopts);
		}
	}
	int i = optind;
	if (json && i == argc) {
		/* The spelling before --json took a file: `stat --json IN`. */
		fprintf(stderr, "iommusim trace stat: note: --json takes a file now; `--json %s` "
			"is read as `--json - %s` (say that: the old spelling will go)\n", json, json);
		argv[--i] = (char *)json;
		json = "-";
	}
	if (i + 1 != argc) {
		fprintf(stderr, "iommusim trace: stat takes one trace (see iommusim help trace)\n");
		return 2;
	}
	const char *in = argv[i];
	char err[1024];
	struct ims_reader *rd;
	if (ims_reader_open(in, &rd, err, sizeof(err))) {
		fprintf(stderr, "iommusim trace stat: %s\n", err);
		return 2;
	}
	uint64_t ops[IMS_OP_COUNT] = {0}, events = 0, lo = UINT64_MAX, hi = 0;
	uint64_t ts_first = 0, ts_last = 0;
	bool have_ts = false;
	struct pageset mapped = {0}, accessed = {0};
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(rd, &ev)) == 1) {
		events++;
		ops[ev.op]++;
		if (ev.has_ts) {
			if (!have_ts)
				ts_first = ev.ts;
			have_ts = true;
			ts_last = ev.ts;
		}
		struct pageset *ps = NULL;
		uint64_t len = 0;
		if (ev.op == IMS_OP_MAP) {
			ps = &mapped;
			len = ev.v[IMS_K_SIZE];
		} else if (ev.op == IMS_OP_DMA) {
			ps = &accessed;
			len = ev.v[IMS_K_LEN];
		} else if (ev.op == IMS_OP_EXPECT_PA) {
			ps = &accessed;
			len = 1;
		}
		if (!ps)
			continue;
		uint64_t a = ev.v[IMS_K_IOVA];
		if (a < lo)
			lo = a;
		if (a + (len - 1) > hi)
			hi = a + (len - 1);
		if (ps_add(ps, a, len)) {
			fprintf(stderr, "iommusim trace stat: %s: out of memory after %" PRIu64
				" events\n", in, events);
			rc = -ENOMEM;
			break;
		}
	}
	if (rc < 0) {
		if (rc != -ENOMEM)
			fprintf(stderr, "%s\n", ims_reader_error(rd));
		ims_reader_close(rd);
		free(mapped.v);
		free(accessed.v);
		return 2;
	}
	bool bin = ims_reader_is_binary(rd);
	uint64_t bytes = ims_reader_bytes(rd);
	uint64_t pages_mapped = ps_pages(&mapped), pages_accessed = ps_pages(&accessed);
	ims_reader_close(rd);
	double bpe = events ? (double)bytes / (double)events : 0.0;
	int ret = 0;
	if (json) {
		struct outfile jf;
		if (outfile_open(&jf, json)) {
			ret = 2;
		} else {
			FILE *f = jf.f;
			json_head_ok(f, "trace stat");
			fputs(",\"file\":", f);
			json_string(f, in);
			fprintf(f, ",\"form\":\"%s\",\"events\":%" PRIu64 ",\"ops\":{",
				bin ? "binary" : "text", events);
			bool first = true;
			for (int k = 0; k < IMS_OP_COUNT; k++) {
				if (!ops[k])
					continue;
				fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
					ims_op_name((enum ims_op)k), ops[k]);
				first = false;
			}
			fprintf(f, "},\"pages_mapped\":%" PRIu64 ",\"pages_accessed\":%" PRIu64,
				pages_mapped, pages_accessed);
			if (lo <= hi)
				fprintf(f, ",\"iova_min\":\"0x%" PRIx64 "\",\"iova_max\":\"0x%" PRIx64 "\"",
					lo, hi);
			if (have_ts)
				fprintf(f, ",\"ts_first\":%" PRIu64 ",\"ts_last\":%" PRIu64, ts_first,
					ts_last);
			fprintf(f, ",\"bytes\":%" PRIu64 ",\"bytes_per_event\":%.3f}\n", bytes, bpe);
			if (outfile_commit(&jf))
				ret = 2;
		}
	}
	/* The text, unless standard output is the JSON's or -q: numbers for
	 * people (the JSON has them exact). */
	if (!quiet && !(json && !strcmp(json, "-"))) {
		char a[32], b[32];
		printf("%s: %s trace, %s events\n", in, bin ? "binary" : "text",
		       human_count(events, a, sizeof(a)));
		for (int k = 0; k < IMS_OP_COUNT; k++)
			if (ops[k])
				printf("  %-18s %s\n", ims_op_name((enum ims_op)k),
				       human_count(ops[k], a, sizeof(a)));
		printf("  pages mapped       %s (4 KiB, distinct: %s)\n",
		       human_count(pages_mapped, a, sizeof(a)),
		       human_bytes(pages_mapped >> 52 ? UINT64_MAX : pages_mapped << 12, b, sizeof(b)));
		printf("  pages accessed     %s (4 KiB, distinct: %s; dma and expect pa)\n",
		       human_count(pages_accessed, a, sizeof(a)),
		       human_bytes(pages_accessed >> 52 ? UINT64_MAX : pages_accessed << 12, b, sizeof(b)));
		if (lo <= hi)
			printf("  iova range         0x%" PRIx64 " .. 0x%" PRIx64 "\n", lo, hi);
		if (have_ts)
			printf("  time               @%" PRIu64 " .. @%" PRIu64 " ns (%s)\n", ts_first,
			       ts_last, human_seconds((double)(ts_last - ts_first) / 1e9, a, sizeof(a)));
		printf("  bytes              %s (%.2f per event%s)\n", human_bytes(bytes, a, sizeof(a)),
		       bpe, bin ? ", compressed" : "");
	}
	free(mapped.v);
	free(accessed.v);
	return ret;
}
