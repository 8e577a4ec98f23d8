/* A trace's `# replay-args:` header line (docs/trace-format.md): the
 * options a reproducer was found with (the walker, its isolation, the
 * model's), applied to that trace's replay wherever the command line sets
 * nothing. `iommusim fuzz` writes it (tools/fuzz.c). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "iommusim/pt.h"
#include "iommusim/tracebin.h"
#include "tools/isolate.h"
#include "tools/opts.h"
#include "tools/replay.h"

#define TAG "# replay-args:"
#define TAG_LEN (sizeof(TAG) - 1)
/* A header line longer than this is no line fuzz wrote. */
#define MAX_LINE ((size_t)64 << 10)

/* The options a trace may carry: which walker, how it is isolated, the
 * model's. Outputs, verbosity and -j are the command's, not a trace's. */
enum {
	OPT_H_ISOLATE = OPT_FIRST_FREE + 160,
	OPT_H_NO_ISOLATE,
	OPT_H_TIMEOUT,
};
static const struct option hdr_longopts[] = {
	WALKER_LONG_OPTS,
	{"isolate", no_argument, 0, OPT_H_ISOLATE},
	{"no-isolate", no_argument, 0, OPT_H_NO_ISOLATE},
	{"walker-timeout", required_argument, 0, OPT_H_TIMEOUT},
	MODEL_LONG_OPTS,
	{0, 0, 0, 0},
};

/* The line, split into words in place. */
struct hdr {
	const char *path;
	uint64_t line;
	char *text;
	char **argv; /* argv[0] names the line for getopt */
	int *col;    /* 1-based column of each word */
	int argc;
};

struct model_word {
	int opt;
	const char *arg;
	int col;
};

/* What the line says. */
struct hopts {
	const char *walker, *plugin;
	int walker_col, plugin_col;
	int isolate; /* -1: not said */
	bool timeout_set;
	double timeout;
	struct model_word *model;
	int nmodel;
};

static void hdr_free(struct hdr *h)
{
	free(h->text);
	free(h->argv);
	free(h->col);
	memset(h, 0, sizeof(*h));
}

__attribute__((format(printf, 5, 6)))
static int fail(const struct hdr *h, int col, char *err, size_t len, const char *fmt, ...)
{
	int n = snprintf(err, len, "%s:%llu:%d: replay-args: ", h->path, (unsigned long long)h->line,
			 col);
	if (n >= 0 && (size_t)n < len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Splits h->text (starting at column col0) into words: blanks separate,
 * '...' and "..." quote, a backslash outside single quotes takes the next
 * character as it is (the spelling of a shell, which is how the line is
 * written to be pasted). */
static int split(struct hdr *h, int col0, char *err, size_t len)
{
	size_t max = strlen(h->text) / 2 + 2;
	h->argv = calloc(max + 1, sizeof(*h->argv));
	h->col = calloc(max + 1, sizeof(*h->col));
	if (!h->argv || !h->col)
		return fail(h, col0, err, len, "out of memory");
	h->argv[0] = (char *)"replay-args";
	h->argc = 1;
	char *in = h->text, *out = h->text;
	while (*in) {
		if (*in == ' ' || *in == '\t') {
			in++;
			continue;
		}
		h->argv[h->argc] = out;
		h->col[h->argc] = col0 + (int)(in - h->text);
		h->argc++;
		char q = 0;
		int qcol = 0;
		while (*in && (q || (*in != ' ' && *in != '\t'))) {
			if (q && *in == q) {
				q = 0;
				in++;
			} else if (!q && (*in == '\'' || *in == '"')) {
				q = *in;
				qcol = col0 + (int)(in - h->text);
				in++;
			} else if (*in == '\\' && q != '\'' && in[1]) {
				*out++ = in[1];
				in += 2;
			} else {
				*out++ = *in++;
			}
		}
		if (q)
			return fail(h, qcol, err, len, "the quote %c opened here is not closed", q);
		/* out never passes in: a word ends where a blank was, or at the end. */
		bool end = !*in;
		*out++ = 0;
		if (!end)
			in++;
	}
	h->argv[h->argc] = NULL;
	return 0;
}

/* Reads the header of `path` (the lines before its first event: blank,
 * comment and `iommusim-trace 1` lines) for the replay-args line. 1 with
 * h filled, 0 when there is none, -1 with err when it is not well formed.
 * Only a regular file is read ahead (gzip-compressed or not): a pipe or
 * standard input would lose what was read; a binary trace has no header. */
/* One line of z into buf (at most cap bytes, the newline kept), byte by
 * byte so that a NUL in it is seen (gzgets would hide the rest of the
 * line): its length in *n and the column of its first NUL in *nul (0:
 * none). False at the end of the stream. The header is a few lines, so
 * the cost does not matter. */
static bool get_line(gzFile z, char *buf, size_t cap, size_t *n, size_t *nul)
{
	*n = 0;
	*nul = 0;
	int c;
	while (*n < cap && (c = gzgetc(z)) != -1) {
		if (!c && !*nul)
			*nul = *n + 1;
		buf[(*n)++] = (char)c;
		if (c == '\n')
			break;
	}
	buf[*n] = 0;
	return *n > 0;
}

static int hdr_read(const char *path, struct hdr *h, char *err, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->path = path;
	struct stat st;
	if (!strcmp(path, "-") || stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	gzFile z = gzopen(path, "rb");
	if (!z)
		return 0; /* the replay says why it cannot be read */
	char *buf = malloc(MAX_LINE + 2);
	if (!buf) {
		gzclose(z);
		return fail(h, 1, err, len, "out of memory");
	}
	int rc = 0;
	uint64_t lineno = 0;
	bool first = true, longline = false;
	size_t n, nul;
	while (get_line(z, buf, MAX_LINE + 1, &n, &nul)) {
		bool whole = n && buf[n - 1] == '\n';
		bool cont = longline;
		longline = !whole && !gzeof(z);
		if (cont)
			continue; /* the rest of a long comment line */
		lineno++;
		if (first && n >= 4 && !memcmp(buf, IMS_BIN_MAGIC, 4))
			break;
		first = false;
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = 0;
		if (!strncmp(buf, TAG, TAG_LEN)) {
			if (nul) {
				h->line = lineno;
				rc = fail(h, (int)nul, err, len, "a NUL byte in the line");
				break;
			}
			if (h->line) {
				uint64_t first_line = h->line;
				h->line = lineno;
				rc = fail(h, 1, err, len, "a second replay-args line (the first is line %llu)",
					  (unsigned long long)first_line);
				break;
			}
			h->line = lineno;
			if (longline) {
				rc = fail(h, 1, err, len, "the line is longer than %zu bytes", MAX_LINE);
				break;
			}
			h->text = strdup(buf + TAG_LEN);
			if (!h->text) {
				rc = fail(h, 1, err, len, "out of memory");
				break;
			}
			continue;
		}
		const char *p = buf + strspn(buf, " \t");
		if (!*p || *p == '#' || (lineno == 1 && !strncmp(p, "iommusim-trace", 14)))
			continue;
		break; /* the first event: the header is over */
	}
	free(buf);
	gzclose(z);
	if (rc)
		return rc;
	if (!h->line)
		return 0;
	if (split(h, (int)TAG_LEN + 1, err, len))
		return -1;
	return 1;
}

/* The value's column: after '=' in --opt=value, else the next word. */
static int value_col(const struct hdr *h, int at, int next)
{
	const char *eq = strchr(h->argv[at], '=');
	if (eq && next == at + 1)
		return h->col[at] + (int)(eq - h->argv[at]) + 1;
	return next > at + 1 ? h->col[at + 1] : h->col[at];
}

static int hdr_parse(struct hdr *h, struct hopts *o, char *err, size_t len)
{
	memset(o, 0, sizeof(*o));
	o->isolate = -1;
	o->model = calloc((size_t)h->argc, sizeof(*o->model));
	if (!o->model)
		return fail(h, 1, err, len, "out of memory");
	optind = 0; /* glibc: start afresh on another argv */
	opterr = 0;
	for (;;) {
		int at = optind ? optind : 1;
		int c = getopt_long(h->argc, h->argv, "+", hdr_longopts, NULL);
		if (c == -1)
			break;
		int vcol = value_col(h, at, optind);
		switch (c) {
		case OPT_WALKER:
			o->walker = optarg;
			o->walker_col = vcol;
			o->plugin = NULL; /* the last one given wins */
			break;
		case OPT_WALKER_PLUGIN:
			o->plugin = optarg;
			o->plugin_col = vcol;
			o->walker = NULL;
			break;
		case OPT_H_ISOLATE:
			o->isolate = 1;
			break;
		case OPT_H_NO_ISOLATE:
			o->isolate = 0;
			break;
		case OPT_H_TIMEOUT:
			if (iso_timeout_value(optarg, &o->timeout))
				return fail(h, vcol, err, len,
					    "--walker-timeout: '%s' is not a number of seconds (0 = no limit)",
					    optarg);
			o->timeout_set = true;
			break;
		case '?': {
			/* getopt names a long option it knows in optopt (a value
			 * missing, or one given to a flag); 0 for one it does not. */
			const char *w = h->argv[at];
			if (!strncmp(w, "--", 2) && optopt)
				return fail(h, h->col[at], err, len, strchr(w, '=') ? "'%s' takes no value"
										    : "'%s' needs a value",
					    w);
			return fail(h, h->col[at], err, len,
				    "'%s' is not an option a trace carries (the walker, its isolation and "
				    "model options are)",
				    w);
		}
		default:
			o->model[o->nmodel].opt = c;
			o->model[o->nmodel].arg = optarg;
			o->model[o->nmodel].col = vcol;
			o->nmodel++;
			break;
		}
	}
	if (optind < h->argc)
		return fail(h, h->col[optind], err, len, "'%s' is not an option", h->argv[optind]);
	return 0;
}

void rp_plugins_free(struct rp_plugins *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		ims_walker_plugin_unload(pl->v[i].p);
		free(pl->v[i].path);
	}
	free(pl->v);
	pl->v = NULL;
	pl->n = 0;
}

/* The plug-in at path, loaded the first time a trace names it. */
static int plugin_get(struct rp_plugins *pl, const char *path, struct ims_walker_plugin **out,
		      char *why, size_t len)
{
	for (size_t i = 0; i < pl->n; i++) {
		if (!strcmp(pl->v[i].path, path)) {
			*out = pl->v[i].p;
			return 0;
		}
	}
	struct rp_plugin *v = realloc(pl->v, (pl->n + 1) * sizeof(*v));
	if (!v) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	pl->v = v;
	char *copy = strdup(path);
	if (!copy) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if (ims_walker_plugin_load(path, out, why, len)) {
		free(copy);
		return -1;
	}
	pl->v[pl->n].path = copy;
	pl->v[pl->n].p = *out;
	pl->n++;
	return 0;
}

/* The command line's walker. */
static void cmdline_walker(const struct rp_cmdline *cl, struct rp_trace_opts *out)
{
	out->walker = cl->wc->builtin;
	out->plugin = walker_plugin_ops(cl->wc);
	out->walker_name = walker_name(cl->wc);
}

int rp_trace_opts(const struct rp_cmdline *cl, struct rp_plugins *pl, const char *path,
		  struct rp_trace_opts *out, char *err, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->model = cl->o.model;
	cmdline_walker(cl, out);
	struct hdr h;
	struct hopts o = {.isolate = -1};
	int rc = hdr_read(path, &h, err, len);
	if (rc > 0)
		rc = hdr_parse(&h, &o, err, len) ? -1 : 1;
	if (rc > 0 && !cl->walker_set && (o.walker || o.plugin)) {
		/* An option the command line sets is not read from the header,
		 * not even checked: a plug-in's path from another machine does
		 * not stop a replay that names its own walker. */
		char why[512];
		if (o.plugin) {
			struct ims_walker_plugin *p;
			if (plugin_get(pl, o.plugin, &p, why, sizeof(why))) {
				rc = fail(&h, o.plugin_col, err, len, "--walker-plugin: %s", why);
			} else {
				out->plugin = ims_walker_plugin_ops(p);
				out->walker_name = out->plugin->name;
			}
		} else if (ims_pt_walker_parse(o.walker, &out->walker)) {
			rc = fail(&h, o.walker_col, err, len,
				  "--walker: unknown walker '%s' (iommusim help replay lists the "
				  "built-in ones)",
				  o.walker);
		} else {
			out->plugin = NULL;
			out->walker_name = ims_pt_walker_name(out->walker);
		}
	}
	if (rc > 0 && o.nmodel) {
		/* The trace's model options, then the command line's over them:
		 * the command line wins wherever both set a key. */
		out->model = cl->base;
		char msg[1200];
		for (int i = 0; rc > 0 && i < o.nmodel; i++) {
			if (model_opt_msg(o.model[i].opt, o.model[i].arg, &out->model, msg,
					  sizeof(msg)) < 0)
				rc = fail(&h, o.model[i].col, err, len, "%s", msg);
		}
		for (size_t i = 0; rc > 0 && i < cl->nmodel; i++) {
			if (model_opt_msg(cl->model[i].opt, cl->model[i].arg, &out->model, msg,
					  sizeof(msg)) < 0) {
				snprintf(err, len, "iommusim replay: %s", msg);
				rc = -1;
			}
		}
	}
	out->isolate = cl->isolate >= 0 ? cl->isolate == 1
		       : o.isolate >= 0 ? o.isolate == 1
					: out->plugin != NULL;
	out->timeout = cl->timeout_set ? cl->timeout : o.timeout_set ? o.timeout : ISO_DEFAULT_TIMEOUT;
	free(o.model);
	hdr_free(&h);
	return rc < 0 ? -1 : 0;
}

bool rp_header_isolates(const struct rp_cmdline *cl, const char *path)
{
	if (cl->isolate >= 0)
		return false;
	struct hdr h;
	struct hopts o = {.isolate = -1};
	char err[256];
	bool yes = false;
	if (hdr_read(path, &h, err, sizeof(err)) > 0 && !hdr_parse(&h, &o, err, sizeof(err)))
		yes = o.isolate == 1 || (o.isolate < 0 && !cl->walker_set && o.plugin);
	free(o.model);
	hdr_free(&h);
	return yes;
}
