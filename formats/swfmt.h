/* The software format ops: what an OS driver knows about one format.
 *
 * pagetables/ holds the generic radix code (pt.c: map, unmap, iova_to_phys;
 * harvest.c: read_and_clear_dirty); each format supplies these ops (amd/amd_sw.c,
 * vtd/vtd_sw.c, smmuv3/smmu_sw.c). A leaf of 2^shift bytes lives at one level
 * as a run of 2^(shift - entry_shift) entries: AMD NextLevel=7 replicas
 * (identical) or an Arm contiguous group (consecutive output addresses).
 *
 * The ops are encoders and decoders: they touch no memory and call nothing
 * of pagetables/. What they must send to hardware (invalidations, context
 * changes) goes through the command path the host hands them in pt_dom.
 */
#ifndef IMS_FORMATS_SWFMT_H
#define IMS_FORMATS_SWFMT_H

#include "iommusim/common.h"

struct pt_geom {
	int top;          /* level of the root table */
	unsigned gshift;  /* log2 granule */
	unsigned stride;  /* index bits per level below the top */
	unsigned ias;     /* input address bits (64 = whole space) */
	unsigned oas;     /* output address bits a leaf can hold (0 = 64) */
	uint64_t pgsizes; /* leaf sizes the format offers in this geometry */
};

/* PT_BAD: a present entry the format's rules say is malformed at its level
 * (a corrupt table: nothing this software writes). Software never follows,
 * sizes or cleans it; pagetables/ reports it as a finding (pt_check.c). */
enum pt_kind { PT_NONE = 0, PT_TABLE, PT_LEAF, PT_BAD };

/* A domain's geometry parameters as the user gives them (0 = default);
 * init() fills in the defaults. Field meanings as in struct ims_pt_cfg. */
struct pt_params {
	unsigned levels;
	unsigned granule_shift;
	unsigned ias;
	uint64_t pgsizes;
};

/* What the software ops see of one domain, and the host's command path. */
struct pt_dom {
	uint16_t tag;        /* DomainID / DID / ASID */
	unsigned levels;     /* AMD Mode, VT-d levels (0 for SMMU) */
	bool dirty_tracking; /* allocated for dirty tracking */
	bool tracking;       /* hardware dirty updates switched on */
	bool nest_parent;    /* the stage 2 of nested contexts (ims_pt_cfg) */
	uint64_t root;
	const struct pt_geom *g;
	/* Submit one native command. */
	int (*submit)(void *host, const uint64_t cmd[2]);
	/* Set the bits `mask` of context word `word` to `value`, then
	 * invalidate the context cache and the domain's IOTLB and walk
	 * caches: what a driver does after changing a DTE or PASID-table
	 * entry field. */
	int (*ctx_change)(void *host, unsigned word, uint64_t mask, uint64_t value);
	void *host;
};

struct pt_fmt {
	enum ims_format fmt;
	/* Fill in defaults of cfg and the geometry; -EINVAL with a reason. */
	int (*init)(struct pt_params *cfg, struct pt_geom *g, char *err, size_t errlen);
	/* Level holding leaves of 2^shift bytes, or -1. */
	int (*leaf_level)(const struct pt_geom *g, unsigned shift);
	uint64_t (*mk_table)(const struct pt_geom *g, int level, uint64_t table_pa);
	/* Entry idx of the run that maps a 2^shift page at pa. */
	uint64_t (*mk_leaf)(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
			    unsigned idx, unsigned prot, bool dirty_tracking);
	/* Every value read from a table is decoded here first: table_pa and
	 * leaf_shift are asked only of an entry kind() called a table or a
	 * leaf at that level, so a leaf's size is one this level holds. */
	enum pt_kind (*kind)(const struct pt_geom *g, int level, uint64_t pte);
	/* For an entry kind() called PT_BAD: what is wrong with it (a static
	 * string, for the finding). */
	const char *(*bad_why)(const struct pt_geom *g, int level, uint64_t pte);
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
	void (*ctx_words)(const struct pt_dom *d, uint64_t w[8]);
	/* Switch hardware dirty updates on or off through the sink, with the
	 * context-cache and IOTLB invalidations the format needs. */
	int (*set_hw_dirty)(const struct pt_dom *d, bool on);
	/* Invalidate [iova, iova + size) (size 0: the whole domain); leaf_only
	 * keeps walk caches. Builds the format's native commands. */
	int (*flush)(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only);
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

#endif
