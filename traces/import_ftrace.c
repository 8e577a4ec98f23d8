/* Importer for Linux ftrace text: the tracing `trace` file and `trace-cmd
 * report` output. Events: iommu:map, iommu:unmap, iommu:io_page_fault and
 * the device-group events; the dma:* events of Linux 6.12 and later (symbolic
 * dir=, dma_addr=) and the kprobes that stand in for them on older kernels
 * (numeric dir=, the mapping's address in a return probe); the drivers'
 * map_pages kprobes (iova paddr pgsize pgcount prot); phase markers.
 * Print formats follow include/trace/events/iommu.h and dma.h of the
 * kernels docs/importers.md names.
 *
 * The guest log has no device accesses. Each mapping gets one assumed
 * access (docs/importers.md, "Assumptions"), as soon as its direction is
 * known, or just before its unmap. Combined with a QEMU log of the same
 * run, this file only supplies the mappings (guest_open(), struct
 * imp_guest). The line's fields are read by traces/import_ftrace_line.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import.h"
#include "traces/import_ftrace.h"
#include "traces/importers.h"

#define NCTX 64
#define NPIECE 64
#define NSG FT_MAX_LIST

enum pend {
	P_NONE,
	P_PAGE,   /* dma_map_page entry seen; the return gives the address */
	P_SG,     /* dma_map_sg entry: the following maps are its segments */
	P_ALLOC,  /* dma_alloc entry: the following map is coherent memory */
	P_UNMAP,  /* dma_unmap_* entry: the following unmaps have this dir */
};

struct piece {
	uint64_t iova, pa, pgsize, count;
	unsigned prot;
};

/* What a task on a CPU is in the middle of (entry probes, driver pieces). */
struct ctx {
	bool used;
	uint64_t pid, cpu; /* the task and CPU of the line */
	enum pend pend;
	unsigned kind; /* enum ims_assume or KIND_NONE */
	uint64_t size;
	unsigned npiece;
	struct piece piece[NPIECE];
	uint64_t stamp;
};

struct guest {
	struct imp *m;
	struct lsrc in;
	bool own_in;
	bool combine;
	uint16_t dom;
	bool dev_known;
	uint32_t dev;
	int fmt;
	uint64_t line;
	const char *evname;
	const char *raw_name;
	size_t raw_len;
	struct ctx ctx[NCTX];
	uint64_t clock;
	uint64_t counts[64];
	/* tp dma_map_sg arrays */
	uint64_t sga[NSG], sgs[NSG], sgp[NSG];
};

/* ---- helpers -------------------------------------------------------------- */

static int bad(struct guest *g, const char *what)
{
	struct imp *m = g->m;
	if (m->o.lenient) {
		m->st->malformed++;
		return 0;
	}
	return imp_refuse(m, "%s: expected %s", g->evname, what);
}

static struct ctx *ctx_get(struct guest *g, uint64_t pid, uint64_t cpu)
{
	struct ctx *free_slot = NULL, *oldest = &g->ctx[0];
	for (unsigned i = 0; i < NCTX; i++) {
		struct ctx *c = &g->ctx[i];
		if (c->used && c->pid == pid && c->cpu == cpu) {
			c->stamp = ++g->clock;
			return c;
		}
		if (!c->used && !free_slot)
			free_slot = c;
		if (c->stamp < oldest->stamp)
			oldest = c;
	}
	struct ctx *c = free_slot ? free_slot : oldest;
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->pid = pid;
	c->cpu = cpu;
	c->kind = KIND_NONE;
	c->stamp = ++g->clock;
	return c;
}

/* The device of the dma:* events: the first argument, a PCI name. */
static void note_dev(struct guest *g, const char *a, const char *e)
{
	while (a < e && *a == ' ')
		a++;
	const char *t = a;
	while (t < e && *t != ' ')
		t++;
	uint32_t dev;
	if (!g->dev_known && !g->m->o.dev_set && parse_bdf(a, (size_t)(t - a), &dev)) {
		g->dev = dev;
		g->dev_known = true;
	}
}

static unsigned prot_of_kind(unsigned kind)
{
	switch (kind) {
	case IMS_ASSUME_TO_DEVICE:
		return IMS_PROT_R;
	case IMS_ASSUME_FROM_DEVICE:
		return IMS_PROT_W;
	default:
		return IMS_PROT_RW;
	}
}

static unsigned kind_of_prot(unsigned prot)
{
	return prot == IMS_PROT_R ? IMS_ASSUME_TO_DEVICE
	       : prot == IMS_PROT_W ? IMS_ASSUME_FROM_DEVICE
				    : IMS_ASSUME_BIDIR;
}

static int ensure_dom(struct guest *g)
{
	struct imp *m = g->m;
	struct dom *d = imp_dom(m, g->dom);
	if (!d)
		return -ENOMEM;
	if (!d->defined && !g->combine) {
		int fmt = m->o.format >= 0 ? m->o.format : g->fmt >= 0 ? g->fmt : IMS_FMT_AMDV1;
		/* The x86-64 first-stage formats (--format vtd-fs, amdv2: their
		 * driver events look like the second stage's) have 4 or 5. */
		bool four = fmt == IMS_FMT_AMDV1 || fmt == IMS_FMT_VTD_FS || fmt == IMS_FMT_AMDV2;
		unsigned levels = m->o.levels ? m->o.levels : four ? 4 : 3;
		imp_dom_geometry(m, g->dom, (enum ims_format)fmt, levels, 4096,
				 m->o.ias ? m->o.ias : 48, true);
	}
	if (g->combine)
		return 0;
	uint32_t dev = m->o.dev_set ? m->o.dev : g->dev;
	return imp_attach(m, dev, g->dom);
}

/* ---- accesses --------------------------------------------------------------- */

static uint32_t dev_of(struct guest *g)
{
	int d;
	for (size_t i = 0; i < g->m->natt; i++)
		if ((d = g->m->att[i].dom) == g->dom)
			return g->m->att[i].dev;
	return g->m->o.dev_set ? g->m->o.dev : g->dev;
}

static int mark_accessed(struct imp *m, struct leaf *l, void *arg)
{
	(void)m;
	(void)arg;
	l->flags |= LF_ACCESSED;
	return 0;
}

static int set_kind(struct imp *m, struct leaf *l, void *arg)
{
	(void)m;
	if (l->kind == KIND_NONE)
		l->kind = (uint8_t)(uintptr_t)arg;
	return 0;
}

/* The assumed access of a mapping of `kind` over [a, a+len). */
static int assumed_access(struct guest *g, unsigned kind, uint64_t a, uint64_t len)
{
	struct imp *m = g->m;
	if (g->combine || !len)
		return 0;
	unsigned dir;
	if (kind == IMS_ASSUME_TO_DEVICE || kind == IMS_ASSUME_FROM_DEVICE)
		m->st->dir_logged++;
	else
		m->st->dir_assumed++;
	dir = m->o.assume[kind == KIND_NONE ? IMS_ASSUME_UNKNOWN : kind];
	int rc = imp_for_each(m, g->dom, a, len, mark_accessed, NULL);
	if (!rc && dir)
		rc = imp_dma(m, dev_of(g), a, len, dir);
	return rc;
}

struct unmap_arg {
	struct guest *g;
	unsigned kind;
};

/* Before an unmap: the access of every leaf that has not had one. */
static int before_unmap(struct imp *m, struct leaf *l, void *arg)
{
	struct unmap_arg *u = arg;
	if (l->flags & LF_ACCESSED)
		return 0;
	l->flags |= LF_ACCESSED;
	unsigned kind = u->kind != KIND_NONE ? u->kind : l->kind != KIND_NONE ? l->kind
										: kind_of_prot(l->prot);
	(void)m;
	return assumed_access(u->g, kind, l->iova, 1ull << l->shift);
}

static int unmap(struct guest *g, uint64_t iova, uint64_t size, unsigned kind)
{
	struct unmap_arg u = {g, kind};
	int rc = imp_unmap(g->m, g->dom, iova, size, g->combine ? NULL : before_unmap, &u);
	if (rc == 0)
		g->m->st->unmap_untracked++;
	return rc < 0 ? rc : 0;
}

static int do_map(struct guest *g, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot,
		  unsigned kind, uint64_t pgsize)
{
	int rc = ensure_dom(g);
	if (rc)
		return rc;
	rc = imp_map(g->m, g->dom, iova, pa, size, prot, kind, pgsize);
	/* An error of the output (its budget, a refused event, the sink)
	 * has its message already. */
	if (g->m->rc)
		return g->m->rc;
	if (rc == -EINVAL && pgsize) /* a leaf size the format does not have */
		rc = imp_map(g->m, g->dom, iova, pa, size, prot, kind, 0);
	if (g->m->rc)
		return g->m->rc;
	if (rc == -EINVAL)
		return bad(g, "a mapping the domain can hold (page-aligned, inside its IOVA space; "
			      "see --levels/--ias)");
	if (rc == -E2BIG)
		return bad(g, "a mapping of at most 2^18 pages (and 2^21 in all)");
	return rc;
}

/* ---- events ------------------------------------------------------------------ */

typedef int (*handler)(struct guest *g, struct ctx *c, const char *a, const char *e);

static int h_map(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	uint64_t iova, pa, size;
	if (!arg_hex(a, e, "iova", &iova) || !arg_hex(a, e, "paddr", &pa) ||
	    !arg_num(a, e, "size", &size) || !size)
		return bad(g, "'IOMMU: iova=0x... [- 0x...] paddr=0x... size=N'");
	if ((iova | pa | size) & (IMS_PAGE_SIZE - 1))
		return bad(g, "page-aligned iova, paddr and size");
	if (iova + (size - 1) < iova || pa + (size - 1) < pa)
		return bad(g, "a range address + size that ends by 2^64");
	if (!g->dev_known) {
		uint32_t dev;
		const char *v;
		size_t n;
		if (arg_str(a, e, "dev", &v, &n) && parse_bdf(v, n, &dev)) {
			g->dev = dev;
			g->dev_known = true;
		}
	}
	unsigned kind = c->pend == P_PAGE || c->pend == P_SG ? c->kind
			: c->pend == P_ALLOC		     ? IMS_ASSUME_COHERENT
							     : KIND_NONE;
	/* The driver's pieces, if they tile the range, give the leaf sizes and
	 * the permission. */
	bool tiled = c->npiece > 0;
	uint64_t at = iova, apa = pa;
	unsigned prot = 0;
	for (unsigned i = 0; tiled && i < c->npiece; i++) {
		struct piece *p = &c->piece[i];
		if (p->iova != at || p->pa != apa) {
			tiled = false;
			break;
		}
		at += p->pgsize * p->count;
		apa += p->pgsize * p->count;
		prot |= p->prot;
	}
	tiled = tiled && at == iova + size;
	int rc = 0;
	if (tiled) {
		for (unsigned i = 0; !rc && i < c->npiece; i++) {
			struct piece *p = &c->piece[i];
			rc = do_map(g, p->iova, p->pa, p->pgsize * p->count,
				    p->prot ? p->prot : prot_of_kind(kind), kind, p->pgsize);
		}
	} else {
		prot = c->npiece && c->piece[0].prot ? c->piece[0].prot : prot_of_kind(kind);
		rc = do_map(g, iova, pa, size, prot, kind, 0);
	}
	c->npiece = 0;
	if (rc || g->m->o.access_at_unmap)
		return rc;
	if (c->pend == P_SG)
		return assumed_access(g, kind, iova, size);
	if (c->pend == P_ALLOC) {
		uint64_t n = c->size && c->size < size ? c->size : size;
		c->pend = P_NONE;
		return assumed_access(g, IMS_ASSUME_COHERENT, iova, n);
	}
	return 0;
}

static int h_map_pages(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	uint64_t iova, pa, pgsize, count = 1, prot = 3;
	if (!arg_hex(a, e, "iova", &iova) || !arg_hex(a, e, "paddr", &pa) ||
	    !arg_hex(a, e, "pgsize", &pgsize) || !ims_is_pow2(pgsize))
		return bad(g, "'iova=0x... paddr=0x... pgsize=0x... pgcount=N prot=0x...'");
	arg_num(a, e, "pgcount", &count);
	arg_num(a, e, "prot", &prot);
	if (g->fmt < 0) {
		if (g->raw_len >= 5 && !memcmp(g->raw_name, "intel", 5))
			g->fmt = IMS_FMT_VTD;
		else if (g->raw_len >= 3 && !memcmp(g->raw_name, "amd", 3))
			g->fmt = IMS_FMT_AMDV1;
		else if (g->raw_len >= 4 && (!memcmp(g->raw_name, "lpae", 4) ||
					     !memcmp(g->raw_name, "arm", 3)))
			g->fmt = IMS_FMT_SMMUV3;
	}
	if (!count || count > (1ull << 32))
		return bad(g, "pgcount between 1 and 2^32");
	if (count > UINT64_MAX / pgsize || iova + (pgsize * count - 1) < iova ||
	    pa + (pgsize * count - 1) < pa)
		return bad(g, "pgsize x pgcount from iova and paddr ending by 2^64");
	if (c->npiece < NPIECE)
		/* IOMMU_READ = 1, IOMMU_WRITE = 2 (include/linux/iommu.h). */
		c->piece[c->npiece++] = (struct piece){iova, pa, pgsize, count, (unsigned)(prot & 3)};
	return 0;
}

static int h_unmap(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	uint64_t iova, size, done = 0;
	if (!arg_hex(a, e, "iova", &iova) || !arg_num(a, e, "size", &size))
		return bad(g, "'IOMMU: iova=0x... [- 0x...] size=N unmapped_size=N'");
	arg_num(a, e, "unmapped_size", &done);
	uint64_t n = done > size ? done : size;
	if (!n)
		return 0;
	if (iova + (n - 1) < iova)
		return bad(g, "a range address + size that ends by 2^64");
	return unmap(g, iova, n, c->pend == P_UNMAP ? c->kind : KIND_NONE);
}

static int h_fault(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	(void)c;
	uint64_t iova, flags;
	if (!arg_hex(a, e, "iova", &iova) || !arg_hex(a, e, "flags", &flags))
		return bad(g, "'IOMMU:DRIVER DEVICE iova=0x... flags=0x...'");
	if (g->combine) {
		g->m->st->faults_skipped++;
		return 0;
	}
	/* report_iommu_fault(): IOMMU_FAULT_WRITE is bit 0. */
	struct leaf *l = imp_lookup(g->m, g->dom, iova);
	bool write = flags & 1;
	enum ims_fault_kind kind = !l ? IMS_FAULT_NOTPRESENT
				   : !(l->prot & (write ? IMS_PROT_W : IMS_PROT_R)) ? IMS_FAULT_PERM
										    : IMS_FAULT_NONE;
	if (kind == IMS_FAULT_NONE || imp_dev_dom(g->m, dev_of(g)) != g->dom) {
		g->m->st->faults_skipped++;
		return 0;
	}
	int rc = imp_dma_raw(g->m, dev_of(g), iova, 1, write ? DIR_W : DIR_R);
	return rc ? rc : imp_expect_fault(g->m, dev_of(g), iova, kind);
}

static int h_device(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	(void)c;
	const char *v;
	size_t n;
	uint32_t dev;
	if (arg_str(a, e, "device", &v, &n) && parse_bdf(v, n, &dev) && !g->dev_known) {
		g->dev = dev;
		g->dev_known = true;
	}
	return 0;
}

static int h_dma_map_page(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	unsigned kind;
	uint64_t size, addr, phys;
	if (ft_is_kprobe(a, e)) {
		if (!ft_dir_arg(a, e, &kind) || !arg_num(a, e, "size", &size))
			return bad(g, "'(PROBE) size=N dir=D'");
		c->pend = P_PAGE;
		c->kind = kind;
		c->size = size;
		c->npiece = 0;
		return 0;
	}
	/* dma:dma_map_page/phys/resource, after the mapping. */
	note_dev(g, a, e);
	if (!ft_dir_arg(a, e, &kind) || !arg_num(a, e, "size", &size) ||
	    !(arg_hex(a, e, "dma_addr", &addr) || arg_hex(a, e, "addr", &addr)))
		return bad(g, "'DEVICE dir=DIR dma_addr=HEX size=N phys_addr=HEX attrs=...'");
	if (!size)
		return 0;
	uint64_t lo, hi;
	if (!ft_page_span(addr, size, &lo, &hi))
		return bad(g, "a range address + size that ends by 2^64");
	int rc = 0;
	if (!imp_lookup(g->m, g->dom, addr) && arg_hex(a, e, "phys_addr", &phys) &&
	    (phys & (IMS_PAGE_SIZE - 1)) == (addr & (IMS_PAGE_SIZE - 1)))
		/* No iommu:map in the log: the dma event is the mapping. */
		rc = do_map(g, lo, phys & ~(IMS_PAGE_SIZE - 1), hi - lo, prot_of_kind(kind), kind, 0);
	if (!rc)
		rc = imp_for_each(g->m, g->dom, lo, hi - lo, set_kind, (void *)(uintptr_t)kind);
	if (!rc && !g->m->o.access_at_unmap)
		rc = assumed_access(g, kind, addr, size);
	return rc;
}

static int h_dma_map_page_ret(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	uint64_t dma;
	if (!arg_hex(a, e, "dma", &dma))
		return bad(g, "'(PROBE <- FUNCTION) dma=0x...'");
	if (c->pend != P_PAGE)
		return 0;
	c->pend = P_NONE;
	/* DMA_MAPPING_ERROR is all ones. */
	if (dma == UINT64_MAX || g->m->o.access_at_unmap)
		return 0;
	uint64_t lo, hi;
	if (c->size && !ft_page_span(dma, c->size, &lo, &hi))
		return bad(g, "a range address + size that ends by 2^64");
	return assumed_access(g, c->kind, dma, c->size);
}

static int h_dma_unmap_page(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	unsigned kind;
	uint64_t addr, size;
	bool kp = ft_is_kprobe(a, e);
	if (!kp)
		note_dev(g, a, e);
	if (!ft_dir_arg(a, e, &kind) || !arg_num(a, e, "size", &size) ||
	    !(arg_hex(a, e, "dma", &addr) || arg_hex(a, e, "dma_addr", &addr) ||
	      arg_hex(a, e, "addr", &addr)))
		return bad(g, kp ? "'(PROBE) dma=0x... size=N dir=D'"
				 : "'DEVICE dir=DIR dma_addr=HEX size=N attrs=...'");
	if (kp) {
		/* The iommu:unmap that follows is this mapping's. */
		c->pend = P_UNMAP;
		c->kind = kind;
		return 0;
	}
	/* After the unmap: if the log has no iommu:unmap, this is it. */
	uint64_t lo, hi;
	if (!size)
		return 0;
	if (!ft_page_span(addr, size, &lo, &hi))
		return bad(g, "a range address + size that ends by 2^64");
	if (!imp_lookup(g->m, g->dom, addr))
		return 0;
	struct unmap_arg u = {g, kind};
	int rc = imp_unmap(g->m, g->dom, lo, hi - lo, g->combine ? NULL : before_unmap, &u);
	return rc < 0 ? rc : 0;
}

static int h_dma_map_sg(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	unsigned kind;
	if (!ft_dir_arg(a, e, &kind))
		return bad(g, ft_is_kprobe(a, e) ? "'(PROBE) nents=N dir=D'"
					      : "'DEVICE dir=DIR ... dma_addrs={...} sizes={...} ...'");
	if (ft_is_kprobe(a, e)) {
		c->pend = P_SG;
		c->kind = kind;
		c->npiece = 0;
		return 0;
	}
	note_dev(g, a, e);
	int n = ft_list_arg(a, e, "dma_addrs", g->sga, NSG);
	int ns = ft_list_arg(a, e, "sizes", g->sgs, NSG);
	int np = ft_list_arg(a, e, "phys_addrs", g->sgp, NSG);
	if (n < 0 || ns < 0 || np < 0)
		return bad(g, "lists {0x...,...} of numbers, at most 4096 entries each");
	if (ns < n)
		n = ns;
	int rc = 0;
	for (int i = 0; !rc && i < n; i++) {
		uint64_t addr = g->sga[i], size = g->sgs[i], lo, hi;
		if (!size)
			continue;
		if (!ft_page_span(addr, size, &lo, &hi))
			return bad(g, "a range address + size that ends by 2^64");
		if (!imp_lookup(g->m, g->dom, addr) && i < np &&
		    (g->sgp[i] & (IMS_PAGE_SIZE - 1)) == (addr & (IMS_PAGE_SIZE - 1)))
			rc = do_map(g, lo, g->sgp[i] & ~(IMS_PAGE_SIZE - 1), hi - lo, prot_of_kind(kind),
				    kind, 0);
		if (!rc)
			rc = imp_for_each(g->m, g->dom, lo, hi - lo, set_kind, (void *)(uintptr_t)kind);
		if (!rc && !g->m->o.access_at_unmap)
			rc = assumed_access(g, kind, addr, size);
	}
	return rc;
}

static int h_dma_unmap_sg(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	unsigned kind;
	if (!ft_dir_arg(a, e, &kind))
		return bad(g, "'... dir=D ...'");
	if (ft_is_kprobe(a, e)) {
		c->pend = P_UNMAP;
		c->kind = kind;
	}
	/* The tracepoint names no IOVA; the iommu:unmap events do. */
	return 0;
}

static int h_dma_alloc(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	uint64_t size, addr;
	if (!arg_num(a, e, "size", &size))
		return bad(g, "'... size=N'");
	if (ft_is_kprobe(a, e)) {
		c->pend = P_ALLOC;
		c->size = size;
		c->npiece = 0;
		return 0;
	}
	note_dev(g, a, e);
	if (!arg_hex(a, e, "dma_addr", &addr))
		return bad(g, "'DEVICE dma_addr=HEX size=N virt_addr=P flags=... attrs=...'");
	uint64_t lo, hi;
	if (!size)
		return 0;
	if (!ft_page_span(addr, size, &lo, &hi))
		return bad(g, "a range address + size that ends by 2^64");
	if (!imp_lookup(g->m, g->dom, addr))
		return 0;
	int rc = imp_for_each(g->m, g->dom, lo, hi - lo, set_kind,
			      (void *)(uintptr_t)IMS_ASSUME_COHERENT);
	if (!rc && !g->m->o.access_at_unmap)
		rc = assumed_access(g, IMS_ASSUME_COHERENT, addr, size);
	return rc;
}

static int h_dma_free(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	(void)c;
	uint64_t size, addr;
	if (ft_is_kprobe(a, e))
		return 0;
	note_dev(g, a, e);
	if (!arg_num(a, e, "size", &size) || !arg_hex(a, e, "dma_addr", &addr))
		return bad(g, "'DEVICE dma_addr=HEX size=N virt_addr=P attrs=...'");
	uint64_t lo, hi;
	if (!size)
		return 0;
	if (!ft_page_span(addr, size, &lo, &hi))
		return bad(g, "a range address + size that ends by 2^64");
	if (!imp_lookup(g->m, g->dom, addr))
		return 0;
	return unmap(g, lo, hi - lo, IMS_ASSUME_COHERENT);
}

/* dma_sync_*_for_cpu of FROM_DEVICE or BIDIRECTIONAL memory: the device
 * has written it. */
static int h_dma_sync_cpu(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	(void)c;
	unsigned kind;
	uint64_t addr, size;
	note_dev(g, a, e);
	if (!ft_dir_arg(a, e, &kind))
		return bad(g, "'DEVICE dir=DIR dma_addr=HEX size=N'");
	if (kind != IMS_ASSUME_FROM_DEVICE && kind != IMS_ASSUME_BIDIR)
		return 0;
	int n = 0;
	if (arg_hex(a, e, "dma_addr", &addr) && arg_num(a, e, "size", &size)) {
		g->sga[0] = addr;
		g->sgs[0] = size;
		n = 1;
	} else {
		n = ft_list_arg(a, e, "dma_addrs", g->sga, NSG);
		int ns = ft_list_arg(a, e, "sizes", g->sgs, NSG);
		if (ns < n)
			n = ns;
		if (n <= 0)
			return bad(g, "'DEVICE dir=DIR dma_addr=HEX size=N' or dma_addrs={...} "
				      "sizes={...} (at most 4096 entries)");
	}
	int rc = 0;
	for (int i = 0; !rc && i < n; i++) {
		uint64_t lo, hi;
		if (g->sgs[i] && !ft_page_span(g->sga[i], g->sgs[i], &lo, &hi))
			return bad(g, "a range address + size that ends by 2^64");
		if (g->combine || !g->sgs[i])
			continue;
		g->m->st->dir_logged++;
		rc = imp_dma(g->m, dev_of(g), g->sga[i], g->sgs[i], DIR_W);
	}
	return rc;
}

static int h_mark(struct guest *g, struct ctx *c, const char *a, const char *e)
{
	(void)g;
	(void)c;
	(void)a;
	(void)e;
	return 0;
}

struct ev_def {
	const char *name;
	handler fn; /* NULL: known, nothing for the trace */
	bool keeps; /* part of an entry probe's sequence: does not end it */
};

static const struct ev_def defs[] = {
	{"map", h_map, true},
	{"unmap", h_unmap, true},
	{"io_page_fault", h_fault, false},
	{"attach_device_to_domain", h_device, false},
	{"add_device_to_group", h_device, false},
	{"detach_device_from_domain", NULL, false},
	{"remove_device_from_group", NULL, false},
	{"dma_map_page", h_dma_map_page, false},
	{"dma_map_phys", h_dma_map_page, false},
	{"dma_map_resource", h_dma_map_page, false},
	{"dma_map_page_ret", h_dma_map_page_ret, true},
	{"dma_unmap_page", h_dma_unmap_page, false},
	{"dma_unmap_phys", h_dma_unmap_page, false},
	{"dma_unmap_resource", h_dma_unmap_page, false},
	{"dma_map_sg", h_dma_map_sg, false},
	{"dma_unmap_sg", h_dma_unmap_sg, false},
	{"dma_alloc", h_dma_alloc, false},
	{"dma_free", h_dma_free, false},
	{"dma_sync_single_for_cpu", h_dma_sync_cpu, false},
	{"dma_sync_sg_for_cpu", h_dma_sync_cpu, false},
	{"dma_sync_single_for_device", NULL, false},
	{"dma_sync_sg_for_device", NULL, false},
	{"dma_alloc_pages", NULL, false},
	{"dma_free_pages", NULL, false},
	{"dma_alloc_sgt", NULL, false},
	{"dma_free_sgt", NULL, false},
	{"dma_alloc_sgt_err", NULL, false},
	{"dma_map_sg_err", NULL, false},
	{"intel_map_pages", h_map_pages, true},
	{"amd_map_pages", h_map_pages, true},
	{"lpae_map_pages", h_map_pages, true},
	{"arm_lpae_map_pages", h_map_pages, true},
	{"intel_iotlb_sync", NULL, true},
	{"amd_iotlb_sync", NULL, true},
	{"intel_flush_all", NULL, true},
	{"amd_flush_all", NULL, true},
	{"smmu_tlb_inv_ctx", NULL, true},
	{"qi_submit", NULL, true},
	{"nvme_setup_cmd", NULL, false},
	{"nvme_complete_rq", NULL, false},
	{"nvme_sq", NULL, false},
	{"block_rq_issue", NULL, false},
	{"block_rq_complete", NULL, false},
	{"block_rq_insert", NULL, false},
	{"tracing_mark_write", h_mark, false},
	{"print", h_mark, false},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))
_Static_assert(NDEFS <= 64, "counts[] too small");

static const struct ev_def *lookup(const char *s, size_t n, unsigned *idx)
{
	for (unsigned i = 0; i < NDEFS; i++)
		if (strlen(defs[i].name) == n && !memcmp(defs[i].name, s, n)) {
			*idx = i;
			return &defs[i];
		}
	/* Other drivers' map_pages probes count as the first driver's. */
	if (n > 10 && !memcmp(s + n - 10, "_map_pages", 10))
		for (unsigned i = 0; i < NDEFS; i++)
			if (defs[i].fn == h_map_pages) {
				*idx = i;
				return &defs[i];
			}
	return NULL;
}

static struct guest *guest_new(struct imp *m, bool combine)
{
	struct guest *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->m = m;
	g->combine = combine;
	g->fmt = m->o.format;
	g->dom = m->o.domain;
	return g;
}

static int guest_line(struct guest *g, const char **mark, size_t *marklen);

/* One line. 1: consumed a line, 0: end, <0: error. Combined with a QEMU
 * log, what it says is at the guest log's line, and the QEMU line it was
 * pulled from is the line again after it. */
static int guest_step(struct guest *g, const char **mark, size_t *marklen)
{
	struct imp *m = g->m;
	const char *at = m->at_name;
	uint64_t line = m->at_line;
	int rc = guest_line(g, mark, marklen);
	if (g->combine && rc >= 0)
		imp_at(m, at, line);
	return rc;
}

static int guest_line(struct guest *g, const char **mark, size_t *marklen)
{
	struct imp *m = g->m;
	const char *line;
	size_t len;
	*mark = NULL;
	int rc = lsrc_next(&g->in, &line, &len, m->err, m->errlen);
	if (rc <= 0)
		return rc;
	g->line = g->in.lineno;
	imp_at(m, g->in.name, g->in.lineno);
	if (!g->combine)
		m->st->lines++;
	uint64_t ns, pid, cpu;
	const char *name, *args, *e = line + len;
	size_t nlen;
	int sp = ft_split(line, e, &ns, &pid, &cpu, &name, &nlen, &args);
	if (!sp) {
		if (!g->combine)
			m->st->other++;
		return 1;
	}
	if (sp < 0) {
		if (m->o.lenient) {
			m->st->malformed++;
			return 1;
		}
		return imp_refuse(m, "expected a time SECONDS.FRACTION of at most %" PRIu64
				  " seconds", (uint64_t)FT_MAX_TS_SEC);
	}
	unsigned idx;
	const struct ev_def *d = lookup(name, nlen, &idx);
	if (!d) {
		if (!g->combine) {
			m->st->unknown++;
			imp_count(m->st->unknown_names, &m->st->n_unknown, name, nlen, 1);
		}
		return 1;
	}
	if (g->combine) {
		m->st->guest_events++;
	} else {
		m->st->events++;
		imp_time(m, ns);
	}
	g->counts[idx]++;
	g->evname = d->name;
	g->raw_name = name;
	g->raw_len = nlen;
	struct ctx *c = ctx_get(g, pid, cpu);
	/* An entry probe covers the events of its task up to the next one
	 * that is not part of it. */
	if (!d->keeps)
		c->pend = P_NONE;
	if (d->fn == h_mark) {
		const char *t = args;
		while (t < e && *t == ' ')
			t++;
		if (e - t > 11 && !memcmp(t, "TRACE_MARK ", 11)) {
			*mark = t + 11;
			*marklen = (size_t)(e - t - 11);
		} else {
			*mark = t;
			*marklen = (size_t)(e - t);
		}
		if (!g->combine)
			return imp_comment(m, "phase: %.*s", (int)*marklen, *mark) ? m->rc : 1;
		return 1;
	}
	if (d->fn && (rc = d->fn(g, c, args, e)))
		return rc;
	return m->rc ? m->rc : 1;
}

static void count_names(struct guest *g)
{
	for (unsigned i = 0; i < NDEFS; i++)
		if (g->counts[i])
			imp_count(g->m->st->known, &g->m->st->n_known, defs[i].name,
				  strlen(defs[i].name), g->counts[i]);
}

static int guest_step_cb(void *ctx, const char **mark, size_t *marklen)
{
	return guest_step(ctx, mark, marklen);
}

/* Combining: the QEMU side names the domain once it knows it. */
static void guest_set_domain(void *ctx, uint16_t dom)
{
	struct guest *g = ctx;
	g->dom = dom;
}

int guest_open(struct imp *m, const char *path, struct imp_guest *out)
{
	struct guest *g = guest_new(m, true);
	memset(out, 0, sizeof(*out));
	if (!g)
		return -ENOMEM;
	int rc = lsrc_open(&g->in, path, m->err, m->errlen);
	if (rc) {
		free(g);
		return rc;
	}
	g->own_in = true;
	out->ctx = g;
	out->step = guest_step_cb;
	out->set_domain = guest_set_domain;
	return 0;
}

void guest_close(struct imp_guest *ig)
{
	struct guest *g = ig->ctx;
	if (g->own_in)
		lsrc_close(&g->in);
	free(g);
	ig->ctx = NULL;
}

int import_ftrace(struct imp *m, struct lsrc *in)
{
	struct guest *g = guest_new(m, false);
	if (!g)
		return -ENOMEM;
	g->in = *in; /* borrowed: the caller closes it */
	const char *mk;
	size_t mn;
	int rc;
	while ((rc = guest_step(g, &mk, &mn)) == 1)
		;
	/* Mappings still there at the end get their access now. */
	if (!rc) {
		struct unmap_arg u = {g, KIND_NONE};
		rc = imp_for_each(m, g->dom, 0, UINT64_MAX, before_unmap, &u);
	}
	count_names(g);
	*in = g->in;
	free(g);
	return rc;
}
