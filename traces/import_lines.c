/* Importer machinery: log lines, plain or gzip, from a file or memory, and
 * the values of event arguments (traces/import.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/import.h"

#define LBLOCK ((size_t)64 << 10)
#define MAX_LOG_LINE ((size_t)1 << 24)

/* ---- lines ------------------------------------------------------------- */

static int lsrc_alloc(struct lsrc *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->buf = malloc(LBLOCK);
	s->cap = LBLOCK;
	if (!s->name || !s->buf) {
		lsrc_close(s);
		return -ENOMEM;
	}
	return 0;
}

int lsrc_open(struct lsrc *s, const char *path, char *err, size_t errlen)
{
	bool std_in = !strcmp(path, "-");
	const char *name = std_in ? "<stdin>" : path;
	int rc = lsrc_alloc(s, name);
	if (rc) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		return rc;
	}
	int fd = std_in ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		lsrc_close(s);
		return -EIO;
	}
	/* zlib tells gzip from plain text by the magic bytes (RFC 1952) and
	 * reads concatenated members like gzip(1). */
	s->gz = gzdopen(fd, "rb");
	if (!s->gz) {
		close(fd);
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		lsrc_close(s);
		return -ENOMEM;
	}
	gzbuffer(s->gz, (unsigned)LBLOCK);
	return 0;
}

int lsrc_open_mem(struct lsrc *s, const char *name, const char *buf, size_t len)
{
	int rc = lsrc_alloc(s, name);
	if (rc)
		return rc;
	s->mem = buf;
	s->memlen = len;
	return 0;
}

static int lsrc_fill(struct lsrc *s, char *err, size_t errlen)
{
	if (s->pos) {
		memmove(s->buf, s->buf + s->pos, s->end - s->pos);
		s->end -= s->pos;
		s->pos = 0;
	}
	if (s->end == s->cap) {
		if (s->cap >= MAX_LOG_LINE) {
			snprintf(err, errlen, "%s:%" PRIu64 ": line is longer than %zu bytes", s->name,
				 s->lineno + 1, MAX_LOG_LINE);
			return -EINVAL;
		}
		char *nb = realloc(s->buf, s->cap * 2);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap *= 2;
	}
	size_t room = s->cap - s->end;
	if (!s->gz) {
		size_t n = s->memlen - s->mempos < room ? s->memlen - s->mempos : room;
		memcpy(s->buf + s->end, s->mem + s->mempos, n);
		s->mempos += n;
		s->end += n;
		s->eof = s->mempos == s->memlen;
		return 0;
	}
	int got = gzread(s->gz, s->buf + s->end, (unsigned)(room > (1u << 30) ? (1u << 30) : room));
	int zerr;
	const char *zmsg = gzerror(s->gz, &zerr);
	if (got < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
		snprintf(err, errlen, "%s: %s", s->name,
			 zerr == Z_ERRNO ? strerror(errno) : zmsg && *zmsg ? zmsg : "read error");
		return zerr == Z_DATA_ERROR ? -EINVAL : -EIO;
	}
	if (got == 0) {
		/* Z_BUF_ERROR at the end: a gzip member cut short. */
		if (zerr == Z_BUF_ERROR) {
			snprintf(err, errlen, "%s: the compressed stream ends early (truncated)",
				 s->name);
			return -EINVAL;
		}
		s->eof = true;
	}
	s->end += (size_t)got;
	return 0;
}

int lsrc_next(struct lsrc *s, const char **line, size_t *len, char *err, size_t errlen)
{
	size_t off = 0; /* bytes of this line already searched for '\n' */
	for (;;) {
		size_t ls = s->pos, le;
		char *nl = s->end > ls + off ? memchr(s->buf + ls + off, '\n', s->end - ls - off) : NULL;
		if (nl) {
			le = (size_t)(nl - s->buf);
			s->pos = le + 1;
		} else if (!s->eof) {
			off = s->end - ls;
			int rc = lsrc_fill(s, err, errlen);
			if (rc)
				return rc;
			continue;
		} else if (s->pos == s->end) {
			return 0;
		} else {
			le = s->end;
			s->pos = s->end;
		}
		s->lineno++;
		if (le > ls && s->buf[le - 1] == '\r')
			le--;
		*line = s->buf + ls;
		*len = le - ls;
		return 1;
	}
}

void lsrc_close(struct lsrc *s)
{
	if (s->gz)
		gzclose(s->gz);
	free(s->buf);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

/* ---- argument values ---------------------------------------------------- */

static inline bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *tok_end(const char *p, const char *e)
{
	while (p < e && !blank(*p))
		p++;
	return p;
}

static const char *skip_blank(const char *p, const char *e)
{
	while (p < e && blank(*p))
		p++;
	return p;
}

/* The first value of `key` at or after p, its end in *next. */
static bool arg_from(const char *p, const char *e, const char *key, size_t kl, const char **v,
		     size_t *n, const char **next)
{
	for (p = skip_blank(p, e); p < e; p = skip_blank(p, e)) {
		const char *te = tok_end(p, e);
		const char *val = NULL, *ve = NULL;
		if ((size_t)(te - p) >= kl && !memcmp(p, key, kl)) {
			const char *r = p + kl;
			if (r == te) {
				/* "key V", and "key =V" (smmuv3_cmdq_tlbi_nh_va of QEMU 4) */
				val = skip_blank(te, e);
				ve = tok_end(val, e);
				if (val < ve && (*val == '=' || *val == ':'))
					val++;
			} else if (*r == '=' || *r == ':') {
				r++;
				if (r == te) {
					val = skip_blank(te, e);
					ve = tok_end(val, e);
				} else {
					val = r;
					ve = te;
				}
			}
		}
		if (val) {
			if (ve > val && ve[-1] == ',')
				ve--;
			*v = val;
			*n = (size_t)(ve - val);
			*next = ve;
			return true;
		}
		p = te;
	}
	return false;
}

bool arg_str(const char *s, const char *e, const char *key, const char **v, size_t *n)
{
	size_t kl = strlen(key), n2;
	const char *next, *v2;
	if (!arg_from(s, e, key, kl, v, n, &next) || !*n)
		return false;
	/* A key given twice with two values: which one the log meant is not
	 * known, so the line is malformed (the same value twice is kept). */
	while (arg_from(next, e, key, kl, &v2, &n2, &next))
		if (n2 != *n || memcmp(v2, *v, n2))
			return false;
	return true;
}

static inline int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool parse_hex(const char *s, size_t n, uint64_t *out)
{
	if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		s += 2;
		n -= 2;
	}
	if (!n || n > 16)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hexdig(s[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

bool parse_num(const char *s, size_t n, uint64_t *out)
{
	if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x')
		return parse_hex(s, n, out);
	if (!n)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool arg_num(const char *s, const char *e, const char *key, uint64_t *out)
{
	const char *v;
	size_t n;
	return arg_str(s, e, key, &v, &n) && parse_num(v, n, out);
}

bool arg_hex(const char *s, const char *e, const char *key, uint64_t *out)
{
	const char *v;
	size_t n;
	return arg_str(s, e, key, &v, &n) && parse_hex(v, n, out);
}

bool parse_bdf(const char *s, size_t n, uint32_t *out)
{
	uint64_t f[4];
	unsigned nf = 0;
	const char *p = s, *e = s + n;
	bool dot = false;
	while (p <= e && nf < 4) {
		const char *q = p;
		while (q < e && *q != ':' && *q != '.')
			q++;
		if (!parse_hex(p, (size_t)(q - p), &f[nf]) || q - p > 4)
			return false;
		nf++;
		if (q == e)
			break;
		if (*q == '.') {
			if (dot)
				return false;
			dot = true;
		} else if (dot) {
			return false;
		}
		p = q + 1;
	}
	if (!dot || (nf != 3 && nf != 4) || p > e)
		return false;
	uint64_t seg = nf == 4 ? f[0] : 0, bus = f[nf - 3], dev = f[nf - 2], fn = f[nf - 1];
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return false;
	*out = (uint32_t)(seg << 16 | bus << 8 | dev << 3 | fn);
	return true;
}
