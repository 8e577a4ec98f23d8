/* The oracle's memo of the chunk its last single-page insert reached, for
 * writers that test it inline before they call ims_oracle_write or
 * ims_oracle_add (the model's translation path, the replayer's record of
 * writes). Internal to the build, not part of the library's API.
 */
#ifndef IMS_MODEL_ORACLE_MEMO_H
#define IMS_MODEL_ORACLE_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "iommusim/oracle.h"

struct oracle_memo {
	/* Subtrees the oracle has freed so far: a chunk address remembered
	 * under an older count may have been freed (a chunk is never moved to
	 * other pages: its address names the same 512 pages of its domain
	 * while it lives). */
	uint64_t drops;
	const uint64_t *chunk; /* NULL: none */
	uint64_t cpg;          /* its first 4 KiB page >> 9 */
	uint64_t at;           /* drops when it was remembered */
	uint16_t dom;
};

/* The memo of o: its address holds for o's lifetime. */
const struct oracle_memo *oracle_memo(const struct ims_oracle *o);

/* Whether 4 KiB page pg (an IOVA >> 12) of domain dom is in the set by the
 * memo: true means it is, false only that the memo cannot tell. Adding it
 * again would change nothing, so a writer may skip the call. */
static inline bool oracle_memo_has(const struct oracle_memo *mo, uint16_t dom, uint64_t pg)
{
	return mo->chunk && mo->cpg == pg / 512 && mo->dom == dom && mo->at == mo->drops &&
	       (mo->chunk[(pg % 512) / 64] >> (pg % 64) & 1);
}

#endif
