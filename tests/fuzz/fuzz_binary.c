/* libFuzzer harness: the binary trace decoder (docs/trace-binary.md).
 *
 * Byte 0 chooses the mode. Mode 0: the rest is a whole file, which reaches
 * the header, CRC, truncation and trailer checks. Mode 1: the rest is a
 * block payload (dictionary, stream table, streams) that the harness wraps
 * in a valid header, deflate stream, CRCs and trailer, so the decoder's
 * event checks are reached past the CRCs; byte 1 is the block's event count.
 *
 * Any input must decode without a crash, leak or undefined behaviour, end
 * in 0 or an error "fuzz: byte N: ...", and every event it yields must
 * survive the writer: binary again and back gives the same canonical text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iommusim/tracebin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Header, one block around `payload`, trailer. */
static unsigned char *wrap(const uint8_t *payload, size_t plen, unsigned nev, size_t *len)
{
	uLong bound = compressBound((uLong)plen) + 64;
	unsigned char *out = malloc(bound + 64);
	if (!out)
		return NULL;
	memcpy(out, "IMSB\x01\0\0\0", 8);
	le32(out + 8, (uint32_t)crc32(0, out, 8));
	size_t n = 12, b = n;
	unsigned char comp_hdr[32];
	size_t hn = 0;
	comp_hdr[hn++] = 'B';
	hn += varint(comp_hdr + hn, nev);
	hn += varint(comp_hdr + hn, plen);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return NULL;
	}
	unsigned char *comp = malloc(bound);
	zs.next_in = (Bytef *)payload;
	zs.avail_in = (uInt)plen;
	zs.next_out = comp;
	zs.avail_out = (uInt)bound;
	int zrc = comp ? deflate(&zs, Z_FINISH) : Z_MEM_ERROR;
	size_t clen = bound - zs.avail_out;
	deflateEnd(&zs);
	if (zrc != Z_STREAM_END) {
		free(comp);
		free(out);
		return NULL;
	}
	hn += varint(comp_hdr + hn, clen);
	memcpy(out + n, comp_hdr, hn);
	n += hn;
	memcpy(out + n, comp, clen);
	n += clen;
	free(comp);
	le32(out + n, (uint32_t)crc32(0, out + b, (uInt)(n - b)));
	n += 4;
	size_t t = n;
	out[n++] = 'E';
	n += varint(out + n, nev);
	n += varint(out + n, 1);
	le32(out + n, (uint32_t)crc32(0, out + t, (uInt)(n - t)));
	n += 4;
	memcpy(out + n, "IMSE", 4);
	*len = n + 4;
	return out;
}

struct text {
	char *s;
	size_t n, cap;
};

static void add(struct text *t, const struct ims_event *ev)
{
	size_t need = ims_event_format(ev, NULL, 0) + 2;
	if (t->n + need > t->cap) {
		t->cap = (t->n + need) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
	t->n += ims_event_format(ev, t->s + t->n, need);
	t->s[t->n++] = '\n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned char *file = NULL;
	size_t len;
	if (data[0] & 1) {
		file = wrap(data + 2, size - 2, data[1] ? data[1] : 1, &len);
		if (!file)
			return 0;
	} else {
		/* The magic is given: the rest of the file is the input's. */
		len = 4 + size - 1;
		file = malloc(len);
		if (!file)
			return 0;
		memcpy(file, "IMSB", 4);
		memcpy(file + 4, data + 1, size - 1);
	}
	struct ims_reader *r;
	if (ims_reader_open_mem("fuzz", (const char *)file, len, 1, &r)) {
		free(file);
		return 0;
	}
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct ims_binwriter *w;
	if (!f || ims_binwriter_open(f, NULL, &w))
		abort();
	struct text a = {0}, b = {0};
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(r, &ev)) == 1) {
		add(&a, &ev);
		if (ims_binwriter_add(w, &ev))
			abort();
	}
	if (rc < 0 && strncmp(ims_reader_error(r), "fuzz: byte ", 11))
		abort();
	ims_reader_close(r);
	if (ims_binwriter_close(w, NULL))
		abort();
	fclose(f);
	/* What was read, written again, reads back the same. */
	if (ims_reader_open_mem("again", buf, blen, 1, &r))
		abort();
	while ((rc = ims_reader_next(r, &ev)) == 1)
		add(&b, &ev);
	if (rc != 0 || a.n != b.n || (a.n && memcmp(a.s, b.s, a.n)))
		abort();
	ims_reader_close(r);
	free(buf);
	free(a.s);
	free(b.s);
	free(file);
	return 0;
}
