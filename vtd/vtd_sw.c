/* Intel VT-d second stage: what the OS driver does (software format ops).
 * Levels: see vtd/vtd_codec.h.
 */
#include <errno.h>
#include <stdio.h>

#include "formats/swfmt.h"
#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"
#include "model/hot_path.h"

static int init(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen)
{
	struct fmt_geom fg = {cfg->levels, cfg->granule_shift, cfg->ias};
	int rc = vtd_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	cfg->levels = fg.levels;
	cfg->granule_shift = fg.granule_shift;
	cfg->ias = fg.ias;
	g->top = (int)cfg->levels - 1;
	g->gshift = 12;
	g->stride = 9;
	g->ias = 12 + 9 * cfg->levels;
	g->oas = 52; /* the SL entry's address field is bits 51:12 (vtd_codec.h) */
	/* Leaves at SL-PTE, SL-PDE and SL-PDPE: 4 KiB, 2 MiB, 1 GiB (3.7). */
	g->pgsizes = (1ull << 12) | (1ull << 21) | (1ull << 30);
	if (!cfg->pgsizes)
		cfg->pgsizes = g->pgsizes;
	return 0;
}

static int leaf_level(const struct pt_geom *g, unsigned shift)
{
	(void)g;
	switch (shift) {
	case 12:
		return 0;
	case 21:
		return 1;
	case 30:
		return 2;
	default:
		return -1;
	}
}

static uint64_t mk_table(const struct pt_geom *g, int level, uint64_t pa)
{
	(void)g;
	(void)level;
	/* Non-leaf entries grant everything; leaves restrict. */
	return VTD_SL_R | VTD_SL_W | (pa & VTD_SL_ADDR_MASK);
}

static uint64_t mk_leaf(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
			unsigned idx, unsigned prot, bool dirty_tracking)
{
	(void)g;
	(void)shift;
	(void)idx; /* VT-d has no runs: one entry per leaf */
	(void)dirty_tracking;
	uint64_t pte = pa & VTD_SL_ADDR_MASK;
	if (prot & IMS_PROT_R)
		pte |= VTD_SL_R;
	if (prot & IMS_PROT_W)
		pte |= VTD_SL_W;
	if (level > 0)
		pte |= VTD_SL_PS;
	return pte;
}

/* What is wrong with a present entry at `level`, or NULL (3.7). PS makes
 * a leaf at levels 1 and 2 only (2 MiB, 1 GiB), whose frame leaves the
 * address bits below the page size clear; a non-leaf has SNP clear. An
 * SL-PTE (level 0) is a leaf whatever PS says. */
static const char *check(const struct pt_geom *g, int level, uint64_t pte)
{
	(void)g;
	if (level == 0)
		return NULL;
	if (!(pte & VTD_SL_PS))
		return (pte & VTD_SL_SNP) ? "SNP set in a non-leaf entry (reserved)" : NULL;
	if (level > 2)
		return "PS set at a level that holds no large pages";
	uint64_t low = VTD_SL_ADDR_MASK & ((1ull << vtd_level_shift(level)) - 1);
	return (pte & low) ? "a large page with address bits below its size set (reserved)" : NULL;
}

IMS_HARVEST_PATH
static enum pt_kind kind(const struct pt_geom *g, int level, uint64_t pte)
{
	if (!(pte & VTD_SL_PRESENT))
		return PT_NONE;
	if (level > 0 && check(g, level, pte))
		return PT_BAD;
	if (level == 0 || (pte & VTD_SL_PS))
		return PT_LEAF;
	return PT_TABLE;
}

static const char *bad_why(const struct pt_geom *g, int level, uint64_t pte)
{
	const char *why = check(g, level, pte);
	return why ? why : "no fault found";
}

IMS_HARVEST_PATH
static uint64_t table_pa(uint64_t pte)
{
	return pte & VTD_SL_ADDR_MASK;
}

static unsigned leaf_shift(const struct pt_geom *g, int level, uint64_t pte)
{
	(void)g;
	(void)pte;
	return vtd_level_shift(level);
}

static uint64_t leaf_pa(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova)
{
	(void)g;
	uint64_t mask = (1ull << vtd_level_shift(level)) - 1;
	return (pte & VTD_SL_ADDR_MASK & ~mask) | (iova & mask);
}

static unsigned leaf_prot(uint64_t pte)
{
	return ((pte & VTD_SL_R) ? IMS_PROT_R : 0) | ((pte & VTD_SL_W) ? IMS_PROT_W : 0);
}

static bool is_dirty(uint64_t pte)
{
	return (pte & VTD_SL_D) != 0;
}

static void ctx_words(const struct pt_dom *d, uint64_t w[8])
{
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	w[0] = VTD_PE0_P | ((uint64_t)vtd_levels_aw(d->levels) << VTD_PE0_AW_SHIFT) |
	       ((uint64_t)VTD_PGTT_SL << VTD_PE0_PGTT_SHIFT) | (d->root & VTD_SL_ADDR_MASK);
	if (d->tracking)
		w[0] |= VTD_PE0_SSADE;
	w[1] = d->tag & VTD_PE1_DID_MASK;
}

static uint64_t iotlb_cmd0(const struct pt_dom *d, uint64_t type, unsigned g)
{
	return type | ((uint64_t)g << VTD_DESC_G_SHIFT) | ((uint64_t)d->tag << VTD_DESC_DID_SHIFT);
}

/* One IOTLB invalidation of descriptor `type`: the IOTLB descriptor here,
 * the PASID-based one for first-stage domains (vtd/vtd_fs_sw.c, whose
 * PASID field stays 0: the domain's requests carry no PASID). Both number
 * their domain-selective (PASID-selective) and page-selective granularities
 * 2 and 3, and share the address, AM and IH qword. */
IMS_HARVEST_PATH
int vtd_flush_with(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only,
		   uint64_t type)
{
	uint64_t cmd[2] = {iotlb_cmd0(d, type, VTD_IOTLB_G_DOMAIN), 0};
	if (!size)
		return d->submit(d->host, cmd);
	/* Page-selective: 2^AM pages at an address aligned to them, so the
	 * smallest aligned power of two that covers the range. */
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	uint64_t diff = iova ^ last;
	unsigned n = diff ? 64 - (unsigned)__builtin_clzll(diff) : 12;
	if (n < 12)
		n = 12;
	/* A mask reaching the domain's whole input space (AM is 6 bits, so
	 * 63 at most; the IOVA space ends at 2^57) is the domain. */
	if (n >= d->g->ias || n - 12 > VTD_IOTLB_AM_MASK)
		return d->submit(d->host, cmd);
	cmd[0] = iotlb_cmd0(d, type, VTD_IOTLB_G_PAGE);
	cmd[1] = (iova & ~((1ull << n) - 1) & VTD_IOTLB_ADDR_MASK) | (n - 12);
	if (leaf_only)
		cmd[1] |= VTD_IOTLB_IH;
	return d->submit(d->host, cmd);
}

IMS_HARVEST_PATH
static int flush(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	return vtd_flush_with(d, iova, size, leaf_only, VTD_DESC_IOTLB);
}

static int set_hw_dirty(const struct pt_dom *d, bool on)
{
	/* After toggling SSADE: PASID-cache invalidation, then the domain's
	 * IOTLB (formats.md, "Intel VT-d second-stage tables"). */
	return d->ctx_change(d->host, 0, VTD_PE0_SSADE, on ? VTD_PE0_SSADE : 0);
}

const struct pt_fmt vtd_pt_fmt = {
	.fmt = IMS_FMT_VTD,
	.init = init,
	.leaf_level = leaf_level,
	.mk_table = mk_table,
	.mk_leaf = mk_leaf,
	.kind = kind,
	.bad_why = bad_why,
	.table_pa = table_pa,
	.leaf_shift = leaf_shift,
	.leaf_pa = leaf_pa,
	.leaf_prot = leaf_prot,
	.is_dirty = is_dirty,
	.clean_clear = VTD_SL_D,
	.clean_set = 0,
	.ctx_words = ctx_words,
	.set_hw_dirty = set_hw_dirty,
	.flush = flush,
};
