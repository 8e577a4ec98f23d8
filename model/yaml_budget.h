/* Budgets of a YAML file (docs/limits.md, "YAML and importer budgets"):
 * what a file may ask of libyaml and of the code that walks the document
 * it loads, checked before the document is loaded.
 *
 * libyaml's loader keeps anchors in a list that it searches for each new
 * anchor and each alias, so its time grows with their product; it builds
 * a node for every scalar and collection; and an alias shares its node,
 * so a reader that walks the document repeats the anchored subtree at
 * every alias (a few kilobytes can stand for gigabytes). The event
 * parser, which the scan below uses, does none of this: it is linear in
 * the file. Internal to the build (the model configuration, model/config.c,
 * and the conformance suites, tools/conform_suite.c, use it).
 */
#ifndef IMS_MODEL_YAML_BUDGET_H
#define IMS_MODEL_YAML_BUDGET_H

#include <stddef.h>
#include <stdint.h>

struct ybudget {
	const char *what;      /* "a model configuration", "a suite file": messages */
	const char *raise;     /* the option that raises the size budgets, or NULL */
	uint64_t max_bytes;    /* the file */
	uint64_t max_nodes;    /* scalars, collections and aliases, as written */
	uint64_t max_expanded; /* bytes of scalars plus one a node, every alias written out */
	unsigned max_depth;    /* collections inside collections */
	unsigned max_anchors;  /* in the file */
	unsigned max_aliases;  /* in the file */
};

/* The budgets of a file of at most max_bytes: nodes max_bytes / 16,
 * expanded size 4 * max_bytes, depth 32, 1000 anchors, 10000 aliases. */
void ybudget_init(struct ybudget *b, const char *what, uint64_t max_bytes, const char *raise);

/* Reads path whole, refusing past b->max_bytes without reading further
 * (a device or a FIFO is read up to the limit too). 0 and a NUL-ended
 * *buf (free() it); -E2BIG with err "FILE: larger than N bytes (...)";
 * -errno with err "FILE: reason". */
int ybudget_read(const struct ybudget *b, const char *path, char **buf, size_t *len, char *err,
		 size_t errlen);

/* Scans buf with libyaml's event parser against b. 0 when it keeps the
 * budgets (a syntax error is left to the loader, which reports it);
 * -E2BIG with err "NAME:LINE:COL: what, the limit (...)" at the event
 * that goes past one; -EINVAL for an alias of a node that holds it; -ENOMEM. */
int ybudget_scan(const struct ybudget *b, const char *name, const char *buf, size_t len, char *err,
		 size_t errlen);

#endif
