/* The walk's fused rules (formats/hwfmt.h: step() and fill(), made by
 * HW_FMT_FUSED) tell exactly what the format's rules one by one tell, for
 * every format that gives them: random contexts, entries, levels, access
 * kinds and inherited permissions, compared field by field. The model's
 * fast walk takes the fused rules and its reference path the separate ones
 * (unit.test_replay_paths compares the two walks); this compares the rules
 * themselves, entries a trace may never reach included. */
#include <check.h>
#include <string.h>

#include "formats/format.h"
#include "formats/hwfmt.h"

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A context of plausible geometry and random switches. */
static void random_ctx(const struct hw_fmt *ops, uint64_t *s, struct hw_ctx *c)
{
	memset(c, 0, sizeof(*c));
	static const unsigned gs[3] = {12, 14, 16};
	c->ops = ops;
	c->tag = (uint16_t)rnd(s);
	c->gshift = gs[rnd(s) % 3];
	c->stride = c->gshift - 3;
	c->top = (int)(rnd(s) % 5);
	unsigned bits = c->gshift + c->stride * (unsigned)(c->top + 1);
	c->ias = bits > 64 ? 64 : bits;
	c->root = rnd(s) & 0xffffffff000ull;
	uint64_t b = rnd(s);
	c->ha = b & 1;
	c->hd = c->ha && (b & 2);
	c->r = b & 4 || b & 8;
	c->w = b & 16 || b & 32;
	c->affd = b & 64;
	c->priv = b & 128;
	c->nonleaf_a = b & 256;
	c->caps = rnd(s);
	hw_ctx_index_init(c);
}

/* An entry: random bits, half the time with the low three bits forced on
 * (present / valid / table types), so that tables and leaves come often. */
static uint64_t random_pte(uint64_t *s)
{
	uint64_t v = rnd(s);
	return rnd(s) & 1 ? v | 7 : v;
}

START_TEST(step_and_fill_are_the_rules_composed)
{
	unsigned formats = 0;
	for (unsigned f = 0; f < IMS_FMT_COUNT; f++) {
		const struct fmt_desc *d = fmt_get((enum ims_format)f);
		const struct hw_fmt *ops = d->hw;
		if (!ops->step && !ops->fill)
			continue; /* the walk calls its rules one by one */
		ck_assert_msg(ops->step && ops->fill, "%s: step and fill go together", d->name);
		formats++;
		uint64_t s = f + 1;
		unsigned kinds[4] = {0};
		for (unsigned i = 0; i < 60000; i++) {
			struct hw_ctx c;
			random_ctx(ops, &s, &c);
			int level = (int)(rnd(&s) % (unsigned)(c.top + 1));
			uint64_t pte = random_pte(&s);
			unsigned acc = 1 + (unsigned)(rnd(&s) % 3);
			bool r = rnd(&s) & 1, w = rnd(&s) & 1;

			struct hw_step st;
			memset(&st, 0xa5, sizeof(st));
			ops->step(&c, level, pte, acc, r, w, &st);
			struct hw_ent e;
			memset(&e, 0, sizeof(e));
			ops->decode(&c, level, pte, acc, &e);
			ck_assert_int_eq(st.e.kind, e.kind);
			kinds[e.kind]++;
			if (e.kind == HWE_INVALID || e.kind == HWE_RESERVED) {
				ck_assert_uint_eq(st.e.code, e.code);
				continue;
			}
			ck_assert(st.e.r == e.r && st.e.w == e.w);
			ck_assert_uint_eq(st.e.addr, e.addr);
			if (e.kind == HWE_TABLE) {
				ck_assert_int_eq(st.e.next, e.next);
				ck_assert_uint_eq(st.table_a, ops->table_update(&c, pte));
				continue;
			}
			ck_assert_uint_eq(st.e.page_shift, e.page_shift);
			uint32_t code = 0;
			enum ims_fault_kind k = ops->check(&c, pte, &e, r, w, acc, &code);
			ck_assert_int_eq(st.k, k);
			struct hw_upd u = {0};
			if (k != IMS_FAULT_NONE)
				ck_assert_uint_eq(st.code, code);
			else
				ops->leaf_update(&c, pte, acc, &u);
			ck_assert(st.u.a_set == u.a_set && st.u.a_clear == u.a_clear &&
				  st.u.d_set == u.d_set && st.u.d_clear == u.d_clear && !st.u.a_done);

			/* fill() of the leaf, as if updated to any value. */
			uint64_t now = rnd(&s) & 1 ? pte : random_pte(&s);
			unsigned fl = ops->fill(&c, now, &e, r, w);
			uint32_t dummy;
			ck_assert(!(fl & HW_FILL_CACHEABLE) == !ops->cacheable(&c, now));
			ck_assert(!(fl & HW_FILL_R) ==
				  (ops->check(&c, now, &e, r, w, IMS_ACC_R, &dummy) != IMS_FAULT_NONE));
			ck_assert(!(fl & HW_FILL_W) ==
				  (ops->check(&c, now, &e, r, w, IMS_ACC_W, &dummy) != IMS_FAULT_NONE));
			ck_assert(!(fl & HW_FILL_DIRTY) == !ops->is_dirty(&c, now));
			ck_assert_uint_eq(fl & ~(HW_FILL_CACHEABLE | HW_FILL_R | HW_FILL_W | HW_FILL_DIRTY),
					  0);
		}
		/* The draw reaches every kind of entry (the comparison would
		 * otherwise say nothing of it). */
		for (unsigned k = 0; k < 4; k++)
			ck_assert_msg(kinds[k] > 100, "%s: %u entries of kind %u", d->name, kinds[k], k);
	}
	ck_assert_uint_gt(formats, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw_fused");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, step_and_fill_are_the_rules_composed);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
