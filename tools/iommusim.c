/* The iommusim command: subcommand dispatch and help. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tools/cmd.h"

static const struct cmd cmds[] = {
	{"replay", "replay traces through model, software and oracle", cmd_replay, help_replay},
	{"fuzz", "differential fuzzing of the software walkers", cmd_fuzz, help_fuzz},
	{"trace", "import captured logs, convert text <-> binary, trace statistics", cmd_trace, help_trace},
	{"conform", "run the spec conformance suites and write reports", cmd_conform, help_conform},
	{"migrate", "estimate what each dirty-tracking interface costs a live migration", cmd_migrate, help_migrate},
	{"bench", "performance figures against floors and the per-page re-walk", cmd_bench, help_bench},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iommusim [--version] [--help] COMMAND [ARGS]\n"
		"\n"
		"A hardware IOMMU page-table simulator and dirty-tracking reference model\n"
		"(AMD IOMMU v1, Intel VT-d second stage, Arm SMMUv3 stage 1 and stage 2).\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "  %-10s %s\n", "help", "help CMD shows the options of one command;");
	fprintf(f, "  %-10s %s\n", "", "help config the model settings (keys, types, defaults);");
	fprintf(f, "  %-10s %s\n", "", "help trace-format the trace language; help walkers the");
	fprintf(f, "  %-10s %s\n", "", "built-in walkers; help --help every topic");
	fprintf(f,
		"\n"
		"common options (docs/cli.md): -q quiet, -v verbose, --json FILE one JSON\n"
		"document ('-': standard output, the JSON alone), -o/--out the main output;\n"
		"--seed N is the model's seed wherever the model runs (fuzz's own: --fuzz-seed).\n"
		"exit status: 0 success, 1 a validation failed, 2 bad input or usage (or an\n"
		"output that could not be written), 128+N stopped by signal N (130: ^C).\n");
}

/* Whether the command line asks for `--json -` (the JSON alone on
 * standard output). */
static bool json_to_stdout(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--json=-") ||
		    (!strcmp(argv[i], "--json") && i + 1 < argc && !strcmp(argv[i + 1], "-")))
			return true;
	}
	return false;
}

/* "unknown command 'repaly' (did you mean replay?)". */
static void unknown_command(const char *name)
{
	struct option names[NCMDS + 2];
	for (size_t i = 0; i < NCMDS; i++)
		names[i] = (struct option){cmds[i].name, no_argument, 0, 0};
	names[NCMDS] = (struct option){"help", no_argument, 0, 0};
	names[NCMDS + 1] = (struct option){0, 0, 0, 0};
	const char *near = opt_nearest(name, names);
	fprintf(stderr, "iommusim: unknown command '%s'%s%s%s (see iommusim --help)\n", name,
		near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
}

static const struct cmd *find(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *a = argv[1];
	if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
		printf("iommusim %s\n", IMS_VERSION_STRING);
		return 0;
	}
	if (!strcmp(a, "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[2], "config")) {
			model_keys_help(stdout);
			return 0;
		}
		if (help_topic(argv[2], stdout) == 0)
			return 0;
		const struct cmd *c = find(argv[2]);
		if (!c) {
			static const char *const more[] = {"config", "trace-format", "walkers",
							   "dirty-semantics"};
			struct option names[NCMDS + 5];
			size_t k = 0;
			for (size_t i = 0; i < NCMDS; i++)
				names[k++] = (struct option){cmds[i].name, no_argument, 0, 0};
			for (size_t i = 0; i < 4; i++)
				names[k++] = (struct option){more[i], no_argument, 0, 0};
			names[k] = (struct option){0, 0, 0, 0};
			const char *near = opt_nearest(argv[2], names);
			fprintf(stderr, "iommusim: unknown help topic '%s'%s%s%s\n", argv[2],
				near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
			help_topics_usage(stderr);
			return 2;
		}
		c->help(stdout);
		return 0;
	}
	const struct cmd *c = find(a);
	if (!c) {
		unknown_command(a);
		/* --json - asked for a document on standard output: it gets one. */
		for (int i = 2; i < argc; i++)
			if ((!strcmp(argv[i], "--json") && i + 1 < argc && !strcmp(argv[i + 1], "-")) ||
			    !strcmp(argv[i], "--json=-")) {
				json_head(stdout, a);
				fputs(",\"result\":\"bad input\",\"exit\":2,\"error\":", stdout);
				json_string(stdout, "unknown command");
				fputs("}\n", stdout);
				break;
			}
		return 2;
	}
	/* --json -: standard output carries the JSON alone, whatever the
	 * verdict. Everything printed for people goes to standard error from
	 * the start; a run that ends before writing its document (bad usage,
	 * an unreadable input) still writes one, with the error it said. */
	bool js = json_to_stdout(argc - 1, argv + 1);
	FILE *jf = NULL;
	if (js) {
		stderr_tap();
		jf = stdout_claim();
	}
	int rc = c->run(argc - 1, argv + 1);
	if (jf && rc && !json_doc_written()) {
		char name[64];
		const char *sub = argc > 2 ? argv[2] : "";
		bool trace_sub = !strcmp(c->name, "trace") &&
				 (!strcmp(sub, "import") || !strcmp(sub, "convert") || !strcmp(sub, "stat"));
		snprintf(name, sizeof(name), "%s%s%s", c->name, trace_sub ? " " : "", trace_sub ? sub : "");
		json_error_doc(jf, name, rc);
	}
	return rc;
}

int main(int argc, char **argv)
{
	/* Interrupted, a run removes its unfinished outputs (tools/outputs.c);
	 * at its end, standard output is checked and the outputs it completed
	 * are renamed into place, or none is when any of them failed. */
	interrupt_init();
	int rc = run(argc, argv);
	return outputs_end(rc, stdout_claimed());
}
