/* The text trace's vocabulary (../shared/spec/trace-format.md, "Ops" and
 * "Keys"; docs/uapi.md for the iommufd and vfio ops): each key's name and
 * value type, each op's word and the keys it requires and allows. The text
 * parser (traces/text.c) reads by these tables and the event checks
 * (traces/validate.c) check by them, so both hold every event to one set
 * of rules.
 */
#ifndef IMS_TRACES_SYNTAX_H
#define IMS_TRACES_SYNTAX_H

#include <stdint.h>

#include "iommusim/trace.h"

enum ims_vt {
	IMS_VT_NUM,
	IMS_VT_SIZE,    /* number with optional K/M/G/T suffix */
	IMS_VT_ONOFF,
	IMS_VT_FLAG,
	IMS_VT_FORMAT,
	IMS_VT_ACCESS,  /* r | w | rw */
	IMS_VT_KIND,
	IMS_VT_PGSIZES,
	IMS_VT_DEV,
	IMS_VT_HEX,
	IMS_VT_ERRNO,   /* EINVAL, EOPNOTSUPP, ... or a number */
};

struct ims_keydef {
	const char *name;
	unsigned char len;
	unsigned char type; /* enum ims_vt */
};

/* `word` is the op word, or the second word of the two-word ops (expect,
 * iommufd, vfio). */
struct ims_opdef {
	const char *word;
	unsigned char len;
	uint64_t req, opt; /* keys, bit per enum ims_key */
};


/* dev= and inject-dev=: what the model takes as a device (a uint32_t): a
 * PCI requester id with its segment, SSSS:BB:DD.F, or an SMMU StreamID
 * (up to 32 bits, IDR1.SIDSIZE). */
#define IMS_DEV_MAX 0xffffffffull

#define IMS_KB(k) (1ull << IMS_K_##k)
/* A device write injected between two software memory accesses of the op
 * (the fuzzer's interleavings): all three keys or none. */
#define IMS_KB_INJECT (IMS_KB(INJECT_AT) | IMS_KB(INJECT_DEV) | IMS_KB(INJECT_IOVA))

/* The tables are defined here, static, rather than once in a .c file: the
 * parser and the checks look keys and ops up by constants, and with the
 * table in the same translation unit the compiler can fold those lookups. */
#define KEY(n, t) {n, sizeof(n) - 1, IMS_##t}
static const struct ims_keydef trc_keydefs[IMS_K_COUNT] = {
	[IMS_K_ID] = KEY("id", VT_NUM),
	[IMS_K_FORMAT] = KEY("format", VT_FORMAT),
	[IMS_K_LEVELS] = KEY("levels", VT_NUM),
	[IMS_K_GRANULE] = KEY("granule", VT_SIZE),
	[IMS_K_IAS] = KEY("ias", VT_NUM),
	[IMS_K_PGSIZES] = KEY("pgsizes", VT_PGSIZES),
	[IMS_K_DIRTY] = KEY("dirty", VT_ONOFF),
	[IMS_K_ROOT] = KEY("root", VT_NUM),
	[IMS_K_RAW] = KEY("raw", VT_FLAG),
	[IMS_K_HA] = KEY("ha", VT_ONOFF),
	[IMS_K_HD] = KEY("hd", VT_ONOFF),
	[IMS_K_DEV] = KEY("dev", VT_DEV),
	[IMS_K_DOMAIN] = KEY("domain", VT_NUM),
	[IMS_K_IOVA] = KEY("iova", VT_NUM),
	[IMS_K_PA] = KEY("pa", VT_NUM),
	[IMS_K_SIZE] = KEY("size", VT_SIZE),
	[IMS_K_PROT] = KEY("prot", VT_ACCESS),
	[IMS_K_PGSIZE] = KEY("pgsize", VT_SIZE),
	[IMS_K_ON] = KEY("on", VT_FLAG),
	[IMS_K_OFF] = KEY("off", VT_FLAG),
	[IMS_K_NOCLEAR] = KEY("noclear", VT_FLAG),
	[IMS_K_EXPECT] = KEY("expect", VT_HEX),
	[IMS_K_EXPECT_COUNT] = KEY("expect-count", VT_NUM),
	[IMS_K_LEN] = KEY("len", VT_SIZE),
	[IMS_K_DIR] = KEY("dir", VT_ACCESS),
	[IMS_K_VAL] = KEY("val", VT_NUM),
	[IMS_K_MASK] = KEY("mask", VT_NUM),
	[IMS_K_KIND] = KEY("kind", VT_KIND),
	[IMS_K_INJECT_AT] = KEY("inject-at", VT_NUM),
	[IMS_K_INJECT_DEV] = KEY("inject-dev", VT_DEV),
	[IMS_K_INJECT_IOVA] = KEY("inject-iova", VT_NUM),
	[IMS_K_CNT] = KEY("count", VT_NUM),
	[IMS_K_READ_DIRTY] = KEY("read-dirty", VT_FLAG),
	[IMS_K_DIRTY_CAP] = KEY("dirty-cap", VT_ONOFF),
	[IMS_K_IOAS] = KEY("ioas", VT_NUM),
	[IMS_K_HWPT] = KEY("hwpt", VT_NUM),
	[IMS_K_LENGTH] = KEY("length", VT_SIZE),
	[IMS_K_PAGE_SIZE] = KEY("page-size", VT_SIZE),
	[IMS_K_FLAGS] = KEY("flags", VT_NUM),
	[IMS_K_RESERVED] = KEY("reserved", VT_NUM),
	[IMS_K_BITMAP_SIZE] = KEY("bitmap-size", VT_SIZE),
	[IMS_K_EXPECT_ERR] = KEY("expect-err", VT_ERRNO),
	[IMS_K_CONTAINER] = KEY("container", VT_NUM),
	[IMS_K_PIN_SCOPE] = KEY("pin-scope", VT_FLAG),
	[IMS_K_START] = KEY("start", VT_FLAG),
	[IMS_K_STOP] = KEY("stop", VT_FLAG),
	[IMS_K_GET_BITMAP] = KEY("get-bitmap", VT_FLAG),
	[IMS_K_GET_DIRTY_BITMAP] = KEY("get-dirty-bitmap", VT_FLAG),
	[IMS_K_NESTED] = KEY("nested", VT_NUM),
	[IMS_K_NEST_PARENT] = KEY("nest-parent", VT_FLAG),
	[IMS_K_DATA_TYPE] = KEY("data-type", VT_NUM),
	[IMS_K_DATA_LEN] = KEY("data-len", VT_NUM),
	[IMS_K_DATA0] = KEY("data0", VT_NUM),
	[IMS_K_DATA1] = KEY("data1", VT_NUM),
	[IMS_K_DATA2] = KEY("data2", VT_NUM),
	[IMS_K_DATA3] = KEY("data3", VT_NUM),
	[IMS_K_ENTRY_LEN] = KEY("entry-len", VT_NUM),
	[IMS_K_ENTRY_NUM] = KEY("entry-num", VT_NUM),
	[IMS_K_VIOMMU] = KEY("viommu", VT_NUM),
	[IMS_K_VIRT_ID] = KEY("virt-id", VT_NUM),
	[IMS_K_TYPE] = KEY("type", VT_NUM),
};

#define B(k) IMS_KB(k)
#define INJECT IMS_KB_INJECT
/* on/off of track are optional here and checked as "exactly one" with the
 * rules between fields (traces/validate.c). */
static const struct ims_opdef trc_opdefs[IMS_OP_COUNT] = {
	[IMS_OP_DOMAIN] = {"domain", 6, B(ID) | B(FORMAT),
			   B(LEVELS) | B(GRANULE) | B(IAS) | B(PGSIZES) | B(DIRTY) | B(ROOT) |
				   B(RAW) | B(HA) | B(HD) | B(NESTED)},
	[IMS_OP_ATTACH] = {"attach", 6, B(DEV) | B(DOMAIN), 0},
	[IMS_OP_DETACH] = {"detach", 6, B(DEV), 0},
	[IMS_OP_MAP] = {"map", 3, B(DOMAIN) | B(IOVA) | B(PA) | B(SIZE),
			B(PROT) | B(PGSIZE) | INJECT},
	[IMS_OP_UNMAP] = {"unmap", 5, B(DOMAIN) | B(IOVA) | B(SIZE),
			  B(READ_DIRTY) | B(PGSIZE) | INJECT},
	[IMS_OP_TRACK] = {"track", 5, B(DOMAIN), B(ON) | B(OFF) | INJECT},
	[IMS_OP_HARVEST] = {"harvest", 7, B(DOMAIN) | B(IOVA) | B(SIZE),
			    B(PGSIZE) | B(NOCLEAR) | B(EXPECT) | B(EXPECT_COUNT) | INJECT},
	[IMS_OP_FLUSH] = {"flush", 5, B(DOMAIN), B(IOVA) | B(SIZE)},
	[IMS_OP_DMA] = {"dma", 3, B(DEV) | B(IOVA) | B(LEN) | B(DIR), 0},
	[IMS_OP_MEM] = {"mem", 3, B(PA) | B(VAL), 0},
	[IMS_OP_EXPECT_MEM] = {"mem", 3, B(PA) | B(VAL), B(MASK)},
	[IMS_OP_EXPECT_PA] = {"pa", 2, B(DEV) | B(IOVA) | B(PA), 0},
	[IMS_OP_EXPECT_FAULT] = {"fault", 5, B(DEV) | B(IOVA) | B(KIND), 0},
	[IMS_OP_EXPECT_NOFAULT] = {"nofault", 7, 0, 0},
	[IMS_OP_EXPECT_CONSISTENT] = {"consistent", 10, B(DOMAIN), 0},
	[IMS_OP_EXPECT_TABLES] = {"tables", 6, B(DOMAIN) | B(CNT), 0},
	/* The iommufd and vfio ops: `word` is the second word. Every call
	 * takes expect-err= (docs/uapi.md). */
	[IMS_OP_IOMMUFD_BIND] = {"bind", 4, B(DEV) | B(FORMAT), B(DIRTY_CAP)},
	[IMS_OP_IOMMUFD_HW_INFO] = {"hw-info", 7, B(DEV), B(DIRTY_CAP) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_IOAS] = {"ioas-alloc", 10, B(IOAS), B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_MAP] = {"map", 3, B(IOAS) | B(IOVA) | B(PA) | B(LENGTH),
				B(PROT) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_UNMAP] = {"unmap", 5, B(IOAS) | B(IOVA) | B(LENGTH), B(EXPECT_ERR)},
	/* ioas=, nested= (a nested HWPT's parent) or viommu=: exactly one,
	 * checked with the rules between fields. */
	[IMS_OP_IOMMUFD_HWPT] = {"hwpt-alloc", 10, B(HWPT) | B(DEV),
				 B(IOAS) | B(NESTED) | B(VIOMMU) | B(NEST_PARENT) | B(DIRTY) | B(FLAGS) |
					 B(LEVELS) | B(GRANULE) | B(IAS) | B(PGSIZES) |
					 B(DATA_TYPE) | B(DATA_LEN) | B(DATA0) | B(DATA1) |
					 B(DATA2) | B(DATA3) | B(RESERVED) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_ATTACH] = {"attach", 6, B(DEV) | B(HWPT), B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_SET_DIRTY] = {"set-dirty-tracking", 18, B(HWPT),
				      B(ON) | B(OFF) | B(FLAGS) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_GET_DIRTY] = {"get-dirty-bitmap", 16,
				      B(HWPT) | B(IOVA) | B(LENGTH) | B(PAGE_SIZE),
				      B(NOCLEAR) | B(FLAGS) | B(RESERVED) | B(BITMAP_SIZE) |
					      B(EXPECT) | B(EXPECT_COUNT) | B(EXPECT_ERR)},
	/* hwpt= or viommu=: exactly one (validate.c). */
	[IMS_OP_IOMMUFD_INVALIDATE] = {"invalidate", 10, B(DATA_TYPE),
				       B(HWPT) | B(VIOMMU) | B(ENTRY_LEN) | B(ENTRY_NUM) | B(DATA0) |
					       B(DATA1) | B(DATA2) | B(DATA3) | B(RESERVED) |
					       B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_VIOMMU] = {"viommu-alloc", 12, B(VIOMMU) | B(DEV) | B(HWPT),
				   B(TYPE) | B(FLAGS) | B(EXPECT_ERR)},
	[IMS_OP_IOMMUFD_VDEVICE] = {"vdevice-alloc", 13, B(VIOMMU) | B(DEV) | B(VIRT_ID),
				    B(EXPECT_ERR)},
	[IMS_OP_VFIO_CONTAINER] = {"container", 9, B(ID) | B(FORMAT),
				   B(LEVELS) | B(GRANULE) | B(IAS) | B(PGSIZES)},
	[IMS_OP_VFIO_GROUP] = {"group", 5, B(ID) | B(CONTAINER), B(DEV) | B(PIN_SCOPE)},
	[IMS_OP_VFIO_MAP] = {"map", 3, B(CONTAINER) | B(IOVA) | B(PA) | B(LENGTH),
			     B(PROT) | B(EXPECT_ERR)},
	[IMS_OP_VFIO_UNMAP] = {"unmap", 5, B(CONTAINER) | B(IOVA) | B(LENGTH),
			       B(GET_DIRTY_BITMAP) | B(FLAGS) | B(PAGE_SIZE) | B(BITMAP_SIZE) |
				       B(EXPECT) | B(EXPECT_COUNT) | B(EXPECT_ERR)},
	[IMS_OP_VFIO_DIRTY] = {"dirty-pages", 11, B(CONTAINER),
			       B(START) | B(STOP) | B(GET_BITMAP) | B(FLAGS) | B(IOVA) | B(LENGTH) |
				       B(PAGE_SIZE) | B(BITMAP_SIZE) | B(EXPECT) | B(EXPECT_COUNT) |
				       B(EXPECT_ERR)},
	[IMS_OP_VFIO_PIN] = {"pin", 3, B(CONTAINER) | B(IOVA) | B(LENGTH), B(EXPECT_ERR)},
	[IMS_OP_VFIO_UNPIN] = {"unpin", 5, B(CONTAINER) | B(IOVA) | B(LENGTH), B(EXPECT_ERR)},
};
#undef KEY
#undef B
#undef INJECT

#endif
