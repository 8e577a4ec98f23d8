/* Trace events and the streaming trace reader/writer.
 *
 * The text form is ../shared/spec/trace-format.md (version 1); docs/ holds
 * the project's extensions. An event is an op plus a set of keys with
 * values; flags (`raw`, `on`, `noclear`, ...) are keys without values.
 * The reader streams: one event at a time, no whole-file load, no
 * allocation per line.
 */
#ifndef IOMMUSIM_TRACE_H
#define IOMMUSIM_TRACE_H

#include "iommusim/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bytes one `dma` event covers by default at most: replay's DMA budget
 * (IMS_BUDGET_DMA_BYTES, docs/limits.md) is this, and the importers split a
 * longer access into events of at most this many bytes, so that a trace they
 * write replays under the default budget. */
#define IMS_TRACE_DMA_BYTES_DEFAULT (4ull << 30) /* 2^20 pieces of 4 KiB */

enum ims_op {
	IMS_OP_DOMAIN = 0,
	IMS_OP_ATTACH,
	IMS_OP_DETACH,
	IMS_OP_MAP,
	IMS_OP_UNMAP,
	IMS_OP_TRACK,
	IMS_OP_HARVEST,
	IMS_OP_FLUSH,
	IMS_OP_DMA,
	IMS_OP_MEM,
	/* Extensions (docs/uapi.md): the user-space dirty-tracking calls, as
	 * two-word ops "iommufd ..." and "vfio ...". */
	IMS_OP_IOMMUFD_BIND,      /* "iommufd bind": a device and its IOMMU */
	IMS_OP_IOMMUFD_HW_INFO,   /* "iommufd hw-info": IOMMU_GET_HW_INFO */
	IMS_OP_IOMMUFD_IOAS,      /* "iommufd ioas-alloc" */
	IMS_OP_IOMMUFD_MAP,       /* "iommufd map": IOMMU_IOAS_MAP */
	IMS_OP_IOMMUFD_UNMAP,     /* "iommufd unmap": IOMMU_IOAS_UNMAP */
	IMS_OP_IOMMUFD_HWPT,      /* "iommufd hwpt-alloc" */
	IMS_OP_IOMMUFD_ATTACH,    /* "iommufd attach" */
	IMS_OP_IOMMUFD_SET_DIRTY, /* "iommufd set-dirty-tracking" */
	IMS_OP_IOMMUFD_GET_DIRTY, /* "iommufd get-dirty-bitmap" */
	IMS_OP_IOMMUFD_INVALIDATE, /* "iommufd invalidate": IOMMU_HWPT_INVALIDATE */
	IMS_OP_IOMMUFD_VIOMMU,    /* "iommufd viommu-alloc": IOMMU_VIOMMU_ALLOC */
	IMS_OP_IOMMUFD_VDEVICE,   /* "iommufd vdevice-alloc": IOMMU_VDEVICE_ALLOC */
	IMS_OP_VFIO_CONTAINER,    /* "vfio container": a type1 container */
	IMS_OP_VFIO_GROUP,        /* "vfio group" */
	IMS_OP_VFIO_MAP,          /* "vfio map": VFIO_IOMMU_MAP_DMA */
	IMS_OP_VFIO_UNMAP,        /* "vfio unmap": VFIO_IOMMU_UNMAP_DMA */
	IMS_OP_VFIO_DIRTY,        /* "vfio dirty-pages": VFIO_IOMMU_DIRTY_PAGES */
	IMS_OP_VFIO_PIN,          /* "vfio pin": a driver pins pages */
	IMS_OP_VFIO_UNPIN,        /* "vfio unpin" */
	IMS_OP_EXPECT_MEM,    /* "expect mem" */
	IMS_OP_EXPECT_PA,     /* "expect pa" */
	IMS_OP_EXPECT_FAULT,  /* "expect fault" */
	IMS_OP_EXPECT_NOFAULT,/* "expect nofault" */
	/* Extensions (docs/trace-format.md). */
	IMS_OP_EXPECT_CONSISTENT, /* "expect consistent": software == hardware */
	IMS_OP_EXPECT_TABLES,     /* "expect tables": live page-table pages */
	IMS_OP_COUNT
};

enum ims_key {
	IMS_K_ID = 0,
	IMS_K_FORMAT,  /* enum ims_format */
	IMS_K_LEVELS,
	IMS_K_GRANULE, /* bytes */
	IMS_K_IAS,
	IMS_K_PGSIZES, /* bit n = 2^n */
	IMS_K_DIRTY,   /* 0/1 */
	IMS_K_ROOT,
	IMS_K_RAW,     /* flag */
	IMS_K_HA,      /* 0/1 */
	IMS_K_HD,      /* 0/1 */
	IMS_K_DEV,
	IMS_K_DOMAIN,
	IMS_K_IOVA,
	IMS_K_PA,
	IMS_K_SIZE,
	IMS_K_PROT,    /* IMS_PROT_* */
	IMS_K_PGSIZE,
	IMS_K_ON,      /* flag */
	IMS_K_OFF,     /* flag */
	IMS_K_NOCLEAR, /* flag */
	IMS_K_EXPECT,  /* hex bitmap: see ims_event.expect_hex */
	IMS_K_EXPECT_COUNT,
	IMS_K_LEN,
	IMS_K_DIR,     /* IMS_ACC_* */
	IMS_K_VAL,
	IMS_K_MASK,
	IMS_K_KIND,    /* enum ims_fault_kind */
	/* Extensions (docs/trace-format.md). */
	IMS_K_INJECT_AT,   /* inject a device write before the N-th software access */
	IMS_K_INJECT_DEV,
	IMS_K_INJECT_IOVA,
	IMS_K_CNT,         /* "count" */
	IMS_K_READ_DIRTY,  /* flag: unmap reads and clears dirty state first */
	/* Extensions for the iommufd and vfio ops (docs/uapi.md). */
	IMS_K_DIRTY_CAP,   /* 0/1: the device's IOMMU can track dirty pages */
	IMS_K_IOAS,
	IMS_K_HWPT,        /* 16 bits: also the domain's hardware tag */
	IMS_K_LENGTH,      /* bytes, passed to the call unchecked */
	IMS_K_PAGE_SIZE,   /* bytes, passed to the call unchecked */
	IMS_K_FLAGS,       /* the call's flags word, raw */
	IMS_K_RESERVED,
	IMS_K_BITMAP_SIZE, /* bytes of the user's bitmap buffer */
	IMS_K_EXPECT_ERR,  /* positive errno the call must return */
	IMS_K_CONTAINER,   /* 16 bits: also the domain's hardware tag */
	IMS_K_PIN_SCOPE,   /* flag */
	IMS_K_START,       /* flag */
	IMS_K_STOP,        /* flag */
	IMS_K_GET_BITMAP,  /* flag */
	IMS_K_GET_DIRTY_BITMAP, /* flag */
	/* Extensions for nested translation (docs/trace-format.md, docs/uapi.md). */
	IMS_K_NESTED,      /* 16 bits: the stage-2 parent domain / HWPT */
	IMS_K_NEST_PARENT, /* flag: IOMMU_HWPT_ALLOC_NEST_PARENT */
	IMS_K_DATA_TYPE,   /* the uAPI's data_type, raw */
	IMS_K_DATA_LEN,    /* bytes of the vendor data, raw */
	IMS_K_DATA0,       /* the vendor data's 64-bit words, raw */
	IMS_K_DATA1,
	IMS_K_DATA2,
	IMS_K_DATA3,
	IMS_K_ENTRY_LEN,   /* IOMMU_HWPT_INVALIDATE entry_len, raw */
	IMS_K_ENTRY_NUM,   /* IOMMU_HWPT_INVALIDATE entry_num, raw */
	IMS_K_VIOMMU,      /* a vIOMMU's id */
	IMS_K_VIRT_ID,     /* IOMMU_VDEVICE_ALLOC virt_id, raw */
	IMS_K_TYPE,        /* IOMMU_VIOMMU_ALLOC type, raw */
	IMS_K_COUNT
};

struct ims_event {
	enum ims_op op;
	uint64_t line;
	bool has_ts;
	uint64_t ts;
	uint64_t keys;              /* bit k set = key k present */
	uint64_t v[IMS_K_COUNT];    /* value of each present key */
	uint32_t col[IMS_K_COUNT];  /* 1-based column of each present key (0 = unknown) */
	uint32_t op_col;
	const char *expect_hex;     /* digits of expect= (no 0x), valid until the next read */
	size_t expect_hex_len;
};

static inline bool ims_ev_has(const struct ims_event *ev, enum ims_key k)
{
	return (ev->keys >> k) & 1;
}

const char *ims_op_name(enum ims_op op);
const char *ims_key_name(enum ims_key k);
/* Names of the errno values expect-err= takes ("EINVAL"; positive
 * values). NULL / -EINVAL for one outside the list. */
const char *ims_errno_name(int err);
int ims_errno_parse(const char *s, size_t len, int *err);

struct ims_reader;

/* path "-" reads standard input. Plain text and gzip are told apart by the
 * magic bytes. On failure *out is NULL and err holds "FILE: reason". */
int ims_reader_open(const char *path, struct ims_reader **out, char *err, size_t errlen);
/* Read from memory; `name` is used in messages, line numbers start at
 * first_line (for trace bodies embedded in other files). */
int ims_reader_open_mem(const char *name, const char *buf, size_t len, uint64_t first_line,
			struct ims_reader **out);
/* 1: *ev filled; 0: end of input; -EINVAL (bad input) or -EIO: see
 * ims_reader_error(), "FILE:LINE:COL: what was expected". */
int ims_reader_next(struct ims_reader *r, struct ims_event *ev);
const char *ims_reader_error(const struct ims_reader *r);
const char *ims_reader_name(const struct ims_reader *r);
uint64_t ims_reader_bytes(const struct ims_reader *r); /* input bytes consumed */
/* Workload phase markers: a comment line `# phase: NAME` (docs/trace-format.md)
 * is passed to fn as the reader goes by it, with NAME (blanks around it
 * dropped; not NUL-terminated, valid during the call) and its line. It
 * comes before the event that follows it is returned; a caller that reads
 * ahead places it by its line. The binary form keeps no comments. */
typedef void (*ims_phase_fn)(void *arg, const char *name, size_t len, uint64_t line);
void ims_reader_on_phase(struct ims_reader *r, ims_phase_fn fn, void *arg);
void ims_reader_close(struct ims_reader *r);

/* One event as a text line (no newline). Returns the length it needs
 * (like snprintf). */
size_t ims_event_format(const struct ims_event *ev, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
