/* Arm SMMUv3 stage 2 (VMSAv8-64 stage-2 translation tables): descriptor
 * and Stream Table Entry codec.
 *
 * Level numbering: as stage 1 (smmuv3/smmu_codec.h), our level 0 is Arm
 * level 3, the page level:
 *
 *   Arm level:   3   2   1   0
 *   our level:   0   1   2   3
 *
 * The walk does not start where the input size puts it, as stage 1 does:
 * STE.S2SL0 names the start level, and the start-level table may be up to
 * 16 tables concatenated (Arm ARM D8.2, "Concatenated translation tables
 * for the initial stage 2 lookup"): with a granule of 2^g bytes and stride
 * s = g - 3, the top table at our level L resolves n = ias - (g + s * L)
 * index bits, 1 <= n <= s + 4, i.e. 2^n entries in 2^(n - s) tables of one
 * granule when n > s. The generic engine's top level already takes
 * ias - shift bits (formats/hwfmt.h), so a concatenated start level is a
 * larger top table and needs nothing else. A trace's `levels=` is the
 * number of lookup levels, our top + 1 (4 - the Arm start level).
 *
 * Sources: Arm ARM (DDI 0487) D8.2 (start level, concatenation), D8.3
 * (stage 2 block and page descriptors), D8.4 (stage 2 data access
 * permissions, S2AP), D8.5 (access flag, dirty state with DBM at stage
 * 2); SMMUv3 (IHI 0070) 5.2 (STE), 4.4 (commands), 7.3 (event records).
 * No revision of either is stated: the sections follow docs/formats.md.
 * Descriptor bits shared with stage 1 (type, SH, AF, DBM, Contiguous, the
 * address field) are smmu_codec.h's.
 */
#ifndef IMS_SMMUV3_S2_CODEC_H
#define IMS_SMMUV3_S2_CODEC_H

#include "smmuv3/smmu_codec.h"

/* ---- stage 2 block / page descriptor attributes (Arm ARM D8.3) ----------- */

#define S2_D_MEMATTR_SHIFT 2 /* MemAttr 5:2 */
#define S2_D_MEMATTR_MASK (0xfull << S2_D_MEMATTR_SHIFT)
#define S2_MEMATTR_NORMAL_WB 0xfull /* Normal, Outer and Inner Write-Back */
/* S2AP 7:6 (D8.4, "stage 2 data access permissions"): S2AP[0] (bit 6)
 * allows reads, S2AP[1] (bit 7) allows writes; 00 none, 01 read-only,
 * 10 write-only, 11 read/write. With DBM = 1, S2AP[1] is the dirty state
 * (D8.5): 0 writable-clean, 1 writable-dirty. */
#define S2_D_S2AP_R (1ull << 6)
#define S2_D_S2AP_W (1ull << 7)
#define S2_D_XN_SHIFT 53 /* XN 54:53 (execute never: no effect on DMA) */

/* ---- Stream Table Entry (SMMUv3 5.2), as 64-bit words ---------------------- */

/* word 0 (STE bits 63:0) */
#define S2_STE0_V (1ull << 0)
#define S2_STE0_CONFIG_SHIFT 1 /* Config 3:1 */
#define S2_STE0_CONFIG_MASK (7ull << S2_STE0_CONFIG_SHIFT)
#define S2_CONFIG_ABORT 0ull    /* 0b000: abort, no event */
#define S2_CONFIG_BYPASS 4ull   /* 0b100 */
#define S2_CONFIG_S1 5ull       /* 0b101: stage 1 only */
#define S2_CONFIG_S2 6ull       /* 0b110: stage 2 only */
#define S2_CONFIG_NESTED 7ull   /* 0b111: both stages */
/* word 2 (STE bits 191:128) */
#define S2_STE2_VMID_MASK 0xffffull /* S2VMID 143:128 */
#define S2_STE2_T0SZ_SHIFT 32       /* S2T0SZ 165:160 */
#define S2_STE2_T0SZ_MASK (0x3full << S2_STE2_T0SZ_SHIFT)
#define S2_STE2_SL0_SHIFT 38 /* S2SL0 167:166 */
#define S2_STE2_SL0_MASK (3ull << S2_STE2_SL0_SHIFT)
#define S2_STE2_IR0_SHIFT 40 /* S2IR0 169:168, 01 = WB RA WA */
#define S2_STE2_OR0_SHIFT 42 /* S2OR0 171:170 */
#define S2_STE2_SH0_SHIFT 44 /* S2SH0 173:172 */
#define S2_STE2_TG_SHIFT 46  /* S2TG 175:174: 00 4K, 01 64K, 10 16K */
#define S2_STE2_TG_MASK (3ull << S2_STE2_TG_SHIFT)
#define S2_STE2_PS_SHIFT 48 /* S2PS 178:176 */
#define S2_STE2_PS_MASK (7ull << S2_STE2_PS_SHIFT)
#define S2_STE2_AA64 (1ull << 51) /* S2AA64 179 */
#define S2_STE2_ENDI (1ull << 52) /* S2ENDI 180 */
#define S2_STE2_AFFD (1ull << 53) /* S2AFFD 181 */
#define S2_STE2_PTW (1ull << 54)  /* S2PTW 182 */
#define S2_STE2_HD (1ull << 55)   /* S2HD 183 */
#define S2_STE2_HA (1ull << 56)   /* S2HA 184 */
#define S2_STE2_S (1ull << 57)    /* S2S 185 */
#define S2_STE2_R (1ull << 58)    /* S2R 186 */
/* word 3 (STE bits 255:192): S2TTB 243:196 = address bits 51:4 */
#define S2_STE3_TTB_MASK 0x000ffffffffffff0ull
#define S2_STE_WORD_S2 2
#define S2_STE_WORD_TTB 3

/* S2PS (and IDR5.OAS) encodings: output address bits. */
static inline unsigned s2_ps_bits(unsigned ps)
{
	static const unsigned bits[8] = {32, 36, 40, 42, 44, 48, 52, 52};
	return bits[ps & 7];
}

/* S2SL0 of a start level (our numbering), per granule (Arm ARM, VTCR_EL2.SL0
 * without FEAT_TTST or FEAT_LPA2): 4K 00 = Arm level 2, 01 = 1, 10 = 0;
 * 16K and 64K 00 = Arm level 3, 01 = 2, 10 = 1; 11 reserved. -1: none. */
static inline int s2_sl0_of_top(unsigned gshift, int top)
{
	int sl0 = gshift == 12 ? top - 1 : top;
	return sl0 >= 0 && sl0 <= 2 ? sl0 : -1;
}

static inline int s2_top_of_sl0(unsigned gshift, unsigned sl0)
{
	if (sl0 > 2)
		return -1;
	return gshift == 12 ? (int)sl0 + 1 : (int)sl0;
}

/* SMMU_IDR5 (6.3.6): OAS 2:0, GRAN4K bit 4, GRAN16K bit 5, GRAN64K bit 6. */
#define SMMU_IDR5_OAS_MASK 7ull
#define SMMU_IDR5_GRAN4K (1ull << 4)
#define SMMU_IDR5_GRAN16K (1ull << 5)
#define SMMU_IDR5_GRAN64K (1ull << 6)

/* ---- commands (SMMUv3 4.4) ---------------------------------------------------- */

#define SMMU_CMD_CFGI_STE 0x03ull
#define SMMU_CMD_CFGI_ALL 0x04ull
#define SMMU_CMD_TLBI_S12_VMALL 0x28ull
#define SMMU_CMD_TLBI_S2_IPA 0x2aull
#define SMMU_CMD_VMID_SHIFT 32 /* cmd[0] 47:32 */
#define SMMU_CMD_VMID_MASK 0xffffull
#define SMMU_CMD1_IPA_MASK 0x000ffffffffff000ull /* cmd[1] 51:12 */

/* ---- event records (SMMUv3 7.3) --------------------------------------------- */

#define SMMU_EVT_C_BAD_STE 0x04u
/* The fault code of a stage 2 fault: the event id (7:0) with the
 * record's S2 field (7.3, "S2": the fault arose at stage 2) as bit 8. */
#define SMMU_EVT_S2 0x100u
/* A nested translation's stage 2 faults also give the record's CLASS
 * (7.3): TT, a stage-1 table access (a descriptor read or a stage-1 HTTU
 * update); IN, the stage-1 output address. Bits 10:9 of the code (0: no
 * class given, as a single-stage fault's). */
#define SMMU_EVT_CLASS_SHIFT 9
#define SMMU_EVT_CLASS_MASK (3u << SMMU_EVT_CLASS_SHIFT)
#define SMMU_EVT_CLASS_TT (1u << SMMU_EVT_CLASS_SHIFT)
#define SMMU_EVT_CLASS_IN (2u << SMMU_EVT_CLASS_SHIFT)

#endif
