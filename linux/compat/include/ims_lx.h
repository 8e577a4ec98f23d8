/* The Linux compatibility runtime (the .c files of linux/compat): what the kernel-header
 * stand-ins of this folder call into. Our own code, under the repository's
 * licence; a walker built with it from a kernel source tree is a GPL-2.0
 * work (docs/linux.md).
 *
 * Kernel code reaches its page tables through addresses (__va of a table's
 * physical address, virt_to_phys of a pointer). Here those addresses are
 * the host's own storage of the table frames (host->frame with
 * IMS_WALKER_FRAME_MAP), and every access the kernel makes with a primitive
 * (READ_ONCE, WRITE_ONCE, cmpxchg64, xchg, the atomic bit operations) is
 * turned back into a physical address and made through the host's memory
 * calls: each one is a point where the model may act. A plain C access
 * through such a pointer reads or writes the same storage directly; the
 * host does not see it (the kernel makes plain accesses only where it does
 * not race the hardware, or where a stale read is harmless).
 *
 * The kernel API passes no context to READ_ONCE(*p) or __va(pa), so the
 * domain being served is a thread-local "current domain": the glue sets it
 * on entry to every op (ims_lx_enter) and puts the previous one back on
 * return (ims_lx_leave). It is the only state outside the structures the
 * kernel code passes around, and it is per thread because the host may run
 * walkers of several domains on several threads.
 */
#ifndef IMS_LX_H
#define IMS_LX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommusim/walker.h"

struct page;
struct ims_lx_slot;

/* Per-domain state of the runtime: the table frames it allocated, indexed
 * both ways (physical frame -> storage, storage frame -> physical). */
struct ims_lx_dom {
	struct ims_walker_dom *wd;
	struct ims_lx_slot *by_pa; /* open addressing, capacity cap */
	struct ims_lx_slot *by_va;
	size_t cap, n;
	uint64_t frames;   /* live 4 KiB table frames allocated through us */
	uint64_t warnings; /* WARN_ON()s that fired */
	unsigned logged;   /* WARN_ON()s printed (the first few only) */
	bool failed;       /* an allocation or a lookup failed */
};

/* Set up / tear down a domain's state (0 or -ENOMEM). fini frees, through
 * the host, the frames the kernel code left allocated and reports them. */
int ims_lx_dom_init(struct ims_lx_dom *lx, struct ims_walker_dom *wd);
void ims_lx_dom_fini(struct ims_lx_dom *lx);

/* The current domain: enter returns the previous one, for leave. */
struct ims_lx_dom *ims_lx_enter(struct ims_lx_dom *lx);
void ims_lx_leave(struct ims_lx_dom *prev);
struct ims_lx_dom *ims_lx_current(void);

/* 64-bit accesses of the kernel's primitives. An address in a table frame
 * of the current domain goes through the host; any other address (kernel
 * data that is no page table) is accessed in place. */
uint64_t ims_lx_read64(const volatile void *p);
void ims_lx_write64(volatile void *p, uint64_t v);
uint64_t ims_lx_cmpxchg64(volatile void *p, uint64_t expect, uint64_t v);
uint64_t ims_lx_xchg64(volatile void *p, uint64_t v);
uint64_t ims_lx_fetch_and64(volatile void *p, uint64_t mask);
uint64_t ims_lx_fetch_or64(volatile void *p, uint64_t mask);

/* Addresses. virt_to_phys of a pointer into no table frame of the domain
 * is reported (host->log) and gives ~0; __va of a physical address in no
 * frame of ours asks the host (which reports a frame that is no table). */
bool ims_lx_table_pa(const volatile void *p, uint64_t *pa);
uint64_t ims_lx_virt_to_phys(const volatile void *p);
void *ims_lx_phys_to_virt(uint64_t pa);

/* Table pages: 2^order zeroed, contiguous 4 KiB frames from the host's
 * table pool (host->alloc_table), NULL when the host refuses. */
struct page *ims_lx_alloc_pages(unsigned order);
void ims_lx_free_pages(struct page *pg, unsigned order);
void *ims_lx_page_address(const struct page *pg);
struct page *ims_lx_virt_to_page(const void *p);
unsigned ims_lx_page_order(const struct page *pg);

/* Diagnostics: WARN_ON (counted, the first few printed through
 * host->log), BUG (printed, then abort: the kernel would oops; the host
 * isolates a plug-in that crashes), printk. */
void ims_lx_warn(const char *file, int line, const char *what);
_Noreturn void ims_lx_bug(const char *file, int line, const char *what);
void ims_lx_printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
