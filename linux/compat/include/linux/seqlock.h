/* Stand-in for <linux/seqlock.h> (linux/compat): with one thread a reader
 * never sees a writer in progress, so the count only has to be kept. */
#ifndef IMS_LX_LINUX_SEQLOCK_H
#define IMS_LX_LINUX_SEQLOCK_H

#include <linux/spinlock.h>

typedef struct {
	unsigned sequence;
} seqcount_t;

#define seqcount_init(s) ((s)->sequence = 0)
#define read_seqcount_begin(s) ((s)->sequence)
#define read_seqcount_retry(s, start) ((s)->sequence != (start))
#define write_seqcount_begin(s) ((s)->sequence++)
#define write_seqcount_end(s) ((s)->sequence++)

#endif
