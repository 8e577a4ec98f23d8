/* Shared pieces of the iommusim subcommands. */
#ifndef IMS_TOOLS_CMD_H
#define IMS_TOOLS_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
};
int outfile_open(struct outfile *o, const char *path);
int outfile_commit(struct outfile *o); /* 0, or -1 with a message printed */
/* mkdir -p DIR: 0, or -1 with errno set (nothing printed). */
int mkdirs(const char *dir);
void outfile_abort(struct outfile *o);

/* s as a JSON string, quoted and escaped (NULL is ""). */
void json_string(FILE *f, const char *s);

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
