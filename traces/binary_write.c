/* The binary trace form, version 1 (docs/trace-binary.md): the writer.
 * The format's shared parts, and how it lays events out, are
 * traces/binary_fmt.h's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iommusim/tracebin.h"
#include "traces/binary_fmt.h"

static inline uint64_t known_keys(void)
{
	return IMS_K_COUNT >= 64 ? ~0ull : (1ull << IMS_K_COUNT) - 1;
}

/* ---- byte buffers and varints ------------------------------------------ */

struct sbuf {
	unsigned char *p;
	size_t n, cap;
};

static int sb_need(struct sbuf *b, size_t more)
{
	if (b->cap - b->n >= more)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->n < more)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline size_t varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static inline int sb_varint(struct sbuf *b, uint64_t v)
{
	if (b->cap - b->n < 10 && sb_need(b, 10))
		return -ENOMEM;
	b->n += varint_put(b->p + b->n, v);
	return 0;
}

static int sb_bytes(struct sbuf *b, const void *p, size_t n)
{
	if (sb_need(b, n))
		return -ENOMEM;
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- writer -------------------------------------------------------------- */

struct ims_binwriter {
	FILE *out;
	unsigned block_events;
	int level;
	struct sbuf st[NSTREAMS];
	size_t st_bytes; /* sum of st[].n */
	struct sbuf payload, comp;
	z_stream zs;
	bool zs_live;
	uint32_t nev;
	bool have_ts;
	uint64_t last_ts;
	struct pred pr;
	/* The block's dictionary: global <-> block numbers (-1: unused). */
	int op_loc[IMS_OP_COUNT], key_loc[IMS_K_COUNT];
	int op_glob[MAX_LOCAL], key_glob[MAX_LOCAL];
	unsigned nops, nkeys;
	struct ims_binwriter_stats s;
	int err; /* sticky: -EIO or -ENOMEM */
};

static void dict_reset(struct ims_binwriter *w)
{
	for (unsigned i = 0; i < IMS_OP_COUNT; i++)
		w->op_loc[i] = -1;
	for (unsigned i = 0; i < IMS_K_COUNT; i++)
		w->key_loc[i] = -1;
	w->nops = w->nkeys = 0;
}

static int w_write(struct ims_binwriter *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->out) != n)
		return w->err = -EIO;
	w->s.bytes += n;
	return 0;
}

int ims_binwriter_open(FILE *out, const struct ims_binwriter_opts *opts, struct ims_binwriter **wp)
{
	*wp = NULL;
	struct ims_binwriter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->out = out;
	w->block_events = opts && opts->block_events ? opts->block_events : DEF_BLOCK_EVENTS;
	if (w->block_events > MAX_BLOCK_EVENTS)
		w->block_events = MAX_BLOCK_EVENTS;
	w->level = opts && opts->level ? opts->level : 9;
	if (w->level < 1 || w->level > 9) {
		free(w);
		return -EINVAL;
	}
	/* Raw deflate (no zlib wrapper): the block's CRC32 is the check. */
	if (deflateInit2(&w->zs, w->level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(w);
		return -ENOMEM;
	}
	w->zs_live = true;
	dict_reset(w);
	unsigned char h[HDR_LEN] = {'I', 'M', 'S', 'B', IMS_BIN_VERSION, 0, 0, 0};
	put_le32(h + 8, (uint32_t)crc32(0, h, 8));
	if (w_write(w, h, sizeof(h))) {
		ims_binwriter_free(w);
		return -EIO;
	}
	*wp = w;
	return 0;
}

static int flush_block(struct ims_binwriter *w)
{
	if (!w->nev)
		return 0;
	struct sbuf *pl = &w->payload;
	unsigned nst = 0;
	pl->n = 0;
	int rc = sb_varint(pl, w->nops);
	for (unsigned i = 0; i < w->nops; i++) {
		const char *nm = ims_op_name((enum ims_op)w->op_glob[i]);
		rc |= sb_varint(pl, strlen(nm));
		rc |= sb_bytes(pl, nm, strlen(nm));
	}
	rc |= sb_varint(pl, w->nkeys);
	for (unsigned i = 0; i < w->nkeys; i++) {
		const char *nm = ims_key_name((enum ims_key)w->key_glob[i]);
		rc |= sb_varint(pl, strlen(nm));
		rc |= sb_bytes(pl, nm, strlen(nm));
	}
	for (unsigned i = 0; i < NSTREAMS; i++)
		nst += w->st[i].n != 0;
	if (rc || sb_varint(pl, nst))
		return w->err = -ENOMEM;
	for (unsigned i = 0; i < NSTREAMS; i++)
		if (w->st[i].n && (sb_varint(pl, i) || sb_varint(pl, w->st[i].n)))
			return w->err = -ENOMEM;
	for (unsigned i = 0; i < NSTREAMS; i++) {
		if (w->st[i].n && sb_bytes(pl, w->st[i].p, w->st[i].n))
			return w->err = -ENOMEM;
		w->st[i].n = 0;
	}
	w->st_bytes = 0;

	uLong bound = deflateBound(&w->zs, (uLong)pl->n);
	w->comp.n = 0;
	if (sb_need(&w->comp, bound))
		return w->err = -ENOMEM;
	deflateReset(&w->zs);
	w->zs.next_in = pl->p;
	w->zs.avail_in = (uInt)pl->n;
	w->zs.next_out = w->comp.p;
	w->zs.avail_out = (uInt)bound;
	if (deflate(&w->zs, Z_FINISH) != Z_STREAM_END)
		return w->err = -ENOMEM;
	size_t clen = bound - w->zs.avail_out;

	unsigned char hdr[1 + 3 * 10];
	size_t hn = 0;
	hdr[hn++] = TAG_BLOCK;
	hn += varint_put(hdr + hn, w->nev);
	hn += varint_put(hdr + hn, pl->n);
	hn += varint_put(hdr + hn, clen);
	uint32_t crc = (uint32_t)crc32(0, hdr, (uInt)hn);
	crc = (uint32_t)crc32(crc, w->comp.p, (uInt)clen);
	unsigned char c[4];
	put_le32(c, crc);
	if (w_write(w, hdr, hn) || w_write(w, w->comp.p, clen) || w_write(w, c, 4))
		return w->err;
	w->s.blocks++;
	w->s.raw_bytes += pl->n;
	w->nev = 0;
	memset(&w->pr, 0, sizeof(w->pr));
	dict_reset(w);
	return 0;
}

/* Appends to stream `i`, counting the block's encoded bytes. */
static inline int put_v(struct ims_binwriter *w, unsigned i, uint64_t v)
{
	size_t n = w->st[i].n;
	int rc = sb_varint(&w->st[i], v);
	w->st_bytes += w->st[i].n - n;
	return rc;
}

static int put_b(struct ims_binwriter *w, unsigned i, const void *p, size_t len)
{
	int rc = sb_bytes(&w->st[i], p, len);
	if (!rc)
		w->st_bytes += len;
	return rc;
}

/* The digits ims_event_format prints for expect=. */
static void expect_digits(const struct ims_event *ev, const char **s, size_t *n)
{
	if (ev->expect_hex && ev->expect_hex_len) {
		*s = ev->expect_hex;
		*n = ev->expect_hex_len;
	} else {
		*s = "0";
		*n = 1;
	}
}

static int encode(struct ims_binwriter *w, const struct ims_event *ev)
{
	struct pred *pr = &w->pr;
	int *lo = &w->op_loc[ev->op];
	if (*lo < 0) {
		*lo = (int)w->nops;
		w->op_glob[w->nops++] = (int)ev->op;
	}
	unsigned op = (unsigned)*lo;
	uint64_t keys = 0;
	for (uint64_t m = ev->keys; m; m &= m - 1) {
		int k = __builtin_ctzll(m);
		if (w->key_loc[k] < 0) {
			w->key_loc[k] = (int)w->nkeys;
			w->key_glob[w->nkeys++] = k;
		}
		keys |= 1ull << w->key_loc[k];
	}
	bool same = (pr->ops_seen >> op & 1) && pr->mask[op] == keys;
	int rc = 0;

	rc |= put_v(w, S_HEAD, (uint64_t)op << 2 | (uint64_t)same << 1 | ev->has_ts);
	if (ev->has_ts) {
		rc |= put_v(w, S_TS, ev->ts - pr->ts);
		pr->ts = ev->ts;
	}
	if (!same) {
		rc |= put_v(w, S_KEYS, keys);
		pr->mask[op] = keys;
		pr->ops_seen |= 1ull << op;
	}
	for (uint64_t m = keys; m; m &= m - 1) {
		unsigned j = (unsigned)__builtin_ctzll(m);
		unsigned k = (unsigned)w->key_glob[j];
		uint64_t v = ev->v[k];
		if (k == IMS_K_EXPECT) {
			const char *s;
			size_t n;
			expect_digits(ev, &s, &n);
			rc |= put_v(w, S_HEX, n);
			rc |= put_b(w, S_HEX, s, n);
		}
		if (addr_keys >> k & 1) {
			uint64_t *c = pr->mru[j];
			unsigned best = 0;
			uint64_t bz = zz(v - c[0]);
			for (unsigned i = 1; i < MRU && bz; i++) {
				uint64_t z = zz(v - c[i]);
				if (z < bz) {
					bz = z;
					best = i;
				}
			}
			rc |= put_v(w, S_SEL + j, best);
			rc |= put_v(w, S_VAL + j, bz);
			mru_update(c, best, bz, v);
		} else {
			rc |= put_v(w, S_VAL + j, zz(v - pr->prev[j]));
			pr->prev[j] = v;
		}
	}
	return rc ? -ENOMEM : 0;
}

int ims_binwriter_add(struct ims_binwriter *w, const struct ims_event *ev)
{
	if (w->err)
		return w->err;
	if ((unsigned)ev->op >= IMS_OP_COUNT || (ev->keys & ~known_keys()))
		return -EINVAL;
	if (ev->has_ts && w->have_ts && ev->ts < w->last_ts)
		return -EINVAL;
	if (ims_ev_has(ev, IMS_K_EXPECT) && ev->expect_hex) {
		if (ev->expect_hex_len > MAX_RAW / 2)
			return -EINVAL;
		for (size_t i = 0; i < ev->expect_hex_len; i++) {
			unsigned char d = (unsigned char)ev->expect_hex[i];
			if (!((d >= '0' && d <= '9') || ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')))
				return -EINVAL;
		}
	}
	if (w->op_loc[ev->op] < 0 && w->nops == MAX_LOCAL && flush_block(w))
		return w->err;
	if (ev->has_ts) {
		w->have_ts = true;
		w->last_ts = ev->ts;
	}
	if (encode(w, ev))
		return w->err = -ENOMEM;
	w->nev++;
	w->s.events++;
	if (w->nev >= w->block_events || w->st_bytes >= SOFT_BLOCK_BYTES)
		return flush_block(w);
	return 0;
}

void ims_binwriter_stats(const struct ims_binwriter *w, struct ims_binwriter_stats *st)
{
	*st = w->s;
}

int ims_binwriter_close(struct ims_binwriter *w, struct ims_binwriter_stats *st)
{
	int rc = w->err ? w->err : flush_block(w);
	if (!rc) {
		unsigned char t[1 + 2 * 10 + 4 + 4];
		size_t n = 0;
		t[n++] = TAG_END;
		n += varint_put(t + n, w->s.events);
		n += varint_put(t + n, w->s.blocks);
		put_le32(t + n, (uint32_t)crc32(0, t, (uInt)n));
		n += 4;
		memcpy(t + n, END_MAGIC, 4);
		n += 4;
		rc = w_write(w, t, n);
	}
	if (!rc && fflush(w->out))
		rc = -EIO;
	if (st)
		*st = w->s;
	ims_binwriter_free(w);
	return rc;
}

void ims_binwriter_free(struct ims_binwriter *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < NSTREAMS; i++)
		free(w->st[i].p);
	free(w->payload.p);
	free(w->comp.p);
	if (w->zs_live)
		deflateEnd(&w->zs);
	free(w);
}
