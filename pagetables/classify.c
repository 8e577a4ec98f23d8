/* Block classifiers for the harvest (pagetables/classify.h).
 *
 * The portable one computes three compares per entry without a branch.
 * The AVX2 one does four entries per compare; it is compiled for AVX2 with
 * a function attribute and chosen at run time, so the build stays for the
 * baseline x86-64 (and any other) target. */
#include <stdlib.h>
#include <string.h>

#include "pagetables/classify.h"

void pt_classify64_portable(const uint64_t *p, uint64_t km, uint64_t kc, uint64_t kd,
			    struct pt_cls64 *out)
{
	uint64_t c = 0, d = 0, e = 0;
	for (unsigned k = 0; k < 64; k++) {
		uint64_t key = p[k] & km;
		c |= (uint64_t)(key == kc) << k;
		d |= (uint64_t)(key == kd) << k;
		e |= (uint64_t)(p[k] == 0) << k;
	}
	out->clean = c;
	out->dirty = d;
	out->empty = e;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

__attribute__((target("avx2"))) static void classify64_avx2(const uint64_t *p, uint64_t km,
							      uint64_t kc, uint64_t kd,
							      struct pt_cls64 *out)
{
	const __m256i vkm = _mm256_set1_epi64x((long long)km);
	const __m256i vkc = _mm256_set1_epi64x((long long)kc);
	const __m256i vkd = _mm256_set1_epi64x((long long)kd);
	const __m256i zero = _mm256_setzero_si256();
	uint64_t c = 0, d = 0, e = 0;
	for (unsigned k = 0; k < 64; k += 4) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(p + k));
		__m256i key = _mm256_and_si256(v, vkm);
		c |= (uint64_t)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(key, vkc)))
		     << k;
		d |= (uint64_t)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(key, vkd)))
		     << k;
		e |= (uint64_t)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(v, zero)))
		     << k;
	}
	out->clean = c;
	out->dirty = d;
	out->empty = e;
}
#endif

static pt_classify64_fn pick(void)
{
	const char *env = getenv("IMS_HARVEST_SIMD");
	if (env && !strcmp(env, "0"))
		return pt_classify64_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return classify64_avx2;
#endif
	return pt_classify64_portable;
}

/* Chosen once per process; two threads racing here store the same value. */
pt_classify64_fn pt_classify64_pick(void)
{
	static pt_classify64_fn chosen;
	if (!chosen)
		chosen = pick();
	return chosen;
}
