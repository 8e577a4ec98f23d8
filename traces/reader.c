/* Streaming trace reader: the byte stream and the choice of form.
 *
 * Input is read in blocks into one buffer that is reused for every line and
 * only grows for a line longer than itself. Gzip input is recognised by its
 * magic bytes and inflated block by block. The decoded bytes are either
 * text, split here into lines that traces/text.c parses in place, or the
 * binary form ("IMSB"), which traces/binary_read.c decodes from the same
 * buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "iommusim/trace.h"
#include "iommusim/tracebin.h"
#include "traces/binary.h"
#include "traces/text.h"

#define BLOCK ((size_t)64 << 10)
/* A line is held whole in memory; beyond this it is surely not a trace. */
#define MAX_LINE ((size_t)1 << 30)

enum src { SRC_MEM, SRC_TEXT, SRC_GZ };

struct ims_reader {
	char *name;
	enum src src;
	int fd;
	bool own_fd;

	/* Raw (possibly compressed) input of file sources. */
	unsigned char *in;
	z_stream zs;
	bool zs_live;
	bool member_done; /* inflate reached the end of a gzip member */
	bool raw_eof;
	int read_errno; /* a read(2) failed */
	uint64_t raw_bytes;

	/* Decoded text: data[pos, end) is unread; data[pos, scan) holds no '\n'. */
	const char *data;
	char *buf;
	size_t cap, pos, end, scan;
	uint64_t base; /* decoded bytes discarded before data[0] */
	bool eof;

	/* The text parser's state; its lineno counts the lines read. */
	struct ims_text txt;

	int err;
	char *msg;
	size_t msgcap;

	/* Set when the decoded input starts with the binary magic: events come
	 * from traces/binary_read.c, which pulls the decoded bytes through bin_src. */
	struct trc_binreader *bin;
	struct trc_bin_src bin_src;
};

/* ---- errors ---------------------------------------------------------- */

/* A stream error, "FILE: what"; with_line names the line being read when
 * it happened, "FILE:LINE: what" (input is only read while no complete
 * line is buffered). A binary trace has no lines: there the place is the
 * byte of the decompressed stream reached, "FILE: byte N of the
 * decompressed stream: what", as traces/binary_read.c says its own. The
 * form is known from the first decoded bytes, which may come with the
 * error itself. Parse errors are traces/text.c's. */
__attribute__((format(printf, 4, 5)))
static int serr(struct ims_reader *r, int err, bool with_line, const char *fmt, ...)
{
	int n;
	bool bin = r->bin || (r->buf && !r->base && r->end >= 4 &&
			      !memcmp(r->buf, IMS_BIN_MAGIC, 4));
	if (!with_line)
		n = snprintf(r->msg, r->msgcap, "%s: ", r->name);
	else if (bin)
		n = snprintf(r->msg, r->msgcap, "%s: byte %llu of the decompressed stream: ", r->name,
			     (unsigned long long)(r->base + r->end));
	else
		n = snprintf(r->msg, r->msgcap, "%s:%llu: ", r->name,
			     (unsigned long long)r->txt.lineno + 1);
	if (n >= 0 && (size_t)n < r->msgcap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->msg + n, r->msgcap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	r->err = err;
	return err;
}

/* ---- input ----------------------------------------------------------- */

static ssize_t read_some(int fd, void *p, size_t n)
{
	ssize_t got;
	do
		got = read(fd, p, n);
	while (got < 0 && errno == EINTR);
	return got;
}

static int read_fail(struct ims_reader *r)
{
	r->read_errno = errno;
	return serr(r, -EIO, false, "%s", strerror(r->read_errno));
}

static int read_raw(struct ims_reader *r)
{
	ssize_t got = read_some(r->fd, r->in, BLOCK);
	if (got < 0)
		return read_fail(r);
	if (got == 0)
		r->raw_eof = true;
	r->zs.next_in = r->in;
	r->zs.avail_in = (uInt)got;
	r->raw_bytes += (uint64_t)got;
	return 0;
}

/* Decoded bytes into buf[end, cap): at least one, or eof set. */
static int fill_gz(struct ims_reader *r)
{
	for (;;) {
		if (r->member_done) {
			if (!r->zs.avail_in && !r->raw_eof) {
				int rc = read_raw(r);
				if (rc)
					return rc;
				continue;
			}
			if (!r->zs.avail_in) {
				r->eof = true;
				return 0;
			}
			/* More input after a member: another member, as gzip(1) writes
			 * for concatenated files. */
			inflateReset(&r->zs);
			r->member_done = false;
		}
		if (!r->zs.avail_in && !r->raw_eof) {
			int rc = read_raw(r);
			if (rc)
				return rc;
		}
		size_t room = r->cap - r->end;
		r->zs.next_out = (Bytef *)r->buf + r->end;
		r->zs.avail_out = (uInt)room;
		int zrc = inflate(&r->zs, Z_NO_FLUSH);
		size_t got = room - r->zs.avail_out;
		r->end += got;
		uint64_t at = r->raw_bytes - r->zs.avail_in;
		switch (zrc) {
		case Z_STREAM_END:
			r->member_done = true;
			break;
		case Z_OK:
		case Z_BUF_ERROR:
			if (!got && !r->zs.avail_in && r->raw_eof)
				return serr(r, -EIO, true,
					    "compressed stream ends early (at byte %llu of the gzip input)",
					    (unsigned long long)at);
			break;
		case Z_MEM_ERROR:
			return serr(r, -ENOMEM, false, "out of memory");
		default:
			return serr(r, -EIO, true,
				    "corrupt compressed stream at byte %llu of the gzip input (%s)",
				    (unsigned long long)at, r->zs.msg ? r->zs.msg : "bad data");
		}
		if (got)
			return 0;
	}
}

static int fill_text(struct ims_reader *r)
{
	size_t room = r->cap - r->end;
	if (r->zs.avail_in) {
		/* Bytes read while sniffing the magic. */
		size_t n = r->zs.avail_in < room ? r->zs.avail_in : room;
		memcpy(r->buf + r->end, r->zs.next_in, n);
		r->zs.next_in += n;
		r->zs.avail_in -= (uInt)n;
		r->end += n;
		return 0;
	}
	ssize_t got = read_some(r->fd, r->buf + r->end, room);
	if (got < 0)
		return read_fail(r);
	if (got == 0)
		r->eof = true;
	r->raw_bytes += (uint64_t)got;
	r->end += (size_t)got;
	return 0;
}

/* Make room after the unread bytes and decode more into it. */
static int fill(struct ims_reader *r)
{
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->base += r->pos;
		r->end -= r->pos;
		r->scan -= r->pos;
		r->pos = 0;
	}
	if (r->end == r->cap) {
		if (r->cap >= MAX_LINE)
			return serr(r, -EINVAL, true, "line is longer than %zu bytes", MAX_LINE);
		char *nb = realloc(r->buf, r->cap * 2);
		if (!nb)
			return serr(r, -ENOMEM, false, "out of memory");
		r->buf = nb;
		r->data = nb;
		r->cap *= 2;
	}
	return r->src == SRC_GZ ? fill_gz(r) : fill_text(r);
}

/* Decoded bytes for the binary decoder, from the same buffer the text
 * path uses. */
static ssize_t bin_peek(void *ctx, size_t n, const unsigned char **p)
{
	struct ims_reader *r = ctx;
	while (r->end - r->pos < n && !r->eof) {
		int rc = fill(r);
		if (rc)
			return rc;
	}
	r->scan = r->pos;
	*p = (const unsigned char *)r->data + r->pos;
	size_t avail = r->end - r->pos;
	return (ssize_t)(avail < n ? avail : n);
}

static void bin_consume(void *ctx, size_t n)
{
	struct ims_reader *r = ctx;
	r->pos += n;
	r->scan = r->pos;
}

static int bin_start(struct ims_reader *r)
{
	int rc = trc_binreader_new(&r->bin);
	if (rc)
		return rc;
	r->bin_src.peek = bin_peek;
	r->bin_src.consume = bin_consume;
	r->bin_src.ctx = r;
	r->bin_src.inflated = r->src == SRC_GZ;
	return 0;
}

static int bin_next(struct ims_reader *r, struct ims_event *ev)
{
	int rc = trc_binreader_next(r->bin, &r->bin_src, ev, r->name, r->msg, r->msgcap);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(r->msg, r->msgcap, "%s: out of memory", r->name);
		r->err = rc;
	}
	return rc;
}

bool ims_reader_is_binary(const struct ims_reader *r)
{
	return r->bin != NULL;
}

/* ---- API ------------------------------------------------------------- */

static struct ims_reader *reader_new(const char *name)
{
	struct ims_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = -1;
	r->name = strdup(name);
	r->msgcap = strlen(name) + 512;
	r->msg = malloc(r->msgcap);
	if (!r->name || !r->msg) {
		ims_reader_close(r);
		return NULL;
	}
	r->msg[0] = '\0';
	r->txt.name = r->name;
	r->txt.msg = r->msg;
	r->txt.msgcap = r->msgcap;
	return r;
}

static void open_err(char *err, size_t errlen, const char *name, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", name, why);
}

int ims_reader_open(const char *path, struct ims_reader **out, char *err, size_t errlen)
{
	bool std_in = !strcmp(path, "-");
	const char *name = std_in ? "<stdin>" : path;
	struct ims_reader *r = reader_new(name);
	int rc;

	*out = NULL;
	if (!r) {
		open_err(err, errlen, name, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (std_in) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			open_err(err, errlen, name, strerror(errno));
			ims_reader_close(r);
			return -EIO;
		}
		r->own_fd = true;
	}
	r->in = malloc(BLOCK);
	r->buf = malloc(BLOCK);
	if (!r->in || !r->buf) {
		rc = -ENOMEM;
		open_err(err, errlen, name, strerror(ENOMEM));
		goto fail;
	}
	r->data = r->buf;
	r->cap = BLOCK;

	/* Sniff the gzip magic (RFC 1952, 2.3.1) from the first raw bytes. */
	while (r->zs.avail_in < 2 && !r->raw_eof) {
		ssize_t got = read_some(r->fd, r->in + r->zs.avail_in, BLOCK - r->zs.avail_in);
		if (got < 0) {
			rc = -EIO;
			open_err(err, errlen, name, strerror(errno));
			goto fail;
		}
		if (got == 0)
			r->raw_eof = true;
		r->zs.avail_in += (uInt)got;
		r->raw_bytes += (uint64_t)got;
	}
	r->zs.next_in = r->in;
	if (r->zs.avail_in >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
		r->src = SRC_GZ;
		/* 16 + MAX_WBITS: gzip wrapper only. */
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			rc = -ENOMEM;
			open_err(err, errlen, name, strerror(ENOMEM));
			goto fail;
		}
		r->zs_live = true;
	} else {
		r->src = SRC_TEXT;
		r->eof = r->raw_eof && !r->zs.avail_in;
	}

	/* The decoded input's first bytes choose the form; the binary one
	 * ("IMSB") has its own decoder (traces/binary_read.c). Decode errors found
	 * here are reported by the first ims_reader_next(). */
	while (r->end < 4 && !r->eof && !r->err)
		fill(r);
	if (r->read_errno) {
		rc = -EIO;
		open_err(err, errlen, name, strerror(r->read_errno));
		goto fail;
	}
	if (r->end >= 4 && !memcmp(r->buf, IMS_BIN_MAGIC, 4) && (rc = bin_start(r))) {
		open_err(err, errlen, name, strerror(-rc));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	ims_reader_close(r);
	return rc;
}

int ims_reader_open_mem(const char *name, const char *buf, size_t len, uint64_t first_line,
			struct ims_reader **out)
{
	struct ims_reader *r = reader_new(name);
	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->src = SRC_MEM;
	r->data = buf;
	r->end = len;
	r->eof = true;
	r->txt.lineno = first_line ? first_line - 1 : 0;
	if (len >= 4 && !memcmp(buf, IMS_BIN_MAGIC, 4)) {
		int rc = bin_start(r);
		if (rc) {
			ims_reader_close(r);
			return rc;
		}
	}
	*out = r;
	return 0;
}

int ims_reader_next(struct ims_reader *r, struct ims_event *ev)
{
	if (r->err)
		return r->err;
	if (r->bin)
		return bin_next(r, ev);
	for (;;) {
		const char *d = r->data;
		const char *nl = r->end > r->scan ? memchr(d + r->scan, '\n', r->end - r->scan) : NULL;
		const char *ls = d + r->pos;
		const char *le;
		if (nl) {
			le = nl;
			r->pos = (size_t)(nl - d) + 1;
		} else if (!r->eof) {
			r->scan = r->end;
			int rc = fill(r);
			if (rc)
				return rc;
			continue;
		} else if (r->pos == r->end) {
			return 0;
		} else {
			le = d + r->end;
			r->pos = r->end;
		}
		r->scan = r->pos;
		r->txt.lineno++;
		int rc = trc_text_line(&r->txt, ls, (size_t)(le - ls), ev);
		if (rc < 0)
			r->err = rc;
		if (rc)
			return rc;
	}
}

const char *ims_reader_error(const struct ims_reader *r)
{
	return r->err ? r->msg : "";
}

const char *ims_reader_name(const struct ims_reader *r)
{
	return r->name;
}

void ims_reader_on_phase(struct ims_reader *r, ims_phase_fn fn, void *arg)
{
	r->txt.on_phase = fn;
	r->txt.phase_arg = arg;
}

uint64_t ims_reader_bytes(const struct ims_reader *r)
{
	if (r->src == SRC_GZ)
		return r->raw_bytes - r->zs.avail_in;
	return r->base + r->pos;
}

void ims_reader_close(struct ims_reader *r)
{
	if (!r)
		return;
	if (r->zs_live)
		inflateEnd(&r->zs);
	trc_binreader_free(r->bin);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->in);
	free(r->buf);
	free(r->msg);
	free(r->name);
	free(r);
}
