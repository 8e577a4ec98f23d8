/* iommusim conform: the reports for people, report.md and report.html. */
#include <inttypes.h>
#include <string.h>

#include "tools/conform_report.h"

/* ---- escaping and encoding -------------------------------------------------------- */

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

static const char *const grp_head[G_COUNT] = {"FAIL", "deviates", "pass", "skip"};
static const char *const grp_class[G_COUNT] = {"fail", "dev", "pass", "skip"};

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

void cf_write_md(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		 const struct chart *ch)
{
	struct tally all = cf_tally_of(rep, NULL, rep->nres, -1);
	fprintf(f, "# iommusim conformance report\n\n");
	fprintf(f, "iommusim %s: %zu cases, %zu runs (case x format) in %.2f s: %zu passed, "
		   "%zu failed, %zu known deviations, %zu skipped. Exit status %d. Walker under test: "
		   "`%s`.\n\n",
		IMS_VERSION_STRING, cf_ncases(rep), rep->nres, rep->secs, all.st[CF_PASS], bad(all),
		all.st[CF_DEVIATION], all.st[CF_SKIP], rep->exit_status,
		rep->walker ? rep->walker : "fast");
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
			write_tally_row_md(f, ims_format_name(fm), cf_tally_of(rep, NULL, rep->nres, fm));
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
			int head = cf_cell_head(rep, &rows[r], fm);
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
	cf_xml_esc(f, x->c->id);
	fputs("\" title=\"", f);
	cf_xml_esc(f, x->c->title);
	fputs("\">", f);
	cf_xml_esc(f, x->c->id);
	fputs("</a>", f);
}

static void html_tally_row(FILE *f, const char *name, struct tally t)
{
	fprintf(f, "<tr><td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n",
		name, t.runs, t.st[CF_PASS], bad(t), t.st[CF_DEVIATION], t.st[CF_SKIP]);
}

void cf_write_html(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		   const struct chart *ch)
{
	struct tally all = cf_tally_of(rep, NULL, rep->nres, -1);
	fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
		   "<head>\n<meta charset=\"utf-8\"/>\n<title>iommusim conformance report</title>\n"
		   "<style>%s</style>\n</head>\n<body>\n<h1>iommusim conformance report</h1>\n",
		css);
	fprintf(f, "<p>iommusim %s: %zu cases, %zu runs (case &#215; format) in %.2f s: %zu passed, "
		   "%zu failed, %zu known deviations, %zu skipped. Exit status %d. Walker under test: ",
		IMS_VERSION_STRING, cf_ncases(rep), rep->nres, rep->secs, all.st[CF_PASS], bad(all),
		all.st[CF_DEVIATION], all.st[CF_SKIP], rep->exit_status);
	fputs("<code>", f);
	cf_xml_esc(f, rep->walker ? rep->walker : "fast");
	fputs("</code>.</p>\n", f);
	fputs("<p>Suites:", f);
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? ", <code>" : " <code>", f);
		cf_xml_esc(f, rep->suite->files[i]);
		fputs("</code>", f);
	}
	fputs(".</p>\n<h2>Totals per format</h2>\n<table>\n<tr><th>format</th><th>runs</th>"
	      "<th>pass</th><th>fail</th><th>deviates</th><th>skip</th></tr>\n", f);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			html_tally_row(f, ims_format_name(fm), cf_tally_of(rep, NULL, rep->nres, fm));
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
		cf_xml_esc(f, rows[r].spec);
		fputc(' ', f);
		cf_xml_esc(f, rows[r].section);
		fputs("</th>", f);
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			if (!(rep->formats & (1u << fm)))
				continue;
			int head = cf_cell_head(rep, &rows[r], fm);
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
		cf_xml_esc(f, ch->why);
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
			cf_xml_esc(f, x->c->id);
			fprintf(f, " [%s]</h3>\n<p>", ims_format_name(x->fmt));
			cf_xml_esc(f, x->c->title);
			fputs(" (", f);
			cf_xml_esc(f, x->c->spec);
			fputc(' ', f);
			cf_xml_esc(f, x->c->section);
			fputs("; <code>", f);
			cf_xml_esc(f, x->c->file);
			fprintf(f, ":%" PRIu64 "</code>; expect %s)</p>\n<pre>", x->c->line,
				cf_expect_name(x->c->expect));
			cf_xml_esc(f, x->summary);
			if (x->detail && *x->detail) {
				fputc('\n', f);
				cf_xml_esc(f, x->detail);
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
		cf_xml_esc(f, c->id);
		fputs("\"><td><span class=\"id\">", f);
		cf_xml_esc(f, c->id);
		fputs("</span></td><td>", f);
		cf_xml_esc(f, c->spec);
		fputc(' ', f);
		cf_xml_esc(f, c->section);
		fprintf(f, "</td><td>%s</td><td>", cf_expect_name(c->expect));
		for (bool first = true; i < rep->nres && rep->res[i].c == c; i++, first = false)
			fprintf(f, "%s%s %s", first ? "" : ", ", ims_format_name(rep->res[i].fmt),
				result_word(rep->res[i].status, false));
		fputs("</td><td>", f);
		cf_xml_esc(f, c->title);
		if (c->notes) {
			fputs("<br/><small>", f);
			cf_xml_esc(f, c->notes);
			fputs("</small>", f);
		}
		if (c->deviation) {
			fputs("<br/><small>known deviation: ", f);
			cf_xml_esc(f, c->deviation);
			fputs("</small>", f);
		}
		fputs("</td><td><code>", f);
		cf_xml_esc(f, c->file);
		fprintf(f, ":%" PRIu64 "</code></td></tr>\n", c->line);
	}
	fputs("</table>\n</body>\n</html>\n", f);
}
