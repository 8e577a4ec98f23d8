/* iommusim conform: what every report says alike (tools/conform_report.h):
 * tallies, the group a result belongs to, a matrix cell's worst group, and
 * XML escaping (report.html and junit.xml).
 */
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
