/* How much of an exhaustive sweep a test runs.
 *
 * The release and sanitizer passes run every case of a sweep (every byte,
 * every bit, every variant of every line). Under memcheck (an IMS_VALGRIND
 * build sets IMS_TEST_STRIDE) what matters is that each code path runs, not
 * each value: a sweep then takes every Nth case, with an offset that moves
 * from one outer step to the next so that every kind of case still runs. */
#ifndef IMS_TEST_STRIDE_H
#define IMS_TEST_STRIDE_H

#include <stdbool.h>
#include <stdlib.h>

static inline unsigned test_stride(void)
{
	const char *s = getenv("IMS_TEST_STRIDE");
	unsigned long v = s && *s ? strtoul(s, NULL, 10) : 1;
	return v >= 1 && v <= 1024 ? (unsigned)v : 1;
}

/* Whether case k of outer step o runs. */
static inline bool test_sample(size_t o, size_t k)
{
	unsigned n = test_stride();
	return n == 1 || (o + k) % n == 0;
}

#endif
