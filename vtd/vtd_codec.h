/* Intel VT-d second-stage tables: descriptor codec.
 *
 * Level numbering (ours = the spec's structure names, "3.7 Second-Stage
 * Translation"):
 *   level 0 = SL-PTE   (4 KiB entries)
 *   level 1 = SL-PDE   (2 MiB; a leaf when PS = 1)
 *   level 2 = SL-PDPE  (1 GiB; a leaf when PS = 1)
 *   level 3 = SL-PML4E (never a leaf)
 *   level 4 = SL-PML5E (never a leaf)
 * A 3-level table (AW = 39 bits) has its top at level 2, 4 levels (48) at
 * level 3, 5 levels (57) at level 4. Level L entries map 2^(12 + 9L) bytes.
 * Bits from formats.md, "Intel VT-d second-stage tables".
 */
#ifndef IMS_VTD_CODEC_H
#define IMS_VTD_CODEC_H

#include <stdint.h>

/* Second-stage paging entries (3.7, table in formats.md). There is no
 * present bit: an entry is present when R, W or X is set. */
#define VTD_SL_R (1ull << 0)
#define VTD_SL_W (1ull << 1)
#define VTD_SL_X (1ull << 2) /* only with execute requests enabled */
#define VTD_SL_PRESENT (VTD_SL_R | VTD_SL_W | VTD_SL_X)
#define VTD_SL_EMT_SHIFT 3 /* leaf only; ignored in a non-leaf */
#define VTD_SL_EMT_MASK (7ull << VTD_SL_EMT_SHIFT)
#define VTD_SL_IPAT (1ull << 6) /* leaf only; ignored in a non-leaf */
#define VTD_SL_PS (1ull << 7)   /* leaf at levels 1 and 2; ignored at level 0 */
#define VTD_SL_A (1ull << 8)    /* accessed: leaf and non-leaf ("3.7.2") */
#define VTD_SL_D (1ull << 9)    /* dirty: leaf only; ignored in a non-leaf */
#define VTD_SL_SNP (1ull << 11) /* leaf only; reserved in a non-leaf */
#define VTD_SL_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */

/* Entry size of a level (and the page of a leaf there). */
static inline unsigned vtd_level_shift(int level)
{
	return 12 + 9 * (unsigned)level;
}

/* Scalable-mode PASID-table entry, qword 0 (the context words). */
#define VTD_PE0_P (1ull << 0)
#define VTD_PE0_FPD (1ull << 1) /* fault processing disable: reporting only */
#define VTD_PE0_AW_SHIFT 2
#define VTD_PE0_AW_MASK (7ull << VTD_PE0_AW_SHIFT)
#define VTD_AW_39 1u /* 3 levels */
#define VTD_AW_48 2u /* 4 levels */
#define VTD_AW_57 3u /* 5 levels */
#define VTD_PE0_PGTT_SHIFT 6
#define VTD_PE0_PGTT_MASK (7ull << VTD_PE0_PGTT_SHIFT)
#define VTD_PGTT_SL 2u /* second-stage translation only */
#define VTD_PE0_SSADE (1ull << 9) /* second-stage A/D enable ("3.7.2") */
#define VTD_PE0_SSPTPTR_MASK 0xfffffffffffff000ull /* bits 63:12 */
/* The model's host address width is 52 bits: pointer bits 63:52 reserved. */
#define VTD_HAW_MASK 0x000ffffffffff000ull
/* PASID-table entry, qword 1: domain id. */
#define VTD_PE1_DID_MASK 0xffffull

/* AW code <-> levels: AW 1, 2, 3 = 39, 48, 57 bits = 3, 4, 5 levels. */
static inline unsigned vtd_aw_levels(unsigned aw)
{
	return aw + 2;
}

static inline unsigned vtd_levels_aw(unsigned levels)
{
	return levels - 2;
}

/* Capability registers. */
#define VTD_CAP_SLLPS_2M (1ull << 34) /* second-stage 2 MiB pages */
#define VTD_CAP_SLLPS_1G (1ull << 35) /* second-stage 1 GiB pages */
#define VTD_ECAP_SSADS (1ull << 45)   /* second-stage A/D support */
#define VTD_ECAP_SMPWC (1ull << 48)   /* scalable-mode page-walk coherency */

/* Invalidation descriptors as two qwords (cmd[0] low, cmd[1] high).
 * Type in bits 3:0 (with bits 11:9 as its high part, zero here). */
#define VTD_DESC_TYPE_MASK 0xfull
#define VTD_DESC_TYPE_HI_MASK (7ull << 9)
#define VTD_DESC_IOTLB 0x2ull
#define VTD_DESC_PASID_CACHE 0x7ull
#define VTD_DESC_G_SHIFT 4
#define VTD_DESC_G_MASK (3ull << VTD_DESC_G_SHIFT)
#define VTD_DESC_DID_SHIFT 16
#define VTD_DESC_DID_MASK (0xffffull << VTD_DESC_DID_SHIFT)
/* IOTLB invalidate descriptor: granularity, drain bits. */
#define VTD_IOTLB_G_GLOBAL 1u
#define VTD_IOTLB_G_DOMAIN 2u
#define VTD_IOTLB_G_PAGE 3u
#define VTD_IOTLB_DW (1ull << 6) /* drain writes: ordering only */
#define VTD_IOTLB_DR (1ull << 7) /* drain reads: ordering only */
/* cmd[1]: address mask, invalidation hint, address. */
#define VTD_IOTLB_AM_MASK 0x3full /* 2^AM pages, ADDR aligned to it */
#define VTD_IOTLB_IH (1ull << 6)  /* leaf entries only: walk caches kept */
#define VTD_IOTLB_ADDR_MASK 0xfffffffffffff000ull
/* PASID-cache invalidate granularity: 00 domain-selective, 01 PASID-
 * selective (the model has one PASID entry per domain), 11 global. */
#define VTD_PC_G_DOMAIN 0u
#define VTD_PC_G_PASID 1u
#define VTD_PC_G_GLOBAL 3u

/* First stage (vtd-fs): the scalable-mode PASID-table entry with PGTT =
 * 001b ("9.6 Scalable-Mode PASID Table Entry"; bit positions as Linux's
 * intel/pasid.h programs them). The paging entries are x86-64's
 * (x86/x86_codec.h). Qword 0 keeps P, FPD and PGTT; AW, SSADE and SSPTPTR
 * belong to the second stage and are not used. */
#define VTD_PGTT_FS 1u                /* first-stage translation only */
#define VTD_PE2_SRE (1ull << 0)       /* supervisor requests enabled (bit 128) */
#define VTD_PE2_FSPM_SHIFT 2          /* first-stage paging mode (bits 131:130) */
#define VTD_PE2_FSPM_MASK (3ull << VTD_PE2_FSPM_SHIFT)
#define VTD_FSPM_4LEVEL 0u
#define VTD_FSPM_5LEVEL 1u
#define VTD_PE2_WPE (1ull << 4)       /* write protect: supervisor writes honour R/W */
#define VTD_PE2_NXE (1ull << 5)       /* execute disable: XD is not reserved */
#define VTD_PE2_EAFE (1ull << 7)      /* extended accessed flag enable */
#define VTD_PE2_FSPTPTR_MASK 0xfffffffffffff000ull /* bits 191:140 */
/* Capabilities of the first stage. */
#define VTD_CAP_FS1GP (1ull << 56)  /* first-stage 1 GiB pages */
#define VTD_CAP_FS5LP (1ull << 60)  /* first-stage 5-level paging */
#define VTD_ECAP_SRS (1ull << 31)   /* supervisor requests */
#define VTD_ECAP_EAFS (1ull << 34)  /* extended accessed flag */
#define VTD_ECAP_FSTS (1ull << 47)  /* first-stage translation */
/* PASID-based IOTLB invalidate descriptor ("6.5.2.4"): type 6, the
 * granularity as the IOTLB descriptor's (2: the whole PASID, non-global
 * entries; 3: pages), DID, and PASID in bits 51:32; qword 1 as the IOTLB
 * descriptor's (address, IH, AM). */
#define VTD_DESC_PIOTLB 0x6ull
#define VTD_DESC_PASID_SHIFT 32
#define VTD_DESC_PASID_MASK (0xfffffull << VTD_DESC_PASID_SHIFT)

/* Scalable-mode fault reasons of the first stage (the spec's table of
 * non-recoverable fault reasons; the numbers as Linux's dmar.c and
 * QEMU's intel_iommu_internal.h name them, revision not stated). */
#define VTD_FR_SM_PE_P 0x59u     /* PASID-table entry P clear */
#define VTD_FR_SM_SRE 0x5du      /* SRE clear, supervisor request */
#define VTD_FR_FS_P 0x71u        /* P clear in a first-stage entry */
#define VTD_FR_FS_RSVD 0x72u     /* reserved bit in a first-stage entry */
#define VTD_FR_FS_CANON 0x80u    /* IOVA not canonical */
#define VTD_FR_FS_US 0x81u       /* U/S = 0, user request */
#define VTD_FR_SM_WRITE 0x85u    /* write without write permission */

/* Scalable-mode fault reasons of a nested translation's second stage on a
 * first-stage table access (the same table; Linux's dmar.c names them). */
#define VTD_FR_NEST_MGAW 0x74u   /* a first-stage table address beyond the second stage */
#define VTD_FR_NEST_ROOT_R 0x75u /* read permission error, the FSPTPTR (top) table */
#define VTD_FR_NEST_R 0x76u      /* read permission error, a first-stage table */
#define VTD_FR_NEST_W 0x77u      /* write permission error: a first-stage A/D update */
#define VTD_FR_SS_RSVD 0x7au     /* reserved bit set in a second-stage entry */
#define VTD_PGTT_NESTED 3u       /* PASID entry PGTT 011b: nested translation */

/* Fault reasons (legacy numbering, formats.md). */
#define VTD_FR_CTX_INVALID 0x3u /* invalid context entry */
#define VTD_FR_ADDR_BEYOND 0x4u /* address beyond the address width */
#define VTD_FR_WRITE 0x5u       /* write with W = 0 (or not present) */
#define VTD_FR_READ 0x6u        /* read with R = 0 (or not present) */
#define VTD_FR_RESERVED 0xcu    /* reserved bit set in a paging entry */

#endif
