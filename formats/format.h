/* One format, described once: the format registry's entry.
 *
 * A format folder (amd/, vtd/, smmuv3/) gives the hardware rules the model's
 * walk engine applies (formats/hwfmt.h), the software ops the generic page
 * table drives (formats/swfmt.h), and this description, which ties them to
 * the format's name, context encoding, capability decode, geometry check,
 * configuration keys and the geometries the fuzzer and the benchmark use.
 * formats/list.h lists the descriptions; nothing outside a format's folder
 * names one of them.
 */
#ifndef IMS_FORMATS_FORMAT_H
#define IMS_FORMATS_FORMAT_H

#include <stddef.h>

#include "formats/hwfmt.h"
#include "formats/swfmt.h"
#include "iommusim/model_cfg.h"

/* A geometry as a trace's domain line names it (0 = the format's default). */
struct fmt_geom {
	unsigned levels;        /* AMD Mode, VT-d levels */
	unsigned granule_shift; /* SMMU granule */
	unsigned ias;           /* SMMU input address bits */
};

/* A configuration key of the format's own: a capability register (a
 * uint64_t field of struct ims_iommu_cfg, IMS_CFG_NUMBER, written in hex)
 * or a rule of the format (a bool field, IMS_CFG_BOOL). k.format is the
 * format's id. The model's key table (model/config_keys.c) lists them after
 * its own; FMT_KEY_REG and FMT_KEY_RULE write one. */
struct fmt_cfg_key {
	struct ims_cfg_key k;
	size_t off; /* offsetof(struct ims_iommu_cfg, field) */
};

#define FMT_KEY_REG(fmt_, name_, field_, def_, desc_, alias_)                                      \
	{.k = {.name = name_, .type = IMS_CFG_NUMBER, .type_text = IMS_CFG_TEXT_NUMBER,            \
	       .max = UINT64_MAX, .def = def_, .desc = desc_, .alias = alias_, .format = fmt_},    \
	 .off = offsetof(struct ims_iommu_cfg, field_)}
#define FMT_KEY_RULE(fmt_, name_, field_, def_, desc_, alias_)                                     \
	{.k = {.name = name_, .type = IMS_CFG_BOOL, .type_text = IMS_CFG_TEXT_BOOL, .max = 1,      \
	       .def = def_, .desc = desc_, .alias = alias_, .format = fmt_},                       \
	 .off = offsetof(struct ims_iommu_cfg, field_)}

/* A geometry the benchmark times, with its label in reports. */
struct fmt_layout {
	const char *label;
	struct fmt_geom geom;
};

struct fmt_desc {
	enum ims_format id;
	const char *name; /* the trace's format= word */
	const struct hw_fmt *hw;
	const struct pt_fmt *sw;
	/* Validate a requested geometry and fill in its defaults; the one
	 * check that both the software (map) and the raw hardware context
	 * (ctx_encode) apply. -EINVAL with a reason. */
	int (*geometry)(struct fmt_geom *g, char *err, size_t errlen);
	/* Raw-context encoder (trace-format.md, `root=PA raw`). */
	int (*ctx_encode)(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
	/* Whether cfg's capability registers allow hardware dirty tracking
	 * (what GET_HW_INFO reports, what a DIRTY_TRACKING allocation needs). */
	bool (*dirty_capable)(const struct ims_iommu_cfg *cfg);
	/* The configuration keys that belong to this format; their defaults
	 * are the model's (ims_iommu_cfg_default): capability registers with
	 * every A/D capability present, and the format's rules. */
	const struct fmt_cfg_key *cfg_keys;
	unsigned n_cfg_keys;
	/* What the trace importers assume of a domain (docs/importers.md):
	 * the geometry when the log states none, the leaf sizes Linux's
	 * driver offers (its pgsize_bitmap) in a geometry, the IOVA bits a
	 * geometry translates, and whether a writable mapping is readable
	 * too in hardware (no write-only pages). */
	struct fmt_geom import_geom;
	uint64_t (*driver_pgsizes)(const struct fmt_geom *g);
	unsigned (*iova_bits)(const struct fmt_geom *g);
	bool write_implies_read;
	/* How faults and devices read in messages: whether a device is a stream
	 * ID (SMMU, printed sid=N) rather than a PCI requester ID (printed
	 * BB:DD.F), and what the format's fault code (struct ims_fault's code)
	 * says, in the spec's words, into buf. */
	bool stream_ids;
	void (*fault_text)(uint32_t code, char *buf, size_t len);
	/* Every geometry the fuzzer covers, and those the benchmark times. */
	const struct fmt_geom *fuzz_geoms;
	unsigned n_fuzz_geoms;
	const struct fmt_layout *bench_layouts;
	unsigned n_bench_layouts;
};

/* The description of f, or NULL when f is not built in. */
const struct fmt_desc *fmt_get(enum ims_format f);
/* Bit (1 << f) of every built-in format: enum values below IMS_FMT_COUNT
 * may be holes. */
unsigned fmt_all_mask(void);
/* "amdv1, vtd, ..." : every built-in format's name, in registry order, for
 * messages that list what a format option takes. */
const char *fmt_name_list(char *buf, size_t len);
/* By the format= word; NULL when unknown. */
const struct fmt_desc *fmt_find(const char *name, size_t len);

#endif
