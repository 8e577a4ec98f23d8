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
struct hw_step;

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

/* Which translations a command names, for nested contexts (docs/nested.md):
 * HW_STAGE_ANY for a format without two stages; HW_STAGE_1 a stage-1
 * command (SMMU CMD_TLBI_NH_*, VT-d PASID-based IOTLB, AMD
 * INVALIDATE_IOMMU_PAGES with GN = 1: input addresses); HW_STAGE_2 a
 * stage-2 one (SMMU CMD_TLBI_S2_IPA / S12_VMALL, VT-d IOTLB, AMD GN = 0:
 * intermediate / guest-physical addresses). */
enum hw_stage { HW_STAGE_ANY = 0, HW_STAGE_1, HW_STAGE_2 };

struct hw_cmd {
	enum hw_cmd_kind kind;
	uint16_t tag;
	uint64_t iova, size;
	bool leaf_only;
	enum hw_stage stage;
};

/* Where a stage-2 fault of a nested translation arose, for the format's
 * nested fault code (hw_fmt.nest_code). */
enum hw_nest_where {
	NEST_S1_ROOT = 0, /* a read of the stage-1 top table */
	NEST_S1_TABLE,    /* a read of a lower stage-1 table */
	NEST_S1_AD,       /* a stage-1 A/D write (needs stage-2 write permission) */
	NEST_FINAL,       /* the stage-1 output address */
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
	/* Optional: the rules above composed for a walk, one call where the
	 * engine would make three or four (NULL: it calls them one by one,
	 * which any format gets by giving the rules alone). HW_FMT_FUSED()
	 * defines both from the format's own rule functions, so no rule is
	 * written twice. */
	void (*step)(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc, bool r, bool w,
		     struct hw_step *s);
	unsigned (*fill)(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e, bool r,
			 bool w);
	/* Nested translation (docs/nested.md). A stage-1 format that nests:
	 * nest_over is 1 + the stage-2 format it nests over (0: it does not),
	 * and decode_nested (NULL: decode_ctx) decodes its context words as
	 * the nested configuration writes them. A stage-2 format: nest_code
	 * (NULL: the code as it is) turns the code of a stage-2 fault into
	 * what the nested translation reports where it arose, and
	 * nest_range_combined says whether a stage-2 range invalidation also
	 * drops the combined (stage 1 + 2) entries whose IPA it meets. */
	unsigned nest_over;
	int (*decode_nested)(const uint64_t *w, const struct ims_iommu_cfg *cfg, struct hw_ctx *c,
			     char *err, size_t errlen);
	uint32_t (*nest_code)(uint32_t code, enum hw_nest_where where);
	bool nest_range_combined;
};

/* What step() tells of the entry read at `level`: decode() (into a zeroed
 * hw_ent); for a table, the bits table_update() sets; for a leaf, check()
 * of the access under the permissions r and w of the walk so far, and, when
 * it passes, leaf_update() (zero otherwise). The fields that do not apply
 * to the entry's kind are left as they were. */
struct hw_step {
	struct hw_ent e;
	enum ims_fault_kind k; /* LEAF: check()'s verdict */
	uint32_t code;         /* LEAF: check()'s code when k is not IMS_FAULT_NONE */
	uint64_t table_a;      /* TABLE: table_update() */
	struct hw_upd u;       /* LEAF, k IMS_FAULT_NONE: leaf_update() */
};

/* fill()'s answer for a leaf pte (after its A/D update) decoded as e:
 * cacheable(), check() of a read and of a write, is_dirty(). */
#define HW_FILL_CACHEABLE 1u
#define HW_FILL_R 2u
#define HW_FILL_W 4u
#define HW_FILL_DIRTY 8u

/* Defines NAME_step and NAME_fill from a format's rule functions, static
 * in its file; flatten inlines them into both, so a walk pays one call
 * where it paid one per rule. table_update may not be NULL: a format
 * without one passes hw_no_table_update. */
#define HW_FMT_FUSED(NAME, decode, check, leaf_update, table_update, cacheable, is_dirty)     \
	static __attribute__((flatten)) void NAME##_step(const struct hw_ctx *c, int level,   \
							 uint64_t pte, unsigned acc, bool r,  \
							 bool w, struct hw_step *s)           \
	{                                                                                      \
		s->e = (struct hw_ent){.kind = HWE_INVALID};                                   \
		decode(c, level, pte, acc, &s->e);                                             \
		if (s->e.kind == HWE_TABLE) {                                                  \
			s->table_a = table_update(c, pte);                                     \
		} else if (s->e.kind == HWE_LEAF) {                                            \
			s->code = 0;                                                           \
			s->u = (struct hw_upd){.a_done = false};                               \
			s->k = check(c, pte, &s->e, r, w, acc, &s->code);                      \
			if (s->k == IMS_FAULT_NONE)                                            \
				leaf_update(c, pte, acc, &s->u);                               \
		}                                                                              \
	}                                                                                      \
	static __attribute__((flatten)) unsigned NAME##_fill(                                 \
		const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e, bool r, bool w)  \
	{                                                                                      \
		uint32_t code;                                                                 \
		unsigned f = cacheable(c, pte) ? HW_FILL_CACHEABLE : 0;                        \
		if (check(c, pte, e, r, w, IMS_ACC_R, &code) == IMS_FAULT_NONE)                \
			f |= HW_FILL_R;                                                        \
		if (check(c, pte, e, r, w, IMS_ACC_W, &code) == IMS_FAULT_NONE)                \
			f |= HW_FILL_W;                                                        \
		return is_dirty(c, pte) ? f | HW_FILL_DIRTY : f;                               \
	}

static inline __attribute__((unused)) uint64_t hw_no_table_update(const struct hw_ctx *c,
								   uint64_t pte)
{
	(void)c;
	(void)pte;
	return 0;
}

/* Index bits at `level` of context c. */
static inline unsigned hw_level_bits(const struct hw_ctx *c, int level)
{
	if (level < c->top)
		return c->stride;
	unsigned lo = c->gshift + c->stride * (unsigned)level;
	return c->ias > lo ? c->ias - lo : 0;
}

/* The entries a leaf of 2^page_shift bytes takes at `level`, whose entries
 * map 2^shift bytes each: one, or a run of them (AMD replicas, an Arm
 * contiguous group) no longer than the level's table, aligned to its
 * length. */
static inline unsigned hw_run_len(const struct hw_ctx *c, int level, unsigned shift,
				  unsigned page_shift)
{
	if (page_shift <= shift)
		return 1;
	unsigned span = page_shift - shift, bits = hw_level_bits(c, level);
	return span >= bits ? (1u << bits) : (1u << span);
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
