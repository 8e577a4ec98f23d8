/* iommusim fuzz: corrupted tables (docs/fuzzing.md, "Corrupted tables").
 *
 * A sequence chosen to corrupt writes, now and then, a `mem` line into an
 * entry of a live page table: the leaf of a mapped point or a table entry
 * above it, the upper levels included. The generator finds the entry by
 * walking its shadow of the domain's tables (fuzz_dom.c: the same software
 * in memory of its own, whose pool hands out the same addresses as the
 * replay's) with the format's hardware decoder, and writes the new value
 * to the shadow too, so its later maps and unmaps see what the replay's
 * do. What it writes: bit flips anywhere, the bits that give an entry its
 * shape (present, type, NextLevel, PS, the contiguous hint), sizes beyond
 * the level (AMD NextLevel=7 size codes up to 2^53, PS or a block where
 * the level has none), entries of another level, and table addresses
 * redirected to another table of the path (a table reachable twice, or
 * from itself) or one frame off.
 */
#include "amd/amd_codec.h"
#include "formats/format.h"
#include "formats/hwfmt.h"
#include "iommusim/pt.h"
#include "smmuv3/smmu_codec.h"
#include "tools/fuzz_gen.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_codec.h"

unsigned fz_corrupt_pct(const struct ims_replay_opts *ro)
{
	if (ro->plugin)
		return 0;
	const char *w = ims_pt_walker_name(ro->walker);
	if (!w)
		return 0;
	return (!strcmp(w, "fast") || !strcmp(w, "reference") || !strcmp(w, "rewalk"))
		       ? FZ_CORRUPT_PCT
		       : 0;
}

bool fz_corrupt_pick(const struct fz_gen_cfg *cfg, uint64_t seed)
{
	/* From the sequence's seed (or its input's hash), not a draw: the
	 * sequences that do not corrupt keep every draw they had. */
	return cfg->corrupt_pct && fz_mix(seed ^ 0x636f727275707421ull) % 100 < cfg->corrupt_pct;
}

/* The bits that give an entry its shape in each format. */
static uint64_t shape_bits(enum ims_format f)
{
	switch (f) {
	case IMS_FMT_AMDV1:
		return AMD_PTE_PR | AMD_PTE_NL_MASK | (0x1ffull << 12);
	case IMS_FMT_VTD:
		return VTD_SL_R | VTD_SL_W | VTD_SL_PS | VTD_SL_SNP | (0x1ffull << 12);
	case IMS_FMT_VTD_FS:
	case IMS_FMT_AMDV2:
		return X86_P | X86_RW | X86_US | X86_PS | (0x1ffull << 12);
	default:
		return SMMU_D_TYPE_MASK | SMMU_D_CONT | (0xfull << 12);
	}
}

/* The address field of a table entry, as wide as every format here keeps
 * tables (below 2^48). */
#define TABLE_ADDR 0x0000fffffffff000ull

/* An entry that says "a larger page than this level holds" in the format's
 * way, from v. */
static uint64_t oversize(struct fz_rng *r, enum ims_format f, uint64_t v)
{
	switch (f) {
	case IMS_FMT_AMDV1: {
		/* NextLevel 7 with the size code of 2^n, n up to 53: the code is
		 * address bits n-2..12 set and bit n-1 clear. */
		unsigned n = 13 + (unsigned)fz_below(r, 41);
		uint64_t ones = ((1ull << (n - 1)) - 1) & ~0xfffull & AMD_PTE_ADDR_MASK;
		uint64_t keep = n < 52 ? v & AMD_PTE_ADDR_MASK & ~((1ull << n) - 1) : 0;
		return (v & ~(AMD_PTE_NL_MASK | AMD_PTE_ADDR_MASK)) | AMD_PTE_PR |
		       ((uint64_t)AMD_NL_SIZED << AMD_PTE_NL_SHIFT) | keep | ones;
	}
	case IMS_FMT_VTD:
		/* PS at this level (a large page where there may be none), low
		 * address bits set now and then. */
		return v | VTD_SL_PS | (fz_pct(r, 30) ? (fz_below(r, 512) << 12) : 0);
	case IMS_FMT_VTD_FS:
	case IMS_FMT_AMDV2:
		/* The same in x86-64 entries (bit 12 is a large page's PAT bit). */
		return v | X86_P | X86_PS | (fz_pct(r, 30) ? (fz_below(r, 512) << 12) : 0);
	default:
		/* A block (01) here, or the contiguous hint. */
		return fz_pct(r, 50) ? (v & ~SMMU_D_TYPE_MASK) | SMMU_D_BLOCK : v ^ SMMU_D_CONT;
	}
}

bool fz_walk_path(struct ims_mem *mem, enum ims_format fmt, const uint64_t w[IMS_CTX_WORDS],
		  uint64_t iova, struct fz_path *p)
{
	const struct fmt_desc *fd = fmt_get(fmt);
	struct ims_iommu_cfg icfg;
	ims_iommu_cfg_default(&icfg);
	struct hw_ctx c = {0};
	if (fd->hw->decode_ctx(w, &icfg, &c, NULL, 0))
		return false;
	hw_ctx_index_init(&c);
	p->n = 0;
	uint64_t table = c.root;
	for (int l = c.top; l >= 0 && p->n < HW_MAX_LEVELS; l--) {
		uint64_t slot = table + 8 * hw_level_index(&c, l, iova);
		uint64_t v = ims_mem_load(mem, IMS_AGENT_HW, slot);
		if (!v)
			break;
		p->slot[p->n] = slot;
		p->val[p->n] = v;
		p->table[p->n] = table;
		p->level[p->n] = l;
		p->n++;
		uint64_t next;
		int nl = fd->hw->next_table(&c, l, v, &next);
		if (nl < 0)
			break;
		table = next;
		l = nl + 1; /* an AMD level skip goes on at its level */
	}
	return p->n > 0;
}

bool fz_gen_corrupt(struct fz_gen *g, struct gdom *d, struct ims_event *ev, bool *flush)
{
	struct fz_rng *r = &g->rng;
	uint64_t pt_, leaf, lsize;
	if (!fz_pick_point(g, d, &pt_, &leaf, &lsize))
		return false;
	struct fz_path p;
	uint64_t w[IMS_CTX_WORDS];
	ims_pt_ctx_words(d->pt, w);
	if (!fz_walk_path(g->mem, d->geo->fmt, w, pt_, &p))
		return false;
	/* The leaf (or the lowest entry there) most of the time, else an
	 * entry of an upper level. */
	unsigned k = p.n - 1;
	if (p.n > 1 && fz_pct(r, 40))
		k = (unsigned)fz_below(r, p.n - 1);
	enum ims_format f = d->geo->fmt;
	uint64_t v = p.val[k], nv = v;
	switch (fz_below(r, 7)) {
	case 0: /* one bit anywhere */
		nv = v ^ (1ull << fz_below(r, 64));
		break;
	case 1: /* a few */
		for (unsigned i = 0, n = 2 + (unsigned)fz_below(r, 3); i < n; i++)
			nv ^= 1ull << fz_below(r, 64);
		break;
	case 2: { /* a bit of the entry's shape */
		uint64_t m = shape_bits(f);
		unsigned bit = (unsigned)fz_below(r, (uint64_t)__builtin_popcountll(m));
		while (bit--)
			m &= m - 1;
		nv = v ^ (m & -m);
		break;
	}
	case 3: /* a page larger than the level holds */
		nv = oversize(r, f, v);
		break;
	case 4: /* the entry of another level on the path, here */
		nv = p.val[fz_below(r, p.n)];
		if (nv == v)
			nv = oversize(r, f, v);
		break;
	case 5: /* the address field: another table of the path, or one frame off */
		if (fz_pct(r, 60))
			nv = (v & ~TABLE_ADDR) | p.table[fz_below(r, p.n)];
		else
			nv = v ^ (1ull << (12 + fz_below(r, 4)));
		break;
	default: /* a neighbour's value: one table reachable from two entries */
		if (fz_pct(r, 50)) {
			ims_mem_store(g->mem, IMS_AGENT_HW, p.slot[k] ^ 8, v);
			ev_init(ev, IMS_OP_MEM);
			ev_set(ev, IMS_K_PA, p.slot[k] ^ 8);
			ev_set(ev, IMS_K_VAL, v);
			goto emit;
		}
		nv = v ^ (1ull << fz_below(r, 64));
		break;
	}
	if (nv == v)
		nv = v ^ 1;
	ims_mem_store(g->mem, IMS_AGENT_HW, p.slot[k], nv);
	ev_init(ev, IMS_OP_MEM);
	ev_set(ev, IMS_K_PA, p.slot[k]);
	ev_set(ev, IMS_K_VAL, nv);
emit:
	if (g->cfg.cover)
		g->cfg.cover->corrupt_writes++;
	/* Drop what the IOTLB and walk caches hold now and then, so the
	 * devices' next walks meet the entry. */
	*flush = fz_pct(r, 50);
	return true;
}
