/* The shared/ folder beside the checkout, for unit tests that read its
 * sample traces: $IMS_SHARED (set by ctest), ../shared or /work/shared,
 * whichever has traces/. A checkout cloned elsewhere has none: such tests
 * say so and pass vacuously (NEED_SHARED), the rest of the suite runs. */
#ifndef IMS_TESTS_SHARED_DIR_H
#define IMS_TESTS_SHARED_DIR_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline const char *shared_dir(void)
{
	const char *cands[] = {getenv("IMS_SHARED"), "../shared", "/work/shared"};
	for (unsigned i = 0; i < 3; i++) {
		char p[4096];
		if (!cands[i] || !*cands[i])
			continue;
		snprintf(p, sizeof(p), "%s/traces", cands[i]);
		if (access(p, F_OK) == 0)
			return cands[i];
	}
	return NULL;
}

static inline void shared_path(char *buf, size_t n, const char *rel)
{
	const char *d = shared_dir();
	snprintf(buf, n, "%s/%s", d ? d : "shared-not-found", rel);
}

#define NEED_SHARED()                                                                      \
	do {                                                                               \
		if (!shared_dir()) {                                                       \
			fprintf(stderr, "%s: skipped: no shared/ folder beside the checkout\n", \
				__func__);                                                 \
			return;                                                            \
		}                                                                          \
	} while (0)

#endif
