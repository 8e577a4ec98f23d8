/* A trace's record of `iommusim replay` (tools/replay.h): written for
 * each trace, and read back from --json-lines files to be merged. The
 * reader takes any JSON on the line (members it does not know are passed
 * over) and names the line and column of what is not. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/replay.h"

/* The line of an input error "FILE:LINE:COL: ..." or "FILE:LINE: ..." of
 * trace `file`; 0 when it names none. */
static uint64_t error_line(const char *file, const char *error)
{
	size_t n = strlen(file);
	if (strncmp(error, file, n) || error[n] != ':')
		return 0;
	const char *p = error + n + 1;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	return *p == ':' ? v : 0;
}

char *rp_record(const char *file, int status, const char *walker, const char *summary,
		const char *error, const char *failure, const char *detail)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return NULL;
	fputs("{\"file\":", f);
	json_string(f, file);
	fprintf(f, ",\"status\":%d,\"result\":\"%s\",\"summary\":", status,
		status == 2 ? "bad input" : status ? "fail" : "pass");
	fputs(summary ? summary : "null", f);
	fputs(",\"walker\":", f);
	json_string(f, walker);
	if (error) {
		fputs(",\"error\":", f);
		json_string(f, error);
		uint64_t line = error_line(file, error);
		if (line)
			fprintf(f, ",\"line\":%llu", (unsigned long long)line);
	}
	if (failure) {
		fputs(",\"failure\":", f);
		json_string(f, failure);
	}
	if (detail)
		fputs(detail, f);
	fputc('}', f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- reading a record: a JSON object on one line ----------------------- */

struct jp {
	const char *s, *p, *e;
	const char *src;
	uint64_t line;
	char *err;
	size_t len;
	int depth;
};

#define MAX_DEPTH 64

__attribute__((format(printf, 3, 4)))
static int jerr(struct jp *j, const char *at, const char *fmt, ...)
{
	int n = snprintf(j->err, j->len, "%s:%llu:%llu: ", j->src, (unsigned long long)j->line,
			 (unsigned long long)(at - j->s) + 1);
	if (n >= 0 && (size_t)n < j->len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(j->err + n, j->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void ws(struct jp *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int hex4(const char *p, const char *e, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		if (p + i >= e)
			return -1;
		char c = p[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16u;
		if (d > 15)
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static char *utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* A string at j->p (its opening quote). *out (when out) gets it decoded,
 * malloc'd; raw/rawlen (when raw) what stands between the quotes. */
static int string(struct jp *j, char **out, const char **raw, size_t *rawlen)
{
	const char *q = j->p;
	if (q >= j->e || *q != '"')
		return jerr(j, q, "expected a string");
	const char *p = q + 1;
	char *buf = NULL, *o = NULL;
	if (out) {
		buf = malloc((size_t)(j->e - p) + 1);
		if (!buf)
			return jerr(j, q, "out of memory");
		o = buf;
	}
	for (;;) {
		if (p >= j->e) {
			free(buf);
			return jerr(j, q, "the string that starts here does not end");
		}
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c < 0x20) {
			free(buf);
			return jerr(j, p, "a control character in a string (expected it escaped)");
		}
		if (c != '\\') {
			if (o)
				*o++ = (char)c;
			p++;
			continue;
		}
		const char *esc = p;
		char x = p + 1 < j->e ? p[1] : 0;
		const char *simple = strchr("\"\\/bfnrt", x);
		if (x && simple) {
			if (o)
				*o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			p += 2;
			continue;
		}
		unsigned cp;
		if (x != 'u' || hex4(p + 2, j->e, &cp)) {
			free(buf);
			return jerr(j, esc, "a bad escape (expected \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
		}
		p += 6;
		if (cp >= 0xd800 && cp < 0xdc00) {
			unsigned lo;
			if (p + 1 >= j->e || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, j->e, &lo) ||
			    lo < 0xdc00 || lo >= 0xe000) {
				free(buf);
				return jerr(j, esc, "a lone surrogate \\u%04x", cp);
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		} else if (cp >= 0xdc00 && cp < 0xe000) {
			free(buf);
			return jerr(j, esc, "a lone surrogate \\u%04x", cp);
		}
		if (!cp) {
			free(buf);
			return jerr(j, esc, "\\u0000 in a string");
		}
		if (o)
			o = utf8(o, cp);
	}
	if (raw) {
		*raw = q + 1;
		*rawlen = (size_t)(p - q - 1);
	}
	j->p = p + 1;
	if (out) {
		*o = 0;
		*out = buf;
	}
	return 0;
}

/* A number; *uint says whether it is a whole number >= 0 that fits in 64
 * bits, then in *v. */
static int number(struct jp *j, bool *uint, uint64_t *v)
{
	const char *s = j->p, *p = s;
	bool whole = true;
	if (p < j->e && *p == '-') {
		whole = false;
		p++;
	}
	if (p >= j->e || *p < '0' || *p > '9')
		return jerr(j, s, "expected a value");
	if (*p == '0')
		p++;
	else
		while (p < j->e && *p >= '0' && *p <= '9')
			p++;
	const char *int_end = p;
	if (p < j->e && *p == '.') {
		whole = false;
		p++;
		if (p >= j->e || *p < '0' || *p > '9')
			return jerr(j, p, "expected a digit after '.'");
		while (p < j->e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->e && (*p == 'e' || *p == 'E')) {
		whole = false;
		p++;
		if (p < j->e && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->e || *p < '0' || *p > '9')
			return jerr(j, p, "expected a digit in the exponent");
		while (p < j->e && *p >= '0' && *p <= '9')
			p++;
	}
	*uint = false;
	if (whole) {
		uint64_t x = 0;
		bool fits = true;
		for (const char *d = s; d < int_end; d++)
			if (__builtin_mul_overflow(x, 10, &x) ||
			    __builtin_add_overflow(x, (uint64_t)(*d - '0'), &x))
				fits = false;
		*uint = fits;
		*v = x;
	}
	j->p = p;
	return 0;
}

static int value(struct jp *j);

static int lit(struct jp *j, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(j->e - j->p) < n || memcmp(j->p, word, n))
		return jerr(j, j->p, "expected a value");
	j->p += n;
	return 0;
}

/* After a member or element: 1 when a ',' says another follows, 0 when
 * `close` ends the object or array (its depth ends with it), -1 else. */
static int after_member(struct jp *j, char close)
{
	ws(j);
	if (j->p < j->e && *j->p == ',') {
		j->p++;
		return 1;
	}
	if (j->p < j->e && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	return jerr(j, j->p, "expected ',' or '%c'", close);
}

/* An object or an array: its members or elements, each a value. */
static int compound(struct jp *j)
{
	char close = *j->p == '{' ? '}' : ']';
	const char *open = j->p;
	if (++j->depth > MAX_DEPTH)
		return jerr(j, open, "nested deeper than %d", MAX_DEPTH);
	j->p++;
	ws(j);
	if (j->p < j->e && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		ws(j);
		if (close == '}') {
			if (string(j, NULL, NULL, NULL))
				return -1;
			ws(j);
			if (j->p >= j->e || *j->p != ':')
				return jerr(j, j->p, "expected ':'");
			j->p++;
			ws(j);
		}
		if (value(j))
			return -1;
		int more = after_member(j, close);
		if (more <= 0)
			return more;
	}
}

static int value(struct jp *j)
{
	if (j->p >= j->e)
		return jerr(j, j->p, "expected a value");
	switch (*j->p) {
	case '{':
	case '[':
		return compound(j);
	case '"':
		return string(j, NULL, NULL, NULL);
	case 't':
		return lit(j, "true");
	case 'f':
		return lit(j, "false");
	case 'n':
		return lit(j, "null");
	default: {
		bool u;
		uint64_t v;
		return number(j, &u, &v);
	}
	}
}

void rp_rec_free(struct rp_rec *r)
{
	free(r->file);
	free(r->walker);
	free(r->error);
	free(r->failure);
	free(r->c);
}

/* The summary object: its whole-number members are the counters. */
static int summary(struct jp *j, struct rp_rec *r)
{
	if (*j->p == 'n')
		return lit(j, "null");
	if (*j->p != '{')
		return jerr(j, j->p, "expected the summary, an object or null");
	j->p++;
	j->depth++;
	ws(j);
	if (j->p < j->e && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		ws(j);
		const char *key;
		size_t keylen;
		if (string(j, NULL, &key, &keylen))
			return -1;
		ws(j);
		if (j->p >= j->e || *j->p != ':')
			return jerr(j, j->p, "expected ':'");
		j->p++;
		ws(j);
		if (j->p < j->e && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))) {
			bool u;
			uint64_t v;
			const char *at = j->p;
			if (number(j, &u, &v))
				return -1;
			/* The summary's own members are counts: a sum of them is
			 * the merge's total, so anything else is bad input. */
			if (!u)
				return jerr(j, at, "expected an unsigned 64-bit count");
			for (size_t k = 0; k < r->nc; k++)
				if (r->c[k].keylen == keylen && !memcmp(r->c[k].key, key, keylen))
					return jerr(j, at, "the summary has '%.*s' twice", (int)keylen,
						    key);
			{
				if (r->nc == r->ccap) {
					size_t cap = r->ccap ? 2 * r->ccap : 32;
					struct rp_counter *c = realloc(r->c, cap * sizeof(*c));
					if (!c)
						return jerr(j, at, "out of memory");
					r->c = c;
					r->ccap = cap;
				}
				r->c[r->nc++] = (struct rp_counter){key, keylen, v};
			}
		} else if (value(j)) {
			return -1;
		}
		int more = after_member(j, '}');
		if (more <= 0)
			return more;
	}
}

static bool key_is(const char *raw, size_t n, const char *name)
{
	return strlen(name) == n && !memcmp(raw, name, n);
}

static int record(struct jp *j, struct rp_rec *r)
{
	ws(j);
	if (j->p >= j->e || *j->p != '{')
		return jerr(j, j->p, "expected a record of iommusim replay --json-lines (a JSON object)");
	const char *open = j->p;
	j->p++;
	j->depth = 1;
	ws(j);
	bool empty = j->p < j->e && *j->p == '}';
	if (empty)
		j->p++;
	while (!empty) {
		ws(j);
		const char *key;
		size_t kl;
		const char *kat = j->p;
		if (string(j, NULL, &key, &kl))
			return -1;
		ws(j);
		if (j->p >= j->e || *j->p != ':')
			return jerr(j, j->p, "expected ':'");
		j->p++;
		ws(j);
		const char *at = j->p;
		char **str = key_is(key, kl, "file")	    ? &r->file
			     : key_is(key, kl, "walker")  ? &r->walker
			     : key_is(key, kl, "error")   ? &r->error
			     : key_is(key, kl, "failure") ? &r->failure
							  : NULL;
		int rc;
		if (str) {
			if (*str)
				return jerr(j, kat, "\"%.*s\" given twice", (int)kl, key);
			rc = string(j, str, NULL, NULL);
			if (str == &r->file)
				r->have_file = true;
		} else if (key_is(key, kl, "status")) {
			bool u;
			uint64_t v;
			rc = number(j, &u, &v);
			if (!rc && (!u || v > 2))
				return jerr(j, at, "expected a status 0, 1 or 2");
			r->status = (int)v;
			r->have_status = true;
		} else if (key_is(key, kl, "summary")) {
			rc = summary(j, r);
		} else {
			rc = value(j); /* a member of a later version: kept, not read */
		}
		if (rc)
			return -1;
		int more = after_member(j, '}');
		if (more < 0)
			return -1;
		if (!more)
			break;
	}
	ws(j);
	if (j->p < j->e)
		return jerr(j, j->p, "more after the record (one record a line)");
	if (!r->have_file || !r->have_status)
		return jerr(j, open, "a record needs \"file\" and \"status\"");
	return 0;
}

int rp_record_read(const char *line, size_t n, const char *src, uint64_t lineno,
		   struct rp_rec *r, char *err, size_t len)
{
	memset(r, 0, sizeof(*r));
	struct jp j = {line, line, line + n, src, lineno, err, len, 0};
	if (record(&j, r)) {
		rp_rec_free(r);
		return -1;
	}
	return 0;
}
