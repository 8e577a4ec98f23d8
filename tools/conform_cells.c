/* iommusim conform: what every report says alike (tools/conform_report.h):
 * tallies, the group a result belongs to, a matrix cell's worst group and
 * text, the documents cited, where a case's traces are, and XML escaping
 * (report.html and junit.xml).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tools/conform_report.h"

/* ---- tallies and cells --------------------------------------------------------- */

struct tally cf_tally_of(const struct cf_report *rep, const size_t *idx, size_t n, int fmt)
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

size_t cf_ncases(const struct cf_report *rep)
{
	size_t n = 0;
	for (size_t i = 0; i < rep->nres; i++)
		n += i == 0 || rep->res[i].c != rep->res[i - 1].c;
	return n;
}

int cf_cell_head(const struct cf_report *rep, const struct row *rw, int fmt)
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

const char *const cf_grp_head[G_COUNT] = {"FAIL", "deviates", "pass", "skip"};
const char *const cf_grp_class[G_COUNT] = {"fail", "dev", "pass", "skip"};

void cf_cell_text(FILE *f, const struct cf_report *rep, const struct row *rw, int fmt, int head,
		  cf_id_fn id)
{
	fprintf(f, "%s (", cf_grp_head[head]);
	bool any_group = false;
	for (int g = 0; g < G_COUNT; g++) {
		int at = g == 0 ? head : (g <= head ? g - 1 : g);
		bool first = true;
		for (size_t i = 0; i < rw->n; i++) {
			const struct cf_result *x = &rep->res[rw->idx[i]];
			if (x->fmt != (enum ims_format)fmt || (int)grp_of(x->status) != at)
				continue;
			if (first && any_group)
				fprintf(f, "; %s: ", cf_grp_head[at]);
			else if (!first)
				fputs(", ", f);
			id(f, x);
			first = false;
			any_group = true;
		}
	}
	fputc(')', f);
}

/* ---- cited documents and evidence ------------------------------------------------ */

size_t cf_case_end(const struct cf_report *rep, size_t i)
{
	const struct cf_case *c = rep->res[i].c;
	while (i < rep->nres && rep->res[i].c == c)
		i++;
	return i;
}

static int cited_cmp(const void *a, const void *b)
{
	return strverscmp(((const struct cited *)a)->doc->name, ((const struct cited *)b)->doc->name);
}

size_t cf_cited(const struct cf_report *rep, struct cited **out)
{
	struct cited *v = calloc(rep->nres ? rep->nres : 1, sizeof(*v));
	size_t n = 0;
	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < rep->nres; i = cf_case_end(rep, i)) {
		const struct cf_doc *d = rep->res[i].c->doc;
		size_t k;
		/* Files that name a document alike hold one entry each: one row. */
		for (k = 0; k < n && strcmp(v[k].doc->name, d->name); k++)
			;
		if (k == n)
			v[n++].doc = d;
		v[k].cases++;
	}
	qsort(v, n, sizeof(*v), cited_cmp);
	return n;
}

int cf_case_bodies(const struct cf_case *c, const struct cf_body **b, int *fmts)
{
	if (c->shared) {
		b[0] = &c->body[0];
		fmts[0] = -1;
		return 1;
	}
	int n = 0;
	for (int f = 0; f < IMS_FMT_COUNT; f++)
		if (c->formats & (1u << f)) {
			b[n] = &c->body[f];
			fmts[n++] = f;
		}
	return n;
}

uint64_t cf_body_last_line(const struct cf_body *b)
{
	uint64_t lines = 0;
	for (size_t i = 0; i < b->len; i++)
		lines += b->text[i] == '\n';
	if (b->len && b->text[b->len - 1] != '\n')
		lines++;
	return b->first_line + (lines ? lines - 1 : 0);
}

/* ---- escaping ----------------------------------------------------------------- */

void cf_xml_esc(FILE *f, const char *s)
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

void cf_xml_esc_line(FILE *f, const char *s)
{
	size_t n = s ? strcspn(s, "\n") : 0;
	char *t = cf_strndup(s ? s : "", n);
	cf_xml_esc(f, t ? t : "");
	free(t);
}
