/* Budgets of YAML files (model/yaml_budget.h, docs/limits.md "YAML and
 * importer budgets"): each quantity is taken at its limit and refused one
 * past it, at the line and column of the event that goes past; what an
 * alias expands to is counted as the documented rule says; a file is read
 * no further than its size budget; the model configuration applies them. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommusim/model.h"
#include "model/yaml_budget.h"

/* A growing text. */
struct text {
	char *s;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(k, 0);
	if (t->n + (size_t)k + 1 > t->cap) {
		t->cap = (t->n + (size_t)k + 1) * 2;
		t->s = realloc(t->s, t->cap);
		ck_assert_ptr_nonnull(t->s);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	t->n += (size_t)k;
}

static void budget(struct ybudget *b)
{
	ybudget_init(b, "a test file", 1 << 20, "--raise-it");
}

static int scan(const struct ybudget *b, const struct text *t, char *err, size_t n)
{
	err[0] = 0;
	return ybudget_scan(b, "t.yaml", t->s, t->n, err, n);
}

/* Refused with -E2BIG, the message starting with `at` and holding `what`. */
static void over(const struct ybudget *b, const struct text *t, const char *at, const char *what)
{
	char err[512];
	ck_assert_int_eq(scan(b, t, err, sizeof(err)), -E2BIG);
	ck_assert_msg(!strncmp(err, at, strlen(at)), "got '%s', want it at %s", err, at);
	ck_assert_msg(strstr(err, what), "got '%s', want '%s'", err, what);
	ck_assert_msg(strstr(err, "docs/limits.md"), "%s", err);
}

static void kept(const struct ybudget *b, const struct text *t)
{
	char err[512];
	ck_assert_msg(scan(b, t, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(defaults_are_documented)
{
	struct ybudget b;
	ybudget_init(&b, "x", 16 << 20, NULL);
	ck_assert_uint_eq(b.max_bytes, 16u << 20);
	ck_assert_uint_eq(b.max_nodes, 1u << 20);
	ck_assert_uint_eq(b.max_expanded, 64u << 20);
	ck_assert_uint_eq(b.max_depth, 32);
	ck_assert_uint_eq(b.max_anchors, 1000);
	ck_assert_uint_eq(b.max_aliases, 10000);
}
END_TEST

START_TEST(depth)
{
	struct ybudget b;
	budget(&b);
	for (unsigned d = 31; d <= 33; d++) {
		struct text t = {0};
		put(&t, "a: ");
		for (unsigned i = 1; i < d; i++)
			put(&t, "[");
		for (unsigned i = 1; i < d; i++)
			put(&t, "]");
		put(&t, "\n");
		/* The top mapping is the first collection. */
		if (d <= 32)
			kept(&b, &t);
		else
			over(&b, &t, "t.yaml:1:35: ", "collections nested more than 32 deep");
		free(t.s);
	}
}
END_TEST

START_TEST(anchors)
{
	struct ybudget b;
	budget(&b);
	for (unsigned n = 1000; n <= 1001; n++) {
		struct text t = {0};
		put(&t, "top:\n");
		for (unsigned i = 0; i < n; i++)
			put(&t, "- &a%u x\n", i);
		if (n == 1000)
			kept(&b, &t);
		else
			over(&b, &t, "t.yaml:1002:3: ", "more than 1000 anchors");
		free(t.s);
	}
	/* Counted in the file, not in a document. */
	struct text t = {0};
	for (unsigned i = 0; i < 1001; i++)
		put(&t, "--- &a x\n");
	over(&b, &t, "t.yaml:1001:5: ", "more than 1000 anchors");
	free(t.s);
}
END_TEST

START_TEST(aliases)
{
	struct ybudget b;
	budget(&b);
	for (unsigned n = 10000; n <= 10001; n++) {
		struct text t = {0};
		put(&t, "- &a x\n");
		for (unsigned i = 0; i < n; i++)
			put(&t, "- *a\n");
		if (n == 10000)
			kept(&b, &t);
		else
			over(&b, &t, "t.yaml:10002:3: ", "more than 10000 aliases");
		free(t.s);
	}
}
END_TEST

START_TEST(nodes)
{
	struct ybudget b;
	ybudget_init(&b, "a test file", 1600, "--raise-it");
	ck_assert_uint_eq(b.max_nodes, 100);
	/* A list of n - 1 scalars is n nodes. */
	for (unsigned n = 100; n <= 101; n++) {
		struct text t = {0};
		put(&t, "[");
		for (unsigned i = 0; i + 1 < n; i++)
			put(&t, "%sa", i ? "," : "");
		put(&t, "]");
		if (n == 100)
			kept(&b, &t);
		else
			over(&b, &t, "t.yaml:1:200: ", "more than 100 nodes");
		free(t.s);
	}
	/* A budget that the size option raises says so. */
	struct text t = {0};
	put(&t, "[");
	for (unsigned i = 0; i < 200; i++)
		put(&t, "%sa", i ? "," : "");
	put(&t, "]");
	char err[512];
	ck_assert_int_eq(scan(&b, &t, err, sizeof(err)), -E2BIG);
	ck_assert_msg(strstr(err, "which --raise-it raises"), "%s", err);
	free(t.s);
}
END_TEST

/* Scalars count their bytes plus one, collections and aliases one each
 * time they are written out: "a: &x abc\nb: *x\n" is the mapping (1), a
 * (2), abc (4), b (2) and abc again through the alias (4) = 13. */
START_TEST(expanded_size_rule)
{
	struct ybudget b;
	budget(&b);
	struct text t = {0};
	put(&t, "a: &x abc\nb: *x\n");
	b.max_expanded = 13;
	kept(&b, &t);
	b.max_expanded = 12;
	over(&b, &t, "t.yaml:2:4: ", "with its aliases written out the file holds more than 12 bytes");
	free(t.s);
	/* An anchored collection: [p, q] is 1 + 2 + 2 = 5, its alias 5 again. */
	t = (struct text){0};
	put(&t, "- &l [p, q]\n- *l\n");
	b.max_expanded = 1 + 5 + 5;
	kept(&b, &t);
	b.max_expanded = 10;
	over(&b, &t, "t.yaml:2:3: ", "more than 10 bytes");
	free(t.s);
}
END_TEST

/* Each level doubles what the last alias stands for: a few hundred bytes
 * that a loader's walk would repeat into gigabytes. */
START_TEST(aliases_of_aliases)
{
	struct ybudget b;
	budget(&b);
	struct text t = {0};
	put(&t, "l0: &l0 [aaaaaaaa, aaaaaaaa]\n");
	for (int i = 1; i < 40; i++)
		put(&t, "l%d: &l%d [*l%d, *l%d]\n", i, i, i - 1, i - 1);
	/* The line where the running total passes 4 MiB, by the rule above:
	 * line 1 holds the top mapping, "l0" and [aaaaaaaa, aaaaaaaa]. */
	uint64_t size = 1 + 9 + 9, total = 1 + 3 + size;
	int line = 1;
	while (total <= b.max_expanded) {
		line++;
		char key[8];
		int kl = snprintf(key, sizeof(key), "l%d", line - 1);
		total += (uint64_t)kl + 1 + 1 + 2 * size;
		size = 1 + 2 * size;
	}
	char want[32];
	snprintf(want, sizeof(want), "t.yaml:%d:", line);
	over(&b, &t, want, "with its aliases written out the file holds more than 4194304 bytes");
	ck_assert_int_gt(line, 10);
	ck_assert_int_lt(line, 40);
	free(t.s);
}
END_TEST

START_TEST(alias_inside_its_node)
{
	struct ybudget b;
	budget(&b);
	struct text t = {0};
	put(&t, "a: &r\n  b: [1, *r]\n");
	char err[512];
	ck_assert_int_eq(scan(&b, &t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.yaml:2:10: alias *r stands for a node that holds it (expected an "
			      "alias of a node that ended before it)");
	free(t.s);
}
END_TEST

START_TEST(syntax_errors_are_the_loaders)
{
	struct ybudget b;
	budget(&b);
	struct text t = {0};
	put(&t, "a: [1, 2\nb: }\n");
	kept(&b, &t);
	free(t.s);
}
END_TEST

START_TEST(read_stops_at_the_limit)
{
	struct ybudget b;
	ybudget_init(&b, "a test file", 100, "--raise-it");
	char path[] = "/tmp/ims-ybudget-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	char data[101];
	memset(data, '#', sizeof(data));
	ck_assert_int_eq(write(fd, data, 100), 100);
	char *buf, err[512];
	size_t len;
	ck_assert_int_eq(ybudget_read(&b, path, &buf, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(buf[100], 0);
	free(buf);
	ck_assert_int_eq(write(fd, data, 1), 1);
	close(fd);
	ck_assert_int_eq(ybudget_read(&b, path, &buf, &len, err, sizeof(err)), -E2BIG);
	ck_assert_ptr_null(buf);
	char want[256];
	snprintf(want, sizeof(want), "%s: larger than 100 bytes (the limit of a test file, which "
		 "--raise-it raises; docs/limits.md)", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	/* A device that never ends is read to the limit and no further. */
	ck_assert_int_eq(ybudget_read(&b, "/dev/zero", &buf, &len, err, sizeof(err)), -E2BIG);
	ck_assert_str_eq(err, "/dev/zero: larger than 100 bytes (the limit of a test file, which "
			      "--raise-it raises; docs/limits.md)");
	ck_assert_int_eq(ybudget_read(&b, "/nonexistent/x.yaml", &buf, &len, err, sizeof(err)),
			 -ENOENT);
}
END_TEST

/* The model configuration applies the budgets, in memory and from a file. */
START_TEST(config_files_keep_the_budgets)
{
	struct text t = {0};
	put(&t, "iotlb:\n  entries: 64\nmicro_tlb: [");
	for (unsigned i = 0; i < 1001; i++)
		put(&t, "%s&a%u x", i ? "," : "", i);
	put(&t, "]\n");
	struct ims_iommu_cfg c, before;
	ims_iommu_cfg_default(&c);
	before = c;
	char err[512];
	ck_assert_int_eq(ims_iommu_cfg_parse(&c, "m.yaml", t.s, t.n, err, sizeof(err)), -E2BIG);
	ck_assert_msg(strstr(err, "m.yaml:3:") == err && strstr(err, "more than 1000 anchors (the "
			      "limit of a model configuration, docs/limits.md)"), "%s", err);
	ck_assert_int_eq(c.iotlb_entries, before.iotlb_entries);
	free(t.s);

	char path[] = "/tmp/ims-ybudget-cfg-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("iotlb:\n  entries: 64\n", f);
	for (unsigned i = 0; i < (1u << 20) / 64; i++)
		fprintf(f, "# %61s\n", "padding past the size budget of a configuration");
	fclose(f);
	ck_assert_int_eq(ims_iommu_cfg_load(&c, path, err, sizeof(err)), -E2BIG);
	char want[256];
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes (the limit of a model "
		 "configuration, docs/limits.md)", path);
	ck_assert_str_eq(err, want);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("yaml_budget");
	TCase *tc = tcase_create("yaml_budget");
	tcase_add_test(tc, defaults_are_documented);
	tcase_add_test(tc, depth);
	tcase_add_test(tc, anchors);
	tcase_add_test(tc, aliases);
	tcase_add_test(tc, nodes);
	tcase_add_test(tc, expanded_size_rule);
	tcase_add_test(tc, aliases_of_aliases);
	tcase_add_test(tc, alias_inside_its_node);
	tcase_add_test(tc, syntax_errors_are_the_loaders);
	tcase_add_test(tc, read_stops_at_the_limit);
	tcase_add_test(tc, config_files_keep_the_budgets);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
