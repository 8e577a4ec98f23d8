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

extern const struct ims_keydef trc_keydefs[IMS_K_COUNT];
extern const struct ims_opdef trc_opdefs[IMS_OP_COUNT];

#define IMS_KB(k) (1ull << IMS_K_##k)
/* A device write injected between two software memory accesses of the op
 * (the fuzzer's interleavings): all three keys or none. */
#define IMS_KB_INJECT (IMS_KB(INJECT_AT) | IMS_KB(INJECT_DEV) | IMS_KB(INJECT_IOVA))

#endif
