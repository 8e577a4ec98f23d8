/* The ftrace importer's reading of a line (traces/import_ftrace.h): the
 * fields of the tracing `trace` file and of `trace-cmd report`, and the
 * argument forms of the kprobes and the dma:* events.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "traces/import.h"
#include "traces/import_ftrace.h"

bool ft_page_span(uint64_t addr, uint64_t size, uint64_t *lo, uint64_t *hi)
{
	if (!size || addr + (size - 1) < addr || addr + (size - 1) > UINT64_MAX - (IMS_PAGE_SIZE - 1))
		return false;
	*lo = addr & ~(IMS_PAGE_SIZE - 1);
	*hi = (addr + size + IMS_PAGE_SIZE - 1) & ~(IMS_PAGE_SIZE - 1);
	return true;
}

bool ft_dir_arg(const char *a, const char *e, unsigned *kind)
{
	const char *v;
	size_t n;
	if (!arg_str(a, e, "dir", &v, &n))
		return false;
	uint64_t d;
	if (parse_num(v, n, &d)) {
		if (d > 3)
			return false;
	} else if (n == 13 && !memcmp(v, "BIDIRECTIONAL", 13)) {
		d = 0;
	} else if (n == 9 && !memcmp(v, "TO_DEVICE", 9)) {
		d = 1;
	} else if (n == 11 && !memcmp(v, "FROM_DEVICE", 11)) {
		d = 2;
	} else if (n == 4 && !memcmp(v, "NONE", 4)) {
		d = 3;
	} else {
		return false;
	}
	*kind = d == 0 ? IMS_ASSUME_BIDIR : d == 1 ? IMS_ASSUME_TO_DEVICE
				       : d == 2 ? IMS_ASSUME_FROM_DEVICE
						: KIND_NONE;
	return true;
}

bool ft_is_kprobe(const char *a, const char *e)
{
	while (a < e && *a == ' ')
		a++;
	return a < e && *a == '(';
}

int ft_list_arg(const char *a, const char *e, const char *key, uint64_t *out, unsigned max)
{
	const char *v;
	size_t n;
	if (!arg_str(a, e, key, &v, &n) || n < 2 || v[0] != '{')
		return 0;
	int cnt = 0;
	const char *p = v + 1, *end = v + n;
	while (p < end && *p != '}') {
		if ((unsigned)cnt == max)
			return -1;
		const char *q = p;
		while (q < end && *q != ',' && *q != '}')
			q++;
		if (!parse_num(p, (size_t)(q - p), &out[cnt]))
			return -1;
		cnt++;
		p = q < end && *q == ',' ? q + 1 : q;
	}
	return cnt;
}

/* SECONDS.FRACTION:; *over when it is past 2^64 ns (not a time, and it
 * would wrap). */
static bool is_ts(const char *p, const char *e, uint64_t *ns, bool *over)
{
	/* SECONDS.FRACTION: */
	if (e - p < 3 || e[-1] != ':')
		return false;
	e--;
	uint64_t sec = 0, frac = 0;
	const char *q = p;
	while (q < e && *q >= '0' && *q <= '9') {
		if (sec <= FT_MAX_TS_SEC)
			sec = sec * 10 + (uint64_t)(*q - '0');
		q++;
	}
	if (q == p || q >= e || *q != '.')
		return false;
	*over = sec > FT_MAX_TS_SEC;
	const char *f = ++q;
	unsigned digits = 0;
	while (q < e && *q >= '0' && *q <= '9') {
		if (digits < 9) {
			frac = frac * 10 + (uint64_t)(*q - '0');
			digits++;
		}
		q++;
	}
	if (q != e || q == f)
		return false;
	while (digits++ < 9)
		frac *= 10;
	*ns = *over ? 0 : sec * 1000000000ull + frac;
	return true;
}

int ft_split(const char *s, const char *e, uint64_t *ns, uint64_t *pidp, uint64_t *cpup,
		 const char **name, size_t *nlen, const char **args)
{
	const char *p = s;
	const char *br = NULL;
	uint64_t cpu = 0, pid = 0;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e || *p == '#')
		return 0;
	for (;;) {
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p == e)
			return 0;
		const char *t = p;
		while (p < e && *p != ' ' && *p != '\t')
			p++;
		bool digits = p - t >= 3 && p - t <= 12;
		for (const char *c = t + 1; digits && c < p - 1; c++)
			digits = *c >= '0' && *c <= '9';
		if (*t == '[' && digits && p[-1] == ']' && !br) {
			br = t;
			for (const char *c = t + 1; c < p - 1; c++)
				cpu = cpu * 10 + (uint64_t)(*c - '0');
			/* TASK-PID before the bracket: the digits after the last '-'. */
			const char *d = t;
			while (d > s && (d[-1] == ' ' || d[-1] == '\t'))
				d--;
			const char *ds = d;
			while (ds > s && ds[-1] >= '0' && ds[-1] <= '9')
				ds--;
			/* The task's id keys what it is in the middle of: a
			 * longer run of digits than a pid has is kept whole. */
			for (const char *c = ds; c < d && pid <= UINT64_MAX / 10 - 9; c++)
				pid = pid * 10 + (uint64_t)(*c - '0');
			continue;
		}
		bool over = false;
		if (is_ts(t, p, ns, &over)) {
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			const char *n = p;
			while (p < e && *p != ' ' && *p != '\t')
				p++;
			if (p - n < 2 || p[-1] != ':')
				return 0;
			*name = n;
			*nlen = (size_t)(p - n - 1);
			*args = p;
			*pidp = pid;
			*cpup = cpu;
			return over ? -1 : 1;
		}
	}
}
