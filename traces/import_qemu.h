/* The QEMU importer's parts (traces/import_qemu*.c): its state, the
 * helpers its handlers share, and the handlers the event table of
 * traces/import_qemu.c names. The device side (import_qemu_dev.c) and the
 * translations (import_qemu_xl.c) serve the three IOMMUs' handlers
 * (import_qemu_vtd.c, _amd.c, _smmu.c); all of them call only the importer
 * machinery (traces/import.h) besides.
 */
#ifndef IMS_TRACES_IMPORT_QEMU_H
#define IMS_TRACES_IMPORT_QEMU_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "traces/import.h"

/* NVMe commands whose data ranges are remembered, newest first. */
#define NCMD 64
#define NRANGE 32

struct range {
	uint64_t a, b;
	unsigned dir;
};

struct cmd {
	bool live, prp_seen, dma_seen;
	bool has_cid;
	uint16_t cid;
	unsigned dir;
	unsigned n;
	struct range r[NRANGE];
};

struct q;
typedef int (*handler)(struct q *q, const char *a, const char *e);

struct q {
	struct imp *m;
	enum ims_import_from from;
	uint64_t line;
	const char *evname;

	/* The IOTLB lookup just before a translation gives the exact access
	 * address, the leaf and the domain that the translation line lacks. */
	struct {
		bool valid;
		uint32_t sid;
		uint64_t iova, pte;
		int dom;
	} last;
	int cur_asid; /* SMMU: ASID of the lookup being translated */
	int cur_vmid; /* SMMU: VMID of the last lookup that named one (-1: none) */
	/* SMMU: each VMID, (VMID, ASID) and stage-1-only ASID of the log with
	 * its trace domain id (traces/import_qemu_smmu_ids.c); the ids taken,
	 * a bitmap; the VMID the last invalidation line named. */
	struct smmu_id *smmu_ids;
	size_t nsmmu_ids, capsmmu_ids;
	uint8_t *smmu_taken;
	int inv_vmid;
	bool inv_vmid_named;
	/* SMMU: the stage-1 leaf of a nested walk (smmu_ptw_*_pte stage=3),
	 * which gives the IPA the translation line does not. */
	struct {
		bool valid;
		uint64_t iova, ipa; /* the walked address, its leaf's IPA base */
		unsigned shift;
	} s1leaf;
	struct {
		bool valid;
		uint64_t addr;
		unsigned shift;
	} insert;
	unsigned tt_granule_log, tt_ias; /* SMMU CD of the next domain */
	/* AMD: the domain each device's IOTLB fills name (amdvi_cache_update);
	 * as many devices as the log has (a fixed table would forget some). */
	struct devdom {
		uint32_t dev;
		uint16_t dom;
	} *devdom;
	size_t ndevdom, capdevdom;
	unsigned phase;

	struct cmd cmds[NCMD];
	unsigned cmd_head; /* index of the newest */
	struct cmd *cur;

	const struct imp_guest *g; /* combining: the guest side (NULL: none) */
	uint64_t counts[128];
};

struct xl {
	uint32_t dev;
	uint16_t dom;
	uint64_t iova;   /* the accessed address */
	uint64_t pa;     /* its translation */
	unsigned shift;  /* leaf size the log states (12 if none) */
	unsigned prot;   /* mapping permission the log states (0: none) */
	unsigned logdir; /* the access direction the log states (0: none) */
	/* pa is the base of the leaf, whatever its size, not the access's
	 * translation (amdvi_translation_result). */
	bool pa_base;
	/* A nested domain: pa is the IPA (stage-1 output); final_pa the
	 * address both stages give, which `expect pa` checks. */
	bool nested;
	uint64_t final_pa;
};

/* ---- helpers -------------------------------------------------------------- */

static inline int bad(struct q *q, const char *what)
{
	struct imp *m = q->m;
	if (m->o.lenient) {
		m->st->malformed++;
		return 0;
	}
	return imp_refuse(m, "%s: expected %s", q->evname, what);
}

/* A value wider than its field: refused, never masked (the log is not
 * what QEMU writes, and a masked id would name another domain). */
static inline int bad_range(struct q *q, const char *key, uint64_t v, uint64_t max)
{
	struct imp *m = q->m;
	if (m->o.lenient) {
		m->st->malformed++;
		return 0;
	}
	return imp_refuse(m, "%s: %s 0x%" PRIx64 " is out of range (expected 0..0x%" PRIx64 ")",
			  q->evname, key, v, max);
}

static inline bool bdf_arg(const char *a, const char *e, const char *key, uint32_t *out)
{
	const char *v;
	size_t n;
	return arg_str(a, e, key, &v, &n) && parse_bdf(v, n, out);
}

/* "key:NUM" inside a token (TT[0]:tsz:16). */
static inline bool inner_num(const char *a, const char *e, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *p = a; p + kl <= e; p++) {
		if (memcmp(p, key, kl))
			continue;
		const char *v = p + kl, *ve = v;
		while (ve < e && *ve != ' ' && *ve != ':' && *ve != ',')
			ve++;
		return parse_num(v, (size_t)(ve - v), out);
	}
	return false;
}

static inline unsigned acc_of(uint64_t perm)
{
	return (unsigned)(perm & 3);
}

static inline uint64_t leaf_pa(const struct leaf *l, uint64_t iova)
{
	return l->pa + (iova - l->iova);
}

/* ---- the device side (traces/import_qemu_dev.c) -------------------------- */

/* The direction and the data range of the NVMe command that holds iova
 * (0: none holds it). */
unsigned qemu_cmd_dir(struct q *q, uint64_t iova, struct range *out);
int qh_nvme_io_cmd(struct q *q, const char *a, const char *e);
int qh_nvme_read(struct q *q, const char *a, const char *e);
int qh_nvme_write(struct q *q, const char *a, const char *e);
int qh_nvme_map_prp(struct q *q, const char *a, const char *e);
int qh_nvme_map_addr(struct q *q, const char *a, const char *e);
int qh_nvme_rw_cb(struct q *q, const char *a, const char *e);
int qh_dma_blk_io(struct q *q, const char *a, const char *e);
int qh_pci_cfg_read(struct q *q, const char *a, const char *e);

/* ---- translations (traces/import_qemu_xl.c) ------------------------------- */

/* One translated access: the mapping it needs, its expected translation
 * and the access itself. */
int qemu_translate(struct q *q, const struct xl *x);
/* A logged fault: an access and its expected fault when the trace makes
 * the model fault the same way. */
int qemu_fault(struct q *q, uint32_t dev, uint64_t iova, bool write);
int qh_flush_all(struct q *q, const char *a, const char *e);
int qh_fault_unknown(struct q *q, const char *a, const char *e);

/* ---- the IOMMUs (traces/import_qemu_vtd.c, _amd.c, _smmu.c) --------------- */

int qh_vtd_translate(struct q *q, const char *a, const char *e);
int qh_vtd_iotlb_page(struct q *q, const char *a, const char *e);
int qh_vtd_cc_update(struct q *q, const char *a, const char *e);
int qh_vtd_inv_pages(struct q *q, const char *a, const char *e);
int qh_vtd_inv_domain(struct q *q, const char *a, const char *e);
int qh_vtd_fault(struct q *q, const char *a, const char *e);

int qh_amd_translate(struct q *q, const char *a, const char *e);
int qh_amd_update(struct q *q, const char *a, const char *e);
int qh_amd_hit(struct q *q, const char *a, const char *e);
int qh_amd_pages_inval(struct q *q, const char *a, const char *e);

int qh_smmu_translate(struct q *q, const char *a, const char *e);
int qh_smmu_lookup(struct q *q, const char *a, const char *e);
int qh_smmu_insert(struct q *q, const char *a, const char *e);
int qh_smmu_cd_tt(struct q *q, const char *a, const char *e);
int qh_smmu_range_inval(struct q *q, const char *a, const char *e);
int qh_smmu_inv_asid(struct q *q, const char *a, const char *e);
int qh_smmu_abort(struct q *q, const char *a, const char *e);
/* Nested SMMUv3 (traces/import_qemu_smmu_nest.c). */
int qh_smmu_ptw_leaf(struct q *q, const char *a, const char *e);
int qh_smmu_s12_vmid(struct q *q, const char *a, const char *e);
int qemu_smmu_nested_translate(struct q *q, uint32_t sid, uint64_t iova, uint64_t out,
			       uint64_t perm);
int qemu_smmu_s2_translate(struct q *q, uint32_t sid, uint64_t iova, uint64_t out,
			   uint64_t perm);
int qemu_smmu_s2_inval(struct q *q, const char *a, const char *e);
/* The log's identifiers as trace domain ids (traces/import_qemu_smmu_ids.c):
 * a VMID's stage-2 domain, a (VMID, ASID) nested stage-1 domain, a
 * stage-1-only ASID (VMID -1 or none). */
enum smmu_kind { SMMU_S2, SMMU_NEST, SMMU_S1 };
struct smmu_id {
	enum smmu_kind kind;
	int vmid, asid;
	uint16_t dom;
};
/* The identifier's domain id (>= 0); a new one gets one when `create`
 * (else -ENOENT); <0 on errors. */
int qemu_smmu_dom(struct q *q, enum smmu_kind kind, int vmid, int asid, bool create);
/* Calls fn for the domain(s) a by-ASID invalidation reaches: the ASID in
 * `vmid` (when `named`; else the VMID the last invalidation line named). */
typedef int (*smmu_dom_fn)(struct q *q, uint16_t dom, void *arg);
int qemu_smmu_asid_scope(struct q *q, int vmid, bool named, int asid, smmu_dom_fn fn,
			 void *arg);
/* An invalidation line named this VMID (-1: a stage-1-only one). */
void qemu_smmu_named_vmid(struct q *q, int vmid);
/* "key=-1" (a VMID or ASID QEMU prints as -1 when the stage has none):
 * 1 when it is -1, 0 when it is a number (in *out), -1 when neither. */
int qemu_smmu_id(const char *a, const char *e, const char *key, uint64_t *out);

#endif
