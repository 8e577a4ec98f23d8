/* Importers: captured logs (QEMU vIOMMU trace logs, Linux ftrace) turned
 * into traces that `iommusim replay` runs. What each importer reads, what
 * it cannot know and what it assumes is in docs/importers.md.
 */
#ifndef IOMMUSIM_IMPORT_H
#define IOMMUSIM_IMPORT_H

#include "iommusim/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ims_import_from {
	IMS_FROM_QEMU_VTD = 0,
	IMS_FROM_QEMU_AMDVI,
	IMS_FROM_QEMU_SMMUV3,
	IMS_FROM_FTRACE,
	IMS_FROM_COUNT
};

const char *ims_import_from_name(enum ims_import_from f);
int ims_import_from_parse(const char *s, enum ims_import_from *out);

/* Kinds of device access whose direction the log does not state; each is
 * given an assumed access (docs/importers.md, "Assumptions"). */
enum ims_assume {
	IMS_ASSUME_TO_DEVICE = 0, /* guest mapped DMA_TO_DEVICE (or read-only) */
	IMS_ASSUME_FROM_DEVICE,   /* DMA_FROM_DEVICE (or write-only) */
	IMS_ASSUME_BIDIR,         /* DMA_BIDIRECTIONAL streaming mapping */
	IMS_ASSUME_COHERENT,      /* dma_alloc_coherent memory (queues) */
	IMS_ASSUME_UNKNOWN,       /* a translation of a writable page, no device event */
	IMS_ASSUME_COUNT
};

const char *ims_assume_name(enum ims_assume a);
int ims_assume_parse(const char *s, enum ims_assume *out);

enum ims_expect_pa {
	IMS_EXPECT_PA_FIRST = 0, /* once per mapping, at its first translation */
	IMS_EXPECT_PA_ALL,       /* before every translated access */
	IMS_EXPECT_PA_NONE,
};

struct ims_import_opts {
	enum ims_import_from from;
	/* Insert `harvest` over each domain's mapped span after every N device
	 * accesses (and at the end), with `track on` at the start. 0: none. */
	uint64_t harvest_every;
	/* The same at every multiple of this many ns of log time, counted from
	 * the log's first timed line, as a VMM's periodic dirty sync; a sync
	 * with no access since the one before is left out (it would report
	 * nothing). Needs a log with timestamps. 0: none. */
	uint64_t harvest_every_ns;
	/* Skip and count malformed lines of known events instead of failing. */
	bool lenient;
	/* The access assumed for each kind: IMS_ACC_R/W/RW, or 0 for none. */
	unsigned assume[IMS_ASSUME_COUNT];
	/* Permission of mappings a log states none for (qemu-amdvi). */
	unsigned map_prot;
	enum ims_expect_pa expect_pa;
	bool timestamps; /* write @ns, relative to the log's first event */
	/* ftrace: emit assumed accesses just before the unmap instead of as
	 * soon as the mapping's direction is known. */
	bool access_at_unmap;
	/* Bytes of an access whose length the log does not give. */
	uint64_t access_len;
	/* QEMU sources: the guest's ftrace of the same run; mappings then come
	 * from the guest, accesses from QEMU (docs/importers.md, "Combining"). */
	const char *guest;
	/* Geometry where the log does not state it: levels (VT-d, AMD), ias
	 * (SMMU, ftrace); 0 = the documented default. */
	unsigned levels, ias;
	/* ftrace: the format (-1 = from the driver's events, else enum
	 * ims_format), the device (when the log names none) and domain id. */
	int format;
	bool dev_set;
	uint32_t dev;
	uint16_t domain;
	/* The output budget: trace events an import may write, checked as
	 * they are written (docs/limits.md); past it the import stops with
	 * -E2BIG. 0 = IMS_IMPORT_MAX_EVENTS. */
	uint64_t max_events;
};

/* The default output budget: some hundred times what the captured logs of
 * docs/importers.md give, and a few hundred megabytes of text. */
#define IMS_IMPORT_MAX_EVENTS ((uint64_t)1 << 24)

void ims_import_opts_default(struct ims_import_opts *o);

/* Where imported events go, in order. `comment` (may be NULL) gets text
 * for `#` lines: the source, phase markers. A non-zero return stops the
 * import and is returned. */
struct ims_import_sink {
	int (*event)(void *arg, const struct ims_event *ev);
	int (*comment)(void *arg, const char *text);
	void *arg;
};

#define IMS_IMPORT_NAMES 64

struct ims_import_count {
	char name[48];
	uint64_t n;
};

struct ims_import_stats {
	uint64_t lines;
	uint64_t events;    /* lines of events the importer knows */
	uint64_t unknown;   /* lines of events it does not know: skipped */
	uint64_t malformed; /* known events it could not read (--lenient) */
	uint64_t other;     /* lines that are not events (headers, blanks) */
	uint64_t ops[IMS_OP_COUNT]; /* trace events written, per op */
	uint64_t dir_logged;  /* accesses whose direction the log stated */
	uint64_t dir_perm;    /* ... followed from a read-only permission */
	uint64_t dir_assumed; /* ... assumed (enum ims_assume) */
	uint64_t dir_clipped; /* accesses reduced to what the mapping allows */
	uint64_t remaps;      /* translations that replaced a mapping */
	uint64_t unmap_untracked; /* unmaps of ranges the trace never mapped */
	uint64_t faults_skipped;  /* logged faults the model would not reproduce */
	uint64_t guest_events;    /* combining: guest log events used */
	/* Distinct event names, most frequent first after ims_import(). */
	unsigned n_known, n_unknown;
	struct ims_import_count known[IMS_IMPORT_NAMES], unknown_names[IMS_IMPORT_NAMES];
};

/* Imports `path` ("-" = standard input; gzip detected by magic bytes).
 * Returns 0; -EINVAL for bad input, err = "FILE:LINE: what was expected"
 * (a value out of range, or a line whose events replay would refuse);
 * -E2BIG when the output budget is spent, err = "FILE:LINE: ..."; -EIO
 * (unreadable, err = "FILE: reason"); -ENOMEM; or the sink's code. */
int ims_import(const struct ims_import_opts *o, const char *path,
	       const struct ims_import_sink *sink, struct ims_import_stats *st, char *err,
	       size_t errlen);
/* The same from memory (tests, fuzzers); `name` stands for FILE. The guest
 * log of o->guest, if any, is still read from its file. */
int ims_import_mem(const struct ims_import_opts *o, const char *name, const char *buf, size_t len,
		   const struct ims_import_sink *sink, struct ims_import_stats *st, char *err,
		   size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
