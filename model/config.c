/* Model configuration files: YAML (libyaml) <-> struct ims_iommu_cfg.
 *
 * The schema is docs/timing.md ("Configuration file"); its keys are the
 * table of model/config_keys.c, each nested as its dotted name says
 * (iotlb.entries is `iotlb: {entries: ..}`), and each value goes through
 * ims_iommu_cfg_set. An unknown key, a wrong type or a value out of range
 * is an error at the node's FILE:LINE:COL. Keys the file does not give keep
 * the values *cfg had, so a file can carry just what it changes.
 */
#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "iommusim/model.h"
#include "model/yaml_budget.h"

struct pctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int perr(struct pctx *p, const yaml_node_t *n,
						      const char *fmt, ...)
{
	int k = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->name, n->start_mark.line + 1,
			 n->start_mark.column + 1);
	if (k < 0 || (size_t)k >= p->errlen)
		k = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcasecmp(s, "null");
}

static const char *node_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "nothing";
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return "a quoted string";
	return NULL;
}

/* ---- the table's shape ---------------------------------------------------- */

/* A mapping of the file stands at a path of the table ("" at the top,
 * "walk_cache.levels.N" for a level) and holds the next parts of the names
 * under that path: leaves (a key's last part) or mappings. */

#define PATH_MAX_LEN 128

static bool under(const char *name, const char *tp, size_t tl)
{
	return !tl || (!strncmp(name, tp, tl) && name[tl] == '.');
}

/* The part of name (a name under tp) after tp, and its length. */
static const char *next_part(const char *name, size_t tl, size_t *len)
{
	const char *s = tl ? name + tl + 1 : name;
	const char *dot = strchr(s, '.');
	*len = dot ? (size_t)(dot - s) : strlen(s);
	return s;
}

enum child { C_NONE, C_LEAF, C_MAP, C_LEVEL };

/* What key k is in the mapping at tp; *row is the key of a leaf. C_LEVEL:
 * the mapping holds levels (N), k still to be checked as a number. */
static enum child child(const char *tp, const char *k, size_t *row)
{
	size_t tl = strlen(tp), kl = strlen(k);
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const char *nm = ims_iommu_cfg_key(i)->name;
		if (!under(nm, tp, tl))
			continue;
		size_t pl;
		const char *part = next_part(nm, tl, &pl);
		if (pl == 1 && *part == 'N')
			return C_LEVEL;
		if (pl != kl || strncmp(part, k, kl))
			continue;
		if (!part[pl]) {
			*row = i;
			return C_LEAF;
		}
		return C_MAP;
	}
	return C_NONE;
}

/* "a, b, c": the parts the mapping at tp takes, in table order. */
static void accepted(const char *tp, char *buf, size_t len)
{
	size_t tl = strlen(tp);
	buf[0] = 0;
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const char *nm = ims_iommu_cfg_key(i)->name;
		if (!under(nm, tp, tl))
			continue;
		size_t pl;
		const char *part = next_part(nm, tl, &pl);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			const char *n2 = ims_iommu_cfg_key(j)->name;
			size_t l2;
			if (under(n2, tp, tl)) {
				const char *p2 = next_part(n2, tl, &l2);
				seen = l2 == pl && !strncmp(part, p2, pl);
			}
		}
		size_t n = strlen(buf);
		if (!seen && n < len)
			snprintf(buf + n, len - n, "%s%.*s", n ? ", " : "", (int)pl, part);
	}
}

static bool has_leaves(const char *tp)
{
	size_t tl = strlen(tp);
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const char *nm = ims_iommu_cfg_key(i)->name;
		size_t pl;
		if (under(nm, tp, tl) && !next_part(nm, tl, &pl)[pl])
			return true;
	}
	return false;
}

/* ---- reading ---------------------------------------------------------------- */

static int set_leaf(struct pctx *p, struct ims_iommu_cfg *c, const char *name, size_t row,
		    const yaml_node_t *v)
{
	const struct ims_cfg_key *key = ims_iommu_cfg_key(row);
	const char *kind = node_kind(v);
	/* Words may be quoted; numbers and booleans are plain YAML scalars. */
	bool word = key->type == IMS_CFG_POLICY || key->type == IMS_CFG_REPLICA;
	if (word && v->type == YAML_SCALAR_NODE && !is_null(v))
		kind = NULL;
	if (kind && key->type == IMS_CFG_WAYS)
		return perr(p, v, "%s: expected a number (decimal or 0x hex), got %s (or full)", name,
			    kind);
	if (kind)
		return perr(p, v, "%s: expected %s, got %s", name, key->type_text, kind);
	char msg[256];
	if (ims_iommu_cfg_set(c, name, scalar(v), msg, sizeof(msg)))
		return perr(p, v, "%s", msg);
	return 0;
}

/* Ways must divide the entries: sets hold whole ways. Checked on the
 * values in force once the block is applied. */
static int check_geometry(struct pctx *p, const struct ims_iommu_cfg *c, const char *dp,
			  const yaml_node_t *at)
{
	char name[PATH_MAX_LEN + 16], e[32], w[32];
	snprintf(name, sizeof(name), "%s.entries", dp);
	if (ims_iommu_cfg_get(c, name, e, sizeof(e)) < 0)
		return 0;
	snprintf(name, sizeof(name), "%s.ways", dp);
	if (ims_iommu_cfg_get(c, name, w, sizeof(w)) < 0 || !strcmp(w, "full"))
		return 0;
	unsigned long entries = strtoul(e, NULL, 10), ways = strtoul(w, NULL, 10);
	if (!entries || !ways)
		return 0;
	if (ways > entries)
		return perr(p, at, "%s: %lu ways exceed the %lu entries", dp, ways, entries);
	if (entries % ways)
		return perr(p, at, "%s: %lu entries are not a whole number of %lu-way sets", dp,
			    entries, ways);
	return 0;
}

/* A level named in the file is configured even when its block is empty: it
 * takes the walk_cache block as it stands once that block is read. */
static void touch_level(struct ims_iommu_cfg *c, const char *dp, const char *tp)
{
	size_t tl = strlen(tp);
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const char *nm = ims_iommu_cfg_key(i)->name;
		if (!under(nm, tp, tl))
			continue;
		char name[PATH_MAX_LEN + 16], val[32];
		snprintf(name, sizeof(name), "%s%s", dp, nm + tl);
		if (ims_iommu_cfg_get(c, name, val, sizeof(val)) >= 0)
			ims_iommu_cfg_set(c, name, val, NULL, 0);
		return;
	}
}

/* The mapping `map` at table path tp, shown as dp. Keys are checked and
 * leaves applied in file order; a mapping that holds leaves applies its
 * sub-mappings after them (a level starts from its block as the file
 * leaves it), and `ways: full` after the entries. */
static int read_map(struct pctx *p, struct ims_iommu_cfg *c, const char *tp, const char *dp,
		    const yaml_node_t *map)
{
	const char *section = *dp ? dp : "the configuration";
	size_t row;
	bool levels = child(tp, "", &row) == C_LEVEL;
	char acc[256] = "a section: ";
	if (levels)
		snprintf(acc, sizeof(acc), "level numbers");
	else
		accepted(tp, acc + (*tp ? 0 : strlen(acc)), sizeof(acc) - (*tp ? 0 : strlen(acc)));
	size_t tl = strlen(tp);
	if (tl >= 2 && !strcmp(tp + tl - 2, ".N"))
		touch_level(c, dp, tp);
	if (map->type != YAML_MAPPING_NODE) {
		if (is_null(map))
			return 0; /* "iotlb:" with nothing under it changes nothing */
		return perr(p, map, "%s: expected a mapping (%s), got %s", section, acc,
			    node_kind(map) ? node_kind(map) : "a value");
	}
	bool block = has_leaves(tp);
	const yaml_node_t *full = NULL, *entries_n = NULL, *ways_n = NULL;
	char full_name[PATH_MAX_LEN + 16] = "";
	int rc;
	for (int pass = 0; pass < (block ? 2 : 1); pass++) {
		for (yaml_node_pair_t *a = map->data.mapping.pairs.start;
		     a < map->data.mapping.pairs.top; a++) {
			const yaml_node_t *k = yaml_document_get_node(p->doc, a->key);
			const yaml_node_t *v = yaml_document_get_node(p->doc, a->value);
			if (pass == 0 && k->type != YAML_SCALAR_NODE)
				return perr(p, k, "%s: keys must be plain words", section);
			if (pass == 0) {
				for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
					const yaml_node_t *k2 = yaml_document_get_node(p->doc, b->key);
					if (k2->type == YAML_SCALAR_NODE && !strcmp(scalar(k2), scalar(k)))
						return perr(p, k, "%s: duplicate key '%s' (first at line %zu)",
							    section, scalar(k), k2->start_mark.line + 1);
				}
			}
			const char *ks = scalar(k);
			enum child what = child(tp, ks, &row);
			char t2[PATH_MAX_LEN], d2[PATH_MAX_LEN + 16];
			if (what == C_NONE)
				return perr(p, k, "unknown key '%s' in %s (expected %s)", ks, section, acc);
			if (what == C_LEAF) {
				if (pass)
					continue;
				snprintf(d2, sizeof(d2), "%s.%s", dp, ks);
				if (!strcmp(ks, "entries"))
					entries_n = v;
				if (!strcmp(ks, "ways")) {
					ways_n = v;
					if (ims_iommu_cfg_key(row)->type == IMS_CFG_WAYS &&
					    v->type == YAML_SCALAR_NODE &&
					    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
					    !strcmp(scalar(v), "full")) {
						full = v;
						snprintf(full_name, sizeof(full_name), "%s", d2);
						continue;
					}
				}
				if ((rc = set_leaf(p, c, d2, row, v)))
					return rc;
				continue;
			}
			if (block && !pass)
				continue;
			if (what == C_LEVEL) {
				unsigned lv = 0;
				bool ok = *ks && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				for (const char *s = ks; ok && *s; s++) {
					ok = *s >= '0' && *s <= '9' && lv < IMS_WC_LEVELS;
					lv = lv * 10 + (unsigned)(*s - '0');
				}
				if (!ok || lv >= IMS_WC_LEVELS)
					return perr(p, k, "%s: expected a level number 0..%d, got '%s'",
						    section, IMS_WC_LEVELS - 1, ks);
				snprintf(t2, sizeof(t2), "%s.N", tp);
				snprintf(d2, sizeof(d2), "%s.%u", dp, lv);
			} else {
				snprintf(t2, sizeof(t2), "%s%s%s", tp, *tp ? "." : "", ks);
				snprintf(d2, sizeof(d2), "%s%s%s", dp, *dp ? "." : "", ks);
			}
			if ((rc = read_map(p, c, t2, d2, v)))
				return rc;
		}
		if (pass == 0 && block) {
			if (full) {
				char msg[256];
				if (ims_iommu_cfg_set(c, full_name, "full", msg, sizeof(msg)))
					return perr(p, full, "%s", msg);
			}
			if ((entries_n || ways_n) &&
			    (rc = check_geometry(p, c, dp, ways_n ? ways_n : entries_n)))
				return rc;
		}
	}
	return 0;
}

static int parse_with(yaml_parser_t *yp, struct ims_iommu_cfg *cfg, const char *name, char *err,
		      size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = 0;
	yaml_document_t doc;
	if (!yaml_parser_load(yp, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: bad YAML: %s%s%s", name,
			 yp->problem_mark.line + 1, yp->problem_mark.column + 1,
			 yp->problem ? yp->problem : "parse error", yp->context ? " " : "",
			 yp->context ? yp->context : "");
		return -EINVAL;
	}
	struct pctx p = {.name = name, .doc = &doc, .err = err, .errlen = errlen};
	struct ims_iommu_cfg t = *cfg;
	int rc = 0;
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root)) {
		char sections[256];
		accepted("", sections, sizeof(sections));
		if (root->type != YAML_MAPPING_NODE)
			rc = perr(&p, root, "expected a mapping of sections (%s)", sections);
		else
			rc = read_map(&p, &t, "", "", root);
	}
	if (!rc && root) {
		/* One document per file: a second one would be silently ignored. */
		yaml_document_t more;
		if (!yaml_parser_load(yp, &more)) {
			snprintf(err, errlen, "%s:%zu:%zu: bad YAML: %s", name,
				 yp->problem_mark.line + 1, yp->problem_mark.column + 1,
				 yp->problem ? yp->problem : "parse error");
			rc = -EINVAL;
		} else {
			const yaml_node_t *r2 = yaml_document_get_root_node(&more);
			if (r2)
				rc = perr(&p, r2, "a configuration file holds one YAML document");
			yaml_document_delete(&more);
		}
	}
	yaml_document_delete(&doc);
	if (!rc)
		*cfg = t;
	return rc;
}

/* A configuration file names a few dozen keys (docs/model-config.yaml,
 * every key with a comment, is some ten kilobytes). */
#define CFG_MAX_BYTES ((uint64_t)1 << 20)

static void cfg_budget(struct ybudget *b)
{
	ybudget_init(b, "a model configuration", CFG_MAX_BYTES, NULL);
}

static int parse_buf(struct ims_iommu_cfg *cfg, const char *name, const char *buf, size_t len,
		     char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	struct ybudget b;
	cfg_budget(&b);
	int rc = ybudget_scan(&b, name, buf, len, err, errlen);
	if (rc)
		return rc;
	yaml_parser_t yp;
	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	rc = parse_with(&yp, cfg, name, err, errlen);
	yaml_parser_delete(&yp);
	return rc;
}

int ims_iommu_cfg_parse(struct ims_iommu_cfg *cfg, const char *name, const char *buf, size_t len,
			char *err, size_t errlen)
{
	return parse_buf(cfg, name ? name : "-", buf, len, err, errlen);
}

int ims_iommu_cfg_load(struct ims_iommu_cfg *cfg, const char *path, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	/* A regular file only: a FIFO would block the open until a writer
	 * came (a trace's replay-args can name one), a device never ends. */
	struct stat st;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file%s", path,
			 S_ISDIR(st.st_mode) ? " (a directory)" : "");
		return -EINVAL;
	}
	struct ybudget b;
	cfg_budget(&b);
	char *buf;
	size_t len;
	int rc = ybudget_read(&b, path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	rc = parse_buf(cfg, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* ---- writing ---------------------------------------------------------------- */

/* Every key of the table in its section; the walk-cache levels that are
 * configured one line each. */
void ims_iommu_cfg_write(const struct ims_iommu_cfg *c, FILE *f)
{
	size_t n = ims_iommu_cfg_key_count();
	const char *section = NULL;
	size_t seclen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *nm = ims_iommu_cfg_key(i)->name;
		const char *dot = strchr(nm, '.');
		size_t sl = (size_t)(dot - nm);
		if (!section || sl != seclen || strncmp(nm, section, sl)) {
			fprintf(f, "%.*s:\n", (int)sl, nm);
			section = nm;
			seclen = sl;
		}
		const char *lv = strstr(nm, ".N.");
		char name[PATH_MAX_LEN + 16], val[64];
		if (!lv) {
			ims_iommu_cfg_get(c, nm, val, sizeof(val));
			fprintf(f, "  %s: %s\n", dot + 1, val);
			continue;
		}
		/* A run of level keys: "  levels:" then one flow mapping a level. */
		size_t end = i;
		while (end < n && !strncmp(ims_iommu_cfg_key(end)->name, nm, (size_t)(lv - nm) + 3))
			end++;
		bool any = false;
		for (unsigned l = 0; l < IMS_WC_LEVELS; l++) {
			if (!c->wc_level[l].set)
				continue;
			if (!any)
				fprintf(f, "  %.*s:\n", (int)(lv - dot - 1), dot + 1);
			any = true;
			fprintf(f, "    %u: {", l);
			for (size_t j = i; j < end; j++) {
				const char *field = ims_iommu_cfg_key(j)->name + (lv - nm) + 3;
				snprintf(name, sizeof(name), "%.*s.%u.%s", (int)(lv - nm), nm, l, field);
				ims_iommu_cfg_get(c, name, val, sizeof(val));
				fprintf(f, "%s%s: %s", j > i ? ", " : "", field, val);
			}
			fprintf(f, "}\n");
		}
		i = end - 1;
	}
}
