/* The model configuration keys: one table (name, type, default, description,
 * where the value lives in struct ims_iommu_cfg) and one setter behind the
 * YAML file (model/config.c), the conformance cases' model: settings and the
 * command line. docs/timing.md gives the source of each default;
 * docs/model-config.yaml holds them all (tests/unit/test_config.c checks
 * that it, this table and ims_iommu_cfg_default() agree).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "formats/format.h"
#include "iommusim/model.h"

#define MAX_SIZE (1u << 24) /* entries, ways and latencies */

enum where { IN_CFG, IN_LEVEL }; /* struct ims_iommu_cfg, or one struct ims_wc_level_cfg */
enum store { S_UINT, S_U64, S_BOOL, S_NOT, S_POLICY, S_REPLICA };

/* Row flags. */
#define F_HEX 1u       /* written in hex: register encodings */
#define F_FULL_ZERO 2u /* ways: full is 0 (the micro-TLB), not the entries */

/* Alias flags: what the option the alias was meant beyond the key. */
#define A_WAYS0 1u  /* 0 ways is taken (one way), as the command line's cache sizes */
#define A_LEVELS 2u /* sets every walk-cache level already configured too */

struct row {
	struct ims_cfg_key k;
	enum where where;
	enum store store;
	size_t off;
	unsigned flags;
	size_t entries_off; /* ways: the entries they fill when full */
	unsigned aflags;    /* what k.alias means besides the key */
	size_t level_off;   /* A_LEVELS: the same field in struct ims_wc_level_cfg */
};

#define T_NUM IMS_CFG_TEXT_NUMBER
#define T_BOOL IMS_CFG_TEXT_BOOL
#define T_WAYS "a number of ways from 1, or full"
#define T_POLICY "lru, round-robin or random"
#define T_REPLICA "first, covering or random"

#define KEY(name_, type_, tt_, max_, def_, desc_, alias_, fmt_)                                   \
	{.name = name_, .type = type_, .type_text = tt_, .max = max_, .def = def_, .desc = desc_,  \
	 .alias = alias_, .format = fmt_}
#define NUM(name, max, def, desc, alias, fmt) KEY(name, IMS_CFG_NUMBER, T_NUM, max, def, desc, alias, fmt)
#define BOOL(name, def, desc, alias, fmt) KEY(name, IMS_CFG_BOOL, T_BOOL, 1, def, desc, alias, fmt)
#define WAYS(name, def, desc, alias) KEY(name, IMS_CFG_WAYS, T_WAYS, MAX_SIZE, def, desc, alias, -1)
#define POLICY(name, def, desc) KEY(name, IMS_CFG_POLICY, T_POLICY, 2, def, desc, NULL, -1)
#define CFG(f) .where = IN_CFG, .off = offsetof(struct ims_iommu_cfg, f)
#define LVL(f) .where = IN_LEVEL, .off = offsetof(struct ims_wc_level_cfg, f)

/* In the order of the YAML file: the unknown-key messages of model/config.c
 * list a section's keys in this order. */
static const struct row rows[] = {
	{NUM("iotlb.entries", MAX_SIZE, "2048", "IOTLB entries in all; 0 = no IOTLB",
	     "iotlb-entries", -1),
	 CFG(iotlb_entries), .store = S_UINT},
	{WAYS("iotlb.ways", "4", "IOTLB ways per set (0 from the command line: one)",
	      "iotlb-ways"),
	 CFG(iotlb_ways), .store = S_UINT, .aflags = A_WAYS0,
	 .entries_off = offsetof(struct ims_iommu_cfg, iotlb_entries)},
	{POLICY("iotlb.policy", "lru", "IOTLB replacement among valid ways"), CFG(iotlb_policy),
	 .store = S_POLICY},
	{NUM("iotlb.latency", MAX_SIZE, "3", "cycles per IOTLB lookup", NULL, -1),
	 CFG(iotlb_latency), .store = S_UINT},

	{BOOL("micro_tlb.enable", "false", "a device-side micro-TLB per device", NULL, -1),
	 CFG(utlb_enable), .store = S_BOOL},
	{NUM("micro_tlb.entries", MAX_SIZE, "32", "micro-TLB entries", NULL, -1),
	 CFG(utlb_entries), .store = S_UINT},
	{WAYS("micro_tlb.ways", "full", "micro-TLB ways per set", NULL), CFG(utlb_ways),
	 .store = S_UINT, .flags = F_FULL_ZERO},
	{POLICY("micro_tlb.policy", "round-robin", "micro-TLB replacement"), CFG(utlb_policy),
	 .store = S_POLICY},
	{NUM("micro_tlb.latency", MAX_SIZE, "1", "cycles per micro-TLB lookup", NULL, -1),
	 CFG(utlb_latency), .store = S_UINT},

	{BOOL("walk_cache.enable", "true", "walk caches (every level; false turns all off)",
	      NULL, -1),
	 CFG(wc_disable), .store = S_NOT},
	{NUM("walk_cache.entries", MAX_SIZE, "64",
	     "walk-cache entries per level without a block of its own; 0 = none "
	     "(walk-cache-entries: every configured level too)",
	     "walk-cache-entries", -1),
	 CFG(wc_entries), .store = S_UINT, .aflags = A_LEVELS,
	 .level_off = offsetof(struct ims_wc_level_cfg, entries)},
	{WAYS("walk_cache.ways", "4",
	      "walk-cache ways per set (walk-cache-ways: every configured level too; 0: one)",
	      "walk-cache-ways"),
	 CFG(wc_ways), .store = S_UINT, .aflags = A_WAYS0 | A_LEVELS,
	 .entries_off = offsetof(struct ims_iommu_cfg, wc_entries),
	 .level_off = offsetof(struct ims_wc_level_cfg, ways)},
	{POLICY("walk_cache.policy", "lru", "walk-cache replacement"), CFG(wc_policy),
	 .store = S_POLICY},
	{NUM("walk_cache.latency", MAX_SIZE, "4", "cycles per walk-cache level probed", NULL, -1),
	 CFG(wc_latency), .store = S_UINT},

	/* A level's block starts from the walk_cache block when first set. */
	{BOOL("walk_cache.levels.N.enable", NULL, "walk cache of level N (0: leaf-level tables)",
	      NULL, -1),
	 LVL(enable), .store = S_BOOL},
	{NUM("walk_cache.levels.N.entries", MAX_SIZE, NULL, "walk-cache entries of level N",
	     NULL, -1),
	 LVL(entries), .store = S_UINT},
	{WAYS("walk_cache.levels.N.ways", NULL, "walk-cache ways per set of level N", NULL),
	 LVL(ways), .store = S_UINT, .entries_off = offsetof(struct ims_wc_level_cfg, entries)},
	{POLICY("walk_cache.levels.N.policy", NULL, "walk-cache replacement of level N"),
	 LVL(policy), .store = S_POLICY},
	{NUM("walk_cache.levels.N.latency", MAX_SIZE, NULL, "cycles per probe of level N", NULL,
	     -1),
	 LVL(latency), .store = S_UINT},

	{NUM("latencies.link", MAX_SIZE, "8", "cycles device <-> IOMMU, each way", NULL, -1),
	 CFG(lat.link), .store = S_UINT},
	{NUM("latencies.pte_read", MAX_SIZE, "100", "cycles per page-table read by the walker",
	     NULL, -1),
	 CFG(lat.pte_read), .store = S_UINT},
	{NUM("latencies.ad_update", MAX_SIZE, "100",
	     "cycles per atomic A/D write that changed memory", NULL, -1),
	 CFG(lat.ad_update), .store = S_UINT},
	{NUM("latencies.inv_range", MAX_SIZE, "100", "cycles per range invalidation command",
	     NULL, -1),
	 CFG(lat.inv_range), .store = S_UINT},
	{NUM("latencies.inv_domain", MAX_SIZE, "100", "cycles per domain invalidation command",
	     NULL, -1),
	 CFG(lat.inv_domain), .store = S_UINT},
	{NUM("latencies.inv_all", MAX_SIZE, "100", "cycles per invalidate-all command", NULL, -1),
	 CFG(lat.inv_all), .store = S_UINT},
	{NUM("latencies.inv_context", MAX_SIZE, "100", "cycles per context invalidation command",
	     NULL, -1),
	 CFG(lat.inv_context), .store = S_UINT},
	{NUM("latencies.fault", MAX_SIZE, "100", "cycles per fault / event record written", NULL,
	     -1),
	 CFG(lat.fault), .store = S_UINT},

	{KEY("model.replica", IMS_CFG_REPLICA, T_REPLICA, 2, "covering",
	     "which entry of an AMD NextLevel=7 replica run or Arm contiguous group gets A/D",
	     "replica", -1),
	 CFG(replica), .store = S_REPLICA},
	{NUM("model.seed", UINT64_MAX, "1",
	     "seed of the model's random choices (replica, random policies)", "seed", -1),
	 CFG(seed), .store = S_U64},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const char *const policy_names[] = {"lru", "round-robin", "random"};
static const char *const replica_names[] = {"first", "covering", "random"};

/* The format's keys (formats/format.h) after the model's own, in registry
 * order: key i >= NROWS is key j of a format. */
static const struct fmt_cfg_key *fmt_key(size_t i)
{
	if (i < NROWS)
		return NULL;
	i -= NROWS;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		if (d && i < d->n_cfg_keys)
			return &d->cfg_keys[i];
		i -= d ? d->n_cfg_keys : 0;
	}
	return NULL;
}

static size_t nrows(void)
{
	size_t n = NROWS;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		n += d ? d->n_cfg_keys : 0;
	}
	return n;
}

/* Row i, the model's or a format's: false past the end. */
static bool row_at(size_t i, struct row *out)
{
	if (i < NROWS) {
		*out = rows[i];
		return true;
	}
	const struct fmt_cfg_key *fk = fmt_key(i);
	if (!fk)
		return false;
	*out = (struct row){.k = fk->k, .where = IN_CFG, .off = fk->off,
			    .store = fk->k.type == IMS_CFG_BOOL ? S_BOOL : S_U64,
			    .flags = fk->k.type == IMS_CFG_NUMBER ? F_HEX : 0};
	return true;
}

static const struct ims_cfg_key *raw_key(size_t i)
{
	if (i < NROWS)
		return &rows[i].k;
	const struct fmt_cfg_key *fk = fmt_key(i);
	return fk ? &fk->k : NULL;
}

static bool same_section(const char *a, const char *b)
{
	const char *da = strchr(a, '.'), *db = strchr(b, '.');
	size_t la = da ? (size_t)(da - a) : strlen(a), lb = db ? (size_t)(db - b) : strlen(b);
	return la == lb && !strncmp(a, b, la);
}

/* The order keys are listed in: a section's keys together, sections in the
 * order they first appear (the model's own keys, then each format's, which
 * join the model's sections). Returns the raw index of listed key i, and
 * with `inverse` the listed index of raw key i. */
static size_t listed(size_t i, bool inverse)
{
	size_t n = nrows(), k = 0;
	for (size_t s0 = 0; s0 < n; s0++) {
		const char *sec = raw_key(s0)->name;
		bool seen = false;
		for (size_t j = 0; j < s0 && !seen; j++)
			seen = same_section(raw_key(j)->name, sec);
		if (seen)
			continue;
		for (size_t j = s0; j < n; j++) {
			if (!same_section(raw_key(j)->name, sec))
				continue;
			if (inverse ? j == i : k == i)
				return inverse ? k : j;
			k++;
		}
	}
	return n;
}

size_t ims_iommu_cfg_key_count(void)
{
	return nrows();
}

const struct ims_cfg_key *ims_iommu_cfg_key(size_t i)
{
	return i < nrows() ? raw_key(listed(i, false)) : NULL;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- finding a key ------------------------------------------------------- */

#define LEVEL_PREFIX "walk_cache.levels."

struct ref {
	struct row r;   /* a copy: format rows are built on the fly */
	size_t idx;     /* its index in the table */
	int level;      /* IN_LEVEL: the level, or -1 for the name with N */
	unsigned aflags; /* the key was given by its alias */
};

/* "walk_cache.levels.<L>.rest": *level (-1 for "N", -2 for anything else
 * than a level number below IMS_WC_LEVELS) and rest; false if key is not of
 * that shape. */
static bool split_level(const char *key, int *level, const char **rest, size_t *numlen)
{
	size_t n = strlen(LEVEL_PREFIX);
	if (strncmp(key, LEVEL_PREFIX, n))
		return false;
	const char *s = key + n, *dot = strchr(s, '.');
	if (!dot || dot == s)
		return false;
	*rest = dot;
	*numlen = (size_t)(dot - s);
	if (*numlen == 1 && *s == 'N') {
		*level = -1;
		return true;
	}
	unsigned lv = 0;
	for (const char *d = s; d < dot; d++) {
		if (*d < '0' || *d > '9' || lv >= IMS_WC_LEVELS) {
			*level = -2;
			return true;
		}
		lv = lv * 10 + (unsigned)(*d - '0');
	}
	*level = lv < IMS_WC_LEVELS ? (int)lv : -2;
	return true;
}

static bool resolve(const char *key, struct ref *out)
{
	int level;
	const char *rest;
	size_t numlen;
	if (split_level(key, &level, &rest, &numlen)) {
		for (size_t i = 0; i < NROWS; i++) {
			const char *nm = rows[i].k.name;
			if (rows[i].where == IN_LEVEL && !strcmp(nm + strlen(LEVEL_PREFIX) + 1, rest)) {
				*out = (struct ref){rows[i], i, level, 0};
				return true;
			}
		}
		return false;
	}
	struct row r;
	for (size_t i = 0; row_at(i, &r); i++) {
		if (r.where == IN_CFG && !strcmp(r.k.name, key)) {
			*out = (struct ref){r, i, 0, 0};
			return true;
		}
		if (r.k.alias && !strcmp(r.k.alias, key)) {
			*out = (struct ref){r, i, 0, r.aflags};
			return true;
		}
	}
	return false;
}

int ims_iommu_cfg_key_find(const char *key)
{
	struct ref r;
	if (!key || !resolve(key, &r) || r.level == -2)
		return -ENOENT;
	return (int)listed(r.idx, true);
}

/* Edit distance, for naming the key a misspelt one was meant to be. Names
 * longer than the buffer are compared on their first characters. */
static unsigned distance(const char *a, const char *b)
{
	enum { MAXN = 96 };
	unsigned prev[MAXN + 1], cur[MAXN + 1];
	size_t la = strnlen(a, MAXN), lb = strnlen(b, MAXN);
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/* The canonical name nearest to key, comparing with aliases too; a level
 * key is compared with the level the caller gave (or 0). */
static const char *nearest(const char *key)
{
	char lv[16] = "0";
	int level;
	const char *rest;
	size_t numlen;
	if (split_level(key, &level, &rest, &numlen) && numlen < sizeof(lv))
		snprintf(lv, sizeof(lv), "%.*s", (int)numlen, key + strlen(LEVEL_PREFIX));
	const char *best = rows[0].k.name;
	unsigned bd = ~0u;
	struct row r;
	for (size_t i = 0; row_at(i, &r); i++) {
		char name[96];
		const char *nm = r.k.name;
		if (r.where == IN_LEVEL)
			snprintf(name, sizeof(name), LEVEL_PREFIX "%s%s", lv,
				 nm + strlen(LEVEL_PREFIX) + 1);
		else
			snprintf(name, sizeof(name), "%s", nm);
		unsigned d = distance(key, name);
		if (r.k.alias) {
			unsigned da = distance(key, r.k.alias);
			d = da < d ? da : d;
		}
		if (d < bd) {
			bd = d;
			best = nm;
		}
	}
	return best;
}

/* ---- values -------------------------------------------------------------- */

/* Decimal, or hexadecimal with 0x. Octal and signs are refused: a leading
 * zero means nothing here. 0, -EINVAL (not a number) or -ERANGE (past 64
 * bits). */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
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
			return -EINVAL;
		if (v > (UINT64_MAX - dig) / base)
			return -ERANGE;
		v = v * base + dig;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*out = v;
	return 0;
}

static int number(const char *key, const char *s, uint64_t max, const char *tail, uint64_t *out,
		  char *err, size_t errlen)
{
	int rc = parse_u64(s, out);
	if (rc == -ERANGE)
		return fail(err, errlen, "%s: '%s' does not fit in 64 bits%s", key, s, tail);
	if (rc)
		return fail(err, errlen, "%s: expected " T_NUM ", got '%s'%s", key, s, tail);
	if (*out > max)
		return fail(err, errlen, "%s: %s is out of range (at most %" PRIu64 ")%s", key, s, max,
			    tail);
	return 0;
}

static int boolean(const char *key, const char *s, uint64_t *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
	for (unsigned i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return fail(err, errlen, "%s: expected " T_BOOL ", got '%s'", key, s);
}

static int word(const char *key, const char *s, const char *const *names, const char *expect,
		uint64_t *out, char *err, size_t errlen)
{
	for (unsigned i = 0; i < 3; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	return fail(err, errlen, "%s: expected %s, got '%s'", key, expect, s);
}

/* The value of s for row r; *full for ways given as full. */
static int parse_value(const struct ref *f, const char *key, const char *s, uint64_t *v,
		       bool *full, char *err, size_t errlen)
{
	*full = false;
	const struct row *r = &f->r;
	switch (r->k.type) {
	case IMS_CFG_NUMBER:
		return number(key, s, r->k.max, "", v, err, errlen);
	case IMS_CFG_BOOL:
		return boolean(key, s, v, err, errlen);
	case IMS_CFG_WAYS: {
		if (!strcmp(s, "full")) {
			*full = true;
			*v = 0;
			return 0;
		}
		int rc = number(key, s, r->k.max, " (or full)", v, err, errlen);
		if (!rc && !*v && !(f->aflags & A_WAYS0))
			return fail(err, errlen, "%s: expected " T_WAYS, key);
		return rc;
	}
	case IMS_CFG_POLICY:
		return word(key, s, policy_names, T_POLICY, v, err, errlen);
	case IMS_CFG_REPLICA:
		return word(key, s, replica_names, T_REPLICA, v, err, errlen);
	}
	return fail(err, errlen, "%s: no such type", key);
}

static void put(void *base, const struct row *r, size_t off, uint64_t v)
{
	char *p = (char *)base + off;
	switch (r->store) {
	case S_UINT:
		*(unsigned *)(void *)p = (unsigned)v;
		break;
	case S_U64:
		*(uint64_t *)(void *)p = v;
		break;
	case S_BOOL:
		*(bool *)(void *)p = v != 0;
		break;
	case S_NOT:
		*(bool *)(void *)p = v == 0;
		break;
	case S_POLICY:
		*(enum ims_repl_policy *)(void *)p = (enum ims_repl_policy)v;
		break;
	case S_REPLICA:
		*(enum ims_replica_policy *)(void *)p = (enum ims_replica_policy)v;
		break;
	}
}

static uint64_t get(const void *base, const struct row *r, size_t off)
{
	const char *p = (const char *)base + off;
	switch (r->store) {
	case S_UINT:
		return *(const unsigned *)(const void *)p;
	case S_U64:
		return *(const uint64_t *)(const void *)p;
	case S_BOOL:
		return *(const bool *)(const void *)p;
	case S_NOT:
		return !*(const bool *)(const void *)p;
	case S_POLICY:
		return (uint64_t)*(const enum ims_repl_policy *)(const void *)p;
	case S_REPLICA:
		return (uint64_t)*(const enum ims_replica_policy *)(const void *)p;
	}
	return 0;
}

/* A level not configured yet follows the walk_cache block as it stands. */
static struct ims_wc_level_cfg level_in_force(const struct ims_iommu_cfg *c, unsigned l)
{
	if (c->wc_level[l].set)
		return c->wc_level[l];
	return (struct ims_wc_level_cfg){.set = true,
					 .enable = !c->wc_disable,
					 .entries = c->wc_entries,
					 .ways = c->wc_ways,
					 .policy = c->wc_policy,
					 .latency = c->wc_latency};
}

/* Ways given as full, in a block whose entries are in force at base. */
static uint64_t full_ways(const void *base, const struct row *r)
{
	if (r->flags & F_FULL_ZERO)
		return 0;
	return *(const unsigned *)(const void *)((const char *)base + r->entries_off);
}

int ims_iommu_cfg_set(struct ims_iommu_cfg *cfg, const char *key, const char *value, char *err,
		      size_t errlen)
{
	struct ref f;
	if (!key || !resolve(key, &f)) {
		if (err && errlen)
			snprintf(err, errlen, "unknown key '%s' (nearest: %s)", key ? key : "",
				 nearest(key ? key : ""));
		return -ENOENT;
	}
	if (f.level < 0) {
		const char *s = key + strlen(LEVEL_PREFIX);
		return fail(err, errlen, "walk_cache.levels: expected a level number 0..%d, got '%.*s'",
			    IMS_WC_LEVELS - 1, (int)(strchr(s, '.') - s), s);
	}
	uint64_t v = 0;
	bool full;
	int rc = parse_value(&f, key, value ? value : "", &v, &full, err, errlen);
	if (rc)
		return rc;
	const struct row *r = &f.r;
	if (r->where == IN_LEVEL) {
		struct ims_wc_level_cfg L = level_in_force(cfg, (unsigned)f.level);
		put(&L, r, r->off, full ? full_ways(&L, r) : v);
		cfg->wc_level[f.level] = L;
		return 0;
	}
	put(cfg, r, r->off, full ? full_ways(cfg, r) : v);
	if (f.aflags & A_LEVELS) {
		for (unsigned l = 0; l < IMS_WC_LEVELS; l++) {
			struct ims_wc_level_cfg *L = &cfg->wc_level[l];
			if (L->set)
				put(L, r, r->level_off, full ? L->entries : v);
		}
	}
	return 0;
}

int ims_iommu_cfg_get(const struct ims_iommu_cfg *cfg, const char *key, char *buf, size_t len)
{
	struct ref f;
	if (!key || !resolve(key, &f) || f.level < 0)
		return -ENOENT;
	const struct row *r = &f.r;
	struct ims_wc_level_cfg L;
	const void *base = cfg;
	if (r->where == IN_LEVEL) {
		L = level_in_force(cfg, (unsigned)f.level);
		base = &L;
	}
	uint64_t v = get(base, r, r->off);
	switch (r->k.type) {
	case IMS_CFG_NUMBER:
		return snprintf(buf, len, (r->flags & F_HEX) ? "0x%" PRIx64 : "%" PRIu64, v);
	case IMS_CFG_BOOL:
		return snprintf(buf, len, "%s", v ? "true" : "false");
	case IMS_CFG_WAYS:
		/* 0 ways work as one, except where 0 is full. */
		if ((r->flags & F_FULL_ZERO) ? !v : (v && v == full_ways(base, r)))
			return snprintf(buf, len, "full");
		return snprintf(buf, len, "%" PRIu64, v ? v : 1);
	case IMS_CFG_POLICY:
		return snprintf(buf, len, "%s", policy_names[v < 3 ? v : 0]);
	case IMS_CFG_REPLICA:
		return snprintf(buf, len, "%s", replica_names[v < 3 ? v : 0]);
	}
	return -ENOENT;
}
