/* The reproducer of a fuzzing failure (docs/fuzzing.md, "The reproducer"):
 * a trace with its header (how to replay it, what found it, the failure,
 * the shrinking), written atomically and read back to check that it fails
 * on its own. `iommusim fuzz` and the guided libFuzzer target
 * (tests/fuzz/fuzz_ops.c) write the same file. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "tools/cmd.h"
#include "tools/fuzz.h"

void fz_print_event(FILE *f, const struct ims_event *ev)
{
	char buf[1024];
	size_t n = ims_event_format(ev, buf, sizeof(buf));
	fprintf(f, "%s%s\n", buf, n >= sizeof(buf) ? " ..." : "");
}

void fz_repro_args(const struct walker_choice *wc, double timeout_shown, const char *model_args,
		   unsigned kind, char *buf, size_t len)
{
	walker_args(wc, buf, len);
	size_t n = strlen(buf);
	if (kind & (FZ_F_CRASH | FZ_F_HANG)) {
		if (!wc->plugin)
			n += (size_t)snprintf(buf + n, len - n, "%s--isolate", n ? " " : "");
		if (timeout_shown != ISO_DEFAULT_TIMEOUT && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s--walker-timeout %g", n ? " " : "",
					      timeout_shown);
	}
	if (model_args && model_args[0] && n < len)
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", model_args);
}

int fz_repro_write(const struct fz_repro *rp, const struct fz_iso *iso, struct fz_list *l,
		   const struct fz_fail *want, size_t found_len, const struct fz_shrink_stats *st,
		   struct fz_fail *fail, char *path, size_t plen)
{
	const char *args = rp->args;
	snprintf(path, plen, "%s/%s", rp->dir, rp->name);

	/* Header lines come first; the events' line numbers follow them. */
	unsigned header = 6 + (args[0] ? 1 : 0);
	memset(fail, 0, sizeof(*fail));
	int rc = fz_replay(rp->ro, iso, l, header + 1, rp->name, 0, fail);
	if (rc != 1 || !fz_same_failure(want, fail)) {
		fprintf(stderr, "%s: internal error: the sequence no longer fails (%d)\n", rp->who, rc);
		return 2;
	}
	if (mkdirs(rp->dir)) {
		fprintf(stderr, "%s: %s: %s\n", rp->who, rp->dir, strerror(errno));
		return 2;
	}
	struct outfile of;
	if (outfile_open(&of, path))
		return 2;
	FILE *f = of.f;
	fprintf(f, "iommusim-trace 1\n");
	if (args[0])
		fprintf(f, "# replay-args: %s\n", args);
	fprintf(f, "# %s\n", rp->found);
	fprintf(f, "# walker: %s\n", rp->walker);
	fprintf(f, "# failure (%s): %s\n", fz_fail_name(fail->first), fail->msg);
	if (st)
		fprintf(f, "# shrunk from %zu to %zu events (%" PRIu64 " replays)\n", found_len, l->n,
			st->tests);
	else
		fprintf(f, "# not shrunk: %zu events\n", l->n);
	fprintf(f, "# replay: iommusim replay%s%s %s  (exit 1)\n", args[0] ? " " : "", args,
		rp->name);
	for (size_t i = 0; i < l->n; i++)
		fz_print_event(f, &l->ev[i]);
	if (fflush(f) || ferror(f)) {
		/* outfile_commit says why (ENOSPC...). */
		outfile_commit(&of);
		return 2;
	}

	/* What was written must fail on its own, read back as text, the same
	 * way, within the user's time limit: read from its temporary name,
	 * before it is committed (renamed into place when the run ends). */
	struct fz_fail back;
	rc = fz_replay_file(rp->ro, rp->iso, of.tmp ? of.tmp : path, &back);
	if (rc == 2) {
		outfile_abort(&of);
		return 2;
	}
	if (rc != 1) {
		fprintf(stderr, "%s: internal error: %s replays without a failure\n", rp->who, path);
		outfile_abort(&of);
		return 2;
	}
	if ((want->first & (FZ_F_CRASH | FZ_F_HANG)) && !fz_same_failure(want, &back)) {
		fprintf(stderr, "%s: internal error: %s fails otherwise when read back: %s\n", rp->who,
			path, back.msg);
		outfile_abort(&of);
		return 2;
	}
	if (outfile_commit(&of))
		return 2;
	return 1;
}
