/* The format registry (formats/format.h): every format describes itself
 * once, and what the description says agrees with the rest of the build. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "formats/format.h"
#include "iommusim/model.h"
#include "iommusim/pt.h"

START_TEST(every_format_is_registered_once)
{
	unsigned n = 0;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		/* A hole: an enum value no format has is refused everywhere. */
		ck_assert_int_eq((fmt_all_mask() >> f) & 1, d != NULL);
		if (!d) {
			ck_assert_str_eq(ims_format_name((enum ims_format)f), "?");
			continue;
		}
		n++;
		ck_assert_uint_eq(d->id, f);
		ck_assert_ptr_nonnull(d->hw);
		ck_assert_ptr_nonnull(d->sw);
		ck_assert_uint_eq(d->hw->fmt, f);
		ck_assert_uint_eq(d->sw->fmt, f);
		ck_assert_ptr_eq(fmt_find(d->name, strlen(d->name)), d);
		enum ims_format got;
		ck_assert_int_eq(ims_format_parse(d->name, strlen(d->name), &got), 0);
		ck_assert_uint_eq(got, f);
		ck_assert_str_eq(ims_format_name((enum ims_format)f), d->name);
	}
	ck_assert_uint_ge(n, 4);
	ck_assert_ptr_null(fmt_get(IMS_FMT_COUNT));
	ck_assert_ptr_null(fmt_find("amdv3", 5));
	char names[128];
	/* Registry order, the holes left out. */
	fmt_name_list(names, sizeof(names));
	ck_assert_ptr_nonnull(strstr(names, "amdv1, vtd, smmuv3, vtd-fs, amdv2, "));
	ck_assert_ptr_nonnull(strstr(names, ", smmuv3-s2"));
	ck_assert_ptr_null(strstr(names, "?"));
}
END_TEST

/* A format's configuration keys are in the model's table, tagged with the
 * format, findable by name and alias, and set the field they name; no key
 * of the model's own is tagged with a format. */
START_TEST(format_keys_are_in_the_config_table)
{
	size_t own = 0, theirs = 0;
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		if (ims_iommu_cfg_key(i)->format < 0)
			own++;
		else
			theirs++;
	}
	size_t claimed = 0;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		if (!d)
			continue;
		ck_assert_uint_gt(d->n_cfg_keys, 0);
		for (unsigned j = 0; j < d->n_cfg_keys; j++, claimed++) {
			const struct fmt_cfg_key *fk = &d->cfg_keys[j];
			ck_assert_int_eq(fk->k.format, (int)f);
			int i = ims_iommu_cfg_key_find(fk->k.name);
			ck_assert_msg(i >= 0, "%s: key %s not in the table", d->name, fk->k.name);
			ck_assert_ptr_eq(ims_iommu_cfg_key((size_t)i), &fk->k);
			ck_assert_int_eq(ims_iommu_cfg_key_find(fk->k.alias), i);
			/* Setting it changes exactly its field. */
			struct ims_iommu_cfg a, b;
			ims_iommu_cfg_default(&a);
			b = a;
			char err[160];
			const char *v = fk->k.type != IMS_CFG_BOOL   ? "0x5a5a"
					: strcmp(fk->k.def, "true") ? "true"
								    : "false";
			ck_assert_int_eq(ims_iommu_cfg_set(&b, fk->k.name, v, err, sizeof(err)), 0);
			ck_assert(memcmp(&a, &b, sizeof(a)) != 0);
			if (fk->k.type == IMS_CFG_BOOL)
				ck_assert(*(bool *)((char *)&b + fk->off) != *(bool *)((char *)&a + fk->off));
			else
				ck_assert_uint_eq(*(uint64_t *)((char *)&b + fk->off), 0x5a5a);
		}
	}
	ck_assert_uint_eq(claimed, theirs);
	ck_assert_uint_gt(own, 0);
}
END_TEST

/* A format's capability registers at their defaults (its key rows') give
 * hardware dirty tracking; with the registers cleared the format decodes
 * no capability. Only NUMBER and BOOL keys can be a format's (the table
 * stores them as uint64_t and bool fields). A register two formats read
 * (VT-d CAP/ECAP: vtd and vtd-fs; AMD EFR: amdv1 and amdv2) is one key, of
 * the first: cleared here whichever format owns it. */
START_TEST(capability_defaults_and_decode)
{
	struct ims_iommu_cfg def;
	ims_iommu_cfg_default(&def);
	/* Every format's capability registers cleared (SMMU stage 2 reads
	 * stage 1's SMMU_IDR0 too: HTTU covers both stages). */
	struct ims_iommu_cfg none = def;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		for (unsigned j = 0; d && j < d->n_cfg_keys; j++) {
			const struct fmt_cfg_key *fk = &d->cfg_keys[j];
			ck_assert(fk->k.type == IMS_CFG_NUMBER || fk->k.type == IMS_CFG_BOOL);
			ck_assert_ptr_nonnull(fk->k.def);
		}
		for (unsigned g = 0; g < IMS_FMT_COUNT; g++) {
			const struct fmt_desc *o = fmt_get((enum ims_format)g);
			for (unsigned j = 0; j < o->n_cfg_keys; j++)
				if (o->cfg_keys[j].k.type == IMS_CFG_NUMBER)
					*(uint64_t *)((char *)&none + o->cfg_keys[j].off) = 0;
		}
	}
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		if (!d)
			continue;
		ck_assert(d->dirty_capable(&def));
		ck_assert(ims_iommu_cfg_dirty_capable(&def, (enum ims_format)f));
		ck_assert(!d->dirty_capable(&none));
	}
}
END_TEST

/* The geometry check is shared: what it accepts, the software builds a
 * domain for and the raw context encodes; what it refuses, both refuse
 * with its message. */
static int sink_submit(void *a, enum ims_format f, const uint64_t c[2])
{
	(void)a, (void)f, (void)c;
	return 0;
}
static int sink_ctx(void *a, uint16_t t, unsigned w, uint64_t c, uint64_t s)
{
	(void)a, (void)t, (void)w, (void)c, (void)s;
	return 0;
}
static int sink_flush(void *a, uint16_t t)
{
	(void)a, (void)t;
	return 0;
}

static void both_sides(enum ims_format f, struct fmt_geom g, bool want_ok)
{
	const struct fmt_desc *d = fmt_get(f);
	char e1[160] = "", e2[160] = "", e3[160] = "";
	struct fmt_geom gg = g;
	int rg = d->geometry(&gg, e1, sizeof(e1));
	struct ims_mem *mem = ims_mem_new();
	struct ims_sink sink = {NULL, sink_submit, sink_ctx, sink_flush, NULL, NULL, NULL};
	struct ims_pt_cfg pc = {.fmt = f, .tag = 1, .levels = g.levels,
				.granule_shift = g.granule_shift, .ias = g.ias};
	struct ims_pt *pt = NULL;
	int rs = ims_pt_new(mem, &pc, &sink, &pt, e2, sizeof(e2));
	struct ims_ctx_params p = {.tag = 1, .levels = g.levels, .granule_shift = g.granule_shift,
				   .ias = g.ias};
	uint64_t w[IMS_CTX_WORDS];
	int rh = ims_ctx_encode(f, &p, w, e3, sizeof(e3));
	if (want_ok) {
		ck_assert_int_eq(rg, 0);
		ck_assert_msg(rs == 0, "%s: software refused: %s", d->name, e2);
		ck_assert_msg(rh == 0, "%s: context refused: %s", d->name, e3);
	} else {
		ck_assert_int_eq(rg, -EINVAL);
		ck_assert_int_eq(rs, -EINVAL);
		ck_assert_int_eq(rh, -EINVAL);
		ck_assert_str_eq(e2, e1);
		ck_assert_str_eq(e3, e1);
	}
	if (pt)
		ims_pt_free(pt);
	ims_mem_free(mem);
}

START_TEST(geometry_check_is_shared)
{
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		if (!d)
			continue;
		ck_assert_uint_gt(d->n_fuzz_geoms, 0);
		ck_assert_uint_gt(d->n_bench_layouts, 0);
		for (unsigned i = 0; i < d->n_fuzz_geoms; i++)
			both_sides(d->id, d->fuzz_geoms[i], true);
		for (unsigned i = 0; i < d->n_bench_layouts; i++)
			both_sides(d->id, d->bench_layouts[i].geom, true);
		both_sides(d->id, (struct fmt_geom){0}, true);
	}
	both_sides(IMS_FMT_AMDV1, (struct fmt_geom){.levels = 7}, false);
	both_sides(IMS_FMT_AMDV1, (struct fmt_geom){.ias = 48}, false);
	both_sides(IMS_FMT_VTD, (struct fmt_geom){.levels = 2}, false);
	both_sides(IMS_FMT_VTD, (struct fmt_geom){.granule_shift = 14}, false);
	both_sides(IMS_FMT_SMMUV3, (struct fmt_geom){.levels = 4}, false);
	both_sides(IMS_FMT_SMMUV3, (struct fmt_geom){.granule_shift = 13}, false);
	both_sides(IMS_FMT_SMMUV3, (struct fmt_geom){.ias = 53}, false);
	/* Stage 2: S2SL0 encodes 2..4 levels with 4K and 1..3 with 16K and
	 * 64K, and the start level holds 1 to 16 concatenated tables. */
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.levels = 3, .ias = 43}, true);
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.levels = 3, .ias = 44}, false);
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.levels = 1, .ias = 32}, false);
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.levels = 4, .ias = 39}, false);
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.levels = 4, .granule_shift = 14}, false);
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.ias = 52}, false);
	both_sides(IMS_FMT_SMMUV3_S2, (struct fmt_geom){.granule_shift = 16, .ias = 52}, true);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, every_format_is_registered_once);
	tcase_add_test(tc, format_keys_are_in_the_config_table);
	tcase_add_test(tc, capability_defaults_and_decode);
	tcase_add_test(tc, geometry_check_is_shared);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
