/* The software ops both x86-64 first-stage formats share (x86/x86_sw.c):
 * what Linux's x86-64 page-table code writes for an Intel first-stage or
 * an AMD v2 domain. Each format adds its context words, its dirty switch
 * and its invalidation commands (vtd/vtd_fs_sw.c, amd/amdv2_sw.c).
 */
#ifndef IMS_X86_SW_H
#define IMS_X86_SW_H

#include "formats/format.h"

/* 4 or 5 levels (default 4), the 4 KiB granule, no ias=; `name` is the
 * format's, for the message. */
int x86_geometry(const char *name, struct fmt_geom *g, char *err, size_t errlen);
int x86_init(const char *name, struct pt_params *cfg, struct pt_geom *g, char *err,
	     size_t errlen);
/* Linux's pgsize_bitmap for both: 4K, 2M, 1G. */
uint64_t x86_driver_pgsizes(const struct fmt_geom *g);
unsigned x86_iova_bits(const struct fmt_geom *g);

/* What the importers, the fuzzer and the driver's pgsize_bitmap share
 * (formats/format.h): 4 levels by default, both widths fuzzed, a writable
 * page readable, requester IDs. To be spread into each description. */
extern const struct fmt_geom x86_fuzz_geoms[2];
#define X86_DESC_COMMON                                                                            \
	.import_geom = {.levels = 4}, .driver_pgsizes = x86_driver_pgsizes,                        \
	.iova_bits = x86_iova_bits, .write_implies_read = true, .stream_ids = false,               \
	.fuzz_geoms = x86_fuzz_geoms, .n_fuzz_geoms = 2

/* A pt_fmt's shared members, to be spread into each format's table. */
#define X86_PT_OPS                                                                                 \
	.leaf_level = x86_leaf_level, .mk_table = x86_mk_table, .mk_leaf = x86_mk_leaf,            \
	.kind = x86_kind, .bad_why = x86_bad_why, .table_pa = x86_table_pa,                        \
	.leaf_shift = x86_leaf_shift, .leaf_pa = x86_leaf_pa, .leaf_prot = x86_leaf_prot,          \
	.is_dirty = x86_sw_is_dirty, .clean_clear = X86_D, .clean_set = 0

int x86_leaf_level(const struct pt_geom *g, unsigned shift);
uint64_t x86_mk_table(const struct pt_geom *g, int level, uint64_t table_pa);
uint64_t x86_mk_leaf(const struct pt_geom *g, int level, unsigned shift, uint64_t pa,
		     unsigned idx, unsigned prot, bool dirty_tracking);
enum pt_kind x86_kind(const struct pt_geom *g, int level, uint64_t pte);
const char *x86_bad_why(const struct pt_geom *g, int level, uint64_t pte);
uint64_t x86_table_pa(uint64_t pte);
unsigned x86_leaf_shift(const struct pt_geom *g, int level, uint64_t pte);
uint64_t x86_leaf_pa(const struct pt_geom *g, int level, uint64_t pte, uint64_t iova);
unsigned x86_leaf_prot(uint64_t pte);
bool x86_sw_is_dirty(uint64_t pte);
/* No control switches first-stage A/D updates: nothing to send. */
int x86_set_hw_dirty(const struct pt_dom *d, bool on);

#endif
