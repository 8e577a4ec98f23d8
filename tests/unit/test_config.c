/* Model configuration files (docs/timing.md): every key, the errors with
 * FILE:LINE:COL, the documented examples, and the round trip; the key table
 * behind them (ims_iommu_cfg_set), its defaults and the documented ones. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"

static const char *src_dir(void)
{
	const char *s = getenv("IMS_SRC");
	return s ? s : ".";
}

/* Field by field: padding bytes are not part of a configuration. */
static bool same_cfg(const struct ims_iommu_cfg *a, const struct ims_iommu_cfg *b)
{
	bool eq = a->iotlb_entries == b->iotlb_entries && a->iotlb_ways == b->iotlb_ways &&
		  a->wc_entries == b->wc_entries && a->wc_ways == b->wc_ways &&
		  a->replica == b->replica && a->seed == b->seed &&
		  a->amd_pde_accessed == b->amd_pde_accessed &&
		  a->vtd_nonleaf_accessed == b->vtd_nonleaf_accessed &&
		  a->dma_privileged == b->dma_privileged && a->amd_efr == b->amd_efr &&
		  a->vtd_cap == b->vtd_cap && a->vtd_ecap == b->vtd_ecap &&
		  a->smmu_idr0 == b->smmu_idr0 && a->smmu_idr5 == b->smmu_idr5 &&
		  a->vtd_fs_supervisor == b->vtd_fs_supervisor &&
		  a->amdv2_supervisor == b->amdv2_supervisor && a->amd_control == b->amd_control &&
		  a->iotlb_policy == b->iotlb_policy &&
		  a->iotlb_latency == b->iotlb_latency && a->utlb_enable == b->utlb_enable &&
		  a->utlb_entries == b->utlb_entries && a->utlb_ways == b->utlb_ways &&
		  a->utlb_policy == b->utlb_policy && a->utlb_latency == b->utlb_latency &&
		  a->wc_disable == b->wc_disable && a->wc_policy == b->wc_policy &&
		  a->wc_latency == b->wc_latency && a->lat.link == b->lat.link &&
		  a->lat.pte_read == b->lat.pte_read && a->lat.ad_update == b->lat.ad_update &&
		  a->lat.inv_range == b->lat.inv_range && a->lat.inv_domain == b->lat.inv_domain &&
		  a->lat.inv_all == b->lat.inv_all && a->lat.inv_context == b->lat.inv_context &&
		  a->lat.fault == b->lat.fault;
	for (int l = 0; l < IMS_WC_LEVELS; l++) {
		const struct ims_wc_level_cfg *x = &a->wc_level[l], *y = &b->wc_level[l];
		eq = eq && x->set == y->set;
		if (x->set && y->set)
			eq = eq && x->enable == y->enable && x->entries == y->entries &&
			     x->ways == y->ways && x->policy == y->policy && x->latency == y->latency;
	}
	return eq;
}

static int parse(struct ims_iommu_cfg *c, const char *text, char *err, size_t errlen)
{
	return ims_iommu_cfg_parse(c, "t.yaml", text, strlen(text), err, errlen);
}

/* The text must be refused with exactly this message. */
static void refused(const char *text, const char *want)
{
	struct ims_iommu_cfg c, before;
	ims_iommu_cfg_default(&c);
	before = c;
	char err[512];
	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, want);
	/* Nothing of a refused file is applied. */
	ck_assert(same_cfg(&c, &before));
}

START_TEST(every_key)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	char err[512] = "";
	const char *text =
		"iotlb: {entries: 96, ways: 8, policy: random, latency: 5}\n"
		"micro_tlb:\n"
		"  enable: yes\n"
		"  entries: 16\n"
		"  ways: 4\n"
		"  policy: lru\n"
		"  latency: 2\n"
		"walk_cache:\n"
		"  enable: true\n"
		"  entries: 32\n"
		"  ways: full\n"
		"  policy: round-robin\n"
		"  latency: 6\n"
		"  levels:\n"
		"    0: {entries: 348, ways: 4}\n"
		"    2: {enable: false}\n"
		"latencies:\n"
		"  link: 9\n"
		"  pte_read: 0x40\n"
		"  ad_update: 70\n"
		"  inv_range: 11\n"
		"  inv_domain: 12\n"
		"  inv_all: 13\n"
		"  inv_context: 14\n"
		"  fault: 15\n"
		"model:\n"
		"  replica: random\n"
		"  seed: 0xffffffffffffffff\n"
		"  amd_pde_accessed: on\n"
		"  vtd_nonleaf_accessed: False\n"
		"  dma_privileged: TRUE\n"
		"capabilities:\n"
		"  amd_efr: 0x1\n"
		"  vtd_cap: 2\n"
		"  vtd_ecap: 0x3\n"
		"  smmu_idr0: 0xC0\n";
	ck_assert_msg(parse(&c, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.iotlb_entries, 96);
	ck_assert_uint_eq(c.iotlb_ways, 8);
	ck_assert_int_eq(c.iotlb_policy, IMS_REPL_RANDOM);
	ck_assert_uint_eq(c.iotlb_latency, 5);
	ck_assert(c.utlb_enable);
	ck_assert_uint_eq(c.utlb_entries, 16);
	ck_assert_uint_eq(c.utlb_ways, 4);
	ck_assert_int_eq(c.utlb_policy, IMS_REPL_LRU);
	ck_assert_uint_eq(c.utlb_latency, 2);
	ck_assert(!c.wc_disable);
	ck_assert_uint_eq(c.wc_entries, 32);
	ck_assert_uint_eq(c.wc_ways, 32);
	ck_assert_int_eq(c.wc_policy, IMS_REPL_ROUND_ROBIN);
	ck_assert_uint_eq(c.wc_latency, 6);
	/* A level starts from the default block as the file leaves it. */
	ck_assert(c.wc_level[0].set && c.wc_level[0].enable);
	ck_assert_uint_eq(c.wc_level[0].entries, 348);
	ck_assert_uint_eq(c.wc_level[0].ways, 4);
	ck_assert_int_eq(c.wc_level[0].policy, IMS_REPL_ROUND_ROBIN);
	ck_assert_uint_eq(c.wc_level[0].latency, 6);
	ck_assert(!c.wc_level[1].set);
	ck_assert(c.wc_level[2].set && !c.wc_level[2].enable);
	ck_assert_uint_eq(c.wc_level[2].entries, 32);
	ck_assert_uint_eq(c.lat.link, 9);
	ck_assert_uint_eq(c.lat.pte_read, 64);
	ck_assert_uint_eq(c.lat.ad_update, 70);
	ck_assert_uint_eq(c.lat.inv_range, 11);
	ck_assert_uint_eq(c.lat.inv_domain, 12);
	ck_assert_uint_eq(c.lat.inv_all, 13);
	ck_assert_uint_eq(c.lat.inv_context, 14);
	ck_assert_uint_eq(c.lat.fault, 15);
	ck_assert_int_eq(c.replica, IMS_REPLICA_RANDOM);
	ck_assert_uint_eq(c.seed, UINT64_MAX);
	ck_assert(c.amd_pde_accessed);
	ck_assert(!c.vtd_nonleaf_accessed);
	ck_assert(c.dma_privileged);
	ck_assert_uint_eq(c.amd_efr, 1);
	ck_assert_uint_eq(c.vtd_cap, 2);
	ck_assert_uint_eq(c.vtd_ecap, 3);
	ck_assert_uint_eq(c.smmu_idr0, 0xc0);
	/* The result builds a model. */
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *m;
	ck_assert_int_eq(ims_iommu_new(mem, &c, &m), 0);
	ims_iommu_free(m);
	ims_mem_free(mem);
}
END_TEST

START_TEST(partial_files_keep_the_rest)
{
	struct ims_iommu_cfg c, d;
	ims_iommu_cfg_default(&c);
	c.iotlb_entries = 16; /* as a command-line option before --config */
	d = c;
	ck_assert_int_eq(parse(&c, "latencies: {link: 1}\n", NULL, 0), 0);
	d.lat.link = 1;
	ck_assert(same_cfg(&c, &d));
	/* Empty files, empty documents and empty sections change nothing. */
	ck_assert_int_eq(parse(&c, "", NULL, 0), 0);
	ck_assert_int_eq(parse(&c, "# nothing\n", NULL, 0), 0);
	ck_assert_int_eq(parse(&c, "---\n...\n", NULL, 0), 0);
	ck_assert_int_eq(parse(&c, "iotlb:\nmodel: ~\n", NULL, 0), 0);
	ck_assert(same_cfg(&c, &d));
	/* A level already set keeps what the file does not say. */
	ck_assert_int_eq(parse(&c, "walk_cache: {levels: {1: {entries: 8, ways: 2}}}\n", NULL, 0), 0);
	ck_assert_int_eq(parse(&c, "walk_cache: {entries: 128, levels: {1: {latency: 9}}}\n", NULL, 0), 0);
	ck_assert_uint_eq(c.wc_level[1].entries, 8);
	ck_assert_uint_eq(c.wc_level[1].latency, 9);
	ck_assert_uint_eq(c.wc_entries, 128);
	/* micro_tlb ways: full is 0, the model's fully associative. */
	ck_assert_int_eq(parse(&c, "micro_tlb: {entries: 8, ways: 2}\n", NULL, 0), 0);
	ck_assert_uint_eq(c.utlb_ways, 2);
	ck_assert_int_eq(parse(&c, "micro_tlb: {ways: full}\n", NULL, 0), 0);
	ck_assert_uint_eq(c.utlb_ways, 0);
}
END_TEST

START_TEST(errors_name_line_and_column)
{
	refused("iotlb:\n  entries: 1024\n  entires: 4\n",
		"t.yaml:3:3: unknown key 'entires' in iotlb (expected entries, ways, policy, latency)");
	refused("iotlbs: {}\n",
		"t.yaml:1:1: unknown key 'iotlbs' in the configuration (expected a section: iotlb, "
		"micro_tlb, walk_cache, latencies, model, capabilities)");
	refused("latencies:\n  lnk: 8\n",
		"t.yaml:2:3: unknown key 'lnk' in latencies (expected link, pte_read, ad_update, "
		"inv_range, inv_domain, inv_all, inv_context, fault)");
	refused("model: {seed: 1, priv: on}\n",
		"t.yaml:1:18: unknown key 'priv' in model (expected replica, seed, amd_pde_accessed, "
		"vtd_nonleaf_accessed, dma_privileged, vtd_fs_supervisor, amdv2_supervisor)");
	refused("capabilities: {vtd_cap: 1, idr0: 2}\n",
		"t.yaml:1:28: unknown key 'idr0' in capabilities (expected amd_efr, vtd_cap, vtd_ecap, "
		"smmu_idr0, amd_control, smmu_idr5)");
	refused("micro_tlb: {levels: {}}\n",
		"t.yaml:1:13: unknown key 'levels' in micro_tlb (expected enable, entries, ways, policy, "
		"latency)");
	refused("latencies:\n  link: eight\n",
		"t.yaml:2:9: latencies.link: expected a number (decimal or 0x hex), got 'eight'");
	refused("latencies:\n  link: -1\n",
		"t.yaml:2:9: latencies.link: expected a number (decimal or 0x hex), got '-1'");
	refused("latencies:\n  link: \"8\"\n",
		"t.yaml:2:9: latencies.link: expected a number (decimal or 0x hex), got a quoted string");
	refused("latencies:\n  link:\n",
		"t.yaml:2:8: latencies.link: expected a number (decimal or 0x hex), got nothing");
	refused("latencies: {fault: [1]}\n",
		"t.yaml:1:20: latencies.fault: expected a number (decimal or 0x hex), got a list");
	refused("latencies: {pte_read: 99999999999}\n",
		"t.yaml:1:23: latencies.pte_read: 99999999999 is out of range (at most 16777216)");
	refused("model: {seed: 0x10000000000000000}\n",
		"t.yaml:1:15: model.seed: '0x10000000000000000' does not fit in 64 bits");
	refused("iotlb: {entries: 0x1000001}\n",
		"t.yaml:1:18: iotlb.entries: 0x1000001 is out of range (at most 16777216)");
	refused("iotlb: {policy: fifo}\n",
		"t.yaml:1:17: iotlb.policy: expected lru, round-robin or random, got 'fifo'");
	refused("model:\n  replica: last\n",
		"t.yaml:2:12: model.replica: expected first, covering or random, got 'last'");
	refused("micro_tlb:\n  enable: 1\n",
		"t.yaml:2:11: micro_tlb.enable: expected true or false, got '1'");
	refused("micro_tlb: 5\n",
		"t.yaml:1:12: micro_tlb: expected a mapping (enable, entries, ways, policy, latency), "
		"got a value");
	refused("- iotlb\n",
		"t.yaml:1:1: expected a mapping of sections (iotlb, micro_tlb, walk_cache, latencies, "
		"model, capabilities)");
	refused("iotlb: {ways: 0}\n",
		"t.yaml:1:15: iotlb.ways: expected a number of ways from 1, or full");
	refused("iotlb: {ways: some}\n",
		"t.yaml:1:15: iotlb.ways: expected a number (decimal or 0x hex), got 'some' (or full)");
	refused("iotlb:\n  entries: 30\n  ways: 4\n",
		"t.yaml:3:9: iotlb: 30 entries are not a whole number of 4-way sets");
	refused("micro_tlb: {entries: 4, ways: 8}\n",
		"t.yaml:1:31: micro_tlb: 8 ways exceed the 4 entries");
	/* The other block's entries (the defaults: 64) meet this level's ways. */
	refused("walk_cache:\n  levels:\n    1: {ways: 48}\n",
		"t.yaml:3:15: walk_cache.levels.1: 64 entries are not a whole number of 48-way sets");
	refused("walk_cache: {levels: {8: {}}}\n",
		"t.yaml:1:23: walk_cache.levels: expected a level number 0..7, got '8'");
	refused("walk_cache: {levels: {one: {}}}\n",
		"t.yaml:1:23: walk_cache.levels: expected a level number 0..7, got 'one'");
	refused("walk_cache: {levels: {0: {size: 1}}}\n",
		"t.yaml:1:27: unknown key 'size' in walk_cache.levels.0 (expected enable, entries, ways, "
		"policy, latency)");
	refused("iotlb: {levels: {}}\n",
		"t.yaml:1:9: unknown key 'levels' in iotlb (expected entries, ways, policy, latency)");
	refused("iotlb: {entries: 8, entries: 16}\n",
		"t.yaml:1:21: iotlb: duplicate key 'entries' (first at line 1)");
	refused("model: {}\nmodel: {}\n",
		"t.yaml:2:1: the configuration: duplicate key 'model' (first at line 1)");
	refused("iotlb: {entries: 8}\n---\niotlb: {entries: 16}\n",
		"t.yaml:3:1: a configuration file holds one YAML document");
}
END_TEST

START_TEST(bad_yaml)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	char err[512];
	ck_assert_int_eq(parse(&c, "iotlb:\n  entries: [1, 2\n", err, sizeof(err)), -EINVAL);
	ck_assert_msg(!strncmp(err, "t.yaml:3:1: bad YAML: ", 22), "%s", err);
	ck_assert_int_eq(parse(&c, "iotlb:\n\tentries: 8\n", err, sizeof(err)), -EINVAL);
	ck_assert_msg(!strncmp(err, "t.yaml:2:1: bad YAML: ", 22), "%s", err);
	ck_assert_int_eq(parse(&c, "a: b: c\n", err, sizeof(err)), -EINVAL);
	ck_assert_msg(!strncmp(err, "t.yaml:1:5: bad YAML: ", 22), "%s", err);
}
END_TEST

START_TEST(files)
{
	char path[512], err[512];
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	snprintf(path, sizeof(path), "%s/tests/config/unknown-key.yaml", src_dir());
	ck_assert_int_eq(ims_iommu_cfg_load(&c, path, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:3:3: unknown key 'entires' in iotlb (expected entries, ways, "
				     "policy, latency)", path);
	ck_assert_str_eq(err, want);
	snprintf(path, sizeof(path), "%s/tests/config/bad-value.yaml", src_dir());
	ck_assert_int_eq(ims_iommu_cfg_load(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3:9: latencies.link: expected a number (decimal or 0x hex), "
				     "got 'eight'", path);
	ck_assert_str_eq(err, want);
	snprintf(path, sizeof(path), "%s/tests/config/bad-yaml.yaml", src_dir());
	ck_assert_int_eq(ims_iommu_cfg_load(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:4:", path);
	ck_assert_msg(!strncmp(err, want, strlen(want)) && strstr(err, "bad YAML"), "%s", err);
	ck_assert_int_eq(ims_iommu_cfg_load(&c, "/nonexistent/m.yaml", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/m.yaml: No such file or directory");
	struct ims_iommu_cfg d;
	ims_iommu_cfg_default(&d);
	ck_assert(same_cfg(&c, &d));
}
END_TEST

START_TEST(documented_defaults)
{
	/* docs/model-config.yaml claims to hold every default: loading it on
	 * top of anything yields exactly the defaults. */
	struct ims_iommu_cfg c, d;
	memset(&c, 0, sizeof(c));
	c.seed = 77;
	c.iotlb_entries = 5;
	c.amd_pde_accessed = true;
	ims_iommu_cfg_default(&d);
	char path[512], err[512];
	snprintf(path, sizeof(path), "%s/docs/model-config.yaml", src_dir());
	ck_assert_msg(ims_iommu_cfg_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert(same_cfg(&c, &d));

	/* The gem5 profile loads and says what gem5 says. */
	ims_iommu_cfg_default(&c);
	snprintf(path, sizeof(path), "%s/docs/gem5-smmuv3.yaml", src_dir());
	ck_assert_msg(ims_iommu_cfg_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert(c.utlb_enable);
	ck_assert_uint_eq(c.utlb_entries, 32);
	ck_assert_uint_eq(c.utlb_ways, 0);
	ck_assert_int_eq(c.iotlb_policy, IMS_REPL_ROUND_ROBIN);
	ck_assert_uint_eq(c.wc_level[0].entries, 348);
	ck_assert_uint_eq(c.wc_level[1].entries, 28);
	ck_assert_uint_eq(c.wc_level[2].entries, 4);
	ck_assert_int_eq(c.wc_level[2].policy, IMS_REPL_ROUND_ROBIN);
	ck_assert(!c.wc_level[3].set);
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *m;
	ck_assert_int_eq(ims_iommu_new(mem, &c, &m), 0);
	ims_iommu_free(m);
	ims_mem_free(mem);
}
END_TEST

START_TEST(write_reads_back)
{
	struct ims_iommu_cfg c, d;
	ims_iommu_cfg_default(&c);
	c.utlb_enable = true;
	c.utlb_ways = 4;
	c.iotlb_policy = IMS_REPL_RANDOM;
	c.wc_level[3] = (struct ims_wc_level_cfg){.set = true, .enable = true, .entries = 12,
						  .ways = 3, .policy = IMS_REPL_ROUND_ROBIN,
						  .latency = 2};
	c.wc_level[5] = (struct ims_wc_level_cfg){.set = true, .enable = false, .entries = 64,
						  .ways = 64, .latency = 4};
	c.lat.fault = 1234;
	c.seed = 99;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ims_iommu_cfg_write(&c, f);
	fclose(f);
	memset(&d, 0, sizeof(d));
	char err[512];
	ck_assert_msg(parse(&d, buf, err, sizeof(err)) == 0, "%s\n%s", err, buf);
	ck_assert(same_cfg(&c, &d));
	free(buf);
}
END_TEST


/* ---- the key table ---------------------------------------------------------- */

/* The concrete name of key i: walk_cache.levels.N.* at level `level`. */
static void key_name(size_t i, unsigned level, char *buf, size_t len)
{
	const char *nm = ims_iommu_cfg_key(i)->name;
	const char *n = strstr(nm, ".N.");
	if (n)
		snprintf(buf, len, "%.*s.%u.%s", (int)(n - nm), nm, level, n + 3);
	else
		snprintf(buf, len, "%s", nm);
}

/* A valid value of key i other than the one in force in c. */
static void other_value(const struct ims_iommu_cfg *c, size_t i, const char *name, char *buf,
			size_t len)
{
	const struct ims_cfg_key *k = ims_iommu_cfg_key(i);
	char cur[64];
	ck_assert_int_ge(ims_iommu_cfg_get(c, name, cur, sizeof(cur)), 0);
	switch (k->type) {
	case IMS_CFG_NUMBER: {
		unsigned long long v = strtoull(cur, NULL, 0);
		bool hex = !strncmp(cur, "0x", 2);
		/* Doubled: entries stay a whole number of sets. */
		v = !v ? 1 : v <= k->max / 2 ? 2 * v : v / 2;
		snprintf(buf, len, hex ? "0x%llx" : "%llu", v);
		break;
	}
	case IMS_CFG_BOOL:
		snprintf(buf, len, "%s", strcmp(cur, "true") ? "true" : "false");
		break;
	case IMS_CFG_WAYS:
		/* 2 divides every entry count of the defaults. */
		snprintf(buf, len, "%s", strcmp(cur, "full") ? "full" : "2");
		break;
	case IMS_CFG_POLICY:
		snprintf(buf, len, "%s", strcmp(cur, "random") ? "random" : "lru");
		break;
	case IMS_CFG_REPLICA:
		snprintf(buf, len, "%s", strcmp(cur, "first") ? "first" : "random");
		break;
	}
}

static void round_trip(const struct ims_iommu_cfg *c)
{
	struct ims_iommu_cfg d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ims_iommu_cfg_write(c, f);
	fclose(f);
	memset(&d, 0, sizeof(d));
	char err[512];
	ck_assert_msg(parse(&d, buf, err, sizeof(err)) == 0, "%s\n%s", err, buf);
	ck_assert_msg(same_cfg(c, &d), "%s", buf);
	free(buf);
}

START_TEST(every_table_key_round_trips)
{
	size_t n = ims_iommu_cfg_key_count();
	ck_assert_uint_gt(n, 30);
	ck_assert_ptr_null(ims_iommu_cfg_key(n));
	for (size_t i = 0; i < n; i++) {
		const struct ims_cfg_key *k = ims_iommu_cfg_key(i);
		ck_assert_int_eq(ims_iommu_cfg_key_find(k->name), (int)i);
		if (k->alias)
			ck_assert_int_eq(ims_iommu_cfg_key_find(k->alias), (int)i);
		ck_assert(k->desc && *k->desc && k->type_text && *k->type_text);
		for (unsigned level = 0; level < IMS_WC_LEVELS; level += 5) {
			char name[96], val[64], got[64], err[256] = "";
			struct ims_iommu_cfg c, before;
			ims_iommu_cfg_default(&c);
			before = c;
			key_name(i, level, name, sizeof(name));
			other_value(&c, i, name, val, sizeof(val));
			ck_assert_msg(ims_iommu_cfg_set(&c, name, val, err, sizeof(err)) == 0, "%s=%s: %s",
				      name, val, err);
			ck_assert_msg(!same_cfg(&c, &before), "%s=%s changed nothing", name, val);
			ims_iommu_cfg_get(&c, name, got, sizeof(got));
			ck_assert_str_eq(got, val);
			round_trip(&c);
			if (!strstr(k->name, ".N."))
				break;
		}
	}
}
END_TEST

START_TEST(table_defaults_are_the_defaults)
{
	/* The table's defaults make ims_iommu_cfg_default(), whatever was there. */
	struct ims_iommu_cfg c, d;
	memset(&c, 0, sizeof(c));
	c.seed = 77;
	c.iotlb_ways = 3;
	c.wc_disable = true;
	c.vtd_cap = 5;
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const struct ims_cfg_key *k = ims_iommu_cfg_key(i);
		char err[256];
		if (!k->def) {
			ck_assert_ptr_nonnull(strstr(k->name, ".N."));
			continue;
		}
		ck_assert_msg(ims_iommu_cfg_set(&c, k->name, k->def, err, sizeof(err)) == 0, "%s", err);
	}
	ims_iommu_cfg_default(&d);
	ck_assert(same_cfg(&c, &d));
}
END_TEST

START_TEST(documented_defaults_are_the_table)
{
	/* docs/model-config.yaml gives every key of the table its default: with
	 * any one key changed beforehand, loading the file brings back exactly
	 * the defaults. */
	char path[512];
	snprintf(path, sizeof(path), "%s/docs/model-config.yaml", src_dir());
	struct ims_iommu_cfg d;
	ims_iommu_cfg_default(&d);
	for (size_t i = 0; i < ims_iommu_cfg_key_count(); i++) {
		const struct ims_cfg_key *k = ims_iommu_cfg_key(i);
		if (!k->def)
			continue;
		struct ims_iommu_cfg c = d;
		char val[64], err[512];
		other_value(&c, i, k->name, val, sizeof(val));
		ck_assert_int_eq(ims_iommu_cfg_set(&c, k->name, val, err, sizeof(err)), 0);
		ck_assert_msg(ims_iommu_cfg_load(&c, path, err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(same_cfg(&c, &d),
			      "docs/model-config.yaml after %s=%s: not the defaults (%s: %s)", k->name,
			      val, k->name, k->def);
	}
}
END_TEST

/* key=value must be refused with exactly this message, cfg untouched. */
static void set_refused(const char *key, const char *value, int rc, const char *want)
{
	struct ims_iommu_cfg c, before;
	ims_iommu_cfg_default(&c);
	before = c;
	char err[512] = "";
	ck_assert_int_eq(ims_iommu_cfg_set(&c, key, value, err, sizeof(err)), rc);
	ck_assert_str_eq(err, want);
	ck_assert(same_cfg(&c, &before));
}

START_TEST(set_errors_name_the_key)
{
	set_refused("iotlb.entires", "8", -ENOENT, "unknown key 'iotlb.entires' (nearest: iotlb.entries)");
	set_refused("amd-efrr", "1", -ENOENT, "unknown key 'amd-efrr' (nearest: capabilities.amd_efr)");
	set_refused("latency.link", "1", -ENOENT, "unknown key 'latency.link' (nearest: latencies.link)");
	set_refused("walk_cache.levels.2.entrys", "1", -ENOENT,
		    "unknown key 'walk_cache.levels.2.entrys' (nearest: walk_cache.levels.N.entries)");
	set_refused("walk_cache.levels.8.entries", "1", -EINVAL,
		    "walk_cache.levels: expected a level number 0..7, got '8'");
	set_refused("iotlb.entries", "lots", -EINVAL,
		    "iotlb.entries: expected a number (decimal or 0x hex), got 'lots'");
	set_refused("iotlb-entries", "0x1000001", -EINVAL,
		    "iotlb-entries: 0x1000001 is out of range (at most 16777216)");
	set_refused("model.seed", "010x", -EINVAL,
		    "model.seed: expected a number (decimal or 0x hex), got '010x'");
	set_refused("dma-privileged", "1", -EINVAL, "dma-privileged: expected true or false, got '1'");
	set_refused("walk_cache.policy", "fifo", -EINVAL,
		    "walk_cache.policy: expected lru, round-robin or random, got 'fifo'");
	set_refused("replica", "last", -EINVAL, "replica: expected first, covering or random, got 'last'");
	set_refused("micro_tlb.ways", "0", -EINVAL, "micro_tlb.ways: expected a number of ways from 1, or full");
	set_refused("walk_cache.levels.1.ways", "x", -EINVAL,
		    "walk_cache.levels.1.ways: expected a number (decimal or 0x hex), got 'x' (or full)");
}
END_TEST

START_TEST(aliases_keep_their_meaning)
{
	struct ims_iommu_cfg c;
	ims_iommu_cfg_default(&c);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "walk_cache.levels.1.ways", "2", NULL, 0), 0);
	/* A level first set starts from the walk_cache block. */
	ck_assert(c.wc_level[1].set && c.wc_level[1].enable);
	ck_assert_uint_eq(c.wc_level[1].entries, 64);
	ck_assert_uint_eq(c.wc_level[1].ways, 2);
	ck_assert_uint_eq(c.wc_level[1].latency, 4);
	/* The file's key sets the block; the option's spelling every level too. */
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "walk_cache.entries", "32", NULL, 0), 0);
	ck_assert_uint_eq(c.wc_entries, 32);
	ck_assert_uint_eq(c.wc_level[1].entries, 64);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "walk-cache-entries", "16", NULL, 0), 0);
	ck_assert_uint_eq(c.wc_entries, 16);
	ck_assert_uint_eq(c.wc_level[1].entries, 16);
	ck_assert(!c.wc_level[0].set);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "walk-cache-ways", "full", NULL, 0), 0);
	ck_assert_uint_eq(c.wc_ways, 16);
	ck_assert_uint_eq(c.wc_level[1].ways, 16);
	/* The command line's cache sizes take 0 ways; the file's keys do not. */
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "iotlb-ways", "0", NULL, 0), 0);
	ck_assert_uint_eq(c.iotlb_ways, 0);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "iotlb.ways", "0", NULL, 0), -EINVAL);
	/* Flags of the command line are booleans; words as the file spells them. */
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "amd-pde-accessed", "true", NULL, 0), 0);
	ck_assert(c.amd_pde_accessed);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "vtd-nonleaf-accessed", "Off", NULL, 0), 0);
	ck_assert(!c.vtd_nonleaf_accessed);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "walk_cache.enable", "false", NULL, 0), 0);
	ck_assert(c.wc_disable);
	ck_assert_int_eq(ims_iommu_cfg_set(&c, "smmu-idr0", "0x40", NULL, 0), 0);
	ck_assert_uint_eq(c.smmu_idr0, 0x40);
}
END_TEST

START_TEST(capability_keys_name_their_format)
{
	static const struct {
		const char *key;
		int fmt;
	} want[] = {
		{"capabilities.amd_efr", IMS_FMT_AMDV1}, {"capabilities.vtd_cap", IMS_FMT_VTD},
		{"capabilities.vtd_ecap", IMS_FMT_VTD},  {"capabilities.smmu_idr0", IMS_FMT_SMMUV3},
		{"capabilities.smmu_idr5", IMS_FMT_SMMUV3_S2},
		{"model.amd_pde_accessed", IMS_FMT_AMDV1}, {"iotlb.entries", -1}, {"model.seed", -1},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int k = ims_iommu_cfg_key_find(want[i].key);
		ck_assert_int_ge(k, 0);
		ck_assert_int_eq(ims_iommu_cfg_key((size_t)k)->format, want[i].fmt);
	}
	ck_assert_int_eq(ims_iommu_cfg_key_find("capabilities"), -ENOENT);
	ck_assert_int_eq(ims_iommu_cfg_key_find("walk_cache.levels.8.ways"), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, partial_files_keep_the_rest);
	tcase_add_test(tc, errors_name_line_and_column);
	tcase_add_test(tc, bad_yaml);
	tcase_add_test(tc, files);
	tcase_add_test(tc, documented_defaults);
	tcase_add_test(tc, write_reads_back);
	tcase_add_test(tc, every_table_key_round_trips);
	tcase_add_test(tc, table_defaults_are_the_defaults);
	tcase_add_test(tc, documented_defaults_are_the_table);
	tcase_add_test(tc, set_errors_name_the_key);
	tcase_add_test(tc, aliases_keep_their_meaning);
	tcase_add_test(tc, capability_keys_name_their_format);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
