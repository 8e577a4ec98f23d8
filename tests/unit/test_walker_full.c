/* A full-level walker of the walker ABI (iommusim/walker.h), written here:
 * a tiny VT-d second-stage table of its own (3 levels, 4 KiB pages), with
 * map, unmap, iova_to_phys, context words, dirty tracking and
 * read_and_clear_dirty through the host. The host checks it (every op of
 * the full level), hands its refusals back, and runs it end to end: the
 * model walks its tables and sets dirty bits in them, the host harvests
 * them against the oracle and flushes what it gathered, unmap-with-read
 * harvests then unmaps, and domain_free gives every table back. A table
 * that a full-level walker owns takes no other walker, and the built-in
 * tables take no full-level one. (test_walker_abi.c: the harvest level.)
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "walker_rig.h"

/* ---- a full-level test walker: VT-d second stage, 3 levels, 4 KiB pages --------
 *
 * Its own table code, from formats.md ("Intel VT-d second-stage tables"):
 * R bit 0, W bit 1 (present when either is set), D bit 9, address 51:12;
 * the scalable-mode PASID-table entry: P bit 0, AW bits 4:2 (1 = 39 bits,
 * 3 levels), PGTT bits 8:6 (2 = second stage), SSADE bit 9, the table
 * pointer in 63:12; the DomainID in bits 15:0 of the second word. */

#define VT_R 1ull
#define VT_W 2ull
#define VT_D (1ull << 9)
#define VT_ADDR 0x000ffffffffff000ull
#define PE_P 1ull
#define PE_AW39 (1ull << 2)
#define PE_PGTT_SL (2ull << 6)
#define PE_SSADE (1ull << 9)
#define TINY_TOP 2 /* levels 2, 1, 0 */

struct tiny {
	bool tracking;
	unsigned maps;
};

static int tiny_init(struct ims_walker_dom *d, char *err, size_t errlen)
{
	if (d->fmt != IMS_FMT_VTD || d->levels != 3 || d->pgsizes != IMS_PAGE_SIZE) {
		snprintf(err, errlen, "tiny walker: VT-d, 3 levels and 4 KiB pages only");
		return -EINVAL;
	}
	struct tiny *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int rc = d->host->alloc_table(d, 0, &d->root);
	if (rc) {
		free(t);
		return rc;
	}
	d->priv = t;
	return 0;
}

static void tiny_free_table(struct ims_walker_dom *d, uint64_t table, int level)
{
	for (unsigned i = 0; level > 0 && i < 512; i++) {
		uint64_t e = d->host->load(d, table + 8 * i);
		if (e & (VT_R | VT_W))
			tiny_free_table(d, e & VT_ADDR, level - 1);
	}
	d->host->free_table(d, table, 0);
}

static void tiny_domain_free(struct ims_walker_dom *d)
{
	tiny_free_table(d, d->root, TINY_TOP);
	free(d->priv);
}

static void tiny_ctx_words(struct ims_walker_dom *d, uint64_t words[8])
{
	const struct tiny *t = d->priv;
	memset(words, 0, 8 * sizeof(words[0]));
	words[0] = PE_P | PE_AW39 | PE_PGTT_SL | (d->root & VT_ADDR) | (t->tracking ? PE_SSADE : 0);
	words[1] = d->tag;
}

/* The leaf slot of iova, making tables on the way when `make`. */
static int tiny_slot(struct ims_walker_dom *d, uint64_t iova, bool make, uint64_t *slot)
{
	const struct ims_walker_host *h = d->host;
	uint64_t table = d->root;
	for (int level = TINY_TOP; level > 0; level--) {
		uint64_t pa = table + 8 * ((iova >> (12 + 9 * level)) & 511);
		uint64_t e = h->load(d, pa);
		if (!(e & (VT_R | VT_W))) {
			if (!make)
				return -ENOENT;
			uint64_t t;
			int rc = h->alloc_table(d, 0, &t);
			if (rc)
				return rc;
			e = t | VT_R | VT_W;
			h->store(d, pa, e);
		}
		table = e & VT_ADDR;
	}
	*slot = table + 8 * ((iova >> 12) & 511);
	return 0;
}

static int tiny_map(struct ims_walker_dom *d, uint64_t iova, uint64_t pa, uint64_t size,
		    unsigned prot, uint64_t pgsize)
{
	if ((pgsize && pgsize != IMS_PAGE_SIZE) || ((iova | pa | size) & (IMS_PAGE_SIZE - 1)))
		return -EINVAL;
	uint64_t slot;
	for (uint64_t off = 0; off < size; off += IMS_PAGE_SIZE)
		if (!tiny_slot(d, iova + off, false, &slot) &&
		    (d->host->load(d, slot) & (VT_R | VT_W)))
			return -EEXIST;
	uint64_t bits = (prot & IMS_WALKER_PROT_R) ? VT_R : 0;
	bits |= (prot & IMS_WALKER_PROT_W) ? VT_W : 0;
	for (uint64_t off = 0; off < size; off += IMS_PAGE_SIZE) {
		int rc = tiny_slot(d, iova + off, true, &slot);
		if (rc)
			return rc;
		d->host->store(d, slot, ((pa + off) & VT_ADDR) | bits);
	}
	((struct tiny *)d->priv)->maps++;
	return 0;
}

static int tiny_unmap(struct ims_walker_dom *d, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	uint64_t bytes = 0, slot;
	for (uint64_t off = 0; off < size; off += IMS_PAGE_SIZE) {
		if (tiny_slot(d, iova + off, false, &slot) ||
		    !(d->host->load(d, slot) & (VT_R | VT_W)))
			continue;
		d->host->store(d, slot, 0);
		bytes += IMS_PAGE_SIZE;
	}
	*unmapped = bytes;
	return d->host->flush_range(d, iova, size, false);
}

static int tiny_iova_to_phys(struct ims_walker_dom *d, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	uint64_t slot;
	if (tiny_slot(d, iova, false, &slot))
		return -ENOENT;
	uint64_t e = d->host->load(d, slot);
	if (!(e & (VT_R | VT_W)))
		return -ENOENT;
	*pa = (e & VT_ADDR) | (iova & (IMS_PAGE_SIZE - 1));
	*prot = ((e & VT_R) ? IMS_WALKER_PROT_R : 0) | ((e & VT_W) ? IMS_WALKER_PROT_W : 0);
	return 0;
}

static int tiny_set_dirty_tracking(struct ims_walker_dom *d, bool enable)
{
	struct tiny *t = d->priv;
	if (!d->dirty_tracking)
		return -EINVAL;
	int rc = d->host->ctx_change(d, 0, PE_SSADE, enable ? PE_SSADE : 0);
	if (!rc)
		t->tracking = enable;
	return rc;
}

static void tiny_rcd_table(struct ims_walker_dom *d, uint64_t table, int level, uint64_t base,
			   uint64_t first, uint64_t last, unsigned flags,
			   struct ims_walker_dirty *dirty)
{
	const struct ims_walker_host *h = d->host;
	unsigned shift = 12 + 9 * (unsigned)level;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t lo = base + ((uint64_t)i << shift), hi = lo + ((1ull << shift) - 1);
		if (hi < first || lo > last)
			continue;
		uint64_t e = h->load(d, table + 8 * i);
		if (!(e & (VT_R | VT_W)))
			continue;
		if (level > 0) {
			tiny_rcd_table(d, e & VT_ADDR, level - 1, lo, first, last, flags, dirty);
		} else if (e & VT_D) {
			h->record(dirty, lo, IMS_PAGE_SIZE);
			if (!(flags & IMS_WALKER_NO_CLEAR))
				h->fetch_and(d, table + 8 * i, ~VT_D);
		}
	}
}

static int tiny_rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
		    struct ims_walker_dirty *dirty)
{
	tiny_rcd_table(d, d->root, TINY_TOP, 0, iova, iova + (size - 1), flags, dirty);
	return 0;
}

static const struct ims_walker_ops tiny_ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = "tiny-vtd",
	.description = "VT-d second stage, 3 levels, 4 KiB pages, in a hundred lines",
	.level = IMS_WALKER_FULL,
	.formats = 1u << IMS_FMT_VTD,
	.read_and_clear_dirty = tiny_rcd,
	.domain_init = tiny_init,
	.domain_free = tiny_domain_free,
	.ctx_words = tiny_ctx_words,
	.map = tiny_map,
	.unmap = tiny_unmap,
	.iova_to_phys = tiny_iova_to_phys,
	.set_dirty_tracking = tiny_set_dirty_tracking,
};

/* ---- the host's checks ---------------------------------------------------------- */

START_TEST(check_full_level_needs_every_op)
{
	char err[200];
	ck_assert_int_eq(ims_walker_check(&tiny_ops, IMS_FMT_VTD, err, sizeof(err)), 0);
	refused(&tiny_ops, IMS_FMT_AMDV1, "tiny-vtd does not handle format");
	static const char *const names[] = {"domain_init", "domain_free", "ctx_words", "map",
					    "unmap", "iova_to_phys", "set_dirty_tracking"};
	for (unsigned i = 0; i < 7; i++) {
		struct ims_walker_ops o = tiny_ops;
		switch (i) {
		case 0: o.domain_init = NULL; break;
		case 1: o.domain_free = NULL; break;
		case 2: o.ctx_words = NULL; break;
		case 3: o.map = NULL; break;
		case 4: o.unmap = NULL; break;
		case 5: o.iova_to_phys = NULL; break;
		case 6: o.set_dirty_tracking = NULL; break;
		}
		char want[80];
		snprintf(want, sizeof(want), "full-level walker tiny-vtd has no %s", names[i]);
		refused(&o, IMS_FMT_VTD, want);
	}
	/* The optional ones may be missing. */
	struct ims_walker_ops o = tiny_ops;
	o.attach = NULL;
	o.detach = NULL;
	o.unmap_read_dirty = NULL;
	ck_assert_int_eq(ims_walker_check(&o, IMS_FMT_VTD, err, sizeof(err)), 0);
}
END_TEST

/* A domain_init that claims a root it did not allocate. */
static int rootless_init(struct ims_walker_dom *d, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	d->root = 0x1000;
	return 0;
}

static void rootless_free(struct ims_walker_dom *d)
{
	(void)d;
}

/* ims_pt_new refuses the walker for another format, hands back the
 * walker's own refusal (domain_init), and refuses a root that is no table
 * the walker allocated; nothing is left behind. */
START_TEST(new_domain_refusals)
{
	struct rig r;
	rig_base(&r);
	char err[200] = "";
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_AMDV1, .tag = TAG, .plugin = &tiny_ops};
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "tiny-vtd does not handle format"), "%s", err);
	pc.fmt = IMS_FMT_VTD;
	pc.levels = 4;
	pc.pgsizes = IMS_PAGE_SIZE;
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "tiny walker: VT-d, 3 levels"), "%s", err);
	pc.levels = 3;
	pc.pgsizes = 0; /* all VT-d has: 2 MiB and 1 GiB too */
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "tiny walker"), "%s", err);
	struct ims_walker_ops o = tiny_ops;
	o.domain_init = rootless_init;
	o.domain_free = rootless_free;
	pc.plugin = &o;
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "walker tiny-vtd: domain_init left a root (0x1000) that is no table"),
		      "%s", err);
	ck_assert_ptr_null(r.pt);
	rig_down(&r);
}
END_TEST

/* The built-in tables take harvest-level walkers only. */
START_TEST(builtin_tables_refuse_full_level)
{
	struct rig r;
	rig_base(&r);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG};
	char err[200] = "";
	ck_assert_msg(rig_domain(&r, &pc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(ims_pt_use_walker(r.pt, &tiny_ops, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "only a harvest-level walker"), "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "fast");
	rig_down(&r);
}
END_TEST

/* ---- a full-level walker, end to end --------------------------------------------- */

START_TEST(full_level_walker_end_to_end)
{
	struct rig r;
	rig_base(&r);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG, .levels = 3,
				.pgsizes = IMS_PAGE_SIZE, .dirty_tracking = true,
				.plugin = &tiny_ops};
	char err[160] = "";
	ck_assert_msg(rig_domain(&r, &pc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "tiny-vtd");
	/* Its context words are the format's (the model took them; the
	 * library's encoder agrees). */
	uint64_t w[IMS_CTX_WORDS], want[IMS_CTX_WORDS];
	ims_pt_ctx_words(r.pt, w);
	struct ims_ctx_params cp = {.tag = TAG, .root = w[0] & VT_ADDR, .levels = 3};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_VTD, &cp, want, err, sizeof(err)), 0);
	ck_assert_int_eq(memcmp(w, want, sizeof(w)), 0);

	/* Map: 64 KiB at 0x10000, a read-only page at 0x40000000. */
	const uint64_t pa = 0x200000000ull;
	ck_assert_int_eq(ims_pt_map(r.pt, 0x10000, pa, 0x10000, IMS_PROT_RW, 0), 0);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x40000000, pa + 0x100000, 0x1000, IMS_PROT_R, 0), 0);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x1f000, pa, 0x2000, IMS_PROT_RW, 0), -EEXIST);
	ck_assert_int_eq(ims_pt_map(r.pt, 0x80000, pa, 0x200000, IMS_PROT_RW, 0x200000), -EINVAL);
	ck_assert_int_eq(ims_pt_map(r.pt, 1ull << 39, pa, 0x1000, IMS_PROT_RW, 0), -EINVAL);
	uint64_t got = 0;
	unsigned prot = 0;
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x12345, &got, &prot), 0);
	ck_assert_uint_eq(got, pa + 0x2345);
	ck_assert_uint_eq(prot, IMS_PROT_RW);
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x40000000, &got, &prot), 0);
	ck_assert_uint_eq(prot, IMS_PROT_R);
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x20000, &got, &prot), -ENOENT);
	/* The hardware walks its tables. */
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x13000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, pa + 0x3000);
	ck_assert_uint_eq(x.leaf_shift, 12);
	ck_assert_int_gt(ims_iommu_access(r.mmu, DEV, 0x40000000, IMS_ACC_W, &x), 0);
	ck_assert_int_gt(ims_iommu_access(r.mmu, DEV, 0x20000, IMS_ACC_R, &x), 0);

	/* Tracking: the walker switches SSADE through the host; hardware sets
	 * D; the harvest reports what the oracle expects and cleans it. */
	ck_assert(!ims_iommu_ctx_dirty_enabled(r.mmu, TAG));
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ck_assert(ims_iommu_ctx_dirty_enabled(r.mmu, TAG));
	struct ims_oracle *o = ims_iommu_oracle(r.mmu);
	ims_oracle_reset(o, TAG);
	static const uint64_t written[] = {0x10000, 0x13000, 0x1f000};
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, written[i] + 8, IMS_ACC_W, &x), 0);
		ck_assert(x.dirtied);
	}
	struct ims_bitmap bm, exp;
	ck_assert_int_eq(ims_bitmap_init(&exp, 0, 0x40000, 12), 0);
	ims_oracle_expected(o, TAG, 0, 0x40000, 12, exp.words);
	ck_assert_int_eq(harvest(&r, 0, 0x40000, 0, &bm, 0x40000), 0);
	ck_assert(ims_bitmap_compare(&exp, &bm, NULL));
	ck_assert_uint_eq(bm.words[0], (1ull << 16) | (1ull << 19) | (1ull << 31));
	ims_oracle_clear(o, TAG, 0, 0x40000);
	ims_bitmap_fini(&bm);
	ims_bitmap_fini(&exp);
	/* Cleaned: a look finds nothing. Flushed: the next write dirties the
	 * entry again rather than hitting a cached dirty translation. */
	ck_assert_int_eq(harvest(&r, 0, 0x40000, IMS_DIRTY_NO_CLEAR, &bm, 0x40000), 0);
	ck_assert_uint_eq(ims_bitmap_count(&bm), 0);
	ims_bitmap_fini(&bm);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x13000, IMS_ACC_W, &x), 0);
	ck_assert(x.dirtied);
	ck_assert(!x.iotlb_hit);
	/* Unmap with read-dirty: the host harvests the range, then the walker
	 * unmaps and flushes. */
	ck_assert_int_eq(ims_bitmap_init(&bm, 0x10000, 0x10000, 12), 0);
	ck_assert_int_eq(ims_pt_unmap_read_dirty(r.pt, 0x10000, 0x10000, &bm, &got), 0);
	ck_assert_uint_eq(got, 0x10000);
	ck_assert_uint_eq(bm.words[0], 1ull << 3);
	ims_bitmap_fini(&bm);
	ck_assert_int_gt(ims_iommu_access(r.mmu, DEV, 0x13000, IMS_ACC_W, &x), 0);
	ck_assert_int_eq(ims_pt_iova_to_phys(r.pt, 0x13000, &got, &prot), -ENOENT);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, false), 0);
	ck_assert(!ims_iommu_ctx_dirty_enabled(r.mmu, TAG));
	/* A full-level walker's tables take no other walker. */
	ck_assert_int_eq(ims_pt_use_walker(r.pt, ims_pt_walker_ops(0), err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "only a harvest-level walker"), "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "tiny-vtd");
	ck_assert_ptr_null(ims_pt_finding(r.pt, NULL));
	/* Its tables were the pool's, and domain_free gave them all back. */
	ck_assert_uint_gt(ims_mem_counters(r.mem)->pool_frames, 2);
	rig_down(&r);
}
END_TEST

/* A domain not allocated for dirty tracking: the host refuses before the
 * walker is asked. */
START_TEST(full_level_walker_without_tracking)
{
	struct rig r;
	rig_base(&r);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG, .levels = 3,
				.pgsizes = IMS_PAGE_SIZE, .plugin = &tiny_ops};
	char err[160] = "";
	ck_assert_msg(rig_domain(&r, &pc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), -EINVAL);
	ck_assert(!ims_iommu_ctx_dirty_enabled(r.mmu, TAG));
	rig_down(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walker_full");
	TCase *tc = tcase_create("full");
	tcase_add_test(tc, check_full_level_needs_every_op);
	tcase_add_test(tc, new_domain_refusals);
	tcase_add_test(tc, builtin_tables_refuse_full_level);
	tcase_add_test(tc, full_level_walker_end_to_end);
	tcase_add_test(tc, full_level_walker_without_tracking);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
