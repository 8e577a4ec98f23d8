/* The binary trace decoder (traces/binary_read.c) as traces/reader.c
 * drives it: the reader owns the (possibly gzip-wrapped) byte stream and
 * lends its decoded bytes. */
#ifndef IMS_TRACES_BINARY_H
#define IMS_TRACES_BINARY_H

#include <stdbool.h>
#include <sys/types.h>

#include "iommusim/trace.h"

struct trc_bin_src {
	/* Make up to n bytes readable at *p, from the current position. Returns
	 * how many are readable (fewer than n only at the end of input) or a
	 * negative errno, with the source's own message in `msg`. *p stays
	 * valid until the next call. */
	ssize_t (*peek)(void *ctx, size_t n, const unsigned char **p);
	void (*consume)(void *ctx, size_t n);
	void *ctx;
	/* The bytes are a gzip file's, decompressed: an offset in a message
	 * says "byte N of the decompressed stream", not of the file. */
	bool inflated;
};

struct trc_binreader;

int trc_binreader_new(struct trc_binreader **out);
void trc_binreader_free(struct trc_binreader *b);
/* 1: *ev filled (ev->line is the event's number, from 1); 0: end of input
 * (the trailer was read and checked); <0: an error (-EINVAL corrupt or
 * truncated input, -ENOMEM), described in msg as "NAME: byte N: what"
 * ("NAME: byte N of the decompressed stream: what" when src->inflated).
 * A source error is returned as is, its message already set by the source. */
int trc_binreader_next(struct trc_binreader *b, const struct trc_bin_src *src,
		       struct ims_event *ev, const char *name, char *msg, size_t msgcap);

#endif
