/* The host side of the walker ABI (iommusim/walker.h, pagetables/host.c,
 * host_mem.c, plugin.c), driven by a harvest-level walker written here as
 * struct ims_walker_ops (test_walker_full.c has a full-level one):
 *  - ims_walker_check refuses what it must (version, size, name, ops,
 *    level, format), and ims_pt_new with it;
 *  - a harvest-level walker's memory calls: a write outside the page tables
 *    or an unaligned access is a finding and a write is not performed; the
 *    atomics return old values and cmpxchg writes only on a match; frame()
 *    reads zeros for a frame never written, gives no writable view under a
 *    hook or the lost-update check, and is one access point; account()
 *    counts; alloc_table gives aligned zeroed frames and a bad free_table
 *    is a finding;
 *  - record() clips to the harvest range and gathers, and the host flushes
 *    the gather after a clearing harvest and not after NO_CLEAR;
 *  - ims_pt_use_walker switches harvest-level walkers on a live table;
 *  - the plug-in loader's errors name the file (missing, a directory, not
 *    ELF, no entry point, an entry that refuses, ABI 999), and a good
 *    plug-in loads (by path or bare file name) and runs.
 *
 * The ABI gives a walker no argument of its own beyond its domain, so a
 * test walker finds its test's context (struct ctx) in a word of simulated
 * guest memory that its attach loads: no global state.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "walker_rig.h"

#define MAILBOX_PA 0x7000ull      /* where a test walker finds its struct ctx */
#define GUEST_PA 0x40000000ull    /* guest RAM the test wrote */
#define NEVER_PA 0x80000000ull    /* memory never written */
#define GUEST_WORD 0x1122334455667788ull
#define POOL_HOLE (IMS_MEM_POOL_BASE + (1ull << 32)) /* pool space, no table */

/* ---- a harvest-level test walker ------------------------------------------------ */

enum mode {
	M_NONE,      /* does nothing */
	M_STRAY,     /* writes outside the page tables */
	M_UNALIGNED, /* unaligned load and store in the root table */
	M_ATOMICS,   /* every memory call on an unused root entry */
	M_FRAME,     /* frame() views */
	M_ACCOUNT,   /* account() */
	M_TABLES,    /* alloc_table / free_table, good and bad */
	M_ACTIONS,   /* the record / bitmap_set / gather_add calls listed */
	M_WHOLE,     /* records the whole range (shows the walker ran) */
};

enum how { H_RECORD, H_BITMAP, H_GATHER };

struct action {
	enum how how;
	uint64_t iova, len;
};

struct ctx {
	enum mode mode;
	int attach_rc;
	unsigned attaches, detaches, calls;
	uint64_t last_iova, last_size;
	unsigned last_flags;
	struct action act[4];
	unsigned nact;
	/* M_FRAME */
	bool expect_no_write_view;
	unsigned hooks; /* the memory hook's count of software accesses */
	unsigned frame_hooks; /* hooks one frame() call made */
	/* M_TABLES: the pool's frames seen from inside the harvest */
	const struct ims_mem_counters *mc;
	uint64_t pool_during;
};

static struct ctx *ctx_of(struct ims_walker_dom *d)
{
	return d->priv;
}

static int probe_attach(struct ims_walker_dom *d)
{
	struct ctx *c = (struct ctx *)(uintptr_t)d->host->load(d, MAILBOX_PA);
	ck_assert_ptr_nonnull(c);
	d->priv = c;
	c->attaches++;
	return c->attach_rc;
}

static void probe_detach(struct ims_walker_dom *d)
{
	ctx_of(d)->detaches++;
}

/* An unused entry of the root table: the last one (the tests map low). */
static uint64_t spare_slot(struct ims_walker_dom *d)
{
	return d->root + 8 * 511;
}

static void do_stray(struct ims_walker_dom *d)
{
	const struct ims_walker_host *h = d->host;
	h->store(d, GUEST_PA, 1);
	/* A refused cmpxchg never "succeeds": it returns other than expect. */
	ck_assert_uint_ne(h->cmpxchg(d, GUEST_PA, GUEST_WORD, 2), GUEST_WORD);
	h->xchg(d, GUEST_PA, 3);
	h->fetch_and(d, GUEST_PA, 0);
	h->fetch_or(d, GUEST_PA, ~0ull);
	h->store(d, NEVER_PA, 5);
	h->store(d, POOL_HOLE, 6);
}

static void do_unaligned(struct ims_walker_dom *d)
{
	const struct ims_walker_host *h = d->host;
	(void)h->load(d, d->root + 4);
	h->store(d, d->root + 4, ~0ull);
}

static void do_atomics(struct ims_walker_dom *d)
{
	const struct ims_walker_host *h = d->host;
	uint64_t s = spare_slot(d);
	ck_assert_uint_eq(h->load(d, s), 0);
	h->store(d, s, 0xa0);
	ck_assert_uint_eq(h->load(d, s), 0xa0);
	/* cmpxchg: no write on a mismatch, a write on a match; the old value
	 * either way. */
	ck_assert_uint_eq(h->cmpxchg(d, s, 0xb0, 0xc0), 0xa0);
	ck_assert_uint_eq(h->load(d, s), 0xa0);
	ck_assert_uint_eq(h->cmpxchg(d, s, 0xa0, 0xc0), 0xa0);
	ck_assert_uint_eq(h->load(d, s), 0xc0);
	ck_assert_uint_eq(h->xchg(d, s, 0xf0f), 0xc0);
	ck_assert_uint_eq(h->load(d, s), 0xf0f);
	ck_assert_uint_eq(h->fetch_and(d, s, 0x0ff), 0xf0f);
	ck_assert_uint_eq(h->load(d, s), 0x00f);
	ck_assert_uint_eq(h->fetch_or(d, s, 0x300), 0x00f);
	ck_assert_uint_eq(h->load(d, s), 0x30f);
	h->store(d, s, 0);
}

static void do_frame(struct ims_walker_dom *d)
{
	const struct ims_walker_host *h = d->host;
	struct ctx *c = ctx_of(d);
	/* Never written: a view of zeros (any pa in the frame names it). */
	const uint64_t *z = h->frame(d, NEVER_PA + 0x123 * 8, 0);
	ck_assert_ptr_nonnull(z);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(z[i], 0);
	/* The root table: the view reads what load reads, and is one
	 * access point. */
	unsigned before = c->hooks;
	const uint64_t *rt = h->frame(d, d->root, 0);
	c->frame_hooks = c->hooks - before;
	ck_assert_ptr_nonnull(rt);
	for (unsigned i = 0; i < 512; i += 37)
		ck_assert_uint_eq(rt[i], h->load(d, d->root + 8 * i));
	ck_assert_uint_ne(rt[0], 0); /* the test mapped something */
	/* The view is live memory. */
	uint64_t s = spare_slot(d);
	h->store(d, s, 0x55);
	ck_assert_uint_eq(rt[511], 0x55);
	h->store(d, s, 0);
	uint64_t *w = h->frame(d, d->root, IMS_WALKER_FRAME_WRITE);
	if (c->expect_no_write_view) {
		ck_assert_ptr_null(w);
	} else {
		ck_assert_ptr_nonnull(w);
		w[511] |= 0x77; /* a read-modify-write in one expression */
		ck_assert_uint_eq(h->load(d, s), 0x77);
		w[511] &= ~0x77ull;
		ck_assert_uint_eq(h->load(d, s), 0);
	}
	/* A mapped frame: the table's own storage whatever watches (a hook, the
	 * lost-update check), and not an access point. */
	before = c->hooks;
	uint64_t *mp = h->frame(d, d->root, IMS_WALKER_FRAME_MAP);
	ck_assert_uint_eq(c->hooks, before);
	ck_assert_ptr_nonnull(mp);
	ck_assert_ptr_eq(mp, rt);
	/* Not a table: NULL (and a finding, checked by the caller). */
	ck_assert_ptr_null(h->frame(d, NEVER_PA, IMS_WALKER_FRAME_MAP));
}

static void do_tables(struct ims_walker_dom *d)
{
	const struct ims_walker_host *h = d->host;
	struct ctx *c = ctx_of(d);
	uint64_t pa = 0;
	ck_assert_int_eq(h->alloc_table(d, 10, &pa), -EINVAL);
	/* Four frames, aligned to their 16 KiB, zeroed, tables (a store lands). */
	ck_assert_int_eq(h->alloc_table(d, 2, &pa), 0);
	ck_assert_uint_eq(pa & 0x3fff, 0);
	for (unsigned f = 0; f < 4; f++) {
		const uint64_t *v = h->frame(d, pa + 4096 * f, 0);
		for (unsigned i = 0; i < 512; i++)
			ck_assert_uint_eq(v[i], 0);
	}
	h->store(d, pa + 0x3ff8, 42);
	ck_assert_uint_eq(h->load(d, pa + 0x3ff8), 42);
	c->pool_during = c->mc->pool_frames;
	/* Bad frees: memory that is no table, a misaligned order, a frame
	 * freed twice. None is performed. */
	h->free_table(d, GUEST_PA, 0);
	h->free_table(d, pa + 4096, 1);
	h->free_table(d, pa, 2);
	h->free_table(d, pa, 0);
}

static int probe_rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
		     struct ims_walker_dirty *dirty)
{
	struct ctx *c = ctx_of(d);
	const struct ims_walker_host *h = d->host;
	c->calls++;
	c->last_iova = iova;
	c->last_size = size;
	c->last_flags = flags;
	switch (c->mode) {
	case M_NONE:
		break;
	case M_STRAY:
		do_stray(d);
		break;
	case M_UNALIGNED:
		do_unaligned(d);
		break;
	case M_ATOMICS:
		do_atomics(d);
		break;
	case M_FRAME:
		do_frame(d);
		break;
	case M_ACCOUNT:
		h->account(d, IMS_MEM_LOAD, 1000);
		h->account(d, IMS_MEM_RMW, 7);
		break;
	case M_TABLES:
		do_tables(d);
		break;
	case M_ACTIONS:
		for (unsigned i = 0; i < c->nact; i++) {
			const struct action *a = &c->act[i];
			if (a->how == H_RECORD)
				h->record(dirty, a->iova, a->len);
			else if (a->how == H_BITMAP)
				h->bitmap_set(dirty, a->iova, a->len);
			else
				h->gather_add(dirty, a->iova, a->len);
		}
		break;
	case M_WHOLE:
		h->record(dirty, iova, size);
		break;
	}
	return 0;
}

#define ALL_FORMATS ((1u << IMS_FMT_COUNT) - 1)

static const struct ims_walker_ops probe_ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = "abi-probe",
	.description = "does what its test asks, through the host",
	.level = IMS_WALKER_HARVEST,
	.formats = ALL_FORMATS,
	.attach = probe_attach,
	.detach = probe_detach,
	.read_and_clear_dirty = probe_rcd,
};

/* ---- rigs (walker_rig.h) -------------------------------------------------------- */

static void count_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)op, (void)pa;
	(*(unsigned *)arg)++;
}

/* Memory and model, c zeroed and put in the mailbox for the probe walker to
 * find; no domain yet. */
static void rig_mailbox(struct rig *r, struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	rig_base(r);
	ims_mem_store(r->mem, IMS_AGENT_HW, MAILBOX_PA, (uint64_t)(uintptr_t)c);
	ims_mem_store(r->mem, IMS_AGENT_HW, GUEST_PA, GUEST_WORD);
}

/* A VT-d domain on the built-in tables harvested by the probe walker, with
 * 64 KiB mapped at 0 and tracking on. */
static void rig_probe(struct rig *r, struct ctx *c, enum mode mode)
{
	rig_mailbox(r, c);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG, .dirty_tracking = true,
				.plugin = &probe_ops};
	char err[160] = "";
	ck_assert_msg(rig_domain(r, &pc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r->pt), "abi-probe");
	ck_assert_uint_eq(c->attaches, 1);
	ck_assert_int_eq(ims_pt_map(r->pt, 0, 0x100000000ull, 0x10000, IMS_PROT_RW, 0), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r->pt, true), 0);
	c->calls = 0;
	c->mode = mode; /* from here on: setting up called it too */
	r->submits = 0;
}

/* One clearing harvest of the 64 KiB rig_probe maps, for the tests that
 * look at what the walker did (findings, counters, its context) rather
 * than at the bits it reported. */
static void harvest_mapped(struct rig *r)
{
	struct ims_bitmap bm;
	ck_assert_int_eq(harvest(r, 0, 0x10000, 0, &bm, 0x10000), 0);
	ims_bitmap_fini(&bm);
}

/* ---- ims_walker_check ----------------------------------------------------------- */

START_TEST(check_refuses_bad_ops)
{
	char err[200];
	ck_assert_int_eq(ims_walker_check(&probe_ops, IMS_FMT_VTD, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_walker_check(&probe_ops, IMS_FMT_COUNT, NULL, 0), 0);
	refused(NULL, IMS_FMT_VTD, "no walker ops");
	struct ims_walker_ops o = probe_ops;
	o.abi_version = IMS_WALKER_ABI_VERSION + 1;
	refused(&o, IMS_FMT_VTD, "ABI version 2");
	o.abi_version = 0;
	refused(&o, IMS_FMT_VTD, "ABI version 0");
	o = probe_ops;
	o.size = sizeof(o) - 8;
	refused(&o, IMS_FMT_VTD, "bytes");
	o.size = 0;
	refused(&o, IMS_FMT_VTD, "bytes");
	/* A later, larger ops of the same version is read as far as known. */
	o.size = sizeof(o) + 64;
	ck_assert_int_eq(ims_walker_check(&o, IMS_FMT_VTD, err, sizeof(err)), 0);
	o = probe_ops;
	o.name = NULL;
	refused(&o, IMS_FMT_VTD, "no name");
	o.name = "";
	refused(&o, IMS_FMT_VTD, "no name");
	o = probe_ops;
	o.read_and_clear_dirty = NULL;
	refused(&o, IMS_FMT_VTD, "abi-probe has no read_and_clear_dirty");
	o = probe_ops;
	o.level = (enum ims_walker_level)0;
	refused(&o, IMS_FMT_VTD, "neither harvest");
	o.level = (enum ims_walker_level)3;
	refused(&o, IMS_FMT_VTD, "neither harvest");
	/* A format it does not claim; any format when asked about none. */
	o = probe_ops;
	o.formats = 1u << IMS_FMT_AMDV1;
	refused(&o, IMS_FMT_VTD, "does not handle format");
	refused(&o, IMS_FMT_SMMUV3, "does not handle format");
	ck_assert_int_eq(ims_walker_check(&o, IMS_FMT_AMDV1, err, sizeof(err)), 0);
	ck_assert_int_eq(ims_walker_check(&o, IMS_FMT_COUNT, err, sizeof(err)), 0);
	o.formats = 0;
	refused(&o, IMS_FMT_AMDV1, "does not handle format");
	/* Contracts: a harvest-level walker maps and unmaps nothing, so it can
	 * state neither of those; bits this build does not know are refused. */
	o = probe_ops;
	o.contract = IMS_WALKER_CONTRACT_CLEAN_RACE_LOST;
	ck_assert_int_eq(ims_walker_check(&o, IMS_FMT_VTD, err, sizeof(err)), 0);
	o.contract = IMS_WALKER_CONTRACT_MAPS_DIRTY;
	refused(&o, IMS_FMT_VTD, "cannot state MAPS_DIRTY");
	o.contract = IMS_WALKER_CONTRACT_TABLES_KEPT;
	refused(&o, IMS_FMT_VTD, "cannot state TABLES_KEPT");
	o.contract = 1u << 20;
	refused(&o, IMS_FMT_VTD, "contract bits 0x100000");
	/* The built-in walkers pass, each of them. */
	for (unsigned i = 0; i < ims_pt_walker_count(); i++) {
		const struct ims_walker_ops *b = ims_pt_walker_ops(i);
		ck_assert_int_eq(ims_walker_check(b, IMS_FMT_COUNT, err, sizeof(err)), 0);
	}
	ck_assert_ptr_null(ims_pt_walker_ops(ims_pt_walker_count()));
}
END_TEST

/* ims_pt_new checks the walker it is given, and reports a failed attach;
 * nothing is left behind. */
START_TEST(new_domain_refuses_bad_walker)
{
	struct rig r;
	struct ctx c;
	rig_mailbox(&r, &c);
	char err[200] = "";
	struct ims_walker_ops o = probe_ops;
	o.abi_version = 999;
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG, .plugin = &o};
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "ABI version 999"), "%s", err);
	ck_assert_ptr_null(r.pt);
	o = probe_ops;
	o.formats = 1u << IMS_FMT_AMDV1;
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -EINVAL);
	ck_assert_msg(has(err, "does not handle format"), "%s", err);
	/* A failed attach undoes the domain. */
	c.attach_rc = -ENOMEM;
	pc = (struct ims_pt_cfg){.fmt = IMS_FMT_VTD, .tag = TAG, .plugin = &probe_ops};
	ck_assert_int_eq(rig_domain(&r, &pc, err, sizeof(err)), -ENOMEM);
	ck_assert_msg(has(err, "abi-probe: attach failed"), "%s", err);
	ck_assert_uint_eq(c.attaches, 1);
	rig_down(&r);
}
END_TEST

/* ---- memory calls -------------------------------------------------------------- */

START_TEST(writes_outside_tables_are_findings)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_STRAY);
	ck_assert_ptr_null(ims_pt_finding(r.pt, NULL));
	uint64_t frames = ims_mem_counters(r.mem)->frames;
	harvest_mapped(&r);
	ck_assert_uint_eq(c.calls, 1);
	unsigned n = 0;
	const char *f = ims_pt_finding(r.pt, &n);
	ck_assert_uint_eq(n, 7);
	ck_assert_msg(has(f, "walker abi-probe: store at 0x40000000 outside the page tables "
			     "(not performed)"),
		      "%s", f);
	char first[256];
	snprintf(first, sizeof(first), "%s", f);
	/* None of them was performed: guest memory holds what it held, and no
	 * frame appeared for the ones aimed at memory never written. */
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, GUEST_PA), GUEST_WORD);
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, NEVER_PA), 0);
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, POOL_HOLE), 0);
	ck_assert_uint_eq(ims_mem_counters(r.mem)->frames, frames);
	/* A second harvest adds to the count; the first finding stays. */
	harvest_mapped(&r);
	ck_assert_str_eq(ims_pt_finding(r.pt, &n), first);
	ck_assert_uint_eq(n, 14);
	rig_down(&r);
}
END_TEST

START_TEST(unaligned_access_is_a_finding)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_UNALIGNED);
	uint64_t words[IMS_CTX_WORDS];
	ims_pt_ctx_words(r.pt, words);
	uint64_t root = words[0] & 0x000ffffffffff000ull;
	uint64_t w0 = ims_mem_load(r.mem, IMS_AGENT_HW, root);
	uint64_t w1 = ims_mem_load(r.mem, IMS_AGENT_HW, root + 8);
	ck_assert_uint_ne(w0, 0);
	harvest_mapped(&r);
	unsigned n = 0;
	const char *f = ims_pt_finding(r.pt, &n);
	ck_assert_uint_eq(n, 2); /* the load and the store */
	ck_assert_msg(has(f, "load at 0x") && has(f, "is not 8-byte aligned"), "%s", f);
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, root), w0);
	ck_assert_uint_eq(ims_mem_load(r.mem, IMS_AGENT_HW, root + 8), w1);
	rig_down(&r);
}
END_TEST

START_TEST(atomics_return_old_values)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_ATOMICS);
	const struct ims_mem_counters *mc = ims_mem_counters(r.mem);
	uint64_t rmw0 = mc->ops[IMS_AGENT_SW][IMS_MEM_RMW];
	uint64_t st0 = mc->ops[IMS_AGENT_SW][IMS_MEM_STORE];
	harvest_mapped(&r);
	ck_assert_uint_eq(c.calls, 1);
	ck_assert_ptr_null(ims_pt_finding(r.pt, NULL));
	/* Two cmpxchg (one failed), xchg, fetch_and, fetch_or; two stores. */
	ck_assert_uint_eq(mc->ops[IMS_AGENT_SW][IMS_MEM_RMW] - rmw0, 5);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_SW][IMS_MEM_STORE] - st0, 2);
	rig_down(&r);
}
END_TEST

START_TEST(frame_views)
{
	/* 0: nothing on; 1: a hook; 2: the lost-update check. */
	for (int kind = 0; kind < 3; kind++) {
		struct rig r;
		struct ctx c;
		rig_probe(&r, &c, M_FRAME);
		c.expect_no_write_view = kind != 0;
		if (kind == 1)
			ims_mem_set_hook(r.mem, count_hook, &c.hooks);
		if (kind == 2)
			ims_mem_set_race_check(r.mem, true);
		harvest_mapped(&r);
		ims_mem_set_hook(r.mem, NULL, NULL);
		ims_mem_set_race_check(r.mem, false);
		ck_assert_uint_eq(c.calls, 1);
		/* Taking a frame is one access point under a hook. */
		ck_assert_uint_eq(c.frame_hooks, (kind == 1 ? 1u : 0u));
		/* One finding: the mapped frame asked for memory that is no table. */
		unsigned nf;
		const char *f = ims_pt_finding(r.pt, &nf);
		ck_assert_uint_eq(nf, 1);
		ck_assert_msg(has(f, "mapped frame at"), "%s", f);
		ck_assert_uint_eq(ims_mem_lost_updates(r.mem, NULL, NULL), 0);
		rig_down(&r);
	}
}
END_TEST

/* A writable view of memory that is no table: NULL, and a finding. */
static int frame_stray_rcd(struct ims_walker_dom *d, uint64_t iova, uint64_t size, unsigned flags,
			   struct ims_walker_dirty *dirty)
{
	(void)iova, (void)size, (void)flags, (void)dirty;
	ck_assert_ptr_null(d->host->frame(d, GUEST_PA, IMS_WALKER_FRAME_WRITE));
	ck_assert_ptr_nonnull(d->host->frame(d, GUEST_PA, 0));
	ck_assert_uint_eq(d->host->frame(d, GUEST_PA, 0)[0], GUEST_WORD);
	return 0;
}

START_TEST(writable_frame_outside_tables)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_NONE);
	struct ims_walker_ops o = probe_ops;
	o.name = "frame-stray";
	o.read_and_clear_dirty = frame_stray_rcd;
	char err[160] = "";
	ck_assert_msg(ims_pt_use_walker(r.pt, &o, err, sizeof(err)) == 0, "%s", err);
	harvest_mapped(&r);
	unsigned n;
	const char *f = ims_pt_finding(r.pt, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_msg(has(f, "walker frame-stray: writable frame at 0x40000000 outside the "
			     "page tables"),
		      "%s", f);
	rig_down(&r);
}
END_TEST

START_TEST(account_counts)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_ACCOUNT);
	const struct ims_mem_counters *mc = ims_mem_counters(r.mem);
	uint64_t ld0 = mc->ops[IMS_AGENT_SW][IMS_MEM_LOAD];
	uint64_t rmw0 = mc->ops[IMS_AGENT_SW][IMS_MEM_RMW];
	harvest_mapped(&r);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_SW][IMS_MEM_LOAD] - ld0, 1000);
	ck_assert_uint_eq(mc->ops[IMS_AGENT_SW][IMS_MEM_RMW] - rmw0, 7);
	rig_down(&r);
}
END_TEST

START_TEST(table_memory)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_TABLES);
	c.mc = ims_mem_counters(r.mem);
	uint64_t pool0 = c.mc->pool_frames, pages0 = ims_pt_stats(r.pt)->table_pages;
	harvest_mapped(&r);
	ck_assert_uint_eq(c.pool_during, pool0 + 4);
	ck_assert_uint_eq(c.mc->pool_frames, pool0);
	ck_assert_uint_eq(ims_pt_stats(r.pt)->table_pages, pages0);
	unsigned n;
	const char *f = ims_pt_finding(r.pt, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_msg(has(f, "walker abi-probe: free_table of 0x40000000, which is not a live table"),
		      "%s", f);
	rig_down(&r);
}
END_TEST

/* ---- the harvest's output ------------------------------------------------------ */

static void set_actions(struct ctx *c, unsigned n, const struct action *a)
{
	c->nact = n;
	memcpy(c->act, a, n * sizeof(*a));
}

static uint64_t bits_of(const struct ims_bitmap *bm)
{
	ck_assert_uint_le(bm->nbits, 64);
	return bm->words[0];
}

START_TEST(record_clips_to_the_range)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_ACTIONS);
	struct ims_bitmap bm;
	/* A 2 MiB page from 0 recorded in a harvest of [0x3000, 0x8000):
	 * bits 3..7 of a bitmap that covers 0..64K. The walker is called with
	 * the harvest's range. */
	set_actions(&c, 1, (struct action[]){{H_RECORD, 0, 2u << 20}});
	ck_assert_int_eq(harvest(&r, 0x3000, 0x5000, 0, &bm, 0x10000), 0);
	ck_assert_uint_eq(c.last_iova, 0x3000);
	ck_assert_uint_eq(c.last_size, 0x5000);
	ck_assert_uint_eq(c.last_flags, 0);
	ck_assert_uint_eq(bits_of(&bm), 0xf8);
	ims_bitmap_fini(&bm);
	/* An unaligned range: a page cut by it owns its whole bit. */
	ck_assert_int_eq(harvest(&r, 0x3800, 0x1000, 0, &bm, 0x10000), 0);
	ck_assert_uint_eq(bits_of(&bm), 0x18);
	ims_bitmap_fini(&bm);
	/* Records outside the range set nothing, inside one page one bit;
	 * length 0 is the rest of the space. */
	set_actions(&c, 3, (struct action[]){{H_RECORD, 0x9000, 0x1000},
					     {H_RECORD, 0x1000, 0x1000},
					     {H_RECORD, 0x4000, 8}});
	ck_assert_int_eq(harvest(&r, 0x3000, 0x5000, IMS_DIRTY_NO_CLEAR, &bm, 0x10000), 0);
	ck_assert_uint_eq(c.last_flags, IMS_WALKER_NO_CLEAR);
	ck_assert_uint_eq(bits_of(&bm), 0x10);
	ims_bitmap_fini(&bm);
	set_actions(&c, 1, (struct action[]){{H_BITMAP, 0x6000, 0x10000}});
	ck_assert_int_eq(harvest(&r, 0x3000, 0x5000, 0, &bm, 0x10000), 0);
	ck_assert_uint_eq(bits_of(&bm), 0xc0);
	ims_bitmap_fini(&bm);
	/* gather_add sets no bit. */
	set_actions(&c, 1, (struct action[]){{H_GATHER, 0x3000, 0x5000}});
	ck_assert_int_eq(harvest(&r, 0x3000, 0x5000, 0, &bm, 0x10000), 0);
	ck_assert_uint_eq(bits_of(&bm), 0);
	ims_bitmap_fini(&bm);
	ck_assert_ptr_null(ims_pt_finding(r.pt, NULL));
	rig_down(&r);
}
END_TEST

/* Whether the next device write to iova hits the IOTLB. */
static bool iotlb_hit(struct rig *r, uint64_t iova)
{
	struct ims_xlate x;
	ck_assert_int_eq(ims_iommu_access(r->mmu, DEV, iova, IMS_ACC_W, &x), 0);
	return x.iotlb_hit;
}

START_TEST(host_flushes_what_was_gathered)
{
	struct rig r;
	struct ctx c;
	rig_probe(&r, &c, M_ACTIONS);
	struct ims_bitmap bm;
	/* The cases: what the walker calls, the flags, with a bitmap or not;
	 * whether the host must flush. */
	static const struct {
		enum how how;
		unsigned flags;
		bool bm, flush;
	} cases[] = {
		{H_RECORD, 0, true, true},
		{H_RECORD, IMS_DIRTY_NO_CLEAR, true, false},
		{H_BITMAP, 0, true, false},
		{H_GATHER, 0, true, true},
		{H_GATHER, IMS_DIRTY_NO_CLEAR, true, false},
		{H_RECORD, 0, false, true}, /* a clear-only pass */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The page is in the IOTLB. */
		(void)iotlb_hit(&r, 0x5000);
		ck_assert(iotlb_hit(&r, 0x5000));
		set_actions(&c, 1, (struct action[]){{cases[i].how, 0x5000, 0x1000}});
		r.submits = 0;
		ck_assert_int_eq(ims_bitmap_init(&bm, 0, 0x10000, 12), 0);
		ck_assert_int_eq(ims_pt_read_and_clear_dirty(r.pt, 0x4000, 0x4000, cases[i].flags,
							     cases[i].bm ? &bm : NULL),
				 0);
		ck_assert_msg((r.submits != 0) == cases[i].flush, "case %u: %u commands", i,
			      r.submits);
		ck_assert_msg(iotlb_hit(&r, 0x5000) == !cases[i].flush, "case %u", i);
		/* A page outside the gathered range stays cached either way. */
		(void)iotlb_hit(&r, 0xc000);
		ck_assert(iotlb_hit(&r, 0xc000));
		bool bit = cases[i].bm && cases[i].how != H_GATHER;
		ck_assert_uint_eq(bits_of(&bm), bit ? 0x20 : 0);
		ims_bitmap_fini(&bm);
	}
	rig_down(&r);
}
END_TEST

/* ---- switching walkers on a live table ------------------------------------------ */

START_TEST(use_walker_switches_live_table)
{
	struct rig r;
	struct ctx c;
	rig_mailbox(&r, &c);
	c.mode = M_WHOLE;
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_VTD, .tag = TAG, .dirty_tracking = true};
	char err[160] = "";
	ck_assert_msg(rig_domain(&r, &pc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "fast");
	ck_assert_int_eq(ims_pt_map(r.pt, 0, 0x100000000ull, 0x10000, IMS_PROT_RW, 0), 0);
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x2000, IMS_ACC_W, NULL), 0);
	struct ims_bitmap bm;
	/* The built-in walker: one dirty page. */
	ck_assert_int_eq(harvest(&r, 0, 0x10000, IMS_DIRTY_NO_CLEAR, &bm, 0x10000), 0);
	ck_assert_uint_eq(bits_of(&bm), 0x4);
	ims_bitmap_fini(&bm);
	/* The probe: attached, called with its own view, reports everything. */
	ck_assert_msg(ims_pt_use_walker(r.pt, &probe_ops, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "abi-probe");
	ck_assert_uint_eq(c.attaches, 1);
	ck_assert_int_eq(harvest(&r, 0, 0x10000, IMS_DIRTY_NO_CLEAR, &bm, 0x10000), 0);
	ck_assert_uint_eq(c.calls, 1);
	ck_assert_uint_eq(bits_of(&bm), 0xffff);
	ims_bitmap_fini(&bm);
	/* Back to the reference walker: the probe is detached, the table and
	 * its dirty page are as they were. */
	unsigned ref;
	ck_assert_int_eq(ims_pt_walker_parse("reference", &ref), 0);
	ck_assert_int_eq(ims_pt_use_walker(r.pt, ims_pt_walker_ops(ref), err, sizeof(err)), 0);
	ck_assert_uint_eq(c.detaches, 1);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "reference");
	ck_assert_int_eq(harvest(&r, 0, 0x10000, 0, &bm, 0x10000), 0);
	ck_assert_uint_eq(bits_of(&bm), 0x4);
	ims_bitmap_fini(&bm);
	ck_assert_uint_eq(c.calls, 1);
	/* Refusals leave the walker in place: ops that fail the check, a
	 * built-in index past the count (test_walker_full: a full-level
	 * walker). */
	struct ims_walker_ops bad = probe_ops;
	bad.size = 8;
	ck_assert_int_eq(ims_pt_use_walker(r.pt, &bad, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(ims_pt_use_walker(r.pt, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(ims_pt_set_walker(r.pt, ims_pt_walker_count()), -EINVAL);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "reference");
	ck_assert_uint_eq(c.attaches, 1);
	/* An attach that fails: the error, and the default walker in place. */
	c.attach_rc = -ENOMEM;
	ck_assert_int_eq(ims_pt_use_walker(r.pt, &probe_ops, err, sizeof(err)), -ENOMEM);
	ck_assert_msg(has(err, "walker abi-probe: attach failed (-12)"), "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "fast");
	ck_assert_uint_eq(c.attaches, 2);
	ck_assert_uint_eq(c.detaches, 1);
	ck_assert_ptr_null(ims_pt_finding(r.pt, NULL));
	rig_down(&r);
}
END_TEST

/* ---- plug-ins ------------------------------------------------------------------- */

static void load_fails(const char *path, const char *why)
{
	struct ims_walker_plugin *p = (struct ims_walker_plugin *)&p; /* not NULL */
	char err[512] = "";
	ck_assert_int_eq(ims_walker_plugin_load(path, &p, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_msg(has(err, path), "'%s' does not name %s", err, path);
	ck_assert_msg(has(err, why), "'%s' does not say '%s'", err, why);
}

START_TEST(plugin_load_errors)
{
	char dir[] = "/tmp/ims-walker-abi-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[600];
	snprintf(path, sizeof(path), "%s/missing.so", dir);
	load_fails(path, "No such file");
	load_fails(dir, "not a regular file");
	snprintf(path, sizeof(path), "%s/text.so", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not an ELF shared object\n", f);
	fclose(f);
	load_fails(path, "cannot load as a shared object");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	load_fails(IMS_TEST_PLUGIN_NOENTRY, "no symbol ims_walker_entry");
	load_fails(IMS_TEST_PLUGIN_REFUSES, "ims_walker_entry refused walker ABI version 1");
	load_fails(IMS_TEST_PLUGIN_ABI999, "walker ABI version 999, this build speaks version 1");
}
END_TEST

START_TEST(plugin_load_and_run)
{
	struct ims_walker_plugin *p = NULL;
	char err[512] = "";
	ck_assert_msg(ims_walker_plugin_load(IMS_TEST_PLUGIN_OK, &p, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_str_eq(ims_walker_plugin_path(p), IMS_TEST_PLUGIN_OK);
	const struct ims_walker_ops *ops = ims_walker_plugin_ops(p);
	ck_assert_ptr_nonnull(ops);
	ck_assert_str_eq(ops->name, "test-plugin");
	struct rig r;
	rig_base(&r);
	struct ims_pt_cfg pc = {.fmt = IMS_FMT_SMMUV3, .tag = TAG, .dirty_tracking = true,
				.plugin = ops};
	ck_assert_msg(rig_domain(&r, &pc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ims_pt_walker_label(r.pt), "test-plugin");
	ck_assert_int_eq(ims_pt_set_dirty_tracking(r.pt, true), 0);
	struct ims_bitmap bm;
	ck_assert_int_eq(harvest(&r, 0x1000, 0x3000, 0, &bm, 0x10000), 0);
	ck_assert_uint_eq(bits_of(&bm), 0xe); /* its code ran */
	ims_bitmap_fini(&bm);
	rig_down(&r);
	ims_walker_plugin_unload(p);
	/* A bare file name is a path from the working directory, not a name
	 * for the library search. */
	char cwd[4096], dir[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(dir, sizeof(dir), "%s", IMS_TEST_PLUGIN_OK);
	char *slash = strrchr(dir, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = 0;
	ck_assert_int_eq(chdir(dir), 0);
	int rc = ims_walker_plugin_load(slash + 1, &p, err, sizeof(err));
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(ims_walker_plugin_ops(p)->name, "test-plugin");
	ims_walker_plugin_unload(p);
	ck_assert_ptr_null(ims_walker_plugin_ops(NULL));
	ck_assert_ptr_null(ims_walker_plugin_path(NULL));
	ims_walker_plugin_unload(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walker_abi");
	TCase *tc = tcase_create("check");
	tcase_add_test(tc, check_refuses_bad_ops);
	tcase_add_test(tc, new_domain_refuses_bad_walker);
	suite_add_tcase(s, tc);
	tc = tcase_create("memory");
	tcase_add_test(tc, writes_outside_tables_are_findings);
	tcase_add_test(tc, unaligned_access_is_a_finding);
	tcase_add_test(tc, atomics_return_old_values);
	tcase_add_test(tc, frame_views);
	tcase_add_test(tc, writable_frame_outside_tables);
	tcase_add_test(tc, account_counts);
	tcase_add_test(tc, table_memory);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, record_clips_to_the_range);
	tcase_add_test(tc, host_flushes_what_was_gathered);
	suite_add_tcase(s, tc);
	tc = tcase_create("switch");
	tcase_add_test(tc, use_walker_switches_live_table);
	suite_add_tcase(s, tc);
	tc = tcase_create("plugin");
	tcase_add_test(tc, plugin_load_errors);
	tcase_add_test(tc, plugin_load_and_run);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
