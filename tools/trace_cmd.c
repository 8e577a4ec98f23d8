/* iommusim trace: import captured logs, convert between the text and
 * binary forms, and summarise a trace. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/format.h"
#include "iommusim/import.h"
#include "iommusim/tracebin.h"
#include "tools/cmd.h"
#include "tools/interval.h"
#include "tools/opts.h"

/* ---- outputs ------------------------------------------------------------------ */

/* The outputs are outfiles (tools/cmd.h): a temporary name renamed when
 * the run ends well; a path that exists and is not a regular file
 * (/dev/null, a FIFO) is written in place, since renaming over it would
 * replace the device. */
struct out {
	struct outfile of;
	FILE *f;
};

static int out_open(struct out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	if (outfile_open(&o->of, path))
		return -1;
	o->f = o->of.f;
	return 0;
}

static int out_commit(struct out *o)
{
	return outfile_commit(&o->of);
}

static void out_abort(struct out *o)
{
	outfile_abort(&o->of);
}

/* ---- writers ------------------------------------------------------------------- */

struct sink {
	bool binary;
	FILE *f;
	struct ims_binwriter *bw;
	char *buf;
	size_t cap;
	uint64_t events;
};

static int sink_event(void *arg, const struct ims_event *ev)
{
	struct sink *s = arg;
	s->events++;
	if (s->binary)
		return ims_binwriter_add(s->bw, ev);
	size_t n = ims_event_format(ev, s->buf, s->cap);
	if (n + 2 > s->cap) {
		size_t cap = s->cap;
		while (cap < n + 2)
			cap *= 2;
		char *nb = realloc(s->buf, cap);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = cap;
		ims_event_format(ev, s->buf, s->cap);
	}
	s->buf[n] = '\n';
	return fwrite(s->buf, 1, n + 1, s->f) == n + 1 ? 0 : errno ? -errno : -EIO;
}

static int sink_comment(void *arg, const char *text)
{
	struct sink *s = arg;
	if (s->binary)
		return 0;
	return fprintf(s->f, "# %s\n", text) < 0 ? errno ? -errno : -EIO : 0;
}

static int sink_open(struct sink *s, FILE *f, bool binary, const struct ims_binwriter_opts *bo)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->binary = binary;
	if (binary)
		return ims_binwriter_open(f, bo, &s->bw);
	s->cap = 4096;
	s->buf = malloc(s->cap);
	if (!s->buf)
		return -ENOMEM;
	return fputs("iommusim-trace 1\n", f) < 0 ? -EIO : 0;
}

static int sink_close(struct sink *s, struct ims_binwriter_stats *bst)
{
	int rc = 0;
	if (s->binary)
		rc = ims_binwriter_close(s->bw, bst);
	free(s->buf);
	s->bw = NULL;
	s->buf = NULL;
	return rc;
}

static void sink_abort(struct sink *s)
{
	if (s->bw)
		ims_binwriter_free(s->bw);
	free(s->buf);
	s->bw = NULL;
	s->buf = NULL;
}

/* What went wrong writing o: the first failed write's own error
 * (ENOSPC, EFBIG: the binary writer says only -EIO), else rc's. */
static const char *errtext(const struct out *o, int rc, char *buf, size_t len)
{
	int e = o->of.werr ? *o->of.werr : 0;
	if (e && (rc == -EIO || rc == -e))
		snprintf(buf, len, "write failed: %s", strerror(e));
	else
		snprintf(buf, len, "%s", rc == -ENOMEM ? "out of memory"
					 : rc == -EIO  ? "write failed"
						       : strerror(-rc));
	return buf;
}

/* ---- import ---------------------------------------------------------------------- */

enum {
	O_FROM = OPT_FIRST_FREE + 100,
	O_BINARY,
	O_HARVEST,
	O_LENIENT,
	O_ASSUME,
	O_MAP_PROT,
	O_EXPECT_PA,
	O_NO_TS,
	O_ACCESS_AT,
	O_ACCESS_LEN,
	O_GUEST,
	O_LEVELS,
	O_IAS,
	O_FORMAT,
	O_DEV,
	O_DOMAIN,
	O_JSON,
	O_TO,
	O_BLOCK,
	O_LEVEL,
	O_MAX_OUTPUT,
};

static int acc_parse(const char *s, unsigned *out)
{
	if (!strcmp(s, "r"))
		*out = IMS_ACC_R;
	else if (!strcmp(s, "w"))
		*out = IMS_ACC_W;
	else if (!strcmp(s, "rw"))
		*out = IMS_ACC_RW;
	else if (!strcmp(s, "none"))
		*out = 0;
	else
		return -1;
	return 0;
}

static const char *acc_name(unsigned a)
{
	return a == IMS_ACC_R ? "r" : a == IMS_ACC_W ? "w" : a == IMS_ACC_RW ? "rw" : "none";
}

static void print_summary(FILE *f, const char *in, const struct ims_import_stats *st,
			  const struct ims_import_opts *o)
{
	uint64_t total = 0;
	for (int i = 0; i < IMS_OP_COUNT; i++)
		total += st->ops[i];
	fprintf(f,
		"iommusim trace import: %s (--from %s): %" PRIu64 " lines: %" PRIu64
		" events read, %" PRIu64 " unknown events skipped, %" PRIu64
		" malformed skipped, %" PRIu64 " other lines\n",
		in, ims_import_from_name(o->from), st->lines, st->events, st->unknown, st->malformed,
		st->other);
	fprintf(f, "  wrote %" PRIu64 " trace events:", total);
	for (int i = 0; i < IMS_OP_COUNT; i++)
		if (st->ops[i])
			fprintf(f, " %s %" PRIu64, ims_op_name((enum ims_op)i), st->ops[i]);
	fputc('\n', f);
	fprintf(f,
		"  access directions: %" PRIu64 " from the log, %" PRIu64 " from read-only "
		"permissions, %" PRIu64 " assumed, %" PRIu64 " clipped to the mapping\n",
		st->dir_logged, st->dir_perm, st->dir_assumed, st->dir_clipped);
	fprintf(f,
		"  %" PRIu64 " remaps, %" PRIu64 " unmaps of never-mapped ranges, %" PRIu64
		" logged faults not reproduced%s",
		st->remaps, st->unmap_untracked, st->faults_skipped, o->guest ? "" : "\n");
	if (o->guest)
		fprintf(f, ", %" PRIu64 " guest events used\n", st->guest_events);
	if (st->n_unknown) {
		fprintf(f, "  unknown events:");
		for (unsigned i = 0; i < st->n_unknown; i++)
			fprintf(f, " %s %" PRIu64, st->unknown_names[i].name, st->unknown_names[i].n);
		fputc('\n', f);
	}
}

static void write_json(FILE *f, const char *in, const struct ims_import_stats *st,
		       const struct ims_import_opts *o)
{
	json_head_ok(f, "trace import");
	fputs(",\"file\":", f);
	json_string(f, in);
	fprintf(f, ",\"from\":\"%s\",\"lines\":%" PRIu64 ",\"events\":%" PRIu64
		   ",\"unknown\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"other\":%" PRIu64 ",\"ops\":{",
		ims_import_from_name(o->from), st->lines, st->events, st->unknown, st->malformed,
		st->other);
	bool first = true;
	for (int i = 0; i < IMS_OP_COUNT; i++) {
		if (!st->ops[i])
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", ims_op_name((enum ims_op)i),
			st->ops[i]);
		first = false;
	}
	fprintf(f,
		"},\"dir_logged\":%" PRIu64 ",\"dir_perm\":%" PRIu64 ",\"dir_assumed\":%" PRIu64
		",\"dir_clipped\":%" PRIu64 ",\"remaps\":%" PRIu64 ",\"unmap_untracked\":%" PRIu64
		",\"faults_skipped\":%" PRIu64 ",\"guest_events\":%" PRIu64 ",\"assume\":{",
		st->dir_logged, st->dir_perm, st->dir_assumed, st->dir_clipped, st->remaps,
		st->unmap_untracked, st->faults_skipped, st->guest_events);
	for (int i = 0; i < IMS_ASSUME_COUNT; i++)
		fprintf(f, "%s\"%s\":\"%s\"", i ? "," : "", ims_assume_name((enum ims_assume)i),
			acc_name(o->assume[i]));
	fprintf(f, "},\"known_events\":{");
	for (unsigned i = 0; i < st->n_known; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, st->known[i].name);
		fprintf(f, ":%" PRIu64, st->known[i].n);
	}
	fprintf(f, "},\"unknown_events\":{");
	for (unsigned i = 0; i < st->n_unknown; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, st->unknown_names[i].name);
		fprintf(f, ":%" PRIu64, st->unknown_names[i].n);
	}
	fprintf(f, "}}\n");
}

static int usage_err(const char *what)
{
	fprintf(stderr, "iommusim trace: %s (see iommusim help trace)\n", what);
	return 2;
}

static int do_import(int argc, char **argv)
{
	static const struct option lo[] = {
		{"from", required_argument, 0, O_FROM},
		{"out", required_argument, 0, 'o'},
		{"output", required_argument, 0, 'o'},
		{"binary", no_argument, 0, O_BINARY},
		{"harvest-every", required_argument, 0, O_HARVEST},
		{"lenient", no_argument, 0, O_LENIENT},
		{"assume", required_argument, 0, O_ASSUME},
		{"map-prot", required_argument, 0, O_MAP_PROT},
		{"expect-pa", required_argument, 0, O_EXPECT_PA},
		{"no-timestamps", no_argument, 0, O_NO_TS},
		{"access-at", required_argument, 0, O_ACCESS_AT},
		{"access-len", required_argument, 0, O_ACCESS_LEN},
		{"guest", required_argument, 0, O_GUEST},
		{"levels", required_argument, 0, O_LEVELS},
		{"ias", required_argument, 0, O_IAS},
		{"format", required_argument, 0, O_FORMAT},
		{"dev", required_argument, 0, O_DEV},
		{"domain", required_argument, 0, O_DOMAIN},
		{"json", required_argument, 0, O_JSON},
		{"max-output", required_argument, 0, O_MAX_OUTPUT},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	const char *out = NULL, *json = NULL;
	bool binary = false, quiet = false, have_from = false;
	uint64_t v;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:qvh", lo, NULL)) != -1) {
		switch (c) {
		case O_FROM:
			if (ims_import_from_parse(optarg, &o.from))
				return usage_err("--from: expected qemu-vtd, qemu-amdvi, qemu-smmuv3 or ftrace");
			have_from = true;
			break;
		case 'o':
			out = optarg;
			break;
		case O_BINARY:
			binary = true;
			break;
		case O_HARVEST: {
			bool time;
			if (opt_interval("trace import", "--harvest-every", optarg, "accesses", &v,
					 &time))
				return 2;
			o.harvest_every = time ? 0 : v;
			o.harvest_every_ns = time ? v : 0;
			break;
		}
		case O_LENIENT:
			o.lenient = true;
			break;
		case O_ASSUME: {
			char *eq = strchr(optarg, '=');
			enum ims_assume k;
			unsigned acc;
			if (!eq)
				return usage_err("--assume: expected KIND=r|w|rw|none");
			*eq = '\0';
			if (ims_assume_parse(optarg, &k))
				return usage_err("--assume: KIND is to-device, from-device, bidirectional, "
						 "coherent or unknown");
			if (acc_parse(eq + 1, &acc))
				return usage_err("--assume: the access is r, w, rw or none");
			o.assume[k] = acc;
			break;
		}
		case O_MAP_PROT:
			if (acc_parse(optarg, &o.map_prot) || !o.map_prot)
				return usage_err("--map-prot: expected r, w or rw");
			break;
		case O_EXPECT_PA:
			if (!strcmp(optarg, "first"))
				o.expect_pa = IMS_EXPECT_PA_FIRST;
			else if (!strcmp(optarg, "all"))
				o.expect_pa = IMS_EXPECT_PA_ALL;
			else if (!strcmp(optarg, "none"))
				o.expect_pa = IMS_EXPECT_PA_NONE;
			else
				return usage_err("--expect-pa: expected first, all or none");
			break;
		case O_NO_TS:
			o.timestamps = false;
			break;
		case O_ACCESS_AT:
			if (!strcmp(optarg, "map"))
				o.access_at_unmap = false;
			else if (!strcmp(optarg, "unmap"))
				o.access_at_unmap = true;
			else
				return usage_err("--access-at: expected map or unmap");
			break;
		case O_ACCESS_LEN:
			if (opt_u64("trace import", "--access-len", optarg, true, &o.access_len))
				return 2;
			if (!o.access_len || o.access_len > IMS_PAGE_SIZE)
				return usage_err("--access-len: expected 1..4096");
			break;
		case O_GUEST:
			o.guest = optarg;
			break;
		case O_LEVELS:
			if (opt_u64("trace import", "--levels", optarg, false, &v))
				return 2;
			if (v < 1 || v > 6)
				return usage_err("--levels: expected 1..6");
			o.levels = (unsigned)v;
			break;
		case O_IAS:
			if (opt_u64("trace import", "--ias", optarg, false, &v))
				return 2;
			if (v < 16 || v > 64)
				return usage_err("--ias: expected 16..64");
			o.ias = (unsigned)v;
			break;
		case O_FORMAT: {
			enum ims_format fm;
			if (ims_format_parse(optarg, strlen(optarg), &fm)) {
				char names[128], what[192];
				snprintf(what, sizeof(what), "--format: expected one of %s",
					 fmt_name_list(names, sizeof(names)));
				return usage_err(what);
			}
			o.format = (int)fm;
			break;
		}
		case O_DEV: {
			uint64_t dev = 0;
			unsigned b, d, fn, seg = 0;
			char tail;
			if (sscanf(optarg, "%x:%x:%x.%x%c", &seg, &b, &d, &fn, &tail) == 4 ||
			    (seg = 0, sscanf(optarg, "%x:%x.%x%c", &b, &d, &fn, &tail) == 3)) {
				if (seg > 0xffff || b > 0xff || d > 0x1f || fn > 7)
					return usage_err("--dev: PCI address out of range");
				dev = (uint64_t)seg << 16 | b << 8 | d << 3 | fn;
			} else if (opt_u64("trace import", "--dev", optarg, false, &dev) ||
				   dev > UINT32_MAX) {
				return 2;
			}
			o.dev = (uint32_t)dev;
			o.dev_set = true;
			break;
		}
		case O_DOMAIN:
			if (opt_u64("trace import", "--domain", optarg, false, &v))
				return 2;
			if (v > 0xffff)
				return usage_err("--domain: expected 0..65535");
			o.domain = (uint16_t)v;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_MAX_OUTPUT:
			if (opt_u64("trace import", "--max-output", optarg, true, &o.max_events))
				return 2;
			if (!o.max_events)
				return usage_err("--max-output: expected at least 1 event");
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
			return opt_unknown("trace import", argv, "o:qvh", lo);
		}
	}
	if (!have_from)
		return usage_err("import needs --from");
	if (optind + 1 != argc)
		return usage_err("import takes one input file");
	if (!out)
		return usage_err("import needs -o OUT");
	if (o.guest && o.from == IMS_FROM_FTRACE)
		return usage_err("--guest combines a QEMU log with an ftrace; --from is the QEMU one");
	if (json && !strcmp(json, "-") && !strcmp(out, "-"))
		return usage_err("-o - and --json - both name standard output: one of them");
	const char *in = argv[optind];

	/* Both outputs are opened before the work and committed together at
	 * the end (tools/outputs.c): a --json that cannot be written is said
	 * at once, and never after the trace is in place. */
	struct out of, jf = {0};
	char why[160];
	if (out_open(&of, out))
		return 2;
	if (json && out_open(&jf, json)) {
		out_abort(&of);
		return 2;
	}
	struct sink s;
	int rc = sink_open(&s, of.f, binary, NULL);
	if (rc) {
		fprintf(stderr, "iommusim trace import: %s: %s\n", out, errtext(&of, rc, why, sizeof(why)));
		out_abort(&of);
		if (json)
			out_abort(&jf);
		return 2;
	}
	struct ims_import_sink is = {sink_event, sink_comment, &s};
	struct ims_import_stats *st = calloc(1, sizeof(*st));
	char err[1024];
	err[0] = '\0';
	if (!st) {
		fprintf(stderr, "iommusim trace import: %s: out of memory\n", in);
		sink_abort(&s);
		out_abort(&of);
		if (json)
			out_abort(&jf);
		return 2;
	}
	rc = ims_import(&o, in, &is, st, err, sizeof(err));
	if (rc) {
		if (err[0])
			fprintf(stderr, "%s\n", err);
		else
			fprintf(stderr, "iommusim trace import: %s: %s\n", out, errtext(&of, rc, why, sizeof(why)));
		sink_abort(&s);
		out_abort(&of);
		if (json)
			out_abort(&jf);
		free(st);
		return 2;
	}
	rc = sink_close(&s, NULL);
	if (rc) {
		fprintf(stderr, "iommusim trace import: %s: %s\n", out, errtext(&of, rc, why, sizeof(why)));
		out_abort(&of);
		if (json)
			out_abort(&jf);
		free(st);
		return 2;
	}
	if (out_commit(&of)) {
		if (json)
			out_abort(&jf);
		free(st);
		return 2;
	}
	if (!quiet)
		print_summary(stderr, in, st, &o);
	int ret = 0;
	if (json) {
		write_json(jf.f, in, st, &o);
		if (out_commit(&jf))
			ret = 2;
	}
	free(st);
	return ret;
}

/* ---- convert ------------------------------------------------------------------------ */

static int do_convert(int argc, char **argv)
{
	static const struct option lo[] = {
		{"to", required_argument, 0, O_TO},
		{"block-events", required_argument, 0, O_BLOCK},
		{"level", required_argument, 0, O_LEVEL},
		{"json", required_argument, 0, O_JSON},
		{"out", required_argument, 0, 'o'},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *json = NULL, *out = NULL;
	bool verbose = false;
	int to = -1; /* 0 text, 1 binary */
	struct ims_binwriter_opts bo = {0, 0};
	uint64_t v;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:qvh", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'q':
			verbose = false;
			break;
		case 'v':
			verbose = true;
			break;
		case O_TO:
			if (!strcmp(optarg, "text"))
				to = 0;
			else if (!strcmp(optarg, "binary"))
				to = 1;
			else
				return usage_err("--to: expected text or binary");
			break;
		case O_BLOCK:
			if (opt_u64("trace convert", "--block-events", optarg, false, &v))
				return 2;
			if (!v || v > (1u << 24))
				return usage_err("--block-events: expected 1..16777216");
			bo.block_events = (unsigned)v;
			break;
		case O_LEVEL:
			if (opt_u64("trace convert", "--level", optarg, false, &v))
				return 2;
			if (v < 1 || v > 9)
				return usage_err("--level: expected 1..9");
			bo.level = (int)v;
			break;
		case O_JSON:
			json = optarg;
			break;
		case 'h':
			help_trace(stdout);
			return 0;
		default:
			return opt_unknown("trace convert", argv, "o:qvh", lo);
		}
	}
	if (optind + (out ? 1 : 2) != argc)
		return usage_err(out ? "convert takes IN (and OUT is -o's)" : "convert takes IN and OUT");
	const char *in = argv[optind];
	if (!out)
		out = argv[optind + 1];
	if (json && !strcmp(json, "-") && !strcmp(out, "-"))
		return usage_err("OUT - and --json - both name standard output: one of them");
	char err[1024];
	struct ims_reader *rd;
	if (ims_reader_open(in, &rd, err, sizeof(err))) {
		fprintf(stderr, "iommusim trace convert: %s\n", err);
		return 2;
	}
	bool binary = to >= 0 ? to == 1 : !ims_reader_is_binary(rd);
	/* Both outputs open before the work, committed together at the end. */
	struct out of, jf = {0};
	char why[160];
	if (out_open(&of, out)) {
		ims_reader_close(rd);
		return 2;
	}
	if (json && out_open(&jf, json)) {
		out_abort(&of);
		ims_reader_close(rd);
		return 2;
	}
	struct sink s;
	int rc = sink_open(&s, of.f, binary, &bo);
	struct ims_event ev;
	int ret = 0;
	if (rc) {
		fprintf(stderr, "iommusim trace convert: %s: %s\n", out, errtext(&of, rc, why, sizeof(why)));
		ret = 2;
	}
	while (!ret && (rc = ims_reader_next(rd, &ev)) == 1) {
		int w = sink_event(&s, &ev);
		if (w) {
			if (w == -EINVAL)
				fprintf(stderr, "%s:%" PRIu64 ": the binary form cannot hold this event\n",
					ims_reader_name(rd), ev.line);
			else
				fprintf(stderr, "iommusim trace convert: %s: %s\n", out, errtext(&of, w, why, sizeof(why)));
			ret = 2;
		}
	}
	if (!ret && rc < 0) {
		fprintf(stderr, "%s\n", ims_reader_error(rd));
		ret = 2;
	}
	ims_reader_close(rd);
	if (ret) {
		sink_abort(&s);
		out_abort(&of);
		if (json)
			out_abort(&jf);
		return ret;
	}
	uint64_t events = s.events;
	if ((rc = sink_close(&s, NULL))) {
		fprintf(stderr, "iommusim trace convert: %s: %s\n", out, errtext(&of, rc, why, sizeof(why)));
		out_abort(&of);
		if (json)
			out_abort(&jf);
		return 2;
	}
	if (out_commit(&of)) {
		if (json)
			out_abort(&jf);
		return 2;
	}
	if (verbose)
		fprintf(stderr, "iommusim trace convert: %s -> %s: %" PRIu64 " events, %s form\n", in, out,
			events, binary ? "binary" : "text");
	if (json) {
		json_head_ok(jf.f, "trace convert");
		fputs(",\"file\":", jf.f);
		json_string(jf.f, in);
		fputs(",\"out\":", jf.f);
		json_string(jf.f, out);
		fprintf(jf.f, ",\"form\":\"%s\",\"events\":%" PRIu64 "}\n", binary ? "binary" : "text",
			events);
		if (out_commit(&jf))
			return 2;
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 2)
		return usage_err("expected import, convert or stat");
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		help_trace(stdout);
		return 0;
	}
	if (!strcmp(sub, "import"))
		return do_import(argc - 1, argv + 1);
	if (!strcmp(sub, "convert"))
		return do_convert(argc - 1, argv + 1);
	if (!strcmp(sub, "stat"))
		return trace_stat(argc - 1, argv + 1);
	fprintf(stderr, "iommusim trace: unknown subcommand '%s' (expected import, convert or stat)\n",
		sub);
	return 2;
}
