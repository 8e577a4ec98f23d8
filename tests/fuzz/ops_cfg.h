/* What the guided target (fuzz_ops.c) and its corpus builder (ops_corpus.c)
 * must agree on for an input to mean the same sequence to both. */
#ifndef IMS_TESTS_FUZZ_OPS_CFG_H
#define IMS_TESTS_FUZZ_OPS_CFG_H

/* Events per sequence, at most: `iommusim fuzz`'s --max-len default. */
#define OPS_MAX_LEN 300
/* The walker when IMS_FUZZ_WALKER names none. Its accesses are what the
 * generator learns (inject-at), so the corpus is built with it. */
#define OPS_WALKER "reference"

#endif
