/* Shared pieces of the iommusim subcommands. */
#ifndef IMS_TOOLS_CMD_H
#define IMS_TOOLS_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/types.h>

#include "iommusim/model.h"
#include "iommusim/pt.h"

struct cmd {
	const char *name;
	const char *what;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *f);
};

int cmd_replay(int argc, char **argv);
void help_replay(FILE *f);
int cmd_fuzz(int argc, char **argv);
void help_fuzz(FILE *f);
int cmd_trace(int argc, char **argv);
void help_trace(FILE *f);
/* `trace stat` (tools/trace_stat.c); argv[0] is "stat". */
int trace_stat(int argc, char **argv);
int cmd_conform(int argc, char **argv);
void help_conform(FILE *f);
int cmd_migrate(int argc, char **argv);
void help_migrate(FILE *f);
int cmd_bench(int argc, char **argv);
void help_bench(FILE *f);

/* An output file written to a temporary name and renamed on commit, so a
 * failed run leaves nothing half-written. path "-" is standard output. */
struct outfile {
	FILE *f;
	char *path;
	char *tmp;
	int pend; /* its entry in the registry of temporaries, + 1 (0: none) */
	int *werr; /* wstream_open's error of f (NULL for standard output) */
};
int outfile_open(struct outfile *o, const char *path);
/* 0, or -1 with a message printed. The file is complete and checked; it
 * is renamed into place when the command ends (outputs_end), with every
 * other output of the run, and only if none of them failed. */
int outfile_commit(struct outfile *o);
/* mkdir -p DIR: 0, or -1 with errno set (nothing printed). */
int mkdirs(const char *dir);
void outfile_abort(struct outfile *o);

/* ---- pending outputs and interruption (tools/outputs.c) ----
 * Every temporary is registered while it exists: SIGINT, SIGTERM and SIGHUP
 * remove it. tmp is its name, final the name it is renamed to when the run
 * ends well (NULL: a scratch file, removed at the end). pend_add and
 * pend_mkdtemp return an id (or -1, errno set); pend_mkstemp creates and
 * registers at once (the fd, or -1). */
int pend_add(const char *tmp, const char *final, bool dir);
int pend_mkstemp(char *tmpl, const char *final, int *id);
int pend_mkdtemp(char *tmpl, int *id);
/* Complete and checked: renamed to its final name by outputs_end (at
 * once where interrupt_init was not called: a test harness); 0, or -1
 * with errno when that rename failed. */
int pend_ready(int id);
/* Forget the entry; remove: unlink (rmdir) it first. */
void pend_drop(int id, bool remove);
/* A child process writing into a pending directory (gnuplot): killed on
 * interruption before the files are removed. 0 when it has ended. */
void pend_child(pid_t pid);
/* A write stream on fd (which it owns) that keeps the errno of the first
 * write that failed in **err (0: none) until it is closed: stdio keeps
 * only a flag. wstream_close flushes and closes it: 0, or -errno (the
 * first failure's) when anything failed. */
FILE *wstream_open(int fd, int **err);
int wstream_close(FILE *f, const int *err);
/* An output could not be written (said): the run commits none. */
void outputs_failed(void);
/* Whether writing f (standard output, or the JSON stream that took its
 * place) failed: says so once ("iommusim: standard output: write error:
 * WHY") and marks the run's outputs failed. */
bool stdout_write_failed(FILE *f);
/* The same for a write(2) to standard output's descriptor that failed
 * with err (0: unknown). */
void stdout_write_error(int err);
/* The end of a command (main): standard output (or claimed, the stream
 * stdout_claim returned, NULL if none) checked, then every
 * complete output renamed into place, or, if any output failed, all of
 * them removed. Returns the exit status: rc, or 2 when an output failed
 * and rc was 0 or 1. */
int outputs_end(int rc, FILE *claimed);
/* The same for a forked child's own outputs, before it _exits. */
void outputs_child_end(void);
/* SIGINT, SIGTERM, SIGHUP and SIGPIPE remove this process's pending
 * temporaries, say so (not for SIGPIPE) and end the process by the
 * signal (status 128 + N). */
void interrupt_init(void);
/* on: the first signal only sets a flag (interrupt_caught) and says msg
 * (may be NULL) on standard error; the command stops at its next safe
 * point and ends with status 128 + N. A second signal ends it at once. */
void interrupt_poll(bool on, const char *msg);
int interrupt_caught(void); /* 0, or the signal received */
const char *interrupt_name(int sig); /* "SIGINT", "SIGTERM", "SIGHUP" */

/* s as a JSON string, quoted and escaped (NULL is ""). */
void json_string(FILE *f, const char *s);

/* Every JSON document of every subcommand opens the same way:
 *   {"tool":"iommusim","version":"X.Y.Z","command":COMMAND
 * and the caller writes its members (each with a leading ',') and the
 * closing brace. COMMAND is "replay", "fuzz", "trace stat", ... */
void json_head(FILE *f, const char *command);
/* json_head, then "result":"pass","exit":0: a document only success writes. */
void json_head_ok(FILE *f, const char *command);
/* Whether a document was begun with json_head in this process. */
bool json_doc_written(void);
/* A whole document for a run that ended before it could write its own
 * (bad usage, an unreadable input): the header, "result" ("bad input"
 * for exit status 2), "exit", "error" (the first line said on standard
 * error) and "messages" (the first lines said there; stderr_tap). */
void json_error_doc(FILE *f, const char *command, int exit_status);

/* Standard output as the JSON alone (`--json -`): the first call takes
 * standard output's descriptor for the returned stream and points
 * descriptor 1 at standard error, so that everything printed for people
 * goes there; later calls return the same stream. NULL on failure (said). */
FILE *stdout_claim(void);
/* The stream stdout_claim returned, or NULL when nothing claimed it. */
FILE *stdout_claimed(void);
/* Keep the first lines written to standard error (stderr itself is
 * replaced by a stream that writes through to descriptor 2), for
 * json_error_doc; stderr_lines gives up to max of them. */
void stderr_tap(void);
size_t stderr_lines(const char **lines, size_t max);

/* Progress for people on standard error: one line rewritten in place.
 * progress_wanted: by default (verbosity 1 and up), only when standard
 * error is a terminal, never with -q (verbosity 0) nor when standard
 * output is the JSON (--json -). progress_line writes "\r\e[K" and the
 * text (cut to the terminal's width); progress_clear erases a line shown,
 * so that what is printed next starts clean (call it before printing
 * anything on a terminal while a line may be shown). */
bool progress_wanted(int verbosity);
__attribute__((format(printf, 1, 2))) void progress_line(const char *fmt, ...);
void progress_clear(void);
/* Seconds on a monotonic clock. */
double mono_seconds(void);
/* How long work runs before it shows progress: 1 s, or IMS_PROGRESS_DELAY
 * (seconds) from the environment. */
double progress_delay(void);

/* Numbers for people (text output only; JSON keeps exact values): counts
 * with thousands separators ("1,234,567"), bytes in binary units ("824 B",
 * "4.00 KiB", "1.50 GiB"), durations ("0.012 s", "12.3 s", "1 min 49 s",
 * "2 h 05 min"). Each returns buf. */
const char *human_count(uint64_t v, char *buf, size_t n);
const char *human_bytes(uint64_t v, char *buf, size_t n);
const char *human_seconds(double s, char *buf, size_t n);

/* The long option nearest to the unknown word (an edit distance of at most
 * a third of its length, at least 2), or NULL. */
const char *opt_nearest(const char *word, const struct option *opts);
/* The message of getopt_long's '?' (or ':') for argv[optind - 1], with
 * shorts the short-option string given to getopt_long: "unknown option
 * '--jsno' (did you mean --json?)", an ambiguous abbreviation, a value
 * missing or given to a flag; on standard error as "iommusim CMD: ...
 * (see iommusim help CMD)". Returns 2, the exit status of bad usage. */
int opt_unknown(const char *cmd, char **argv, const char *shorts, const struct option *opts);

/* Parse a 64-bit number (decimal or 0x hex, optional K/M/G/T suffix when
 * `size`). Prints "iommusim CMD: --OPT: ..." and returns -1 on error. */
int opt_u64(const char *cmd, const char *opt, const char *s, bool size, uint64_t *out);

/* Model options shared by replay, fuzz and migrate. Returns 1 when `opt`
 * was one of them (consumed), 0 when not, -1 on a bad value. */
int model_opt(const char *cmd, int opt, const char *arg, struct ims_iommu_cfg *cfg);
/* The same, with the message ("--replica: ...", or a --config file's
 * "FILE:LINE:COL: ...") in msg instead of on standard error. */
int model_opt_msg(int opt, const char *arg, struct ims_iommu_cfg *cfg, char *msg, size_t len);
void model_opts_help(FILE *f);
/* The configuration key table: name, type, default, description. */
void model_keys_help(FILE *f);
/* help_topics.c: `iommusim help TOPIC` for the topics that are not
 * commands; -1 for an unknown one. */
int help_topic(const char *name, FILE *out);
void help_topics_usage(FILE *out);

/* The walker under test, as --walker NAME or --walker-plugin PATH chose it
 * (the plug-in stays loaded until walker_fini). */
struct walker_choice {
	unsigned builtin;                 /* ims_pt_walker_name index; 0 = fast */
	struct ims_walker_plugin *plugin; /* NULL: the built-in one */
};
/* Returns 1 when opt was --walker or --walker-plugin (consumed), 0 when
 * not, -1 with a message ("iommusim CMD: --walker-plugin: FILE: why") on a
 * bad name or plug-in. */
int walker_opt(const char *cmd, int opt, const char *arg, struct walker_choice *wc);
const struct ims_walker_ops *walker_plugin_ops(const struct walker_choice *wc);
/* The walker's name, for reports, JSON and reproducer headers. */
const char *walker_name(const struct walker_choice *wc);
/* The options that select it again ("" for the default), for a reproducer's
 * replay-args line and the command to rerun. */
void walker_args(const struct walker_choice *wc, char *buf, size_t len);
void walker_fini(struct walker_choice *wc);
/* The two options and the built-in walkers, one line each. */
void walker_help(FILE *f);

#endif
