/* Live-migration accounting (docs/migrate.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/vfio.h"

#include "harness/replay_int.h"

const char *ims_mig_mode_name(enum ims_mig_mode m)
{
	static const char *const n[IMS_MIG_COUNT] = {"hw", "type1", "none", "nested"};
	return (unsigned)m < IMS_MIG_COUNT ? n[m] : "?";
}

int ims_replay_mig_start(struct ims_replay *rp, enum ims_mig_mode mode)
{
	struct ims_tb *r = &rp->t;
	struct ims_oracle *a = ims_oracle_new(), *b = ims_oracle_new();
	if (!a || !b) {
		ims_oracle_free(a);
		ims_oracle_free(b);
		return -ENOMEM;
	}
	ims_oracle_free(r->mig);
	ims_oracle_free(r->mig_unmapped);
	r->mig = a;
	r->mig_unmapped = b;
	r->mig_on = true;
	for (unsigned t = 0; t < 65536; t++) {
		struct dom *d = r->doms[t];
		if (!d || d->raw || (mode == IMS_MIG_NESTED && d->nested))
			continue;
		if ((mode == IMS_MIG_HW || mode == IMS_MIG_NESTED) && d->dirty_alloc) {
			/* iommufd: the session starts with every dirty bit cleared. */
			int rc = ims_pt_set_dirty_tracking(d->pt, true);
			if (rc)
				return rc;
			rp_tracking_enabled(r, (uint16_t)t);
		}
		if (mode == IMS_MIG_TYPE1 && d->kind == DOM_VFIO && !d->vtrack) {
			struct ims_vfio_dirty_pages c = {.flags = IMS_VFIO_DIRTY_PAGES_FLAG_START};
			int rc = ims_vfio_dirty_pages(d->vfio, &c);
			if (rc)
				return rc;
			rp_vfio_started(r, d, (uint16_t)t);
		}
	}
	return 0;
}

static int leaf_gpa_add(void *arg, uint64_t page_iova, unsigned shift, uint64_t pa, unsigned prot)
{
	(void)prot;
	struct to_gpa *t = arg;
	uint64_t size = shift >= 64 ? ~0ull : 1ull << shift;
	(void)page_iova;
	ims_oracle_add(t->dst, t->key, pa, size);
	return 0;
}

/* Every GPA page the domain maps, into dst[key]. */
static void mapped_gpa(struct dom *d, struct ims_oracle *dst, uint16_t key)
{
	struct to_gpa t = {.dst = dst, .key = key};
	ims_pt_for_each_leaf(d->pt, 0, 0, leaf_gpa_add, &t);
}

/* A VMM harvest of every page the domain maps, checked against the oracle
 * like a trace harvest; what it reports goes to dst[0] as GPA. */
static int mig_harvest(struct ims_tb *r, struct dom *d, uint16_t tag, struct ims_oracle *dst)
{
	struct snap s = {0};
	int rc = ims_pt_for_each_leaf(d->pt, 0, 0, rp_snap_leaf, &s);
	struct ims_event ev = {.op = IMS_OP_HARVEST};
	memset(&r->inj, 0, sizeof(r->inj));
	/* A read's bitmap stays within the bitmap budget: a run longer than
	 * that is read in parts, split between leaves (no partial-leaf clear). */
	uint64_t bits = r->o.budgets.bitmap_bytes >= (1ull << 49) ? 1ull << 52
							       : r->o.budgets.bitmap_bytes * 8;
	for (size_t i = 0; !rc && i < s.n;) {
		/* One read per run of adjacent leaves. */
		size_t j = i;
		uint64_t first = s.l[i].iova, last = first + ((1ull << s.l[i].shift) - 1);
		while (j + 1 < s.n && last != ~0ull && s.l[j + 1].iova == last + 1 &&
		       ((s.l[j + 1].iova + ((1ull << s.l[j + 1].shift) - 1) - first) >> IMS_PAGE_SHIFT) < bits) {
			j++;
			last = s.l[j].iova + ((1ull << s.l[j].shift) - 1);
		}
		struct ims_bitmap want, got;
		uint64_t len = last - first + 1;
		if ((rc = rp_check_bitmap(r, NULL, -1, len >> IMS_PAGE_SHIFT)))
			break;
		if (ims_bitmap_init(&want, first, len, IMS_PAGE_SHIFT)) {
			rc = -ENOMEM;
			break;
		}
		if (ims_bitmap_init(&got, first, len, IMS_PAGE_SHIFT)) {
			ims_bitmap_fini(&want);
			rc = -ENOMEM;
			break;
		}
		ims_oracle_expected(ims_iommu_oracle(r->mmu), tag, want.iova, want.length, want.pgshift,
				    want.words);
		rc = ims_pt_read_and_clear_dirty(d->pt, first, len, 0, &got);
		if (!rc) {
			rp_settle_dirty_read(r, &ev, ims_op_name(ev.op), tag, &want, &got, true, NULL);
			/* A clearing read: what a contract owed is reported now. */
			ims_oracle_clear(r->mapped_dirty, tag, first, len);
			rp_gpa_harvested(r, &ev, tag, first, len);
			rp_bits_to_gpa(&got, &s, dst, 0);
		}
		ims_bitmap_fini(&want);
		ims_bitmap_fini(&got);
		i = j + 1;
	}
	free(s.l);
	return rc;
}

/* A type1 query of everything a pinned-scope container maps. */
static int mig_vfio_query(struct ims_tb *r, struct dom *d, uint16_t tag, struct ims_oracle *dst)
{
	struct snap s = {0};
	int rc = ims_pt_for_each_leaf(d->pt, 0, 0, rp_snap_leaf, &s);
	if (rc || !s.n) {
		free(s.l);
		return rc;
	}
	const struct leaf *z = &s.l[s.n - 1];
	uint64_t first = s.l[0].iova, last = z->iova + ((1ull << z->shift) - 1);
	struct ims_event ev = {.op = IMS_OP_VFIO_DIRTY};
	ev.keys = 1ull << IMS_K_CONTAINER;
	ev.v[IMS_K_CONTAINER] = tag;
	struct vbm v;
	rc = rp_vbm_get(r, &ev, d, first, last - first + 1, &v);
	if (!rc && v.have) {
		struct ims_vfio_dirty_pages c = {.flags = IMS_VFIO_DIRTY_PAGES_FLAG_GET_BITMAP,
						 .iova = first, .size = last - first + 1,
						 .bitmap = {v.ps, v.b.size, v.b.data}};
		rc = ims_vfio_dirty_pages(d->vfio, &c);
		if (!rc) {
			rp_ubuf_decode(&v.b, &v.got);
			rp_vfio_compare(r, &ev, &v.want, &v.got);
			rp_bits_to_gpa(&v.got, &s, dst, 0);
			rp_pins_queried(r, tag, first, last - first + 1);
		}
	}
	rp_vbm_put(&v);
	free(s.l);
	return rc;
}

struct count_out {
	const struct ims_oracle *set;
	uint64_t out;
};

static int count_outside(void *arg, uint64_t first, uint64_t npages)
{
	struct count_out *c = arg;
	c->out += npages - ims_oracle_count(c->set, 0, first, npages << IMS_PAGE_SHIFT);
	return 0;
}

int ims_replay_mig_sync(struct ims_replay *rp, enum ims_mig_mode mode, struct ims_oracle *gpa,
			struct ims_mig_sync *out)
{
	struct ims_tb *r = &rp->t;
	memset(out, 0, sizeof(*out));
	if (!r->mig_on)
		return -EINVAL;
	uint64_t before = ims_oracle_count(gpa, 0, 0, 0);
	struct ims_oracle *mapped = ims_oracle_new();
	if (!mapped)
		return -ENOMEM;
	int rc = 0;
	struct to_gpa t = {.dst = gpa, .key = 0};
	for (unsigned tag = 0; tag < 65536 && !rc; tag++) {
		struct dom *d = r->doms[tag];
		if (!d || d->raw || !d->pt)
			continue;
		/* Nested: a stage-1 domain's output is guest-physical, which its
		 * parent's stage 2 maps and tracks. */
		if (mode == IMS_MIG_NESTED && d->nested)
			continue;
		mapped_gpa(d, mapped, 0);
		if ((mode == IMS_MIG_HW || mode == IMS_MIG_NESTED) && ims_pt_tracking(d->pt)) {
			rc = mig_harvest(r, d, (uint16_t)tag, gpa);
		} else if (mode == IMS_MIG_TYPE1 && d->kind == DOM_VFIO && !d->non_pinned && d->vtrack) {
			rc = mig_vfio_query(r, d, (uint16_t)tag, gpa);
		} else {
			/* Nothing tells what devices wrote: all of it, and what was
			 * mapped for a while since the last sync (not in type1, whose
			 * query sees only what is mapped now). */
			mapped_gpa(d, gpa, 0);
			if (mode != IMS_MIG_TYPE1)
				ims_oracle_for_each(r->mig_unmapped, (uint16_t)tag, 0, 0, rp_copy_run, &t);
		}
	}
	if (!rc && mode != IMS_MIG_NONE)
		ims_oracle_for_each(r->mig, MIG_REPORTED, 0, 0, rp_copy_run, &t);
	out->dirty = ims_oracle_count(gpa, 0, 0, 0) - before;
	out->written = ims_oracle_count(r->mig, MIG_WRITTEN, 0, 0);
	struct count_out c = {gpa, 0};
	ims_oracle_for_each(r->mig, MIG_WRITTEN, 0, 0, count_outside, &c);
	out->missed = c.out;
	out->mapped = ims_oracle_count(mapped, 0, 0, 0);
	ims_oracle_free(mapped);
	ims_oracle_reset(r->mig, MIG_REPORTED);
	ims_oracle_reset(r->mig, MIG_WRITTEN);
	struct ims_oracle *fresh = ims_oracle_new();
	if (fresh) {
		ims_oracle_free(r->mig_unmapped);
		r->mig_unmapped = fresh;
	}
	return rc;
}
