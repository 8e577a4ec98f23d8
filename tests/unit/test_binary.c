/* The binary trace form (docs/trace-binary.md): lossless round trips on
 * every trace in the repository and the shared folder, truncation and
 * corruption reported with byte offsets, the reader's transparent use of
 * it, and its size against gzip -9 of the text. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "test_stride.h"
#include "shared_dir.h"
#include "iommusim/tracebin.h"

/* ---- helpers ------------------------------------------------------------- */

static void src_path(char *buf, size_t n, const char *rel)
{
	const char *d = getenv("IMS_SRC");
	snprintf(buf, n, "%s/%s", d && *d ? d : ".", rel);
}

/* Canonical lines of a trace, one string with '\n' after each. */
struct lines {
	char *s;
	size_t n, cap;
	unsigned count;
};

static void lines_add(struct lines *l, const struct ims_event *ev)
{
	size_t need = ims_event_format(ev, NULL, 0);
	if (l->n + need + 2 > l->cap) {
		l->cap = (l->n + need + 2) * 2;
		l->s = realloc(l->s, l->cap);
		ck_assert_ptr_nonnull(l->s);
	}
	ims_event_format(ev, l->s + l->n, need + 1);
	l->n += need;
	l->s[l->n++] = '\n';
	l->s[l->n] = '\0';
	l->count++;
}

/* Every event of an open reader. */
static int read_all(struct ims_reader *r, struct lines *l)
{
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(r, &ev)) == 1)
		lines_add(l, &ev);
	return rc;
}

/* The binary form of a text trace file, in memory. */
static char *to_binary(const char *path, unsigned block, struct lines *text, size_t *len)
{
	struct ims_reader *r;
	char err[512];
	ck_assert_msg(ims_reader_open(path, &r, err, sizeof(err)) == 0, "%s", err);
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	ck_assert_ptr_nonnull(f);
	struct ims_binwriter_opts o = {block, 0};
	struct ims_binwriter *w;
	ck_assert_int_eq(ims_binwriter_open(f, &o, &w), 0);
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(r, &ev)) == 1) {
		if (text)
			lines_add(text, &ev);
		ck_assert_int_eq(ims_binwriter_add(w, &ev), 0);
	}
	ck_assert_msg(rc == 0, "%s", ims_reader_error(r));
	ims_reader_close(r);
	ck_assert_int_eq(ims_binwriter_close(w, NULL), 0);
	ck_assert_int_eq(fclose(f), 0);
	*len = blen;
	return buf;
}

static void binary_lines(const char *name, const char *bin, size_t len, struct lines *l)
{
	struct ims_reader *r;
	ck_assert_int_eq(ims_reader_open_mem(name, bin, len, 1, &r), 0);
	ck_assert(ims_reader_is_binary(r));
	int rc = read_all(r, l);
	ck_assert_msg(rc == 0, "%s: %s", name, ims_reader_error(r));
	ims_reader_close(r);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* The first line where two canonical texts differ. */
static void same_lines(const char *ctx, const struct lines *a, const struct lines *b)
{
	if (a->n == b->n && (!a->n || !memcmp(a->s, b->s, a->n)))
		return;
	const char *p = a->s ? a->s : "", *q = b->s ? b->s : "";
	unsigned line = 1;
	while (*p && *p == *q) {
		if (*p == '\n')
			line++;
		p++;
		q++;
	}
	ck_abort_msg("%s: event %u differs after the round trip", ctx, line);
}

static unsigned round_trip_file(const char *path, unsigned block)
{
	struct lines text = {0}, back = {0};
	size_t len;
	char *bin = to_binary(path, block, &text, &len);
	binary_lines(path, bin, len, &back);
	same_lines(path, &text, &back);
	unsigned n = text.count;
	free(bin);
	free(text.s);
	free(back.s);
	return n;
}

static unsigned round_trip_dir(const char *dir, bool deep, unsigned block, unsigned *files)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));) {
		char path[4096];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (deep)
				n += round_trip_dir(path, deep, block, files);
		} else if (has_suffix(path, ".trace") || has_suffix(path, ".trace.gz")) {
			n += round_trip_file(path, block);
			(*files)++;
		}
	}
	closedir(d);
	return n;
}

static struct ims_event one(const char *text)
{
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &r), 0);
	int rc = ims_reader_next(r, &ev);
	ck_assert_msg(rc == 1, "'%s': %s", text, ims_reader_error(r));
	ims_reader_close(r);
	return ev;
}

/* A binary trace of `text` (events), in memory. */
static char *bin_of_text(const char *text, unsigned block, size_t *len)
{
	struct ims_reader *r;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &r), 0);
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct ims_binwriter_opts o = {block, 0};
	struct ims_binwriter *w;
	ck_assert_int_eq(ims_binwriter_open(f, &o, &w), 0);
	struct ims_event ev;
	int rc;
	while ((rc = ims_reader_next(r, &ev)) == 1)
		ck_assert_int_eq(ims_binwriter_add(w, &ev), 0);
	ck_assert_msg(rc == 0, "%s", ims_reader_error(r));
	ims_reader_close(r);
	ck_assert_int_eq(ims_binwriter_close(w, NULL), 0);
	fclose(f);
	*len = blen;
	return buf;
}

/* Reads a binary trace to its end: 0, or the error and its message. */
static int read_bin(const char *bin, size_t len, char *msg, size_t cap, unsigned *events)
{
	struct ims_reader *r;
	ck_assert_int_eq(ims_reader_open_mem("t.imsb", bin, len, 1, &r), 0);
	struct ims_event ev;
	int rc;
	unsigned n = 0;
	while ((rc = ims_reader_next(r, &ev)) == 1)
		n++;
	snprintf(msg, cap, "%s", ims_reader_error(r));
	ims_reader_close(r);
	if (events)
		*events = n;
	return rc;
}

static const char sample[] =
	"iommusim-trace 1\n"
	"domain id=1 format=amdv1 levels=4 dirty=on\n"
	"attach dev=00:03.0 domain=1\n"
	"@100 map domain=1 iova=0x100000 pa=0x40000000 size=64K\n"
	"@100 track domain=1 on\n"
	"@250 dma dev=00:03.0 iova=0x103800 len=4K dir=w\n"
	"@250 dma dev=00:03.0 iova=0x104800 len=4K dir=w\n"
	"@300 dma dev=00:03.0 iova=0x100000 len=8 dir=r\n"
	"@301 harvest domain=1 iova=0x100000 size=64K expect=0x0018\n"
	"unmap domain=1 iova=0x100000 size=64K\n"
	"expect nofault\n";

/* ---- tests --------------------------------------------------------------- */

START_TEST(all_keys_and_ops)
{
	/* Every op and key, odd values, expect= digits as written. */
	static const char *const lines[] = {
		"@7 domain id=65535 format=smmuv3 levels=3 granule=64K ias=52 pgsizes=64K,512M,4T "
		"dirty=off root=0x1000 raw ha=on hd=off",
		"domain id=0 format=vtd dirty=on",
		"domain id=3 format=amdv1 pgsizes=0x8000000000000000,1",
		"attach dev=0001:02:03.4 domain=9",
		"detach dev=0xffffffff",
		"map domain=1 iova=0 pa=0xffffff0000000000 size=1T prot=r pgsize=1G",
		"map domain=1 iova=0 pa=0 size=4K prot=w",
		"map domain=1 iova=0 pa=0 size=4K prot=rw",
		"unmap domain=2 iova=0x1000 size=4K",
		"track domain=1 off",
		"track domain=1 on",
		"harvest domain=1 iova=0 size=4K pgsize=4K noclear expect=0X00ABCdef",
		"harvest domain=1 iova=0 size=4K expect=0",
		"harvest domain=1 iova=0 size=4K expect-count=18446744073709551615",
		"flush domain=1",
		"flush domain=1 iova=0x1000 size=2M",
		"dma dev=1 iova=0xfffffffffffff000 len=4K dir=rw",
		"dma dev=1 iova=0 len=1 dir=r",
		"dma dev=1 iova=0 len=1 dir=w",
		"mem pa=8 val=0xffffffffffffffff",
		"expect mem pa=0x10 val=1 mask=0xff",
		"expect pa dev=1 iova=2 pa=3",
		"expect fault dev=1 iova=2 kind=access",
		"expect fault dev=1 iova=2 kind=notpresent",
		"expect fault dev=1 iova=2 kind=perm",
		"expect fault dev=1 iova=2 kind=unattached",
		"@18446744073709551615 expect nofault",
		"expect consistent domain=4",
		"expect tables domain=4 count=1",
		"unmap domain=2 iova=0x1000 size=4K read-dirty pgsize=4K inject-at=3 inject-dev=0x10 "
		"inject-iova=0x1000",
	};
	size_t n = sizeof(lines) / sizeof(lines[0]);
	uint64_t keys = 0, ops = 0;
	/* One event per block and all in one block: both paths. */
	for (unsigned block = 1; block <= 64; block *= 64) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct ims_binwriter_opts o = {block, 0};
		struct ims_binwriter *w;
		ck_assert_int_eq(ims_binwriter_open(f, &o, &w), 0);
		struct lines want = {0}, got = {0};
		for (size_t i = 0; i < n; i++) {
			struct ims_event ev = one(lines[i]);
			keys |= ev.keys;
			ops |= 1ull << ev.op;
			lines_add(&want, &ev);
			ck_assert_int_eq(ims_binwriter_add(w, &ev), 0);
		}
		struct ims_binwriter_stats st;
		ck_assert_int_eq(ims_binwriter_close(w, &st), 0);
		fclose(f);
		ck_assert_uint_eq(st.events, n);
		ck_assert_uint_eq(st.blocks, block == 1 ? n : 1);
		ck_assert_uint_eq(st.bytes, len);
		binary_lines("all.imsb", buf, len, &got);
		same_lines("all keys", &want, &got);
		ck_assert_str_eq(want.s, got.s);
		free(buf);
		free(want.s);
		free(got.s);
	}
	/* The lines cover every key and op up to the extensions of
	 * docs/trace-format.md; later ones are covered by the traces of
	 * round_trip_repository. */
	for (int k = 0; k <= IMS_K_READ_DIRTY; k++)
		ck_assert_msg(keys >> k & 1, "key %s not covered", ims_key_name((enum ims_key)k));
	static const enum ims_op core[] = {
		IMS_OP_DOMAIN, IMS_OP_ATTACH, IMS_OP_DETACH, IMS_OP_MAP, IMS_OP_UNMAP, IMS_OP_TRACK,
		IMS_OP_HARVEST, IMS_OP_FLUSH, IMS_OP_DMA, IMS_OP_MEM, IMS_OP_EXPECT_MEM,
		IMS_OP_EXPECT_PA, IMS_OP_EXPECT_FAULT, IMS_OP_EXPECT_NOFAULT,
		IMS_OP_EXPECT_CONSISTENT, IMS_OP_EXPECT_TABLES};
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		ck_assert_msg(ops >> core[i] & 1, "op %s not covered", ims_op_name(core[i]));
}
END_TEST

START_TEST(line_is_event_number)
{
	size_t len;
	char *bin = bin_of_text(sample, 3, &len);
	struct ims_reader *r;
	ck_assert_int_eq(ims_reader_open_mem("s.imsb", bin, len, 1, &r), 0);
	struct ims_event ev;
	uint64_t n = 0;
	while (ims_reader_next(r, &ev) == 1) {
		n++;
		ck_assert_uint_eq(ev.line, n);
	}
	ck_assert_uint_eq(n, 10);
	ims_reader_close(r);
	free(bin);
}
END_TEST

START_TEST(empty_trace)
{
	size_t len;
	char *bin = bin_of_text("# nothing\n", 0, &len);
	char msg[512];
	unsigned n = 7;
	ck_assert_int_eq(read_bin(bin, len, msg, sizeof(msg), &n), 0);
	ck_assert_uint_eq(n, 0);
	/* Header (12) + trailer ('E', 0, 0, CRC, "IMSE"). */
	ck_assert_uint_eq(len, 12 + 11);
	free(bin);
}
END_TEST

START_TEST(writer_rejects)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ims_binwriter *w;
	ck_assert_int_eq(ims_binwriter_open(f, NULL, &w), 0);
	struct ims_event ev = one("@10 dma dev=1 iova=0 len=1 dir=r");
	ck_assert_int_eq(ims_binwriter_add(w, &ev), 0);
	struct ims_event back = one("@9 dma dev=1 iova=0 len=1 dir=r");
	ck_assert_int_eq(ims_binwriter_add(w, &back), -EINVAL);
	struct ims_event bad = ev;
	bad.op = IMS_OP_COUNT;
	ck_assert_int_eq(ims_binwriter_add(w, &bad), -EINVAL);
	bad = ev;
	bad.keys |= 1ull << IMS_K_COUNT;
	ck_assert_int_eq(ims_binwriter_add(w, &bad), -EINVAL);
	/* Still usable. */
	ck_assert_int_eq(ims_binwriter_add(w, &ev), 0);
	ck_assert_int_eq(ims_binwriter_close(w, NULL), 0);
	fclose(f);
	char msg[512];
	unsigned n;
	ck_assert_int_eq(read_bin(buf, len, msg, sizeof(msg), &n), 0);
	ck_assert_uint_eq(n, 2);
	free(buf);
	struct ims_binwriter_opts o = {0, 10};
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(ims_binwriter_open(f, &o, &w), -EINVAL);
	fclose(f);
	free(buf);
}
END_TEST

/* Every cut of the file is reported as truncation, at a byte offset no
 * further than the cut, and no event is returned twice or invented. */
START_TEST(truncation_everywhere)
{
	size_t len;
	char *bin = bin_of_text(sample, 4, &len);
	char msg[512];
	unsigned n;
	ck_assert_int_eq(read_bin(bin, len, msg, sizeof(msg), &n), 0);
	ck_assert_uint_eq(n, 10);
	for (size_t cut = 4; cut < len; cut++) {
		if (!test_sample(0, cut))
			continue;
		int rc = read_bin(bin, cut, msg, sizeof(msg), &n);
		ck_assert_msg(rc == -EINVAL, "cut at %zu: rc %d", cut, rc);
		ck_assert_msg(!strncmp(msg, "t.imsb: byte ", 13), "cut at %zu: '%s'", cut, msg);
		unsigned long at = strtoul(msg + 13, NULL, 10);
		ck_assert_msg(at <= cut, "cut at %zu reported at byte %lu: %s", cut, at, msg);
		ck_assert_msg(strstr(msg, "truncated") || strstr(msg, "without the trailer"),
			      "cut at %zu: '%s'", cut, msg);
		ck_assert_uint_le(n, 10);
	}
	free(bin);
}
END_TEST

/* Any one byte changed anywhere is an error (the CRCs and the header see
 * it), never a different trace. */
START_TEST(corruption_everywhere)
{
	size_t len;
	char *bin = bin_of_text(sample, 4, &len);
	char *bad = malloc(len);
	char msg[512];
	for (size_t i = 0; i < len; i++) {
		for (unsigned x = 1; x < 256; x <<= 1) {
			memcpy(bad, bin, len);
			bad[i] = (char)(bad[i] ^ (char)x);
			if (i < 4)
				continue; /* no longer a binary trace: the text reader's */
			if (i == 4 && bad[i] == 0)
				continue; /* version 0 is reported as such too; below */
			if (!test_sample(i, (size_t)__builtin_ctz(x)))
				continue;
			int rc = read_bin(bad, len, msg, sizeof(msg), NULL);
			ck_assert_msg(rc == -EINVAL, "byte %zu ^ 0x%x: rc %d", i, x, rc);
			ck_assert_msg(!strncmp(msg, "t.imsb: byte ", 13), "byte %zu: '%s'", i, msg);
		}
	}
	free(bad);
	free(bin);
}
END_TEST

/* Builds a file by hand around one block payload, with correct CRCs, to
 * reach the decoder's checks behind them. */
static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static size_t craft(unsigned char *out, const unsigned char *payload, size_t plen, unsigned nev,
		    unsigned version)
{
	size_t n = 0;
	memcpy(out, "IMSB", 4);
	out[4] = (unsigned char)version;
	out[5] = out[6] = out[7] = 0;
	put32(out + 8, (uint32_t)crc32(0, out, 8));
	n = 12;
	unsigned char comp[4096];
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)payload;
	zs.avail_in = (uInt)plen;
	zs.next_out = comp;
	zs.avail_out = sizeof(comp);
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t clen = sizeof(comp) - zs.avail_out;
	deflateEnd(&zs);
	size_t b = n;
	out[n++] = 'B';
	n += put_varint(out + n, nev);
	n += put_varint(out + n, plen);
	n += put_varint(out + n, clen);
	memcpy(out + n, comp, clen);
	n += clen;
	put32(out + n, (uint32_t)crc32(0, out + b, (uInt)(n - b)));
	n += 4;
	size_t t = n;
	out[n++] = 'E';
	n += put_varint(out + n, nev);
	n += put_varint(out + n, 1);
	put32(out + n, (uint32_t)crc32(0, out + t, (uInt)(n - t)));
	n += 4;
	memcpy(out + n, "IMSE", 4);
	return n + 4;
}

static void crafted(const unsigned char *payload, size_t plen, unsigned nev, unsigned version,
		    int want, const char *what)
{
	unsigned char file[8192];
	size_t n = craft(file, payload, plen, nev, version);
	char msg[512];
	int rc = read_bin((const char *)file, n, msg, sizeof(msg), NULL);
	ck_assert_msg(rc == want, "%s: rc %d (%s)", what, rc, msg);
	if (want)
		ck_assert_msg(strstr(msg, what), "want '%s' in '%s'", what, msg);
}

/* A one-event block: dictionary (ops, keys), stream table, streams. The
 * event is a dma; `mut` may change any part before it is assembled. */
struct blk {
	const char *op;
	const char *keys[8];
	unsigned nkeys;
	uint64_t head, keymask;
	uint64_t vals[8]; /* per dictionary key */
	uint64_t sel;     /* iova's predictor */
	int extra_head;   /* bytes appended to the head stream */
	bool iova_unterminated;
};

static size_t build(const struct blk *k, unsigned char *p)
{
	size_t n = 0;
	n += put_varint(p + n, 1);
	n += put_varint(p + n, strlen(k->op));
	memcpy(p + n, k->op, strlen(k->op));
	n += strlen(k->op);
	n += put_varint(p + n, k->nkeys);
	for (unsigned i = 0; i < k->nkeys; i++) {
		n += put_varint(p + n, strlen(k->keys[i]));
		memcpy(p + n, k->keys[i], strlen(k->keys[i]));
		n += strlen(k->keys[i]);
	}
	unsigned char st[8][16];
	size_t sl[8];
	unsigned id[8], ns = 0;
	id[ns] = 0;
	sl[ns] = put_varint(st[ns], k->head);
	for (int i = 0; i < k->extra_head; i++)
		st[ns][sl[ns]++] = 0;
	ns++;
	id[ns] = 2;
	sl[ns] = put_varint(st[ns], k->keymask);
	ns++;
	int iova = -1;
	for (unsigned i = 0; i < k->nkeys; i++) {
		id[ns] = 16 + i;
		if (!strcmp(k->keys[i], "iova")) {
			iova = (int)i;
			if (k->iova_unterminated) {
				st[ns][0] = 0x80;
				sl[ns] = 1;
				ns++;
				continue;
			}
		}
		sl[ns] = put_varint(st[ns], k->vals[i]);
		ns++;
	}
	if (iova >= 0) {
		id[ns] = 80 + (unsigned)iova;
		sl[ns] = put_varint(st[ns], k->sel);
		ns++;
	}
	n += put_varint(p + n, ns);
	for (unsigned i = 0; i < ns; i++) {
		n += put_varint(p + n, id[i]);
		n += put_varint(p + n, sl[i]);
	}
	for (unsigned i = 0; i < ns; i++) {
		memcpy(p + n, st[i], sl[i]);
		n += sl[i];
	}
	return n;
}

static void crafted_blk(const struct blk *k, unsigned nev, unsigned version, int want,
			const char *what)
{
	unsigned char p[1024];
	size_t n = build(k, p);
	crafted(p, n, nev, version, want, what);
}

START_TEST(crafted_blocks)
{
	/* dma dev=1 iova=0 len=1 dir=w: values are zigzag deltas from 0. */
	const struct blk ok = {"dma", {"dev", "iova", "len", "dir"}, 4, 0 << 2, 0xf, {2, 0, 2, 4},
			       0, 0, false};
	struct blk k = ok;
	crafted_blk(&k, 1, 1, 0, "");
	/* The dictionary decides, not this build's numbering: keys in another
	 * order give the same event. */
	k = ok;
	k.keys[0] = "dir";
	k.keys[3] = "dev";
	k.vals[0] = 4;
	k.vals[3] = 2;
	crafted_blk(&k, 1, 1, 0, "");

	crafted_blk(&ok, 1, 2, -EINVAL, "version 2 is not supported");
	k = ok;
	k.op = "teleport";
	crafted_blk(&k, 1, 1, -EINVAL, "unknown op 'teleport' (written by a newer iommusim?)");
	k = ok;
	k.keys[2] = "colour";
	crafted_blk(&k, 1, 1, -EINVAL, "unknown key 'colour' (written by a newer iommusim?)");
	k = ok;
	k.keys[2] = "dev";
	crafted_blk(&k, 1, 1, -EINVAL, "repeated key 'dev'");
	k = ok;
	k.head = 1 << 2;
	crafted_blk(&k, 1, 1, -EINVAL, "op 1 is not in the block's dictionary");
	k = ok;
	k.keymask = 0x1f;
	crafted_blk(&k, 1, 1, -EINVAL, "key 4 is not in the block's dictionary");
	k = ok;
	k.iova_unterminated = true;
	crafted_blk(&k, 1, 1, -EINVAL, "bad value of iova=");
	k = ok;
	k.sel = 9;
	crafted_blk(&k, 1, 1, -EINVAL, "bad predictor of iova=");
	crafted_blk(&ok, 2, 1, -EINVAL, "missing or bad op");
	k = ok;
	k.nkeys = 3;
	k.keymask = 0x7;
	crafted_blk(&k, 1, 1, -EINVAL, "dma needs dir=");
	k = ok;
	k.vals[3] = 8;
	crafted_blk(&k, 1, 1, -EINVAL, "dir=0x4 is out of range");
	/* A device is 32 bits, in the binary form as in text (zigzag 2v). */
	k = ok;
	k.vals[0] = 0x200000000ull;
	crafted_blk(&k, 1, 1, -EINVAL, "dev=0x100000000 is out of range");
	k = ok;
	k.vals[0] = 0x1fffffffeull;
	crafted_blk(&k, 1, 1, 0, "");
	k = ok;
	k.op = "track";
	k.keys[0] = "domain";
	k.keys[1] = "on";
	k.keys[2] = "off";
	k.nkeys = 3;
	k.keymask = 0x7;
	crafted_blk(&k, 1, 1, -EINVAL, "track takes on or off, not both");
	k = ok;
	k.extra_head = 1;
	crafted_blk(&k, 1, 1, -EINVAL, "no event uses");
	k = ok;
	k.vals[2] = 0; /* len=0 */
	crafted_blk(&k, 1, 1, -EINVAL, "len must be at least 1");
}
END_TEST

START_TEST(error_offsets)
{
	size_t len;
	char *bin = bin_of_text(sample, 0, &len);
	char msg[512];
	/* Cut inside the trailer: the trailer starts 11 bytes before the end. */
	ck_assert_int_eq(read_bin(bin, len - 3, msg, sizeof(msg), NULL), -EINVAL);
	ck_assert_msg(strstr(msg, "inside the trailer"), "%s", msg);
	/* Just the header: the block should be at byte 12. */
	ck_assert_int_eq(read_bin(bin, 12, msg, sizeof(msg), NULL), -EINVAL);
	ck_assert_str_eq(msg, "t.imsb: byte 12: the input ends after 0 blocks without the trailer "
			      "(truncated)");
	ck_assert_int_eq(read_bin(bin, 9, msg, sizeof(msg), NULL), -EINVAL);
	ck_assert_str_eq(msg, "t.imsb: byte 9: the input ends inside the header (truncated: 9 of "
			      "12 bytes present)");
	/* A bad tag where the block starts. */
	char *b2 = malloc(len + 1);
	memcpy(b2, bin, len);
	b2[12] = 'X';
	ck_assert_int_eq(read_bin(b2, len, msg, sizeof(msg), NULL), -EINVAL);
	ck_assert_msg(!strncmp(msg, "t.imsb: byte 12: expected a block", 33), "%s", msg);
	/* Data after the trailer. */
	memcpy(b2, bin, len);
	b2[len] = 0;
	ck_assert_int_eq(read_bin(b2, len + 1, msg, sizeof(msg), NULL), -EINVAL);
	char want[64];
	snprintf(want, sizeof(want), "t.imsb: byte %zu: data after the trailer", len);
	ck_assert_msg(!strncmp(msg, want, strlen(want)), "%s", msg);
	/* CRC of the block. */
	memcpy(b2, bin, len);
	b2[len - 12 - 1] ^= 1; /* last CRC byte of the only block */
	ck_assert_int_eq(read_bin(b2, len, msg, sizeof(msg), NULL), -EINVAL);
	ck_assert_msg(!strncmp(msg, "t.imsb: byte 12: block 1: CRC mismatch", 38), "%s", msg);
	free(b2);
	free(bin);
}
END_TEST

START_TEST(file_and_gzip)
{
	size_t len;
	char *bin = bin_of_text(sample, 2, &len);
	char path[] = "/tmp/ims_test_binary_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bin, len), (ssize_t)len);
	close(fd);
	struct ims_reader *r;
	char err[512];
	struct lines a = {0}, b = {0};
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert(ims_reader_is_binary(r));
	ck_assert_int_eq(read_all(r, &a), 0);
	ck_assert_uint_eq(ims_reader_bytes(r), len);
	ims_reader_close(r);
	ck_assert_uint_eq(a.count, 10);
	/* The same inside gzip: the decoded input starts with the magic. */
	gzFile g = gzopen(path, "wb9");
	ck_assert_int_eq(gzwrite(g, bin, (unsigned)len), (int)len);
	gzclose(g);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert(ims_reader_is_binary(r));
	ck_assert_int_eq(read_all(r, &b), 0);
	ims_reader_close(r);
	ck_assert_str_eq(a.s, b.s);
	/* A truncated file names itself and the byte. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, bin, len - 20), (ssize_t)(len - 20));
	close(fd);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	struct lines c = {0};
	ck_assert_int_eq(read_all(r, &c), -EINVAL);
	char want[4200];
	snprintf(want, sizeof(want), "%s: byte ", path);
	ck_assert_msg(!strncmp(ims_reader_error(r), want, strlen(want)), "%s", ims_reader_error(r));
	ims_reader_close(r);
	unlink(path);
	free(a.s);
	free(b.s);
	free(c.s);
	free(bin);
}
END_TEST

START_TEST(round_trip_repository)
{
	char dir[4096];
	unsigned files = 0, n = 0;
	src_path(dir, sizeof(dir), "tests/traces");
	n += round_trip_dir(dir, true, 0, &files);
	src_path(dir, sizeof(dir), "tests/traces-fail");
	n += round_trip_dir(dir, true, 7, &files);
	src_path(dir, sizeof(dir), "tests/import");
	n += round_trip_dir(dir, true, 0, &files);
	src_path(dir, sizeof(dir), "examples");
	n += round_trip_dir(dir, false, 3, &files);
	shared_path(dir, sizeof(dir), "traces");
	n += round_trip_dir(dir, false, 1, &files);
	ck_assert_uint_ge(files, 40);
	ck_assert_uint_ge(n, 500);
}
END_TEST

START_TEST(round_trip_real)
{
	NEED_SHARED();
	char dir[4096];
	unsigned files = 0;
	shared_path(dir, sizeof(dir), "traces/real");
	unsigned n = round_trip_dir(dir, false, 0, &files);
	ck_assert_uint_ge(files, 2);
	ck_assert_uint_ge(n, 170000);
	/* Small blocks too: the predictor restarts at each. */
	files = 0;
	n = round_trip_dir(dir, false, 1000, &files);
	ck_assert_uint_ge(n, 170000);
}
END_TEST

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Size against gzip -9 of the canonical text (the target: 4x
 * smaller for DMA-heavy traces), and decode speed against the text path. */
START_TEST(size_and_speed_real)
{
	NEED_SHARED();
	static const char *const names[] = {"qemu72-smmuv3-nvme-strict.raw.trace.gz",
					    "qemu72-vtd-nvme-strict.raw.trace.gz"};
	for (unsigned i = 0; i < 2; i++) {
		char path[4096];
		char rel[256];
		snprintf(rel, sizeof(rel), "traces/real/%s", names[i]);
		shared_path(path, sizeof(path), rel);
		struct lines text = {0};
		size_t blen;
		char *bin = to_binary(path, 0, &text, &blen);
		uLongf glen = compressBound((uLong)text.n) + 64;
		unsigned char *gz = malloc(glen);
		/* gzip -9 of the text: deflate level 9 plus an 18-byte wrapper. */
		z_stream zs;
		memset(&zs, 0, sizeof(zs));
		ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = (Bytef *)text.s;
		zs.avail_in = (uInt)text.n;
		zs.next_out = gz;
		zs.avail_out = (uInt)glen;
		ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
		size_t gzlen = glen - zs.avail_out;
		deflateEnd(&zs);

		double t0 = now();
		struct ims_reader *r;
		ck_assert_int_eq(ims_reader_open_mem("t", text.s, text.n, 1, &r), 0);
		struct ims_event ev;
		unsigned nt = 0;
		while (ims_reader_next(r, &ev) == 1)
			nt++;
		ims_reader_close(r);
		double t1 = now();
		ck_assert_int_eq(ims_reader_open_mem("b", bin, blen, 1, &r), 0);
		unsigned nb = 0;
		while (ims_reader_next(r, &ev) == 1)
			nb++;
		ims_reader_close(r);
		double t2 = now();
		ck_assert_uint_eq(nt, nb);
		double ratio = (double)gzlen / (double)blen;
		printf("%s: %u events; text %zu B, gzip -9 %zu B, binary %zu B (%.2f B/event): "
		       "%.2fx smaller than gzip; decode text %.0f ev/s, binary %.0f ev/s\n",
		       names[i], nt, text.n, gzlen, blen, (double)blen / nt, ratio, nt / (t1 - t0),
		       nb / (t2 - t1));
		ck_assert_msg(ratio >= 4.0, "%s: binary is only %.2fx smaller than gzip -9", names[i],
			      ratio);
		free(gz);
		free(bin);
		free(text.s);
	}
}
END_TEST

static Suite *binary_suite(void)
{
	Suite *s = suite_create("binary");
	TCase *tc = tcase_create("format");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, all_keys_and_ops);
	tcase_add_test(tc, line_is_event_number);
	tcase_add_test(tc, empty_trace);
	tcase_add_test(tc, writer_rejects);
	tcase_add_test(tc, truncation_everywhere);
	tcase_add_test(tc, corruption_everywhere);
	tcase_add_test(tc, crafted_blocks);
	tcase_add_test(tc, error_offsets);
	tcase_add_test(tc, file_and_gzip);
	suite_add_tcase(s, tc);
	tc = tcase_create("traces");
	tcase_set_timeout(tc, 1200);
	tcase_add_test(tc, round_trip_repository);
	tcase_add_test(tc, round_trip_real);
	tcase_add_test(tc, size_and_speed_real);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(binary_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
