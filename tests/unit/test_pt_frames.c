/* The sink's table-frame hook (iommusim/pt.h: table_alloc / table_free):
 * every frame a page table takes from the pool is announced once before
 * use and once before it goes back, and a refused allocation fails the
 * map with nothing leaked. Nesting builds on it (harness/nested.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "iommusim/pt.h"

#define TAG 7

struct frames {
	uint64_t live[64];
	unsigned n, allocs, frees, bad;
	int refuse_after; /* <0: never */
};

static int nop_submit(void *a, enum ims_format f, const uint64_t c[2])
{
	(void)a, (void)f, (void)c;
	return 0;
}
static int nop_update(void *a, uint16_t t, unsigned w, uint64_t c, uint64_t s)
{
	(void)a, (void)t, (void)w, (void)c, (void)s;
	return 0;
}
static int nop_flush(void *a, uint16_t t)
{
	(void)a, (void)t;
	return 0;
}

static int on_alloc(void *arg, uint16_t tag, uint64_t pa, unsigned order)
{
	struct frames *f = arg;
	if (tag != TAG || order != 0)
		f->bad++;
	if (f->refuse_after >= 0 && (int)f->allocs >= f->refuse_after)
		return -EPERM;
	f->allocs++;
	if (f->n < 64)
		f->live[f->n++] = pa;
	return 0;
}

static void on_free(void *arg, uint16_t tag, uint64_t pa, unsigned order)
{
	struct frames *f = arg;
	if (tag != TAG || order != 0)
		f->bad++;
	f->frees++;
	for (unsigned i = 0; i < f->n; i++)
		if (f->live[i] == pa) {
			f->live[i] = f->live[--f->n];
			return;
		}
	f->bad++; /* a frame never announced */
}

static struct ims_pt *mk(struct ims_mem *mem, struct frames *f, enum ims_format fmt)
{
	struct ims_pt_cfg pc = {.fmt = fmt, .tag = TAG};
	struct ims_sink sink = {f, nop_submit, nop_update, nop_flush, NULL, on_alloc, on_free};
	struct ims_pt *pt = NULL;
	char err[160];
	ck_assert_int_eq(ims_pt_new(mem, &pc, &sink, &pt, err, sizeof(err)), 0);
	return pt;
}

START_TEST(every_frame_announced)
{
	static const enum ims_format fmts[] = {IMS_FMT_AMDV1, IMS_FMT_VTD, IMS_FMT_SMMUV3,
					       IMS_FMT_VTD_FS, IMS_FMT_AMDV2, IMS_FMT_SMMUV3_S2};
	enum ims_format fmt = fmts[_i];
	struct ims_mem *mem = ims_mem_new();
	struct frames f = {.refuse_after = -1};
	struct ims_pt *pt = mk(mem, &f, fmt);
	ck_assert_uint_eq(f.allocs, 1); /* the root */
	/* Two maps far apart: a path of tables each. */
	ck_assert_int_eq(ims_pt_map(pt, 0x1000, 0x40000000, 0x1000, IMS_PROT_RW, 0), 0);
	ck_assert_int_eq(ims_pt_map(pt, 0x40201000, 0x40001000, 0x1000, IMS_PROT_RW, 0), 0);
	ck_assert_uint_eq(f.n, ims_pt_stats(pt)->table_pages);
	ck_assert_uint_gt(f.n, 2);
	/* An unmap that empties tables gives them back, announced. */
	ck_assert_int_eq(ims_pt_unmap(pt, 0x40201000, 0x1000, NULL), 0);
	ck_assert_uint_eq(f.n, ims_pt_stats(pt)->table_pages);
	ck_assert_uint_gt(f.frees, 0);
	ims_pt_free(pt);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_uint_eq(f.allocs, f.frees);
	ck_assert_uint_eq(f.bad, 0);
	ims_mem_free(mem);
}
END_TEST

START_TEST(refused_frame_fails_the_map)
{
	struct ims_mem *mem = ims_mem_new();
	struct frames f = {.refuse_after = 2};
	struct ims_pt *pt = mk(mem, &f, IMS_FMT_AMDV1);
	uint64_t before = ims_mem_counters(mem)->pool_frames;
	/* AMD v1 with 4 levels: the root, then three tables down to 4 KiB. */
	ck_assert_int_eq(ims_pt_map(pt, 0x1000, 0x40000000, 0x1000, IMS_PROT_RW, 0), -EPERM);
	/* The refused frame went back to the pool; what was taken before is
	 * announced and live. */
	ck_assert_uint_eq(ims_mem_counters(mem)->pool_frames, before + 1);
	ck_assert_uint_eq(f.n, ims_pt_stats(pt)->table_pages);
	uint64_t pa;
	ck_assert_int_eq(ims_pt_iova_to_phys(pt, 0x1000, &pa, NULL), -ENOENT);
	ims_pt_free(pt);
	ck_assert_uint_eq(ims_mem_counters(mem)->pool_frames, 0);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_uint_eq(f.bad, 0);
	ims_mem_free(mem);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pt_frames");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, every_frame_announced, 0, 6);
	tcase_add_test(tc, refused_frame_fails_the_map);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
