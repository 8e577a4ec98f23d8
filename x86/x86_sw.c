/* x86-64 first-stage tables: what the OS driver writes (software format
 * ops shared by vtd-fs and amdv2). Levels: see x86/x86_codec.h.
 */
#include <errno.h>
#include <stdio.h>

#include "x86/x86_codec.h"
#include "x86/x86_sw.h"
#include "model/hot_path.h"

int x86_geometry(const char *name, struct fmt_geom *g, char *err, size_t errlen)
{
	if (!g->levels)
		g->levels = 4;
	if (g->levels != 4 && g->levels != 5) {
		snprintf(err, errlen, "%s has 4 or 5 levels (47, 56-bit IOVAs), not %u", name,
			 g->levels);
		return -EINVAL;
	}
	if (g->granule_shift && g->granule_shift != 12) {
		snprintf(err, errlen, "%s has only the 4K granule", name);
		return -EINVAL;
	}
	if (g->ias) {
		snprintf(err, errlen, "%s takes levels=, not ias= (the IOVA width follows)", name);
		return -EINVAL;
	}
	g->granule_shift = 12;
	return 0;
}

int x86_init(const char *name, struct pt_params *cfg, struct pt_geom *g, char *err,
	     size_t errlen)
{
	struct fmt_geom fg = {cfg->levels, cfg->granule_shift, cfg->ias};
	int rc = x86_geometry(name, &fg, err, errlen);
	if (rc)
		return rc;
	cfg->levels = fg.levels;
	cfg->granule_shift = fg.granule_shift;
	cfg->ias = fg.ias;
	g->top = (int)cfg->levels - 1;
	g->gshift = 12;
	g->stride = 9;
	g->ias = x86_ias(cfg->levels);
	g->oas = 52; /* the frame is bits 51:12 */
	g->pgsizes = x86_driver_pgsizes(NULL);
	if (!cfg->pgsizes)
		cfg->pgsizes = g->pgsizes;
	return 0;
}

/* Leaves at PTE, PDE and PDPTE: 4 KiB, 2 MiB, 1 GiB. */
uint64_t x86_driver_pgsizes(const struct fmt_geom *g)
{
	(void)g;
	return 1ull << 12 | 1ull << 21 | 1ull << 30;
}

const struct fmt_geom x86_fuzz_geoms[2] = {{.levels = 4}, {.levels = 5}};

unsigned x86_iova_bits(const struct fmt_geom *g)
{
	return x86_ias(g->levels);
}

int x86_leaf_level(const struct pt_geom *g, unsigned shift)
{
	(void)g;
	bool leaf = shift == 12 || shift == 21 || shift == 30;
	return leaf ? (int)(shift - 12) / 9 : -1;
}

/* Table entries allow everything (user, writable), as Linux writes them:
 * the leaf restricts. */
uint64_t x86_mk_table(const struct pt_geom *g, int level, uint64_t pa)
{
	(void)g;
	(void)level;
	return X86_P | X86_RW | X86_US | (pa & X86_ADDR_MASK);
}

/* U/S = 1: a DMA without PASID is a user request (x86/x86_hw.c). x86 has
 * no write-only page: a writable leaf is readable (write_implies_read). */
uint64_t x86_mk_leaf(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
		     unsigned idx, unsigned prot, bool dirty_tracking)
{
	(void)g;
	(void)shift;
	(void)idx; /* no runs: one entry per leaf */
	(void)dirty_tracking;
	uint64_t pte = X86_P | X86_US | (pa & X86_ADDR_MASK);
	if (prot & IMS_PROT_W)
		pte |= X86_RW;
	if (level > 0)
		pte |= X86_PS;
	return pte;
}

/* What is wrong with a present entry at `level`, or NULL (SDM 4.5): PS in
 * a PML4E / PML5E, or a large page with reserved frame bits. */
static const char *check(int level, uint64_t pte)
{
	if (level == 0 || !(pte & X86_PS))
		return NULL;
	if (level >= 3)
		return "PS set in a PML4E or PML5E (reserved)";
	if (pte & x86_large_rsvd(level))
		return "a large page with address bits below its size set (reserved)";
	return NULL;
}

IMS_HARVEST_PATH
enum pt_kind x86_kind(const struct pt_geom *g, int level, uint64_t pte)
{
	(void)g;
	if (!(pte & X86_P))
		return PT_NONE;
	if (check(level, pte))
		return PT_BAD;
	return (level == 0 || (pte & X86_PS)) ? PT_LEAF : PT_TABLE;
}

const char *x86_bad_why(const struct pt_geom *g, int level, uint64_t pte)
{
	(void)g;
	const char *why = check(level, pte);
	return why ? why : "no fault found";
}

IMS_HARVEST_PATH
uint64_t x86_table_pa(uint64_t pte)
{
	return pte & X86_ADDR_MASK;
}

unsigned x86_leaf_shift(const struct pt_geom *g, int level, uint64_t pte)
{
	(void)g;
	(void)pte;
	return x86_level_shift(level);
}

uint64_t x86_leaf_pa(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova)
{
	(void)g;
	uint64_t mask = (1ull << x86_level_shift(level)) - 1;
	return x86_leaf_addr(level, pte) | (iova & mask);
}

unsigned x86_leaf_prot(uint64_t pte)
{
	return IMS_PROT_R | ((pte & X86_RW) ? IMS_PROT_W : 0);
}

bool x86_sw_is_dirty(uint64_t pte)
{
	return (pte & X86_D) != 0;
}

int x86_set_hw_dirty(const struct pt_dom *d, bool on)
{
	(void)d;
	(void)on;
	return 0;
}
