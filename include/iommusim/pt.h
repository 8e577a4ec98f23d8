/* The software side: an OS driver's I/O page table for one domain.
 *
 * It sees simulated memory (where it builds its tables, from the frame pool)
 * and a sink to which it submits invalidation commands and context-word
 * updates in the format's native encoding. It never sees the model's
 * internals: that wall keeps the model an independent oracle.
 */
#ifndef IOMMUSIM_PT_H
#define IOMMUSIM_PT_H

#include "iommusim/bitmap.h"
#include "iommusim/common.h"
#include "iommusim/mem.h"
#include "iommusim/walker.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ims_pt;

/* Where software sends commands: the replayer wires it to the model. */
struct ims_sink {
	void *arg;
	int (*submit)(void *arg, enum ims_format fmt, const uint64_t cmd[2]);
	/* Change context word `word` of domain `tag` (DTE / PASID entry / CD). */
	int (*ctx_update)(void *arg, uint16_t tag, unsigned word, uint64_t clear, uint64_t set);
	/* Context-cache invalidation for the domain: AMD INVALIDATE_DEVTAB_ENTRY
	 * of every device in it, VT-d PASID-cache invalidation by DID, SMMU
	 * CMD_CFGI_CD of its streams. Until then hardware uses the old words. */
	int (*ctx_flush)(void *arg, uint16_t tag);
	/* Optional: the walker did something wrong through the host (a write
	 * outside the page tables, an unaligned access, a bad free); msg names
	 * the walker and what it did. The replayer makes it a validation
	 * failure of the op. */
	void (*finding)(void *arg, const char *msg);
	/* Optional: the page table of domain `tag` took the table frames
	 * [pa, pa + (4 KiB << order)) from the frame pool (table_alloc; a
	 * negative return fails the allocation, the frames go back), or gives
	 * them back (table_free, called before they are freed). Nesting needs
	 * it: a guest's stage-1 tables are guest RAM, which the VMM maps in
	 * stage 2 (docs/trace-format.md, "Nested domains"). */
	int (*table_alloc)(void *arg, uint16_t tag, uint64_t pa, unsigned order);
	void (*table_free)(void *arg, uint16_t tag, uint64_t pa, unsigned order);
};

struct ims_pt_cfg {
	enum ims_format fmt;
	uint16_t tag;
	unsigned levels;        /* AMD Mode 1..6, VT-d 3..5; 0 = default */
	unsigned granule_shift; /* SMMU 12, 14, 16; 0 = default (12) */
	unsigned ias;           /* SMMU input bits 32..52; 0 = default (48) */
	uint64_t pgsizes;       /* bit n = leaf size 2^n allowed; 0 = all the format has */
	bool dirty_tracking;    /* allocated with the DIRTY_TRACKING flag */
	unsigned walker;        /* built-in walker: 0 = fast (see ims_pt_walker_name) */
	/* A walker of the walker ABI (iommusim/walker.h), e.g. a plug-in's;
	 * NULL: the built-in one above. A harvest-level walker harvests the
	 * built-in tables; a full-level one owns the tables. */
	const struct ims_walker_ops *plugin;
	/* Allocated as a nesting parent (IOMMU_HWPT_ALLOC_NEST_PARENT): the
	 * stage-2 domain of nested contexts, whose invalidations must reach
	 * what combines both stages (docs/nested.md). Appended last: callers
	 * allocate this struct. */
	bool nest_parent;
};

enum {
	IMS_DIRTY_NO_CLEAR = 1, /* IOMMU_DIRTY_NO_CLEAR */
};

struct ims_pt_stats {
	uint64_t table_pages; /* live page-table frames, root included */
	uint64_t table_pages_peak;
	uint64_t leaves;      /* leaf entries written (replicas count each) */
	uint64_t flushes;     /* invalidation commands submitted */
	uint64_t harvest_entries; /* leaf entries examined by harvests */
};

/* err (errlen bytes) receives a reason on -EINVAL. */
int ims_pt_new(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_sink *sink,
	       struct ims_pt **out, char *err, size_t errlen);
void ims_pt_free(struct ims_pt *pt);

/* The context words the driver programs for this domain (DTE, PASID-table
 * entry or CD) in the format's encoding. */
void ims_pt_ctx_words(const struct ims_pt *pt, uint64_t words[8]);
/* Bit n set = 2^n is a leaf size the software may use here. */
uint64_t ims_pt_pgsizes(const struct ims_pt *pt);
uint64_t ims_pt_min_pgsize(const struct ims_pt *pt);
/* The address of the top-level table (what the context words point at). */
uint64_t ims_pt_root(const struct ims_pt *pt);
/* First IOVA past the domain's input range (0 = the full 2^64). */
uint64_t ims_pt_iova_limit(const struct ims_pt *pt);
/* First output address past what a leaf of the domain can hold: 2^52 for
 * AMD v1 and VT-d, 2^48 or 2^52 for an SMMU by its geometry (0 = 2^64). */
uint64_t ims_pt_pa_limit(const struct ims_pt *pt);
/* An upper bound of the 4 KiB frames of page tables a map of [iova, iova +
 * size) at pa (with ims_pt_map's choice of leaf sizes, or pgsize) adds,
 * worked out without touching memory: what a caller checks against a
 * memory budget before it maps. 0 for arguments ims_pt_map refuses. */
uint64_t ims_pt_map_tables(const struct ims_pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
			   uint64_t pgsize);
enum ims_format ims_pt_format(const struct ims_pt *pt);
bool ims_pt_tracking(const struct ims_pt *pt);
/* Make the domain a nesting parent from now on (as cfg.nest_parent at
 * allocation; there is no way back, as in Linux): for a caller that learns
 * it when the first nested domain is created over it. Sound as long as it
 * is called before that nested context exists: until then no translation
 * combines the two stages, so the stage-2 invalidations made before needed
 * nothing more. */
void ims_pt_set_nest_parent(struct ims_pt *pt);
bool ims_pt_nest_parent(const struct ims_pt *pt);

/* Map [iova, iova + size) to pa with the largest sizes that fit, or only
 * `pgsize` when non-zero. -EEXIST over an existing mapping (nothing
 * changed), -EINVAL for misalignment or a range outside the domain, -ERANGE
 * for output addresses past ims_pt_pa_limit (nothing changed); -ENOSPC
 * when the memory's frame limit stops a table allocation
 * (ims_mem_set_frame_limit: what was mapped before it stays). */
int ims_pt_map(struct ims_pt *pt, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot,
	       uint64_t pgsize);
/* Unmap whole leaves; -EINVAL if the range cuts into a leaf (nothing
 * changed). Frees emptied tables and flushes before returning. *unmapped
 * gets the bytes that were mapped. */
int ims_pt_unmap(struct ims_pt *pt, uint64_t iova, uint64_t size, uint64_t *unmapped);
/* -ENOENT when not mapped. */
int ims_pt_iova_to_phys(struct ims_pt *pt, uint64_t iova, uint64_t *pa, unsigned *prot);

/* VFIO-style unmap with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP: read and
 * clear the dirty state of the range into bm (tracking must be on), then
 * unmap it. */
int ims_pt_unmap_read_dirty(struct ims_pt *pt, uint64_t iova, uint64_t size, struct ims_bitmap *bm,
			    uint64_t *unmapped);

/* Calls fn for every leaf page (replica run / contiguous group as one) that
 * intersects [iova, iova + size), in IOVA order (size 0: the whole domain);
 * stops early when fn returns non-zero and returns that value. */
typedef int (*ims_pt_leaf_fn)(void *arg, uint64_t page_iova, unsigned page_shift, uint64_t pa,
			      unsigned prot);
int ims_pt_for_each_leaf(struct ims_pt *pt, uint64_t iova, uint64_t size, ims_pt_leaf_fn fn,
			 void *arg);

/* read_and_clear_dirty (dirty-semantics.md): one pass, ORs dirty state over
 * every replica / contiguous entry, records clipped leaf ranges into bm,
 * cleans atomically and flushes the gathered range unless NO_CLEAR. bm may
 * be NULL (clear only, as set_dirty_tracking does). -EINVAL when tracking is
 * off (with a bitmap), size 0, or the range leaves the domain. */
int ims_pt_read_and_clear_dirty(struct ims_pt *pt, uint64_t iova, uint64_t size, unsigned flags,
				struct ims_bitmap *bm);
/* iommufd semantics: enable clears everything and flushes, then switches
 * hardware updates on; disable switches them off. -EINVAL without
 * dirty_tracking. */
int ims_pt_set_dirty_tracking(struct ims_pt *pt, bool enable);
/* Flush the IOTLB for a range (size 0 = whole domain). */
int ims_pt_flush(struct ims_pt *pt, uint64_t iova, uint64_t size);

const struct ims_pt_stats *ims_pt_stats(const struct ims_pt *pt);

/* The built-in walkers: index 0 is "fast" (the default, also accepted as
 * "correct"), then the seeded-bug variants when built in, "reference" and
 * "rewalk". Returns the count. */
unsigned ims_pt_walker_count(void);
const char *ims_pt_walker_name(unsigned idx);
/* One line on what the walker is (the bug it carries). */
const char *ims_pt_walker_what(unsigned idx);
int ims_pt_walker_parse(const char *name, unsigned *out);
/* The ops of built-in walker idx (NULL past the count). */
const struct ims_walker_ops *ims_pt_walker_ops(unsigned idx);
/* Switch the built-in walker of a live table (benchmarks time walkers over
 * the same table). -EINVAL for an index not built in. */
int ims_pt_set_walker(struct ims_pt *pt, unsigned walker);
/* Switch to any harvest-level walker over the built-in tables. */
int ims_pt_use_walker(struct ims_pt *pt, const struct ims_walker_ops *w, char *err, size_t errlen);
/* Name of the walker under test. */
const char *ims_pt_walker_label(const struct ims_pt *pt);
/* The walker's IMS_WALKER_CONTRACT_* bits. */
uint32_t ims_pt_walker_contract(const struct ims_pt *pt);
/* The first thing the walker did wrong through the host (a write outside
 * the page tables, an unaligned access, a bad free), or NULL; *count gets
 * how many so far. */
const char *ims_pt_finding(const struct ims_pt *pt, unsigned *count);

/* Checks ops against this build's walker ABI, and that it handles fmt
 * (IMS_FMT_COUNT: any). -EINVAL with a reason. */
int ims_walker_check(const struct ims_walker_ops *ops, enum ims_format fmt, char *err,
		     size_t errlen);

/* Plug-in walkers: a shared object exporting ims_walker_entry (see
 * iommusim/walker.h). load opens it, asks for this build's ABI version and
 * checks the ops; -EINVAL with a reason (file missing, not a shared object,
 * no entry point, refused or mismatched ABI). */
struct ims_walker_plugin;
int ims_walker_plugin_load(const char *path, struct ims_walker_plugin **out, char *err,
			   size_t errlen);
const struct ims_walker_ops *ims_walker_plugin_ops(const struct ims_walker_plugin *p);
const char *ims_walker_plugin_path(const struct ims_walker_plugin *p);
void ims_walker_plugin_unload(struct ims_walker_plugin *p);

#ifdef __cplusplus
}
#endif

#endif
