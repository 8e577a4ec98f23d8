/* The x86-64 paging rules of VT-d first-stage and AMD v2 guest tables, for
 * model/'s engine, written from the spec facts (x86/x86_codec.h names the
 * sections): Intel SDM vol. 3 "4.5" (entry formats, reserved bits), "4.6"
 * (access rights), "4.8" (accessed and dirty flags); VT-d "3.6.1 Access
 * Rights", "3.6.2 Accessed, Extended Accessed, and Dirty Flags", "9.7";
 * AMD IOMMU "2.2.6". Levels: see x86/x86_codec.h (level 0 = PTE).
 */
#include <errno.h>
#include <stdio.h>

#include "x86/x86_codec.h"
#include "x86/x86_hw.h"

static void reserved(const struct x86_codes *k, uint32_t rw, struct hw_ent *e)
{
	e->kind = HWE_RESERVED;
	e->code = k->reserved | rw;
}

/* The codes of the format a decoded context belongs to. */
static const struct x86_codes *codes_of(const struct hw_ctx *c)
{
	return &((const struct x86_hw_fmt *)(const void *)c->ops)->codes;
}

void x86_decode(const struct hw_ctx *c, int level, uint64_t pte, unsigned acc,
		struct hw_ent *e)
{
	const struct x86_codes *k = codes_of(c);
	uint32_t rw = (acc & IMS_ACC_W) ? k->rw : 0;
	/* A context that refuses the request (VT-d: a supervisor request with
	 * SRE = 0) stops it before the first table is read. */
	if (level == c->top && (c->caps & X86_CTX_BLOCK)) {
		e->kind = HWE_INVALID;
		e->code = k->blocked | rw;
		return;
	}
	/* SDM 4.5: P = 0 makes every other bit ignored. */
	if (!(pte & X86_P)) {
		e->kind = HWE_INVALID;
		e->code = k->notpresent | rw;
		return;
	}
	/* XD is reserved unless execute-disable is enabled (IA32_EFER.NXE;
	 * VT-d: the PASID entry's NXE, 9.7). */
	if ((pte & X86_XD) && !(c->caps & X86_CTX_NXE)) {
		reserved(k, rw, e);
		return;
	}
	bool leaf = level == 0;
	if (level > 0 && (pte & X86_PS)) {
		/* PS is reserved in a PML4E / PML5E, and in a PDPTE where 1 GiB
		 * pages are not supported (VT-d CAP.FS1GP); a large page's frame
		 * leaves the bits between its PAT bit (12) and its size reserved. */
		if (level >= 3 || (level == 2 && !(c->caps & X86_CTX_1G)) ||
		    (pte & x86_large_rsvd(level))) {
			reserved(k, rw, e);
			return;
		}
		leaf = true;
	}
	/* 4.6: what this entry allows, to be ANDed over the walk. A user
	 * request needs U/S = 1 in every entry, and R/W = 1 to write; a
	 * supervisor request reads anything and writes where R/W = 1 in every
	 * entry, or anywhere when write protection is off (VT-d WPE = 0). */
	bool us = (pte & X86_US) != 0, wr = (pte & X86_RW) != 0;
	if (c->caps & X86_CTX_USER) {
		e->r = us;
		e->w = us && wr;
	} else {
		e->r = true;
		e->w = wr || !(c->caps & X86_CTX_WP);
	}
	if (!leaf) {
		e->kind = HWE_TABLE;
		e->next = level - 1;
		e->addr = pte & X86_ADDR_MASK;
		return;
	}
	e->kind = HWE_LEAF;
	e->page_shift = x86_level_shift(level);
	e->addr = x86_leaf_addr(level, pte);
}

enum ims_fault_kind x86_check(const struct hw_ctx *c, uint64_t pte, const struct hw_ent *e,
			      bool r, bool w, unsigned acc, uint32_t *code)
{
	(void)pte;
	const struct x86_codes *k = codes_of(c);
	uint32_t rw = (acc & IMS_ACC_W) ? k->rw : 0;
	bool user = (c->caps & X86_CTX_USER) != 0;
	uint32_t uf = user ? k->user : 0;
	/* A user request fails on U/S = 0 anywhere, whatever it does (VT-d
	 * reason "U/S set 0 for first-level translation with user privilege"). */
	if (user && !(r && e->r)) {
		*code = k->priv | rw | uf;
		return IMS_FAULT_PERM;
	}
	if ((acc & IMS_ACC_W) && !(w && e->w)) {
		*code = k->write | rw | uf;
		return IMS_FAULT_PERM;
	}
	return IMS_FAULT_NONE;
}

/* No level skip in x86 paging: the engine's COND_SKIP cannot arise. */
uint32_t x86_cond_code(const struct hw_ctx *c, enum hw_cond cond, bool write)
{
	const struct x86_codes *k = codes_of(c);
	uint32_t rw = write ? k->rw : 0;
	switch (cond) {
	case COND_RANGE:
		return k->range | rw;
	case COND_CTX:
		return k->ctx | rw;
	default:
		return k->reserved | rw;
	}
}

/* decode()'s table test: present, PS clear above level 0, no XD where XD
 * is reserved. */
int x86_next_table(const struct hw_ctx *c, int level, uint64_t pte, uint64_t *table)
{
	if (!(pte & X86_P) || level == 0 || (pte & X86_PS) || (c->caps & X86_CTX_BLOCK) ||
	    ((pte & X86_XD) && !(c->caps & X86_CTX_NXE)))
		return -1;
	*table = pte & X86_ADDR_MASK;
	return level - 1;
}

static uint64_t accessed_bits(const struct hw_ctx *c)
{
	return X86_A | ((c->caps & X86_CTX_EA) ? X86_EA : 0);
}

/* SDM 4.8, VT-d 3.6.2: A in every entry a translation uses, the leaf too;
 * D in the leaf on a write (one check() allowed); with EAFE, EA wherever
 * A is set. x86_ctx_geometry() sets ha, hd and nonleaf_a: no VT-d
 * first-stage control gates these updates; AMD's Control register can
 * disable either (amd/amdv2_hw.c). */
void x86_leaf_update(const struct hw_ctx *c, uint64_t pte, unsigned acc, struct hw_upd *u)
{
	(void)pte;
	if (c->ha)
		u->a_set = accessed_bits(c);
	if (c->hd && (acc & IMS_ACC_W))
		u->d_set = X86_D;
}

uint64_t x86_table_update(const struct hw_ctx *c, uint64_t pte)
{
	(void)pte;
	return c->nonleaf_a ? accessed_bits(c) : 0;
}

bool x86_is_dirty(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & X86_D) != 0;
}

bool x86_is_accessed(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	return (pte & X86_A) != 0;
}

bool x86_cacheable(const struct hw_ctx *c, uint64_t pte)
{
	(void)c;
	(void)pte;
	/* A is set by the walk that fills the IOTLB: nothing gates caching. */
	return true;
}

void x86_ctx_geometry(struct hw_ctx *c, unsigned levels, uint64_t root)
{
	c->root = root;
	c->top = (int)levels - 1;
	c->gshift = 12;
	c->stride = 9;
	c->ias = x86_ias(levels);
	c->ha = c->hd = c->nonleaf_a = true;
}

int x86_ctx_encode(const char *name, int (*geometry)(struct fmt_geom *, char *, size_t),
		   void (*words)(uint16_t, unsigned, uint64_t, uint64_t *),
		   const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen)
{
	struct fmt_geom fg = {p->levels, p->granule_shift, p->ias};
	int rc = geometry(&fg, err, errlen);
	if (rc)
		return rc;
	if (p->root & ~X86_ADDR_MASK) {
		snprintf(err, errlen, "%s: root must be a 4 KiB aligned address below 2^52", name);
		return -EINVAL;
	}
	words(p->tag, fg.levels, p->root, w);
	return 0;
}
