/* iommusim conform: report.md, report.html, junit.xml, summary.json and the
 * gnuplot chart. Every file goes to a temporary name and is renamed only
 * when all of them are complete.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/cmd.h"
#include "tools/conform.h"

/* ---- rows: one per spec section ------------------------------------------- */

struct row {
	const char *spec, *section;
	size_t *idx; /* results in this row, in run order */
	size_t n;
};

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

struct tally {
	size_t runs, st[CF_NSTATUS];
};

static size_t bad(struct tally t)
{
	return t.st[CF_FAIL] + t.st[CF_ERROR];
}

static struct tally tally_of(const struct cf_report *rep, const size_t *idx, size_t n, int fmt)
{
	struct tally t = {0};
	for (size_t i = 0; i < n; i++) {
		const struct cf_result *x = &rep->res[idx ? idx[i] : i];
		if (fmt >= 0 && x->fmt != (enum ims_format)fmt)
			continue;
		t.runs++;
		t.st[x->status]++;
	}
	return t;
}

static size_t ncases(const struct cf_report *rep)
{
	size_t n = 0;
	for (size_t i = 0; i < rep->nres; i++)
		n += i == 0 || rep->res[i].c != rep->res[i - 1].c;
	return n;
}

/* ---- escaping ----------------------------------------------------------------- */

/* XML 1.0 text and attribute values: markup characters as entities; control
 * characters XML cannot hold become '?'. */
static void xml_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (ch < 0x20 && ch != '\n' && ch != '\t')
				fputc('?', f);
			else
				fputc(ch, f);
		}
	}
}

/* One line of text in XML, up to its first newline. */
static void xml_esc_line(FILE *f, const char *s)
{
	size_t n = s ? strcspn(s, "\n") : 0;
	char *t = cf_strndup(s ? s : "", n);
	xml_esc(f, t ? t : "");
	free(t);
}

/* Inside a Markdown table cell: no newlines, no pipes, no raw HTML. */
static void md_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '|':
			fputs("\\|", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '\n':
		case '\r':
			fputc(' ', f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* ---- chart ----------------------------------------------------------------------- */

struct chart {
	bool made;
	char why[256];  /* why it was skipped */
	char *svg;      /* the file's bytes */
	size_t len;
};

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
			struct tally t = tally_of(rep, rows[r].idx, rows[r].n, fm);
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
			struct tally t = tally_of(rep, rows[r].idx, rows[r].n, fm);
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
		if (dup2(fileno(script), 0) < 0 || dup2(fileno(of->f), 1) < 0 ||
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
	if (!ch->svg || !ch->len || !memmem(ch->svg, ch->len, "<svg", 4)) {
		free(ch->svg);
		ch->svg = NULL;
		ch->len = 0;
		snprintf(ch->why, sizeof(ch->why), "gnuplot produced no SVG");
		goto out;
	}
	ch->made = true;
out:
	if (script)
		fclose(script);
	if (errf)
		fclose(errf);
}

static void base64(FILE *f, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(t[v >> 18], f);
		fputc(t[(v >> 12) & 63], f);
		fputc(i + 1 < n ? t[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < n ? t[v & 63] : '=', f);
	}
}

/* ---- matrix cells ------------------------------------------------------------------ */

/* A cell lists its case ids by group, the worst group first: it names the
 * cell. Bad input counts as a failure. */
enum grp { G_FAIL, G_DEV, G_PASS, G_SKIP, G_COUNT };
static const char *const grp_head[G_COUNT] = {"FAIL", "deviates", "pass", "skip"};
static const char *const grp_class[G_COUNT] = {"fail", "dev", "pass", "skip"};

static enum grp grp_of(enum cf_status s)
{
	switch (s) {
	case CF_PASS:
		return G_PASS;
	case CF_SKIP:
		return G_SKIP;
	case CF_DEVIATION:
		return G_DEV;
	default:
		return G_FAIL;
	}
}

/* The cell's worst group, or -1 when no case applies. */
static int cell_head(const struct cf_report *rep, const struct row *rw, int fmt)
{
	int head = -1;
	for (size_t i = 0; i < rw->n; i++) {
		const struct cf_result *x = &rep->res[rw->idx[i]];
		if (x->fmt != (enum ims_format)fmt)
			continue;
		int g = (int)grp_of(x->status);
		if (head < 0 || g < head)
			head = g;
	}
	return head;
}

typedef void (*esc_fn)(FILE *f, const struct cf_result *x);

/* "HEAD (ids; group: ids; ...)" with each id written by `id`. */
static void cell_text(FILE *f, const struct cf_report *rep, const struct row *rw, int fmt,
		      int head, esc_fn id)
{
	fprintf(f, "%s (", grp_head[head]);
	bool any_group = false;
	for (int g = 0; g < G_COUNT; g++) {
		int at = g == 0 ? head : (g <= head ? g - 1 : g);
		bool first = true;
		for (size_t i = 0; i < rw->n; i++) {
			const struct cf_result *x = &rep->res[rw->idx[i]];
			if (x->fmt != (enum ims_format)fmt || (int)grp_of(x->status) != at)
				continue;
			if (first && any_group)
				fprintf(f, "; %s: ", grp_head[at]);
			else if (!first)
				fputs(", ", f);
			id(f, x);
			first = false;
			any_group = true;
		}
	}
	fputc(')', f);
}

static void write_tally_row_md(FILE *f, const char *name, struct tally t)
{
	fprintf(f, "| %s | %zu | %zu | %zu | %zu | %zu |\n", name, t.runs, t.st[CF_PASS], bad(t),
		t.st[CF_DEVIATION], t.st[CF_SKIP]);
}

/* ---- report.md ------------------------------------------------------------------- */

static void md_id(FILE *f, const struct cf_result *x)
{
	md_esc(f, x->c->id);
}

static const char *result_word(enum cf_status s, bool md)
{
	switch (s) {
	case CF_PASS:
		return "pass";
	case CF_SKIP:
		return "skip";
	case CF_DEVIATION:
		return "deviates";
	default:
		return md ? "**FAIL**" : "<b>FAIL</b>";
	}
}

static void write_md(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		     const struct chart *ch)
{
	struct tally all = tally_of(rep, NULL, rep->nres, -1);
	fprintf(f, "# iommusim conformance report\n\n");
	fprintf(f, "iommusim %s: %zu cases, %zu runs (case x format) in %.2f s: %zu passed, "
		   "%zu failed, %zu known deviations, %zu skipped. Exit status %d.\n\n",
		IMS_VERSION_STRING, ncases(rep), rep->nres, rep->secs, all.st[CF_PASS], bad(all),
		all.st[CF_DEVIATION], all.st[CF_SKIP], rep->exit_status);
	fprintf(f, "Suites:");
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? ", `" : " `", f);
		md_esc(f, rep->suite->files[i]);
		fputc('`', f);
	}
	fprintf(f, ".\n\n## Totals per format\n\n| format | runs | pass | fail | deviates | skip |\n"
		   "|---|---:|---:|---:|---:|---:|\n");
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			write_tally_row_md(f, ims_format_name(fm), tally_of(rep, NULL, rep->nres, fm));
	write_tally_row_md(f, "all", all);
	fprintf(f, "\n## Spec section x format\n\n"
		   "Each cell: `pass`, `FAIL` or `deviates` (a known deviation of the model, "
		   "declared in the case) with the case ids, worst first; `-` where no case "
		   "applies.\n\n| spec section |");
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			fprintf(f, " %s |", ims_format_name(fm));
	fprintf(f, "\n|---|");
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			fprintf(f, "---|");
	fputc('\n', f);
	for (size_t r = 0; r < nrows; r++) {
		fputs("| ", f);
		md_esc(f, rows[r].spec);
		fputc(' ', f);
		md_esc(f, rows[r].section);
		fputs(" |", f);
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			if (!(rep->formats & (1u << fm)))
				continue;
			int head = cell_head(rep, &rows[r], fm);
			fputc(' ', f);
			if (head < 0) {
				fputc('-', f);
			} else {
				if (head == G_FAIL)
					fputs("**", f);
				cell_text(f, rep, &rows[r], fm, head, md_id);
				if (head == G_FAIL)
					fputs("**", f);
			}
			fputs(" |", f);
		}
		fputc('\n', f);
	}
	fprintf(f, "\n## Chart\n\n");
	if (ch->made)
		fprintf(f, "![cases per spec section and format, pass and fail](chart.svg)\n");
	else
		fprintf(f, "chart skipped: %s\n", ch->why);

	static const char *const heads[] = {"Failures", "Known deviations"};
	for (int part = 0; part < 2; part++) {
		fprintf(f, "\n## %s\n\n", heads[part]);
		bool any = false;
		for (size_t i = 0; i < rep->nres; i++) {
			const struct cf_result *x = &rep->res[i];
			if (grp_of(x->status) != (part ? G_DEV : G_FAIL))
				continue;
			any = true;
			fprintf(f, "### %s [%s]\n\n", x->c->id, ims_format_name(x->fmt));
			md_esc(f, x->c->title);
			fprintf(f, " (");
			md_esc(f, x->c->spec);
			fputc(' ', f);
			md_esc(f, x->c->section);
			fprintf(f, "; `%s:%" PRIu64 "`; expect %s)\n\n", x->c->file, x->c->line,
				cf_expect_name(x->c->expect));
			fprintf(f, "```\n%s\n", x->summary ? x->summary : "");
			if (x->detail && *x->detail)
				fprintf(f, "%s%s", x->detail,
					x->detail[strlen(x->detail) - 1] == '\n' ? "" : "\n");
			fprintf(f, "```\n\n");
		}
		if (!any)
			fprintf(f, "None.\n");
	}

	fprintf(f, "\n## Cases\n\n| id | spec section | expect | result | title | where |\n"
		   "|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < rep->nres;) {
		const struct cf_case *c = rep->res[i].c;
		fputs("| ", f);
		md_esc(f, c->id);
		fputs(" | ", f);
		md_esc(f, c->spec);
		fputc(' ', f);
		md_esc(f, c->section);
		fprintf(f, " | %s |", cf_expect_name(c->expect));
		for (bool first = true; i < rep->nres && rep->res[i].c == c; i++, first = false)
			fprintf(f, "%s%s %s", first ? " " : ", ", ims_format_name(rep->res[i].fmt),
				result_word(rep->res[i].status, true));
		fputs(" | ", f);
		md_esc(f, c->title);
		fputs(" | `", f);
		md_esc(f, c->file);
		fprintf(f, ":%" PRIu64 "` |\n", c->line);
	}
}

/* ---- report.html ------------------------------------------------------------------ */

static const char css[] =
	"body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:110em}"
	"table{border-collapse:collapse;margin:1em 0}"
	"th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}"
	"th{background:#eee}"
	"td.pass{background:#e6f4ea}td.fail{background:#fce8e6;font-weight:bold}"
	"td.dev{background:#fff4d6}td.skip{background:#f1f1f1}td.none{color:#999;text-align:center}"
	"code,pre{font-family:ui-monospace,monospace;font-size:90%}"
	"pre{background:#f6f6f6;padding:.6em;overflow:auto;white-space:pre-wrap}"
	".id{font-family:ui-monospace,monospace;font-size:85%}a.id{color:inherit}"
	"img.chart{max-width:100%;border:1px solid #ddd}";

/* Ids link to the case's row in the case table (ids are letters, digits,
 * '-', '_' and '.', so "c-" + id is a valid XML id). */
static void html_id(FILE *f, const struct cf_result *x)
{
	fputs("<a class=\"id\" href=\"#c-", f);
	xml_esc(f, x->c->id);
	fputs("\" title=\"", f);
	xml_esc(f, x->c->title);
	fputs("\">", f);
	xml_esc(f, x->c->id);
	fputs("</a>", f);
}

static void html_tally_row(FILE *f, const char *name, struct tally t)
{
	fprintf(f, "<tr><td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n",
		name, t.runs, t.st[CF_PASS], bad(t), t.st[CF_DEVIATION], t.st[CF_SKIP]);
}

static void write_html(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		       const struct chart *ch)
{
	struct tally all = tally_of(rep, NULL, rep->nres, -1);
	fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
		   "<head>\n<meta charset=\"utf-8\"/>\n<title>iommusim conformance report</title>\n"
		   "<style>%s</style>\n</head>\n<body>\n<h1>iommusim conformance report</h1>\n",
		css);
	fprintf(f, "<p>iommusim %s: %zu cases, %zu runs (case &#215; format) in %.2f s: %zu passed, "
		   "%zu failed, %zu known deviations, %zu skipped. Exit status %d.</p>\n",
		IMS_VERSION_STRING, ncases(rep), rep->nres, rep->secs, all.st[CF_PASS], bad(all),
		all.st[CF_DEVIATION], all.st[CF_SKIP], rep->exit_status);
	fputs("<p>Suites:", f);
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? ", <code>" : " <code>", f);
		xml_esc(f, rep->suite->files[i]);
		fputs("</code>", f);
	}
	fputs(".</p>\n<h2>Totals per format</h2>\n<table>\n<tr><th>format</th><th>runs</th>"
	      "<th>pass</th><th>fail</th><th>deviates</th><th>skip</th></tr>\n", f);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			html_tally_row(f, ims_format_name(fm), tally_of(rep, NULL, rep->nres, fm));
	html_tally_row(f, "all", all);
	fputs("</table>\n<h2>Spec section &#215; format</h2>\n<p>Each cell: pass, FAIL or deviates "
	      "(a known deviation of the model, declared in the case) with the case ids, worst "
	      "first; - where no case applies.</p>\n<table>\n<tr><th>spec section</th>", f);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			fprintf(f, "<th>%s</th>", ims_format_name(fm));
	fputs("</tr>\n", f);
	for (size_t r = 0; r < nrows; r++) {
		fputs("<tr><th>", f);
		xml_esc(f, rows[r].spec);
		fputc(' ', f);
		xml_esc(f, rows[r].section);
		fputs("</th>", f);
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			if (!(rep->formats & (1u << fm)))
				continue;
			int head = cell_head(rep, &rows[r], fm);
			if (head < 0) {
				fputs("<td class=\"none\">-</td>", f);
				continue;
			}
			fprintf(f, "<td class=\"%s\">", grp_class[head]);
			cell_text(f, rep, &rows[r], fm, head, html_id);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<h2>Chart</h2>\n", f);
	if (ch->made) {
		fputs("<p><img class=\"chart\" alt=\"cases per spec section and format, pass and fail\" "
		      "src=\"data:image/svg+xml;base64,", f);
		base64(f, (const unsigned char *)ch->svg, ch->len);
		fputs("\"/></p>\n", f);
	} else {
		fputs("<p>chart skipped: ", f);
		xml_esc(f, ch->why);
		fputs("</p>\n", f);
	}
	static const char *const heads[] = {"Failures", "Known deviations"};
	for (int part = 0; part < 2; part++) {
		fprintf(f, "<h2>%s</h2>\n", heads[part]);
		bool any = false;
		for (size_t i = 0; i < rep->nres; i++) {
			const struct cf_result *x = &rep->res[i];
			if (grp_of(x->status) != (part ? G_DEV : G_FAIL))
				continue;
			any = true;
			fputs("<h3>", f);
			xml_esc(f, x->c->id);
			fprintf(f, " [%s]</h3>\n<p>", ims_format_name(x->fmt));
			xml_esc(f, x->c->title);
			fputs(" (", f);
			xml_esc(f, x->c->spec);
			fputc(' ', f);
			xml_esc(f, x->c->section);
			fputs("; <code>", f);
			xml_esc(f, x->c->file);
			fprintf(f, ":%" PRIu64 "</code>; expect %s)</p>\n<pre>", x->c->line,
				cf_expect_name(x->c->expect));
			xml_esc(f, x->summary);
			if (x->detail && *x->detail) {
				fputc('\n', f);
				xml_esc(f, x->detail);
			}
			fputs("</pre>\n", f);
		}
		if (!any)
			fputs("<p>None.</p>\n", f);
	}
	fputs("<h2>Cases</h2>\n<table>\n<tr><th>id</th><th>spec section</th><th>expect</th>"
	      "<th>result</th><th>title</th><th>where</th></tr>\n", f);
	for (size_t i = 0; i < rep->nres;) {
		const struct cf_case *c = rep->res[i].c;
		fputs("<tr id=\"c-", f);
		xml_esc(f, c->id);
		fputs("\"><td><span class=\"id\">", f);
		xml_esc(f, c->id);
		fputs("</span></td><td>", f);
		xml_esc(f, c->spec);
		fputc(' ', f);
		xml_esc(f, c->section);
		fprintf(f, "</td><td>%s</td><td>", cf_expect_name(c->expect));
		for (bool first = true; i < rep->nres && rep->res[i].c == c; i++, first = false)
			fprintf(f, "%s%s %s", first ? "" : ", ", ims_format_name(rep->res[i].fmt),
				result_word(rep->res[i].status, false));
		fputs("</td><td>", f);
		xml_esc(f, c->title);
		if (c->notes) {
			fputs("<br/><small>", f);
			xml_esc(f, c->notes);
			fputs("</small>", f);
		}
		if (c->deviation) {
			fputs("<br/><small>known deviation: ", f);
			xml_esc(f, c->deviation);
			fputs("</small>", f);
		}
		fputs("</td><td><code>", f);
		xml_esc(f, c->file);
		fprintf(f, ":%" PRIu64 "</code></td></tr>\n", c->line);
	}
	fputs("</table>\n</body>\n</html>\n", f);
}

/* ---- junit.xml --------------------------------------------------------------------- */

/* A known deviation is reported as skipped: it neither passes nor breaks
 * the build, and CI shows its message. */
static void write_junit(FILE *f, const struct cf_report *rep, const char *stamp)
{
	struct tally all = tally_of(rep, NULL, rep->nres, -1);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"iommusim conform\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "skipped=\"%zu\" time=\"%.6f\">\n",
		all.runs, all.st[CF_FAIL], all.st[CF_ERROR], all.st[CF_SKIP] + all.st[CF_DEVIATION],
		rep->secs);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
		if (!(rep->formats & (1u << fm)))
			continue;
		struct tally t = tally_of(rep, NULL, rep->nres, fm);
		double secs = 0;
		for (size_t i = 0; i < rep->nres; i++)
			if (rep->res[i].fmt == (enum ims_format)fm)
				secs += rep->res[i].secs;
		fprintf(f, "  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
			   "skipped=\"%zu\" time=\"%.6f\" timestamp=\"%s\">\n",
			ims_format_name(fm), t.runs, t.st[CF_FAIL], t.st[CF_ERROR],
			t.st[CF_SKIP] + t.st[CF_DEVIATION], secs, stamp);
		for (size_t i = 0; i < rep->nres; i++) {
			const struct cf_result *x = &rep->res[i];
			if (x->fmt != (enum ims_format)fm)
				continue;
			fputs("    <testcase classname=\"", f);
			xml_esc(f, x->c->spec);
			fputc(' ', f);
			xml_esc(f, x->c->section);
			fputs("\" name=\"", f);
			xml_esc(f, x->c->id);
			fputs("\" file=\"", f);
			xml_esc(f, x->c->file);
			fprintf(f, "\" line=\"%" PRIu64 "\" time=\"%.6f\"", x->c->line, x->secs);
			if (x->status == CF_PASS) {
				fputs("/>\n", f);
				continue;
			}
			fputs(">\n", f);
			if (x->status == CF_SKIP || x->status == CF_DEVIATION) {
				fputs("      <skipped message=\"", f);
				xml_esc_line(f, x->summary);
				fputs("\"/>\n", f);
			} else {
				const char *tag = x->status == CF_FAIL ? "failure" : "error";
				fprintf(f, "      <%s message=\"", tag);
				xml_esc_line(f, x->summary);
				fprintf(f, "\" type=\"%s\">", x->status == CF_FAIL ? "validation" : "input");
				xml_esc(f, x->c->title);
				fputc('\n', f);
				xml_esc(f, x->summary);
				if (x->detail && *x->detail) {
					fputc('\n', f);
					xml_esc(f, x->detail);
				}
				fprintf(f, "</%s>\n", tag);
			}
			fputs("    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
}

/* ---- summary.json ------------------------------------------------------------------ */

static void json_tally(FILE *f, struct tally t)
{
	fprintf(f, "{\"runs\":%zu,\"pass\":%zu,\"fail\":%zu,\"deviation\":%zu,\"skip\":%zu}", t.runs,
		t.st[CF_PASS], bad(t), t.st[CF_DEVIATION], t.st[CF_SKIP]);
}

static const char *const json_grp[G_COUNT] = {"fail", "deviation", "pass", "skip"};

static void write_json(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		       const struct chart *ch)
{
	fprintf(f, "{\"tool\":\"iommusim conform\",\"version\":\"%s\",\"exit\":%d,\"seconds\":%.6f,"
		   "\"cases\":%zu,\"totals\":",
		IMS_VERSION_STRING, rep->exit_status, rep->secs, ncases(rep));
	json_tally(f, tally_of(rep, NULL, rep->nres, -1));
	fputs(",\"suites\":[", f);
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? "," : "", f);
		json_string(f, rep->suite->files[i]);
	}
	fputs("],\"formats\":{", f);
	bool first = true;
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
		if (!(rep->formats & (1u << fm)))
			continue;
		fprintf(f, "%s\"%s\":", first ? "" : ",", ims_format_name(fm));
		json_tally(f, tally_of(rep, NULL, rep->nres, fm));
		first = false;
	}
	fputs("},\"sections\":[", f);
	for (size_t r = 0; r < nrows; r++) {
		fputs(r ? ",{\"spec\":" : "{\"spec\":", f);
		json_string(f, rows[r].spec);
		fputs(",\"section\":", f);
		json_string(f, rows[r].section);
		fputs(",\"totals\":", f);
		json_tally(f, tally_of(rep, rows[r].idx, rows[r].n, -1));
		fputs(",\"formats\":{", f);
		first = true;
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			int head = cell_head(rep, &rows[r], fm);
			if (head < 0)
				continue;
			fprintf(f, "%s\"%s\":{\"result\":\"%s\"", first ? "" : ",", ims_format_name(fm),
				json_grp[head]);
			for (int g = 0; g < G_COUNT; g++) {
				fprintf(f, ",\"%s\":[", json_grp[g]);
				bool f1 = true;
				for (size_t i = 0; i < rows[r].n; i++) {
					const struct cf_result *x = &rep->res[rows[r].idx[i]];
					if (x->fmt != (enum ims_format)fm || (int)grp_of(x->status) != g)
						continue;
					fputs(f1 ? "" : ",", f);
					json_string(f, x->c->id);
					f1 = false;
				}
				fputc(']', f);
			}
			fputc('}', f);
			first = false;
		}
		fputs("}}", f);
	}
	fputs("],\"chart\":", f);
	if (ch->made) {
		fputs("{\"file\":\"chart.svg\"}", f);
	} else {
		fputs("{\"skipped\":", f);
		json_string(f, ch->why);
		fputc('}', f);
	}
	fputs(",\"results\":[", f);
	for (size_t i = 0; i < rep->nres; i++) {
		const struct cf_result *x = &rep->res[i];
		const struct cf_case *c = x->c;
		fputs(i ? ",{\"id\":" : "{\"id\":", f);
		json_string(f, c->id);
		fprintf(f, ",\"format\":\"%s\",\"result\":\"%s\",\"bad_input\":%s,\"title\":",
			ims_format_name(x->fmt), json_grp[grp_of(x->status)],
			x->status == CF_ERROR ? "true" : "false");
		json_string(f, c->title);
		fputs(",\"spec\":", f);
		json_string(f, c->spec);
		fputs(",\"section\":", f);
		json_string(f, c->section);
		fputs(",\"file\":", f);
		json_string(f, c->file);
		fprintf(f, ",\"line\":%" PRIu64 ",\"expect\":\"%s\",\"seconds\":%.6f,"
			   "\"validation_failures\":%" PRIu64 ",\"message\":",
			c->line, cf_expect_name(c->expect), x->secs, x->validation_failures);
		if (x->summary)
			json_string(f, x->summary);
		else
			fputs("null", f);
		fputs(",\"detail\":", f);
		if (x->detail && *x->detail)
			json_string(f, x->detail);
		else
			fputs("null", f);
		fputs(",\"deviation\":", f);
		if (c->deviation)
			json_string(f, c->deviation);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

/* ---- all of them ---------------------------------------------------------------------- */

static int mkdirs(const char *dir)
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

enum { F_MD, F_HTML, F_JUNIT, F_JSON, F_CHART, F_COUNT };

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
		fprintf(stderr, "iommusim conform: out of memory\n");
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
		write_md(of[F_MD].f, rep, rows, nrows, &ch);
		write_html(of[F_HTML].f, rep, rows, nrows, &ch);
		write_junit(of[F_JUNIT].f, rep, stamp);
		write_json(of[F_JSON].f, rep, rows, nrows, &ch);
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
