/* x86-64 paging entries: the one codec that Intel VT-d first-stage tables
 * (vtd-fs) and AMD IOMMU v2 guest tables (amdv2) share.
 *
 * Both IOMMUs walk the processor's long-mode format: VT-d spec "9.7
 * First-Stage Paging Entries" (with "3.6 First-Stage Translation"), AMD
 * IOMMU spec "2.2.6 I/O Page Tables for Guest Translations", both pointing
 * at the Intel SDM vol. 3 "4.5 4-Level Paging and 5-Level Paging". Revisions
 * not stated: the sections are those Linux's x86-64 page-table code cites.
 *
 * Level numbering (ours = the SDM's structure names):
 *   level 0 = PTE    (4 KiB pages)
 *   level 1 = PDE    (2 MiB page when PS = 1, else a table)
 *   level 2 = PDPTE  (1 GiB page when PS = 1, else a table)
 *   level 3 = PML4E  (always a table: PS is reserved)
 *   level 4 = PML5E  (always a table: PS is reserved)
 * 4-level paging has its top at level 3, 5-level paging at level 4. Level L
 * entries map 2^(12 + 9L) bytes.
 */
#ifndef IMS_X86_CODEC_H
#define IMS_X86_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)  /* writes allowed (ANDed over every level) */
#define X86_US (1ull << 2)  /* user-mode accesses allowed (ANDed) */
#define X86_PWT (1ull << 3) /* memory type: nothing to the model */
#define X86_PCD (1ull << 4) /* memory type: nothing to the model */
#define X86_A (1ull << 5)   /* accessed: every entry a translation uses */
#define X86_D (1ull << 6)   /* dirty: leaves only; ignored in a table entry */
#define X86_PS (1ull << 7)  /* page size at levels 1, 2; PAT in a PTE */
#define X86_G (1ull << 8)   /* global: leaves only; no meaning to an IOMMU */
/* VT-d only: extended accessed, set with A when the PASID entry's EAFE = 1
 * (VT-d 3.6.2); an ignored bit for AMD. */
#define X86_EA (1ull << 10)
#define X86_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 (52-bit addresses) */
#define X86_XD (1ull << 63) /* execute disable */

/* The model's physical address width is 52 bits, so no address bit of an
 * entry is reserved above the frame. A large page's frame leaves the bits
 * from 13 to its size reserved (bit 12 is its PAT bit). */
#define X86_LARGE_PAT (1ull << 12)

static inline unsigned x86_level_shift(int level)
{
	return 12 + 9 * (unsigned)level;
}

/* Reserved bits of a large leaf at level 1 (2 MiB: 20:13) or 2 (1 GiB:
 * 29:13). */
static inline uint64_t x86_large_rsvd(int level)
{
	return ((1ull << x86_level_shift(level)) - 1) & ~0x1fffull;
}

/* The frame of a leaf at `level`. */
static inline uint64_t x86_leaf_addr(int level, uint64_t pte)
{
	return pte & X86_ADDR_MASK & ~((1ull << x86_level_shift(level)) - 1);
}

/* Levels <-> IOVA bits. An IOVA must be canonical; the model translates
 * the lower half only (bit 47, or 56, clear), as Linux's DMA domains use
 * it, so a domain's input range is 47 bits with 4 levels and 56 with 5. */
static inline unsigned x86_ias(unsigned levels)
{
	return 12 + 9 * levels - 1;
}

#endif
