/* The SystemVerilog DPI-C face of the testbench API (iommusim/tb.h): flat
 * calls that pass only chandle (void *), int, longint (long long) and string
 * (const char *), the types every simulator maps the same way (IEEE 1800
 * Annex H), so a testbench imports them without a C struct or callback.
 * iommusim_dpi_pkg.sv declares the same calls as DPI imports;
 * bindings/dpi/README.md lists what each does.
 *
 * Conventions:
 * - A handle comes from ims_dpi_new and goes back to ims_dpi_free. A NULL
 *   handle makes every call fail with -EINVAL (strings: "").
 * - Calls that act return 0 (or a count) on success and a negative errno on
 *   error, with a message in ims_dpi_last_error.
 * - Accessors of the last DMA, harvest or leaf that return an int give a
 *   negative errno for a bad index; those that return a 64-bit value (an
 *   address, an entry, a bitmap word) give 0, and set the message.
 * - A returned string stays valid until the next call on the same handle
 *   (a failure record: until ims_dpi_failures_clear or ims_dpi_free).
 * - Addresses and sizes are longint, read as unsigned 64-bit.
 */
#ifndef IOMMUSIM_DPI_H
#define IOMMUSIM_DPI_H

#ifdef __cplusplus
extern "C" {
#endif

/* A testbench: config is a model configuration file (YAML, docs/timing.md)
 * or "" for the defaults; walker is a built-in walker's name (as `iommusim
 * replay --walker` takes it: docs/walkers.md), a plug-in's path (a name
 * with a '/'), or "" for the default. Returns NULL only when out of memory: a handle whose set-up
 * failed says so through ims_dpi_ok and ims_dpi_last_error. */
void *ims_dpi_new(const char *config, const char *walker);
void ims_dpi_free(void *h);
/* 1 when the handle was set up, else 0. */
int ims_dpi_ok(void *h);
/* The message of the most recent call that failed ("" if none did). */
const char *ims_dpi_last_error(void *h);
/* Failure records from now on name `name` and `line` (say, the test's name
 * and the simulation time); "" for no name. */
int ims_dpi_where(void *h, const char *name, long long line);

/* fmt: a format's name ("amdv1", "vtd", "smmuv3", "vtd-fs", "amdv2",
 * "smmuv3-s2");
 * levels 0: the format's default; dirty: allocate the domain for dirty
 * tracking. */
int ims_dpi_domain(void *h, int tag, const char *fmt, int levels, int dirty);
int ims_dpi_attach(void *h, int dev, int tag);
int ims_dpi_detach(void *h, int dev);
/* prot: 1 read, 2 write, 3 both; pgsize 0: the walker chooses leaf sizes. */
int ims_dpi_map(void *h, int tag, long long iova, long long pa, long long size, int prot,
		long long pgsize);
/* read_dirty 0: a plain unmap (dirty pages nobody read are counted lost).
 * 1: the walker reads and clears dirty state as it unmaps; the bits and
 * the verdict are then the harvest's accessors', and the call returns the
 * mismatching bits as ims_dpi_harvest does. */
int ims_dpi_unmap(void *h, int tag, long long iova, long long size, int read_dirty);
int ims_dpi_track(void *h, int tag, int on);
/* Invalidate the domain's IOTLB entries for [iova, iova + size); size 0:
 * all of them. */
int ims_dpi_flush(void *h, int tag, long long iova, long long size);

/* A DMA by dev (write 0: a read), one translation per 4 KiB piece. Returns
 * how many pieces faulted, or a negative errno. */
int ims_dpi_dma(void *h, int dev, long long iova, long long len, int write);
/* Pieces of the last DMA; the results of the first IMS_DPI_KEEP_ACCESSES
 * are kept for the accessors below (i from 0). */
#define IMS_DPI_KEEP_ACCESSES 65536
int ims_dpi_last_pieces(void *h);
long long ims_dpi_last_iova(void *h, int i);
long long ims_dpi_last_pa(void *h, int i); /* 0 for a piece that faulted */
/* 0, or the fault's kind (ims_dpi_fault_name). */
int ims_dpi_last_fault(void *h, int i);
/* The bits below, or a negative errno. */
#define IMS_DPI_IOTLB_HIT 1    /* the translation came from the IOTLB */
#define IMS_DPI_ACCESSED_SET 2 /* this access set the leaf's accessed flag */
#define IMS_DPI_DIRTY_SET 4    /* this access set dirty state in memory */
int ims_dpi_last_flags(void *h, int i);
long long ims_dpi_last_cycles(void *h, int i);
/* "notpresent", "perm", ... for a fault kind; "none" for 0. */
const char *ims_dpi_fault_name(int kind);

/* read_and_clear_dirty over [iova, iova + size) with one bit per pgsize
 * (0: 4 KiB); clear 0 keeps the dirty state (IOMMU_DIRTY_NO_CLEAR). The
 * result is compared with the oracle: returns the number of bits that
 * differ (0: it matches), or a negative errno. A mismatch is also a
 * failure record. */
int ims_dpi_harvest(void *h, int tag, long long iova, long long size, long long pgsize, int clear);
/* The bit of the last harvest that covers iova: 1, 0, or a negative errno. */
int ims_dpi_harvest_bit(void *h, long long iova);
/* 64 bits at a time: bit k of the harvest is bit k % 64 of word k / 64. */
long long ims_dpi_harvest_word(void *h, int i);
long long ims_dpi_harvest_nbits(void *h);
/* The verdict: bits reported, bits the oracle expected, bits missing
 * (under) and extra (over), and the IOVA of the first of each (0 when
 * there is none). */
long long ims_dpi_harvest_got(void *h);
long long ims_dpi_harvest_expected(void *h);
long long ims_dpi_harvest_under(void *h);
long long ims_dpi_harvest_over(void *h);
long long ims_dpi_harvest_first_under(void *h);
long long ims_dpi_harvest_first_over(void *h);

/* Read back the leaf that maps iova in domain tag, as the hardware decodes
 * it, with no side effect. Returns 0 (the accessors below then describe
 * it), a positive fault kind when no leaf maps iova, or a negative errno. */
int ims_dpi_leaf(void *h, int tag, long long iova);
long long ims_dpi_leaf_pte(void *h);    /* the entry's raw value */
long long ims_dpi_leaf_pte_pa(void *h); /* where the entry is */
long long ims_dpi_leaf_pa(void *h);     /* what iova translates to */
int ims_dpi_leaf_level(void *h);        /* 0: the lowest table level */
int ims_dpi_leaf_shift(void *h);        /* log2 of the page's size */
int ims_dpi_leaf_accessed(void *h);
int ims_dpi_leaf_dirty(void *h);

/* The next map, unmap, track or harvest gets a one-byte write by dev at
 * iova after its at-th memory access (ims_tb_inject). */
int ims_dpi_inject(void *h, long long at, int dev, long long iova);

/* A counter by name: "dma_pages", "harvests", "validation_failures", ...
 * (the replay summary's names; "model.iotlb_hits" and the like for the
 * model's). A negative errno for an unknown name. */
long long ims_dpi_stat(void *h, const char *name);

/* Validation failures, queued as "KIND: message" or "KIND: NAME:LINE:
 * message" (ims_dpi_where), KIND one of dirty-read, expect, lost-update,
 * walker. The first IMS_DPI_KEEP_FAILURES since the last clear are kept. */
#define IMS_DPI_KEEP_FAILURES 1024
int ims_dpi_failures(void *h); /* kept now */
const char *ims_dpi_failure(void *h, int i);
long long ims_dpi_failure_count(void *h); /* all since ims_dpi_new */
void ims_dpi_failures_clear(void *h);

#ifdef __cplusplus
}
#endif

#endif
