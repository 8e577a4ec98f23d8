/* The hardware model: one IOMMU instance.
 *
 * Devices (requester / stream ids) attach to hardware contexts (domains)
 * identified by their tag (AMD DomainID, VT-d DID, SMMU ASID). A context is
 * programmed in the format's own encoding: the AMD device-table entry, the
 * VT-d scalable-mode PASID-table entry, the SMMU context descriptor. The
 * model decodes it when it is set and again on a context-cache invalidation,
 * so a change that software makes without invalidating is not seen.
 *
 * A device access goes micro-TLB (device side, optional) -> link -> IOTLB ->
 * walk (through the walk caches) -> permission check -> accessed/dirty update
 * -> success, or a fault in the queue. The oracle records every successful
 * write made while dirty updates are on. Each translation is also given a
 * cycle count ("cycle-light" timing, docs/timing.md).
 */
#ifndef IOMMUSIM_MODEL_H
#define IOMMUSIM_MODEL_H

#include <stdio.h>

#include "iommusim/common.h"
#include "iommusim/mem.h"
#include "iommusim/model_cfg.h"
#include "iommusim/oracle.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ims_iommu;

/* Defaults (docs/timing.md gives each one's source): 2048-entry 4-way LRU
 * IOTLB at 3 cycles; micro-TLB off (32 entries, fully associative,
 * round-robin, 1 cycle when on); 64-entry 4-way LRU walk cache per level at
 * 4 cycles a probe; link 8 cycles each way; page-table read, A/D write,
 * invalidation and fault 100 cycles each; replica policy COVERING; every A/D
 * capability present. */
void ims_iommu_cfg_default(struct ims_iommu_cfg *cfg);

/* Apply a model configuration file (YAML, docs/timing.md) on top of *cfg:
 * keys the file gives replace cfg's values, the others are kept. On error
 * *cfg is unchanged and err holds "FILE:LINE:COL: what was expected" (bad
 * YAML, unknown key, wrong type, value out of range; -EINVAL), "FILE: ..."
 * or "FILE:LINE:COL: ..." naming a budget of docs/limits.md the file goes
 * past (its size, nesting, anchors, aliases, nodes; -E2BIG), or "FILE:
 * reason" (unreadable; -errno). */
int ims_iommu_cfg_load(struct ims_iommu_cfg *cfg, const char *path, char *err, size_t errlen);
/* The same from memory; `name` stands for FILE in messages. */
int ims_iommu_cfg_parse(struct ims_iommu_cfg *cfg, const char *name, const char *buf, size_t len,
			char *err, size_t errlen);
/* Write cfg as a configuration file that ims_iommu_cfg_load reads back. */
void ims_iommu_cfg_write(const struct ims_iommu_cfg *cfg, FILE *out);

/* The configuration keys (struct ims_cfg_key, iommusim/model_cfg.h): the
 * model's own, then each format's (its capability registers and rules). */
size_t ims_iommu_cfg_key_count(void);
/* Key i of the table; NULL past the end. The YAML file and the writer
 * group keys by section in the order sections first appear here. */
const struct ims_cfg_key *ims_iommu_cfg_key(size_t i);
/* The index of a canonical name (with N or a level number) or an alias;
 * -ENOENT when there is none. */
int ims_iommu_cfg_key_find(const char *key);
/* Set one key from its text. On error cfg is unchanged, -ENOENT for an
 * unknown key ("unknown key 'K' (nearest: NAME)"), -EINVAL for a bad value
 * ("KEY: expected TYPE, got 'VALUE'", KEY as given). Aliases keep the
 * meaning of the options they were: the cache sizes of the command line
 * take 0 ways (one way), and walk-cache-entries / walk-cache-ways set every
 * walk-cache level already configured as well. */
int ims_iommu_cfg_set(struct ims_iommu_cfg *cfg, const char *key, const char *value, char *err,
		      size_t errlen);
/* The value of a key in force in cfg, as text ims_iommu_cfg_set takes back.
 * Returns the length it needs (as snprintf) or -ENOENT. */
int ims_iommu_cfg_get(const struct ims_iommu_cfg *cfg, const char *key, char *buf, size_t len);

struct ims_fault {
	uint32_t dev;
	uint16_t dom;
	bool has_dom;
	bool write;
	uint64_t iova; /* first byte of the piece that faulted */
	enum ims_fault_kind kind;
	uint32_t code; /* the format's own code (AMD event flags, VT-d reason, SMMU event id) */
	enum ims_format fmt;
	/* Where the walk stopped, when has_level: the table level whose entry
	 * faulted (0 = the leaf level, as everywhere). Without it the fault came
	 * before any table was read: no domain attached, an invalid context, an
	 * IOVA outside the input range. (In what was the struct's padding:
	 * its size and the offsets above are unchanged.) */
	bool has_level;
	uint8_t level;
	/* Nested translation (docs/nested.md; at the end: the offsets above
	 * are unchanged). stage: 0 single-stage, 1 or 2 the stage that
	 * faulted; s1_walk: a stage-2 fault on a stage-1 table read or A/D
	 * write (SMMU CLASS=TT); ipa: the intermediate address stage 2 was
	 * given (that table entry's, or the stage-1 output), 0 otherwise. */
	uint8_t stage;
	bool s1_walk;
	uint64_t ipa;
};

struct ims_iommu_counters {
	uint64_t translations; /* pieces translated (incl. faulted) */
	uint64_t iotlb_hits, iotlb_misses, iotlb_evictions, iotlb_fills;
	uint64_t wc_hits, wc_misses;
	uint64_t walks;
	uint64_t pte_reads;
	uint64_t ad_writes;   /* atomic A/D updates that changed memory */
	uint64_t dirty_sets;  /* of which set dirty state */
	uint64_t faults;
	uint64_t inv_range, inv_domain, inv_all, inv_ctx;
	uint64_t inv_entries; /* IOTLB + walk-cache entries dropped */
	uint64_t writes_ok, reads_ok;
	/* Device-side micro-TLBs (all devices together). */
	uint64_t utlb_hits, utlb_misses, utlb_fills, utlb_evictions;
	uint64_t utlb_inv_entries; /* micro-TLB entries dropped by invalidations */
	/* Cycles of every translation (incl. faulted), and of invalidation
	 * commands, which are not part of any translation. */
	uint64_t cycles;
	uint64_t inv_cycles;
	/* Faults the queue could not record: it held its limit of records
	 * (ims_iommu_set_fault_limit), as a hardware log overflows. Counted in
	 * faults too. (Last, so the offsets above are unchanged.) */
	uint64_t faults_dropped;
	/* Nested translation (docs/nested.md; last, as above): stage-2
	 * translations a nested walk asked for (each stage-1 table read, each
	 * stage-1 A/D write, the output IPA), of which served by an IOTLB
	 * stage-2 entry, and of which walked. */
	uint64_t s2_lookups, s2_hits, s2_walks;
};

struct ims_xlate {
	uint64_t pa;
	uint64_t leaf_iova;  /* start of the page (leaf / replica run / group) used */
	unsigned leaf_shift; /* its log2 size */
	bool iotlb_hit;
	bool dirtied; /* this access set dirty state in memory */
	/* This access set the access flag in memory (in the padding after
	 * dirtied: the struct's size and other offsets are unchanged). */
	bool accessed;
	enum ims_fault_kind fault;
	uint32_t code;
	bool utlb_hit;   /* the device's micro-TLB served it (iotlb_hit is set too) */
	uint64_t cycles; /* what this translation cost */
	/* Nested translation (at the end: the offsets above are unchanged):
	 * the stage-1 output address (= iova for a single-stage context), and
	 * the stage that faulted (0: none or single-stage, 1, 2). */
	uint64_t ipa;
	uint8_t stage;
};

/* Encode a context in the format's native words (DTE, PASID-table entry,
 * CD). -EINVAL with a reason for a combination the format cannot express
 * (AMD hd without ha, VT-d ha != hd, a bad geometry). */
int ims_ctx_encode(enum ims_format fmt, const struct ims_ctx_params *p,
		   uint64_t words[IMS_CTX_WORDS], char *err, size_t errlen);

/* Whether the capability registers of cfg advertise hardware dirty tracking
 * for fmt (AMD EFR.HASup+HDSup, VT-d ECAP.SSADS+SMPWC, SMMU IDR0.HTTU >= 2):
 * what GET_HW_INFO reports and what a DIRTY_TRACKING allocation needs. */
bool ims_iommu_cfg_dirty_capable(const struct ims_iommu_cfg *cfg, enum ims_format fmt);

int ims_iommu_new(struct ims_mem *mem, const struct ims_iommu_cfg *cfg, struct ims_iommu **out);
void ims_iommu_free(struct ims_iommu *mmu);
struct ims_oracle *ims_iommu_oracle(struct ims_iommu *mmu);
const struct ims_iommu_cfg *ims_iommu_config(const struct ims_iommu *mmu);

/* Program (create or replace) a context in its native encoding and decode
 * it. Returns -EINVAL with a reason in err (if non-NULL) when the encoding is
 * reserved or asks for something the capabilities lack. */
int ims_iommu_ctx_set(struct ims_iommu *mmu, uint16_t tag, enum ims_format fmt,
		      const uint64_t words[IMS_CTX_WORDS], char *err, size_t errlen);
int ims_iommu_ctx_get(const struct ims_iommu *mmu, uint16_t tag, uint64_t words[IMS_CTX_WORDS]);
/* Change context words in memory only: hardware keeps the decoded copy until
 * ims_iommu_ctx_invalidate (DTE invalidation, PASID-cache invalidation,
 * CMD_CFGI_CD). */
int ims_iommu_ctx_update(struct ims_iommu *mmu, uint16_t tag, unsigned word, uint64_t clear,
			 uint64_t set);
int ims_iommu_ctx_invalidate(struct ims_iommu *mmu, uint16_t tag);
/* -EBUSY while a nested context uses tag as its stage 2. */
int ims_iommu_ctx_remove(struct ims_iommu *mmu, uint16_t tag);
/* Nested (two-stage) translation (docs/nested.md): program context `tag`
 * as stage 1 of format s1fmt (words as ims_iommu_ctx_set takes them) whose
 * table addresses (the root and every table pointer) are intermediate /
 * guest-physical addresses, translated through the stage-2 context already
 * programmed at s2_tag. The pairs: smmuv3 over smmuv3-s2 (STE Config
 * 0b111), vtd-fs over vtd (PASID entry PGTT = 011b), amdv2 over amdv1 (DTE
 * Mode != 0 with GV = 1). -EINVAL with a reason in err for another pair, a
 * missing or non-stage-2 parent, or a tag equal to s2_tag. The parent's
 * later changes (ctx_set, ctx_invalidate) are seen by the nested context. */
int ims_iommu_ctx_set_nested(struct ims_iommu *mmu, uint16_t tag, enum ims_format s1fmt,
			     const uint64_t words[IMS_CTX_WORDS], uint16_t s2_tag, char *err,
			     size_t errlen);
/* The stage-2 tag of nested context `tag`; -ENOENT when tag is not nested. */
int ims_iommu_ctx_parent(const struct ims_iommu *mmu, uint16_t tag);
/* The stage-1 format a pair nests over stage-2 format s2 (and back): -1
 * when none. */
int ims_format_nest_s1(enum ims_format s2);
int ims_format_nest_s2(enum ims_format s1);

/* Dirty updates enabled in the decoded (hardware-visible) context. */
bool ims_iommu_ctx_dirty_enabled(const struct ims_iommu *mmu, uint16_t tag);

int ims_iommu_attach(struct ims_iommu *mmu, uint32_t dev, uint16_t tag);
int ims_iommu_detach(struct ims_iommu *mmu, uint32_t dev);
/* The domain tag device dev is attached to, or -ENOENT. */
int ims_iommu_dev_domain(const struct ims_iommu *mmu, uint32_t dev);

/* One access inside one 4 KiB page. Returns 0, or a positive fault kind
 * (the fault is queued), or a negative error for misuse. */
int ims_iommu_access(struct ims_iommu *mmu, uint32_t dev, uint64_t iova, unsigned acc,
		     struct ims_xlate *out);
/* Translate as the hardware would, from memory, with no side effect at all:
 * no IOTLB or walk-cache use, no A/D update, no fault queued, no counter.
 * For checkers (software iova_to_phys against hardware). Returns 0, a
 * positive fault kind, or -ENOENT for an unknown or invalid context. */
int ims_iommu_probe(struct ims_iommu *mmu, uint16_t tag, uint64_t iova, unsigned acc,
		    struct ims_xlate *out);

/* The leaf entry that maps an IOVA, read back as the hardware decodes it
 * (ims_iommu_leaf): for a testbench that checks A/D state without walking
 * tables with masks of its own. */
struct ims_leaf {
	int level;           /* table level of the entry (0: the lowest) */
	uint64_t pte_pa;     /* the entry the IOVA's index selects */
	uint64_t pte;        /* its raw value */
	uint64_t first_pa;   /* the first entry of its run (an AMD replica run, an Arm
			      * contiguous group; pte_pa when the leaf is one entry) */
	unsigned nentries;   /* entries of the run (1: one entry) */
	uint64_t leaf_iova;  /* the page the run maps */
	unsigned leaf_shift; /* its log2 size */
	uint64_t pa;         /* what the IOVA translates to */
	bool accessed, dirty; /* any entry of the run, by the format's hardware rules */
	bool readable, writable; /* a read / a write would pass the permission checks now */
};
/* Reads back the leaf that maps iova in context tag, from memory, with no
 * side effect (no cache, no A/D update, no fault, no counter). Returns 0,
 * a positive fault kind when no leaf maps it (a missing or invalid entry,
 * out of range), or -ENOENT for an unknown or invalid context. */
int ims_iommu_leaf(struct ims_iommu *mmu, uint16_t tag, uint64_t iova, struct ims_leaf *out);

/* A DMA of len bytes split at 4 KiB boundaries. Returns the number of
 * pieces that faulted; *pieces (if non-NULL) gets the number of pieces. */
uint64_t ims_iommu_dma(struct ims_iommu *mmu, uint32_t dev, uint64_t iova, uint64_t len,
		       unsigned acc, uint64_t *pieces);

/* Invalidation (formats.md "Caches and invalidation"). */
enum { IMS_INV_LEAF = 1 /* leaf entries only: walk caches are kept */ };
void ims_iommu_inv_range(struct ims_iommu *mmu, uint16_t tag, uint64_t iova, uint64_t size,
			 unsigned flags);
void ims_iommu_inv_domain(struct ims_iommu *mmu, uint16_t tag);
void ims_iommu_inv_all(struct ims_iommu *mmu);
/* A command in the format's native encoding (AMD INVALIDATE_IOMMU_PAGES /
 * INVALIDATE_DEVTAB_ENTRY, VT-d IOTLB / PASID-cache descriptors, SMMU TLBI /
 * CFGI). Returns -EINVAL for a command the model does not know. */
int ims_iommu_submit(struct ims_iommu *mmu, enum ims_format fmt, const uint64_t cmd[2]);

/* The fault queue holds at most this many records by default; a fault
 * raised while it is full is not recorded, only counted (faults_dropped),
 * as the hardware's fault logs overflow (AMD event log overflow, VT-d
 * PFO, SMMU EVENTQ overflow). */
#define IMS_FAULT_RECORDS_DEFAULT ((size_t)1 << 16)
/* Change the queue's limit (at least 1, else -EINVAL); records already
 * queued beyond a lower limit stay queued. */
int ims_iommu_set_fault_limit(struct ims_iommu *mmu, size_t records);
size_t ims_iommu_fault_limit(const struct ims_iommu *mmu);
size_t ims_iommu_fault_pending(const struct ims_iommu *mmu);
bool ims_iommu_fault_pop(struct ims_iommu *mmu, struct ims_fault *out);
/* The i-th pending fault (0: the oldest, the next pop) without popping it;
 * false when fewer are pending. */
bool ims_iommu_fault_peek(const struct ims_iommu *mmu, size_t i, struct ims_fault *out);

const struct ims_iommu_counters *ims_iommu_counters(const struct ims_iommu *mmu);

/* Translation latency percentile, q in [0, 1] (nearest rank), from a fixed
 * log-linear histogram: exact below 1024 cycles, otherwise rounded down to
 * within 1/64 of the value. 0 when nothing was translated. */
uint64_t ims_iommu_latency_percentile(const struct ims_iommu *mmu, double q);
/* The most cycles one translation took (exact). */
uint64_t ims_iommu_latency_max(const struct ims_iommu *mmu);

#ifdef __cplusplus
}
#endif

#endif
