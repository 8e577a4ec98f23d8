/* iommusim conform: run the spec conformance suites and write the reports. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/format.h"
#include "iommusim/pt.h"
#include "tools/cmd.h"
#include "tools/conform.h"
#include "tools/isolate.h"
#include "tools/opts.h"

/* Where `make install` puts the suites, relative to the executable's
 * directory (CMakeLists.txt passes the configured layout). */
#ifndef IMS_CONFORM_SUITE_REL
#define IMS_CONFORM_SUITE_REL "../share/iommusim/conformance"
#endif

enum {
	OPT_FORMAT = OPT_FIRST_FREE,
	OPT_SUITE,
	OPT_REPORT,
	OPT_CASE,
	OPT_LIST,
	OPT_CF_ISOLATE,
	OPT_CF_NO_ISOLATE,
	OPT_CF_WALKER_TIMEOUT,
	OPT_CF_MAX_SUITE_SIZE,
};

void help_conform(FILE *f)
{
	fprintf(f,
		"usage: iommusim conform [OPTIONS] [--format F]... [--suite PATH]... [--report DIR]\n"
		"\n"
		"Runs spec conformance cases: YAML files whose cases each check one clause of\n"
		"a spec (AMD IOMMU, Intel VT-d, Arm ARM / SMMUv3, iommufd dirty tracking) for\n"
		"one or more formats. A case's body is a trace (docs/trace-format.md)\n"
		"with expect lines; each case and format runs in a fresh replayer. The case\n"
		"format is docs/conformance.md.\n"
		"\n"
		"A case passes when its body replays with exit 0 (expect: pass), when\n"
		"validation fails (expect: fail-validation, a check that a bug is caught), or\n"
		"when its last line is refused as input with the given message (expect:\n"
		"input-error). A case marked `deviation:` documents a clause the model is\n"
		"known not to follow: it is reported as a known deviation while it fails,\n"
		"and fails the run once it holds (so that the mark is removed).\n"
		"\n"
		"options:\n"
		"  --suite PATH          a YAML file, or a directory: its *.yaml and *.yml\n"
		"                        files in name order (repeatable); replaces the\n"
		"                        bundled suites. Default: tests/conformance under the\n"
		"                        current directory, else the suites installed with\n"
		"                        this program (" IMS_CONFORM_SUITE_REL " from\n"
		"                        its directory), else tests/conformance of the source\n"
		"                        tree it was built from\n"
		"  --max-suite-size N    the largest suite file read, in bytes (K/M/G\n"
		"                        suffixes; default 16M); a file's nodes and what\n"
		"                        its aliases expand to are budgeted from it\n"
		"                        (docs/limits.md)\n"
		"  --format F            run only format F: amdv1, vtd, smmuv3, vtd-fs,\n"
		"                        amdv2 or smmuv3-s2 (repeatable, or a comma list);\n"
		"                        the report has a column per format\n"
		"  --case PATTERN        run only cases whose id matches the shell pattern\n"
		"                        (repeatable)\n"
		"  -o, --out, --report DIR\n"
		"                        write the reports into DIR (created if missing):\n"
		"                          report.md     the documents cited (with their\n"
		"                                        revisions, or \"revision not stated\"),\n"
		"                                        a matrix of spec section x format,\n"
		"                                        each cell pass / FAIL / deviates with\n"
		"                                        the case ids, failures, and every case\n"
		"                                        with its citation and trace\n"
		"                          report.html   the same, one self-contained file with\n"
		"                                        a table of contents and filters by\n"
		"                                        result and format\n"
		"                          junit.xml     one testcase per case and format\n"
		"                          summary.json  totals per format and section, and\n"
		"                                        every case result\n"
		"                          chart.svg     cases per section and format, pass\n"
		"                                        and fail, when gnuplot is on PATH;\n"
		"                                        without it the reports say the chart\n"
		"                                        was skipped and nothing fails\n"
		"                        Case files are named relative to their suite. Each\n"
		"                        file is written to a temporary name and renamed.\n"
		"                        Nothing is written after bad input (exit 2).\n"
		"  --json FILE           write summary.json's document to FILE ('-' = stdout,\n"
		"                        which then holds the JSON alone)\n"
		"  --list                list the selected cases (id, formats, section, title)\n"
		"                        and exit\n"
		"  -q, --quiet           print only errors and the final line\n"
		"  -v, --verbose         print every result, with validation messages\n"
		"\n"
		"Model options apply to every case; a case's model: settings override them.\n");
	model_opts_help(f);
	walker_help(f);
	fprintf(f, "The walker runs every case that names none; a case's walker: (a seeded bug\n"
		   "it proves caught) keeps its own.\n");
	fprintf(f,
		"  --isolate             run each case in a child process: a walker that crashes\n"
		"                        or hangs fails that case (\"FILE:LINE: FAIL: walker NAME\n"
		"                        hung (...) at this line\") and the next case goes on\n"
		"                        (default with --walker-plugin)\n"
		"  --no-isolate          in this process (a crash of the walker ends the command)\n"
		"  --walker-timeout S    with isolation, an event that makes no progress for S\n"
		"                        seconds is a hang (default %g; 0 = no limit)\n",
		ISO_DEFAULT_TIMEOUT);
	fprintf(f,
		"\n"
		"exit status: 0 every case passed, was a known deviation, or was skipped (a\n"
		"seeded-bug walker not built in); 1 a case failed; 2 bad input: YAML syntax,\n"
		"an unknown field, a case whose spec: is not in its file's documents:, a\n"
		"body that does not parse or is refused where the case does not expect it, a\n"
		"missing file (message FILE:LINE:COL: what was expected), or a bad option.\n");
}

struct run {
	struct cf_suite suite;
	struct ims_iommu_cfg model;
	unsigned formats;
	char **patterns;
	size_t npatterns;
	int verbosity;
	bool list;
	struct walker_choice wc;
	int isolate; /* -1: with a plug-in */
	double timeout;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
	size_t l = strlen(n);
	if (n[0] == '.')
		return false;
	return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml"));
}

/* The last component of path, without trailing slashes, into buf. */
static const char *base_name(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && path[b - 1] != '/')
		b--;
	snprintf(buf, len, "%.*s", (int)(n - b), path + b);
	return buf;
}

/* Reports name a file relative to its suite: a directory's files by their
 * names in it, a file by its own name; with several suites a directory's
 * files also carry the directory's name ("conformance/amdv1.yaml"), so that
 * no report shows where a tree happened to be checked out. */
static int load_path(struct run *R, const char *path, bool several)
{
	struct stat st;
	char label[1024];
	if (stat(path, &st)) {
		fprintf(stderr, "iommusim conform: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	if (!S_ISDIR(st.st_mode))
		return cf_load(&R->suite, path, base_name(path, label, sizeof(label)), stderr);
	/* "." and ".." name nothing: the directory's real name does. */
	char *real = realpath(path, NULL);
	base_name(real ? real : path, label, sizeof(label));
	free(real);
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "iommusim conform: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!yaml_name(e->d_name))
			continue;
		char **x = realloc(names, (n + 1) * sizeof(*x));
		if (!x) {
			rc = -ENOMEM;
			break;
		}
		names = x;
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		if (!(names[n] = malloc(len))) {
			rc = -ENOMEM;
			break;
		}
		snprintf(names[n++], len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			 e->d_name);
	}
	closedir(d);
	if (!rc && !n) {
		fprintf(stderr, "iommusim conform: %s: no *.yaml or *.yml files in the directory\n",
			path);
		rc = -EINVAL;
	}
	if (!rc)
		qsort(names, n, sizeof(*names), cmp_str);
	/* Every file, so that one run lists every error. */
	for (size_t i = 0; i < n && rc != -ENOMEM; i++) {
		char rel[2048];
		snprintf(rel, sizeof(rel), "%s%s%s", several ? label : "", several ? "/" : "",
			 strrchr(names[i], '/') + 1);
		int r = cf_load(&R->suite, names[i], rel, stderr);
		if (r && !rc)
			rc = r;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* The suites installed beside this program. /proc/self/exe names the real
 * file, so a symlink to it elsewhere on PATH finds them too. */
static const char *installed_suite(char *buf, size_t len)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	int w = snprintf(buf, len, "%s/%s", exe, IMS_CONFORM_SUITE_REL);
	if (w < 0 || (size_t)w >= len || !is_dir(buf))
		return NULL;
	/* Reports name the suite files: without the "bin/.." detour. */
	char *real = realpath(buf, NULL);
	if (real && strlen(real) < len)
		strcpy(buf, real);
	free(real);
	return buf;
}

/* tests/conformance of the current directory, else the installed suites,
 * else those of the source tree this file was compiled from (a build
 * tree's binary run from anywhere). */
static const char *default_suite(char *buf, size_t len)
{
	if (is_dir("tests/conformance"))
		return "tests/conformance";
	if (installed_suite(buf, len))
		return buf;
	const char *src = __FILE__;
	const char *tools = strstr(src, "tools/conform.c");
	if (tools && src[0] == '/' && (size_t)(tools - src) + 32 < len) {
		snprintf(buf, len, "%.*stests/conformance", (int)(tools - src), src);
		if (is_dir(buf))
			return buf;
	}
	return NULL;
}

static int parse_formats(const char *arg, unsigned *mask)
{
	const char *p = arg;
	char names[128];
	if (!*p) {
		fprintf(stderr, "iommusim conform: --format: expected one of %s\n",
			fmt_name_list(names, sizeof(names)));
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		enum ims_format f;
		if (!n || ims_format_parse(p, n, &f)) {
			fprintf(stderr, "iommusim conform: --format: '%.*s' (expected one of %s)\n",
				(int)n, p, fmt_name_list(names, sizeof(names)));
			return -1;
		}
		*mask |= 1u << f;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

static bool selected(const struct run *R, const struct cf_case *c)
{
	if (!(c->formats & R->formats))
		return false;
	if (!R->npatterns)
		return true;
	for (size_t i = 0; i < R->npatterns; i++)
		if (!fnmatch(R->patterns[i], c->id, 0))
			return true;
	return false;
}

static void list_cases(const struct run *R)
{
	for (size_t i = 0; i < R->suite.ncases; i++) {
		const struct cf_case *c = &R->suite.cases[i];
		if (!selected(R, c))
			continue;
		char fm[32] = "";
		for (int f = 0; f < IMS_FMT_COUNT; f++)
			if (c->formats & R->formats & (1u << f))
				snprintf(fm + strlen(fm), sizeof(fm) - strlen(fm), "%s%s", fm[0] ? "," : "",
					 ims_format_name(f));
		printf("%-32s %-18s %s %s: %s", c->id, fm, c->spec, c->section, c->title);
		if (c->expect != CF_EXPECT_PASS)
			printf(" [expect %s]", cf_expect_name(c->expect));
		if (c->deviation)
			printf(" [known deviation]");
		putchar('\n');
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_detail(FILE *f, const char *detail)
{
	for (const char *p = detail; p && *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(f, "      %.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

static int free_run(struct run *R, int rc)
{
	cf_suite_free(&R->suite);
	free(R->patterns);
	walker_fini(&R->wc);
	return rc;
}

int cmd_conform(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, 0, OPT_FORMAT},
		{"suite", required_argument, 0, OPT_SUITE},
		{"report", required_argument, 0, OPT_REPORT},
		{"out", required_argument, 0, 'o'},
		{"json", required_argument, 0, OPT_JSON},
		{"case", required_argument, 0, OPT_CASE},
		{"list", no_argument, 0, OPT_LIST},
		{"isolate", no_argument, 0, OPT_CF_ISOLATE},
		{"no-isolate", no_argument, 0, OPT_CF_NO_ISOLATE},
		{"walker-timeout", required_argument, 0, OPT_CF_WALKER_TIMEOUT},
		{"max-suite-size", required_argument, 0, OPT_CF_MAX_SUITE_SIZE},
		WALKER_LONG_OPTS,
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		MODEL_LONG_OPTS,
		{0, 0, 0, 0},
	};
	struct run R;
	memset(&R, 0, sizeof(R));
	ims_iommu_cfg_default(&R.model);
	R.verbosity = 1;
	R.isolate = -1;
	R.timeout = ISO_DEFAULT_TIMEOUT;
	const char *report = NULL, *json = NULL;
	const char **suites = calloc((size_t)argc + 1, sizeof(*suites));
	size_t nsuites = 0;
	R.patterns = calloc((size_t)argc + 1, sizeof(*R.patterns));
	if (!suites || !R.patterns) {
		free(suites);
		return free_run(&R, 2);
	}
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qvho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			R.verbosity = 0;
			break;
		case 'v':
			R.verbosity = 2;
			break;
		case 'h':
			help_conform(stdout);
			free(suites);
			return free_run(&R, 0);
		case OPT_FORMAT:
			if (parse_formats(optarg, &R.formats)) {
				free(suites);
				return free_run(&R, 2);
			}
			break;
		case OPT_SUITE:
			suites[nsuites++] = optarg;
			break;
		case OPT_REPORT:
		case 'o':
			report = optarg;
			break;
		case OPT_JSON:
			json = optarg;
			break;
		case OPT_CASE:
			R.patterns[R.npatterns++] = optarg;
			break;
		case OPT_LIST:
			R.list = true;
			break;
		case OPT_CF_ISOLATE:
			R.isolate = 1;
			break;
		case OPT_CF_NO_ISOLATE:
			R.isolate = 0;
			break;
		case OPT_CF_MAX_SUITE_SIZE:
		{
			uint64_t v = 0;
			bool bad_size = opt_u64("conform", "--max-suite-size", optarg, true, &v);
			if (!bad_size && !v) {
				fprintf(stderr, "iommusim conform: --max-suite-size: expected at "
					"least 1 byte\n");
				bad_size = true;
			}
			if (bad_size) {
				free(suites);
				return free_run(&R, 2);
			}
			R.suite.max_bytes = v;
			break;
		}
		case OPT_CF_WALKER_TIMEOUT:
			if (iso_parse_timeout("conform", optarg, &R.timeout)) {
				free(suites);
				return free_run(&R, 2);
			}
			break;
		case '?':
			opt_unknown("conform", argv, "+qvho:", longopts);
			free(suites);
			return free_run(&R, 2);
		default: {
			int w = walker_opt("conform", c, optarg, &R.wc);
			if (w < 0 || (!w && model_opt("conform", c, optarg, &R.model) <= 0)) {
				free(suites);
				return free_run(&R, 2);
			}
			break;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iommusim conform: unexpected argument '%s' (suites are given with --suite)\n",
			argv[optind]);
		free(suites);
		return free_run(&R, 2);
	}
	if (!R.formats)
		R.formats = fmt_all_mask();
	char defbuf[4096];
	if (!nsuites) {
		const char *d = default_suite(defbuf, sizeof(defbuf));
		if (!d) {
			fprintf(stderr, "iommusim conform: no tests/conformance here and no installed suites; give --suite PATH\n");
			free(suites);
			return free_run(&R, 2);
		}
		suites[nsuites++] = d;
	}
	int bad = 0;
	for (size_t i = 0; i < nsuites; i++)
		if (load_path(&R, suites[i], nsuites > 1))
			bad = 1;
	free(suites);
	if (bad) {
		fprintf(stderr, "iommusim conform: bad input; no case was run\n");
		return free_run(&R, 2);
	}
	if (R.list) {
		list_cases(&R);
		return free_run(&R, 0);
	}

	size_t nruns = 0;
	for (size_t i = 0; i < R.suite.ncases; i++)
		if (selected(&R, &R.suite.cases[i]))
			nruns += (size_t)__builtin_popcount(R.suite.cases[i].formats & R.formats);
	if (!nruns) {
		fprintf(stderr, "iommusim conform: no case matches the selected formats and ids\n");
		return free_run(&R, 2);
	}
	struct cf_result *res = calloc(nruns, sizeof(*res));
	if (!res)
		return free_run(&R, 2);

	bool progress = progress_wanted(R.verbosity);
	bool iso = R.isolate == 1 || (R.isolate < 0 && R.wc.plugin);
	size_t k = 0, counts[CF_NSTATUS] = {0};
	double t0 = now();
	for (size_t i = 0; i < R.suite.ncases; i++) {
		const struct cf_case *cs = &R.suite.cases[i];
		if (!selected(&R, cs))
			continue;
		for (int f = 0; f < IMS_FMT_COUNT; f++) {
			if (!(cs->formats & R.formats & (1u << f)))
				continue;
			if (progress)
				fprintf(stderr, "\r\033[K[%zu/%zu] %s %s", k + 1, nruns, cs->id,
					ims_format_name(f));
			struct cf_result *x = &res[k++];
			cf_run(cs, (enum ims_format)f, &R.model, &R.wc, iso ? R.timeout : -1, x);
			counts[x->status]++;
			if (progress && x->status != CF_PASS)
				fprintf(stderr, "\r\033[K");
			if (x->status == CF_ERROR) {
				fflush(stdout);
				fprintf(stderr, "%s\n", x->summary ? x->summary : "error");
			} else if (x->status == CF_FAIL || R.verbosity >= 2 ||
				   (x->status != CF_PASS && R.verbosity >= 1)) {
				static const char *const word[CF_NSTATUS] = {"pass", "FAIL", "skip",
									     "deviates", "error"};
				printf("%-8s %s [%s] %s:%" PRIu64 ": %s\n", word[x->status], cs->id,
				       ims_format_name(f), cs->file, cs->line,
				       x->summary ? x->summary : cs->title);
				if (R.verbosity >= 2 && x->detail)
					print_detail(stdout, x->detail);
			}
		}
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	double secs = now() - t0;
	int status = counts[CF_ERROR] ? 2 : counts[CF_FAIL] ? 1 : 0;

	size_t ncases = 0;
	for (size_t i = 0; i < R.suite.ncases; i++)
		ncases += selected(&R, &R.suite.cases[i]);
	printf("iommusim conform: %zu cases, %zu runs (passed/runs per format):", ncases, nruns);
	for (int f = 0; f < IMS_FMT_COUNT; f++) {
		if (!(R.formats & (1u << f)))
			continue;
		size_t n = 0, p = 0;
		for (size_t i = 0; i < nruns; i++)
			if (res[i].fmt == (enum ims_format)f) {
				n++;
				p += res[i].status == CF_PASS;
			}
		if (n)
			printf(" %s %zu/%zu", ims_format_name(f), p, n);
	}
	printf("; %zu passed, %zu failed, %zu known deviations, %zu skipped, %zu bad input, %.2f s, "
	       "walker %s\n",
	       counts[CF_PASS], counts[CF_FAIL], counts[CF_DEVIATION], counts[CF_SKIP],
	       counts[CF_ERROR], secs, walker_name(&R.wc));
	fflush(stdout);

	if (report && status == 2) {
		fflush(stdout);
		fprintf(stderr, "iommusim conform: bad input; no report written\n");
	} else if (report) {
		for (size_t i = 0; i < nruns; i++)
			cf_result_relative(&res[i]);
		struct cf_report rep = {.suite = &R.suite, .res = res, .nres = nruns,
					.formats = R.formats, .secs = secs, .exit_status = status,
					.walker = walker_name(&R.wc)};
		if (cf_write_reports(&rep, report))
			status = 2;
	}
	if (json && status < 2) {
		struct cf_report rep = {.suite = &R.suite, .res = res, .nres = nruns,
					.formats = R.formats, .secs = secs, .exit_status = status,
					.walker = walker_name(&R.wc)};
		if (cf_write_summary(&rep, json))
			status = 2;
	}
	for (size_t i = 0; i < nruns; i++)
		cf_result_fini(&res[i]);
	free(res);
	return free_run(&R, status);
}
