/* gnuplot script pieces for readable charts (tools/chart.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/chart.h"

/* Vertical room, px: the title's line, a row of tick labels, the x axis
 * label, a legend row (gnuplot's spacing for a 12 px font). */
#define TITLE_ROOM 44
#define TICK_ROOM 24
#define XLABEL_ROOM 22
#define KEY_ROW 18
#define EDGE 10
/* Horizontal: y tick labels of up to ten digits and the turned y label. */
#define LEFT_ROOM 100
#define RIGHT_ROOM 28

/* Characters of a UTF-8 text: bytes that do not continue a sequence. */
static size_t chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

size_t chart_fit(int px, int font)
{
	double n = px / (CHART_EM * font);
	return n < 4 ? 4 : (size_t)n;
}

void chart_strn(FILE *f, const char *s, size_t len, size_t max)
{
	size_t keep = len;
	bool cut = max && chars(s, len) > max;
	if (cut) {
		/* max - 3 characters, then "...", never half a character. */
		size_t n = 0;
		keep = 0;
		while (keep < len) {
			size_t next = keep + 1;
			while (next < len && ((unsigned char)s[next] & 0xc0) == 0x80)
				next++;
			if (++n > max - 3)
				break;
			keep = next;
		}
	}
	fputc('\'', f);
	for (size_t i = 0; i < keep; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\'')
			fputc('\'', f); /* '' inside a single-quoted gnuplot string */
		if (ch >= 0x20 && ch != 0x7f)
			fputc(ch, f);
	}
	if (cut)
		fputs("...", f);
	fputc('\'', f);
}

void chart_str(FILE *f, const char *s, size_t max)
{
	chart_strn(f, s ? s : "", s ? strlen(s) : 0, max);
}

void chart_begin(struct chart *c, FILE *f, const struct chart_frame *fr)
{
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->w = fr->w;
	c->h = fr->h;
	c->left = LEFT_ROOM;
	c->right = fr->w - RIGHT_ROOM;
	c->top = TITLE_ROOM + fr->top_extra;
	int below = TICK_ROOM + fr->bottom_extra + (fr->xlabel ? XLABEL_ROOM : 0);
	c->bottom = fr->h - below - fr->keys * KEY_ROW - EDGE;
	/* The legend's line sample and its gap take about 60 px. */
	c->keymax = chart_fit(c->w - 2 * EDGE - 60, CHART_FONT);
	/* Each chart of a script starts from gnuplot's defaults. */
	fprintf(f,
		"reset\n"
		"set terminal svg size %d,%d dynamic background rgb 'white' font 'Arial,%d'\n"
		"set output ",
		fr->w, fr->h, CHART_FONT);
	chart_str(f, fr->output, 0);
	fprintf(f,
		"\nset lmargin at screen %.6f\nset rmargin at screen %.6f\n"
		"set tmargin at screen %.6f\nset bmargin at screen %.6f\n",
		(double)c->left / c->w, (double)c->right / c->w, 1 - (double)c->top / c->h,
		1 - (double)c->bottom / c->h);
	fprintf(f, "set datafile missing 'NaN'\nset grid\n");
	/* The title as a label at a fixed place: gnuplot's own title sits just
	 * above the plot, where the phase labels go. */
	fprintf(f, "set label 9000 ");
	chart_str(f, fr->title, chart_fit(c->w - 2 * EDGE, CHART_FONT + 2));
	fprintf(f, " at screen 0.5, screen %.6f center font ',%d' noenhanced front\n",
		1 - 26.0 / c->h, CHART_FONT + 2);
	if (fr->xlabel) {
		fprintf(f, "set xlabel ");
		chart_str(f, fr->xlabel, chart_fit(c->right - c->left, CHART_FONT));
		fprintf(f, " noenhanced\n");
	}
	if (fr->ylabel) {
		fprintf(f, "set ylabel ");
		chart_str(f, fr->ylabel, chart_fit(c->bottom - c->top, CHART_FONT));
		fprintf(f, " noenhanced\n");
	}
	if (fr->keys) {
		/* One entry a row under everything else, from the left edge:
		 * the sample first, then the text, so a long text runs toward
		 * the free right side instead of pushing the sample out of the
		 * canvas (gnuplot centres a key on its text's estimated width). */
		double y = 1 - (double)(c->bottom + below + EDGE / 2) / c->h;
		fprintf(f,
			"set key at screen %.6f, screen %.6f left top vertical Left reverse "
			"maxcols 1 maxrows %d noenhanced samplen 4 spacing 1 nobox\n",
			(double)EDGE / c->w, y, fr->keys);
	} else {
		fprintf(f, "unset key\n");
	}
}

/* Colour-blind safe colours (Okabe and Ito), dash patterns and markers
 * that differ pair by pair; widths and marker sizes shrink with the
 * order, so a later series drawn over an earlier one leaves it showing. */
void chart_styles(FILE *f)
{
	static const struct {
		const char *rgb;
		int dt, pt;
		double lw, ps;
	} st[CHART_STYLES] = {
		{"#0072B2", 1, 7, 3.0, 1.4},  {"#D55E00", 2, 4, 2.0, 1.1},
		{"#009E73", 3, 9, 1.25, 0.8}, {"#CC79A7", 4, 12, 1.0, 0.7},
		{"#E69F00", 5, 2, 1.0, 0.7},  {"#56B4E9", 1, 8, 1.0, 0.6},
	};
	for (int i = 0; i < CHART_STYLES; i++)
		fprintf(f, "set linetype %d lc rgb '%s' dt %d pt %d lw %.2f ps %.2f\n", i + 1,
			st[i].rgb, st[i].dt, st[i].pt, st[i].lw, st[i].ps);
	/* gnuplot's SVG draws dash type 1 solid; other types as patterns that
	 * scale with the width: a thin dotted line over a thick one stays
	 * visible. */
	fprintf(f, "set linetype cycle %d\n", CHART_STYLES);
}

double chart_step(double span, int ticks, bool whole)
{
	if (!(span > 0) || ticks < 1)
		return 1;
	double raw = span / ticks;
	double p = pow(10, floor(log10(raw)));
	double m = raw / p;
	/* m is in [1, 10): the first of 1, 2, 5, 10 at or above it. */
	double step = m <= 1 + 1e-9 ? p : m <= 2 + 1e-9 ? 2 * p : m <= 5 + 1e-9 ? 5 * p : 10 * p;
	return whole && step < 1 ? 1 : step;
}

/* Decimals that show every multiple of step exactly. */
static int decimals(double step)
{
	int d = 0;
	while (d < 12 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
		d++;
	return d;
}

void chart_axis(struct chart *c, const char *ax, double lo, double hi, bool whole, bool snap)
{
	if (!(hi >= lo))
		hi = lo;
	double step = chart_step(hi - lo, 8, whole);
	if (snap) {
		lo = floor(lo / step + 1e-9) * step;
		hi = ceil(hi / step - 1e-9) * step;
	}
	if (hi <= lo)
		hi = lo + step;
	double first = ceil(lo / step - 1e-9) * step + 0.0;
	if (first == 0)
		first = 0; /* not -0 */
	int d = whole ? 0 : decimals(step);
	fprintf(c->f,
		"unset logscale %s\nset %srange [%.12g:%.12g]\nset %stics %.12g, %.12g, %.12g\n"
		"unset m%stics\nset format %s '%%.%df'\n",
		ax, ax, lo, hi, ax, first, step, hi + step / 2, ax, ax, d);
	if (!strcmp(ax, "x")) {
		c->xlo = lo;
		c->xhi = hi;
	}
}

/* A tick value as its label: integers in full, fractions as %g gives them
 * (no exponent down to 1e-4). */
static void tick_label(FILE *f, double v)
{
	if (v >= 1)
		fprintf(f, "'%.0f'", v);
	else
		fprintf(f, "'%g'", v);
}

void chart_log_axis(struct chart *c, const char *ax, double lo, double hi)
{
	if (!(lo > 0))
		lo = 1;
	if (!(hi >= lo))
		hi = lo;
	static const double mant[3] = {1, 2, 5};
	int k0 = (int)floor(log10(lo) + 1e-9), k1 = (int)ceil(log10(hi) - 1e-9);
	if (k1 <= k0)
		k1 = k0 + 1;
	bool all = k1 - k0 <= 4;
	/* The range: the tick at or below lo, the tick at or above hi. */
	double rlo = pow(10, k0), rhi = pow(10, k1);
	for (int i = all ? 2 : 0; i >= 0; i--)
		if (mant[i] * pow(10, k0) <= lo * (1 + 1e-9)) {
			rlo = mant[i] * pow(10, k0);
			break;
		}
	for (int k = k1 - 1; all && k <= k1; k++)
		for (int i = 0; i < 3; i++) {
			double v = mant[i] * pow(10, k);
			if (v >= hi * (1 - 1e-9) && v < rhi)
				rhi = v;
		}
	/* A little room beyond the outer ticks, so that a point on one is not
	 * drawn on the frame. */
	fprintf(c->f, "set logscale %s\nset %srange [%.12g:%.12g]\nunset m%stics\nset %stics (",
		ax, ax, rlo / 1.2, rhi * 1.2, ax, ax);
	bool first = true;
	for (int k = k0; k <= k1; k++)
		for (int i = 0; i < (all ? 3 : 1); i++) {
			double v = mant[i] * pow(10, k);
			if (v < rlo * (1 - 1e-9) || v > rhi * (1 + 1e-9))
				continue;
			fprintf(c->f, "%s", first ? "" : ", ");
			tick_label(c->f, v);
			fprintf(c->f, " %.12g", v);
			first = false;
		}
	fprintf(c->f, ")\n");
}

void chart_time_unit(double span_ns, int ticks, double *div, const char **name)
{
	static const struct {
		double div;
		const char *name;
	} u[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
	double step = chart_step(span_ns, ticks, true);
	size_t i = 0;
	while (i < 3 && u[i].div > step)
		i++;
	*div = u[i].div;
	*name = u[i].name;
}

static int mark_cmp(const void *a, const void *b)
{
	const struct chart_mark *x = a, *y = b;
	return (x->x > y->x) - (x->x < y->x);
}

void chart_marks(struct chart *c, struct chart_mark *m, size_t n, int top_extra)
{
	if (!n || !(c->xhi > c->xlo))
		return;
	qsort(m, n, sizeof(*m), mark_cmp);
	double *px = malloc(n * sizeof(*px)), *at = malloc(n * sizeof(*at));
	if (!px || !at) {
		free(px);
		free(at);
		return;
	}
	double span = c->right - c->left;
	/* One line of upright text, and the room a label may take. More
	 * markers than labels fit in it get a label every `every`-th; every
	 * one keeps its line. */
	double gap = CHART_SMALL + 3, lo = c->left, hi = c->w - EDGE;
	size_t fit = (size_t)((hi - lo) / gap) + 1, every = (n + fit - 1) / fit;
	double prev = 0;
	for (size_t i = 0; i < n; i++) {
		double f = (m[i].x - c->xlo) / (c->xhi - c->xlo);
		px[i] = c->left + (f < 0 ? 0 : f > 1 ? 1 : f) * span;
		if (i % every)
			continue;
		at[i] = i && px[i] < prev + gap ? prev + gap : px[i];
		prev = at[i];
	}
	/* Labels pushed past the right edge come back leftwards. */
	double next = hi + gap;
	for (size_t i = n; i-- > 0;) {
		if (i % every)
			continue;
		if (at[i] > next - gap)
			at[i] = next - gap > lo ? next - gap : lo;
		next = at[i];
	}
	size_t max = chart_fit(top_extra - 16, CHART_SMALL);
	double base = c->top - 14; /* px from the canvas' top, where labels start */
	for (size_t i = 0; i < n; i++) {
		bool labelled = i % every == 0;
		/* The same colour as a line colour and as a text colour. */
		char lc[32], tc[32];
		if (m[i].lt > 0) {
			snprintf(lc, sizeof(lc), "lt %d", m[i].lt);
			snprintf(tc, sizeof(tc), "lt %d", m[i].lt);
		} else {
			snprintf(lc, sizeof(lc), "lc rgb '#555555'");
			snprintf(tc, sizeof(tc), "rgb '#555555'");
		}
		fprintf(c->f,
			"set arrow %zu from first %.12g, graph 0 to first %.12g, graph 1 nohead %s "
			"lw 1 dt 2 back\n",
			100 + 2 * i, m[i].x, m[i].x, lc);
		if (!labelled)
			continue;
		fprintf(c->f,
			"set arrow %zu from first %.12g, graph 1 to screen %.6f, screen %.6f nohead %s "
			"lw 1 dt 1 front\n",
			101 + 2 * i, m[i].x, at[i] / c->w, 1 - (base + 2) / c->h, lc);
		/* An upright text hangs left of its baseline: shift it by a
		 * third of its size to centre it on the leader. */
		fprintf(c->f, "set label %zu ", 100 + i);
		chart_strn(c->f, m[i].name, m[i].len, max);
		fprintf(c->f,
			" at screen %.6f, screen %.6f rotate by 90 left font ',%d' tc %s "
			"noenhanced front\n",
			(at[i] + CHART_SMALL / 3.0) / c->w, 1 - base / c->h, CHART_SMALL, tc);
	}
	free(px);
	free(at);
}

bool chart_have_gnuplot(void)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char buf[4096];
		if (len && len + sizeof("/gnuplot") < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/gnuplot", (int)len, path);
			if (!access(buf, X_OK))
				return true;
		}
		path += len + (path[len] == ':');
	}
	return false;
}
