/* Frame views and the pool epoch: how the hot walkers (the model's walk, the
 * software's harvest) read simulated memory a frame at a time instead of a
 * word at a time. Internal to the build, not part of the library's API: the
 * contract of iommusim/mem.h (every software access goes through
 * ims_mem_load/store/rmw and its hook) holds for everything else.
 */
#ifndef IMS_MODEL_MEM_VIEW_H
#define IMS_MODEL_MEM_VIEW_H

#include "iommusim/mem.h"

/* Direct read-only view of a frame for one-pass walkers: NULL if the frame
 * was never written. The pointer stays valid until the frame is dropped.
 * Readers through a view must account their loads with mem_count(). */
const uint64_t *mem_frame(const struct ims_mem *m, uint64_t pa);
void mem_count(struct ims_mem *m, enum ims_agent who, enum ims_memop op, uint64_t n);
/* The counter mem_count(m, who, op, n) adds n to, for a reader that counts
 * on every walk (the model's): valid for m's lifetime. */
uint64_t *mem_counter(struct ims_mem *m, enum ims_agent who, enum ims_memop op);
/* True when a hook is installed: view readers must then go word by word. */
bool mem_hooked(const struct ims_mem *m);
/* Writable view for a software walker that applies many read-modify-writes
 * to one frame (a harvest cleaning a table): NULL if the frame was never
 * written, or while a hook or lost-update detection is on, since both must
 * see each access (use ims_mem_rmw then). A write through the view must
 * follow the rule of ims_mem_rmw (store only a changed word) and be counted
 * with mem_count(m, IMS_AGENT_SW, IMS_MEM_RMW, n). */
uint64_t *mem_frame_rw(struct ims_mem *m, uint64_t pa);

/* Software loads of n words that nothing can change in between and whose
 * values no lost-update check needs (empty table entries): how many of
 * them (0..n) may be read straight from a view, counted here as loads;
 * the hook, if any, decides (ims_mem_set_hook_pass). The caller makes the
 * rest with ims_mem_load, one by one. */
uint64_t mem_pass_loads(struct ims_mem *m, uint64_t n);

/* True when pa lies in a live frame of the table pool (a page table). */
bool mem_pool_table(const struct ims_mem *m, uint64_t pa);
/* mem_frame_rw for a live table-pool frame only: NULL for any other frame
 * (and while a hook or lost-update detection is on). */
uint64_t *mem_table_frame_rw(struct ims_mem *m, uint64_t pa);
/* The storage of a live table-pool frame whatever is watching (NULL for any
 * other frame): for code that holds table pointers as addresses. */
uint64_t *mem_table_frame(struct ims_mem *m, uint64_t pa);

/* The table pool's look-up structure, kept by mem.c and read-only to
 * everyone else: the bump pointer, a live bit per pool index and the
 * directory of 2 MiB chunks (512 frames each). A walker that looks up a
 * table frame per entry it reads does it inline (mem_pool_frame) rather
 * than through a call. */
struct mem_pool {
	uint64_t next;          /* pool frames ever handed out */
	uint64_t *live;         /* bit per pool index: handed out and not freed */
	uint64_t nlive;         /* words in live */
	uint64_t (**dir)[512];  /* the chunk of pool index i: dir[i / 512] */
	uint64_t epoch;         /* mem_pool_epoch() */
};

/* The pool of m: its address holds for m's lifetime. */
const struct mem_pool *mem_pool(const struct ims_mem *m);

/* Frame fn when it is a live pool frame (a table), else NULL. */
static inline uint64_t *mem_pool_frame(const struct mem_pool *p, uint64_t fn)
{
	uint64_t idx = fn - (IMS_MEM_POOL_BASE >> 12); /* wraps far past next below the pool */
	if (idx < p->next && idx / 64 < p->nlive && (p->live[idx / 64] >> (idx % 64) & 1))
		return p->dir[idx / 512][idx % 512];
	return NULL;
}

/* mem_frame(m, pa), the pool looked at inline first (p: mem_pool(m)). */
static inline const uint64_t *mem_frame_at(const struct ims_mem *m, const struct mem_pool *p,
					   uint64_t pa)
{
	const uint64_t *f = mem_pool_frame(p, pa >> 12);
	return f ? f : mem_frame(m, pa);
}

/* A number that changes whenever a pool frame is freed (or a frame that a
 * stray store made in pool space gives way to the pool's own): a table
 * address or frame view remembered under an older one may since name
 * another table, or freed storage. */
uint64_t mem_pool_epoch(const struct ims_mem *m);

#endif
