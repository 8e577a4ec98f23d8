/* The replayer: wires trace events to the model, the software page tables
 * and the oracle, and checks every harvest and assertion.
 */
#ifndef IOMMUSIM_REPLAY_H
#define IOMMUSIM_REPLAY_H

#include <stdio.h>

#include "iommusim/model.h"
#include "iommusim/trace.h"

struct ims_replay;

struct ims_replay_opts {
	struct ims_iommu_cfg model;
	int verbosity;   /* 0 quiet, 1 normal, 2 verbose */
	FILE *diag;      /* where validation failures are reported (NULL: stderr) */
	unsigned walker; /* software walker variant (0 = correct) */
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
	uint64_t assertions, assertion_failures;
	uint64_t maps, unmaps;
	uint64_t validation_failures; /* harvest mismatches + failed assertions */
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
const char *ims_replay_error(const struct ims_replay *r);

const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *r);
struct ims_iommu *ims_replay_iommu(struct ims_replay *r);
struct ims_mem *ims_replay_mem(struct ims_replay *r);

/* Summary for people (text) or machines (one JSON object, no newline). */
void ims_replay_print_summary(const struct ims_replay *r, FILE *out);
void ims_replay_write_json(const struct ims_replay *r, FILE *out);

#endif
