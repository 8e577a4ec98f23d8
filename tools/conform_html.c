/* iommusim conform: the report for people as one self-contained page,
 * report.html. It is XHTML (well-formed XML) that browsers read as HTML;
 * its script and style are inline, so the file can be mailed or archived
 * alone. Without the script the page is whole: every case is there, the
 * filters are not shown.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/conform_report.h"

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
	"img.chart{max-width:100%;border:1px solid #ddd}"
	".toc{border:1px solid #ddd;background:#fafafa;padding:.2em 1em;display:inline-block}"
	".toc h2{font-size:1.1em}"
	".filters{border:1px solid #ddd;padding:.5em 1em;margin:1em 0}"
	".filters fieldset{display:inline-block;margin-right:1em;border:1px solid #ccc}"
	".filters label{margin-right:.8em;white-space:nowrap}"
	"details.case{border:1px solid #ddd;margin:.3em 0;padding:.2em .6em}"
	"details.case[open]{background:#fcfcfc}"
	"details.case summary{cursor:pointer}"
	"span.r{font-size:85%;padding:0 .3em;margin-left:.3em;border-radius:.2em}"
	"span.r.pass,li.pass{background:#e6f4ea}span.r.fail,li.fail{background:#fce8e6}"
	"span.r.dev,li.dev{background:#fff4d6}span.r.skip,li.skip{background:#f1f1f1}"
	"table.cite th{width:9em}em.norev{color:#a15c00}"
	"ul.results{padding-left:1.2em}ul.results li{margin:.2em 0;padding:0 .3em}";

/* The filters and the jump to a case. It sets data-ready="1" on <body>
 * as its last step, so that a test loading the page in a browser can tell
 * that it ran to the end. Wrapped for XML parsers; browsers read the CDATA
 * marks as comments. */
static const char script[] =
	"//<![CDATA[\n"
	"(function () {\n"
	"  \"use strict\";\n"
	"  var filters = document.getElementById(\"filters\");\n"
	"  var count = document.getElementById(\"filter-count\");\n"
	"  function boxes(kind) {\n"
	"    return filters.querySelectorAll(\"input[data-filter='\" + kind + \"']\");\n"
	"  }\n"
	"  function wanted(kind) {\n"
	"    var m = {}, b = boxes(kind);\n"
	"    for (var i = 0; i < b.length; i++) m[b[i].value] = b[i].checked;\n"
	"    return m;\n"
	"  }\n"
	"  /* report.html?status=fail,dev&format=vtd: a link to a filtered view. */\n"
	"  function preset() {\n"
	"    var q = new URLSearchParams(location.search);\n"
	"    [\"status\", \"format\"].forEach(function (kind) {\n"
	"      var v = q.get(kind);\n"
	"      if (v === null) return;\n"
	"      var want = v.split(\",\"), b = boxes(kind);\n"
	"      for (var i = 0; i < b.length; i++) b[i].checked = want.indexOf(b[i].value) >= 0;\n"
	"    });\n"
	"  }\n"
	"  /* A case shows when one of its results has a checked format and a\n"
	"     checked result. */\n"
	"  function apply() {\n"
	"    var st = wanted(\"status\"), fm = wanted(\"format\"), shown = 0, all = 0;\n"
	"    var groups = document.querySelectorAll(\"#case-list .case-file\");\n"
	"    for (var g = 0; g < groups.length; g++) {\n"
	"      var cases = groups[g].querySelectorAll(\"details.case\"), left = 0;\n"
	"      for (var i = 0; i < cases.length; i++) {\n"
	"        var rs = cases[i].getAttribute(\"data-results\").split(\" \"), show = false;\n"
	"        for (var k = 0; k < rs.length; k++) {\n"
	"          var p = rs[k].split(\":\");\n"
	"          if (fm[p[0]] && st[p[1]]) show = true;\n"
	"        }\n"
	"        cases[i].hidden = !show;\n"
	"        all++;\n"
	"        if (show) { shown++; left++; }\n"
	"      }\n"
	"      groups[g].hidden = left === 0;\n"
	"    }\n"
	"    count.textContent = shown + \" of \" + all + \" cases shown\";\n"
	"  }\n"
	"  function setOpen(open) {\n"
	"    var cases = document.querySelectorAll(\"#case-list details.case\");\n"
	"    for (var i = 0; i < cases.length; i++) if (!cases[i].hidden) cases[i].open = open;\n"
	"  }\n"
	"  /* A link to a case (the matrix, the failures) opens it, filtered or not. */\n"
	"  function reveal() {\n"
	"    var id = decodeURIComponent(location.hash.slice(1));\n"
	"    var el = id ? document.getElementById(id) : null;\n"
	"    if (!el || el.tagName !== \"DETAILS\") return;\n"
	"    el.hidden = false;\n"
	"    el.parentNode.hidden = false;\n"
	"    el.open = true;\n"
	"    el.scrollIntoView();\n"
	"  }\n"
	"  filters.addEventListener(\"change\", apply);\n"
	"  document.getElementById(\"open-all\").addEventListener(\"click\", function () { setOpen(true); });\n"
	"  document.getElementById(\"close-all\").addEventListener(\"click\", function () { setOpen(false); });\n"
	"  window.addEventListener(\"hashchange\", reveal);\n"
	"  filters.hidden = false;\n"
	"  preset();\n"
	"  apply();\n"
	"  reveal();\n"
	"  document.body.setAttribute(\"data-ready\", \"1\");\n"
	"})();\n"
	"//]]>\n";

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

/* Ids link to the case's entry in the case list (ids are letters, digits,
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

static void html_revision(FILE *f, const struct cf_doc *d)
{
	if (d->revision)
		cf_xml_esc(f, d->revision);
	else
		fputs("<em class=\"norev\">revision not stated</em>", f);
}

/* The index of the case file in the suite's list: its anchor. */
static size_t file_index(const struct cf_report *rep, const struct cf_case *c)
{
	for (size_t i = 0; i < rep->suite->nfiles; i++)
		if (rep->suite->files[i] == c->file)
			return i;
	return 0;
}

/* ---- the parts ---------------------------------------------------------------------- */

static void write_toc(FILE *f, const struct cf_report *rep, struct tally all)
{
	fputs("<div id=\"toc\" class=\"toc\">\n<h2>Contents</h2>\n<ol>\n"
	      "<li><a href=\"#totals\">Totals per format</a></li>\n"
	      "<li><a href=\"#documents\">Documents cited</a></li>\n"
	      "<li><a href=\"#matrix\">Spec section &#215; format</a></li>\n"
	      "<li><a href=\"#chart\">Chart</a></li>\n", f);
	fprintf(f, "<li><a href=\"#failures\">Failures</a> (%zu)</li>\n"
		   "<li><a href=\"#deviations\">Known deviations</a> (%zu)</li>\n"
		   "<li><a href=\"#cases\">Cases and their evidence</a> (%zu)\n<ol>\n",
		bad(all), all.st[CF_DEVIATION], cf_ncases(rep));
	for (size_t i = 0; i < rep->nres;) {
		const struct cf_case *c = rep->res[i].c;
		size_t n = 0;
		while (i < rep->nres && rep->res[i].c->file == c->file) {
			i = cf_case_end(rep, i);
			n++;
		}
		fprintf(f, "<li><a href=\"#file-%zu\"><code>", file_index(rep, c));
		cf_xml_esc(f, c->name);
		fprintf(f, "</code></a> (%zu)</li>\n", n);
	}
	fputs("</ol></li>\n</ol>\n</div>\n", f);
}

static void write_documents(FILE *f, const struct cf_report *rep)
{
	struct cited *v;
	size_t n = cf_cited(rep, &v), norev = 0;
	fputs("<h2 id=\"documents\">Documents cited</h2>\n<p>Every case cites a section of one of "
	      "these documents; the matrix and the cases name a document by its short name "
	      "(spec).</p>\n<table>\n<tr><th>spec</th><th>document</th><th>revision</th>"
	      "<th>cases</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		cf_xml_esc(f, v[i].doc->name);
		fputs("</td><td>", f);
		cf_xml_esc(f, v[i].doc->document);
		fputs("</td><td>", f);
		html_revision(f, v[i].doc);
		fprintf(f, "</td><td>%zu</td></tr>\n", v[i].cases);
		norev += !v[i].doc->revision;
	}
	fputs("</table>\n", f);
	if (norev)
		fprintf(f, "<p>%zu of %zu documents have no revision stated in the suite: their "
			   "sections are cited as the suite gives them.</p>\n", norev, n);
	free(v);
}

static void write_matrix(FILE *f, const struct cf_report *rep, const struct row *rows,
			 size_t nrows)
{
	fputs("<h2 id=\"matrix\">Spec section &#215; format</h2>\n<p>Each cell: pass, FAIL or "
	      "deviates (a known deviation of the model, declared in the case) with the case ids, "
	      "worst first; - where no case applies.</p>\n<table>\n<tr><th>spec section</th>", f);
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
			fprintf(f, "<td class=\"%s\">", cf_grp_class[head]);
			cf_cell_text(f, rep, &rows[r], fm, head, html_id);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void write_messages(FILE *f, const struct cf_report *rep)
{
	static const char *const heads[] = {"Failures", "Known deviations"};
	static const char *const ids[] = {"failures", "deviations"};
	for (int part = 0; part < 2; part++) {
		fprintf(f, "<h2 id=\"%s\">%s</h2>\n", ids[part], heads[part]);
		bool any = false;
		for (size_t i = 0; i < rep->nres; i++) {
			const struct cf_result *x = &rep->res[i];
			if (grp_of(x->status) != (part ? G_DEV : G_FAIL))
				continue;
			any = true;
			fputs("<h3>", f);
			html_id(f, x);
			fprintf(f, " [%s]</h3>\n<p>", ims_format_name(x->fmt));
			cf_xml_esc(f, x->c->title);
			fputs(" (", f);
			cf_xml_esc(f, x->c->spec);
			fputc(' ', f);
			cf_xml_esc(f, x->c->section);
			fputs("; <code>", f);
			cf_xml_esc(f, x->c->name);
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
}

static void write_filters(FILE *f, const struct cf_report *rep)
{
	struct tally all = cf_tally_of(rep, NULL, rep->nres, -1);
	size_t per[G_COUNT] = {bad(all), all.st[CF_DEVIATION], all.st[CF_PASS], all.st[CF_SKIP]};
	/* Hidden until the script shows it: without the script it would do
	 * nothing. */
	fputs("<div id=\"filters\" class=\"filters\" hidden=\"hidden\">\n"
	      "<fieldset id=\"filter-status\"><legend>Result</legend>\n", f);
	for (int g = 0; g < G_COUNT; g++)
		fprintf(f, "<label><input type=\"checkbox\" data-filter=\"status\" value=\"%s\" "
			   "checked=\"checked\"/> %s (%zu)</label>\n",
			cf_grp_class[g], cf_grp_head[g], per[g]);
	fputs("</fieldset>\n<fieldset id=\"filter-format\"><legend>Format</legend>\n", f);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			fprintf(f, "<label><input type=\"checkbox\" data-filter=\"format\" value=\"%s\" "
				   "checked=\"checked\"/> %s (%zu)</label>\n",
				ims_format_name(fm), ims_format_name(fm),
				cf_tally_of(rep, NULL, rep->nres, fm).runs);
	fputs("</fieldset>\n<button type=\"button\" id=\"open-all\">Open all shown</button>\n"
	      "<button type=\"button\" id=\"close-all\">Close all</button>\n"
	      "<span id=\"filter-count\"></span>\n</div>\n", f);
}

static void fact_row(FILE *f, const char *name)
{
	fprintf(f, "<tr><th>%s</th><td>", name);
}

static void write_case(FILE *f, const struct cf_report *rep, size_t i, size_t end)
{
	const struct cf_case *c = rep->res[i].c;
	fputs("<details class=\"case\" id=\"c-", f);
	cf_xml_esc(f, c->id);
	fputs("\" data-results=\"", f);
	for (size_t k = i; k < end; k++)
		fprintf(f, "%s%s:%s", k > i ? " " : "", ims_format_name(rep->res[k].fmt),
			cf_grp_class[grp_of(rep->res[k].status)]);
	fputs("\">\n<summary><span class=\"id\">", f);
	cf_xml_esc(f, c->id);
	fputs("</span>", f);
	for (size_t k = i; k < end; k++) {
		enum grp g = grp_of(rep->res[k].status);
		fprintf(f, " <span class=\"r %s\">%s %s</span>", cf_grp_class[g],
			ims_format_name(rep->res[k].fmt), cf_grp_head[g]);
	}
	fputs(" ", f);
	cf_xml_esc(f, c->title);
	fputs("</summary>\n<table class=\"cite\">\n", f);
	fact_row(f, "document");
	cf_xml_esc(f, c->doc->document);
	fputs("</td></tr>\n", f);
	fact_row(f, "revision");
	html_revision(f, c->doc);
	fputs("</td></tr>\n", f);
	fact_row(f, "section");
	cf_xml_esc(f, c->section);
	fputs("</td></tr>\n", f);
	fact_row(f, "defined at");
	fputs("<code>", f);
	cf_xml_esc(f, c->name);
	fprintf(f, ":%" PRIu64 "</code></td></tr>\n", c->line);
	fact_row(f, "expect");
	fputs(cf_expect_name(c->expect), f);
	if (c->expect == CF_EXPECT_FAIL && c->failures >= 0)
		fprintf(f, " (%ld validation failure%s)", c->failures, c->failures == 1 ? "" : "s");
	if (c->error) {
		fputs(" (&quot;", f);
		cf_xml_esc(f, c->error);
		fputs("&quot;)", f);
	}
	fputs("</td></tr>\n", f);
	if (c->nmodel) {
		fact_row(f, "model");
		for (size_t m = 0; m < c->nmodel; m++) {
			fputs(m ? ", <code>" : "<code>", f);
			cf_xml_esc(f, c->model[m].key);
			fputs(": ", f);
			cf_xml_esc(f, c->model[m].value);
			fputs("</code>", f);
		}
		fputs("</td></tr>\n", f);
	}
	if (c->walker) {
		fact_row(f, "walker");
		fputs("<code>", f);
		cf_xml_esc(f, c->walker);
		fputs("</code></td></tr>\n", f);
	}
	if (c->notes) {
		fact_row(f, "notes");
		cf_xml_esc(f, c->notes);
		fputs("</td></tr>\n", f);
	}
	if (c->deviation) {
		fact_row(f, "known deviation");
		cf_xml_esc(f, c->deviation);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<ul class=\"results\">\n", f);
	for (size_t k = i; k < end; k++) {
		const struct cf_result *x = &rep->res[k];
		enum grp g = grp_of(x->status);
		fprintf(f, "<li class=\"%s\"><b>%s</b>: %s", cf_grp_class[g], ims_format_name(x->fmt),
			cf_grp_head[g]);
		if (x->summary) {
			fputs(": ", f);
			cf_xml_esc(f, x->summary);
		}
		if (x->detail && *x->detail) {
			fputs("<pre class=\"msg\">", f);
			cf_xml_esc(f, x->detail);
			fputs("</pre>", f);
		}
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
	const struct cf_body *b[IMS_FMT_COUNT];
	int fm[IMS_FMT_COUNT];
	int nb = cf_case_bodies(c, b, fm);
	for (int k = 0; k < nb; k++) {
		fputs("<p>Trace", f);
		if (fm[k] >= 0)
			fprintf(f, " for %s", ims_format_name(fm[k]));
		else if (__builtin_popcount(c->formats) > 1)
			fputs(" ({format} stands for each format's name)", f);
		fputs(" (<code>", f);
		cf_xml_esc(f, c->name);
		fprintf(f, "</code> lines %" PRIu64 "-%" PRIu64 "):</p>\n<pre class=\"trace\">",
			b[k]->first_line, cf_body_last_line(b[k]));
		cf_xml_esc(f, b[k]->text);
		fputs("</pre>\n", f);
	}
	fputs("</details>\n", f);
}

static void write_cases(FILE *f, const struct cf_report *rep)
{
	fputs("<h2 id=\"cases\">Cases and their evidence</h2>\n<p>Every case with its citation, its "
	      "results and its trace (click a case to open it). Line numbers are those of the "
	      "case file.</p>\n", f);
	write_filters(f, rep);
	fputs("<div id=\"case-list\">\n", f);
	for (size_t i = 0; i < rep->nres;) {
		const struct cf_case *first = rep->res[i].c;
		fprintf(f, "<div class=\"case-file\" id=\"file-%zu\">\n<h3><code>",
			file_index(rep, first));
		cf_xml_esc(f, first->name);
		fputs("</code></h3>\n", f);
		while (i < rep->nres && rep->res[i].c->file == first->file) {
			size_t end = cf_case_end(rep, i);
			write_case(f, rep, i, end);
			i = end;
		}
		fputs("</div>\n", f);
	}
	fputs("</div>\n", f);
}

/* ---- report.html ------------------------------------------------------------------ */

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
	fputs("<p>Case files (relative to their suite):", f);
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? ", <code>" : " <code>", f);
		cf_xml_esc(f, rep->suite->names[i]);
		fputs("</code>", f);
	}
	fputs(".</p>\n", f);
	write_toc(f, rep, all);
	fputs("<h2 id=\"totals\">Totals per format</h2>\n<table>\n<tr><th>format</th><th>runs</th>"
	      "<th>pass</th><th>fail</th><th>deviates</th><th>skip</th></tr>\n", f);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			html_tally_row(f, ims_format_name(fm), cf_tally_of(rep, NULL, rep->nres, fm));
	html_tally_row(f, "all", all);
	fputs("</table>\n", f);
	write_documents(f, rep);
	write_matrix(f, rep, rows, nrows);
	fputs("<h2 id=\"chart\">Chart</h2>\n", f);
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
	write_messages(f, rep);
	write_cases(f, rep);
	fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", script);
}
