/* iommusim trace: import captured logs, convert between the text and
 * binary forms, and summarise a trace. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iommusim/import.h"
#include "iommusim/tracebin.h"
#include "tools/cmd.h"
#include "tools/interval.h"
#include "tools/opts.h"

void help_trace(FILE *f)
{
	fprintf(f,
		"usage: iommusim trace import --from SOURCE [OPTIONS] IN -o OUT\n"
		"       iommusim trace convert [--to text|binary] [OPTIONS] IN (OUT | -o OUT)\n"
		"       iommusim trace stat [--json FILE] [-q|-v] IN\n"
		"\n"
		"import: read a captured log and write a trace that `iommusim replay` runs\n"
		"(docs/importers.md says what each source gives and what is assumed).\n"
		"  --from qemu-vtd|qemu-amdvi|qemu-smmuv3|ftrace\n"
		"  -o, --out OUT         the trace ('-' = stdout); written atomically\n"
		"  --binary              write the binary form (docs/trace-binary.md)\n"
		"  --harvest-every N     a harvest of every tracked domain after every N\n"
		"                        accesses and at the end (track on at the start)\n"
		"  --harvest-every Tms   ... at every T of log time instead (ns, us, ms, s),\n"
		"                        as a VMM's dirty sync runs; needs timestamps\n"
		"  --lenient             skip and count malformed lines of known events\n"
		"  --assume KIND=ACC     the access assumed for KIND: to-device, from-device,\n"
		"                        bidirectional, coherent, unknown; ACC: r, w, rw, none\n"
		"                        (defaults r, w, w, w, w)\n"
		"  --map-prot r|w|rw     permission of mappings the log gives none for\n"
		"                        (qemu-amdvi; default rw)\n"
		"  --expect-pa first|all|none  check QEMU's translations (default first)\n"
		"  --no-timestamps       write no @ns timestamps\n"
		"  --access-at map|unmap ftrace: when a mapping's assumed access happens\n"
		"                        (default map: as soon as its direction is known)\n"
		"  --access-len N        bytes of an access of unknown length (default 8)\n"
		"  --guest FTRACE        QEMU sources: the guest's ftrace of the same run gives\n"
		"                        the mappings, QEMU the accesses\n"
		"  --levels N, --ias N   geometry where the log does not state it\n"
		"  --format F            ftrace: amdv1, vtd, smmuv3, vtd-fs, amdv2 or\n"
		"                        smmuv3-s2 (default: from the driver's map_pages\n"
		"                        events)\n"
		"  --dev BB:DD.F         ftrace: the device (default: from the log, else 0)\n"
		"  --domain N            the domain id where the log names none (default 1)\n"
		"  --json FILE           write the import summary as one JSON object ('-' =\n"
		"                        stdout, which then holds the JSON alone)\n"
		"  --max-output N        the most trace events an import writes (K/M/G\n"
		"                        suffixes; default 16M); past it the import stops,\n"
		"                        exit 2, and OUT is not written (docs/limits.md)\n"
		"  -q, --quiet           no summary on stderr (-v: the summary, the default)\n"
		"\n"
		"convert: text -> binary, or binary -> text (canonical lines).\n"
		"  -o, --out OUT         the output, instead of the second file name\n"
		"  -v, --verbose         say what was converted on stderr (-q: nothing, the\n"
		"                        default)\n"
		"  --to text|binary      force the output form (default: the other one)\n"
		"  --block-events N      events per binary block (default 16384)\n"
		"  --level N             deflate level 1..9 (default 9)\n"
		"  --json FILE           write what was converted (events, the form written)\n"
		"                        as one JSON object ('-' = stdout)\n"
		"\n"
		"stat: events per op, the IOVA footprint (distinct 4 KiB pages mapped and\n"
		"accessed, lowest and highest IOVA), bytes per event.\n"
		"  --json FILE           write the figures as one JSON object ('-' = stdout,\n"
		"                        which then holds the JSON alone)\n"
		"  -q, --quiet           no text (with --json FILE; -v: the text, the default)\n"
		"\n"
		"exit status: 0 done; 2 bad input or usage (FILE:LINE: what was expected,\n"
		"or FILE: byte N: what for binary traces).\n");
}

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
			if (ims_format_parse(optarg, strlen(optarg), &fm))
				return usage_err("--format: expected amdv1, vtd, smmuv3, vtd-fs, amdv2 or smmuv3-s2");
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

/* ---- stat ------------------------------------------------------------------------------ */

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

static int do_stat(int argc, char **argv)
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
	if (i + 1 != argc)
		return usage_err("stat takes one trace");
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
		struct out jf;
		if (out_open(&jf, json)) {
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
			if (out_commit(&jf))
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
		return do_stat(argc - 1, argv + 1);
	fprintf(stderr, "iommusim trace: unknown subcommand '%s' (expected import, convert or stat)\n",
		sub);
	return 2;
}
