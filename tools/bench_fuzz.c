/* `iommusim bench`, fuzz section: what `iommusim fuzz` achieves with the
 * reference walker (docs/benchmarks.md, docs/fuzzing.md "Speed"): ops/s on
 * one core per format (CPU time, as the other single-threaded figures),
 * against the one-core goal, and the wall-clock rate of every core over one
 * worker's wall-clock rate, both timed in the same run so the ratio travels. */
#include <stdio.h>
#include <string.h>

#include "iommusim/pt.h"
#include "tools/bench.h"
#include "tools/fuzz.h"

#define FUZZ_GOAL 200000.0 /* ops/s on one core: the goal */

int bench_fuzz(const struct bench_opts *o, struct bench_results *res)
{
	static const enum ims_format fmts[] = {IMS_FMT_AMDV1, IMS_FMT_VTD, IMS_FMT_SMMUV3};
	uint64_t ops = o->size == BENCH_FULL ? 200000 : o->size == BENCH_QUICK ? 20000 : 2000;
	unsigned ref;
	if (ims_pt_walker_parse("reference", &ref)) {
		fprintf(stderr, "iommusim bench: fuzz: no reference walker in this build\n");
		return -1;
	}
	unsigned cores = fz_cores();
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && !bench_interrupted(); i++) {
		const char *name = ims_format_name(fmts[i]);
		if (o->match && !strstr(name, o->match))
			continue;
		struct fuzz_row *x = res_add_fuzz(res);
		if (!x)
			return -1;
		memset(x, 0, sizeof(*x));
		snprintf(x->format, sizeof(x->format), "%s", name);
		x->ops = ops;
		x->target = FUZZ_GOAL;
		x->jobs = cores > 1 ? cores : 0;
		x->ops_all = ops * cores;
		struct timer_runs one = {0}, one_wall = {0}, all = {0};
		/* Interleaved, so load that comes and goes hits both alike. */
		for (unsigned k = 0; k < o->repeat && !(k && bench_interrupted()); k++) {
			bench_note(o, "fuzz %s: %llu ops, one worker (run %u)", name,
				   (unsigned long long)ops, k + 1);
			double s, cpu;
			int rc = fz_rate(1u << fmts[i], 1, ops, ref, &s, &cpu);
			if (rc) {
				fprintf(stderr, "iommusim bench: fuzz %s: %s\n", name,
					rc == 1 ? "the reference walker failed a check: run `iommusim "
						  "fuzz --walker reference -j 1 --fuzz-seed 1` to see it"
						: "error");
				return -1;
			}
			runs_add(&one, cpu);
			runs_add(&one_wall, s);
			if (!x->jobs)
				continue;
			rc = fz_rate(1u << fmts[i], cores, x->ops_all, ref, &s, &cpu);
			if (rc) {
				fprintf(stderr, "iommusim bench: fuzz %s -j %u: %s\n", name, cores,
					rc == 1 ? "a check failed" : "error");
				return -1;
			}
			runs_add(&all, s);
		}
		x->t = runs_summary(&one);
		x->t_wall = runs_summary(&one_wall);
		if (x->jobs)
			x->t_all = runs_summary(&all);
	}
	return 0;
}
