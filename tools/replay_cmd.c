/* iommusim replay: run traces through model, software and oracle. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "tools/cmd.h"
#include "tools/isolate.h"
#include "tools/opts.h"
#include "tools/stats.h"

/* Option ids of this command, clear of the shared ones and of the other
 * commands'. */
enum {
	OPT_RP_ISOLATE = OPT_FIRST_FREE + 128,
	OPT_RP_NO_ISOLATE,
	OPT_RP_WALKER_TIMEOUT,
};

void help_replay(FILE *f)
{
	fprintf(f,
		"usage: iommusim replay [OPTIONS] TRACE...\n"
		"\n"
		"Replays each trace (text, gzip-compressed text or the binary form of\n"
		"docs/trace-binary.md, told apart by their first bytes; '-' = standard input) on a\n"
		"fresh model: software ops drive the page tables under test, dma lines drive\n"
		"the hardware model, and every harvest is compared bit for bit with the\n"
		"oracle's ground truth. Expect lines are checked.\n"
		"\n"
		"options:\n"
		"  --json FILE           write the summary as one JSON object ('-' = stdout)\n"
		"  -q, --quiet           print only failures and errors\n"
		"  -v, --verbose         also print every harvest\n"
		"  --stats-interval N|Nns  sample the counters every N events, or every N ns of\n"
		"                        trace time (@timestamps), into a time series\n"
		"  --stats-out FILE      write the series: CSV if FILE ends in .csv, else JSON\n"
		"  --plot DIR            draw the series as SVG charts in DIR (needs gnuplot)\n");
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
		"\nexit status: 0 every harvest matched and every assertion held;\n"
		"1 a validation failed, or the walker crashed or hung; 2 bad input (message\n"
		"FILE:LINE:COL: what was expected).\n");
}

struct result {
	const char *file;
	int status; /* 0, 1, 2 */
	char *json; /* its summary as one JSON object (with --json) */
};

/* Where an isolated replay is, shared with the parent that watches it. */
struct watch {
	struct iso_state st; /* beat: one per event */
	volatile int trace;
	volatile uint64_t line;
	volatile int freeing;
};

/* The replay of the traces, as the options set it up. */
struct run {
	struct ims_replay_opts o;
	struct walker_choice *wc;
	const char *json, *stats_out, *plot_dir;
	struct series *series;
	char **traces;
	int ntraces;
	struct result *res; /* isolated: in the shared block, for every child */
	struct watch *watch; /* isolated: the shared block; else NULL */
	int from;            /* the first trace this run replays */
	bool outputs;        /* write --json, --stats-out and --plot */
};

static void watch_hook(void *arg, struct ims_replay *r, const struct ims_event *ev)
{
	struct run *c = arg;
	c->watch->line = ev->line;
	c->watch->st.beat++;
	if (c->series)
		series_hook(c->series, r, ev);
}

static void print_counts(const struct run *c)
{
	if (c->ntraces < 2 || c->o.verbosity < 1)
		return;
	int ok = 0, failed = 0, bad = 0;
	for (int i = 0; i < c->ntraces; i++)
		c->res[i].status == 0 ? ok++ : c->res[i].status == 1 ? failed++ : bad++;
	printf("iommusim replay: %d traces: %d ok, %d failed validation, %d bad input\n",
	       c->ntraces, ok, failed, bad);
}

static int write_json(const struct run *c, int worst)
{
	struct outfile of;
	if (outfile_open(&of, c->json))
		return 2;
	fprintf(of.f, "{\"tool\":\"iommusim replay\",\"version\":\"%s\",\"walker\":",
		IMS_VERSION_STRING);
	json_string(of.f, walker_name(c->wc));
	fprintf(of.f, ",\"traces\":[");
	for (int i = 0; i < c->ntraces; i++) {
		fprintf(of.f, "%s{\"file\":\"", i ? "," : "");
		for (const char *p = c->res[i].file; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', of.f);
			if ((unsigned char)*p >= 0x20)
				fputc(*p, of.f);
		}
		fprintf(of.f, "\",\"status\":%d,\"result\":\"%s\",\"summary\":", c->res[i].status,
			c->res[i].status ? "fail" : "pass");
		fputs(c->res[i].json ? c->res[i].json : "null", of.f);
		fputc('}', of.f);
	}
	fprintf(of.f, "],\"exit\":%d}\n", worst);
	return outfile_commit(&of) ? 2 : worst;
}

/* Traces from c->from on, then the outputs. The exit status. */
static int run_traces(struct run *c)
{
	struct ims_replay_opts o = c->o;
	if (c->watch) {
		o.on_event = watch_hook;
		o.on_event_arg = c;
	}
	int worst = 0;
	for (int i = c->from; i < c->ntraces; i++) {
		const char *path = c->traces[i];
		struct result *x = &c->res[i];
		x->file = path;
		if (c->watch) {
			c->watch->trace = i;
			c->watch->line = 0;
			c->watch->freeing = 0;
			c->watch->st.beat++;
		}
		char err[512];
		struct ims_reader *rd = NULL;
		if (ims_reader_open(path, &rd, err, sizeof(err))) {
			fprintf(stderr, "iommusim replay: %s\n", err);
			x->status = 2;
			worst = 2;
			continue;
		}
		struct ims_replay *r = NULL;
		if (ims_replay_new(&o, &r)) {
			ims_reader_close(rd);
			fprintf(stderr, "iommusim replay: out of memory\n");
			return 2;
		}
		if (c->series)
			series_begin(c->series, path);
		int rc = ims_replay_run(r, rd);
		ims_reader_close(rd);
		if (c->series && !rc)
			series_end(c->series, r);
		if (rc) {
			fprintf(stderr, "%s\n", ims_replay_error(r));
			x->status = 2;
			worst = 2;
		} else {
			const struct ims_replay_stats *s = ims_replay_stats(r);
			x->status = s->validation_failures ? 1 : 0;
			if (x->status > worst)
				worst = x->status;
			if (o.verbosity >= 1 || x->status) {
				printf("iommusim replay: %s: %s (walker %s)\n", path,
				       x->status ? "FAIL" : "ok", walker_name(c->wc));
				if (o.verbosity >= 1)
					ims_replay_print_summary(r, stdout);
			}
			size_t len;
			FILE *js = c->json && c->outputs ? open_memstream(&x->json, &len) : NULL;
			if (js) {
				ims_replay_write_json(r, js);
				fclose(js);
			}
		}
		if (c->watch)
			c->watch->freeing = 1;
		ims_replay_free(r);
		/* What is printed stays printed should the walker crash next. */
		fflush(stdout);
	}
	print_counts(c);
	int ret = worst;
	if (c->outputs && c->json && worst < 2)
		ret = write_json(c, worst);
	if (c->outputs && c->series && worst < 2) {
		if (c->stats_out && series_write(c->series, c->stats_out))
			ret = 2;
		if (c->plot_dir && series_plot(c->series, c->plot_dir))
			ret = 2;
	}
	for (int i = c->from; i < c->ntraces; i++) {
		free(c->res[i].json);
		c->res[i].json = NULL;
	}
	return ret;
}

static int traces_child(void *arg)
{
	return run_traces(arg);
}

/* Each run in a child; a crash or hang fails the trace it happened in, and
 * a new child goes on with the next trace (without the outputs, which
 * would miss the traces before). */
static int run_isolated(struct run *c, double timeout)
{
	int ret = 0;
	bool lost = false;
	for (int from = 0; from < c->ntraces;) {
		c->from = from;
		c->outputs = !lost;
		struct iso_outcome r;
		int rc = iso_run(traces_child, c, &c->watch->st, timeout, &r);
		if (rc) {
			fprintf(stderr, "iommusim replay: cannot start the replay process: %s\n",
				strerror(-rc));
			return 2;
		}
		if (r.how == ISO_EXITED) {
			if (r.status > ret)
				ret = r.status;
			break;
		}
		int i = c->watch->trace;
		char msg[1024];
		iso_fail_msg(msg, sizeof(msg), c->traces[i], c->watch->line, c->watch->freeing,
			     walker_name(c->wc), &r, timeout);
		fprintf(stderr, "%s\n", msg);
		printf("iommusim replay: %s: FAIL (walker %s)\n", c->traces[i], walker_name(c->wc));
		c->res[i].file = c->traces[i];
		c->res[i].status = 1;
		if (ret < 1)
			ret = 1;
		lost = true;
		from = i + 1;
		if (from == c->ntraces)
			print_counts(c);
	}
	if (lost && (c->json || c->series))
		fprintf(stderr, "iommusim replay: %s not written: the walker crashed or hung\n",
			c->json ? "--json" : c->stats_out ? "--stats-out" : "--plot");
	return ret;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", required_argument, 0, OPT_JSON},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		WALKER_LONG_OPTS,
		{"isolate", no_argument, 0, OPT_RP_ISOLATE},
		{"no-isolate", no_argument, 0, OPT_RP_NO_ISOLATE},
		{"walker-timeout", required_argument, 0, OPT_RP_WALKER_TIMEOUT},
		{"stats-interval", required_argument, 0, OPT_STATS_INTERVAL},
		{"stats-out", required_argument, 0, OPT_STATS_OUT},
		{"plot", required_argument, 0, OPT_PLOT},
		{"help", no_argument, 0, 'h'},
		MODEL_LONG_OPTS,
		{0, 0, 0, 0},
	};
	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	struct walker_choice wc = {0};
	const char *json = NULL;
	const char *stats_out = NULL, *plot_dir = NULL;
	uint64_t stats_every = 0;
	bool stats_ns = false;
	int isolate = -1; /* -1: with a plug-in */
	double timeout = ISO_DEFAULT_TIMEOUT;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.verbosity = 0;
			break;
		case 'v':
			o.verbosity = 2;
			break;
		case 'h':
			help_replay(stdout);
			return 0;
		case OPT_JSON:
			json = optarg;
			break;
		case OPT_RP_ISOLATE:
			isolate = 1;
			break;
		case OPT_RP_NO_ISOLATE:
			isolate = 0;
			break;
		case OPT_RP_WALKER_TIMEOUT:
			if (iso_parse_timeout("replay", optarg, &timeout)) {
				walker_fini(&wc);
				return 2;
			}
			break;
		case OPT_STATS_INTERVAL:
			if (series_parse_interval("replay", optarg, &stats_every, &stats_ns))
				return 2;
			break;
		case OPT_STATS_OUT:
			stats_out = optarg;
			break;
		case OPT_PLOT:
			plot_dir = optarg;
			break;
		case '?':
			fprintf(stderr, "iommusim replay: unknown or incomplete option '%s' (see iommusim help replay)\n",
				argv[optind - 1]);
			return 2;
		default: {
			int w = walker_opt("replay", c, optarg, &wc);
			if (w < 0) {
				walker_fini(&wc);
				return 2;
			}
			if (w)
				break;
			int m = model_opt("replay", c, optarg, &o.model);
			if (m < 0) {
				walker_fini(&wc);
				return 2;
			}
			break;
		}
		}
	}
	o.walker = wc.builtin;
	o.plugin = walker_plugin_ops(&wc);
	if (optind >= argc) {
		fprintf(stderr, "iommusim replay: no trace given (see iommusim help replay)\n");
		return 2;
	}
	if (!stats_every != (!stats_out && !plot_dir)) {
		fprintf(stderr, stats_every ? "iommusim replay: --stats-interval needs --stats-out FILE or --plot DIR\n"
					    : "iommusim replay: --stats-out and --plot need --stats-interval\n");
		return 2;
	}
	struct run run = {.wc = &wc, .json = json, .stats_out = stats_out, .plot_dir = plot_dir,
			  .traces = argv + optind, .ntraces = argc - optind, .outputs = true};
	if (stats_every) {
		run.series = series_new(stats_every, stats_ns);
		if (!run.series)
			return 2;
		o.on_event = series_hook;
		o.on_event_arg = run.series;
	}
	run.o = o;
	size_t ressize = (size_t)run.ntraces * sizeof(struct result);
	bool iso = isolate == 1 || (isolate < 0 && wc.plugin);
	int ret;
	if (iso) {
		/* The results and the watch in one block the children share. */
		size_t size = sizeof(struct watch) + ressize;
		run.watch = iso_shared_new(size);
		if (!run.watch) {
			fprintf(stderr, "iommusim replay: %s\n", strerror(errno));
			ret = 2;
		} else {
			run.res = (struct result *)(run.watch + 1);
			ret = run_isolated(&run, timeout);
			iso_shared_free(run.watch, size);
		}
	} else {
		run.res = calloc((size_t)run.ntraces, sizeof(*run.res));
		ret = run.res ? run_traces(&run) : 2;
		free(run.res);
	}
	series_free(run.series);
	walker_fini(&wc);
	return ret;
}
