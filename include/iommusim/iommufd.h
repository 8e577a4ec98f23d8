/* The iommufd front end: the user-space dirty-tracking interface of
 * Linux's iommufd (docs/uapi.md), over the software page tables.
 *
 * One context holds bound devices, IOAS objects (the IOVA areas user space
 * maps) and HWPT objects (an IOMMU domain, one ims_pt each, filled with the
 * areas of its IOAS). Calls follow the ioctls IOMMU_GET_HW_INFO,
 * IOMMU_IOAS_ALLOC / MAP / UNMAP, IOMMU_HWPT_ALLOC, device attach,
 * IOMMU_HWPT_SET_DIRTY_TRACKING and IOMMU_HWPT_GET_DIRTY_BITMAP, with the
 * errors of ../shared/spec/dirty-semantics.md and the uAPI's errno
 * conventions (ENOENT: an id or IOVA that does not exist; EOPNOTSUPP: a
 * known field with a value that is not supported; EINVAL: a field that is
 * not correct; EOVERFLOW: arithmetic overflow).
 *
 * The front end never sees the hardware model: what a device's IOMMU can
 * do comes from the caller, as IOMMU_GET_HW_INFO would report it. Object
 * ids are chosen by the caller (a trace names them); a HWPT id is also the
 * domain's hardware tag.
 */
#ifndef IOMMUSIM_IOMMUFD_H
#define IOMMUSIM_IOMMUFD_H

#include "iommusim/pt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* uAPI values (include/uapi/linux/iommufd.h). */
enum {
	IMS_IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,      /* GET_HW_INFO out_capabilities */
	IMS_IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,     /* HWPT_ALLOC flags */
	IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1 << 0, /* SET_DIRTY_TRACKING flags */
	IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1 << 0,
	/* enum iommu_hwpt_data_type: a nested HWPT's vendor data. */
	IMS_IOMMU_HWPT_DATA_NONE = 0,
	IMS_IOMMU_HWPT_DATA_VTD_S1 = 1,
	IMS_IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
	IMS_IOMMU_HWPT_DATA_AMD_GUEST = 3,
	/* enum iommu_hwpt_invalidate_data_type. */
	IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IMS_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
	IMS_IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
	/* enum iommu_viommu_type (IOMMU_VIOMMU_ALLOC). */
	IMS_IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
};

/* The vendor structs of include/uapi/linux/iommufd.h, little-endian. */
struct ims_iommu_hwpt_vtd_s1 {        /* IOMMU_HWPT_DATA_VTD_S1 */
	uint64_t flags;               /* IOMMU_VTD_S1_SRE | EAFE | WPE */
	uint64_t pgtbl_addr;          /* the stage-1 root, a GPA */
	uint32_t addr_width;          /* 48 (4 levels) or 57 (5 levels) */
	uint32_t reserved;
};
struct ims_iommu_hwpt_arm_smmuv3 {    /* IOMMU_HWPT_DATA_ARM_SMMUV3 */
	uint64_t ste[2];              /* the guest STE's first two words */
};
struct ims_iommu_hwpt_amd_guest {     /* IOMMU_HWPT_DATA_AMD_GUEST */
	uint64_t dte[4];              /* the guest DTE */
};
struct ims_iommu_hwpt_vtd_s1_invalidate {
	uint64_t addr, npages;        /* npages UINT64_MAX with addr 0: everything */
	uint32_t flags;               /* IMS_IOMMU_VTD_INV_FLAGS_LEAF */
	uint32_t reserved;
};
struct ims_iommu_viommu_arm_smmuv3_invalidate {
	uint64_t cmd[2];              /* an SMMUv3 command, opcode in cmd[0] 7:0 */
};

struct ims_iommufd;

/* The IOMMU behind a device, as IOMMU_GET_HW_INFO reports it. */
struct ims_iommufd_hw_info {
	enum ims_format fmt;       /* the page-table format its domains use */
	uint64_t out_capabilities; /* IMS_IOMMU_HW_CAP_* */
};

/* IOMMU_HWPT_ALLOC, plus the driver's geometry choices for the domain. */
struct ims_iommufd_hwpt_alloc {
	uint32_t flags;  /* IMS_IOMMU_HWPT_ALLOC_* */
	uint32_t dev_id; /* the device it is allocated for */
	uint32_t pt_id;  /* the IOAS whose areas it maps */
	uint16_t hwpt_id;
	unsigned levels, granule_shift, ias; /* 0 = the format's default */
	uint64_t pgsizes;                    /* 0 = every size the format has */
	/* Nesting (docs/uapi.md, "Nesting"). pt_is_hwpt: pt_id names a HWPT
	 * (the nesting parent) rather than an IOAS; pt_is_viommu: a vIOMMU
	 * (IOMMU_VIOMMU_ALLOC). The kernel has one id space for all three,
	 * iommusim keeps three. legacy (with pt_is_hwpt): iommusim's reading
	 * before it had vIOMMU objects, where the parent HWPT is pt_id for
	 * every vendor (Linux 7.2 refuses that for SMMUv3 and AMD); old trace
	 * lines keep their meaning through it. */
	bool pt_is_hwpt;
	bool pt_is_viommu;
	bool legacy;
	uint32_t reserved; /* __reserved: must be 0 */
	uint32_t data_type; /* IMS_IOMMU_HWPT_DATA_* */
	uint32_t data_len;  /* bytes at data */
	const void *data;   /* the vendor struct */
};

/* IOMMU_HWPT_INVALIDATE over a nested HWPT (or, is_viommu, a vIOMMU, whose
 * valid entries are handed to inv once per nested HWPT allocated on it):
 * entry_num entries of
 * entry_len bytes each at data. Each valid entry is handed to inv (the
 * range of stage-1 IOVAs to drop: size 0 = everything; leaf: only leaf
 * entries) before the next is checked; entry_num returns how many were
 * handled. */
struct ims_iommufd_invalidate {
	uint32_t hwpt_id;   /* or a vIOMMU's id, with is_viommu */
	bool is_viommu;
	uint32_t data_type; /* IMS_IOMMU_*_INVALIDATE_DATA_* */
	uint32_t entry_len, entry_num;
	uint32_t reserved;
	const void *data;
	int (*inv)(void *arg, uint32_t hwpt_id, uint64_t iova, uint64_t size, bool leaf);
	void *arg;
};

/* A nested HWPT as allocated: its parent and vendor data (data_len bytes
 * copied, zero-extended to the struct). */
struct ims_iommufd_nested {
	uint32_t parent;
	bool on_viommu;   /* allocated on vIOMMU viommu (pt_id a vIOMMU) */
	bool legacy;      /* allocated with the legacy reading */
	uint32_t viommu;
	uint32_t data_type;
	union {
		struct ims_iommu_hwpt_vtd_s1 vtd;
		struct ims_iommu_hwpt_arm_smmuv3 arm;
		struct ims_iommu_hwpt_amd_guest amd;
	} u;
};

/* IOMMU_HWPT_GET_DIRTY_BITMAP. data is user memory of data_len bytes: bit
 * k (bit k%8 of byte k/8, which is bit k%64 of little-endian u64 word
 * k/64) is the page at iova + k * page_size. Any alignment of data works.
 * The call only sets bits; it never clears one. */
struct ims_iommufd_dirty_bitmap {
	uint32_t hwpt_id;
	uint32_t flags; /* IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR */
	uint32_t reserved;
	uint64_t iova, length, page_size;
	void *data;
	uint64_t data_len;
};

/* The sink is where every HWPT's page table sends its commands. */
int ims_iommufd_new(struct ims_mem *mem, const struct ims_sink *sink, struct ims_iommufd **out);
/* The walker of every HWPT allocated from now on (struct ims_pt_cfg's
 * walker and plugin); the built-in default until called. */
void ims_iommufd_set_walker(struct ims_iommufd *fd, unsigned walker,
			    const struct ims_walker_ops *plugin);
void ims_iommufd_free(struct ims_iommufd *fd);

/* Bind a device (by requester id) with its IOMMU's description.
 * -EEXIST when bound. */
int ims_iommufd_bind(struct ims_iommufd *fd, uint32_t dev_id, const struct ims_iommufd_hw_info *info);
/* IOMMU_GET_HW_INFO. -ENOENT for a device that is not bound. */
int ims_iommufd_get_hw_info(struct ims_iommufd *fd, uint32_t dev_id, struct ims_iommufd_hw_info *out);

/* IOMMU_IOAS_ALLOC under the caller's id (-EEXIST if taken). */
int ims_iommufd_ioas_alloc(struct ims_iommufd *fd, uint32_t ioas_id);
/* IOMMU_IOAS_MAP with a fixed IOVA of memory at pa, into every HWPT of the
 * IOAS. length 0 or misalignment to the IOAS's IOVA alignment: -EINVAL;
 * wrap past 2^64: -EOVERFLOW; overlap with an area: -EEXIST; nothing is
 * changed on error. */
int ims_iommufd_ioas_map(struct ims_iommufd *fd, uint32_t ioas_id, uint64_t iova, uint64_t pa,
			 uint64_t length, unsigned prot);
/* IOMMU_IOAS_UNMAP: the range must be a superset of whole areas (splitting
 * one is -ENOENT, as is a range with none); iova 0 with length 2^64 - 1
 * unmaps everything. Dirty state of what is unmapped is discarded: user
 * space reads it first (GET_DIRTY_BITMAP with NO_CLEAR). */
int ims_iommufd_ioas_unmap(struct ims_iommufd *fd, uint32_t ioas_id, uint64_t iova,
			   uint64_t length, uint64_t *unmapped);

/* IOMMU_HWPT_ALLOC: unknown flags, NEST_PARENT on a device whose format
 * is no stage 2 of a nesting pair, and DIRTY_TRACKING on a device whose
 * IOMMU lacks the capability are -EOPNOTSUPP; an unknown device or IOAS
 * -ENOENT; a taken id -EEXIST; a geometry the format cannot build -EINVAL
 * (reason in err). With pt_is_hwpt (VT-d; SMMUv3 and AMD only with
 * legacy) or pt_is_viommu (SMMUv3), a nested HWPT with the vendor data
 * checked as Linux does (docs/uapi.md, "Nesting"); it has no page table
 * here (the guest owns stage 1). NEST_PARENT with DIRTY_TRACKING on an
 * SMMUv3 device is -EOPNOTSUPP. */
int ims_iommufd_hwpt_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
			   char *err, size_t errlen);
/* Attach (or move) a device to a HWPT: -EINVAL when the device's IOMMU uses
 * another format, or the HWPT was allocated for dirty tracking and the
 * device's IOMMU lacks the capability. */
int ims_iommufd_attach(struct ims_iommufd *fd, uint32_t dev_id, uint32_t hwpt_id);

/* IOMMU_HWPT_SET_DIRTY_TRACKING: flags other than ENABLE are -EOPNOTSUPP,
 * as is a HWPT not allocated for dirty tracking; no HWPT, or a nested one,
 * is -ENOENT (GET_DIRTY_BITMAP likewise). Enable clears every dirty
 * bit of the domain and flushes first; disable clears nothing. */
int ims_iommufd_set_dirty_tracking(struct ims_iommufd *fd, uint32_t hwpt_id, uint32_t flags);
/* IOMMU_HWPT_GET_DIRTY_BITMAP (dirty-semantics.md). In order: flags other
 * than NO_CLEAR or reserved != 0: -EOPNOTSUPP; a HWPT without dirty
 * tracking support: -EOPNOTSUPP; page_size 0 or not a power of two, length
 * 0: -EINVAL; iova + length wrapping past 2^64: -EOVERFLOW; iova or iova +
 * length not aligned to page_size: -EINVAL; data_len below the bitmap's
 * size (whole u64 words): -EFAULT; a range not covered by contiguous areas
 * of the IOAS: -EINVAL; tracking off: -EINVAL. */
int ims_iommufd_get_dirty_bitmap(struct ims_iommufd *fd, const struct ims_iommufd_dirty_bitmap *cmd);

/* Bytes of bitmap for length / page_size bits, in whole u64 words;
 * UINT64_MAX when page_size is 0. */
uint64_t ims_iommufd_bitmap_bytes(uint64_t length, uint64_t page_size);

/* IOMMU_HWPT_INVALIDATE (docs/uapi.md, "Nesting"). */
int ims_iommufd_invalidate(struct ims_iommufd *fd, struct ims_iommufd_invalidate *cmd);
/* IOMMU_VIOMMU_ALLOC (include/uapi/linux/iommufd.h struct
 * iommu_viommu_alloc): a vIOMMU of the device's IOMMU over a NEST_PARENT
 * HWPT, under the caller's id. */
struct ims_iommufd_viommu_alloc {
	uint32_t flags;
	uint32_t type;      /* IMS_IOMMU_VIOMMU_TYPE_* */
	uint32_t dev_id;
	uint32_t hwpt_id;   /* the nesting parent */
	uint32_t viommu_id;
};
/* Errors in Linux's order (docs/uapi.md, "Nesting"): flags or type
 * DEFAULT -EOPNOTSUPP; unknown device -ENOENT; a driver without vIOMMUs
 * (VT-d), or a type or device its driver refuses, -EOPNOTSUPP; hwpt_id not
 * a paging HWPT -ENOENT; not NEST_PARENT -EINVAL; a taken id -EEXIST; a
 * parent of another IOMMU -EINVAL. */
int ims_iommufd_viommu_alloc(struct ims_iommufd *fd, const struct ims_iommufd_viommu_alloc *cmd);
/* IOMMU_VDEVICE_ALLOC: device dev_id is virt_id (SMMUv3: its virtual
 * StreamID) on the vIOMMU. Unknown vIOMMU or device -ENOENT; a device of
 * another IOMMU -EINVAL; a device that has a vDEVICE already, or a taken
 * virt_id, -EEXIST. */
int ims_iommufd_vdevice_alloc(struct ims_iommufd *fd, uint32_t viommu_id, uint32_t dev_id,
			      uint64_t virt_id);
/* A vIOMMU's parent HWPT and type; -ENOENT if none. */
int ims_iommufd_viommu_info(struct ims_iommufd *fd, uint32_t viommu_id, uint32_t *hwpt_id,
			    uint32_t *type);
/* A nested HWPT's parent and data; -ENOENT when hwpt_id is not one. */
int ims_iommufd_hwpt_nested(struct ims_iommufd *fd, uint32_t hwpt_id, struct ims_iommufd_nested *out);
/* The stage-1 format a nesting parent of format s2 carries (a pair of
 * docs/uapi.md's table), or -1: what the drivers nest. */
int ims_iommufd_nest_s1(enum ims_format s2);

/* The HWPT's page table (NULL: no such HWPT, or a nested one), owned by
 * the context. */
struct ims_pt *ims_iommufd_hwpt_pt(struct ims_iommufd *fd, uint32_t hwpt_id);
/* Whether it was allocated with DIRTY_TRACKING; its IOAS. -ENOENT if none. */
int ims_iommufd_hwpt_info(struct ims_iommufd *fd, uint32_t hwpt_id, bool *dirty, uint32_t *ioas_id);
/* The HWPT a device is attached to; -ENOENT when unbound or unattached. */
int ims_iommufd_dev_hwpt(struct ims_iommufd *fd, uint32_t dev_id, uint32_t *hwpt_id);

#ifdef __cplusplus
}
#endif

#endif
