/* iommusim fuzz: stage 2 refusing nested accesses (docs/fuzzing.md,
 * "Nested domains"). A nested DMA meets a stage-2 fault in two ways:
 *
 * - its stage-1 output is a GPA the parent maps read-only (a write faults)
 *   or not at all: the nested domain's maps take their output from the
 *   parent's refused window now and then (fuzz_gen.c; the window is set up
 *   in fuzz_dom.c);
 * - a stage-1 table frame is one the parent (the VMM) maps read-only or
 *   not at all: the stage-1 walk faults at stage 2 on the table read
 *   (unmapped) or on the hardware's A/D write into it (read-only).
 *
 * For the second, the generator reads the live replay (fz_gen_live): the
 * frames of the nested domain's stage-1 table on the path to a mapped
 * point, where the replayer's pool put them. It remaps one of them in the
 * parent, and later restores it if it is still a table frame. The replayer
 * maps each table frame identity (4 KiB, read-write) in the parent as the
 * nested domain's software allocates it and unmaps it as the software
 * frees it, whatever the parent holds there (harness/nested.c): so a frame
 * freed while refused is gone from the parent, and one allocated again is
 * read-write; the restore looks at the parent's leaf to know which.
 */
#include "formats/format.h"
#include "iommusim/model.h"
#include "tools/fuzz_gen.h"

void fz_gen_live(struct fz_gen *g, struct ims_iommu *mmu, struct ims_mem *mem)
{
	g->live_mmu = mmu;
	g->live_mem = mem;
}

/* The path to iova in the live replay's stage-1 table of nested domain d
 * (its table addresses are GPAs, and the frames are mapped identity). */
static bool live_path(const struct fz_gen *g, const struct gdom *d, uint64_t iova,
		      struct fz_path *p)
{
	uint64_t w[IMS_CTX_WORDS];
	if (!g->live_mmu || ims_iommu_ctx_get(g->live_mmu, d->id, w))
		return false;
	return fz_walk_path(g->live_mem, d->geo->fmt, w, iova, p);
}

/* unmap / map of one 4 KiB frame, identity, in the parent. */
static void frame_event(struct ims_event *ev, const struct gdom *p, enum ims_op op, uint64_t f,
			unsigned prot)
{
	ev_init(ev, op);
	ev_set(ev, IMS_K_DOMAIN, p->id);
	ev_set(ev, IMS_K_IOVA, f);
	ev_set(ev, IMS_K_SIZE, IMS_PAGE_SIZE);
	if (op == IMS_OP_MAP) {
		ev_set(ev, IMS_K_PA, f);
		ev_set(ev, IMS_K_PGSIZE, IMS_PAGE_SIZE);
		if (prot != IMS_PROT_RW)
			ev_set(ev, IMS_K_PROT, prot);
	}
}

bool fz_gen_refuse_frame(struct fz_gen *g, struct gdom *d, struct ims_event *ev)
{
	struct gdom *p = &g->doms[0];
	uint64_t pt, leaf, lsize;
	if (!d->nested_on || g->rf.on || !fz_pick_point(g, d, &pt, &leaf, &lsize))
		return false;
	/* Drawn before the live view is read, so that a run without one
	 * (ops_corpus) draws what a run with one does. */
	bool absent = fz_pct(&g->rng, 40);
	bool leaf_table = fz_pct(&g->rng, 60);
	uint64_t pick = fz_next(&g->rng);
	bool read_dirty = p->tracking && fz_pct(&g->rng, 50);
	bool flush = fz_pct(&g->rng, 60);
	struct fz_path path;
	if (!live_path(g, d, pt, &path))
		return false;
	/* The table holding the leaf most of the time (its A/D writes are the
	 * ones every format makes), else any table of the path. */
	unsigned k = leaf_table ? path.n - 1 : (unsigned)(pick % path.n);
	uint64_t f = align_down(path.slot[k], IMS_PAGE_SIZE);
	frame_event(ev, p, IMS_OP_UNMAP, f, 0);
	if (read_dirty)
		ev_set(ev, IMS_K_READ_DIRTY, 0);
	struct ims_event e;
	if (!absent) {
		frame_event(&e, p, IMS_OP_MAP, f, IMS_PROT_R);
		fz_enqueue(g, &e, false);
	}
	/* The devices' next walks meet it rather than what the IOTLB holds. */
	if (flush) {
		ev_init(&e, IMS_OP_FLUSH);
		ev_set(&e, IMS_K_DOMAIN, d->id);
		fz_enqueue(g, &e, false);
	}
	g->rf.on = true;
	g->rf.frame = f;
	g->rf.point = pt;
	/* Traffic comes back to the point whose walk meets the frame. */
	d->hot = pt;
	d->has_hot = true;
	if (g->cfg.cover) {
		if (absent)
			g->cfg.cover->s2_frames_absent++;
		else
			g->cfg.cover->s2_frames_ro++;
	}
	return true;
}

bool fz_gen_restore_frame(struct fz_gen *g, struct ims_event *ev)
{
	if (!g->rf.on)
		return false;
	g->rf.on = false;
	struct gdom *p = &g->doms[0], *d = &g->doms[1];
	uint64_t f = g->rf.frame;
	struct ims_leaf lf;
	int rc = ims_iommu_leaf(g->live_mmu, p->id, f, &lf);
	if (rc < 0)
		return false;
	if (rc == 0) {
		/* Read-write: the frame was freed and allocated again. */
		if (lf.writable)
			return false;
		/* Read-only: only the refusal maps a frame so, and a free takes
		 * it away, so the frame is still a table. */
		frame_event(ev, p, IMS_OP_UNMAP, f, 0);
		struct ims_event e;
		frame_event(&e, p, IMS_OP_MAP, f, IMS_PROT_RW);
		fz_enqueue(g, &e, false);
		return true;
	}
	/* Unmapped: still a table (a table stays where its IOVA prefix is, so
	 * on the path to the same point) or freed, then nothing to give back. */
	struct fz_path path;
	if (!live_path(g, d, g->rf.point, &path))
		return false;
	for (unsigned k = 0; k < path.n; k++)
		if (align_down(path.slot[k], IMS_PAGE_SIZE) == f) {
			frame_event(ev, p, IMS_OP_MAP, f, IMS_PROT_RW);
			return true;
		}
	return false;
}
