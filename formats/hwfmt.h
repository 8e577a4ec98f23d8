/* The hardware rules a format gives the generic translation engine.
 *
 * The engine (model/) walks levels from the top, asks the format to
 * decode each entry, ANDs permissions, asks it to check the leaf, and applies
 * the format's atomic A/D update. Formats implement these from the spec
 * (amd/amd_hw.c, vtd/vtd_hw.c, smmuv3/smmu_hw.c), never from the software
 * ops of pagetables/.
 */
#ifndef IMS_FORMATS_HWFMT_H
#define IMS_FORMATS_HWFMT_H

#include "iommusim/model_cfg.h"

struct hw_fmt;

#define HW_MAX_LEVELS 8

/* A decoded hardware context (DTE / PASID-table entry / CD). */
struct hw_ctx {
	const struct hw_fmt *ops;
	uint16_t tag;
	uint64_t root;    /* top table */
	int top;          /* level of the top table (0 = leaf level) */
	unsigned gshift;  /* log2 granule: 12, 14 or 16 */
	unsigned stride;  /* index bits per level below the top */
	unsigned ias;     /* IOVAs at or above 2^ias fault (64: none) */
	bool ha, hd;      /* hardware access / dirty updates enabled */
	bool r, w;        /* context-level permission (AMD DTE IR/IW) */
	bool affd;        /* SMMU CD.AFFD */
	bool priv;        /* accesses are privileged (SMMU) */
	bool nonleaf_a;   /* set A in table entries read during a walk */
	uint64_t caps;    /* bits decode() needs: VT-d CAP.SLLPS; the x86-64 formats'
			   * decoded context flags (x86/x86_hw.h) */
	/* Each level's index is (iova >> ix_shift) & ix_mask: set by
	 * hw_ctx_index_init() once the context is decoded, as every walk
	 * step needs them. */
	uint8_t ix_shift[HW_MAX_LEVELS];
	uint64_t ix_mask[HW_MAX_LEVELS];
	uint64_t ias_over; /* the IOVA bits at or above ias (0 when ias is 64) */
};

enum hwe_kind { HWE_INVALID = 0, HWE_RESERVED, HWE_TABLE, HWE_LEAF };

struct hw_ent {
	enum hwe_kind kind;
	int next;            /* TABLE: level of the next table */
	uint64_t addr;       /* TABLE: next table; LEAF: output address of the page */
	unsigned page_shift; /* LEAF: log2 of the page (whole replica run / group) */
	bool r, w;           /* permission this entry grants (tables: limit below) */
	uint32_t code;       /* INVALID / RESERVED: the format's fault code */
};

/* Bits to change in one atomic update, split so that the engine can drop
 * the part another entry of a contiguous group already records. */
struct hw_upd {
	uint64_t a_clear, a_set; /* access flag */
	uint64_t d_clear, d_set; /* dirty state */
	bool a_done;             /* the engine's answer: the access flag changed in memory */
};

enum hw_cmd_kind { CMD_NONE = 0, CMD_INV_RANGE, CMD_INV_DOMAIN, CMD_INV_ALL, CMD_INV_CTX };

struct hw_cmd {
	enum hw_cmd_kind kind;
	uint16_t tag;
	uint64_t iova, size;
	bool leaf_only;
};

/* Engine-detected conditions that need a format fault code. */
enum hw_cond {
	COND_RANGE = 0, /* IOVA beyond the input range */
	COND_SKIP,      /* non-zero IOVA bits of a skipped level (AMD) */
	COND_CTX,       /* the context is not valid */
};

struct hw_fmt {
	enum ims_format fmt;
	int (*decode_ctx)(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
			  char *err, size_t errlen);
	/* Decode the entry read at `level` for an access of kind acc (the
	 * fault code of an invalid entry may depend on it). */
	void (*decode)(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		       struct hw_ent *e);
	/* Permission / access-flag check of the leaf; r and w are the ANDed
	 * permissions of the context and every table above. Returns the kind
	 * (IMS_FAULT_NONE when allowed) and the format code. */
	enum ims_fault_kind (*check)(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
				     bool r, bool w, unsigned acc, uint32_t *code);
	/* A/D update for an access that passed check(). */
	void (*leaf_update)(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u);
	/* For the walk hint (iommu_prefetch) only: the level of the table
	 * a plain table entry at `level` points to, with *table its address;
	 * -1 for any other entry, where the hint stops and the walk decides.
	 * No fault code, no permission: cheaper than decode(). */
	int (*next_table)(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table);
	/* Bits hardware sets in a table entry it reads (0: none). */
	uint64_t (*table_update)(const struct hw_ctx *c, uint64_t pte);
	bool (*is_dirty)(const struct hw_ctx *c, uint64_t pte);
	bool (*is_accessed)(const struct hw_ctx *c, uint64_t pte);
	/* May a translation through this leaf be cached in the IOTLB? */
	bool (*cacheable)(const struct hw_ctx *c, uint64_t pte);
	uint32_t (*cond_code)(const struct hw_ctx *c, enum hw_cond cond, bool write);
	/* Decode a native command; -EINVAL for one the model does not know. */
	int (*decode_cmd)(const uint64_t cmd[2], struct hw_cmd *out);
	/* D8.5.5: skip an update that any entry of the group already records. */
	bool group_skip_if_any;
};

/* Index bits at `level` of context c. */
static inline unsigned hw_level_bits(const struct hw_ctx *c, int level)
{
	if (level < c->top)
		return c->stride;
	unsigned lo = c->gshift + c->stride * (unsigned)level;
	return c->ias > lo ? c->ias - lo : 0;
}

static inline unsigned hw_level_shift(const struct hw_ctx *c, int level)
{
	return c->gshift + c->stride * (unsigned)level;
}

/* Fills ix_shift / ix_mask for the levels 0..top of a decoded context, and
 * ias_over. */
static inline void hw_ctx_index_init(struct hw_ctx *c)
{
	c->ias_over = c->ias >= 64 ? 0 : ~0ull << c->ias;
	for (int l = 0; l <= c->top && l < HW_MAX_LEVELS; l++) {
		unsigned bits = hw_level_bits(c, l);
		c->ix_shift[l] = (uint8_t)hw_level_shift(c, l);
		c->ix_mask[l] = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	}
}

/* The entry of iova in a table at `level` (0..top). */
static inline uint64_t hw_level_index(const struct hw_ctx *c, int level, uint64_t iova)
{
	return (iova >> c->ix_shift[level]) & c->ix_mask[level];
}

#endif
