/* The importer machinery every importer shares (traces/import_lines.c,
 * traces/import_emit.c): reading log lines, picking values out of event
 * arguments, and the emitter that turns what a log shows (translations,
 * maps, unmaps, accesses) into trace events while keeping the trace
 * replayable: every map lands on unmapped IOVA, every unmap covers whole
 * leaves, every access hits a mapping that allows it. It calls no
 * importer; the importers (traces/importers.h) call only it.
 */
#ifndef IMS_TRACES_IMPORT_H
#define IMS_TRACES_IMPORT_H

#include <stdarg.h>
#include <zlib.h>

#include "iommusim/import.h"

/* ---- lines ----------------------------------------------------------- */

struct lsrc {
	char *name;
	gzFile gz;       /* NULL: memory */
	const char *mem;
	size_t memlen, mempos;
	char *buf;
	size_t cap, pos, end;
	bool eof;
	uint64_t lineno;
};

/* -EIO with err "FILE: reason" when it cannot be opened. */
int lsrc_open(struct lsrc *s, const char *path, char *err, size_t errlen);
int lsrc_open_mem(struct lsrc *s, const char *name, const char *buf, size_t len);
/* 1: a line (no newline, no CR); 0: end; -EIO: err "FILE: reason". */
int lsrc_next(struct lsrc *s, const char **line, size_t *len, char *err, size_t errlen);
void lsrc_close(struct lsrc *s);

/* ---- arguments ------------------------------------------------------- */

/* The value of `key` in [s, e): "key=V", "key:V", "key: V" or "key V",
 * V running to the next blank (a trailing ',' dropped). false when there
 * is none, or when the key is given again with another value. */
bool arg_str(const char *s, const char *e, const char *key, const char **v, size_t *n);
/* A number: 0x hex or decimal. */
bool arg_num(const char *s, const char *e, const char *key, uint64_t *out);
/* Hex with or without 0x (%llx fields). */
bool arg_hex(const char *s, const char *e, const char *key, uint64_t *out);
bool parse_num(const char *s, size_t n, uint64_t *out);
/* A PCI address BB:DD.F or SSSS:BB:DD.F (hex fields, F may be 2 digits):
 * the requester id (seg << 16 | bus << 8 | dev << 3 | fn). */
bool parse_bdf(const char *s, size_t n, uint32_t *out);

/* ---- the emitter ------------------------------------------------------ */

enum { DIR_NONE = 0, DIR_R = IMS_ACC_R, DIR_W = IMS_ACC_W, DIR_RW = IMS_ACC_RW };
#define KIND_NONE 0xff /* a mapping whose direction no event gave */

struct leaf {
	uint64_t iova, pa;
	uint64_t note; /* the address a QEMU log printed for it (LF_NOTE) */
	uint16_t dom;
	uint8_t shift;
	uint8_t prot;  /* what the hardware allows (IMS_PROT_*) */
	uint8_t kind;  /* enum ims_assume, or KIND_NONE */
	uint8_t flags; /* LF_* */
	uint8_t used;
};

enum {
	LF_EXPECTED = 1, /* its translation was checked with expect pa */
	LF_ACCESSED = 2, /* the guest-side importer gave it its access */
	LF_NOTE = 4,
};

struct span {
	uint64_t chunk; /* iova >> CHUNK_SHIFT */
	uint64_t lo, hi;
};

struct dom {
	bool defined, tracked;
	bool geom; /* geometry stated by the log */
	bool nested; /* a stage-1 domain over `parent` (trace-format.md, "Nested domains") */
	uint16_t id;
	uint16_t parent;
	enum ims_format fmt;
	unsigned levels;
	uint64_t granule;
	unsigned ias;
	uint64_t shifts; /* leaf sizes present: bit n = 2^n */
	uint64_t leaves;
	/* What has ever been mapped, by 1 GiB chunk: harvests cover this. */
	struct span *spans;
	size_t nspans, capspans;
};

struct attach {
	uint32_t dev;
	uint16_t dom;
};

struct imp {
	struct ims_import_opts o;
	const struct ims_import_sink *sink;
	struct ims_import_stats *st;
	const char *name; /* file name for messages */
	char *err;
	size_t errlen;
	/* The line being read (imp_at), which messages of the emitter name:
	 * the guest log's while a combined import reads it. */
	const char *at_name;
	uint64_t at_line;
	uint64_t written; /* events, against the output budget */

	struct dom *doms;
	size_t ndoms, capdoms;
	struct attach *att;
	size_t natt, capatt;

	struct leaf *tab; /* open addressing, linear probing */
	size_t tabcap, tablive;

	bool ts_have, ts_base_set;
	uint64_t ts, ts_base, ts_last;
	uint64_t since_harvest;
	/* harvest_every_ns: the next sync's log time; set while its harvests
	 * are written, which carry that time. */
	uint64_t next_sync;
	bool syncing;
	int rc; /* first sink error */
};

int imp_init(struct imp *m, const struct ims_import_opts *o, const struct ims_import_sink *sink,
	     struct ims_import_stats *st, const char *name, char *err, size_t errlen);
void imp_fini(struct imp *m);

/* The current line's time (nanoseconds since some epoch); events emitted
 * from now on carry it (relative to the first, never decreasing). */
void imp_time(struct imp *m, uint64_t ns);
int imp_comment(struct imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Geometry of a domain before its first use; ignored once the domain line
 * is written. A weak call (a default) does not replace a strong one (what
 * the log states). */
struct dom *imp_dom(struct imp *m, uint16_t id);
void imp_dom_geometry(struct imp *m, uint16_t id, enum ims_format fmt, unsigned levels,
		      uint64_t granule, unsigned ias, bool weak);
/* Makes `id` a nested (two-stage) domain over `parent` before its first
 * use: its domain line is written after the parent's, with nested=. */
void imp_dom_nest(struct imp *m, uint16_t id, uint16_t parent);
int imp_attach(struct imp *m, uint32_t dev, uint16_t dom);
/* The domain a device is attached to, or -1. */
int imp_dev_dom(const struct imp *m, uint32_t dev);

struct leaf *imp_lookup(struct imp *m, uint16_t dom, uint64_t iova);
/* Map [iova, iova+size) -> pa: leaves of pgsize (0: the largest sizes of
 * the format that fit, as Linux picks them). Mappings in the way are
 * unmapped first (counted as remaps). */
int imp_map(struct imp *m, uint16_t dom, uint64_t iova, uint64_t pa, uint64_t size,
	    unsigned prot, unsigned kind, uint64_t pgsize);
/* Unmap every leaf that meets [iova, iova+size), whole. `before` (may be
 * NULL) is called for each leaf first (assumed accesses). Returns the
 * number of leaves, or <0. */
typedef int (*imp_leaf_fn)(struct imp *m, struct leaf *l, void *arg);
int imp_unmap(struct imp *m, uint16_t dom, uint64_t iova, uint64_t size, imp_leaf_fn before,
	      void *arg);
int imp_for_each(struct imp *m, uint16_t dom, uint64_t iova, uint64_t size, imp_leaf_fn fn,
		 void *arg);
int imp_flush(struct imp *m, uint16_t dom);
/* One device access; `dir` is clipped to what the mapping allows. */
int imp_dma(struct imp *m, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir);
/* One access exactly as given (a logged fault). */
int imp_dma_raw(struct imp *m, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir);
int imp_expect_pa(struct imp *m, uint32_t dev, uint64_t iova, uint64_t pa);
int imp_expect_fault(struct imp *m, uint32_t dev, uint64_t iova, enum ims_fault_kind kind);
/* The final harvests. */
int imp_finish(struct imp *m);

/* Event-name counters for the summary. */
void imp_count(struct ims_import_count *tab, unsigned *n, const char *name, size_t len,
	       uint64_t add);

/* "FILE:LINE: what" at the line being read (imp_at); -EINVAL. */
int imp_refuse(struct imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The line being read: its file and number. */
static inline void imp_at(struct imp *m, const char *name, uint64_t line)
{
	m->at_name = name;
	m->at_line = line;
}

/* ---- combining --------------------------------------------------------- */

/* The guest side as a stream, for combining with a QEMU log
 * (docs/importers.md, "Combining"): the dispatcher opens it, the QEMU
 * importer pulls from it. */
struct imp_guest {
	void *ctx;
	/* Applies the next guest event (maps and unmaps through the emitter,
	 * without assumed accesses). 1: applied one line; 0: end; <0 error.
	 * `mark` is set to the phase name when the line was a phase marker. */
	int (*step)(void *ctx, const char **mark, size_t *marklen);
	/* The domain guest mappings go to (the QEMU side learns it). */
	void (*set_domain)(void *ctx, uint16_t dom);
};

static inline int imp_guest_step(const struct imp_guest *g, const char **mark, size_t *marklen)
{
	return g->step(g->ctx, mark, marklen);
}

static inline void imp_guest_set_domain(const struct imp_guest *g, uint16_t dom)
{
	g->set_domain(g->ctx, dom);
}

#endif
