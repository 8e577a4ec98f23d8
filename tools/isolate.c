/* A walker's crash or hang as an outcome, not the end of the command: the
 * work runs in a forked child that the parent watches (tools/isolate.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/cmd.h"
#include "tools/isolate.h"

void *iso_shared_new(size_t size)
{
	if (size < sizeof(struct iso_state))
		size = sizeof(struct iso_state);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void iso_shared_free(void *p, size_t size)
{
	if (p)
		munmap(p, size < sizeof(struct iso_state) ? sizeof(struct iso_state) : size);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: the work, then "done" and its result in the shared state. It
 * leaves with _exit: the parent's exit handlers and buffers are not its. */
static void child(int (*work)(void *), void *arg, struct iso_state *st, int wfd, pid_t parent)
{
	(void)wfd; /* held open until the child ends: its end is the pipe's end */
	/* A parent killed (a test's timeout, ^C) takes a hanging child with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int r = work(arg);
	/* What it printed and wrote is the run's too: a write error on
	 * standard output is said (once) and fails it, and the outputs it
	 * completed (replay --stats-out in a worker) are renamed into place. */
	if (stdout_write_failed(stdout) && r >= 0 && r < 2)
		r = 2;
	outputs_child_end();
	fflush(stderr);
	st->result = r;
	__atomic_store_n(&st->done, 1, __ATOMIC_SEQ_CST);
	_exit(r < 0 ? 2 : r & 0x7f);
}

int iso_start(struct iso_child *c, int (*work)(void *arg), void *arg, struct iso_state *st)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	st->done = 0;
	st->result = 0;
	st->stop = interrupt_caught();
	int fds[2];
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	c->t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (pid == 0) {
		close(fds[0]);
		child(work, arg, st, fds[1], parent);
	}
	close(fds[1]);
	c->pid = pid;
	c->fd = fds[0];
	c->st = st;
	c->beat = st->beat;
	c->moved = c->t0;
	return 0;
}

int iso_tick_ms(double timeout)
{
	if (timeout <= 0)
		return -1;
	double t = timeout / 8;
	return t < 0.01 ? 10 : t > 0.1 ? 100 : (int)(t * 1000);
}

/* The child is gone (or killed): reap it and say how it ended. */
static int reap(struct iso_child *c, bool hung, struct iso_outcome *out)
{
	close(c->fd);
	c->fd = -1;
	int ws = 0;
	while (waitpid(c->pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	memset(out, 0, sizeof(*out));
	out->secs = now_s() - c->t0;
	if (__atomic_load_n(&c->st->done, __ATOMIC_SEQ_CST)) {
		out->how = ISO_EXITED;
		out->status = c->st->result;
	} else if (hung) {
		out->how = ISO_HUNG;
	} else {
		out->how = ISO_CRASHED;
		if (WIFSIGNALED(ws))
			out->sig = WTERMSIG(ws);
		else
			out->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	}
	return 1;
}

int iso_check(struct iso_child *c, double timeout, struct iso_outcome *out)
{
	/* The read end reports end-of-file when the child is gone; while it
	 * runs, the beat says whether it makes progress. */
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int n = poll(&p, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 0) {
			char ch;
			if (n > 0 && (p.revents & POLLIN) && read(c->fd, &ch, 1) > 0)
				continue; /* the child wrote to the pipe: not its end */
			return reap(c, false, out);
		}
		break;
	}
	double t = now_s();
	if (c->st->beat != c->beat) {
		c->beat = c->st->beat;
		c->moved = t;
	} else if (timeout > 0 && t - c->moved >= timeout) {
		kill(c->pid, SIGKILL);
		return reap(c, true, out);
	}
	return 0;
}

int iso_run(int (*work)(void *arg), void *arg, struct iso_state *st, double timeout,
	    struct iso_outcome *out)
{
	memset(out, 0, sizeof(*out));
	struct iso_child c;
	int rc = iso_start(&c, work, arg, st);
	if (rc)
		return rc;
	int tick_ms = iso_tick_ms(timeout);
	for (;;) {
		/* Between ticks the parent sleeps until the child's end. */
		struct pollfd p = {.fd = c.fd, .events = POLLIN};
		poll(&p, 1, tick_ms);
		/* A stop asked of this process (interrupt_poll: fuzz) is the
		 * child's too, which may not have had it (kill PID). */
		if (interrupt_caught())
			st->stop = interrupt_caught();
		rc = iso_check(&c, timeout, out);
		if (rc)
			return rc < 0 ? rc : 0;
	}
}

static const char *sig_name(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case SIGABRT:
		return "SIGABRT";
	case SIGTRAP:
		return "SIGTRAP";
	case SIGSYS:
		return "SIGSYS";
	case SIGKILL:
		return "SIGKILL";
	case SIGTERM:
		return "SIGTERM";
	case SIGPIPE:
		return "SIGPIPE";
	default:
		return NULL;
	}
}

void iso_describe(const struct iso_outcome *o, double timeout, char *buf, size_t len)
{
	switch (o->how) {
	case ISO_EXITED:
		snprintf(buf, len, "finished (status %d)", o->status);
		break;
	case ISO_HUNG:
		snprintf(buf, len, "hung (no progress in %g s; killed)", timeout);
		break;
	case ISO_CRASHED:
		if (o->sig && sig_name(o->sig))
			snprintf(buf, len, "crashed (%s)", sig_name(o->sig));
		else if (o->sig)
			snprintf(buf, len, "crashed (signal %d)", o->sig);
		else
			snprintf(buf, len, "crashed (exited with status %d before finishing)",
				 o->status);
		break;
	}
}

void iso_fail_msg(char *buf, size_t len, const char *file, uint64_t line, bool after,
		  const char *walker, const struct iso_outcome *o, double timeout)
{
	char what[128];
	iso_describe(o, timeout, what, sizeof(what));
	if (!line)
		snprintf(buf, len, "%s: FAIL: walker %s %s before the first line", file, walker, what);
	else
		snprintf(buf, len, "%s:%llu: FAIL: walker %s %s %s", file, (unsigned long long)line,
			 walker, what, after ? "after this line, freeing its domains" : "at this line");
}

bool iso_same(const struct iso_outcome *a, const struct iso_outcome *b)
{
	if (a->how != b->how)
		return false;
	if (a->how == ISO_CRASHED)
		return a->sig == b->sig && (a->sig || a->status == b->status);
	return a->how == ISO_HUNG || a->status == b->status;
}

int iso_timeout_value(const char *arg, double *out)
{
	char *end;
	errno = 0;
	double t = strtod(arg, &end);
	if (end == arg || *end || errno || !(t >= 0) || t > 1e6)
		return -1;
	*out = t;
	return 0;
}

int iso_parse_timeout(const char *cmd, const char *arg, double *out)
{
	if (iso_timeout_value(arg, out)) {
		fprintf(stderr, "iommusim %s: --walker-timeout: '%s' is not a number of seconds "
			"(0 = no limit)\n", cmd, arg);
		return -1;
	}
	return 0;
}
