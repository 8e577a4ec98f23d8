/* The DPI-C shim (bindings/dpi/iommusim_dpi.h): each call unpacks flat
 * arguments into the testbench API and keeps what a struct would have
 * carried back (a DMA's accesses, a harvest's bitmap and verdict, a leaf,
 * the failure records) in the handle, for accessors to hand out one value
 * at a time. A simulator cannot hold a C pointer into that state, so every
 * string handed out is owned here.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/dpi/iommusim_dpi.h"
#include "iommusim/tb.h"

struct dpi {
	struct ims_tb *tb; /* NULL: set-up failed, err says why */
	struct ims_walker_plugin *plugin;
	char err[1024];
	char *where; /* ims_tb_set_where keeps the pointer */

	/* The last DMA. */
	struct ims_tb_access *acc;
	size_t acc_cap, nacc;
	uint64_t pieces;

	/* The last harvest, or unmap that read dirty state. */
	struct ims_bitmap got;
	bool have_got;
	struct ims_tb_verdict v;
	/* An unmap's read has no verdict argument: its mismatch arrives as a
	 * dirty-read failure record while this is set. */
	bool unmapping;

	struct ims_leaf leaf;
	bool have_leaf;

	char **fail;
	size_t nfail;
	uint64_t fail_total;
};

static int set_err(struct dpi *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int set_err(struct dpi *d, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* An error from the testbench API: -EINVAL comes with its message there;
 * anything else is an errno. */
static int tb_err(struct dpi *d, int rc, const char *what)
{
	if (rc == -EINVAL && ims_tb_error(d->tb)[0])
		return set_err(d, rc, "%s", ims_tb_error(d->tb));
	return set_err(d, rc, "%s: %s", what, strerror(-rc));
}

/* The handle if it was set up, else NULL: one whose set-up failed keeps
 * the reason as its message. */
static struct dpi *ready(void *h)
{
	struct dpi *d = h;
	if (!d || !d->tb)
		return NULL;
	return d;
}

static bool tag_ok(struct dpi *d, int tag)
{
	if (tag >= 0 && tag <= 0xffff)
		return true;
	set_err(d, -EINVAL, "tag %d is not a domain tag (0..65535)", tag);
	return false;
}

static int clamp_int(uint64_t n) { return n > INT_MAX ? INT_MAX : (int)n; }

static void on_failure(void *arg, const struct ims_tb_failure *f)
{
	struct dpi *d = arg;
	d->fail_total++;
	if (f->kind == IMS_TB_FAIL_DIRTY_READ && d->unmapping) {
		d->v.match = false;
		d->v.expected_bits = f->expected_bits;
		d->v.got_bits = f->got_bits;
		d->v.under = f->under;
		d->v.over = f->over;
		d->v.first_under_iova = f->first_under_iova;
		d->v.first_over_iova = f->first_over_iova;
	}
	if (d->nfail >= IMS_DPI_KEEP_FAILURES)
		return;
	char *s = NULL;
	int n;
	if (f->file)
		n = asprintf(&s, "%s: %s:%" PRIu64 ": %s", ims_tb_failure_kind_name(f->kind), f->file, f->line,
			     f->message);
	else
		n = asprintf(&s, "%s: %s", ims_tb_failure_kind_name(f->kind), f->message);
	if (n < 0)
		return; /* counted in fail_total all the same */
	if (!d->fail) {
		d->fail = calloc(IMS_DPI_KEEP_FAILURES, sizeof(*d->fail));
		if (!d->fail) {
			free(s);
			return;
		}
	}
	d->fail[d->nfail++] = s;
}

void *ims_dpi_new(const char *config, const char *walker)
{
	struct dpi *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	struct ims_tb_opts o;
	ims_tb_opts_default(&o);
	o.verbosity = 0;
	o.on_failure = on_failure;
	o.on_failure_arg = d;
	if (config && config[0]) {
		char why[512];
		if (ims_iommu_cfg_load(&o.model, config, why, sizeof(why))) {
			set_err(d, -EINVAL, "config: %s", why);
			return d;
		}
	}
	if (walker && strchr(walker, '/')) {
		char why[512];
		if (ims_walker_plugin_load(walker, &d->plugin, why, sizeof(why))) {
			set_err(d, -EINVAL, "walker: %s", why);
			return d;
		}
		o.plugin = ims_walker_plugin_ops(d->plugin);
	} else if (walker && walker[0] && ims_pt_walker_parse(walker, &o.walker)) {
		int n = snprintf(d->err, sizeof(d->err), "walker '%s' is not built in (", walker);
		for (unsigned i = 0; i < ims_pt_walker_count() && n > 0 && (size_t)n < sizeof(d->err); i++)
			n += snprintf(d->err + n, sizeof(d->err) - (size_t)n, "%s%s", i ? ", " : "",
				      ims_pt_walker_name(i));
		if (n > 0 && (size_t)n < sizeof(d->err))
			snprintf(d->err + n, sizeof(d->err) - (size_t)n,
				 "); a plug-in is named by a path with a '/'");
		return d;
	}
	int rc = ims_tb_new(&o, &d->tb);
	if (rc)
		set_err(d, rc, "ims_tb_new: %s", strerror(-rc));
	return d;
}

static void drop_harvest(struct dpi *d)
{
	if (d->have_got)
		ims_bitmap_fini(&d->got);
	d->have_got = false;
	memset(&d->v, 0, sizeof(d->v));
}

void ims_dpi_failures_clear(void *h)
{
	struct dpi *d = h;
	if (!d)
		return;
	for (size_t i = 0; i < d->nfail; i++)
		free(d->fail[i]);
	d->nfail = 0;
}

void ims_dpi_free(void *h)
{
	struct dpi *d = h;
	if (!d)
		return;
	/* The plug-in's ops are in use until the testbench is gone. */
	ims_tb_free(d->tb);
	ims_walker_plugin_unload(d->plugin);
	drop_harvest(d);
	ims_dpi_failures_clear(d);
	free(d->fail);
	free(d->acc);
	free(d->where);
	free(d);
}

int ims_dpi_ok(void *h) { return ready(h) != NULL; }

const char *ims_dpi_last_error(void *h)
{
	struct dpi *d = h;
	return d ? d->err : "";
}

int ims_dpi_where(void *h, const char *name, long long line)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	char *w = NULL;
	if (name && name[0]) {
		w = strdup(name);
		if (!w)
			return set_err(d, -ENOMEM, "where: %s", strerror(ENOMEM));
	}
	ims_tb_set_where(d->tb, w, (uint64_t)line);
	free(d->where);
	d->where = w;
	return 0;
}

int ims_dpi_domain(void *h, int tag, const char *fmt, int levels, int dirty)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	struct ims_tb_domain_cfg c = {.dirty = dirty != 0};
	if (!fmt || ims_format_parse(fmt, strlen(fmt), &c.fmt)) {
		int n = snprintf(d->err, sizeof(d->err), "format '%s' is not one of", fmt ? fmt : "");
		for (int f = 0; f < IMS_FMT_COUNT && n > 0 && (size_t)n < sizeof(d->err); f++)
			if (strcmp(ims_format_name((enum ims_format)f), "?")) /* "?": no format */
				n += snprintf(d->err + n, sizeof(d->err) - (size_t)n, " %s",
					      ims_format_name((enum ims_format)f));
		return -EINVAL;
	}
	if (levels < 0)
		return set_err(d, -EINVAL, "levels=%d: expected 0 (the default) or a level count",
			       levels);
	c.levels = (unsigned)levels;
	int rc = ims_tb_domain(d->tb, (uint16_t)tag, &c);
	return rc ? tb_err(d, rc, "domain") : 0;
}

int ims_dpi_attach(void *h, int dev, int tag)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	int rc = ims_tb_attach(d->tb, (uint32_t)dev, (uint16_t)tag);
	return rc ? tb_err(d, rc, "attach") : 0;
}

int ims_dpi_detach(void *h, int dev)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	int rc = ims_tb_detach(d->tb, (uint32_t)dev);
	return rc ? tb_err(d, rc, "detach") : 0;
}

int ims_dpi_map(void *h, int tag, long long iova, long long pa, long long size, int prot,
		long long pgsize)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	if (prot < IMS_PROT_R || prot > IMS_PROT_RW)
		return set_err(d, -EINVAL, "prot=%d: expected 1 (read), 2 (write) or 3 (both)", prot);
	int rc = ims_tb_map(d->tb, (uint16_t)tag, (uint64_t)iova, (uint64_t)pa, (uint64_t)size,
			    (unsigned)prot, (uint64_t)pgsize);
	return rc ? tb_err(d, rc, "map") : 0;
}

/* The verdict's count of differing bits, as a harvest call returns it. */
static int mismatches(const struct dpi *d) { return clamp_int(d->v.under + d->v.over); }

int ims_dpi_unmap(void *h, int tag, long long iova, long long size, int read_dirty)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	if (!read_dirty) {
		int rc = ims_tb_unmap(d->tb, (uint16_t)tag, (uint64_t)iova, (uint64_t)size, 0, NULL);
		return rc ? tb_err(d, rc, "unmap") : 0;
	}
	drop_harvest(d);
	d->unmapping = true;
	int rc = ims_tb_unmap(d->tb, (uint16_t)tag, (uint64_t)iova, (uint64_t)size, 0, &d->got);
	d->unmapping = false;
	if (rc) {
		memset(&d->v, 0, sizeof(d->v));
		return tb_err(d, rc, "unmap");
	}
	d->have_got = true;
	if (!d->v.under && !d->v.over) {
		d->v.match = true;
		d->v.got_bits = d->v.expected_bits = ims_bitmap_count(&d->got);
	}
	return mismatches(d);
}

int ims_dpi_track(void *h, int tag, int on)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	int rc = ims_tb_track(d->tb, (uint16_t)tag, on != 0);
	return rc ? tb_err(d, rc, "track") : 0;
}

int ims_dpi_flush(void *h, int tag, long long iova, long long size)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	int rc = ims_tb_flush(d->tb, (uint16_t)tag, (uint64_t)iova, (uint64_t)size);
	return rc ? tb_err(d, rc, "flush") : 0;
}

int ims_dpi_dma(void *h, int dev, long long iova, long long len, int write)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	d->nacc = 0;
	d->pieces = 0;
	uint64_t a = (uint64_t)iova, n = (uint64_t)len;
	/* A DMA that wraps is the testbench API's error to report. */
	uint64_t want = n && a + n - 1 >= a ? ((a + n - 1) >> IMS_PAGE_SHIFT) - (a >> IMS_PAGE_SHIFT) + 1 : 0;
	if (want > IMS_DPI_KEEP_ACCESSES)
		want = IMS_DPI_KEEP_ACCESSES;
	if (want > d->acc_cap) {
		struct ims_tb_access *p = realloc(d->acc, want * sizeof(*p));
		if (!p)
			return set_err(d, -ENOMEM, "dma: %s", strerror(ENOMEM));
		d->acc = p;
		d->acc_cap = want;
	}
	uint64_t pieces = 0;
	int64_t k = ims_tb_dma(d->tb, (uint32_t)dev, a, n, write ? IMS_ACC_W : IMS_ACC_R, d->acc,
			       (size_t)want, &pieces);
	if (k < 0)
		return tb_err(d, (int)k, "dma");
	d->pieces = pieces;
	d->nacc = pieces < want ? (size_t)pieces : (size_t)want;
	return clamp_int((uint64_t)k);
}

int ims_dpi_last_pieces(void *h)
{
	struct dpi *d = ready(h);
	return d ? clamp_int(d->pieces) : -EINVAL;
}

static const struct ims_tb_access *access_at(struct dpi *d, int i)
{
	if (i >= 0 && (size_t)i < d->nacc)
		return &d->acc[i];
	if (d->pieces > d->nacc && i >= 0 && (uint64_t)i < d->pieces)
		set_err(d, -EINVAL, "access %d: the results of the first %d accesses are kept", i,
			IMS_DPI_KEEP_ACCESSES);
	else
		set_err(d, -EINVAL, "access %d: the last DMA had %zu", i, d->nacc);
	return NULL;
}

long long ims_dpi_last_iova(void *h, int i)
{
	struct dpi *d = ready(h);
	const struct ims_tb_access *a = d ? access_at(d, i) : NULL;
	return a ? (long long)a->iova : 0;
}

long long ims_dpi_last_pa(void *h, int i)
{
	struct dpi *d = ready(h);
	const struct ims_tb_access *a = d ? access_at(d, i) : NULL;
	return a && !a->fault ? (long long)a->pa : 0;
}

int ims_dpi_last_fault(void *h, int i)
{
	struct dpi *d = ready(h);
	const struct ims_tb_access *a = d ? access_at(d, i) : NULL;
	return a ? a->fault : -EINVAL;
}

int ims_dpi_last_flags(void *h, int i)
{
	struct dpi *d = ready(h);
	const struct ims_tb_access *a = d ? access_at(d, i) : NULL;
	if (!a)
		return -EINVAL;
	return (a->iotlb_hit ? IMS_DPI_IOTLB_HIT : 0) | (a->accessed_set ? IMS_DPI_ACCESSED_SET : 0) |
	       (a->dirty_set ? IMS_DPI_DIRTY_SET : 0);
}

long long ims_dpi_last_cycles(void *h, int i)
{
	struct dpi *d = ready(h);
	const struct ims_tb_access *a = d ? access_at(d, i) : NULL;
	return a ? (long long)a->cycles : 0;
}

const char *ims_dpi_fault_name(int kind)
{
	return kind >= 0 && kind < IMS_FAULT_KIND_COUNT ? ims_fault_kind_name((enum ims_fault_kind)kind)
							 : "?";
}

int ims_dpi_harvest(void *h, int tag, long long iova, long long size, long long pgsize, int clear)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	drop_harvest(d);
	int rc = ims_tb_harvest(d->tb, (uint16_t)tag, (uint64_t)iova, (uint64_t)size,
				(uint64_t)pgsize, clear ? 0 : IMS_DIRTY_NO_CLEAR, &d->got, &d->v);
	if (rc) {
		memset(&d->v, 0, sizeof(d->v));
		return tb_err(d, rc, "harvest");
	}
	d->have_got = true;
	return mismatches(d);
}

static bool have_harvest(struct dpi *d)
{
	if (d->have_got)
		return true;
	set_err(d, -EINVAL, "no harvest: the last ims_dpi_harvest failed or none was made");
	return false;
}

int ims_dpi_harvest_bit(void *h, long long iova)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!have_harvest(d))
		return -EINVAL;
	uint64_t a = (uint64_t)iova;
	if (a < d->got.iova || (a - d->got.iova) >> d->got.pgshift >= d->got.nbits)
		return set_err(d, -EINVAL,
			       "iova=0x%" PRIx64 " is outside the harvest [0x%" PRIx64 ", +0x%" PRIx64 ")",
			       a, d->got.iova, d->got.length);
	return ims_bitmap_test(&d->got, (a - d->got.iova) >> d->got.pgshift);
}

long long ims_dpi_harvest_word(void *h, int i)
{
	struct dpi *d = ready(h);
	if (!d || !have_harvest(d))
		return 0;
	if (i < 0 || (uint64_t)i >= d->got.nwords) {
		set_err(d, -EINVAL, "word %d: the harvest has %" PRIu64, i, d->got.nwords);
		return 0;
	}
	return (long long)d->got.words[i];
}

long long ims_dpi_harvest_nbits(void *h)
{
	struct dpi *d = ready(h);
	return d && have_harvest(d) ? (long long)d->got.nbits : 0;
}

long long ims_dpi_harvest_got(void *h)
{
	struct dpi *d = ready(h);
	return d ? (long long)d->v.got_bits : 0;
}

long long ims_dpi_harvest_expected(void *h)
{
	struct dpi *d = ready(h);
	return d ? (long long)d->v.expected_bits : 0;
}

long long ims_dpi_harvest_under(void *h)
{
	struct dpi *d = ready(h);
	return d ? (long long)d->v.under : 0;
}

long long ims_dpi_harvest_over(void *h)
{
	struct dpi *d = ready(h);
	return d ? (long long)d->v.over : 0;
}

long long ims_dpi_harvest_first_under(void *h)
{
	struct dpi *d = ready(h);
	return d && d->v.under ? (long long)d->v.first_under_iova : 0;
}

long long ims_dpi_harvest_first_over(void *h)
{
	struct dpi *d = ready(h);
	return d && d->v.over ? (long long)d->v.first_over_iova : 0;
}

int ims_dpi_leaf(void *h, int tag, long long iova)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	if (!tag_ok(d, tag))
		return -EINVAL;
	d->have_leaf = false;
	int rc = ims_tb_leaf(d->tb, (uint16_t)tag, (uint64_t)iova, &d->leaf);
	if (rc == -ENOENT)
		return set_err(d, rc, "domain %d has no valid context in the model", tag);
	if (rc < 0)
		return tb_err(d, rc, "leaf");
	if (rc > 0)
		set_err(d, -ENOENT, "no leaf maps iova=0x%llx in domain %d (%s)", (unsigned long long)iova,
			tag, ims_dpi_fault_name(rc));
	else
		d->have_leaf = true;
	return rc;
}

static const struct ims_leaf *leaf_of(void *h)
{
	struct dpi *d = ready(h);
	if (!d)
		return NULL;
	if (d->have_leaf)
		return &d->leaf;
	set_err(d, -EINVAL, "no leaf: the last ims_dpi_leaf found none");
	return NULL;
}

long long ims_dpi_leaf_pte(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? (long long)l->pte : 0;
}

long long ims_dpi_leaf_pte_pa(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? (long long)l->pte_pa : 0;
}

long long ims_dpi_leaf_pa(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? (long long)l->pa : 0;
}

int ims_dpi_leaf_level(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? l->level : -EINVAL;
}

int ims_dpi_leaf_shift(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? (int)l->leaf_shift : -EINVAL;
}

int ims_dpi_leaf_accessed(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? l->accessed : -EINVAL;
}

int ims_dpi_leaf_dirty(void *h)
{
	const struct ims_leaf *l = leaf_of(h);
	return l ? l->dirty : -EINVAL;
}

int ims_dpi_inject(void *h, long long at, int dev, long long iova)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	int rc = ims_tb_inject(d->tb, (uint64_t)at, (uint32_t)dev, (uint64_t)iova);
	return rc ? tb_err(d, rc, "inject") : 0;
}

#define RS(f) {#f, offsetof(struct ims_replay_stats, f), false}
#define MC(f) {"model." #f, offsetof(struct ims_iommu_counters, f), true}
static const struct {
	const char *name;
	size_t off;
	bool model;
} stats[] = {
	RS(maps), RS(unmaps), RS(dma_ops), RS(dma_pages), RS(dma_bytes), RS(faults), RS(harvests),
	RS(harvest_mismatches), RS(harvests_noclear), RS(bits_reported), RS(bits_expected),
	RS(bits_under), RS(bits_over), RS(lost_on_unmap), RS(lost_partial), RS(validation_failures),
	RS(walker_findings), RS(inject_armed), RS(inject_fired), RS(inject_changed),
	MC(translations), MC(iotlb_hits), MC(iotlb_misses), MC(iotlb_evictions), MC(wc_hits),
	MC(wc_misses), MC(walks), MC(pte_reads), MC(ad_writes), MC(dirty_sets), MC(faults),
	MC(faults_dropped),
	MC(inv_range), MC(inv_domain), MC(inv_all), MC(inv_entries), MC(cycles),
};

long long ims_dpi_stat(void *h, const char *name)
{
	struct dpi *d = ready(h);
	if (!d)
		return -EINVAL;
	for (size_t i = 0; name && i < sizeof(stats) / sizeof(stats[0]); i++) {
		if (strcmp(stats[i].name, name))
			continue;
		const void *base = stats[i].model ? (const void *)ims_iommu_counters(ims_tb_iommu(d->tb))
						  : (const void *)ims_tb_stats(d->tb);
		uint64_t v;
		memcpy(&v, (const char *)base + stats[i].off, sizeof(v));
		return v > LLONG_MAX ? LLONG_MAX : (long long)v;
	}
	return set_err(d, -EINVAL, "unknown counter '%s' (dma_pages, harvests, model.iotlb_hits, ...)",
		       name ? name : "");
}

int ims_dpi_failures(void *h)
{
	struct dpi *d = h;
	return d ? (int)d->nfail : -EINVAL;
}

const char *ims_dpi_failure(void *h, int i)
{
	struct dpi *d = h;
	if (!d)
		return "";
	if (i < 0 || (size_t)i >= d->nfail) {
		set_err(d, -EINVAL, "failure %d: %zu are kept", i, d->nfail);
		return "";
	}
	return d->fail[i];
}

long long ims_dpi_failure_count(void *h)
{
	struct dpi *d = h;
	return d ? (long long)d->fail_total : -EINVAL;
}
