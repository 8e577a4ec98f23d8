/* `iommusim help TOPIC`: the documents a user needs without the source tree
 * (embedded from docs/ at build time) and the built-in walkers. */
#include <stdio.h>
#include <string.h>

#include "iommusim/pt.h"
#include "tools/cmd.h"

extern const char help_doc_trace_format[];
extern const char help_doc_dirty_semantics[];

/* A document as text: the markdown as written, without the comment lines
 * that mark its examples for the tests (tests/docs/doc_blocks.py). */
static void print_doc(const char *doc, FILE *out)
{
	while (*doc) {
		const char *nl = strchr(doc, '\n');
		size_t n = nl ? (size_t)(nl - doc) + 1 : strlen(doc);
		if (strncmp(doc, "<!-- ", 5) != 0)
			fwrite(doc, 1, n, out);
		doc += n;
	}
}

static void walkers(FILE *out)
{
	fprintf(out, "built-in walkers (--walker NAME; docs/walkers.md, docs/dirty-semantics.md):\n");
	for (unsigned i = 0; i < ims_pt_walker_count(); i++)
		fprintf(out, "  %-22s %s\n", ims_pt_walker_name(i), ims_pt_walker_what(i));
	fprintf(out, "a walker of your own: --walker-plugin PATH (docs/walkers.md)\n");
}

static const struct {
	const char *name, *what;
} topics[] = {
	{"CMD", "the options of a command (replay, fuzz, trace, conform, migrate, bench)"},
	{"config", "the model settings: keys, types, defaults"},
	{"trace-format", "the trace language: every op, key and unit (docs/trace-format.md)"},
	{"walkers", "the built-in walkers, one line each, with the bug each one has"},
	{"dirty-semantics", "what a dirty walker must do, the oracle, the classic bugs"},
};

void help_topics_usage(FILE *out)
{
	fprintf(out, "usage: iommusim help TOPIC\n\ntopics:\n");
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		fprintf(out, "  %-16s %s\n", topics[i].name, topics[i].what);
}

int help_topic(const char *name, FILE *out)
{
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		help_topics_usage(out);
		return 0;
	}
	if (!strcmp(name, "trace-format")) {
		print_doc(help_doc_trace_format, out);
		return 0;
	}
	if (!strcmp(name, "dirty-semantics") || !strcmp(name, "bugs")) {
		print_doc(help_doc_dirty_semantics, out);
		return 0;
	}
	if (!strcmp(name, "walkers")) {
		walkers(out);
		return 0;
	}
	return -1;
}
