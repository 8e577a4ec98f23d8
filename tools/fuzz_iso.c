/* iommusim fuzz: replays of a walker that may crash or hang (docs/fuzzing.md,
 * "When the walker crashes or hangs").
 *
 * With isolation on, every replay of the shrinker and of the reproducer
 * runs in a child (tools/isolate.h) that tells the parent which event it is
 * applying; a child that dies or stops making progress is a failure of its
 * own kind (crash, hang) at that event, which the shrinker keeps like any
 * other. Off, these are the in-process replays of fuzz_run.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/fuzz.h"

void fz_crash_fail(const struct fz_iso *iso, const struct iso_outcome *o, const char *file,
		   const struct fz_list *l, size_t at, bool freeing, struct fz_fail *f)
{
	memset(f, 0, sizeof(*f));
	f->first = f->kinds = o->how == ISO_HUNG ? FZ_F_HANG : FZ_F_CRASH;
	f->sig = o->sig;
	f->status = o->status;
	f->at = at;
	f->freeing = freeing;
	uint64_t line = at < l->n ? l->ev[at].line : 0;
	iso_fail_msg(f->msg, sizeof(f->msg), file, line, freeing, iso->walker, o, iso->shown);
}

bool fz_same_failure(const struct fz_fail *a, const struct fz_fail *b)
{
	if (!(a->first & b->kinds))
		return false;
	if (a->first == FZ_F_CRASH)
		return a->sig == b->sig && (a->sig || a->status == b->status);
	return true;
}

/* ---- a list ---------------------------------------------------------------------- */

struct list_job {
	struct fz_where w; /* first: the block is shared with the child */
	struct fz_fail fail;
	/* Private to each process (copied by the fork). */
	const struct ims_replay_opts *opts;
	struct fz_list *l;
	uint64_t first_line;
	const char *file;
	unsigned stop;
};

static int list_child(void *arg)
{
	struct list_job *j = arg;
	/* The shrinker replays a crash dozens of times: the report a
	 * sanitizer or the walker prints each time is the one already shown
	 * when the fuzzer found it. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	return fz_replay_list_at(j->opts, j->l, j->first_line, j->file, j->stop, &j->fail, &j->w);
}

int fz_replay(const struct ims_replay_opts *opts, const struct fz_iso *iso, struct fz_list *l,
	      uint64_t first_line, const char *file, unsigned stop, struct fz_fail *fail)
{
	if (!iso || !iso->on)
		return fz_replay_list(opts, l, first_line, file, stop, fail);
	/* Numbered here too: the child's numbering stays in the child. */
	for (size_t i = 0; i < l->n; i++)
		l->ev[i].line = first_line + i;
	struct list_job *j = iso_shared_new(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct list_job){.opts = opts, .l = l, .first_line = first_line, .file = file,
			       .stop = stop};
	struct iso_outcome o;
	int rc = iso_run(list_child, j, &j->w.st, iso->timeout, &o);
	if (!rc) {
		if (o.how == ISO_EXITED) {
			rc = o.status;
			if (rc == 1 && fail)
				*fail = j->fail;
		} else {
			rc = 1;
			if (fail)
				fz_crash_fail(iso, &o, file, l, j->w.at, j->w.freeing, fail);
		}
	}
	iso_shared_free(j, sizeof(*j));
	return rc;
}

/* ---- a trace file ------------------------------------------------------------------ */

struct file_job {
	struct iso_state st; /* first: the block is shared with the child */
	volatile uint64_t line;
	volatile int freeing;
	const struct ims_replay_opts *opts;
	const char *path;
};

static void file_beat(void *arg, struct ims_replay *r, const struct ims_event *ev)
{
	(void)r;
	struct file_job *j = arg;
	j->line = ev->line;
	j->st.beat++;
}

/* 0 passes, 1 fails validation, 2 does not replay (printed). */
static int replay_file(struct file_job *j)
{
	struct ims_reader *rd = NULL;
	char err[512];
	if (ims_reader_open(j->path, &rd, err, sizeof(err))) {
		fprintf(stderr, "iommusim fuzz: %s\n", err);
		return 2;
	}
	struct ims_replay_opts ro = *j->opts;
	FILE *sink = tmpfile();
	ro.diag = sink;
	ro.verbosity = 0;
	ro.on_event = file_beat;
	ro.on_event_arg = j;
	struct ims_replay *r = NULL;
	int rc = ims_replay_new(&ro, &r);
	if (!rc)
		rc = ims_replay_run(r, rd);
	ims_reader_close(rd);
	int ret = 1;
	if (rc) {
		fprintf(stderr, "iommusim fuzz: internal error: %s does not replay: %s\n", j->path,
			r ? ims_replay_error(r) : "out of memory");
		ret = 2;
	} else if (!ims_replay_stats(r)->validation_failures) {
		ret = 0;
	}
	j->freeing = 1;
	ims_replay_free(r);
	if (sink)
		fclose(sink);
	return ret;
}

static int file_child(void *arg)
{
	return replay_file(arg);
}

int fz_replay_file(const struct ims_replay_opts *opts, const struct fz_iso *iso, const char *path,
		   struct fz_fail *fail)
{
	memset(fail, 0, sizeof(*fail));
	fail->first = fail->kinds = FZ_F_OTHER;
	if (!iso || !iso->on) {
		struct file_job j = {.opts = opts, .path = path};
		return replay_file(&j);
	}
	struct file_job *j = iso_shared_new(sizeof(*j));
	if (!j)
		return 2;
	*j = (struct file_job){.opts = opts, .path = path};
	struct iso_outcome o;
	int rc = iso_run(file_child, j, &j->st, iso->timeout, &o);
	if (rc) {
		fprintf(stderr, "iommusim fuzz: %s\n", strerror(-rc));
		rc = 2;
	} else if (o.how == ISO_EXITED) {
		rc = o.status;
	} else {
		rc = 1;
		fail->first = fail->kinds = o.how == ISO_HUNG ? FZ_F_HANG : FZ_F_CRASH;
		fail->sig = o.sig;
		fail->status = o.status;
		fail->freeing = j->freeing;
		iso_fail_msg(fail->msg, sizeof(fail->msg), path, j->line, j->freeing, iso->walker, &o,
			     iso->shown);
	}
	iso_shared_free(j, sizeof(*j));
	return rc;
}
