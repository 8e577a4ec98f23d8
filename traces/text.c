/* The text trace form's line parser, version 1
 * (../shared/spec/trace-format.md): a line is parsed in place, its values
 * checked as they are read (traces/syntax.h gives each key's type and each
 * op's keys) and the rules between its fields by traces/validate.c.
 * Format-specific checks (levels per format, alignment to page sizes)
 * belong to the replayer, which reports them at the columns recorded in
 * ev->col[].
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/format.h"
#include "traces/syntax.h"
#include "traces/text.h"
#include "traces/validate.h"

#define QUOTE_MAX 48

/* The iommufd and vfio ops are named by two words, like the expect ops:
 * the first names the interface, `word` the call. */
static const struct {
	const char *word;
	unsigned char len;
	int first, last; /* ops [first, last] */
	const char *list;
} groups[] = {
	{"iommufd", 7, IMS_OP_IOMMUFD_BIND, IMS_OP_IOMMUFD_VDEVICE,
	 "bind, hw-info, ioas-alloc, map, unmap, hwpt-alloc, attach, set-dirty-tracking, "
	 "get-dirty-bitmap, invalidate, viommu-alloc or vdevice-alloc"},
	{"vfio", 4, IMS_OP_VFIO_CONTAINER, IMS_OP_VFIO_UNPIN,
	 "container, group, map, unmap, dirty-pages, pin or unpin"},
};

/* ---- errors ---------------------------------------------------------- */

/* Line context for messages: the line's first byte gives columns. */
struct line {
	struct ims_text *t;
	const char *s;
	const char *e;
};

/* An input error at `at` (NULL: the line as a whole): "FILE:LINE: " or
 * "FILE:LINE:COL: " and the message. */
__attribute__((format(printf, 3, 4)))
static int lerr(const struct line *l, const char *at, const char *fmt, ...)
{
	struct ims_text *t = l->t;
	int n;
	if (!at)
		n = snprintf(t->msg, t->msgcap, "%s:%llu: ", t->name, (unsigned long long)t->lineno);
	else
		n = snprintf(t->msg, t->msgcap, "%s:%llu:%llu: ", t->name,
			     (unsigned long long)t->lineno, (unsigned long long)(at - l->s) + 1);
	if (n >= 0 && (size_t)n < t->msgcap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(t->msg + n, t->msgcap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
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
		return lerr(l, s, "%s= needs a value (expected %s)", trc_keydefs[k].name,
			    suffix ? "a size" : "a number");
	if (rc == NUM_BIG)
		return lerr(l, s, "%s does not fit in 64 bits ('%s')", trc_keydefs[k].name, quote(s, e).s);
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

	switch (trc_keydefs[k].type) {
	case IMS_VT_NUM:
		if ((rc = num_value(l, k, s, e, false, v)))
			return rc;
		if ((k == IMS_K_ID || k == IMS_K_DOMAIN) && *v > 0xffff)
			return lerr(l, s,
				    "%s %llu is out of range (expected 0..65535: the domain id is "
				    "the 16-bit hardware tag)",
				    trc_keydefs[k].name, (unsigned long long)*v);
		if ((k == IMS_K_HWPT || k == IMS_K_CONTAINER) && *v > 0xffff)
			return lerr(l, s,
				    "%s %llu is out of range (expected 0..65535: it is also the "
				    "domain's 16-bit hardware tag)",
				    trc_keydefs[k].name, (unsigned long long)*v);
		if ((k == IMS_K_FLAGS || k == IMS_K_RESERVED || k == IMS_K_IOAS) && *v > 0xffffffffull)
			return lerr(l, s, "%s=0x%llx does not fit the call's 32-bit field",
				    trc_keydefs[k].name, (unsigned long long)*v);
		return 0;
	case IMS_VT_SIZE:
		if ((rc = num_value(l, k, s, e, true, v)))
			return rc;
		if (k == IMS_K_GRANULE && *v != 4096 && *v != 16384 && *v != 65536)
			return lerr(l, s, "granule '%s' is not supported (expected 4K, 16K or 64K)",
				    quote(s, e).s);
		if (k == IMS_K_PGSIZE && !ims_is_pow2(*v))
			return lerr(l, s, "pgsize '%s' is not a power of two", quote(s, e).s);
		return 0;
	case IMS_VT_ONOFF:
		if (word_is(s, e, "on", 2))
			*v = 1;
		else if (word_is(s, e, "off", 3))
			*v = 0;
		else
			return lerr(l, s, "'%s' is not valid for %s= (expected on or off)",
				    quote(s, e).s, trc_keydefs[k].name);
		return 0;
	case IMS_VT_FORMAT: {
		enum ims_format f;
		char names[128];
		if (ims_format_parse(s, (size_t)(e - s), &f))
			return lerr(l, s, "unknown format '%s' (expected one of %s)", quote(s, e).s,
				    fmt_name_list(names, sizeof(names)));
		*v = (uint64_t)f;
		return 0;
	}
	case IMS_VT_ACCESS:
		if (access_parse(s, e, v))
			return lerr(l, s, "'%s' is not valid for %s= (expected r, w or rw)",
				    quote(s, e).s, trc_keydefs[k].name);
		return 0;
	case IMS_VT_KIND: {
		enum ims_fault_kind fk;
		if (ims_fault_kind_parse(s, (size_t)(e - s), &fk))
			return lerr(l, s,
				    "unknown fault kind '%s' (expected notpresent, perm, access or "
				    "unattached)",
				    quote(s, e).s);
		*v = (uint64_t)fk;
		return 0;
	}
	case IMS_VT_PGSIZES:
		return pgsizes_value(l, s, e, v);
	case IMS_VT_DEV:
		if (memchr(s, ':', (size_t)(e - s)))
			return pci_value(l, s, e, v);
		rc = parse_u64(s, e, false, v);
		if (rc == NUM_BAD && s != e)
			return lerr(l, s,
				    "'%s' is not a device id (expected a number, BB:DD.F or "
				    "SSSS:BB:DD.F)",
				    quote(s, e).s);
		if (rc != NUM_OK)
			return num_value(l, k, s, e, false, v);
		if (*v > IMS_DEV_MAX)
			return lerr(l, s,
				    "%s=0x%llx is out of range (expected 0..0xffffffff: a requester "
				    "id with its segment, SSSS:BB:DD.F, or a 32-bit stream id)",
				    trc_keydefs[k].name, (unsigned long long)*v);
		return 0;
	case IMS_VT_HEX:
		return hex_value(l, ev, s, e);
	case IMS_VT_ERRNO: {
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
	['d' - 'a'] = {K1(DOMAIN), K1(DEV), K1(DIR), K1(DIRTY), K1(DIRTY_CAP), K1(DATA_TYPE),
		       K1(DATA_LEN), K1(DATA0), K1(DATA1), K1(DATA2), K1(DATA3)},
	['e' - 'a'] = {K1(EXPECT), K1(EXPECT_COUNT), K1(EXPECT_ERR), K1(ENTRY_LEN), K1(ENTRY_NUM)},
	['f' - 'a'] = {K1(FORMAT), K1(FLAGS)},
	['g' - 'a'] = {K1(GRANULE), K1(GET_BITMAP), K1(GET_DIRTY_BITMAP)},
	['h' - 'a'] = {K1(HA), K1(HD), K1(HWPT)},
	['i' - 'a'] = {K1(IOVA), K1(ID), K1(IAS), K1(INJECT_AT), K1(INJECT_DEV), K1(INJECT_IOVA),
		       K1(IOAS)},
	['k' - 'a'] = {K1(KIND)},
	['l' - 'a'] = {K1(LEN), K1(LEVELS), K1(LENGTH)},
	['m' - 'a'] = {K1(MASK)},
	['n' - 'a'] = {K1(NOCLEAR), K1(NESTED), K1(NEST_PARENT)},
	['o' - 'a'] = {K1(ON), K1(OFF)},
	['p' - 'a'] = {K1(PA), K1(PROT), K1(PGSIZE), K1(PGSIZES), K1(PAGE_SIZE), K1(PIN_SCOPE)},
	['r' - 'a'] = {K1(ROOT), K1(RAW), K1(READ_DIRTY), K1(RESERVED)},
	['s' - 'a'] = {K1(SIZE), K1(START), K1(STOP)},
	['t' - 'a'] = {K1(TYPE)},
	['v' - 'a'] = {K1(VAL), K1(VIOMMU), K1(VIRT_ID)},
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
		if (trc_keydefs[k].len == n && same(trc_keydefs[k].name, s, n))
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
	uint64_t m = trc_opdefs[op].req | trc_opdefs[op].opt;
	size_t n = 0;
	buf[0] = '\0';
	for (int k = 0; k < IMS_K_COUNT; k++) {
		if (!((m >> k) & 1))
			continue;
		m &= ~(1ull << k);
		const char *sep = n == 0 ? "" : m ? ", " : " or ";
		int w = snprintf(buf + n, len - n, "%s%s", sep, trc_keydefs[k].name);
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
		    word_is(t, te, trc_opdefs[i].word, trc_opdefs[i].len))
			return i;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (!word_is(t, te, groups[g].word, groups[g].len))
			continue;
		const char *s = skip_ws(te, l->e);
		const char *se = tok_end(s, l->e);
		*pp = se;
		for (int i = groups[g].first; i <= groups[g].last; i++)
			if (word_is(s, se, trc_opdefs[i].word, trc_opdefs[i].len))
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
			if (word_is(s, se, trc_opdefs[i].word, trc_opdefs[i].len))
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

/* A comment alone on its line that reads `# phase: NAME` marks the start
 * of a workload phase (docs/trace-format.md); a trailing comment after an
 * event, or an empty NAME, is a comment like any other. */
static void phase_comment(struct ims_text *tx, const char *s, const char *hash, const char *e)
{
	static const char word[] = "phase:";
	if (skip_ws(s, hash) != hash)
		return;
	const char *p = skip_ws(hash + 1, e);
	if ((size_t)(e - p) < sizeof(word) - 1 || memcmp(p, word, sizeof(word) - 1))
		return;
	p = skip_ws(p + sizeof(word) - 1, e);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > p)
		tx->on_phase(tx->phase_arg, p, (size_t)(e - p), tx->lineno);
}

/* 1: event; 0: nothing on this line; <0: error. */
int trc_text_line(struct ims_text *tx, const char *s, size_t n, struct ims_event *ev)
{
	if (n && s[n - 1] == '\r')
		n--;
	const char *hash = memchr(s, '#', n);
	if (hash) {
		if (tx->on_phase)
			phase_comment(tx, s, hash, s + n);
		n = (size_t)(hash - s);
	}
	const char *e = s + n;
	struct line l = {tx, s, e};
	const char *p = skip_ws(s, e);
	if (p == e)
		return 0;
	const char *t = p;
	p = tok_end(p, e);

	if (!tx->seen_line) {
		tx->seen_line = true;
		if (word_is(t, p, "iommusim-trace", 14))
			return parse_header(&l, p);
	}

	memset(ev, 0, sizeof(*ev));
	ev->line = tx->lineno;
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
		if (tx->have_ts && ts < tx->last_ts)
			return lerr(&l, t,
				    "timestamp @%llu is before the previous one @%llu (expected "
				    "non-decreasing timestamps)",
				    (unsigned long long)ts, (unsigned long long)tx->last_ts);
		tx->have_ts = true;
		tx->last_ts = ts;
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
	uint64_t allowed = trc_opdefs[op].req | trc_opdefs[op].opt;

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
			return lerr(&l, f, "duplicate key '%s' (first at column %u)", trc_keydefs[k].name,
				    ev->col[k]);
		ev->keys |= 1ull << k;
		ev->col[k] = (uint32_t)(f - s) + 1;
		if (trc_keydefs[k].type == IMS_VT_FLAG) {
			if (eq)
				return lerr(&l, f, "%s is a flag and takes no value (expected '%s')",
					    trc_keydefs[k].name, trc_keydefs[k].name);
			continue;
		}
		if (!eq)
			return lerr(&l, f, "%s needs a value (expected %s=...)", trc_keydefs[k].name,
				    trc_keydefs[k].name);
		int rc = value(&l, ev, k, eq + 1, p);
		if (rc)
			return rc;
	}
	char why[256];
	int at;
	if (trc_event_rules(ev, &at, why, sizeof(why)))
		return lerr(&l, l.s + (at >= 0 ? ev->col[at] : ev->op_col) - 1, "%s", why);
	return 1;
}
