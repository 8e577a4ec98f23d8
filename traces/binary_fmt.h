/* The binary trace form, version 1 (docs/trace-binary.md): what its writer
 * (traces/binary_write.c) and its decoder (traces/binary_read.c) share, the
 * container's constants, the column streams and the predictor both sides
 * update the same way. Static inline: the decoder is on the hot path of
 * every binary trace read.
 *
 * Ops and keys are named, not numbered: each block opens with a dictionary
 * of the op and key names it uses, and its events refer to them by their
 * place in it. A new op or key, or a reordering of enum ims_op / ims_key,
 * needs no change of format; a reader meets a name it does not know as an
 * error that says so.
 *
 * A block's events are split into column streams (op heads, timestamps, key
 * masks, one value stream per key, one selector stream per address key) so
 * that deflate sees long runs of similar bytes. Values are deltas against a
 * predictor that both sides update the same way (struct pred); address keys
 * predict from a small move-to-front list of recent values, which follows
 * several interleaved access streams (queues, buffers) at once. Blocks are
 * independent: dictionary and predictor restart at each one.
 */
#ifndef IMS_TRACES_BINARY_FMT_H
#define IMS_TRACES_BINARY_FMT_H

#include <stdint.h>
#include <string.h>

#include "iommusim/trace.h"

#define HDR_LEN 12
#define MAX_NAME 64
#define MAX_LOCAL 64 /* ops or keys one block can name */
#define TAG_BLOCK 'B'
#define TAG_END 'E'
#define END_MAGIC "IMSE"

#define DEF_BLOCK_EVENTS 16384u
#define MAX_BLOCK_EVENTS (1u << 24)
/* A block closes early once its encoded events pass this; one event (a long
 * expect= bitmap) may still make it larger. */
#define SOFT_BLOCK_BYTES ((size_t)16 << 20)
/* The text reader's longest line; no event encodes larger. */
#define MAX_RAW ((uint64_t)1 << 30)
/* Deflate cannot expand by more than ~1032:1 (RFC 1951 bounds). */
#define MAX_RATIO 1040u

/* Column streams (docs/trace-binary.md, "Block payload"). */
enum {
	S_HEAD = 0,
	S_TS = 1,
	S_KEYS = 2,
	S_HEX = 3,
	S_VAL = 16, /* + the key's place in the dictionary */
	S_SEL = 80, /* + the key's place, address keys only */
	NSTREAMS = 144
};

#define MRU 8
/* Two addresses this close are one stream moving on; farther, a new one. */
#define NEAR ((uint64_t)1 << 17) /* zigzag of +-64 KiB */

#define BIT(k) (1ull << (k))
/* Keys whose values are addresses: predicted from recent values. Fixed by
 * the format version; any other key, present or future, is a plain delta
 * against its previous value. */
static const uint64_t addr_keys = BIT(IMS_K_IOVA) | BIT(IMS_K_PA) | BIT(IMS_K_VAL) |
				  BIT(IMS_K_ROOT) | BIT(IMS_K_INJECT_IOVA);

/* ---- shared predictor -------------------------------------------------- */

/* Indexed by the block's own op and key numbers (their dictionary
 * places). */
struct pred {
	uint64_t ts;
	uint64_t ops_seen;
	uint64_t mask[MAX_LOCAL]; /* last key mask per op */
	uint64_t prev[MAX_LOCAL]; /* last value per plain key */
	uint64_t mru[MAX_LOCAL][MRU];
};

static inline uint64_t zz(uint64_t d) /* two's complement delta -> zigzag */
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t unzz(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static inline void mru_update(uint64_t *m, unsigned j, uint64_t z, uint64_t v)
{
	if (z < NEAR)
		memmove(m + 1, m, j * sizeof(*m));
	else
		memmove(m + 1, m, (MRU - 1) * sizeof(*m));
	m[0] = v;
}

/* Little-endian words of the container (CRCs). */
static inline uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
