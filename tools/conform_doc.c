/* iommusim conform: the report for people in Markdown, report.md. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/conform_report.h"

/* ---- escaping -------------------------------------------------------------------- */

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

/* A code fence longer than any run of backquotes in the texts, so that a
 * trace or message holding ``` cannot end it. */
static size_t fence_len(const char *a, const char *b)
{
	size_t longest = 0;
	for (const char *s = a; s; s = s == a ? b : NULL) {
		size_t run = 0;
		for (; *s; s++) {
			run = *s == '`' ? run + 1 : 0;
			if (run > longest)
				longest = run;
		}
	}
	return longest < 3 ? 3 : longest + 1;
}

static void fence(FILE *f, size_t n, const char *info)
{
	for (size_t i = 0; i < n; i++)
		fputc('`', f);
	fprintf(f, "%s\n", info);
}

/* Text in a fenced block, ending with a newline. */
static void fenced_text(FILE *f, const char *s)
{
	if (!s || !*s)
		return;
	fputs(s, f);
	if (s[strlen(s) - 1] != '\n')
		fputc('\n', f);
}

/* ---- pieces ------------------------------------------------------------------------- */

static void write_tally_row_md(FILE *f, const char *name, struct tally t)
{
	fprintf(f, "| %s | %zu | %zu | %zu | %zu | %zu |\n", name, t.runs, t.st[CF_PASS], bad(t),
		t.st[CF_DEVIATION], t.st[CF_SKIP]);
}

static void md_id(FILE *f, const struct cf_result *x)
{
	md_esc(f, x->c->id);
}

static const char *result_word(enum cf_status s)
{
	switch (s) {
	case CF_PASS:
		return "pass";
	case CF_SKIP:
		return "skip";
	case CF_DEVIATION:
		return "deviates";
	default:
		return "**FAIL**";
	}
}

/* A revision, or the flag that the suite states none: a section number
 * means little without it, and a guessed one would mislead. */
static void md_revision(FILE *f, const struct cf_doc *d)
{
	if (d->revision)
		md_esc(f, d->revision);
	else
		fputs("*revision not stated*", f);
}

static void write_documents(FILE *f, const struct cf_report *rep)
{
	struct cited *v;
	size_t n = cf_cited(rep, &v), norev = 0;
	fputs("\n## Documents cited\n\nEvery case cites a section of one of these documents; the "
	      "matrix and the cases name a document by its short name (spec).\n\n"
	      "| spec | document | revision | cases |\n|---|---|---|---:|\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("| ", f);
		md_esc(f, v[i].doc->name);
		fputs(" | ", f);
		md_esc(f, v[i].doc->document);
		fputs(" | ", f);
		md_revision(f, v[i].doc);
		fprintf(f, " | %zu |\n", v[i].cases);
		norev += !v[i].doc->revision;
	}
	if (norev)
		fprintf(f, "\n%zu of %zu documents have no revision stated in the suite: their "
			   "sections are cited as the suite gives them.\n", norev, n);
	free(v);
}

static void write_case_facts(FILE *f, const struct cf_report *rep, size_t i, size_t end)
{
	const struct cf_case *c = rep->res[i].c;
	fputs("- document: ", f);
	md_esc(f, c->doc->document);
	fputs("\n- revision: ", f);
	md_revision(f, c->doc);
	fputs("\n- section: ", f);
	md_esc(f, c->section);
	fputs("\n- defined at: `", f);
	md_esc(f, c->name);
	fprintf(f, ":%" PRIu64 "`\n- expect: %s", c->line, cf_expect_name(c->expect));
	if (c->expect == CF_EXPECT_FAIL && c->failures >= 0)
		fprintf(f, " (%ld validation failure%s)", c->failures, c->failures == 1 ? "" : "s");
	if (c->error) {
		fputs(" (\"", f);
		md_esc(f, c->error);
		fputs("\")", f);
	}
	fputc('\n', f);
	for (size_t k = i; k < end; k++) {
		const struct cf_result *x = &rep->res[k];
		fprintf(f, "- %s: %s", ims_format_name(x->fmt), result_word(x->status));
		if (x->summary) {
			fputs(": ", f);
			md_esc(f, x->summary);
		}
		fputc('\n', f);
	}
	if (c->nmodel) {
		fputs("- model:", f);
		for (size_t m = 0; m < c->nmodel; m++) {
			fputs(m ? ", `" : " `", f);
			md_esc(f, c->model[m].key);
			fputs(": ", f);
			md_esc(f, c->model[m].value);
			fputc('`', f);
		}
		fputc('\n', f);
	}
	if (c->walker) {
		fputs("- walker: `", f);
		md_esc(f, c->walker);
		fputs("`\n", f);
	}
	if (c->notes) {
		fputs("- notes: ", f);
		md_esc(f, c->notes);
		fputc('\n', f);
	}
	if (c->deviation) {
		fputs("- known deviation: ", f);
		md_esc(f, c->deviation);
		fputc('\n', f);
	}
}

/* Every case with its citation, results and trace: the evidence the
 * results rest on, readable without the case files. */
static void write_evidence(FILE *f, const struct cf_report *rep)
{
	fputs("\n## Evidence\n\nEvery case with its citation, its results and its trace. Line "
	      "numbers are those of the case file; in a trace shared by several formats "
	      "`{format}` stands for each format's name.\n", f);
	for (size_t i = 0, end; i < rep->nres; i = end) {
		const struct cf_case *c = rep->res[i].c;
		end = cf_case_end(rep, i);
		fputs("\n### ", f);
		md_esc(f, c->id);
		fputs("\n\n", f);
		md_esc(f, c->title);
		fputs("\n\n", f);
		write_case_facts(f, rep, i, end);
		for (size_t k = i; k < end; k++) {
			const struct cf_result *x = &rep->res[k];
			if (!x->detail || !*x->detail)
				continue;
			fprintf(f, "\nMessages for %s:\n\n", ims_format_name(x->fmt));
			size_t n = fence_len(x->detail, NULL);
			fence(f, n, "");
			fenced_text(f, x->detail);
			fence(f, n, "");
		}
		const struct cf_body *b[IMS_FMT_COUNT];
		int fm[IMS_FMT_COUNT];
		int nb = cf_case_bodies(c, b, fm);
		for (int k = 0; k < nb; k++) {
			fputs("\nTrace", f);
			if (fm[k] >= 0)
				fprintf(f, " for %s", ims_format_name(fm[k]));
			fputs(" (`", f);
			md_esc(f, c->name);
			fprintf(f, "` lines %" PRIu64 "-%" PRIu64 "):\n\n", b[k]->first_line,
				cf_body_last_line(b[k]));
			size_t n = fence_len(b[k]->text, NULL);
			fence(f, n, "text");
			fenced_text(f, b[k]->text);
			fence(f, n, "");
		}
	}
}

/* ---- report.md ------------------------------------------------------------------- */

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
	fprintf(f, "Case files (relative to their suite):");
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? ", `" : " `", f);
		md_esc(f, rep->suite->names[i]);
		fputc('`', f);
	}
	fprintf(f, ".\n\n## Totals per format\n\n| format | runs | pass | fail | deviates | skip |\n"
		   "|---|---:|---:|---:|---:|---:|\n");
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++)
		if (rep->formats & (1u << fm))
			write_tally_row_md(f, ims_format_name(fm), cf_tally_of(rep, NULL, rep->nres, fm));
	write_tally_row_md(f, "all", all);
	write_documents(f, rep);
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
				cf_cell_text(f, rep, &rows[r], fm, head, md_id);
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
			fputs("; `", f);
			md_esc(f, x->c->name);
			fprintf(f, ":%" PRIu64 "`; expect %s)\n\n", x->c->line,
				cf_expect_name(x->c->expect));
			size_t n = fence_len(x->summary ? x->summary : "", x->detail ? x->detail : "");
			fence(f, n, "");
			fenced_text(f, x->summary ? x->summary : "\n");
			fenced_text(f, x->detail);
			fence(f, n, "");
			fputc('\n', f);
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
				result_word(rep->res[i].status));
		fputs(" | ", f);
		md_esc(f, c->title);
		fputs(" | `", f);
		md_esc(f, c->name);
		fprintf(f, ":%" PRIu64 "` |\n", c->line);
	}
	write_evidence(f, rep);
}
