/* Streaming reader for the text trace form, version 1
 * (../shared/spec/trace-format.md).
 *
 * Input is read in blocks into one buffer that is reused for every line and
 * only grows for a line longer than itself; a line is parsed in place. Gzip
 * input is recognised by its magic bytes and inflated block by block.
 * Format-specific checks (levels per format, alignment to page sizes) belong
 * to the replayer, which reports them at the columns recorded in ev->col[].
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

#define BLOCK ((size_t)64 << 10)
/* A line is held whole in memory; beyond this it is surely not a trace. */
#define MAX_LINE ((size_t)1 << 30)
#define QUOTE_MAX 48

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

	uint64_t lineno;
	bool seen_line; /* a non-blank, non-comment line was read */
	bool have_ts;
	uint64_t last_ts;

	int err;
	char *msg;
	size_t msgcap;

	/* Set when the decoded input starts with the binary magic: events come
	 * from traces/binary.c, which pulls the decoded bytes through bin_src. */
	struct ims_binreader *bin;
	struct ims_bin_src bin_src;
};

/* ---- value types and per-op keys ------------------------------------- */

enum vt {
	VT_NUM,
	VT_SIZE,    /* number with optional K/M/G/T suffix */
	VT_ONOFF,
	VT_FLAG,
	VT_FORMAT,
	VT_ACCESS,  /* r | w | rw */
	VT_KIND,
	VT_PGSIZES,
	VT_DEV,
	VT_HEX,
	VT_ERRNO,   /* EINVAL, EOPNOTSUPP, ... or a number */
};

#define KEY(n, t) {n, sizeof(n) - 1, t}
static const struct {
	const char *name;
	unsigned char len;
	unsigned char type;
} keys[IMS_K_COUNT] = {
	[IMS_K_ID] = KEY("id", VT_NUM),
	[IMS_K_FORMAT] = KEY("format", VT_FORMAT),
	[IMS_K_LEVELS] = KEY("levels", VT_NUM),
	[IMS_K_GRANULE] = KEY("granule", VT_SIZE),
	[IMS_K_IAS] = KEY("ias", VT_NUM),
	[IMS_K_PGSIZES] = KEY("pgsizes", VT_PGSIZES),
	[IMS_K_DIRTY] = KEY("dirty", VT_ONOFF),
	[IMS_K_ROOT] = KEY("root", VT_NUM),
	[IMS_K_RAW] = KEY("raw", VT_FLAG),
	[IMS_K_HA] = KEY("ha", VT_ONOFF),
	[IMS_K_HD] = KEY("hd", VT_ONOFF),
	[IMS_K_DEV] = KEY("dev", VT_DEV),
	[IMS_K_DOMAIN] = KEY("domain", VT_NUM),
	[IMS_K_IOVA] = KEY("iova", VT_NUM),
	[IMS_K_PA] = KEY("pa", VT_NUM),
	[IMS_K_SIZE] = KEY("size", VT_SIZE),
	[IMS_K_PROT] = KEY("prot", VT_ACCESS),
	[IMS_K_PGSIZE] = KEY("pgsize", VT_SIZE),
	[IMS_K_ON] = KEY("on", VT_FLAG),
	[IMS_K_OFF] = KEY("off", VT_FLAG),
	[IMS_K_NOCLEAR] = KEY("noclear", VT_FLAG),
	[IMS_K_EXPECT] = KEY("expect", VT_HEX),
	[IMS_K_EXPECT_COUNT] = KEY("expect-count", VT_NUM),
	[IMS_K_LEN] = KEY("len", VT_SIZE),
	[IMS_K_DIR] = KEY("dir", VT_ACCESS),
	[IMS_K_VAL] = KEY("val", VT_NUM),
	[IMS_K_MASK] = KEY("mask", VT_NUM),
	[IMS_K_KIND] = KEY("kind", VT_KIND),
	[IMS_K_INJECT_AT] = KEY("inject-at", VT_NUM),
	[IMS_K_INJECT_DEV] = KEY("inject-dev", VT_DEV),
	[IMS_K_INJECT_IOVA] = KEY("inject-iova", VT_NUM),
	[IMS_K_CNT] = KEY("count", VT_NUM),
	[IMS_K_READ_DIRTY] = KEY("read-dirty", VT_FLAG),
	[IMS_K_DIRTY_CAP] = KEY("dirty-cap", VT_ONOFF),
	[IMS_K_IOAS] = KEY("ioas", VT_NUM),
	[IMS_K_HWPT] = KEY("hwpt", VT_NUM),
	[IMS_K_LENGTH] = KEY("length", VT_SIZE),
	[IMS_K_PAGE_SIZE] = KEY("page-size", VT_SIZE),
	[IMS_K_FLAGS] = KEY("flags", VT_NUM),
	[IMS_K_RESERVED] = KEY("reserved", VT_NUM),
	[IMS_K_BITMAP_SIZE] = KEY("bitmap-size", VT_SIZE),
	[IMS_K_EXPECT_ERR] = KEY("expect-err", VT_ERRNO),
	[IMS_K_CONTAINER] = KEY("container", VT_NUM),
	[IMS_K_PIN_SCOPE] = KEY("pin-scope", VT_FLAG),
	[IMS_K_START] = KEY("start", VT_FLAG),
	[IMS_K_STOP] = KEY("stop", VT_FLAG),
	[IMS_K_GET_BITMAP] = KEY("get-bitmap", VT_FLAG),
	[IMS_K_GET_DIRTY_BITMAP] = KEY("get-dirty-bitmap", VT_FLAG),
};

#define B(k) (1ull << IMS_K_##k)
/* A device write injected between two software memory accesses of the op
 * (the fuzzer's interleavings): all three keys or none. */
#define INJECT (B(INJECT_AT) | B(INJECT_DEV) | B(INJECT_IOVA))
/* `word` is the op word, or the second word for the expect ops. on/off of
 * track are optional here and checked as "exactly one" after the fields. */
static const struct {
	const char *word;
	unsigned char len;
	uint64_t req, opt;
} ops[IMS_OP_COUNT] = {
	[IMS_OP_DOMAIN] = {"domain", 6, B(ID) | B(FORMAT),
			   B(LEVELS) | B(GRANULE) | B(IAS) | B(PGSIZES) | B(DIRTY) | B(ROOT) |
				   B(RAW) | B(HA) | B(HD)},
	[IMS_OP_ATTACH] = {"attach", 6, B(DEV) | B(DOMAIN), 0},
	[IMS_OP_DETACH] = {"detach", 6, B(DEV), 0},
	[IMS_OP_MAP] = {"map", 3, B(DOMAIN) | B(IOVA) | B(PA) | B(SIZE),
			B(PROT) | B(PGSIZE) | INJECT},
	[IMS_OP_UNMAP] = {"unmap", 5, B(DOMAIN) | B(IOVA) | B(SIZE),
			  B(READ_DIRTY) | B(PGSIZE) | INJECT},
	[IMS_OP_TRACK] = {"track", 5, B(DOMAIN), B(ON) | B(OFF) | INJECT},
	[IMS_OP_HARVEST] = {"harvest", 7, B(DOMAIN) | B(IOVA) | B(SIZE),
			    B(PGSIZE) | B(NOCLEAR) | B(EXPECT) | B(EXPECT_COUNT) | INJECT},
	[IMS_OP_FLUSH] = {"flush", 5, B(DOMAIN), B(IOVA) | B(SIZE)},
	[IMS_OP_DMA] = {"dma", 3, B(DEV) | B(IOVA) | B(LEN) | B(DIR), 0},
	[IMS_OP_MEM] = {"mem", 3, B(PA) | B(VAL), 0},
	[IMS_OP_EXPECT_MEM] = {"mem", 3, B(PA) | B(VAL), B(MASK)},
	[IMS_OP_EXPECT_PA] = {"pa", 2, B(DEV) | B(IOVA) | B(PA), 0},
	[IMS_OP_EXPECT_FAULT] = {"fault", 5, B(DEV) | B(IOVA) | B(KIND), 0},
	[IMS_OP_EXPECT_NOFAULT] = {"nofault", 7, 0, 0},
	[IMS_OP_EXPECT_CONSISTENT] = {"consistent", 10, B(DOMAIN), 0},
	[IMS_OP_EXPECT_TABLES] = {"tables", 6, B(DOMAIN) | B(CNT), 0},
	/* The iommufd and vfio ops: `word` is the second word. Every call
	 * takes expect-err= (docs/uapi.md). */
	[IMS_OP_IOMMUFD_BIND] = {"bind", 4, B(DEV) | B(FORMAT), B(DIRTY_CAP)},
	[IMS_OP_IOMMUFD_HW_INFO] = {"hw-info", 7, B(DEV), B(DIRTY_CAP) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_IOAS] = {"ioas-alloc", 10, B(IOAS), B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_MAP] = {"map", 3, B(IOAS) | B(IOVA) | B(PA) | B(LENGTH),
				B(PROT) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_UNMAP] = {"unmap", 5, B(IOAS) | B(IOVA) | B(LENGTH), B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_HWPT] = {"hwpt-alloc", 10, B(HWPT) | B(DEV) | B(IOAS),
				 B(DIRTY) | B(FLAGS) | B(LEVELS) | B(GRANULE) | B(IAS) |
					 B(PGSIZES) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_ATTACH] = {"attach", 6, B(DEV) | B(HWPT), B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_SET_DIRTY] = {"set-dirty-tracking", 18, B(HWPT),
				      B(ON) | B(OFF) | B(FLAGS) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_GET_DIRTY] = {"get-dirty-bitmap", 16,
				      B(HWPT) | B(IOVA) | B(LENGTH) | B(PAGE_SIZE),
				      B(NOCLEAR) | B(FLAGS) | B(RESERVED) | B(BITMAP_SIZE) |
					      B(EXPECT) | B(EXPECT_COUNT) | B(EXPECT_ERR)},
	[IMS_OP_VFIO_CONTAINER] = {"container", 9, B(ID) | B(FORMAT),
				   B(LEVELS) | B(GRANULE) | B(IAS) | B(PGSIZES)},
	[IMS_OP_VFIO_GROUP] = {"group", 5, B(ID) | B(CONTAINER), B(DEV) | B(PIN_SCOPE)},
	[IMS_OP_VFIO_MAP] = {"map", 3, B(CONTAINER) | B(IOVA) | B(PA) | B(LENGTH),
			     B(PROT) | B(EXPECT_ERR)},
	[IMS_OP_VFIO_UNMAP] = {"unmap", 5, B(CONTAINER) | B(IOVA) | B(LENGTH),
			       B(GET_DIRTY_BITMAP) | B(FLAGS) | B(PAGE_SIZE) | B(BITMAP_SIZE) |
				       B(EXPECT) | B(EXPECT_COUNT) | B(EXPECT_ERR)},
	[IMS_OP_VFIO_DIRTY] = {"dirty-pages", 11, B(CONTAINER),
			       B(START) | B(STOP) | B(GET_BITMAP) | B(FLAGS) | B(IOVA) | B(LENGTH) |
				       B(PAGE_SIZE) | B(BITMAP_SIZE) | B(EXPECT) | B(EXPECT_COUNT) |
				       B(EXPECT_ERR)},
	[IMS_OP_VFIO_PIN] = {"pin", 3, B(CONTAINER) | B(IOVA) | B(LENGTH), B(EXPECT_ERR)},
	[IMS_OP_VFIO_UNPIN] = {"unpin", 5, B(CONTAINER) | B(IOVA) | B(LENGTH), B(EXPECT_ERR)},
};

/* The iommufd and vfio ops are named by two words, like the expect ops:
 * the first names the interface, `word` the call. */
static const struct {
	const char *word;
	unsigned char len;
	int first, last; /* ops [first, last] */
	const char *list;
} groups[] = {
	{"iommufd", 7, IMS_OP_IOMMUFD_BIND, IMS_OP_IOMMUFD_GET_DIRTY,
	 "bind, hw-info, ioas-alloc, map, unmap, hwpt-alloc, attach, set-dirty-tracking or "
	 "get-dirty-bitmap"},
	{"vfio", 4, IMS_OP_VFIO_CONTAINER, IMS_OP_VFIO_UNPIN,
	 "container, group, map, unmap, dirty-pages, pin or unpin"},
};

/* ---- errors ---------------------------------------------------------- */

/* Line context for messages: the line's first byte gives columns. */
struct line {
	struct ims_reader *r;
	const char *s;
	const char *e;
};

/* "FILE: ", "FILE:LINE: " or "FILE:LINE:COL: " (line, col 0: not known). */
static int verr(struct ims_reader *r, int err, uint64_t line, uint64_t col, const char *fmt,
		va_list ap)
{
	int n;
	if (!line)
		n = snprintf(r->msg, r->msgcap, "%s: ", r->name);
	else if (!col)
		n = snprintf(r->msg, r->msgcap, "%s:%llu: ", r->name, (unsigned long long)line);
	else
		n = snprintf(r->msg, r->msgcap, "%s:%llu:%llu: ", r->name, (unsigned long long)line,
			     (unsigned long long)col);
	if (n >= 0 && (size_t)n < r->msgcap)
		vsnprintf(r->msg + n, r->msgcap - (size_t)n, fmt, ap);
	r->err = err;
	return err;
}

/* An input error at `at` (NULL: the line as a whole). */
__attribute__((format(printf, 3, 4)))
static int lerr(const struct line *l, const char *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(l->r, -EINVAL, l->r->lineno, at ? (uint64_t)(at - l->s) + 1 : 0, fmt, ap);
	va_end(ap);
	return rc;
}

/* A stream error; with_line names the line being read when it happened
 * (input is only read while no complete line is buffered). */
__attribute__((format(printf, 4, 5)))
static int serr(struct ims_reader *r, int err, bool with_line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(r, err, with_line ? r->lineno + 1 : 0, 0, fmt, ap);
	va_end(ap);
	return rc;
}

/* Input text for a message: non-printing bytes escaped, long text cut. */
struct quoted {
	char s[QUOTE_MAX * 4 + 8];
};

static struct quoted quote(const char *s, const char *e)
{
	struct quoted q;
	size_t n = 0;
	for (const char *p = s; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if (p - s >= QUOTE_MAX) {
			memcpy(q.s + n, "...", 3);
			n += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			q.s[n++] = (char)c;
		} else {
			q.s[n++] = '\\';
			q.s[n++] = 'x';
			q.s[n++] = "0123456789abcdef"[c >> 4];
			q.s[n++] = "0123456789abcdef"[c & 0xf];
		}
	}
	q.s[n] = '\0';
	return q;
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
					    "compressed stream ends early (at byte %llu of input)",
					    (unsigned long long)at);
			break;
		case Z_MEM_ERROR:
			return serr(r, -ENOMEM, false, "out of memory");
		default:
			return serr(r, -EIO, true, "corrupt compressed stream at byte %llu of input (%s)",
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

/* ---- numbers and values ---------------------------------------------- */

enum { NUM_OK, NUM_BAD, NUM_BIG };

static inline int hexval(unsigned char c)
{
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	c |= 0x20;
	if ((unsigned)(c - 'a') < 6u)
		return c - 'a' + 10;
	return -1;
}

/* Decimal or 0x hex; with `suffix`, an optional K/M/G/T binary multiplier. */
static int parse_u64(const char *s, const char *e, bool suffix, uint64_t *out)
{
	uint64_t v = 0;
	bool big = false;
	const char *d;

	if (e - s >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		s += 2;
		d = s;
		for (int h; s < e && (h = hexval((unsigned char)*s)) >= 0; s++) {
			big |= (v >> 60) != 0;
			v = v << 4 | (uint64_t)h;
		}
	} else {
		d = s;
		for (; s < e && (unsigned)(*s - '0') < 10u; s++) {
			unsigned c = (unsigned)(*s - '0');
			big |= v > (UINT64_MAX - c) / 10;
			v = v * 10 + c;
		}
	}
	if (s == d)
		return NUM_BAD;
	if (suffix && s + 1 == e) {
		unsigned sh = *s == 'K' ? 10 : *s == 'M' ? 20 : *s == 'G' ? 30 : *s == 'T' ? 40 : 0;
		if (sh) {
			big |= v > (UINT64_MAX >> sh);
			v <<= sh;
			s++;
		}
	}
	if (s != e)
		return NUM_BAD;
	if (big)
		return NUM_BIG;
	*out = v;
	return NUM_OK;
}

/* Short compares inline: a libc call per field costs more than the compare. */
static inline bool same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static bool word_is(const char *s, const char *e, const char *w, size_t n)
{
	return (size_t)(e - s) == n && same(s, w, n);
}

static int access_parse(const char *s, const char *e, uint64_t *out)
{
	if (word_is(s, e, "r", 1))
		*out = IMS_PROT_R;
	else if (word_is(s, e, "w", 1))
		*out = IMS_PROT_W;
	else if (word_is(s, e, "rw", 2))
		*out = IMS_PROT_RW;
	else
		return -EINVAL;
	return 0;
}

static int num_value(const struct line *l, int k, const char *s, const char *e, bool suffix,
		     uint64_t *out)
{
	int rc = parse_u64(s, e, suffix, out);
	if (rc == NUM_OK)
		return 0;
	if (s == e)
		return lerr(l, s, "%s= needs a value (expected %s)", keys[k].name,
			    suffix ? "a size" : "a number");
	if (rc == NUM_BIG)
		return lerr(l, s, "%s does not fit in 64 bits ('%s')", keys[k].name, quote(s, e).s);
	if (suffix)
		return lerr(l, s,
			    "'%s' is not a size (expected decimal or 0x hex, optionally followed "
			    "by K, M, G or T)",
			    quote(s, e).s);
	return lerr(l, s, "'%s' is not a number (expected decimal or 0x hex)", quote(s, e).s);
}

/* A PCI address BB:DD.F or SSSS:BB:DD.F, hex fields (trace-format.md,
 * "Lexical rules"). */
static int pci_value(const struct line *l, const char *s, const char *e, uint64_t *out)
{
	static const uint64_t lim[4] = {0xffff, 0xff, 0x1f, 0x7};
	static const char *const what[4] = {"segment", "bus", "device", "function"};
	const char *f[5], *fe[5];
	unsigned n = 0;
	const char *dot = NULL;

	/* Fields end at ':' before the '.' and at the one '.'. */
	f[0] = s;
	for (const char *p = s; p < e; p++) {
		if (*p != ':' && *p != '.')
			continue;
		if (dot || n == 3)
			goto bad;
		if (*p == '.')
			dot = p;
		fe[n++] = p;
		f[n] = p + 1;
	}
	fe[n++] = e;
	if (!dot || (n != 3 && n != 4))
		goto bad;
	uint64_t v[4] = {0};
	unsigned off = 4 - n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t x = 0;
		if (f[i] == fe[i] || fe[i] - f[i] > 4)
			goto bad;
		for (const char *c = f[i]; c < fe[i]; c++) {
			int h = hexval((unsigned char)*c);
			if (h < 0)
				goto bad;
			x = x << 4 | (uint64_t)h;
		}
		if (x > lim[i + off])
			return lerr(l, f[i], "PCI %s 0x%llx is out of range (expected 0..0x%llx)",
				    what[i + off], (unsigned long long)x,
				    (unsigned long long)lim[i + off]);
		v[i + off] = x;
	}
	*out = v[0] << 16 | v[1] << 8 | v[2] << 3 | v[3];
	return 0;
bad:
	return lerr(l, s, "'%s' is not a device id (expected a number, BB:DD.F or SSSS:BB:DD.F)",
		    quote(s, e).s);
}

static int pgsizes_value(const struct line *l, const char *s, const char *e, uint64_t *out)
{
	uint64_t mask = 0;
	if (s == e)
		return lerr(l, s, "pgsizes= needs a value (expected SIZE,SIZE,...)");
	for (const char *p = s;;) {
		const char *q = memchr(p, ',', (size_t)(e - p));
		if (!q)
			q = e;
		uint64_t v;
		int rc = parse_u64(p, q, true, &v);
		if (rc == NUM_BIG)
			return lerr(l, p, "pgsizes item does not fit in 64 bits ('%s')",
				    quote(p, q).s);
		if (rc != NUM_OK)
			return lerr(l, p,
				    "'%s' is not a size (expected pgsizes=SIZE,SIZE,... with "
				    "decimal or 0x hex sizes, optionally followed by K, M, G or T)",
				    quote(p, q).s);
		if (!ims_is_pow2(v))
			return lerr(l, p, "page size '%s' is not a power of two", quote(p, q).s);
		mask |= v;
		if (q == e)
			break;
		p = q + 1;
	}
	*out = mask;
	return 0;
}

static int hex_value(const struct line *l, struct ims_event *ev, const char *s, const char *e)
{
	const char *d = s;
	if (e - d >= 2 && d[0] == '0' && (d[1] | 0x20) == 'x')
		d += 2;
	const char *p = d;
	while (p < e && hexval((unsigned char)*p) >= 0)
		p++;
	if (p == d || p != e)
		return lerr(l, s, "'%s' is not a hex bitmap (expected hex digits, e.g. expect=0x19)",
			    quote(s, e).s);
	ev->expect_hex = d;
	ev->expect_hex_len = (size_t)(e - d);
	return 0;
}

static int value(const struct line *l, struct ims_event *ev, int k, const char *s, const char *e)
{
	uint64_t *v = &ev->v[k];
	int rc;

	switch (keys[k].type) {
	case VT_NUM:
		if ((rc = num_value(l, k, s, e, false, v)))
			return rc;
		if ((k == IMS_K_ID || k == IMS_K_DOMAIN) && *v > 0xffff)
			return lerr(l, s,
				    "%s %llu is out of range (expected 0..65535: the domain id is "
				    "the 16-bit hardware tag)",
				    keys[k].name, (unsigned long long)*v);
		if ((k == IMS_K_HWPT || k == IMS_K_CONTAINER) && *v > 0xffff)
			return lerr(l, s,
				    "%s %llu is out of range (expected 0..65535: it is also the "
				    "domain's 16-bit hardware tag)",
				    keys[k].name, (unsigned long long)*v);
		if ((k == IMS_K_FLAGS || k == IMS_K_RESERVED || k == IMS_K_IOAS) && *v > 0xffffffffull)
			return lerr(l, s, "%s=0x%llx does not fit the call's 32-bit field",
				    keys[k].name, (unsigned long long)*v);
		return 0;
	case VT_SIZE:
		if ((rc = num_value(l, k, s, e, true, v)))
			return rc;
		if (k == IMS_K_GRANULE && *v != 4096 && *v != 16384 && *v != 65536)
			return lerr(l, s, "granule '%s' is not supported (expected 4K, 16K or 64K)",
				    quote(s, e).s);
		if (k == IMS_K_PGSIZE && !ims_is_pow2(*v))
			return lerr(l, s, "pgsize '%s' is not a power of two", quote(s, e).s);
		return 0;
	case VT_ONOFF:
		if (word_is(s, e, "on", 2))
			*v = 1;
		else if (word_is(s, e, "off", 3))
			*v = 0;
		else
			return lerr(l, s, "'%s' is not valid for %s= (expected on or off)",
				    quote(s, e).s, keys[k].name);
		return 0;
	case VT_FORMAT: {
		enum ims_format f;
		if (ims_format_parse(s, (size_t)(e - s), &f))
			return lerr(l, s, "unknown format '%s' (expected amdv1, vtd or smmuv3)",
				    quote(s, e).s);
		*v = (uint64_t)f;
		return 0;
	}
	case VT_ACCESS:
		if (access_parse(s, e, v))
			return lerr(l, s, "'%s' is not valid for %s= (expected r, w or rw)",
				    quote(s, e).s, keys[k].name);
		return 0;
	case VT_KIND: {
		enum ims_fault_kind fk;
		if (ims_fault_kind_parse(s, (size_t)(e - s), &fk))
			return lerr(l, s,
				    "unknown fault kind '%s' (expected notpresent, perm, access or "
				    "unattached)",
				    quote(s, e).s);
		*v = (uint64_t)fk;
		return 0;
	}
	case VT_PGSIZES:
		return pgsizes_value(l, s, e, v);
	case VT_DEV:
		if (memchr(s, ':', (size_t)(e - s)))
			return pci_value(l, s, e, v);
		rc = parse_u64(s, e, false, v);
		if (rc == NUM_BAD && s != e)
			return lerr(l, s,
				    "'%s' is not a device id (expected a number, BB:DD.F or "
				    "SSSS:BB:DD.F)",
				    quote(s, e).s);
		return rc == NUM_OK ? 0 : num_value(l, k, s, e, false, v);
	case VT_HEX:
		return hex_value(l, ev, s, e);
	case VT_ERRNO: {
		int err;
		if (!ims_errno_parse(s, (size_t)(e - s), &err)) {
			*v = (uint64_t)err;
			return 0;
		}
		if (s < e && (unsigned)(*s - '0') < 10u) {
			if ((rc = num_value(l, k, s, e, false, v)))
				return rc;
			if (*v == 0 || *v > 4095)
				return lerr(l, s, "errno %llu is out of range (expected 1..4095)",
					    (unsigned long long)*v);
			return 0;
		}
		return lerr(l, s,
			    "'%s' is not an errno (expected EINVAL, EOPNOTSUPP, EOVERFLOW, ENOENT, "
			    "EEXIST, EFAULT, ... or a number)",
			    quote(s, e).s);
	}
	}
	return 0;
}

/* ---- lines ----------------------------------------------------------- */

static inline const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static inline const char *tok_end(const char *p, const char *e)
{
	while (p < e && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* Keys by first letter, stored as key + 1 (0 ends a bucket). */
#define K1(k) (IMS_K_##k + 1)
static const unsigned char key_by_letter[26][12] = {
	['b' - 'a'] = {K1(BITMAP_SIZE)},
	['c' - 'a'] = {K1(CNT), K1(CONTAINER)},
	['d' - 'a'] = {K1(DOMAIN), K1(DEV), K1(DIR), K1(DIRTY), K1(DIRTY_CAP)},
	['e' - 'a'] = {K1(EXPECT), K1(EXPECT_COUNT), K1(EXPECT_ERR)},
	['f' - 'a'] = {K1(FORMAT), K1(FLAGS)},
	['g' - 'a'] = {K1(GRANULE), K1(GET_BITMAP), K1(GET_DIRTY_BITMAP)},
	['h' - 'a'] = {K1(HA), K1(HD), K1(HWPT)},
	['i' - 'a'] = {K1(IOVA), K1(ID), K1(IAS), K1(INJECT_AT), K1(INJECT_DEV), K1(INJECT_IOVA),
		       K1(IOAS)},
	['k' - 'a'] = {K1(KIND)},
	['l' - 'a'] = {K1(LEN), K1(LEVELS), K1(LENGTH)},
	['m' - 'a'] = {K1(MASK)},
	['n' - 'a'] = {K1(NOCLEAR)},
	['o' - 'a'] = {K1(ON), K1(OFF)},
	['p' - 'a'] = {K1(PA), K1(PROT), K1(PGSIZE), K1(PGSIZES), K1(PAGE_SIZE), K1(PIN_SCOPE)},
	['r' - 'a'] = {K1(ROOT), K1(RAW), K1(READ_DIRTY), K1(RESERVED)},
	['s' - 'a'] = {K1(SIZE), K1(START), K1(STOP)},
	['v' - 'a'] = {K1(VAL)},
};

static int key_lookup(const char *s, size_t n)
{
	if (!n)
		return -1;
	unsigned c = (unsigned char)s[0] - 'a';
	if (c >= 26)
		return -1;
	for (const unsigned char *b = key_by_letter[c]; *b; b++) {
		int k = *b - 1;
		if (keys[k].len == n && same(keys[k].name, s, n))
			return k;
	}
	return -1;
}

static const char op_list[] =
	"domain, attach, detach, map, unmap, track, harvest, flush, dma, mem, expect, iommufd or "
	"vfio";

/* "a, b or c" of the keys allowed for op. */
static void key_list(int op, char *buf, size_t len)
{
	uint64_t m = ops[op].req | ops[op].opt;
	size_t n = 0;
	buf[0] = '\0';
	for (int k = 0; k < IMS_K_COUNT; k++) {
		if (!((m >> k) & 1))
			continue;
		m &= ~(1ull << k);
		const char *sep = n == 0 ? "" : m ? ", " : " or ";
		int w = snprintf(buf + n, len - n, "%s%s", sep, keys[k].name);
		if (w < 0 || (size_t)w >= len - n)
			return;
		n += (size_t)w;
	}
}

static int parse_header(const struct line *l, const char *p)
{
	const char *e = l->e;
	p = skip_ws(p, e);
	const char *t = p;
	p = tok_end(p, e);
	if (t == p)
		return lerr(l, t, "iommusim-trace needs a version (expected 'iommusim-trace 1')");
	uint64_t v;
	if (parse_u64(t, p, false, &v) != NUM_OK || v != 1)
		return lerr(l, t, "unsupported trace version '%s' (expected 1)", quote(t, p).s);
	p = skip_ws(p, e);
	if (p != e)
		return lerr(l, p, "unexpected '%s' after the header (expected end of line)",
			    quote(p, tok_end(p, e)).s);
	return 0;
}

static int op_lookup(const struct line *l, const char **pp, const char *t, const char *te)
{
	for (int i = 0; i < IMS_OP_EXPECT_MEM; i++)
		if ((i < IMS_OP_IOMMUFD_BIND || i > IMS_OP_VFIO_UNPIN) &&
		    word_is(t, te, ops[i].word, ops[i].len))
			return i;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (!word_is(t, te, groups[g].word, groups[g].len))
			continue;
		const char *s = skip_ws(te, l->e);
		const char *se = tok_end(s, l->e);
		*pp = se;
		for (int i = groups[g].first; i <= groups[g].last; i++)
			if (word_is(s, se, ops[i].word, ops[i].len))
				return i;
		if (s == se)
			return lerr(l, s, "%s needs the call (expected %s)", groups[g].word,
				    groups[g].list);
		return lerr(l, s, "unknown call '%s %s' (expected %s)", groups[g].word,
			    quote(s, se).s, groups[g].list);
	}
	if (word_is(t, te, "expect", 6)) {
		const char *s = skip_ws(te, l->e);
		const char *se = tok_end(s, l->e);
		*pp = se;
		for (int i = IMS_OP_EXPECT_MEM; i < IMS_OP_COUNT; i++)
			if (word_is(s, se, ops[i].word, ops[i].len))
				return i;
		if (s == se)
			return lerr(l, s, "expect needs what to check (expected mem, pa, fault, "
					  "nofault, consistent or tables)");
		return lerr(l, s,
			    "unknown check 'expect %s' (expected mem, pa, fault, nofault, "
			    "consistent or tables)",
			    quote(s, se).s);
	}
	if (word_is(t, te, "iommusim-trace", 14))
		return lerr(l, t, "the 'iommusim-trace 1' header must be the first line, alone");
	return lerr(l, t, "unknown op '%s' (expected %s)", quote(t, te).s, op_list);
}

static const char *col_ptr(const struct line *l, const struct ims_event *ev, int k)
{
	return l->s + ev->col[k] - 1;
}

/* The later of two present keys, for the column of a conflict. */
static int later(const struct ims_event *ev, int a, int b)
{
	return ev->col[a] > ev->col[b] ? a : b;
}

/* Rules of the iommufd and vfio ops that involve more than one field
 * (docs/uapi.md). NULL when the event keeps them; else the message, and
 * in *key the key to point at (-1: the op). */
static const char *uapi_rule(const struct ims_event *ev, int *key)
{
	uint64_t has = ev->keys;
	*key = -1;
	switch (ev->op) {
	case IMS_OP_IOMMUFD_SET_DIRTY: {
		uint64_t m = has & (B(ON) | B(OFF) | B(FLAGS));
		if (!m)
			return "set-dirty-tracking needs on, off or flags=";
		if (m & (m - 1)) {
			int a = __builtin_ctzll(m), b = __builtin_ctzll(m & (m - 1));
			*key = later(ev, a, b);
			return "set-dirty-tracking takes one of on, off and flags=";
		}
		return NULL;
	}
	case IMS_OP_VFIO_UNMAP: {
		if ((has & B(FLAGS)) && (has & B(GET_DIRTY_BITMAP))) {
			*key = later(ev, IMS_K_FLAGS, IMS_K_GET_DIRTY_BITMAP);
			return "flags= gives the raw flags: it excludes get-dirty-bitmap";
		}
		uint64_t bm = has & (B(PAGE_SIZE) | B(BITMAP_SIZE) | B(EXPECT) | B(EXPECT_COUNT));
		if (bm && !(has & (B(GET_DIRTY_BITMAP) | B(FLAGS)))) {
			*key = __builtin_ctzll(bm);
			return "the bitmap's keys need get-dirty-bitmap (or flags=)";
		}
		break;
	}
	case IMS_OP_VFIO_DIRTY: {
		uint64_t words = has & (B(START) | B(STOP) | B(GET_BITMAP));
		if (!words && !(has & B(FLAGS)))
			return "dirty-pages needs start, stop, get-bitmap or flags=";
		if (words && (has & B(FLAGS))) {
			*key = later(ev, IMS_K_FLAGS, __builtin_ctzll(words));
			return "flags= gives the raw flags: it excludes start, stop and get-bitmap";
		}
		uint64_t bm = has & (B(IOVA) | B(LENGTH) | B(PAGE_SIZE) | B(BITMAP_SIZE) | B(EXPECT) |
				     B(EXPECT_COUNT));
		if (bm && !(has & (B(GET_BITMAP) | B(FLAGS)))) {
			*key = __builtin_ctzll(bm);
			return "iova=, length= and the bitmap's keys need get-bitmap (or flags=)";
		}
		if ((has & B(GET_BITMAP)) && (~has & (B(IOVA) | B(LENGTH))))
			return "get-bitmap needs iova= and length=";
		break;
	}
	default:
		break;
	}
	if ((has & B(EXPECT)) && (has & B(EXPECT_COUNT)) && ev->op != IMS_OP_HARVEST) {
		*key = later(ev, IMS_K_EXPECT, IMS_K_EXPECT_COUNT);
		return "expect= and expect-count= exclude each other (expected one)";
	}
	return NULL;
}

/* Rules that involve more than one field. */
static int check_event(const struct line *l, struct ims_event *ev)
{
	const char *opat = l->s + ev->op_col - 1;
	int op = (int)ev->op;
	uint64_t missing = ops[op].req & ~ev->keys;

	if (missing) {
		int k = __builtin_ctzll(missing);
		return lerr(l, opat, "%s needs %s=", ims_op_name(ev->op), keys[k].name);
	}
	uint64_t inj = ev->keys & INJECT;
	if (inj && inj != INJECT) {
		int k = __builtin_ctzll(INJECT & ~inj);
		return lerr(l, col_ptr(l, ev, __builtin_ctzll(inj)),
			    "an injection needs inject-at=, inject-dev= and inject-iova= together "
			    "(missing %s=)",
			    keys[k].name);
	}
	if (inj && ev->v[IMS_K_INJECT_AT] == 0)
		return lerr(l, col_ptr(l, ev, IMS_K_INJECT_AT),
			    "inject-at counts software accesses from 1 (expected at least 1)");
	switch (ev->op) {
	case IMS_OP_DOMAIN:
		if (ims_ev_has(ev, IMS_K_ROOT) && !ims_ev_has(ev, IMS_K_RAW))
			return lerr(l, col_ptr(l, ev, IMS_K_ROOT),
				    "root= needs the raw flag (a raw domain is 'root=PA raw')");
		if (ims_ev_has(ev, IMS_K_RAW) && !ims_ev_has(ev, IMS_K_ROOT))
			return lerr(l, col_ptr(l, ev, IMS_K_RAW),
				    "raw needs root= (a raw domain is 'root=PA raw')");
		for (int k = IMS_K_HA; k <= IMS_K_HD; k++)
			if (ims_ev_has(ev, k) && !ims_ev_has(ev, IMS_K_RAW))
				return lerr(l, col_ptr(l, ev, k),
					    "%s= is only for raw domains (expected root=PA raw)",
					    keys[k].name);
		break;
	case IMS_OP_UNMAP:
		if (ims_ev_has(ev, IMS_K_PGSIZE) && !ims_ev_has(ev, IMS_K_READ_DIRTY))
			return lerr(l, col_ptr(l, ev, IMS_K_PGSIZE),
				    "pgsize= on unmap is the bitmap page size of read-dirty "
				    "(expected read-dirty too)");
		break;
	case IMS_OP_TRACK:
		if (!ims_ev_has(ev, IMS_K_ON) && !ims_ev_has(ev, IMS_K_OFF))
			return lerr(l, opat, "track needs on or off");
		if (ims_ev_has(ev, IMS_K_ON) && ims_ev_has(ev, IMS_K_OFF)) {
			int k = ev->col[IMS_K_ON] > ev->col[IMS_K_OFF] ? IMS_K_ON : IMS_K_OFF;
			return lerr(l, col_ptr(l, ev, k), "track takes on or off, not both");
		}
		break;
	case IMS_OP_HARVEST:
		if (ims_ev_has(ev, IMS_K_EXPECT) && ims_ev_has(ev, IMS_K_EXPECT_COUNT)) {
			int k = ev->col[IMS_K_EXPECT] > ev->col[IMS_K_EXPECT_COUNT]
					? IMS_K_EXPECT
					: IMS_K_EXPECT_COUNT;
			return lerr(l, col_ptr(l, ev, k),
				    "expect= and expect-count= exclude each other (expected one)");
		}
		break;
	case IMS_OP_FLUSH:
		if (ims_ev_has(ev, IMS_K_IOVA) != ims_ev_has(ev, IMS_K_SIZE)) {
			int k = ims_ev_has(ev, IMS_K_IOVA) ? IMS_K_IOVA : IMS_K_SIZE;
			return lerr(l, col_ptr(l, ev, k),
				    "flush takes iova= and size= together (or neither, for the "
				    "whole domain)");
		}
		break;
	default:
		break;
	}
	int uk;
	const char *urule = uapi_rule(ev, &uk);
	if (urule)
		return lerr(l, uk >= 0 ? col_ptr(l, ev, uk) : opat, "%s", urule);

	int sk = ims_ev_has(ev, IMS_K_SIZE) ? IMS_K_SIZE : ims_ev_has(ev, IMS_K_LEN) ? IMS_K_LEN : -1;
	if (sk >= 0) {
		uint64_t n = ev->v[sk];
		if (n == 0)
			return lerr(l, col_ptr(l, ev, sk), "%s must be at least 1", keys[sk].name);
		/* [iova, iova+n) may end exactly at 2^64. */
		if (ims_ev_has(ev, IMS_K_IOVA) && ev->v[IMS_K_IOVA] > 0 - n)
			return lerr(l, col_ptr(l, ev, sk), "range iova+%s wraps past 2^64",
				    keys[sk].name);
	}
	return 0;
}

/* 1: event; 0: nothing on this line; <0: error. */
static int parse_line(struct ims_reader *r, const char *s, size_t n, struct ims_event *ev)
{
	if (n && s[n - 1] == '\r')
		n--;
	const char *hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	const char *e = s + n;
	struct line l = {r, s, e};
	const char *p = skip_ws(s, e);
	if (p == e)
		return 0;
	const char *t = p;
	p = tok_end(p, e);

	if (!r->seen_line) {
		r->seen_line = true;
		if (word_is(t, p, "iommusim-trace", 14))
			return parse_header(&l, p);
	}

	memset(ev, 0, sizeof(*ev));
	ev->line = r->lineno;
	if (*t == '@') {
		uint64_t ts;
		int rc = parse_u64(t + 1, p, false, &ts);
		if (rc == NUM_BIG)
			return lerr(&l, t, "timestamp does not fit in 64 bits ('%s')", quote(t, p).s);
		if (rc != NUM_OK)
			return lerr(&l, t,
				    "'%s' is not a timestamp (expected @ and nanoseconds, decimal or "
				    "0x hex)",
				    quote(t, p).s);
		if (r->have_ts && ts < r->last_ts)
			return lerr(&l, t,
				    "timestamp @%llu is before the previous one @%llu (expected "
				    "non-decreasing timestamps)",
				    (unsigned long long)ts, (unsigned long long)r->last_ts);
		r->have_ts = true;
		r->last_ts = ts;
		ev->has_ts = true;
		ev->ts = ts;
		t = skip_ws(p, e);
		p = tok_end(t, e);
		if (t == p)
			return lerr(&l, t, "expected an op after the timestamp");
	}

	ev->op_col = (uint32_t)(t - s) + 1;
	int op = op_lookup(&l, &p, t, p);
	if (op < 0)
		return op;
	ev->op = (enum ims_op)op;
	uint64_t allowed = ops[op].req | ops[op].opt;

	for (;;) {
		p = skip_ws(p, e);
		if (p == e)
			break;
		const char *f = p;
		const char *eq = NULL;
		for (; p < e && *p != ' ' && *p != '\t'; p++)
			if (*p == '=' && !eq)
				eq = p;
		const char *ke = eq ? eq : p;
		int k = key_lookup(f, (size_t)(ke - f));
		if (k < 0 || !((allowed >> k) & 1)) {
			char list[256];
			key_list(op, list, sizeof(list));
			if (!allowed)
				return lerr(&l, f, "unknown key '%s' for %s (it takes no keys)",
					    quote(f, ke).s, ims_op_name(ev->op));
			return lerr(&l, f, "unknown key '%s' for %s (expected %s)", quote(f, ke).s,
				    ims_op_name(ev->op), list);
		}
		if (ims_ev_has(ev, k))
			return lerr(&l, f, "duplicate key '%s' (first at column %u)", keys[k].name,
				    ev->col[k]);
		ev->keys |= 1ull << k;
		ev->col[k] = (uint32_t)(f - s) + 1;
		if (keys[k].type == VT_FLAG) {
			if (eq)
				return lerr(&l, f, "%s is a flag and takes no value (expected '%s')",
					    keys[k].name, keys[k].name);
			continue;
		}
		if (!eq)
			return lerr(&l, f, "%s needs a value (expected %s=...)", keys[k].name,
				    keys[k].name);
		int rc = value(&l, ev, k, eq + 1, p);
		if (rc)
			return rc;
	}
	int rc = check_event(&l, ev);
	return rc ? rc : 1;
}

/* ---- events from elsewhere (binary traces) ---------------------------- */

/* The checks the text path makes on an event that has no text: the op's
 * keys (ops[]), the value ranges of value() (keep the two in step), and
 * check_event() itself for the rules between fields. */
int ims_event_validate(const struct ims_event *ev, char *why, size_t n)
{
	int op = (int)ev->op;
	if (op < 0 || op >= IMS_OP_COUNT) {
		snprintf(why, n, "unknown op %d", op);
		return -EINVAL;
	}
	uint64_t bad = ev->keys & ~(ops[op].req | ops[op].opt);
	if (bad) {
		int k = __builtin_ctzll(bad);
		if (k < IMS_K_COUNT)
			snprintf(why, n, "%s does not take %s", ims_op_name(ev->op), keys[k].name);
		else
			snprintf(why, n, "unknown key %d", k);
		return -EINVAL;
	}
	for (uint64_t m = ev->keys; m; m &= m - 1) {
		int k = __builtin_ctzll(m);
		uint64_t v = ev->v[k];
		bool ok = true;
		switch (keys[k].type) {
		case VT_NUM:
			if (k == IMS_K_ID || k == IMS_K_DOMAIN || k == IMS_K_HWPT || k == IMS_K_CONTAINER)
				ok = v <= 0xffff;
			else if (k == IMS_K_FLAGS || k == IMS_K_RESERVED || k == IMS_K_IOAS)
				ok = v <= 0xffffffffull;
			break;
		case VT_SIZE:
			ok = !(k == IMS_K_GRANULE && v != 4096 && v != 16384 && v != 65536) &&
			     !(k == IMS_K_PGSIZE && !ims_is_pow2(v));
			break;
		case VT_ONOFF:
			ok = v <= 1;
			break;
		case VT_FORMAT:
			ok = v < IMS_FMT_COUNT;
			break;
		case VT_ACCESS:
			ok = v >= IMS_PROT_R && v <= IMS_PROT_RW;
			break;
		case VT_KIND:
			ok = v > IMS_FAULT_NONE && v < IMS_FAULT_KIND_COUNT;
			break;
		case VT_PGSIZES:
			ok = v != 0;
			break;
		case VT_ERRNO:
			ok = v >= 1 && v <= 4095;
			break;
		default:
			break;
		}
		if (!ok) {
			snprintf(why, n, "%s=0x%llx is out of range", keys[k].name,
				 (unsigned long long)v);
			return -EINVAL;
		}
	}
	/* check_event() reports through a reader: one that names nothing, on
	 * a line with no text (columns come out as 0). */
	static const char blank[2] = " ";
	struct ims_reader tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.name = (char *)"";
	tmp.msg = why;
	tmp.msgcap = n;
	struct line l = {&tmp, blank + 1, blank + 1};
	struct ims_event copy = *ev;
	if (check_event(&l, &copy)) {
		/* ": what" -> "what" */
		size_t len = strlen(why);
		if (len >= 2 && why[0] == ':' && why[1] == ' ')
			memmove(why, why + 2, len - 1);
		return -EINVAL;
	}
	return 0;
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
	int rc = ims_binreader_new(&r->bin);
	if (rc)
		return rc;
	r->bin_src.peek = bin_peek;
	r->bin_src.consume = bin_consume;
	r->bin_src.ctx = r;
	return 0;
}

static int bin_next(struct ims_reader *r, struct ims_event *ev)
{
	int rc = ims_binreader_next(r->bin, &r->bin_src, ev, r->name, r->msg, r->msgcap);
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
	 * ("IMSB") has its own decoder (traces/binary.c). Decode errors found
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
	r->lineno = first_line ? first_line - 1 : 0;
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
		r->lineno++;
		int rc = parse_line(r, ls, (size_t)(le - ls), ev);
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
	ims_binreader_free(r->bin);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->in);
	free(r->buf);
	free(r->msg);
	free(r->name);
	free(r);
}
