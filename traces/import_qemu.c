/* Importer for QEMU trace logs (the `log` trace backend): intel-iommu
 * (vtd_*), amd-iommu (amdvi_*) and smmuv3 (smmuv3_*, smmu_*), with the
 * device events that tell directions (pci_nvme_*, dma_blk_io).
 *
 * Event texts are QEMU's hw/i386/trace-events, hw/arm/trace-events,
 * hw/nvme/trace-events and softmmu/trace-events; each handler takes the
 * older and newer spellings of its event (docs/importers.md lists them).
 * A line is "PID@SEC.USEC:event args" or, without -msg timestamp, just
 * "event args".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import.h"

/* NVMe commands whose data ranges are remembered, newest first. */
#define NCMD 64
#define NRANGE 32

struct range {
	uint64_t a, b;
	unsigned dir;
};

struct cmd {
	bool live, prp_seen, dma_seen;
	bool has_cid;
	uint16_t cid;
	unsigned dir;
	unsigned n;
	struct range r[NRANGE];
};

struct q;
typedef int (*handler)(struct q *q, const char *a, const char *e);

struct ev_def {
	const char *name;
	unsigned srcs; /* bit per enum ims_import_from */
	handler fn;    /* NULL: known, carries nothing the trace needs */
};

struct q {
	struct imp *m;
	enum ims_import_from from;
	uint64_t line;
	const char *evname;

	/* The IOTLB lookup just before a translation gives the exact access
	 * address, the leaf and the domain that the translation line lacks. */
	struct {
		bool valid;
		uint32_t sid;
		uint64_t iova, pte;
		int dom;
	} last;
	int cur_asid; /* SMMU: ASID of the lookup being translated */
	struct {
		bool valid;
		uint64_t addr;
		unsigned shift;
	} insert;
	unsigned tt_granule_log, tt_ias; /* SMMU CD of the next domain */
	/* AMD: the domain each device's IOTLB fills name (amdvi_cache_update). */
	struct {
		uint32_t dev;
		uint16_t dom;
	} devdom[16];
	unsigned ndevdom;
	unsigned phase;

	struct cmd cmds[NCMD];
	unsigned cmd_head; /* index of the newest */
	struct cmd *cur;

	struct guest *g;
	uint64_t counts[128];
};

/* ---- helpers -------------------------------------------------------------- */

static int bad(struct q *q, const char *what)
{
	struct imp *m = q->m;
	if (m->o.lenient) {
		m->st->malformed++;
		return 0;
	}
	return imp_bad(m, q->line, "%s: expected %s", q->evname, what);
}

static bool bdf_arg(const char *a, const char *e, const char *key, uint32_t *out)
{
	const char *v;
	size_t n;
	return arg_str(a, e, key, &v, &n) && parse_bdf(v, n, out);
}

/* "key:NUM" inside a token (TT[0]:tsz:16). */
static bool inner_num(const char *a, const char *e, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *p = a; p + kl <= e; p++) {
		if (memcmp(p, key, kl))
			continue;
		const char *v = p + kl, *ve = v;
		while (ve < e && *ve != ' ' && *ve != ':' && *ve != ',')
			ve++;
		return parse_num(v, (size_t)(ve - v), out);
	}
	return false;
}

static unsigned acc_of(uint64_t perm)
{
	return (unsigned)(perm & 3);
}

/* ---- NVMe commands and their data ranges ------------------------------------ */

static struct cmd *cmd_new(struct q *q)
{
	q->cmd_head = (q->cmd_head + 1) % NCMD;
	struct cmd *c = &q->cmds[q->cmd_head];
	memset(c, 0, sizeof(*c));
	c->live = true;
	q->cur = c;
	return c;
}

static struct cmd *cmd_find(struct q *q, uint16_t cid)
{
	for (unsigned i = 0; i < NCMD; i++) {
		struct cmd *c = &q->cmds[(q->cmd_head + NCMD - i) % NCMD];
		if (c->live && c->has_cid && c->cid == cid)
			return c;
	}
	return NULL;
}

static void cmd_range(struct cmd *c, uint64_t a, uint64_t len, unsigned dir)
{
	if (!len || a + len < a)
		return;
	if (c->n && c->r[c->n - 1].b == a && c->r[c->n - 1].dir == dir) {
		c->r[c->n - 1].b = a + len;
		return;
	}
	if (c->n < NRANGE)
		c->r[c->n++] = (struct range){a, a + len, dir};
}

static void cmd_set_dir(struct cmd *c, unsigned dir)
{
	c->dir = dir;
	for (unsigned i = 0; i < c->n; i++)
		if (!c->r[i].dir)
			c->r[i].dir = dir;
}

/* The direction and the data range of the command that holds iova. */
static unsigned cmd_dir(struct q *q, uint64_t iova, struct range *out)
{
	for (unsigned i = 0; i < NCMD; i++) {
		struct cmd *c = &q->cmds[(q->cmd_head + NCMD - i) % NCMD];
		if (!c->live)
			continue;
		for (unsigned j = 0; j < c->n; j++)
			if (iova >= c->r[j].a && iova < c->r[j].b) {
				*out = c->r[j];
				return c->r[j].dir;
			}
	}
	return 0;
}

static int h_nvme_io_cmd(struct q *q, const char *a, const char *e)
{
	uint64_t cid;
	const char *op;
	size_t n;
	if (!arg_num(a, e, "cid", &cid))
		return bad(q, "'cid N ... opname NAME'");
	struct cmd *c = cmd_new(q);
	c->has_cid = true;
	c->cid = (uint16_t)cid;
	if (arg_str(a, e, "opname", &op, &n)) {
		/* The command reads the disk: the device writes memory. */
		if (n >= 16 && memmem(op, n, "CMD_READ", 8))
			c->dir = DIR_W;
		else if (memmem(op, n, "CMD_WRITE", 9) && !memmem(op, n, "ZEROES", 6))
			c->dir = DIR_R;
	}
	return 0;
}

static int h_nvme_rw(struct q *q, const char *a, const char *e, unsigned dir)
{
	uint64_t cid;
	if (!arg_num(a, e, "cid", &cid))
		return bad(q, "'cid N ...'");
	struct cmd *c = q->cur && q->cur->live && q->cur->has_cid && q->cur->cid == cid && !q->cur->prp_seen
				? q->cur
				: NULL;
	if (!c) {
		c = cmd_new(q);
		c->has_cid = true;
		c->cid = (uint16_t)cid;
	}
	cmd_set_dir(c, dir);
	return 0;
}

static int h_nvme_read(struct q *q, const char *a, const char *e)
{
	return h_nvme_rw(q, a, e, DIR_W);
}

static int h_nvme_write(struct q *q, const char *a, const char *e)
{
	return h_nvme_rw(q, a, e, DIR_R);
}

static int h_nvme_map_prp(struct q *q, const char *a, const char *e)
{
	uint64_t len, prp1, prp2, num;
	if (!arg_num(a, e, "prp1", &prp1) || !arg_num(a, e, "prp2", &prp2))
		return bad(q, "'trans_len N len N prp1 0x... prp2 0x... num_prps N'");
	struct cmd *c = q->cur;
	if (!c || !c->live || c->prp_seen)
		c = cmd_new(q);
	c->prp_seen = true;
	/* More than two PRPs: prp2 points at a PRP list, which the device
	 * reads (NVMe base spec, "Physical Region Page Entry and List"). */
	if (arg_num(a, e, "num_prps", &num) && num > 2 && prp2) {
		uint64_t list = (num - 1) * 8;
		uint64_t room = IMS_PAGE_SIZE - (prp2 & (IMS_PAGE_SIZE - 1));
		cmd_range(c, prp2, list < room ? list : room, DIR_R);
	}
	(void)len;
	return 0;
}

static int h_nvme_map_addr(struct q *q, const char *a, const char *e)
{
	uint64_t addr, len;
	if (!arg_num(a, e, "addr", &addr) || !arg_num(a, e, "len", &len))
		return bad(q, "'addr 0x... len N'");
	struct cmd *c = q->cur;
	if (!c || !c->live || c->dma_seen)
		c = cmd_new(q);
	cmd_range(c, addr, len, c->dir);
	return 0;
}

static int h_nvme_rw_cb(struct q *q, const char *a, const char *e)
{
	uint64_t cid;
	if (!arg_num(a, e, "cid", &cid))
		return bad(q, "'cid N blk NAME'");
	struct cmd *c = cmd_find(q, (uint16_t)cid);
	if (c)
		c->live = false;
	if (c == q->cur)
		q->cur = NULL;
	return 0;
}

static int h_dma_blk_io(struct q *q, const char *a, const char *e)
{
	uint64_t to_dev;
	if (!arg_num(a, e, "to_dev", &to_dev))
		return bad(q, "'dbs=P bs=P offset=N to_dev=0|1'");
	/* to_dev=1: memory to the device, the device reads. */
	if (q->cur && q->cur->live) {
		cmd_set_dir(q->cur, to_dev ? DIR_R : DIR_W);
		q->cur->dma_seen = true;
	}
	return 0;
}

static int h_pci_cfg_read(struct q *q, const char *a, const char *e)
{
	/* The workload's phase marker (../shared/traces/captured/README.md):
	 * a read of the subsystem id of the NVMe function. */
	size_t n = (size_t)(e - a);
	static const char tail[] = "@0x2c -> 0xf4";
	if (n < sizeof(tail) - 1 || memcmp(e - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
		return 0;
	q->phase++;
	if (q->g) {
		/* The guest wrote its marker before this read. */
		for (;;) {
			const char *mk = NULL;
			size_t mn = 0;
			int rc = guest_step(q->g, &mk, &mn);
			if (rc <= 0)
				return rc;
			if (mk)
				return imp_comment(q->m, "phase %u: %.*s", q->phase, (int)mn, mk);
		}
	}
	return imp_comment(q->m, "phase marker %u", q->phase);
}

/* ---- translations ------------------------------------------------------------ */

struct xl {
	uint32_t dev;
	uint16_t dom;
	uint64_t iova;   /* the accessed address */
	uint64_t pa;     /* its translation */
	unsigned shift;  /* leaf size the log states (12 if none) */
	unsigned prot;   /* mapping permission the log states (0: none) */
	unsigned logdir; /* the access direction the log states (0: none) */
	/* pa is the base of the leaf, whatever its size, not the access's
	 * translation (amdvi_translation_result). */
	bool pa_base;
};

static uint64_t leaf_pa(const struct leaf *l, uint64_t iova)
{
	return l->pa + (iova - l->iova);
}

/* Whether a leaf already translates the access the way the log says. The
 * guest's own permission counts when combining: Linux's VT-d driver sets
 * bit 0 (R) in every second-level entry, so QEMU shows R|W where the guest
 * mapped DMA_FROM_DEVICE as write-only. */
static bool agrees(const struct leaf *l, const struct xl *x, bool prot)
{
	if (prot && x->prot && l->prot != x->prot)
		return false;
	if (!x->pa_base)
		return leaf_pa(l, x->iova) == x->pa;
	uint64_t h = x->pa & ~(IMS_PAGE_SIZE - 1);
	if (l->flags & LF_NOTE)
		return l->note == h;
	return l->pa == h || (leaf_pa(l, x->iova) & ~(IMS_PAGE_SIZE - 1)) == h;
}

/* Pull guest events until the guest has mapped the access the way QEMU
 * translated it (combining). */
static int guest_sync(struct q *q, const struct xl *x, struct leaf **lp)
{
	guest_set_domain(q->g, x->dom);
	for (;;) {
		struct leaf *l = imp_lookup(q->m, x->dom, x->iova);
		if (l && agrees(l, x, false)) {
			*lp = l;
			return 0;
		}
		const char *mk = NULL;
		size_t mn = 0;
		int rc = guest_step(q->g, &mk, &mn);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			*lp = NULL;
			return 0;
		}
		if (mk && (rc = imp_comment(q->m, "guest phase: %.*s", (int)mn, mk)))
			return rc;
	}
}

/* The page to map for an access whose log gives only the leaf's base: a
 * page right after one that QEMU gave the same base continues that leaf;
 * otherwise the base itself (a 4 KiB leaf). */
static uint64_t base_page_pa(struct q *q, const struct xl *x)
{
	uint64_t page = x->iova & ~(IMS_PAGE_SIZE - 1);
	uint64_t h = x->pa & ~(IMS_PAGE_SIZE - 1);
	struct leaf *prev = page ? imp_lookup(q->m, x->dom, page - IMS_PAGE_SIZE) : NULL;
	if (prev && (prev->flags & LF_NOTE) && prev->note == h)
		return leaf_pa(prev, page - IMS_PAGE_SIZE) + IMS_PAGE_SIZE;
	return h;
}

static int translate(struct q *q, const struct xl *x)
{
	struct imp *m = q->m;
	int rc = imp_attach(m, x->dev, x->dom);
	if (rc)
		return rc;
	struct leaf *l = NULL;
	if (q->g && (rc = guest_sync(q, x, &l)))
		return rc;
	if (!l) {
		l = imp_lookup(m, x->dom, x->iova);
		if (!l || !agrees(l, x, true)) {
			uint64_t sz = 1ull << x->shift;
			unsigned prot = x->prot ? x->prot : m->o.map_prot;
			uint64_t pa = x->pa_base ? base_page_pa(q, x) : x->pa & ~(sz - 1);
			rc = imp_map(m, x->dom, x->iova & ~(sz - 1), pa, sz, prot, KIND_NONE, sz);
			if (rc == -EINVAL || rc == -E2BIG) /* a leaf size the format has not */
				rc = imp_map(m, x->dom, x->iova & ~(IMS_PAGE_SIZE - 1),
					     (x->pa_base ? pa : x->pa) & ~(IMS_PAGE_SIZE - 1),
					     IMS_PAGE_SIZE, prot, KIND_NONE, 0);
			if (rc == -EINVAL || rc == -E2BIG)
				return bad(q, "a translation the domain can hold (inside its IOVA "
					      "space; see --levels/--ias)");
			if (rc)
				return rc;
			l = imp_lookup(m, x->dom, x->iova);
			if (!l)
				return -EINVAL;
			if (x->pa_base) {
				l->flags |= LF_NOTE;
				l->note = x->pa & ~(IMS_PAGE_SIZE - 1);
			}
		}
	}
	if ((m->o.expect_pa == IMS_EXPECT_PA_ALL ||
	     (m->o.expect_pa == IMS_EXPECT_PA_FIRST && !(l->flags & LF_EXPECTED))) &&
	    (l->prot & IMS_PROT_R)) {
		l->flags |= LF_EXPECTED;
		if ((rc = imp_expect_pa(m, x->dev, x->iova, leaf_pa(l, x->iova))))
			return rc;
	}

	/* Direction: the log's, then the device's command, then the mapping. */
	struct range r = {0, 0, 0};
	unsigned dir = x->logdir;
	uint64_t len = m->o.access_len;
	if (!dir) {
		dir = cmd_dir(q, x->iova, &r);
		if (dir)
			len = r.b - x->iova;
	}
	if (dir) {
		m->st->dir_logged++;
	} else if (l->kind == IMS_ASSUME_TO_DEVICE || l->kind == IMS_ASSUME_FROM_DEVICE) {
		dir = m->o.assume[l->kind];
		m->st->dir_logged++;
	} else if (l->prot == IMS_PROT_R) {
		dir = DIR_R;
		m->st->dir_perm++;
	} else {
		dir = m->o.assume[l->kind == KIND_NONE ? IMS_ASSUME_UNKNOWN : l->kind];
		m->st->dir_assumed++;
	}
	/* One translation covers one page of the leaf. */
	uint64_t room = IMS_PAGE_SIZE - (x->iova & (IMS_PAGE_SIZE - 1));
	if (len > room)
		len = room;
	return imp_dma(m, x->dev, x->iova, len, dir);
}

/* A logged fault becomes an access and its expected fault when the trace
 * makes the model fault the same way. */
static int fault(struct q *q, uint32_t dev, uint64_t iova, bool write)
{
	struct imp *m = q->m;
	int dom = imp_dev_dom(m, dev);
	if (dom < 0) {
		m->st->faults_skipped++;
		return 0;
	}
	struct leaf *l = imp_lookup(m, (uint16_t)dom, iova);
	unsigned need = write ? IMS_PROT_W : IMS_PROT_R;
	enum ims_fault_kind kind;
	if (!l)
		kind = IMS_FAULT_NOTPRESENT;
	else if (!(l->prot & need))
		kind = IMS_FAULT_PERM;
	else {
		m->st->faults_skipped++;
		return 0;
	}
	int rc = imp_dma_raw(m, dev, iova, 1, write ? DIR_W : DIR_R);
	if (!rc)
		rc = imp_expect_fault(m, dev, iova, kind);
	return rc;
}

/* ---- intel-iommu ----------------------------------------------------------------- */

static int h_vtd_iotlb_page(struct q *q, const char *a, const char *e)
{
	uint64_t sid, iova, pte, dom;
	/* "sid 0x.. iova 0x.. slpte 0x.. domain 0x.." (QEMU <= 8); "pte" since
	 * first-stage support. */
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "iova", &iova) ||
	    !(arg_num(a, e, "slpte", &pte) || arg_num(a, e, "pte", &pte)) ||
	    !arg_num(a, e, "domain", &dom))
		return bad(q, "'sid 0x... iova 0x... slpte 0x... domain 0x...'");
	q->last.valid = true;
	q->last.sid = (uint32_t)sid;
	q->last.iova = iova;
	q->last.pte = pte;
	q->last.dom = (int)(dom & 0xffff);
	return 0;
}

static int h_vtd_cc_update(struct q *q, const char *a, const char *e)
{
	uint64_t hi;
	if (!arg_num(a, e, "high", &hi))
		return bad(q, "'bus 0x.. devfn 0x.. high 0x... low 0x... gen N -> gen N'");
	/* Context entry, upper word: AW in bits 2:0 (39-bit = 1, 3 levels),
	 * DID in bits 23:8 (VT-d spec 9.3). */
	unsigned aw = (unsigned)(hi & 7);
	if (aw >= 1 && aw <= 3)
		imp_dom_geometry(q->m, (uint16_t)(hi >> 8), IMS_FMT_VTD, aw + 2, 0, 0, false);
	return 0;
}

static int h_vtd_translate(struct q *q, const char *a, const char *e)
{
	uint32_t dev;
	uint64_t iova, gpa, mask;
	if (!bdf_arg(a, e, "dev", &dev) || !arg_num(a, e, "iova", &iova) ||
	    !arg_num(a, e, "gpa", &gpa) || !arg_num(a, e, "mask", &mask) ||
	    !ims_is_pow2(mask + 1) || mask < 0xfff)
		return bad(q, "'dev BB:DD.F iova 0x... -> gpa 0x... mask 0x...'");
	struct xl x = {.dev = dev, .iova = iova, .pa = gpa, .shift = ims_log2(mask + 1)};
	int dom = -1;
	if (q->last.valid && q->last.sid == dev && (q->last.iova & ~mask) == (iova & ~mask)) {
		x.iova = q->last.iova;
		x.pa = (gpa & ~mask) | (q->last.iova & mask);
		/* Second-level entry bits 0 (R) and 1 (W). */
		x.prot = acc_of(q->last.pte);
		dom = q->last.dom;
	}
	q->last.valid = false;
	if (dom < 0)
		dom = imp_dev_dom(q->m, dev);
	if (dom < 0 || !x.prot) {
		if (dom < 0) {
			return bad(q, "an IOTLB line (vtd_iotlb_page_hit/update) naming the domain "
				      "before the first translation of a device");
		}
		struct leaf *l = imp_lookup(q->m, (uint16_t)dom, iova);
		x.prot = l ? l->prot : 0;
	}
	x.dom = (uint16_t)dom;
	imp_dom_geometry(q->m, x.dom, IMS_FMT_VTD, q->m->o.levels ? q->m->o.levels : 3, 0, 0, true);
	return translate(q, &x);
}

static int h_vtd_inv_pages(struct q *q, const char *a, const char *e)
{
	uint64_t dom, addr, am;
	if (!arg_num(a, e, "domain", &dom) || !arg_num(a, e, "addr", &addr) ||
	    !arg_num(a, e, "mask", &am) || am > 52)
		return bad(q, "'iotlb invalidate domain 0x... addr 0x... mask 0x..'");
	/* Strict mode: the guest invalidates what it has just unmapped. */
	uint64_t size = IMS_PAGE_SIZE << am;
	addr &= ~(size - 1);
	if (q->g)
		return imp_flush(q->m, (uint16_t)dom);
	int rc = imp_unmap(q->m, (uint16_t)dom, addr, size, NULL, NULL);
	if (rc == 0)
		q->m->st->unmap_untracked++;
	return rc < 0 ? rc : 0;
}

static int h_vtd_inv_domain(struct q *q, const char *a, const char *e)
{
	uint64_t dom;
	if (!arg_num(a, e, "domain", &dom))
		return bad(q, "'iotlb invalidate whole domain 0x...'");
	return imp_flush(q->m, (uint16_t)dom);
}

static int flush_all(struct q *q)
{
	for (size_t i = 0; i < q->m->ndoms; i++) {
		int rc = imp_flush(q->m, q->m->doms[i].id);
		if (rc)
			return rc;
	}
	return 0;
}

static int h_flush_all(struct q *q, const char *a, const char *e)
{
	(void)a;
	(void)e;
	return flush_all(q);
}

/* A fault the log gives no device or direction for. */
static int h_fault_unknown(struct q *q, const char *a, const char *e)
{
	(void)a;
	(void)e;
	q->m->st->faults_skipped++;
	return 0;
}

static int h_vtd_fault(struct q *q, const char *a, const char *e)
{
	uint64_t sid, addr, wr;
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "addr", &addr) ||
	    !arg_num(a, e, "write", &wr))
		return bad(q, "'sid 0x... fault N addr 0x... write 0|1'");
	return fault(q, (uint32_t)sid, addr, wr != 0);
}

/* ---- amd-iommu -------------------------------------------------------------------- */

static bool amd_dev(const char *a, const char *e, uint32_t *dev)
{
	return bdf_arg(a, e, "devid", dev);
}

static int h_amd_cache(struct q *q, const char *a, const char *e, bool update)
{
	uint32_t dev;
	uint64_t gpa, dom = 0;
	if (!amd_dev(a, e, &dev) || !arg_num(a, e, "gpa", &gpa) ||
	    (update && !arg_num(a, e, "domid", &dom)))
		return bad(q, update ? "'update iotlb domid 0x.. devid: BB:DD.F gpa 0x... hpa 0x...'"
				     : "'hit iotlb devid BB:DD.F gpa 0x... hpa 0x...'");
	q->last.valid = true;
	q->last.sid = dev;
	q->last.iova = gpa;
	q->last.dom = update ? (int)(dom & 0xffff) : -1;
	if (update) {
		unsigned i = 0;
		while (i < q->ndevdom && q->devdom[i].dev != dev)
			i++;
		if (i == q->ndevdom && i < sizeof(q->devdom) / sizeof(q->devdom[0]))
			q->ndevdom++;
		if (i < q->ndevdom) {
			q->devdom[i].dev = dev;
			q->devdom[i].dom = (uint16_t)dom;
		}
	}
	return 0;
}

static int h_amd_update(struct q *q, const char *a, const char *e)
{
	return h_amd_cache(q, a, e, true);
}

static int h_amd_hit(struct q *q, const char *a, const char *e)
{
	return h_amd_cache(q, a, e, false);
}

static int h_amd_translate(struct q *q, const char *a, const char *e)
{
	uint32_t dev;
	uint64_t in, out;
	/* QEMU calls the IOVA "gpa" and the result "hpa"; accept "iova"/"addr"
	 * and "translated"/"txaddr" too. */
	bool ok = amd_dev(a, e, &dev) &&
		  (arg_num(a, e, "iova", &in) ? arg_num(a, e, "gpa", &out) || arg_num(a, e, "hpa", &out)
					      : (arg_num(a, e, "gpa", &in) || arg_num(a, e, "addr", &in)) &&
							(arg_num(a, e, "hpa", &out) ||
							 arg_num(a, e, "translated", &out) ||
							 arg_num(a, e, "txaddr", &out)));
	if (!ok)
		return bad(q, "'devid: BB:DD.F gpa 0x... hpa 0x...'");
	int dom = -1;
	if (q->last.valid && q->last.sid == dev &&
	    (q->last.iova & ~(IMS_PAGE_SIZE - 1)) == (in & ~(IMS_PAGE_SIZE - 1)))
		dom = q->last.dom;
	q->last.valid = false;
	for (unsigned i = 0; dom < 0 && i < q->ndevdom; i++)
		if (q->devdom[i].dev == dev)
			dom = q->devdom[i].dom;
	if (dom < 0)
		dom = imp_dev_dom(q->m, dev);
	if (dom < 0)
		dom = q->m->o.domain;
	struct xl x = {.dev = dev, .dom = (uint16_t)dom, .iova = in, .pa = out, .shift = 12,
		       .pa_base = true};
	imp_dom_geometry(q->m, x.dom, IMS_FMT_AMDV1, q->m->o.levels ? q->m->o.levels : 3, 0, 0, true);
	return translate(q, &x);
}

static int h_amd_pages_inval(struct q *q, const char *a, const char *e)
{
	uint64_t dom;
	if (!arg_num(a, e, "domain", &dom))
		return bad(q, "'AMD-Vi pages for domain 0x... invalidated'");
	/* No address in the event (QEMU flushes the whole domain): nothing
	 * here says which pages went away. */
	return imp_flush(q->m, (uint16_t)dom);
}

/* ---- smmuv3 -------------------------------------------------------------------------- */

static int h_smmu_lookup(struct q *q, const char *a, const char *e)
{
	uint64_t asid;
	if (!arg_num(a, e, "asid", &asid))
		return bad(q, "'IOTLB cache HIT|MISS asid=N addr=0x...'");
	q->cur_asid = (int)(asid & 0xffff);
	return 0;
}

static unsigned tg_log(uint64_t tg, unsigned dflt)
{
	/* TG encoding of the range TLBI commands: 1 = 4K, 2 = 16K, 3 = 64K. */
	return tg == 1 ? 12 : tg == 2 ? 14 : tg == 3 ? 16 : dflt;
}

static int h_smmu_insert(struct q *q, const char *a, const char *e)
{
	uint64_t asid, addr, tg = 0, level = 3;
	if (!arg_num(a, e, "asid", &asid) || !arg_num(a, e, "addr", &addr))
		return bad(q, "'IOTLB ++ asid=N addr=0x... tg=N level=N'");
	arg_num(a, e, "tg", &tg);
	arg_num(a, e, "level", &level);
	unsigned g = tg_log(tg, q->tt_granule_log ? q->tt_granule_log : 12);
	if (level > 3)
		level = 3;
	q->cur_asid = (int)(asid & 0xffff);
	q->insert.valid = true;
	q->insert.addr = addr;
	q->insert.shift = g + (unsigned)(3 - level) * (g - 3);
	return 0;
}

static int h_smmu_cd_tt(struct q *q, const char *a, const char *e)
{
	uint64_t tsz, gs;
	if (!inner_num(a, e, "tsz:", &tsz) || !inner_num(a, e, "granule_sz:", &gs))
		return bad(q, "'TT[N]:tsz:N ttb:0x... granule_sz:N had:N'");
	if (memmem(a, (size_t)(e - a), "TT[0]", 5) && tsz < 64 && (gs == 12 || gs == 14 || gs == 16)) {
		q->tt_ias = (unsigned)(64 - tsz);
		q->tt_granule_log = (unsigned)gs;
	}
	return 0;
}

static int h_smmu_translate(struct q *q, const char *a, const char *e)
{
	uint64_t sid, iova, out, perm;
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "iova", &iova) ||
	    !arg_num(a, e, "translated", &out) || !arg_num(a, e, "perm", &perm))
		return bad(q, "'NAME sid=0x... iova=0x... translated=0x... perm=0x...'");
	int dom = q->cur_asid >= 0 ? q->cur_asid : imp_dev_dom(q->m, (uint32_t)sid);
	if (dom < 0)
		dom = q->m->o.domain;
	unsigned g = q->tt_granule_log ? q->tt_granule_log : 12;
	struct xl x = {.dev = (uint32_t)sid, .dom = (uint16_t)dom, .iova = iova, .pa = out,
		       .shift = g, .prot = acc_of(perm)};
	if (q->insert.valid) {
		uint64_t sz = 1ull << q->insert.shift;
		if ((q->insert.addr & ~(sz - 1)) == (iova & ~(sz - 1)) &&
		    (iova & (sz - 1)) == (out & (sz - 1)))
			x.shift = q->insert.shift;
		q->insert.valid = false;
	} else {
		struct leaf *l = imp_lookup(q->m, x.dom, iova);
		if (l && leaf_pa(l, iova) == out)
			x.shift = l->shift;
	}
	q->cur_asid = -1;
	imp_dom_geometry(q->m, x.dom, IMS_FMT_SMMUV3, 0, 1ull << g,
			 q->m->o.ias ? q->m->o.ias : q->tt_ias ? q->tt_ias : 48, true);
	return translate(q, &x);
}

static int h_smmu_range_inval(struct q *q, const char *a, const char *e)
{
	uint64_t asid, addr, tg = 0, num = 1;
	if (!arg_num(a, e, "asid", &asid) || !arg_num(a, e, "addr", &addr))
		return bad(q, "'vmid=N asid=N addr=0x... tg=N num_pages=0x... ttl=N leaf=N'");
	arg_num(a, e, "tg", &tg);
	arg_num(a, e, "num_pages", &num);
	unsigned g = tg_log(tg, q->tt_granule_log ? q->tt_granule_log : 12);
	if (!num || num > (1ull << 40))
		return bad(q, "num_pages between 1 and 2^40");
	uint64_t size = num << g;
	if (q->g)
		return imp_flush(q->m, (uint16_t)asid);
	int rc = imp_unmap(q->m, (uint16_t)asid, addr & ~((1ull << g) - 1), size, NULL, NULL);
	if (rc == 0)
		q->m->st->unmap_untracked++;
	return rc < 0 ? rc : 0;
}

static int h_smmu_inv_asid(struct q *q, const char *a, const char *e)
{
	uint64_t asid;
	if (!arg_num(a, e, "asid", &asid))
		return bad(q, "'IOTLB invalidate asid=N'");
	return imp_flush(q->m, (uint16_t)asid);
}

static int h_smmu_abort(struct q *q, const char *a, const char *e)
{
	uint64_t sid, iova, wr;
	if (!arg_num(a, e, "sid", &sid) || !arg_num(a, e, "iova", &iova) ||
	    !arg_num(a, e, "is_write", &wr))
		return bad(q, "'NAME sid=0x... abort on iova:0x... is_write=0|1'");
	return fault(q, (uint32_t)sid, iova, wr != 0);
}

/* ---- the event table --------------------------------------------------------------- */

#define VTD (1u << IMS_FROM_QEMU_VTD)
#define AMD (1u << IMS_FROM_QEMU_AMDVI)
#define SMMU (1u << IMS_FROM_QEMU_SMMUV3)
#define ALL (VTD | AMD | SMMU)

static const struct ev_def defs[] = {
	/* Device side (hw/nvme, softmmu/dma-helpers.c, hw/pci). */
	{"pci_nvme_io_cmd", ALL, h_nvme_io_cmd},
	{"pci_nvme_read", ALL, h_nvme_read},
	{"pci_nvme_write", ALL, h_nvme_write},
	{"pci_nvme_map_prp", ALL, h_nvme_map_prp},
	{"pci_nvme_map_addr", ALL, h_nvme_map_addr},
	{"pci_nvme_rw_cb", ALL, h_nvme_rw_cb},
	{"dma_blk_io", ALL, h_dma_blk_io},
	{"pci_cfg_read", ALL, h_pci_cfg_read},
	{"pci_cfg_write", ALL, NULL},
	/* intel-iommu. */
	{"vtd_dmar_translate", VTD, h_vtd_translate},
	{"vtd_iotlb_page_hit", VTD, h_vtd_iotlb_page},
	{"vtd_iotlb_page_update", VTD, h_vtd_iotlb_page},
	{"vtd_iotlb_cc_update", VTD, h_vtd_cc_update},
	{"vtd_iotlb_cc_hit", VTD, NULL},
	{"vtd_inv_desc_iotlb_pages", VTD, h_vtd_inv_pages},
	{"vtd_inv_desc_iotlb_pasid_pages", VTD, h_vtd_inv_pages},
	{"vtd_inv_desc_iotlb_domain", VTD, h_vtd_inv_domain},
	{"vtd_inv_desc_iotlb_pasid", VTD, h_vtd_inv_domain},
	{"vtd_inv_desc_iotlb_global", VTD, h_flush_all},
	{"vtd_dmar_fault", VTD, h_vtd_fault},
	{"vtd_fault_disabled", VTD, NULL},
	{"vtd_inv_desc", VTD, NULL},
	{"vtd_inv_desc_iec", VTD, NULL},
	{"vtd_inv_desc_cc_global", VTD, NULL},
	{"vtd_inv_desc_cc_domain", VTD, NULL},
	{"vtd_inv_desc_cc_device", VTD, NULL},
	{"vtd_inv_desc_cc_devices", VTD, NULL},
	{"vtd_inv_desc_wait_sw", VTD, NULL},
	{"vtd_inv_desc_wait_irq", VTD, NULL},
	{"vtd_inv_qi_head", VTD, NULL},
	{"vtd_inv_qi_tail", VTD, NULL},
	{"vtd_inv_qi_fetch", VTD, NULL},
	{"vtd_inv_qi_setup", VTD, NULL},
	{"vtd_inv_qi_enable", VTD, NULL},
	{"vtd_reg_read", VTD, NULL},
	{"vtd_reg_write", VTD, NULL},
	{"vtd_reg_write_gcmd", VTD, NULL},
	{"vtd_reg_write_fectl", VTD, NULL},
	{"vtd_reg_dmar_root", VTD, NULL},
	{"vtd_reg_ir_root", VTD, NULL},
	{"vtd_switch_address_space", VTD, NULL},
	{"vtd_context_cache_reset", VTD, NULL},
	{"vtd_dmar_enable", VTD, NULL},
	{"vtd_iotlb_reset", VTD, h_flush_all},
	{"vtd_iotlb_pe_hit", VTD, NULL},
	{"vtd_iotlb_pe_update", VTD, NULL},
	/* amd-iommu. */
	{"amdvi_translation_result", AMD, h_amd_translate},
	{"amdvi_cache_update", AMD, h_amd_update},
	{"amdvi_iotlb_hit", AMD, h_amd_hit},
	{"amdvi_pages_inval", AMD, h_amd_pages_inval},
	{"amdvi_all_inval", AMD, h_flush_all},
	{"amdvi_iotlb_reset", AMD, h_flush_all},
	{"amdvi_page_fault", AMD, h_fault_unknown},
	{"amdvi_command_exec", AMD, NULL},
	{"amdvi_completion_wait", AMD, NULL},
	{"amdvi_intr_inval", AMD, NULL},
	{"amdvi_devtab_inval", AMD, NULL},
	{"amdvi_control_status", AMD, NULL},
	{"amdvi_command_error", AMD, NULL},
	{"amdvi_iotlb_inval", AMD, NULL},
	{"amdvi_prefetch_pages", AMD, NULL},
	{"amdvi_ppr_exec", AMD, NULL},
	{"amdvi_mmio_read", AMD, NULL},
	{"amdvi_mmio_write", AMD, NULL},
	/* smmuv3 / smmu-common. */
	{"smmuv3_translate_success", SMMU, h_smmu_translate},
	{"smmu_iotlb_lookup_hit", SMMU, h_smmu_lookup},
	{"smmu_iotlb_lookup_miss", SMMU, h_smmu_lookup},
	{"smmu_iotlb_insert", SMMU, h_smmu_insert},
	{"smmuv3_decode_cd_tt", SMMU, h_smmu_cd_tt},
	{"smmuv3_s1_range_inval", SMMU, h_smmu_range_inval},
	{"smmuv3_range_inval", SMMU, h_smmu_range_inval},
	{"smmuv3_cmdq_tlbi_nh_va", SMMU, h_smmu_range_inval},
	{"smmu_iotlb_inv_iova", SMMU, h_smmu_range_inval},
	{"smmu_iotlb_inv_asid", SMMU, h_smmu_inv_asid},
	{"smmu_iotlb_inv_all", SMMU, h_flush_all},
	{"smmuv3_translate_abort", SMMU, h_smmu_abort},
	{"smmuv3_translate_disable", SMMU, NULL},
	{"smmuv3_translate_bypass", SMMU, NULL},
	{"smmuv3_cmdq_tlbi_nh_asid", SMMU, NULL},
	{"smmuv3_cmdq_tlbi_nh", SMMU, NULL},
	{"smmu_ptw_level", SMMU, NULL},
	{"smmu_ptw_invalid_pte", SMMU, NULL},
	{"smmu_ptw_page_pte", SMMU, NULL},
	{"smmu_ptw_block_pte", SMMU, NULL},
	{"smmu_get_pte", SMMU, NULL},
	{"smmu_add_mr", SMMU, NULL},
	{"smmuv3_config_cache_hit", SMMU, NULL},
	{"smmuv3_config_cache_miss", SMMU, NULL},
	{"smmuv3_config_cache_inv", SMMU, NULL},
	{"smmuv3_cmdq_opcode", SMMU, NULL},
	{"smmuv3_cmdq_consume", SMMU, NULL},
	{"smmuv3_cmdq_consume_out", SMMU, NULL},
	{"smmuv3_cmdq_consume_error", SMMU, NULL},
	{"smmuv3_cmdq_cfgi_ste", SMMU, NULL},
	{"smmuv3_cmdq_cfgi_ste_range", SMMU, NULL},
	{"smmuv3_cmdq_cfgi_cd", SMMU, NULL},
	{"smmuv3_get_ste", SMMU, NULL},
	{"smmuv3_get_cd", SMMU, NULL},
	{"smmuv3_find_ste", SMMU, NULL},
	{"smmuv3_find_ste_2lvl", SMMU, NULL},
	{"smmuv3_decode_cd", SMMU, NULL},
	{"smmuv3_record_event", SMMU, NULL},
	{"smmuv3_write_mmio", SMMU, NULL},
	{"smmuv3_read_mmio", SMMU, NULL},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))
_Static_assert(NDEFS <= sizeof(((struct q *)0)->counts) / sizeof(uint64_t), "counts[] too small");

static const struct ev_def *lookup(const char *s, size_t n, unsigned *idx)
{
	for (unsigned i = 0; i < NDEFS; i++)
		if (strlen(defs[i].name) == n && !memcmp(defs[i].name, s, n)) {
			*idx = i;
			return &defs[i];
		}
	return NULL;
}

/* "PID@SEC.USEC:" in front of the event name. */
static const char *strip_prefix(struct q *q, const char *s, const char *e)
{
	const char *p = s;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	if (p == s || p >= e || *p != '@')
		return s;
	const char *t = ++p;
	uint64_t sec = 0, usec = 0;
	while (p < e && *p >= '0' && *p <= '9')
		sec = sec * 10 + (uint64_t)(*p++ - '0');
	if (p == t || p >= e || *p != '.')
		return s;
	const char *f = ++p;
	unsigned digits = 0;
	while (p < e && *p >= '0' && *p <= '9') {
		if (digits < 9) {
			usec = usec * 10 + (uint64_t)(*p - '0');
			digits++;
		}
		p++;
	}
	if (p == f || p >= e || *p != ':' || p - t > 30)
		return s;
	while (digits++ < 9)
		usec *= 10;
	imp_time(q->m, sec * 1000000000ull + usec);
	return p + 1;
}

int import_qemu(struct imp *m, struct lsrc *in)
{
	struct q *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->m = m;
	q->from = m->o.from;
	q->cur_asid = -1;
	int rc = 0;
	if (m->o.guest && (rc = guest_open(m, m->o.guest, &q->g))) {
		free(q);
		return rc;
	}
	const char *line;
	size_t len;
	while ((rc = lsrc_next(in, &line, &len, m->err, m->errlen)) == 1) {
		m->st->lines++;
		q->line = in->lineno;
		const char *e = line + len;
		const char *s = strip_prefix(q, line, e);
		const char *ne = s;
		while (ne < e && (((*ne | 0x20) >= 'a' && (*ne | 0x20) <= 'z') ||
				  (*ne >= '0' && *ne <= '9') || *ne == '_'))
			ne++;
		if (ne == s || (ne < e && *ne != ' ' && *ne != '\t')) {
			m->st->other++;
			continue;
		}
		unsigned idx;
		const struct ev_def *d = lookup(s, (size_t)(ne - s), &idx);
		if (!d || !(d->srcs >> q->from & 1)) {
			m->st->unknown++;
			imp_count(m->st->unknown_names, &m->st->n_unknown, s, (size_t)(ne - s), 1);
			continue;
		}
		m->st->events++;
		q->counts[idx]++;
		q->evname = d->name;
		if (d->fn && (rc = d->fn(q, ne, e)))
			break;
		if (m->rc) {
			rc = m->rc;
			break;
		}
	}
	if (rc > 0)
		rc = 0;
	/* Whatever the guest did after QEMU's last translation. */
	while (!rc && q->g) {
		const char *mk = NULL;
		size_t mn = 0;
		int r = guest_step(q->g, &mk, &mn);
		if (r <= 0) {
			rc = r;
			break;
		}
		if (mk)
			rc = imp_comment(m, "guest phase: %.*s", (int)mn, mk);
	}
	for (unsigned i = 0; i < NDEFS; i++)
		if (q->counts[i])
			imp_count(m->st->known, &m->st->n_known, defs[i].name, strlen(defs[i].name),
				  q->counts[i]);
	if (q->g)
		guest_close(q->g);
	free(q);
	return rc < 0 ? rc : 0;
}
