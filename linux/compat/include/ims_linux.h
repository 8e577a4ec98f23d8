/* The Linux compatibility runtime (linux/compat/runtime.c): what the
 * kernel-header stand-ins of this folder call into.
 *
 * Kernel code holds page-table pointers as addresses (__va of a table's
 * physical address) and reaches the entries with READ_ONCE, WRITE_ONCE and
 * the atomics. Here a table is a frame of the simulator's table pool,
 * allocated through host->alloc_table and addressed through
 * host->frame(..., IMS_WALKER_FRAME_MAP); the runtime keeps the reverse map
 * (host address -> physical address) and turns every 64-bit access to a
 * table into the host's memory call, so each one is an interleaving point
 * of the model (docs/walkers.md). Accesses to anything else (the kernel's
 * own structs) are plain memory accesses.
 *
 * READ_ONCE(*p) has no domain argument, so the runtime keeps the domain the
 * kernel code currently runs for in a thread-local pointer: the glue sets it
 * on entry to every walker op and puts the previous one back on return
 * (ims_lx_enter / ims_lx_leave). The walker ABI is single-threaded per
 * domain and a host call never calls back into a walker, so at most one
 * domain is current on a thread; no other state is global.
 *
 * This header includes only compiler-provided headers: kernel code and
 * glue include it next to the stand-ins of <linux/...>.
 */
#ifndef IMS_LINUX_H
#define IMS_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ims_walker_dom;
struct ims_walker_dirty;
struct ims_lx_dom;

/* ---- domains ---------------------------------------------------------------------- */

/* Runtime state of one walker domain (the reverse map of its tables). */
struct ims_lx_dom *ims_lx_dom_new(struct ims_walker_dom *dom);
/* Frees the runtime state; the tables must have been freed already (their
 * number is returned by ims_lx_live_frames). */
void ims_lx_dom_free(struct ims_lx_dom *lx);
uint64_t ims_lx_live_frames(const struct ims_lx_dom *lx);
/* Warnings (WARN_ON and the like) met while this domain was current. */
uint64_t ims_lx_warnings(const struct ims_lx_dom *lx);

/* Makes lx (for the walker domain dom, as the host passed it to this op)
 * the current domain of this thread; returns the previous one for
 * ims_lx_leave. */
struct ims_lx_dom *ims_lx_enter(struct ims_lx_dom *lx, struct ims_walker_dom *dom);
void ims_lx_leave(struct ims_lx_dom *prev);
struct ims_lx_dom *ims_lx_current(void);

/* ---- memory ----------------------------------------------------------------------- */

/* 64-bit accesses: a host memory call when p is in a table frame of the
 * current domain, a plain access otherwise. The read-modify-writes return
 * the old value; they are atomic with respect to the model either way. */
uint64_t ims_lx_load64(const volatile void *p);
void ims_lx_store64(volatile void *p, uint64_t v);
uint64_t ims_lx_cmpxchg64(volatile void *p, uint64_t expect, uint64_t v);
uint64_t ims_lx_xchg64(volatile void *p, uint64_t v);
uint64_t ims_lx_fetch_and64(volatile void *p, uint64_t mask);
uint64_t ims_lx_fetch_or64(volatile void *p, uint64_t mask);

/* __va and virt_to_phys over the current domain's table frames: __va of a
 * physical address that is no table frame is NULL (and a finding of the
 * host); virt_to_phys of an address outside the tables is ~0. */
void *ims_lx_va(uint64_t pa);
uint64_t ims_lx_pa(const volatile void *p);

/* ---- table memory ----------------------------------------------------------------- */

/* Zeroed, size-aligned table memory of at least `size` bytes (a power of
 * two of 4 KiB frames) from host->alloc_table; NULL when the host has none. */
void *ims_lx_alloc_table(size_t size);
/* Frees what ims_lx_alloc_table gave (the address of its first byte). */
void ims_lx_free_table(void *virt);
/* The page descriptor ("struct folio") of the allocation holding virt:
 * ims_lx_desc_words words of zeroed storage kept with the allocation, for
 * the kernel's per-page bookkeeping (a free-list link); NULL outside. */
void *ims_lx_desc(const void *virt);
/* The allocation a descriptor belongs to. */
void *ims_lx_desc_virt(const void *desc);
enum { ims_lx_desc_words = 16 };

/* ---- the harvest's output --------------------------------------------------------- */

/* Linux's struct iova_bitmap stands for the host's harvest output. */
struct iova_bitmap {
	struct ims_walker_dirty *dirty;
};
void ims_lx_bitmap_set(struct iova_bitmap *bm, uint64_t iova, uint64_t length);

/* ---- diagnostics ------------------------------------------------------------------ */

/* A kernel warning (WARN_ON, pr_err...) met by the current domain: counted,
 * and printed through host->log. */
void ims_lx_warn(const char *file, int line, const char *what);

#endif
