/* Arm SMMUv3 stage 1: what the OS driver does (software format ops).
 * Levels: see smmuv3/smmu_codec.h.
 *
 * Permission policy (dirty-semantics.md, classic bug 10): a read-only
 * mapping is AP[2] = 1, DBM = 0. A writable mapping in a domain allocated
 * for dirty tracking is mapped writable-CLEAN (DBM = 1, AP[2] = 1) and its CD
 * has HA = HD = 1 from allocation on, as Linux does: a device write makes
 * it dirty without a fault, and only pages a device wrote are ever dirty, so
 * harvests agree with the oracle whether tracking is on or off. Any other
 * writable mapping is AP[2] = 0, DBM = 0 (writable, never tracked).
 */
#include <errno.h>
#include <stdio.h>

#include "formats/swfmt.h"
#include "smmuv3/smmu.h"
#include "smmuv3/smmu_codec.h"
#include "smmuv3/smmu_sw.h"
#include "model/hot_path.h"

/* MAIR attribute 1 = Normal memory, inner/outer write-back, read/write
 * allocate (0xff); attribute 0 = Device-nGnRnE. Leaves use index 1. */
#define SW_ATTR_NORMAL 1ull
#define SW_MAIR 0x000000000000ff00ull

static unsigned sw_top(unsigned gshift, unsigned ias)
{
	unsigned stride = gshift - 3;
	return (ias - gshift + stride - 1) / stride - 1;
}

/* Block sizes the software uses (D8.3): 4K granule 2M and 1G, 16K 32M,
 * 64K 512M. Returns whether our level L holds blocks. */
static bool sw_block_level(unsigned gshift, int level)
{
	return gshift == 12 ? (level == 1 || level == 2) : level == 1;
}

/* The page, every block and every contiguous group (contiguous sizes
 * count as page sizes), as long as it fits below 2^ias. */
uint64_t smmu_sw_pgsizes(const struct pt_geom *g)
{
	uint64_t sizes = 0;
	for (int l = 0; l <= g->top; l++) {
		unsigned es = pt_level_shift(g, l);
		if (l == 0 || sw_block_level(g->gshift, l)) {
			if (es <= g->ias)
				sizes |= 1ull << es;
			unsigned cl = smmu_contig_log2(g->gshift, l);
			if (cl && es + cl <= g->ias)
				sizes |= 1ull << (es + cl);
		}
	}
	return sizes;
}

static int init(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen)
{
	struct fmt_geom fg = {cfg->levels, cfg->granule_shift, cfg->ias};
	int rc = smmu_geometry(&fg, err, errlen);
	if (rc)
		return rc;
	cfg->levels = fg.levels;
	cfg->granule_shift = fg.granule_shift;
	cfg->ias = fg.ias;
	unsigned gs = cfg->granule_shift;
	g->gshift = gs;
	g->stride = gs - 3;
	g->ias = cfg->ias;
	g->top = (int)sw_top(gs, cfg->ias);
	/* 52 bits with the 64K granule (FEAT_LPA) or DS (FEAT_LPA2), else 48:
	 * the CD's IPS ctx_words programs (D8.3). */
	g->oas = gs == 16 || smmu_geom_ds(gs, cfg->ias) ? 52 : 48;
	g->pgsizes = smmu_sw_pgsizes(g);
	if (!cfg->pgsizes)
		cfg->pgsizes = g->pgsizes;
	return 0;
}

int smmu_sw_leaf_level(const struct pt_geom *g, unsigned shift)
{
	for (int l = 0; l <= g->top; l++) {
		if (l && !sw_block_level(g->gshift, l))
			continue;
		unsigned es = pt_level_shift(g, l);
		unsigned cl = smmu_contig_log2(g->gshift, l);
		if (shift == es || (cl && shift == es + cl))
			return l;
	}
	return -1;
}

/* Address field (D8.3): bits 47:12; the 64K granule keeps OA[51:48] in
 * bits 15:12 (FEAT_LPA), DS keeps bits 49:12 and OA[51:50] in bits 9:8
 * (FEAT_LPA2). */
uint64_t smmu_sw_oa_field(const struct pt_geom *g, uint64_t pa)
{
	if (g->gshift == 16)
		return (pa & SMMU_D_OA48_MASK & ~0xffffull) |
		       (((pa >> 48) & 0xfull) << SMMU_D_LPA_HI_SHIFT);
	if (smmu_geom_ds(g->gshift, g->ias))
		return (pa & SMMU_D_OA50_MASK) | (((pa >> 50) & 3ull) << SMMU_D_DS_HI_SHIFT);
	return pa & SMMU_D_OA48_MASK;
}

static uint64_t field_oa(const struct pt_geom *g, uint64_t pte)
{
	if (g->gshift == 16)
		return (pte & SMMU_D_OA48_MASK & ~0xffffull) |
		       (((pte >> SMMU_D_LPA_HI_SHIFT) & 0xfull) << 48);
	if (smmu_geom_ds(g->gshift, g->ias))
		return (pte & SMMU_D_OA50_MASK) | (((pte >> SMMU_D_DS_HI_SHIFT) & 3ull) << 50);
	return pte & SMMU_D_OA48_MASK;
}

uint64_t smmu_sw_mk_table(const struct pt_geom *g, int level, uint64_t pa)
{
	(void)level;
	return SMMU_D_TABLE | smmu_sw_oa_field(g, pa);
}

static uint64_t mk_leaf(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
			unsigned idx, unsigned prot, bool dirty_tracking)
{
	unsigned es = pt_level_shift(g, level);
	uint64_t pte = (level == 0 ? SMMU_D_PAGE : SMMU_D_BLOCK) | SMMU_D_AF | SMMU_D_AP1 |
		       SMMU_D_NG | SW_ATTR_NORMAL << SMMU_D_ATTRIDX_SHIFT;
	/* With DS bits 9:8 are address bits: shareability comes from CD.SH0. */
	if (!smmu_geom_ds(g->gshift, g->ias))
		pte |= SMMU_SH_INNER << SMMU_D_SH_SHIFT;
	/* Every entry of a contiguous group has the bit and its own slice of
	 * the group's output range. */
	if (shift > es)
		pte |= SMMU_D_CONT;
	pte |= smmu_sw_oa_field(g, pa + ((uint64_t)idx << es));
	if (!(prot & IMS_PROT_W))
		pte |= SMMU_D_AP2;
	else if (dirty_tracking)
		pte |= SMMU_D_DBM | SMMU_D_AP2; /* writable-clean (policy above) */
	return pte;
}

/* The address field's bits (as oa_field lays them out) below 2^shift. */
static uint64_t field_low(const struct pt_geom *g, uint64_t pte, unsigned shift)
{
	if (shift <= 12)
		return 0; /* the field starts at bit 12 */
	uint64_t field = SMMU_D_OA48_MASK;
	if (g->gshift == 16)
		field &= ~0xffffull; /* bits 15:12 are OA[51:48] */
	else if (smmu_geom_ds(g->gshift, g->ias))
		field = SMMU_D_OA50_MASK;
	return pte & field & ((1ull << shift) - 1);
}

/* What is wrong with a valid (bit 0 set) descriptor at `level`, or NULL
 * (D8.3). Type 01 is a block only where this geometry has blocks (never at
 * the page level, where it is reserved); a table's address is aligned to
 * the granule and a block's or page's to its size (the bits below are
 * RES0). A contiguous hint needs nothing here: a group's entries are
 * checked together where the group is used. */
static const char *check(const struct pt_geom *g, int level, uint64_t pte)
{
	unsigned es = pt_level_shift(g, level);
	if ((pte & SMMU_D_TYPE_MASK) == SMMU_D_BLOCK) {
		if (level == 0)
			return "a block descriptor (01) at the page level (reserved)";
		if (!sw_block_level(g->gshift, level))
			return "a block at a level that holds no blocks in this geometry";
	} else if (level > 0) {
		return field_low(g, pte, g->gshift) ? "a table address not aligned to the granule"
						    : NULL;
	}
	return field_low(g, pte, es) ? "an output address not aligned to the page size" : NULL;
}

IMS_HARVEST_PATH
enum pt_kind smmu_sw_kind(const struct pt_geom *g, int level, uint64_t pte)
{
	if (!(pte & 1))
		return PT_NONE; /* x0: invalid */
	if (check(g, level, pte))
		return PT_BAD;
	if ((pte & SMMU_D_TYPE_MASK) == SMMU_D_TABLE && level > 0)
		return PT_TABLE;
	return PT_LEAF;
}

const char *smmu_sw_bad_why(const struct pt_geom *g, int level, uint64_t pte)
{
	const char *why = check(g, level, pte);
	return why ? why : "no fault found";
}

/* Software tables live below 2^48 (the frame pool), where every layout of
 * the address field reads as bits 47:12. */
IMS_HARVEST_PATH
uint64_t smmu_sw_table_pa(uint64_t pte)
{
	return pte & SMMU_D_OA48_MASK;
}

unsigned smmu_sw_leaf_shift(const struct pt_geom *g, int level, uint64_t pte)
{
	unsigned es = pt_level_shift(g, level);
	unsigned cl = smmu_contig_log2(g->gshift, level);
	return (pte & SMMU_D_CONT) && cl ? es + cl : es;
}

uint64_t smmu_sw_leaf_pa(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova)
{
	uint64_t mask = (1ull << pt_level_shift(g, level)) - 1;
	return (field_oa(g, pte) & ~mask) | (iova & mask);
}

static unsigned leaf_prot(uint64_t pte)
{
	bool w = !(pte & SMMU_D_AP2) || (pte & SMMU_D_DBM);
	return IMS_PROT_R | (w ? IMS_PROT_W : 0);
}

static bool is_dirty(uint64_t pte)
{
	return (pte & SMMU_D_DBM) && !(pte & SMMU_D_AP2);
}

static void ctx_words(const struct pt_dom *d, uint64_t w[8])
{
	const struct pt_geom *g = d->g;
	uint64_t tg = g->gshift == 12 ? SMMU_TG0_4K : g->gshift == 14 ? SMMU_TG0_16K : SMMU_TG0_64K;
	bool ds = smmu_geom_ds(g->gshift, g->ias);
	bool wide = ds || g->gshift == 16;
	for (int i = 0; i < 8; i++)
		w[i] = 0;
	w[0] = (uint64_t)(64 - g->ias) | tg << SMMU_CD0_TG0_SHIFT | 1ull << SMMU_CD0_IR0_SHIFT |
	       1ull << SMMU_CD0_OR0_SHIFT | SMMU_SH_INNER << SMMU_CD0_SH0_SHIFT | SMMU_CD0_EPD1 |
	       SMMU_CD0_V | (wide ? SMMU_IPS_52 : SMMU_IPS_48) << SMMU_CD0_IPS_SHIFT |
	       SMMU_CD0_AA64 | SMMU_CD0_ASET | (uint64_t)d->tag << SMMU_CD0_ASID_SHIFT;
	/* HA and HD from allocation on (policy above): writable-clean leaves
	 * never fault, and switching tracking changes nothing in hardware. */
	if (d->dirty_tracking)
		w[0] |= SMMU_CD0_HA | SMMU_CD0_HD;
	w[1] = d->root & SMMU_CD1_TTB0_MASK;
	w[2] = ds ? SMMU_CD2_DS : 0;
	w[SMMU_CD_WORD_MAIR] = SW_MAIR;
}

static uint64_t tg_code(const struct pt_geom *g)
{
	return g->gshift == 12 ? 1 : g->gshift == 14 ? 2 : 3;
}

/* A range TLBI (SMMUv3 4.4.1.1): each command covers (NUM + 1) * 2^SCALE
 * granules from its address. The granule count is cut into 5-bit chunks
 * from its lowest set bit up, one command per chunk; a chunk past SCALE 31
 * makes it `all` instead. w0 is the command's opcode and tag (ASID or
 * VMID); CMD_TLBI_NH_VA and CMD_TLBI_S2_IPA share the rest of the layout. */
IMS_HARVEST_PATH
int smmu_sw_tlbi_range(const struct pt_dom *d, uint64_t w0, uint64_t iova, uint64_t size,
		       bool leaf_only, int (*all)(const struct pt_dom *d))
{
	const struct pt_geom *g = d->g;
	uint64_t gran = 1ull << g->gshift;
	uint64_t start = iova & ~(gran - 1);
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = ~0ull;
	uint64_t n = ((last - start) >> g->gshift) + 1;
	for (uint64_t left = n, at = start; left;) {
		unsigned scale = (unsigned)__builtin_ctzll(left);
		if (scale > SMMU_CMD_SCALE_MAX)
			return all(d);
		uint64_t num = (left >> scale) & SMMU_CMD_NUM_MAX; /* odd: at least 1 */
		uint64_t cmd[2] = {w0 | (num - 1) << SMMU_CMD_NUM_SHIFT |
					   (uint64_t)scale << SMMU_CMD_SCALE_SHIFT,
				   (leaf_only ? SMMU_CMD1_LEAF : 0) | tg_code(g) << SMMU_CMD1_TG_SHIFT |
					   (at & SMMU_CMD1_ADDR_MASK)};
		int rc = d->submit(d->host, cmd);
		if (rc)
			return rc;
		uint64_t granules = num << scale;
		left -= granules;
		at += granules << g->gshift;
	}
	return 0;
}

static int flush_asid(const struct pt_dom *d)
{
	uint64_t cmd[2] = {SMMU_CMD_TLBI_NH_ASID | (uint64_t)d->tag << SMMU_CMD_ASID_SHIFT, 0};
	return d->submit(d->host, cmd);
}

/* CMD_TLBI_NH_VA by ASID (SMMUv3 4.4.2), or the whole ASID. */
IMS_HARVEST_PATH
static int flush(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only)
{
	if (!size)
		return flush_asid(d);
	return smmu_sw_tlbi_range(d, SMMU_CMD_TLBI_NH_VA | (uint64_t)d->tag << SMMU_CMD_ASID_SHIFT,
				  iova, size, leaf_only, flush_asid);
}

int smmu_sw_set_hw_dirty(const struct pt_dom *d, bool on)
{
	/* CD.HA/HD (STE.S2HA/S2HD) are set when a tracking domain is
	 * allocated: nothing to switch (ims_pt_set_dirty_tracking has already
	 * cleaned and flushed). */
	(void)d;
	(void)on;
	return 0;
}

const struct pt_fmt smmu_pt_fmt = {
	.fmt = IMS_FMT_SMMUV3,
	.init = init,
	.leaf_level = smmu_sw_leaf_level,
	.mk_table = smmu_sw_mk_table,
	.mk_leaf = mk_leaf,
	.kind = smmu_sw_kind,
	.bad_why = smmu_sw_bad_why,
	.table_pa = smmu_sw_table_pa,
	.leaf_shift = smmu_sw_leaf_shift,
	.leaf_pa = smmu_sw_leaf_pa,
	.leaf_prot = leaf_prot,
	.is_dirty = is_dirty,
	.clean_clear = 0,
	.clean_set = SMMU_D_AP2,
	.ctx_words = ctx_words,
	.set_hw_dirty = smmu_sw_set_hw_dirty,
	.flush = flush,
};
