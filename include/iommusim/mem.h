/* Sparse simulated physical memory.
 *
 * 4 KiB frames are allocated on first store and live in an open-addressing
 * hash keyed by frame number. Loads of a frame never written return zero and
 * allocate nothing. All accesses are naturally aligned 64-bit words, counted
 * per agent (the hardware model or the software under test).
 *
 * A hook sees every software access *before* it happens, so a test (or the
 * fuzzer) can act between two software accesses, e.g. inject a device write
 * between the load and the store of a non-atomic clean. Hardware accesses
 * never call the hook, so the hook may itself drive the hardware.
 */
#ifndef IOMMUSIM_MEM_H
#define IOMMUSIM_MEM_H

#include "iommusim/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ims_mem;

enum ims_agent { IMS_AGENT_HW = 0, IMS_AGENT_SW = 1, IMS_AGENT_COUNT };

enum ims_memop { IMS_MEM_LOAD = 0, IMS_MEM_STORE, IMS_MEM_RMW, IMS_MEMOP_COUNT };

struct ims_mem_counters {
	uint64_t ops[IMS_AGENT_COUNT][IMS_MEMOP_COUNT];
	uint64_t frames;      /* frames allocated now */
	uint64_t frames_peak; /* high-water mark */
	uint64_t pool_frames; /* frames handed out by the table pool now */
};

/* Called before a software access. pa is the word's address. */
typedef void (*ims_mem_hook_fn)(void *arg, enum ims_memop op, uint64_t pa);

struct ims_mem *ims_mem_new(void);
void ims_mem_free(struct ims_mem *m);

/* pa must be 8-byte aligned; unaligned addresses are rounded down (callers
 * validate user input before it reaches here). */
uint64_t ims_mem_load(struct ims_mem *m, enum ims_agent who, uint64_t pa);
void ims_mem_store(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t val);
/* Indivisible read-modify-write: new = (old & ~clear) | set. Returns old.
 * The word is written only when it changes, but the access counts anyway. */
uint64_t ims_mem_rmw(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t clear,
		     uint64_t set);
/* Indivisible compare-and-exchange: writes val only if the word equals
 * expect. Returns the old word; counts as a read-modify-write. */
uint64_t ims_mem_cmpxchg(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t expect,
			 uint64_t val);

/* Page-table frame pool: zeroed frames at addresses far from guest RAM
 * (from IMS_MEM_POOL_BASE up). Their storage comes in 2 MiB chunks (host
 * huge pages where the host allows) found by pool index, not through the
 * hash of other frames. Free returns the frame to the pool; a chunk left
 * with no frame is released (one such chunk is kept for reuse). */
#define IMS_MEM_POOL_BASE 0x0000f00000000000ull /* below 2^48: VMSAv8-64 addresses */
int ims_mem_pool_alloc(struct ims_mem *m, uint64_t *pa);
/* 2^order contiguous zeroed frames aligned to their size (a 16K or 64K
 * translation table); order 0 is ims_mem_pool_alloc. Each frame is freed
 * on its own and comes back as a single frame. */
int ims_mem_pool_alloc_order(struct ims_mem *m, unsigned order, uint64_t *pa);
void ims_mem_pool_free(struct ims_mem *m, uint64_t pa);
/* A budget of simulated memory: the pool hands out no frame (-ENOSPC)
 * that would bring the frames allocated (counters.frames: tables and every
 * other frame) past `frames`; 0, the default, sets none. Stores outside
 * the pool are not refused (they have no error channel): a caller bounds
 * them before it stores. */
void ims_mem_set_frame_limit(struct ims_mem *m, uint64_t frames);

void ims_mem_set_hook(struct ims_mem *m, ims_mem_hook_fn fn, void *arg);
/* Optional, with a hook: how many of the next n software loads the hook
 * lets pass without being called, counting them as seen (0..n). A reader
 * that makes many loads nothing can change in between (runs of empty
 * table entries: hardware writes only present ones) asks first and makes
 * the rest one by one, so the hook still acts before exactly the access
 * it wants. Without one, every access calls the hook. Reset by
 * ims_mem_set_hook. */
typedef uint64_t (*ims_mem_hook_pass_fn)(void *arg, uint64_t n);
void ims_mem_set_hook_pass(struct ims_mem *m, ims_mem_hook_pass_fn fn);

/* Lost-update detection (classic bug 4 of dirty-semantics.md): while on,
 * a software store that undoes bits the hardware changed in that word
 * after the software last read it counts as a lost hardware update (an
 * atomic RMW never does). Off by default: it costs a lookup per access. */
void ims_mem_set_race_check(struct ims_mem *m, bool on);
/* Lost updates so far; the last one's address and the bits it undid. */
uint64_t ims_mem_lost_updates(const struct ims_mem *m, uint64_t *last_pa, uint64_t *last_bits);
const struct ims_mem_counters *ims_mem_counters(const struct ims_mem *m);
/* Bytes of host memory the simulated memory holds (frames + index). */
uint64_t ims_mem_footprint(const struct ims_mem *m);

#ifdef __cplusplus
}
#endif

#endif
