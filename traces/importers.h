/* The importers, as the dispatcher (traces/import.c) calls them. Each
 * reads its log through the machinery of traces/import.h and calls no
 * other importer.
 */
#ifndef IMS_TRACES_IMPORTERS_H
#define IMS_TRACES_IMPORTERS_H

#include "traces/import.h"

/* QEMU trace logs (traces/import_qemu.c); `guest` (NULL: none) is the
 * guest's side to combine with. */
int import_qemu(struct imp *m, struct lsrc *in, const struct imp_guest *guest);

/* Linux ftrace (traces/import_ftrace.c). */
int import_ftrace(struct imp *m, struct lsrc *in);

/* The guest's ftrace at `path` as a stream for combining (struct
 * imp_guest); guest_close() releases it. */
int guest_open(struct imp *m, const char *path, struct imp_guest *g);
void guest_close(struct imp_guest *g);

#endif
