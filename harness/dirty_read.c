/* A read of dirty state (a harvest, an unmap with read-dirty, an iommufd
 * GET_DIRTY_BITMAP, a migration sync) against the oracle. */
#include <inttypes.h>
#include <stdio.h>

#include "harness/replay_int.h"

/* The walker reports a dirty leaf clipped to the range but cleans every
 * entry of it (dirty-semantics.md), so a clearing read whose range cuts
 * into a leaf erases the dirty state of the leaf's pages outside the range.
 * The hardware's own view of the leaf at each end (a probe: no side effect)
 * says where it reaches; what the oracle expected there is lost. */
static void lose_cut_leaves(struct ims_tb *r, uint16_t tag, uint64_t first, uint64_t last)
{
	struct ims_oracle *o = ims_iommu_oracle(r->mmu);
	const uint64_t ends[2] = {first, last};
	for (int i = 0; i < 2; i++) {
		struct ims_xlate x;
		if (ims_iommu_probe(r->mmu, tag, ends[i], IMS_ACC_R, &x) != 0 || x.leaf_shift >= 64)
			continue;
		uint64_t lf = x.leaf_iova, ll = x.leaf_iova + ((1ull << x.leaf_shift) - 1);
		uint64_t part_f = i == 0 ? lf : last + 1, part_l = i == 0 ? first - 1 : ll;
		if ((i == 0 && lf >= first) || (i == 1 && ll <= last))
			continue;
		uint64_t n = ims_oracle_count(o, tag, part_f, part_l - part_f + 1);
		if (!n)
			continue;
		ims_oracle_clear(o, tag, part_f, part_l - part_f + 1);
		/* Cleaned whole: owed by no contract either. */
		ims_oracle_clear(r->mapped_dirty, tag, part_f, part_l - part_f + 1);
		r->st.lost_partial += n;
		if (r->o.verbosity >= 2 && r->ev)
			fprintf(stdout, "%s:%" PRIu64 ": %" PRIu64 " dirty pages lost to a partial-leaf "
				"clear (domain %u): the read cut into the leaf at 0x%" PRIx64
				" and cleaned all of it\n",
				rp_file(r, r->ev), rp_line(r, r->ev), n, tag, lf);
	}
}

/* A read of dirty state into `got` (a harvest, or the read of an unmap with
 * read-dirty) checked against `want`, the oracle's expectation taken before
 * the op; then the oracle learns what the read cleared. */
void rp_settle_dirty_read(struct ims_tb *r, const struct ims_event *ev, const char *what,
			  uint16_t tag, struct ims_bitmap *want, const struct ims_bitmap *got,
			  bool clear, struct ims_tb_verdict *v)
{
	struct ims_oracle *o = ims_iommu_oracle(r->mmu);
	uint64_t wf = 0, wl = 0;
	bool has_w = rp_inject_dirtied(r, tag, &wf, &wl);
	rp_forgive(r, tag, want, got, has_w, wf, wl);

	uint64_t iova = got->iova, size = got->length;
	r->st.harvests++;
	uint64_t ngot = ims_bitmap_count(got), nwant = ims_bitmap_count(want);
	r->st.bits_reported += ngot;
	r->st.bits_expected += nwant;
	struct ims_bitmap_diff df;
	bool same = ims_bitmap_compare(want, got, &df);
	if (v)
		*v = (struct ims_tb_verdict){
			.match = same,
			.expected_bits = nwant,
			.got_bits = ngot,
			.under = same ? 0 : df.under,
			.over = same ? 0 : df.over,
			.first_under_iova = !same && df.under ? iova + (df.first_under << got->pgshift) : 0,
			.first_over_iova = !same && df.over ? iova + (df.first_over << got->pgshift) : 0,
		};
	if (!same) {
		r->st.harvest_mismatches++;
		r->st.bits_under += df.under;
		r->st.bits_over += df.over;
		rp_dirty_read_fail(r, ev, tag, want, got, &df,
				   "%s differs from the oracle: expected %" PRIu64 " bits, got %" PRIu64
				   " (under-reported %" PRIu64 ", over-reported %" PRIu64 ")",
				   what, nwant, ngot, df.under, df.over);
	} else if (r->o.verbosity >= 2) {
		fprintf(stdout, "%s:%" PRIu64 ": harvest ok, %" PRIu64 " bits\n", rp_file(r, ev),
			rp_line(r, ev), ngot);
	}
	if (!clear)
		return;
	uint64_t last = iova + (size - 1);
	ims_oracle_clear(o, tag, iova, size);
	lose_cut_leaves(r, tag, iova, iova + (size - 1));
	rp_maybe_settle(r, tag, iova, last);
	if (has_w && wl >= iova && wf <= last) {
		/* The injected write raced the walk: if the walker reported its
		 * page, hardware may have dirtied it again after the clean (the
		 * next round may report it); if not, it must come next round.
		 * Either way the whole leaf: a leaf the range cuts is cleaned
		 * whole, and dirtied again whole, outside the range too. */
		uint64_t f = wf > iova ? wf : iova, l = wl < last ? wl : last;
		uint64_t b0 = (f - iova) >> got->pgshift, b1 = (l - iova) >> got->pgshift;
		if (ims_bitmap_all(got, b0, b1))
			rp_maybe_add(r, tag, wf, wl);
		else
			ims_oracle_write(o, tag, wf, r->inj.x.leaf_shift);
	}
}
