/* The replayer's internals, shared by the files of harness/.
 *
 * Rooms (core ops, iommufd and VFIO type1 calls, migration accounting,
 * summary) call only the helper files (messages, sink, injections, GPA
 * bookkeeping, dirty reads, the calls' common parts, type1's rule), never
 * each other; replay.c's dispatcher calls the rooms. The DMA path is
 * dma.h's, shared by replay.c and tb.c, with gpa_write inline below.
 */
#ifndef IMS_HARNESS_REPLAY_INT_H
#define IMS_HARNESS_REPLAY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "iommusim/bitmap.h"
#include "iommusim/oracle.h"
#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "iommusim/tb.h"
#include "model/oracle_memo.h"

struct ims_iommufd;
struct ims_vfio;

/* What made a domain (docs/uapi.md): a `domain` line, an iommufd HWPT
 * (its page table belongs to the front end), a VFIO type1 container. */
enum dom_kind { DOM_PLAIN = 0, DOM_HWPT, DOM_VFIO };

struct dom {
	enum ims_format fmt;
	bool raw;
	bool dirty_alloc;
	uint64_t line; /* where it was defined */
	struct ims_pt *pt;
	enum dom_kind kind;
	uint32_t ioas;             /* HWPT: its IOAS */
	struct ims_vfio *vfio;     /* VFIO: the container */
	unsigned non_pinned;       /* VFIO: groups that do not track pins */
	bool vtrack;               /* VFIO: dirty tracking started */
	/* Nested translation (docs/trace-format.md, "Nested domains"): a
	 * stage-1 domain over stage-2 domain `parent`, whose table frames are
	 * mapped identity in the parent's table. */
	bool nested;
	uint16_t parent;
};

/* The testbench (iommusim/tb.h): everything a replay wires, without the
 * trace. The front ends (iommufd, VFIO) keep their state here too, so that
 * one object owns every domain whatever made it. */
struct ims_tb {
	struct ims_tb_opts o;
	/* Where the op being applied comes from: the trace event being
	 * replayed (NULL for a direct call) names the key columns of input
	 * errors; file and line go into failure records. */
	const struct ims_event *ev;
	const char *file; /* the trace of ev (a replay's current one) */
	/* ims_tb_set_where: what failures of direct calls name. */
	const char *wfile;
	uint64_t wline;
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	struct dom *doms[65536];
	/* The tags of doms in use, so tear-down visits only those. */
	uint16_t *dom_tags;
	size_t ndom_tags, capdom_tags;
	struct ims_replay_stats st;
	/* What the walker did wrong through the host during this op. */
	unsigned finding_pending;
	char finding[256];
	char err[512];
	/* The injection of the op being applied (trace extension inject-*). */
	struct {
		bool armed, fired;
		uint64_t at, countdown, dev, iova;
		struct ims_xlate x; /* what the injected write did */
		int kind;           /* its fault kind, 0 on success */
	} inj;
	/* ims_tb_inject: armed for the next software op. */
	struct {
		bool armed;
		uint64_t at, dev, iova;
	} inj_next;
	/* Pages an injected write may have dirtied again after the walker
	 * cleaned them: the next harvest may report them (or not). */
	struct maybe {
		uint16_t dom;
		uint64_t first, last;
	} *maybe;
	size_t nmaybe, capmaybe;
	bool has_ts;
	uint64_t last_ts;
	/* The trace line of each fault raised (faults.c), the last ones those
	 * still pending; strict: a fault no `expect fault` took fails. */
	struct {
		uint64_t *v;
		size_t n, cap;
	} fline;
	bool strict_faults;
	/* Faults the full queue did not record (the model's faults_dropped):
	 * as rp_faults_raised last saw it, and as far as an expect or the
	 * strict check has reported them. */
	uint64_t fdrop_seen, fdrop_told;
	uint64_t fdrop_line; /* the line of the first not yet reported; 0: none */
	/* docs/uapi.md. */
	struct ims_iommufd *fd;
	/* Per domain tag: IOVA pages written (dirty updates on) since a dirty
	 * read last covered them; GPA pages of those whose IOVA was then
	 * unmapped, so no IOVA-based read can report them. */
	struct ims_oracle *written, *stranded;
	const struct oracle_memo *written_memo; /* oracle_memo(written) */
	/* IOVA pages a walker mapped dirty by its contract
	 * (IMS_WALKER_CONTRACT_MAPS_DIRTY) that no clearing read has covered
	 * since: the bits a trace's pinned expect= may lack (rp_mapped). */
	struct ims_oracle *mapped_dirty;
	/* VFIO pinned scope, as the trace drove it: pages pinned now, pages
	 * the next query must report (per container tag). */
	struct ims_oracle *pin_now, *pin_dirty;
	/* Live-migration accounting (docs/migrate.md), GPA page sets: key
	 * MIG_REPORTED / MIG_WRITTEN in mig; mig_unmapped per domain tag. */
	bool mig_on;
	struct ims_oracle *mig, *mig_unmapped;
	/* Every dma through the general loop of dma_core, none through its
	 * one-page path (replay_set_reference): for the test that both give
	 * the same. */
	bool ref_dma;
	/* Nested domains (nested.c): the one being made (its root table is
	 * allocated before it is installed), what its stage-2 map last refused,
	 * and tear-down (no frame is unmapped then). */
	struct {
		bool on;
		uint16_t tag, parent;
	} nest_new;
	char nest_err[256];
	bool tearing_down;
};

/* A replay: a testbench driven by a trace. */
struct ims_replay {
	struct ims_tb t;
	struct ims_replay_opts ro;
};

enum { MIG_REPORTED = 0, MIG_WRITTEN = 1 };

/* The leaves of a domain over a range, taken before an unmap changes
 * them: IOVA -> GPA for what the op read or unmapped. */
struct leaf {
	uint64_t iova, pa;
	unsigned shift;
};

struct snap {
	struct leaf *l;
	size_t n, cap;
};

struct to_gpa {
	const struct leaf *lf;
	uint64_t lo, hi;
	struct ims_oracle *dst;
	uint16_t key;
};

/* The user's bitmap buffer of a call: bitmap-size= bytes (default: what
 * the range's bits need). Only what a successful call can write is
 * allocated: the bytes the range's bits need, when the buffer holds them. */
struct ubuf {
	unsigned char *data;
	uint64_t size, need;
};

/* The bitmap of a type1 call (unmap with GET_DIRTY_BITMAP, or
 * GET_BITMAP): user buffer, and the expectation when the call can succeed. */
struct vbm {
	struct ubuf b;
	struct ims_bitmap want, got;
	bool have;
	uint64_t ps;
};

/* Helpers: each calls only helpers listed before it. */

/* messages.c */
/* An input error: "FILE:LINE:COL: message" for a replayed event (the
 * column of key, or of the op with key -1), the message alone for a direct
 * call (ev NULL). Returns -EINVAL. */
__attribute__((format(printf, 4, 5))) int rp_input_error(struct ims_tb *r,
							 const struct ims_event *ev, int key,
							 const char *fmt, ...);
/* A budget (r->o.budgets, docs/limits.md) a call would pass: the message
 * as rp_input_error says it (name the budget and its option), -E2BIG. */
__attribute__((format(printf, 4, 5))) int rp_over_budget(struct ims_tb *r,
							 const struct ims_event *ev, int key,
							 const char *fmt, ...);
/* Bytes in the largest binary unit below them: exact when it divides them
 * ("4 GiB", how a budget is named), else to a tenth ("128.3 GiB"). */
const char *rp_bytes_text(uint64_t v, char *buf, size_t len);
/* What raises a budget: the command's option for a trace, the field of
 * struct ims_budgets for a direct call. */
enum { RP_BUDGET_DMA, RP_BUDGET_BITMAP, RP_BUDGET_TABLE, RP_BUDGET_FAULTS };
const char *rp_raise(bool trace, int budget);
/* A DMA of len bytes over the DMA budget, at len='s column (tb.c). */
int rp_dma_over(struct ims_tb *r, const struct ims_event *ev, uint64_t len);
/* 0 when a dirty bitmap of `bits` bits fits the bitmap budget, else its
 * error at key's column (tb.c). */
int rp_check_bitmap(struct ims_tb *r, const struct ims_event *ev, int key, uint64_t bits);
/* A map into pt of [iova, iova + size) at pa: 0 when its output addresses
 * fit the domain's (pa= refused past them, size_key's column when the end
 * passes them), adding to *tables the page-table frames it may need
 * (ims_pt_map_tables). */
int rp_check_map(struct ims_tb *r, const struct ims_event *ev, struct ims_pt *pt, uint64_t iova,
		 uint64_t pa, uint64_t size, uint64_t pgsize, int size_key, uint64_t *tables);
/* 0 when `frames` more frames of simulated memory fit the table budget,
 * else its error at key's column naming `what` needs them; `what` (a map,
 * a root table) that the memory's own limit stopped (-ENOSPC) is said by
 * rp_tables_full. */
int rp_check_tables(struct ims_tb *r, const struct ims_event *ev, int key, uint64_t frames,
		    const char *what);
int rp_tables_full(struct ims_tb *r, const struct ims_event *ev, int key, const char *what);
FILE *rp_diag(const struct ims_tb *r);
/* What the walker did wrong through the host during an op (the sink's
 * findings), as one validation failure after it. */
void rp_report_findings(struct ims_tb *r, const struct ims_event *ev);
/* The line an op's notes and failures name: ev's, or the tb's where. */
static inline uint64_t rp_line(const struct ims_tb *r, const struct ims_event *ev)
{
	return ev ? ev->line : r->wline;
}
/* The file they name: ev's trace, or the tb's where ("-" for none). */
static inline const char *rp_file(const struct ims_tb *r, const struct ims_event *ev)
{
	const char *f = ev ? r->file : r->wfile;
	return f ? f : "-";
}
/* A validation failure, to the callback or the default printer; its line is
 * ev's (or the tb's where with ev NULL). */
__attribute__((format(printf, 4, 5))) void rp_fail(struct ims_tb *r, const struct ims_event *ev,
						   enum ims_tb_failure_kind kind, const char *fmt,
						   ...);
#define rp_validation_failure(r, ev, ...) rp_fail(r, ev, IMS_TB_FAIL_EXPECT, __VA_ARGS__)
/* A dirty read that differs from its expectation (df: ims_bitmap_compare). */
__attribute__((format(printf, 7, 8))) void
rp_dirty_read_fail(struct ims_tb *r, const struct ims_event *ev, uint16_t tag,
		   const struct ims_bitmap *want, const struct ims_bitmap *got,
		   const struct ims_bitmap_diff *df, const char *fmt, ...);
const char *rp_errno_text(int rc);
void rp_print_bits(FILE *f, const char *label, const struct ims_bitmap *bm);

/* faults.c */
/* A device as its format names it: "dev BB:DD.F", or "sid=N" for an SMMU's. */
void rp_dev_text(const struct ims_tb *r, uint32_t dev, char *buf, size_t len);
/* One fault explained: device, access, IOVA, domain, kind, where the walk
 * stopped, and the format's code in the spec's words. */
void rp_fault_text(const struct ims_tb *r, const struct ims_fault *f, char *buf, size_t len);
/* Event ev raised n faults: the line of those the queue recorded is kept,
 * and under -v each is printed ("FILE:LINE: fault: ..."). 0, or -ENOMEM
 * with the message. */
int rp_faults_raised(struct ims_tb *r, const struct ims_event *ev, uint64_t n);
/* The end of a trace under strict faults: each fault still pending is a
 * validation failure at the line that raised it, and those the full queue
 * did not record one more. */
void rp_faults_unexpected(struct ims_tb *r);
/* Faults the full queue did not record that no check has reported yet:
 * their count (marked as reported now), and in buf what they were. */
uint64_t rp_faults_untold(struct ims_tb *r, char *buf, size_t len);

/* sink.c */
struct ims_sink rp_sink(struct ims_tb *r);

/* inject.c */
/* An op's injection (inj_next, armed by ims_tb_inject or a trace's
 * inject-at=) starts; rp_inject_end ends it. */
void rp_inject_begin(struct ims_tb *r);
/* pt and got: the domain and the bitmap of a dirty read (harvest, unmap
 * read-dirty), whose walker's contract may allow a lost update on a page
 * the read recorded; NULL otherwise. */
void rp_inject_end(struct ims_tb *r, const struct ims_pt *pt, const struct ims_bitmap *got);
bool rp_inject_dirtied(const struct ims_tb *r, uint16_t dom, uint64_t *first,
		       uint64_t *last);
void rp_maybe_add(struct ims_tb *r, uint16_t dom, uint64_t first, uint64_t last);
/* After a successful map of [iova, iova + size) with prot into domain tag:
 * a walker that maps writable leaves dirty while tracking is on
 * (IMS_WALKER_CONTRACT_MAPS_DIRTY) owes them to the next harvest. */
void rp_mapped(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size, unsigned prot);
/* The oracle forgets [iova, iova + size) of domain tag, unmapped: returns
 * the dirty pages lost with it (iommufd discards an unmapped range's dirty
 * state), not counting pages a walker mapped dirty by its contract that no
 * device wrote since (IMS_WALKER_CONTRACT_MAPS_DIRTY: owed bits, no data). */
uint64_t rp_oracle_unmap(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size);
/* Installs d as domain tag id (a new one): 0 or -ENOMEM. */
int rp_dom_put(struct ims_tb *r, uint16_t id, struct dom *d);
void rp_maybe_settle(struct ims_tb *r, uint16_t dom, uint64_t first, uint64_t last);
void rp_forgive(const struct ims_tb *r, uint16_t dom, struct ims_bitmap *want,
		const struct ims_bitmap *got, bool has_w, uint64_t wf, uint64_t wl);

/* gpa.c */
int rp_snap_leaf(void *arg, uint64_t page_iova, unsigned shift, uint64_t pa, unsigned prot);
void rp_snap_take(struct dom *d, uint64_t iova, uint64_t size, struct snap *s);
bool rp_leaf_clip(const struct leaf *lf, uint64_t first, uint64_t last, uint64_t *lo,
		  uint64_t *hi);
void rp_bits_to_gpa(const struct ims_bitmap *bm, const struct snap *s, struct ims_oracle *dst,
		    uint16_t key);
void rp_gpa_reported(struct ims_tb *r, struct dom *d, const struct ims_bitmap *bm,
		     const struct snap *taken);
void rp_gpa_harvested(struct ims_tb *r, const struct ims_event *ev, uint16_t tag,
		      uint64_t iova, uint64_t size);
void rp_gpa_unmapped(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size,
		     const struct snap *s, bool read);
bool rp_gpa_needs_snap(const struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size);
void rp_tracking_enabled(struct ims_tb *r, uint16_t tag);
int rp_copy_run(void *arg, uint64_t first, uint64_t npages);
void rp_set_copy(struct ims_oracle *dst, const struct ims_oracle *src, uint16_t key,
		 uint64_t iova, uint64_t size);

/* dirty_read.c */
/* what names the read in a failure; v (may be NULL) gets the verdict. */
void rp_settle_dirty_read(struct ims_tb *r, const struct ims_event *ev, const char *what,
			  uint16_t tag, struct ims_bitmap *want, const struct ims_bitmap *got,
			  bool clear, struct ims_tb_verdict *v);

/* uapi.c */
bool rp_call_done(struct ims_tb *r, const struct ims_event *ev, int rc, const char *why);
int rp_check_bitmap_expect(struct ims_tb *r, const struct ims_event *ev, int tag, bool cleared,
			   const struct ims_bitmap *got);
int rp_ubuf_get(struct ims_tb *r, const struct ims_event *ev, uint64_t need, struct ubuf *b);
void rp_ubuf_decode(const struct ubuf *b, struct ims_bitmap *got);
bool rp_geometry_ok(uint64_t iova, uint64_t length, uint64_t page);
uint64_t rp_clip_size(uint64_t iova, uint64_t length);

/* type1.c */
void rp_pins_queried(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size);
void rp_vfio_compare(struct ims_tb *r, const struct ims_event *ev,
		     const struct ims_bitmap *want, const struct ims_bitmap *got);
int rp_vbm_get(struct ims_tb *r, const struct ims_event *ev, struct dom *d, uint64_t iova,
	       uint64_t length, struct vbm *v);
void rp_vbm_put(struct vbm *v);
void rp_vfio_started(struct ims_tb *r, struct dom *d, uint16_t tag);

/* nested.c: the sink's table-frame hook (a nested domain's table frames
 * are guest RAM: mapped identity, 4 KiB, rw, in its parent's stage 2). */
int rp_nest_table_alloc(void *arg, uint16_t tag, uint64_t pa, unsigned order);
void rp_nest_table_free(void *arg, uint16_t tag, uint64_t pa, unsigned order);

/* Rooms: called by replay.c's dispatcher only. */

/* ops.c */
int rp_op_domain(struct ims_tb *r, const struct ims_event *ev);
int rp_op_attach(struct ims_tb *r, const struct ims_event *ev);
int rp_op_detach(struct ims_tb *r, const struct ims_event *ev);
int rp_op_map(struct ims_tb *r, const struct ims_event *ev);
int rp_op_unmap(struct ims_tb *r, const struct ims_event *ev);
int rp_op_track(struct ims_tb *r, const struct ims_event *ev);
int rp_op_harvest(struct ims_tb *r, const struct ims_event *ev);
int rp_op_flush(struct ims_tb *r, const struct ims_event *ev);
int rp_op_mem(struct ims_tb *r, const struct ims_event *ev);
int rp_op_expect_mem(struct ims_tb *r, const struct ims_event *ev);
int rp_op_expect_pa(struct ims_tb *r, const struct ims_event *ev);
int rp_op_expect_fault(struct ims_tb *r, const struct ims_event *ev);
int rp_op_expect_nofault(struct ims_tb *r, const struct ims_event *ev);
int rp_op_expect_consistent(struct ims_tb *r, const struct ims_event *ev);
int rp_op_expect_tables(struct ims_tb *r, const struct ims_event *ev);

/* iommufd_ops.c */
int rp_op_iommufd_bind(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_hw_info(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_ioas(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_map(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_unmap(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_hwpt(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_attach(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_set_dirty(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_get_dirty(struct ims_tb *r, const struct ims_event *ev);

/* iommufd_nest_ops.c */
int rp_op_iommufd_hwpt_nested(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_invalidate(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_viommu(struct ims_tb *r, const struct ims_event *ev);
int rp_op_iommufd_vdevice(struct ims_tb *r, const struct ims_event *ev);

/* vfio_ops.c */
int rp_op_vfio_container(struct ims_tb *r, const struct ims_event *ev);
int rp_op_vfio_group(struct ims_tb *r, const struct ims_event *ev);
int rp_op_vfio_map(struct ims_tb *r, const struct ims_event *ev);
int rp_op_vfio_unmap(struct ims_tb *r, const struct ims_event *ev);
int rp_op_vfio_dirty(struct ims_tb *r, const struct ims_event *ev);
int rp_op_vfio_pin(struct ims_tb *r, const struct ims_event *ev);

/* A device wrote [iova, iova + len) (output addresses from pa on) of
 * domain tag; tracked: with dirty updates on. */
static inline void gpa_write(struct ims_tb *r, uint16_t tag, uint64_t iova,
			     uint64_t pa, uint64_t len, bool tracked)
{
	/* A page written again is most often in the set already: the
	 * oracle's memo says so without a call. */
	if (tracked && !((iova ^ (iova + len - 1)) >> 12 == 0 &&
			 oracle_memo_has(r->written_memo, tag, iova >> 12)))
		ims_oracle_add(r->written, tag, iova, len);
	if (r->mig_on)
		ims_oracle_add(r->mig, MIG_WRITTEN, pa, len);
}

/* tb.c: the testbench's lifetime, shared with the replay's, and the checks
 * the core ops share with the front ends. */
int rp_tb_init(struct ims_tb *r, const struct ims_tb_opts *o);
void rp_tb_fini(struct ims_tb *r);
struct dom *rp_need_dom(struct ims_tb *r, uint64_t id, enum ims_op op, bool software, int *rc);
int rp_check_aligned(struct ims_tb *r, enum ims_key k, uint64_t v, uint64_t align,
		     const char *what);
int rp_check_in_domain(struct ims_tb *r, struct dom *d, uint64_t iova, uint64_t size);
int rp_domain_error(struct ims_tb *r, int rc, int key, const char *why);
/* ims_tb_domain; parent >= 0: a nested domain over that stage-2 domain
 * (checked by the caller), its context set with ims_iommu_ctx_set_nested. */
int rp_tb_domain(struct ims_tb *r, uint16_t tag, const struct ims_tb_domain_cfg *c, int parent);
/* A domain-making event's id (not in use), levels= and ias= (in range). */
int rp_new_domain_keys(struct ims_tb *r, const struct ims_event *ev);
/* A domain-making event's table geometry: levels=, granule= (as a shift),
 * ias= and pgsizes=, each 0 where absent (the format's default). */
struct rp_geom {
	unsigned levels, granule_shift, ias;
	uint64_t pgsizes;
};
struct rp_geom rp_ev_geom(const struct ims_event *ev);
/* A software domain's configuration from such an event (dirty= included). */
struct ims_tb_domain_cfg rp_ev_domain_cfg(const struct ims_event *ev, enum ims_format fmt);
/* The software table of a domain made by such an event: fmt, tag, the
 * event's geometry and the replay's walker; not allocated for dirty
 * tracking. */
struct ims_pt_cfg rp_ev_pt_cfg(const struct ims_tb *r, const struct ims_event *ev,
			       enum ims_format fmt, uint16_t tag);
/* ims_tb_unmap, leaving got set up (or not) as on entry when it fails. */
int rp_tb_unmap(struct ims_tb *r, uint16_t tag, uint64_t iova, uint64_t size,
		      uint64_t pgsize, struct ims_bitmap *got);

/* Whether every DMA takes the general paths (dma_core's loop, one event at
 * a time, and the model's translate_general: iommu_set_reference), which
 * the one-page and batched paths must match: for tests. */
void replay_set_reference(struct ims_replay *r, bool on);

/* How many dmas ahead of the one being replayed a dma is hinted. */
#define REPLAY_AHEAD 4
/* How many dmas ims_replay_run reads before it replays them, and
 * replay_dmas hands to the model in one call. */
#define REPLAY_BATCH 32

/* ims_replay_event for each of ev[0..n), all read ahead (ev holds nhint
 * events, the ones past n only to be hinted): each event is hinted
 * REPLAY_AHEAD events before its turn, and a run of one-page dmas within
 * the budget goes to the model in one call (iommu_dma_pages) when no
 * on_event hook must see the state before each event. The same results,
 * counters and messages as ims_replay_event one by one; returns what the
 * first that fails returns (0: none). */
int replay_dmas(struct ims_replay *r, const struct ims_event *ev, size_t n, size_t nhint,
		const char *file);
/* Hint: ev comes soon (ims_replay_run gives it for the dmas it reads up to
 * REPLAY_AHEAD events ahead). A dma has the host memory its first page's walk and
 * records read prefetched; nothing changes, and any other event is
 * ignored. */
void replay_prefetch(struct ims_replay *r, const struct ims_event *ev);

#endif
