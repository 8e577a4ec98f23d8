/* The testbench API: the model, a software page table per domain (a
 * built-in walker or a plug-in of the walker ABI) and the dirty oracle,
 * wired the way the replayer wires them — the replayer is built on these
 * calls. A testbench creates domains, attaches devices, maps, issues DMAs
 * and gets each access's result, harvests dirty state and has it compared
 * with the oracle, and reads back the leaf that maps an IOVA. Validation
 * failures arrive as structured records through a callback. docs/api.md.
 *
 * Ownership: the caller owns the ims_tb and frees it with ims_tb_free; a
 * plug-in walker's ops stay loaded as long as the ims_tb lives. One ims_tb
 * is used by one thread at a time; separate ims_tb objects share nothing
 * and run in parallel.
 */
#ifndef IOMMUSIM_TB_H
#define IOMMUSIM_TB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iommusim/bitmap.h"
#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "iommusim/walker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Raised when a call or a struct of this header changes in a way a caller
 * compiled against the older one must notice (docs/api.md, "ABI"). */
#define IMS_TB_API_VERSION 2 /* 2: budgets in ims_tb_opts */

struct ims_tb;

enum ims_tb_failure_kind {
	/* A dirty read (harvest, unmap read-dirty, GET_DIRTY_BITMAP) differs
	 * from the oracle; the dirty-read fields below say how. */
	IMS_TB_FAIL_DIRTY_READ = 1,
	/* An expectation failed (a trace's expect line or expect= key). */
	IMS_TB_FAIL_EXPECT = 2,
	/* A software store undid an A/D update the hardware made after the
	 * software read the entry (a non-atomic clean; injections). */
	IMS_TB_FAIL_LOST_UPDATE = 3,
	/* The walker misused the host: a store outside its tables, a
	 * misaligned access, a free of no table; or the built-in software
	 * met a corrupt page-table entry ("corrupt page table: ..."), which
	 * it skipped. */
	IMS_TB_FAIL_WALKER = 4,
};

/* One validation failure. Pointers are valid during the callback only. */
struct ims_tb_failure {
	enum ims_tb_failure_kind kind;
	const char *file;    /* the trace (a replay), or ims_tb_set_where's name; may be NULL */
	uint64_t line;       /* its line, or ims_tb_set_where's number */
	const char *message; /* one line, no newline, no "FILE:LINE: FAIL: " prefix */
	/* IMS_TB_FAIL_DIRTY_READ only (zero otherwise): */
	uint16_t domain;
	const struct ims_bitmap *expected, *got; /* one bit per page of got->pgshift */
	uint64_t expected_bits, got_bits;
	uint64_t under, over;                     /* bits missing from got, and extra */
	uint64_t first_under_iova, first_over_iova; /* meaningful when under / over */
};

typedef void (*ims_tb_failure_fn)(void *arg, const struct ims_tb_failure *f);

/* A kind's short name: "dirty-read", "expect", "lost-update", "walker"
 * ("other" for a value outside the enum). */
const char *ims_tb_failure_kind_name(enum ims_tb_failure_kind k);

/* What the default printer writes for f ("FILE:LINE: FAIL: message", and
 * for a dirty read the first differing bits and, when short, both
 * bitmaps): for a callback that keeps the records and still prints them. */
void ims_tb_print_failure(FILE *out, const struct ims_tb_failure *f);

struct ims_tb_opts {
	/* sizeof(struct ims_tb_opts) as the caller compiled it; set by
	 * ims_tb_opts_default. ims_tb_new refuses another size (-EINVAL). */
	uint32_t size;
	struct ims_iommu_cfg model; /* ims_iommu_cfg_default, ims_iommu_cfg_load */
	unsigned walker;            /* a built-in walker (ims_pt_walker_name; 0 = fast) */
	/* A walker of the walker ABI used instead of the built-in one; NULL:
	 * none. The caller keeps it loaded while the ims_tb lives. */
	const struct ims_walker_ops *plugin;
	int verbosity; /* 0 quiet, 1 normal, 2 verbose (notes on standard output) */
	FILE *diag;    /* where the default failure printer writes (NULL: stderr) */
	/* Called once per validation failure; NULL: print "FILE:LINE: FAIL:
	 * message" (and a dirty read's first differing bits) to diag. */
	ims_tb_failure_fn on_failure;
	void *on_failure_arg;
	/* What one input may make the testbench do or hold (API version 2;
	 * ims_tb_new takes the older, shorter struct too, with the defaults). */
	struct ims_budgets budgets; /* iommusim/replay.h */
};

void ims_tb_opts_default(struct ims_tb_opts *o);
/* Returns 0, -ENOMEM, or -EINVAL (opts->size is neither this header's nor
 * API version 1's, which had no budgets). */
int ims_tb_new(const struct ims_tb_opts *opts, struct ims_tb **out);
void ims_tb_free(struct ims_tb *tb);

/* Every call below returns 0 or a negative errno (ims_tb_dma: the count of
 * faulting pieces; ims_tb_leaf: a positive fault kind when nothing maps
 * the IOVA); -EINVAL comes with a message naming the argument and what was
 * expected in ims_tb_error, which each call clears when it starts, and
 * -E2BIG (a DMA, a dirty bitmap or page tables over the budgets) with
 * one naming the budget. */
const char *ims_tb_error(const struct ims_tb *tb);

/* Where failures are reported from: file (kept as a pointer; NULL for none)
 * and line go into each failure record until changed (a testbench might
 * pass its test's name and the simulation time). */
void ims_tb_set_where(struct ims_tb *tb, const char *file, uint64_t line);

/* Replace the failure callback (fn NULL: the default printer); for a
 * replay's testbench (ims_replay_tb), whose options the replay made. */
void ims_tb_set_failure_cb(struct ims_tb *tb, ims_tb_failure_fn fn, void *arg);

struct ims_tb_domain_cfg {
	enum ims_format fmt;
	unsigned levels;        /* 0: the format's default geometry */
	unsigned granule_shift; /* SMMUv3: 12, 14 or 16; 0: 4 KiB */
	unsigned ias;           /* input address bits; 0: what levels give */
	uint64_t pgsizes;       /* leaf sizes the software may use; 0: all */
	bool dirty;             /* allocated for dirty tracking (needs the capability) */
};

/* A software domain with tag as its hardware domain tag: a page table the
 * walker owns, and the context (DTE, PASID entry, CD) programmed in the
 * model. */
int ims_tb_domain(struct ims_tb *tb, uint16_t tag, const struct ims_tb_domain_cfg *cfg);
int ims_tb_attach(struct ims_tb *tb, uint32_t dev, uint16_t tag);
int ims_tb_detach(struct ims_tb *tb, uint32_t dev);

/* Map [iova, iova + size) to pa with prot (IMS_PROT_R / IMS_PROT_W); pgsize
 * 0 lets the walker choose leaf sizes. */
int ims_tb_map(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t pa, uint64_t size,
	       unsigned prot, uint64_t pgsize);
/* Unmap whole leaves of a domain made by ims_tb_domain. dirty NULL: a
 * plain unmap. Else the walker reads and
 * clears dirty state as it unmaps (tracking must be on) into *dirty, which
 * the call sets up over [iova, iova + size) with one bit per pgsize (0:
 * the domain's smallest leaf size) and the caller releases with
 * ims_bitmap_fini after a successful call; what it reports is compared
 * with the oracle like a harvest. Dirty pages the oracle still expected in
 * the range and nobody read are counted as lost on unmap. */
int ims_tb_unmap(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t size, uint64_t pgsize,
		 struct ims_bitmap *dirty);
/* set_dirty_tracking (the domain was made with dirty); on starts a new
 * session: what devices wrote before is not owed. An iommufd HWPT or a VFIO
 * container of a replay tracks through its own calls (-EINVAL here). */
int ims_tb_track(struct ims_tb *tb, uint16_t tag, bool on);
/* Invalidate the domain's IOTLB entries for [iova, iova + size), or all
 * of them with size 0. */
int ims_tb_flush(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t size);

/* What one harvest found against the oracle. */
struct ims_tb_verdict {
	bool match;
	uint64_t expected_bits, got_bits, under, over;
	uint64_t first_under_iova, first_over_iova; /* meaningful when under / over */
};
/* read_and_clear_dirty over [iova, iova + size) (size > 0) into *got (not
 * NULL), which the call
 * sets up with one bit per pgsize (0: 4 KiB) and the caller releases with
 * ims_bitmap_fini after a successful call; flags IMS_DIRTY_NO_CLEAR or 0.
 * The result is compared with the oracle bit for bit: a mismatch is
 * reported through the failure callback and in *v (v may be NULL).
 * Returns 0 when the harvest ran, whatever the verdict. */
int ims_tb_harvest(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t size,
		   uint64_t pgsize, unsigned flags, struct ims_bitmap *got,
		   struct ims_tb_verdict *v);

/* One access of a DMA: the piece of it inside one 4 KiB page. */
struct ims_tb_access {
	uint64_t iova, len;
	uint64_t pa;              /* valid when fault == 0 */
	int fault;                /* 0, or the fault's enum ims_fault_kind */
	uint32_t code;            /* the format's fault code */
	bool iotlb_hit;           /* the translation came from the IOTLB */
	bool accessed_set;        /* this access set an access flag in memory */
	bool dirty_set;           /* this access set dirty state in memory */
	uint64_t leaf_iova;       /* the page (leaf, replica run, group) used */
	unsigned leaf_shift;
	uint64_t cycles;          /* what this translation cost (docs/timing.md) */
};
/* A DMA of len bytes from iova by device dev, dir IMS_ACC_R, IMS_ACC_W or both,
 * as the hardware does it: one translation per 4 KiB page piece, faults
 * queued, A/D set, the oracle told of every successful write. Up to nacc
 * pieces' results go to acc (NULL: none); *npieces (may be NULL) gets how
 * many pieces there were. Returns how many faulted (>= 0), -EINVAL, or
 * -E2BIG for a len over budgets.dma_bytes (nothing is translated). */
int64_t ims_tb_dma(struct ims_tb *tb, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir,
		   struct ims_tb_access *acc, size_t nacc, uint64_t *npieces);

/* The leaf that maps iova in domain tag as the hardware decodes it
 * (ims_iommu_leaf): entry address, raw value, run, level, size, A and D. */
int ims_tb_leaf(struct ims_tb *tb, uint16_t tag, uint64_t iova, struct ims_leaf *out);

/* The next software op (map, unmap, track, harvest) gets a device write
 * of one byte at iova by dev (attached) between two of its memory
 * accesses: after the at-th (1 = the first). It is spent by that op, even
 * one that fails its checks or ends before its at-th access. A store that then undoes the hardware's A/D
 * update is a IMS_TB_FAIL_LOST_UPDATE failure; a harvest is checked
 * knowing the write raced it. */
int ims_tb_inject(struct ims_tb *tb, uint64_t at, uint32_t dev, uint64_t iova);

/* Counters of everything done so far (a replay's are the same struct). */
const struct ims_replay_stats *ims_tb_stats(const struct ims_tb *tb);
/* The model and memory inside, for what this header does not wrap
 * (counters, faults, configuration); owned by the ims_tb. */
struct ims_iommu *ims_tb_iommu(struct ims_tb *tb);
struct ims_mem *ims_tb_mem(struct ims_tb *tb);

/* The testbench a replay runs on: trace events and direct calls mix. */
struct ims_tb *ims_replay_tb(struct ims_replay *r);

#ifdef __cplusplus
}
#endif

#endif
