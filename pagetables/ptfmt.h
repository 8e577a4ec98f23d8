/* The software format ops: what an OS driver knows about one format.
 *
 * pagetables/pt.c holds the generic radix code (map, unmap, iova_to_phys,
 * read_and_clear_dirty); each format supplies these ops (amd/amd_sw.c,
 * vtd/vtd_sw.c, smmuv3/smmu_sw.c). A leaf of 2^shift bytes lives at one level
 * as a run of 2^(shift - entry_shift) entries: AMD NextLevel=7 replicas
 * (identical) or an Arm contiguous group (consecutive output addresses).
 */
#ifndef IMS_PAGETABLES_PTFMT_H
#define IMS_PAGETABLES_PTFMT_H

#include "iommusim/pt.h"

struct pt_geom {
	int top;          /* level of the root table */
	unsigned gshift;  /* log2 granule */
	unsigned stride;  /* index bits per level below the top */
	unsigned ias;     /* input address bits (64 = whole space) */
	uint64_t pgsizes; /* leaf sizes the format offers in this geometry */
};

enum pt_kind { PT_NONE = 0, PT_TABLE, PT_LEAF };

struct pt_fmt {
	enum ims_format fmt;
	/* Fill in defaults of cfg and the geometry; -EINVAL with a reason. */
	int (*init)(struct ims_pt_cfg *cfg, struct pt_geom *g, char *err, size_t errlen);
	/* Level holding leaves of 2^shift bytes, or -1. */
	int (*leaf_level)(const struct pt_geom *g, unsigned shift);
	uint64_t (*mk_table)(const struct pt_geom *g, int level, uint64_t table_pa);
	/* Entry idx of the run that maps a 2^shift page at pa. */
	uint64_t (*mk_leaf)(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
			    unsigned idx, unsigned prot, bool dirty_tracking);
	enum pt_kind (*kind)(const struct pt_geom *g, int level, uint64_t pte);
	uint64_t (*table_pa)(uint64_t pte);
	/* For a leaf entry: log2 of the page it belongs to (run included). */
	unsigned (*leaf_shift)(const struct pt_geom *g, int level, uint64_t pte);
	/* Output address of `iova`, which this leaf entry's own slot covers. */
	uint64_t (*leaf_pa)(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova);
	unsigned (*leaf_prot)(uint64_t pte);
	bool (*is_dirty)(uint64_t pte);
	/* Atomic clean: new = (old & ~clean_clear) | clean_set. */
	uint64_t clean_clear, clean_set;
	/* Context words the driver programs (DTE / PASID entry / CD). */
	void (*ctx_words)(const struct ims_pt *pt, uint64_t w[8]);
	/* Switch hardware dirty updates on or off through the sink, with the
	 * context-cache and IOTLB invalidations the format needs. */
	int (*set_hw_dirty)(struct ims_pt *pt, bool on);
	/* Invalidate [iova, iova + size) (size 0: the whole domain); leaf_only
	 * keeps walk caches. Builds the format's native commands. */
	int (*flush)(struct ims_pt *pt, uint64_t iova, uint64_t size, bool leaf_only);
};

extern const struct pt_fmt amd_pt_fmt;
extern const struct pt_fmt vtd_pt_fmt;
extern const struct pt_fmt smmu_pt_fmt;

/* Harvest fast path (pt.c): per level, the output-address field of a
 * single-entry leaf and the entry shapes (the other bits) already decoded. */
#define PT_MAX_LEVELS 8
#define PT_MEMO_WAYS 8
struct pt_memo {
	uint64_t keymask; /* ~address field; 0: no fast path at this level */
	uint64_t addr;
	uint64_t key[PT_MEMO_WAYS];
	uint8_t cls[PT_MEMO_WAYS];
	unsigned n, next;
};

/* The generic page table (shared by pt.c and the format ops). */
struct ims_pt {
	const struct pt_fmt *ops;
	struct ims_mem *mem;
	struct ims_sink sink;
	struct ims_pt_cfg cfg;
	struct pt_geom g;
	uint64_t root;
	uint64_t pgsizes; /* allowed: cfg.pgsizes & g.pgsizes */
	bool tracking;    /* hardware dirty updates switched on */
	struct ims_pt_stats stats;
	struct pt_memo memo[PT_MAX_LEVELS];
};

static inline unsigned pt_level_shift(const struct pt_geom *g, int level)
{
	return g->gshift + g->stride * (unsigned)level;
}

static inline unsigned pt_level_bits(const struct pt_geom *g, int level)
{
	if (level < g->top)
		return g->stride;
	unsigned lo = pt_level_shift(g, level);
	return g->ias > lo ? g->ias - lo : 0;
}

/* Submit one native command through the sink. */
int pt_submit(struct ims_pt *pt, const uint64_t cmd[2]);
/* Set the bits `mask` of context word `word` to `value`, then invalidate the
 * context cache and the domain's IOTLB and walk caches: what a driver does
 * after changing a DTE or PASID-table entry field. */
int pt_ctx_change(struct ims_pt *pt, unsigned word, uint64_t mask, uint64_t value);

#endif
