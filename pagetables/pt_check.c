/* Distrust of the tables: every entry the built-in software (pt.c, the fast
 * and reference walkers) reads is decoded here before any of its values is
 * used, so a corrupt table (a `mem` line, a device gone wrong, a walker's
 * stray write) is a finding and a skipped entry, never a shift past 63, a
 * run of 2^31 entries, a walk into memory that is no table, or a walk that
 * visits the same table again and again.
 *
 * The format's software ops say what is malformed by their own rules
 * (kind() = PT_BAD); the checks here are the geometry's, the same for every
 * format: a leaf's size must be a leaf size of its level (so its run of
 * replicas or contiguous entries fits the table and its 4 KiB frame), and a
 * table entry must lead to a live table of the pool, aligned to its size.
 * They are written apart from the hardware's rules (model/ never shares a
 * helper with pagetables/): where the two disagree, a replay shows it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "model/mem_view.h"
#include "pagetables/pt_int.h"
#include "pagetables/walker.h"

#define FRAME_ENTRIES (IMS_PAGE_SIZE / 8)

static void corrupt(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte, const char *why)
{
	pt_finding(pt, "walker %s: corrupt page table: entry 0x%016" PRIx64 " at pa 0x%" PRIx64
		   " (level %d): %s; skipped",
		   pt->walker->name, pte, slot, level, why);
}

bool pt_leaf_fits(const struct ims_pt *pt, int level, unsigned s)
{
	const struct pt_geom *g = &pt->g;
	unsigned es = pt_level_shift(g, level);
	unsigned bits = pt_level_bits(g, level);
	if (s >= 64 || s < es || !((g->pgsizes >> s) & 1))
		return false;
	/* A run lies in one table (bits) and, aligned to its length, in one
	 * 4 KiB frame of it, which the walkers take a frame at a time. */
	if (s - es > bits || (1u << (s - es)) > FRAME_ENTRIES)
		return false;
	return pt->ops->leaf_level(g, s) == level;
}

/* A table of several frames (SMMU 16K and 64K granules): aligned to its
 * size, its first frame a live table frame. The pool hands out such tables
 * as aligned runs; a corrupt address that meets this and not the rest
 * leads to frames that are read as they are and never written (the host
 * refuses a write outside the tables), and the walk's budget counts them
 * all. */
bool pt_table_live_frames(struct ims_pt *pt, int level, uint64_t pa)
{
	unsigned lg = pt_level_bits(&pt->g, level - 1) + 3;
	uint64_t bytes = lg > IMS_PAGE_SHIFT ? 1ull << lg : IMS_PAGE_SIZE;
	return !(pa & (bytes - 1)) && mem_pool_table(pt->mem, pa);
}

enum pt_kind pt_decode_slow(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte, bool quiet,
			    struct pt_ent *e)
{
	const struct pt_geom *g = &pt->g;
	e->kind = pte ? pt->ops->kind(g, level, pte) : PT_NONE;
	const char *why = NULL;
	char buf[96];
	switch (e->kind) {
	case PT_NONE:
		return PT_NONE;
	case PT_TABLE:
		if (level == 0) {
			why = "a table entry at the leaf level";
			break;
		}
		e->next = pt->ops->table_pa(pte);
		if (!pt_table_live(pt, level, e->next)) {
			snprintf(buf, sizeof(buf), "its next table 0x%" PRIx64 " is no page table",
				 e->next);
			why = buf;
		}
		break;
	case PT_LEAF: {
		unsigned s = pt->ops->leaf_shift(g, level, pte);
		if (!pt_leaf_fits(pt, level, s)) {
			snprintf(buf, sizeof(buf), "a leaf of 2^%u bytes, no leaf size of this level", s);
			why = buf;
			break;
		}
		unsigned es = pt_level_shift(g, level);
		e->shift = s;
		e->n = 1u << (s - es);
		break;
	}
	default:
		why = pt->ops->bad_why ? pt->ops->bad_why(g, level, pte) : "malformed";
		break;
	}
	if (!why)
		return e->kind;
	e->kind = PT_BAD;
	if (!quiet)
		corrupt(pt, level, slot, pte, why);
	return PT_BAD;
}

bool pt_run_entry_ok(struct ims_pt *pt, int level, uint64_t pte, unsigned s)
{
	return pte && pt->ops->kind(&pt->g, level, pte) == PT_LEAF &&
	       pt->ops->leaf_shift(&pt->g, level, pte) == s;
}

void pt_bad_run(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte, unsigned s)
{
	char why[96];
	snprintf(why, sizeof(why), "not an entry of the 2^%u-byte run it lies in", s);
	corrupt(pt, level, slot, pte, why);
}

bool pt_run_ok(struct ims_pt *pt, uint64_t table, int level, unsigned i0, unsigned n, unsigned s,
	       bool quiet)
{
	if (n < 2)
		return true;
	/* Read from the frame directly: a look, not an access of the walk
	 * (no hook, no count), so an op's accesses stay what they were. The
	 * run lies in this frame (pt_leaf_fits). */
	const uint64_t *f = mem_table_frame(pt->mem, table + 8ull * i0);
	unsigned w = (unsigned)(((table + 8ull * i0) & (IMS_PAGE_SIZE - 1)) >> 3);
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = f ? f[w + k] : 0;
		if (!pt_run_entry_ok(pt, level, v, s)) {
			if (!quiet)
				pt_bad_run(pt, level, table + 8ull * (i0 + k), v, s);
			return false;
		}
	}
	return true;
}

void pt_enter_refused(struct ims_pt *pt, int level, uint64_t slot, uint64_t pte)
{
	corrupt(pt, level, slot, pte,
		"a walk reached more tables than the domain holds (a table reachable twice)");
}
