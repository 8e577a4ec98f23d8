/* Arm SMMUv3 stage 1 (VMSAv8-64 translation tables): descriptor codec.
 *
 * Level numbering: the Arm ARM numbers lookup levels from the top, the page
 * level being level 3; we number from the leaf:
 *
 *   Arm level:   3   2   1   0   -1 (FEAT_LPA2: 4K granule, ias > 48)
 *   our level:   0   1   2   3   4
 *
 * With a granule of 2^g bytes a table holds 2^(g-3) entries (stride 9, 11,
 * 13 for 4K, 16K, 64K) and an entry at our level L maps 2^(g + (g-3)L)
 * bytes. The walk starts at Arm level 4 - ceil((ias - g) / (g - 3))
 * (Arm ARM D8.2, "Translation granule" / "initial lookup level"), i.e. our
 * level ceil((ias - g) / (g - 3)) - 1; the top table has fewer index bits
 * when ias does not fill it.
 *
 * Bits from formats.md, "Arm SMMUv3 stage 1", the Arm ARM D8.3
 * ("Translation table descriptor formats") and the SMMUv3 spec 5.4 ("CD").
 */
#ifndef IMS_SMMU_CODEC_H
#define IMS_SMMU_CODEC_H

#include <stdbool.h>
#include <stdint.h>

/* ---- descriptors (Arm ARM D8.3) ---------------------------------------- */

/* Bits 1:0: 11 = table (Arm level < 3) or page (level 3); 01 = block
 * (level < 3, where the granule has blocks; reserved = invalid at level 3);
 * x0 = invalid. */
#define SMMU_D_TYPE_MASK 3ull
#define SMMU_D_BLOCK 1ull
#define SMMU_D_TABLE 3ull
#define SMMU_D_PAGE 3ull

/* Block / page descriptor ("lower" and "upper" attributes, D8.3) */
#define SMMU_D_ATTRIDX_SHIFT 2 /* AttrIndx 4:2: index into CD.MAIR */
#define SMMU_D_ATTRIDX_MASK (7ull << SMMU_D_ATTRIDX_SHIFT)
#define SMMU_D_AP1 (1ull << 6) /* AP[1]: unprivileged access allowed */
#define SMMU_D_AP2 (1ull << 7) /* AP[2]: read-only (write-clean with DBM) */
#define SMMU_D_SH_SHIFT 8      /* SH 9:8 (without DS: with DS, OA[51:50]) */
#define SMMU_D_SH_MASK (3ull << SMMU_D_SH_SHIFT)
#define SMMU_SH_INNER 3ull
#define SMMU_D_AF (1ull << 10) /* access flag (D8.5.1) */
#define SMMU_D_NG (1ull << 11) /* not global: ASID-tagged */
#define SMMU_D_DBM (1ull << 51) /* dirty bit modifier (D8.5.2) */
#define SMMU_D_CONT (1ull << 52) /* Contiguous (D8, "The Contiguous bit") */
#define SMMU_D_PXN (1ull << 53)
#define SMMU_D_UXN (1ull << 54)

/* Table descriptor hierarchical attributes (D8.4, "Hierarchical permissions") */
#define SMMU_T_PXNTABLE (1ull << 59)
#define SMMU_T_UXNTABLE (1ull << 60)
#define SMMU_T_APTABLE0 (1ull << 61) /* APTable[0]: no unprivileged access below */
#define SMMU_T_APTABLE1 (1ull << 62) /* APTable[1]: no write access below */

/* Output / next-table address field (D8.3, "OA" of 48-bit descriptors):
 * bits 47:g; below g the field continues as attribute or RES0 bits. Two
 * 52-bit layouts exist:
 *  - 64K granule (FEAT_LPA): OA[51:48] in bits 15:12;
 *  - 4K / 16K with CD.DS = 1 (FEAT_LPA2): bits 49:g, OA[51:50] in bits 9:8
 *    (which are then no longer SH: shareability comes from CD.SH0).
 * The model uses DS exactly when ias > 48 with a 4K or 16K granule. */
#define SMMU_D_OA48_MASK 0x0000fffffffff000ull /* bits 47:12 */
#define SMMU_D_OA50_MASK 0x0003fffffffff000ull /* bits 49:12 (DS) */
#define SMMU_D_LPA_HI_SHIFT 12 /* 64K: OA[51:48] in bits 15:12 */
#define SMMU_D_DS_HI_SHIFT 8   /* DS: OA[51:50] in bits 9:8 */

/* Whether a geometry uses the FEAT_LPA2 descriptor layout (CD.DS = 1). */
static inline bool smmu_geom_ds(unsigned gshift, unsigned ias)
{
	return gshift < 16 && ias > 48;
}

/* Entries of a contiguous group at our level (Arm ARM D8, "The Contiguous
 * bit"): 4K granule 16 (levels 0-2), 16K 128 at level 0 and 32 at level 1,
 * 64K 32 at levels 0 and 1. 0: the bit has no meaning there (the model
 * then ignores it). */
static inline unsigned smmu_contig_log2(unsigned gshift, int level)
{
	switch (gshift) {
	case 12:
		return level >= 0 && level <= 2 ? 4 : 0;
	case 14:
		return level == 0 ? 7 : level == 1 ? 5 : 0;
	case 16:
		return level == 0 || level == 1 ? 5 : 0;
	default:
		return 0;
	}
}

/* ---- context descriptor (SMMUv3 5.4), as 64-bit words ---------------------- */

/* word 0 (CD bits 63:0) */
#define SMMU_CD0_T0SZ_MASK 0x3full /* 5:0, = 64 - ias */
#define SMMU_CD0_TG0_SHIFT 6       /* 7:6 */
#define SMMU_CD0_TG0_MASK (3ull << SMMU_CD0_TG0_SHIFT)
#define SMMU_TG0_4K 0ull
#define SMMU_TG0_64K 1ull
#define SMMU_TG0_16K 2ull
#define SMMU_CD0_IR0_SHIFT 8  /* 9:8, 01 = WB RA WA */
#define SMMU_CD0_OR0_SHIFT 10 /* 11:10 */
#define SMMU_CD0_SH0_SHIFT 12 /* 13:12 */
#define SMMU_CD0_EPD0 (1ull << 14)
#define SMMU_CD0_ENDI (1ull << 15)
#define SMMU_CD0_EPD1 (1ull << 30)
#define SMMU_CD0_V (1ull << 31)
#define SMMU_CD0_IPS_SHIFT 32 /* 34:32 */
#define SMMU_CD0_IPS_MASK (7ull << SMMU_CD0_IPS_SHIFT)
#define SMMU_IPS_48 5ull
#define SMMU_IPS_52 6ull
#define SMMU_CD0_AFFD (1ull << 35)
#define SMMU_CD0_AA64 (1ull << 41)
#define SMMU_CD0_HD (1ull << 42)
#define SMMU_CD0_HA (1ull << 43)
#define SMMU_CD0_ASET (1ull << 47)
#define SMMU_CD0_ASID_SHIFT 48 /* 63:48 */
/* word 1 (CD bits 127:64): TTB0 in bits 115:68 = address bits 51:4 */
#define SMMU_CD1_TTB0_MASK 0x000ffffffffffff0ull
/* word 2 (CD bits 191:128): DS is CD bit 186 */
#define SMMU_CD2_DS (1ull << 58)
/* word 3 (CD bits 255:192): MAIR0 31:0, MAIR1 63:32 */
#define SMMU_CD_WORD_MAIR 3

/* SMMU_IDR0.HTTU (6.3.1): 0 none, 1 access flag, 2 access flag + dirty
 * state, 3 also table access flags. */
#define SMMU_IDR0_HTTU_SHIFT 6
#define SMMU_IDR0_HTTU_MASK (3ull << SMMU_IDR0_HTTU_SHIFT)

/* ---- commands (SMMUv3 4.4), two qwords --------------------------------------- */

#define SMMU_CMD_OP_MASK 0xffull /* cmd[0] 7:0 */
#define SMMU_CMD_CFGI_CD 0x05ull
#define SMMU_CMD_TLBI_NH_ALL 0x10ull
#define SMMU_CMD_TLBI_NH_ASID 0x11ull
#define SMMU_CMD_TLBI_NH_VA 0x12ull
#define SMMU_CMD_TLBI_NSNH_ALL 0x30ull
#define SMMU_CMD_NUM_SHIFT 12   /* cmd[0] 16:12: range = NUM + 1 ... */
#define SMMU_CMD_NUM_MAX 31ull
#define SMMU_CMD_SCALE_SHIFT 20 /* cmd[0] 24:20: ... times 2^SCALE granules */
#define SMMU_CMD_SCALE_MAX 31ull
#define SMMU_CMD_ASID_SHIFT 48  /* cmd[0] 63:48 */
#define SMMU_CMD1_LEAF (1ull << 0)
#define SMMU_CMD1_TTL_SHIFT 8 /* cmd[1] 9:8: level hint */
#define SMMU_CMD1_TG_SHIFT 10 /* cmd[1] 11:10: 0 no range, 1 4K, 2 16K, 3 64K */
#define SMMU_CMD1_TG_MASK (3ull << SMMU_CMD1_TG_SHIFT)
#define SMMU_CMD1_ADDR_MASK 0xfffffffffffff000ull

/* ---- event record ids (SMMUv3 7.3) --------------------------------------------- */

#define SMMU_EVT_C_BAD_CD 0x0au
#define SMMU_EVT_F_TRANSLATION 0x10u
#define SMMU_EVT_F_ADDR_SIZE 0x11u
#define SMMU_EVT_F_ACCESS 0x12u
#define SMMU_EVT_F_PERMISSION 0x13u

#endif
