/* iommufd and VFIO type1 calls (docs/uapi.md): what both front ends'
 * calls share. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/replay_int.h"

static const char *err_name(int rc, char *buf, size_t n)
{
	if (!rc)
		return "success";
	const char *e = ims_errno_name(-rc);
	if (e)
		return e;
	snprintf(buf, n, "errno %d", -rc);
	return buf;
}

/* A call's return against expect-err=: another error, an error where none
 * was expected, or success where one was, is a validation failure (not an
 * input error), so conformance traces can pin error codes. Returns true
 * when the call succeeded. */
bool rp_call_done(struct ims_tb *r, const struct ims_event *ev, int rc, const char *why)
{
	r->st.uapi_calls++;
	if (rc)
		r->st.uapi_errors++;
	bool has = ims_ev_has(ev, IMS_K_EXPECT_ERR);
	int want = has ? -(int)ev->v[IMS_K_EXPECT_ERR] : 0;
	if (has)
		r->st.assertions++;
	if (rc != want) {
		if (has)
			r->st.assertion_failures++;
		char a[24], b[24];
		bool detail = rc && why && why[0];
		rp_validation_failure(r, ev, "%s returned %s, expected %s%s%s", ims_op_name(ev->op),
				      err_name(rc, a, sizeof(a)), err_name(want, b, sizeof(b)),
				      detail ? ": " : "", detail ? why : "");
	} else if (rc && r->o.verbosity >= 2) {
		char a[24];
		fprintf(stdout, "%s:%" PRIu64 ": %s returned %s, as expected\n", r->file, ev->line,
			ims_op_name(ev->op), err_name(rc, a, sizeof(a)));
	}
	return rc == 0;
}

/* The bits of got that pages mapped dirty by the walker's contract
 * (r->mapped_dirty) explain, into m (got's geometry); false when none. */
static bool contract_bits(struct ims_tb *r, int tag, const struct ims_bitmap *got,
			  struct ims_bitmap *m)
{
	if (tag < 0 || tag > 0xffff ||
	    !ims_oracle_count(r->mapped_dirty, (uint16_t)tag, got->iova, got->length) ||
	    ims_bitmap_init(m, got->iova, got->length, got->pgshift))
		return false;
	ims_oracle_expected(r->mapped_dirty, (uint16_t)tag, m->iova, m->length, m->pgshift, m->words);
	return true;
}

/* expect= and expect-count= of a bitmap the call returned (tag: the
 * domain it read, -1 if none). A pinned result states what a walker with
 * the built-in software's policies returns; for a walker that maps
 * writable leaves dirty (IMS_WALKER_CONTRACT_MAPS_DIRTY) the pages it
 * mapped so since the last clearing read may be reported too: expect=
 * holds on every other bit, and expect-count= lies between the bits
 * reported outside those pages and all bits reported. The oracle checks
 * every bit either way (rp_settle_dirty_read). cleared: the read cleared
 * its range, so those pages are reported and clean again. */
int rp_check_bitmap_expect(struct ims_tb *r, const struct ims_event *ev, int tag, bool cleared,
			   const struct ims_bitmap *got)
{
	int rc = 0;
	struct ims_bitmap m = {0};
	bool have_m = false, tried = false;
	if (ims_ev_has(ev, IMS_K_EXPECT)) {
		r->st.assertions++;
		int eq = ims_bitmap_equals_hex(got, ev->expect_hex, ev->expect_hex_len);
		if (eq < 0) {
			rc = rp_input_error(r, ev, IMS_K_EXPECT, "expect= is not a hex bitmap");
			goto out;
		}
		if (!eq) {
			have_m = contract_bits(r, tag, got, &m);
			tried = true;
			if (have_m)
				eq = ims_bitmap_equals_hex_except(got, ev->expect_hex, ev->expect_hex_len, &m) == 1;
		}
		if (!eq) {
			r->st.assertion_failures++;
			char *hex = ims_bitmap_to_hex(got);
			rp_validation_failure(r, ev, "%s bitmap: expected 0x%.*s, got 0x%s",
					      ims_op_name(ev->op),
					      (int)(ev->expect_hex_len > 200 ? 200 : ev->expect_hex_len),
					      ev->expect_hex, hex ? hex : "?");
			free(hex);
		}
	}
	if (ims_ev_has(ev, IMS_K_EXPECT_COUNT)) {
		r->st.assertions++;
		uint64_t n = ims_bitmap_count(got), want = ev->v[IMS_K_EXPECT_COUNT];
		bool ok = n == want;
		if (!ok && !tried)
			have_m = contract_bits(r, tag, got, &m);
		if (!ok && have_m) {
			/* Bits of got outside the contract's pages. */
			uint64_t outside = 0;
			for (uint64_t i = 0; i < got->nwords; i++)
				outside += (uint64_t)__builtin_popcountll(got->words[i] & ~m.words[i]);
			ok = outside <= want && want <= n;
		}
		if (!ok) {
			r->st.assertion_failures++;
			rp_validation_failure(r, ev, "%s: expected %" PRIu64 " bits set, got %" PRIu64,
					      ims_op_name(ev->op), want, n);
		}
	}
out:
	if (have_m)
		ims_bitmap_fini(&m);
	if (cleared && tag >= 0 && tag <= 0xffff)
		ims_oracle_clear(r->mapped_dirty, (uint16_t)tag, got->iova, got->length);
	return rc;
}

int rp_ubuf_get(struct ims_tb *r, const struct ims_event *ev, uint64_t need, struct ubuf *b)
{
	b->need = need;
	b->size = ims_ev_has(ev, IMS_K_BITMAP_SIZE) ? ev->v[IMS_K_BITMAP_SIZE] : need;
	uint64_t alloc = b->size < need ? b->size : need;
	/* The same budget as a harvest's bitmap: the buffer, and the bitmaps
	 * of the range that the check needs beside it, are each at most it. */
	if (alloc > r->o.budgets.bitmap_bytes) {
		char want[32], lim[32];
		return rp_over_budget(r, ev, ims_ev_has(ev, IMS_K_BITMAP_SIZE) ? IMS_K_BITMAP_SIZE : IMS_K_LENGTH,
				      "a bitmap of %s is more than one dirty read may hold (%s; %s raises "
				      "it): give a smaller range or bitmap-size=",
				      rp_bytes_text(alloc, want, sizeof(want)),
				      rp_bytes_text(r->o.budgets.bitmap_bytes, lim, sizeof(lim)),
				      rp_raise(ev != NULL, RP_BUDGET_BITMAP));
	}
	b->data = calloc(1, alloc ? alloc : 1);
	return b->data ? 0 : -ENOMEM;
}

/* The bits a call wrote into the user's buffer, as a bitmap of the range. */
void rp_ubuf_decode(const struct ubuf *b, struct ims_bitmap *got)
{
	ims_bitmap_zero(got);
	uint64_t nbytes = (got->nbits + 7) / 8;
	for (uint64_t i = 0; i < nbytes && i < b->need; i++)
		for (unsigned v = b->data[i], k = 0; v; v >>= 1, k++)
			if (v & 1)
				ims_bitmap_set_bits(got, i * 8 + k, 1);
}

/* The range's geometry is one a call can accept: a power-of-two page,
 * non-empty, no wrap past 2^64, aligned at both ends. */
bool rp_geometry_ok(uint64_t iova, uint64_t length, uint64_t page)
{
	if (!ims_is_pow2(page) || !length || iova + (length - 1) < iova)
		return false;
	return !((iova | (iova + length)) & (page - 1));
}

/* [iova, iova + length) clipped at 2^64, as (iova, size); size 0 for an
 * empty range, 2^64 - 1 for the whole space. */
uint64_t rp_clip_size(uint64_t iova, uint64_t length)
{
	if (!length)
		return 0;
	if (iova + (length - 1) < iova)
		return iova ? 0 - iova : ~0ull;
	return length;
}
