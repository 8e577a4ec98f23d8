/* The iommufd / vfio trace ops (docs/uapi.md): reader rules, expect-err=,
 * GPA pages missed by IOVA tracking, the migration accounting of the
 * replayer (docs/migrate.md), and the oracle's page-set additions. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/oracle.h"
#include "iommusim/replay.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- reader ----------------------------------------------------------------------- */

static int parse(const char *text, struct ims_event *ev, char *msg, size_t n)
{
	struct ims_reader *r;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &r), 0);
	int rc = ims_reader_next(r, ev);
	snprintf(msg, n, "%s", ims_reader_error(r));
	ims_reader_close(r);
	return rc;
}

static void bad(const char *line, const char *want)
{
	struct ims_event ev;
	char msg[512];
	ck_assert_int_eq(parse(line, &ev, msg, sizeof(msg)), -EINVAL);
	if (!strstr(msg, want))
		ck_abort_msg("'%s': got '%s', want it to say '%s'", line, msg, want);
}

START_TEST(reader_ops_and_keys)
{
	struct ims_event ev;
	char msg[512];
	ck_assert_int_eq(parse("iommufd   get-dirty-bitmap hwpt=3 iova=0 length=0 page-size=0 "
			       "expect-err=EOVERFLOW",
			       &ev, msg, sizeof(msg)),
			 1);
	ck_assert_int_eq(ev.op, IMS_OP_IOMMUFD_GET_DIRTY);
	ck_assert_uint_eq(ev.v[IMS_K_LENGTH], 0);
	ck_assert_uint_eq(ev.v[IMS_K_EXPECT_ERR], EOVERFLOW);
	ck_assert_uint_eq(ev.col[IMS_K_HWPT], 28);
	ck_assert_int_eq(parse("vfio dirty-pages container=2 start stop", &ev, msg, sizeof(msg)), 1);
	ck_assert(ims_ev_has(&ev, IMS_K_START) && ims_ev_has(&ev, IMS_K_STOP));
	ck_assert_int_eq(parse("vfio map container=2 iova=0 pa=0 length=4K expect-err=22", &ev, msg,
			       sizeof(msg)),
			 1);
	ck_assert_uint_eq(ev.v[IMS_K_EXPECT_ERR], 22);
	/* Two-word ops only: the call alone is no op. */
	bad("hwpt-alloc hwpt=1 dev=1 ioas=1\n", "unknown op 'hwpt-alloc'");
	bad("iommufd\n", "iommufd needs the call (expected bind, hw-info");
	bad("iommufd frob x=1\n", "unknown call 'iommufd frob'");
	bad("vfio map\n", "vfio map needs ");
	bad("iommufd set-dirty-tracking hwpt=1\n", "needs on, off or flags=");
	bad("iommufd set-dirty-tracking hwpt=1 on flags=1\n", "takes one of on, off and flags=");
	bad("iommufd get-dirty-bitmap hwpt=1 iova=0 length=4K page-size=4K expect=1 "
	    "expect-count=1\n",
	    "exclude each other");
	bad("iommufd hw-info dev=1 expect-err=EBOGUS\n", "'EBOGUS' is not an errno");
	bad("iommufd hw-info dev=1 expect-err=0\n", "out of range");
	bad("iommufd attach dev=1 hwpt=65536\n", "out of range");
	bad("vfio pin container=70000 iova=0 length=4K\n", "out of range");
	bad("iommufd set-dirty-tracking hwpt=1 flags=0x100000000\n", "32-bit field");
	bad("iommufd ioas-alloc ioas=0x100000000\n", "32-bit field");
	bad("vfio unmap container=1 iova=0 length=4K page-size=4K\n", "need get-dirty-bitmap");
	bad("vfio unmap container=1 iova=0 length=4K flags=1 get-dirty-bitmap\n", "excludes");
	bad("vfio dirty-pages container=1\n", "needs start, stop, get-bitmap or flags=");
	bad("vfio dirty-pages container=1 get-bitmap\n", "needs iova= and length=");
	bad("vfio dirty-pages container=1 start iova=0\n", "need get-bitmap");
	bad("vfio dirty-pages container=1 start flags=1\n", "excludes start");
	bad("iommufd map ioas=1 iova=0 pa=0 size=4K\n", "unknown key 'size' for iommufd map");
	/* The writer gives back the same line. */
	ck_assert_int_eq(parse("iommufd get-dirty-bitmap hwpt=3 iova=0x1000 length=0x2000 "
			       "page-size=0x1000 noclear expect-err=EFAULT",
			       &ev, msg, sizeof(msg)),
			 1);
	char out[256];
	ims_event_format(&ev, out, sizeof(out));
	ck_assert_str_eq(out, "iommufd get-dirty-bitmap iova=0x1000 noclear hwpt=3 length=0x2000 "
			      "page-size=0x1000 expect-err=EFAULT");
	ck_assert_str_eq(ims_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	ck_assert_ptr_null(ims_errno_name(12345));
}
END_TEST

/* ---- replays --------------------------------------------------------------------------- */

struct run {
	int rc;
	struct ims_replay_stats st;
	char err[512];
};

static struct run replay(const char *text, const struct ims_iommu_cfg *cfg)
{
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	o.diag = tmpfile();
	if (cfg)
		o.model = *cfg;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&o, &r), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("t.trace", text, strlen(text), 1, &rd), 0);
	struct run out;
	out.rc = ims_replay_run(r, rd);
	out.st = *ims_replay_stats(r);
	snprintf(out.err, sizeof(out.err), "%s", ims_replay_error(r));
	ims_reader_close(rd);
	ims_replay_free(r);
	fclose(o.diag);
	return out;
}

START_TEST(expect_err_outcomes)
{
	static const char *const head = "iommufd bind dev=1 format=vtd\n"
					"iommufd ioas-alloc ioas=1\n"
					"iommufd hwpt-alloc hwpt=3 dev=1 ioas=1 dirty=on\n";
	char t[1024];
	/* The expected error: an assertion that held. */
	snprintf(t, sizeof(t), "%siommufd set-dirty-tracking hwpt=3 flags=2 expect-err=EOPNOTSUPP\n", head);
	struct run x = replay(t, NULL);
	ck_assert_int_eq(x.rc, 0);
	ck_assert_uint_eq(x.st.validation_failures, 0);
	ck_assert_uint_eq(x.st.uapi_calls, 3);
	ck_assert_uint_eq(x.st.uapi_errors, 1);
	ck_assert_uint_eq(x.st.assertions, 1);
	/* Another error, an unexpected error, an unexpected success. */
	snprintf(t, sizeof(t), "%siommufd set-dirty-tracking hwpt=3 flags=2 expect-err=EINVAL\n", head);
	x = replay(t, NULL);
	ck_assert_int_eq(x.rc, 0);
	ck_assert_uint_eq(x.st.validation_failures, 1);
	ck_assert_uint_eq(x.st.assertion_failures, 1);
	snprintf(t, sizeof(t), "%siommufd set-dirty-tracking hwpt=3 flags=2\n", head);
	x = replay(t, NULL);
	ck_assert_uint_eq(x.st.validation_failures, 1);
	ck_assert_uint_eq(x.st.assertion_failures, 0);
	snprintf(t, sizeof(t), "%siommufd set-dirty-tracking hwpt=3 on expect-err=EINVAL\n", head);
	x = replay(t, NULL);
	ck_assert_uint_eq(x.st.validation_failures, 1);
	/* Input errors stay input errors. */
	snprintf(t, sizeof(t), "%siommufd hwpt-alloc hwpt=3 dev=1 ioas=1\n", head);
	x = replay(t, NULL);
	ck_assert_int_eq(x.rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(x.err, "t.trace:4:"));
	snprintf(t, sizeof(t), "%smap domain=3 iova=0 pa=0 size=4K\n", head);
	x = replay(t, NULL);
	ck_assert_int_eq(x.rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(x.err, "is an iommufd HWPT"));
	x = replay("vfio container id=4 format=vtd\nunmap domain=4 iova=0 size=4K\n", NULL);
	ck_assert_ptr_nonnull(strstr(x.err, "is a VFIO container"));
	x = replay("vfio container id=4 format=vtd\nvfio group id=1 container=4\n"
		   "vfio group id=1 container=4\n",
		   NULL);
	ck_assert_ptr_nonnull(strstr(x.err, "already in the container"));
	x = replay("vfio map container=4 iova=0 pa=0 length=4K\n", NULL);
	ck_assert_ptr_nonnull(strstr(x.err, "container 4 is not defined"));
	x = replay("iommufd bind dev=1 format=vtd\niommufd bind dev=1 format=vtd\n", NULL);
	ck_assert_ptr_nonnull(strstr(x.err, "already bound"));
}
END_TEST

/* GET_HW_INFO reports what the model's capability registers offer. */
START_TEST(capability_from_the_model)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.amd_efr &= ~(1ull << 52); /* no HDSup */
	cfg.vtd_ecap &= ~(1ull << 48); /* no SMPWC */
	cfg.smmu_idr0 = 1ull << 6;     /* HTTU: access flag only */
	struct run x = replay("iommufd bind dev=1 format=amdv1\niommufd hw-info dev=1 dirty-cap=off\n"
			      "iommufd bind dev=2 format=vtd\niommufd hw-info dev=2 dirty-cap=off\n"
			      "iommufd bind dev=3 format=smmuv3\niommufd hw-info dev=3 dirty-cap=off\n"
			      "iommufd ioas-alloc ioas=1\n"
			      "iommufd hwpt-alloc hwpt=9 dev=1 ioas=1 dirty=on expect-err=EOPNOTSUPP\n"
			      "iommufd hwpt-alloc hwpt=10 dev=3 ioas=1 dirty=on expect-err=EOPNOTSUPP\n"
			      "iommufd hwpt-alloc hwpt=11 dev=3 ioas=1\n"
			      "iommufd attach dev=3 hwpt=11\n"
			      "iommufd map ioas=1 iova=0x100000 pa=0x40000000 length=8K\n"
			      "dma dev=3 iova=0x100000 len=8K dir=w\n",
			      &cfg);
	ck_assert_msg(x.rc == 0, "%s", x.err);
	ck_assert_uint_eq(x.st.validation_failures, 0);
	/* SMMU HTTU = 1: the driver's CD for the untracked HWPT leaves HA
	 * and HD clear (SMMUv3 5.4 makes HD beyond HTTU ILLEGAL), the model
	 * takes it, and device writes go through. */
	ck_assert_uint_eq(x.st.dma_ops, 1);
	ck_assert_uint_eq(x.st.faults, 0);
	x = replay("iommufd bind dev=1 format=amdv1 dirty-cap=on\n", &cfg);
	ck_assert_int_eq(x.rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(x.err, "t.trace:1:33: dirty-cap=on"));
	ims_iommu_cfg_default(&cfg);
	x = replay("iommufd bind dev=1 format=smmuv3\niommufd hw-info dev=1 dirty-cap=on\n"
		   "iommufd bind dev=2 format=smmuv3 dirty-cap=off\niommufd hw-info dev=2 dirty-cap=off\n",
		   &cfg);
	ck_assert_uint_eq(x.st.validation_failures, 0);
	ck_assert_uint_eq(x.st.assertions, 2);
}
END_TEST

static const char gpa_head[] = "domain id=1 format=amdv1 dirty=on pgsizes=4K\n"
			       "attach dev=7 domain=1\n"
			       "map domain=1 iova=0x10000 pa=0x100000 size=16K\n"
			       "track domain=1 on\n"
			       "dma dev=7 iova=0x10000 len=16K dir=w\n";

/* ims_replay_run reads the event after a dma before replaying the dma (to
 * prefetch it): an error in that event is still reported after the dma is
 * done, and an expect= after a dma still reads its own digits. */
START_TEST(read_ahead_after_dma)
{
	char t[2048];
	snprintf(t, sizeof(t),
		 "%sdma dev=7 iova=0x13000 len=4K dir=w\n"
		 "harvest domain=1 iova=0x10000 size=16K noclear expect=0xf\n"
		 "dma dev=7 iova=0x10000 len=4K dir=r\n"
		 "harvest domain=1 iova=0x10000 size=16K expect=0xe\n"
		 "dma dev=7 iova=0x11000 len=4K dir=r\n"
		 "dma dev=7 iova=0x12000 len=4K dir=r\n"
		 "dma dev=7 iova=0x13000 len=4K dir=bogus\n",
		 gpa_head);
	struct run x = replay(t, NULL);
	ck_assert_int_eq(x.rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(x.err, "t.trace:12:"));
	ck_assert_uint_eq(x.st.dma_ops, 5); /* every dma before the bad line */
	ck_assert_uint_eq(x.st.harvests, 2);
	ck_assert_uint_eq(x.st.harvest_mismatches, 0);
	ck_assert_uint_eq(x.st.validation_failures, 1); /* expect=0xe: page 0 is dirty too */
}
END_TEST

START_TEST(gpa_missed_by_iova_tracking)
{
	char t[2048];
	/* Unmapped, and remapped elsewhere, before the harvest. */
	snprintf(t, sizeof(t),
		 "%sunmap domain=1 iova=0x10000 size=4K\n"
		 "map domain=1 iova=0x10000 pa=0x200000 size=4K\n"
		 "unmap domain=1 iova=0x11000 size=4K\n"
		 "harvest domain=1 iova=0x10000 size=16K expect=0xc\n"
		 "harvest domain=1 iova=0x10000 size=16K expect=0\n",
		 gpa_head);
	struct run x = replay(t, NULL);
	ck_assert_int_eq(x.rc, 0);
	ck_assert_uint_eq(x.st.validation_failures, 0);
	ck_assert_uint_eq(x.st.gpa_missed, 2);
	ck_assert_uint_eq(x.st.lost_on_unmap, 2);
	/* Read first (VFIO's unmap with a bitmap, or a harvest): none missed. */
	snprintf(t, sizeof(t),
		 "%sunmap domain=1 iova=0x10000 size=4K read-dirty\n"
		 "harvest domain=1 iova=0x11000 size=4K noclear\n"
		 "unmap domain=1 iova=0x11000 size=4K\n"
		 "harvest domain=1 iova=0x12000 size=8K expect=3\n",
		 gpa_head);
	x = replay(t, NULL);
	ck_assert_uint_eq(x.st.validation_failures, 0);
	ck_assert_uint_eq(x.st.gpa_missed, 0);
	/* Written after the harvest, then unmapped: counted at the next one. */
	snprintf(t, sizeof(t),
		 "%sharvest domain=1 iova=0x10000 size=16K expect=0xf\n"
		 "dma dev=7 iova=0x13000 len=1 dir=w\n"
		 "unmap domain=1 iova=0x13000 size=4K\n"
		 "harvest domain=1 iova=0x10000 size=8K expect=0\n"
		 "harvest domain=1 iova=0x10000 size=8K expect=0\n",
		 gpa_head);
	x = replay(t, NULL);
	ck_assert_uint_eq(x.st.gpa_missed, 1);
	/* Tracking switched on again starts afresh. */
	snprintf(t, sizeof(t),
		 "%sunmap domain=1 iova=0x10000 size=4K\n"
		 "track domain=1 on\n"
		 "harvest domain=1 iova=0x11000 size=12K expect=0\n",
		 gpa_head);
	x = replay(t, NULL);
	ck_assert_uint_eq(x.st.gpa_missed, 0);
	/* iommufd: IOAS unmap discards; the NO_CLEAR read before it is the
	 * user space's duty. */
	static const char fd_head[] = "iommufd bind dev=1 format=vtd\n"
				      "iommufd ioas-alloc ioas=1\n"
				      "iommufd hwpt-alloc hwpt=3 dev=1 ioas=1 dirty=on\n"
				      "iommufd attach dev=1 hwpt=3\n"
				      "iommufd map ioas=1 iova=0x100000 pa=0x40000000 length=8K\n"
				      "iommufd map ioas=1 iova=0x102000 pa=0x50000000 length=8K\n"
				      "iommufd set-dirty-tracking hwpt=3 on\n"
				      "dma dev=1 iova=0x100000 len=16K dir=w\n";
	snprintf(t, sizeof(t),
		 "%siommufd get-dirty-bitmap hwpt=3 iova=0x100000 length=8K page-size=4K noclear expect=3\n"
		 "iommufd unmap ioas=1 iova=0x100000 length=16K\n"
		 "iommufd map ioas=1 iova=0x100000 pa=0x60000000 length=16K\n"
		 "iommufd get-dirty-bitmap hwpt=3 iova=0x100000 length=16K page-size=4K expect=0\n",
		 fd_head);
	x = replay(t, NULL);
	ck_assert_int_eq(x.rc, 0);
	ck_assert_uint_eq(x.st.validation_failures, 0);
	ck_assert_uint_eq(x.st.gpa_missed, 2);
	ck_assert_uint_eq(x.st.lost_on_unmap, 4);
}
END_TEST

/* ---- migration accounting ------------------------------------------------------------- */

struct mig {
	struct ims_replay *r;
	struct ims_oracle *set;
};

static void mig_up(struct mig *m, const char *setup)
{
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	ck_assert_int_eq(ims_replay_new(&o, &m->r), 0);
	m->set = ims_oracle_new();
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("setup", setup, strlen(setup), 1, &rd), 0);
	ck_assert_int_eq(ims_replay_run(m->r, rd), 0);
	ims_reader_close(rd);
}

static void mig_do(struct mig *m, const char *text)
{
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("t", text, strlen(text), 1, &rd), 0);
	ck_assert_int_eq(ims_replay_run(m->r, rd), 0);
	ims_reader_close(rd);
}

static struct ims_mig_sync mig_sync(struct mig *m, enum ims_mig_mode mode)
{
	struct ims_mig_sync s;
	ims_oracle_reset(m->set, 0);
	ck_assert_int_eq(ims_replay_mig_sync(m->r, mode, m->set, &s), 0);
	ck_assert_uint_eq(s.dirty, ims_oracle_count(m->set, 0, 0, 0));
	return s;
}

static void mig_down(struct mig *m)
{
	ck_assert_uint_eq(ims_replay_stats(m->r)->validation_failures, 0);
	ims_replay_free(m->r);
	ims_oracle_free(m->set);
}

static const char mig_setup[] = "domain id=1 format=amdv1 dirty=on pgsizes=4K,2M\n"
				"attach dev=7 domain=1\n"
				"map domain=1 iova=0 pa=0x40000000 size=8M\n"
				"domain id=2 format=amdv1 dirty=on pgsizes=4K\n"
				"attach dev=8 domain=2\n";

/* hw: what devices wrote, at the leaf the hardware dirtied, in GPA. */
START_TEST(mig_hw)
{
	struct mig m;
	mig_up(&m, mig_setup);
	struct ims_mig_sync s;
	ck_assert_int_eq(ims_replay_mig_sync(m.r, IMS_MIG_HW, m.set, &s), -EINVAL);
	ck_assert_int_eq(ims_replay_mig_start(m.r, IMS_MIG_HW), 0);
	mig_do(&m, "dma dev=7 iova=0x1000 len=1 dir=w\n");
	s = mig_sync(&m, IMS_MIG_HW);
	/* One byte into a 2 MiB leaf: the VMM resends 2 MiB. */
	ck_assert_uint_eq(s.dirty, 512);
	ck_assert_uint_eq(s.written, 1);
	ck_assert_uint_eq(s.missed, 0);
	ck_assert_uint_eq(s.mapped, 2048);
	ck_assert(ims_oracle_test(m.set, 0, 0x40000000));
	ck_assert(!ims_oracle_test(m.set, 0, 0x40200000));
	/* Nothing new: nothing to send. */
	s = mig_sync(&m, IMS_MIG_HW);
	ck_assert_uint_eq(s.dirty, 0);
	/* A transient mapping: written, unmapped before the sync, missed. */
	mig_do(&m, "map domain=2 iova=0x10000 pa=0x80000000 size=8K\n"
		   "dma dev=8 iova=0x10000 len=8K dir=w\n"
		   "unmap domain=2 iova=0x10000 size=4K\n"
		   "unmap domain=2 iova=0x11000 size=4K read-dirty\n");
	s = mig_sync(&m, IMS_MIG_HW);
	ck_assert_uint_eq(s.written, 2);
	ck_assert_uint_eq(s.missed, 1);
	ck_assert_uint_eq(s.dirty, 1);
	ck_assert(ims_oracle_test(m.set, 0, 0x80001000));
	mig_down(&m);
}
END_TEST

/* type1 and none: every mapped page; none also what was unmapped since. */
START_TEST(mig_type1_none)
{
	for (int mode = IMS_MIG_TYPE1; mode <= IMS_MIG_NONE; mode++) {
		struct mig m;
		mig_up(&m, mig_setup);
		ck_assert_int_eq(ims_replay_mig_start(m.r, (enum ims_mig_mode)mode), 0);
		struct ims_mig_sync s = mig_sync(&m, (enum ims_mig_mode)mode);
		ck_assert_uint_eq(s.dirty, 2048);
		ck_assert_uint_eq(s.written, 0);
		s = mig_sync(&m, (enum ims_mig_mode)mode);
		ck_assert_uint_eq(s.dirty, 2048);
		mig_do(&m, "map domain=2 iova=0x10000 pa=0x80000000 size=8K\n"
			   "dma dev=8 iova=0x10000 len=8K dir=w\n"
			   "unmap domain=2 iova=0x10000 size=8K\n");
		s = mig_sync(&m, (enum ims_mig_mode)mode);
		ck_assert_uint_eq(s.written, 2);
		ck_assert_uint_eq(s.dirty, mode == IMS_MIG_NONE ? 2050 : 2048);
		ck_assert_uint_eq(s.missed, mode == IMS_MIG_NONE ? 0 : 2);
		mig_down(&m);
	}
}
END_TEST

/* type1 with every group tracking pins: only pinned pages. */
START_TEST(mig_type1_pinned)
{
	struct mig m;
	mig_up(&m, "vfio container id=3 format=vtd\n"
		   "vfio group id=1 container=3 dev=9 pin-scope\n"
		   "vfio map container=3 iova=0x100000 pa=0x40000000 length=64K\n"
		   "vfio map container=3 iova=0x200000 pa=0x50000000 length=64K\n"
		   "vfio pin container=3 iova=0x101000 length=4K\n");
	ck_assert_int_eq(ims_replay_mig_start(m.r, IMS_MIG_TYPE1), 0);
	mig_do(&m, "vfio pin container=3 iova=0x200000 length=8K\n"
		   "vfio unpin container=3 iova=0x200000 length=8K\n");
	struct ims_mig_sync s = mig_sync(&m, IMS_MIG_TYPE1);
	ck_assert_uint_eq(s.dirty, 3);
	ck_assert(ims_oracle_test(m.set, 0, 0x40001000));
	ck_assert(ims_oracle_test(m.set, 0, 0x50001000));
	s = mig_sync(&m, IMS_MIG_TYPE1);
	ck_assert_uint_eq(s.dirty, 1);
	/* The trace's own query agrees with what the sync left. */
	mig_do(&m, "vfio dirty-pages container=3 get-bitmap iova=0x100000 length=0x110000 "
		   "expect-count=1\n");
	/* none: all 32 mapped pages. */
	s = mig_sync(&m, IMS_MIG_NONE);
	ck_assert_uint_eq(s.dirty, 32);
	mig_down(&m);
}
END_TEST

/* The per-piece path of dma (kept for the GPA sets) behaves as
 * ims_iommu_dma: same counters. */
START_TEST(dma_paths_agree)
{
	const char *t = "domain id=1 format=vtd dirty=on\n"
			"attach dev=7 domain=1\n"
			"map domain=1 iova=0x100000 pa=0x40000000 size=4M\n"
			"dma dev=7 iova=0x100800 len=0x300000 dir=w\n"
			"dma dev=7 iova=0x500000 len=64K dir=rw\n"
			"dma dev=7 iova=0x0ff000 len=8K dir=w\n";
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.verbosity = 0;
	o.diag = tmpfile();
	struct ims_iommu_counters c[2];
	struct ims_replay_stats st[2];
	for (int i = 0; i < 2; i++) {
		struct ims_replay *r;
		ck_assert_int_eq(ims_replay_new(&o, &r), 0);
		if (i)
			ck_assert_int_eq(ims_replay_mig_start(r, IMS_MIG_NONE), 0);
		struct ims_reader *rd;
		ck_assert_int_eq(ims_reader_open_mem("t", t, strlen(t), 1, &rd), 0);
		ck_assert_int_eq(ims_replay_run(r, rd), 0);
		ims_reader_close(rd);
		c[i] = *ims_iommu_counters(ims_replay_iommu(r));
		st[i] = *ims_replay_stats(r);
		ims_replay_free(r);
	}
	fclose(o.diag);
	ck_assert_int_eq(memcmp(&c[0], &c[1], sizeof(c[0])), 0);
	ck_assert_uint_eq(st[0].dma_pages, st[1].dma_pages);
	ck_assert_uint_eq(st[0].faults, st[1].faults);
	ck_assert_uint_eq(st[0].faults, 17); /* 16 unmapped pieces, and one */
}
END_TEST

/* ---- the oracle's page-set additions ----------------------------------------------------- */

struct runs {
	uint64_t first[16], n[16];
	unsigned count, stop_at;
};

static int collect(void *arg, uint64_t first, uint64_t npages)
{
	struct runs *r = arg;
	r->first[r->count] = first;
	r->n[r->count] = npages;
	r->count++;
	return r->stop_at && r->count == r->stop_at ? 7 : 0;
}

START_TEST(oracle_add_and_runs)
{
	struct ims_oracle *o = ims_oracle_new();
	/* Any byte range: every page it meets. */
	ims_oracle_add(o, 2, 0x1fff, 2);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 0, 0), 2);
	ims_oracle_add(o, 2, 0x5000, 0);
	ck_assert_uint_eq(ims_oracle_count(o, 2, 0, 0), 2);
	/* A run across a 2 MiB chunk and a 1 GiB boundary is one run. */
	ims_oracle_add(o, 2, GiB - 8 * KiB, 16 * KiB);
	ims_oracle_add(o, 2, 3 * GiB, 2 * GiB);
	ims_oracle_add(o, 2, ~0ull - 4095, 4096);
	struct runs r = {0};
	ck_assert_int_eq(ims_oracle_for_each(o, 2, 0, 0, collect, &r), 0);
	ck_assert_uint_eq(r.count, 4);
	ck_assert_uint_eq(r.first[0], 0x1000);
	ck_assert_uint_eq(r.n[0], 2);
	ck_assert_uint_eq(r.first[1], GiB - 8 * KiB);
	ck_assert_uint_eq(r.n[1], 4);
	ck_assert_uint_eq(r.first[2], 3 * GiB);
	ck_assert_uint_eq(r.n[2], 2 * GiB / 4096);
	ck_assert_uint_eq(r.first[3], ~0ull - 4095);
	ck_assert_uint_eq(r.n[3], 1);
	/* Clipped to the range's pages; stopped early. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(ims_oracle_for_each(o, 2, GiB - 4 * KiB, 3 * GiB, collect, &r), 0);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.first[0], GiB - 4 * KiB);
	ck_assert_uint_eq(r.n[0], 3);
	ck_assert_uint_eq(r.n[1], (GiB - 4 * KiB) / 4096);
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	ck_assert_int_eq(ims_oracle_for_each(o, 2, 0, 0, collect, &r), 7);
	ck_assert_uint_eq(r.count, 2);
	/* Bits in a chunk, separated and adjacent across words. */
	for (uint64_t p = 60; p < 70; p++)
		ims_oracle_add(o, 5, p * 4096, 4096);
	ims_oracle_add(o, 5, 200 * 4096, 4096);
	ims_oracle_add(o, 5, 511 * 4096, 2 * 4096);
	memset(&r, 0, sizeof(r));
	ims_oracle_for_each(o, 5, 0, 0, collect, &r);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.first[0], 60 * 4096);
	ck_assert_uint_eq(r.n[0], 10);
	ck_assert_uint_eq(r.first[1], 200 * 4096);
	ck_assert_uint_eq(r.first[2], 511 * 4096);
	ck_assert_uint_eq(r.n[2], 2);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(ims_oracle_for_each(o, 9, 0, 0, collect, &r), 0);
	ck_assert_uint_eq(r.count, 0);
	ims_oracle_free(o);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("uapi_trace");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reader_ops_and_keys);
	tcase_add_test(tc, expect_err_outcomes);
	tcase_add_test(tc, capability_from_the_model);
	tcase_add_test(tc, gpa_missed_by_iova_tracking);
	tcase_add_test(tc, read_ahead_after_dma);
	tcase_add_test(tc, mig_hw);
	tcase_add_test(tc, mig_type1_none);
	tcase_add_test(tc, mig_type1_pinned);
	tcase_add_test(tc, dma_paths_agree);
	tcase_add_test(tc, oracle_add_and_runs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
