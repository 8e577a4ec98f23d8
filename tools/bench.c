/* iommusim bench: performance figures against floors measured in the same
 * run (docs/benchmarks.md). Not part of the test suite; its test only runs
 * the tiny size and checks the JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommusim/pt.h"
#include "tools/bench.h"
#include "tools/chart.h"
#include "tools/cmd.h"
#include "tools/opts.h"

enum {
	OPT_QUICK = OPT_FIRST_FREE,
	OPT_TINY,
	OPT_REPEAT,
	OPT_ONLY,
	OPT_TMPDIR,
	OPT_MATCH,
	OPT_NO_PEER,
	OPT_DIRTY,
	OPT_PEERS,
	OPT_PEER_DIR,
};

void help_bench(FILE *f)
{
	fprintf(f,
		"usage: iommusim bench [--quick | --tiny] [--repeat N] [--json FILE] [--plot DIR]\n"
		"                      [--only SECTIONS] [--match TEXT] [--no-rewalk]\n"
		"                      [--dirty PCT] [--tmpdir DIR] [-q | -v]\n"
		"                      [--walker NAME]... [--walker-plugin PATH]... [--peers]\n"
		"                      [--peer-dir DIR]\n"
		"\n"
		"Measures, each figure next to a floor timed in the same run:\n"
		"  harvest  read_and_clear_dirty over dense 4 KiB domains (1, 16, 64 GiB; every\n"
		"           format, SMMU at 4K/16K/64K granules) with 0.1/10/100 %% of pages dirty,\n"
		"           2 MiB and 1 GiB leaves over 1 TiB, 1 GiB scattered over 1 and 64 TiB;\n"
		"           time over the floor (reading every entry of every table in the range,\n"
		"           present or not, upper levels included, where the tables are, and\n"
		"           writing the bitmap words of the dirty pages), and the speedup over\n"
		"           the per-page re-walk from the root (classic bug 6)\n"
		"  replay   DMA pages/s, IOTLB-hit-heavy and walk-heavy (random 4 KiB pages);\n"
		"           walk-heavy also over the walk floor (x walk: the caches' probes and\n"
		"           fills, table reads, A/D update and oracle bit a walk must do, alone)\n"
		"  read     trace reading: text lines/s, text.gz and binary events/s, against\n"
		"           reading / inflating the same file without parsing it\n"
		"  memory   resident bytes per GiB mapped at 4 KiB against 2 MiB of raw tables\n"
		"\n"
		"options:\n"
		"  --quick               the smallest sizes only, one run each (under a minute)\n"
		"  --tiny                toy sizes (seconds), for the test suite\n"
		"  --repeat N            timed runs per figure (default 3; --quick 1; replay\n"
		"                        figures three times as many; harvests under 2 ms\n"
		"                        ten times as many, at most 64, by the wall clock);\n"
		"                        the best and the median are both reported\n"
		"  --json FILE           write every figure as one JSON object\n"
		"  --plot DIR            SVG charts in DIR (needs gnuplot; skipped without it):\n"
		"                        each harvest's time over its floor, and its speedup\n"
		"  --only LIST           comma-separated sections: harvest,replay,read,memory,\n"
		"                        fuzz\n"
		"  --tmpdir DIR          where the trace files of `read` go (default $TMPDIR\n"
		"                        or /tmp)\n"
		"  --match TEXT          only the harvest figures whose \"format layout\" and the\n"
		"                        replay figures whose \"format trace\" hold TEXT\n"
		"                        (\"vtd dense\", \"sparse\", \"amdv1 walk-heavy\")\n"
		"  --no-rewalk           skip the per-page re-walk peer (faster, no speedups)\n"
		"  --dirty PCT           one dirty percentage for every harvest layout\n"
		"  -v, --verbose         progress on standard error\n"
		"  -q, --quiet           no progress, only the table (and errors)\n"
		"\n"
		"With --walker or --walker-plugin (each may be given again, for more walkers)\n"
		"and with --peers, every harvest figure also times those walkers, a row each\n"
		"under the fast walker's: a harvest-level one on the same table, re-dirtied as\n"
		"for the fast walker, against the same floor; a full-level one (it owns its\n"
		"tables) on a second domain of its own tables, mapped with the same calls and\n"
		"dirtied by the same device writes, against the floor measured over its\n"
		"tables. Columns: its time, x floor and x fast (its time over the fast\n"
		"walker's). Its bitmap must equal the fast walker's and the oracle's after\n"
		"every run; formats it does not handle have no row.\n"
		"  --peers               the reference walker and every Linux walker the build\n"
		"                        made (docs/linux.md): the files linux-*.so of the\n"
		"                        directory `linux` beside this executable (BUILD/linux),\n"
		"                        or of --peer-dir; NAME-fixed.so stands for NAME.so,\n"
		"                        -whole-range and -bugN builds are left out, and each\n"
		"                        is timed on the formats it handles\n"
		"  --peer-dir DIR        where --peers looks for the Linux walkers (it must\n"
		"                        exist; the default may not, and then the reference\n"
		"                        walker is the only peer)\n");
	walker_help(f);
	fprintf(f,
		"\n"
		"exit status: 0 done, 1 a figure could not be measured (a harvest disagreed\n"
		"with the oracle, a set-up failed, the walker under test erred or reported\n"
		"other pages, a full-level walker failed to create its domain or to map: the\n"
		"other figures are still measured and shown, the failed one as FAIL),\n"
		"2 usage or an output that could not be written (--plot: gnuplot failed);\n"
		"130 (143) ^C (SIGTERM) stopped it after the figure being measured: the\n"
		"figures so far, marked partial.\n");
}

/* ---- output: table ------------------------------------------------------------- */

static double rate(uint64_t work, double s) { return s > 0 ? (double)work / s : 0; }
static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

/* "12.3M" */
static const char *si(double v, char *buf, size_t n)
{
	const char *u = "";
	if (v >= 1e9) {
		v /= 1e9;
		u = "G";
	} else if (v >= 1e6) {
		v /= 1e6;
		u = "M";
	} else if (v >= 1e3) {
		v /= 1e3;
		u = "k";
	}
	snprintf(buf, n, "%.*f%s", v >= 100 ? 0 : v >= 10 ? 1 : 2, v, u);
	return buf;
}

/* A count: whole below 10000, else as si() does. */
static const char *count_str(uint64_t v, char *buf, size_t n)
{
	if (v < 10000) {
		snprintf(buf, n, "%" PRIu64, v);
		return buf;
	}
	return si((double)v, buf, n);
}

/* The floor walker wi of o->walkers is held to: the row's for a
 * harvest-level walker (same table), the one measured over its own tables
 * for a full-level one. */
static const struct timing *walker_floor(const struct bench_opts *o, const struct harvest_row *h,
					 unsigned wi)
{
	return o->walkers[wi]->level == IMS_WALKER_FULL ? &h->w[wi].floor : &h->floor;
}

/* "best (median)" of a over b. */
static const char *ratio_pair(const struct timing *a, const struct timing *b, char *buf, size_t n)
{
	snprintf(buf, n, "%.2f (%.2f)", ratio(a->best, b->best), ratio(a->median, b->median));
	return buf;
}

/* Column widths of the harvest table: the walker column fits every name. */
#define H_LEAD "%-10s %-6s %5s %4s %6s %7s %8s %6s %8s"
static int walker_width(const struct bench_opts *o)
{
	int w = 6;
	for (unsigned i = 0; i < o->nwalkers; i++)
		if ((int)strlen(o->walkers[i]->name) > w)
			w = (int)strlen(o->walkers[i]->name);
	return w;
}

/* A row per walker of o->walkers that handles the row's format, under the
 * fast walker's: its time, x floor, x fast; a full-level walker's own
 * floor counts where the row has the fast walker's. */
static void print_walker_rows(FILE *f, const struct bench_opts *o, const struct harvest_row *h,
			      int ww)
{
	char a[32], b[32], c[32], ms[16], fl[32], fa[32];
	for (unsigned wi = 0; wi < o->nwalkers; wi++) {
		const struct walker_fig *w = &h->w[wi];
		if (!w->failed && !w->t.runs)
			continue;
		bool full = o->walkers[wi]->level == IMS_WALKER_FULL;
		if (full && w->read_words)
			fprintf(f, H_LEAD, "", "", "", "", "", "", count_str(w->read_words, a, sizeof(a)),
				count_str(w->tables, b, sizeof(b)),
				count_str(w->write_words, c, sizeof(c)));
		else
			fprintf(f, H_LEAD, "", "", "", "", "", "", "", "", "");
		if (w->failed) {
			fprintf(f, " %-*s %8s\n", ww, o->walkers[wi]->name, "FAIL");
			continue;
		}
		snprintf(ms, sizeof(ms), "%.2f", w->t.best * 1e3);
		ratio_pair(&w->t, walker_floor(o, h, wi), fl, sizeof(fl));
		ratio_pair(&w->t, &h->t, fa, sizeof(fa));
		fprintf(f, " %-*s %8s %14s %14s\n", ww, o->walkers[wi]->name, ms, fl, fa);
	}
}

static void print_harvest(FILE *f, const struct bench_opts *o, const struct bench_results *r)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];
	int ww = walker_width(o);
	fprintf(f, "\nharvest: read_and_clear_dirty. x floor: time over the floor measured in the "
		   "same runs: reading\nevery entry of every table in the range (rd words, in "
		   "`tables` tables, present or not, upper\nlevels included) where the tables are, "
		   "and writing the bitmap words that cover the dirty pages\n(wr words), in walk "
		   "order. entries: leaf entries the fast walker examined. speedup: per-page\n"
		   "re-walk time over the fast walker's.\n");
	fprintf(f, "Each figure's first harvest is a warm-up, checked and not timed; a figure whose "
		   "warm-up took\nunder %g ms (marked *) is timed by the wall clock over %u runs, "
		   "its floor and other walkers\ntoo; the rest by CPU time over %u.\n",
		BENCH_SHORT_S * 1e3, bench_figclock(o, 0).runs, o->repeat);
	if (o->nwalkers)
		fprintf(f, "Under each fast row, a row per other walker that handles the format. x fast: "
			   "its time over\nthe fast walker's. A harvest-level walker runs on the same "
			   "table: x floor over the same\nfloor. A full-level walker owns its tables: it "
			   "runs on a second domain (same layout, same\ndevice writes), x floor over the "
			   "floor measured on its tables, whose counts its row shows.\n");
	for (unsigned wi = 0; wi < o->nwalkers; wi++) {
		const struct ims_walker_ops *w = o->walkers[wi];
		fprintf(f, "walker %s: %s level", w->name,
			w->level == IMS_WALKER_FULL ? "full" : "harvest");
		if (o->walker_paths[wi])
			fprintf(f, ", %s", o->walker_paths[wi]);
		fputc('\n', f);
	}
	fprintf(f, H_LEAD " %-*s %8s %14s %14s %9s %14s\n", "format", "layout", "range", "page",
		"dirty%", "entries", "rd words", "tables", "wr words", ww, "walker", "ms", "x floor",
		"x fast", "rewalk ms", "speedup");
	for (size_t i = 0; i < r->nh; i++) {
		const struct harvest_row *h = &r->h[i];
		char ms[16], pms[24], sp[32], fl[32], pct[16];
		snprintf(ms, sizeof(ms), "%.2f%s", h->t.best * 1e3, h->wall ? "*" : "");
		snprintf(pct, sizeof(pct), "%.1f", h->dirty_pct);
		ratio_pair(&h->t, &h->floor, fl, sizeof(fl));
		if (h->peer.runs) {
			snprintf(pms, sizeof(pms), "%.1f", h->peer.best * 1e3);
			snprintf(sp, sizeof(sp), "%.1fx (%.1fx)", ratio(h->peer.best, h->t.best),
				 ratio(h->peer.median, h->t.median));
		} else {
			snprintf(pms, sizeof(pms), "-");
			snprintf(sp, sizeof(sp), "-");
		}
		fprintf(f, H_LEAD " %-*s %8s %14s %14s %9s %14s\n", h->format, h->layout,
			bench_size_str(h->range, a, sizeof(a)), bench_size_str(h->page, b, sizeof(b)),
			pct, count_str(h->entries, c, sizeof(c)),
			count_str(h->read_words, d, sizeof(d)), count_str(h->tables, e, sizeof(e)),
			count_str(h->write_words, g, sizeof(g)), ww, "fast", ms, fl, "-", pms, sp);
		print_walker_rows(f, o, h, ww);
	}
}

static void print_table(FILE *f, const struct bench_opts *o, const struct bench_results *r)
{
	char a[32], b[32], c[32], d[32];
	fprintf(f, "iommusim bench (%s, best of %u; ratios best/best, median/median in brackets)\n",
		o->size == BENCH_FULL ? "full" : o->size == BENCH_QUICK ? "quick" : "tiny", o->repeat);
	if (r->nh)
		print_harvest(f, o, r);
	if (r->nrp) {
		fprintf(f, "\nreplay: DMA pages/s (4 KiB DMAs)\n");
		fprintf(f, "%-11s %-7s %-6s %6s %9s %10s %10s %9s %12s %12s %12s %6s\n", "trace",
			"path", "format", "span", "pages", "pages/s", "median/s", "target", "x floor",
			"x walk", "x model", "host ");
		bool slow = false;
		for (size_t i = 0; i < r->nrp; i++) {
			const struct replay_row *p = &r->rp[i];
			char e[16], t[24], fl[32], xw[32], xm[32], hs[16];
			if (p->target > 0)
				snprintf(t, sizeof(t), "%s", si(p->target, e, sizeof(e)));
			else
				snprintf(t, sizeof(t), "-");
			snprintf(fl, sizeof(fl), "%.1f (%.1f)", ratio(p->t.best, p->floor.best),
				 ratio(p->t.median, p->floor.median));
			if (p->walk_floor.runs)
				snprintf(xw, sizeof(xw), "%.1f (%.1f)", ratio(p->t.best, p->walk_floor.best),
					 ratio(p->t.median, p->walk_floor.median));
			else
				snprintf(xw, sizeof(xw), "-");
			if (p->x_model > 0)
				snprintf(xm, sizeof(xm), "%.2f (%.2f)", p->x_model, p->x_model_median);
			else
				snprintf(xm, sizeof(xm), "-");
			bool low = p->host_speed > 0 && p->host_speed < BENCH_HOST_SLOW;
			slow |= low;
			if (p->host_speed > 0)
				snprintf(hs, sizeof(hs), "%.2f%c", p->host_speed, low ? '*' : ' ');
			else
				snprintf(hs, sizeof(hs), "- ");
			fprintf(f, "%-11s %-7s %-6s %6s %9s %10s %10s %9s %12s %12s %12s %6s\n", p->name,
				p->path, p->format, bench_size_str(p->span, a, sizeof(a)),
				si((double)p->pages, b, sizeof(b)), si(rate(p->pages, p->t.best), c, sizeof(c)),
				si(rate(p->pages, p->t.median), d, sizeof(d)), t, fl, xw, xm, hs);
		}
		fprintf(f,
			"x walk: time over the walk floor, the work a walk must do (IOTLB and walk-cache "
			"probes and fills,\n  the table reads, the A/D update, the oracle's bit) in a "
			"loop that does nothing else\n");
		fprintf(f,
			"host: the speed of a fixed loop of L1 loads and ALU operations beside the "
			"figure's fastest run (before and after it), over its fastest in this section\n");
		if (slow)
			fprintf(f,
				"  * below %.2f: the core was slower or shared (another hardware thread busy) "
				"when the figure's best run ran: its rate is the host's, not the program's\n",
				BENCH_HOST_SLOW);
	}
	if (r->nrp && r->mem_latency_ns > 0)
		fprintf(f,
			"host memory now: %.0f ns per dependent load over %s (a walk-heavy page's leaf "
			"miss when nothing overlaps it)\n",
			r->mem_latency_ns, bench_size_str(r->mem_latency_bytes, a, sizeof(a)));
	if (r->nrp && r->mem_mlp_ns > 0)
		fprintf(f,
			"  with %u chases in flight: %.1f ns per load, %s loads/s (the rate memory "
			"allows when the misses overlap)\n",
			r->mem_mlp_chains, r->mem_mlp_ns, si(1e9 / r->mem_mlp_ns, b, sizeof(b)));
	if (r->nrd) {
		fprintf(f, "\nread: trace events/s (one event per text line)\n");
		fprintf(f, "%-8s %9s %9s %10s %10s %13s  %s\n", "form", "events", "bytes", "events/s",
			"MB/s", "x floor", "floor");
		for (size_t i = 0; i < r->nrd; i++) {
			const struct read_row *x = &r->rd[i];
			if (!x->available) {
				fprintf(f, "%-8s %s\n", x->form, x->why);
				continue;
			}
			char fl[32];
			snprintf(fl, sizeof(fl), "%.2f (%.2f)", ratio(x->t.best, x->floor.best),
				 ratio(x->t.median, x->floor.median));
			fprintf(f, "%-8s %9s %9s %10s %10.1f %13s  %s\n", x->form,
				si((double)x->events, a, sizeof(a)), si((double)x->bytes, b, sizeof(b)),
				si(rate(x->events, x->t.best), c, sizeof(c)),
				rate(x->bytes, x->t.best) / 1e6, fl, x->floor_what);
		}
	}
	if (r->nfz) {
		fprintf(f, "\nfuzz: `iommusim fuzz --walker reference`, ops/s of CPU time (one trace event "
			   "with its checks);\nx goal: over %.0fk ops/s on one core; all cores: every "
			   "core's workers, wall-clock; x one:\nover one worker's wall-clock rate\n",
			r->fz[0].target / 1000);
		fprintf(f, "%-8s %9s %10s %10s %13s %6s %10s %13s\n", "format", "ops", "ops/s",
			"median", "x goal", "cores", "all ops/s", "x one");
		for (size_t i = 0; i < r->nfz; i++) {
			const struct fuzz_row *x = &r->fz[i];
			char g[32], s[32] = "-", al[32] = "-";
			snprintf(g, sizeof(g), "%.2f (%.2f)", rate(x->ops, x->t.best) / x->target,
				 rate(x->ops, x->t.median) / x->target);
			if (x->jobs) {
				si(rate(x->ops_all, x->t_all.best), al, sizeof(al));
				snprintf(s, sizeof(s), "%.2f (%.2f)",
					 rate(x->ops_all, x->t_all.best) / rate(x->ops, x->t_wall.best),
					 rate(x->ops_all, x->t_all.median) /
						 rate(x->ops, x->t_wall.median));
			}
			fprintf(f, "%-8s %9s %10s %10s %13s %6u %10s %13s\n", x->format,
				si((double)x->ops, a, sizeof(a)), si(rate(x->ops, x->t.best), b, sizeof(b)),
				si(rate(x->ops, x->t.median), c, sizeof(c)), g, x->jobs ? x->jobs : 1, al,
				s);
		}
	}
	if (r->nm) {
		fprintf(f, "\nmemory: mapped at 4 KiB (raw tables: 2 MiB of leaf entries per GiB)\n");
		fprintf(f, "%-11s %7s %12s %12s %12s %8s\n", "format", "mapped", "table bytes",
			"footprint", "resident", "x raw");
		for (size_t i = 0; i < r->nm; i++) {
			const struct mem_row *m = &r->m[i];
			fprintf(f, "%-11s %7s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8.3f\n",
				m->format, bench_size_str(m->mapped, a, sizeof(a)), m->table_bytes,
				m->footprint, m->rss, ratio((double)m->rss, (double)m->leaf_bytes));
		}
		fprintf(f,
			"per GiB: %.0f bytes resident (%.3fx raw) + %.0f fixed; simulated-memory "
			"footprint %.0f bytes (%.3fx raw)\n",
			r->mem_per_gib, r->mem_ratio, r->mem_fixed, r->fp_per_gib, r->fp_ratio);
	}
}

/* ---- output: JSON ----------------------------------------------------------- */

static void j_timing(FILE *f, const char *name, const struct timing *t)
{
	fprintf(f, "\"%s\":{\"best_s\":%.9g,\"median_s\":%.9g,\"runs\":%u}", name, t->best,
		t->median, t->runs);
}

/* ,"walkers":[...] of a harvest row: an object per walker of o->walkers,
 * in their order; "timed": false where it does not handle the format. A
 * full-level walker's adds the floor measured over its own tables, which
 * its x_floor is over, and that floor's counts. */
static void j_walkers(FILE *f, const struct bench_opts *o, const struct harvest_row *h)
{
	fprintf(f, ",\"walkers\":[");
	for (unsigned wi = 0; wi < o->nwalkers; wi++) {
		const struct walker_fig *w = &h->w[wi];
		bool full = o->walkers[wi]->level == IMS_WALKER_FULL;
		fprintf(f, "%s{\"name\":", wi ? "," : "");
		json_string(f, o->walkers[wi]->name);
		fprintf(f, ",\"level\":\"%s\",\"timed\":%s", full ? "full" : "harvest",
			w->t.runs ? "true" : "false");
		if (w->failed)
			fprintf(f, ",\"failed\":true");
		if (!w->t.runs) {
			fputc('}', f);
			continue;
		}
		const struct timing *wf = walker_floor(o, h, wi);
		fprintf(f,
			",\"best_s\":%.9g,\"median_s\":%.9g,\"runs\":%u,\"x_floor\":%.6g,"
			"\"x_floor_median\":%.6g,\"x_fast\":%.6g,\"x_fast_median\":%.6g",
			w->t.best, w->t.median, w->t.runs, ratio(w->t.best, wf->best),
			ratio(w->t.median, wf->median), ratio(w->t.best, h->t.best),
			ratio(w->t.median, h->t.median));
		if (full) {
			fputc(',', f);
			j_timing(f, "floor", &w->floor);
			fprintf(f,
				",\"floor_read_words\":%" PRIu64 ",\"floor_tables\":%" PRIu64
				",\"floor_write_words\":%" PRIu64,
				w->read_words, w->tables, w->write_words);
		}
		fputc('}', f);
	}
	fputc(']', f);
}

static void cpu_model(char *buf, size_t n)
{
	snprintf(buf, n, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c += 1 + (c[1] == ' ');
				c[strcspn(c, "\n")] = '\0';
				/* JSON-safe: the model string is plain ASCII in practice. */
				size_t k = 0;
				for (; *c && k + 1 < n; c++)
					if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
						buf[k++] = *c;
				buf[k] = '\0';
			}
			break;
		}
	}
	fclose(f);
}

static void write_json(FILE *f, const struct bench_opts *o, const struct bench_results *r,
		       bool partial)
{
	char cpu[128];
	cpu_model(cpu, sizeof(cpu));
	json_head(f, "bench");
	fprintf(f, ",\"iommusim_bench\":2,\"size\":\"%s\",\"repeat\":%u,\"short_s\":%g,"
		"\"short_repeat\":%u,\"partial\":%s,",
		o->size == BENCH_FULL ? "full" : o->size == BENCH_QUICK ? "quick" : "tiny", o->repeat,
		BENCH_SHORT_S, bench_figclock(o, 0).runs,
		partial ? "true" : "false");
	fprintf(f, "\"machine\":{\"cpus\":%ld,\"cpu\":\"%s\"},", sysconf(_SC_NPROCESSORS_ONLN), cpu);
	fprintf(f, "\"walkers\":[");
	for (unsigned wi = 0; wi < o->nwalkers; wi++) {
		fprintf(f, "%s{\"name\":", wi ? "," : "");
		json_string(f, o->walkers[wi]->name);
		fprintf(f, ",\"level\":\"%s\",\"plugin\":",
			o->walkers[wi]->level == IMS_WALKER_FULL ? "full" : "harvest");
		if (o->walker_paths[wi])
			json_string(f, o->walker_paths[wi]);
		else
			fprintf(f, "null");
		fputc('}', f);
	}
	fprintf(f, "],\"harvest\":[");
	for (size_t i = 0; i < r->nh; i++) {
		const struct harvest_row *h = &r->h[i];
		fprintf(f,
			"%s{\"format\":\"%s\",\"layout\":\"%s\",\"range\":%" PRIu64 ",\"mapped\":%" PRIu64
			",\"page\":%" PRIu64 ",\"dirty_pct\":%g,\"dirty_pages\":%" PRIu64
			",\"entries\":%" PRIu64 ",\"verified\":%s,\"clock\":\"%s\",",
			i ? "," : "", h->format, h->layout, h->range, h->mapped, h->page, h->dirty_pct,
			h->dirty_pages, h->entries, h->verified ? "true" : "false",
			h->wall ? "wall" : "cpu");
		j_timing(f, "time", &h->t);
		fputc(',', f);
		j_timing(f, "floor", &h->floor);
		fprintf(f,
			",\"floor_read_words\":%" PRIu64 ",\"floor_tables\":%" PRIu64
			",\"floor_write_words\":%" PRIu64 ",\"entries_per_s\":%.6g,\"floor_ratio\":%.6g,"
			"\"floor_ratio_median\":%.6g",
			h->read_words, h->tables, h->write_words, rate(h->entries, h->t.best),
			ratio(h->t.best, h->floor.best), ratio(h->t.median, h->floor.median));
		if (h->peer.runs) {
			fputc(',', f);
			fprintf(f, "\"rewalk\":{\"entries\":%" PRIu64 ",", h->peer_entries);
			j_timing(f, "time", &h->peer);
			fprintf(f, ",\"speedup\":%.6g,\"speedup_median\":%.6g}",
				ratio(h->peer.best, h->t.best), ratio(h->peer.median, h->t.median));
		} else {
			fprintf(f, ",\"rewalk\":null");
		}
		j_walkers(f, o, h);
		fputc('}', f);
	}
	fprintf(f, "],\"replay\":[");
	for (size_t i = 0; i < r->nrp; i++) {
		const struct replay_row *p = &r->rp[i];
		fprintf(f,
			"%s{\"trace\":\"%s\",\"path\":\"%s\",\"format\":\"%s\",\"span\":%" PRIu64
			",\"pages\":%" PRIu64 ",\"iotlb_hits\":%" PRIu64 ",\"walks\":%" PRIu64 ",",
			i ? "," : "", p->name, p->path, p->format, p->span, p->pages, p->iotlb_hits,
			p->walks);
		j_timing(f, "time", &p->t);
		fputc(',', f);
		j_timing(f, "floor", &p->floor);
		fprintf(f,
			",\"pages_per_s\":%.6g,\"pages_per_s_median\":%.6g,\"target_pages_per_s\":%.6g,"
			"\"floor_ratio\":%.6g,\"floor_ratio_median\":%.6g",
			rate(p->pages, p->t.best), rate(p->pages, p->t.median), p->target,
			ratio(p->t.best, p->floor.best), ratio(p->t.median, p->floor.median));
		if (p->walk_floor.runs) {
			fputc(',', f);
			j_timing(f, "walk_floor", &p->walk_floor);
			fprintf(f, ",\"walk_floor_ratio\":%.6g,\"walk_floor_ratio_median\":%.6g",
				ratio(p->t.best, p->walk_floor.best),
				ratio(p->t.median, p->walk_floor.median));
		}
		if (p->x_model > 0)
			fprintf(f, ",\"model_ratio\":%.6g,\"model_ratio_median\":%.6g", p->x_model,
				p->x_model_median);
		if (p->host_speed > 0)
			fprintf(f, ",\"host_probe_s\":%.6g,\"host_speed\":%.6g", p->host_probe,
				p->host_speed);
		fputc('}', f);
	}
	fprintf(f,
		"],\"mem_latency_ns\":%.6g,\"mem_latency_bytes\":%" PRIu64
		",\"mem_mlp_ns\":%.6g,\"mem_mlp_chains\":%u,\"read\":[",
		r->mem_latency_ns, r->mem_latency_bytes, r->mem_mlp_ns, r->mem_mlp_chains);
	for (size_t i = 0; i < r->nrd; i++) {
		const struct read_row *x = &r->rd[i];
		fprintf(f, "%s{\"form\":\"%s\",\"available\":%s", i ? "," : "", x->form,
			x->available ? "true" : "false");
		if (!x->available) {
			fprintf(f, ",\"why\":\"%s\"}", x->why);
			continue;
		}
		fprintf(f, ",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"floor_what\":\"%s\",",
			x->events, x->bytes, x->floor_what);
		j_timing(f, "time", &x->t);
		fputc(',', f);
		j_timing(f, "floor", &x->floor);
		fprintf(f, ",\"events_per_s\":%.6g,\"floor_ratio\":%.6g,\"floor_ratio_median\":%.6g}",
			rate(x->events, x->t.best), ratio(x->t.best, x->floor.best),
			ratio(x->t.median, x->floor.median));
	}
	fprintf(f, "],\"fuzz\":[");
	for (size_t i = 0; i < r->nfz; i++) {
		const struct fuzz_row *x = &r->fz[i];
		fprintf(f, "%s{\"format\":\"%s\",\"ops\":%" PRIu64 ",", i ? "," : "", x->format, x->ops);
		j_timing(f, "time", &x->t);
		fputc(',', f);
		j_timing(f, "time_wall", &x->t_wall);
		fprintf(f, ",\"ops_per_s\":%.6g,\"ops_per_s_median\":%.6g,\"target_ops_per_s\":%.6g,"
			   "\"jobs\":%u",
			rate(x->ops, x->t.best), rate(x->ops, x->t.median), x->target, x->jobs);
		if (x->jobs) {
			fprintf(f, ",\"ops_all\":%" PRIu64 ",", x->ops_all);
			j_timing(f, "time_all", &x->t_all);
			fprintf(f, ",\"ops_per_s_all\":%.6g,\"scaling\":%.6g,\"scaling_median\":%.6g",
				rate(x->ops_all, x->t_all.best),
				rate(x->ops_all, x->t_all.best) / rate(x->ops, x->t_wall.best),
				rate(x->ops_all, x->t_all.median) / rate(x->ops, x->t_wall.median));
		}
		fputc('}', f);
	}
	fprintf(f, "],\"memory\":{\"rows\":[");
	for (size_t i = 0; i < r->nm; i++) {
		const struct mem_row *m = &r->m[i];
		fprintf(f,
			"%s{\"format\":\"%s\",\"mapped\":%" PRIu64 ",\"table_bytes\":%" PRIu64
			",\"leaf_bytes\":%" PRIu64 ",\"footprint\":%" PRIu64 ",\"resident\":%" PRIu64 "}",
			i ? "," : "", m->format, m->mapped, m->table_bytes, m->leaf_bytes, m->footprint,
			m->rss);
	}
	fprintf(f,
		"],\"resident_per_gib\":%.6g,\"resident_fixed\":%.6g,\"resident_ratio\":%.6g,"
		"\"footprint_per_gib\":%.6g,\"footprint_ratio\":%.6g},\"result\":\"%s\",\"exit\":%d}\n",
		r->mem_per_gib, r->mem_fixed, r->mem_ratio, r->fp_per_gib, r->fp_ratio,
		partial ? "interrupted" : "pass", partial ? 128 + interrupt_caught() : 0);
}

/* ---- output: charts ------------------------------------------------------------ */

/* v for a data file: NaN (no bar) where there is no figure. */
static void dat_num(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, " %.6g", v);
	else
		fprintf(f, " NaN");
}

/* One bar chart over the harvest rows: columns cols[0..n) of harvest.dat,
 * log scale, with the line at 1 when `one` names it. */
static void bar_chart(FILE *f, const struct bench_results *r, const char *output, const char *title,
		      const char *ylabel, const int *cols, const char *const *names, size_t n,
		      double lo, double hi, const char *one, size_t labelmax)
{
	struct chart ch;
	/* Room for the rotated row names under the bars, in 8 px text. */
	int below = (int)(labelmax * CHART_EM * 8) + 16;
	int keys = (int)n + (one != NULL);
	int w = 130 + (int)(r->nh * (n + 1) * 8);
	struct chart_frame fr = {.w = w < 760 ? 760 : w,
				 .h = 420 + below + keys * 18,
				 .output = output,
				 .title = title,
				 .ylabel = ylabel,
				 .keys = keys,
				 .bottom_extra = below};
	chart_begin(&ch, f, &fr);
	chart_styles(f);
	fprintf(f,
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\n"
		"set xrange [-0.6:%.1f]\n"
		"set xtics rotate by 90 right noenhanced font ',8' nomirror\n"
		"set grid noxtics ytics\n",
		(double)r->nh - 0.4);
	/* The floor's line stays off the frame: the range reaches below it. */
	chart_log_axis(&ch, "y", one && lo > 0.9 ? 0.9 : lo, one && hi < 1 ? 1 : hi);
	for (size_t i = 0; i < n; i++) {
		/* Bars side by side hide nothing: thin borders, the styles' colours. */
		fprintf(f, "%s'harvest.dat' using %d%s lt %zu lw 1 title ", i ? ", " : "plot ", cols[i],
			i ? "" : ":xtic(1)", i + 1);
		chart_str(f, names[i], ch.keymax);
	}
	if (one) {
		fprintf(f, ", 1 with lines lc rgb 'black' lw 1.5 dt 2 title ");
		chart_str(f, one, ch.keymax);
	}
	fputc('\n', f);
}

/* Data files and a script; gnuplot runs in DIR with the script on its
 * command line (no shell). The harvest chart is the table's x floor
 * column, the fast walker's and each other walker's: times over the floor
 * the same run measured, the only figures that travel between runs and
 * machines (docs/benchmarks.md). */
static int write_plots(const char *dir, const struct bench_opts *o, const struct bench_results *r)
{
	struct plot p;
	if (plot_open(&p, "bench", dir))
		return -1;
	FILE *f = plot_file(&p, "harvest.dat");
	if (!f)
		return plot_fail(&p);
	char a[32], b[32], label[96];
	double lo = 0, hi = 0, slo = 0, shi = 0;
	size_t labelmax = 0;
	unsigned nw = o->nwalkers;
	fprintf(f, "# label x_floor speedup_vs_rewalk");
	for (unsigned wi = 0; wi < nw; wi++)
		fprintf(f, " x_floor:%s", o->walkers[wi]->name);
	fputc('\n', f);
	for (size_t i = 0; i < r->nh; i++) {
		const struct harvest_row *h = &r->h[i];
		int len = snprintf(label, sizeof(label), "%s %s %s/%s %g%%", h->format, h->layout,
				   bench_size_str(h->range, a, sizeof(a)),
				   bench_size_str(h->page, b, sizeof(b)), h->dirty_pct);
		labelmax = (size_t)len > labelmax ? (size_t)len : labelmax;
		double v[1 + BENCH_MAX_WALKERS];
		v[0] = ratio(h->t.best, h->floor.best);
		for (unsigned wi = 0; wi < nw; wi++)
			v[1 + wi] = h->w[wi].t.runs ? ratio(h->w[wi].t.best, walker_floor(o, h, wi)->best)
						    : 0;
		double sp = h->peer.runs ? ratio(h->peer.best, h->t.best) : 0;
		fprintf(f, "\"%s\"", label);
		dat_num(f, v[0]);
		dat_num(f, sp);
		for (unsigned wi = 0; wi < nw; wi++)
			dat_num(f, v[1 + wi]);
		fputc('\n', f);
		for (unsigned k = 0; k <= nw; k++)
			if (v[k] > 0) {
				lo = !(lo > 0) || v[k] < lo ? v[k] : lo;
				hi = v[k] > hi ? v[k] : hi;
			}
		if (sp > 0) {
			slo = !(slo > 0) || sp < slo ? sp : slo;
			shi = sp > shi ? sp : shi;
		}
	}
	if (!(f = plot_file(&p, "bench.gp")))
		return plot_fail(&p);
	char title[160], wname[BENCH_MAX_WALKERS][96];
	snprintf(title, sizeof(title),
		 "read_and_clear_dirty time over its floor, best of %u (1 = as fast as the floor)",
		 o->repeat);
	int cols[1 + BENCH_MAX_WALKERS] = {2};
	const char *names[1 + BENCH_MAX_WALKERS] = {
		"fast: over reading every entry of every table in the range and writing the "
		"bitmap words of the dirty pages"};
	for (unsigned wi = 0; wi < nw; wi++) {
		snprintf(wname[wi], sizeof(wname[wi]), "%s: its time / %s", o->walkers[wi]->name,
			 o->walkers[wi]->level == IMS_WALKER_FULL ? "the floor over its own tables"
								  : "the same floor");
		cols[1 + wi] = 4 + (int)wi;
		names[1 + wi] = wname[wi];
	}
	fprintf(f, "# iommusim bench --plot: run `gnuplot bench.gp` in this directory.\n");
	bar_chart(f, r, "harvest.svg", title, "harvest time / floor time", cols, names, 1 + nw, lo,
		  hi, "the floor (1)", labelmax);
	const int scol[1] = {3};
	const char *const sname[1] = {"per-page re-walk from the root: its time / the harvest's"};
	bar_chart(f, r, "speedup.svg", "speedup over the per-page re-walk from the root",
		  "re-walk time / harvest time", scol, sname, 1, slo > 0 ? slo : 1, shi > 0 ? shi : 1,
		  NULL, labelmax);
	static const char *const charts[] = {"harvest.svg", "speedup.svg"};
	if (plot_render(&p, "bench.gp", charts, 2))
		return plot_fail(&p);
	return plot_commit(&p);
}

/* ---- command -------------------------------------------------------------------- */

static int parse_only(const char *s, unsigned *mask)
{
	static const char *names[SEC_COUNT] = {"harvest", "replay", "read", "memory", "fuzz"};
	*mask = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		unsigned k;
		for (k = 0; k < SEC_COUNT; k++)
			if (strlen(names[k]) == n && !strncmp(names[k], s, n))
				break;
		if (k == SEC_COUNT) {
			fprintf(stderr, "iommusim bench: --only: unknown section '%.*s' (expected %s)\n",
				(int)n, s, "harvest, replay, read, memory");
			return -1;
		}
		*mask |= 1u << k;
		s += n + (s[n] == ',');
	}
	return *mask ? 0 : -1;
}

/* The options into o, json and plot, the walkers' shared objects into pl.
 * 0 to run, 2 on a usage error (after a message), -1 when --help was
 * answered. */
static int parse_args(int argc, char **argv, struct bench_opts *o, const char **json,
		      const char **plot, struct bench_plugins *pl)
{
	bool peers = false;
	const char *peer_dir = NULL;
	static const struct option longopts[] = {
		{"quick", no_argument, 0, OPT_QUICK},
		{"tiny", no_argument, 0, OPT_TINY},
		{"repeat", required_argument, 0, OPT_REPEAT},
		{"json", required_argument, 0, OPT_JSON},
		{"plot", required_argument, 0, OPT_PLOT},
		{"only", required_argument, 0, OPT_ONLY},
		{"tmpdir", required_argument, 0, OPT_TMPDIR},
		{"match", required_argument, 0, OPT_MATCH},
		{"no-rewalk", no_argument, 0, OPT_NO_PEER},
		{"dirty", required_argument, 0, OPT_DIRTY},
		{"peers", no_argument, 0, OPT_PEERS},
		{"peer-dir", required_argument, 0, OPT_PEER_DIR},
		WALKER_LONG_OPTS,
		{"verbose", no_argument, 0, 'v'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", longopts, NULL)) != -1) {
		uint64_t v;
		switch (c) {
		case OPT_QUICK:
			o->size = BENCH_QUICK;
			break;
		case OPT_TINY:
			o->size = BENCH_TINY;
			break;
		case OPT_REPEAT:
			if (opt_u64("bench", "repeat", optarg, false, &v))
				return 2;
			if (v < 1 || v > 64) {
				fprintf(stderr, "iommusim bench: --repeat: 1 to 64, not %s\n", optarg);
				return 2;
			}
			o->repeat = (unsigned)v;
			break;
		case OPT_JSON:
			*json = optarg;
			break;
		case OPT_PLOT:
			*plot = optarg;
			break;
		case OPT_ONLY:
			if (parse_only(optarg, &o->sections))
				return 2;
			break;
		case OPT_TMPDIR:
			o->tmpdir = optarg;
			break;
		case OPT_MATCH:
			o->match = optarg;
			break;
		case OPT_NO_PEER:
			o->no_peer = true;
			break;
		case OPT_DIRTY: {
			char *end;
			double pct = strtod(optarg, &end);
			if (end == optarg || *end || !(pct > 0 && pct <= 100)) {
				fprintf(stderr, "iommusim bench: --dirty: a percentage in (0, 100], not "
						"'%s'\n",
					optarg);
				return 2;
			}
			o->dirty_ppm = (uint64_t)(pct * 1e4 + 0.5);
			if (!o->dirty_ppm)
				o->dirty_ppm = 1;
			break;
		}
		case OPT_WALKER:
			if (bench_add_builtin(o, optarg))
				return 2;
			break;
		case OPT_WALKER_PLUGIN:
			if (bench_add_plugin(o, pl, optarg))
				return 2;
			break;
		case OPT_PEERS:
			peers = true;
			break;
		case OPT_PEER_DIR:
			peer_dir = optarg;
			break;
		case 'v':
			o->verbose = true;
			o->quiet = false;
			break;
		case 'q':
			o->quiet = true;
			o->verbose = false;
			break;
		case 'h':
			help_bench(stdout);
			return -1;
		default:
			return opt_unknown("bench", argv, ":vqh", longopts);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iommusim bench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (peer_dir && !peers) {
		fprintf(stderr, "iommusim bench: --peer-dir is where --peers looks: give --peers too\n");
		return 2;
	}
	if (peers && bench_add_peers(o, pl, peer_dir))
		return 2;
	if (o->nwalkers && !(o->sections & (1u << SEC_HARVEST))) {
		fprintf(stderr, "iommusim bench: the walker under test is timed in the harvest "
				"section, which --only leaves out\n");
		return 2;
	}
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {.size = BENCH_FULL, .repeat = 0, .sections = (1u << SEC_COUNT) - 1};
	const char *json = NULL, *plot = NULL;
	struct bench_plugins pl = {.n = 0};
	int st = parse_args(argc, argv, &o, &json, &plot, &pl);
	if (st) {
		bench_plugins_free(&pl);
		return st < 0 ? 0 : st;
	}
	if (!o.repeat)
		o.repeat = o.size == BENCH_FULL ? 3 : 1;
	if (!o.tmpdir)
		o.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	/* A terminal shows the figure being measured (a full run is minutes). */
	o.progress = !o.verbose && !o.quiet && progress_wanted(1);

	struct outfile out = {0};
	if (json && outfile_open(&out, json)) {
		bench_plugins_free(&pl);
		return 2;
	}

	bench_catch_interrupt();
	struct bench_results r;
	memset(&r, 0, sizeof(r));
	int rc = 0;
	/* Memory first: its children fork from a small process. */
	if (!rc && (o.sections & (1u << SEC_MEMORY)) && !bench_interrupted())
		rc = bench_memory(&o, &r);
	if (!rc && (o.sections & (1u << SEC_HARVEST)) && !bench_interrupted())
		rc = bench_harvest(&o, &r);
	if (!rc && (o.sections & (1u << SEC_REPLAY)) && !bench_interrupted())
		rc = bench_replay(&o, &r);
	if (!rc && (o.sections & (1u << SEC_READ)) && !bench_interrupted())
		rc = bench_read(&o, &r);
	if (!rc && (o.sections & (1u << SEC_FUZZ)) && !bench_interrupted())
		rc = bench_fuzz(&o, &r);
	bool partial = bench_interrupted();
	progress_clear();

	if (!rc && !partial && o.match &&
	    (o.sections & ((1u << SEC_HARVEST) | (1u << SEC_REPLAY))) && !r.nh && !r.nrp) {
		fprintf(stderr,
			"iommusim bench: --match \"%s\": no harvest or replay figure has it (labels "
			"are \"FORMAT LAYOUT\" such as \"vtd dense\", and \"FORMAT TRACE\" such as "
			"\"amdv1 walk-heavy\"; --quick replays amdv1 only)\n",
			o.match);
		if (json)
			outfile_abort(&out);
		res_free(&r);
		bench_plugins_free(&pl);
		return 2;
	}
	if (partial)
		printf("iommusim bench: PARTIAL: interrupted; the figures measured before it:\n");
	print_table(stdout, &o, &r);
	if (json) {
		if (rc) {
			outfile_abort(&out);
		} else {
			write_json(out.f, &o, &r, partial);
			if (outfile_commit(&out))
				rc = -1;
		}
	}
	if (plot && partial)
		fprintf(stderr, "iommusim bench: --plot: charts skipped (a partial run)\n");
	if (plot && !rc && !partial) {
		if (!chart_have_gnuplot())
			fprintf(stderr, "iommusim bench: --plot: gnuplot is not installed; charts "
					"skipped\n");
		else if (!r.nh)
			fprintf(stderr, "iommusim bench: --plot: no harvest figures; charts skipped\n");
		else if (!write_plots(plot, &o, &r))
			printf("\ncharts: %s/harvest.svg, %s/speedup.svg\n", plot, plot);
		else
			rc = 2;
	}
	res_free(&r);
	bench_plugins_free(&pl); /* after the last use of the walkers' names */
	return rc ? (rc == 2 ? 2 : 1) : partial ? 128 + interrupt_caught() : 0;
}
