/* The trace reader's inputs: the shared invalid samples, plain files read
 * in blocks, gzip (concatenated members, truncated and corrupt streams),
 * long lines, open errors, the binary form's recognition and standard
 * input. The text rules themselves are test_reader.c. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "shared_dir.h"
#include "iommusim/trace.h"

/* ---- helpers --------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* A fresh temporary path (the file exists, empty). */
static void tmp_path(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/ims_test_reader_%s_XXXXXX", tag);
	int fd = mkstemp(buf);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void write_gz(const char *path, const char *mode, const char *text, size_t len)
{
	gzFile g = gzopen(path, mode);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(gzwrite(g, text, (unsigned)len), (int)len);
	ck_assert_int_eq(gzclose(g), Z_OK);
}

/* Lines "map domain=1 iova=<i*4K> pa=<i*4K> size=4K" with a comment of
 * varying length, so that lines straddle read blocks. */
static char *numbered_trace(unsigned n, size_t *len)
{
	size_t cap = (size_t)n * 160 + 64, o = 0;
	char *t = malloc(cap);
	ck_assert_ptr_nonnull(t);
	o += (size_t)sprintf(t + o, "iommusim-trace 1\n");
	for (unsigned i = 0; i < n; i++)
		o += (size_t)sprintf(t + o, "map domain=1 iova=0x%x pa=0x%x size=4K # %.*s\n",
				     i * 4096u, i * 4096u, (int)(i % 97), 
				     "................................................."
				     "................................................");
	*len = o;
	return t;
}

/* Reads a numbered_trace from `path` and checks every event. Returns the
 * reader's final status. */
static int check_numbered(const char *path, unsigned n, char *err, size_t errlen)
{
	struct ims_reader *r;
	struct ims_event ev;
	char oerr[512];
	int rc;
	ck_assert_msg(ims_reader_open(path, &r, oerr, sizeof(oerr)) == 0, "%s", oerr);
	unsigned i = 0;
	/* Assertions are costly in Check's fork mode: test, then assert. */
	while ((rc = ims_reader_next(r, &ev)) == 1) {
		if (ev.op != IMS_OP_MAP || ev.line != i + 2 || ev.v[IMS_K_IOVA] != (uint64_t)i * 4096 ||
		    ev.v[IMS_K_SIZE] != 4096)
			ck_abort_msg("%s: event %u (line %llu) is wrong", path, i,
				     (unsigned long long)ev.line);
		i++;
	}
	if (rc == 0)
		ck_assert_uint_eq(i, n);
	snprintf(err, errlen, "%s", ims_reader_error(r));
	ims_reader_close(r);
	return rc;
}

/* ---- shared invalid traces ------------------------------------------- */

START_TEST(invalid_samples)
{
	NEED_SHARED();
	static const struct {
		const char *file;
		int rc;
		int line, col; /* col 0: no column in the message */
		const char *what;
	} want[] = {
		{"unknown-op.trace", -EINVAL, 2, 1, "unknown op 'frobnicate' (expected domain, attach"},
		{"bad-number.trace", -EINVAL, 2, 19, "'0x10g000' is not a number"},
		{"overflow.trace", -EINVAL, 2, 41, "size does not fit in 64 bits"},
		{"missing-key.trace", -EINVAL, 2, 1, "map needs pa="},
		{"wrapping-range.trace", -EINVAL, 3, 42, "wraps past 2^64"},
		{"unknown-key.trace", -EINVAL, 2, 44, "unknown key 'colour' for map"},
		{"truncated.trace.gz", -EIO, 1, 0, "compressed stream ends early"},
	};
	char dir[4096];
	shared_path(dir, sizeof(dir), "traces/invalid");
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	unsigned seen = 0;
	for (struct dirent *de; (de = readdir(d));) {
		const char *f = de->d_name;
		if (f[0] == '.' || !strcmp(f, "README.md"))
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		struct ims_reader *r;
		struct ims_event ev;
		char oerr[512];
		int rc;
		ck_assert_msg(ims_reader_open(path, &r, oerr, sizeof(oerr)) == 0, "%s", oerr);
		while ((rc = ims_reader_next(r, &ev)) == 1)
			;
		if (!strcmp(f, "bad-geometry.trace")) {
			/* Levels per format are the replayer's check; the reader
			 * must hand it the value and where it was written. */
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(ev.line, 1);
			ck_assert_uint_eq(ev.v[IMS_K_LEVELS], 6);
			ck_assert_uint_eq(ev.col[IMS_K_LEVELS], 24);
			ims_reader_close(r);
			seen++;
			continue;
		}
		unsigned i;
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strcmp(want[i].file, f))
				break;
		ck_assert_msg(i < sizeof(want) / sizeof(want[0]), "no expectation for invalid/%s", f);
		const char *m = ims_reader_error(r);
		ck_assert_msg(rc == want[i].rc, "%s: rc %d (%s)", f, rc, m);
		char pfx[8300];
		if (want[i].col)
			snprintf(pfx, sizeof(pfx), "%s:%d:%d: ", path, want[i].line, want[i].col);
		else
			snprintf(pfx, sizeof(pfx), "%s:%d: ", path, want[i].line);
		ck_assert_msg(!strncmp(m, pfx, strlen(pfx)), "got '%s', want prefix '%s'", m, pfx);
		ck_assert_msg(strstr(m, want[i].what), "got '%s', want '%s'", m, want[i].what);
		/* The error sticks. */
		ck_assert_int_eq(ims_reader_next(r, &ev), rc);
		ck_assert_str_eq(ims_reader_error(r), m);
		ims_reader_close(r);
		seen++;
	}
	closedir(d);
	ck_assert_uint_ge(seen, 8);
}
END_TEST

/* ---- files, gzip, stdin ---------------------------------------------- */

START_TEST(plain_file_blocks)
{
	char path[64], err[512];
	size_t len;
	char *t = numbered_trace(40000, &len);
	ck_assert_uint_gt(len, 4 * 64 * 1024);
	tmp_path(path, sizeof(path), "plain");
	write_file(path, t, len);
	ck_assert_int_eq(check_numbered(path, 40000, err, sizeof(err)), 0);

	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(ims_reader_name(r), path);
	uint64_t last = 0;
	while (ims_reader_next(r, &ev) == 1) {
		ck_assert_uint_ge(ims_reader_bytes(r), last);
		last = ims_reader_bytes(r);
	}
	ck_assert_uint_eq(ims_reader_bytes(r), len);
	ims_reader_close(r);
	unlink(path);
	free(t);
}
END_TEST

START_TEST(gzip_input)
{
	char path[64], err[512];
	size_t len, glen;
	char *t = numbered_trace(40000, &len);
	tmp_path(path, sizeof(path), "gz");
	write_gz(path, "wb", t, len);
	ck_assert_int_eq(check_numbered(path, 40000, err, sizeof(err)), 0);

	/* Progress counts compressed bytes and ends at the file size. */
	char *g = slurp(path, &glen);
	ck_assert_uint_lt(glen, len);
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_lt(ims_reader_bytes(r), glen);
	uint64_t last = ims_reader_bytes(r);
	bool monotonic = true;
	while (ims_reader_next(r, &ev) == 1) {
		monotonic &= ims_reader_bytes(r) >= last && ims_reader_bytes(r) <= glen;
		last = ims_reader_bytes(r);
	}
	ck_assert(monotonic);
	ck_assert_uint_eq(ims_reader_bytes(r), glen);
	ims_reader_close(r);

	/* Concatenated members read as one stream (gzip(1) semantics). */
	const char *more = "expect nofault\n";
	write_gz(path, "ab", more, strlen(more));
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	unsigned n = 0;
	int rc;
	while ((rc = ims_reader_next(r, &ev)) == 1)
		n++;
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, 40001);
	ck_assert_uint_eq(ev.op, IMS_OP_EXPECT_NOFAULT);
	ck_assert_uint_eq(ev.line, 40002);
	ims_reader_close(r);

	free(g);
	unlink(path);
	free(t);
}
END_TEST

START_TEST(gzip_truncated_and_corrupt)
{
	char path[64], cut[64], err[512];
	size_t len, glen;
	char *t = numbered_trace(40000, &len);
	tmp_path(path, sizeof(path), "gzfull");
	tmp_path(cut, sizeof(cut), "gzcut");
	write_gz(path, "wb", t, len);
	char *g = slurp(path, &glen);

	/* Cut in the middle: the complete lines before come out, then -EIO
	 * naming the line being read and the input offset. */
	write_file(cut, g, glen / 2);
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open(cut, &r, err, sizeof(err)), 0);
	unsigned n = 0;
	int rc;
	uint64_t last_line = 0;
	while ((rc = ims_reader_next(r, &ev)) == 1) {
		n++;
		last_line = ev.line;
	}
	ck_assert_int_eq(rc, -EIO);
	ck_assert_uint_gt(n, 1000);
	ck_assert_uint_lt(n, 40000);
	char want[4400];
	snprintf(want, sizeof(want), "%s:%llu: compressed stream ends early (at byte %zu of the gzip input)",
		 cut, (unsigned long long)last_line + 1, glen / 2);
	ck_assert_str_eq(ims_reader_error(r), want);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EIO);
	ims_reader_close(r);

	/* Only the 8-byte trailer missing: all text decodes, the end does not. */
	write_file(cut, g, glen - 8);
	ck_assert_int_eq(check_numbered(cut, 40000, err, sizeof(err)), -EIO);
	ck_assert_ptr_nonnull(strstr(err, "compressed stream ends early"));

	/* A wrong CRC-32 in the trailer (RFC 1952, 2.3.1). */
	g[glen - 8] ^= 0x55;
	write_file(cut, g, glen);
	ck_assert_int_eq(check_numbered(cut, 40000, err, sizeof(err)), -EIO);
	ck_assert_ptr_nonnull(strstr(err, "corrupt compressed stream"));
	ck_assert_ptr_nonnull(strstr(err, cut));

	/* The gzip magic followed by nonsense. */
	write_file(cut, "\x1f\x8bnot deflate at all\n", 21);
	ck_assert_int_eq(ims_reader_open(cut, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EIO);
	ck_assert_ptr_nonnull(strstr(ims_reader_error(r), "corrupt compressed stream"));
	ims_reader_close(r);

	/* The shared sample, which holds less than one line. */
	char sample[4096];
	if (shared_dir()) {
		shared_path(sample, sizeof(sample), "traces/invalid/truncated.trace.gz");
		ck_assert_int_eq(ims_reader_open(sample, &r, err, sizeof(err)), 0);
		ck_assert_int_eq(ims_reader_next(r, &ev), -EIO);
		snprintf(want, sizeof(want), "%s:1: compressed stream ends early", sample);
		ck_assert_msg(!strncmp(ims_reader_error(r), want, strlen(want)), "%s",
			      ims_reader_error(r));
		ims_reader_close(r);
	}

	unlink(cut);
	unlink(path);
	free(g);
	free(t);
}
END_TEST

START_TEST(long_expect_line)
{
	enum { DIGITS = 100000 };
	size_t cap = DIGITS + 256, o = 0;
	char *t = malloc(cap);
	ck_assert_ptr_nonnull(t);
	o += (size_t)sprintf(t, "track domain=1 on\nharvest domain=1 iova=0 size=%lluK expect=0x",
			     (unsigned long long)DIGITS * 4 * 4);
	for (unsigned i = 0; i < DIGITS; i++)
		t[o++] = "0123456789abcdef"[(i * 7) & 15];
	o += (size_t)sprintf(t + o, " noclear\nexpect nofault\n");

	char path[64], err[512];
	for (int gz = 0; gz < 3; gz++) {
		struct ims_reader *r;
		struct ims_event ev;
		if (gz == 0) {
			ck_assert_int_eq(ims_reader_open_mem("m", t, o, 1, &r), 0);
		} else {
			tmp_path(path, sizeof(path), "long");
			if (gz == 1)
				write_file(path, t, o);
			else
				write_gz(path, "wb", t, o);
			ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
		}
		ck_assert_int_eq(ims_reader_next(r, &ev), 1);
		ck_assert_int_eq(ims_reader_next(r, &ev), 1);
		ck_assert_uint_eq(ev.op, IMS_OP_HARVEST);
		ck_assert_uint_eq(ev.line, 2);
		ck_assert(ims_ev_has(&ev, IMS_K_NOCLEAR));
		ck_assert_uint_eq(ev.expect_hex_len, DIGITS);
		ck_assert(!memcmp(ev.expect_hex, t + (o - DIGITS - strlen(" noclear\nexpect nofault\n")),
				  DIGITS));
		/* The canonical line keeps every digit. */
		size_t need = ims_event_format(&ev, NULL, 0);
		char *line = malloc(need + 1);
		ck_assert_uint_eq(ims_event_format(&ev, line, need + 1), need);
		ck_assert_uint_eq(strlen(line), need);
		ck_assert_ptr_nonnull(strstr(line, " expect=0x07e5c3a1"));
		free(line);
		ck_assert_int_eq(ims_reader_next(r, &ev), 1);
		ck_assert_uint_eq(ev.op, IMS_OP_EXPECT_NOFAULT);
		ck_assert_uint_eq(ev.line, 3);
		ck_assert_int_eq(ims_reader_next(r, &ev), 0);
		ims_reader_close(r);
		if (gz)
			unlink(path);
	}
	free(t);
}
END_TEST

START_TEST(open_errors)
{
	struct ims_reader *r = (struct ims_reader *)&r;
	char err[512];
	ck_assert_int_eq(ims_reader_open("/nonexistent/x.trace", &r, err, sizeof(err)), -EIO);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err, "/nonexistent/x.trace: No such file or directory");

	ck_assert_int_eq(ims_reader_open("/tmp", &r, err, sizeof(err)), -EIO);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err, "/tmp: Is a directory");

	/* The binary form is recognised, plain or compressed, and handed to its
	 * decoder (tests/unit/test_binary.c): here a header cut short. */
	char path[64];
	tmp_path(path, sizeof(path), "bin");
	char want[256];
	snprintf(want, sizeof(want),
		 "%s: byte 8: the input ends inside the header (truncated: 8 of 12 bytes present)",
		 path);
	struct ims_event bev;
	write_file(path, "IMSB\x01\x00\x00\x00", 8);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_reader_next(r, &bev), -EINVAL);
	ck_assert_str_eq(ims_reader_error(r), want);
	ims_reader_close(r);
	/* Compressed, the offset is said to be the decompressed stream's. */
	snprintf(want, sizeof(want),
		 "%s: byte 8 of the decompressed stream: the input ends inside the header "
		 "(truncated: 8 of 12 bytes present)",
		 path);
	write_gz(path, "wb", "IMSB\x01\x00\x00\x00", 8);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_reader_next(r, &bev), -EINVAL);
	ck_assert_str_eq(ims_reader_error(r), want);
	ims_reader_close(r);
	/* "IMSB" as text further on is only an unknown op. */
	write_file(path, "\nIMSB\n", 6);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_next(r, &ev), -EINVAL);
	ims_reader_close(r);

	/* Tiny inputs are text. */
	write_file(path, "\x1f", 1);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EINVAL);
	ims_reader_close(r);
	write_file(path, "", 0);
	ck_assert_int_eq(ims_reader_open(path, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ck_assert_uint_eq(ims_reader_bytes(r), 0);
	ims_reader_close(r);
	unlink(path);
}
END_TEST

START_TEST(stdin_input)
{
	char path[64], err[512];
	const char *t = "iommusim-trace 1\nexpect nofault\nflush domain=3\n";
	tmp_path(path, sizeof(path), "stdin");
	write_gz(path, "wb", t, strlen(t));
	int saved = dup(STDIN_FILENO);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDIN_FILENO), 0);
	close(fd);

	struct ims_reader *r;
	struct ims_event ev;
	int rc = ims_reader_open("-", &r, err, sizeof(err));
	int rc1 = rc ? rc : ims_reader_next(r, &ev);
	int rc2 = rc ? rc : ims_reader_next(r, &ev);
	uint64_t dom = ev.v[IMS_K_DOMAIN];
	int rc3 = rc ? rc : ims_reader_next(r, &ev);
	char name[64] = "";
	if (!rc) {
		snprintf(name, sizeof(name), "%s", ims_reader_name(r));
		ims_reader_close(r);
	}
	/* Closing the reader leaves standard input open. */
	ck_assert_int_ne(fcntl(STDIN_FILENO, F_GETFD), -1);
	dup2(saved, STDIN_FILENO);
	close(saved);
	unlink(path);

	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(rc1, 1);
	ck_assert_int_eq(rc2, 1);
	ck_assert_uint_eq(dom, 3);
	ck_assert_int_eq(rc3, 0);
	ck_assert_str_eq(name, "<stdin>");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reader_input");
	TCase *tc = tcase_create("input");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, invalid_samples);
	tcase_add_test(tc, plain_file_blocks);
	tcase_add_test(tc, gzip_input);
	tcase_add_test(tc, gzip_truncated_and_corrupt);
	tcase_add_test(tc, long_expect_line);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, stdin_input);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
