/* iommusim replay --stats-interval: a time series of the model's counters,
 * written as JSON or CSV and drawn with gnuplot (docs/timing.md).
 */
#ifndef IMS_TOOLS_STATS_H
#define IMS_TOOLS_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "iommusim/replay.h"

struct series;

/* "N" (every N events) or N followed by ns, us, ms or s (every span of
 * trace time, from the @timestamps; *ns set, *every in ns). Prints
 * "iommusim CMD: --stats-interval: ..." and returns -1 on error. */
int series_parse_interval(const char *cmd, const char *arg, uint64_t *every, bool *ns);

/* Rows a series holds by default (--stats-max-rows). */
#define SERIES_MAX_ROWS ((size_t)1 << 20)
/* max_rows 0: SERIES_MAX_ROWS. */
struct series *series_new(uint64_t every, bool ns, size_t max_rows);
void series_free(struct series *s);

/* Bracket each trace's replay; between them, series_hook is the replay's
 * on_event with the series as its argument. series_end closes the last,
 * partial interval. A series holds at most max_rows rows: past them its
 * interval doubles and its rows merge in pairs (a note says so when it is
 * written). */
void series_begin(struct series *s, const char *trace);
/* The reader of the trace series_begin named: the `# phase: NAME`
 * markers it passes go on the charts. */
void series_reader(struct series *s, struct ims_reader *rd);
void series_hook(void *arg, struct ims_replay *r, const struct ims_event *ev);
void series_end(struct series *s, struct ims_replay *r);


/* Written atomically: CSV when path ends in .csv, JSON (an array of row
 * objects) otherwise; "-" is standard output (JSON). 0 or -1 (printed). */
int series_write(struct series *s, const char *path);
/* SVG charts in dir through gnuplot. A missing gnuplot is reported and
 * skipped (returns 0); -1 only when dir or its files cannot be written. */
int series_plot(struct series *s, const char *dir);

#endif
