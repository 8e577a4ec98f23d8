/* iommusim fuzz: events applied in-process through the replayer, failures
 * classified from the replayer's counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/fuzz.h"

int fz_list_push(struct fz_list *l, const struct ims_event *ev)
{
	if (l->n == l->cap) {
		if (l->fixed)
			return -ENOSPC;
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ims_event *n = realloc(l->ev, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->ev = n;
		l->cap = cap;
	}
	l->ev[l->n++] = *ev;
	return 0;
}

int fz_list_copy(struct fz_list *dst, const struct fz_list *src)
{
	dst->n = 0;
	if (dst->cap < src->n) {
		struct ims_event *n = realloc(dst->ev, (src->n ? src->n : 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		dst->ev = n;
		dst->cap = src->n ? src->n : 1;
	}
	if (src->n)
		memcpy(dst->ev, src->ev, src->n * sizeof(*src->ev));
	dst->n = src->n;
	return 0;
}

void fz_list_free(struct fz_list *l)
{
	if (!l->fixed)
		free(l->ev);
	memset(l, 0, sizeof(*l));
}

static int nop_submit(void *arg, enum ims_format fmt, const uint64_t cmd[2])
{
	(void)arg, (void)fmt, (void)cmd;
	return 0;
}

static int nop_ctx_update(void *arg, uint16_t tag, unsigned word, uint64_t clear, uint64_t set)
{
	(void)arg, (void)tag, (void)word, (void)clear, (void)set;
	return 0;
}

static int nop_ctx_flush(void *arg, uint16_t tag)
{
	(void)arg, (void)tag;
	return 0;
}

const struct ims_sink fz_nop_sink = {NULL, nop_submit, nop_ctx_update, nop_ctx_flush, NULL, NULL, NULL};

const char *fz_fail_name(unsigned kind)
{
	switch (kind) {
	case FZ_F_UNDER:
		return "under-reported dirty pages";
	case FZ_F_OVER:
		return "over-reported dirty pages";
	case FZ_F_LOST:
		return "lost hardware update";
	case FZ_F_CONSIST:
		return "software and hardware translations differ";
	case FZ_F_TABLES:
		return "page-table pages leaked";
	case FZ_F_WALKER:
		return "walker finding";
	case FZ_F_CRASH:
		return "crash";
	case FZ_F_HANG:
		return "hang";
	default:
		return "validation failure";
	}
}

static void count_hook(void *arg, enum ims_memop op, uint64_t pa)
{
	(void)op, (void)pa;
	struct fz_run *run = arg;
	run->accesses++;
}

static uint64_t count_pass(void *arg, uint64_t n)
{
	struct fz_run *run = arg;
	run->accesses += n;
	return n;
}

int fz_run_begin(struct fz_run *run, const struct ims_replay_opts *opts, const char *file)
{
	memset(run, 0, sizeof(*run));
	run->file = file;
	run->diag = open_memstream(&run->dbuf, &run->dlen);
	if (!run->diag)
		return -ENOMEM;
	struct ims_replay_opts o = *opts;
	o.diag = run->diag;
	o.verbosity = 0;
	int rc = ims_replay_new(&o, &run->r);
	if (rc) {
		fclose(run->diag);
		free(run->dbuf);
		run->diag = NULL;
		run->dbuf = NULL;
		return rc;
	}
	return 0;
}

void fz_run_end(struct fz_run *run)
{
	ims_replay_free(run->r);
	if (run->diag)
		fclose(run->diag);
	free(run->dbuf);
	memset(run, 0, sizeof(*run));
}

/* The kind of failure an event caused, from the counters it moved: a
 * validation failure with no mismatch and no assertion behind it is the
 * lost-update check of an injection. */
static unsigned classify(const struct ims_event *ev, const struct ims_replay_stats *a,
			 const struct ims_replay_stats *b)
{
	unsigned k = 0;
	if (b->bits_under > a->bits_under)
		k |= FZ_F_UNDER;
	if (b->bits_over > a->bits_over)
		k |= FZ_F_OVER;
	uint64_t asserts = b->assertion_failures - a->assertion_failures;
	if (asserts) {
		if (ev->op == IMS_OP_EXPECT_CONSISTENT)
			k |= FZ_F_CONSIST;
		else if (ev->op == IMS_OP_EXPECT_TABLES)
			k |= FZ_F_TABLES;
		else
			k |= FZ_F_OTHER;
	}
	uint64_t findings = b->walker_findings - a->walker_findings;
	if (findings)
		k |= FZ_F_WALKER;
	uint64_t explained = (b->harvest_mismatches - a->harvest_mismatches) + asserts + findings;
	if (b->validation_failures - a->validation_failures > explained)
		k |= FZ_F_LOST;
	return k ? k : FZ_F_OTHER;
}

/* The message of a failure: the first line the event printed, or, when the
 * walker misused the host, the line that says so (the replayer prints it
 * last, after whatever the op's own checks said). */
static void fail_msg(char *out, size_t len, const char *m, unsigned k)
{
	if (k & FZ_F_WALKER) {
		const char *last = m;
		for (const char *p = m; *p;) {
			const char *nl = strchr(p, '\n');
			if (!nl || !nl[1])
				break;
			p = nl + 1;
			last = p;
		}
		m = last;
	}
	size_t n = strcspn(m, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(out, m, n);
	out[n] = '\0';
}

int fz_run_event(struct fz_run *run, const struct ims_event *ev, bool count)
{
	struct ims_replay_stats before = *ims_replay_stats(run->r);
	struct ims_mem *mem = ims_replay_mem(run->r);
	count = count && !ims_ev_has(ev, IMS_K_INJECT_AT);
	if (count) {
		run->accesses = 0;
		ims_mem_set_hook(mem, count_hook, run);
		ims_mem_set_hook_pass(mem, count_pass);
	}
	fflush(run->diag);
	size_t mark = run->dlen;
	int rc = ims_replay_event(run->r, ev, run->file);
	if (count)
		ims_mem_set_hook(mem, NULL, NULL);
	size_t idx = run->nev++;
	if (ev->op == IMS_OP_MEM)
		run->corrupt = true;
	const struct ims_replay_stats *after = ims_replay_stats(run->r);
	if (run->corrupt) {
		/* The table is no longer what the oracle's truth assumes: the
		 * hardware's walk still says what devices did, but a harvest of a
		 * garbage entry, a map refused over one, a leaked table or a
		 * finding of the corrupt entry say nothing about the walker. What
		 * is judged here is that it returned (a crash or a hang is caught
		 * around this call), in bounded work (its checks, pt_check.c). */
		if (rc || after->validation_failures != before.validation_failures)
			run->corrupt_outcomes++;
		return 0;
	}
	if (rc) {
		snprintf(run->err, sizeof(run->err), "%s", ims_replay_error(run->r));
		return rc;
	}
	if (after->validation_failures == before.validation_failures)
		return 0;
	unsigned k = classify(ev, &before, after);
	if (!run->failed) {
		run->failed = true;
		/* A misuse of the host is the cause of whatever else the op
		 * failed (a write that was not performed): it is the kind a
		 * shrunk sequence must keep. */
		run->fail.first = (k & FZ_F_WALKER) ? FZ_F_WALKER : k;
		run->fail.at = idx;
		fflush(run->diag);
		fail_msg(run->fail.msg, sizeof(run->fail.msg), run->dbuf ? run->dbuf + mark : "", k);
	}
	run->fail.kinds |= k;
	return 1;
}

int fz_replay_list_at(const struct ims_replay_opts *opts, struct fz_list *l, uint64_t first_line,
		      const char *file, unsigned stop, struct fz_fail *fail, struct fz_where *w)
{
	struct fz_run run;
	int rc = fz_run_begin(&run, opts, file);
	if (rc)
		return rc;
	int res = 0;
	for (size_t i = 0; i < l->n; i++) {
		l->ev[i].line = first_line + i;
		if (w) {
			w->at = i;
			w->st.beat++;
		}
		rc = fz_run_event(&run, &l->ev[i], false);
		if (rc < 0) {
			res = rc;
			break;
		}
		if (rc > 0) {
			res = 1;
			if (run.fail.kinds & stop) {
				run.fail.at = i;
				break;
			}
		}
	}
	if (res == 1 && fail)
		*fail = run.fail;
	if (w)
		w->freeing = 1;
	fz_run_end(&run);
	return res;
}

int fz_replay_list(const struct ims_replay_opts *opts, struct fz_list *l, uint64_t first_line,
		   const char *file, unsigned stop, struct fz_fail *fail)
{
	return fz_replay_list_at(opts, l, first_line, file, stop, fail, NULL);
}
