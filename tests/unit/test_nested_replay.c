/* Nested domains in the replayer (harness/nested.c, iommufd_nest_ops.c,
 * docs/trace-format.md "Nested domains"): the parent's checks and their
 * messages, the guest's table frames mapped identity in stage 2 while they
 * live, iommufd invalidation reaching the hardware, and the migration's
 * nested mode against IOVA tracking on the same workload. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "iommusim/replay.h"

#define POOL 0xf00000000000ull

static struct ims_replay *open_replay(void)
{
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&o, &r), 0);
	return r;
}

static int run(struct ims_replay *r, const char *text)
{
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &rd), 0);
	int rc = ims_replay_run(r, rd);
	ims_reader_close(rd);
	return rc;
}

/* An input error of the last line, at the column of `key=`, saying `want`. */
static void input_error(const char *text, const char *key, const char *want)
{
	struct ims_replay *r = open_replay();
	int rc = run(r, text);
	const char *msg = ims_replay_error(r);
	/* Line and column: the last line of text, key's column on it. */
	unsigned lines = 0;
	const char *last = text;
	for (const char *p = text; *p; p++)
		if (*p == '\n' && p[1]) {
			lines++;
			last = p + 1;
		}
	char where[64];
	snprintf(where, sizeof(where), "t.trace:%u:%d:", lines + 1, (int)(strstr(last, key) - last) + 1);
	if (rc != -EINVAL || strncmp(msg, where, strlen(where)) || !strstr(msg, want))
		ck_abort_msg("rc %d, '%s': want %s ... %s", rc, msg, where, want);
	ims_replay_free(r);
}

START_TEST(parent_checks)
{
	input_error("domain id=2 format=vtd-fs nested=1\n", "nested=", "is not defined");
	input_error("domain id=1 format=amdv1\ndomain id=2 format=vtd-fs nested=1\n", "nested=",
		    "a vtd-fs stage 1 nests over vtd");
	input_error("domain id=1 format=vtd\ndomain id=2 format=vtd nested=1\n", "format=",
		    "has no nested pair");
	input_error("domain id=1 format=vtd\ndomain id=2 format=vtd-fs nested=2\n", "nested=",
		    "names the domain itself");
	input_error("domain id=1 format=smmuv3-s2\ndomain id=2 format=smmuv3 nested=1\n"
		    "domain id=3 format=smmuv3 nested=2\n",
		    "nested=", "is nested itself");
	input_error("domain id=1 format=vtd root=0x100000 raw\ndomain id=2 format=vtd-fs nested=1\n",
		    "nested=", "is raw");
	/* A 39-bit stage 2 cannot reach the frame pool, where the guest's
	 * tables are. */
	input_error("domain id=1 format=vtd levels=3\ndomain id=2 format=vtd-fs nested=1\n", "nested=",
		    "its stage 2 must reach the frame pool");
	input_error("domain id=1 format=vtd pgsizes=2M\ndomain id=2 format=vtd-fs nested=1\n",
		    "nested=", "cannot map 4 KiB pages");
	/* The reader's rules. */
	input_error("domain id=2 format=vtd-fs root=0x1000 raw nested=1\n", "nested=",
		    "nested= is for software domains");
	input_error("iommufd hwpt-alloc hwpt=2 dev=1 ioas=1 nested=1\n", "nested=", "exactly one");
	input_error("iommufd hwpt-alloc hwpt=2 dev=1\n", "iommufd", "exactly one");
	input_error("iommufd hwpt-alloc hwpt=2 dev=1 nested=1 viommu=1\n", "viommu=", "exactly one");
	input_error("iommufd hwpt-alloc hwpt=2 dev=1 viommu=1 ioas=1\n", "ioas=", "exactly one");
	input_error("iommufd invalidate data-type=1\n", "iommufd", "exactly one");
	input_error("iommufd invalidate hwpt=1 viommu=1 data-type=1\n", "viommu=", "exactly one");
}
END_TEST

/* The frames of [POOL, POOL + 64 frames) that domain tag maps identity. */
static unsigned identity_frames(struct ims_replay *r, uint16_t tag)
{
	unsigned n = 0;
	for (uint64_t a = POOL; a < POOL + (64ull << 12); a += 4096) {
		struct ims_xlate x;
		if (ims_iommu_probe(ims_replay_iommu(r), tag, a, IMS_ACC_W, &x) == 0 && x.pa == a)
			n++;
	}
	return n;
}

START_TEST(table_frames_live_in_stage2)
{
	static const char *const setups[3] = {
		"domain id=1 format=vtd levels=4\ndomain id=2 format=vtd-fs nested=1\n",
		"domain id=1 format=amdv1 levels=4\ndomain id=2 format=amdv2 nested=1\n",
		"domain id=1 format=smmuv3-s2\ndomain id=2 format=smmuv3 nested=1\n",
	};
	struct ims_replay *r = open_replay();
	ck_assert_int_eq(run(r, setups[_i]), 0);
	/* The guest's root, and nothing of the parent's own tables. */
	ck_assert_uint_eq(identity_frames(r, 1), 1);
	ck_assert_int_eq(run(r, "map domain=2 iova=0x10000 pa=0x80000000 size=4K\n"
				"map domain=2 iova=0x8000000000 pa=0x80001000 size=4K\n"),
			 0);
	/* Two paths below the root: all of them, as the guest allocated them. */
	unsigned all = identity_frames(r, 1);
	ck_assert_uint_ge(all, 4);
	/* Unmapping one path frees its tables: they leave stage 2. */
	ck_assert_int_eq(run(r, "unmap domain=2 iova=0x8000000000 size=4K\n"), 0);
	unsigned left = identity_frames(r, 1);
	ck_assert_uint_lt(left, all);
	ck_assert_int_eq(run(r, "unmap domain=2 iova=0x10000 size=4K\nexpect tables domain=2 count=1\n"),
			 0);
	ck_assert_uint_eq(identity_frames(r, 1), 1);
	ck_assert_uint_eq(ims_replay_stats(r)->validation_failures, 0);
	ims_replay_free(r);
}
END_TEST

START_TEST(iommufd_invalidate_reaches_hardware)
{
	struct ims_replay *r = open_replay();
	ck_assert_int_eq(run(r, "iommufd bind dev=1 format=vtd\n"
				"iommufd ioas-alloc ioas=1\n"
				"iommufd map ioas=1 iova=0x80000000 pa=0x40000000 length=64K\n"
				"iommufd hwpt-alloc hwpt=10 dev=1 ioas=1 nest-parent\n"
				"iommufd hwpt-alloc hwpt=20 dev=1 nested=10\n"
				"map domain=20 iova=0x10000 pa=0x80004000 size=16K\n"
				"iommufd attach dev=1 hwpt=20\n"
				"dma dev=1 iova=0x11000 len=4 dir=r\n"),
			 0);
	const struct ims_iommu_counters *c = ims_iommu_counters(ims_replay_iommu(r));
	uint64_t before = c->inv_range + c->inv_domain + c->inv_all;
	/* A refused entry reaches nothing. */
	ck_assert_int_eq(run(r, "iommufd invalidate hwpt=20 data-type=0 data2=2 expect-err=EOPNOTSUPP\n"), 0);
	ck_assert_uint_eq(c->inv_range + c->inv_domain + c->inv_all, before);
	ck_assert_int_eq(run(r, "iommufd invalidate hwpt=20 data-type=0 data0=0x11000 data1=1\n"), 0);
	ck_assert_uint_gt(c->inv_range + c->inv_domain + c->inv_all, before);
	ck_assert_uint_eq(ims_replay_stats(r)->validation_failures, 0);
	ims_replay_free(r);
}
END_TEST

/* The guest's workload: a buffer mapped, written and unmapped between two
 * syncs, and a page that stays mapped. dom: the domain the guest's maps go
 * to (the shadow, or the guest's own stage 1). */
static const char *workload(int dom, char *buf, size_t len)
{
	snprintf(buf, len,
		 "map domain=%d iova=0x20000 pa=0x80002000 size=8K\n"
		 "dma dev=1 iova=0x20000 len=8K dir=w\n"
		 "unmap domain=%d iova=0x20000 size=8K\n"
		 "dma dev=1 iova=0x10000 len=64 dir=w\n",
		 dom, dom);
	return buf;
}

static struct ims_mig_sync migrate(const char *setup, enum ims_mig_mode mode, int dom)
{
	struct ims_replay *r = open_replay();
	struct ims_oracle *set = ims_oracle_new();
	char w[512];
	ck_assert_int_eq(run(r, setup), 0);
	ck_assert_int_eq(ims_replay_mig_start(r, mode), 0);
	ck_assert_int_eq(run(r, workload(dom, w, sizeof(w))), 0);
	struct ims_mig_sync s;
	ck_assert_int_eq(ims_replay_mig_sync(r, mode, set, &s), 0);
	/* What the sync reported holds the page that stayed mapped. */
	ck_assert_uint_eq(ims_oracle_count(set, 0, 0x80000000, 4096), 1);
	ck_assert_uint_eq(ims_replay_stats(r)->validation_failures, 0);
	ims_oracle_free(set);
	ims_replay_free(r);
	return s;
}

START_TEST(migrate_nested_misses_nothing)
{
	/* GPA == HPA in the nested guest's stage 2, so both count the same
	 * pages. */
	struct ims_mig_sync shadow = migrate("domain id=1 format=vtd dirty=on pgsizes=4K\n"
					     "attach dev=1 domain=1\n"
					     "map domain=1 iova=0x10000 pa=0x80000000 size=4K\n",
					     IMS_MIG_HW, 1);
	ck_assert_uint_eq(shadow.written, 3);
	ck_assert_uint_eq(shadow.missed, 2);
	struct ims_mig_sync nested = migrate("domain id=1 format=vtd dirty=on pgsizes=4K\n"
					     "map domain=1 iova=0x80000000 pa=0x80000000 size=64K\n"
					     "domain id=2 format=vtd-fs nested=1\n"
					     "attach dev=1 domain=2\n"
					     "map domain=2 iova=0x10000 pa=0x80000000 size=4K\n",
					     IMS_MIG_NESTED, 2);
	ck_assert_uint_eq(nested.written, 3);
	ck_assert_uint_eq(nested.missed, 0);
	/* Stage 2 maps all of guest RAM and the guest's table pages; the
	 * stage-1 domain is not counted on its own. */
	ck_assert_uint_ge(nested.mapped, 16);
	ck_assert_str_eq(ims_mig_mode_name(IMS_MIG_NESTED), "nested");
}
END_TEST

/* Issue 25 item 4: the golden pair's summary. */
static struct ims_replay_stats replay_file(const char *name)
{
	const char *src = getenv("IMS_SRC");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/traces/nested/%s", src ? src : ".", name);
	struct ims_replay *r = open_replay();
	struct ims_reader *rd;
	char err[256];
	ck_assert_int_eq(ims_reader_open(path, &rd, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_replay_run(r, rd), 0);
	ims_reader_close(rd);
	struct ims_replay_stats st = *ims_replay_stats(r);
	ims_replay_free(r);
	return st;
}

START_TEST(gpa_missed_pair)
{
	struct ims_replay_stats iova = replay_file("gpa-missed-iova.trace");
	struct ims_replay_stats nested = replay_file("gpa-missed-nested.trace");
	ck_assert_uint_eq(iova.validation_failures, 0);
	ck_assert_uint_eq(nested.validation_failures, 0);
	/* GPA 0x80000000 (its IOVA remapped) and 0x80002000 (unmapped). */
	ck_assert_uint_eq(iova.gpa_missed, 2);
	ck_assert_uint_eq(nested.gpa_missed, 0);
	/* The same device writes, and the stage-2 harvest reported all three. */
	ck_assert_uint_eq(iova.dma_pages, nested.dma_pages);
	ck_assert_uint_eq(iova.bits_reported, 1);
	ck_assert_uint_eq(nested.bits_reported, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nested_replay");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, parent_checks);
	tcase_add_loop_test(tc, table_frames_live_in_stage2, 0, 3);
	tcase_add_test(tc, iommufd_invalidate_reaches_hardware);
	tcase_add_test(tc, migrate_nested_misses_nothing);
	tcase_add_test(tc, gpa_missed_pair);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
