/* --plot DIR of replay, migrate and bench (tools/chart.h): the data, the
 * script and gnuplot's charts are made in a staging directory inside DIR,
 * gnuplot's exit status and every chart it had to draw are checked, and
 * only then is each file renamed into DIR, with the run's other outputs
 * (tools/outputs.c). A full disk, a failing gnuplot or a chart that is not
 * a whole SVG is exit status 2 with a message, and nothing of the set in
 * DIR; an interruption removes the staging directory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/chart.h"
#include "tools/cmd.h"

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* A file of the set: its staging name registered, renamed to DIR/name. */
static int add(struct plot *p, const char *name, FILE **f)
{
	if (p->n == p->cap) {
		size_t c = p->cap ? 2 * p->cap : 16;
		struct plot_file *q = realloc(p->f, c * sizeof(*q));
		if (!q) {
			fprintf(stderr, "iommusim %s: --plot %s: out of memory\n", p->cmd, p->dir);
			return -1;
		}
		p->f = q;
		p->cap = c;
	}
	char *tmp = join(p->tmp, name), *final = join(p->dir, name);
	int id = tmp && final ? pend_add(tmp, final, false) : -1;
	if (id < 0) {
		fprintf(stderr, "iommusim %s: --plot %s: %s\n", p->cmd, p->dir,
			strerror(errno ? errno : ENOMEM));
		free(tmp);
		free(final);
		return -1;
	}
	free(final);
	struct plot_file *pf = &p->f[p->n++];
	pf->name = tmp;
	pf->id = id;
	pf->f = NULL;
	pf->werr = NULL;
	if (f) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		pf->f = *f = fd < 0 ? NULL : wstream_open(fd, &pf->werr);
		if (!*f) {
			fprintf(stderr, "iommusim %s: --plot: %s: %s\n", p->cmd, tmp,
				strerror(fd < 0 ? errno : ENOMEM));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	return 0;
}

int plot_open(struct plot *p, const char *cmd, const char *dir)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->tmp_id = -1;
	if (mkdirs(dir)) {
		fprintf(stderr, "iommusim %s: --plot %s: %s\n", cmd, dir, strerror(errno));
		outputs_failed();
		return -1;
	}
	p->dir = strdup(dir);
	p->tmp = join(dir, ".iommusim-plot.XXXXXX");
	if (!p->dir || !p->tmp || pend_mkdtemp(p->tmp, &p->tmp_id)) {
		fprintf(stderr, "iommusim %s: --plot %s: %s\n", cmd, dir, strerror(errno ? errno : ENOMEM));
		plot_abort(p);
		outputs_failed();
		return -1;
	}
	return 0;
}

FILE *plot_file(struct plot *p, const char *name)
{
	FILE *f = NULL;
	if (add(p, name, &f)) {
		outputs_failed();
		return NULL;
	}
	return f;
}

/* Every file written so far closed, its errors said (a full disk). */
static int close_all(struct plot *p)
{
	int rc = 0;
	for (size_t i = 0; i < p->n; i++) {
		FILE *f = p->f[i].f;
		if (!f)
			continue;
		p->f[i].f = NULL;
		int e = wstream_close(f, p->f[i].werr);
		p->f[i].werr = NULL;
		if (e && !rc) {
			fprintf(stderr, "iommusim %s: --plot %s: %s: write failed: %s\n", p->cmd, p->dir,
				strrchr(p->f[i].name, '/') + 1, strerror(-e));
			rc = -1;
		}
	}
	return rc;
}

/* Whether path holds a whole SVG document: not empty, an XML declaration
 * or <svg at its start, </svg> at its end. gnuplot killed or short of
 * space leaves a prefix of one; a broken gnuplot, anything. why: what is
 * wrong. */
static bool svg_whole(const char *path, const char **why)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*why = "was not written";
		return false;
	}
	char head[256], tail[64];
	size_t n = fread(head, 1, sizeof(head) - 1, f);
	head[n] = 0;
	bool ok = n > 0;
	*why = "is empty";
	if (ok) {
		const char *s = head;
		while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			s++;
		ok = (!strncmp(s, "<?xml", 5) || !strncmp(s, "<svg", 4)) && strstr(s, "<svg");
		*why = "is not an SVG document (no <svg at its start)";
	}
	if (ok) {
		long back = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
		back = back > (long)sizeof(tail) - 1 ? (long)sizeof(tail) - 1 : back;
		size_t m = back > 0 && !fseek(f, -back, SEEK_END) ? fread(tail, 1, (size_t)back, f) : 0;
		while (m && (tail[m - 1] == '\n' || tail[m - 1] == '\r' || tail[m - 1] == ' '))
			m--;
		tail[m] = 0;
		ok = m >= 6 && !strcmp(tail + m - 6, "</svg>");
		*why = "is cut short (it does not end with </svg>)";
	}
	fclose(f);
	return ok;
}

/* gnuplot's last few lines, for the message of a run it failed. */
static void show_log(const struct plot *p, const char *log)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	char lines[5][256];
	size_t n = 0;
	char buf[256];
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		if (!buf[0])
			continue;
		if (n == 5) {
			memmove(lines, lines + 1, sizeof(lines[0]) * 4);
			n = 4;
		}
		snprintf(lines[n++], sizeof(lines[0]), "%s", buf);
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "iommusim %s: --plot: gnuplot: %s\n", p->cmd, lines[i]);
}

int plot_render(struct plot *p, const char *script, const char *const *charts, size_t n)
{
	if (close_all(p))
		return -1;
	/* What gnuplot writes is registered before it runs, so an
	 * interruption removes it too. */
	size_t first = p->n;
	if (add(p, "gnuplot.log", NULL))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add(p, charts[i], NULL))
			return -1;
	const char *log = p->f[first].name;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "iommusim %s: --plot: cannot run gnuplot: %s\n", p->cmd, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The command's handlers are not gnuplot's. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (chdir(p->tmp))
			_exit(127);
		/* gnuplot's warnings (an all-zero series) go to a log, not
		 * between the command's own lines. */
		int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	pend_child(pid);
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	pend_child(0);
	if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		char how[64];
		if (w < 0)
			snprintf(how, sizeof(how), "was lost (%s)", strerror(errno));
		else if (WIFSIGNALED(st))
			snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(st));
		else
			snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(st));
		fprintf(stderr, "iommusim %s: --plot: gnuplot %s; no chart written to %s\n", p->cmd, how,
			p->dir);
		show_log(p, log);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *why;
		if (!svg_whole(p->f[first + 1 + i].name, &why)) {
			fprintf(stderr, "iommusim %s: --plot: gnuplot's %s %s; no chart written to %s\n",
				p->cmd, charts[i], why, p->dir);
			show_log(p, log);
			return -1;
		}
	}
	return 0;
}

int plot_commit(struct plot *p)
{
	int rc = close_all(p);
	if (rc)
		return plot_fail(p);
	for (size_t i = 0; i < p->n; i++)
		pend_ready(p->f[i].id);
	for (size_t i = 0; i < p->n; i++)
		free(p->f[i].name);
	free(p->f);
	free(p->dir);
	free(p->tmp);
	p->f = NULL;
	p->n = p->cap = 0;
	p->dir = p->tmp = NULL;
	/* The files and the staging directory stay registered: outputs_end
	 * renames the files into DIR, then removes the directory. */
	return 0;
}

void plot_abort(struct plot *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->f[i].f)
			fclose(p->f[i].f);
		pend_drop(p->f[i].id, true);
		free(p->f[i].name);
	}
	if (p->tmp_id >= 0)
		pend_drop(p->tmp_id, true);
	free(p->f);
	free(p->dir);
	free(p->tmp);
	memset(p, 0, sizeof(*p));
	p->tmp_id = -1;
}

int plot_fail(struct plot *p)
{
	plot_abort(p);
	outputs_failed();
	return -1;
}
