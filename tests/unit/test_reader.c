/* The text trace reader against ../shared/spec/trace-format.md: the
 * lexical rules, numbers, sizes and device ids, every op and key and the
 * error each rule gives, and the in-memory reader. Files, gzip, standard
 * input and the binary form are test_reader_input.c; the writer is
 * test_reader_writer.c. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Number of events before the end of `text`; fails on an error. */
static int count_events(const char *text)
{
	struct ims_reader *r;
	struct ims_event ev;
	int n = 0, rc;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &r), 0);
	while ((rc = ims_reader_next(r, &ev)) == 1)
		n++;
	ck_assert_msg(rc == 0, "'%s': rc %d: %s", text, rc, ims_reader_error(r));
	ims_reader_close(r);
	return n;
}

/* `text` must fail with "t.trace:LINE:COL: ..." (no ":COL" when col is 0)
 * and the message must contain `what`. */
static void check_err(const char *text, int line, int col, const char *what)
{
	struct ims_reader *r;
	struct ims_event ev;
	int rc;
	char pfx[64];
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &r), 0);
	while ((rc = ims_reader_next(r, &ev)) == 1)
		;
	const char *m = ims_reader_error(r);
	ck_assert_msg(rc == -EINVAL, "'%s': rc %d (%s), want -EINVAL", text, rc, m);
	if (col)
		snprintf(pfx, sizeof(pfx), "t.trace:%d:%d: ", line, col);
	else
		snprintf(pfx, sizeof(pfx), "t.trace:%d: ", line);
	ck_assert_msg(!strncmp(m, pfx, strlen(pfx)), "'%s': got '%s', want prefix '%s'", text, m,
		      pfx);
	ck_assert_msg(strstr(m, what), "'%s': got '%s', want it to say '%s'", text, m, what);
	ims_reader_close(r);
}

/* ---- lexical rules --------------------------------------------------- */

START_TEST(comments_and_blank_lines)
{
	const char *t = "# leading comment\n"
			"\n"
			"   \t \n"
			"track domain=1 on   # trailing comment\n"
			"\t# indented comment\n"
			"map domain=1 iova=0 pa=0 size=4K # prot=r\n"
			"track domain=1 off#glued\n"
			"#\n";
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", t, strlen(t), 1, &r), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.op, IMS_OP_TRACK);
	ck_assert_uint_eq(ev.line, 4);
	ck_assert(ims_ev_has(&ev, IMS_K_ON));
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.line, 6);
	ck_assert(!ims_ev_has(&ev, IMS_K_PROT));
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.line, 7);
	ck_assert(ims_ev_has(&ev, IMS_K_OFF));
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ims_reader_close(r);

	ck_assert_int_eq(count_events(""), 0);
	ck_assert_int_eq(count_events("\n\n# only comments\n"), 0);
	/* A comment hides what would otherwise be an error. */
	ck_assert_int_eq(count_events("# frobnicate x=1\n"), 0);
}
END_TEST

START_TEST(header_line)
{
	ck_assert_int_eq(count_events("iommusim-trace 1\nexpect nofault\n"), 1);
	ck_assert_int_eq(count_events("# c\n\niommusim-trace 1 # c\nexpect nofault\n"), 1);
	ck_assert_int_eq(count_events("iommusim-trace\t0x1\n"), 0);
	ck_assert_int_eq(count_events("expect nofault\n"), 1);
	check_err("iommusim-trace 2\n", 1, 16, "unsupported trace version '2' (expected 1)");
	check_err("iommusim-trace\n", 1, 15, "needs a version");
	check_err("iommusim-trace 1 extra\n", 1, 18, "after the header");
	check_err("expect nofault\niommusim-trace 1\n", 2, 1, "must be the first line");
	check_err("iommusim-trace 1\niommusim-trace 1\n", 2, 1, "must be the first line");
}
END_TEST

START_TEST(timestamps)
{
	struct ims_event ev = one("@5 expect nofault");
	ck_assert(ev.has_ts);
	ck_assert_uint_eq(ev.ts, 5);
	ck_assert_uint_eq(ev.op_col, 4);
	ev = one("@0x10\texpect nofault");
	ck_assert_uint_eq(ev.ts, 16);
	ev = one("expect nofault");
	ck_assert(!ev.has_ts);

	/* Equal is non-decreasing; a line without a stamp changes nothing. */
	ck_assert_int_eq(count_events("@5 expect nofault\n@5 expect nofault\nexpect nofault\n"
				      "@6 expect nofault\n"),
			 4);
	check_err("@5 expect nofault\nexpect nofault\n@4 expect nofault\n", 3, 1,
		  "timestamp @4 is before the previous one @5");
	check_err("@ expect nofault\n", 1, 1, "is not a timestamp");
	check_err("@1x expect nofault\n", 1, 1, "is not a timestamp");
	check_err("@18446744073709551616 expect nofault\n", 1, 1, "does not fit in 64 bits");
	check_err("@5\n", 1, 3, "expected an op after the timestamp");
	ev = one("@18446744073709551615 expect nofault");
	ck_assert_uint_eq(ev.ts, UINT64_MAX);
}
END_TEST

START_TEST(numbers)
{
	struct ims_event ev = one("mem pa=4096 val=0x1f");
	ck_assert_uint_eq(ev.v[IMS_K_PA], 4096);
	ck_assert_uint_eq(ev.v[IMS_K_VAL], 0x1f);
	ev = one("mem pa=0X00000000000000000000000abc val=007");
	ck_assert_uint_eq(ev.v[IMS_K_PA], 0xabc);
	ck_assert_uint_eq(ev.v[IMS_K_VAL], 7);
	ev = one("mem pa=18446744073709551615 val=0xffffffffffffffff");
	ck_assert_uint_eq(ev.v[IMS_K_PA], UINT64_MAX);
	ck_assert_uint_eq(ev.v[IMS_K_VAL], UINT64_MAX);
	ev = one("mem pa=0xABCDEF val=0xabcdef");
	ck_assert_uint_eq(ev.v[IMS_K_PA], 0xabcdef);
	ck_assert_uint_eq(ev.v[IMS_K_VAL], 0xabcdef);

	check_err("mem pa=18446744073709551616 val=0\n", 1, 8, "pa does not fit in 64 bits");
	check_err("mem pa=0 val=0x10000000000000000\n", 1, 14, "val does not fit in 64 bits");
	check_err("mem pa=99999999999999999999999 val=0\n", 1, 8, "does not fit in 64 bits");
	check_err("mem pa=0x val=0\n", 1, 8, "'0x' is not a number (expected decimal or 0x hex)");
	check_err("mem pa=-1 val=0\n", 1, 8, "'-1' is not a number");
	check_err("mem pa=+1 val=0\n", 1, 8, "'+1' is not a number");
	check_err("mem pa=1.5 val=0\n", 1, 8, "'1.5' is not a number");
	check_err("mem pa=12ab val=0\n", 1, 8, "'12ab' is not a number");
	check_err("mem pa= val=0\n", 1, 8, "pa= needs a value");
	/* Suffixes are for sizes only. */
	check_err("mem pa=4K val=0\n", 1, 8, "'4K' is not a number");
}
END_TEST

START_TEST(size_suffixes)
{
	struct ims_event ev = one("unmap domain=1 iova=0 size=4K");
	ck_assert_uint_eq(ev.v[IMS_K_SIZE], 4096);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=2M").v[IMS_K_SIZE], 2ull << 20);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=1G").v[IMS_K_SIZE], 1ull << 30);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=1T").v[IMS_K_SIZE], 1ull << 40);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=0x10K").v[IMS_K_SIZE], 16ull << 10);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=4096").v[IMS_K_SIZE], 4096);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=16777215T").v[IMS_K_SIZE],
			  16777215ull << 40);
	ev = one("map domain=1 iova=0 pa=0 size=2M pgsize=64K");
	ck_assert_uint_eq(ev.v[IMS_K_PGSIZE], 64 << 10);
	ev = one("dma dev=1 iova=0 len=1K dir=r");
	ck_assert_uint_eq(ev.v[IMS_K_LEN], 1024);
	ev = one("domain id=1 format=smmuv3 granule=16K pgsizes=16K,0x2000000,1G");
	ck_assert_uint_eq(ev.v[IMS_K_GRANULE], 16384);
	ck_assert_uint_eq(ev.v[IMS_K_PGSIZES], (1ull << 14) | (1ull << 25) | (1ull << 30));

	/* 16777216T is 2^64. */
	check_err("unmap domain=1 iova=0 size=16777216T\n", 1, 28, "size does not fit in 64 bits");
	check_err("unmap domain=1 iova=0 size=0xffffffffffffffffK\n", 1, 28,
		  "size does not fit in 64 bits");
	check_err("unmap domain=1 iova=0 size=4k\n", 1, 28, "'4k' is not a size");
	check_err("unmap domain=1 iova=0 size=4KB\n", 1, 28, "'4KB' is not a size");
	check_err("unmap domain=1 iova=0 size=K\n", 1, 28, "'K' is not a size");
	check_err("domain id=1 format=amdv1 pgsizes=4K,,2M\n", 1, 37, "'' is not a size");
	check_err("domain id=1 format=amdv1 pgsizes=4K,32T0\n", 1, 37, "'32T0' is not a size");
	check_err("domain id=1 format=amdv1 pgsizes=4K,16777216T\n", 1, 37,
		  "does not fit in 64 bits");
}
END_TEST

START_TEST(dev_forms)
{
	ck_assert_uint_eq(one("detach dev=0x10").v[IMS_K_DEV], 0x10);
	ck_assert_uint_eq(one("detach dev=16").v[IMS_K_DEV], 16);
	ck_assert_uint_eq(one("detach dev=00:03.0").v[IMS_K_DEV], 0x18);
	ck_assert_uint_eq(one("detach dev=65:00.1").v[IMS_K_DEV], 0x6501);
	ck_assert_uint_eq(one("detach dev=0000:65:00.1").v[IMS_K_DEV], 0x6501);
	ck_assert_uint_eq(one("detach dev=0001:00:1f.7").v[IMS_K_DEV], 0x100ff);
	ck_assert_uint_eq(one("detach dev=ffff:ff:1F.7").v[IMS_K_DEV], 0xffffffff);
	ck_assert_uint_eq(one("detach dev=0:1:2.3").v[IMS_K_DEV], (1 << 8) | (2 << 3) | 3);

	check_err("detach dev=00:20.0\n", 1, 15, "PCI device 0x20 is out of range");
	check_err("detach dev=00:00.8\n", 1, 18, "PCI function 0x8 is out of range");
	check_err("detach dev=100:00.0\n", 1, 12, "PCI bus 0x100 is out of range");
	check_err("detach dev=10000:00:00.0\n", 1, 12, "not a device id");
	check_err("detach dev=00:03\n", 1, 12, "'00:03' is not a device id");
	check_err("detach dev=0:0:0:0.0\n", 1, 12, "not a device id");
	check_err("detach dev=00:03.0.1\n", 1, 12, "not a device id");
	check_err("detach dev=00:03.\n", 1, 12, "not a device id");
	check_err("detach dev=00.03:0\n", 1, 12, "not a device id");
	check_err("detach dev=0g:03.0\n", 1, 12, "not a device id");
	check_err("detach dev=thing\n", 1, 12, "'thing' is not a device id");
	check_err("detach dev=0x100000000000000000\n", 1, 12, "dev does not fit in 64 bits");
	/* A device is 32 bits (segment:BDF, or a stream id): more is refused,
	 * not cut to its low bits. */
	ck_assert_uint_eq(one("detach dev=0xffffffff").v[IMS_K_DEV], 0xffffffffu);
	ck_assert_uint_eq(one("detach dev=4294967295").v[IMS_K_DEV], 0xffffffffu);
	check_err("attach dev=0x100000001 domain=1\n", 1, 12, "dev=0x100000001 is out of range");
	check_err("detach dev=4294967296\n", 1, 12, "dev=0x100000000 is out of range");
	check_err("map domain=1 iova=0 pa=0 size=4K inject-at=1 inject-dev=0x100000000 "
		  "inject-iova=0\n", 1, 57, "inject-dev=0x100000000 is out of range");
	check_err("iommufd bind dev=0x1ffffffff format=vtd\n", 1, 18, "out of range");
}
END_TEST

START_TEST(flags)
{
	struct ims_event ev = one("domain id=1 format=amdv1 root=0x1000 raw");
	ck_assert(ims_ev_has(&ev, IMS_K_RAW));
	ck_assert_uint_eq(ev.col[IMS_K_RAW], 38);
	ev = one("harvest domain=1 iova=0 size=4K noclear");
	ck_assert(ims_ev_has(&ev, IMS_K_NOCLEAR));
	ev = one("harvest domain=1 iova=0 size=4K");
	ck_assert(!ims_ev_has(&ev, IMS_K_NOCLEAR));
	check_err("domain id=1 format=amdv1 root=0x1000 raw=1\n", 1, 38, "raw is a flag");
	check_err("harvest domain=1 iova=0 size=4K noclear=on\n", 1, 33, "noclear is a flag");
	check_err("track domain=1 on=1\n", 1, 16, "on is a flag");
	check_err("unmap domain=1 iova=0 size\n", 1, 23, "size needs a value");
}
END_TEST

START_TEST(duplicate_keys)
{
	check_err("map domain=1 iova=0 pa=0 iova=0x1000 size=4K\n", 1, 26,
		  "duplicate key 'iova' (first at column 14)");
	check_err("track domain=1 on on\n", 1, 19, "duplicate key 'on'");
	check_err("harvest domain=1 iova=0 size=4K noclear noclear\n", 1, 41, "duplicate key");
}
END_TEST

START_TEST(unknown_op_and_key)
{
	check_err("frobnicate x=1\n", 1, 1,
		  "unknown op 'frobnicate' (expected domain, attach, detach, map, unmap, track, "
		  "harvest, flush, dma, mem, expect, iommufd or vfio)");
	check_err("  MAP domain=1\n", 1, 3, "unknown op 'MAP'");
	check_err("expect\n", 1, 7, "expected mem, pa, fault, nofault, consistent or tables");
	check_err("expect colour\n", 1, 8, "'expect colour'");
	check_err("map domain=1 iova=0 pa=0 size=4K colour=blue\n", 1, 34,
		  "unknown key 'colour' for map (expected domain, iova, pa, size, prot, pgsize, inject-at, inject-dev or inject-iova)");
	/* A key of another op is unknown here. */
	check_err("map domain=1 iova=0 pa=0 size=4K dev=1\n", 1, 34, "unknown key 'dev' for map");
	check_err("unmap domain=1 iova=0 size=4K prot=r\n", 1, 31, "unknown key 'prot' for unmap");
	check_err("map domain=1 iova=0 pa=0 size=4K blue\n", 1, 34, "unknown key 'blue'");
	check_err("expect nofault dev=1\n", 1, 16, "unknown key 'dev' for expect nofault");
	check_err("track domain=1 on noclear\n", 1, 19, "unknown key 'noclear' for track");
	check_err("mem pa=0 val=0 mask=1\n", 1, 16, "unknown key 'mask' for mem");
	ck_assert_uint_eq(one("expect mem pa=0 val=0 mask=1").v[IMS_K_MASK], 1);
	/* Non-printing bytes are shown escaped. */
	check_err("map\x01 domain=1\n", 1, 1, "unknown op 'map\\x01'");
}
END_TEST

START_TEST(missing_keys)
{
	/* Every required key of every op, left out in turn. */
	static const char *const full[] = {
		"domain id=1 format=amdv1",
		"attach dev=1 domain=1",
		"detach dev=1",
		"map domain=1 iova=0 pa=0 size=4K",
		"unmap domain=1 iova=0 size=4K",
		"track domain=1 on",
		"harvest domain=1 iova=0 size=4K",
		"flush domain=1",
		"dma dev=1 iova=0 len=1 dir=r",
		"mem pa=0 val=0",
		"expect mem pa=0 val=0",
		"expect pa dev=1 iova=0 pa=0",
		"expect fault dev=1 iova=0 kind=perm",
		"expect nofault",
	};
	unsigned checked = 0;
	for (unsigned i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		struct ims_event ev = one(full[i]);
		ck_assert(!strncmp(full[i], ims_op_name(ev.op), strlen(ims_op_name(ev.op))));
		const char *fields = full[i] + strlen(ims_op_name(ev.op));
		for (const char *f = strchr(fields, ' '); f; f = strchr(f + 1, ' ')) {
			const char *fe = strchr(f + 1, ' ');
			if (!fe)
				fe = f + strlen(f);
			char line[128], key[32], want[64];
			snprintf(line, sizeof(line), "%.*s%s\n", (int)(f - full[i]), full[i], fe);
			size_t kl = strcspn(f + 1, "= ");
			snprintf(key, sizeof(key), "%.*s", (int)kl, f + 1);
			if (!strcmp(key, "on"))
				snprintf(want, sizeof(want), "track needs on or off");
			else
				snprintf(want, sizeof(want), "%s needs %s=", ims_op_name(ev.op), key);
			check_err(line, 1, 1, want);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, 2 + 2 + 1 + 4 + 3 + 2 + 3 + 1 + 4 + 2 + 2 + 3 + 3);
}
END_TEST

START_TEST(track_on_off)
{
	ck_assert(ims_ev_has((struct ims_event[]){one("track domain=1 on")}, IMS_K_ON));
	struct ims_event ev = one("track off domain=1");
	ck_assert(ims_ev_has(&ev, IMS_K_OFF));
	ck_assert(!ims_ev_has(&ev, IMS_K_ON));
	check_err("track domain=1\n", 1, 1, "track needs on or off");
	check_err("track domain=1 on off\n", 1, 19, "track takes on or off, not both");
	check_err("track off domain=1 on\n", 1, 20, "not both");
}
END_TEST

START_TEST(expect_and_count_exclusive)
{
	struct ims_event ev = one("harvest domain=1 iova=0 size=64K expect-count=3");
	ck_assert_uint_eq(ev.v[IMS_K_EXPECT_COUNT], 3);
	ck_assert(!ims_ev_has(&ev, IMS_K_EXPECT));
	check_err("harvest domain=1 iova=0 size=64K expect=0x19 expect-count=3\n", 1, 46,
		  "expect= and expect-count= exclude each other");
	check_err("harvest domain=1 iova=0 size=64K expect-count=3 expect=0x19\n", 1, 49,
		  "exclude each other");
}
END_TEST

START_TEST(expect_hex)
{
	const char *t = "harvest domain=1 iova=0 size=64K expect=0x19";
	struct ims_event ev = one(t);
	ck_assert(ims_ev_has(&ev, IMS_K_EXPECT));
	ck_assert_uint_eq(ev.expect_hex_len, 2);
	ck_assert(ev.expect_hex == t + strlen(t) - 2);
	ev = one("harvest domain=1 iova=0 size=64K expect=19");
	ck_assert_uint_eq(ev.expect_hex_len, 2);
	ck_assert(!memcmp(ev.expect_hex, "19", 2));
	/* Always hex, even without 0x: "10" is bit 4. */
	ev = one("harvest domain=1 iova=0 size=64K expect=0X00aBcDeF");
	ck_assert_uint_eq(ev.expect_hex_len, 8);
	ck_assert(!memcmp(ev.expect_hex, "00aBcDeF", 8));
	ev = one("harvest domain=1 iova=0 size=64K");
	ck_assert_ptr_null(ev.expect_hex);
	ck_assert_uint_eq(ev.expect_hex_len, 0);
	check_err("harvest domain=1 iova=0 size=64K expect=0x\n", 1, 41, "is not a hex bitmap");
	check_err("harvest domain=1 iova=0 size=64K expect=\n", 1, 41, "is not a hex bitmap");
	check_err("harvest domain=1 iova=0 size=64K expect=0x1g\n", 1, 41, "'0x1g' is not a hex");
	check_err("harvest domain=1 iova=0 size=64K expect=4K\n", 1, 41, "'4K' is not a hex");
}
END_TEST

START_TEST(wrap_detection)
{
	/* Ending exactly at 2^64 is fine. */
	struct ims_event ev = one("harvest domain=1 iova=0xfffffffffffff000 size=4K");
	ck_assert_uint_eq(ev.v[IMS_K_IOVA], 0xfffffffffffff000ull);
	one("unmap domain=1 iova=0 size=0xffffffffffffffff");
	one("unmap domain=1 iova=1 size=0xffffffffffffffff");
	one("dma dev=1 iova=0xffffffffffffffff len=1 dir=w");
	one("flush domain=1 iova=0xffffffffffe00000 size=2M");
	one("map domain=1 iova=0xffffffffc0000000 pa=0 size=1G");

	check_err("harvest domain=1 iova=0xfffffffffffff000 size=8K\n", 1, 42,
		  "range iova+size wraps past 2^64");
	check_err("unmap domain=1 iova=2 size=0xffffffffffffffff\n", 1, 23, "wraps past 2^64");
	check_err("dma dev=1 iova=0xffffffffffffffff len=2 dir=w\n", 1, 35,
		  "range iova+len wraps past 2^64");
	check_err("flush domain=1 size=4K iova=0xfffffffffffff001\n", 1, 16, "wraps past 2^64");
	check_err("map domain=1 iova=0xffffffffc0001000 pa=0 size=1G\n", 1, 43, "wraps past");
	/* The output range too, at the size's column; ending at 2^64 is fine. */
	one("map domain=1 iova=0 pa=0xffffffffc0000000 size=1G");
	check_err("map domain=1 iova=0 pa=0xffffffffc0001000 size=1G\n", 1, 43,
		  "range pa+size wraps past 2^64");
	check_err("map domain=1 size=8K iova=0 pa=0xfffffffffffff000\n", 1, 14,
		  "range pa+size wraps past 2^64");
	/* length= reaches the calls as it is: they refuse a wrap themselves
	 * (EOVERFLOW, docs/uapi.md). */
	one("iommufd map ioas=1 iova=0 pa=0xfffffffffffff000 length=8K expect-err=EOVERFLOW");
	one("vfio map container=1 iova=0 pa=0xfffffffffffff000 length=8K expect-err=EINVAL");
}
END_TEST

START_TEST(zero_sizes)
{
	check_err("map domain=1 iova=0 pa=0 size=0\n", 1, 26, "size must be at least 1");
	check_err("unmap domain=1 iova=0 size=0x0\n", 1, 23, "size must be at least 1");
	check_err("harvest domain=1 iova=0 size=0K\n", 1, 25, "size must be at least 1");
	check_err("dma dev=1 iova=0 len=0 dir=r\n", 1, 18, "len must be at least 1");
	ck_assert_uint_eq(one("dma dev=1 iova=0 len=1 dir=r").v[IMS_K_LEN], 1);
}
END_TEST

START_TEST(flush_pairs)
{
	struct ims_event ev = one("flush domain=1");
	ck_assert(!ims_ev_has(&ev, IMS_K_IOVA));
	ev = one("flush domain=1 iova=0x1000 size=4K");
	ck_assert_uint_eq(ev.v[IMS_K_SIZE], 4096);
	check_err("flush domain=1 iova=0x1000\n", 1, 16, "iova= and size= together");
	check_err("flush domain=1 size=4K\n", 1, 16, "iova= and size= together");
}
END_TEST

START_TEST(domain_rules)
{
	struct ims_event ev = one("domain id=7 format=vtd levels=3 dirty=on ias=39");
	ck_assert_uint_eq(ev.v[IMS_K_ID], 7);
	ck_assert_uint_eq(ev.v[IMS_K_FORMAT], IMS_FMT_VTD);
	ck_assert_uint_eq(ev.v[IMS_K_LEVELS], 3);
	ck_assert_uint_eq(ev.v[IMS_K_DIRTY], 1);
	ck_assert_uint_eq(ev.v[IMS_K_IAS], 39);
	ev = one("domain id=65535 format=smmuv3 dirty=off root=0 raw ha=on hd=off");
	ck_assert_uint_eq(ev.v[IMS_K_ID], 0xffff);
	ck_assert_uint_eq(ev.v[IMS_K_FORMAT], IMS_FMT_SMMUV3);
	ck_assert_uint_eq(ev.v[IMS_K_DIRTY], 0);
	ck_assert_uint_eq(ev.v[IMS_K_HA], 1);
	ck_assert_uint_eq(ev.v[IMS_K_HD], 0);
	ck_assert(ims_ev_has(&ev, IMS_K_HD));
	ck_assert_uint_eq(one("domain id=1 format=amdv1").v[IMS_K_FORMAT], IMS_FMT_AMDV1);
	ck_assert_uint_eq(one("domain id=1 format=smmuv3 granule=64K").v[IMS_K_GRANULE], 65536);
	ck_assert_uint_eq(one("domain id=1 format=smmuv3 granule=4096").v[IMS_K_GRANULE], 4096);

	check_err("domain id=65536 format=amdv1\n", 1, 11, "id 65536 is out of range");
	check_err("map domain=0x10000 iova=0 pa=0 size=4K\n", 1, 12, "domain 65536 is out of range");
	check_err("domain id=1 format=arm\n", 1, 20,
		  "unknown format 'arm' (expected one of amdv1, vtd, smmuv3, vtd-fs, amdv2, smmuv3-s2)");
	check_err("domain id=1 format=amdv1 dirty=yes\n", 1, 32,
		  "'yes' is not valid for dirty= (expected on or off)");
	check_err("domain id=1 format=smmuv3 granule=8K\n", 1, 35,
		  "granule '8K' is not supported (expected 4K, 16K or 64K)");
	check_err("domain id=1 format=amdv1 pgsizes=4K,12K\n", 1, 37,
		  "page size '12K' is not a power of two");
	check_err("domain id=1 format=amdv1 root=0x1000\n", 1, 26, "root= needs the raw flag");
	check_err("domain id=1 format=amdv1 raw\n", 1, 26, "raw needs root=");
	check_err("domain id=1 format=amdv1 ha=on\n", 1, 26, "ha= is only for raw domains");
	check_err("domain id=1 format=amdv1 dirty=on hd=on\n", 1, 35, "hd= is only for raw domains");
}
END_TEST

START_TEST(enums_and_pgsize)
{
	ck_assert_uint_eq(one("map domain=1 iova=0 pa=0 size=4K prot=r").v[IMS_K_PROT], IMS_PROT_R);
	ck_assert_uint_eq(one("map domain=1 iova=0 pa=0 size=4K prot=w").v[IMS_K_PROT], IMS_PROT_W);
	ck_assert_uint_eq(one("map domain=1 iova=0 pa=0 size=4K prot=rw").v[IMS_K_PROT], IMS_PROT_RW);
	ck_assert(!ims_ev_has((struct ims_event[]){one("map domain=1 iova=0 pa=0 size=4K")},
			      IMS_K_PROT));
	ck_assert_uint_eq(one("dma dev=1 iova=0 len=1 dir=r").v[IMS_K_DIR], IMS_ACC_R);
	ck_assert_uint_eq(one("dma dev=1 iova=0 len=1 dir=w").v[IMS_K_DIR], IMS_ACC_W);
	ck_assert_uint_eq(one("dma dev=1 iova=0 len=1 dir=rw").v[IMS_K_DIR], IMS_ACC_RW);
	ck_assert_uint_eq(one("expect fault dev=1 iova=0 kind=notpresent").v[IMS_K_KIND],
			  IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(one("expect fault dev=1 iova=0 kind=perm").v[IMS_K_KIND], IMS_FAULT_PERM);
	ck_assert_uint_eq(one("expect fault dev=1 iova=0 kind=access").v[IMS_K_KIND],
			  IMS_FAULT_ACCESS);
	ck_assert_uint_eq(one("expect fault dev=1 iova=0 kind=unattached").v[IMS_K_KIND],
			  IMS_FAULT_UNATTACHED);
	ck_assert_uint_eq(one("harvest domain=1 iova=0 size=2M pgsize=2M").v[IMS_K_PGSIZE], 2 << 20);

	check_err("map domain=1 iova=0 pa=0 size=4K prot=x\n", 1, 39,
		  "'x' is not valid for prot= (expected r, w or rw)");
	check_err("map domain=1 iova=0 pa=0 size=4K prot=wr\n", 1, 39, "not valid for prot=");
	check_err("dma dev=1 iova=0 len=1 dir=\n", 1, 28, "not valid for dir=");
	check_err("expect fault dev=1 iova=0 kind=none\n", 1, 32,
		  "unknown fault kind 'none' (expected notpresent, perm, access or unattached)");
	check_err("map domain=1 iova=0 pa=0 size=12K pgsize=12K\n", 1, 42,
		  "pgsize '12K' is not a power of two");
	check_err("harvest domain=1 iova=0 size=2M pgsize=0\n", 1, 40, "not a power of two");
}
END_TEST

START_TEST(all_ops_and_columns)
{
	struct ims_event ev = one("  @9\texpect   mem\tpa=0x10  val=1 mask=3 # c");
	ck_assert_uint_eq(ev.op, IMS_OP_EXPECT_MEM);
	ck_assert_uint_eq(ev.op_col, 6);
	ck_assert_uint_eq(ev.col[IMS_K_PA], 19);
	ck_assert_uint_eq(ev.col[IMS_K_VAL], 28);
	ck_assert_uint_eq(ev.col[IMS_K_MASK], 34);
	ck_assert_uint_eq(ev.keys, (1ull << IMS_K_PA) | (1ull << IMS_K_VAL) | (1ull << IMS_K_MASK));
	ck_assert_uint_eq(ev.col[IMS_K_IOVA], 0);
	ck_assert_uint_eq(one("domain id=1 format=vtd").op, IMS_OP_DOMAIN);
	ck_assert_uint_eq(one("attach dev=1 domain=1").op, IMS_OP_ATTACH);
	ck_assert_uint_eq(one("detach dev=1").op, IMS_OP_DETACH);
	ck_assert_uint_eq(one("map domain=1 iova=0 pa=0 size=1").op, IMS_OP_MAP);
	ck_assert_uint_eq(one("unmap domain=1 iova=0 size=1").op, IMS_OP_UNMAP);
	ck_assert_uint_eq(one("track domain=1 on").op, IMS_OP_TRACK);
	ck_assert_uint_eq(one("harvest domain=1 iova=0 size=1").op, IMS_OP_HARVEST);
	ck_assert_uint_eq(one("flush domain=1").op, IMS_OP_FLUSH);
	ck_assert_uint_eq(one("dma dev=1 iova=0 len=1 dir=r").op, IMS_OP_DMA);
	ck_assert_uint_eq(one("mem pa=0 val=0").op, IMS_OP_MEM);
	ck_assert_uint_eq(one("expect pa dev=1 iova=0 pa=0").op, IMS_OP_EXPECT_PA);
	ck_assert_uint_eq(one("expect fault dev=1 iova=0 kind=perm").op, IMS_OP_EXPECT_FAULT);
	ev = one("expect nofault");
	ck_assert_uint_eq(ev.op, IMS_OP_EXPECT_NOFAULT);
	ck_assert_uint_eq(ev.keys, 0);
}
END_TEST

START_TEST(crlf)
{
	const char *t = "iommusim-trace 1\r\n# c\r\n\r\nmap domain=1 iova=0 pa=0 size=4K\r\n"
			"track domain=1 on # x\r\nunmap domain=1 iova=0 size=4K\r\n";
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", t, strlen(t), 1, &r), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.line, 4);
	ck_assert_uint_eq(ev.v[IMS_K_SIZE], 4096);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.v[IMS_K_SIZE], 4096);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ims_reader_close(r);
	/* Only the one before the newline is tolerated. */
	check_err("unmap domain=1 iova=0 size=4K\r\r\n", 1, 28, "is not a size");
}
END_TEST

START_TEST(errors_stick)
{
	const char *t = "expect nofault\nfrobnicate\nexpect nofault\n";
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", t, strlen(t), 1, &r), 0);
	ck_assert_str_eq(ims_reader_error(r), "");
	ck_assert_str_eq(ims_reader_name(r), "t.trace");
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EINVAL);
	const char *m = strstr(ims_reader_error(r), "t.trace:2:1: unknown op");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EINVAL);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ims_reader_error(r), "t.trace:2:1: unknown op"));
	ims_reader_close(r);
}
END_TEST

/* ---- extensions ------------------------------------------------------ */

START_TEST(extension_rules)
{
	check_err("harvest domain=1 iova=0 size=4K inject-at=2 inject-dev=1\n", 1, 33,
		  "missing inject-iova=");
	check_err("harvest domain=1 iova=0 size=4K inject-at=0 inject-dev=1 inject-iova=0\n", 1, 33,
		  "at least 1");
	check_err("unmap domain=1 iova=0 size=4K pgsize=4K\n", 1, 31, "read-dirty");
	check_err("expect tables domain=1\n", 1, 1, "needs count=");
	check_err("dma dev=1 iova=0 len=1 dir=r inject-at=1 inject-dev=1 inject-iova=0\n", 1, 30,
		  "unknown key 'inject-at'");
}
END_TEST

/* ---- memory reader --------------------------------------------------- */

START_TEST(memory_line_offsets)
{
	const char *t = "# embedded\nexpect nofault\n\nfrobnicate";
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open_mem("suite.yaml", t, strlen(t), 40, &r), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.line, 41);
	ck_assert_int_eq(ims_reader_next(r, &ev), -EINVAL);
	ck_assert_msg(!strncmp(ims_reader_error(r), "suite.yaml:43:1: unknown op", 27), "%s",
		      ims_reader_error(r));
	ims_reader_close(r);

	/* The length bounds the input: no NUL needed, nothing read past it. */
	const char big[] = "unmap domain=1 iova=0 size=4K0000";
	ck_assert_int_eq(ims_reader_open_mem("m", big, strlen(big) - 4, 1, &r), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.v[IMS_K_SIZE], 4096);
	ck_assert_uint_eq(ev.line, 1);
	ck_assert_uint_eq(ims_reader_bytes(r), strlen(big) - 4);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ims_reader_close(r);

	ck_assert_int_eq(ims_reader_open_mem("m", big, 0, 1, &r), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ims_reader_close(r);
	ck_assert_int_eq(ims_reader_open_mem("m", NULL, 0, 1, &r), 0);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ims_reader_close(r);
}
END_TEST

/* ---- phase markers ---------------------------------------------------- */

struct phases {
	char names[4][32];
	uint64_t lines[4];
	int n;
};

static void on_phase(void *arg, const char *name, size_t len, uint64_t line)
{
	struct phases *p = arg;
	ck_assert_int_lt(p->n, 4);
	ck_assert_uint_lt(len, sizeof(p->names[0]));
	memcpy(p->names[p->n], name, len);
	p->names[p->n][len] = '\0';
	p->lines[p->n++] = line;
}

START_TEST(phase_markers)
{
	/* Only a comment alone on its line, in exactly this form, is a
	 * marker; it comes before the event after it, and events are the same
	 * with or without a listener. */
	const char *t = "iommusim-trace 1\n"
			"#phase: warm up \t\r\n"
			"@5 expect nofault\n"
			"expect nofault # phase: trailing\n"
			"# phase:\n"
			"# phases: no\n"
			"# Phase: no\n"
			"  #  phase:  B direct-read bs=4k x256\n"
			"@9 expect nofault\n"
			"# phase: end\n";
	struct phases p = {0};
	struct ims_reader *r;
	struct ims_event ev;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", t, strlen(t), 1, &r), 0);
	ims_reader_on_phase(r, on_phase, &p);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.names[0], "warm up");
	ck_assert_uint_eq(p.lines[0], 2);
	ck_assert_uint_eq(ev.line, 3);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_int_eq(p.n, 1);
	ck_assert_int_eq(ims_reader_next(r, &ev), 1);
	ck_assert_uint_eq(ev.ts, 9);
	ck_assert_int_eq(p.n, 2);
	ck_assert_str_eq(p.names[1], "B direct-read bs=4k x256");
	ck_assert_uint_eq(p.lines[1], 8);
	ck_assert_int_eq(ims_reader_next(r, &ev), 0);
	ck_assert_int_eq(p.n, 3);
	ck_assert_str_eq(p.names[2], "end");
	ims_reader_close(r);
	ck_assert_int_eq(count_events(t), 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("lexical");
	tcase_add_test(tc, comments_and_blank_lines);
	tcase_add_test(tc, header_line);
	tcase_add_test(tc, timestamps);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, size_suffixes);
	tcase_add_test(tc, dev_forms);
	tcase_add_test(tc, flags);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, unknown_op_and_key);
	tcase_add_test(tc, missing_keys);
	tcase_add_test(tc, track_on_off);
	tcase_add_test(tc, expect_and_count_exclusive);
	tcase_add_test(tc, expect_hex);
	tcase_add_test(tc, wrap_detection);
	tcase_add_test(tc, zero_sizes);
	tcase_add_test(tc, flush_pairs);
	tcase_add_test(tc, domain_rules);
	tcase_add_test(tc, enums_and_pgsize);
	tcase_add_test(tc, all_ops_and_columns);
	tcase_add_test(tc, crlf);
	tcase_add_test(tc, errors_stick);
	tcase_add_test(tc, memory_line_offsets);
	tcase_add_test(tc, phase_markers);
	tcase_add_test(tc, extension_rules);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
