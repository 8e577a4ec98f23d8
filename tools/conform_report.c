/* iommusim conform: report.md, report.html, junit.xml, summary.json and the
 * gnuplot chart. Every file goes to a temporary name and is renamed only
 * when all of them are complete. This file builds the rows, makes the chart
 * and commits the files; the writers are conform_doc.c (report.md,
 * report.html) and conform_ci.c (junit.xml, summary.json).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/cmd.h"
#include "tools/conform_report.h"

/* ---- rows: one per spec section ------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strverscmp(x->spec, y->spec);
	return c ? c : strverscmp(x->section, y->section);
}

static struct row *make_rows(const struct cf_report *rep, size_t *nrows)
{
	struct row *rows = calloc(rep->nres ? rep->nres : 1, sizeof(*rows));
	if (!rows)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < rep->nres; i++) {
		const struct cf_case *c = rep->res[i].c;
		size_t r;
		for (r = 0; r < n; r++)
			if (!strcmp(rows[r].spec, c->spec) && !strcmp(rows[r].section, c->section))
				break;
		if (r == n) {
			rows[n].spec = c->spec;
			rows[n].section = c->section;
			rows[n].doc = c->doc;
			rows[n].idx = calloc(rep->nres, sizeof(size_t));
			if (!rows[n].idx) {
				for (size_t j = 0; j < n; j++)
					free(rows[j].idx);
				free(rows);
				return NULL;
			}
			n++;
		}
		rows[r].idx[rows[r].n++] = i;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	*nrows = n;
	return rows;
}

static void free_rows(struct row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		free(rows[i].idx);
	free(rows);
}

/* ---- chart ----------------------------------------------------------------------- */

static bool find_on_path(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	if (!path)
		return false;
	for (const char *p = path;;) {
		size_t n = strcspn(p, ":");
		int w = n ? snprintf(buf, len, "%.*s/%s", (int)n, p, prog)
			  : snprintf(buf, len, "./%s", prog);
		struct stat st;
		if (w > 0 && (size_t)w < len && !stat(buf, &st) && S_ISREG(st.st_mode) &&
		    !access(buf, X_OK))
			return true;
		if (!p[n])
			return false;
		p += n + 1;
	}
}

/* gnuplot reads the labels as data; keep them to characters that mean
 * nothing to it (no quotes, backquotes, macros). */
static void chart_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || strchr(" .,:;/()+=-_", ch);
		fputc(ok ? ch : '_', f);
	}
}

/* Horizontal stacked bars, one per spec section and format, so that the
 * long labels read left to right; boxes of zero width are left out. */
static void write_chart_script(FILE *f, const struct cf_report *rep, const struct row *rows,
			       size_t nrows)
{
	size_t bars = 0, top = 1, label = 10;
	for (size_t r = 0; r < nrows; r++)
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			struct tally t = cf_tally_of(rep, rows[r].idx, rows[r].n, fm);
			if (!t.runs)
				continue;
			bars++;
			if (t.runs > top)
				top = t.runs;
			size_t n = strlen(rows[r].spec) + strlen(rows[r].section) +
				   strlen(ims_format_name(fm)) + 4;
			if (n > label)
				label = n;
		}
	if (label > 90)
		label = 90;
	fprintf(f,
		"set terminal svg size 1100,%zu noenhanced font 'sans,10' background rgb 'white'\n"
		"set title 'iommusim conformance: number of cases per spec section and format'\n"
		"set style fill solid 0.85 border rgb '#333333'\n"
		"set xrange [0:%zu]\n"
		"set yrange [%zu.3:-0.7]\n"
		"set ytics scale 0 font 'sans,9'\n"
		"set grid xtics\n"
		"set lmargin %zu\n"
		"set key outside bottom center horizontal\n",
		bars * 15 + 140, top + 1, bars ? bars - 1 : 0, label * 6 / 7 + 2);
	if (top <= 25)
		fprintf(f, "set xtics 1\n");
	fprintf(f, "$d << EOD\n");
	for (size_t r = 0; r < nrows; r++)
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			struct tally t = cf_tally_of(rep, rows[r].idx, rows[r].n, fm);
			if (!t.runs)
				continue;
			fputc('"', f);
			chart_label(f, rows[r].spec);
			fputc(' ', f);
			chart_label(f, rows[r].section);
			fprintf(f, " [%s]\" %zu %zu %zu %zu\n", ims_format_name(fm), t.st[CF_PASS],
				bad(t), t.st[CF_DEVIATION], t.st[CF_SKIP]);
		}
	fprintf(f,
		"EOD\n"
		"plot $d using ($2 > 0 ? $2/2 : NaN):0:($2/2):(0.36):ytic(1) with boxxyerror "
		"lc rgb '#2e7d32' title 'pass', \\\n"
		"     $d using ($3 > 0 ? $2+$3/2 : NaN):0:($3/2):(0.36) with boxxyerror "
		"lc rgb '#c62828' title 'fail', \\\n"
		"     $d using ($4 > 0 ? $2+$3+$4/2 : NaN):0:($4/2):(0.36) with boxxyerror "
		"lc rgb '#f9a825' title 'known deviation', \\\n"
		"     $d using ($5 > 0 ? $2+$3+$4+$5/2 : NaN):0:($5/2):(0.36) with boxxyerror "
		"lc rgb '#9e9e9e' title 'skip'\n");
}

/* Runs gnuplot (no shell: the script goes to its standard input) with its
 * output into the chart's temporary file. */
static void make_chart(const struct cf_report *rep, const struct row *rows, size_t nrows,
		       struct outfile *of, struct chart *ch)
{
	char gp[4096];
	if (!find_on_path("gnuplot", gp, sizeof(gp))) {
		snprintf(ch->why, sizeof(ch->why), "gnuplot not installed");
		return;
	}
	FILE *script = tmpfile(), *errf = tmpfile();
	if (!script || !errf) {
		snprintf(ch->why, sizeof(ch->why), "gnuplot not run: no temporary file");
		goto out;
	}
	write_chart_script(script, rep, rows, nrows);
	if (fflush(script) || fseek(script, 0, SEEK_SET) || fflush(of->f)) {
		snprintf(ch->why, sizeof(ch->why), "gnuplot not run: temporary file failed");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(ch->why, sizeof(ch->why), "gnuplot not run: fork failed");
		goto out;
	}
	if (pid == 0) {
		/* The chart's temporary file by its name: of->f is a stream
		 * without a descriptor of its own (wstream_open). */
		int ofd = open(of->tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (ofd < 0 || dup2(fileno(script), 0) < 0 || dup2(ofd, 1) < 0 ||
		    dup2(fileno(errf), 2) < 0)
			_exit(126);
		char *const argv[] = {"gnuplot", "-d", NULL};
		execv(gp, argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char msg[160] = "";
		if (fseek(errf, 0, SEEK_SET) == 0 && fgets(msg, sizeof(msg), errf))
			msg[strcspn(msg, "\n")] = '\0';
		snprintf(ch->why, sizeof(ch->why), "gnuplot failed (%s %d)%s%s",
			 WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			 msg[0] ? ": " : "", msg);
		goto out;
	}
	/* Read back what gnuplot wrote through the shared descriptor. */
	FILE *in = fopen(of->tmp, "rb");
	if (in) {
		size_t cap = 1 << 16;
		ch->svg = malloc(cap);
		while (ch->svg) {
			size_t got = fread(ch->svg + ch->len, 1, cap - ch->len, in);
			ch->len += got;
			if (ch->len < cap)
				break;
			char *x = realloc(ch->svg, cap *= 2);
			if (!x) {
				free(ch->svg);
				ch->svg = NULL;
			}
			ch->svg = x;
		}
		fclose(in);
	}
	/* A whole document: a gnuplot short of space stops inside one. */
	if (!ch->svg || !ch->len || !memmem(ch->svg, ch->len, "<svg", 4) ||
	    !memmem(ch->svg, ch->len, "</svg>", 6)) {
		snprintf(ch->why, sizeof(ch->why), "gnuplot produced no%s SVG",
			 ch->svg && ch->len && memmem(ch->svg, ch->len, "<svg", 4) ? " whole" : "");
		free(ch->svg);
		ch->svg = NULL;
		ch->len = 0;
		goto out;
	}
	ch->made = true;
out:
	if (script)
		fclose(script);
	if (errf)
		fclose(errf);
}

/* ---- all of them ---------------------------------------------------------------------- */


enum { F_MD, F_HTML, F_JUNIT, F_JSON, F_CHART, F_COUNT };

int cf_write_summary(const struct cf_report *rep, const char *path)
{
	size_t nrows = 0;
	struct row *rows = make_rows(rep, &nrows);
	if (!rows) {
		fprintf(stderr, "iommusim conform: %s: out of memory\n", path);
		return -1;
	}
	struct outfile of;
	int rc = outfile_open(&of, path);
	if (!rc) {
		struct chart ch = {0};
		snprintf(ch.why, sizeof(ch.why), "no --report directory");
		cf_write_json(of.f, rep, rows, nrows, &ch);
		rc = outfile_commit(&of);
	}
	free_rows(rows, nrows);
	return rc;
}

int cf_write_reports(const struct cf_report *rep, const char *dir)
{
	static const char *const names[F_COUNT] = {"report.md", "report.html", "junit.xml",
						   "summary.json", "chart.svg"};
	if (mkdirs(dir)) {
		fprintf(stderr, "iommusim conform: --report %s: %s\n", dir, strerror(errno));
		return -1;
	}
	size_t nrows = 0;
	struct row *rows = make_rows(rep, &nrows);
	if (!rows) {
		fprintf(stderr, "iommusim conform: --report %s: out of memory\n", dir);
		return -1;
	}
	struct outfile of[F_COUNT];
	memset(of, 0, sizeof(of));
	struct chart ch = {0};
	int rc = 0;
	for (int i = 0; i < F_COUNT; i++) {
		size_t n = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(n);
		if (!path) {
			rc = -1;
			break;
		}
		snprintf(path, n, "%s/%s", dir, names[i]);
		rc = outfile_open(&of[i], path);
		free(path);
		if (rc)
			break;
	}
	if (!rc) {
		make_chart(rep, rows, nrows, &of[F_CHART], &ch);
		time_t t = time(NULL);
		struct tm tm;
		char stamp[32] = "1970-01-01T00:00:00";
		if (gmtime_r(&t, &tm))
			strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		cf_write_md(of[F_MD].f, rep, rows, nrows, &ch);
		cf_write_html(of[F_HTML].f, rep, rows, nrows, &ch);
		cf_write_junit(of[F_JUNIT].f, rep, stamp);
		cf_write_json(of[F_JSON].f, rep, rows, nrows, &ch);
		/* Rename only when every file is complete. */
		for (int i = 0; i < F_COUNT && !rc; i++) {
			if (i == F_CHART && !ch.made)
				continue;
			if (fflush(of[i].f) || ferror(of[i].f)) {
				fprintf(stderr, "iommusim conform: %s: write failed\n", of[i].path);
				rc = -1;
			}
		}
		for (int i = 0; i < F_COUNT && !rc; i++) {
			if (i == F_CHART && !ch.made)
				continue;
			rc = outfile_commit(&of[i]);
		}
	}
	for (int i = 0; i < F_COUNT; i++)
		if (of[i].f)
			outfile_abort(&of[i]);
	if (!rc && !ch.made) {
		/* A chart from an earlier run would no longer match the reports. */
		size_t n = strlen(dir) + 16;
		char *old = malloc(n);
		if (old) {
			snprintf(old, n, "%s/chart.svg", dir);
			unlink(old);
			free(old);
		}
	}
	free(ch.svg);
	free_rows(rows, nrows);
	return rc;
}
