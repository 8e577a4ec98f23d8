/* gnuplot charts that people read: the script pieces `replay --plot`,
 * `migrate --plot` and `bench --plot` share (docs/timing.md,
 * docs/migrate.md, docs/benchmarks.md).
 *
 * - Every series has its own colour, dash pattern and point marker, and the
 *   series drawn later are thinner with smaller markers, so a series that
 *   coincides with another shows as a stripe inside it instead of hiding it.
 * - Axis ticks step by 1, 2 or 5 times a power of ten; an axis of counts
 *   never steps by less than 1, so it never shows a fraction.
 * - The plot box, the title, the legend and the phase labels are placed in
 *   pixels by this code, not left to gnuplot's margins, so that all of them
 *   stay inside the SVG's canvas whatever the lengths of the texts.
 */
#ifndef IMS_TOOLS_CHART_H
#define IMS_TOOLS_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Text sizes in px. Widths are estimated at CHART_EM of the size per
 * character, which holds for the Arial/Helvetica digits and letters
 * gnuplot's SVG names (a wide estimate: a text may end short of it). */
#define CHART_FONT 12
#define CHART_SMALL 10
#define CHART_EM 0.6

/* Series styles: CHART_STYLES line types, set with chart_styles(). */
#define CHART_STYLES 6

struct chart {
	FILE *f;
	int w, h;                /* canvas, px */
	int left, right, top, bottom; /* plot box edges, px from the canvas' left and top */
	double xlo, xhi;         /* x range, after chart_axis() */
	size_t keymax;           /* characters a legend entry may have */
};

/* The frame of one chart: canvas, title, axis labels and a legend of
 * `keys` entries (one a row, below the plot; write each entry's title with
 * chart_str(f, title, c->keymax)); `top_extra` px are kept between the title and the plot (phase labels),
 * `bottom_extra` px under the plot for the x tick labels (rotated
 * category names; 0 for numbers). Writes the terminal, output, margins,
 * title, labels and the legend's place. */
struct chart_frame {
	int w, h;
	const char *output, *title, *xlabel, *ylabel;
	int keys;
	int top_extra, bottom_extra;
};
void chart_begin(struct chart *c, FILE *f, const struct chart_frame *fr);

/* The longest text that fits in px at size font, in characters. */
size_t chart_fit(int px, int font);

/* s as a gnuplot single-quoted string, cut to max characters with "..."
 * (0: no limit); control characters dropped. */
void chart_str(FILE *f, const char *s, size_t max);
void chart_strn(FILE *f, const char *s, size_t len, size_t max);

/* The line types 1..CHART_STYLES (colour, dash, marker, width, size). */
void chart_styles(FILE *f);

/* A step of 1, 2 or 5 x 10^k giving at most `ticks` steps over span; at
 * least 1 when whole. */
double chart_step(double span, int ticks, bool whole);

/* A linear axis ("x" or "y") over [lo, hi]: range, ticks and tick format.
 * whole: an axis of counts (integer ticks). snap: the range grows to
 * multiples of the step; else it is [lo, hi] as given. For x, c->xlo/xhi
 * take the range. */
void chart_axis(struct chart *c, const char *ax, double lo, double hi, bool whole, bool snap);
/* A log axis over [lo, hi] (both > 0): ticks at 1, 2 and 5 x 10^k (only
 * 10^k over more than four decades), the range from the tick at or below
 * lo to the one at or above hi. */
void chart_log_axis(struct chart *c, const char *ax, double lo, double hi);

/* Nanoseconds in the unit whose ticks are whole: the divisor and name of
 * the largest of ns, us, ms, s not above the step of a span of ns. */
void chart_time_unit(double span_ns, int ticks, double *div, const char **name);

/* Labelled vertical lines at x (in the axis' units, after chart_axis):
 * a dashed line across the plot in line type lt's colour (0: grey), and
 * its label turned upright above the plot, in the `top_extra` space.
 * Labels closer than a line of text are moved apart and joined to their
 * line by a short leader; when more markers come than labels fit across
 * the canvas, every k-th is labelled. Sorts m by x. */
struct chart_mark {
	double x;
	const char *name;
	size_t len;
	int lt;
};
void chart_marks(struct chart *c, struct chart_mark *m, size_t n, int top_extra);

/* Whether gnuplot is on PATH. */
bool chart_have_gnuplot(void);

/* ---- a --plot directory (tools/plot.c) ----
 * Its files are written in a staging directory inside DIR and renamed into
 * DIR when the run ends well (tools/outputs.c). plot_open makes DIR and the
 * staging directory; plot_file opens one file of the set (NULL on error);
 * plot_render runs gnuplot there on `script` and checks its exit status and
 * that each of `charts` is a whole SVG (its messages in gnuplot.log, part
 * of the set); plot_commit closes what is open and leaves the set to be
 * renamed at the end. Each returns 0, or -1 with a message: the caller then
 * calls plot_fail (the set removed, the run's outputs failed) and exits 2.
 * plot_abort removes the set without failing the run. */
struct plot {
	const char *cmd; /* "replay": messages say "iommusim replay: --plot: ..." */
	char *dir, *tmp;
	int tmp_id;
	struct plot_file {
		char *name; /* in the staging directory */
		FILE *f;
		int *werr; /* wstream_open's */
		int id;
	} *f;
	size_t n, cap;
};
int plot_open(struct plot *p, const char *cmd, const char *dir);
FILE *plot_file(struct plot *p, const char *name);
int plot_render(struct plot *p, const char *script, const char *const *charts, size_t n);
int plot_commit(struct plot *p);
void plot_abort(struct plot *p);
int plot_fail(struct plot *p);

#endif
