/* Running a walker where its crash or hang cannot take the command down: a
 * forked child does the work, the parent watches it (docs/fuzzing.md, "When
 * the walker crashes or hangs"). Used by `fuzz` and `replay`.
 *
 * The child and the parent share one anonymous mapping. The child bumps
 * `beat` at every step (an event applied); the parent kills it when the
 * beat has not moved for the timeout. A child that finishes says so (done,
 * result) before it exits, so a child that exits any other way (a signal,
 * a sanitizer's report and its exit status, exit() from the walker) is
 * told apart from one that returned a status of its own.
 */
#ifndef IMS_TOOLS_ISOLATE_H
#define IMS_TOOLS_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* At the start of every shared block. */
struct iso_state {
	volatile uint64_t beat;
	volatile int done;
	volatile int result;
	/* The signal that asked this process to stop (interrupt_poll,
	 * tools/cmd.h), set by iso_run: work that looks at it stops at its
	 * next safe point.
	 * Shared memory rather than a signal: a child that also had the
	 * terminal's ^C would take a second signal as "stop at once". */
	volatile int stop;
};

/* A zeroed shared block of `size` bytes (at least sizeof(struct
 * iso_state)); NULL on failure. Mapped without reserving swap, so a large
 * block costs only the pages touched. */
void *iso_shared_new(size_t size);
void iso_shared_free(void *p, size_t size);

enum iso_how {
	ISO_EXITED,  /* the work returned: status is its result */
	ISO_CRASHED, /* sig > 0: killed by sig; else it exited with `status` unfinished */
	ISO_HUNG,    /* no beat for the timeout: killed */
};

struct iso_outcome {
	enum iso_how how;
	int status;
	int sig;
	double secs; /* wall time of the child */
};

/* Runs work(arg) in a child with st the shared block's state; the parent
 * kills the child when st->beat stays still for `timeout` seconds (0: no
 * limit). Returns 0 with *out filled, or a negative errno when the child
 * could not be started. Standard output and error are flushed first. */
int iso_run(int (*work)(void *arg), void *arg, struct iso_state *st, double timeout,
	    struct iso_outcome *out);

/* The same, a child at a time, for a parent that watches several (`replay
 * -j N`): iso_start forks the child; iso_check looks at it without waiting
 * and returns 1 when it has ended (reaped, *out filled), 0 while it runs,
 * killing it when its beat has stood still for `timeout` seconds (0: no
 * limit), or a negative errno. Between looks the parent polls `fd` (its end
 * is the child's) with iso_tick_ms(timeout) as the timeout. */
struct iso_child {
	pid_t pid;
	int fd; /* read end of a pipe whose write end only the child holds */
	struct iso_state *st;
	uint64_t beat; /* st->beat when last seen moving, at `moved` */
	double moved, t0;
};
int iso_start(struct iso_child *c, int (*work)(void *arg), void *arg, struct iso_state *st);
int iso_check(struct iso_child *c, double timeout, struct iso_outcome *out);
/* How often to look at a child with this limit, in ms; -1: only at its end. */
int iso_tick_ms(double timeout);

/* "crashed (SIGSEGV)", "crashed (exited with status 1 before finishing)",
 * "hung (no progress in S s; killed)" with S the timeout. */
void iso_describe(const struct iso_outcome *o, double timeout, char *buf, size_t len);

/* The failure line of a walker that crashed or hung, as `replay` prints it
 * and a fuzz reproducer's header quotes it: "FILE:LINE: FAIL: walker NAME
 * crashed (SIGSEGV) at this line"; with `after`, "after this line, freeing
 * its domains"; line 0: "before the first line". */
void iso_fail_msg(char *buf, size_t len, const char *file, uint64_t line, bool after,
		  const char *walker, const struct iso_outcome *o, double timeout);

/* Two outcomes are the same misbehaviour: both hung, or both crashed by the
 * same signal or with the same exit status. */
bool iso_same(const struct iso_outcome *a, const struct iso_outcome *b);

/* Parses --walker-timeout S (seconds, 0 = no limit); -1 with a message. */
int iso_parse_timeout(const char *cmd, const char *arg, double *out);
/* The same without the message: -1 when arg is not one. */
int iso_timeout_value(const char *arg, double *out);

#define ISO_DEFAULT_TIMEOUT 5.0

#endif
