/* The trace writer, ims_event_format, and the op and key names: the
 * canonical form, snprintf-like truncation, and the round trip through
 * the reader of every op and key and of every trace in the shared folder
 * and tests/traces. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shared_dir.h"
#include "iommusim/trace.h"

/* ---- helpers --------------------------------------------------------- */

/* The single event of `text`; fails unless there is exactly one. */
static struct ims_event one(const char *text)
{
	struct ims_reader *r;
	struct ims_event ev, ev2;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &r), 0);
	int rc = ims_reader_next(r, &ev);
	ck_assert_msg(rc == 1, "'%s': rc %d: %s", text, rc, ims_reader_error(r));
	rc = ims_reader_next(r, &ev2);
	ck_assert_msg(rc == 0, "'%s': second read gave %d: %s", text, rc, ims_reader_error(r));
	ims_reader_close(r);
	return ev;
}

/* ---- writer ---------------------------------------------------------- */

/* NULL if a and b are the same event, else what differs. */
static const char *event_diff(const struct ims_event *a, const struct ims_event *b)
{
	if (a->op != b->op)
		return "op";
	if (a->keys != b->keys)
		return "set of keys";
	if (a->has_ts != b->has_ts || (a->has_ts && a->ts != b->ts))
		return "timestamp";
	for (unsigned k = 0; k < IMS_K_COUNT; k++)
		if (ims_ev_has(a, (enum ims_key)k) && k != IMS_K_EXPECT && a->v[k] != b->v[k])
			return ims_key_name((enum ims_key)k);
	if (ims_ev_has(a, IMS_K_EXPECT) &&
	    (a->expect_hex_len != b->expect_hex_len ||
	     memcmp(a->expect_hex, b->expect_hex, a->expect_hex_len)))
		return "expect";
	return NULL;
}

/* Formats ev and reads it back. */
static void round_trip(const struct ims_event *ev, char **buf, size_t *cap, const char *ctx)
{
	size_t need = ims_event_format(ev, *buf, *cap);
	if (need >= *cap) {
		*cap = need + 1;
		*buf = realloc(*buf, *cap);
		ck_assert_ptr_nonnull(*buf);
		ck_assert_uint_eq(ims_event_format(ev, *buf, *cap), need);
	}
	if (strlen(*buf) != need)
		ck_abort_msg("%s: format returned %zu for '%s'", ctx, need, *buf);
	struct ims_reader *r;
	struct ims_event back;
	if (ims_reader_open_mem("rt", *buf, need, 1, &r))
		ck_abort_msg("open_mem failed");
	int rc = ims_reader_next(r, &back);
	if (rc != 1)
		ck_abort_msg("%s: '%s' reads back as %d: %s", ctx, *buf, rc, ims_reader_error(r));
	const char *d = event_diff(ev, &back);
	if (d)
		ck_abort_msg("%s: '%s' reads back with a different %s", ctx, *buf, d);
	ims_reader_close(r);
}

static unsigned round_trip_file(const char *path, char **buf, size_t *cap)
{
	struct ims_reader *r;
	struct ims_event ev;
	char err[512], ctx[4200];
	int rc;
	unsigned n = 0;
	ck_assert_msg(ims_reader_open(path, &r, err, sizeof(err)) == 0, "%s", err);
	while ((rc = ims_reader_next(r, &ev)) == 1) {
		snprintf(ctx, sizeof(ctx), "%s:%llu", path, (unsigned long long)ev.line);
		round_trip(&ev, buf, cap, ctx);
		n++;
	}
	ck_assert_msg(rc == 0, "%s", ims_reader_error(r));
	ims_reader_close(r);
	return n;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* Round trip of every trace under dir (recursively when deep). */
static unsigned round_trip_dir(const char *dir, bool deep, char **buf, size_t *cap)
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
				n += round_trip_dir(path, deep, buf, cap);
		} else if (has_suffix(path, ".trace") || has_suffix(path, ".trace.gz")) {
			n += round_trip_file(path, buf, cap);
		}
	}
	closedir(d);
	return n;
}

START_TEST(format_round_trip_traces)
{
	NEED_SHARED();
	char dir[4096];
	char *buf = NULL;
	size_t cap = 0;
	shared_path(dir, sizeof(dir), "traces");
	unsigned n = round_trip_dir(dir, false, &buf, &cap);
	ck_assert_uint_ge(n, 60);
	shared_path(dir, sizeof(dir), "traces/real");
	unsigned real = round_trip_dir(dir, false, &buf, &cap);
	ck_assert_uint_ge(real, 170000);
	const char *src = getenv("IMS_SRC");
	snprintf(dir, sizeof(dir), "%s/tests/traces", src && *src ? src : ".");
	round_trip_dir(dir, true, &buf, &cap);
	free(buf);
}
END_TEST

START_TEST(format_round_trip_all_keys)
{
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
		/* docs/uapi.md */
		"iommufd bind dev=00:03.0 format=amdv1 dirty-cap=off",
		"iommufd hw-info dev=3 dirty-cap=on expect-err=ENOENT",
		"iommufd ioas-alloc ioas=4294967295 expect-err=EEXIST",
		"iommufd map ioas=1 iova=0x100000 pa=0x40000000 length=64K prot=r expect-err=EEXIST",
		"iommufd unmap ioas=1 iova=0 length=0 expect-err=EINVAL",
		"iommufd hwpt-alloc hwpt=65535 dev=3 ioas=1 dirty=on flags=0xffffffff levels=4 "
		"granule=4K ias=48 pgsizes=4K,2M expect-err=EOPNOTSUPP",
		"iommufd attach dev=3 hwpt=2 expect-err=EINVAL",
		"iommufd set-dirty-tracking hwpt=2 on",
		"iommufd set-dirty-tracking hwpt=2 off",
		"iommufd set-dirty-tracking hwpt=2 flags=3 expect-err=EOPNOTSUPP",
		"iommufd get-dirty-bitmap hwpt=2 iova=0 length=0 page-size=0 noclear flags=2 "
		"reserved=1 bitmap-size=8 expect-err=EOVERFLOW",
		"iommufd get-dirty-bitmap hwpt=2 iova=0x1000 length=8K page-size=4K expect=0x3",
		"iommufd get-dirty-bitmap hwpt=2 iova=0x1000 length=8K page-size=4K expect-count=2 "
		"expect-err=4095",
		/* nesting (docs/trace-format.md "Nested domains", docs/uapi.md "Nesting") */
		"domain id=2 format=vtd-fs nested=1 levels=4",
		"iommufd hwpt-alloc hwpt=3 dev=3 ioas=1 nest-parent dirty=on",
		"iommufd hwpt-alloc hwpt=4 dev=3 nested=3 data-type=1 data-len=24 data0=0 "
		"data1=0x80000000 data2=0x30 data3=0 reserved=0 expect-err=EIO",
		"iommufd invalidate hwpt=4 data-type=0 entry-len=24 entry-num=2 data0=0x10000 "
		"data1=1 data2=1 data3=0 reserved=1 expect-err=EOPNOTSUPP",
		/* vIOMMU objects (docs/uapi.md "Nesting") */
		"iommufd viommu-alloc viommu=4294967295 dev=3 hwpt=2 type=1 flags=0 "
		"expect-err=EOPNOTSUPP",
		"iommufd vdevice-alloc viommu=1 dev=3 virt-id=0xffffffffffffffff expect-err=EEXIST",
		"iommufd hwpt-alloc hwpt=5 dev=3 viommu=1 data-len=16",
		"iommufd invalidate viommu=1 data-type=1 data0=0x12",
		"vfio container id=5 format=vtd levels=4 granule=4K ias=48 pgsizes=4K",
		"vfio group id=1 container=5 dev=00:04.0 pin-scope",
		"vfio map container=5 iova=0 pa=0 length=0 prot=rw expect-err=EINVAL",
		"vfio unmap container=5 iova=0 length=4K get-dirty-bitmap page-size=4K bitmap-size=8 "
		"expect=0x1 expect-err=EFAULT",
		"vfio unmap container=5 iova=0 length=4K flags=1 expect-count=1",
		"vfio dirty-pages container=5 start stop get-bitmap iova=0 length=4K page-size=4K "
		"bitmap-size=8 expect=0 expect-err=EINVAL",
		"vfio dirty-pages container=5 flags=0x10 expect-count=0",
		"vfio pin container=5 iova=0 length=4K expect-err=EINVAL",
		"vfio unpin container=5 iova=0 length=4K",
	};
	uint64_t keys = 0, ops = 0;
	char *buf = NULL;
	size_t cap = 0;
	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ims_event ev = one(lines[i]);
		keys |= ev.keys;
		ops |= 1ull << ev.op;
		round_trip(&ev, &buf, &cap, lines[i]);
	}
	/* The list above exercises every op and every key. */
	ck_assert_uint_eq(keys, (1ull << IMS_K_COUNT) - 1);
	ck_assert_uint_eq(ops, (1ull << IMS_OP_COUNT) - 1);
	free(buf);
}
END_TEST

START_TEST(format_canonical)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{"map domain=1 iova=0x100000 pa=0x40000000 size=64K prot=rw",
		 "map domain=1 iova=0x100000 pa=0x40000000 size=0x10000 prot=rw"},
		{"map size=64K pa=1073741824 iova=1048576 domain=0x1",
		 "map domain=1 iova=0x100000 pa=0x40000000 size=0x10000"},
		{"@5\ttrack on domain=1", "@5 track domain=1 on"},
		{"domain id=1 format=amdv1 levels=4 pgsizes=1G,4K,2M dirty=on",
		 "domain id=1 format=amdv1 levels=4 pgsizes=0x1000,0x200000,0x40000000 dirty=on"},
		{"domain id=4 format=smmuv3 granule=4K ias=48 root=0x42eb3000 raw hd=off ha=on",
		 "domain id=4 format=smmuv3 granule=0x1000 ias=48 root=0x42eb3000 raw ha=on hd=off"},
		{"harvest domain=1 iova=0x100000 size=64K noclear expect=19",
		 "harvest domain=1 iova=0x100000 size=0x10000 noclear expect=0x19"},
		{"harvest domain=3 iova=0x40000000 size=4M expect-count=512",
		 "harvest domain=3 iova=0x40000000 size=0x400000 expect-count=512"},
		{"expect   fault dev=00:03.0 iova=0x1000 kind=perm",
		 "expect fault dev=0x18 iova=0x1000 kind=perm"},
		{"dma dev=0x10 iova=0x800c000 len=4K dir=w",
		 "dma dev=0x10 iova=0x800c000 len=0x1000 dir=w"},
		{"expect nofault", "expect nofault"},
	};
	char buf[256];
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ims_event ev = one(c[i].in);
		size_t n = ims_event_format(&ev, buf, sizeof(buf));
		ck_assert_str_eq(buf, c[i].out);
		ck_assert_uint_eq(n, strlen(c[i].out));
	}
}
END_TEST

START_TEST(format_truncates_like_snprintf)
{
	struct ims_event ev = one("map domain=1 iova=0x100000 pa=0x40000000 size=64K prot=rw");
	const char *full = "map domain=1 iova=0x100000 pa=0x40000000 size=0x10000 prot=rw";
	char buf[16];
	memset(buf, 'X', sizeof(buf));
	ck_assert_uint_eq(ims_event_format(&ev, buf, 10), strlen(full));
	ck_assert_str_eq(buf, "map domai");
	ck_assert_int_eq(buf[10], 'X');
	ck_assert_uint_eq(ims_event_format(&ev, NULL, 0), strlen(full));
	memset(buf, 'X', sizeof(buf));
	ck_assert_uint_eq(ims_event_format(&ev, buf, 1), strlen(full));
	ck_assert_int_eq(buf[0], '\0');
	ck_assert_int_eq(buf[1], 'X');
	char exact[64];
	ck_assert_uint_eq(ims_event_format(&ev, exact, strlen(full) + 1), strlen(full));
	ck_assert_str_eq(exact, full);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(ims_op_name(IMS_OP_DOMAIN), "domain");
	ck_assert_str_eq(ims_op_name(IMS_OP_EXPECT_NOFAULT), "expect nofault");
	ck_assert_str_eq(ims_op_name(IMS_OP_COUNT), "?");
	ck_assert_str_eq(ims_key_name(IMS_K_EXPECT_COUNT), "expect-count");
	ck_assert_str_eq(ims_key_name(IMS_K_KIND), "kind");
	ck_assert_str_eq(ims_key_name(IMS_K_COUNT), "?");
	for (unsigned k = 0; k < IMS_K_COUNT; k++)
		ck_assert_ptr_nonnull(ims_key_name((enum ims_key)k));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reader_writer");
	TCase *tc = tcase_create("writer");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, names);
	tcase_add_test(tc, format_canonical);
	tcase_add_test(tc, format_truncates_like_snprintf);
	tcase_add_test(tc, format_round_trip_all_keys);
	tcase_add_test(tc, format_round_trip_traces);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
