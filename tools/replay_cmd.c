/* iommusim replay: run traces through model, software and oracle. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "tools/cmd.h"
#include "tools/opts.h"
#include "tools/stats.h"

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
		"\nexit status: 0 every harvest matched and every assertion held;\n"
		"1 a validation failed; 2 bad input (message FILE:LINE:COL: what was expected).\n");
}

struct result {
	const char *file;
	int status; /* 0, 1, 2 */
	struct ims_replay *r;
};

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", required_argument, 0, OPT_JSON},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		WALKER_LONG_OPTS,
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
	struct series *series = NULL;
	if (stats_every) {
		series = series_new(stats_every, stats_ns);
		if (!series)
			return 2;
		o.on_event = series_hook;
		o.on_event_arg = series;
	}
	int ntraces = argc - optind;
	struct result *res = calloc((size_t)ntraces, sizeof(*res));
	if (!res)
		return 2;
	int worst = 0;
	for (int i = 0; i < ntraces; i++) {
		const char *path = argv[optind + i];
		struct result *x = &res[i];
		x->file = path;
		char err[512];
		struct ims_reader *rd = NULL;
		if (ims_reader_open(path, &rd, err, sizeof(err))) {
			fprintf(stderr, "iommusim replay: %s\n", err);
			x->status = 2;
			worst = 2;
			continue;
		}
		if (ims_replay_new(&o, &x->r)) {
			ims_reader_close(rd);
			fprintf(stderr, "iommusim replay: out of memory\n");
			free(res);
			series_free(series);
			return 2;
		}
		if (series)
			series_begin(series, path);
		int rc = ims_replay_run(x->r, rd);
		ims_reader_close(rd);
		if (series && !rc)
			series_end(series, x->r);
		if (rc) {
			fprintf(stderr, "%s\n", ims_replay_error(x->r));
			x->status = 2;
			worst = 2;
			continue;
		}
		const struct ims_replay_stats *s = ims_replay_stats(x->r);
		x->status = s->validation_failures ? 1 : 0;
		if (x->status > worst)
			worst = x->status;
		if (o.verbosity >= 1 || x->status) {
			printf("iommusim replay: %s: %s (walker %s)\n", path, x->status ? "FAIL" : "ok",
			       walker_name(&wc));
			if (o.verbosity >= 1)
				ims_replay_print_summary(x->r, stdout);
		}
	}
	if (ntraces > 1 && o.verbosity >= 1) {
		int ok = 0, failed = 0, bad = 0;
		for (int i = 0; i < ntraces; i++)
			res[i].status == 0 ? ok++ : res[i].status == 1 ? failed++ : bad++;
		printf("iommusim replay: %d traces: %d ok, %d failed validation, %d bad input\n",
		       ntraces, ok, failed, bad);
	}
	int ret = worst;
	if (json && worst < 2) {
		struct outfile of;
		if (outfile_open(&of, json)) {
			ret = 2;
		} else {
			fprintf(of.f, "{\"tool\":\"iommusim replay\",\"version\":\"%s\",\"walker\":",
				IMS_VERSION_STRING);
			json_string(of.f, walker_name(&wc));
			fprintf(of.f, ",\"traces\":[");
			for (int i = 0; i < ntraces; i++) {
				fprintf(of.f, "%s{\"file\":\"", i ? "," : "");
				for (const char *p = res[i].file; *p; p++) {
					if (*p == '"' || *p == '\\')
						fputc('\\', of.f);
					if ((unsigned char)*p >= 0x20)
						fputc(*p, of.f);
				}
				fprintf(of.f, "\",\"status\":%d,\"result\":\"%s\",\"summary\":",
					res[i].status, res[i].status ? "fail" : "pass");
				ims_replay_write_json(res[i].r, of.f);
				fputc('}', of.f);
			}
			fprintf(of.f, "],\"exit\":%d}\n", worst);
			if (outfile_commit(&of))
				ret = 2;
		}
	}
	if (series && worst < 2) {
		if (stats_out && series_write(series, stats_out))
			ret = 2;
		if (plot_dir && series_plot(series, plot_dir))
			ret = 2;
	}
	series_free(series);
	for (int i = 0; i < ntraces; i++)
		ims_replay_free(res[i].r);
	free(res);
	walker_fini(&wc);
	return ret;
}
