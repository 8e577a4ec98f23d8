/* Importers never write a trace that replay refuses (docs/importers.md,
 * "What is refused"): every fixture log of tests/import, mutated one line
 * at a time (lines dropped, repeated and cut short, each number made bad,
 * out of range or huge, keys given twice with another value, times past
 * 2^64 ns) and imported with the geometry options at and past their
 * limits, either is refused with FILE:LINE (or, for an option, naming the
 * option) or writes a trace that replays without an input error. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommusim/import.h"
#include "test_stride.h"
#include "iommusim/replay.h"
#include "traces/import.h"

struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		ck_assert_ptr_nonnull(b->s);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static int ev_sink(void *arg, const struct ims_event *ev)
{
	char line[4096];
	size_t n = ims_event_format(ev, line, sizeof(line));
	ck_assert_uint_lt(n, sizeof(line));
	put(arg, line, n);
	put(arg, "\n", 1);
	return 0;
}

static char *slurp(const char *rel)
{
	char path[4096];
	const char *d = getenv("IMS_SRC");
	snprintf(path, sizeof(path), "%s/%s", d && *d ? d : ".", rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	struct buf b = {0};
	char chunk[4096];
	size_t got;
	put(&b, "", 0);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&b, chunk, got);
	fclose(f);
	return b.s;
}

/* The lines of a text (without their newlines). */
struct lines {
	char **v;
	size_t n;
};

static struct lines split_lines(const char *text)
{
	struct lines l = {0};
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		l.v = realloc(l.v, (l.n + 1) * sizeof(*l.v));
		ck_assert_ptr_nonnull(l.v);
		l.v[l.n] = strndup(p, n);
		ck_assert_ptr_nonnull(l.v[l.n]);
		l.n++;
		p += n + (nl ? 1 : 0);
	}
	return l;
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The log with line `at` replaced by `with` (NULL: dropped). */
static char *with_line(const struct lines *l, size_t at, const char *with, bool twice)
{
	struct buf b = {0};
	put(&b, "", 0);
	for (size_t i = 0; i < l->n; i++) {
		const char *s = i == at ? with : l->v[i];
		for (int k = 0; k < (i == at && twice ? 2 : 1) && s; k++) {
			puts_(&b, s);
			puts_(&b, "\n");
		}
	}
	return b.s;
}

struct tally {
	unsigned imports, refused, replayed, validation_failed;
};

struct src {
	const char *log;   /* tests/import/... */
	enum ims_import_from from;
	const char *guest; /* combining: the guest's log, or NULL */
	int format;        /* ftrace: --format, or -1 */
};

static const struct src srcs[] = {
	{"tests/import/qemu-vtd-new.log", IMS_FROM_QEMU_VTD, NULL, -1},
	{"tests/import/qemu-vtd-old.log", IMS_FROM_QEMU_VTD, NULL, -1},
	{"tests/import/qemu-amdvi-new.log", IMS_FROM_QEMU_AMDVI, NULL, -1},
	{"tests/import/qemu-amdvi-old.log", IMS_FROM_QEMU_AMDVI, NULL, -1},
	{"tests/import/qemu-smmuv3-new.log", IMS_FROM_QEMU_SMMUV3, NULL, -1},
	{"tests/import/qemu-smmuv3-old.log", IMS_FROM_QEMU_SMMUV3, NULL, -1},
	{"tests/import/qemu-smmuv3-nested.log", IMS_FROM_QEMU_SMMUV3, NULL, -1},
	{"tests/import/qemu-smmuv3-nested-asid-is-vmid.log", IMS_FROM_QEMU_SMMUV3, NULL, -1},
	{"tests/import/qemu-smmuv3-nested-shared-asid.log", IMS_FROM_QEMU_SMMUV3, NULL, -1},
	{"tests/import/ftrace-new.txt", IMS_FROM_FTRACE, NULL, -1},
	{"tests/import/ftrace-old.txt", IMS_FROM_FTRACE, NULL, -1},
	{"tests/import/ftrace-new.txt", IMS_FROM_FTRACE, NULL, IMS_FMT_SMMUV3},
	{"tests/import/combine-qemu-vtd.log", IMS_FROM_QEMU_VTD, "tests/import/combine-ftrace-vtd.txt",
	 -1},
};

static struct ims_import_opts opts_of(const struct src *s, const char *guest)
{
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	o.from = s->from;
	o.format = s->format;
	o.guest = guest;
	return o;
}

/* One import and, when it writes a trace, its replay. `guest_name` is the
 * file a refusal may name besides q.log; `opt` the option a refusal may
 * name instead of a line. */
static void check_one(struct tally *t, const struct ims_import_opts *o, const char *log,
		      const char *guest_name, const char *opt, const char *what)
{
	struct buf out = {0};
	put(&out, "", 0);
	struct ims_import_sink sink = {ev_sink, NULL, &out};
	struct ims_import_stats *st = calloc(1, sizeof(*st));
	ck_assert_ptr_nonnull(st);
	char err[1024] = "";
	int rc = ims_import_mem(o, "q.log", log, strlen(log), &sink, st, err, sizeof(err));
	free(st);
	t->imports++;
	if (rc) {
		ck_assert_msg(rc == -EINVAL || rc == -E2BIG, "%s: import returned %d (%s)\nlog:\n%s",
			      what, rc, err, log);
		/* FILE:LINE: of the log (or of the guest's), or the option. */
		const char *p = NULL;
		if (!strncmp(err, "q.log:", 6))
			p = err + 6;
		else if (guest_name && !strncmp(err, guest_name, strlen(guest_name)) &&
			 err[strlen(guest_name)] == ':')
			p = err + strlen(guest_name) + 1;
		bool line = p && isdigit((unsigned char)*p);
		while (line && isdigit((unsigned char)*p))
			p++;
		line = line && p[0] == ':' && p[1] == ' ';
		bool option = opt && !strncmp(err, opt, strlen(opt));
		ck_assert_msg(line || option, "%s: refused without FILE:LINE: '%s'\nlog:\n%s", what,
			      err, log);
		t->refused++;
		free(out.s);
		return;
	}
	struct ims_replay_opts ro;
	ims_replay_opts_default(&ro);
	ro.verbosity = 0;
	FILE *null = fopen("/dev/null", "w");
	ro.diag = null;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&ro, &r), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("imported.trace", out.s, out.n, 1, &rd), 0);
	int prc = ims_replay_run(r, rd);
	ck_assert_msg(prc == 0, "%s: the import was written, and replay refuses it: %s\nlog:\n%s"
		      "\ntrace:\n%s", what, ims_replay_error(r), log, out.s);
	t->replayed++;
	t->validation_failed += ims_replay_stats(r)->validation_failures != 0;
	ims_reader_close(rd);
	ims_replay_free(r);
	fclose(null);
	free(out.s);
}

/* Values a number of the log is replaced by: not numbers, past 64 bits,
 * and values at and past the widths of ids, addresses and sizes. */
static const char *const bad_values[] = {
	"0x",	"0xg1",	       "-1",	      "18446744073709551616", "0",
	"0xffff", "0x10000",   "0xffffffff", "0x100000000",	     "0x1000000000000",
	"0x8000000000000000",  "0xffffffffffffffff", "64", "53", "17",
};

static bool num_char(char c)
{
	return isxdigit((unsigned char)c) || c == 'x' || c == 'X';
}

static bool sep(char c)
{
	return c == ' ' || c == '\t' || c == '=' || c == ':' || c == ',' || c == '{' || c == '}' ||
	       c == '@' || c == '[' || c == ']' || c == '(' || c == ')';
}

/* Each line's mutations, applied to one line at a time. */
static void mutate_log(struct tally *t, const struct src *s, const char *text, bool guest_side)
{
	struct lines l = split_lines(text);
	char guest_path[] = "/tmp/ims-mutate-guest-XXXXXX";
	const char *fixed_guest = NULL;
	char *fixed = NULL;
	if (s->guest && guest_side) {
		int fd = mkstemp(guest_path);
		ck_assert_int_ge(fd, 0);
		close(fd);
		fixed = slurp(s->log); /* the QEMU side stays as it is */
	} else if (s->guest) {
		const char *d = getenv("IMS_SRC");
		static char gp[4096];
		snprintf(gp, sizeof(gp), "%s/%s", d && *d ? d : ".", s->guest);
		fixed_guest = gp;
	}
	for (size_t i = 0; i < l.n; i++) {
		const char *line = l.v[i];
		size_t len = strlen(line);
		/* Every variant of this line. */
		struct lines var = {0};
		char *x;
#define ADD(str)                                                                             \
	do {                                                                                  \
		var.v = realloc(var.v, (var.n + 1) * sizeof(*var.v));                         \
		ck_assert_ptr_nonnull(var.v);                                                 \
		var.v[var.n++] = (str);                                                       \
	} while (0)
		ADD(NULL); /* dropped */
		ADD(strdup(line)); /* repeated (below) */
		/* Cut short at every blank and in the middle. */
		for (size_t k = 1; k < len; k++)
			if (line[k] == ' ' && line[k - 1] != ' ')
				ADD(strndup(line, k));
		if (len > 1)
			ADD(strndup(line, len / 2));
		/* Each number-like piece made bad, and its key given twice. */
		for (size_t a = 0; a < len;) {
			while (a < len && sep(line[a]))
				a++;
			size_t b = a;
			bool digit = false, dot = false;
			while (b < len && !sep(line[b])) {
				digit |= isdigit((unsigned char)line[b]) != 0;
				dot |= line[b] == '.';
				b++;
			}
			bool num = digit && b > a;
			for (size_t k = a; num && k < b; k++)
				num = num_char(line[k]) || (line[k] == '.' && dot);
			if (num && dot) {
				/* A time: seconds past 2^64 ns. */
				if (asprintf(&x, "%.*s99999999999999999999.000001%s", (int)a, line,
					     line + b) > 0)
					ADD(x);
			} else if (num) {
				for (size_t v = 0; v < sizeof(bad_values) / sizeof(bad_values[0]); v++)
					if (asprintf(&x, "%.*s%s%s", (int)a, line, bad_values[v],
						     line + b) > 0)
						ADD(x);
				/* "key=V" / "key:V" / "key V": the pair again, another value. */
				size_t ks = a;
				if (ks >= 2 && (line[ks - 1] == '=' || line[ks - 1] == ':' ||
						line[ks - 1] == ' ')) {
					size_t ke = ks - 1, kb = ke;
					while (kb > 0 && !sep(line[kb - 1]))
						kb--;
					if (kb < ke && asprintf(&x, "%s %.*s%c0x7", line, (int)(ke - kb),
								line + kb, line[ke]) > 0)
						ADD(x);
				}
			}
			a = b;
		}
#undef ADD
		for (size_t v = 0; v < var.n; v++) {
			if (!test_sample(i, v)) {
				free(var.v[v]);
				continue;
			}
			char *log = with_line(&l, i, var.v[v], v == 1);
			char what[128];
			snprintf(what, sizeof(what), "%s%s line %zu, variant %zu", s->log,
				 guest_side ? " (guest)" : "", i + 1, v);
			struct ims_import_opts o;
			if (guest_side) {
				FILE *f = fopen(guest_path, "w");
				ck_assert_ptr_nonnull(f);
				fputs(log, f);
				fclose(f);
				o = opts_of(s, guest_path);
				check_one(t, &o, fixed, guest_path, NULL, what);
			} else {
				o = opts_of(s, fixed_guest);
				check_one(t, &o, log, fixed_guest, NULL, what);
			}
			free(log);
			free(var.v[v]);
		}
		free(var.v);
	}
	if (fixed) {
		unlink(guest_path);
		free(fixed);
	}
	free_lines(&l);
}

START_TEST(mutated_logs)
{
	struct tally t = {0};
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		char *text = slurp(srcs[i].log);
		mutate_log(&t, &srcs[i], text, false);
		free(text);
		if (srcs[i].guest) {
			text = slurp(srcs[i].guest);
			mutate_log(&t, &srcs[i], text, true);
			free(text);
		}
	}
	fprintf(stderr, "import mutations: %u imports, %u refused with FILE:LINE, %u replayed "
		"(%u of them failing validation, none refused)\n", t.imports, t.refused,
		t.replayed, t.validation_failed);
	/* Both outcomes happen, many times: the mutations reach the checks. */
	ck_assert_uint_gt(t.refused, 500);
	ck_assert_uint_gt(t.replayed, 500);
}
END_TEST

/* The geometry options, at and past what each format takes, on every
 * fixture log; the output budget at a count the log goes past. */
START_TEST(options)
{
	struct tally t = {0};
	static const unsigned ias[] = {16, 31, 32, 39, 48, 52, 53, 56, 63, 64};
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		const struct src *s = &srcs[i];
		char *text = slurp(s->log);
		char gp[4096] = "";
		if (s->guest) {
			const char *d = getenv("IMS_SRC");
			snprintf(gp, sizeof(gp), "%s/%s", d && *d ? d : ".", s->guest);
		}
		const char *guest = s->guest ? gp : NULL;
		for (size_t k = 0; k < sizeof(ias) / sizeof(ias[0]); k++) {
			struct ims_import_opts o = opts_of(s, guest);
			o.ias = ias[k];
			char what[128];
			snprintf(what, sizeof(what), "%s --ias %u", s->log, ias[k]);
			check_one(&t, &o, text, guest, "--ias ", what);
			for (int f = 0; s->from == IMS_FROM_FTRACE && f < IMS_FMT_COUNT; f++) {
				if (!strcmp(ims_format_name((enum ims_format)f), "?"))
					continue; /* a value no format has */
				o.format = f;
				snprintf(what, sizeof(what), "%s --format %d --ias %u", s->log, f,
					 ias[k]);
				check_one(&t, &o, text, guest, "--ias ", what);
			}
		}
		for (unsigned lv = 1; lv <= 6; lv++) {
			struct ims_import_opts o = opts_of(s, guest);
			o.levels = lv;
			char what[128];
			snprintf(what, sizeof(what), "%s --levels %u", s->log, lv);
			check_one(&t, &o, text, guest, "--levels ", what);
			for (int f = 0; s->from == IMS_FROM_FTRACE && f < IMS_FMT_COUNT; f++) {
				if (!strcmp(ims_format_name((enum ims_format)f), "?"))
					continue; /* a value no format has */
				o.format = f;
				snprintf(what, sizeof(what), "%s --format %d --levels %u", s->log, f, lv);
				check_one(&t, &o, text, guest, "--levels ", what);
			}
		}
		for (uint64_t every = 1; every <= 3; every++) {
			struct ims_import_opts o = opts_of(s, guest);
			o.harvest_every = every;
			check_one(&t, &o, text, guest, NULL, "--harvest-every");
			o.max_events = 5;
			char err[1024];
			struct buf out = {0};
			struct ims_import_sink sink = {ev_sink, NULL, &out};
			struct ims_import_stats st;
			int rc = ims_import_mem(&o, "q.log", text, strlen(text), &sink, &st, err,
						sizeof(err));
			ck_assert_msg(rc == -E2BIG, "%s: %d %s", s->log, rc, err);
			ck_assert_msg(strstr(err, "q.log:") == err &&
				      strstr(err, ": the trace would hold more than 5 events (the output "
					     "budget of an import, which --max-output raises; "
					     "docs/limits.md)"), "%s", err);
			/* Exactly the budget was written, no more. */
			size_t lines = 0;
			for (const char *p = out.s; p && *p; p++)
				lines += *p == '\n';
			ck_assert_uint_eq(lines, 5);
			free(out.s);
		}
		free(text);
	}
	fprintf(stderr, "import options: %u imports, %u refused naming the option or a line, %u "
		"replayed\n", t.imports, t.refused, t.replayed);
	ck_assert_uint_gt(t.refused, 50);
	ck_assert_uint_gt(t.replayed, 50);
}
END_TEST

/* Values wider than their fields, ranges past 2^64 and keys given twice
 * with two values: each refused at its line, naming what is wrong, where
 * the importers used to mask, wrap or pick one (docs/importers.md, "What
 * is refused"). */
struct refusal {
	enum ims_import_from from;
	const char *log;
	unsigned line;
	const char *want;
};

#define VTD_PAGE(sid, dom)                                                                    \
	"vtd_iotlb_page_update IOTLB page update sid " sid " iova 0x1000 pte 0x5003 domain " dom "\n"
#define VTD_XL "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x5000 mask 0xfff\n"
#define AMD_UPD(dom) "amdvi_cache_update update iotlb domid " dom " devid 0000:00:04.0 gpa 0x1000 hpa 0x5000\n"
#define SMMU_XL(sid) "smmuv3_translate_success r sid=" sid " iova=0x1000 translated=0x5000 perm=0x3\n"
#define FT(ev, args) "  t-1 [000] .....  1.000000: " ev ": " args "\n"

static const struct refusal refusals[] = {
	{IMS_FROM_QEMU_VTD, VTD_PAGE("0x18", "0x10003") VTD_XL, 1, "domain 0x10003 is out of range (expected 0..0xffff)"},
	{IMS_FROM_QEMU_VTD, VTD_PAGE("0x10018", "0x3") VTD_XL, 1, "sid 0x10018 is out of range"},
	{IMS_FROM_QEMU_VTD, VTD_PAGE("0x18", "0x3") VTD_XL "vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x10003 addr 0x1000 mask 0x0\n", 3, "domain 0x10003 is out of range"},
	{IMS_FROM_QEMU_VTD, "vtd_inv_desc_iotlb_domain iotlb invalidate whole domain 0x10000\n", 1, "domain 0x10000 is out of range"},
	{IMS_FROM_QEMU_VTD, "vtd_dmar_fault sid 0x10000 fault 5 addr 0x1000 write 1\n", 1, "sid 0x10000 is out of range"},
	{IMS_FROM_QEMU_VTD, "vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x18 high 0x300 low 0x1 gen 0 -> gen 1\n", 1, "AW (high bits 2:0) is 1, 2 or 3"},
	{IMS_FROM_QEMU_VTD, "1@99999999999999999999.000001:" VTD_PAGE("0x18", "0x3"), 1, "expected a time (PID@SEC.USEC:) of at most 18446744072 seconds"},
	/* The same key twice: two values are refused, one value twice is read. */
	{IMS_FROM_QEMU_VTD, "vtd_iotlb_page_update IOTLB page update sid 0x18 iova 0x1000 pte 0x5003 domain 0x3 domain 0x4\n", 1, "vtd_iotlb_page_update: expected"},
	{IMS_FROM_QEMU_AMDVI, AMD_UPD("0x10007"), 1, "domid 0x10007 is out of range"},
	{IMS_FROM_QEMU_AMDVI, "amdvi_pages_inval AMD-Vi pages for domain 0x10007 invalidated\n", 1, "domain 0x10007 is out of range"},
	{IMS_FROM_QEMU_SMMUV3, "smmu_iotlb_lookup_miss IOTLB cache MISS asid=0x10002 vmid=-1 addr=0x1000\n", 1, "asid 0x10002 is out of range"},
	{IMS_FROM_QEMU_SMMUV3, "smmu_iotlb_insert IOTLB ++ asid=0x10002 vmid=-1 addr=0x1000 tg=1 level=3\n", 1, "asid 0x10002 is out of range"},
	{IMS_FROM_QEMU_SMMUV3, "smmu_iotlb_insert IOTLB ++ asid=2 vmid=-1 addr=0x1000 tg=1 level=4\n", 1, "level 0x4 is out of range (expected 0..0x3)"},
	{IMS_FROM_QEMU_SMMUV3, "smmu_iotlb_insert IOTLB ++ asid=2 vmid=-1 addr=0x1000 tg=5 level=3\n", 1, "tg 0x5 is out of range (expected 0..0x3)"},
	{IMS_FROM_QEMU_SMMUV3, SMMU_XL("0x100000000"), 1, "sid 0x100000000 is out of range (expected 0..0xffffffff)"},
	{IMS_FROM_QEMU_SMMUV3, "smmuv3_range_inval vmid=-1 asid=0x10002 addr=0x1000 tg=1 num_pages=0x1 ttl=3 leaf=1\n", 1, "asid 0x10002 is out of range"},
	{IMS_FROM_QEMU_SMMUV3, "smmuv3_range_inval vmid=-1 asid=2 addr=0x1000 tg=4 num_pages=0x1 ttl=3 leaf=1\n", 1, "tg 0x4 is out of range"},
	{IMS_FROM_QEMU_SMMUV3, "smmu_iotlb_inv_asid IOTLB invalidate asid=0x10002\n", 1, "asid 0x10002 is out of range"},
	{IMS_FROM_QEMU_SMMUV3, "smmuv3_translate_abort r sid=0x100000000 abort on iova:0x1000 is_write=1\n", 1, "sid 0x100000000 is out of range"},
	{IMS_FROM_QEMU_VTD, "pci_nvme_io_cmd cid 65536 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n", 1, "cid 0x10000 is out of range"},
	{IMS_FROM_QEMU_VTD, "pci_nvme_read cid 65537 nsid 1 nlb 1 count 512 lba 0x0\n", 1, "cid 0x10001 is out of range"},
	{IMS_FROM_QEMU_VTD, "pci_nvme_rw_cb cid 70000 blk 'd0'\n", 1, "cid 0x11170 is out of range"},
	{IMS_FROM_QEMU_VTD, "pci_nvme_map_prp trans_len 4096 len 4096 prp1 0x1000 prp2 0x2000 num_prps 0x2000000000000001\n", 1, "num_prps 0x2000000000000001 is out of range"},
	{IMS_FROM_QEMU_VTD, "pci_nvme_map_addr addr 0xfffffffffffff000 len 8192\n", 1, "a range addr + len that ends by 2^64"},
	{IMS_FROM_FTRACE, "  t-1 [000] .....  99999999999.000000: map: IOMMU: iova=0x1000 paddr=0x5000 size=4096\n", 1, "expected a time SECONDS.FRACTION of at most 18446744072 seconds"},
	{IMS_FROM_FTRACE, FT("intel_map_pages", "(intel_iommu_map_pages+0x0/0xe0) iova=0x1000 paddr=0x5000 pgsize=0x8000000000000000 pgcount=2 prot=0x3"), 1, "pgsize x pgcount from iova and paddr ending by 2^64"},
	{IMS_FROM_FTRACE, FT("map", "IOMMU: iova=0xfffffffffffff000 paddr=0x5000 size=8192"), 1, "a range address + size that ends by 2^64"},
	{IMS_FROM_FTRACE, FT("unmap", "IOMMU: iova=0xfffffffffffff000 size=8192 unmapped_size=8192"), 1, "a range address + size that ends by 2^64"},
	{IMS_FROM_FTRACE, FT("dma_map_page", "0000:00:03.0 dir=FROM_DEVICE dma_addr=fffffffffffff800 size=4096 phys_addr=5800 attrs="), 1, "a range address + size that ends by 2^64"},
	{IMS_FROM_FTRACE, FT("dma_map_sg", "0000:00:03.0 dir=TO_DEVICE dma_addrs={0xfffffffffffff000} sizes={8192} phys_addrs={0x5000} attrs="), 1, "a range address + size that ends by 2^64"},
	{IMS_FROM_FTRACE, FT("dma_sync_single_for_cpu", "0000:00:03.0 dir=FROM_DEVICE dma_addr=fffffffffffff000 size=8192"), 1, "a range address + size that ends by 2^64"},
	{IMS_FROM_FTRACE, FT("dma_map_sg", "0000:00:03.0 dir=TO_DEVICE dma_addrs={0x1000,0xzz} sizes={4096,4096} phys_addrs={0x5000,0x6000} attrs="), 1, "lists {0x...,...} of numbers"},
	{IMS_FROM_FTRACE, FT("map", "IOMMU: iova=0x1000 paddr=0x5000 size=4096 size=8192"), 1, "map: expected"},
};

START_TEST(values_out_of_range)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct ims_import_opts o;
		ims_import_opts_default(&o);
		o.from = r->from;
		struct buf out = {0};
		struct ims_import_sink sink = {ev_sink, NULL, &out};
		struct ims_import_stats st;
		char err[1024] = "", at[32];
		int rc = ims_import_mem(&o, "q.log", r->log, strlen(r->log), &sink, &st, err,
					sizeof(err));
		snprintf(at, sizeof(at), "q.log:%u: ", r->line);
		ck_assert_msg(rc == -EINVAL && !strncmp(err, at, strlen(at)) && strstr(err, r->want),
			      "case %zu: rc %d, '%s'; want %s... %s\nlog:\n%s", i, rc, err, at, r->want,
			      r->log);
		free(out.s);
		/* --lenient skips the line instead. */
		o.lenient = true;
		out = (struct buf){0};
		rc = ims_import_mem(&o, "q.log", r->log, strlen(r->log), &sink, &st, err, sizeof(err));
		ck_assert_msg(rc == 0 && st.malformed >= 1, "case %zu, --lenient: rc %d, %" PRIu64
			      " malformed, '%s'", i, rc, st.malformed, err);
		free(out.s);
	}
	/* One value twice is what the log meant. */
	static const char same[] = VTD_PAGE("0x18", "0x3 domain 0x3") VTD_XL;
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	o.from = IMS_FROM_QEMU_VTD;
	struct buf out = {0};
	struct ims_import_sink sink = {ev_sink, NULL, &out};
	struct ims_import_stats st;
	char err[1024];
	ck_assert_int_eq(ims_import_mem(&o, "q.log", same, strlen(same), &sink, &st, err,
					sizeof(err)), 0);
	ck_assert_msg(strstr(out.s, "attach dev=0x18 domain=3\n"), "%s", out.s);
	free(out.s);
}
END_TEST

/* AMD: the domain of every device the log fills the IOTLB for, however
 * many there are (a table of 16 forgot the 17th on). */
START_TEST(amd_many_devices)
{
	struct buf log = {0};
	put(&log, "", 0);
	for (unsigned d = 0; d < 40; d++) {
		char line[256];
		snprintf(line, sizeof(line), "amdvi_cache_update update iotlb domid 0x%x devid "
			 "0000:%02x:00.0 gpa 0x%x000 hpa 0x5000\n", 100 + d, d, d + 1);
		puts_(&log, line);
	}
	for (unsigned d = 0; d < 40; d++) {
		char line[256];
		snprintf(line, sizeof(line), "amdvi_translation_result devid 0000:%02x:00.0 gpa "
			 "0x%x000 hpa 0x5000\n", d, d + 1);
		puts_(&log, line);
	}
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	o.from = IMS_FROM_QEMU_AMDVI;
	struct buf out = {0};
	struct ims_import_sink sink = {ev_sink, NULL, &out};
	struct ims_import_stats st;
	char err[1024];
	ck_assert_msg(ims_import_mem(&o, "q.log", log.s, log.n, &sink, &st, err, sizeof(err)) == 0,
		      "%s", err);
	for (unsigned d = 0; d < 40; d++) {
		char want[64];
		snprintf(want, sizeof(want), "attach dev=0x%x domain=%u\n", d << 8, 100 + d);
		ck_assert_msg(strstr(out.s, want), "no '%s' in:\n%s", want, out.s);
	}
	free(out.s);
	free(log.s);
}
END_TEST

/* The emitter's own check, behind the importers': an event the trace
 * reader would refuse is never written, and the line is named. */
START_TEST(emitter_checks_each_event)
{
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	struct buf out = {0};
	put(&out, "", 0);
	struct ims_import_sink sink = {ev_sink, NULL, &out};
	struct ims_import_stats st = {0};
	char err[512] = "";
	struct imp m;
	ck_assert_int_eq(imp_init(&m, &o, &sink, &st, "x.log", err, sizeof(err)), 0);
	imp_at(&m, "x.log", 7);
	ck_assert_int_eq(imp_attach(&m, 0x18, 3), 0);
	size_t before = out.n;
	ck_assert_int_eq(imp_dma_raw(&m, 0x18, UINT64_MAX - 10, 100, DIR_W), -EINVAL);
	ck_assert_str_eq(err, "x.log:7: the dma this line makes would not replay: range iova+len "
			      "wraps past 2^64");
	ck_assert_uint_eq(out.n, before);
	/* And the import stops there. */
	ck_assert_int_eq(imp_flush(&m, 3), -EINVAL);
	imp_fini(&m);
	free(out.s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("import_mutate");
	TCase *tc = tcase_create("import_mutate");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, mutated_logs);
	tcase_add_test(tc, options);
	tcase_add_test(tc, values_out_of_range);
	tcase_add_test(tc, amd_many_devices);
	tcase_add_test(tc, emitter_checks_each_event);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
