/* The --stats-interval time series: one row per interval of events or of
 * trace time, each the difference of the counters across the interval. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/chart.h"
#include "tools/cmd.h"
#include "tools/interval.h"
#include "tools/stats.h"

/* Counters a row is the difference of. */
struct snap {
	uint64_t events, pages, hits, misses, walks, cycles, dirty, harvests, uhits, umisses;
};

struct row {
	unsigned trace;
	uint64_t at;
	struct snap d;
};

/* A `# phase: NAME` marker of a trace; at is in the series' unit, set
 * once the replay reaches the marker's place. */
struct phase {
	unsigned trace;
	uint64_t line;
	bool placed;
	uint64_t at;
	char *name;
};


struct series {
	uint64_t every;
	uint64_t every0; /* as asked for; every is larger once rows merged */
	/* Rows it holds: past them the interval doubles and neighbouring rows
	 * merge (docs/limits.md), so memory stays bounded whatever the trace
	 * and the interval, and the series still covers every event. */
	size_t max_rows;
	bool noted;      /* the note that it did was printed */
	bool ns;
	char **traces;
	unsigned ntraces;
	struct row *rows;
	size_t nrows, cap;
	struct phase *ph;
	size_t nph, capph;
	bool oom;
	/* The trace under way. */
	struct snap base;
	bool started;   /* ns: a timestamp was seen */
	uint64_t end;   /* ns: end of the current interval */
	uint64_t last_at;
	uint64_t last_ts; /* ns: the last timestamp seen */
	size_t ph_next;   /* its first marker not yet placed */
};

int series_parse_interval(const char *cmd, const char *arg, uint64_t *every, bool *ns)
{
	if (opt_interval(cmd, "--stats-interval", arg, "events", every, ns))
		return -1;
	if (!*every) {
		fprintf(stderr, "iommusim %s: --stats-interval: the interval must be at least 1 "
				"(N events, or N followed by ns, us, ms or s)\n", cmd);
		return -1;
	}
	return 0;
}

struct series *series_new(uint64_t every, bool ns, size_t max_rows)
{
	struct series *s = calloc(1, sizeof(*s));
	if (s) {
		s->every = s->every0 = every;
		s->ns = ns;
		s->max_rows = max_rows ? max_rows : SERIES_MAX_ROWS;
	}
	return s;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->ntraces; i++)
		free(s->traces[i]);
	free(s->traces);
	free(s->rows);
	for (size_t i = 0; i < s->nph; i++)
		free(s->ph[i].name);
	free(s->ph);
	free(s);
}

static void on_phase(void *arg, const char *name, size_t len, uint64_t line)
{
	struct series *s = arg;
	if (s->nph == s->capph) {
		size_t cap = s->capph ? s->capph * 2 : 16;
		struct phase *n = realloc(s->ph, cap * sizeof(*n));
		if (!n) {
			s->oom = true;
			return;
		}
		s->ph = n;
		s->capph = cap;
	}
	char *dup = strndup(name, len);
	if (!dup) {
		s->oom = true;
		return;
	}
	s->ph[s->nph++] = (struct phase){.trace = s->ntraces ? s->ntraces - 1 : 0,
					 .line = line,
					 .name = dup};
}

void series_reader(struct series *s, struct ims_reader *rd)
{
	ims_reader_on_phase(rd, on_phase, s);
}

/* Markers read before line `line` start where the replay is now. The
 * replayer reads ahead of what it applies, so a marker is placed by its
 * line, when the first event after it comes. */
static void place_phases(struct series *s, uint64_t line, uint64_t at)
{
	while (s->ph_next < s->nph && s->ph[s->ph_next].line < line) {
		s->ph[s->ph_next].placed = true;
		s->ph[s->ph_next].at = at;
		s->ph_next++;
	}
}


static void take(struct ims_replay *r, struct snap *o)
{
	const struct ims_replay_stats *st = ims_replay_stats(r);
	const struct ims_iommu_counters *n = ims_iommu_counters(ims_replay_iommu(r));
	*o = (struct snap){.events = st->events,
			   .pages = n->translations,
			   .hits = n->iotlb_hits,
			   .misses = n->iotlb_misses,
			   .walks = n->walks,
			   .cycles = n->cycles,
			   .dirty = st->bits_reported,
			   .harvests = st->harvests,
			   .uhits = n->utlb_hits,
			   .umisses = n->utlb_misses};
}

void series_begin(struct series *s, const char *trace)
{
	char **t = realloc(s->traces, (s->ntraces + 1) * sizeof(*t));
	char *name = strdup(trace);
	if (!t || !name) {
		free(name);
		if (t)
			s->traces = t;
		s->oom = true;
		return;
	}
	s->traces = t;
	s->traces[s->ntraces++] = name;
	memset(&s->base, 0, sizeof(s->base));
	s->started = false;
	s->end = 0;
	s->last_at = 0;
	s->last_ts = 0;
	s->ph_next = s->nph;
}

/* The interval of the series' grid that `at` (an interval's end) closes. */
static uint64_t bucket(const struct series *s, uint64_t at)
{
	return at / s->every + (at % s->every != 0);
}

static void snap_add(struct snap *a, const struct snap *b)
{
	a->events += b->events;
	a->pages += b->pages;
	a->hits += b->hits;
	a->misses += b->misses;
	a->walks += b->walks;
	a->cycles += b->cycles;
	a->dirty += b->dirty;
	a->harvests += b->harvests;
	a->uhits += b->uhits;
	a->umisses += b->umisses;
}

/* Row w joins row `to` when both are of one trace and one interval: rows
 * are differences of counters, so the sum is the interval's row. */
static bool row_join(const struct series *s, struct row *to, const struct row *w)
{
	if (to->trace != w->trace || bucket(s, to->at) != bucket(s, w->at))
		return false;
	snap_add(&to->d, &w->d);
	to->at = w->at;
	return true;
}

/* The series is full: twice the interval, its rows merged pairwise. */
static void coarsen(struct series *s)
{
	while (s->nrows >= s->max_rows && s->every <= UINT64_MAX / 2) {
		s->every *= 2;
		size_t k = 0;
		for (size_t i = 0; i < s->nrows; i++)
			if (!k || !row_join(s, &s->rows[k - 1], &s->rows[i]))
				s->rows[k++] = s->rows[i];
		s->nrows = k;
	}
}

/* Close the interval that ends at `at`. Rows grow by doubling: one
 * allocation per many intervals, none per event. */
static void emit(struct series *s, struct ims_replay *r, uint64_t at)
{
	struct snap now;
	take(r, &now);
	struct row w = {.trace = s->ntraces ? s->ntraces - 1 : 0, .at = at,
			.d = {.events = now.events - s->base.events,
			      .pages = now.pages - s->base.pages,
			      .hits = now.hits - s->base.hits,
			      .misses = now.misses - s->base.misses,
			      .walks = now.walks - s->base.walks,
			      .cycles = now.cycles - s->base.cycles,
			      .dirty = now.dirty - s->base.dirty,
			      .harvests = now.harvests - s->base.harvests,
			      .uhits = now.uhits - s->base.uhits,
			      .umisses = now.umisses - s->base.umisses}};
	s->base = now;
	s->last_at = at;
	if (s->nrows >= s->max_rows)
		coarsen(s);
	/* After a merge, the intervals of the old grid that are left join
	 * their row of the new one. */
	if (s->nrows && row_join(s, &s->rows[s->nrows - 1], &w))
		return;
	if (s->nrows == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct row *n = realloc(s->rows, cap * sizeof(*n));
		if (!n) {
			s->oom = true;
			return;
		}
		s->rows = n;
		s->cap = cap;
	}
	s->rows[s->nrows++] = w;
}

static uint64_t interval_end(uint64_t ts, uint64_t every)
{
	uint64_t start = ts - ts % every;
	return start > UINT64_MAX - every ? UINT64_MAX : start + every;
}

void series_hook(void *arg, struct ims_replay *r, const struct ims_event *ev)
{
	struct series *s = arg;
	/* Called before ev is applied: the counters cover the events before it. */
	uint64_t done = ims_replay_stats(r)->events;
	if (!s->ns) {
		place_phases(s, ev->line, done);
		if (done && done % s->every == 0)
			emit(s, r, done);
		return;
	}
	if (!ev->has_ts)
		return;
	place_phases(s, ev->line, ev->ts);
	s->last_ts = ev->ts;
	if (!s->started) {
		s->started = true;
		s->end = interval_end(ev->ts, s->every);
		return;
	}
	if (ev->ts >= s->end) {
		/* Intervals without events make no rows. */
		emit(s, r, s->end);
		s->end = interval_end(ev->ts, s->every);
	}
}

void series_end(struct series *s, struct ims_replay *r)
{
	uint64_t done = ims_replay_stats(r)->events;
	/* Markers after the last event end the trace. */
	place_phases(s, UINT64_MAX, s->ns ? s->last_ts : done);
	if (done == s->base.events)
		return;
	if (!s->ns) {
		emit(s, r, done);
		return;
	}
	if (!s->started)
		fprintf(stderr, "iommusim replay: %s has no @timestamps: --stats-interval in ns "
				"gives one row\n", s->ntraces ? s->traces[s->ntraces - 1] : "the trace");
	emit(s, r, s->started ? s->end : 0);
}

/* ---- output ------------------------------------------------------------------ */

static bool ratio(uint64_t num, uint64_t den, double *out)
{
	if (!den)
		return false;
	*out = (double)num / (double)den;
	return true;
}

static void json_num(FILE *f, const char *key, bool ok, double v)
{
	if (ok)
		fprintf(f, ",\"%s\":%.6g", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

static void csv_num(FILE *f, bool ok, double v)
{
	if (ok)
		fprintf(f, ",%.6g", v);
	else
		fputc(',', f);
}

struct derived {
	bool hr_ok, cpp_ok, dph_ok, uhr_ok;
	double hr, cpp, dph, uhr;
};

static void derive(const struct row *w, struct derived *d)
{
	d->hr_ok = ratio(w->d.hits, w->d.hits + w->d.misses, &d->hr);
	d->cpp_ok = ratio(w->d.cycles, w->d.pages, &d->cpp);
	d->dph_ok = ratio(w->d.dirty, w->d.harvests, &d->dph);
	d->uhr_ok = ratio(w->d.uhits, w->d.uhits + w->d.umisses, &d->uhr);
}

static void csv_string(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static void write_json(const struct series *s, FILE *f)
{
	fputc('[', f);
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *w = &s->rows[i];
		struct derived d;
		derive(w, &d);
		fprintf(f, "%s\n{\"trace\":", i ? "," : "");
		json_string(f, w->trace < s->ntraces ? s->traces[w->trace] : "");
		fprintf(f, ",\"unit\":\"%s\",\"at\":%" PRIu64 ",\"events\":%" PRIu64,
			s->ns ? "ns" : "events", w->at, w->d.events);
		json_num(f, "hit_rate", d.hr_ok, d.hr);
		fprintf(f, ",\"walks\":%" PRIu64, w->d.walks);
		json_num(f, "cycles_per_page", d.cpp_ok, d.cpp);
		fprintf(f, ",\"dirty_pages_harvested\":%" PRIu64 ",\"pages\":%" PRIu64
			   ",\"iotlb_lookups\":%" PRIu64 ",\"cycles\":%" PRIu64 ",\"harvests\":%" PRIu64,
			w->d.dirty, w->d.pages, w->d.hits + w->d.misses, w->d.cycles, w->d.harvests);
		json_num(f, "dirty_pages_per_harvest", d.dph_ok, d.dph);
		json_num(f, "utlb_hit_rate", d.uhr_ok, d.uhr);
		fputc('}', f);
	}
	fputs("\n]\n", f);
}

static void write_csv(const struct series *s, FILE *f)
{
	fprintf(f, "trace,unit,at,events,hit_rate,walks,cycles_per_page,dirty_pages_harvested,pages,"
		   "iotlb_lookups,cycles,harvests,dirty_pages_per_harvest,utlb_hit_rate\n");
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *w = &s->rows[i];
		struct derived d;
		derive(w, &d);
		csv_string(f, w->trace < s->ntraces ? s->traces[w->trace] : "");
		fprintf(f, ",%s,%" PRIu64 ",%" PRIu64, s->ns ? "ns" : "events", w->at, w->d.events);
		csv_num(f, d.hr_ok, d.hr);
		fprintf(f, ",%" PRIu64, w->d.walks);
		csv_num(f, d.cpp_ok, d.cpp);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, w->d.dirty,
			w->d.pages, w->d.hits + w->d.misses, w->d.cycles, w->d.harvests);
		csv_num(f, d.dph_ok, d.dph);
		csv_num(f, d.uhr_ok, d.uhr);
		fputc('\n', f);
	}
}

/* Once, if rows merged: the interval the series has now. */
static void note_coarse(struct series *s)
{
	if (s->noted || s->every == s->every0)
		return;
	s->noted = true;
	fprintf(stderr, "iommusim replay: note: --stats-interval: a series holds at most %zu rows "
		"(--stats-max-rows), so its interval doubled from %" PRIu64 " to %" PRIu64 " %s\n",
		s->max_rows, s->every0, s->every, s->ns ? "ns" : "events");
}

int series_write(struct series *s, const char *path)
{
	note_coarse(s);
	if (s->oom) {
		fprintf(stderr, "iommusim replay: --stats-out %s: out of memory (the samples of the "
			"traces)\n", path);
		return -1;
	}
	struct outfile o;
	if (outfile_open(&o, path))
		return -1;
	if (ends_with(path, ".csv") || ends_with(path, ".CSV"))
		write_csv(s, o.f);
	else
		write_json(s, o.f);
	return outfile_commit(&o);
}

/* ---- charts -------------------------------------------------------------------- */

/* The charts write_gp draws, by file. */
static const struct {
	const char *file, *title, *ylabel;
	int col;
	bool whole;
} charts[] = {
	{"hit_rate.svg", "IOTLB hit rate", "hits / lookups", 2, false},
	{"walks.svg", "Page-table walks", "walks per interval", 3, true},
	{"cycles_per_page.svg", "Translation cycles per page", "cycles / page", 4, false},
	{"dirty_pages.svg", "Dirty pages harvested", "bits reported per interval", 5, true},
};
#define NCHARTS (sizeof(charts) / sizeof(charts[0]))

/* Whitespace columns for gnuplot: at hit_rate walks cycles_per_page dirty. */
static void write_dat(const struct series *s, FILE *f, unsigned trace)
{
	fprintf(f, "# at hit_rate walks cycles_per_page dirty_pages_harvested\n");
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *w = &s->rows[i];
		if (w->trace != trace)
			continue;
		struct derived d;
		derive(w, &d);
		fprintf(f, "%" PRIu64, w->at);
		if (d.hr_ok)
			fprintf(f, " %.6g", d.hr);
		else
			fprintf(f, " NaN");
		fprintf(f, " %" PRIu64, w->d.walks);
		if (d.cpp_ok)
			fprintf(f, " %.6g", d.cpp);
		else
			fprintf(f, " NaN");
		fprintf(f, " %" PRIu64 "\n", w->d.dirty);
	}
}

static bool trace_has_rows(const struct series *s, unsigned t)
{
	for (size_t i = 0; i < s->nrows; i++)
		if (s->rows[i].trace == t)
			return true;
	return false;
}

/* The chart's name for a trace: its file name without the folders. */
static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* The largest value of column col (2..5 of write_dat) over every row. */
static double col_max(const struct series *s, int col)
{
	double m = 0;
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *w = &s->rows[i];
		struct derived d;
		derive(w, &d);
		double v = col == 2 ? (d.hr_ok ? d.hr : 0)
			   : col == 3 ? (double)w->d.walks
			   : col == 4 ? (d.cpp_ok ? d.cpp : 0)
				      : (double)w->d.dirty;
		m = v > m ? v : m;
	}
	return m;
}

static unsigned rows_of(const struct series *s, unsigned t)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->nrows; i++)
		n += s->rows[i].trace == t;
	return n;
}

static void write_gp(const struct series *s, FILE *f, unsigned unused)
{
	(void)unused;
	/* x: events, or trace time in the unit that makes its ticks whole. */
	double lo = 0, hi = 0, div = 1;
	const char *unit = "ns";
	bool any = false;
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *w = &s->rows[i];
		double a = (double)w->at;
		double from = s->ns && w->at > s->every ? a - (double)s->every : 0;
		lo = !any || from < lo ? from : lo;
		hi = !any || a > hi ? a : hi;
		any = true;
	}
	/* Markers of traces that have rows: the others are not on the chart. */
	bool *shown = calloc(s->ntraces ? s->ntraces : 1, sizeof(*shown));
	int keys = 0;
	for (unsigned t = 0; shown && t < s->ntraces; t++)
		keys += shown[t] = trace_has_rows(s, t);
	size_t nmarks = 0;
	for (size_t i = 0; shown && i < s->nph; i++) {
		const struct phase *p = &s->ph[i];
		if (!p->placed || !shown[p->trace])
			continue;
		lo = (double)p->at < lo ? (double)p->at : lo;
		hi = (double)p->at > hi ? (double)p->at : hi;
		nmarks++;
	}
	if (!s->ns)
		lo = 0;
	else
		chart_time_unit(hi - lo, 8, &div, &unit);
	struct chart_mark *marks = nmarks ? calloc(nmarks, sizeof(*marks)) : NULL;
	if (!marks)
		nmarks = 0;
	/* Upright phase labels take the room above the plot. */
	int top_extra = nmarks ? 180 : 0;
	char xlabel[48] = "events";
	if (s->ns)
		snprintf(xlabel, sizeof(xlabel), "trace time (%s)", unit);
	fprintf(f, "# iommusim replay --plot: run `gnuplot stats.gp` in this directory.\n");
	for (size_t c = 0; c < NCHARTS; c++) {
		struct chart ch;
		struct chart_frame fr = {.w = 900,
					 .h = 420 + top_extra + keys * 18,
					 .output = charts[c].file,
					 .title = charts[c].title,
					 .xlabel = xlabel,
					 .ylabel = charts[c].ylabel,
					 .keys = keys,
					 .top_extra = top_extra};
		chart_begin(&ch, f, &fr);
		chart_styles(f);
		chart_axis(&ch, "x", lo / div, hi / div, true, true);
		if (c == 0)
			chart_axis(&ch, "y", 0, 1, false, true);
		else
			chart_axis(&ch, "y", 0, col_max(s, charts[c].col), charts[c].whole, true);
		size_t k = 0;
		for (size_t i = 0; i < s->nph && k < nmarks; i++) {
			const struct phase *p = &s->ph[i];
			if (!p->placed || !shown[p->trace])
				continue;
			int lt = keys > 1 ? (int)(p->trace % CHART_STYLES) + 1 : 0;
			marks[k++] = (struct chart_mark){
				.x = (double)p->at / div, .name = p->name, .len = strlen(p->name), .lt = lt};
		}
		chart_marks(&ch, marks, k, top_extra);
		bool first = true;
		for (unsigned t = 0; shown && t < s->ntraces; t++) {
			if (!shown[t])
				continue;
			/* Markers at most every 40th of the way: a long series
			 * stays a line. */
			unsigned pi = rows_of(s, t) / 40 + 1;
			fprintf(f, "%s'series-%u.dat' using ($1/%.0f):%d with linespoints lt %u pi %u title ",
				first ? "plot " : ", ", t, div, charts[c].col, t % CHART_STYLES + 1, pi);
			chart_str(f, base_name(s->traces[t]), ch.keymax);
			first = false;
		}
		fputc('\n', f);
	}
	free(marks);
	free(shown);
}

int series_plot(struct series *s, const char *dir)
{
	note_coarse(s);
	const char *files[NCHARTS];
	for (size_t i = 0; i < NCHARTS; i++)
		files[i] = charts[i].file;
	struct plot p;
	if (plot_open(&p, "replay", dir))
		return -1;
	bool any = false;
	for (unsigned t = 0; t < s->ntraces; t++) {
		if (!trace_has_rows(s, t))
			continue;
		any = true;
		char name[32];
		snprintf(name, sizeof(name), "series-%u.dat", t);
		FILE *f = plot_file(&p, name);
		if (!f)
			return plot_fail(&p);
		write_dat(s, f, t);
	}
	FILE *f = plot_file(&p, "stats.gp");
	if (!f)
		return plot_fail(&p);
	write_gp(s, f, 0);
	if (!any) {
		fprintf(stderr, "iommusim replay: --plot: no rows, no charts\n");
		return plot_commit(&p);
	}
	if (!chart_have_gnuplot()) {
		fprintf(stderr, "iommusim replay: --plot: gnuplot is not installed; charts skipped "
				"(data and script are in %s)\n", dir);
		return plot_commit(&p);
	}
	if (plot_render(&p, "stats.gp", files, NCHARTS))
		return plot_fail(&p);
	return plot_commit(&p);
}
