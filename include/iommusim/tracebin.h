/* The binary trace form (docs/trace-binary.md): a versioned header, blocks
 * of delta- and varint-encoded events compressed with deflate and sealed
 * with a CRC32 each, and a trailer with the event and block counts.
 *
 * Reading needs nothing from here: ims_reader_open() recognises the binary
 * form by its magic ("IMSB", also inside gzip) and ims_reader_next() returns
 * its events. Every event that the text form can hold converts to binary and
 * back to the same canonical text (ims_event_format).
 */
#ifndef IOMMUSIM_TRACEBIN_H
#define IOMMUSIM_TRACEBIN_H

#include <stdio.h>

#include "iommusim/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_BIN_MAGIC "IMSB"
#define IMS_BIN_VERSION 1

struct ims_binwriter_opts {
	unsigned block_events; /* events per block (0: the default, 16384) */
	int level;             /* deflate level 1..9 (0: the default, 9) */
};

struct ims_binwriter_stats {
	uint64_t events;
	uint64_t blocks;
	uint64_t bytes;     /* written so far, header and trailer included */
	uint64_t raw_bytes; /* encoded event bytes before compression */
};

struct ims_binwriter;

/* Writes the header to `out` (not closed by the writer). opts may be NULL. */
int ims_binwriter_open(FILE *out, const struct ims_binwriter_opts *opts,
		       struct ims_binwriter **w);
/* -EINVAL: an event the text form cannot hold (unknown op or key, a
 * timestamp before the previous one); -EIO: a write failed; -ENOMEM. The
 * writer stays usable after -EINVAL. */
int ims_binwriter_add(struct ims_binwriter *w, const struct ims_event *ev);
/* Writes the last block and the trailer and frees the writer (always). */
int ims_binwriter_close(struct ims_binwriter *w, struct ims_binwriter_stats *st);
/* Frees the writer without writing the trailer. */
void ims_binwriter_free(struct ims_binwriter *w);
void ims_binwriter_stats(const struct ims_binwriter *w, struct ims_binwriter_stats *st);

/* Whether an open reader is decoding the binary form. */
bool ims_reader_is_binary(const struct ims_reader *r);

#ifdef __cplusplus
}
#endif

#endif
