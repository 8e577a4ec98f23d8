/* Helpers shared by the subcommands: atomic outputs, option values. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/cmd.h"
#include "tools/opts.h"

/* The command line's process state: a document was begun, standard output
 * was claimed for JSON, the last line said on standard error. A tool's
 * process runs one command, so these live as long as it. */
static bool json_begun;
static FILE *claimed;
#define TAP_LINES 20
static char tap_line[TAP_LINES][512];
static size_t tap_n, tap_len; /* complete lines kept; length of the one being written */
static FILE *real_stderr;
static bool progress_shown;

int outfile_open(struct outfile *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	if (!strcmp(path, "-")) {
		o->f = claimed ? claimed : stdout;
		return 0;
	}
	/* A device or a pipe (/dev/null, a FIFO) is written in place: a rename
	 * over it would replace the device with a file. */
	struct stat st;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		o->path = strdup(path);
		if (fd < 0 || !o->path || !(o->f = wstream_open(fd, &o->werr))) {
			fprintf(stderr, "iommusim: %s: %s\n", path, strerror(fd < 0 ? errno : ENOMEM));
			if (fd >= 0)
				close(fd);
			outfile_abort(o);
			outputs_failed();
			return -1;
		}
		return 0;
	}
	o->path = strdup(path);
	size_t n = strlen(path) + 16;
	o->tmp = malloc(n);
	if (!o->path || !o->tmp) {
		fprintf(stderr, "iommusim: %s: out of memory\n", path);
		outfile_abort(o);
		outputs_failed();
		return -1;
	}
	snprintf(o->tmp, n, "%s.tmpXXXXXX", path);
	int id;
	int fd = pend_mkstemp(o->tmp, path, &id);
	if (fd < 0) {
		fprintf(stderr, "iommusim: %s: %s\n", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		outfile_abort(o);
		outputs_failed();
		return -1;
	}
	o->pend = id + 1;
	/* mkstemp makes the file 0600; an output file gets what a plain
	 * create would give it. */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um)) {
		/* Only the permissions are off; the output is still right. */
	}
	o->f = wstream_open(fd, &o->werr);
	if (!o->f) {
		fprintf(stderr, "iommusim: %s: %s\n", path, strerror(ENOMEM));
		close(fd);
		outfile_abort(o);
		outputs_failed();
		return -1;
	}
	return 0;
}

int outfile_commit(struct outfile *o)
{
	if (o->f == stdout || (o->f && o->f == claimed))
		return stdout_write_failed(o->f) ? -1 : 0;
	/* A device written in place (/dev/full) says its error here too. */
	int e = wstream_close(o->f, o->werr);
	o->f = NULL;
	o->werr = NULL;
	if (e) {
		fprintf(stderr, "iommusim: %s: write failed: %s\n", o->path ? o->path : "output",
			strerror(-e));
		outfile_abort(o);
		outputs_failed();
		return -1;
	}
	/* Renamed into place at the end of the run (outputs_end). */
	int rc = pend_ready(o->pend - 1);
	if (rc) {
		fprintf(stderr, "iommusim: %s: %s\n", o->path, strerror(errno));
		outputs_failed();
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	o->pend = 0;
	return rc;
}

void outfile_abort(struct outfile *o)
{
	if (o->f && o->f != stdout && o->f != claimed)
		fclose(o->f);
	if (o->pend)
		pend_drop(o->pend - 1, true);
	else if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}

int opt_u64(const char *cmd, const char *opt, const char *s, bool size, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-') {
		fprintf(stderr, "iommusim %s: %s: '%s' is not a number\n", cmd, opt, s);
		return -1;
	}
	unsigned long long v = strtoull(s, &end, 0);
	if (errno == ERANGE) {
		fprintf(stderr, "iommusim %s: %s: '%s' does not fit in 64 bits\n", cmd, opt, s);
		return -1;
	}
	unsigned sh = 0;
	if (size && *end && !end[1]) {
		const char *suf = "KMGT";
		const char *p = strchr(suf, *end);
		if (p && *end) {
			sh = 10 * (unsigned)(p - suf + 1);
			end++;
		}
	}
	if (end == s || *end) {
		fprintf(stderr, "iommusim %s: %s: '%s' is not a number%s\n", cmd, opt, s,
			size ? " (decimal or 0x hex, optional K/M/G/T)" : " (decimal or 0x hex)");
		return -1;
	}
	if (sh && (v >> (64 - sh))) {
		fprintf(stderr, "iommusim %s: %s: '%s' does not fit in 64 bits\n", cmd, opt, s);
		return -1;
	}
	*out = (uint64_t)v << sh;
	return 0;
}

/* The dedicated model options are spellings of keys of the configuration
 * table (their aliases, which keep the options' meaning). */
static const struct {
	int opt;
	const char *key;
} model_flags[] = {
	{OPT_REPLICA, "replica"},
	{OPT_SEED, "seed"},
	{OPT_IOTLB_ENTRIES, "iotlb-entries"},
	{OPT_IOTLB_WAYS, "iotlb-ways"},
	{OPT_WC_ENTRIES, "walk-cache-entries"},
	{OPT_WC_WAYS, "walk-cache-ways"},
	{OPT_AMD_PDE_A, "amd-pde-accessed"},
	{OPT_DMA_PRIV, "dma-privileged"},
};
#define NFLAGS (sizeof(model_flags) / sizeof(model_flags[0]))

static int model_set(const char *arg, struct ims_iommu_cfg *cfg, char *msg, size_t len)
{
	const char *eq = strchr(arg, '=');
	char key[128], err[512];
	if (!eq || eq == arg) {
		snprintf(msg, len, "--set: expected KEY=VALUE, got '%s'", arg);
		return -1;
	}
	if ((size_t)(eq - arg) >= sizeof(key)) {
		snprintf(msg, len, "--set: unknown key '%.*s'", (int)(eq - arg), arg);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	int rc = ims_iommu_cfg_set(cfg, key, eq + 1, err, sizeof(err));
	if (rc == -ENOENT) {
		snprintf(msg, len, "--set: %s; iommusim help config lists the keys", err);
		return -1;
	}
	if (rc) {
		snprintf(msg, len, "--set: %s", err);
		return -1;
	}
	return 1;
}

int model_opt_msg(int opt, const char *arg, struct ims_iommu_cfg *cfg, char *msg, size_t len)
{
	char err[512];
	for (size_t i = 0; i < NFLAGS; i++) {
		if (model_flags[i].opt != opt)
			continue;
		/* A flag without a value turns its boolean on. */
		if (ims_iommu_cfg_set(cfg, model_flags[i].key, arg ? arg : "true", err, sizeof(err))) {
			snprintf(msg, len, "--%s", err);
			return -1;
		}
		return 1;
	}
	switch (opt) {
	case OPT_SET:
		return model_set(arg, cfg, msg, len);
	case OPT_CONFIG:
		if (ims_iommu_cfg_load(cfg, arg, err, sizeof(err))) {
			/* FILE:LINE:COL: as trace input errors. */
			snprintf(msg, len, "%s", err);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

int model_opt(const char *cmd, int opt, const char *arg, struct ims_iommu_cfg *cfg)
{
	char msg[1200];
	int rc = model_opt_msg(opt, arg, cfg, msg, sizeof(msg));
	if (rc < 0) {
		/* A configuration file's error names its own file and line. */
		if (opt == OPT_CONFIG)
			fprintf(stderr, "%s\n", msg);
		else
			fprintf(stderr, "iommusim %s: %s\n", cmd, msg);
	}
	return rc;
}

static const char *def(const char *key)
{
	const struct ims_cfg_key *k = ims_iommu_cfg_key((size_t)ims_iommu_cfg_key_find(key));
	return k && k->def ? k->def : "?";
}

void model_opts_help(FILE *f)
{
	fprintf(f,
		"model options (applied in order: one given after --config overrides the file):\n"
		"  --config FILE         model configuration (YAML: caches, latencies, model\n"
		"                        options, capabilities; see docs/timing.md)\n"
		"  --set KEY=VALUE       any model setting by its key, e.g. micro_tlb.enable=true\n"
		"                        (repeatable; iommusim help config lists the keys, their\n"
		"                        types and defaults)\n"
		"  --replica first|covering|random\n"
		"                        which entry of an AMD NextLevel=7 replica run or Arm\n"
		"                        contiguous group hardware updates (default %s)\n"
		"  --seed N              seed of the model's random choices (default %s)\n"
		"  --iotlb-entries N     IOTLB entries, 0 = no IOTLB (default %s)\n"
		"  --iotlb-ways N        IOTLB associativity (default %s)\n"
		"  --walk-cache-entries N  walk-cache entries per level, 0 = none (default %s)\n"
		"  --walk-cache-ways N   walk-cache associativity (default %s)\n"
		"  --amd-pde-accessed    AMD: hardware sets A in PDEs too (default %s)\n"
		"  --dma-privileged      SMMU: device accesses are privileged (default %s)\n",
		def("replica"), def("seed"), def("iotlb-entries"), def("iotlb-ways"),
		def("walk-cache-entries"), def("walk-cache-ways"), def("amd-pde-accessed"),
		def("dma-privileged"));
}

static void type_help(const struct ims_cfg_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case IMS_CFG_NUMBER:
		if (k->max == UINT64_MAX)
			snprintf(buf, len, "number (64 bits)");
		else
			snprintf(buf, len, "number 0..%llu", (unsigned long long)k->max);
		break;
	case IMS_CFG_BOOL:
		snprintf(buf, len, "true|false");
		break;
	case IMS_CFG_WAYS:
		snprintf(buf, len, "ways 1..%llu|full", (unsigned long long)k->max);
		break;
	case IMS_CFG_POLICY:
		snprintf(buf, len, "lru|round-robin|random");
		break;
	case IMS_CFG_REPLICA:
		snprintf(buf, len, "first|covering|random");
		break;
	}
}

/* A description on lines of at most 80 columns, indented by 6. */
static void wrap(FILE *f, const char *s)
{
	while (*s) {
		size_t n = strlen(s), cut = n;
		if (n > 74) {
			cut = 74;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (!cut)
				cut = 74;
		}
		fprintf(f, "      %.*s\n", (int)cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

void model_keys_help(FILE *f)
{
	fprintf(f,
		"Model settings. Each is a key of a --config file (nested as its name says:\n"
		"iotlb.entries is `iotlb: {entries: N}`), a --set KEY=VALUE option of replay,\n"
		"fuzz, migrate and conform, and a setting of a conformance case's model:.\n"
		"Older spellings are taken too. Numbers are decimal or 0x hex; N in\n"
		"walk_cache.levels.N is a level 0..%d (0: the leaf-level tables), whose block\n"
		"starts from the walk_cache block. docs/model-config.yaml holds the defaults.\n"
		"\n",
		IMS_WC_LEVELS - 1);
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const struct ims_cfg_key *k = ims_iommu_cfg_key(i);
		char type[64];
		type_help(k, type, sizeof(type));
		fprintf(f, "  %-28s %-24s default %s\n", k->name, type,
			k->def ? k->def : "(the walk_cache block)");
		wrap(f, k->desc);
		if (k->alias) {
			const char *flag = "";
			for (size_t j = 0; j < NFLAGS; j++)
				if (!strcmp(model_flags[j].key, k->alias))
					flag = k->alias;
			fprintf(f, "      also: %s%s%s%s\n", k->alias, *flag ? " (--" : "", flag,
				*flag ? ")" : "");
		}
		if (k->format >= 0)
			fprintf(f, "      format: %s\n", ims_format_name((enum ims_format)k->format));
	}
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* mkdir -p: every missing directory of dir; 0, or -1 with errno (ENOTDIR
 * when dir exists as something else). */
int mkdirs(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0777) && errno != EEXIST ? -1 : 0;
	free(p);
	struct stat st;
	if (!rc && (stat(dir, &st) || !S_ISDIR(st.st_mode))) {
		errno = ENOTDIR;
		rc = -1;
	}
	return rc;
}

/* ---- one JSON header, standard output as the JSON alone ------------------------ */


void json_head(FILE *f, const char *command)
{
	json_begun = true;
	fprintf(f, "{\"tool\":\"iommusim\",\"version\":\"%s\",\"command\":", IMS_VERSION_STRING);
	json_string(f, command);
}

/* The header of a document written only when the command succeeded. */
void json_head_ok(FILE *f, const char *command)
{
	json_head(f, command);
	fputs(",\"result\":\"pass\",\"exit\":0", f);
}

bool json_doc_written(void)
{
	return json_begun;
}

void json_error_doc(FILE *f, const char *command, int exit_status)
{
	const char *lines[TAP_LINES];
	size_t n = stderr_lines(lines, TAP_LINES);
	json_head(f, command);
	fprintf(f, ",\"result\":\"%s\",\"exit\":%d,\"error\":",
		exit_status == 2 ? "bad input" : exit_status ? "fail" : "pass", exit_status);
	json_string(f, n ? lines[0] : "(no message)");
	fputs(",\"messages\":[", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_string(f, lines[i]);
	}
	fputs("]}\n", f);
	fflush(f);
}

FILE *stdout_claim(void)
{
	if (claimed)
		return claimed;
	fflush(stdout);
	int fd = dup(STDOUT_FILENO);
	if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0 || !(claimed = fdopen(fd, "w"))) {
		fprintf(stderr, "iommusim: standard output: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return claimed;
}

FILE *stdout_claimed(void)
{
	return claimed;
}

/* Standard error through a cookie: each write goes to descriptor 2 at once
 * (unbuffered, as stderr is) and the first TAP_LINES lines are kept. */
static ssize_t tap_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(STDERR_FILENO, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	for (size_t i = 0; i < n && tap_n < TAP_LINES; i++) {
		char *l = tap_line[tap_n];
		if (buf[i] == '\n') {
			if (tap_len)
				tap_n++;
			tap_len = 0;
			continue;
		}
		if (tap_len + 1 < sizeof(tap_line[0])) {
			l[tap_len++] = buf[i];
			l[tap_len] = 0;
		}
	}
	return (ssize_t)n;
}

void stderr_tap(void)
{
	if (real_stderr)
		return;
	cookie_io_functions_t io = {.write = tap_write};
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	fflush(stderr);
	real_stderr = stderr;
	stderr = f;
}

size_t stderr_lines(const char **lines, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < TAP_LINES && n < max; i++)
		if (i < tap_n || (i == tap_n && tap_len))
			lines[n++] = tap_line[i];
	return n;
}

/* ---- unknown options ------------------------------------------------------------- */

/* Edits (insert, delete, substitute, swap two neighbours) from a to b. */
static size_t edits(const char *a, size_t na, const char *b, size_t nb)
{
	if (na > 64 || nb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= na; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[na][nb];
}

const char *opt_nearest(const char *word, const struct option *opts)
{
	size_t n = strcspn(word, "=");
	size_t limit = n / 3 > 2 ? n / 3 : 2, best = SIZE_MAX;
	const char *hit = NULL;
	for (const struct option *o = opts; o->name; o++) {
		size_t e = edits(word, n, o->name, strlen(o->name));
		if (e <= limit && e < best) {
			best = e;
			hit = o->name;
		}
	}
	return hit;
}

int opt_unknown(const char *cmd, char **argv, const char *shorts, const struct option *opts)
{
	const char *w = argv[optind - 1];
	char what[256];
	if (!strncmp(w, "--", 2) && w[2]) {
		const char *name = w + 2;
		size_t n = strcspn(name, "=");
		bool eq = name[n] == '=';
		const struct option *exact = NULL;
		size_t prefixed = 0;
		char cands[160] = "";
		for (const struct option *o = opts; o->name; o++) {
			if (strlen(o->name) == n && !strncmp(o->name, name, n))
				exact = o;
			if (!strncmp(o->name, name, n)) {
				size_t k = strlen(cands);
				snprintf(cands + k, sizeof(cands) - k, "%s--%s", prefixed ? ", " : "",
					 o->name);
				prefixed++;
			}
		}
		if (!exact && prefixed == 1 && optopt)
			for (const struct option *o = opts; o->name; o++)
				if (!strncmp(o->name, name, n))
					exact = o;
		if (exact && exact->has_arg == no_argument && eq)
			snprintf(what, sizeof(what), "--%s takes no value", exact->name);
		else if (exact)
			snprintf(what, sizeof(what), "--%s needs a value", exact->name);
		else if (prefixed > 1)
			snprintf(what, sizeof(what), "ambiguous option '--%.*s' (could be %s)", (int)n,
				 name, cands);
		else {
			const char *near = opt_nearest(name, opts);
			snprintf(what, sizeof(what), "unknown option '--%.*s'%s%s%s", (int)n, name,
				 near ? " (did you mean --" : "", near ? near : "", near ? "?)" : "");
		}
	} else {
		const char *sc = optopt > 0 && optopt < 128 ? strchr(shorts, optopt) : NULL;
		if (sc && sc[1] == ':')
			snprintf(what, sizeof(what), "-%c needs a value", optopt);
		else if (optopt > 0 && optopt < 128)
			snprintf(what, sizeof(what), "unknown option '-%c'", optopt);
		else
			snprintf(what, sizeof(what), "unknown option '%s'", w);
	}
	fprintf(stderr, "iommusim %s: %s (see iommusim help %.*s)\n", cmd, what,
		(int)strcspn(cmd, " "), cmd);
	return 2;
}

/* ---- progress and numbers for people ------------------------------------------------ */

bool progress_wanted(int verbosity)
{
	return verbosity >= 1 && !claimed && isatty(STDERR_FILENO);
}

void progress_line(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	struct winsize ws;
	size_t cols = !ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col ? ws.ws_col : 80;
	if (cols > 1 && strlen(text) > cols - 1)
		text[cols - 1] = 0;
	fprintf(stderr, "\r\033[K%s", text);
	fflush(stderr);
	progress_shown = true;
}

void progress_clear(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = false;
}

double progress_delay(void)
{
	const char *e = getenv("IMS_PROGRESS_DELAY");
	char *end;
	double d = e && *e ? strtod(e, &end) : 1.0;
	return e && *e && !*end && d >= 0 ? d : 1.0;
}

double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *human_count(uint64_t v, char *buf, size_t n)
{
	char d[32];
	int len = snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	size_t k = 0;
	for (int i = 0; i < len && k + 1 < n; i++) {
		if (i && (len - i) % 3 == 0 && k + 2 < n)
			buf[k++] = ',';
		buf[k++] = d[i];
	}
	if (n)
		buf[k < n ? k : n - 1] = 0;
	return buf;
}

const char *human_bytes(uint64_t v, char *buf, size_t n)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (v < 1024) {
		snprintf(buf, n, "%llu B", (unsigned long long)v);
		return buf;
	}
	double x = (double)v;
	unsigned i = 0;
	while (x >= 1024 && i < 6) {
		x /= 1024;
		i++;
	}
	snprintf(buf, n, x >= 100 ? "%.0f %s" : x >= 10 ? "%.1f %s" : "%.2f %s", x, u[i]);
	return buf;
}

const char *human_seconds(double s, char *buf, size_t n)
{
	if (!(s >= 0))
		s = 0;
	if (s < 10)
		snprintf(buf, n, "%.3g s", s);
	else if (s < 60)
		snprintf(buf, n, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, n, "%d min %02d s", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, n, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
	return buf;
}
