/* iommusim conform: the reports for machines, junit.xml and summary.json. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmd.h"
#include "tools/conform_report.h"

/* ---- junit.xml --------------------------------------------------------------------- */

/* CI tools read a classname as package.Class and some as a path: a dot or a
 * slash in "2.2.3.2" or "A/D" would split one spec section into a tree. */
static void junit_class(FILE *f, const char *s)
{
	char *t = strdup(s ? s : "");
	if (!t)
		return;
	for (char *p = t; *p; p++)
		if (*p == '.' || *p == '/' || *p == '\\')
			*p = '_';
	cf_xml_esc(f, t);
	free(t);
}

void cf_write_junit(FILE *f, const struct cf_report *rep, const char *stamp)
{
	struct tally all = cf_tally_of(rep, NULL, rep->nres, -1);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"iommusim conform\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "skipped=\"%zu\" time=\"%.6f\">\n",
		all.runs, all.st[CF_FAIL], all.st[CF_ERROR], all.st[CF_SKIP] + all.st[CF_DEVIATION],
		rep->secs);
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
		if (!(rep->formats & (1u << fm)))
			continue;
		struct tally t = cf_tally_of(rep, NULL, rep->nres, fm);
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
			junit_class(f, x->c->spec);
			fputc(' ', f);
			junit_class(f, x->c->section);
			fputs("\" name=\"", f);
			cf_xml_esc(f, x->c->id);
			fputs("\" file=\"", f);
			cf_xml_esc(f, x->c->name);
			fprintf(f, "\" line=\"%" PRIu64 "\" time=\"%.6f\"", x->c->line, x->secs);
			if (x->status == CF_PASS) {
				fputs("/>\n", f);
				continue;
			}
			fputs(">\n", f);
			if (x->status == CF_SKIP || x->status == CF_DEVIATION) {
				fputs("      <skipped message=\"", f);
				cf_xml_esc_line(f, x->summary);
				fputs("\"/>\n", f);
			} else {
				const char *tag = x->status == CF_FAIL ? "failure" : "error";
				fprintf(f, "      <%s message=\"", tag);
				cf_xml_esc_line(f, x->summary);
				fprintf(f, "\" type=\"%s\">", x->status == CF_FAIL ? "validation" : "input");
				cf_xml_esc(f, x->c->title);
				fputc('\n', f);
				cf_xml_esc(f, x->summary);
				if (x->detail && *x->detail) {
					fputc('\n', f);
					cf_xml_esc(f, x->detail);
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

/* ,"revision":"..." or null: the suite states none. */
static void json_revision(FILE *f, const struct cf_doc *d)
{
	fputs(",\"revision\":", f);
	if (d->revision)
		json_string(f, d->revision);
	else
		fputs("null", f);
}

static const char *const json_grp[G_COUNT] = {"fail", "deviation", "pass", "skip"};

void cf_write_json(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		   const struct chart *ch)
{
	json_head(f, "conform");
	fputs(",\"walker\":", f);
	json_string(f, rep->walker ? rep->walker : ims_pt_walker_name(0));
	fprintf(f, ",\"result\":\"%s\",\"exit\":%d,\"seconds\":%.6f,\"cases\":%zu,\"totals\":",
		rep->exit_status == 0 ? "pass" : rep->exit_status == 1 ? "fail" : "bad input",
		rep->exit_status, rep->secs, cf_ncases(rep));
	json_tally(f, cf_tally_of(rep, NULL, rep->nres, -1));
	fputs(",\"suites\":[", f);
	for (size_t i = 0; i < rep->suite->nfiles; i++) {
		fputs(i ? "," : "", f);
		json_string(f, rep->suite->files[i]);
	}
	fputs("],\"documents\":[", f);
	struct cited *v;
	size_t nv = cf_cited(rep, &v);
	for (size_t i = 0; i < nv; i++) {
		fputs(i ? ",{\"spec\":" : "{\"spec\":", f);
		json_string(f, v[i].doc->name);
		fputs(",\"document\":", f);
		json_string(f, v[i].doc->document);
		json_revision(f, v[i].doc);
		fprintf(f, ",\"cases\":%zu}", v[i].cases);
	}
	free(v);
	fputs("],\"formats\":{", f);
	bool first = true;
	for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
		if (!(rep->formats & (1u << fm)))
			continue;
		fprintf(f, "%s\"%s\":", first ? "" : ",", ims_format_name(fm));
		json_tally(f, cf_tally_of(rep, NULL, rep->nres, fm));
		first = false;
	}
	fputs("},\"sections\":[", f);
	for (size_t r = 0; r < nrows; r++) {
		fputs(r ? ",{\"spec\":" : "{\"spec\":", f);
		json_string(f, rows[r].spec);
		fputs(",\"document\":", f);
		json_string(f, rows[r].doc->document);
		json_revision(f, rows[r].doc);
		fputs(",\"section\":", f);
		json_string(f, rows[r].section);
		fputs(",\"totals\":", f);
		json_tally(f, cf_tally_of(rep, rows[r].idx, rows[r].n, -1));
		fputs(",\"formats\":{", f);
		first = true;
		for (int fm = 0; fm < IMS_FMT_COUNT; fm++) {
			int head = cf_cell_head(rep, &rows[r], fm);
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
		fputs(",\"document\":", f);
		json_string(f, c->doc->document);
		json_revision(f, c->doc);
		fputs(",\"section\":", f);
		json_string(f, c->section);
		fputs(",\"file\":", f);
		json_string(f, c->name);
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
