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
};

struct ims_pt_cfg {
	enum ims_format fmt;
	uint16_t tag;
	unsigned levels;        /* AMD Mode 1..6, VT-d 3..5; 0 = default */
	unsigned granule_shift; /* SMMU 12, 14, 16; 0 = default (12) */
	unsigned ias;           /* SMMU input bits 32..52; 0 = default (48) */
	uint64_t pgsizes;       /* bit n = leaf size 2^n allowed; 0 = all the format has */
	bool dirty_tracking;    /* allocated with the DIRTY_TRACKING flag */
	unsigned walker;        /* 0 = correct; seeded-bug variants when built in */
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
/* First IOVA past the domain's input range (0 = the full 2^64). */
uint64_t ims_pt_iova_limit(const struct ims_pt *pt);
enum ims_format ims_pt_format(const struct ims_pt *pt);
bool ims_pt_tracking(const struct ims_pt *pt);

/* Map [iova, iova + size) to pa with the largest sizes that fit, or only
 * `pgsize` when non-zero. -EEXIST over an existing mapping (nothing
 * changed), -EINVAL for misalignment or a range outside the domain. */
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

/* Names of walker variants (seeded bugs) compiled into this build; index 0
 * is "correct". Returns the count. */
unsigned ims_pt_walker_count(void);
const char *ims_pt_walker_name(unsigned idx);
int ims_pt_walker_parse(const char *name, unsigned *out);
/* Switch the walker variant of a live table (benchmarks time variants over
 * the same table). -EINVAL for an index not built in. */
int ims_pt_set_walker(struct ims_pt *pt, unsigned walker);

#ifdef __cplusplus
}
#endif

#endif
