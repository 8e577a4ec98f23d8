/* iommusim: shared vocabulary of the public API.
 *
 * Every exported name starts with ims_ / IMS_. Functions return 0 or a
 * negative errno-style code; nothing aborts on input.
 */
#ifndef IOMMUSIM_COMMON_H
#define IOMMUSIM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version; CMakeLists.txt's project(VERSION) must match (the
 * configure step checks). The soname is libiommusim.so.MAJOR. */
#define IMS_VERSION_MAJOR 0
#define IMS_VERSION_MINOR 1
#define IMS_VERSION_PATCH 0
#define IMS_VERSION_STRING "0.1.0"
/* One number for #if: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define IMS_VERSION_NUMBER (IMS_VERSION_MAJOR * 10000 + IMS_VERSION_MINOR * 100 + IMS_VERSION_PATCH)

/* IMS_VERSION_STRING of the library linked at run time, which may be newer
 * than the headers a program was built with. */
const char *ims_version(void);

#define IMS_PAGE_SHIFT 12
#define IMS_PAGE_SIZE (1ull << IMS_PAGE_SHIFT)

enum ims_format {
	IMS_FMT_AMDV1 = 0,
	IMS_FMT_VTD = 1,
	IMS_FMT_SMMUV3 = 2,
	IMS_FMT_VTD_FS = 3, /* Intel VT-d first stage (x86-64 tables) */
	IMS_FMT_AMDV2 = 4,  /* AMD IOMMU v2 guest tables (x86-64 tables) */
	IMS_FMT_SMMUV3_S2 = 5, /* Arm SMMUv3 stage 2 (VMSAv8-64 stage-2 tables) */
	IMS_FMT_COUNT = 6
};

const char *ims_format_name(enum ims_format f);
/* Returns 0 and sets *out, or -EINVAL for an unknown name. */
int ims_format_parse(const char *name, size_t len, enum ims_format *out);

/* Mapping permissions (software) and access kinds (hardware). */
enum {
	IMS_PROT_R = 1,
	IMS_PROT_W = 2,
	IMS_PROT_RW = 3,
};

enum {
	IMS_ACC_R = 1,
	IMS_ACC_W = 2,
	IMS_ACC_RW = 3, /* needs both permissions, counts as a write */
};

/* Generic fault kinds of trace-format.md ("Assertions"). */
enum ims_fault_kind {
	IMS_FAULT_NONE = 0,
	IMS_FAULT_NOTPRESENT,
	IMS_FAULT_PERM,
	IMS_FAULT_ACCESS,
	IMS_FAULT_UNATTACHED,
	IMS_FAULT_KIND_COUNT
};

const char *ims_fault_kind_name(enum ims_fault_kind k);
int ims_fault_kind_parse(const char *s, size_t len, enum ims_fault_kind *out);

/* log2 of a power of two; x must be non-zero. */
static inline unsigned ims_log2(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }
static inline bool ims_is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

#ifdef __cplusplus
}
#endif

#endif
