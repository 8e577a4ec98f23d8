/* Sparse simulated memory (include/iommusim/mem.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/mem.h"
#include "model/mem_view.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static uint64_t ops(const struct ims_mem *m, enum ims_agent who, enum ims_memop op)
{
	return ims_mem_counters(m)->ops[who][op];
}

START_TEST(absent_load_is_zero)
{
	struct ims_mem *m = ims_mem_new();
	ck_assert_ptr_nonnull(m);
	uint64_t fp = ims_mem_footprint(m);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x1000), 0);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_SW, 0xdead0000), 0);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, UINT64_MAX & ~7ull), 0);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 0);
	ck_assert_uint_eq(ims_mem_counters(m)->frames_peak, 0);
	ck_assert_ptr_null(mem_frame(m, 0x1000));
	ck_assert_uint_eq(ims_mem_footprint(m), fp);
	/* An rmw that changes nothing on an absent frame allocates nothing. */
	ck_assert_uint_eq(ims_mem_rmw(m, IMS_AGENT_HW, 0x2000, 0x40, 0), 0);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 0);
	ck_assert_ptr_null(mem_frame(m, 0x2000));
	ims_mem_free(m);
}
END_TEST

START_TEST(store_load_round_trip)
{
	struct ims_mem *m = ims_mem_new();
	const uint64_t pas[] = {0, 0x1000, 0x1ff8, 0x12345678, 1ull << 40, (1ull << 52) - 8,
				UINT64_MAX - 7};
	const size_t n = sizeof(pas) / sizeof(pas[0]);
	for (size_t i = 0; i < n; i++)
		ims_mem_store(m, IMS_AGENT_SW, pas[i], 0x1111111111111111ull * (i + 1));
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pas[i] & ~7ull),
				  0x1111111111111111ull * (i + 1));
	/* 0x1000 and 0x1ff8 share a frame; the others are distinct. */
	ck_assert_uint_eq(ims_mem_counters(m)->frames, n - 1);
	/* Unaligned addresses round down to the word. */
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x1fff), 0x3333333333333333ull);
	ims_mem_store(m, IMS_AGENT_HW, 0x1003, 7);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x1000), 7);
	/* Neighbouring words are untouched. */
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x1008), 0);
	/* The frame view sees the same words. */
	const uint64_t *f = mem_frame(m, 0x1abc);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f[0], 7);
	ck_assert_uint_eq(f[511], 0x3333333333333333ull);
	/* Storing zero to an absent frame allocates it (documented choice). */
	ims_mem_store(m, IMS_AGENT_HW, 0x900000, 0);
	ck_assert_ptr_nonnull(mem_frame(m, 0x900000));
	ims_mem_free(m);
}
END_TEST

START_TEST(rmw_semantics)
{
	struct ims_mem *m = ims_mem_new();
	ims_mem_store(m, IMS_AGENT_HW, 0x3000, 0xf0);
	ck_assert_uint_eq(ims_mem_rmw(m, IMS_AGENT_HW, 0x3000, 0x30, 0x1), 0xf0);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x3000), 0xc1);
	/* set wins over clear for the same bit: new = (old & ~clear) | set */
	ck_assert_uint_eq(ims_mem_rmw(m, IMS_AGENT_HW, 0x3000, 0x1, 0x1), 0xc1);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x3000), 0xc1);
	/* No change: still counted. */
	uint64_t before = ops(m, IMS_AGENT_SW, IMS_MEM_RMW);
	ck_assert_uint_eq(ims_mem_rmw(m, IMS_AGENT_SW, 0x3000, 0, 0x40), 0xc1);
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_RMW), before + 1);
	/* rmw on an absent frame that sets a bit allocates it. */
	ck_assert_uint_eq(ims_mem_rmw(m, IMS_AGENT_SW, 0x7008, 0, 1ull << 63), 0);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x7008), 1ull << 63);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 2);
	ck_assert_uint_eq(ops(m, IMS_AGENT_HW, IMS_MEM_RMW), 2);
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_RMW), 2);
	ims_mem_free(m);
}
END_TEST

START_TEST(counters_per_agent)
{
	struct ims_mem *m = ims_mem_new();
	ims_mem_store(m, IMS_AGENT_SW, 0x1000, 1);
	ims_mem_store(m, IMS_AGENT_SW, 0x1008, 1);
	ims_mem_load(m, IMS_AGENT_SW, 0x1000);
	ims_mem_load(m, IMS_AGENT_HW, 0x1000);
	ims_mem_load(m, IMS_AGENT_HW, 0x5000); /* absent: counted too */
	ims_mem_load(m, IMS_AGENT_HW, 0x1000);
	ims_mem_rmw(m, IMS_AGENT_HW, 0x1000, 0, 2);
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_STORE), 2);
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_LOAD), 1);
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_RMW), 0);
	ck_assert_uint_eq(ops(m, IMS_AGENT_HW, IMS_MEM_STORE), 0);
	ck_assert_uint_eq(ops(m, IMS_AGENT_HW, IMS_MEM_LOAD), 3);
	ck_assert_uint_eq(ops(m, IMS_AGENT_HW, IMS_MEM_RMW), 1);
	mem_count(m, IMS_AGENT_SW, IMS_MEM_LOAD, 512);
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_LOAD), 513);
	ck_assert_uint_eq(ops(m, IMS_AGENT_HW, IMS_MEM_LOAD), 3);
	ims_mem_free(m);
}
END_TEST

struct rec {
	struct ims_mem *m;
	unsigned n;
	enum ims_memop op[8];
	uint64_t pa[8];
	uint64_t seen[8];   /* the word as the hook found it */
	uint64_t frames[8]; /* frames allocated when the hook ran */
};

static void record(void *arg, enum ims_memop op, uint64_t pa)
{
	struct rec *r = arg;
	if (r->n < 8) {
		r->op[r->n] = op;
		r->pa[r->n] = pa;
		r->seen[r->n] = ims_mem_load(r->m, IMS_AGENT_HW, pa);
		r->frames[r->n] = ims_mem_counters(r->m)->frames;
	}
	r->n++;
}

START_TEST(hook_before_sw_only)
{
	struct ims_mem *m = ims_mem_new();
	struct rec r = {.m = m};
	ck_assert(!mem_hooked(m));
	ims_mem_set_hook(m, record, &r);
	ck_assert(mem_hooked(m));

	ims_mem_store(m, IMS_AGENT_HW, 0x4000, 9);
	ims_mem_load(m, IMS_AGENT_HW, 0x4000);
	ims_mem_rmw(m, IMS_AGENT_HW, 0x4000, 0, 1);
	ck_assert_uint_eq(r.n, 0);

	ims_mem_store(m, IMS_AGENT_SW, 0x4003, 5); /* pa reported aligned */
	ims_mem_load(m, IMS_AGENT_SW, 0x4000);
	ims_mem_rmw(m, IMS_AGENT_SW, 0x4000, 0, 2);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_int_eq(r.op[0], IMS_MEM_STORE);
	ck_assert_int_eq(r.op[1], IMS_MEM_LOAD);
	ck_assert_int_eq(r.op[2], IMS_MEM_RMW);
	ck_assert_uint_eq(r.pa[0], 0x4000);
	ck_assert_uint_eq(r.pa[1], 0x4000);
	/* Before: the store hook saw the old value, the rmw hook the stored one. */
	ck_assert_uint_eq(r.seen[0], 9);
	ck_assert_uint_eq(r.seen[1], 5);
	ck_assert_uint_eq(r.seen[2], 5);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x4000), 7);
	/* The hook's own hardware loads are counted as hardware. */
	ck_assert_uint_eq(ops(m, IMS_AGENT_SW, IMS_MEM_LOAD), 1);
	ck_assert_uint_eq(ops(m, IMS_AGENT_HW, IMS_MEM_LOAD), 1 + 3 + 1);

	/* A store to an absent frame: the hook runs before it is allocated. */
	ims_mem_store(m, IMS_AGENT_SW, 0x9000, 1);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(r.frames[3], 1);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 2);

	ims_mem_set_hook(m, NULL, NULL);
	ck_assert(!mem_hooked(m));
	ims_mem_load(m, IMS_AGENT_SW, 0x4000);
	ck_assert_uint_eq(r.n, 4);
	ims_mem_free(m);
}
END_TEST

/* A device sets D (bit 6) in a PTE at the first software store or rmw. */
struct inject {
	struct ims_mem *m;
	uint64_t pa;
	bool done;
};

static void device_write(void *arg, enum ims_memop op, uint64_t pa)
{
	struct inject *in = arg;
	if (in->done || op == IMS_MEM_LOAD || pa != in->pa)
		return;
	in->done = true;
	ims_mem_rmw(in->m, IMS_AGENT_HW, in->pa, 0, 1ull << 6);
}

START_TEST(hook_race_load_store_loses_hw_bit)
{
	struct ims_mem *m = ims_mem_new();
	const uint64_t pte = 0x8000 + 0x18, A = 1ull << 5, D = 1ull << 6;
	ims_mem_store(m, IMS_AGENT_HW, pte, 0x1000 | A | 1);
	struct inject in = {m, pte, false};
	ims_mem_set_hook(m, device_write, &in);

	/* Non-atomic clean of A: load, then store; the device write lands in
	 * between and is overwritten. */
	uint64_t v = ims_mem_load(m, IMS_AGENT_SW, pte);
	ims_mem_store(m, IMS_AGENT_SW, pte, v & ~A);
	ck_assert(in.done);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pte), 0x1001);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pte) & D, 0);

	/* Atomic clean: the device write before the rmw survives it. */
	ims_mem_store(m, IMS_AGENT_HW, pte, 0x1000 | A | 1);
	in.done = false;
	uint64_t old = ims_mem_rmw(m, IMS_AGENT_SW, pte, A, 0);
	ck_assert(in.done);
	ck_assert_uint_eq(old & D, D);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pte), 0x1001 | D);
	ims_mem_free(m);
}
END_TEST

/* The hook allocates many frames (index resizes) before the software
 * access it precedes. */
static void grow_index(void *arg, enum ims_memop op, uint64_t pa)
{
	struct ims_mem *m = arg;
	(void)op;
	for (uint64_t i = 1; i <= 3000; i++)
		ims_mem_store(m, IMS_AGENT_HW, pa + i * 0x1000, i);
	ims_mem_store(m, IMS_AGENT_HW, pa, 0xaa);
}

START_TEST(hook_resizes_index)
{
	struct ims_mem *m = ims_mem_new();
	ims_mem_set_hook(m, grow_index, m);
	ims_mem_store(m, IMS_AGENT_SW, 0x100000, 0x55);
	ims_mem_set_hook(m, NULL, NULL);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x100000), 0x55);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 3001);
	for (uint64_t i = 1; i <= 3000; i++)
		ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x100000 + i * 0x1000), i);

	ims_mem_set_hook(m, grow_index, m);
	ck_assert_uint_eq(ims_mem_rmw(m, IMS_AGENT_SW, 0x10000000, 0, 1), 0xaa);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x10000000), 0xab);
	ims_mem_free(m);
}
END_TEST

START_TEST(pool_alloc_free)
{
	struct ims_mem *m = ims_mem_new();
	enum { N = 1200 }; /* three 2 MiB chunks of the pool's storage */
	uint64_t pa[N];
	/* Stray stores into pool space not yet handed out. */
	ims_mem_store(m, IMS_AGENT_HW, IMS_MEM_POOL_BASE + 5 * 0x1000 + 64, 0xbad);
	ims_mem_store(m, IMS_AGENT_HW, IMS_MEM_POOL_BASE + 250 * 0x1000, 0xbad);
	for (unsigned i = 0; i < N; i++) {
		ck_assert_int_eq(ims_mem_pool_alloc(m, &pa[i]), 0);
		ck_assert_uint_ge(pa[i], IMS_MEM_POOL_BASE);
		ck_assert_uint_eq(pa[i] & 0xfff, 0);
		const uint64_t *f = mem_frame(m, pa[i]);
		ck_assert_ptr_nonnull(f);
		for (unsigned w = 0; w < 512; w++)
			ck_assert_uint_eq(f[w], 0);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(pa[i], pa[j]);
		for (unsigned w = 0; w < 512; w++)
			ims_mem_store(m, IMS_AGENT_SW, pa[i] + w * 8, ~0ull);
	}
	const struct ims_mem_counters *c = ims_mem_counters(m);
	ck_assert_uint_eq(c->pool_frames, N);
	ck_assert_uint_eq(c->frames, N);
	ck_assert_uint_eq(c->frames_peak, N);

	ims_mem_pool_free(m, pa[17]);
	ck_assert_uint_eq(c->pool_frames, N - 1);
	ck_assert_uint_eq(c->frames, N - 1);
	ck_assert_uint_eq(c->frames_peak, N);
	ck_assert_ptr_null(mem_frame(m, pa[17]));
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pa[17]), 0);
	/* A second free of the same address, or of a non-pool address, is ignored. */
	ims_mem_pool_free(m, pa[17]);
	ims_mem_pool_free(m, 0x1000);
	ims_mem_pool_free(m, pa[3] + 8);
	ck_assert_uint_eq(c->pool_frames, N - 1);
	ck_assert_ptr_nonnull(mem_frame(m, pa[3]));

	/* The address comes back, zeroed. */
	uint64_t again;
	ck_assert_int_eq(ims_mem_pool_alloc(m, &again), 0);
	ck_assert_uint_eq(again, pa[17]);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, again + 8 * 100), 0);
	ck_assert_uint_eq(c->pool_frames, N);

	/* Neighbours are intact. */
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pa[16] + 8), ~0ull);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pa[18] + 4088), ~0ull);

	/* Freeing everything releases the storage, but for one spare chunk
	 * and the spare slab the stray frames left. */
	uint64_t full = ims_mem_footprint(m);
	for (unsigned i = 0; i < N; i++)
		ims_mem_pool_free(m, pa[i]);
	ck_assert_uint_eq(c->pool_frames, 0);
	ck_assert_uint_eq(c->frames, 0);
	ck_assert_uint_lt(ims_mem_footprint(m), full / 2);
	ck_assert_uint_lt(ims_mem_footprint(m), (2u << 20) + (320u << 10));
	ims_mem_free(m);
}
END_TEST

START_TEST(pool_epoch_marks_frames_gone)
{
	/* The epoch changes exactly when a frame a view may point into goes
	 * away: a pool free, or a stray frame in pool space replaced by the
	 * pool's own storage. Allocating a clean frame and storing change it
	 * not. */
	struct ims_mem *m = ims_mem_new();
	uint64_t e0 = mem_pool_epoch(m);
	uint64_t a, b;
	ck_assert_int_eq(ims_mem_pool_alloc(m, &a), 0);
	ims_mem_store(m, IMS_AGENT_SW, a, 1);
	ck_assert_uint_eq(mem_pool_epoch(m), e0);
	/* The next pool frame is a + 4 KiB: a stray store makes it first. */
	ims_mem_store(m, IMS_AGENT_HW, a + 0x1000, 0xbad);
	const uint64_t *stray = mem_frame(m, a + 0x1000);
	ck_assert_ptr_nonnull(stray);
	ck_assert_uint_eq(mem_pool_epoch(m), e0);
	ck_assert_int_eq(ims_mem_pool_alloc(m, &b), 0);
	ck_assert_uint_eq(b, a + 0x1000);
	uint64_t e1 = mem_pool_epoch(m);
	ck_assert_uint_ne(e1, e0);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, b), 0);
	ims_mem_pool_free(m, a);
	ck_assert_uint_ne(mem_pool_epoch(m), e1);
	ims_mem_free(m);
}
END_TEST

START_TEST(many_frames)
{
	struct ims_mem *m = ims_mem_new();
	enum { N = 100000 };
	/* Spread over a wide range, with a stride that clusters in the hash. */
	for (uint64_t i = 0; i < N; i++)
		ims_mem_store(m, IMS_AGENT_HW, (i * 0x10001000ull) & ((1ull << 52) - 1), i + 1);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, N);
	for (uint64_t i = 0; i < N; i++)
		ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, (i * 0x10001000ull) & ((1ull << 52) - 1)),
				  i + 1);
	ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, 0x2000), 0);
	ims_mem_free(m);
}
END_TEST

/* Deletion by backward shift: free a scattered subset and check that
 * every survivor is still found (a wrong shift loses entries). */
START_TEST(pool_churn)
{
	struct ims_mem *m = ims_mem_new();
	enum { N = 20000 };
	static uint64_t pa[N];
	static bool gone[N];
	memset(gone, 0, sizeof(gone));
	for (unsigned i = 0; i < N; i++) {
		ck_assert_int_eq(ims_mem_pool_alloc(m, &pa[i]), 0);
		ims_mem_store(m, IMS_AGENT_HW, pa[i] + 8, i);
	}
	unsigned seed = 7, freed = 0;
	for (unsigned round = 0; round < 3 * N / 4; round++) {
		unsigned i = (unsigned)rand_r(&seed) % N;
		if (gone[i])
			continue;
		ims_mem_pool_free(m, pa[i]);
		gone[i] = true;
		freed++;
	}
	ck_assert_uint_eq(ims_mem_counters(m)->frames, N - freed);
	ck_assert_uint_eq(ims_mem_counters(m)->pool_frames, N - freed);
	for (unsigned i = 0; i < N; i++) {
		if (gone[i])
			ck_assert_ptr_null(mem_frame(m, pa[i]));
		else
			ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, pa[i] + 8), i);
	}
	/* Reallocation reuses freed addresses before new ones. */
	uint64_t top = 0;
	for (unsigned i = 0; i < N; i++)
		if (pa[i] > top)
			top = pa[i];
	for (unsigned k = 0; k < freed; k++) {
		uint64_t p;
		ck_assert_int_eq(ims_mem_pool_alloc(m, &p), 0);
		ck_assert_uint_le(p, top);
		ck_assert_uint_eq(ims_mem_load(m, IMS_AGENT_HW, p + 8), 0);
	}
	uint64_t p;
	ck_assert_int_eq(ims_mem_pool_alloc(m, &p), 0);
	ck_assert_uint_eq(p, top + 0x1000);

	/* Freeing everything gives the storage back: what is left is one
	 * spare 2 MiB chunk and the pool's address lists. */
	uint64_t busy = ims_mem_footprint(m);
	for (uint64_t a = IMS_MEM_POOL_BASE; a <= p; a += 0x1000)
		ims_mem_pool_free(m, a);
	ck_assert_uint_eq(ims_mem_counters(m)->frames, 0);
	ck_assert_uint_eq(ims_mem_counters(m)->pool_frames, 0);
	ck_assert_uint_lt(ims_mem_footprint(m), (2u << 20) + 700 * 1024);
	ck_assert_uint_lt(ims_mem_footprint(m), busy / 16);
	ims_mem_free(m);
}
END_TEST

START_TEST(footprint_one_gib_of_tables)
{
	struct ims_mem *m = ims_mem_new();
	uint64_t empty = ims_mem_footprint(m);
	enum { N = 262144 };
	for (unsigned i = 0; i < N; i++) {
		uint64_t pa;
		ck_assert_int_eq(ims_mem_pool_alloc(m, &pa), 0);
		ims_mem_store(m, IMS_AGENT_HW, pa, i);
	}
	ck_assert_uint_eq(ims_mem_counters(m)->frames, N);
	uint64_t fp = ims_mem_footprint(m);
	printf("mem: footprint of %u frames: %llu bytes (%.4f x frame bytes, empty %llu)\n", N,
	       (unsigned long long)fp, (double)fp / (double)GiB, (unsigned long long)empty);
	ck_assert_uint_ge(fp, GiB);
	ck_assert_uint_le(fp, GiB + GiB / 4 + MiB);
	ims_mem_free(m);
}
END_TEST

START_TEST(race_check_flags_lost_hardware_updates)
{
	struct ims_mem *m = ims_mem_new();
	ims_mem_set_race_check(m, true);
	ims_mem_store(m, IMS_AGENT_SW, 0x1000, 0x41);
	/* load, hardware sets bit 6, store of the stale value: lost. */
	uint64_t v = ims_mem_load(m, IMS_AGENT_SW, 0x1000);
	ims_mem_rmw(m, IMS_AGENT_HW, 0x1000, 0, 0x40 << 1);
	ims_mem_store(m, IMS_AGENT_SW, 0x1000, v & ~1ull);
	uint64_t pa, bits;
	ck_assert_uint_eq(ims_mem_lost_updates(m, &pa, &bits), 1);
	ck_assert_uint_eq(pa, 0x1000);
	ck_assert_uint_eq(bits, 0x80);
	/* A reload after the hardware change makes the store informed. */
	ims_mem_rmw(m, IMS_AGENT_HW, 0x1000, 0, 0x100);
	v = ims_mem_load(m, IMS_AGENT_SW, 0x1000);
	ims_mem_store(m, IMS_AGENT_SW, 0x1000, v & ~1ull);
	ck_assert_uint_eq(ims_mem_lost_updates(m, NULL, NULL), 1);
	/* An atomic software RMW never loses a hardware update. */
	v = ims_mem_load(m, IMS_AGENT_SW, 0x1000);
	ims_mem_rmw(m, IMS_AGENT_HW, 0x1000, 0, 0x200);
	ims_mem_rmw(m, IMS_AGENT_SW, 0x1000, 0x100, 0);
	ck_assert(ims_mem_load(m, IMS_AGENT_HW, 0x1000) & 0x200);
	ck_assert_uint_eq(ims_mem_lost_updates(m, NULL, NULL), 1);
	/* A stale store that keeps the hardware's bits is not a loss. */
	v = ims_mem_load(m, IMS_AGENT_SW, 0x1000);
	ims_mem_rmw(m, IMS_AGENT_HW, 0x1000, 0, 0x400);
	ims_mem_store(m, IMS_AGENT_SW, 0x1000, (v | 0x400) & ~0x200ull);
	ck_assert_uint_eq(ims_mem_lost_updates(m, NULL, NULL), 1);
	/* Off: nothing is tracked. */
	ims_mem_set_race_check(m, false);
	ck_assert_uint_eq(ims_mem_lost_updates(m, NULL, NULL), 0);
	ims_mem_free(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, race_check_flags_lost_hardware_updates);
	tcase_add_test(tc, absent_load_is_zero);
	tcase_add_test(tc, store_load_round_trip);
	tcase_add_test(tc, rmw_semantics);
	tcase_add_test(tc, counters_per_agent);
	tcase_add_test(tc, hook_before_sw_only);
	tcase_add_test(tc, hook_race_load_store_loses_hw_bit);
	tcase_add_test(tc, hook_resizes_index);
	tcase_add_test(tc, pool_alloc_free);
	tcase_add_test(tc, pool_epoch_marks_frames_gone);
	tcase_add_test(tc, many_frames);
	tcase_add_test(tc, pool_churn);
	tcase_add_test(tc, footprint_one_gib_of_tables);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
