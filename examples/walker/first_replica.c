/* The example walker of correct.c with classic bug 1 of dirty-semantics.md:
 * the dirty state of a replicated AMD page or an Arm contiguous group is
 * read from its first entry only. Hardware may set the dirty state in any
 * one entry of such a leaf (formats.md "2.2.3.2", "D8.5.5"), so a write
 * that dirtied another entry is never reported: `iommusim fuzz` finds it.
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags iommusim) first_replica.c -o first_replica.so
 */
#define FIRST_REPLICA_ONLY 1
#define WALKER_NAME "example-first-replica"
#define WALKER_WHAT "examples/walker/first_replica.c: correct.c reading only the first entry of a run"
#include "correct.c"
