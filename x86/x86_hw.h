/* The x86-64 paging rules both first-stage formats share (x86/x86_hw.c):
 * entry decode, permission check, A/D updates. Each format's hardware
 * file (vtd/vtd_fs_hw.c, amd/amdv2_hw.c) decodes its own context into the
 * flags below and names its own fault codes.
 */
#ifndef IMS_X86_HW_H
#define IMS_X86_HW_H

#include <stddef.h>

#include "formats/format.h"

/* What a format's context decodes to, kept in hw_ctx.caps (the bits
 * decode() and check() need). */
#define X86_CTX_USER (1ull << 0)  /* requests are user-mode (no PR / PMR) */
#define X86_CTX_WP (1ull << 1)    /* supervisor writes honour R/W (VT-d WPE) */
#define X86_CTX_NXE (1ull << 2)   /* XD is a control, not a reserved bit */
#define X86_CTX_1G (1ull << 3)    /* PS = 1 in a PDPTE maps a 1 GiB page */
#define X86_CTX_EA (1ull << 4)    /* set EA with A (VT-d EAFE) */
#define X86_CTX_BLOCK (1ull << 5) /* every request refused at the context */

/* A format's fault codes. `rw` is ORed into every code of a write, `user`
 * into every permission code of a user request (AMD event flags); VT-d's
 * reasons carry neither. */
struct x86_codes {
	uint32_t notpresent; /* P = 0 */
	uint32_t reserved;   /* a reserved bit set (and the engine's COND_SKIP) */
	uint32_t priv;       /* a user request through an entry with U/S = 0 */
	uint32_t write;      /* a write through an entry with R/W = 0 */
	uint32_t blocked;    /* X86_CTX_BLOCK */
	uint32_t range;      /* COND_RANGE: past the lower canonical half */
	uint32_t ctx;        /* COND_CTX */
	uint32_t rw, user;
};

/* An x86-64 format's hardware rules: the engine's table first, so that a
 * decoded context's ops (hw_ctx.ops) lead to the format's codes. */
struct x86_hw_fmt {
	struct hw_fmt hw;
	struct x86_codes codes;
};

void x86_decode(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		struct hw_ent *e);
enum ims_fault_kind x86_check(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
			      bool r, bool w, unsigned acc, uint32_t *code);
uint32_t x86_cond_code(const struct hw_ctx *c, enum hw_cond cond, bool write);
int x86_next_table(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table);
void x86_leaf_update(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u);
uint64_t x86_table_update(const struct hw_ctx *c, uint64_t pte);
bool x86_is_dirty(const struct hw_ctx *c, uint64_t pte);
bool x86_is_accessed(const struct hw_ctx *c, uint64_t pte);
bool x86_cacheable(const struct hw_ctx *c, uint64_t pte);
/* The geometry of a decoded context with `levels` (4 or 5) at root. */
void x86_ctx_geometry(struct hw_ctx *c, unsigned levels, uint64_t root);
/* A raw context (formats/format.h, ctx_encode): the geometry check, a root
 * below 2^52, then the format's words for the domain. */
int x86_ctx_encode(const char *name, int (*geometry)(struct fmt_geom *, char *, size_t),
		   void (*words)(uint16_t, unsigned, uint64_t, uint64_t *),
		   const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);

/* decode_ctx()'s refusal: the reason into err (when given), -EINVAL. */
#define X86_CTX_ERR(...)                                                                           \
	do {                                                                                       \
		if (err)                                                                           \
			snprintf(err, errlen, __VA_ARGS__);                                        \
		return -EINVAL;                                                                    \
	} while (0)

/* A hw_fmt's shared members, to be spread into each format's table. */
#define X86_HW_OPS                                                                                 \
	.decode = x86_decode, .check = x86_check, .cond_code = x86_cond_code,                      \
	.next_table = x86_next_table, .leaf_update = x86_leaf_update,                              \
	.table_update = x86_table_update, .is_dirty = x86_is_dirty,                                \
	.is_accessed = x86_is_accessed, .cacheable = x86_cacheable, .group_skip_if_any = false

#endif
