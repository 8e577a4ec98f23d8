/* iommusim conform: one case, one format, in a fresh replayer. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommusim/pt.h"
#include "iommusim/replay.h"
#include "tools/cmd.h"
#include "tools/conform.h"
#include "tools/isolate.h"

const char *cf_expect_name(enum cf_expect e)
{
	static const char *const n[] = {"pass", "fail-validation", "input-error"};
	return (unsigned)e < 3 ? n[e] : "?";
}

__attribute__((format(printf, 2, 3))) static char *fmt_str(char **dst, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = NULL;
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	free(*dst);
	*dst = p;
	return p;
}

static const char placeholder[] = "{format}";

/* A format that a `domain` line of the body names and plug-in walker w does
 * not handle (a nesting parent's stage-2 format under a stage-1 walker, say),
 * or -1. Such a case does not apply to the walker: it is skipped, as the
 * body's own format is by --format. */
static int body_unhandled_format(const char *text, size_t len, const struct ims_walker_ops *w)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *q = p;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(eol - q) > 7 && !memcmp(q, "domain ", 7)) {
			for (const char *f = q; f + 7 <= eol; f++) {
				if (memcmp(f, "format=", 7) || (f > q && f[-1] != ' '))
					continue;
				const char *v = f + 7, *ve = v;
				while (ve < eol && *ve != ' ' && *ve != '\t' && *ve != '#')
					ve++;
				enum ims_format fm;
				if (!ims_format_parse(v, (size_t)(ve - v), &fm) &&
				    (unsigned)fm < IMS_FMT_COUNT && !(w->formats & (1u << fm)))
					return (int)fm;
			}
		}
		p = eol + 1;
	}
	return -1;
}

/* The body as the reader sees it: the YAML indentation put back, so that
 * columns in messages are the YAML file's, and {format} replaced in a
 * shared body. */
static char *build_text(const struct cf_case *c, const struct cf_body *b, enum ims_format fmt,
			size_t *lenp)
{
	const char *name = ims_format_name(fmt);
	size_t nlen = strlen(name), plen = sizeof(placeholder) - 1;
	size_t lines = 1, subs = 0;
	for (size_t i = 0; i < b->len; i++)
		lines += b->text[i] == '\n';
	if (c->shared)
		for (const char *p = b->text; (p = strstr(p, placeholder)); p += plen)
			subs++;
	size_t cap = b->len + lines * b->indent + subs * (nlen > plen ? nlen - plen : 0) + 1;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t o = 0;
	bool bol = true;
	for (size_t i = 0; i < b->len;) {
		char ch = b->text[i];
		if (bol && ch != '\n') {
			memset(out + o, ' ', b->indent);
			o += b->indent;
		}
		bol = ch == '\n';
		if (c->shared && ch == '{' && b->len - i >= plen && !memcmp(b->text + i, placeholder, plen)) {
			memcpy(out + o, name, nlen);
			o += nlen;
			i += plen;
			continue;
		}
		out[o++] = ch;
		i++;
	}
	out[o] = '\0';
	*lenp = o;
	return out;
}

/* Line of a "FILE:LINE:COL: ..." message about file, or 0. */
static uint64_t msg_line(const char *msg, const char *file)
{
	size_t n = strlen(file);
	if (strncmp(msg, file, n) || msg[n] != ':')
		return 0;
	char *end;
	unsigned long long l = strtoull(msg + n + 1, &end, 10);
	return end != msg + n + 1 && *end == ':' ? l : 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The first validation message, as a one-line summary. */
static void first_message(char **dst, const char *detail, uint64_t count)
{
	size_t n = detail ? strcspn(detail, "\n") : 0;
	fmt_str(dst, "%" PRIu64 " validation failure%s%s%.*s", count, count == 1 ? "" : "s",
		n ? "; first: " : "", (int)n, detail ? detail : "");
}

/* An isolated case: what the child reports back through the shared block. */
#define CF_ISO_TEXT 16384
struct cf_iso {
	struct iso_state st; /* beat: one per event */
	volatile uint64_t line;
	volatile int freeing; /* past the events: the walker's domain_free runs */
	int rc;
	uint64_t vf;
	double secs;
	char msg[1024];
	char detail[CF_ISO_TEXT];
};

struct cf_child {
	struct ims_replay *r;
	struct ims_reader *rd;
	FILE *dg;
	char **dbuf;
	size_t *dlen;
	struct cf_iso *sh;
};

static void cf_beat(void *arg, struct ims_replay *r, const struct ims_event *ev)
{
	(void)r;
	struct cf_iso *sh = arg;
	sh->line = ev->line;
	sh->st.beat++;
}

static int cf_child_work(void *arg)
{
	struct cf_child *k = arg;
	double t0 = now();
	int rc = ims_replay_run(k->r, k->rd);
	k->sh->secs = now() - t0;
	fflush(k->dg);
	k->sh->rc = rc;
	k->sh->vf = ims_replay_stats(k->r)->validation_failures;
	snprintf(k->sh->msg, sizeof(k->sh->msg), "%s", rc ? ims_replay_error(k->r) : "");
	size_t n = *k->dbuf ? *k->dlen : 0;
	static const char cut[] = "\n(the rest of the messages is not shown)\n";
	if (n >= CF_ISO_TEXT) {
		n = CF_ISO_TEXT - sizeof(cut);
		memcpy(k->sh->detail + n, cut, sizeof(cut));
	} else {
		k->sh->detail[n] = '\0';
	}
	if (n)
		memcpy(k->sh->detail, *k->dbuf, n);
	/* The walker's domain_free runs here too, watched. */
	k->sh->freeing = 1;
	ims_replay_free(k->r);
	return 0;
}

void cf_run(const struct cf_case *c, enum ims_format fmt, const struct ims_iommu_cfg *base,
	    const struct walker_choice *wc, double iso_timeout, struct cf_result *out)
{
	memset(out, 0, sizeof(*out));
	out->c = c;
	out->fmt = fmt;
	const struct cf_body *b = c->shared ? &c->body[0] : &c->body[fmt];

	struct ims_replay_opts o;
	ims_replay_opts_default(&o);
	o.model = *base;
	cf_model_apply(c, &o.model);
	o.verbosity = 0;
	if (!c->walker && wc) {
		o.walker = wc->builtin;
		o.plugin = walker_plugin_ops(wc);
	}
	if (c->builtin_sw && o.plugin) {
		out->status = CF_SKIP;
		fmt_str(&out->summary, "pins the built-in software's encoding (software: built-in): "
			"not applicable to plug-in walker %s", o.plugin->name);
		return;
	}
	if (c->walker && ims_pt_walker_parse(c->walker, &o.walker)) {
		out->status = CF_SKIP;
		fmt_str(&out->summary, "walker '%s' is not built in (configure with "
			"-DIMS_SEEDED_BUGS=ON)", c->walker);
		return;
	}

	size_t len = 0;
	char *text = build_text(c, b, fmt, &len);
	int other = text && o.plugin ? body_unhandled_format(text, len, o.plugin) : -1;
	if (other >= 0) {
		out->status = CF_SKIP;
		fmt_str(&out->summary, "the body also uses format %s, which plug-in walker %s "
			"does not handle: not applicable",
			ims_format_name((enum ims_format)other), o.plugin->name);
		free(text);
		return;
	}
	char *dbuf = NULL;
	size_t dlen = 0;
	FILE *dg = open_memstream(&dbuf, &dlen);
	struct ims_reader *rd = NULL;
	struct ims_replay *r = NULL;
	struct cf_iso *sh = NULL;
	o.diag = dg;
	if (iso_timeout >= 0) {
		sh = iso_shared_new(sizeof(*sh));
		if (!sh) {
			out->status = CF_ERROR;
			fmt_str(&out->summary, "%s:%" PRIu64 ": out of memory", c->file, c->line);
			goto done;
		}
		o.on_event = cf_beat;
		o.on_event_arg = sh;
	}
	if (!text || !dg || ims_reader_open_mem(c->file, text, len, b->first_line, &rd) ||
	    ims_replay_new(&o, &r)) {
		out->status = CF_ERROR;
		fmt_str(&out->summary, "%s:%" PRIu64 ": out of memory", c->file, c->line);
		goto done;
	}

	int rc;
	uint64_t vf;
	const char *msg;
	if (sh) {
		struct cf_child k = {r, rd, dg, &dbuf, &dlen, sh};
		struct iso_outcome io;
		int e = iso_run(cf_child_work, &k, &sh->st, iso_timeout, &io);
		if (e) {
			out->status = CF_ERROR;
			fmt_str(&out->summary, "cannot start the case's process: %s", strerror(-e));
			goto done;
		}
		if (io.how != ISO_EXITED) {
			/* The walker under test crashed or hung: a finding of the case. */
			char m[1024];
			iso_fail_msg(m, sizeof(m), c->file, sh->line, sh->freeing,
				     o.plugin ? o.plugin->name : ims_pt_walker_name(o.walker), &io,
				     iso_timeout);
			out->secs = io.secs;
			out->status = CF_FAIL;
			fmt_str(&out->summary, "%s", m);
			out->detail = cf_strndup(m, strlen(m));
			goto done;
		}
		out->secs = sh->secs;
		rc = sh->rc;
		vf = sh->vf;
		msg = rc ? sh->msg : NULL;
		out->detail = sh->detail[0] ? cf_strndup(sh->detail, strlen(sh->detail)) : NULL;
	} else {
		double t0 = now();
		rc = ims_replay_run(r, rd);
		out->secs = now() - t0;
		fflush(dg);
		out->detail = dbuf && dlen ? cf_strndup(dbuf, dlen) : NULL;
		vf = ims_replay_stats(r)->validation_failures;
		msg = rc ? ims_replay_error(r) : NULL;
	}
	out->validation_failures = vf;

	switch (c->expect) {
	case CF_EXPECT_PASS:
		if (rc) {
			out->status = CF_ERROR;
			fmt_str(&out->summary, "%s", msg);
		} else if (vf) {
			out->status = CF_FAIL;
			first_message(&out->summary, out->detail, vf);
		}
		break;
	case CF_EXPECT_FAIL:
		if (rc) {
			out->status = CF_ERROR;
			fmt_str(&out->summary, "%s", msg);
		} else if (!vf) {
			out->status = CF_FAIL;
			fmt_str(&out->summary, "expected validation to fail; every check held");
		} else if (c->failures >= 0 && vf != (uint64_t)c->failures) {
			out->status = CF_FAIL;
			fmt_str(&out->summary, "expected %ld validation failure%s, got %" PRIu64,
				c->failures, c->failures == 1 ? "" : "s", vf);
		} else {
			first_message(&out->summary, out->detail, vf);
		}
		break;
	case CF_EXPECT_INPUT_ERROR: {
		uint64_t line = rc ? msg_line(msg, c->file) : 0;
		if (!rc) {
			out->status = CF_FAIL;
			fmt_str(&out->summary, "expected line %" PRIu64 " to be refused as input (\"%s\"); "
				"it was accepted", b->last_line, c->error);
		} else if (line != b->last_line) {
			/* Refused somewhere else: the body itself is bad input. */
			out->status = CF_ERROR;
			fmt_str(&out->summary, "%s (the case expects only line %" PRIu64 " to be refused)",
				msg, b->last_line);
		} else if (!strstr(msg, c->error)) {
			out->status = CF_FAIL;
			fmt_str(&out->summary, "line %" PRIu64 " was refused, but not with \"%s\": %s",
				line, c->error, msg);
		} else if (vf) {
			/* The lines before the refused one are checks like any
			 * other: one that does not hold fails the case. */
			out->status = CF_FAIL;
			first_message(&out->summary, out->detail, vf);
		} else {
			fmt_str(&out->summary, "refused as expected: %s", msg);
		}
		break;
	}
	}
	if (c->deviation && out->status == CF_FAIL) {
		/* Declared: the report shows the clause as not followed. */
		out->status = CF_DEVIATION;
		char *why = out->summary;
		out->summary = NULL;
		fmt_str(&out->summary, "known deviation: %s (%s)", c->deviation, why ? why : "");
		free(why);
	} else if (c->deviation && out->status == CF_PASS) {
		out->status = CF_FAIL;
		fmt_str(&out->summary, "marked as a deviation (\"%s\") but the case holds now; remove "
			"deviation: from the case", c->deviation);
	}
done:
	if (sh)
		iso_shared_free(sh, sizeof(*sh));
	ims_replay_free(r);
	ims_reader_close(rd);
	if (dg)
		fclose(dg);
	free(dbuf);
	free(text);
}

/* Every "FILE:" of the case's file as read becomes its name relative to the
 * suite. */
static void relative(char **text, const char *file, const char *name)
{
	if (!*text || !strcmp(file, name))
		return;
	size_t fl = strlen(file), nl = strlen(name), n = 0;
	for (const char *p = *text; (p = strstr(p, file)); p += fl)
		n += p[fl] == ':';
	if (!n)
		return;
	char *out = malloc(strlen(*text) + n * nl + 1), *o = out;
	if (!out)
		return; /* the report keeps the path as read */
	const char *p = *text;
	for (const char *q; (q = strstr(p, file));) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		if (q[fl] == ':') {
			memcpy(o, name, nl);
			o += nl;
		} else {
			memcpy(o, file, fl);
			o += fl;
		}
		p = q + fl;
	}
	strcpy(o, p);
	free(*text);
	*text = out;
}

void cf_result_relative(struct cf_result *r)
{
	relative(&r->summary, r->c->file, r->c->name);
	relative(&r->detail, r->c->file, r->c->name);
}

void cf_result_fini(struct cf_result *r)
{
	free(r->summary);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}
