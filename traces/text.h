/* The text trace form's line parser, version 1
 * (../shared/spec/trace-format.md), as traces/reader.c drives it: the
 * reader splits its decoded input into lines, the parser turns each into
 * an event in place.
 */
#ifndef IMS_TRACES_TEXT_H
#define IMS_TRACES_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommusim/trace.h"

struct ims_text {
	/* Messages, "NAME:LINE:COL: what", go to msg[msgcap]. */
	const char *name;
	char *msg;
	size_t msgcap;
	uint64_t lineno;  /* the line being parsed, from 1 */
	bool seen_line;   /* a non-blank, non-comment line was parsed */
	bool have_ts;
	uint64_t last_ts;
	/* `# phase: NAME` lines go here when set (ims_reader_on_phase). */
	ims_phase_fn on_phase;
	void *phase_arg;
};

/* One line of s[0, n), without its '\n'. 1: *ev filled; 0: nothing on the
 * line (blank, a comment, the header); -EINVAL: the message in t->msg. */
int trc_text_line(struct ims_text *t, const char *s, size_t n, struct ims_event *ev);

#endif
