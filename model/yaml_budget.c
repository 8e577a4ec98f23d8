/* Budgets of a YAML file, checked with libyaml's event parser before the
 * document is loaded (model/yaml_budget.h, docs/limits.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "model/yaml_budget.h"

void ybudget_init(struct ybudget *b, const char *what, uint64_t max_bytes, const char *raise)
{
	memset(b, 0, sizeof(*b));
	b->what = what;
	b->raise = raise;
	b->max_bytes = max_bytes;
	/* A node takes at least two bytes of a file ("a,"); an alias may
	 * repeat a body a few times, not blow the file up. */
	b->max_nodes = max_bytes / 16 ? max_bytes / 16 : 1;
	b->max_expanded = max_bytes > UINT64_MAX / 4 ? UINT64_MAX : max_bytes * 4;
	/* Real files nest about five deep and name a handful of anchors. */
	b->max_depth = 32;
	b->max_anchors = 1000;
	b->max_aliases = 10000;
}

/* " (...; OPT raises it)" or " (...)": where the limit comes from. */
static void why_limit(const struct ybudget *b, char *buf, size_t n, bool scaled)
{
	if (b->raise && scaled)
		snprintf(buf, n, "the limit of %s, which %s raises; docs/limits.md", b->what,
			 b->raise);
	else
		snprintf(buf, n, "the limit of %s, docs/limits.md", b->what);
}

int ybudget_read(const struct ybudget *b, const char *path, char **bufp, size_t *lenp, char *err,
		 size_t errlen)
{
	*bufp = NULL;
	*lenp = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	/* Read in growing steps up to one byte past the limit: a file that
	 * has that byte is too large, however much more it holds. */
	uint64_t stop = b->max_bytes < SIZE_MAX - 1 ? b->max_bytes + 1 : SIZE_MAX - 1;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= stop)
				break;
			size_t want = cap ? 2 * cap : 65536;
			if (want > stop)
				want = (size_t)stop;
			char *x = realloc(buf, want + 1);
			if (!x) {
				rc = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				break;
			}
			buf = x;
			cap = want;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	fclose(f);
	if (!rc && len > b->max_bytes) {
		char lim[160];
		why_limit(b, lim, sizeof(lim), true);
		snprintf(err, errlen, "%s: larger than %" PRIu64 " bytes (%s)", path, b->max_bytes,
			 lim);
		rc = -E2BIG;
	}
	if (!rc && !buf && !(buf = malloc(1))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
	}
	if (rc) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

struct anchor {
	char *name;
	uint64_t start; /* the running total when its node began */
	uint64_t size;  /* expanded size once its node ended */
	unsigned open;  /* its collection is still being read */
};

struct scan {
	const struct ybudget *b;
	const char *name;
	char *err;
	size_t errlen;
	struct anchor *anchors; /* of the current document */
	unsigned nanchors, anchors_total, aliases;
	int *open;              /* anchor index of each open collection, or -1 */
	unsigned depth;
	uint64_t nodes, total;
};

__attribute__((format(printf, 4, 5))) static int over(struct scan *s, const yaml_event_t *ev,
						      bool scaled, const char *fmt, ...)
{
	int k = snprintf(s->err, s->errlen, "%s:%zu:%zu: ", s->name, ev->start_mark.line + 1,
			 ev->start_mark.column + 1);
	if (k < 0 || (size_t)k >= s->errlen)
		k = 0;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(s->err + k, s->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	if (m > 0 && (size_t)(k + m) < s->errlen) {
		char lim[160];
		why_limit(s->b, lim, sizeof(lim), scaled);
		snprintf(s->err + k + m, s->errlen - (size_t)(k + m), " (%s)", lim);
	}
	return -E2BIG;
}

static int add(struct scan *s, const yaml_event_t *ev, uint64_t n)
{
	s->total = n > UINT64_MAX - s->total ? UINT64_MAX : s->total + n;
	if (s->total > s->b->max_expanded)
		return over(s, ev, true, "with its aliases written out the file holds more than "
			    "%" PRIu64 " bytes", s->b->max_expanded);
	return 0;
}

/* A node starts: its count, and its anchor if it has one. */
static int node(struct scan *s, const yaml_event_t *ev, const yaml_char_t *anchor, int *idx)
{
	*idx = -1;
	if (++s->nodes > s->b->max_nodes)
		return over(s, ev, true, "more than %" PRIu64 " nodes", s->b->max_nodes);
	if (!anchor)
		return 0;
	if (++s->anchors_total > s->b->max_anchors)
		return over(s, ev, false, "more than %u anchors", s->b->max_anchors);
	char *nm = strdup((const char *)anchor);
	if (!nm)
		return -ENOMEM;
	/* At most max_anchors entries: the array is sized once. */
	if (!s->anchors && !(s->anchors = calloc(s->b->max_anchors, sizeof(*s->anchors)))) {
		free(nm);
		return -ENOMEM;
	}
	*idx = (int)s->nanchors;
	s->anchors[s->nanchors++] = (struct anchor){nm, s->total, 0, 0};
	return 0;
}

static int alias(struct scan *s, const yaml_event_t *ev)
{
	if (++s->aliases > s->b->max_aliases)
		return over(s, ev, false, "more than %u aliases", s->b->max_aliases);
	if (++s->nodes > s->b->max_nodes)
		return over(s, ev, true, "more than %" PRIu64 " nodes", s->b->max_nodes);
	const char *nm = (const char *)ev->data.alias.anchor;
	/* The latest anchor of that name (the loader refuses a second one). */
	for (unsigned i = s->nanchors; i-- > 0;) {
		struct anchor *a = &s->anchors[i];
		if (strcmp(a->name, nm))
			continue;
		if (a->open) {
			snprintf(s->err, s->errlen, "%s:%zu:%zu: alias *%s stands for a node that "
				 "holds it (expected an alias of a node that ended before it)",
				 s->name, ev->start_mark.line + 1, ev->start_mark.column + 1, nm);
			return -EINVAL;
		}
		return add(s, ev, a->size);
	}
	return 0; /* an undefined alias: the loader says so */
}

static int collection(struct scan *s, const yaml_event_t *ev, const yaml_char_t *anchor)
{
	if (s->depth >= s->b->max_depth)
		return over(s, ev, false, "collections nested more than %u deep", s->b->max_depth);
	int idx, rc = node(s, ev, anchor, &idx);
	if (rc || (rc = add(s, ev, 1)))
		return rc;
	if (idx >= 0)
		s->anchors[idx].open = 1;
	s->open[s->depth++] = idx;
	return 0;
}

static void collection_end(struct scan *s)
{
	if (!s->depth)
		return;
	int idx = s->open[--s->depth];
	if (idx >= 0) {
		s->anchors[idx].open = 0;
		s->anchors[idx].size = s->total - s->anchors[idx].start;
	}
}

static void document_end(struct scan *s)
{
	/* Anchors are a document's own. */
	for (unsigned i = 0; i < s->nanchors; i++)
		free(s->anchors[i].name);
	s->nanchors = 0;
	s->depth = 0;
}

static int event(struct scan *s, const yaml_event_t *ev)
{
	int idx, rc;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((rc = node(s, ev, ev->data.scalar.anchor, &idx)))
			return rc;
		if ((rc = add(s, ev, (uint64_t)ev->data.scalar.length + 1)))
			return rc;
		if (idx >= 0)
			s->anchors[idx].size = ev->data.scalar.length + 1;
		return 0;
	case YAML_ALIAS_EVENT:
		return alias(s, ev);
	case YAML_SEQUENCE_START_EVENT:
		return collection(s, ev, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return collection(s, ev, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		collection_end(s);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		document_end(s);
		return 0;
	default:
		return 0;
	}
}

int ybudget_scan(const struct ybudget *b, const char *name, const char *buf, size_t len, char *err,
		 size_t errlen)
{
	struct scan s = {.b = b, .name = name, .err = err, .errlen = errlen};
	if (len > b->max_bytes) {
		char lim[160];
		why_limit(b, lim, sizeof(lim), true);
		snprintf(err, errlen, "%s: larger than %" PRIu64 " bytes (%s)", name, b->max_bytes,
			 lim);
		return -E2BIG;
	}
	if (!(s.open = calloc(b->max_depth ? b->max_depth : 1, sizeof(*s.open))))
		return -ENOMEM;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		free(s.open);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int rc = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev))
			break; /* the loader reports the syntax error */
		rc = event(&s, &ev);
		bool end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc || end)
			break;
	}
	yaml_parser_delete(&p);
	document_end(&s);
	free(s.anchors);
	free(s.open);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	return rc;
}
