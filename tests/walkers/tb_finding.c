/* A plug-in walker that writes outside its tables, driven through the
 * testbench API by direct calls (no trace): the host refuses the write and
 * the finding reaches the failure callback as one IMS_TB_FAIL_WALKER record
 * when the call that made it returns, counted in walker_findings.
 * Usage: tb_finding PLUGIN (tests/walkers/write_outside.c's .so). */
#include <stdio.h>
#include <string.h>

#include <iommusim/tb.h>

static unsigned walker_records;
static char first[256];

static void on_failure(void *arg, const struct ims_tb_failure *f)
{
	(void)arg;
	if (f->kind == IMS_TB_FAIL_WALKER && !walker_records++)
		snprintf(first, sizeof(first), "%s", f->message);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	struct ims_walker_plugin *p;
	char err[256];
	if (ims_walker_plugin_load(argv[1], &p, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	o.plugin = ims_walker_plugin_ops(p);
	o.on_failure = on_failure;
	struct ims_tb *tb;
	if (ims_tb_new(&o, &tb))
		return 2;
	struct ims_tb_domain_cfg c = {.fmt = IMS_FMT_AMDV1, .dirty = true};
	if (ims_tb_domain(tb, 1, &c) || ims_tb_attach(tb, 1, 1) ||
	    ims_tb_map(tb, 1, 0, 0x40000000, 0x200000, IMS_PROT_RW, 0x200000) ||
	    ims_tb_track(tb, 1, true)) {
		fprintf(stderr, "setup: %s\n", ims_tb_error(tb));
		return 2;
	}
	ims_tb_dma(tb, 1, 0x1000, 8, IMS_ACC_W, NULL, 0, NULL);
	unsigned before = walker_records;
	struct ims_bitmap got;
	struct ims_tb_verdict v;
	int rc = ims_tb_harvest(tb, 1, 0, 0x200000, 0, 0, &got, &v);
	if (!rc)
		ims_bitmap_fini(&got);
	unsigned long long counted = ims_tb_stats(tb)->walker_findings;
	ims_tb_free(tb);
	ims_walker_plugin_unload(p);
	printf("harvest rc %d, match %d, walker records %u (before it %u), counted %llu: %s\n", rc,
	       v.match, walker_records, before, counted, first);
	/* One record, from the harvest; the walker then cleans correctly. */
	return rc == 0 && v.match && before == 0 && walker_records == 1 && counted == 1 &&
			       strstr(first, "outside the page tables")
		       ? 0
		       : 1;
}
