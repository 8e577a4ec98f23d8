/* iommusim conform: conformance cases (YAML), their runs and the reports.
 * The case format is docs/conformance.md.
 */
#ifndef IMS_TOOLS_CONFORM_H
#define IMS_TOOLS_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iommusim/model.h"

enum cf_expect {
	CF_EXPECT_PASS = 0,      /* the body replays with exit 0 */
	CF_EXPECT_FAIL,          /* validation fails (exit 1): a bug is caught */
	CF_EXPECT_INPUT_ERROR,   /* the body's last event is refused as input */
};

/* A setting of a case's `model:` mapping: a key of the configuration table
 * (ims_iommu_cfg_set; an alias is taken as written) and its value. */
struct cf_setting {
	char *key, *value;
};

struct cf_body {
	char *text;          /* the scalar's value, indentation stripped */
	size_t len;
	uint64_t first_line; /* file line of the value's first line */
	unsigned indent;     /* columns the YAML indentation took away */
	uint64_t last_line;  /* file line of the last event (not blank, not comment) */
};

/* A document a suite cites: an entry of a file's `documents:` mapping. The
 * matrix rows use the short name (`spec:`); the reports name the document
 * and its revision beside it. */
struct cf_doc {
	char *name;       /* the key: what cases give as spec: */
	char *document;   /* title and number, as the suite states them */
	char *revision;   /* NULL: the suite states none (reports say so) */
	const char *file; /* where it is defined (owned by the suite list) */
	uint64_t line, col;
};

struct cf_case {
	char *id, *title, *spec, *section, *notes;
	const struct cf_doc *doc; /* what spec names: document and revision */
	const char *file;   /* as read, for messages (owned by the suite list) */
	const char *name;   /* relative to its suite, for the reports */
	uint64_t line, col; /* where the case's mapping starts */
	unsigned formats;   /* bit per enum ims_format */
	enum cf_expect expect;
	long failures;      /* CF_EXPECT_FAIL: exact count of validation failures, -1 any */
	char *error;        /* CF_EXPECT_INPUT_ERROR: text the message must contain */
	char *deviation;    /* known to fail: how the model deviates from the clause */
	bool shared;        /* one body for every format ({format} substituted) */
	struct cf_body body[IMS_FMT_COUNT]; /* shared: only body[0] */
	char *walker;       /* software walker variant, NULL = correct */
	bool builtin_sw;    /* pins the built-in software's encoding (software: built-in) */
	struct cf_setting *model; /* in file order */
	size_t nmodel;
};

struct cf_suite {
	char **files;
	char **names; /* per file: the name reports use (relative to its suite) */
	size_t nfiles;
	struct cf_doc **docs; /* every file's documents: entries, in file order */
	size_t ndocs;
	struct cf_case *cases;
	size_t ncases, cap;
	/* The size budget of each file (0: CF_MAX_SUITE_BYTES); the other
	 * budgets of a file follow from it (model/yaml_budget.h). */
	uint64_t max_bytes;
};

/* A suite file's default size budget (docs/limits.md; --max-suite-size):
 * the bundled suites are some thirty kilobytes a file. */
#define CF_MAX_SUITE_BYTES ((uint64_t)16 << 20)

/* Load YAML files into s (appending). name: what the reports call the file
 * (its path relative to the suite it came from; NULL: path). Errors go to
 * `err` as "FILE:LINE:COL: what was expected" (or a budget the file goes
 * past, docs/limits.md); returns 0, or -EINVAL / -EIO after printing every
 * error it found in a file. */
int cf_load(struct cf_suite *s, const char *path, const char *name, FILE *err);
void cf_suite_free(struct cf_suite *s);

/* CF_DEVIATION: a case marked `deviation:` did not hold, as declared.
 * CF_ERROR: bad input (exit 2). */
enum cf_status { CF_PASS = 0, CF_FAIL, CF_SKIP, CF_DEVIATION, CF_ERROR, CF_NSTATUS };

struct cf_result {
	const struct cf_case *c;
	enum ims_format fmt;
	enum cf_status status;
	char *summary; /* one line: why it failed or was skipped */
	char *detail;  /* validation messages of the replay (may be empty) */
	uint64_t validation_failures;
	double secs;
};

/* Run one case for one format in a fresh replayer. base: the model
 * settings from the command line. */
struct walker_choice;
/* wc: the walker of every case that names none (a case's walker: field,
 * a seeded bug it proves caught, wins). */
/* iso_timeout >= 0: the replay runs in a child process (tools/isolate.h)
 * that is killed when an event makes no progress for that many seconds
 * (0: no limit); a walker that crashes or hangs fails the case. < 0: in
 * this process. */
void cf_run(const struct cf_case *c, enum ims_format fmt, const struct ims_iommu_cfg *base,
	    const struct walker_choice *wc, double iso_timeout,
	    struct cf_result *out);
void cf_result_fini(struct cf_result *r);
/* The result's messages with the case file's path as read replaced by its
 * name relative to the suite, for the reports. */
void cf_result_relative(struct cf_result *r);

/* Apply a case's model settings to cfg. */
void cf_model_apply(const struct cf_case *c, struct ims_iommu_cfg *cfg);

struct cf_report {
	const struct cf_suite *suite;
	const struct cf_result *res;
	size_t nres;
	unsigned formats; /* the columns: formats selected */
	double secs;      /* wall time of the run */
	int exit_status;
	const char *walker; /* the walker under test (cases naming one keep theirs) */
};

/* Write report.md, report.html, junit.xml, summary.json and (with gnuplot
 * on PATH) chart.svg into dir, each atomically. Returns 0 or -1 (message
 * printed). */
int cf_write_reports(const struct cf_report *rep, const char *dir);
/* summary.json's document alone, into path ('-': standard output). */
int cf_write_summary(const struct cf_report *rep, const char *path);

/* Text helpers shared by the files. */
char *cf_strndup(const char *s, size_t n);
const char *cf_expect_name(enum cf_expect e);

#endif
