/* iommusim conform: what the report writers share (tools/conform_*.c).
 *
 * conform_report.c builds the rows, makes the chart and writes every file
 * atomically; it calls the writers of the documents for people
 * (conform_doc.c: report.md; conform_html.c: report.html) and of the files
 * for machines (conform_ci.c: junit.xml, summary.json). All of them use the
 * tallies, matrix cells, cited documents, trace extents and XML escaping of
 * conform_cells.c, which calls none of them.
 */
#ifndef IMS_TOOLS_CONFORM_REPORT_H
#define IMS_TOOLS_CONFORM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/conform.h"

/* A row of the matrix: one spec section (conform_report.c builds them). */
struct row {
	const char *spec, *section;
	const struct cf_doc *doc;
	size_t *idx; /* results in this row, in run order */
	size_t n;
};

struct tally {
	size_t runs, st[CF_NSTATUS];
};

/* chart.svg, made by gnuplot before the reports that show it. */
struct chart {
	bool made;
	char why[256];  /* why it was skipped */
	char *svg;      /* the file's bytes */
	size_t len;
};

/* A cell lists its case ids by group, the worst group first: it names the
 * cell. Bad input counts as a failure. */
enum grp { G_FAIL, G_DEV, G_PASS, G_SKIP, G_COUNT };

static inline size_t bad(struct tally t)
{
	return t.st[CF_FAIL] + t.st[CF_ERROR];
}

static inline enum grp grp_of(enum cf_status s)
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

/* ---- conform_cells.c ------------------------------------------------------------ */

/* Per group: the word of a matrix cell, and the class and filter value of
 * report.html. */
extern const char *const cf_grp_head[G_COUNT];
extern const char *const cf_grp_class[G_COUNT];

/* Runs and statuses of the results idx[0 .. n) (rep->res[0 .. n) when idx
 * is NULL) of format fmt (-1: every format). */
struct tally cf_tally_of(const struct cf_report *rep, const size_t *idx, size_t n, int fmt);
/* Cases in the run (a case's results are adjacent). */
size_t cf_ncases(const struct cf_report *rep);
/* The cell's worst group, or -1 when no case applies. */
int cf_cell_head(const struct cf_report *rep, const struct row *rw, int fmt);
/* "HEAD (ids; group: ids; ...)": the cell's worst group, then every id
 * (written by id()) grouped, worst group first. */
typedef void (*cf_id_fn)(FILE *f, const struct cf_result *x);
void cf_cell_text(FILE *f, const struct cf_report *rep, const struct row *rw, int fmt, int head,
		  cf_id_fn id);

/* A document the run cites and how many of its cases cite it. */
struct cited {
	const struct cf_doc *doc;
	size_t cases;
};
/* The documents the run's cases cite, one per spec name, in name order
 * (*out is malloc'd; NULL when out of memory, with 0). */
size_t cf_cited(const struct cf_report *rep, struct cited **out);
/* The bodies a case shows as its evidence: body[0] when shared, else one
 * per format of the case. Returns how many went into b[] and fmts[]. */
int cf_case_bodies(const struct cf_case *c, const struct cf_body **b, int *fmts);
/* The file line of a body's last line. */
uint64_t cf_body_last_line(const struct cf_body *b);
/* Results of the same case are adjacent: the index past res[i]'s case. */
size_t cf_case_end(const struct cf_report *rep, size_t i);

/* XML 1.0 text and attribute values: markup characters as entities; control
 * characters XML cannot hold become '?'. */
void cf_xml_esc(FILE *f, const char *s);
/* One line of text in XML, up to its first newline. */
void cf_xml_esc_line(FILE *f, const char *s);

/* ---- the writers: conform_doc.c, conform_ci.c ------------------------------------ */

void cf_write_md(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		 const struct chart *ch);
/* conform_html.c */
void cf_write_html(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		   const struct chart *ch);
/* A known deviation is reported as skipped: it neither passes nor breaks
 * the build, and CI shows its message. */
void cf_write_junit(FILE *f, const struct cf_report *rep, const char *stamp);
void cf_write_json(FILE *f, const struct cf_report *rep, const struct row *rows, size_t nrows,
		   const struct chart *ch);

#endif
