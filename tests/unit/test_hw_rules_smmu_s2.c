/* The Arm SMMUv3 stage-2 hardware rules (smmuv3/s2_hw.c), each with a test
 * that fails when the rule is broken:
 * - the STE (SMMUv3 5.2): Config 0b110, S2TG against SMMU_IDR5, S2T0SZ's
 *   range, S2SL0 per granule and its consistency with S2T0SZ (at most 16
 *   concatenated start-level tables, Arm ARM D8.2), S2HA / S2HD against
 *   IDR0.HTTU (beyond it ILLEGAL), S2SL0 = 10b against the OAS (Arm ARM
 *   S2InvalidSL), S2AFFD ignored under S2HA, S2TTB within eff_S2PS;
 * - 64K blocks at Arm level 1 only with a 52-bit OAS (D8.3);
 * - the walk from a concatenated start level: the tables follow one another,
 *   the IPA's top bits pick the table (D8.2);
 * - S2AP (D8.4): bit 6 reads, bit 7 writes, write-only exists;
 * - the access flag (D8.5.1): AF = 0 faults (before permissions) unless
 *   S2HA sets it or S2AFFD;
 * - the dirty state (D8.5.2): DBM = 1 with S2AP[1] = 0 is writable-clean;
 *   with S2HD a write sets S2AP[1] (with AF, in one update), without it the
 *   write is a permission fault;
 * - address size (5.2 S2PS): a table or output address past eff_S2PS =
 *   MIN(S2PS, IDR5.OAS) is F_ADDR_SIZE;
 * - every fault carries the record's S2 flag; the stage-2 commands.
 * The conformance cases (tests/conformance/smmuv3-s2.yaml) check the same
 * rules from traces.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/model.h"
#include "iommusim/oracle.h"
#include "smmuv3/s2.h"
#include "smmuv3/s2_codec.h"

#define DEV 9
#define TAG 5
#define ROOT 0x1000000ull /* aligned to 16 concatenated 64K tables */
#define BIG_PA (1ull << 40)
#define RW (S2_D_S2AP_R | S2_D_S2AP_W)

struct rig {
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	unsigned g, ias, levels;
	uint64_t next_table;
};

static unsigned lshift(unsigned g, int level) { return g + (g - 3) * (unsigned)level; }

/* STE words of a geometry, with ha/hd, and extra word-2 bits. */
static void ste(unsigned g, unsigned ias, unsigned levels, bool ha, bool hd, uint64_t w[8])
{
	struct ims_ctx_params cp = {.tag = TAG, .root = ROOT, .levels = levels, .granule_shift = g,
				    .ias = ias, .ha = ha, .hd = hd};
	char err[200];
	ck_assert_msg(ims_ctx_encode(IMS_FMT_SMMUV3_S2, &cp, w, err, sizeof(err)) == 0, "%s", err);
}

static void rig_up(struct rig *r, unsigned g, unsigned ias, unsigned levels, bool ha, bool hd,
		   uint64_t w2_set, const struct ims_iommu_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->g = g, r->ias = ias, r->levels = levels;
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	uint64_t w[IMS_CTX_WORDS];
	ste(g, ias, levels, ha, hd, w);
	w[S2_STE_WORD_S2] |= w2_set;
	char err[200];
	ck_assert_msg(ims_iommu_ctx_set(r->mmu, TAG, IMS_FMT_SMMUV3_S2, w, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
	r->next_table = 0x40000000ull;
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

static uint64_t index_at(const struct rig *r, int level, uint64_t ipa)
{
	unsigned sh = lshift(r->g, level);
	unsigned bits = level == (int)r->levels - 1 ? r->ias - sh : r->g - 3;
	return (ipa >> sh) & ((1ull << bits) - 1);
}

/* Table descriptors from the start level down to `leaf_level` for ipa;
 * returns the leaf slot. */
static uint64_t chain(struct rig *r, int leaf_level, uint64_t ipa)
{
	uint64_t table = ROOT;
	for (int l = (int)r->levels - 1; l > leaf_level; l--) {
		uint64_t slot = table + 8 * index_at(r, l, ipa);
		uint64_t cur = ims_mem_load(r->mem, IMS_AGENT_HW, slot);
		uint64_t next = cur & SMMU_D_OA48_MASK;
		if (!(cur & 1)) {
			next = r->next_table;
			r->next_table += 1ull << r->g;
			ims_mem_store(r->mem, IMS_AGENT_HW, slot, next | SMMU_D_TABLE);
		}
		table = next;
	}
	return table + 8 * index_at(r, leaf_level, ipa);
}

static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }

static int acc(struct rig *r, uint64_t ipa, unsigned a, struct ims_xlate *x)
{
	return ims_iommu_access(r->mmu, DEV, ipa, a, x);
}

static uint64_t leaf(int level, uint64_t pa, uint64_t flags)
{
	return pa | (level ? SMMU_D_BLOCK : SMMU_D_PAGE) | SMMU_D_AF | flags;
}

/* The geometries the tests walk: natural and concatenated start levels of
 * every granule (levels, ias). */
static const struct {
	unsigned g, ias, levels;
} GEOS[] = {
	{12, 48, 4}, {12, 40, 3}, {12, 43, 3}, {12, 34, 2}, {14, 48, 3},
	{14, 40, 2}, {16, 52, 3}, {16, 46, 2}, {16, 42, 2},
};
#define NGEOS (sizeof(GEOS) / sizeof(GEOS[0]))

/* The last page of the space: its top bits select the last concatenated
 * table's last entry. */
static uint64_t last_ipa(unsigned ias, unsigned g) { return (1ull << ias) - (1ull << g); }

/* ---- the STE ---------------------------------------------------------------- */

static int ste_set(const uint64_t w[8], const struct ims_iommu_cfg *cfg, char *err, size_t len)
{
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, cfg, &mmu), 0);
	int rc = ims_iommu_ctx_set(mmu, TAG, IMS_FMT_SMMUV3_S2, w, err, len);
	ims_iommu_free(mmu);
	ims_mem_free(mem);
	return rc;
}

START_TEST(ste_fields)
{
	uint64_t w[8], x[8];
	char err[200];
	ste(12, 48, 4, true, true, w);
	ck_assert_int_eq(ste_set(w, NULL, err, sizeof(err)), 0);
	/* The encoder's fields (SMMUv3 5.2 bit positions, as words). */
	ck_assert_uint_eq(w[0] & 0xf, 0xd); /* V, Config 0b110 */
	ck_assert_uint_eq((w[2] >> 32) & 0x3f, 16);    /* S2T0SZ 165:160 */
	ck_assert_uint_eq((w[2] >> 38) & 3, 2);        /* S2SL0 167:166: Arm level 0 */
	ck_assert_uint_eq((w[2] >> 46) & 3, 0);        /* S2TG 175:174: 4K */
	ck_assert_uint_eq((w[2] >> 48) & 7, 5);        /* S2PS 178:176: 48 bits */
	ck_assert_uint_eq(w[2] & 0xffff, TAG);         /* S2VMID 143:128 */
	ck_assert(w[2] & (1ull << 51) && w[2] & (1ull << 55) && w[2] & (1ull << 56));
	ck_assert_uint_eq(w[3], ROOT);                 /* S2TTB 243:196 */
	ste(14, 48, 3, false, false, x);
	ck_assert_uint_eq((x[2] >> 46) & 3, 2); /* 16K */
	ck_assert_uint_eq((x[2] >> 38) & 3, 2); /* Arm level 1 */
	ste(16, 42, 2, false, false, x);
	ck_assert_uint_eq((x[2] >> 46) & 3, 1); /* 64K */
	ck_assert_uint_eq((x[2] >> 38) & 3, 1); /* Arm level 2 */
	ck_assert_uint_eq((x[2] >> 48) & 7, 6); /* 52 bits */

	/* Refused: V = 0, each other Config, S2AA64 = 0, S2ENDI = 1, S2TG 11,
	 * S2SL0 11, an S2SL0 inconsistent with S2T0SZ either way, S2T0SZ out
	 * of 16..39, S2TTB past the output size. */
	struct {
		unsigned word;
		uint64_t clear, set;
	} bad[] = {
		{0, 1, 0},
		{0, 0xe, 0x0},
		{0, 0xe, 0x8},
		{0, 0xe, 0xa},
		{0, 0xe, 0xe},
		{2, S2_STE2_AA64, 0},
		{2, 0, S2_STE2_ENDI},
		{2, S2_STE2_TG_MASK, 3ull << S2_STE2_TG_SHIFT},
		{2, S2_STE2_SL0_MASK, 3ull << S2_STE2_SL0_SHIFT},
		{2, S2_STE2_SL0_MASK, 1ull << S2_STE2_SL0_SHIFT}, /* Arm L1: 18 bits > 13 */
		{2, S2_STE2_T0SZ_MASK, 15ull << S2_STE2_T0SZ_SHIFT},
		{2, S2_STE2_T0SZ_MASK | S2_STE2_SL0_MASK, 40ull << S2_STE2_T0SZ_SHIFT},
		{2, S2_STE2_T0SZ_MASK, 25ull << S2_STE2_T0SZ_SHIFT}, /* L0 with ias 39: 0 bits */
		{3, 0, 1ull << 48},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(x, w, sizeof(x));
		x[bad[i].word] = (x[bad[i].word] & ~bad[i].clear) | bad[i].set;
		err[0] = 0;
		ck_assert_msg(ste_set(x, NULL, err, sizeof(err)) == -EINVAL, "case %u accepted", i);
		ck_assert_msg(err[0], "case %u: no reason", i);
	}
	/* The boundaries: 16 concatenated tables at Arm level 1 (ias 43) and
	 * 2 at level 0 (ias 40, SL0 = 10) are both consistent. */
	ste(12, 43, 3, false, false, x);
	ck_assert_int_eq(ste_set(x, NULL, err, sizeof(err)), 0);
	ste(12, 40, 4, false, false, x);
	ck_assert_int_eq(ste_set(x, NULL, err, sizeof(err)), 0);
	/* SMMU_IDR5: a granule it does not offer is ILLEGAL; OAS caps S2T0SZ. */
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.smmu_idr5 &= ~SMMU_IDR5_GRAN4K;
	ck_assert_int_eq(ste_set(w, &cfg, err, sizeof(err)), -EINVAL);
	ims_iommu_cfg_default(&cfg);
	cfg.smmu_idr5 = (cfg.smmu_idr5 & ~SMMU_IDR5_OAS_MASK) | 2; /* 40 bits */
	ck_assert_int_eq(ste_set(w, &cfg, err, sizeof(err)), -EINVAL);
	ste(12, 40, 3, false, false, x);
	ck_assert_int_eq(ste_set(x, &cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(ste_httu_and_affd)
{
	uint64_t w[8];
	ste(12, 48, 4, true, true, w);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	struct hw_ctx c;
	char err[200];
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && c.hd);
	ck_assert_int_eq(c.top, 3);
	ck_assert_uint_eq(c.ias, 48);
	/* SMMUv3 5.2: S2HD with HTTU = 01b is ILLEGAL, S2HA alone is not;
	 * with HTTU = 00b S2HA is ILLEGAL too (S2HD with or without it). The
	 * reason names the field. */
	cfg.smmu_idr0 = 1ull << SMMU_IDR0_HTTU_SHIFT;
	err[0] = 0;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "S2HD") != NULL, "%s", err);
	uint64_t ha_only[8];
	memcpy(ha_only, w, sizeof(ha_only));
	ha_only[2] &= ~S2_STE2_HD;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(ha_only, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && !c.hd);
	cfg.smmu_idr0 = 0;
	err[0] = 0;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(ha_only, &cfg, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "S2HA") != NULL, "%s", err);
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), -EINVAL);
	uint64_t hd_only[8];
	memcpy(hd_only, w, sizeof(hd_only));
	hd_only[2] &= ~S2_STE2_HA;
	cfg.smmu_idr0 = 1ull << SMMU_IDR0_HTTU_SHIFT;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(hd_only, &cfg, &c, err, sizeof(err)), -EINVAL);
	uint64_t neither[8];
	memcpy(neither, hd_only, sizeof(neither));
	neither[2] &= ~S2_STE2_HD;
	cfg.smmu_idr0 = 0;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(neither, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(!c.ha && !c.hd);
	/* Through the model: the STE is refused (C_BAD_STE), and a device
	 * attached to it faults at the context. */
	ims_iommu_cfg_default(&cfg);
	cfg.smmu_idr0 = 1ull << SMMU_IDR0_HTTU_SHIFT;
	ck_assert_int_eq(ste_set(w, &cfg, err, sizeof(err)), -EINVAL);
	/* {S2HA, S2HD} = 01 behaves as both off; S2AFFD is ignored under S2HA. */
	ims_iommu_cfg_default(&cfg);
	w[2] &= ~S2_STE2_HA;
	w[2] |= S2_STE2_AFFD;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(!c.ha && !c.hd && c.affd);
	w[2] |= S2_STE2_HA;
	ck_assert_int_eq(s2_hw_fmt.decode_ctx(w, &cfg, &c, err, sizeof(err)), 0);
	ck_assert(c.ha && !c.affd);
}
END_TEST

/* Arm ARM AArch64.S2InvalidSL (SMMUv3 5.2 STE.S2SL0, PAMax = SMMU_IDR5.OAS):
 * S2SL0 = 10b needs a 44-bit OAS with 4K (Arm level 0) and 64K (Arm level
 * 1), 42 bits with 16K (Arm level 1); short of it the STE is ILLEGAL even
 * where S2T0SZ agrees with the start level. */
START_TEST(ste_sl0_needs_pa_size)
{
	static const struct {
		unsigned g, ias, levels, oas_enc; /* IDR5.OAS: 2 = 40, 3 = 42, 4 = 44 bits */
		int rc;
	} cases[] = {
		{12, 40, 4, 2, -EINVAL}, {12, 42, 4, 3, -EINVAL}, {12, 40, 4, 4, 0},
		{12, 40, 3, 2, 0},       {14, 40, 3, 2, -EINVAL}, {14, 40, 3, 3, 0},
		{14, 37, 3, 2, -EINVAL}, {16, 44, 3, 4, 0},       {16, 42, 2, 3, 0},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.smmu_idr5 = (cfg.smmu_idr5 & ~SMMU_IDR5_OAS_MASK) | cases[i].oas_enc;
		uint64_t w[8];
		ste(cases[i].g, cases[i].ias, cases[i].levels, false, false, w);
		char err[200] = "";
		ck_assert_msg(ste_set(w, &cfg, err, sizeof(err)) == cases[i].rc, "case %u: %s", i,
			      err);
		if (cases[i].rc) {
			ck_assert_uint_eq((w[2] & S2_STE2_SL0_MASK) >> S2_STE2_SL0_SHIFT, 2);
			ck_assert_msg(strstr(err, "S2SL0 = 10b") != NULL, "case %u: %s", i, err);
		}
	}
}
END_TEST

/* ---- walks from every start level --------------------------------------------- */

START_TEST(concatenated_walks)
{
	/* A page at the first and the last IPA of each geometry, and one in
	 * the middle of the start-level table: each translates through its
	 * own table of the concatenation. */
	for (unsigned i = 0; i < NGEOS; i++) {
		struct rig r;
		rig_up(&r, GEOS[i].g, GEOS[i].ias, GEOS[i].levels, false, false, 0, NULL);
		uint64_t ipas[3] = {0, last_ipa(r.ias, r.g), 1ull << (r.ias - 1)};
		for (unsigned k = 0; k < 3; k++) {
			uint64_t slot = chain(&r, 0, ipas[k]);
			put(&r, slot, leaf(0, BIG_PA + ((uint64_t)k << r.g), RW));
		}
		for (unsigned k = 0; k < 3; k++) {
			struct ims_xlate x;
			ck_assert_msg(acc(&r, ipas[k] + 0x18, IMS_ACC_R, &x) == 0,
				      "g %u ias %u levels %u ipa 0x%llx", r.g, r.ias, r.levels,
				      (unsigned long long)ipas[k]);
			ck_assert_uint_eq(x.pa, BIG_PA + ((uint64_t)k << r.g) + 0x18);
		}
		/* Past the IPA size: a stage 2 translation fault, no walk. */
		struct ims_xlate x;
		if (r.ias < 64) {
			ck_assert_int_eq(acc(&r, 1ull << r.ias, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(x.code, SMMU_EVT_F_TRANSLATION | SMMU_EVT_S2);
		}
		rig_down(&r);
	}
}
END_TEST

/* ---- S2AP, the access flag, the dirty state ---------------------------------- */

START_TEST(s2ap_every_encoding)
{
	/* D8.4: 00 nothing, 01 read, 10 write (write-only), 11 both; a block
	 * and a page alike. */
	struct rig r;
	rig_up(&r, 12, 48, 4, false, false, 0, NULL);
	for (int level = 0; level < 2; level++) {
		for (unsigned ap = 0; ap < 4; ap++) {
			uint64_t ipa = ((uint64_t)(level + 1) << 39) | ((uint64_t)ap << lshift(12, level));
			uint64_t slot = chain(&r, level, ipa);
			put(&r, slot, leaf(level, BIG_PA, (uint64_t)ap << 6));
			for (unsigned a = IMS_ACC_R; a <= IMS_ACC_RW; a++) {
				bool ok = (!(a & IMS_ACC_R) || (ap & 1)) && (!(a & IMS_ACC_W) || (ap & 2));
				struct ims_xlate x;
				int rc = acc(&r, ipa, a, &x);
				ck_assert_msg(rc == (ok ? 0 : IMS_FAULT_PERM),
					      "level %d S2AP %u acc %u: %d", level, ap, a, rc);
				if (!ok)
					ck_assert_uint_eq(x.code, SMMU_EVT_F_PERMISSION | SMMU_EVT_S2);
				ims_iommu_inv_domain(r.mmu, TAG);
			}
		}
	}
	rig_down(&r);
}
END_TEST

START_TEST(access_flag)
{
	/* AF = 0: with S2HA off and S2AFFD = 0 an Access flag fault, before
	 * the permission fault a write to a read-only page would be; with
	 * S2HA the hardware sets AF; with S2AFFD it reads as 1 and nothing is
	 * written. Every granule, a page and a block. */
	static const unsigned gs[3][3] = {{12, 48, 4}, {14, 48, 3}, {16, 48, 3}};
	for (unsigned gi = 0; gi < 3; gi++)
		for (int level = 0; level < 2; level++)
			for (unsigned mode = 0; mode < 3; mode++) {
				struct rig r;
				rig_up(&r, gs[gi][0], gs[gi][1], gs[gi][2], mode == 1, false,
				       mode == 2 ? S2_STE2_AFFD : 0, NULL);
				uint64_t ipa = 3ull << lshift(r.g, level);
				uint64_t ro_ipa = 4ull << lshift(r.g, level);
				uint64_t slot = chain(&r, level, ipa), ro = chain(&r, level, ro_ipa);
				uint64_t d = leaf(level, BIG_PA, RW) & ~SMMU_D_AF;
				uint64_t dro = leaf(level, 2 * BIG_PA, S2_D_S2AP_R) & ~SMMU_D_AF;
				put(&r, slot, d);
				put(&r, ro, dro);
				struct ims_xlate x;
				int rc = acc(&r, ipa, IMS_ACC_R, &x);
				int rc2 = acc(&r, ro_ipa, IMS_ACC_W, &x);
				if (mode == 0) {
					ck_assert_int_eq(rc, IMS_FAULT_ACCESS);
					ck_assert_int_eq(rc2, IMS_FAULT_ACCESS);
					ck_assert_uint_eq(x.code, SMMU_EVT_F_ACCESS | SMMU_EVT_S2);
					ck_assert_uint_eq(get(&r, slot), d);
				} else {
					ck_assert_int_eq(rc, 0);
					ck_assert_int_eq(rc2, IMS_FAULT_PERM);
					ck_assert_uint_eq(get(&r, slot), mode == 1 ? d | SMMU_D_AF : d);
					ck_assert_int_eq(s2_hw_fmt.cacheable(&(struct hw_ctx){.affd = mode == 2}, d),
							 mode == 2);
				}
				rig_down(&r);
			}
}
END_TEST

START_TEST(dirty_state)
{
	/* D8.5.2 at stage 2: DBM = 1, S2AP[1] = 0 is writable-clean. With
	 * S2HD a read changes nothing, a write passes and sets S2AP[1] (and
	 * AF, one update); the oracle records the whole leaf. Without S2HD
	 * the write is a permission fault and memory is unchanged. DBM = 0
	 * with S2AP[1] = 0 stays read-only with S2HD. */
	for (int hd = 0; hd < 2; hd++)
		for (int level = 0; level < 3; level++) {
			struct rig r;
			rig_up(&r, 12, 48, 4, true, hd, 0, NULL);
			const struct ims_iommu_counters *n = ims_iommu_counters(r.mmu);
			uint64_t ipa = (5ull << lshift(12, level)) | (1ull << 39);
			uint64_t ro_ipa = (6ull << lshift(12, level)) | (1ull << 39);
			uint64_t slot = chain(&r, level, ipa), ro = chain(&r, level, ro_ipa);
			uint64_t clean = (leaf(level, BIG_PA, S2_D_S2AP_R | SMMU_D_DBM)) & ~SMMU_D_AF;
			uint64_t rdonly = leaf(level, 2 * BIG_PA, S2_D_S2AP_R);
			put(&r, slot, clean);
			put(&r, ro, rdonly);
			struct ims_xlate x;
			ck_assert_int_eq(acc(&r, ipa, IMS_ACC_R, &x), 0);
			ck_assert_uint_eq(get(&r, slot), clean | SMMU_D_AF);
			put(&r, slot, clean);
			ims_iommu_inv_domain(r.mmu, TAG);
			uint64_t before = n->ad_writes;
			int rc = acc(&r, ipa + (1ull << lshift(12, level)) - 8, IMS_ACC_W, &x);
			if (hd) {
				ck_assert_int_eq(rc, 0);
				ck_assert(x.dirtied && x.accessed);
				ck_assert_uint_eq(get(&r, slot), clean | SMMU_D_AF | S2_D_S2AP_W);
				ck_assert_uint_eq(n->ad_writes - before, 1);
				ck_assert(s2_hw_fmt.is_dirty(NULL, get(&r, slot)));
				struct ims_oracle *o = ims_iommu_oracle(r.mmu);
				ck_assert(ims_oracle_test(o, TAG, ipa));
				ck_assert(ims_oracle_test(o, TAG, ipa + (1ull << lshift(12, level)) - 0x1000));
			} else {
				ck_assert_int_eq(rc, IMS_FAULT_PERM);
				ck_assert_uint_eq(x.code, SMMU_EVT_F_PERMISSION | SMMU_EVT_S2);
				ck_assert_uint_eq(get(&r, slot), clean);
			}
			ck_assert_int_eq(acc(&r, ro_ipa, IMS_ACC_W, &x), IMS_FAULT_PERM);
			ck_assert_uint_eq(get(&r, ro), rdonly);
			ck_assert(!s2_hw_fmt.is_dirty(NULL, rdonly | S2_D_S2AP_W)); /* no DBM */
			rig_down(&r);
		}
}
END_TEST

START_TEST(contiguous_group)
{
	/* D8.5.5 at stage 2: a write through entry k of a 16-entry group sets
	 * S2AP[1] in entry k only and the access covers the whole group; once
	 * any entry records the dirty state no update is made. */
	struct rig r;
	rig_up(&r, 12, 48, 4, true, true, 0, NULL);
	uint64_t ipa = 1ull << 39;
	uint64_t slot = chain(&r, 0, ipa);
	for (unsigned i = 0; i < 16; i++)
		put(&r, slot + 8 * i, leaf(0, BIG_PA + ((uint64_t)i << 12), S2_D_S2AP_R | SMMU_D_DBM |
								 SMMU_D_CONT));
	struct ims_xlate x;
	ck_assert_int_eq(acc(&r, ipa + 5 * 0x1000 + 8, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.leaf_shift, 16);
	ck_assert_uint_eq(x.pa, BIG_PA + 5 * 0x1000 + 8);
	for (unsigned i = 0; i < 16; i++)
		ck_assert_uint_eq(get(&r, slot + 8 * i) & S2_D_S2AP_W, i == 5 ? S2_D_S2AP_W : 0);
	ims_iommu_inv_domain(r.mmu, TAG);
	ck_assert_int_eq(acc(&r, ipa + 9 * 0x1000, IMS_ACC_W, &x), 0);
	ck_assert(!x.dirtied);
	ck_assert_uint_eq(get(&r, slot + 8 * 9) & S2_D_S2AP_W, 0);
	ck_assert(s2_hw_fmt.group_skip_if_any);
	rig_down(&r);
}
END_TEST

START_TEST(address_size)
{
	/* eff_S2PS = MIN(S2PS, IDR5.OAS): with OAS 40 bits, a leaf at 2^40
	 * and a table at 2^40 are F_ADDR_SIZE at stage 2; below, they
	 * translate. With the 64K granule and 52 bits an address above 2^48
	 * is fine. */
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.smmu_idr5 = (cfg.smmu_idr5 & ~SMMU_IDR5_OAS_MASK) | 2;
	struct rig r;
	rig_up(&r, 12, 40, 3, false, false, 0, &cfg);
	uint64_t slot = chain(&r, 0, 0);
	put(&r, slot, leaf(0, 1ull << 40, RW));
	put(&r, slot + 8, leaf(0, (1ull << 40) - 0x1000, RW));
	struct ims_xlate x;
	ck_assert_int_eq(acc(&r, 0, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.code, SMMU_EVT_F_ADDR_SIZE | SMMU_EVT_S2);
	struct ims_fault f;
	ck_assert(ims_iommu_fault_pop(r.mmu, &f));
	ck_assert(f.has_level);
	ck_assert_int_eq(f.level, 0);
	ck_assert_int_eq(acc(&r, 0x1000, IMS_ACC_R, &x), 0);
	ck_assert_uint_eq(x.pa, (1ull << 40) - 0x1000);
	/* A table descriptor past 2^40 (Arm level 1 entry 1 of IPA 1G). */
	put(&r, ROOT + 8, (1ull << 40) | SMMU_D_TABLE);
	ck_assert_int_eq(acc(&r, 1ull << 30, IMS_ACC_R, &x), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(x.code, SMMU_EVT_F_ADDR_SIZE | SMMU_EVT_S2);
	ims_iommu_fault_pop(r.mmu, &f);
	ck_assert_int_eq(f.level, 2);
	rig_down(&r);

	rig_up(&r, 16, 52, 3, false, false, 0, NULL);
	slot = chain(&r, 0, 0);
	/* OA[51:48] in bits 15:12 (FEAT_LPA). */
	put(&r, slot, SMMU_D_PAGE | SMMU_D_AF | RW | (0x3ull << 12) | 0x10000);
	ck_assert_int_eq(acc(&r, 0x20, IMS_ACC_W, &x), 0);
	ck_assert_uint_eq(x.pa, (3ull << 48) | 0x10020);
	rig_down(&r);
}
END_TEST

/* Arm ARM D8.3, AArch64.BlockDescSupported: with the 64K granule a block at
 * Arm level 1 (4 TiB) exists when PAMax (SMMU_IDR5.OAS) is 52 bits
 * (FEAT_LPA); with a smaller OAS 01 there is invalid (stage 2 translation
 * fault). The 512 MiB block at Arm level 2 exists either way. */
START_TEST(block_64k_level1)
{
	for (int oas52 = 0; oas52 < 2; oas52++) {
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		cfg.smmu_idr5 = (cfg.smmu_idr5 & ~SMMU_IDR5_OAS_MASK) | (oas52 ? 6 : 5);
		struct rig r;
		rig_up(&r, 16, 48, 3, false, false, 0, &cfg);
		uint64_t ipa = 1ull << 42, pa = 1ull << 44;
		put(&r, chain(&r, 2, ipa), leaf(2, pa, RW));
		put(&r, chain(&r, 1, 0), leaf(1, 1ull << 29, RW));
		struct ims_xlate x;
		ck_assert_int_eq(acc(&r, 0x1234560, IMS_ACC_R, &x), 0);
		ck_assert_uint_eq(x.pa, (1ull << 29) | 0x1234560);
		int rc = acc(&r, ipa + 0x123456789ull, IMS_ACC_W, &x);
		if (oas52) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(x.pa, pa + 0x123456789ull);
			ck_assert_uint_eq(x.leaf_shift, 42);
		} else {
			ck_assert_int_eq(rc, IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(x.code, SMMU_EVT_F_TRANSLATION | SMMU_EVT_S2);
		}
		rig_down(&r);
	}
}
END_TEST

/* ---- commands ----------------------------------------------------------------- */

START_TEST(commands)
{
	struct hw_cmd c;
	/* CMD_TLBI_S2_IPA: VMID 47:32, range of (NUM + 1) << SCALE granules. */
	uint64_t ipa[2] = {SMMU_CMD_TLBI_S2_IPA | 7ull << SMMU_CMD_VMID_SHIFT | 3ull << 12 |
				   1ull << 20,
			   SMMU_CMD1_LEAF | 1ull << SMMU_CMD1_TG_SHIFT | 0x1234000ull};
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(s2_hw_fmt.decode_cmd(ipa, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_RANGE);
	ck_assert_uint_eq(c.tag, 7);
	ck_assert(c.leaf_only);
	ck_assert_uint_eq(c.iova, 0x1234000);
	ck_assert_uint_eq(c.size, 8ull << 12);
	uint64_t vmall[2] = {SMMU_CMD_TLBI_S12_VMALL | 9ull << SMMU_CMD_VMID_SHIFT, 0};
	ck_assert_int_eq(s2_hw_fmt.decode_cmd(vmall, &c), 0);
	ck_assert_int_eq(c.kind, CMD_INV_DOMAIN);
	ck_assert_uint_eq(c.tag, 9);
	uint64_t nh[2] = {SMMU_CMD_TLBI_NH_ASID, 0};
	ck_assert_int_eq(s2_hw_fmt.decode_cmd(nh, &c), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw_rules_smmu_s2");
	TCase *t = tcase_create("stage2");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, ste_fields);
	tcase_add_test(t, ste_httu_and_affd);
	tcase_add_test(t, ste_sl0_needs_pa_size);
	tcase_add_test(t, concatenated_walks);
	tcase_add_test(t, s2ap_every_encoding);
	tcase_add_test(t, access_flag);
	tcase_add_test(t, dirty_state);
	tcase_add_test(t, contiguous_group);
	tcase_add_test(t, address_size);
	tcase_add_test(t, block_64k_level1);
	tcase_add_test(t, commands);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
