/* Sparse simulated physical memory (include/iommusim/mem.h).
 *
 * Frames live in slabs of 64; the index is an open-addressing hash with
 * linear probing keyed by frame number, deleted from by backward shift so it
 * never holds tombstones. A frame number fits in 52 bits, so the frame's
 * slot in its slab rides in the key's top bits and a frame finds its slab
 * without a per-frame header: host memory stays close to 4 KiB per frame.
 *
 * Frames handed out by the table pool are not in the index: they sit in
 * 2 MiB chunks found by pool index through a directory, so a table walk
 * finds a frame with two dependent loads that stay in cache (directory,
 * live bit) instead of a probe of an index as large as the tables' count,
 * and chunks past the first ask the host for huge pages, so random entry
 * loads over gigabytes of tables do not miss the host TLB as well. A store
 * into pool space that the pool has not handed out is an ordinary frame.
 *
 * A store allocates its frame even when it stores zero; an rmw that leaves
 * the word unchanged allocates nothing. The API has no error channel for
 * loads and stores, so running out of host memory there aborts with a
 * message; ims_mem_pool_alloc returns -ENOMEM instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommusim/mem.h"
#include "model/mem_view.h"
#include "model/hot_path.h"

#define FSHIFT 12
#define FWORDS 512
#define SLAB_FRAMES 64
#define FN_BITS 52
#define FN_MASK ((1ull << FN_BITS) - 1)
#define SLOT_SHIFT 58
#define MIN_CAP 64ull
#define POOL_FN0 (IMS_MEM_POOL_BASE >> FSHIFT)
#define CHUNK_FRAMES 512 /* pool frames per chunk: 2 MiB, a host huge page (mem_view.h) */
#define CHUNK_BYTES ((size_t)CHUNK_FRAMES * FWORDS * sizeof(uint64_t))

typedef uint64_t frame_t[FWORDS];

struct slab {
	struct slab *next, *prev; /* list of slabs with a free frame */
	uint64_t used;            /* bit i: frame i is in use */
	uint64_t f[SLAB_FRAMES][FWORDS];
};

struct ent {
	uint64_t key;    /* frame number | slot in slab << SLOT_SHIFT */
	uint64_t *frame; /* NULL: empty slot */
};

struct ims_mem {
	struct ent *tab;
	uint64_t cap; /* power of two; always more than n */
	uint64_t n;
	unsigned bits;
	struct slab *part;  /* slabs with a free frame */
	struct slab *spare; /* one empty slab kept so alloc/free at a slab edge does not thrash */
	uint64_t nslabs;
	/* The bump pointer, the live bits, the chunk directory and the epoch
	 * (mem_view.h): what a walker's inline look-up reads. */
	struct mem_pool pool;
	uint64_t *pool_ret;  /* pool indexes returned, reused last-in first-out */
	uint64_t nret, capret;
	uint32_t *chunk_used; /* live frames per chunk */
	uint64_t ndir, nchunks;
	frame_t *spare_chunk; /* one emptied chunk kept, as a spare slab is */
	uint64_t frame_limit; /* frames the pool may bring the memory to; 0: no limit */
	ims_mem_hook_fn hook;
	ims_mem_hook_pass_fn hook_pass;
	void *hook_arg;
	struct ims_mem_counters c;
	struct races *races; /* lost-update detection, NULL when off */
	/* The frame found last: a walk loads an entry, updates it and loads it
	 * again, and a walker reads a table entry by entry. A frame's address
	 * holds until it is erased, which forgets it here. */
	uint64_t last_fn;
	uint64_t *last;
};

/* Per word touched while race checking is on: when software last saw it
 * (load, store or rmw) and which bits hardware changed since. */
struct race_ent {
	uint64_t pa; /* word address + 1; 0 = empty */
	uint64_t sw_seq, hw_seq;
	uint64_t hw_bits;
};

struct races {
	struct race_ent *tab;
	uint64_t cap, n;
	uint64_t seq;
	uint64_t lost, last_pa, last_bits;
};

static void oom(void)
{
	fputs("iommusim: out of memory in simulated memory\n", stderr);
	abort();
}

static unsigned agent(enum ims_agent who)
{
	return who == IMS_AGENT_SW ? IMS_AGENT_SW : IMS_AGENT_HW;
}

/* Fibonacci hashing: consecutive frame numbers spread over the table. */
static uint64_t home(const struct ims_mem *m, uint64_t fn)
{
	return (fn * 0x9e3779b97f4a7c15ull) >> (64 - m->bits);
}

/* Frame fn when it is a live pool frame (a table), else NULL. */
static inline uint64_t *pool_find(const struct ims_mem *m, uint64_t fn)
{
	return mem_pool_frame(&m->pool, fn);
}

static uint64_t *hash_find(const struct ims_mem *m, uint64_t fn)
{
	uint64_t mask = m->cap - 1;
	for (uint64_t i = home(m, fn);; i = (i + 1) & mask) {
		const struct ent *e = &m->tab[i];
		if (!e->frame)
			return NULL;
		if ((e->key & FN_MASK) == fn)
			return e->frame;
	}
}

/* Frame fn, or NULL. A table is found by pool index first: a walk moves
 * between two tables, which the one-frame memo would miss every time. */
static inline uint64_t *lookup(const struct ims_mem *m, uint64_t fn)
{
	uint64_t *f = pool_find(m, fn);
	if (f)
		return f;
	if (m->last && m->last_fn == fn)
		return m->last;
	return hash_find(m, fn);
}

static inline uint64_t *lookup_last(struct ims_mem *m, uint64_t fn)
{
	uint64_t *f = lookup(m, fn);
	if (f) {
		m->last_fn = fn;
		m->last = f;
	}
	return f;
}

static void place(struct ims_mem *m, struct ent e)
{
	uint64_t mask = m->cap - 1;
	uint64_t i = home(m, e.key & FN_MASK);
	while (m->tab[i].frame)
		i = (i + 1) & mask;
	m->tab[i] = e;
}

static int resize(struct ims_mem *m, uint64_t cap)
{
	struct ent *old = m->tab;
	uint64_t ocap = m->cap;
	struct ent *t = calloc((size_t)cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	m->tab = t;
	m->cap = cap;
	m->bits = ims_log2(cap);
	for (uint64_t i = 0; i < ocap; i++)
		if (old[i].frame)
			place(m, old[i]);
	free(old);
	return 0;
}

static int insert(struct ims_mem *m, uint64_t key, uint64_t *frame)
{
	/* Grow past 5/8 load; a failed grow is fine while a slot stays empty. */
	if ((m->n + 1) * 8 > m->cap * 5 && resize(m, m->cap * 2) && m->n + 2 > m->cap)
		return -ENOMEM;
	place(m, (struct ent){key, frame});
	m->n++;
	return 0;
}

/* Removes frame fn from the index; returns its entry (frame NULL if absent). */
static struct ent erase(struct ims_mem *m, uint64_t fn)
{
	uint64_t mask = m->cap - 1;
	uint64_t i = home(m, fn);
	for (;; i = (i + 1) & mask) {
		if (!m->tab[i].frame)
			return (struct ent){0, NULL};
		if ((m->tab[i].key & FN_MASK) == fn)
			break;
	}
	struct ent gone = m->tab[i];
	if (m->last == gone.frame)
		m->last = NULL;
	/* Backward shift: pull each later entry of the cluster into the hole
	 * when the hole lies on its probe path from its home slot. */
	for (uint64_t j = i;;) {
		j = (j + 1) & mask;
		if (!m->tab[j].frame)
			break;
		uint64_t h = home(m, m->tab[j].key & FN_MASK);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->tab[i] = m->tab[j];
			i = j;
		}
	}
	m->tab[i] = (struct ent){0, NULL};
	m->n--;
	/* Shrink below 1/8 load (to under 1/4) so the index follows the frames. */
	if (m->cap > MIN_CAP && m->n * 8 < m->cap)
		resize(m, m->cap / 2);
	return gone;
}

static void unlink_part(struct ims_mem *m, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		m->part = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void link_part(struct ims_mem *m, struct slab *s)
{
	s->prev = NULL;
	s->next = m->part;
	if (m->part)
		m->part->prev = s;
	m->part = s;
}

/* A zeroed frame from a slab; *slot gets its index in the slab. */
static uint64_t *frame_get(struct ims_mem *m, unsigned *slot)
{
	struct slab *s = m->part;
	if (!s) {
		s = m->spare;
		m->spare = NULL;
		if (!s) {
			s = malloc(sizeof(*s));
			if (!s)
				return NULL;
			m->nslabs++;
			s->used = 0;
		}
		link_part(m, s);
	}
	unsigned i = (unsigned)__builtin_ctzll(~s->used);
	s->used |= 1ull << i;
	if (s->used == ~0ull)
		unlink_part(m, s);
	memset(s->f[i], 0, sizeof(s->f[i]));
	*slot = i;
	return s->f[i];
}

static void frame_put(struct ims_mem *m, uint64_t *frame, unsigned slot)
{
	struct slab *s = (struct slab *)((char *)frame - offsetof(struct slab, f) -
					 slot * FWORDS * sizeof(uint64_t));
	bool was_full = s->used == ~0ull;
	s->used &= ~(1ull << slot);
	if (was_full)
		link_part(m, s);
	if (s->used)
		return;
	unlink_part(m, s);
	if (!m->spare) {
		m->spare = s;
		return;
	}
	free(s);
	m->nslabs--;
}

/* Frame fn, allocated (zeroed) if absent; NULL when out of memory. */
static uint64_t *materialize(struct ims_mem *m, uint64_t fn)
{
	uint64_t *f = lookup_last(m, fn);
	if (f)
		return f;
	unsigned slot;
	f = frame_get(m, &slot);
	if (!f)
		return NULL;
	if (insert(m, fn | (uint64_t)slot << SLOT_SHIFT, f)) {
		frame_put(m, f, slot);
		return NULL;
	}
	if (++m->c.frames > m->c.frames_peak)
		m->c.frames_peak = m->c.frames;
	return f;
}

struct ims_mem *ims_mem_new(void)
{
	struct ims_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->tab = calloc(MIN_CAP, sizeof(*m->tab));
	if (!m->tab) {
		free(m);
		return NULL;
	}
	m->cap = MIN_CAP;
	m->bits = ims_log2(MIN_CAP);
	return m;
}

void ims_mem_free(struct ims_mem *m)
{
	if (!m)
		return;
	for (uint64_t i = 0; i < m->cap; i++)
		if (m->tab[i].frame)
			frame_put(m, m->tab[i].frame, (unsigned)(m->tab[i].key >> SLOT_SHIFT));
	free(m->spare);
	for (uint64_t i = 0; i < m->ndir; i++)
		free(m->pool.dir[i]);
	free(m->spare_chunk);
	free(m->pool.dir);
	free(m->chunk_used);
	free(m->tab);
	free(m->pool_ret);
	free(m->pool.live);
	ims_mem_set_race_check(m, false);
	free(m);
}

static struct race_ent *race_find(struct races *r, uint64_t pa, bool add)
{
	if (add && (r->n + 1) * 2 > r->cap) {
		uint64_t cap = r->cap ? r->cap * 2 : 1024;
		struct race_ent *t = calloc(cap, sizeof(*t));
		if (!t)
			oom();
		for (uint64_t i = 0; i < r->cap; i++) {
			if (!r->tab[i].pa)
				continue;
			uint64_t j = (r->tab[i].pa * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
			while (t[j].pa)
				j = (j + 1) & (cap - 1);
			t[j] = r->tab[i];
		}
		free(r->tab);
		r->tab = t;
		r->cap = cap;
	}
	if (!r->cap)
		return NULL;
	uint64_t key = pa + 1;
	for (uint64_t j = (key * 0x9e3779b97f4a7c15ull >> 20) & (r->cap - 1);; j = (j + 1) & (r->cap - 1)) {
		if (r->tab[j].pa == key)
			return &r->tab[j];
		if (!r->tab[j].pa) {
			if (!add)
				return NULL;
			r->tab[j] = (struct race_ent){.pa = key};
			r->n++;
			return &r->tab[j];
		}
	}
}

/* Software saw the word: only a word hardware has changed has an entry.
 * A word without one needs none: the first hardware change makes its entry
 * with hw_seq above every sw_seq so far, just as if software's earlier
 * sightings had been recorded, so what race_sw_store decides is the same;
 * and tables are read far more than hardware writes them. */
static void race_sw_saw(struct races *r, uint64_t pa)
{
	struct race_ent *e = race_find(r, pa, false);
	if (e)
		e->sw_seq = ++r->seq;
}

static void race_hw_changed(struct races *r, uint64_t pa, uint64_t bits)
{
	struct race_ent *e = race_find(r, pa, true);
	if (e->hw_seq <= e->sw_seq)
		e->hw_bits = 0;
	e->hw_bits |= bits;
	e->hw_seq = ++r->seq;
}

/* A software store of `val` over `cur`: does it undo a hardware change the
 * software has not seen? A store of 0 removes the entry (unmap), whose
 * state is discarded, not lost. */
static void race_sw_store(struct races *r, uint64_t pa, uint64_t cur, uint64_t val)
{
	struct race_ent *e = race_find(r, pa, false);
	if (e && val && e->hw_seq > e->sw_seq && ((cur ^ val) & e->hw_bits)) {
		r->lost++;
		r->last_pa = pa;
		r->last_bits = (cur ^ val) & e->hw_bits;
	}
	race_sw_saw(r, pa);
}

void ims_mem_set_race_check(struct ims_mem *m, bool on)
{
	if (on && !m->races) {
		m->races = calloc(1, sizeof(*m->races));
		if (!m->races)
			oom();
	} else if (!on && m->races) {
		free(m->races->tab);
		free(m->races);
		m->races = NULL;
	}
}

uint64_t ims_mem_lost_updates(const struct ims_mem *m, uint64_t *last_pa, uint64_t *last_bits)
{
	if (!m->races)
		return 0;
	if (last_pa)
		*last_pa = m->races->last_pa;
	if (last_bits)
		*last_bits = m->races->last_bits;
	return m->races->lost;
}

/* The hook runs before any lookup: it may drive hardware stores that
 * allocate frames and resize the index. */
static void before(struct ims_mem *m, enum ims_agent who, enum ims_memop op, uint64_t pa)
{
	if (who == IMS_AGENT_SW && m->hook)
		m->hook(m->hook_arg, op, pa);
	m->c.ops[agent(who)][op]++;
}

uint64_t ims_mem_load(struct ims_mem *m, enum ims_agent who, uint64_t pa)
{
	pa &= ~7ull;
	before(m, who, IMS_MEM_LOAD, pa);
	if (m->races && who == IMS_AGENT_SW)
		race_sw_saw(m->races, pa);
	const uint64_t *f = lookup_last(m, pa >> FSHIFT);
	return f ? f[(pa >> 3) & (FWORDS - 1)] : 0;
}

void ims_mem_store(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t val)
{
	pa &= ~7ull;
	before(m, who, IMS_MEM_STORE, pa);
	uint64_t *f = materialize(m, pa >> FSHIFT);
	if (!f)
		oom();
	uint64_t *w = &f[(pa >> 3) & (FWORDS - 1)];
	if (m->races) {
		if (who == IMS_AGENT_SW)
			race_sw_store(m->races, pa, *w, val);
		else if (*w != val)
			race_hw_changed(m->races, pa, *w ^ val);
	}
	*w = val;
}

/* The one read-modify-write: new = (old & ~clear) | set, applied only if
 * old == expect when `cond` (a compare-and-exchange). Inlined with constant
 * cond into both callers. */
static inline uint64_t rmw_word(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t clear,
				uint64_t set, bool cond, uint64_t expect)
{
	pa &= ~7ull;
	before(m, who, IMS_MEM_RMW, pa);
	uint64_t *f = lookup_last(m, pa >> FSHIFT);
	unsigned i = (unsigned)(pa >> 3) & (FWORDS - 1);
	uint64_t old = f ? f[i] : 0;
	uint64_t val = cond && old != expect ? old : (old & ~clear) | set;
	if (m->races) {
		if (who == IMS_AGENT_SW)
			race_sw_saw(m->races, pa); /* atomic: it applies to what is there */
		else if (val != old)
			race_hw_changed(m->races, pa, old ^ val);
	}
	if (val != old) {
		if (!f && !(f = materialize(m, pa >> FSHIFT)))
			oom();
		f[i] = val;
	}
	return old;
}

uint64_t ims_mem_rmw(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t clear,
		     uint64_t set)
{
	return rmw_word(m, who, pa, clear, set, false, 0);
}

uint64_t ims_mem_cmpxchg(struct ims_mem *m, enum ims_agent who, uint64_t pa, uint64_t expect,
			 uint64_t val)
{
	return rmw_word(m, who, pa, ~0ull, val, true, expect);
}

bool mem_pool_table(const struct ims_mem *m, uint64_t pa)
{
	return pool_find(m, pa >> FSHIFT) != NULL;
}

uint64_t *mem_table_frame(struct ims_mem *m, uint64_t pa)
{
	return pool_find(m, pa >> FSHIFT);
}

IMS_HARVEST_PATH
uint64_t *mem_table_frame_rw(struct ims_mem *m, uint64_t pa)
{
	if (m->hook || m->races)
		return NULL;
	return pool_find(m, pa >> FSHIFT);
}

IMS_HARVEST_PATH
const uint64_t *mem_frame(const struct ims_mem *m, uint64_t pa)
{
	return lookup(m, pa >> FSHIFT);
}

IMS_HARVEST_PATH
void mem_count(struct ims_mem *m, enum ims_agent who, enum ims_memop op, uint64_t n)
{
	if ((unsigned)op < IMS_MEMOP_COUNT)
		m->c.ops[agent(who)][op] += n;
}

uint64_t *mem_counter(struct ims_mem *m, enum ims_agent who, enum ims_memop op)
{
	return (unsigned)op < IMS_MEMOP_COUNT ? &m->c.ops[agent(who)][op] : NULL;
}

IMS_HARVEST_PATH
bool mem_hooked(const struct ims_mem *m)
{
	return m->hook != NULL;
}

uint64_t *mem_frame_rw(struct ims_mem *m, uint64_t pa)
{
	if (m->hook || m->races)
		return NULL;
	return lookup_last(m, pa >> FSHIFT);
}

/* Room in the live bits and the chunk directory for index idx. */
static int live_grow(struct ims_mem *m, uint64_t idx)
{
	if (idx / 64 < m->pool.nlive)
		return 0;
	uint64_t n = m->pool.nlive ? m->pool.nlive * 2 : 16;
	while (idx / 64 >= n)
		n *= 2;
	uint64_t *l = realloc(m->pool.live, (size_t)n * sizeof(*l));
	if (!l)
		return -ENOMEM;
	memset(l + m->pool.nlive, 0, (size_t)(n - m->pool.nlive) * sizeof(*l));
	m->pool.live = l;
	m->pool.nlive = n;
	uint64_t nd = n * 64 / CHUNK_FRAMES + 1;
	if (nd > m->ndir) {
		frame_t **d = realloc(m->pool.dir, (size_t)nd * sizeof(*d));
		if (!d)
			return -ENOMEM;
		m->pool.dir = d;
		uint32_t *u = realloc(m->chunk_used, (size_t)nd * sizeof(*u));
		if (!u)
			return -ENOMEM;
		m->chunk_used = u;
		memset(d + m->ndir, 0, (size_t)(nd - m->ndir) * sizeof(*d));
		memset(u + m->ndir, 0, (size_t)(nd - m->ndir) * sizeof(*u));
		m->ndir = nd;
	}
	return 0;
}

/* Storage of pool frame idx, its chunk allocated when first needed. The
 * first chunk stays in small pages: a model with a few tables (a test, a
 * fuzz case) should not fault in 2 MiB. */
static uint64_t *pool_slot(struct ims_mem *m, uint64_t idx)
{
	frame_t **c = &m->pool.dir[idx / CHUNK_FRAMES];
	if (!*c && m->spare_chunk) {
		*c = m->spare_chunk;
		m->spare_chunk = NULL;
	} else if (!*c) {
		void *p = NULL;
		if (posix_memalign(&p, CHUNK_BYTES, CHUNK_BYTES))
			return NULL;
#ifdef MADV_HUGEPAGE
		if (m->nchunks)
			(void)madvise(p, CHUNK_BYTES, MADV_HUGEPAGE); /* advice: failure is fine */
#endif
		*c = p;
		m->nchunks++;
	}
	return (*c)[idx % CHUNK_FRAMES];
}

/* Pool frame idx is gone: its chunk goes when it holds no other. */
static void pool_unslot(struct ims_mem *m, uint64_t idx)
{
	uint64_t ci = idx / CHUNK_FRAMES;
	if (--m->chunk_used[ci])
		return;
	if (!m->spare_chunk) {
		m->spare_chunk = m->pool.dir[ci];
	} else {
		free(m->pool.dir[ci]);
		m->nchunks--;
	}
	m->pool.dir[ci] = NULL;
}

/* Hands out pool frame idx, zeroed. */
static int pool_take(struct ims_mem *m, uint64_t idx)
{
	uint64_t *f = pool_slot(m, idx);
	if (!f)
		return -ENOMEM;
	/* A stray store into pool space may have created the frame in the
	 * index: the pool's own storage replaces it. */
	struct ent e = erase(m, POOL_FN0 + idx);
	if (e.frame) {
		frame_put(m, e.frame, (unsigned)(e.key >> SLOT_SHIFT));
		m->c.frames--;
		m->pool.epoch++; /* a view of the stray frame is gone too */
	}
	memset(f, 0, FWORDS * sizeof(*f));
	m->chunk_used[idx / CHUNK_FRAMES]++;
	m->pool.live[idx / 64] |= 1ull << (idx % 64);
	m->c.pool_frames++;
	if (++m->c.frames > m->c.frames_peak)
		m->c.frames_peak = m->c.frames;
	return 0;
}

const struct mem_pool *mem_pool(const struct ims_mem *m)
{
	return &m->pool;
}

uint64_t mem_pool_epoch(const struct ims_mem *m)
{
	return m->pool.epoch;
}

void ims_mem_set_frame_limit(struct ims_mem *m, uint64_t frames)
{
	m->frame_limit = frames;
}

/* Whether n more frames stay within the limit. */
static bool room(const struct ims_mem *m, uint64_t n)
{
	return !m->frame_limit || (m->c.frames <= m->frame_limit && n <= m->frame_limit - m->c.frames);
}

int ims_mem_pool_alloc(struct ims_mem *m, uint64_t *pa)
{
	if (!room(m, 1))
		return -ENOSPC;
	bool reuse = m->nret > 0;
	uint64_t idx = reuse ? m->pool_ret[m->nret - 1] : m->pool.next;
	if (idx >= (1ull << FN_BITS) - POOL_FN0)
		return -ENOMEM;
	int rc = live_grow(m, idx);
	if (!rc)
		rc = pool_take(m, idx);
	if (rc)
		return rc;
	if (reuse)
		m->nret--;
	else
		m->pool.next++;
	*pa = (POOL_FN0 + idx) << FSHIFT;
	return 0;
}

int ims_mem_pool_alloc_order(struct ims_mem *m, unsigned order, uint64_t *pa)
{
	if (!order)
		return ims_mem_pool_alloc(m, pa);
	if (order > 20)
		return -EINVAL;
	/* Runs come from the bump pointer, aligned (POOL_FN0 is aligned far
	 * beyond 2^20 frames); the frames skipped for alignment stay unused. */
	uint64_t n = 1ull << order;
	if (!room(m, n))
		return -ENOSPC;
	uint64_t idx = (m->pool.next + n - 1) & ~(n - 1);
	if (idx + n > (1ull << FN_BITS) - POOL_FN0)
		return -ENOMEM;
	int rc = live_grow(m, idx + n - 1);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		rc = pool_take(m, idx + i);
		if (rc) {
			while (i--)
				ims_mem_pool_free(m, (POOL_FN0 + idx + i) << FSHIFT);
			return rc;
		}
	}
	m->pool.next = idx + n;
	*pa = (POOL_FN0 + idx) << FSHIFT;
	return 0;
}

void ims_mem_pool_free(struct ims_mem *m, uint64_t pa)
{
	/* Anything not handed out by the pool (or already freed) is ignored. */
	if (pa < IMS_MEM_POOL_BASE || (pa & (IMS_PAGE_SIZE - 1)))
		return;
	uint64_t idx = (pa >> FSHIFT) - POOL_FN0;
	uint64_t *f = pool_find(m, pa >> FSHIFT);
	if (!f)
		return;
	if (m->last == f)
		m->last = NULL;
	m->pool.epoch++;
	m->pool.live[idx / 64] &= ~(1ull << (idx % 64));
	m->c.pool_frames--;
	m->c.frames--;
	pool_unslot(m, idx);
	if (m->nret == m->capret) {
		uint64_t n = m->capret ? m->capret * 2 : 64;
		uint64_t *r = realloc(m->pool_ret, (size_t)n * sizeof(*r));
		if (!r)
			return; /* the address is not reused; nothing else is lost */
		m->pool_ret = r;
		m->capret = n;
	}
	m->pool_ret[m->nret++] = idx;
}

void ims_mem_set_hook(struct ims_mem *m, ims_mem_hook_fn fn, void *arg)
{
	m->hook = fn;
	m->hook_pass = NULL;
	m->hook_arg = arg;
}

void ims_mem_set_hook_pass(struct ims_mem *m, ims_mem_hook_pass_fn fn)
{
	m->hook_pass = fn;
}

uint64_t mem_pass_loads(struct ims_mem *m, uint64_t n)
{
	uint64_t p = n;
	if (m->hook)
		p = m->hook_pass ? m->hook_pass(m->hook_arg, n) : 0;
	if (p > n)
		p = n;
	m->c.ops[IMS_AGENT_SW][IMS_MEM_LOAD] += p;
	return p;
}

const struct ims_mem_counters *ims_mem_counters(const struct ims_mem *m)
{
	return &m->c;
}

uint64_t ims_mem_footprint(const struct ims_mem *m)
{
	return sizeof(*m) + m->nslabs * sizeof(struct slab) + m->cap * sizeof(struct ent) +
	       m->capret * sizeof(uint64_t) + m->pool.nlive * sizeof(uint64_t) +
	       m->nchunks * CHUNK_BYTES + m->ndir * (sizeof(frame_t *) + sizeof(uint32_t));
}
