/* Linux generic_pt as a full-level walker of the walker ABI: the part the
 * two formats share (linux/walkers/gpt_amdv1.c, gpt_vtdss.c).
 *
 * License: this file is iommusim's (MIT). The walker plug-in it is built
 * into also contains Linux's drivers/iommu/generic_pt (GPL-2.0-only),
 * compiled unmodified from a kernel tree at build time: the plug-in is a
 * GPL-2.0 work, a separate artifact from iommusim.
 *
 * A format file includes the kernel's fmt/iommu_<fmt>.c (its template
 * instantiation of iommu_pt.h, exactly as the kernel builds it), then this
 * header, then defines the format's hooks declared below. What runs is the
 * kernel's own code:
 *   domain_init          pt_iommu_<fmt>_init(), with the configuration the
 *                        kernel driver passes (drivers/iommu/amd/iommu.c,
 *                        intel/iommu.c), sized to the domain's geometry
 *   map / unmap          pt_iommu_ops->map_range / unmap_range, then
 *                        iommu_iotlb_sync() into the driver's flush, as the
 *                        IOMMU core does for a generic_pt domain
 *   iova_to_phys         pt_iommu_<fmt>_iova_to_phys()
 *   read_and_clear_dirty pt_iommu_<fmt>_read_and_clear_dirty(), its
 *                        iova_bitmap the host's output and its gather handed
 *                        to the host, which syncs it as iommufd does
 *   ctx_words            from pt_iommu_<fmt>_hw_info(), the root and levels
 *                        the kernel driver programs into the DTE / PASID entry
 *   domain_free          pt_iommu_deinit()
 * The glue adds what the kernel leaves to the driver and the core:
 * set_dirty_tracking (the driver's DTE.HAD / PASID-entry SSADE switch,
 * through host->ctx_change), the iotlb_sync op, the core's undo of a
 * failed map, and two things the walker ABI asks that the kernel API has
 * no call for: refusing an unmap that cuts a leaf, and the permissions of
 * a mapping. Those two read the table with generic_pt's own entry decoding.
 *
 * Kernel code reaches simulated memory only through the compatibility
 * runtime (linux/compat/include/ims_lx.h): every READ_ONCE, WRITE_ONCE and
 * cmpxchg of an entry is a host call, an interleaving point.
 */
#ifndef IMS_GPT_GLUE_H
#define IMS_GPT_GLUE_H

#include "iommusim/walker.h"

/* Set by the build (cmake/linux.cmake): the walker's name and the tree's
 * version. */
#ifndef IMS_LINUX_WALKER_NAME
#define IMS_LINUX_WALKER_NAME "linux-gpt-" GPT_FMT_TEXT
#endif
#ifndef IMS_LINUX_VERSION
#define IMS_LINUX_VERSION "(unknown version)"
#endif
#define GPT_NAME IMS_LINUX_WALKER_NAME

/* One walker domain: the kernel's domain structure first. */
struct gpt_dom {
	struct GPT_TABLE table;
	struct ims_lx_dom lx;
	struct ims_walker_dom *dom; /* as the host passed it to the current op */
	spinlock_t top_lock;
	unsigned long kernel_pgsizes; /* what pt_iommu_<fmt>_init offered */
	bool tracking;
};

/* ---- the format's hooks (defined by the format file) ---------------------------- */

/* The kernel driver's configuration for this geometry. */
static int gpt_fmt_cfg(const struct ims_walker_dom *dom, struct GPT_CFG *cfg, char *err, size_t errlen);
/* Checks the kernel's table against the domain's geometry; returns the
 * root's physical address in *root. */
static int gpt_fmt_root(const struct ims_walker_dom *dom, const struct GPT_HW_INFO *info, uint64_t *root,
			char *err, size_t errlen);
/* The context words (DTE / PASID-table entry) the driver programs. */
static void gpt_fmt_ctx(const struct gpt_dom *g, const struct GPT_HW_INFO *info, uint64_t w[8]);
/* The driver's dirty-tracking switch in the context. */
static int gpt_fmt_track(struct gpt_dom *g, bool enable);
/* IMS_WALKER_PROT_* of a leaf's descriptor bits (pt_attr_from_entry). */
static unsigned gpt_fmt_prot(u64 descriptor_bits);

/* The kernel's iommu-pages.c (table memory onto the host's table pool) is
 * the runtime's: linux/compat/lx_kernel.c. The descriptor iommu-pages.h
 * overlays on a page, struct ioptdesc, must fit the runtime's struct page. */
static_assert(sizeof(struct ioptdesc) <= sizeof(struct page), "ioptdesc overlays struct page");
static_assert(offsetof(struct ioptdesc, iopt_freelist_elm) == offsetof(struct page, lru),
	      "the free-list link is where the runtime's iommu_put_pages_list looks");

/* Referenced by the kernel only on paths its optimizer removes for these
 * formats (a software bit of a format that has none); a definition keeps
 * an unoptimized build loadable. */
void __pt_no_sw_bit(void)
{
	ims_lx_warn(__FILE__, __LINE__, "software bit used by a format that has none");
}

/* ---- the driver's ops around the kernel's table code ---------------------------- */

static struct gpt_dom *gpt_of_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct gpt_dom, table.iommu.domain);
}

/* The driver's iotlb_sync: flush the gathered range (with the walk caches
 * when tables were freed, as both drivers do), then free those tables. */
static void gpt_iotlb_sync(struct iommu_domain *domain, struct iommu_iotlb_gather *gather)
{
	struct gpt_dom *g = gpt_of_domain(domain);
	if (gather->start <= gather->end) {
		bool leaf_only = iommu_pages_list_empty(&gather->freelist);
		/* [0, 2^64 - 1] has size 0: the host's "all of it". */
		uint64_t size = (uint64_t)gather->end - gather->start + 1;
		int rc = g->dom->host->flush_range(g->dom, gather->start, size, leaf_only);
		if (rc)
			ims_lx_warn(__FILE__, __LINE__, "IOTLB flush failed");
	}
	iommu_put_pages_list(&gather->freelist);
}

static const struct iommu_domain_ops gpt_domain_ops = {
	.iotlb_sync = gpt_iotlb_sync,
};

/* PT_FEAT_DYNAMIC_TOP (forced on for AMD v1): the table's top may grow on
 * a map beyond it. The walker sizes the top to the domain's whole IOVA
 * space, so it never grows; if it did, the context words would no longer
 * describe the table, and that is reported. */
static spinlock_t *gpt_get_top_lock(struct pt_iommu *iommu_table)
{
	return &container_of(iommu_table, struct gpt_dom, table.iommu)->top_lock;
}

static void gpt_change_top(struct pt_iommu *iommu_table, phys_addr_t top_paddr,
			   unsigned int top_level)
{
	(void)iommu_table;
	(void)top_paddr;
	(void)top_level;
	ims_lx_warn(__FILE__, __LINE__, "change_top: the table grew past the domain's geometry");
}

static const struct pt_iommu_driver_ops gpt_driver_ops = {
	.get_top_lock = gpt_get_top_lock,
	.change_top = gpt_change_top,
};

/* ---- reading one entry with generic_pt's decoding ------------------------------- */

struct gpt_leaf {
	pt_oaddr_t oa;      /* output address of the IOVA looked up */
	unsigned int lg2sz; /* the whole leaf's size */
	struct pt_write_attrs attrs;
};

static __always_inline int gpt_do_find(struct pt_range *range, void *arg, unsigned int level,
				       struct pt_table_p *table, pt_level_fn_t descend_fn)
{
	struct pt_state pts = pt_init(range, level, table);
	struct gpt_leaf *lf = arg;

	switch (pt_load_single_entry(&pts)) {
	case PT_ENTRY_EMPTY:
		return -ENOENT;
	case PT_ENTRY_TABLE:
		return pt_descend(&pts, arg, descend_fn);
	case PT_ENTRY_OA:
		lf->oa = pt_entry_oa_exact(&pts);
		lf->lg2sz = pt_entry_oa_lg2sz(&pts);
		pt_attr_from_entry(&pts, &lf->attrs);
		return 0;
	}
	return -ENOENT;
}
/* generic_pt's level unrolling (its per-level functions ignore a parameter). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
PT_MAKE_LEVELS(gpt_find_level, gpt_do_find);
#pragma GCC diagnostic pop

/* The leaf that translates va, or -ENOENT. */
static int gpt_find(struct gpt_dom *g, u64 va, struct gpt_leaf *lf)
{
	struct pt_range range;
	if (make_range(common_from_iommu(&g->table.iommu), &range, va, 1))
		return -ENOENT;
	return pt_walk_range(&range, gpt_find_level, lf);
}

/* Does [iova, last] cut a leaf? Leaves inside the range are whole, so only
 * the leaves holding its two ends can stick out. */
static bool gpt_cuts_leaf(struct gpt_dom *g, u64 iova, u64 last)
{
	struct gpt_leaf lf;
	if (!gpt_find(g, iova, &lf) && log2_mod(iova, lf.lg2sz))
		return true;
	if (!gpt_find(g, last, &lf) && !log2_mod_eq_max(last, lf.lg2sz))
		return true;
	return false;
}

/* The core's unmap: the kernel's unmap_range, then iommu_iotlb_sync(). */
static size_t gpt_unmap_range(struct gpt_dom *g, u64 iova, u64 size)
{
	struct iommu_iotlb_gather gather;
	iommu_iotlb_gather_init(&gather);
	size_t n = g->table.iommu.ops->unmap_range(&g->table.iommu, iova, size, &gather);
	iommu_iotlb_sync(&g->table.iommu.domain, &gather);
	return n;
}

/* ---- the walker's ops ----------------------------------------------------------- */

/* Every op runs with its domain current for the runtime. */
#define GPT_ENTER(d)                                                     \
	struct gpt_dom *g = (d)->priv;                                   \
	g->dom = g->lx.wd = (d);                                         \
	struct ims_lx_dom *gpt_prev_ = ims_lx_enter(&g->lx)
#define GPT_LEAVE() ims_lx_leave(gpt_prev_)

static void gpt_release(struct ims_walker_dom *dom)
{
	struct gpt_dom *g = dom->priv;
	ims_lx_dom_fini(&g->lx);
	free(g);
	dom->priv = NULL;
}

static int gpt_domain_init(struct ims_walker_dom *dom, char *err, size_t errlen)
{
	if (dom->fmt != GPT_IMS_FMT) {
		snprintf(err, errlen, "%s handles one format", GPT_NAME);
		return -EINVAL;
	}
	struct gpt_dom *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (ims_lx_dom_init(&g->lx, dom)) {
		free(g);
		return -ENOMEM;
	}
	dom->priv = g;
	struct ims_lx_dom *prev = ims_lx_enter(&g->lx);
	g->dom = dom;

	struct GPT_CFG cfg = {0};
	struct GPT_HW_INFO info;
	struct iommu_domain *domain = &g->table.iommu.domain;
	uint64_t root = 0;
	int rc = gpt_fmt_cfg(dom, &cfg, err, errlen);
	if (rc)
		goto fail;
	g->table.iommu.driver_ops = &gpt_driver_ops;
	g->table.iommu.nid = NUMA_NO_NODE;
	rc = GPT_INIT(&g->table, &cfg, GFP_KERNEL);
	if (rc) {
		snprintf(err, errlen, "%s: the kernel's init refused the geometry (%d)", GPT_NAME, rc);
		goto fail;
	}
	domain->ops = &gpt_domain_ops;
	/* As the drivers narrow the sizes to what the hardware and the
	 * command line allow: here, to the domain's sizes. */
	g->kernel_pgsizes = domain->pgsize_bitmap;
	domain->pgsize_bitmap &= dom->pgsizes;
	if (!domain->pgsize_bitmap) {
		snprintf(err, errlen, "%s: no leaf size in common with the domain (kernel 0x%lx)",
			 GPT_NAME, g->kernel_pgsizes);
		rc = -EINVAL;
		goto fail_deinit;
	}
	GPT_HW_INFO_OF(&g->table, &info);
	rc = gpt_fmt_root(dom, &info, &root, err, errlen);
	if (rc)
		goto fail_deinit;
	dom->root = root;
	ims_lx_leave(prev);
	return 0;
fail_deinit:
	pt_iommu_deinit(&g->table.iommu);
fail:
	ims_lx_leave(prev);
	gpt_release(dom);
	return rc;
}

static void gpt_domain_free(struct ims_walker_dom *dom)
{
	if (!dom->priv)
		return;
	GPT_ENTER(dom);
	pt_iommu_deinit(&g->table.iommu);
	GPT_LEAVE();
	gpt_release(dom);
}

static void gpt_ctx_words(struct ims_walker_dom *dom, uint64_t words[8])
{
	GPT_ENTER(dom);
	struct GPT_HW_INFO info;
	GPT_HW_INFO_OF(&g->table, &info);
	gpt_fmt_ctx(g, &info, words);
	GPT_LEAVE();
}

static int gpt_map(struct ims_walker_dom *dom, uint64_t iova, uint64_t pa, uint64_t size,
		   unsigned prot, uint64_t pgsize)
{
	unsigned int kprot = ((prot & IMS_WALKER_PROT_R) ? IOMMU_READ : 0) |
			     ((prot & IMS_WALKER_PROT_W) ? IOMMU_WRITE : 0);
	GPT_ENTER(dom);
	struct iommu_domain *domain = &g->table.iommu.domain;
	unsigned long sizes = domain->pgsize_bitmap;
	/* One leaf size asked for: the kernel picks among the sizes the
	 * domain's bitmap allows, so the bitmap says just that one. */
	if (pgsize)
		domain->pgsize_bitmap = pgsize;
	size_t mapped = 0;
	int rc = g->table.iommu.ops->map_range(&g->table.iommu, iova, pa, size, kprot, GFP_KERNEL,
					       &mapped);
	domain->pgsize_bitmap = sizes;
	/* The core unmaps what a failed map did map. */
	if (rc && mapped)
		gpt_unmap_range(g, iova, mapped);
	GPT_LEAVE();
	return rc == -EADDRINUSE ? -EEXIST : rc == -ENXIO ? -EINVAL : rc;
}

static int gpt_unmap(struct ims_walker_dom *dom, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	GPT_ENTER(dom);
	int rc = 0;
	*unmapped = 0;
	if (gpt_cuts_leaf(g, iova, iova + (size - 1)))
		rc = -EINVAL;
	else
		*unmapped = gpt_unmap_range(g, iova, size);
	GPT_LEAVE();
	return rc;
}

static int gpt_iova_to_phys(struct ims_walker_dom *dom, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	GPT_ENTER(dom);
	struct gpt_leaf lf;
	int rc = gpt_find(g, iova, &lf);
	if (!rc) {
		/* The kernel's answer; 0 is also its "not mapped", so presence
		 * and permissions come from the entry itself. */
		phys_addr_t k = GPT_IOVA_TO_PHYS(&g->table.iommu.domain, iova);
		if (k != lf.oa)
			ims_lx_warn(__FILE__, __LINE__, "iova_to_phys disagrees with the leaf entry");
		*pa = k;
		*prot = gpt_fmt_prot(lf.attrs.descriptor_bits);
	} else {
		rc = -ENOENT;
	}
	GPT_LEAVE();
	return rc;
}

static int gpt_set_dirty_tracking(struct ims_walker_dom *dom, bool enable)
{
	if (!dom->dirty_tracking)
		return -EINVAL;
	GPT_ENTER(dom);
	int rc = gpt_fmt_track(g, enable);
	if (!rc)
		g->tracking = enable;
	GPT_LEAVE();
	return rc;
}

/* One call of the kernel's read_and_clear_dirty over [iova, iova + size). */
static int gpt_rcd(struct gpt_dom *g, u64 iova, u64 size, unsigned long kflags,
		   struct iommu_dirty_bitmap *d)
{
	return GPT_READ_AND_CLEAR_DIRTY(&g->table.iommu.domain, iova, size, kflags, d);
}

static int gpt_read_and_clear_dirty(struct ims_walker_dom *dom, uint64_t iova, uint64_t size,
				    unsigned flags, struct ims_walker_dirty *dirty)
{
	GPT_ENTER(dom);
	/* The runtime's iova_bitmap is the host's output (iova_bitmap.h). */
	struct iova_bitmap *bm = (struct iova_bitmap *)dirty;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap d;
	unsigned long kflags = (flags & IMS_WALKER_NO_CLEAR) ? IOMMU_DIRTY_NO_CLEAR : 0;
	int rc;
	iommu_dirty_bitmap_init(&d, bm, &gather);
	if (size) {
		rc = gpt_rcd(g, iova, size, kflags, &d);
	} else if (iova) {
		rc = gpt_rcd(g, iova, 0 - iova, kflags, &d); /* to 2^64 */
	} else {
		/* 2^64 bytes fit no size_t: two halves, as iommufd's bitmap
		 * iterator would hand the driver several chunks. */
		rc = gpt_rcd(g, 0, 1ull << 63, kflags, &d);
		if (!rc)
			rc = gpt_rcd(g, 1ull << 63, 1ull << 63, kflags, &d);
	}
	/* iommufd syncs the gather after the walk: the host does, over the
	 * range handed to it here. */
	if (gather.start <= gather.end)
		dom->host->gather_add(dirty, gather.start, (uint64_t)gather.end - gather.start + 1);
	GPT_LEAVE();
	return rc;
}

static const struct ims_walker_ops gpt_ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = GPT_NAME,
	.description = "Linux " IMS_LINUX_VERSION " generic_pt " GPT_FMT_TEXT
		       " (drivers/iommu/generic_pt): tables, map/unmap and read_and_clear_dirty",
	.level = IMS_WALKER_FULL,
	.formats = 1u << GPT_IMS_FMT,
	.read_and_clear_dirty = gpt_read_and_clear_dirty,
	.domain_init = gpt_domain_init,
	.domain_free = gpt_domain_free,
	.ctx_words = gpt_ctx_words,
	.map = gpt_map,
	.unmap = gpt_unmap,
	.iova_to_phys = gpt_iova_to_phys,
	.set_dirty_tracking = gpt_set_dirty_tracking,
	/* What pt_common.h and iommu_pt.h document (docs/linux.md, "Contracts"):
	 * the clean is a plain read-then-write whose racing dirty update may be
	 * lost until the flush, and an unmap frees only tables it covers whole. */
	.contract = IMS_WALKER_CONTRACT_CLEAN_RACE_LOST | IMS_WALKER_CONTRACT_TABLES_KEPT,
};

__attribute__((visibility("default"))) const struct ims_walker_ops *
ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &gpt_ops : NULL;
}

#endif
