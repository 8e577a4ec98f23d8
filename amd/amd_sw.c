/* AMD IOMMU v1: what the OS driver does (software format ops).
 * Levels: see amd/amd_codec.h.
 */
#include <errno.h>
#include <stdio.h>

#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "formats/swfmt.h"
#include "model/hot_path.h"

static int init(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen)
{
	struct fmt_geom fg = {cfg->levels, cfg->granule_shift, cfg->ias};
	int rc = amd_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	cfg->levels = fg.levels;
	cfg->granule_shift = fg.granule_shift;
	cfg->ias = fg.ias;
	g->top = (int)cfg->levels - 1;
	g->gshift = 12;
	g->stride = 9;
	g->ias = 12 + 9 * cfg->levels > 64 ? 64 : 12 + 9 * cfg->levels;
	g->oas = 52; /* the PTE's address field is bits 51:12 (2.2.3) */
	/* Leaves at levels 0..min(top, 4) (the top of 6 levels holds none),
	 * every power of two from the level's size up to 256x it (2.2.3.2). */
	int hi = g->top < 4 ? g->top : 4;
	g->pgsizes = 0;
	for (int l = 0; l <= hi; l++)
		for (unsigned s = 12 + 9 * (unsigned)l; s < 21 + 9 * (unsigned)l && s < g->ias; s++)
			g->pgsizes |= 1ull << s;
	/* By default the software stays at or below 1 GiB, as Linux does
	 * (512 GiB pages hit a hardware erratum); larger need pgsizes=. */
	if (!cfg->pgsizes)
		cfg->pgsizes = g->pgsizes & ((2ull << 30) - 1);
	return 0;
}

static int leaf_level(const struct pt_geom *g, unsigned shift)
{
	if (shift < 12)
		return -1;
	int l = (int)((shift - 12) / 9);
	if (l > g->top || l >= 5)
		return -1;
	return l;
}

static uint64_t mk_table(const struct pt_geom *g, int level, uint64_t pa)
{
	(void)g;
	/* The next table is our level - 1, i.e. the spec's level `level`. */
	return AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW | ((uint64_t)level << AMD_PTE_NL_SHIFT) |
	       (pa & AMD_PTE_ADDR_MASK);
}

static uint64_t mk_leaf(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
			unsigned idx, unsigned prot, bool dirty_tracking)
{
	(void)g;
	(void)idx; /* replicas are identical (2.2.3.2) */
	(void)dirty_tracking;
	uint64_t pte = AMD_PTE_PR;
	if (prot & IMS_PROT_R)
		pte |= AMD_PTE_IR;
	if (prot & IMS_PROT_W)
		pte |= AMD_PTE_IW;
	if (shift == 12 + 9 * (unsigned)level)
		return pte | (pa & AMD_PTE_ADDR_MASK);
	return pte | ((uint64_t)AMD_NL_SIZED << AMD_PTE_NL_SHIFT) |
	       (amd_size_encode(pa, shift) & AMD_PTE_ADDR_MASK);
}

/* What is wrong with a present entry at `level`, or NULL (2.2.3). The
 * software writes a PDE with NextLevel = its own level (the next table one
 * below) and leaves at levels 0..min(top, 4); a NextLevel=7 leaf's size
 * code lies strictly between the level's size and the next level's
 * ("Table 14"). Anything else is no table this software wrote: a level skip
 * too, which hardware would follow but this software never makes. */
static const char *check(const struct pt_geom *g, int level, uint64_t pte)
{
	unsigned nl = amd_pte_nl(pte);
	if (nl != 0 && nl != AMD_NL_SIZED) {
		if (level == 0)
			return "a PDE (NextLevel 1..6) at the leaf level";
		if ((int)nl > level)
			return "NextLevel names a level at or above this one";
		if ((int)nl < level)
			return "NextLevel skips a level (this software never writes a level skip)";
		return NULL;
	}
	int hi = g->top < 4 ? g->top : 4;
	if (level > hi)
		return "a leaf at a level that holds none";
	if (nl == AMD_NL_SIZED) {
		unsigned es = 12 + 9 * (unsigned)level;
		unsigned s = amd_size_decode(pte);
		if (s <= es || s >= es + 9)
			return "NextLevel 7 with a size code that is no page size of this level";
	}
	return NULL;
}

IMS_HARVEST_PATH
static enum pt_kind kind(const struct pt_geom *g, int level, uint64_t pte)
{
	if (!(pte & AMD_PTE_PR))
		return PT_NONE;
	if (check(g, level, pte))
		return PT_BAD;
	unsigned nl = amd_pte_nl(pte);
	return (nl == 0 || nl == AMD_NL_SIZED) ? PT_LEAF : PT_TABLE;
}

static const char *bad_why(const struct pt_geom *g, int level, uint64_t pte)
{
	const char *why = check(g, level, pte);
	return why ? why : "no fault found";
}

IMS_HARVEST_PATH
static uint64_t table_pa(uint64_t pte)
{
	return pte & AMD_PTE_ADDR_MASK;
}

static unsigned leaf_shift(const struct pt_geom *g, int level, uint64_t pte)
{
	(void)g;
	if (amd_pte_nl(pte) == AMD_NL_SIZED)
		return amd_size_decode(pte);
	return 12 + 9 * (unsigned)level;
}

static uint64_t leaf_pa(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova)
{
	unsigned s = leaf_shift(g, level, pte);
	uint64_t mask = (1ull << s) - 1;
	return (pte & AMD_PTE_ADDR_MASK & ~mask) | (iova & mask);
}

static unsigned leaf_prot(uint64_t pte)
{
	return ((pte & AMD_PTE_IR) ? IMS_PROT_R : 0) | ((pte & AMD_PTE_IW) ? IMS_PROT_W : 0);
}

static bool is_dirty(uint64_t pte)
{
	return (pte & AMD_PTE_D) != 0;
}

static void ctx_words(const struct pt_dom *d, uint64_t w[8])
{
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	w[0] = AMD_DTE_V | AMD_DTE_TV | ((uint64_t)d->levels << AMD_DTE_MODE_SHIFT) |
	       (d->root & AMD_DTE_ROOT_MASK) | AMD_DTE_IR | AMD_DTE_IW;
	if (d->tracking)
		w[0] |= (uint64_t)AMD_HAD_AD << AMD_DTE_HAD_SHIFT;
	w[1] = d->tag & AMD_DTE1_DOMID_MASK;
}

static uint64_t inv_cmd0(const struct pt_dom *d)
{
	return (AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT) |
	       ((uint64_t)d->tag << AMD_CMD_DOMID_SHIFT);
}

/* INVALIDATE_IOMMU_PAGES for a range (size 0: the domain); `flags1` adds
 * bits of dword 2 (GN for a v2 domain's guest translations, amd/amdv2_sw.c). */
IMS_HARVEST_PATH
int amd_flush_with(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only,
		   uint64_t flags1)
{
	uint64_t cmd[2] = {inv_cmd0(d), (leaf_only ? 0 : AMD_CMD_PDE) | flags1};
	if (!size) {
		cmd[1] |= AMD_CMD_ALL_PAGES | AMD_CMD_S;
		return d->submit(d->host, cmd);
	}
	if (size == 4096 && !(iova & 0xfff)) {
		cmd[1] |= iova;
		return d->submit(d->host, cmd);
	}
	/* One command for the smallest aligned power of two that covers the
	 * range; past 2^51 the whole domain. */
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	uint64_t diff = iova ^ last;
	unsigned n = diff ? 64 - (unsigned)__builtin_clzll(diff) : 12;
	if (n < 13)
		n = 13;
	if (n > 51)
		cmd[1] |= AMD_CMD_ALL_PAGES | AMD_CMD_S;
	else
		cmd[1] |= amd_size_encode(iova, n) | AMD_CMD_S;
	return d->submit(d->host, cmd);
}

IMS_HARVEST_PATH
static int flush(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	return amd_flush_with(d, iova, size, leaf_only, 0);
}

static int set_hw_dirty(const struct pt_dom *d, bool on)
{
	/* DTE.HAD = 11b (or 00b), then DTE invalidation and a domain flush. */
	return d->ctx_change(d->host, 0, AMD_DTE_HAD_MASK,
			     on ? (uint64_t)AMD_HAD_AD << AMD_DTE_HAD_SHIFT : 0);
}

const struct pt_fmt amd_pt_fmt = {
	.fmt = IMS_FMT_AMDV1,
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
	.clean_clear = AMD_PTE_D,
	.clean_set = 0,
	.ctx_words = ctx_words,
	.set_hw_dirty = set_hw_dirty,
	.flush = flush,
};
