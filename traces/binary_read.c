/* The binary trace form, version 1 (docs/trace-binary.md): the decoder, as
 * traces/reader.c drives it (traces/binary.h). The format's shared parts,
 * and how it lays events out, are traces/binary_fmt.h's. Each decoded event
 * meets the checks a text line meets (traces/validate.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iommusim/tracebin.h"
#include "traces/binary.h"
#include "traces/binary_fmt.h"
#include "traces/validate.h"

/* ---- decoder ------------------------------------------------------------- */

enum { B_HEADER, B_BETWEEN, B_IN_BLOCK, B_DONE };

struct cur {
	const unsigned char *p, *e;
};

/* A varint inside a block payload; -1 when bad or past the stream's end. */
static inline int cur_varint(struct cur *c, uint64_t *v)
{
	const unsigned char *p = c->p;
	if (p < c->e && *p < 0x80) {
		*v = *p;
		c->p = p + 1;
		return 0;
	}
	uint64_t x = 0;
	for (unsigned sh = 0; p < c->e && sh < 64; sh += 7) {
		unsigned char byte = *p++;
		if (sh == 63 && byte > 1)
			return -1;
		x |= (uint64_t)(byte & 0x7f) << sh;
		if (!(byte & 0x80)) {
			*v = x;
			c->p = p;
			return 0;
		}
	}
	return -1;
}

struct trc_binreader {
	int state;
	uint64_t off; /* decoded input bytes consumed */
	uint64_t events;
	uint64_t blocks;
	uint64_t block_off;
	uint32_t left, nev;
	bool have_ts;
	uint64_t last_ts;
	unsigned char *raw;
	size_t rawcap;
	struct cur cur[NSTREAMS];
	struct pred pr;
	/* The block's dictionary, as this build's numbers. */
	unsigned nops, nkeys;
	int op_glob[MAX_LOCAL], key_glob[MAX_LOCAL];
	uint64_t addr_loc;  /* block key numbers of address keys */
	int expect_loc;     /* block key number of expect=, or -1 */
	z_stream zs;
	bool zs_live;
	char *hex;
	size_t hexcap;
	/* Message context, set by next(). */
	const char *name;
	char *msg;
	size_t msgcap;
	bool inflated; /* the source's: offsets are of the decompressed stream */
};

int trc_binreader_new(struct trc_binreader **out)
{
	struct trc_binreader *b = calloc(1, sizeof(*b));
	*out = NULL;
	if (!b)
		return -ENOMEM;
	if (inflateInit2(&b->zs, -15) != Z_OK) {
		free(b);
		return -ENOMEM;
	}
	b->zs_live = true;
	*out = b;
	return 0;
}

void trc_binreader_free(struct trc_binreader *b)
{
	if (!b)
		return;
	if (b->zs_live)
		inflateEnd(&b->zs);
	free(b->raw);
	free(b->hex);
	free(b);
}

__attribute__((format(printf, 3, 4))) static int berr(struct trc_binreader *b, uint64_t at,
						      const char *fmt, ...)
{
	int n = snprintf(b->msg, b->msgcap, "%s: byte %" PRIu64 "%s: ", b->name, at,
			 b->inflated ? " of the decompressed stream" : "");
	if (n >= 0 && (size_t)n < b->msgcap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->msg + n, b->msgcap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* An error inside the current block's payload: the block's offset, and
 * which event. */
__attribute__((format(printf, 2, 3))) static int perr(struct trc_binreader *b, const char *fmt,
						      ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return berr(b, b->block_off, "block %" PRIu64 ", event %" PRIu64 ": %s (corrupt data)",
		    b->blocks, b->events + 1, what);
}

/* Exactly n bytes at *p, or an error naming `what`. */
static int need(struct trc_binreader *b, const struct trc_bin_src *src, size_t n,
		const unsigned char **p, const char *what)
{
	ssize_t got = src->peek(src->ctx, n, p);
	if (got < 0)
		return (int)got;
	if ((size_t)got < n)
		return berr(b, b->off + (uint64_t)got,
			    "the input ends inside %s (truncated: %zu of %zu bytes present)", what,
			    (size_t)got, n);
	return 0;
}

static void take(struct trc_binreader *b, const struct trc_bin_src *src, size_t n)
{
	src->consume(src->ctx, n);
	b->off += n;
}

/* A varint of the container (block header, trailer); its bytes are also
 * appended to rec (for the CRC). */
static int file_varint(struct trc_binreader *b, const struct trc_bin_src *src, uint64_t *v,
		       unsigned char *rec, size_t *recn, const char *what)
{
	const unsigned char *p;
	ssize_t got = src->peek(src->ctx, 10, &p);
	if (got < 0)
		return (int)got;
	uint64_t x = 0;
	for (ssize_t i = 0; i < got; i++) {
		if (i == 9 && p[i] > 1)
			break;
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			memcpy(rec + *recn, p, (size_t)i + 1);
			*recn += (size_t)i + 1;
			take(b, src, (size_t)i + 1);
			*v = x;
			return 0;
		}
	}
	if (got < 10 && (got == 0 || p[got - 1] & 0x80))
		return berr(b, b->off + (uint64_t)got, "the input ends inside %s (truncated)", what);
	return berr(b, b->off, "%s is not a valid varint (corrupt data)", what);
}

static int read_header(struct trc_binreader *b, const struct trc_bin_src *src)
{
	const unsigned char *p;
	int rc = need(b, src, HDR_LEN, &p, "the header");
	if (rc)
		return rc;
	if (memcmp(p, IMS_BIN_MAGIC, 4))
		return berr(b, 0, "not a binary iommusim trace (no IMSB magic)");
	if (p[4] != IMS_BIN_VERSION)
		return berr(b, 4, "binary trace version %u is not supported (this iommusim reads %u)",
			    p[4], IMS_BIN_VERSION);
	if (get_le32(p + 8) != (uint32_t)crc32(0, p, 8))
		return berr(b, 8, "header CRC mismatch (corrupt data)");
	if (p[5] || p[6] || p[7])
		return berr(b, 5, "header flags 0x%02x%02x%02x are not defined in version %u", p[5],
			    p[6], p[7], IMS_BIN_VERSION);
	take(b, src, HDR_LEN);
	b->state = B_BETWEEN;
	return 0;
}

static int read_trailer(struct trc_binreader *b, const struct trc_bin_src *src)
{
	uint64_t at = b->off, events, blocks;
	unsigned char rec[1 + 2 * 10];
	size_t n = 1;
	const unsigned char *p;
	rec[0] = TAG_END;
	take(b, src, 1);
	int rc = file_varint(b, src, &events, rec, &n, "the trailer's event count");
	if (!rc)
		rc = file_varint(b, src, &blocks, rec, &n, "the trailer's block count");
	if (!rc)
		rc = need(b, src, 8, &p, "the trailer");
	if (rc)
		return rc;
	uint32_t crc = (uint32_t)crc32(0, rec, (uInt)n);
	if (get_le32(p) != crc)
		return berr(b, at, "trailer CRC mismatch (stored 0x%08x, computed 0x%08x; corrupt data)",
			    get_le32(p), crc);
	if (memcmp(p + 4, END_MAGIC, 4))
		return berr(b, b->off + 4, "the trailer does not end with IMSE (corrupt data)");
	if (events != b->events || blocks != b->blocks)
		return berr(b, at,
			    "the trailer counts %" PRIu64 " events in %" PRIu64 " blocks, the file "
			    "holds %" PRIu64 " in %" PRIu64 " (corrupt data)",
			    events, blocks, b->events, b->blocks);
	take(b, src, 8);
	ssize_t more = src->peek(src->ctx, 1, &p);
	if (more < 0)
		return (int)more;
	if (more)
		return berr(b, b->off, "data after the trailer (expected the end of the input)");
	b->state = B_DONE;
	return 0;
}

/* A name of the dictionary; -1 when malformed. */
static int dict_name(struct cur *c, const char **s, size_t *n)
{
	uint64_t len;
	if (cur_varint(c, &len) || !len || len > MAX_NAME || len > (uint64_t)(c->e - c->p))
		return -1;
	*s = (const char *)c->p;
	*n = (size_t)len;
	c->p += len;
	return 0;
}

static bool name_is(const char *name, const char *s, size_t n)
{
	return strlen(name) == n && !memcmp(name, s, n);
}

static int read_dict(struct trc_binreader *b, struct cur *c)
{
	uint64_t n;
	const char *s;
	size_t len;
	if (cur_varint(c, &n) || n > MAX_LOCAL)
		return berr(b, b->block_off, "block %" PRIu64 ": bad op dictionary (corrupt data)",
			    b->blocks);
	b->nops = (unsigned)n;
	for (unsigned i = 0; i < b->nops; i++) {
		if (dict_name(c, &s, &len))
			return berr(b, b->block_off, "block %" PRIu64 ": bad op name (corrupt data)",
				    b->blocks);
		int g = -1;
		for (unsigned o = 0; o < IMS_OP_COUNT && g < 0; o++)
			if (name_is(ims_op_name((enum ims_op)o), s, len))
				g = (int)o;
		for (unsigned j = 0; j < i && g >= 0; j++)
			if (b->op_glob[j] == g)
				g = -2;
		if (g < 0)
			return berr(b, b->block_off,
				    "block %" PRIu64 ": %s op '%.*s' (written by a newer iommusim?)",
				    b->blocks, g == -2 ? "repeated" : "unknown", (int)len, s);
		b->op_glob[i] = g;
	}
	if (cur_varint(c, &n) || n > MAX_LOCAL)
		return berr(b, b->block_off, "block %" PRIu64 ": bad key dictionary (corrupt data)",
			    b->blocks);
	b->nkeys = (unsigned)n;
	b->addr_loc = 0;
	b->expect_loc = -1;
	for (unsigned i = 0; i < b->nkeys; i++) {
		if (dict_name(c, &s, &len))
			return berr(b, b->block_off, "block %" PRIu64 ": bad key name (corrupt data)",
				    b->blocks);
		int g = -1;
		for (unsigned k = 0; k < IMS_K_COUNT && g < 0; k++)
			if (name_is(ims_key_name((enum ims_key)k), s, len))
				g = (int)k;
		for (unsigned j = 0; j < i && g >= 0; j++)
			if (b->key_glob[j] == g)
				g = -2;
		if (g < 0)
			return berr(b, b->block_off,
				    "block %" PRIu64 ": %s key '%.*s' (written by a newer iommusim?)",
				    b->blocks, g == -2 ? "repeated" : "unknown", (int)len, s);
		b->key_glob[i] = g;
		if (addr_keys >> g & 1)
			b->addr_loc |= 1ull << i;
		if (g == IMS_K_EXPECT)
			b->expect_loc = (int)i;
	}
	return 0;
}

static int read_block(struct trc_binreader *b, const struct trc_bin_src *src)
{
	uint64_t nev, raw_len, clen;
	unsigned char rec[1 + 3 * 10];
	size_t n = 1;
	const unsigned char *p;

	b->block_off = b->off;
	b->blocks++;
	rec[0] = TAG_BLOCK;
	take(b, src, 1);
	int rc = file_varint(b, src, &nev, rec, &n, "a block's event count");
	if (!rc)
		rc = file_varint(b, src, &raw_len, rec, &n, "a block's length");
	if (!rc)
		rc = file_varint(b, src, &clen, rec, &n, "a block's compressed length");
	if (rc)
		return rc;
	if (!nev || nev > MAX_BLOCK_EVENTS || !raw_len || raw_len > MAX_RAW ||
	    clen > raw_len * MAX_RATIO + 64 || raw_len > clen * MAX_RATIO + 64)
		return berr(b, b->block_off,
			    "block %" PRIu64 " has an impossible header (%" PRIu64 " events, %" PRIu64
			    " bytes from %" PRIu64 " compressed; corrupt data)",
			    b->blocks, nev, raw_len, clen);
	rc = need(b, src, (size_t)clen + 4, &p, "a block");
	if (rc)
		return rc;
	uint32_t crc = (uint32_t)crc32(0, rec, (uInt)n);
	crc = (uint32_t)crc32(crc, p, (uInt)clen);
	if (get_le32(p + clen) != crc)
		return berr(b, b->block_off,
			    "block %" PRIu64 ": CRC mismatch (stored 0x%08x, computed 0x%08x; "
			    "corrupt data)",
			    b->blocks, get_le32(p + clen), crc);
	if (raw_len > b->rawcap) {
		unsigned char *nr = realloc(b->raw, raw_len);
		if (!nr)
			return -ENOMEM;
		b->raw = nr;
		b->rawcap = raw_len;
	}
	inflateReset(&b->zs);
	b->zs.next_in = (Bytef *)p;
	b->zs.avail_in = (uInt)clen;
	b->zs.next_out = b->raw;
	b->zs.avail_out = (uInt)raw_len;
	int zrc = inflate(&b->zs, Z_FINISH);
	if (zrc != Z_STREAM_END || b->zs.avail_in || b->zs.avail_out)
		return berr(b, b->block_off, "block %" PRIu64 ": its compressed data does not inflate "
					     "to %" PRIu64 " bytes (corrupt data)",
			    b->blocks, raw_len);
	take(b, src, (size_t)clen + 4);

	/* The payload: the dictionary, the stream count, (id, length) pairs,
	 * then the streams. */
	struct cur c = {b->raw, b->raw + raw_len};
	uint64_t nst, id, len, total = 0;
	uint64_t ids[NSTREAMS], lens[NSTREAMS];
	memset(b->cur, 0, sizeof(b->cur));
	if ((rc = read_dict(b, &c)))
		return rc;
	if (cur_varint(&c, &nst) || nst > NSTREAMS)
		return berr(b, b->block_off, "block %" PRIu64 ": bad stream count (corrupt data)",
			    b->blocks);
	for (uint64_t i = 0; i < nst; i++) {
		if (cur_varint(&c, &id) || cur_varint(&c, &len))
			return berr(b, b->block_off, "block %" PRIu64 ": bad stream table (corrupt data)",
				    b->blocks);
		if (id >= NSTREAMS || (id > S_HEX && id < S_VAL) || (i && id <= ids[i - 1]) || !len)
			return berr(b, b->block_off,
				    "block %" PRIu64 ": stream %" PRIu64 " is not defined in version %u "
				    "(or is out of order; corrupt data)",
				    b->blocks, id, IMS_BIN_VERSION);
		ids[i] = id;
		lens[i] = len;
		total += len;
		if (total > raw_len)
			break;
	}
	if (total != (uint64_t)(c.e - c.p))
		return berr(b, b->block_off,
			    "block %" PRIu64 ": its streams hold %" PRIu64 " bytes, the payload %zu "
			    "(corrupt data)",
			    b->blocks, total, (size_t)(c.e - c.p));
	for (uint64_t i = 0; i < nst; i++) {
		b->cur[ids[i]].p = c.p;
		b->cur[ids[i]].e = c.p + lens[i];
		c.p += lens[i];
	}
	memset(&b->pr, 0, sizeof(b->pr));
	b->nev = b->left = (uint32_t)nev;
	b->state = B_IN_BLOCK;
	return 0;
}

static int end_block(struct trc_binreader *b)
{
	for (unsigned i = 0; i < NSTREAMS; i++)
		if (b->cur[i].p != b->cur[i].e)
			return berr(b, b->block_off,
				    "block %" PRIu64 ": stream %u has %zu bytes no event uses (corrupt data)",
				    b->blocks, i, (size_t)(b->cur[i].e - b->cur[i].p));
	b->state = B_BETWEEN;
	return 0;
}

static int decode(struct trc_binreader *b, struct ims_event *ev)
{
	struct pred *pr = &b->pr;
	uint64_t head, x;

	if (cur_varint(&b->cur[S_HEAD], &head))
		return perr(b, "missing or bad op");
	uint64_t op = head >> 2;
	if (op >= b->nops)
		return perr(b, "op %" PRIu64 " is not in the block's dictionary", op);
	memset(ev, 0, sizeof(*ev));
	ev->op = (enum ims_op)b->op_glob[op];
	ev->line = b->events + 1;
	if (head & 1) {
		if (cur_varint(&b->cur[S_TS], &x))
			return perr(b, "missing or bad timestamp");
		if (pr->ts + x < pr->ts)
			return perr(b, "timestamp does not fit in 64 bits");
		pr->ts += x;
		if (b->have_ts && pr->ts < b->last_ts)
			return perr(b, "timestamp @%" PRIu64 " is before the previous one @%" PRIu64,
				    pr->ts, b->last_ts);
		b->have_ts = true;
		b->last_ts = pr->ts;
		ev->has_ts = true;
		ev->ts = pr->ts;
	}
	uint64_t keys;
	if (head & 2) {
		if (!(pr->ops_seen >> op & 1))
			return perr(b, "repeats the keys of an op not seen in the block");
		keys = pr->mask[op];
	} else {
		if (cur_varint(&b->cur[S_KEYS], &keys))
			return perr(b, "missing or bad key set");
		uint64_t known = b->nkeys >= 64 ? ~0ull : (1ull << b->nkeys) - 1;
		if (keys & ~known)
			return perr(b, "key %d is not in the block's dictionary",
				    __builtin_ctzll(keys & ~known));
		pr->mask[op] = keys;
		pr->ops_seen |= 1ull << op;
	}
	for (uint64_t m = keys; m; m &= m - 1) {
		unsigned j = (unsigned)__builtin_ctzll(m);
		unsigned k = (unsigned)b->key_glob[j];
		ev->keys |= 1ull << k;
		if ((int)j == b->expect_loc) {
			struct cur *h = &b->cur[S_HEX];
			if (cur_varint(h, &x) || !x || x > (uint64_t)(h->e - h->p))
				return perr(b, "missing or bad expect= bitmap");
			if (x > b->hexcap) {
				char *nh = realloc(b->hex, x);
				if (!nh)
					return -ENOMEM;
				b->hex = nh;
				b->hexcap = x;
			}
			for (uint64_t i = 0; i < x; i++) {
				unsigned char d = h->p[i];
				if (!((d >= '0' && d <= '9') || ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')))
					return perr(b, "expect= bitmap holds a byte 0x%02x that is not a hex "
						  "digit",
						 d);
			}
			memcpy(b->hex, h->p, x);
			h->p += x;
			ev->expect_hex = b->hex;
			ev->expect_hex_len = x;
		}
		if (cur_varint(&b->cur[S_VAL + j], &x))
			return perr(b, "missing or bad value of %s=", ims_key_name((enum ims_key)k));
		if (b->addr_loc >> j & 1) {
			uint64_t sel;
			if (cur_varint(&b->cur[S_SEL + j], &sel) || sel >= MRU)
				return perr(b, "missing or bad predictor of %s=",
					    ims_key_name((enum ims_key)k));
			uint64_t *c = pr->mru[j];
			uint64_t v = c[sel] + unzz(x);
			ev->v[k] = v;
			mru_update(c, (unsigned)sel, x, v);
		} else {
			ev->v[k] = pr->prev[j] += unzz(x);
		}
	}
	char why[256];
	if (trc_event_validate(ev, why, sizeof(why)))
		return perr(b, "%s", why);
	return 0;
}

int trc_binreader_next(struct trc_binreader *b, const struct trc_bin_src *src,
		       struct ims_event *ev, const char *name, char *msg, size_t msgcap)
{
	int rc;
	const unsigned char *p;

	b->name = name;
	b->msg = msg;
	b->msgcap = msgcap;
	b->inflated = src->inflated;
	for (;;) {
		switch (b->state) {
		case B_HEADER:
			if ((rc = read_header(b, src)))
				return rc;
			break;
		case B_IN_BLOCK:
			if (b->left) {
				if ((rc = decode(b, ev)))
					return rc;
				b->left--;
				b->events++;
				return 1;
			}
			if ((rc = end_block(b)))
				return rc;
			break;
		case B_BETWEEN: {
			ssize_t got = src->peek(src->ctx, 1, &p);
			if (got < 0)
				return (int)got;
			if (!got)
				return berr(b, b->off,
					    "the input ends after %" PRIu64 " blocks without the trailer "
					    "(truncated)",
					    b->blocks);
			if (p[0] == TAG_BLOCK)
				rc = read_block(b, src);
			else if (p[0] == TAG_END)
				rc = read_trailer(b, src);
			else
				rc = berr(b, b->off,
					  "expected a block ('B') or the trailer ('E'), found 0x%02x "
					  "(corrupt data)",
					  p[0]);
			if (rc)
				return rc;
			break;
		}
		default:
			return 0;
		}
	}
}
