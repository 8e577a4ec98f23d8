/* iommusim conform: loading conformance cases from YAML (libyaml).
 *
 * Every error names FILE:LINE:COL (1-based, from libyaml's marks). A body's
 * lines keep their YAML file line numbers, and its indentation is put back
 * before it is replayed, so trace errors point into the YAML file too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "formats/format.h"
#include "iommusim/pt.h"
#include "model/yaml_budget.h"
#include "tools/cmd.h"
#include "tools/conform.h"

char *cf_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

struct ld {
	const char *file;
	const char *name; /* the file as the reports name it */
	const char *buf;
	size_t len;
	size_t *lines; /* offset of each line's start */
	size_t nlines;
	FILE *err;
	int errors;
	struct cf_suite *s;
	yaml_document_t *doc;
	size_t doc_first; /* s->docs[doc_first ..]: this YAML document's documents: */
	bool list_root;   /* the YAML document is a plain list of cases */
};

__attribute__((format(printf, 3, 4))) static int lerr(struct ld *L, const yaml_node_t *n,
						      const char *fmt, ...)
{
	L->errors++;
	if (n)
		fprintf(L->err, "%s:%zu:%zu: ", L->file, n->start_mark.line + 1,
			n->start_mark.column + 1);
	else
		fprintf(L->err, "%s: ", L->file);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(L->err, fmt, ap);
	va_end(ap);
	fputc('\n', L->err);
	return -EINVAL;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *node(struct ld *L, int id)
{
	return yaml_document_get_node(L->doc, id);
}

static int want_scalar(struct ld *L, const yaml_node_t *n, const char *field)
{
	if (n->type != YAML_SCALAR_NODE)
		return lerr(L, n, "%s: expected a scalar, got %s", field, node_kind(n));
	return 0;
}

/* A non-empty one-line string. */
static int get_string(struct ld *L, const yaml_node_t *n, const char *field, char **out)
{
	int rc = want_scalar(L, n, field);
	if (rc)
		return rc;
	const char *v = sval(n);
	size_t len = n->data.scalar.length;
	if (!len)
		return lerr(L, n, "%s: expected a non-empty string", field);
	if (memchr(v, '\0', len))
		return lerr(L, n, "%s: NUL characters are not allowed", field);
	free(*out);
	*out = cf_strndup(v, len);
	return *out ? 0 : -ENOMEM;
}

static int get_u64(struct ld *L, const yaml_node_t *n, const char *field, uint64_t *out)
{
	int rc = want_scalar(L, n, field);
	if (rc)
		return rc;
	const char *v = sval(n);
	char *end;
	errno = 0;
	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return lerr(L, n, "%s: expected a number (decimal or 0x hex), got '%s'", field, v);
	unsigned long long x = strtoull(v, &end, 0);
	if (errno == ERANGE)
		return lerr(L, n, "%s: '%s' does not fit in 64 bits", field, v);
	if (*end)
		return lerr(L, n, "%s: expected a number (decimal or 0x hex), got '%s'", field, v);
	*out = x;
	return 0;
}

static int one_format(struct ld *L, const yaml_node_t *x, unsigned *mask)
{
	enum ims_format f;
	if (x->type != YAML_SCALAR_NODE)
		return lerr(L, x, "formats: expected a format name, got %s", node_kind(x));
	if (!strcmp(sval(x), "all")) {
		*mask |= fmt_all_mask();
		return 0;
	}
	char names[128];
	if (ims_format_parse(sval(x), x->data.scalar.length, &f))
		return lerr(L, x, "formats: unknown format '%s' (expected %s or all)", sval(x),
			    fmt_name_list(names, sizeof(names)));
	if (*mask & (1u << f))
		return lerr(L, x, "formats: '%s' is listed twice", sval(x));
	*mask |= 1u << f;
	return 0;
}

/* formats: a list of names, one name, or "all". */
static int get_formats(struct ld *L, const yaml_node_t *n, unsigned *out)
{
	unsigned mask = 0;
	int rc = 0;
	if (n->type == YAML_SCALAR_NODE) {
		rc = one_format(L, n, &mask);
	} else if (n->type == YAML_SEQUENCE_NODE) {
		if (n->data.sequence.items.start == n->data.sequence.items.top)
			return lerr(L, n, "formats: expected at least one format name");
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top && !rc; it++)
			rc = one_format(L, node(L, *it), &mask);
	} else {
		return lerr(L, n, "formats: expected a list of format names, got %s", node_kind(n));
	}
	if (!rc)
		*out = mask;
	return rc;
}

/* ---- bodies ------------------------------------------------------------- */

static size_t raw_lead(const struct ld *L, size_t line0)
{
	if (line0 >= L->nlines)
		return 0;
	size_t i = L->lines[line0], n = 0;
	while (i < L->len && L->buf[i] == ' ') {
		i++;
		n++;
	}
	return n;
}

static bool event_line(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	return i < n && s[i] != '#';
}

static int get_body(struct ld *L, const yaml_node_t *n, const char *field, struct cf_body *b)
{
	int rc = want_scalar(L, n, field);
	if (rc)
		return rc;
	const char *v = sval(n);
	size_t len = n->data.scalar.length;
	size_t line0 = n->start_mark.line; /* 0-based line of the scalar's start */
	switch (n->data.scalar.style) {
	case YAML_LITERAL_SCALAR_STYLE:
		/* The value starts on the line after the '|' indicator. */
		b->first_line = line0 + 2;
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		return lerr(L, n, "%s: expected a literal block (|); a folded block (>) joins the "
			    "trace lines", field);
	default:
		if (n->end_mark.line != n->start_mark.line)
			return lerr(L, n, "%s: a body of several lines must be a literal block "
				    "scalar (%s: |)", field, field);
		b->first_line = line0 + 1;
		b->indent = (unsigned)n->start_mark.column +
			    (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1);
		break;
	}
	if (memchr(v, '\0', len))
		return lerr(L, n, "%s: NUL characters are not allowed", field);
	b->last_line = 0;
	bool have_indent = n->data.scalar.style != YAML_LITERAL_SCALAR_STYLE;
	size_t i = 0;
	for (uint64_t k = 0; i < len || (k == 0 && len == 0); k++) {
		const char *nl = memchr(v + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - v) : len;
		if (!have_indent && e > i) {
			/* The first non-empty line fixes the block's indentation. */
			size_t lead = 0;
			while (i + lead < e && v[i + lead] == ' ')
				lead++;
			size_t raw = raw_lead(L, b->first_line - 1 + k);
			b->indent = raw > lead ? (unsigned)(raw - lead) : 0;
			have_indent = true;
		}
		if (event_line(v + i, e - i))
			b->last_line = b->first_line + k;
		if (!nl)
			break;
		i = e + 1;
	}
	if (!b->last_line)
		return lerr(L, n, "%s: expected trace lines, the body has none", field);
	free(b->text);
	b->text = cf_strndup(v, len);
	b->len = len;
	return b->text ? 0 : -ENOMEM;
}

struct keyref {
	const char *s;
	size_t at; /* the pair's index in its mapping */
};

static int cmp_keyref(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	return c ? c : x->at < y->at ? -1 : x->at > y->at;
}

/* A mapping's keys must be unique scalars; the first offence in file order
 * is reported. Sorted, not compared pair by pair: a mapping may have as
 * many keys as the node budget allows. */
static int check_keys(struct ld *L, const yaml_node_t *n, const char *what)
{
	yaml_node_pair_t *p0 = n->data.mapping.pairs.start;
	size_t np = (size_t)(n->data.mapping.pairs.top - p0), bad = np;
	for (size_t i = 0; i < np && bad == np; i++)
		if (node(L, p0[i].key)->type != YAML_SCALAR_NODE)
			bad = i;
	struct keyref *v = malloc((bad ? bad : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < bad; i++)
		v[i] = (struct keyref){sval(node(L, p0[i].key)), i};
	qsort(v, bad, sizeof(*v), cmp_keyref);
	/* The second of each run of equal keys; the earliest of them wins. */
	size_t dup = np, first = 0;
	for (size_t i = 1; i < bad; i++)
		if (!strcmp(v[i].s, v[i - 1].s) && (i < 2 || strcmp(v[i - 2].s, v[i].s)) &&
		    v[i].at < dup) {
			dup = v[i].at;
			first = v[i - 1].at;
		}
	free(v);
	if (dup < bad) {
		yaml_node_t *k = node(L, p0[dup].key), *k2 = node(L, p0[first].key);
		return lerr(L, k, "%s: field '%s' is given twice (first at line %zu)", what, sval(k),
			    k2->start_mark.line + 1);
	}
	if (bad < np) {
		yaml_node_t *k = node(L, p0[bad].key);
		return lerr(L, k, "%s: expected a field name, got %s", what, node_kind(k));
	}
	return 0;
}

/* ---- cited documents ----------------------------------------------------- */

/* A case cites spec + section; what document and revision a spec name
 * stands for is stated once per file, so that the report can name them and
 * a case cannot cite a document nobody named. */

static void doc_free(struct cf_doc *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->document);
	free(d->revision);
	free(d);
}

static const char doc_fields[] = "document, revision";

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int get_doc(struct ld *L, const yaml_node_t *k, const yaml_node_t *v, struct cf_doc *d)
{
	const char *name = sval(k);
	if (v->type != YAML_MAPPING_NODE)
		return lerr(L, v, "documents: '%s': expected a mapping with %s, got %s", name,
			    doc_fields, node_kind(v));
	int rc = check_keys(L, v, "documents");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !rc;
	     p++) {
		yaml_node_t *fk = node(L, p->key), *fv = node(L, p->value);
		if (!strcmp(sval(fk), "document"))
			rc = get_string(L, fv, "document", &d->document);
		else if (!strcmp(sval(fk), "revision"))
			rc = get_string(L, fv, "revision", &d->revision);
		else
			rc = lerr(L, fk, "documents: '%s': unknown field '%s' (expected %s)", name,
				  sval(fk), doc_fields);
	}
	if (!rc && !d->document)
		rc = lerr(L, k, "documents: '%s' needs document: (the document's title and number)",
			  name);
	return rc;
}

/* A name means one document in every file of a run: the matrix has a row
 * per name and section. */
static int doc_conflict(struct ld *L, const yaml_node_t *k, const struct cf_doc *d)
{
	struct cf_suite *s = L->s;
	for (size_t i = 0; i < s->ndocs; i++) {
		const struct cf_doc *o = s->docs[i];
		if (strcmp(o->name, d->name))
			continue;
		if (i >= L->doc_first)
			return lerr(L, k, "documents: '%s' is given twice", d->name);
		if (!same_text(o->document, d->document) || !same_text(o->revision, d->revision))
			return lerr(L, k, "documents: '%s' is defined differently at %s:%llu:%llu "
				    "(document '%s', %s%s%s)", d->name, o->file,
				    (unsigned long long)o->line, (unsigned long long)o->col,
				    o->document, o->revision ? "revision '" : "revision not stated",
				    o->revision ? o->revision : "", o->revision ? "'" : "");
	}
	return 0;
}

static int get_documents(struct ld *L, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return lerr(L, n, "documents: expected a mapping of spec name to {%s}, got %s",
			    doc_fields, node_kind(n));
	int rc = check_keys(L, n, "documents");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && !rc;
	     p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		if (!k->data.scalar.length) {
			rc = lerr(L, k, "documents: expected a spec name, got an empty key");
			break;
		}
		struct cf_doc *d = calloc(1, sizeof(*d));
		struct cf_doc **x = d ? realloc(L->s->docs, (L->s->ndocs + 1) * sizeof(*x)) : NULL;
		if (x)
			L->s->docs = x;
		if (!d || !x || !(d->name = strdup(sval(k)))) {
			doc_free(d);
			return -ENOMEM;
		}
		d->file = L->file;
		d->line = k->start_mark.line + 1;
		d->col = k->start_mark.column + 1;
		if ((rc = get_doc(L, k, v, d)) || (rc = doc_conflict(L, k, d))) {
			doc_free(d);
			break;
		}
		L->s->docs[L->s->ndocs++] = d;
	}
	return rc;
}

static const struct cf_doc *find_doc(const struct ld *L, const char *name)
{
	for (size_t i = L->doc_first; i < L->s->ndocs; i++)
		if (!strcmp(L->s->docs[i]->name, name))
			return L->s->docs[i];
	return NULL;
}

/* ---- cases -------------------------------------------------------------- */

struct defaults {
	char *spec;
	unsigned formats;
};

/* "a, b, c" into buf, truncated to len. */
static void list_add(char *buf, size_t len, const char *item)
{
	size_t n = strlen(buf);
	if (n < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", item);
}

/* A case's model: settings are keys of the configuration table, checked as
 * the file is read (on a default configuration) and applied when the case
 * runs, in file order, on top of the command line's. */
static bool same_key(const char *a, const char *b)
{
	int ia = ims_iommu_cfg_key_find(a);
	if (ia != ims_iommu_cfg_key_find(b))
		return false;
	/* walk_cache.levels.N.*: one key a level. */
	return !strstr(ims_iommu_cfg_key((size_t)ia)->name, ".N.") || !strcmp(a, b);
}

static int get_model(struct ld *L, const yaml_node_t *n, struct cf_case *c)
{
	if (n->type != YAML_MAPPING_NODE)
		return lerr(L, n, "model: expected a mapping of model settings, got %s", node_kind(n));
	size_t np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (!(c->model = calloc(np ? np : 1, sizeof(*c->model))))
		return -ENOMEM;
	struct ims_iommu_cfg scratch;
	ims_iommu_cfg_default(&scratch);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		if (k->type != YAML_SCALAR_NODE)
			return lerr(L, k, "model: expected a setting name, got %s", node_kind(k));
		char err[512];
		int idx = ims_iommu_cfg_key_find(sval(k));
		if (idx < 0) {
			if (ims_iommu_cfg_set(&scratch, sval(k), "", err, sizeof(err)) == -ENOENT)
				return lerr(L, k, "model: %s; iommusim help config lists the keys", err);
			return lerr(L, k, "model: %s", err);
		}
		for (size_t i = 0; i < c->nmodel; i++)
			if (same_key(c->model[i].key, sval(k)))
				return lerr(L, k, "model: '%s' is given twice", sval(k));
		if (v->type != YAML_SCALAR_NODE)
			return lerr(L, v, "%s: expected %s, got %s", sval(k),
				    ims_iommu_cfg_key((size_t)idx)->type_text, node_kind(v));
		if (ims_iommu_cfg_set(&scratch, sval(k), sval(v), err, sizeof(err)))
			return lerr(L, v, "%s", err);
		struct cf_setting *m = &c->model[c->nmodel];
		m->key = strdup(sval(k));
		m->value = strdup(sval(v));
		if (!m->key || !m->value) {
			free(m->key);
			free(m->value);
			return -ENOMEM;
		}
		c->nmodel++;
	}
	return 0;
}

void cf_model_apply(const struct cf_case *c, struct ims_iommu_cfg *cfg)
{
	/* Checked when the case was read; a value does not depend on cfg. */
	for (size_t i = 0; i < c->nmodel; i++)
		ims_iommu_cfg_set(cfg, c->model[i].key, c->model[i].value, NULL, 0);
}

static bool id_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static void case_fini(struct cf_case *c)
{
	free(c->id);
	free(c->title);
	free(c->spec);
	free(c->section);
	free(c->notes);
	free(c->error);
	free(c->deviation);
	free(c->walker);
	for (int f = 0; f < IMS_FMT_COUNT; f++)
		free(c->body[f].text);
	for (size_t i = 0; i < c->nmodel; i++) {
		free(c->model[i].key);
		free(c->model[i].value);
	}
	free(c->model);
	memset(c, 0, sizeof(*c));
}

static const char case_fields[] =
	"id, title, spec, section, formats, expect, failures, error, deviation, body, bodies, "
	"model, walker, software, notes";

static int parse_case(struct ld *L, const yaml_node_t *n, const struct defaults *def,
		      struct cf_case *c)
{
	memset(c, 0, sizeof(*c));
	c->file = L->file;
	c->name = L->name;
	c->line = n->start_mark.line + 1;
	c->col = n->start_mark.column + 1;
	c->failures = -1;
	if (n->type != YAML_MAPPING_NODE)
		return lerr(L, n, "expected a case (a mapping with %s), got %s", case_fields,
			    node_kind(n));
	int rc = check_keys(L, n, "case");
	if (rc)
		return rc;
	const yaml_node_t *body = NULL, *bodies = NULL, *formats = NULL, *failures = NULL,
			  *error = NULL, *expect = NULL, *spec = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		const char *f = sval(k);
		if (!strcmp(f, "id")) {
			if (!(rc = get_string(L, v, f, &c->id)) && !id_ok(c->id))
				rc = lerr(L, v, "id: '%s' has characters other than letters, digits, "
					  "'-', '_' and '.'", c->id);
		} else if (!strcmp(f, "title")) {
			rc = get_string(L, v, f, &c->title);
		} else if (!strcmp(f, "spec")) {
			spec = v;
			rc = get_string(L, v, f, &c->spec);
		} else if (!strcmp(f, "section")) {
			rc = get_string(L, v, f, &c->section);
		} else if (!strcmp(f, "notes")) {
			rc = get_string(L, v, f, &c->notes);
		} else if (!strcmp(f, "deviation")) {
			rc = get_string(L, v, f, &c->deviation);
		} else if (!strcmp(f, "walker")) {
			if (!(rc = get_string(L, v, f, &c->walker))) {
				unsigned idx;
				/* Seeded-bug variants exist only in some builds: an unknown
				 * name is an error when the build has them, a skip when not. */
				unsigned probe;
				bool seeded = ims_pt_walker_parse("bug1", &probe) == 0;
				if (seeded && ims_pt_walker_parse(c->walker, &idx)) {
					char list[512] = "";
					for (unsigned j = 0; j < ims_pt_walker_count(); j++)
						list_add(list, sizeof(list), ims_pt_walker_name(j));
					rc = lerr(L, v, "walker: unknown variant '%s' (expected %s)",
						  c->walker, list);
				}
			}
		} else if (!strcmp(f, "software")) {
			char *sw = NULL;
			if (!(rc = get_string(L, v, f, &sw))) {
				if (strcmp(sw, "built-in"))
					rc = lerr(L, v, "software: expected 'built-in', not '%s'", sw);
				c->builtin_sw = true;
			}
			free(sw);
		} else if (!strcmp(f, "formats")) {
			formats = v;
			rc = get_formats(L, v, &c->formats);
		} else if (!strcmp(f, "expect")) {
			expect = v;
			if (!(rc = want_scalar(L, v, f))) {
				if (!strcmp(sval(v), "pass"))
					c->expect = CF_EXPECT_PASS;
				else if (!strcmp(sval(v), "fail-validation"))
					c->expect = CF_EXPECT_FAIL;
				else if (!strcmp(sval(v), "input-error"))
					c->expect = CF_EXPECT_INPUT_ERROR;
				else
					rc = lerr(L, v, "expect: expected pass, fail-validation or "
						  "input-error, got '%s'", sval(v));
			}
		} else if (!strcmp(f, "failures")) {
			uint64_t x = 0;
			failures = v;
			if (!(rc = get_u64(L, v, f, &x))) {
				if (x == 0 || x > 1000000)
					rc = lerr(L, v, "failures: expected a count from 1 (got %llu)",
						  (unsigned long long)x);
				c->failures = (long)x;
			}
		} else if (!strcmp(f, "error")) {
			error = v;
			rc = get_string(L, v, f, &c->error);
		} else if (!strcmp(f, "body")) {
			body = v;
		} else if (!strcmp(f, "bodies")) {
			bodies = v;
		} else if (!strcmp(f, "model")) {
			rc = get_model(L, v, c);
		} else {
			rc = lerr(L, k, "unknown field '%s' in a case (expected %s)", f, case_fields);
		}
		if (rc)
			return rc;
	}
	if (!c->id)
		return lerr(L, n, "a case needs id:");
	if (!c->title)
		return lerr(L, n, "case '%s' needs title:", c->id);
	if (!c->spec && def->spec && !(c->spec = strdup(def->spec)))
		return -ENOMEM;
	if (!c->spec)
		return lerr(L, n, "case '%s' needs spec: (or a spec: for the whole file)", c->id);
	if (!c->section)
		return lerr(L, n, "case '%s' needs section:", c->id);
	/* A citation an auditor cannot look up is no citation. */
	if (!(c->doc = find_doc(L, c->spec)))
		return lerr(L, spec ? spec : n, "case '%s': spec '%s' names no document: add '%s' "
			    "to the file's documents: with document: (and revision: when it is "
			    "known)%s", c->id, c->spec, c->spec,
			    L->list_root ? "; a file that is a plain list of cases has none, make "
			    "it a mapping with documents: and cases:" : "");
	if (failures && c->expect != CF_EXPECT_FAIL)
		return lerr(L, failures, "failures: only with expect: fail-validation");
	if (error && c->expect != CF_EXPECT_INPUT_ERROR)
		return lerr(L, error, "error: only with expect: input-error");
	if (c->expect == CF_EXPECT_INPUT_ERROR && !c->error)
		return lerr(L, expect, "expect: input-error needs error: (text the message must "
			    "contain)");
	if (!!body == !!bodies)
		return lerr(L, n, "case '%s' needs exactly one of body: (one trace for its formats) "
			    "and bodies: (a trace per format)", c->id);
	if (body) {
		if (!formats)
			c->formats = def->formats;
		if (!c->formats)
			return lerr(L, n, "case '%s' needs formats: (or a formats: for the whole file)",
				    c->id);
		c->shared = true;
		return get_body(L, body, "body", &c->body[0]);
	}
	if (formats)
		return lerr(L, formats, "formats: not with bodies: (its keys are the formats)");
	if (bodies->type != YAML_MAPPING_NODE)
		return lerr(L, bodies, "bodies: expected a mapping of format to trace, got %s",
			    node_kind(bodies));
	if ((rc = check_keys(L, bodies, "bodies")))
		return rc;
	for (yaml_node_pair_t *p = bodies->data.mapping.pairs.start;
	     p < bodies->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		enum ims_format f;
		if (ims_format_parse(sval(k), k->data.scalar.length, &f))
			return lerr(L, k, "bodies: unknown format '%s' (expected amdv1, vtd, smmuv3, vtd-fs or amdv2)",
				    sval(k));
		c->formats |= 1u << f;
		if ((rc = get_body(L, v, sval(k), &c->body[f])))
			return rc;
	}
	if (!c->formats)
		return lerr(L, bodies, "bodies: expected at least one format");
	return 0;
}

static int add_case(struct ld *L, const yaml_node_t *n, struct cf_case *c)
{
	struct cf_suite *s = L->s;
	for (size_t i = 0; i < s->ncases; i++)
		if (!strcmp(s->cases[i].id, c->id))
			return lerr(L, n, "duplicate case id '%s' (first at %s:%llu)", c->id,
				    s->cases[i].file, (unsigned long long)s->cases[i].line);
	if (s->ncases == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct cf_case *x = realloc(s->cases, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		s->cases = x;
		s->cap = cap;
	}
	s->cases[s->ncases++] = *c;
	memset(c, 0, sizeof(*c));
	return 0;
}

static const char top_fields[] = "suite, documents, spec, formats, cases";

static int parse_doc(struct ld *L, yaml_node_t *root)
{
	struct defaults def = {0};
	yaml_node_t *cases = NULL;
	int rc = 0;
	L->doc_first = L->s->ndocs;
	L->list_root = root->type == YAML_SEQUENCE_NODE;
	if (root->type == YAML_SEQUENCE_NODE) {
		cases = root;
	} else if (root->type == YAML_MAPPING_NODE) {
		if ((rc = check_keys(L, root, "suite")))
			return rc;
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top && !rc; p++) {
			yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
			const char *f = sval(k);
			if (!strcmp(f, "suite")) {
				char *t = NULL;
				rc = get_string(L, v, f, &t);
				free(t);
			} else if (!strcmp(f, "spec")) {
				rc = get_string(L, v, f, &def.spec);
			} else if (!strcmp(f, "documents")) {
				rc = get_documents(L, v);
			} else if (!strcmp(f, "formats")) {
				rc = get_formats(L, v, &def.formats);
			} else if (!strcmp(f, "cases")) {
				cases = v;
			} else {
				rc = lerr(L, k, "unknown field '%s' at the top of a suite (expected %s)",
					  f, top_fields);
			}
		}
		if (!rc && !cases)
			rc = lerr(L, root, "a suite needs cases: (a list of cases)");
	} else {
		rc = lerr(L, root, "expected a suite (a mapping with %s), got %s", top_fields,
			  node_kind(root));
	}
	if (!rc && cases->type != YAML_SEQUENCE_NODE)
		rc = lerr(L, cases, "cases: expected a list of cases, got %s", node_kind(cases));
	if (!rc && cases->data.sequence.items.start == cases->data.sequence.items.top)
		rc = lerr(L, cases, "cases: the list is empty");
	if (rc) {
		free(def.spec);
		return rc;
	}
	/* Go on after a bad case, so that one run lists every error. */
	int first = 0;
	for (yaml_node_item_t *it = cases->data.sequence.items.start;
	     it < cases->data.sequence.items.top; it++) {
		yaml_node_t *n = node(L, *it);
		struct cf_case c;
		rc = parse_case(L, n, &def, &c);
		if (!rc)
			rc = add_case(L, n, &c);
		case_fini(&c);
		if (rc == -ENOMEM) {
			first = rc;
			break;
		}
		if (rc && !first)
			first = rc;
	}
	free(def.spec);
	return first;
}

static int load_file(struct cf_suite *s, const char *path, const char *name, FILE *err)
{
	/* The file's budgets (docs/limits.md) are checked before libyaml
	 * loads it: its size as it is read, then nesting, anchors, aliases,
	 * nodes and what its aliases expand to with the event parser. */
	struct ybudget b;
	ybudget_init(&b, "a suite file", s->max_bytes ? s->max_bytes : CF_MAX_SUITE_BYTES,
		     "--max-suite-size");
	char msg[1024];
	char *buf;
	size_t len;
	int rc = ybudget_read(&b, path, &buf, &len, msg, sizeof(msg));
	if (!rc && (rc = ybudget_scan(&b, path, buf, len, msg, sizeof(msg))))
		free(buf);
	if (rc) {
		fprintf(err, "%s\n", msg);
		return rc == -ENOMEM ? rc : rc == -E2BIG || rc == -EINVAL ? -EINVAL : -EIO;
	}

	/* Two files of different suites may share a name relative to their
	 * suites; the reports then name the later one as it was read. */
	if (!name)
		name = path;
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->names[i], name))
			name = path;
	char **files = realloc(s->files, (s->nfiles + 1) * sizeof(*files));
	if (files)
		s->files = files;
	char **names = files ? realloc(s->names, (s->nfiles + 1) * sizeof(*names)) : NULL;
	if (names)
		s->names = names;
	char *fp = strdup(path), *nm = strdup(name);
	if (!names || !fp || !nm) {
		free(fp);
		free(nm);
		free(buf);
		return -ENOMEM;
	}
	s->files[s->nfiles] = fp;
	s->names[s->nfiles++] = nm;
	struct ld L = {.file = fp, .name = nm, .buf = buf, .len = len, .err = err, .s = s};

	size_t nl = 1;
	for (size_t i = 0; i < len; i++)
		nl += buf[i] == '\n';
	L.lines = malloc(nl * sizeof(size_t));
	if (!L.lines) {
		free(buf);
		return -ENOMEM;
	}
	L.lines[0] = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			L.lines[++L.nlines] = i + 1;
	L.nlines++;

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		free(L.lines);
		free(buf);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int docs = 0;
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&p, &doc)) {
			const yaml_mark_t *m = &p.problem_mark;
			L.errors++;
			if (p.error == YAML_READER_ERROR) {
				/* The reader knows only the byte offset. */
				size_t line = 0;
				while (line + 1 < L.nlines && L.lines[line + 1] <= p.problem_offset)
					line++;
				fprintf(err, "%s:%zu:%zu: %s (expected UTF-8 text)\n", path, line + 1,
					p.problem_offset - L.lines[line] + 1,
					p.problem ? p.problem : "bad character");
			} else
				fprintf(err, "%s:%zu:%zu: YAML syntax error: %s%s%s\n", path,
					m->line + 1, m->column + 1, p.problem ? p.problem : "?",
					p.context ? " " : "", p.context ? p.context : "");
			rc = -EINVAL;
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break;
		}
		docs++;
		L.doc = &doc;
		int r = parse_doc(&L, root);
		yaml_document_delete(&doc);
		if (r) {
			rc = r;
			if (r == -ENOMEM)
				break;
		}
	}
	if (!rc && !docs) {
		fprintf(err, "%s:1:1: expected a suite (a mapping with %s), the file holds no "
			"YAML document\n", path, top_fields);
		rc = -EINVAL;
	}
	yaml_parser_delete(&p);
	free(L.lines);
	free(buf);
	if (rc == -ENOMEM)
		fprintf(err, "%s: out of memory\n", path);
	return rc;
}

int cf_load(struct cf_suite *s, const char *path, const char *name, FILE *err)
{
	return load_file(s, path, name, err);
}

void cf_suite_free(struct cf_suite *s)
{
	for (size_t i = 0; i < s->ncases; i++)
		case_fini(&s->cases[i]);
	free(s->cases);
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i]);
		free(s->names[i]);
	}
	free(s->files);
	free(s->names);
	for (size_t i = 0; i < s->ndocs; i++)
		doc_free(s->docs[i]);
	free(s->docs);
	memset(s, 0, sizeof(*s));
}
