/* The importers (docs/importers.md): what each log event becomes, the
 * assumptions and their options, errors with line numbers, and that every
 * imported trace replays with exit 0 and survives the binary form. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "iommusim/import.h"
#include "iommusim/replay.h"
#include "iommusim/tracebin.h"

/* ---- helpers ------------------------------------------------------------- */

static void src_path(char *buf, size_t n, const char *rel)
{
	const char *d = getenv("IMS_SRC");
	snprintf(buf, n, "%s/%s", d && *d ? d : ".", rel);
}

struct out {
	char *s;
	size_t n, cap;
	bool comments;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		o->cap = (o->n + n + 1) * 2;
		o->s = realloc(o->s, o->cap);
		ck_assert_ptr_nonnull(o->s);
	}
	memcpy(o->s + o->n, s, n);
	o->n += n;
	o->s[o->n] = '\0';
}

static int ev_sink(void *arg, const struct ims_event *ev)
{
	struct out *o = arg;
	char line[4096];
	size_t n = ims_event_format(ev, line, sizeof(line));
	ck_assert_uint_lt(n, sizeof(line));
	out_put(o, line, n);
	out_put(o, "\n", 1);
	return 0;
}

static int comment_sink(void *arg, const char *text)
{
	struct out *o = arg;
	if (o->comments) {
		out_put(o, "# ", 2);
		out_put(o, text, strlen(text));
		out_put(o, "\n", 1);
	}
	return 0;
}

static struct ims_import_opts opts(enum ims_import_from from)
{
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	o.from = from;
	o.timestamps = false;
	return o;
}

/* The events an import of `log` writes, one canonical line each; rc and
 * the error message through the pointers when they are given. */
static char *run(const struct ims_import_opts *o, const char *log, struct ims_import_stats *st,
		 int *rc, char *err, size_t errlen)
{
	struct out out = {0};
	out_put(&out, "", 0);
	struct ims_import_sink sink = {ev_sink, comment_sink, &out};
	struct ims_import_stats local;
	char e[1024];
	int r = ims_import_mem(o, "q.log", log, strlen(log), &sink, st ? st : &local, e, sizeof(e));
	if (rc) {
		*rc = r;
		if (err) {
			size_t k = strlen(e) < errlen ? strlen(e) : errlen - 1;
			memcpy(err, e, k);
			err[k] = '\0';
		}
	} else {
		ck_assert_msg(r == 0, "import failed: %d: %s", r, e);
	}
	return out.s;
}

static char *imp(enum ims_import_from from, const char *log)
{
	struct ims_import_opts o = opts(from);
	return run(&o, log, NULL, NULL, NULL, 0);
}

static void has(const char *text, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "%s\n", line);
	const char *p = text;
	/* A whole line. */
	while ((p = strstr(p, want))) {
		if (p == text || p[-1] == '\n')
			return;
		p++;
	}
	ck_abort_msg("missing line '%s' in:\n%s", line, text);
}

static void lacks(const char *text, const char *part)
{
	ck_assert_msg(!strstr(text, part), "unexpected '%s' in:\n%s", part, text);
}

static unsigned count(const char *text, const char *part)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, part)); p++)
		n++;
	return n;
}

/* Replays a trace text with the library; every harvest and assertion must
 * hold. */
static void replays(const char *name, const char *text)
{
	struct ims_replay_opts ro;
	ims_replay_opts_default(&ro);
	ro.verbosity = 0;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&ro, &r), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem(name, text, strlen(text), 1, &rd), 0);
	int rc = ims_replay_run(r, rd);
	ck_assert_msg(rc == 0, "%s: %s\n%s", name, ims_replay_error(r), text);
	ck_assert_msg(ims_replay_stats(r)->validation_failures == 0, "%s fails validation:\n%s",
		      name, text);
	ims_reader_close(rd);
	ims_replay_free(r);
}

/* Text -> binary -> text gives the same canonical lines. */
static void binary_round_trip(const char *name, const char *text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ims_binwriter *w;
	ck_assert_int_eq(ims_binwriter_open(f, NULL, &w), 0);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem(name, text, strlen(text), 1, &rd), 0);
	struct ims_event ev;
	struct out want = {0}, got = {0};
	out_put(&want, "", 0);
	out_put(&got, "", 0);
	while (ims_reader_next(rd, &ev) == 1) {
		ev_sink(&want, &ev);
		ck_assert_int_eq(ims_binwriter_add(w, &ev), 0);
	}
	ims_reader_close(rd);
	ck_assert_int_eq(ims_binwriter_close(w, NULL), 0);
	fclose(f);
	ck_assert_int_eq(ims_reader_open_mem(name, buf, len, 1, &rd), 0);
	int rc;
	while ((rc = ims_reader_next(rd, &ev)) == 1)
		ev_sink(&got, &ev);
	ck_assert_msg(rc == 0, "%s", ims_reader_error(rd));
	ims_reader_close(rd);
	ck_assert_str_eq(want.s, got.s);
	free(buf);
	free(want.s);
	free(got.s);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* ---- QEMU: intel-iommu ----------------------------------------------------- */

#define VTD_MISS(iova, pte, gpa)                                                               \
	"vtd_iotlb_page_update IOTLB page update sid 0x10 iova " iova " slpte " pte                 \
	" domain 0x4\n"                                                                            \
	"vtd_dmar_translate dev 00:02.00 iova " iova " -> gpa " gpa " mask 0xfff\n"

START_TEST(vtd_translation)
{
	char *t = imp(IMS_FROM_QEMU_VTD,
		      "1@10.000001:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0xffffe040 "
		      "slpte 0x3ff16003 domain 0x4\n"
		      "1@10.000002:vtd_dmar_translate dev 00:02.00 iova 0xffffe000 -> gpa 0x3ff16000 "
		      "mask 0xfff\n");
	ck_assert_str_eq(t, "domain id=4 format=vtd levels=3 dirty=on\n"
			    "attach dev=0x10 domain=4\n"
			    "map domain=4 iova=0xffffe000 pa=0x3ff16000 size=0x1000 prot=rw\n"
			    "expect pa dev=0x10 iova=0xffffe040 pa=0x3ff16040\n"
			    "dma dev=0x10 iova=0xffffe040 len=0x8 dir=w\n");
	replays("t", t);
	free(t);
}
END_TEST

START_TEST(vtd_directions)
{
	static const char log[] =
		/* A read command: the device writes its data. */
		"pci_nvme_io_cmd cid 7 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n"
		"pci_nvme_read cid 7 nsid 1 nlb 1 count 512 lba 0x0\n"
		"pci_nvme_map_prp trans_len 512 len 512 prp1 0xfffa0200 prp2 0x0 num_prps 1\n"
		"pci_nvme_map_addr addr 0xfffa0200 len 512\n"
		"dma_blk_io dbs=0x1 bs=0x2 offset=0 to_dev=0\n" VTD_MISS("0xfffa0200", "0x1003",
									  "0x1000")
		"pci_nvme_rw_cb cid 7 blk 'd0'\n"
		/* A write command: the device reads. */
		"pci_nvme_io_cmd cid 8 nsid 0x1 sqid 1 opc 0x1 opname 'NVME_NVM_CMD_WRITE'\n"
		"pci_nvme_write cid 8 opname 'NVME_NVM_CMD_WRITE' nsid 1 nlb 8 count 4096 lba 0x8\n"
		"pci_nvme_map_prp trans_len 4096 len 4096 prp1 0xfffb0000 prp2 0x0 num_prps 2\n"
		"pci_nvme_map_addr addr 0xfffb0000 len 4096\n"
		"dma_blk_io dbs=0x1 bs=0x2 offset=0 to_dev=1\n" VTD_MISS("0xfffb0000", "0x2001",
									  "0x2000")
		"pci_nvme_rw_cb cid 8 blk 'd0'\n"
		/* No device event: read-only follows from the entry, else assumed. */
		VTD_MISS("0xfffc0000", "0x3001", "0x3000") VTD_MISS("0xfffd0010", "0x4003", "0x4000");
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	char *t = run(&o, log, &st, NULL, NULL, 0);
	has(t, "dma dev=0x10 iova=0xfffa0200 len=0x200 dir=w");
	has(t, "map domain=4 iova=0xfffb0000 pa=0x2000 size=0x1000 prot=r");
	has(t, "dma dev=0x10 iova=0xfffb0000 len=0x1000 dir=r");
	has(t, "dma dev=0x10 iova=0xfffc0000 len=0x8 dir=r");
	has(t, "dma dev=0x10 iova=0xfffd0010 len=0x8 dir=w");
	ck_assert_uint_eq(st.dir_logged, 2);
	ck_assert_uint_eq(st.dir_perm, 1);
	ck_assert_uint_eq(st.dir_assumed, 1);
	replays("t", t);
	free(t);
	/* The assumption is an option. */
	o.assume[IMS_ASSUME_UNKNOWN] = IMS_ACC_R;
	o.access_len = 64;
	t = run(&o, log, NULL, NULL, NULL, 0);
	has(t, "dma dev=0x10 iova=0xfffd0010 len=0x40 dir=r");
	free(t);
	o.assume[IMS_ASSUME_UNKNOWN] = 0;
	t = run(&o, log, NULL, NULL, NULL, 0);
	lacks(t, "iova=0xfffd0010 len");
	free(t);
}
END_TEST

/* Replays with strict faults: a fault no expect takes fails it. */
static void replays_without_faults(const char *text)
{
	struct ims_replay_opts ro;
	ims_replay_opts_default(&ro);
	ro.verbosity = 0;
	struct ims_replay *r;
	ck_assert_int_eq(ims_replay_new(&ro, &r), 0);
	ims_replay_set_strict_faults(r, true);
	struct ims_reader *rd;
	ck_assert_int_eq(ims_reader_open_mem("t", text, strlen(text), 1, &rd), 0);
	ck_assert_msg(ims_replay_run(r, rd) == 0, "%s", ims_replay_error(r));
	ck_assert_msg(ims_replay_stats(r)->faults == 0 &&
		      ims_replay_stats(r)->validation_failures == 0, "faults in:\n%s", text);
	ims_reader_close(rd);
	ims_replay_free(r);
}

/* An access asks no more than its mapping allows (docs/importers.md, "an
 * access is cut to the permission the mapping has"): a direction the
 * mapping lacks is dropped from it, and an access left with none is not
 * written, so the trace replays without a fault the log never had. */
START_TEST(direction_limited_by_permission)
{
	static const char log[] =
		/* A read-only page; then a read command's data in it, which the
		 * device writes. */
		VTD_MISS("0xfffa0000", "0x1001", "0x1000")
		"pci_nvme_io_cmd cid 7 nsid 0x1 sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'\n"
		"pci_nvme_read cid 7 nsid 1 nlb 1 count 512 lba 0x0\n"
		"pci_nvme_map_prp trans_len 512 len 512 prp1 0xfffa0200 prp2 0x0 num_prps 1\n"
		"pci_nvme_map_addr addr 0xfffa0200 len 512\n"
		"dma_blk_io dbs=0x1 bs=0x2 offset=0 to_dev=0\n"
		"vtd_iotlb_page_hit IOTLB page hit sid 0x10 iova 0xfffa0200 slpte 0x1001 domain 0x4\n"
		"vtd_dmar_translate dev 00:02.00 iova 0xfffa0000 -> gpa 0x1000 mask 0xfff\n"
		"pci_nvme_rw_cb cid 7 blk 'd0'\n";
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	char *t = run(&o, log, &st, NULL, NULL, 0);
	has(t, "map domain=4 iova=0xfffa0000 pa=0x1000 size=0x1000 prot=r");
	has(t, "dma dev=0x10 iova=0xfffa0000 len=0x8 dir=r");
	lacks(t, "dir=w");
	ck_assert_uint_eq(count(t, "dma "), 1);
	ck_assert_uint_eq(st.dir_logged, 1);
	ck_assert_uint_eq(st.dir_clipped, 1);
	replays_without_faults(t);
	free(t);

	/* A bidirectional mapping assumed read and written, whose driver
	 * pieces are read-only: the access is a read. */
	static const char ftrace[] =
		"  t-1 [000] .....  1.000000: dma_map_sg: (iommu_dma_map_sg+0x0/0x400) nents=1 dir=0\n"
		"  t-1 [000] .....  1.000010: intel_map_pages: (intel_iommu_map_pages+0x0/0xe0) "
		"iova=0xfff00000 paddr=0x10000000 pgsize=0x1000 pgcount=2 prot=0x1\n"
		"  t-1 [000] .....  1.000020: map: IOMMU: iova=0x00000000fff00000 - "
		"0x00000000fff02000 paddr=0x0000000010000000 size=8192\n";
	o = opts(IMS_FROM_FTRACE);
	o.assume[IMS_ASSUME_BIDIR] = IMS_ACC_RW;
	t = run(&o, ftrace, &st, NULL, NULL, 0);
	has(t, "map domain=1 iova=0xfff00000 pa=0x10000000 size=0x2000 prot=r pgsize=0x1000");
	has(t, "dma dev=0x0 iova=0xfff00000 len=0x2000 dir=r");
	lacks(t, "dir=rw");
	ck_assert_uint_eq(st.dir_clipped, 1);
	replays_without_faults(t);
	free(t);
}
END_TEST

/* An access longer than replay's default DMA budget is written as several
 * dma events of at most IMS_TRACE_DMA_BYTES_DEFAULT each, so that the trace
 * replays under the default budget (docs/limits.md). */
START_TEST(long_access_split_at_the_dma_budget)
{
	static const char ftrace[] =
		"  t-1 [000] .....  1.000000: dma_map_sg: (iommu_dma_map_sg+0x0/0x400) nents=1 dir=1\n"
		"  t-1 [000] .....  1.000010: intel_map_pages: (intel_iommu_map_pages+0x0/0xe0) "
		"iova=0x200000000 paddr=0x200000000 pgsize=0x40000000 pgcount=9 prot=0x3\n"
		"  t-1 [000] .....  1.000020: map: IOMMU: iova=0x0000000200000000 - "
		"0x0000000440000000 paddr=0x0000000200000000 size=9663676416\n";
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_FTRACE);
	char *t = run(&o, ftrace, &st, NULL, NULL, 0);
	has(t, "dma dev=0x0 iova=0x200000000 len=0x100000000 dir=r");
	has(t, "dma dev=0x0 iova=0x300000000 len=0x100000000 dir=r");
	has(t, "dma dev=0x0 iova=0x400000000 len=0x40000000 dir=r");
	ck_assert_uint_eq(count(t, "dma "), 3);
	replays_without_faults(t);
	free(t);
}
END_TEST

START_TEST(vtd_invalidation_and_remap)
{
	static const char log[] =
		VTD_MISS("0xfffa0000", "0x10003", "0x10000") VTD_MISS("0xfffa1000", "0x11003", "0x11000")
		VTD_MISS("0xfffa2000", "0x12003", "0x12000") VTD_MISS("0xfffa3000", "0x13003", "0x13000")
		"vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x4 addr 0xfffa0000 mask 0x1\n"
		/* Mapped again after the invalidation: a fresh map, no remap. */
		VTD_MISS("0xfffa0000", "0x20003", "0x20000")
		/* No invalidation, yet another page: the old mapping is replaced. */
		VTD_MISS("0xfffa3000", "0x30001", "0x30000")
		"vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x4 addr 0xfff00000 mask 0x0\n"
		"vtd_inv_desc_iotlb_domain iotlb invalidate whole domain 0x4\n"
		"vtd_inv_desc_iotlb_global iotlb invalidate global\n";
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	char *t = run(&o, log, &st, NULL, NULL, 0);
	has(t, "unmap domain=4 iova=0xfffa0000 size=0x2000");
	has(t, "map domain=4 iova=0xfffa0000 pa=0x20000 size=0x1000 prot=rw");
	has(t, "unmap domain=4 iova=0xfffa3000 size=0x1000");
	has(t, "map domain=4 iova=0xfffa3000 pa=0x30000 size=0x1000 prot=r");
	ck_assert_uint_eq(count(t, "flush domain=4"), 2);
	ck_assert_uint_eq(st.remaps, 1);
	ck_assert_uint_eq(st.unmap_untracked, 1);
	replays("t", t);
	free(t);
}
END_TEST

START_TEST(vtd_geometry_and_large_pages)
{
	static const char log[] =
		"vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x10 high 0x702 low 0x1 gen 0 "
		"-> gen 1\n"
		"vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x40200000 slpte 0x60200083 "
		"domain 0x7\n"
		"vtd_dmar_translate dev 00:02.00 iova 0x40200000 -> gpa 0x60200000 mask 0x1fffff\n"
		"vtd_iotlb_page_hit IOTLB page hit sid 0x10 iova 0x40203008 slpte 0x60200083 domain 0x7\n"
		"vtd_dmar_translate dev 00:02.00 iova 0x40200000 -> gpa 0x60200000 mask 0x1fffff\n";
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	o.levels = 5; /* the context entry says 4: the log wins */
	char *t = run(&o, log, NULL, NULL, NULL, 0);
	has(t, "domain id=7 format=vtd levels=4 dirty=on");
	has(t, "map domain=7 iova=0x40200000 pa=0x60200000 size=0x200000 prot=rw pgsize=0x200000");
	has(t, "dma dev=0x10 iova=0x40203008 len=0x8 dir=w");
	ck_assert_uint_eq(count(t, "\nmap "), 1);
	replays("t", t);
	free(t);
}
END_TEST

START_TEST(vtd_faults)
{
	static const char log[] = VTD_MISS("0xfffa0000", "0x10001", "0x10000")
		"vtd_dmar_fault sid 0x10 fault 5 addr 0x7000000 write 1\n"
		"vtd_dmar_fault sid 0x10 fault 5 addr 0xfffa0008 write 1\n"
		"vtd_dmar_fault sid 0x10 fault 5 addr 0xfffa0008 write 0\n"
		"vtd_dmar_fault sid 0x20 fault 5 addr 0xfffa0008 write 0\n";
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	char *t = run(&o, log, &st, NULL, NULL, 0);
	has(t, "dma dev=0x10 iova=0x7000000 len=0x1 dir=w");
	has(t, "expect fault dev=0x10 iova=0x7000000 kind=notpresent");
	has(t, "expect fault dev=0x10 iova=0xfffa0008 kind=perm");
	ck_assert_uint_eq(count(t, "expect fault"), 2);
	ck_assert_uint_eq(st.faults_skipped, 2);
	replays("t", t);
	free(t);
}
END_TEST

/* ---- QEMU: amd-iommu and smmuv3 ------------------------------------------------ */

START_TEST(amd_leaf_bases)
{
	/* amdvi_translation_result prints the leaf's base: an 8K page shows its
	 * base for both halves. */
	static const char log[] =
		"amdvi_cache_update  update iotlb domid 0x3 devid: 00:03.0 gpa 0xffeae000 hpa 0x2b3c000\n"
		"amdvi_translation_result devid: 00:03.0 gpa 0xffeae000 hpa 0x2b3c000\n"
		"amdvi_cache_update  update iotlb domid 0x3 devid: 00:03.0 gpa 0xffeaf000 hpa 0x2b3c000\n"
		"amdvi_translation_result devid: 00:03.0 gpa 0xffeaf010 hpa 0x2b3c000\n"
		"amdvi_iotlb_hit hit iotlb devid 00:03.0 gpa 0xffeaf020 hpa 0x2b3c000\n"
		"amdvi_translation_result devid: 00:03.0 gpa 0xffeaf020 hpa 0x2b3c000\n"
		"amdvi_pages_inval AMD-Vi pages for domain 0x3 invalidated\n"
		"amdvi_translation_result devid: 00:03.0 gpa 0x10000 hpa 0x5000\n";
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_QEMU_AMDVI);
	char *t = run(&o, log, &st, NULL, NULL, 0);
	has(t, "domain id=3 format=amdv1 levels=3 dirty=on");
	has(t, "attach dev=0x18 domain=3");
	has(t, "map domain=3 iova=0xffeae000 pa=0x2b3c000 size=0x1000 prot=rw");
	has(t, "map domain=3 iova=0xffeaf000 pa=0x2b3d000 size=0x1000 prot=rw");
	has(t, "expect pa dev=0x18 iova=0xffeaf010 pa=0x2b3d010");
	has(t, "flush domain=3");
	/* The flush unmaps nothing: the domain stays as it was. */
	lacks(t, "unmap");
	has(t, "map domain=3 iova=0x10000 pa=0x5000 size=0x1000 prot=rw");
	ck_assert_uint_eq(st.remaps, 0);
	replays("t", t);
	free(t);
	o.map_prot = IMS_PROT_R;
	t = run(&o, log, NULL, NULL, NULL, 0);
	has(t, "map domain=3 iova=0x10000 pa=0x5000 size=0x1000 prot=r");
	has(t, "dma dev=0x18 iova=0x10000 len=0x8 dir=r");
	free(t);
}
END_TEST

START_TEST(smmu_context_blocks_and_ranges)
{
	static const char log[] =
		"smmuv3_decode_cd_tt TT[0]:tsz:25 ttb:0x42eb3000 granule_sz:12 had:0\n"
		"smmu_iotlb_lookup_miss IOTLB cache MISS asid=2 vmid=-1 addr=0x40000000 hit=0 miss=1\n"
		"smmu_iotlb_insert IOTLB ++ asid=2 vmid=-1 addr=0x40000000 tg=1 level=2 stage=1\n"
		"smmuv3_translate_success smmuv3-iommu-memory-region-8-1 sid=0x8 iova=0x40001008 "
		"translated=0x60001008 perm=0x3\n"
		"smmu_iotlb_lookup_miss IOTLB cache MISS asid=2 addr=0x7fff0000 hit=0 miss=2\n"
		"smmu_iotlb_insert IOTLB ++ asid=2 addr=0x7fff0000 tg=1 level=3\n"
		"smmuv3_translate_success smmuv3-iommu-memory-region-8-1 sid=8 iova=0x7fff0000 "
		"translated=0x71110000 perm=0x1\n"
		"smmuv3_translate_abort smmuv3-iommu-memory-region-8-1 sid=0x8 abort on iova:0x7fff0010 "
		"is_write=1\n"
		"smmuv3_s1_range_inval vmid=0 asid=2 addr=0x40000000 tg=1 num_pages=0x1 ttl=2 leaf=1\n"
		"smmuv3_range_inval vmid=0 asid=2 addr=0x7fff0000 tg=1 num_pages=0x1 ttl=3 leaf=1 "
		"stage=1\n";
	char *t = imp(IMS_FROM_QEMU_SMMUV3, log);
	has(t, "domain id=2 format=smmuv3 granule=0x1000 ias=39 dirty=on");
	has(t, "attach dev=0x8 domain=2");
	has(t, "map domain=2 iova=0x40000000 pa=0x60000000 size=0x200000 prot=rw pgsize=0x200000");
	has(t, "map domain=2 iova=0x7fff0000 pa=0x71110000 size=0x1000 prot=r");
	has(t, "dma dev=0x8 iova=0x7fff0000 len=0x8 dir=r");
	has(t, "expect fault dev=0x8 iova=0x7fff0010 kind=perm");
	/* A one-page TLBI in a 2M block takes the whole block. */
	has(t, "unmap domain=2 iova=0x40000000 size=0x200000");
	has(t, "unmap domain=2 iova=0x7fff0000 size=0x1000");
	replays("t", t);
	free(t);
}
END_TEST

START_TEST(qemu_unknown_other_malformed)
{
	static const char log[] = "vtd_fancy_new_event a b c\n"
				  "qemu-system-x86_64: warning: something\n"
				  "\n" VTD_MISS("0xfffa0000", "0x10003", "0x10000")
				  "vtd_fancy_new_event a b c\n"
				  "vtd_dmar_translate dev 00:02.00 iova 0xfffa0000 -> gpa mask 0xfff\n"
				  "pci_nvme_map_addr addr 0xfffa0000\n";
	struct ims_import_stats st;
	int rc;
	char err[512];
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	char *t = run(&o, log, &st, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_str_eq(err, "q.log:7: vtd_dmar_translate: expected 'dev BB:DD.F iova 0x... -> gpa "
			      "0x... mask 0x...'");
	free(t);
	o.lenient = true;
	t = run(&o, log, &st, NULL, NULL, 0);
	ck_assert_uint_eq(st.malformed, 2);
	ck_assert_uint_eq(st.unknown, 2);
	ck_assert_uint_eq(st.other, 2);
	ck_assert_uint_eq(st.lines, 8);
	ck_assert_uint_eq(st.n_unknown, 1);
	ck_assert_str_eq(st.unknown_names[0].name, "vtd_fancy_new_event");
	ck_assert_uint_eq(st.unknown_names[0].n, 2);
	/* Known events, malformed ones included, most frequent first. */
	ck_assert_uint_eq(st.n_known, 3);
	ck_assert_str_eq(st.known[0].name, "vtd_dmar_translate");
	ck_assert_uint_eq(st.known[0].n, 2);
	ck_assert_str_eq(st.known[1].name, "pci_nvme_map_addr");
	ck_assert_uint_eq(st.known[1].n, 1);
	has(t, "dma dev=0x10 iova=0xfffa0000 len=0x8 dir=w");
	free(t);
	/* An event of another IOMMU is unknown to this importer. */
	o = opts(IMS_FROM_QEMU_AMDVI);
	t = run(&o, log, &st, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_str_eq(err, "q.log:8: pci_nvme_map_addr: expected 'addr 0x... len N'");
	ck_assert_uint_eq(st.unknown, 5);
	free(t);
}
END_TEST

START_TEST(timestamps_and_harvests)
{
	static const char log[] =
		"1@100.000002:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x1000 slpte "
		"0x10003 domain 0x4\n"
		"1@100.000002:vtd_dmar_translate dev 00:02.00 iova 0x1000 -> gpa 0x10000 mask 0xfff\n"
		/* Another thread's clock, a little behind: the trace never goes back. */
		"2@100.000001:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x5000 slpte "
		"0x50003 domain 0x4\n"
		"2@100.000001:vtd_dmar_translate dev 00:02.00 iova 0x5000 -> gpa 0x50000 mask 0xfff\n"
		"1@100.500000:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x40003000 slpte "
		"0x30003 domain 0x4\n"
		"1@100.500000:vtd_dmar_translate dev 00:02.00 iova 0x40003000 -> gpa 0x30000 mask "
		"0xfff\n";
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	o.timestamps = true;
	o.harvest_every = 2;
	o.expect_pa = IMS_EXPECT_PA_NONE;
	char *t = run(&o, log, NULL, NULL, NULL, 0);
	ck_assert_str_eq(t,
			 "@0 domain id=4 format=vtd levels=3 dirty=on\n"
			 "@0 track domain=4 on\n"
			 "@0 attach dev=0x10 domain=4\n"
			 "@0 map domain=4 iova=0x1000 pa=0x10000 size=0x1000 prot=rw\n"
			 "@0 dma dev=0x10 iova=0x1000 len=0x8 dir=w\n"
			 "@0 map domain=4 iova=0x5000 pa=0x50000 size=0x1000 prot=rw\n"
			 "@0 dma dev=0x10 iova=0x5000 len=0x8 dir=w\n"
			 "@0 harvest domain=4 iova=0x1000 size=0x5000\n"
			 "@499998000 map domain=4 iova=0x40003000 pa=0x30000 size=0x1000 prot=rw\n"
			 "@499998000 dma dev=0x10 iova=0x40003000 len=0x8 dir=w\n"
			 "@499998000 harvest domain=4 iova=0x1000 size=0x5000\n"
			 "@499998000 harvest domain=4 iova=0x40003000 size=0x1000\n");
	replays("t", t);
	free(t);
}
END_TEST

#define VTD_AT(t, iova, gpa)                                                                   \
	"1@" t ":vtd_iotlb_page_update IOTLB page update sid 0x10 iova " iova " slpte " gpa      \
	"3 domain 0x4\n1@" t ":vtd_dmar_translate dev 00:02.00 iova " iova " -> gpa " gpa         \
	"000 mask 0xfff\n"

START_TEST(harvests_at_a_time_cadence)
{
	/* Accesses at 0, 50, 250, 270 and 910 ms of log time; a VMM syncing
	 * every 100 ms harvests at 100 ms (two accesses before), 300 ms (two
	 * more) and at the end; 200 ms and 400..900 ms follow no access (the
	 * flush at 550 ms is none). The phase marker and the flush keep their
	 * places in time. */
	static const char log[] = VTD_AT("100.000000", "0x1000", "0x10")
		VTD_AT("100.050000", "0x2000", "0x20")
		"1@100.240000:pci_cfg_read nvme 00:02.0 @0x2c -> 0xf4\n"
		VTD_AT("100.250000", "0x3000", "0x30")
		VTD_AT("100.270000", "0x1000", "0x10")
		"1@100.550000:vtd_inv_desc_iotlb_domain iotlb invalidate whole domain 0x4\n"
		VTD_AT("100.910000", "0x4000", "0x40");
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	o.timestamps = true;
	o.harvest_every_ns = 100000000;
	o.expect_pa = IMS_EXPECT_PA_NONE;
	struct out out = {0};
	out.comments = true;
	out_put(&out, "", 0);
	struct ims_import_sink sink = {ev_sink, comment_sink, &out};
	struct ims_import_stats st;
	char err[512];
	ck_assert_int_eq(ims_import_mem(&o, "q.log", log, strlen(log), &sink, &st, err, sizeof(err)),
			 0);
	ck_assert_msg(!strncmp(out.s, "# imported by ", 14), "%s", out.s);
	ck_assert_str_eq(strchr(out.s, '\n') + 1,
			 "@0 domain id=4 format=vtd levels=3 dirty=on\n"
			 "@0 track domain=4 on\n"
			 "@0 attach dev=0x10 domain=4\n"
			 "@0 map domain=4 iova=0x1000 pa=0x10000 size=0x1000 prot=rw\n"
			 "@0 dma dev=0x10 iova=0x1000 len=0x8 dir=w\n"
			 "@50000000 map domain=4 iova=0x2000 pa=0x20000 size=0x1000 prot=rw\n"
			 "@50000000 dma dev=0x10 iova=0x2000 len=0x8 dir=w\n"
			 "@100000000 harvest domain=4 iova=0x1000 size=0x2000\n"
			 "# phase: marker 1\n"
			 "@250000000 map domain=4 iova=0x3000 pa=0x30000 size=0x1000 prot=rw\n"
			 "@250000000 dma dev=0x10 iova=0x3000 len=0x8 dir=w\n"
			 "@270000000 dma dev=0x10 iova=0x1000 len=0x8 dir=w\n"
			 "@300000000 harvest domain=4 iova=0x1000 size=0x3000\n"
			 "@550000000 flush domain=4\n"
			 "@910000000 map domain=4 iova=0x4000 pa=0x40000 size=0x1000 prot=rw\n"
			 "@910000000 dma dev=0x10 iova=0x4000 len=0x8 dir=w\n"
			 "@910000000 harvest domain=4 iova=0x1000 size=0x4000\n");
	replays("t", out.s);
	free(out.s);
	/* Without timestamps written, the harvests fall after the same lines. */
	o.timestamps = false;
	char *t = run(&o, log, NULL, NULL, NULL, 0);
	ck_assert_uint_eq(count(t, "harvest "), 3);
	has(t, "dma dev=0x10 iova=0x2000 len=0x8 dir=w\nharvest domain=4 iova=0x1000 size=0x2000");
	free(t);
	/* A log without timestamps cannot give a cadence of time. */
	static const char untimed[] =
		"vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x1000 slpte 0x10003 domain 0x4\n"
		"vtd_dmar_translate dev 00:02.00 iova 0x1000 -> gpa 0x10000 mask 0xfff\n";
	int rc;
	t = run(&o, untimed, NULL, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_str_eq(err, "q.log: --harvest-every: a cadence of log time needs timestamps, and "
			      "the log has none (expected a log with timestamps, or a count of "
			      "accesses)");
	free(t);
}
END_TEST

/* ---- ftrace ------------------------------------------------------------------- */

#define FT(cpu, ts, ev) "    kworker/u4:0-9       [00" #cpu "] .....     " ts ": " ev "\n"

START_TEST(ftrace_kprobes)
{
	static const char log[] =
		"# tracer: nop\n"
		"#\n" FT(1, "4.000001", "tracing_mark_write: TRACE_MARK load_driver")
		FT(1, "4.000002", "dma_alloc: (iommu_dma_alloc+0x0/0x260) size=512")
		FT(1, "4.000003", "amd_map_pages: (amd_iommu_map_pages+0x0/0x60) iova=0xfffff000 "
				  "paddr=0xe728000 pgsize=0x1000 pgcount=1 prot=0x7")
		FT(1, "4.000004", "map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 "
				  "paddr=0x000000000e728000 size=4096")
		FT(1, "4.000005", "dma_map_page: (iommu_dma_map_page+0x0/0x260) size=512 dir=2")
		FT(1, "4.000006", "amd_map_pages: (amd_iommu_map_pages+0x0/0x60) iova=0xffffa000 "
				  "paddr=0x1d166000 pgsize=0x1000 pgcount=1 prot=0x6")
		FT(1, "4.000007", "map: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 "
				  "paddr=0x000000001d166000 size=4096")
		FT(1, "4.000008", "dma_map_page_ret: (nvme_prep_rq.part.0+0x70e/0x910 [nvme] <- "
				  "iommu_dma_map_page) dma=0xffffa600")
		FT(0, "4.000009", "dma_map_sg: (iommu_dma_map_sg+0x0/0x400) nents=16 dir=1")
		FT(0, "4.000010", "amd_map_pages: (amd_iommu_map_pages+0x0/0x60) iova=0xffe00000 "
				  "paddr=0x2b3c000 pgsize=0x2000 pgcount=4 prot=0x5")
		FT(0, "4.000011", "amd_map_pages: (amd_iommu_map_pages+0x0/0x60) iova=0xffe08000 "
				  "paddr=0x2b44000 pgsize=0x1000 pgcount=1 prot=0x5")
		FT(0, "4.000012", "map: IOMMU: iova=0x00000000ffe00000 - 0x00000000ffe09000 "
				  "paddr=0x0000000002b3c000 size=36864")
		FT(1, "4.000013", "dma_unmap_page: (iommu_dma_unmap_page+0x0/0x90) dma=0xffffa600 "
				  "size=512 dir=2")
		FT(1, "4.000014", "unmap: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 "
				  "size=4096 unmapped_size=4096")
		FT(1, "4.000015", "amd_iotlb_sync: (amd_iommu_iotlb_sync+0x0/0x90) start=0xffffa000 "
				  "end=0xffffafff pgsize=0x0")
		/* Old print format (before the iova range). */
		FT(0, "4.000016", "unmap: IOMMU: iova=0x00000000ffe02000 size=4096 "
				  "unmapped_size=8192")
		FT(0, "4.000017", "io_page_fault: IOMMU:nvme 0000:00:03.0 iova=0x00000000ffe02000 "
				  "flags=0x0001");
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_FTRACE);
	o.dev = 0x18;
	o.dev_set = true;
	char *t = run(&o, log, &st, NULL, NULL, 0);
	ck_assert_str_eq(
		t, "domain id=1 format=amdv1 levels=4 dirty=on\n"
		   "attach dev=0x18 domain=1\n"
		   "map domain=1 iova=0xfffff000 pa=0xe728000 size=0x1000 prot=rw\n"
		   "dma dev=0x18 iova=0xfffff000 len=0x200 dir=w\n"
		   "map domain=1 iova=0xffffa000 pa=0x1d166000 size=0x1000 prot=w\n"
		   "dma dev=0x18 iova=0xffffa600 len=0x200 dir=w\n"
		   "map domain=1 iova=0xffe00000 pa=0x2b3c000 size=0x8000 prot=r pgsize=0x2000\n"
		   "map domain=1 iova=0xffe08000 pa=0x2b44000 size=0x1000 prot=r\n"
		   "dma dev=0x18 iova=0xffe00000 len=0x9000 dir=r\n"
		   "unmap domain=1 iova=0xffffa000 size=0x1000\n"
		   "unmap domain=1 iova=0xffe02000 size=0x2000\n"
		   "dma dev=0x18 iova=0xffe02000 len=0x1 dir=w\n"
		   "expect fault dev=0x18 iova=0xffe02000 kind=notpresent\n");
	ck_assert_uint_eq(st.other, 2);
	replays("t", t);
	free(t);
	/* Accesses just before the unmap instead; what is never unmapped gets
	 * its access at the end. */
	o.access_at_unmap = true;
	t = run(&o, log, &st, NULL, NULL, 0);
	has(t, "dma dev=0x18 iova=0xffffa000 len=0x1000 dir=w\n"
	       "unmap domain=1 iova=0xffffa000 size=0x1000");
	has(t, "dma dev=0x18 iova=0xffe02000 len=0x2000 dir=r\n"
	       "unmap domain=1 iova=0xffe02000 size=0x2000");
	has(t, "dma dev=0x18 iova=0xfffff000 len=0x1000 dir=w");
	replays("t", t);
	free(t);
	/* None assumed for streaming mappings the device reads. */
	o.access_at_unmap = false;
	o.assume[IMS_ASSUME_TO_DEVICE] = 0;
	t = run(&o, log, &st, NULL, NULL, 0);
	lacks(t, "dir=r");
	free(t);
}
END_TEST

START_TEST(ftrace_tracepoints)
{
	/* trace-cmd report of a kernel with dma:* events (6.12 and later). */
	static const char log[] =
		"cpus=2\n"
		"     kworker/u8:2-77    [000]  1031.000100: attach_device_to_domain: IOMMU: "
		"device=0000:00:03.0\n"
		"     kworker/u8:2-77    [000]  1031.000200: map:                  IOMMU: "
		"iova=0x00000000ffffd000 - 0x00000000ffffe000 paddr=0x00000000024d4000 size=4096\n"
		"     kworker/u8:2-77    [000]  1031.000210: dma_map_page:         0000:00:03.0 "
		"dir=FROM_DEVICE dma_addr=ffffd000 size=4096 phys_addr=24d4000 attrs=\n"
		"     kworker/u8:2-77    [000]  1031.000300: dma_map_phys:         0000:00:03.0 "
		"dir=TO_DEVICE dma_addr=ffffc800 size=2048 phys_addr=55555800 attrs=\n"
		"     kworker/u8:2-77    [000]  1031.000400: dma_sync_single_for_cpu: 0000:00:03.0 "
		"dir=FROM_DEVICE dma_addr=ffffd000 size=64\n"
		"     kworker/u8:2-77    [000]  1031.000500: dma_map_sg:           0000:00:03.0 "
		"dir=BIDIRECTIONAL dma_addrs={0xfff00000,0xfff02000} sizes={8192,4096} "
		"phys_addrs={0x12340000,0x12350000} attrs=\n"
		"     kworker/u8:2-77    [000]  1031.000600: unmap:                IOMMU: "
		"iova=0x00000000ffffd000 - 0x00000000ffffe000 size=4096 unmapped_size=4096\n"
		"     kworker/u8:2-77    [000]  1031.000610: dma_unmap_page:       0000:00:03.0 "
		"dir=FROM_DEVICE dma_addr=ffffd000 size=4096 attrs=\n"
		"     kworker/u8:2-77    [000]  1031.000700: dma_unmap_phys:       0000:00:03.0 "
		"dir=TO_DEVICE dma_addr=ffffc800 size=2048 attrs=\n";
	struct ims_import_stats st;
	struct ims_import_opts o = opts(IMS_FROM_FTRACE);
	o.format = IMS_FMT_SMMUV3;
	char *t = run(&o, log, &st, NULL, NULL, 0);
	ck_assert_str_eq(t, "domain id=1 format=smmuv3 granule=0x1000 ias=48 dirty=on\n"
			    "attach dev=0x18 domain=1\n"
			    "map domain=1 iova=0xffffd000 pa=0x24d4000 size=0x1000 prot=rw\n"
			    "dma dev=0x18 iova=0xffffd000 len=0x1000 dir=w\n"
			    "map domain=1 iova=0xffffc000 pa=0x55555000 size=0x1000 prot=r\n"
			    "dma dev=0x18 iova=0xffffc800 len=0x800 dir=r\n"
			    "dma dev=0x18 iova=0xffffd000 len=0x40 dir=w\n"
			    "map domain=1 iova=0xfff00000 pa=0x12340000 size=0x2000 prot=rw "
			    "pgsize=0x1000\n"
			    "dma dev=0x18 iova=0xfff00000 len=0x2000 dir=w\n"
			    "map domain=1 iova=0xfff02000 pa=0x12350000 size=0x1000 prot=rw\n"
			    "dma dev=0x18 iova=0xfff02000 len=0x1000 dir=w\n"
			    "unmap domain=1 iova=0xffffd000 size=0x1000\n"
			    "unmap domain=1 iova=0xffffc000 size=0x1000\n");
	ck_assert_uint_eq(st.other, 1);
	replays("t", t);
	free(t);
}
END_TEST

START_TEST(ftrace_malformed)
{
	static const char log[] =
		FT(1, "4.000001", "map: IOMMU: iova=0x00000000ffffd000 - 0x00000000ffffe000 size=4096")
		FT(1, "4.000002", "dma_map_page: (iommu_dma_map_page+0x0/0x260) size=4096 dir=sideways")
		FT(1, "4.000003", "map: IOMMU: iova=0x00000000ffffd000 - 0x00000000ffffe000 "
				  "paddr=0x0000000000001234 size=4096")
		FT(1, "4.000004", "frobnicate: x=1");
	struct ims_import_stats st;
	int rc;
	char err[512];
	struct ims_import_opts o = opts(IMS_FROM_FTRACE);
	char *t = run(&o, log, &st, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_str_eq(err, "q.log:1: map: expected 'IOMMU: iova=0x... [- 0x...] paddr=0x... "
			      "size=N'");
	free(t);
	o.lenient = true;
	t = run(&o, log, &st, NULL, NULL, 0);
	ck_assert_uint_eq(st.malformed, 3);
	ck_assert_uint_eq(st.unknown, 1);
	ck_assert_str_eq(t, "");
	free(t);
}
END_TEST

/* ---- files ---------------------------------------------------------------------- */

static const struct {
	const char *file;
	enum ims_import_from from;
} fixtures[] = {
	{"qemu-vtd-old.log", IMS_FROM_QEMU_VTD},       {"qemu-vtd-new.log", IMS_FROM_QEMU_VTD},
	{"qemu-amdvi-old.log", IMS_FROM_QEMU_AMDVI},   {"qemu-amdvi-new.log", IMS_FROM_QEMU_AMDVI},
	{"qemu-smmuv3-old.log", IMS_FROM_QEMU_SMMUV3}, {"qemu-smmuv3-new.log", IMS_FROM_QEMU_SMMUV3},
	{"ftrace-old.txt", IMS_FROM_FTRACE},           {"ftrace-new.txt", IMS_FROM_FTRACE},
	{"combine-qemu-vtd.log", IMS_FROM_QEMU_VTD},   {"combine-ftrace-vtd.txt", IMS_FROM_FTRACE},
};

START_TEST(fixtures_replay_and_round_trip)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		char path[4096];
		char rel[256];
		snprintf(rel, sizeof(rel), "tests/import/%s", fixtures[i].file);
		src_path(path, sizeof(path), rel);
		char *log = slurp(path);
		for (unsigned every = 0; every <= 2; every += 2) {
			struct ims_import_opts o = opts(fixtures[i].from);
			o.timestamps = true;
			o.harvest_every = every;
			o.expect_pa = every ? IMS_EXPECT_PA_ALL : IMS_EXPECT_PA_FIRST;
			char *t = run(&o, log, NULL, NULL, NULL, 0);
			replays(fixtures[i].file, t);
			binary_round_trip(fixtures[i].file, t);
			if (every)
				ck_assert_msg(strstr(t, "harvest "), "%s", fixtures[i].file);
			free(t);
		}
		free(log);
	}
}
END_TEST

START_TEST(combine_with_guest)
{
	char q[4096], g[4096];
	src_path(q, sizeof(q), "tests/import/combine-qemu-vtd.log");
	src_path(g, sizeof(g), "tests/import/combine-ftrace-vtd.txt");
	char *log = slurp(q);
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	o.guest = g;
	struct ims_import_stats st;
	char *t = run(&o, log, &st, NULL, NULL, 0);
	/* Mappings as the guest made them, accesses as QEMU saw them. */
	ck_assert_str_eq(t, "domain id=4 format=vtd levels=3 dirty=on\n"
			    "attach dev=0x10 domain=4\n"
			    "map domain=4 iova=0xffffe000 pa=0x3ff16000 size=0x1000 prot=rw\n"
			    "expect pa dev=0x10 iova=0xffffe000 pa=0x3ff16000\n"
			    "dma dev=0x10 iova=0xffffe000 len=0x8 dir=w\n"
			    "map domain=4 iova=0xfffa0000 pa=0x12c60000 size=0x2000 prot=w "
			    "pgsize=0x1000\n"
			    "dma dev=0x10 iova=0xfffa0000 len=0x1000 dir=w\n"
			    "dma dev=0x10 iova=0xfffa1000 len=0x1000 dir=w\n"
			    "dma dev=0x10 iova=0xffffe040 len=0x8 dir=w\n"
			    "flush domain=4\n"
			    "unmap domain=4 iova=0xfffa0000 size=0x2000\n"
			    "map domain=4 iova=0xfffa0000 pa=0x77770000 size=0x1000 prot=r\n"
			    "expect pa dev=0x10 iova=0xfffa0000 pa=0x77770000\n"
			    "dma dev=0x10 iova=0xfffa0000 len=0x8 dir=r\n"
			    "unmap domain=4 iova=0xfffa0000 size=0x1000\n");
	ck_assert_uint_eq(st.remaps, 0);
	ck_assert_uint_ge(st.guest_events, 15);
	replays("combined", t);
	free(t);
	/* Phase markers of the guest come out as comments. */
	struct out out = {0};
	out.comments = true;
	out_put(&out, "", 0);
	struct ims_import_sink sink = {ev_sink, comment_sink, &out};
	char err[512];
	ck_assert_int_eq(ims_import_mem(&o, "q.log", log, strlen(log), &sink, &st, err, sizeof(err)),
			 0);
	ck_assert_msg(strstr(out.s, "# phase: A direct-read\n"), "%s", out.s);
	ck_assert_msg(strstr(out.s, "# phase: B direct-write\n"), "%s", out.s);
	free(out.s);
	free(log);
}
END_TEST

START_TEST(gzip_and_errors_of_files)
{
	char src[4096];
	src_path(src, sizeof(src), "tests/import/qemu-vtd-old.log");
	char *log = slurp(src);
	char path[] = "/tmp/ims_test_import_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	gzFile gz = gzopen(path, "wb");
	gzwrite(gz, log, (unsigned)strlen(log));
	gzclose(gz);
	struct out a = {0}, b = {0};
	out_put(&a, "", 0);
	out_put(&b, "", 0);
	struct ims_import_sink sa = {ev_sink, NULL, &a}, sb = {ev_sink, NULL, &b};
	struct ims_import_opts o = opts(IMS_FROM_QEMU_VTD);
	struct ims_import_stats st;
	char err[4200];
	ck_assert_int_eq(ims_import(&o, path, &sa, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_import_mem(&o, "m", log, strlen(log), &sb, &st, err, sizeof(err)), 0);
	ck_assert_str_eq(a.s, b.s);
	/* Cut short: the message names the file. */
	struct stat sst;
	stat(path, &sst);
	ck_assert_int_eq(truncate(path, sst.st_size / 2), 0);
	int rc = ims_import(&o, path, &sa, &st, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(!strncmp(err, path, strlen(path)) && strstr(err, "truncated"), "%s", err);
	unlink(path);
	rc = ims_import(&o, "/nonexistent/log", &sa, &st, err, sizeof(err));
	ck_assert_int_eq(rc, -EIO);
	ck_assert_str_eq(err, "/nonexistent/log: No such file or directory");
	free(a.s);
	free(b.s);
	free(log);
}
END_TEST

START_TEST(names)
{
	enum ims_import_from f;
	for (int i = 0; i < IMS_FROM_COUNT; i++) {
		ck_assert_int_eq(ims_import_from_parse(ims_import_from_name((enum ims_import_from)i), &f),
				 0);
		ck_assert_int_eq(f, i);
	}
	ck_assert_int_eq(ims_import_from_parse("qemu", &f), -EINVAL);
	enum ims_assume a;
	for (int i = 0; i < IMS_ASSUME_COUNT; i++) {
		ck_assert_int_eq(ims_assume_parse(ims_assume_name((enum ims_assume)i), &a), 0);
		ck_assert_int_eq(a, i);
	}
}
END_TEST

static Suite *import_suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("qemu");
	tcase_add_test(tc, vtd_translation);
	tcase_add_test(tc, vtd_directions);
	tcase_add_test(tc, direction_limited_by_permission);
	tcase_add_test(tc, long_access_split_at_the_dma_budget);
	tcase_add_test(tc, vtd_invalidation_and_remap);
	tcase_add_test(tc, vtd_geometry_and_large_pages);
	tcase_add_test(tc, vtd_faults);
	tcase_add_test(tc, amd_leaf_bases);
	tcase_add_test(tc, smmu_context_blocks_and_ranges);
	tcase_add_test(tc, qemu_unknown_other_malformed);
	tcase_add_test(tc, timestamps_and_harvests);
	tcase_add_test(tc, harvests_at_a_time_cadence);
	suite_add_tcase(s, tc);
	tc = tcase_create("ftrace");
	tcase_add_test(tc, ftrace_kprobes);
	tcase_add_test(tc, ftrace_tracepoints);
	tcase_add_test(tc, ftrace_malformed);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, fixtures_replay_and_round_trip);
	tcase_add_test(tc, combine_with_guest);
	tcase_add_test(tc, gzip_and_errors_of_files);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(import_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
