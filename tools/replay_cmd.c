/* iommusim replay: run traces through model, software and oracle. This
 * file holds the command line; tools/replay.h says where the rest is. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "tools/budgets.h"
#include "tools/cmd.h"
#include "tools/isolate.h"
#include "tools/opts.h"
#include "tools/replay.h"
#include "tools/stats.h"

/* Option ids of this command, clear of the shared ones and of the other
 * commands'. */
enum {
	OPT_RP_ISOLATE = OPT_FIRST_FREE + 128,
	OPT_RP_NO_ISOLATE,
	OPT_RP_WALKER_TIMEOUT,
	OPT_RP_JSON_LINES,
	OPT_RP_MERGE,
	OPT_RP_STRICT_FAULTS,
	OPT_RP_STATS_MAX_ROWS,
};

/* More workers than this is a mistake, not a machine. */
#define MAX_JOBS 4096

void help_replay(FILE *f)
{
	fprintf(f,
		"usage: iommusim replay [OPTIONS] TRACE...\n"
		"       iommusim replay --merge-json-lines [--json FILE] [-q|-v] FILE...\n"
		"\n"
		"Replays each trace (text, gzip-compressed text or the binary form of\n"
		"docs/trace-binary.md, told apart by their first bytes; '-' = standard input) on a\n"
		"fresh model: software ops drive the page tables under test, dma lines drive\n"
		"the hardware model, and every harvest is compared bit for bit with the\n"
		"oracle's ground truth. Expect lines are checked.\n"
		"\n"
		"options:\n"
		"  --json FILE           write the summary as one JSON object ('-' = stdout):\n"
		"                        a record per trace, the counts and the totals\n"
		"  --json-lines FILE     write each trace's record, one JSON object a line, as\n"
		"                        the traces finish, in the order given ('-' = stdout)\n"
		"  -j, --jobs N          replay the traces in N worker processes (default 1);\n"
		"                        the summary, --json and --json-lines do not depend on N\n"
		"  --merge-json-lines    the FILEs are --json-lines outputs of earlier runs (a\n"
		"                        batch's parts): print the summary over all their\n"
		"                        traces, and --json FILE, as one run over all of them;\n"
		"                        exit status the worst of theirs\n"
		"  -q, --quiet           print only failures and errors\n"
		"  -v, --verbose         also print every harvest, and every fault with its\n"
		"                        reason (device, IOVA, kind, the level the walk\n"
		"                        stopped at, the format's code and what it means)\n"
		"  --strict-faults       a fault no `expect fault` consumed is a validation\n"
		"                        failure at the line that raised it (exit 1)\n"
		"  --stats-interval N|Nns|Nus|Nms|Ns  sample the counters every N events, or\n"
		"                        every span of trace time (@timestamps), into a time\n"
		"                        series\n"
		"  --stats-out FILE      write the series: CSV if FILE ends in .csv, else JSON\n"
		"  --stats-max-rows N    rows a series holds (default %zu); past them its\n"
		"                        interval doubles and its rows merge in pairs\n"
		"  --plot DIR            draw the series as SVG charts in DIR (needs gnuplot),\n"
		"                        with the traces' '# phase: NAME' markers\n",
		SERIES_MAX_ROWS);
	budget_help(f);
	model_opts_help(f);
	walker_help(f);
	fprintf(f,
		"  --isolate             replay in a child process: a walker that crashes (a\n"
		"                        signal, or a sanitizer's report) or hangs fails its trace\n"
		"                        (\"FILE:LINE: FAIL: walker NAME crashed (SIGSEGV) at this\n"
		"                        line\", exit 1) and the next trace goes on (default with\n"
		"                        --walker-plugin; docs/fuzzing.md)\n"
		"  --no-isolate          in this process (a crash of the walker ends the command)\n"
		"  --walker-timeout S    with isolation, an event that makes no progress for S\n"
		"                        seconds is a hang (default %g; 0 = no limit)\n",
		ISO_DEFAULT_TIMEOUT);
	fprintf(f,
		"\nA trace's header line '# replay-args: OPTIONS' (iommusim fuzz writes one into\n"
		"each reproducer) gives that trace's walker, isolation and model options. The\n"
		"command line wins: a walker given here replaces the header's (its options are\n"
		"then not read), as do --isolate/--no-isolate and --walker-timeout, and a model\n"
		"setting given here overrides the header's, key by key. A bad option on that line\n"
		"is an input error of the trace (FILE:LINE:COL). Headers are read from regular\n"
		"files only (plain or gzip), not from '-' or a pipe (docs/trace-format.md).\n"
		"\nexit status: 0 every harvest matched and every assertion held;\n"
		"1 a validation failed, or the walker crashed or hung; 2 bad input (message\n"
		"FILE:LINE:COL: what was expected). Over several traces, the worst of theirs.\n");
}

static void model_args_free(struct rp_model_arg *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].arg);
	free(v);
}

/* Outputs on standard output: at most one, and then the lines for people
 * go to standard error (standard output is the JSON alone). */
static int dash_outputs(const char *const *outs, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		if (outs[i] && !strcmp(outs[i], "-"))
			k++;
	return k;
}

/* Whether paths a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!strcmp(a, b))
		return true;
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* An output that is an input (it would be overwritten), or two outputs on
 * one path (one would replace the other): 2 after saying which, else 0.
 * names[i] is outs[i]'s option. */
static int outputs_clash(const char *const *outs, const char *const *names, size_t n,
			 char *const *ins, int nin)
{
	for (size_t i = 0; i < n; i++) {
		if (!outs[i] || !strcmp(outs[i], "-"))
			continue;
		for (int k = 0; k < nin; k++)
			if (strcmp(ins[k], "-") && same_file(outs[i], ins[k])) {
				fprintf(stderr, "iommusim replay: %s %s is also a trace to replay: it would "
					"be overwritten\n", names[i], outs[i]);
				return 2;
			}
		for (size_t j = i + 1; j < n; j++)
			if (outs[j] && strcmp(outs[j], "-") && same_file(outs[i], outs[j])) {
				fprintf(stderr, "iommusim replay: %s and %s both name %s: one would replace "
					"the other\n", names[i], names[j], outs[i]);
				return 2;
			}
	}
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", required_argument, 0, OPT_JSON},
		{"json-lines", required_argument, 0, OPT_RP_JSON_LINES},
		{"jobs", required_argument, 0, 'j'},
		{"merge-json-lines", no_argument, 0, OPT_RP_MERGE},
		{"strict-faults", no_argument, 0, OPT_RP_STRICT_FAULTS},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		WALKER_LONG_OPTS,
		{"isolate", no_argument, 0, OPT_RP_ISOLATE},
		{"no-isolate", no_argument, 0, OPT_RP_NO_ISOLATE},
		{"walker-timeout", required_argument, 0, OPT_RP_WALKER_TIMEOUT},
		{"stats-interval", required_argument, 0, OPT_STATS_INTERVAL},
		{"stats-out", required_argument, 0, OPT_STATS_OUT},
		{"stats-max-rows", required_argument, 0, OPT_RP_STATS_MAX_ROWS},
		{"plot", required_argument, 0, OPT_PLOT},
		{"help", no_argument, 0, 'h'},
		MODEL_LONG_OPTS,
		BUDGET_LONG_OPTS,
		{0, 0, 0, 0},
	};
	struct walker_choice wc = {0};
	struct rp_cmdline cl = {.wc = &wc, .isolate = -1, .timeout = ISO_DEFAULT_TIMEOUT};
	ims_replay_opts_default(&cl.o);
	cl.base = cl.o.model;
	const char *json = NULL, *jsonl = NULL;
	const char *stats_out = NULL, *plot_dir = NULL;
	uint64_t stats_every = 0, stats_rows = 0;
	bool stats_ns = false, merge = false;
	const char *not_merge = NULL; /* an option --merge-json-lines does not take */
	uint64_t jobs = 1;
	int ret = 2;
	int c;
	optind = 1;
	opterr = 0;
	int li = -1;
	while ((c = getopt_long(argc, argv, "+qvhj:", longopts, &li)) != -1) {
		if (c != 'q' && c != 'v' && c != 'h' && c != OPT_JSON && c != OPT_RP_MERGE && c != '?')
			not_merge = c == 'j' ? "-j" : longopts[li].name;
		li = -1;
		switch (c) {
		case 'q':
			cl.o.verbosity = 0;
			break;
		case 'v':
			cl.o.verbosity = 2;
			break;
		case 'h':
			help_replay(stdout);
			ret = 0;
			goto out;
		case 'j':
			if (opt_u64("replay", "-j", optarg, false, &jobs))
				goto out;
			if (jobs < 1 || jobs > MAX_JOBS) {
				fprintf(stderr, "iommusim replay: -j: %s worker processes (expected 1 to %d)\n",
					optarg, MAX_JOBS);
				goto out;
			}
			break;
		case OPT_JSON:
			json = optarg;
			break;
		case OPT_RP_JSON_LINES:
			jsonl = optarg;
			break;
		case OPT_RP_MERGE:
			merge = true;
			break;
		case OPT_RP_STRICT_FAULTS:
			cl.strict_faults = true;
			break;
		case OPT_RP_ISOLATE:
			cl.isolate = 1;
			break;
		case OPT_RP_NO_ISOLATE:
			cl.isolate = 0;
			break;
		case OPT_RP_WALKER_TIMEOUT:
			if (iso_parse_timeout("replay", optarg, &cl.timeout))
				goto out;
			cl.timeout_set = true;
			break;
		case OPT_STATS_INTERVAL:
			if (series_parse_interval("replay", optarg, &stats_every, &stats_ns))
				goto out;
			break;
		case OPT_STATS_OUT:
			stats_out = optarg;
			break;
		case OPT_RP_STATS_MAX_ROWS:
			if (opt_u64("replay", "--stats-max-rows", optarg, false, &stats_rows))
				goto out;
			if (stats_rows < 2 || stats_rows > SIZE_MAX / 2) {
				fprintf(stderr, "iommusim replay: --stats-max-rows: %s rows (expected at "
					"least 2)\n", optarg);
				goto out;
			}
			break;
		case OPT_PLOT:
			plot_dir = optarg;
			break;
		case '?':
			opt_unknown("replay", argv, "+qvhj:", longopts);
			goto out;
		default: {
			int bo = budget_opt("replay", c, optarg, &cl.o.budgets);
			if (bo < 0)
				goto out;
			if (bo)
				break;
			int w = walker_opt("replay", c, optarg, &wc);
			if (w < 0)
				goto out;
			if (w) {
				cl.walker_set = true;
				break;
			}
			int m = model_opt("replay", c, optarg, &cl.o.model);
			if (m < 0)
				goto out;
			if (m) {
				/* Kept to be applied again over a trace's header. */
				struct rp_model_arg *v = realloc(cl.model, (cl.nmodel + 1) * sizeof(*v));
				if (!v)
					goto out;
				cl.model = v;
				cl.model[cl.nmodel].opt = c;
				cl.model[cl.nmodel].arg = optarg ? strdup(optarg) : NULL;
				if (optarg && !cl.model[cl.nmodel].arg)
					goto out;
				cl.nmodel++;
			}
			break;
		}
		}
	}
	if (optind >= argc) {
		fprintf(stderr, merge ? "iommusim replay: --merge-json-lines: no file given\n"
				      : "iommusim replay: no trace given (see iommusim help replay)\n");
		goto out;
	}
	if (merge) {
		if (not_merge) {
			fprintf(stderr, "iommusim replay: --merge-json-lines takes --json, -q and -v only, "
				"not %s%s\n", not_merge[0] == '-' ? "" : "--", not_merge);
			goto out;
		}
		ret = rp_merge(json, cl.o.verbosity, argv + optind, argc - optind);
		goto out;
	}
	if (!stats_every != (!stats_out && !plot_dir)) {
		fprintf(stderr, stats_every ? "iommusim replay: --stats-interval needs --stats-out FILE or --plot DIR\n"
					    : "iommusim replay: --stats-out and --plot need --stats-interval\n");
		goto out;
	}
	if (stats_rows && !stats_every) {
		fprintf(stderr, "iommusim replay: --stats-max-rows needs --stats-interval\n");
		goto out;
	}
	const char *outs[] = {json, jsonl, stats_out};
	static const char *const out_names[] = {"--json", "--json-lines", "--stats-out"};
	if (outputs_clash(outs, out_names, 3, argv + optind, argc - optind))
		goto out;
	if (dash_outputs(outs, 3) > 1) {
		fprintf(stderr, "iommusim replay: only one of --json, --json-lines and --stats-out may be '-' "
			"(standard output)\n");
		goto out;
	}
	if (jobs > 1 && stats_every) {
		fprintf(stderr, "iommusim replay: --stats-interval samples one process's replay: not with -j N "
			"above 1\n");
		goto out;
	}
	if (jobs > 1 && cl.isolate == 0) {
		fprintf(stderr, "iommusim replay: --no-isolate replays in this process: not with -j N above 1 "
			"(each worker is a process of its own)\n");
		goto out;
	}
	struct rp_agg agg = {.text = stdout, .verbosity = cl.o.verbosity, .keep = json != NULL};
	if (dash_outputs(outs, 2)) {
		/* Standard output is the JSON alone: everything printed for
		 * people (the replayer's notes too) goes to standard error, the
		 * JSON to standard output's own descriptor. */
		if (!(agg.out = stdout_claim()))
			goto out;
	} else if (dash_outputs(outs, 3)) {
		agg.text = stderr; /* --stats-out - */
	}
	struct rp_run run = {.cl = &cl, .traces = argv + optind, .n = argc - optind,
			     .text = agg.text, .stats_out = stats_out, .plot_dir = plot_dir,
			     .agg = &agg};
	if (jsonl && rp_agg_lines(&agg, jsonl))
		goto done;
	if (stats_every) {
		run.series = series_new(stats_every, stats_ns, (size_t)stats_rows);
		if (!run.series)
			goto done;
	}
	/* Isolation: asked for, or a plug-in's, from the command line or from
	 * a trace's header (a reproducer of a plug-in names it there). */
	bool iso = cl.isolate == 1 || (cl.isolate < 0 && wc.plugin);
	for (int i = 0; !iso && jobs == 1 && i < run.n; i++)
		iso = rp_header_isolates(&cl, run.traces[i]);
	run.children = jobs > 1 || iso;
	run.jobs = (int)jobs < run.n ? (int)jobs : run.n;
	/* A long trace shows how far it is on a terminal; not under -v (whose
	 * lines stream anyway), nor from workers, which write their lines
	 * themselves. */
	run.progress = !run.children && cl.o.verbosity == 1 && progress_wanted(1);
	ret = rp_run(&run);
	int fin = rp_agg_finish(&agg, json, false);
	if (fin > ret)
		ret = fin;
done:;
	FILE *json_out = agg.out;
	rp_agg_free(&agg);
	if (json_out && fflush(json_out) && ret < 2)
		ret = 2;
	series_free(run.series);
out:
	model_args_free(cl.model, cl.nmodel);
	walker_fini(&wc);
	return ret;
}
