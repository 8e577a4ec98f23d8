/* The replayer: wires trace events to the model, the software page tables
 * and the oracle, and checks every harvest and assertion.
 */
#ifndef IOMMUSIM_REPLAY_H
#define IOMMUSIM_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "iommusim/model.h"
#include "iommusim/walker.h"
#include "iommusim/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ims_replay;

/* Budgets (docs/limits.md): work and memory a call may ask for, checked
 * before the work is done. A call over one fails with -E2BIG and a message
 * naming the budget (a replayed trace: an input error at the key's column,
 * exit 2). 0 in a field stands for its default. Shared by the replayer and
 * the testbench (iommusim/tb.h). */
struct ims_budgets {
	uint64_t dma_bytes;     /* bytes one DMA may cover (IMS_BUDGET_DMA_BYTES) */
	uint64_t bitmap_bytes;  /* bytes of one dirty bitmap a read builds (IMS_BUDGET_BITMAP_BYTES) */
	uint64_t table_bytes;   /* simulated memory: page-table frames the walkers allocate
				 * and the frames `mem` writes (IMS_BUDGET_TABLE_BYTES) */
	uint64_t fault_records; /* faults the queue holds before it overflows
				 * (IMS_FAULT_RECORDS_DEFAULT): more are counted, not kept */
};
#define IMS_BUDGET_DMA_BYTES IMS_TRACE_DMA_BYTES_DEFAULT /* iommusim/trace.h */
#define IMS_BUDGET_BITMAP_BYTES (1ull << 30) /* 32 TiB of 4 KiB pages, a bit each */
#define IMS_BUDGET_TABLE_BYTES (8ull << 30)  /* 2^21 frames of 4 KiB */

struct ims_replay_opts {
	struct ims_iommu_cfg model;
	int verbosity;   /* 0 quiet, 1 normal, 2 verbose */
	FILE *diag;      /* where validation failures are reported (NULL: stderr) */
	unsigned walker; /* built-in walker (ims_pt_walker_name; 0 = fast) */
	/* A walker of the walker ABI (a plug-in's ops) used instead of the
	 * built-in one; NULL: none. The caller keeps it loaded. */
	const struct ims_walker_ops *plugin;
	/* Called before each event is applied (NULL: never); samplers such as
	 * `iommusim replay --stats-interval` read the counters here. */
	void (*on_event)(void *arg, struct ims_replay *r, const struct ims_event *ev);
	void *on_event_arg;
	/* What one trace may make the replay do or hold (above). */
	struct ims_budgets budgets;
};

void ims_replay_opts_default(struct ims_replay_opts *o);

struct ims_replay_stats {
	uint64_t events;
	uint64_t dma_ops, dma_pages, dma_bytes;
	uint64_t faults;
	uint64_t harvests, harvest_mismatches;
	uint64_t bits_reported, bits_expected;
	uint64_t bits_under, bits_over;
	uint64_t lost_on_unmap;
	/* A clearing harvest that cuts into a dirty leaf cleans all of it
	 * (dirty-semantics.md): the pages outside its range lose their state. */
	uint64_t lost_partial;
	uint64_t assertions, assertion_failures;
	uint64_t maps, unmaps;
	uint64_t validation_failures; /* harvest mismatches + failed assertions */
	/* docs/uapi.md: iommufd / vfio calls, how many returned an error
	 * (expected or not), and GPA pages devices wrote whose IOVA mapping
	 * was unmapped or remapped before a harvest, so IOVA-based tracking
	 * could not report them. */
	uint64_t uapi_calls, uapi_errors;
	uint64_t gpa_missed;
	/* Ops in which the walker misused the host (a write outside its
	 * tables, a misaligned access, a free of no table): each is also one
	 * validation failure, reported after the op. */
	uint64_t walker_findings;
	/* Hardware dirty updates a walker's plain clean undid while a harvest
	 * recorded their page, allowed by the walker's stated contract
	 * (IMS_WALKER_CONTRACT_CLEAN_RACE_LOST of iommusim/walker.h). */
	uint64_t lost_by_contract;
	/* Page-table pages an `expect tables` found beyond its count, kept by
	 * a walker whose contract says an unmap may keep the tables it empties
	 * (IMS_WALKER_CONTRACT_TABLES_KEPT). */
	uint64_t tables_kept_by_contract;
	/* Pages mapped writable while tracking was on by a walker whose
	 * contract maps them dirty (IMS_WALKER_CONTRACT_MAPS_DIRTY): added to
	 * the oracle's expected set, so a harvest must report them. */
	uint64_t mapped_dirty_by_contract;
	/* Injections (inject-at=): ops that armed one, those whose K-th
	 * access came (the device write landed inside the op's walk), and
	 * those whose write changed a page-table entry in memory (set A/D:
	 * a race with the walker). Harvests with NO_CLEAR. */
	uint64_t inject_armed, inject_fired, inject_changed;
	uint64_t harvests_noclear;
	/* Nested translation (docs/nested.md, "Faults"): stage-2 faults the
	 * fault queue recorded, by where stage 2 refused: the stage-1 output
	 * address, a stage-1 table read (the entry's IPA not mapped), a
	 * hardware stage-1 A/D write (the table mapped read-only). Faults the
	 * full queue dropped are not seen. */
	uint64_t s2_faults_output, s2_faults_table, s2_faults_ad;
};

int ims_replay_new(const struct ims_replay_opts *opts, struct ims_replay **out);
void ims_replay_free(struct ims_replay *r);

/* Apply one event. `file` names the trace in messages. Returns 0 (done,
 * validations may have failed: see stats), or -EINVAL for an input error
 * whose "FILE:LINE:COL: message" is in ims_replay_error(). */
int ims_replay_event(struct ims_replay *r, const struct ims_event *ev, const char *file);
/* All events of a reader, then the end-of-trace checks. Returns 0, or
 * -EINVAL / -EIO (reader or input error, see ims_replay_error()). */
int ims_replay_run(struct ims_replay *r, struct ims_reader *rd);
/* Strict faults (off by default): at the end of ims_replay_run, every fault
 * no `expect fault` consumed is a validation failure at the line that
 * raised it (`iommusim replay --strict-faults`). */
void ims_replay_set_strict_faults(struct ims_replay *r, bool on);
const char *ims_replay_error(const struct ims_replay *r);

const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *r);
struct ims_iommu *ims_replay_iommu(struct ims_replay *r);
struct ims_mem *ims_replay_mem(struct ims_replay *r);

/* Live-migration accounting (tools/migrate.c, docs/migrate.md): what a
 * VMM learns at a dirty sync, in guest-physical (GPA) pages. */
enum ims_mig_mode {
	IMS_MIG_HW = 0, /* IOMMU hardware dirty tracking: harvest what devices wrote */
	IMS_MIG_TYPE1,  /* VFIO type1: every mapped (or pinned) page on every query */
	IMS_MIG_NONE,   /* no tracking: all memory mapped for DMA */
	/* Nested translation: dirty tracking at stage 2 of each nesting
	 * parent, in GPA space; a nested stage-1 domain is not read (what its
	 * devices write is its parent's GPA pages). */
	IMS_MIG_NESTED,
	IMS_MIG_COUNT
};

struct ims_mig_sync {
	uint64_t dirty;   /* GPA pages this sync added to the set */
	uint64_t written; /* GPA pages devices wrote since the previous sync */
	uint64_t missed;  /* of those, pages the set does not hold (not reported) */
	uint64_t mapped;  /* GPA pages mapped for DMA now */
};

/* The migration starts: from now on writes, reads and unmaps are
 * accounted. hw and nested switch tracking on in every domain allocated
 * for it (nested: but nested stage-1 domains);
 * type1 starts dirty tracking in every VFIO container. */
int ims_replay_mig_start(struct ims_replay *r, enum ims_mig_mode mode);
/* A dirty sync in `mode`: adds to gpa (a page set under key 0, owned by
 * the caller) every GPA page the VMM must send again, fills *out, and
 * starts the next interval. hw harvests every tracking domain (each
 * harvest checked against the oracle like a trace harvest); domains that
 * do not track dirty pages count as in `none`. */
int ims_replay_mig_sync(struct ims_replay *r, enum ims_mig_mode mode, struct ims_oracle *gpa,
			struct ims_mig_sync *out);
const char *ims_mig_mode_name(enum ims_mig_mode m);

/* Summary for people (text) or machines (one JSON object, no newline). */
void ims_replay_print_summary(const struct ims_replay *r, FILE *out);
void ims_replay_write_json(const struct ims_replay *r, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
