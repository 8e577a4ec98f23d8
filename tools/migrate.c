/* iommusim migrate: what each dirty-tracking interface costs a live
 * migration (docs/migrate.md).
 *
 * A timestamped trace runs through the replayer (device writes happen at
 * their timestamps) while precopy rounds go by: round 1 sends all of RAM;
 * each round ends with a dirty sync, and the next round sends what the
 * sync reported, at the link's bandwidth. When what is left would go
 * within the downtime limit, or at the round cap, the guest stops and the
 * rest goes in stop-copy. The VMM learns what devices dirtied by IOMMU
 * hardware dirty tracking (hw), VFIO type1's perpetual dirty bitmap
 * (type1), or not at all (none: all DMA-mapped memory is dirty).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommusim/replay.h"
#include "tools/budgets.h"
#include "tools/chart.h"
#include "tools/cmd.h"
#include "tools/opts.h"

enum {
	OPT_RAM = OPT_FIRST_FREE + 64, /* clear of the ids other subcommands add */
	OPT_BANDWIDTH,
	OPT_DOWNTIME,
	OPT_TRACKING,
	OPT_ROUNDS,
	OPT_SYNTHETIC,
	OPT_START,
	OPT_MPLOT,
};

void help_migrate(FILE *f)
{
	fprintf(f,
		"usage: iommusim migrate [OPTIONS] --ram SIZE --bandwidth RATE (TRACE | --synthetic SPEC)\n"
		"\n"
		"Simulates precopy live migration over a timestamped trace: device writes\n"
		"happen at their timestamps; round 1 sends all of RAM, each later round sends\n"
		"what the dirty sync at the end of the previous one reported; when the rest\n"
		"fits the downtime limit (or at the round cap) the guest stops and the rest\n"
		"goes in stop-copy. Reports, per round and in total, pages sent, stop-copy\n"
		"bytes and the estimated downtime for each way the VMM learns what devices\n"
		"dirtied:\n"
		"  hw     IOMMU hardware dirty tracking (iommufd): harvest the dirty bits\n"
		"  type1  VFIO type1: every mapped page (or pinned page) on every query\n"
		"  none   no tracking: all memory mapped for DMA is dirty\n"
		"  nested stage-2 dirty tracking of each nesting parent, in GPA pages\n"
		"\n"
		"options:\n"
		"  --ram SIZE            guest RAM, bytes (K/M/G/T = binary multiples); required\n"
		"  --bandwidth RATE      migration bandwidth, bytes per second (10G = 10 GiB/s);\n"
		"                        required\n"
		"  --downtime-limit MS   stop when the rest takes at most MS ms (default 300)\n"
		"  --max-rounds N        round cap (default 30)\n"
		"  --tracking MODE       hw, type1, none, nested or all (default all: hw, type1\n"
		"                        and none side by side)\n"
		"  --start NS            migration start, trace time in ns (default: the first\n"
		"                        timestamp; lines before it set the guest up)\n"
		"  --synthetic SPEC      no trace: a guest of ram= bytes mapped for DMA whose\n"
		"                        devices write rate= bytes/s round a ring of ws= bytes in\n"
		"                        dma= pieces for seconds= s, mapped with leaf= pages;\n"
		"                        SPEC is key=value,... (defaults: ram = --ram, rate=2G,\n"
		"                        ws=8G, dma=2M, seconds=120, leaf=2M)\n"
		"  --json FILE           write the results as one JSON object ('-' = stdout)\n"
		"  --plot DIR            write DIR/migrate.dat, migrate.gp and, when gnuplot is\n"
		"                        installed, DIR/migrate.svg\n"
		"  -q, --quiet           no per-round tables\n"
		"  -v, --verbose         also a line per dirty sync on stderr as it happens\n");
	budget_help(f);
	model_opts_help(f);
	walker_help(f);
	fprintf(f,
		"\nexit status: 0 done; 1 a harvest or assertion of the replay failed validation;\n"
		"2 bad input or usage.\n");
}

/* ---- event sources ---------------------------------------------------------- */

/* The synthetic guest: RAM identity-mapped for DMA in one AMD v1 domain,
 * one device writing a ring buffer at a steady rate. */
struct synth {
	uint64_t ram, rate, ws, dma, seconds, leaf;
	uint64_t step; /* events produced */
	uint64_t ndma; /* dma events in all */
};

struct source {
	const char *name;
	struct ims_reader *rd;
	bool synthetic;
	struct synth syn;
	struct ims_event ev;
	bool have, eof;
	uint64_t last_ts;
	/* The terminal's status line: which mode, which phase, how far. */
	bool progress;
	const char *mode;
	unsigned round; /* 0: setting up */
	uint64_t events;
	double shown;
};

/* "iommusim migrate: hw: round 3: 1,234,567 events replayed, trace time
 * 12.3 s", at most four times a second. */
static void src_progress(struct source *src, bool now)
{
	double t = mono_seconds();
	if (!src->progress || (!now && t - src->shown < 0.25))
		return;
	src->shown = t;
	char n[32], ts[32];
	human_count(src->events, n, sizeof(n));
	human_seconds((double)src->last_ts / 1e9, ts, sizeof(ts));
	if (src->round)
		progress_line("iommusim migrate: %s: round %u: %s events replayed, trace time %s",
			      src->mode, src->round, n, ts);
	else
		progress_line("iommusim migrate: %s: setting up: %s events replayed", src->mode, n);
}

#define B(k) (1ull << IMS_K_##k)
#define PAGE ((uint64_t)IMS_PAGE_SIZE)

static void synth_event(struct synth *s, struct ims_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->line = s->step + 1;
	uint64_t i = s->step++;
	if (i == 0) {
		ev->op = IMS_OP_DOMAIN;
		ev->keys = B(ID) | B(FORMAT) | B(DIRTY) | B(PGSIZES);
		ev->v[IMS_K_ID] = 1;
		ev->v[IMS_K_FORMAT] = IMS_FMT_AMDV1;
		ev->v[IMS_K_DIRTY] = 1;
		ev->v[IMS_K_PGSIZES] = IMS_PAGE_SIZE | s->leaf;
	} else if (i == 1) {
		ev->op = IMS_OP_ATTACH;
		ev->keys = B(DEV) | B(DOMAIN);
		ev->v[IMS_K_DEV] = 0x300;
		ev->v[IMS_K_DOMAIN] = 1;
	} else if (i == 2) {
		ev->op = IMS_OP_MAP;
		ev->keys = B(DOMAIN) | B(IOVA) | B(PA) | B(SIZE);
		ev->v[IMS_K_DOMAIN] = 1;
		ev->v[IMS_K_SIZE] = s->ram;
	} else {
		/* Write k of the ring, at k * dma / rate seconds. */
		uint64_t k = i - 3;
		ev->op = IMS_OP_DMA;
		ev->keys = B(DEV) | B(IOVA) | B(LEN) | B(DIR);
		ev->v[IMS_K_DEV] = 0x300;
		ev->v[IMS_K_IOVA] = (k * s->dma) % s->ws;
		ev->v[IMS_K_LEN] = s->dma;
		ev->v[IMS_K_DIR] = IMS_ACC_W;
		ev->has_ts = true;
		ev->ts = (uint64_t)((double)k * (double)s->dma / (double)s->rate * 1e9);
	}
}

/* Makes src->ev the next event; 0, or a reader error. */
static int src_peek(struct source *src)
{
	if (src->have || src->eof)
		return 0;
	if (src->synthetic) {
		if (src->syn.step >= 3 + src->syn.ndma) {
			src->eof = true;
			return 0;
		}
		synth_event(&src->syn, &src->ev);
	} else {
		int rc = ims_reader_next(src->rd, &src->ev);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			src->eof = true;
			return 0;
		}
	}
	if (src->ev.has_ts)
		src->last_ts = src->ev.ts;
	src->have = true;
	return 0;
}

/* Applies every event before time `end` (ns); an event without a
 * timestamp happens at the previous one's. until_ts: stop before the first
 * event with a timestamp instead. */
static int src_run(struct source *src, struct ims_replay *r, uint64_t end, bool until_ts)
{
	for (;;) {
		int rc = src_peek(src);
		if (rc) {
			progress_clear();
			fprintf(stderr, "%s\n", ims_reader_error(src->rd));
			return 2;
		}
		if (src->eof)
			return 0;
		if (until_ts ? src->ev.has_ts : src->last_ts >= end)
			return 0;
		src->have = false;
		rc = ims_replay_event(r, &src->ev, src->name);
		if (rc) {
			progress_clear();
			fprintf(stderr, "%s\n", ims_replay_error(r));
			return 2;
		}
		if (!(++src->events & 4095))
			src_progress(src, false);
	}
}

/* ---- the simulation ----------------------------------------------------------- */

struct round {
	double start, duration; /* seconds */
	uint64_t sent;          /* pages */
	struct ims_mig_sync sync;
};

struct result {
	enum ims_mig_mode mode;
	struct round *rounds;
	size_t n;
	uint64_t sent, stop_copy; /* pages */
	uint64_t missed;
	double downtime_ms, total_s;
	bool converged;
	bool validation_failed;
};

struct params {
	uint64_t ram, bandwidth, limit_ms, max_rounds;
	bool has_start;
	uint64_t start;
	const char *trace;
	bool synthetic;
	struct synth syn;
	struct ims_replay_opts ro;
	int verbosity;
	bool progress; /* a status line on the terminal */
	struct walker_choice wc;
};

static double seconds_for(uint64_t pages, uint64_t bandwidth)
{
	return (double)pages * (double)IMS_PAGE_SIZE / (double)bandwidth;
}

static int source_open(const struct params *p, struct source *src)
{
	memset(src, 0, sizeof(*src));
	if (p->synthetic) {
		src->synthetic = true;
		src->syn = p->syn;
		src->name = "synthetic";
		return 0;
	}
	char err[512];
	if (ims_reader_open(p->trace, &src->rd, err, sizeof(err))) {
		fprintf(stderr, "iommusim migrate: %s\n", err);
		return 2;
	}
	src->name = ims_reader_name(src->rd);
	return 0;
}

static int simulate(const struct params *p, enum ims_mig_mode mode, struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->mode = mode;
	struct source src;
	int rc = source_open(p, &src);
	if (rc)
		return rc;
	src.progress = p->progress;
	src.mode = ims_mig_mode_name(mode);
	src_progress(&src, true);
	struct ims_replay *r = NULL;
	struct ims_oracle *dirty = ims_oracle_new();
	if (!dirty || ims_replay_new(&p->ro, &r)) {
		fprintf(stderr, "iommusim migrate: %s: out of memory\n",
			p->synthetic ? "the synthetic guest" : p->trace);
		rc = 2;
		goto out;
	}
	/* Set-up: the lines before the start. */
	rc = p->has_start ? src_run(&src, r, p->start, false) : src_run(&src, r, 0, true);
	if (rc)
		goto out;
	if (!p->has_start && !src.eof)
		src_peek(&src);
	uint64_t t0 = p->has_start ? p->start : src.have ? src.ev.ts : 0;
	if (ims_replay_mig_start(r, mode)) {
		progress_clear();
		fprintf(stderr, "iommusim migrate: %s: cannot start dirty tracking\n", src.name);
		rc = 2;
		goto out;
	}
	double t = 0;
	uint64_t send = (p->ram + IMS_PAGE_SIZE - 1) / IMS_PAGE_SIZE; /* round 1: all of RAM */
	for (uint64_t k = 1;; k++) {
		src.round = (unsigned)k;
		src_progress(&src, true);
		double dur = seconds_for(send, p->bandwidth);
		double end = t + dur;
		uint64_t end_ns = t0 + (uint64_t)ceil(end * 1e9);
		if ((rc = src_run(&src, r, end_ns, false)))
			goto out;
		ims_oracle_reset(dirty, 0);
		struct ims_mig_sync sy;
		if (ims_replay_mig_sync(r, mode, dirty, &sy)) {
			progress_clear();
			fprintf(stderr, "iommusim migrate: %s: dirty sync failed\n", src.name);
			rc = 2;
			goto out;
		}
		struct round *nr = realloc(res->rounds, (res->n + 1) * sizeof(*nr));
		if (!nr) {
			rc = 2;
			goto out;
		}
		res->rounds = nr;
		res->rounds[res->n++] = (struct round){t, dur, send, sy};
		res->sent += send;
		res->missed += sy.missed;
		t = end;
		uint64_t left = ims_oracle_count(dirty, 0, 0, 0);
		if (p->verbosity >= 1)
			fprintf(stderr, "%siommusim migrate: %s: round %" PRIu64 " ends at %.3f s, dirty sync: "
				"%" PRIu64 " pages left to send, %" PRIu64 " written, %" PRIu64 " missed\n",
				p->progress ? "\r\033[K" : "", ims_mig_mode_name(mode), k, t, left,
				sy.written, sy.missed);
		double stop_ms = seconds_for(left, p->bandwidth) * 1e3;
		if (stop_ms <= (double)p->limit_ms || k >= p->max_rounds) {
			res->converged = stop_ms <= (double)p->limit_ms;
			res->stop_copy = left;
			res->downtime_ms = stop_ms;
			res->total_s = t + stop_ms / 1e3;
			break;
		}
		send = left;
	}
	res->validation_failed = ims_replay_stats(r)->validation_failures != 0;
	rc = 0;
out:
	progress_clear();
	ims_replay_free(r);
	ims_oracle_free(dirty);
	ims_reader_close(src.rd);
	return rc;
}

/* ---- output ------------------------------------------------------------------------ */

static double gib(uint64_t pages)
{
	return (double)pages * (double)IMS_PAGE_SIZE / (double)(1ull << 30);
}

static void size_text(char *buf, size_t n, uint64_t bytes)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	unsigned i = 0;
	while (v >= 1024 && i < 6) {
		v /= 1024;
		i++;
	}
	snprintf(buf, n, v == floor(v) ? "%.0f %s" : "%.2f %s", v, u[i]);
}

static void print_rounds(const struct result *res)
{
	printf("\n%s: %zu rounds\n", ims_mig_mode_name(res->mode), res->n);
	printf("  round   start (s)  length (s)   sent (GiB)  dirty after (GiB)  written (GiB)  "
	       "missed (pages)\n");
	for (size_t i = 0; i < res->n; i++) {
		const struct round *x = &res->rounds[i];
		uint64_t after = i + 1 < res->n ? res->rounds[i + 1].sent : res->stop_copy;
		printf("  %5zu %11.3f %11.3f %12.3f %18.3f %14.3f %15" PRIu64 "\n", i + 1, x->start,
		       x->duration, gib(x->sent), gib(after), gib(x->sync.written), x->sync.missed);
	}
}

static void print_summary(const struct params *p, const struct result *res, size_t n)
{
	printf("\n  mode    rounds  precopy sent (GiB)  stop-copy (GiB)  downtime (ms)  "
	       "total (s)  converged\n");
	for (size_t i = 0; i < n; i++) {
		const struct result *x = &res[i];
		printf("  %-6s %7zu %19.3f %16.3f %14.2f %10.2f  %s\n", ims_mig_mode_name(x->mode), x->n,
		       gib(x->sent), gib(x->stop_copy), x->downtime_ms, x->total_s,
		       x->converged ? "yes" : "no (round cap)");
	}
	for (size_t i = 0; i < n; i++)
		if (res[i].missed)
			printf("  %s: %" PRIu64 " GPA pages written by devices were never reported "
			       "(unmapped or remapped between the write and the sync)\n",
			       ims_mig_mode_name(res[i].mode), res[i].missed);
	(void)p;
}

static void write_json(FILE *f, const struct params *p, const struct result *res, size_t n,
		       int exit_status)
{
	json_head(f, "migrate");
	fputs(",\"walker\":", f);
	json_string(f, walker_name(&p->wc));
	fputs(",\"trace\":", f);
	json_string(f, p->synthetic ? "synthetic" : p->trace);
	fprintf(f,
		",\"page_size\":%llu,\"ram_bytes\":%" PRIu64 ",\"bandwidth_bytes_per_s\":%" PRIu64
		",\"downtime_limit_ms\":%" PRIu64 ",\"max_rounds\":%" PRIu64,
		IMS_PAGE_SIZE, p->ram, p->bandwidth, p->limit_ms, p->max_rounds);
	if (p->synthetic)
		fprintf(f,
			",\"synthetic\":{\"ram\":%" PRIu64 ",\"rate\":%" PRIu64 ",\"ws\":%" PRIu64
			",\"dma\":%" PRIu64 ",\"seconds\":%" PRIu64 ",\"leaf\":%" PRIu64 "}",
			p->syn.ram, p->syn.rate, p->syn.ws, p->syn.dma, p->syn.seconds, p->syn.leaf);
	fprintf(f, ",\"modes\":[");
	for (size_t i = 0; i < n; i++) {
		const struct result *x = &res[i];
		fprintf(f, "%s{\"mode\":\"%s\",\"converged\":%s,\"rounds\":[", i ? "," : "",
			ims_mig_mode_name(x->mode), x->converged ? "true" : "false");
		for (size_t k = 0; k < x->n; k++) {
			const struct round *y = &x->rounds[k];
			uint64_t after = k + 1 < x->n ? x->rounds[k + 1].sent : x->stop_copy;
			fprintf(f,
				"%s{\"round\":%zu,\"start_s\":%.9f,\"duration_s\":%.9f,\"pages_sent\":%" PRIu64
				",\"bytes_sent\":%" PRIu64 ",\"dirty_pages_after\":%" PRIu64
				",\"written_pages\":%" PRIu64 ",\"missed_pages\":%" PRIu64
				",\"mapped_pages\":%" PRIu64 "}",
				k ? "," : "", k + 1, y->start, y->duration, y->sent, y->sent * PAGE,
				after, y->sync.written, y->sync.missed, y->sync.mapped);
		}
		fprintf(f,
			"],\"total\":{\"rounds\":%zu,\"pages_sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
			",\"stop_copy_pages\":%" PRIu64 ",\"stop_copy_bytes\":%" PRIu64
			",\"downtime_ms\":%.3f,\"total_s\":%.6f,\"missed_pages\":%" PRIu64 "}}",
			x->n, x->sent, x->sent * PAGE, x->stop_copy, x->stop_copy * PAGE,
			x->downtime_ms, x->total_s, x->missed);
	}
	fprintf(f, "],\"result\":\"%s\",\"exit\":%d}\n", exit_status ? "fail" : "pass",
		exit_status);
}

/* Whether mode i sent exactly what mode j did, round by round. */
static bool same_points(const struct result *a, const struct result *b)
{
	if (a->n != b->n || a->stop_copy != b->stop_copy)
		return false;
	for (size_t k = 0; k < a->n; k++)
		if (a->rounds[k].sent != b->rounds[k].sent)
			return false;
	return true;
}

static int plot(const char *dir, const struct params *p, const struct result *res, size_t n)
{
	struct plot pl;
	if (plot_open(&pl, "migrate", dir))
		return -1;
	FILE *f = plot_file(&pl, "migrate.dat");
	if (!f)
		return plot_fail(&pl);
	size_t most = 0;
	for (size_t i = 0; i < n; i++)
		most = res[i].n > most ? res[i].n : most;
	fprintf(f, "# round");
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s_sent_GiB", ims_mig_mode_name(res[i].mode));
	fputc('\n', f);
	/* Round most + 1 is the stop-copy. */
	for (size_t k = 0; k <= most; k++) {
		fprintf(f, "%zu", k + 1);
		for (size_t i = 0; i < n; i++) {
			if (k < res[i].n)
				fprintf(f, " %.6f", gib(res[i].rounds[k].sent));
			else if (k == res[i].n)
				fprintf(f, " %.6f", gib(res[i].stop_copy));
			else
				fprintf(f, " NaN");
		}
		fputc('\n', f);
	}
	if (!(f = plot_file(&pl, "migrate.gp")))
		return plot_fail(&pl);
	char ram[32], bw[32], title[224];
	size_text(ram, sizeof(ram), p->ram);
	size_text(bw, sizeof(bw), p->bandwidth);
	snprintf(title, sizeof(title),
		 "Precopy rounds: %s guest, %s/s link (last point of each mode: stop-copy)", ram,
		 bw);
	double lo = 0, hi = 0;
	bool zero = false;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k <= res[i].n; k++) {
			double v = gib(k < res[i].n ? res[i].rounds[k].sent : res[i].stop_copy);
			if (v > 0 && (!(lo > 0) || v < lo))
				lo = v;
			hi = v > hi ? v : hi;
			zero |= !(v > 0);
		}
	/* A log scale has no zero: say so rather than drop a point silently. */
	if (zero) {
		size_t len = strlen(title);
		snprintf(title + len, sizeof(title) - len, "; a round that sent 0 is not drawn");
	}
	fprintf(f, "# iommusim migrate --plot: run `gnuplot migrate.gp` in this directory.\n");
	struct chart ch;
	struct chart_frame fr = {.w = 900,
				 .h = 440 + (int)n * 18,
				 .output = "migrate.svg",
				 .title = title,
				 .xlabel = "round",
				 .ylabel = "GiB sent",
				 .keys = (int)n};
	chart_begin(&ch, f, &fr);
	chart_styles(f);
	/* Rounds are counted: whole ticks, half a round of room each side. */
	chart_axis(&ch, "x", 0.5, (double)most + 1.5, true, false);
	chart_log_axis(&ch, "y", lo > 0 ? lo : 1, hi > 0 ? hi : 1);
	/* Modes drawn in order, each thinner than the one before: a mode that
	 * sent what an earlier one did runs inside it, and its legend says so. */
	for (size_t i = 0; i < n; i++) {
		char key[160];
		const char *mode = ims_mig_mode_name(res[i].mode);
		int len = snprintf(key, sizeof(key), "%s: downtime %.1f ms", mode, res[i].downtime_ms);
		for (size_t j = 0; j < i; j++)
			if (same_points(&res[i], &res[j])) {
				snprintf(key + len, sizeof(key) - (size_t)len,
					 " (same points as %s)", ims_mig_mode_name(res[j].mode));
				break;
			}
		fprintf(f, "%s'migrate.dat' using 1:%zu with linespoints lt %zu title ",
			i ? ", " : "plot ", i + 2, i % CHART_STYLES + 1);
		chart_str(f, key, ch.keymax);
	}
	fputc('\n', f);
	if (!chart_have_gnuplot()) {
		fprintf(stderr, "iommusim migrate: --plot: gnuplot is not installed; chart skipped "
				"(data and script are in %s)\n", dir);
		return plot_commit(&pl);
	}
	static const char *const charts[] = {"migrate.svg"};
	if (plot_render(&pl, "migrate.gp", charts, 1))
		return plot_fail(&pl);
	return plot_commit(&pl);
}

/* ---- options -------------------------------------------------------------------------- */

static int synth_parse(const char *spec, struct synth *s)
{
	char *dup = strdup(spec), *save = NULL;
	if (!dup)
		return -1;
	int rc = 0;
	for (char *kv = strtok_r(dup, ",", &save); kv && !rc; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			fprintf(stderr, "iommusim migrate: --synthetic: '%s' is not key=value\n", kv);
			rc = -1;
			break;
		}
		*eq = '\0';
		static const char *const names[] = {"ram", "rate", "ws", "dma", "seconds", "leaf"};
		uint64_t *dst[] = {&s->ram, &s->rate, &s->ws, &s->dma, &s->seconds, &s->leaf};
		size_t i = 0;
		while (i < 6 && strcmp(kv, names[i]))
			i++;
		if (i == 6) {
			fprintf(stderr,
				"iommusim migrate: --synthetic: unknown key '%s' (expected ram, rate, ws, "
				"dma, seconds or leaf)\n",
				kv);
			rc = -1;
		} else if (opt_u64("migrate", "--synthetic", eq + 1, i != 4, dst[i])) {
			rc = -1;
		}
	}
	free(dup);
	return rc;
}

static int synth_check(struct synth *s)
{
	const char *why = NULL;
	if (!s->rate || !s->dma || !s->seconds)
		why = "rate, dma and seconds must be at least 1";
	else if (s->leaf != (4ull << 10) && s->leaf != (2ull << 20) && s->leaf != (1ull << 30))
		why = "leaf must be 4K, 2M or 1G";
	else if (!s->ram || s->ram % s->leaf || s->ram > (1ull << 47))
		why = "ram must be a multiple of leaf, at most 128 TiB (the domain's IOVA space)";
	else if (s->dma % IMS_PAGE_SIZE || !s->ws || s->ws % s->dma || s->ws > s->ram)
		why = "dma must be whole 4K pages, ws a multiple of dma and at most ram";
	if (why) {
		fprintf(stderr, "iommusim migrate: --synthetic: %s\n", why);
		return -1;
	}
	double n = (double)s->seconds * (double)s->rate / (double)s->dma;
	if (n > 1e9) {
		fprintf(stderr, "iommusim migrate: --synthetic: %.0f dma events is too many\n", n);
		return -1;
	}
	s->ndma = (uint64_t)n;
	return 0;
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ram", required_argument, 0, OPT_RAM},
		{"bandwidth", required_argument, 0, OPT_BANDWIDTH},
		{"downtime-limit", required_argument, 0, OPT_DOWNTIME},
		{"tracking", required_argument, 0, OPT_TRACKING},
		{"max-rounds", required_argument, 0, OPT_ROUNDS},
		{"synthetic", required_argument, 0, OPT_SYNTHETIC},
		{"start", required_argument, 0, OPT_START},
		{"json", required_argument, 0, OPT_JSON},
		{"plot", required_argument, 0, OPT_MPLOT},
		WALKER_LONG_OPTS,
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		MODEL_LONG_OPTS,
		BUDGET_LONG_OPTS,
		{0, 0, 0, 0},
	};
	struct params p = {.limit_ms = 300, .max_rounds = 30};
	ims_replay_opts_default(&p.ro);
	p.ro.verbosity = 0;
	const char *json = NULL, *plotdir = NULL, *spec = NULL;
	/* all: hw, type1 and none; nested is asked for by name. */
	bool modes[IMS_MIG_COUNT] = {true, true, true, false};
	bool has_ram = false, has_bw = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			p.verbosity = -1;
			break;
		case 'v':
			p.verbosity = 1;
			break;
		case 'h':
			help_migrate(stdout);
			return 0;
		case OPT_RAM:
			if (opt_u64("migrate", "--ram", optarg, true, &p.ram))
				return 2;
			has_ram = true;
			break;
		case OPT_BANDWIDTH:
			if (opt_u64("migrate", "--bandwidth", optarg, true, &p.bandwidth))
				return 2;
			has_bw = true;
			break;
		case OPT_DOWNTIME:
			if (opt_u64("migrate", "--downtime-limit", optarg, false, &p.limit_ms))
				return 2;
			break;
		case OPT_ROUNDS:
			if (opt_u64("migrate", "--max-rounds", optarg, false, &p.max_rounds))
				return 2;
			if (!p.max_rounds || p.max_rounds > 100000) {
				fprintf(stderr, "iommusim migrate: --max-rounds: expected 1..100000\n");
				return 2;
			}
			break;
		case OPT_START:
			if (opt_u64("migrate", "--start", optarg, false, &p.start))
				return 2;
			p.has_start = true;
			break;
		case OPT_TRACKING: {
			bool all = !strcmp(optarg, "all");
			size_t m = 0;
			while (m < IMS_MIG_COUNT && strcmp(optarg, ims_mig_mode_name((enum ims_mig_mode)m)))
				m++;
			if (!all && m == IMS_MIG_COUNT) {
				fprintf(stderr, "iommusim migrate: --tracking: '%s' (expected hw, type1, "
						"none, nested or all)\n",
					optarg);
				return 2;
			}
			for (size_t i = 0; i < IMS_MIG_COUNT; i++)
				modes[i] = all ? i != IMS_MIG_NESTED : i == m;
			break;
		}
		case OPT_SYNTHETIC:
			spec = optarg;
			break;
		case OPT_JSON:
			json = optarg;
			break;
		case OPT_MPLOT:
			plotdir = optarg;
			break;
		case '?':
			return opt_unknown("migrate", argv, "qvh", longopts);
		default: {
			int bo = budget_opt("migrate", c, optarg, &p.ro.budgets);
			if (bo < 0)
				return 2;
			if (bo)
				break;
			int w = walker_opt("migrate", c, optarg, &p.wc);
			if (w < 0 || (!w && model_opt("migrate", c, optarg, &p.ro.model) < 0)) {
				walker_fini(&p.wc);
				return 2;
			}
			break;
		}
		}
	}
	p.ro.walker = p.wc.builtin;
	p.ro.plugin = walker_plugin_ops(&p.wc);
	if (!has_ram || !has_bw || !p.ram || !p.bandwidth) {
		fprintf(stderr, "iommusim migrate: --ram and --bandwidth are required and not 0 (see "
				"iommusim help migrate)\n");
		return 2;
	}
	if (spec) {
		if (optind < argc) {
			fprintf(stderr, "iommusim migrate: a trace or --synthetic, not both\n");
			return 2;
		}
		p.synthetic = true;
		p.syn = (struct synth){.ram = p.ram, .rate = 2ull << 30, .ws = 8ull << 30,
				       .dma = 2ull << 20, .seconds = 120, .leaf = 2ull << 20};
		if (synth_parse(spec, &p.syn) || synth_check(&p.syn))
			return 2;
	} else {
		if (optind + 1 != argc) {
			fprintf(stderr, "iommusim migrate: expected one trace (or --synthetic SPEC)\n");
			return 2;
		}
		p.trace = argv[optind];
		bool several = modes[0] + modes[1] + modes[2] > 1;
		if (several && !strcmp(p.trace, "-")) {
			fprintf(stderr, "iommusim migrate: standard input can be read once: give one "
					"--tracking mode, or a file\n");
			return 2;
		}
	}
	struct result res[IMS_MIG_COUNT];
	size_t n = 0;
	int worst = 0;
	/* Silent for minutes otherwise: the phase and round on a terminal (not
	 * under -v, whose lines say the same). */
	p.progress = p.verbosity == 0 && progress_wanted(1);
	for (size_t m = 0; m < IMS_MIG_COUNT; m++) {
		if (!modes[m])
			continue;
		int rc = simulate(&p, (enum ims_mig_mode)m, &res[n]);
		if (rc) {
			for (size_t i = 0; i <= n; i++)
				free(res[i].rounds);
			return rc;
		}
		if (res[n].validation_failed)
			worst = 1;
		n++;
	}
	char ram[32], bw[32];
	size_text(ram, sizeof(ram), p.ram);
	size_text(bw, sizeof(bw), p.bandwidth);
	printf("iommusim migrate: %s (RAM %s, bandwidth %s/s, downtime limit %" PRIu64
	       " ms, round cap %" PRIu64 ", walker %s)\n",
	       p.synthetic ? "synthetic guest" : p.trace, ram, bw, p.limit_ms, p.max_rounds,
	       walker_name(&p.wc));
	if (p.verbosity >= 0)
		for (size_t i = 0; i < n; i++)
			print_rounds(&res[i]);
	print_summary(&p, res, n);
	if (worst)
		fprintf(stderr, "iommusim migrate: a harvest or assertion of the replay failed "
				"validation (run iommusim replay on the trace for details)\n");
	int ret = worst;
	if (json) {
		struct outfile o;
		if (outfile_open(&o, json)) {
			ret = 2;
		} else {
			write_json(o.f, &p, res, n, worst);
			if (outfile_commit(&o))
				ret = 2;
		}
	}
	if (plotdir && plot(plotdir, &p, res, n))
		ret = 2;
	for (size_t i = 0; i < n; i++)
		free(res[i].rounds);
	walker_fini(&p.wc);
	return ret;
}
