/* Outputs that never lie, and interrupted runs that clean up (docs/cli.md,
 * "Outputs and interruption"; declared in tools/cmd.h):
 *
 * - every temporary a command writes (an output's OUT.tmpXXXXXX, a --plot
 *   staging directory, bench's scratch traces) is registered here while it
 *   exists, so that SIGINT, SIGTERM, SIGHUP and SIGPIPE remove it;
 * - a complete output is renamed into place only when the command ends and
 *   every output, standard output included, was written without an error:
 *   a run never commits one output and then fails on another;
 * - a write error on standard output is exit status 2 with a message.
 *
 * Why the handler removes the files itself, instead of setting a flag that
 * the long loops poll before an ordinary clean-up: temporaries are written
 * from many loops (replay's events, import's lines, conform's cases, fuzz's
 * reproducer, gnuplot in a child), some of them blocked in a read or a
 * wait when the signal comes, and a loop that forgets to poll would leave
 * its files behind. unlink(2), rmdir(2), kill(2) and waitpid(2) are
 * async-signal-safe, and the registry is changed only with the signals
 * blocked, so the handler always sees it whole. A command with something
 * to say when stopped (bench's partial table, fuzz's summary) asks for the
 * flag as well (interrupt_poll): the first signal only sets it, the command
 * stops at its next safe point and ends by the ordinary path; a second
 * signal ends it at once as above.
 *
 * The registry and the signal state are the process's, not a command's:
 * a signal handler has no other way to reach them. That is why they are
 * the file-scope state below (the project's exception for signal
 * handlers); each entry names the process that made it, so a forked child
 * (an isolated replay, a fuzz worker) never removes its parent's files.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/cmd.h"

enum { P_FREE, P_OPEN, P_READY, P_DIR };

struct pend {
	char *tmp;   /* the temporary's name */
	char *final; /* its name once committed; NULL: removed at the end */
	pid_t owner;
	volatile sig_atomic_t state;
};

/* Grown (never shrunk) with the signals blocked, so the handler never
 * sees it moving. */
static struct pend *volatile pend;
static size_t cap;
static volatile sig_atomic_t npend; /* the slots in use are below it */
static bool out_failed;             /* an output could not be written */
static bool said_stdout;            /* standard output's failure was said */
static volatile sig_atomic_t caught; /* the signal a polled command received */
static volatile sig_atomic_t polled;
static const char *volatile poll_msg;
static volatile pid_t child_pid, child_owner; /* gnuplot, writing into a staging dir */
static bool tty; /* standard error is a terminal: ^C left the cursor on its line */

static void sigs(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGPIPE);
}

static void block(sigset_t *old)
{
	sigset_t s;
	sigs(&s);
	sigprocmask(SIG_BLOCK, &s, old);
}

static void unblock(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* ---- the registry ----------------------------------------------------------------- */

static void rmdir_all(const char *dir);
static pid_t main_pid; /* 0 until interrupt_init: no command runs here */

/* With the signals blocked. */
static int add_locked(const char *tmp, const char *final, int state)
{
	size_t i = 0;
	while (i < (size_t)npend && pend[i].state != P_FREE)
		i++;
	if (i == cap) {
		size_t c = cap ? 2 * cap : 16;
		struct pend *q = malloc(c * sizeof(*q));
		if (!q) {
			errno = ENOMEM;
			return -1;
		}
		if (cap)
			memcpy(q, pend, cap * sizeof(*q));
		memset(q + cap, 0, (c - cap) * sizeof(*q));
		struct pend *old = pend;
		pend = q;
		cap = c;
		free(old);
	}
	char *t = strdup(tmp), *f = final ? strdup(final) : NULL;
	if (!t || (final && !f)) {
		free(t);
		free(f);
		errno = ENOMEM;
		return -1;
	}
	pend[i].tmp = t;
	pend[i].final = f;
	pend[i].owner = getpid();
	pend[i].state = state;
	if (i >= (size_t)npend)
		npend = (sig_atomic_t)i + 1;
	return (int)i;
}

int pend_add(const char *tmp, const char *final, bool dir)
{
	sigset_t old;
	block(&old);
	int id = add_locked(tmp, final, dir ? P_DIR : P_OPEN);
	unblock(&old);
	return id;
}

int pend_mkstemp(char *tmpl, const char *final, int *id)
{
	sigset_t old;
	block(&old);
	int fd = mkstemp(tmpl);
	if (fd >= 0 && (*id = add_locked(tmpl, final, P_OPEN)) < 0) {
		int e = errno;
		close(fd);
		unlink(tmpl);
		errno = e;
		fd = -1;
	}
	unblock(&old);
	return fd;
}

int pend_mkdtemp(char *tmpl, int *id)
{
	sigset_t old;
	block(&old);
	int rc = mkdtemp(tmpl) ? 0 : -1;
	if (!rc && (*id = add_locked(tmpl, NULL, P_DIR)) < 0) {
		int e = errno;
		rmdir(tmpl);
		errno = e;
		rc = -1;
	}
	unblock(&old);
	return rc;
}

int pend_ready(int id)
{
	if (id < 0 || id >= npend || pend[id].state != P_OPEN || !pend[id].final)
		return 0;
	if (main_pid) {
		pend[id].state = P_READY;
		return 0;
	}
	/* Not the command (a test harness that links these files): no end of
	 * the run will come to rename it, so it is renamed now. */
	int rc = rename(pend[id].tmp, pend[id].final);
	int e = errno;
	pend_drop(id, rc != 0);
	errno = e;
	return rc;
}

static void drop_locked(int id, bool remove)
{
	struct pend *p = &pend[id];
	if (remove && p->state == P_DIR)
		rmdir_all(p->tmp);
	else if (remove)
		unlink(p->tmp);
	p->state = P_FREE;
	free(p->tmp);
	free(p->final);
	p->tmp = p->final = NULL;
}

void pend_drop(int id, bool remove)
{
	if (id < 0 || id >= npend || pend[id].state == P_FREE)
		return;
	sigset_t old;
	block(&old);
	drop_locked(id, remove);
	unblock(&old);
}

void pend_child(pid_t pid)
{
	child_owner = getpid();
	child_pid = pid;
}

void outputs_failed(void)
{
	out_failed = true;
}

/* A directory's leftovers (what gnuplot wrote besides its charts), then
 * the directory. Not from the handler: opendir is not async-signal-safe. */
static void rmdir_all(const char *dir)
{
	if (!rmdir(dir) || errno != ENOTEMPTY)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t n = strlen(dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = malloc(n + strlen(e->d_name) + 2);
		if (p) {
			memcpy(p, dir, n);
			p[n] = '/';
			strcpy(p + n + 1, e->d_name);
			unlink(p);
			free(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

/* This process's entries: the complete ones renamed into place (unless
 * `bad`), the others removed; directories last, once emptied. Returns
 * false when a rename failed (said). With the signals blocked. */
static bool settle(bool bad)
{
	pid_t self = getpid();
	bool ok = true;
	for (int i = 0; i < npend; i++) {
		struct pend *p = &pend[i];
		if (p->owner != self || p->state == P_FREE || p->state == P_DIR)
			continue;
		if (p->state == P_READY && !bad && ok) {
			if (rename(p->tmp, p->final)) {
				fprintf(stderr, "iommusim: %s: %s (the output is not written)\n", p->final,
					strerror(errno));
				ok = false;
			} else {
				drop_locked(i, false);
				continue;
			}
		}
		drop_locked(i, true);
	}
	for (int i = 0; i < npend; i++) {
		struct pend *p = &pend[i];
		if (p->owner != self || p->state != P_DIR)
			continue;
		rmdir_all(p->tmp);
		drop_locked(i, false);
	}
	return ok;
}

/* ---- streams that remember why a write failed ------------------------------------------ */

/* stdio keeps an error flag, not the errno: by the time a buffered file is
 * flushed for the last time, the write that failed may be long past and
 * errno long overwritten. These streams keep the first one's. */
struct wcookie {
	int fd;
	int err;
};

static ssize_t wc_write(void *c, const char *buf, size_t n)
{
	struct wcookie *k = c;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(k->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!k->err)
				k->err = w < 0 ? errno : EIO;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int wc_close(void *c)
{
	struct wcookie *k = c;
	int rc = close(k->fd);
	free(k);
	return rc;
}

FILE *wstream_open(int fd, int **err)
{
	struct wcookie *k = malloc(sizeof(*k));
	if (!k)
		return NULL;
	k->fd = fd;
	k->err = 0;
	cookie_io_functions_t io = {.write = wc_write, .close = wc_close};
	FILE *f = fopencookie(k, "w", io);
	if (!f) {
		free(k);
		return NULL;
	}
	/* Large outputs (a converted trace) go out in large writes. */
	setvbuf(f, NULL, _IOFBF, 64 << 10);
	*err = &k->err;
	return f;
}

int wstream_close(FILE *f, const int *err)
{
	errno = 0;
	int bad = ferror(f), fl = fflush(f), e = errno;
	if (err && *err)
		e = *err;
	int cl = fclose(f);
	if (!bad && !fl && !cl)
		return 0;
	e = e ? e : errno;
	return e ? -e : -EIO;
}

/* ---- standard output ---------------------------------------------------------------- */

void stdout_write_error(int err)
{
	out_failed = true;
	if (!said_stdout)
		fprintf(stderr, "iommusim: standard output: write error%s%s\n", err ? ": " : "",
			err ? strerror(err) : "");
	said_stdout = true;
}

bool stdout_write_failed(FILE *f)
{
	errno = 0;
	int err = ferror(f);
	int fl = fflush(f);
	if (!err && !fl)
		return said_stdout;
	stdout_write_error(fl ? errno : 0);
	return true;
}

int outputs_end(int rc, FILE *claimed)
{
	/* --json -: standard output's descriptor is the JSON's stream
	 * (claimed), and stdout writes to standard error. */
	bool bad = stdout_write_failed(claimed ? claimed : stdout);
	if (claimed)
		fflush(stdout);
	bad |= out_failed;
	sigset_t old;
	block(&old);
	bool ok = settle(bad);
	unblock(&old);
	if ((bad || !ok) && rc < 2)
		rc = 2;
	return rc;
}

void outputs_child_end(void)
{
	sigset_t old;
	block(&old);
	settle(out_failed);
	unblock(&old);
}

/* ---- interruption ---------------------------------------------------------------------- */

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* Nothing else to try from a signal handler. */
	}
}

const char *interrupt_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

/* Removes what this process registered (files first, then directories);
 * async-signal-safe. Returns the files removed. */
static unsigned remove_mine(pid_t self)
{
	unsigned n = 0;
	for (int i = 0; i < npend; i++)
		if (pend[i].owner == self && (pend[i].state == P_OPEN || pend[i].state == P_READY) &&
		    !unlink(pend[i].tmp))
			n++;
	for (int i = 0; i < npend; i++)
		if (pend[i].owner == self && pend[i].state == P_DIR)
			rmdir(pend[i].tmp);
	return n;
}

static void on_signal(int sig)
{
	int saved = errno;
	pid_t self = getpid();
	if (polled && !caught && sig != SIGPIPE) {
		caught = sig;
		const char *m = poll_msg;
		if (self == main_pid && m)
			say(m + (!tty && m[0] == '\n'));
		errno = saved;
		return;
	}
	pid_t c = child_pid;
	if (c > 0 && child_owner == self) {
		kill(c, SIGKILL);
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
	}
	unsigned n = remove_mine(self);
	/* A reader that went away (`| head`) is no news: SIGPIPE ends the
	 * run silently, as it would have, its temporaries removed. */
	if (self == main_pid && sig != SIGPIPE) {
		char num[24];
		int k = sizeof(num) - 1;
		num[k] = 0;
		unsigned v = n;
		do {
			num[--k] = (char)('0' + v % 10);
			v /= 10;
		} while (v && k > 0);
		say(tty ? "\niommusim: interrupted by " : "iommusim: interrupted by ");
		say(interrupt_name(sig));
		if (n) {
			say("; removed ");
			say(num + k);
			say(n == 1 ? " temporary file" : " temporary files");
		}
		say("\n");
	}
	/* End by the signal itself, so that a shell sees 128 + its number. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	_exit(128 + sig);
}

void interrupt_init(void)
{
	main_pid = getpid();
	tty = isatty(STDERR_FILENO);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigs(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* nohup's ignored SIGHUP stays ignored, and an ignored SIGPIPE too
	 * (writes then fail with EPIPE: a write error, exit 2). */
	struct sigaction cur;
	if (!sigaction(SIGHUP, NULL, &cur) && cur.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	if (!sigaction(SIGPIPE, NULL, &cur) && cur.sa_handler != SIG_IGN)
		sigaction(SIGPIPE, &sa, NULL);
}

void interrupt_poll(bool on, const char *msg)
{
	poll_msg = msg;
	polled = on;
}

int interrupt_caught(void)
{
	return caught;
}
