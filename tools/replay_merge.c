/* The per-trace records of `iommusim replay` (tools/replay.h), the summary
 * over them, and their merge: `--json` and `--json-lines` of one run, and
 * `--merge-json-lines` over the JSON-lines files of many (a batch system's
 * jobs, each over a subset of a corpus). The summary is made from the
 * records alone, whichever way they came, so the merge of the parts is the
 * run over the whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/common.h"
#include "tools/replay.h"

/* ---- the summary over records --------------------------------------- */

/* An output named '-' with a->out: written there as it is, no rename. */
static bool to_out(const struct rp_agg *a, const char *path)
{
	return a->out && !strcmp(path, "-");
}

int rp_agg_lines(struct rp_agg *a, const char *path)
{
	if (to_out(a, path))
		a->jl = (struct outfile){.f = a->out};
	else if (outfile_open(&a->jl, path))
		return -1;
	a->jl_on = true;
	return 0;
}

/* The end of an output: renamed into place, or flushed where it is. */
static int out_commit(const struct rp_agg *a, struct outfile *of)
{
	if (of->f != a->out)
		return outfile_commit(of);
	return stdout_write_failed(of->f) ? -1 : 0;
}

static int add_total(struct rp_agg *a, const struct rp_counter *c)
{
	for (size_t i = 0; i < a->ntot; i++) {
		if (strlen(a->tot[i].key) == c->keylen && !memcmp(a->tot[i].key, c->key, c->keylen)) {
			if (__builtin_add_overflow(a->tot[i].sum, c->v, &a->tot[i].sum)) {
				if (!a->tot[i].capped)
					fprintf(stderr, "iommusim replay: the total of '%s' passes "
						"2^64 - 1: shown as that\n", a->tot[i].key);
				a->tot[i].capped = true;
				a->tot[i].sum = UINT64_MAX;
			}
			return 0;
		}
	}
	if (a->ntot == a->tcap) {
		size_t cap = a->tcap ? 2 * a->tcap : 32;
		struct rp_total *t = realloc(a->tot, cap * sizeof(*t));
		if (!t)
			return -1;
		a->tot = t;
		a->tcap = cap;
	}
	char *k = strndup(c->key, c->keylen);
	if (!k)
		return -1;
	a->tot[a->ntot++] = (struct rp_total){k, c->v, false};
	return 0;
}

/* A --merge-json-lines record as replay prints a trace's result: those
 * that failed, and with -v the others. Held until the end, so that input
 * that turns out bad prints nothing but its error. */
static void print_record(struct rp_agg *a, const struct rp_rec *r)
{
	if (r->status == 0 && a->verbosity < 2)
		return;
	if (!a->held && !(a->held = open_memstream(&a->held_buf, &a->held_len)))
		return;
	const char *w = r->walker ? r->walker : "?";
	if (r->status == 2)
		fprintf(a->held, "iommusim replay: %s: bad input (%s)\n", r->file,
			r->error ? r->error : "no message");
	else
		fprintf(a->held, "iommusim replay: %s: %s (walker %s)%s%s\n", r->file,
			r->status ? "FAIL" : "ok", w, r->failure ? ": " : "",
			r->failure ? r->failure : "");
}

int rp_agg_add(struct rp_agg *a, char *line, const char *src, uint64_t lineno, char *err,
	       size_t len)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
		     line[n - 1] == '\t'))
		line[--n] = 0;
	struct rp_rec r;
	if (rp_record_read(line, n, src, lineno, &r, err, len)) {
		free(line);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; !rc && i < r.nc; i++)
		rc = add_total(a, &r.c[i]);
	if (!a->mixed) {
		const char *w = r.walker ? r.walker : "";
		if (!a->walker) {
			a->walker = strdup(w);
			if (!a->walker)
				rc = -1;
		} else if (strcmp(a->walker, w)) {
			a->mixed = true;
			free(a->walker);
			a->walker = NULL;
		}
	}
	a->n++;
	r.status == 0 ? a->ok++ : r.status == 1 ? a->failed++ : a->bad++;
	if (r.status > a->worst)
		a->worst = r.status;
	if (a->merging)
		print_record(a, &r);
	if (a->jl_on) {
		fputs(line, a->jl.f);
		fputc('\n', a->jl.f);
		fflush(a->jl.f); /* a line for each trace as it is done */
	}
	if (!rc && a->keep) {
		if (a->nrec == a->cap) {
			size_t cap = a->cap ? 2 * a->cap : 64;
			char **v = realloc(a->rec, cap * sizeof(*v));
			if (!v)
				rc = -1;
			else {
				a->rec = v;
				a->cap = cap;
			}
		}
		if (!rc) {
			a->rec[a->nrec++] = line;
			line = NULL;
		}
	}
	free(line);
	rp_rec_free(&r);
	if (rc)
		snprintf(err, len, "%s:%llu: out of memory", src, (unsigned long long)lineno);
	return rc;
}

static uint64_t total(const struct rp_agg *a, const char *key)
{
	for (size_t i = 0; i < a->ntot; i++)
		if (!strcmp(a->tot[i].key, key))
			return a->tot[i].sum;
	return 0;
}

/* Counts for people, several in one printf: each call its own buffer. */
struct nums {
	char b[16][32];
	unsigned k;
};

static const char *num(struct nums *x, uint64_t v)
{
	char *b = x->b[x->k++ % 16];
	return human_count(v, b, sizeof(x->b[0]));
}

static void print_summary(const struct rp_agg *a)
{
	FILE *f = a->text;
	struct nums x = {.k = 0};
#define N(v) num(&x, (v))
#define T(key) N(total(a, key))
	fprintf(f, "iommusim replay: %s traces: %s ok, %s failed validation, %s bad input\n", N(a->n),
		N(a->ok), N(a->failed), N(a->bad));
	fprintf(f, "iommusim replay: total: events %s (maps %s, unmaps %s, dma %s ops / %s pages), "
		   "faults %s",
		T("events"), T("maps"), T("unmaps"), T("dma_ops"), T("dma_pages"), T("faults"));
	if (total(a, "faults_dropped"))
		fprintf(f, " (%s not recorded: a fault queue was full)", T("faults_dropped"));
	fputc('\n', f);
	fprintf(f, "  harvests %s: bits reported %s, expected %s (under %s, over %s), mismatches %s\n",
		T("harvests"), T("bits_reported"), T("bits_expected"), T("bits_under"), T("bits_over"),
		T("harvest_mismatches"));
	fprintf(f, "  assertions %s (%s failed); validation failures %s; expected by design: "
		   "lost on unmap %s pages, lost to partial-leaf clears %s, GPA pages missed by "
		   "IOVA tracking %s\n",
		T("assertions"), T("assertion_failures"), T("validation_failures"), T("lost_on_unmap"),
		T("lost_partial"), T("gpa_missed"));
#undef T
#undef N
}

static int write_json(const struct rp_agg *a, const char *path)
{
	struct outfile of = {.f = a->out};
	if (!to_out(a, path) && outfile_open(&of, path))
		return -1;
	FILE *f = of.f;
	json_head(f, "replay");
	fputs(",\"walker\":", f);
	if (a->walker)
		json_string(f, a->walker);
	else
		fputs("null", f);
	fputs(",\"traces\":[", f);
	for (size_t i = 0; i < a->nrec; i++) {
		if (i)
			fputc(',', f);
		fputs(a->rec[i], f);
	}
	fprintf(f, "],\"counts\":{\"traces\":%llu,\"ok\":%llu,\"failed\":%llu,\"bad_input\":%llu}",
		(unsigned long long)a->n, (unsigned long long)a->ok, (unsigned long long)a->failed,
		(unsigned long long)a->bad);
	fputs(",\"total\":{", f);
	for (size_t i = 0; i < a->ntot; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", a->tot[i].key,
			(unsigned long long)a->tot[i].sum);
	fprintf(f, "},\"result\":\"%s\",\"exit\":%d}\n",
		a->worst == 2 ? "bad input" : a->worst ? "fail" : "pass", a->worst);
	return out_commit(a, &of);
}

int rp_agg_finish(struct rp_agg *a, const char *json, bool always)
{
	int ret = a->worst;
	if (a->held && !fclose(a->held))
		fputs(a->held_buf, a->text);
	a->held = NULL;
	if (a->verbosity >= 1 && (always || a->n > 1))
		print_summary(a);
	fflush(a->text);
	/* Whatever the verdict, bad input too: a trace's input error is its
	 * record's "error", and the other traces still count. */
	if (json && write_json(a, json))
		ret = 2;
	if (a->jl_on) {
		a->jl_on = false;
		if (out_commit(a, &a->jl))
			ret = 2;
	}
	return ret;
}

void rp_agg_free(struct rp_agg *a)
{
	if (a->jl_on && a->jl.f != a->out)
		outfile_abort(&a->jl);
	if (a->held)
		fclose(a->held);
	free(a->held_buf);
	for (size_t i = 0; i < a->nrec; i++)
		free(a->rec[i]);
	free(a->rec);
	for (size_t i = 0; i < a->ntot; i++)
		free(a->tot[i].key);
	free(a->tot);
	free(a->walker);
	memset(a, 0, sizeof(*a));
}

/* ---- --merge-json-lines ------------------------------------------------ */

int rp_merge(const char *json, int verbosity, char **files, int nfiles)
{
	struct rp_agg a = {.text = json && !strcmp(json, "-") ? stderr : stdout,
			   .verbosity = verbosity,
			   .merging = true,
			   .keep = json != NULL};
	char *line = NULL;
	size_t cap = 0;
	for (int i = 0; i < nfiles; i++) {
		const char *path = files[i];
		FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
		if (!f) {
			fprintf(stderr, "iommusim replay: %s: %s\n", path, strerror(errno));
			goto bad;
		}
		uint64_t lineno = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, f)) >= 0) {
			lineno++;
			if (strspn(line, " \t\r\n") == (size_t)n)
				continue; /* a blank line: nothing */
			if ((size_t)n != strlen(line)) {
				fprintf(stderr, "%s:%llu: a NUL byte (expected JSON text)\n", path,
					(unsigned long long)lineno);
				goto bad_file;
			}
			char err[1024];
			char *copy = strdup(line);
			if (!copy || rp_agg_add(&a, copy, path, lineno, err, sizeof(err))) {
				if (copy)
					fprintf(stderr, "%s\n", err);
				else
					fprintf(stderr, "iommusim replay: %s:%llu: out of memory\n", path,
						(unsigned long long)lineno);
				goto bad_file;
			}
		}
		if (ferror(f)) {
			fprintf(stderr, "iommusim replay: %s: %s\n", path, strerror(errno));
			goto bad_file;
		}
		if (f != stdin)
			fclose(f);
		continue;
	bad_file:
		if (f != stdin)
			fclose(f);
		goto bad;
	}
	free(line);
	int ret = rp_agg_finish(&a, json, true);
	rp_agg_free(&a);
	return ret;
bad:
	free(line);
	rp_agg_free(&a);
	return 2;
}
