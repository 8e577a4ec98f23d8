/* Replaying the traces of `iommusim replay`: one after the other in this
 * process, or in worker processes (`-j N`, and isolation of a walker that
 * may crash or hang; docs/fuzzing.md). Each worker takes the next trace
 * not yet taken, replays it and sends its record to the parent on a pipe;
 * the parent watches the workers with tools/isolate.c: a worker that dies
 * or hangs fails the trace it was replaying, and a new one goes on with
 * the traces left. The parent hands the records on in the traces' order,
 * so the summary and --json do not depend on N. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/isolate.h"
#include "tools/replay.h"

/* Where a worker is, shared with the parent that watches it. */
struct slot {
	struct iso_state st; /* beat: at each event, and at each trace */
	volatile int trace;  /* the trace being replayed; -1 between traces */
	volatile uint64_t line;
	volatile int freeing;
	volatile double timeout; /* its walker's limit; 0 none */
	char walker[128];
};

struct shared {
	int next;          /* the next trace to take (atomic) */
	volatile int lost; /* a worker died: its series is gone */
	struct slot slot[];
};

/* A worker's state in its own process. */
struct worker {
	struct rp_run *r;
	struct shared *sh;
	struct slot *w; /* NULL in this process */
	int fd;         /* records go here */
	struct rp_plugins plugins;
};

/* What runs before each event of a trace: the watch of a worker, the
 * series' sampler, the record's details. */
struct hooks {
	struct worker *k;
	struct rp_detail *d;
	/* The terminal's status line (r->progress): this trace's place, how
	 * far its reader is, when it started and was last shown. */
	int index;
	const char *path;
	struct ims_reader *rd;
	uint64_t size, events;
	double t0, shown, delay;
};

/* "iommusim replay: [2/5] big.trace.gz: 12,345,678 events, 310 MiB of 1.20
 * GiB (25%)", after a second and then four times a second at most. */
static void show_progress(struct hooks *h)
{
	double t = mono_seconds();
	if (t - h->t0 < h->delay || t - h->shown < 0.25)
		return;
	h->shown = t;
	char ev[32], rd[32], sz[32], pos[80] = "";
	uint64_t done = ims_reader_bytes(h->rd);
	human_count(h->events, ev, sizeof(ev));
	if (h->size && done <= h->size)
		snprintf(pos, sizeof(pos), ", %s of %s (%d%%)", human_bytes(done, rd, sizeof(rd)),
			 human_bytes(h->size, sz, sizeof(sz)), (int)(100.0 * (double)done / (double)h->size));
	if (h->k->r->n > 1)
		progress_line("iommusim replay: [%d/%d] %s: %s events%s", h->index + 1, h->k->r->n,
			      h->path, ev, pos);
	else
		progress_line("iommusim replay: %s: %s events%s", h->path, ev, pos);
}

static void event_hook(void *arg, struct ims_replay *rp, const struct ims_event *ev)
{
	struct hooks *h = arg;
	if (h->k->r->progress && !(++h->events & 0xffff))
		show_progress(h);
	if (h->k->w) {
		h->k->w->line = ev->line;
		h->k->w->st.beat++;
	}
	if (h->k->r->series)
		series_hook(h->k->r->series, rp, ev);
	if (h->d)
		rp_detail_event(h->d, ev);
}

/* The detail members of a record (NULL without memory). */
static char *detail_text(struct rp_detail *d)
{
	if (!d)
		return NULL;
	rp_detail_end(d);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return NULL;
	rp_detail_json(d, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replays trace i with its own options and prints its lines. Its record
 * (NULL without memory). */
static char *replay_one(struct worker *k, int i)
{
	struct rp_run *r = k->r;
	const char *path = r->traces[i];
	struct rp_trace_opts to;
	char err[1400];
	if (rp_trace_opts(r->cl, &k->plugins, path, &to, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return rp_record(path, 2, walker_name(r->cl->wc), NULL, err, NULL, NULL);
	}
	if (k->w) {
		k->w->line = 0;
		k->w->freeing = 0;
		k->w->timeout = to.isolate ? to.timeout : 0;
		snprintf(k->w->walker, sizeof(k->w->walker), "%s", to.walker_name);
		k->w->st.beat++;
	}
	struct ims_replay_opts o = r->cl->o;
	o.model = to.model;
	o.walker = to.walker;
	o.plugin = to.plugin;
	struct hooks h = {k, NULL, i, path, NULL, 0, 0, mono_seconds(), 0, progress_delay()};
	o.on_event = event_hook;
	o.on_event_arg = &h;
	struct ims_reader *rd = NULL;
	if (ims_reader_open(path, &rd, err, sizeof(err))) {
		fprintf(stderr, "iommusim replay: %s\n", err);
		return rp_record(path, 2, to.walker_name, NULL, err, NULL, NULL);
	}
	if (r->series)
		series_reader(r->series, rd);
	h.rd = rd;
	struct stat st;
	if (r->progress && strcmp(path, "-") && !stat(path, &st) && S_ISREG(st.st_mode))
		h.size = (uint64_t)st.st_size;
	struct ims_replay *rp = NULL;
	if (ims_replay_new(&o, &rp) || !(h.d = rp_detail_new(rp, o.diag))) {
		ims_replay_free(rp);
		ims_reader_close(rd);
		fprintf(stderr, "iommusim replay: %s: out of memory\n", path);
		return rp_record(path, 2, to.walker_name, NULL, "out of memory", NULL, NULL);
	}
	ims_replay_set_strict_faults(rp, r->cl->strict_faults);
	if (r->series)
		series_begin(r->series, path);
	int rc = ims_replay_run(rp, rd);
	if (r->progress)
		progress_clear();
	ims_reader_close(rd);
	if (r->series && !rc)
		series_end(r->series, rp);
	char *rec;
	char *detail = detail_text(h.d);
	if (rc) {
		fprintf(stderr, "%s\n", ims_replay_error(rp));
		rec = rp_record(path, 2, to.walker_name, NULL, ims_replay_error(rp), NULL, detail);
	} else {
		int status = ims_replay_stats(rp)->validation_failures ? 1 : 0;
		char *text = NULL, *json = NULL;
		size_t tlen = 0, jlen = 0;
		FILE *t = open_memstream(&text, &tlen);
		if (t) {
			if (o.verbosity >= 1 || status) {
				fprintf(t, "iommusim replay: %s: %s (walker %s)\n", path,
					status ? "FAIL" : "ok", to.walker_name);
				if (o.verbosity >= 1)
					ims_replay_print_summary(rp, t);
			}
			/* One write: the lines of traces of several workers do not mix. */
			fflush(r->text);
			if (!fclose(t) && write_all(fileno(r->text), text, tlen) &&
			    r->text == stdout && !stdout_claimed()) {
				/* Lines for people: a full or closed output stops no
				 * replay, but the run ends with exit status 2 and
				 * says why (tools/outputs.c). */
				stdout_write_error(errno);
			}
		}
		FILE *js = open_memstream(&json, &jlen);
		if (js) {
			ims_replay_write_json(rp, js);
			if (fclose(js)) {
				free(json);
				json = NULL;
			}
		}
		rec = json ? rp_record(path, status, to.walker_name, json, NULL, NULL, detail) : NULL;
		free(text);
		free(json);
	}
	free(detail);
	if (k->w)
		k->w->freeing = 1;
	ims_replay_free(rp);
	rp_detail_free(h.d);
	return rec;
}

/* ---- records in order ------------------------------------------------- */

struct order {
	struct rp_agg *agg;
	char **pending; /* records that came before those of earlier traces */
	int n, next;
	int bad; /* a record the parent could not take: 2 */
};

static void deliver(struct order *q, int i, char *rec)
{
	if (i < 0 || i >= q->n || q->pending[i] || i < q->next) {
		free(rec);
		return;
	}
	q->pending[i] = rec;
	while (q->next < q->n && q->pending[q->next]) {
		char err[1024];
		char *x = q->pending[q->next];
		q->pending[q->next++] = NULL;
		if (rp_agg_add(q->agg, x, "(record)", (uint64_t)q->next, err, sizeof(err))) {
			fprintf(stderr, "iommusim replay: internal error: %s\n", err);
			q->bad = 2;
		}
	}
}

/* ---- in this process -------------------------------------------------- */

static int run_here(struct rp_run *r, struct order *q)
{
	struct worker k = {.r = r};
	for (int i = 0; i < r->n; i++) {
		char *rec = replay_one(&k, i);
		if (!rec) {
			fprintf(stderr, "iommusim replay: %s: out of memory\n", r->traces[i]);
			rp_plugins_free(&k.plugins);
			return 2;
		}
		deliver(q, i, rec);
	}
	rp_plugins_free(&k.plugins);
	int ret = 0;
	if (r->series) {
		if (r->stats_out && series_write(r->series, r->stats_out))
			ret = 2;
		if (r->plot_dir && series_plot(r->series, r->plot_dir))
			ret = 2;
	}
	return ret;
}

/* ---- in workers --------------------------------------------------------- */

/* A worker: the traces nobody has taken, one at a time; each record goes
 * to the parent as "INDEX RECORD\n". */
static int worker_main(void *arg)
{
	struct worker *k = arg;
	struct rp_run *r = k->r;
	int ret = 0;
	for (;;) {
		int i = __atomic_fetch_add(&k->sh->next, 1, __ATOMIC_SEQ_CST);
		if (i >= r->n)
			break;
		k->w->trace = i;
		char *rec = replay_one(k, i);
		if (rec) {
			char head[32];
			int hn = snprintf(head, sizeof(head), "%d ", i);
			if (write_all(k->fd, head, (size_t)hn) || write_all(k->fd, rec, strlen(rec)) ||
			    write_all(k->fd, "\n", 1))
				ret = 2;
			free(rec);
		} /* else: the parent finds no record for it and says so */
		k->w->trace = -1;
		k->w->st.beat++;
	}
	/* The series of every trace is this worker's only when it is the only
	 * one and none died before it. */
	if (r->series && !k->sh->lost) {
		if (r->stats_out && series_write(r->series, r->stats_out))
			ret = 2;
		if (r->plot_dir && series_plot(r->series, r->plot_dir))
			ret = 2;
	}
	return ret;
}

struct running {
	struct iso_child c;
	int rfd; /* its records */
	bool on;
	char *buf;
	size_t len, cap;
};

static int start(struct worker *k, struct running *x, int slot)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	k->w = &k->sh->slot[slot];
	k->w->trace = -1;
	k->w->timeout = 0;
	k->fd = p[1]; /* the child's copy of k */
	int rc = iso_start(&x->c, worker_main, k, &k->w->st);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return rc;
	}
	x->rfd = p[0];
	x->on = true;
	x->len = 0;
	return 0;
}

/* What arrived from a worker: whole lines are records. */
static void take(struct running *x, struct order *q, bool to_end)
{
	for (;;) {
		if (x->cap - x->len < 4096) {
			size_t cap = x->cap ? 2 * x->cap : 65536;
			char *b = realloc(x->buf, cap);
			if (!b)
				break;
			x->buf = b;
			x->cap = cap;
		}
		ssize_t n = read(x->rfd, x->buf + x->len, x->cap - x->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		x->len += (size_t)n;
		char *s = x->buf, *nl;
		while ((nl = memchr(s, '\n', x->len - (size_t)(s - x->buf)))) {
			*nl = 0;
			char *end;
			long i = strtol(s, &end, 10);
			if (end != s && *end == ' ') {
				char *rec = strdup(end + 1);
				if (rec)
					deliver(q, (int)i, rec);
			}
			s = nl + 1;
		}
		x->len -= (size_t)(s - x->buf);
		memmove(x->buf, s, x->len);
		if (!to_end)
			break; /* poll said there is something: one read, no blocking */
	}
}

static int run_workers(struct rp_run *r, struct order *q)
{
	size_t size = sizeof(struct shared) + (size_t)r->jobs * sizeof(struct slot);
	struct shared *sh = iso_shared_new(size);
	struct running *xs = calloc((size_t)r->jobs, sizeof(*xs));
	struct pollfd *pf = calloc(2 * (size_t)r->jobs, sizeof(*pf));
	if (!sh || !xs || !pf) {
		fprintf(stderr, "iommusim replay: %s\n", strerror(errno ? errno : ENOMEM));
		iso_shared_free(sh, size);
		free(xs);
		free(pf);
		return 2;
	}
	struct worker k = {.r = r, .sh = sh};
	int ret = 0, active = 0;
	for (int s = 0; s < r->jobs; s++) {
		int rc = start(&k, &xs[s], s);
		if (rc) {
			fprintf(stderr, "iommusim replay: cannot start a worker process: %s\n",
				strerror(-rc));
			ret = 2;
			break;
		}
		active++;
	}
	while (active) {
		/* Ten looks a second at most, more for a short limit. */
		int tick = 100, np = 0;
		for (int s = 0; s < r->jobs; s++) {
			if (!xs[s].on)
				continue;
			int t = iso_tick_ms(sh->slot[s].timeout);
			if (t > 0 && t < tick)
				tick = t;
			pf[np++] = (struct pollfd){.fd = xs[s].c.fd, .events = POLLIN};
			pf[np++] = (struct pollfd){.fd = xs[s].rfd, .events = POLLIN};
		}
		if (poll(pf, (nfds_t)np, tick) < 0 && errno != EINTR)
			break;
		np = 0;
		for (int s = 0; s < r->jobs; s++) {
			struct running *x = &xs[s];
			if (!x->on)
				continue;
			if (pf[np + 1].revents & (POLLIN | POLLHUP))
				take(x, q, false);
			np += 2;
			struct slot *w = &sh->slot[s];
			double timeout = w->timeout;
			struct iso_outcome out;
			int rc = iso_check(&x->c, timeout, &out);
			if (!rc)
				continue;
			take(x, q, true);
			close(x->rfd);
			x->on = false;
			active--;
			if (rc < 0) {
				fprintf(stderr, "iommusim replay: %s\n", strerror(-rc));
				ret = 2;
				continue;
			}
			if (out.how == ISO_EXITED) {
				if (out.status > ret)
					ret = out.status;
				continue;
			}
			/* It died or hung: the trace it was replaying fails. */
			int i = w->trace;
			char msg[1024];
			if (i >= 0 && i < r->n) {
				iso_fail_msg(msg, sizeof(msg), r->traces[i], w->line, w->freeing,
					     w->walker, &out, timeout);
				fprintf(stderr, "%s\n", msg);
				fprintf(r->text, "iommusim replay: %s: FAIL (walker %s)\n", r->traces[i],
					w->walker);
				fflush(r->text);
				deliver(q, i, rp_record(r->traces[i], 1, w->walker, NULL, NULL, msg, NULL));
			} else {
				iso_describe(&out, timeout, msg, sizeof(msg));
				fprintf(stderr, "iommusim replay: a worker process %s between traces\n",
					msg);
				ret = 2;
			}
			sh->lost = 1;
			if (__atomic_load_n(&sh->next, __ATOMIC_SEQ_CST) < r->n) {
				rc = start(&k, x, s);
				if (rc) {
					fprintf(stderr, "iommusim replay: cannot start a worker process: %s\n",
						strerror(-rc));
					ret = 2;
				} else {
					active++;
				}
			}
		}
	}
	if (sh->lost && r->series)
		fprintf(stderr, "iommusim replay: %s not written: the walker crashed or hung\n",
			r->stats_out ? "--stats-out" : "--plot");
	for (int s = 0; s < r->jobs; s++)
		free(xs[s].buf);
	free(xs);
	free(pf);
	iso_shared_free(sh, size);
	return ret;
}

int rp_run(struct rp_run *r)
{
	struct order q = {.agg = r->agg, .n = r->n};
	q.pending = calloc((size_t)r->n, sizeof(*q.pending));
	if (!q.pending) {
		fprintf(stderr, "iommusim replay: out of memory\n");
		return 2;
	}
	int ret = r->children ? run_workers(r, &q) : run_here(r, &q);
	/* A trace no worker reported on (none could start, or a record was
	 * lost): an error of this command, said, never a silent pass. */
	for (int i = q.next; i < r->n; i++) {
		if (q.pending[i])
			continue;
		fprintf(stderr, "iommusim replay: %s: no result (the replay process gave none)\n",
			r->traces[i]);
		deliver(&q, i, rp_record(r->traces[i], 2, walker_name(r->cl->wc), NULL,
					   "no result (the replay process gave none)", NULL, NULL));
	}
	for (int i = 0; i < r->n; i++)
		free(q.pending[i]);
	free(q.pending);
	if (q.bad > ret)
		ret = q.bad;
	return ret;
}
