/* Model configuration files: YAML (libyaml) -> struct ims_iommu_cfg.
 *
 * The schema is docs/timing.md ("Configuration file"). Every key is typed
 * and range-checked; an unknown key, a wrong type or a value out of range
 * is an error at the node's FILE:LINE:COL. Keys the file does not give keep
 * the values *cfg had, so a file can carry just what it changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "iommusim/model.h"

#define MAX_ENTRIES (1u << 24) /* as the command line's cache sizes */
#define MAX_LATENCY (1u << 24)

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

/* Decimal, or hexadecimal with 0x. Octal and signs are refused: a leading
 * zero means nothing here. */
static int get_u64(struct pctx *p, const char *key, const yaml_node_t *n, uint64_t max,
		   uint64_t *out)
{
	const char *kind = node_kind(n);
	if (kind)
		return perr(p, n, "%s: expected a number (decimal or 0x hex), got %s", key, kind);
	const char *s = scalar(n);
	int base = 10;
	const char *d = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		d = s + 2;
	}
	uint64_t v = 0;
	bool any = false;
	for (; *d; d++) {
		unsigned dig;
		if (*d >= '0' && *d <= '9')
			dig = (unsigned)(*d - '0');
		else if (base == 16 && *d >= 'a' && *d <= 'f')
			dig = (unsigned)(*d - 'a' + 10);
		else if (base == 16 && *d >= 'A' && *d <= 'F')
			dig = (unsigned)(*d - 'A' + 10);
		else
			return perr(p, n, "%s: expected a number (decimal or 0x hex), got '%s'", key, s);
		if (v > (UINT64_MAX - dig) / (unsigned)base)
			return perr(p, n, "%s: '%s' does not fit in 64 bits", key, s);
		v = v * (unsigned)base + dig;
		any = true;
	}
	if (!any)
		return perr(p, n, "%s: expected a number (decimal or 0x hex), got '%s'", key, s);
	if (v > max)
		return perr(p, n, "%s: %s is out of range (at most %" PRIu64 ")", key, s, max);
	*out = v;
	return 0;
}

static int get_unsigned(struct pctx *p, const char *key, const yaml_node_t *n, unsigned max,
			unsigned *out)
{
	uint64_t v;
	int rc = get_u64(p, key, n, max, &v);
	if (!rc)
		*out = (unsigned)v;
	return rc;
}

static int get_bool(struct pctx *p, const char *key, const yaml_node_t *n, bool *out)
{
	const char *kind = node_kind(n);
	if (kind)
		return perr(p, n, "%s: expected true or false, got %s", key, kind);
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
	for (unsigned i = 0; i < 3; i++) {
		if (!strcasecmp(scalar(n), yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(scalar(n), no[i])) {
			*out = false;
			return 0;
		}
	}
	return perr(p, n, "%s: expected true or false, got '%s'", key, scalar(n));
}

/* One of `names` (a word); its index in *out. */
static int get_word(struct pctx *p, const char *key, const yaml_node_t *n,
		    const char *const *names, unsigned count, const char *expect, unsigned *out)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return perr(p, n, "%s: expected %s, got %s", key, expect, node_kind(n));
	for (unsigned i = 0; i < count; i++) {
		if (!strcmp(scalar(n), names[i])) {
			*out = i;
			return 0;
		}
	}
	return perr(p, n, "%s: expected %s, got '%s'", key, expect, scalar(n));
}

static const char *const policy_names[] = {"lru", "round-robin", "random"};
static const char *const replica_names[] = {"first", "covering", "random"};

static int get_policy(struct pctx *p, const char *key, const yaml_node_t *n,
		      enum ims_repl_policy *out)
{
	unsigned i;
	int rc = get_word(p, key, n, policy_names, 3, "lru, round-robin or random", &i);
	if (!rc)
		*out = (enum ims_repl_policy)i;
	return rc;
}

/* "full" (fully associative) or a number of ways. */
static int get_ways(struct pctx *p, const char *key, const yaml_node_t *n, unsigned *out,
		    bool *full)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    !strcmp(scalar(n), "full")) {
		*full = true;
		return 0;
	}
	*full = false;
	uint64_t v;
	int rc = get_u64(p, key, n, MAX_ENTRIES, &v);
	if (rc) {
		size_t len = strlen(p->err);
		snprintf(p->err + len, p->errlen - len, "%s", " (or full)");
		return rc;
	}
	if (!v)
		return perr(p, n, "%s: expected a number of ways from 1, or full", key);
	*out = (unsigned)v;
	return 0;
}

/* ---- mappings --------------------------------------------------------------- */

/* Walks a mapping node, refusing duplicate keys and non-scalar keys. The
 * callback gets each key and value; it returns -ENOENT for an unknown key,
 * which becomes the error naming the keys `section` accepts. */
typedef int (*pair_fn)(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		       const yaml_node_t *v);

static int each_pair(struct pctx *p, const yaml_node_t *map, const char *section,
		     const char *accepted, pair_fn fn, void *arg)
{
	if (map->type != YAML_MAPPING_NODE) {
		if (is_null(map))
			return 0; /* "iotlb:" with nothing under it changes nothing */
		return perr(p, map, "%s: expected a mapping (%s), got %s", section, accepted,
			    node_kind(map) ? node_kind(map) : "a value");
	}
	for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, a->key);
		const yaml_node_t *v = yaml_document_get_node(p->doc, a->value);
		if (k->type != YAML_SCALAR_NODE)
			return perr(p, k, "%s: keys must be plain words", section);
		for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
			const yaml_node_t *k2 = yaml_document_get_node(p->doc, b->key);
			if (k2->type == YAML_SCALAR_NODE && !strcmp(scalar(k2), scalar(k)))
				return perr(p, k, "%s: duplicate key '%s' (first at line %zu)",
					    section, scalar(k), k2->start_mark.line + 1);
		}
		int rc = fn(p, arg, scalar(k), k, v);
		if (rc == -ENOENT)
			return perr(p, k, "unknown key '%s' in %s (expected %s)", scalar(k), section,
				    accepted);
		if (rc)
			return rc;
	}
	return 0;
}

/* A cache block as the file gives it: each field with its node, so that a
 * cross-check can point at the key that breaks it. */
struct block {
	const char *name;
	const yaml_node_t *entries_n, *ways_n, *policy_n, *latency_n, *enable_n, *levels_n;
	unsigned entries, ways, latency;
	bool full, enable;
	enum ims_repl_policy policy;
};

static int block_pair(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v)
{
	(void)k;
	struct block *b = arg;
	char what[64];
	snprintf(what, sizeof(what), "%s.%s", b->name, key);
	if (!strcmp(key, "entries")) {
		b->entries_n = v;
		return get_unsigned(p, what, v, MAX_ENTRIES, &b->entries);
	}
	if (!strcmp(key, "ways")) {
		b->ways_n = v;
		return get_ways(p, what, v, &b->ways, &b->full);
	}
	if (!strcmp(key, "policy")) {
		b->policy_n = v;
		return get_policy(p, what, v, &b->policy);
	}
	if (!strcmp(key, "latency")) {
		b->latency_n = v;
		return get_unsigned(p, what, v, MAX_LATENCY, &b->latency);
	}
	if (!strcmp(key, "enable")) {
		b->enable_n = v;
		return get_bool(p, what, v, &b->enable);
	}
	if (!strcmp(key, "levels") && !strcmp(b->name, "walk_cache")) {
		b->levels_n = v;
		return 0;
	}
	return -ENOENT;
}

/* Ways must divide the entries: sets hold whole ways. Checked on the
 * values in force once the block is applied. */
static int check_geometry(struct pctx *p, const struct block *b, unsigned entries, unsigned ways)
{
	if (!b->entries_n && !b->ways_n)
		return 0;
	const yaml_node_t *at = b->ways_n ? b->ways_n : b->entries_n;
	if (!entries || !ways)
		return 0;
	if (ways > entries)
		return perr(p, at, "%s: %u ways exceed the %u entries", b->name, ways, entries);
	if (entries % ways)
		return perr(p, at, "%s: %u entries are not a whole number of %u-way sets", b->name,
			    entries, ways);
	return 0;
}

struct lat_arg {
	struct ims_latency_cfg *lat;
};

static int lat_pair(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		    const yaml_node_t *v)
{
	(void)k;
	struct ims_latency_cfg *l = ((struct lat_arg *)arg)->lat;
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
		{"link", offsetof(struct ims_latency_cfg, link)},
		{"pte_read", offsetof(struct ims_latency_cfg, pte_read)},
		{"ad_update", offsetof(struct ims_latency_cfg, ad_update)},
		{"inv_range", offsetof(struct ims_latency_cfg, inv_range)},
		{"inv_domain", offsetof(struct ims_latency_cfg, inv_domain)},
		{"inv_all", offsetof(struct ims_latency_cfg, inv_all)},
		{"inv_context", offsetof(struct ims_latency_cfg, inv_context)},
		{"fault", offsetof(struct ims_latency_cfg, fault)},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].name))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "latencies.%s", key);
		return get_unsigned(p, what, v, MAX_LATENCY, (unsigned *)((char *)l + keys[i].off));
	}
	return -ENOENT;
}

static int model_pair(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v)
{
	(void)k;
	struct ims_iommu_cfg *c = arg;
	char what[64];
	snprintf(what, sizeof(what), "model.%s", key);
	if (!strcmp(key, "replica")) {
		unsigned i;
		int rc = get_word(p, what, v, replica_names, 3, "first, covering or random", &i);
		if (!rc)
			c->replica = (enum ims_replica_policy)i;
		return rc;
	}
	if (!strcmp(key, "seed"))
		return get_u64(p, what, v, UINT64_MAX, &c->seed);
	if (!strcmp(key, "amd_pde_accessed"))
		return get_bool(p, what, v, &c->amd_pde_accessed);
	if (!strcmp(key, "vtd_nonleaf_accessed"))
		return get_bool(p, what, v, &c->vtd_nonleaf_accessed);
	if (!strcmp(key, "dma_privileged"))
		return get_bool(p, what, v, &c->dma_privileged);
	return -ENOENT;
}

static int caps_pair(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		     const yaml_node_t *v)
{
	(void)k;
	struct ims_iommu_cfg *c = arg;
	char what[64];
	snprintf(what, sizeof(what), "capabilities.%s", key);
	if (!strcmp(key, "amd_efr"))
		return get_u64(p, what, v, UINT64_MAX, &c->amd_efr);
	if (!strcmp(key, "vtd_cap"))
		return get_u64(p, what, v, UINT64_MAX, &c->vtd_cap);
	if (!strcmp(key, "vtd_ecap"))
		return get_u64(p, what, v, UINT64_MAX, &c->vtd_ecap);
	if (!strcmp(key, "smmu_idr0"))
		return get_u64(p, what, v, UINT64_MAX, &c->smmu_idr0);
	return -ENOENT;
}

#define CACHE_KEYS "entries, ways, policy, latency"
#define LAT_KEYS "link, pte_read, ad_update, inv_range, inv_domain, inv_all, inv_context, fault"
#define MODEL_KEYS "replica, seed, amd_pde_accessed, vtd_nonleaf_accessed, dma_privileged"
#define CAPS_KEYS "amd_efr, vtd_cap, vtd_ecap, smmu_idr0"
#define SECTIONS "iotlb, micro_tlb, walk_cache, latencies, model, capabilities"

static int parse_block(struct pctx *p, const yaml_node_t *v, struct block *b, const char *keys)
{
	return each_pair(p, v, b->name, keys, block_pair, b);
}

struct levels_arg {
	struct ims_iommu_cfg *c;
};

static int level_pair(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v)
{
	struct ims_iommu_cfg *c = ((struct levels_arg *)arg)->c;
	unsigned lv = 0;
	const char *s = key;
	if (!*s || k->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return perr(p, k, "walk_cache.levels: expected a level number 0..%d, got '%s'",
			    IMS_WC_LEVELS - 1, key);
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || lv >= IMS_WC_LEVELS)
			return perr(p, k, "walk_cache.levels: expected a level number 0..%d, got '%s'",
				    IMS_WC_LEVELS - 1, key);
		lv = lv * 10 + (unsigned)(*s - '0');
	}
	if (lv >= IMS_WC_LEVELS)
		return perr(p, k, "walk_cache.levels: expected a level number 0..%d, got '%s'",
			    IMS_WC_LEVELS - 1, key);
	char name[32];
	snprintf(name, sizeof(name), "walk_cache.levels.%u", lv);
	struct ims_wc_level_cfg *L = &c->wc_level[lv];
	if (!L->set) {
		/* A level set for the first time starts from the default block
		 * as it stands once the whole walk_cache section is read. */
		*L = (struct ims_wc_level_cfg){.set = true,
					       .enable = !c->wc_disable,
					       .entries = c->wc_entries,
					       .ways = c->wc_ways,
					       .policy = c->wc_policy,
					       .latency = c->wc_latency};
	}
	struct block b = {.name = name, .entries = L->entries, .ways = L->ways,
			  .latency = L->latency, .enable = L->enable, .policy = L->policy};
	int rc = parse_block(p, v, &b, "enable, " CACHE_KEYS);
	if (rc)
		return rc;
	if (b.full)
		b.ways = b.entries;
	if ((rc = check_geometry(p, &b, b.entries, b.ways)))
		return rc;
	L->entries = b.entries;
	L->ways = b.ways;
	L->latency = b.latency;
	L->enable = b.enable;
	L->policy = b.policy;
	return 0;
}

static int top_pair(struct pctx *p, void *arg, const char *key, const yaml_node_t *k,
		    const yaml_node_t *v)
{
	(void)k;
	struct ims_iommu_cfg *c = arg;
	int rc;
	if (!strcmp(key, "iotlb")) {
		struct block b = {.name = "iotlb", .entries = c->iotlb_entries,
				  .ways = c->iotlb_ways, .latency = c->iotlb_latency,
				  .policy = c->iotlb_policy};
		if ((rc = parse_block(p, v, &b, CACHE_KEYS)))
			return rc;
		if (b.full)
			b.ways = b.entries;
		if ((rc = check_geometry(p, &b, b.entries, b.ways)))
			return rc;
		c->iotlb_entries = b.entries;
		c->iotlb_ways = b.ways;
		c->iotlb_latency = b.latency;
		c->iotlb_policy = b.policy;
		return 0;
	}
	if (!strcmp(key, "micro_tlb")) {
		struct block b = {.name = "micro_tlb", .entries = c->utlb_entries,
				  .ways = c->utlb_ways, .latency = c->utlb_latency,
				  .policy = c->utlb_policy, .enable = c->utlb_enable};
		if ((rc = parse_block(p, v, &b, "enable, " CACHE_KEYS)))
			return rc;
		if (b.full)
			b.ways = 0;
		if ((rc = check_geometry(p, &b, b.entries, b.ways)))
			return rc;
		c->utlb_entries = b.entries;
		c->utlb_ways = b.ways;
		c->utlb_latency = b.latency;
		c->utlb_policy = b.policy;
		c->utlb_enable = b.enable;
		return 0;
	}
	if (!strcmp(key, "walk_cache")) {
		struct block b = {.name = "walk_cache", .entries = c->wc_entries, .ways = c->wc_ways,
				  .latency = c->wc_latency, .policy = c->wc_policy,
				  .enable = !c->wc_disable};
		if ((rc = parse_block(p, v, &b, "enable, " CACHE_KEYS ", levels")))
			return rc;
		if (b.full)
			b.ways = b.entries;
		if ((rc = check_geometry(p, &b, b.entries, b.ways)))
			return rc;
		c->wc_entries = b.entries;
		c->wc_ways = b.ways;
		c->wc_latency = b.latency;
		c->wc_policy = b.policy;
		c->wc_disable = !b.enable;
		if (b.levels_n) {
			struct levels_arg la = {c};
			return each_pair(p, b.levels_n, "walk_cache.levels", "level numbers",
					 level_pair, &la);
		}
		return 0;
	}
	if (!strcmp(key, "latencies")) {
		struct lat_arg la = {&c->lat};
		return each_pair(p, v, "latencies", LAT_KEYS, lat_pair, &la);
	}
	if (!strcmp(key, "model"))
		return each_pair(p, v, "model", MODEL_KEYS, model_pair, c);
	if (!strcmp(key, "capabilities"))
		return each_pair(p, v, "capabilities", CAPS_KEYS, caps_pair, c);
	return -ENOENT;
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
		if (root->type != YAML_MAPPING_NODE)
			rc = perr(&p, root, "expected a mapping of sections (%s)", SECTIONS);
		else
			rc = each_pair(&p, root, "the configuration", "a section: " SECTIONS,
				       top_pair, &t);
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

int ims_iommu_cfg_parse(struct ims_iommu_cfg *cfg, const char *name, const char *buf, size_t len,
			char *err, size_t errlen)
{
	yaml_parser_t yp;
	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	int rc = parse_with(&yp, cfg, name ? name : "-", err, errlen);
	yaml_parser_delete(&yp);
	return rc;
}

int ims_iommu_cfg_load(struct ims_iommu_cfg *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		if (err)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	yaml_parser_t yp;
	if (!yaml_parser_initialize(&yp)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&yp, f);
	int rc = parse_with(&yp, cfg, path, err, errlen);
	yaml_parser_delete(&yp);
	if (ferror(f) && !rc) {
		if (err)
			snprintf(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	fclose(f);
	return rc;
}

/* ---- writing ---------------------------------------------------------------- */

static void write_ways(FILE *f, unsigned ways, unsigned entries, bool zero_is_full)
{
	if ((zero_is_full && !ways) || (entries && ways == entries))
		fprintf(f, "full\n");
	else
		fprintf(f, "%u\n", ways ? ways : 1);
}

void ims_iommu_cfg_write(const struct ims_iommu_cfg *c, FILE *f)
{
	fprintf(f, "iotlb:\n  entries: %u\n  ways: ", c->iotlb_entries);
	write_ways(f, c->iotlb_ways, c->iotlb_entries, false);
	fprintf(f, "  policy: %s\n  latency: %u\n", policy_names[c->iotlb_policy], c->iotlb_latency);
	fprintf(f, "micro_tlb:\n  enable: %s\n  entries: %u\n  ways: ",
		c->utlb_enable ? "true" : "false", c->utlb_entries);
	write_ways(f, c->utlb_ways, c->utlb_entries, true);
	fprintf(f, "  policy: %s\n  latency: %u\n", policy_names[c->utlb_policy], c->utlb_latency);
	fprintf(f, "walk_cache:\n  enable: %s\n  entries: %u\n  ways: ",
		c->wc_disable ? "false" : "true", c->wc_entries);
	write_ways(f, c->wc_ways, c->wc_entries, false);
	fprintf(f, "  policy: %s\n  latency: %u\n", policy_names[c->wc_policy], c->wc_latency);
	bool any = false;
	for (unsigned l = 0; l < IMS_WC_LEVELS; l++) {
		const struct ims_wc_level_cfg *L = &c->wc_level[l];
		if (!L->set)
			continue;
		if (!any)
			fprintf(f, "  levels:\n");
		any = true;
		fprintf(f, "    %u: {enable: %s, entries: %u, ways: ", l, L->enable ? "true" : "false",
			L->entries);
		if (L->entries && L->ways == L->entries)
			fprintf(f, "full");
		else
			fprintf(f, "%u", L->ways ? L->ways : 1);
		fprintf(f, ", policy: %s, latency: %u}\n", policy_names[L->policy], L->latency);
	}
	fprintf(f,
		"latencies:\n  link: %u\n  pte_read: %u\n  ad_update: %u\n  inv_range: %u\n"
		"  inv_domain: %u\n  inv_all: %u\n  inv_context: %u\n  fault: %u\n",
		c->lat.link, c->lat.pte_read, c->lat.ad_update, c->lat.inv_range, c->lat.inv_domain,
		c->lat.inv_all, c->lat.inv_context, c->lat.fault);
	fprintf(f,
		"model:\n  replica: %s\n  seed: %" PRIu64 "\n  amd_pde_accessed: %s\n"
		"  vtd_nonleaf_accessed: %s\n  dma_privileged: %s\n",
		replica_names[c->replica], c->seed, c->amd_pde_accessed ? "true" : "false",
		c->vtd_nonleaf_accessed ? "true" : "false", c->dma_privileged ? "true" : "false");
	fprintf(f,
		"capabilities:\n  amd_efr: 0x%" PRIx64 "\n  vtd_cap: 0x%" PRIx64
		"\n  vtd_ecap: 0x%" PRIx64 "\n  smmu_idr0: 0x%" PRIx64 "\n",
		c->amd_efr, c->vtd_cap, c->vtd_ecap, c->smmu_idr0);
}
