/* Reading an ftrace line (traces/import_ftrace_line.c), for the ftrace
 * importer (traces/import_ftrace.c): where the event's name and arguments
 * are, its time, task and CPU, and the argument forms its handlers share.
 */
#ifndef IMS_TRACES_IMPORT_FTRACE_H
#define IMS_TRACES_IMPORT_FTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seconds that fit in 64 bits of nanoseconds with their fraction. */
#define FT_MAX_TS_SEC ((UINT64_MAX - 999999999u) / 1000000000u)

/* Entries of one dma_map_sg list: Linux maps scatterlists of a few
 * hundred entries; more is refused, not cut short. */
#define FT_MAX_LIST 4096

/* An event line "TASK-PID [CPU] FLAGS SECONDS.FRACTION: NAME: ARGS" (the
 * flags optional): 1 with its time, task, CPU, name and arguments; 0: not
 * an event line; -1: an event line whose time is past 2^64 ns. */
int ft_split(const char *s, const char *e, uint64_t *ns, uint64_t *pid, uint64_t *cpu,
	     const char **name, size_t *nlen, const char **args);

/* dir= of the kprobes (enum dma_data_direction as a number) or of the
 * dma:* events (its name), as an enum ims_assume (KIND_NONE for NONE). */
bool ft_dir_arg(const char *a, const char *e, unsigned *kind);

/* The arguments of a kprobe: "(FUNCTION+0x0/0x90) ...". */
bool ft_is_kprobe(const char *a, const char *e);

/* A "{0x1,0x2}" list of the dma:* sg events into out[]: the count, 0 when
 * there is none, -1 when a number is bad or there are more than max. */
int ft_list_arg(const char *a, const char *e, const char *key, uint64_t *out, unsigned max);

/* [addr, addr + size) rounded out to pages, when it ends by 2^64. */
bool ft_page_span(uint64_t addr, uint64_t size, uint64_t *lo, uint64_t *hi);

#endif
