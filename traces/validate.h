/* The checks every event meets, whatever form it came in: the text parser
 * (traces/text.c) applies the rules between fields to each line it parses,
 * the binary decoder (traces/binary_read.c) applies all of them to each
 * event it decodes.
 */
#ifndef IMS_TRACES_VALIDATE_H
#define IMS_TRACES_VALIDATE_H

#include <stddef.h>

#include "iommusim/trace.h"

/* The rules that involve more than one field (required keys, keys that
 * come together or exclude each other, ranges that must not wrap), on an
 * event whose keys the op allows and whose values are each in range. 0, or
 * -EINVAL with why[] filled and *at the key whose column the message
 * points at (-1: the op's). */
int trc_event_rules(const struct ims_event *ev, int *at, char *why, size_t n);

/* The checks the text reader makes on a parsed line, for an event that did
 * not come from text: allowed keys, value ranges, then trc_event_rules().
 * 0, or -EINVAL with why[] filled. */
int trc_event_validate(const struct ims_event *ev, char *why, size_t n);

#endif
