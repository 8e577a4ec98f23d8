/* AMD IOMMU v1 host page tables: descriptor codec.
 *
 * Level numbering: the spec's "level 1" page table (4 KiB entries) is our
 * level 0; a PDE's NextLevel n points to our level n - 1; DTE Mode N puts the
 * top table at our level N - 1. Level L entries map 2^(12 + 9L) bytes.
 * Bits from formats.md, "AMD IOMMU v1 host page tables" (spec 2.2.3).
 */
#ifndef IMS_AMD_CODEC_H
#define IMS_AMD_CODEC_H

#include <stdint.h>

/* PTE / PDE (2.2.3, "I/O Page Tables for Host Translations") */
#define AMD_PTE_PR (1ull << 0)
#define AMD_PTE_A (1ull << 5)
#define AMD_PTE_D (1ull << 6) /* leaf only; ignored in a PDE */
#define AMD_PTE_NL_SHIFT 9
#define AMD_PTE_NL_MASK (7ull << AMD_PTE_NL_SHIFT)
#define AMD_NL_SIZED 7 /* NextLevel 7: page size encoded in the address */
#define AMD_PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define AMD_PTE_U (1ull << 59)
#define AMD_PTE_FC (1ull << 60)
#define AMD_PTE_IR (1ull << 61)
#define AMD_PTE_IW (1ull << 62)

static inline unsigned amd_pte_nl(uint64_t pte)
{
	return (unsigned)((pte & AMD_PTE_NL_MASK) >> AMD_PTE_NL_SHIFT);
}

/* NextLevel=7 size code ("Table 14: Example Page Size Encodings"): a 2^n
 * page has address bits [n-2:12] set and bit n-1 clear. */
static inline uint64_t amd_size_encode(uint64_t pa, unsigned n)
{
	uint64_t ones = ((1ull << (n - 1)) - 1) & ~0xfffull;
	return (pa & ~((1ull << n) - 1)) | ones;
}

/* size = 2^(1 + index of the lowest 0 bit of (pte | 0xfff)); returns n. */
static inline unsigned amd_size_decode(uint64_t pte)
{
	uint64_t x = (pte & AMD_PTE_ADDR_MASK) | 0xfff;
	return (unsigned)__builtin_ctzll(~x) + 1;
}

/* DTE qword 0 ("2.2.2 Device Table Entry") */
#define AMD_DTE_V (1ull << 0)
#define AMD_DTE_TV (1ull << 1)
#define AMD_DTE_HAD_SHIFT 7
#define AMD_DTE_HAD_MASK (3ull << AMD_DTE_HAD_SHIFT)
#define AMD_HAD_NONE 0u
#define AMD_HAD_A 1u  /* access only */
#define AMD_HAD_RSVD 2u
#define AMD_HAD_AD 3u /* access + dirty */
#define AMD_DTE_MODE_SHIFT 9
#define AMD_DTE_MODE_MASK (7ull << AMD_DTE_MODE_SHIFT)
#define AMD_DTE_ROOT_MASK 0x000ffffffffff000ull
#define AMD_DTE_IR (1ull << 61)
#define AMD_DTE_IW (1ull << 62)
/* DTE qword 1: DomainID bits 79:64 */
#define AMD_DTE1_DOMID_MASK 0xffffull

/* v2 guest translation (amdv2): DTE fields of "2.2.2 Device Table Entry"
 * with GV = 1; bit positions as Linux's amd_iommu_types.h programs them
 * (revision not stated). The paging entries are x86-64's (x86/x86_codec.h,
 * "2.2.6 I/O Page Tables for Guest Translations"). */
#define AMD_DTE_GIOV (1ull << 54) /* requests without PASID use PASID 0's tables */
#define AMD_DTE_GV (1ull << 55)   /* guest translation valid */
#define AMD_DTE_GLX_SHIFT 56      /* GCR3 table levels - 1 */
#define AMD_DTE_GLX_MASK (3ull << AMD_DTE_GLX_SHIFT)
#define AMD_DTE_GCR3_A_MASK (7ull << 58)          /* GCR3 table root 14:12 */
#define AMD_DTE1_GCR3_B_MASK (0xffffull << 16)    /* root 30:15 */
#define AMD_DTE1_GCR3_C_MASK (0x1fffffull << 43)  /* root 51:31 */
#define AMD_DTE2_GPM_SHIFT 54     /* guest paging mode (DTE bits 183:182) */
#define AMD_DTE2_GPM_MASK (3ull << AMD_DTE2_GPM_SHIFT)
#define AMD_GPM_4LEVEL 0u
#define AMD_GPM_5LEVEL 1u
/* A GCR3 table entry: valid, and the guest CR3 (the root of the guest
 * tables). The model keeps PASID 0's entry, the one requests without PASID
 * use under GIoV, as context word 4 (docs/formats.md, "AMD IOMMU v2 guest
 * tables"). */
#define AMD_CTX_GCR3_WORD 4
#define AMD_GCR3_V (1ull << 0)
#define AMD_GCR3_ADDR_MASK 0x000ffffffffff000ull

/* EFR (Extended Feature Register) */
#define AMD_EFR_GTSUP (1ull << 4)  /* guest translation */
#define AMD_EFR_GATS_SHIFT 12      /* guest paging levels: 00b 4, 01b 5 */
#define AMD_EFR_GATS_MASK (3ull << AMD_EFR_GATS_SHIFT)
#define AMD_EFR_GLXSUP_SHIFT 14    /* GCR3 table levels supported - 1 */
#define AMD_EFR_GLXSUP_MASK (3ull << AMD_EFR_GLXSUP_SHIFT)
#define AMD_EFR_GIOSUP (1ull << 48) /* guest I/O protection (DTE.GIoV) */
#define AMD_EFR_HATS_SHIFT 10 /* max levels = HATS + 4 */
#define AMD_EFR_HATS_MASK (3ull << AMD_EFR_HATS_SHIFT)
#define AMD_EFR_HASUP (1ull << 49)
#define AMD_EFR_HDSUP (1ull << 52)
#define AMD_EFR_GAUPDATEDISSUP (1ull << 61) /* the Control register's GAUpdateDis, GDUpdateDis */

/* IOMMU Control register (MMIO 0018h): hardware updates of the guest
 * tables' Dirty (GDUpdateDis) and Accessed (GAUpdateDis) flags disabled,
 * when EFR.GAUpdateDisSup is set. Bit positions as VirtualBox's
 * include/VBox/iommu-amd.h (IOMMU_CTRL_T, IOMMU_EFR_T) gives them "in
 * accordance with the AMD spec". */
#define AMD_CTRL_GDUPDATEDIS (1ull << 48)
#define AMD_CTRL_GAUPDATEDIS (1ull << 54)

/* Commands as two qwords: cmd[0] = dwords 0-1, cmd[1] = dwords 2-3.
 * INVALIDATE_IOMMU_PAGES (opcode 03h): DomainID in dword 1 bits 15:0,
 * S (size) bit 0 and PDE bit 1 of dword 2, address 63:12. With S = 1 the
 * range is 2^(1 + lowest zero bit of (address | 0xfff)) bytes, like the
 * NextLevel=7 size code; with S = 0 one 4 KiB page. */
#define AMD_CMD_OPCODE_SHIFT 60 /* dword 1 bits 31:28 */
#define AMD_CMD_INV_DEVTAB 0x2ull
#define AMD_CMD_INV_PAGES 0x3ull
#define AMD_CMD_INV_ALL 0x8ull /* INVALIDATE_IOMMU_ALL */
#define AMD_CMD_DOMID_SHIFT 32
#define AMD_CMD_S (1ull << 0)
#define AMD_CMD_PDE (1ull << 1)
#define AMD_CMD_GN (1ull << 2)          /* guest: PASID names the tables */
#define AMD_CMD_PASID_MASK 0xfffffull   /* dword 0 bits 19:0 */
#define AMD_CMD_ADDR_MASK 0xfffffffffffff000ull
/* S = 1 with every address bit set below 63: the whole domain. */
#define AMD_CMD_ALL_PAGES 0x7ffffffffffff000ull

/* IO_PAGE_FAULT event flags (the format code of a fault, "2.5.3"; event
 * bits 56:48 as flags 8:0): GN (v2: a guest translation) 0, NX 1, US (a
 * user request) 2, I 3, PR 4, RW 5, PE 6, RZ 7, TR 8 (Linux's EVENT_FLAG_I,
 * EVENT_FLAG_RW; VirtualBox's EVT_IO_PAGE_FAULT_T for the others). */
#define AMD_EV_GN (1u << 0)
#define AMD_EV_US (1u << 2)
#define AMD_EV_RW (1u << 5) /* the access was a write */
#define AMD_EV_PR (1u << 4) /* the entry was present */
#define AMD_EV_PE (1u << 6) /* permission */
#define AMD_EV_RZ (1u << 7) /* reserved bit / bad level encoding */

#endif
