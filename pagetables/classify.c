/* Block classifiers for the harvest (pagetables/classify.h).
 *
 * The portable one computes three compares per entry without a branch.
 * The AVX2 one does four entries per compare; it is compiled for AVX2 with
 * a function attribute and chosen at run time, so the build stays for the
 * baseline x86-64 (and any other) target.
 *
 * The block scans that also clean write the dirty entries with masked
 * stores (AVX2's vpmaskmovq, AVX-512's masked vmovdqu64), whose mask is the
 * dirty mask itself: which entries are written is data, not a branch per
 * entry, so scattered dirty entries cost no mispredictions. */
#include <stdlib.h>
#include <string.h>

#include "pagetables/classify.h"
#include "model/hot_path.h"

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

/* A dirty entry made clean (pagetables/classify.h, "pt_scan_keys"). */
static inline uint64_t cleaned(uint64_t v, const struct pt_scan_keys *k)
{
	return (v & ~k->cc) | k->cs;
}

bool pt_scan_clean64_portable(uint64_t *p, const struct pt_scan_keys *k, uint64_t *dirty,
			      unsigned *present)
{
	struct pt_cls64 b;
	pt_classify64_portable(p, k->km, k->kc, k->kd, &b);
	if ((b.clean | b.dirty | b.empty) != ~0ull)
		return false;
	if (b.dirty == ~0ull) {
		/* Every entry dirty: a loop the compiler vectorises. */
		for (unsigned i = 0; i < 64; i++)
			p[i] = cleaned(p[i], k);
	} else {
		for (uint64_t bits = b.dirty; bits; bits &= bits - 1) {
			unsigned i = (unsigned)__builtin_ctzll(bits);
			p[i] = cleaned(p[i], k);
		}
	}
	*dirty = b.dirty;
	*present = 64 - (unsigned)__builtin_popcountll(b.empty);
	return true;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

IMS_HARVEST_PATH __attribute__((target("avx2"))) static void classify64_avx2(const uint64_t *p, uint64_t km,
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

IMS_HARVEST_PATH __attribute__((target("avx2"))) static bool scan_clean64_avx2(uint64_t *p,
							       const struct pt_scan_keys *k,
							       uint64_t *dirty, unsigned *present)
{
	const __m256i vkm = _mm256_set1_epi64x((long long)k->km);
	const __m256i vkc = _mm256_set1_epi64x((long long)k->kc);
	const __m256i vkd = _mm256_set1_epi64x((long long)k->kd);
	/* First as if no entry were empty (a dense table), as the AVX-512
	 * scan: lanes all ones while every entry so far is of the clean or
	 * the dirty shape. */
	__m256i known = _mm256_set1_epi64x(-1);
	uint64_t d = 0;
	/* Not unrolled whole: GCC then scheduled every load and compare
	 * first and spilled them to the stack. */
#pragma GCC unroll 2
	for (unsigned i = 0; i < 64; i += 4) {
		__m256i key = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + i)), vkm);
		__m256i isd = _mm256_cmpeq_epi64(key, vkd);
		known = _mm256_and_si256(known, _mm256_or_si256(_mm256_cmpeq_epi64(key, vkc), isd));
		/* Shifted in from the top: a constant shift, where "<< i"
		 * took the slower shift by a register. */
		d = d >> 4 | (uint64_t)_mm256_movemask_pd(_mm256_castsi256_pd(isd)) << 60;
	}
	unsigned n = 64;
	if (!_mm256_testc_si256(known, _mm256_set1_epi64x(-1))) {
		/* The block again, with the empty entries, counted per lane
		 * (a compare gives -1). */
		const __m256i zero = _mm256_setzero_si256();
		__m256i ok = _mm256_set1_epi64x(-1), nempty = zero;
		for (unsigned i = 0; i < 64; i += 4) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
			__m256i key = _mm256_and_si256(v, vkm);
			__m256i ise = _mm256_cmpeq_epi64(v, zero);
			ok = _mm256_and_si256(ok, _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi64(key, vkc),
										 _mm256_cmpeq_epi64(key, vkd)),
								ise));
			nempty = _mm256_sub_epi64(nempty, ise);
		}
		if (!_mm256_testc_si256(ok, _mm256_set1_epi64x(-1)))
			return false;
		__m128i n2 = _mm_add_epi64(_mm256_castsi256_si128(nempty),
					   _mm256_extracti128_si256(nempty, 1));
		n = 64 - (unsigned)((uint64_t)_mm_cvtsi128_si64(n2) + (uint64_t)_mm_extract_epi64(n2, 1));
	}
	if (d) {
		/* The entries read again, not kept from the loop above: kept,
		 * sixteen vectors and their compares spilled to the stack. */
		__asm__("" : "+r"(p));
		const __m256i ncc = _mm256_set1_epi64x((long long)~k->cc);
		const __m256i vcs = _mm256_set1_epi64x((long long)k->cs);
		for (unsigned i = 0; i < 64; i += 4) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
			/* The store's mask compared again from the entries read
			 * here (all ones where dirty: the sign bit maskstore
			 * looks at), not taken from d, as in the AVX-512 scan. */
			__m256i m = _mm256_cmpeq_epi64(_mm256_and_si256(v, vkm), vkd);
			v = _mm256_or_si256(_mm256_and_si256(v, ncc), vcs);
			if (d == ~0ull)
				_mm256_storeu_si256((__m256i *)(p + i), v);
			else
				_mm256_maskstore_epi64((long long *)(p + i), m, v);
		}
	}
	*dirty = d;
	*present = n;
	return true;
}

IMS_HARVEST_PATH __attribute__((target("avx512f,avx512bw"))) static bool
scan_clean64_avx512(uint64_t *p, const struct pt_scan_keys *k, uint64_t *dirty, unsigned *present)
{
	const __m512i vkm = _mm512_set1_epi64((long long)k->km);
	const __m512i vkc = _mm512_set1_epi64((long long)k->kc);
	const __m512i vkd = _mm512_set1_epi64((long long)k->kd);
	/* First as if no entry were empty (a dense table): two compares per
	 * eight entries. known: lanes of the clean or dirty shape so far;
	 * the dirty mask shifted in from the top, in a general register (the
	 * compiler would otherwise shift mask registers, on the port the
	 * compares need). */
	unsigned known = 0xff;
	uint64_t d = 0;
#pragma GCC unroll 2
	for (unsigned g = 0; g < 8; g++) {
		__m512i key = _mm512_and_si512(_mm512_loadu_si512(p + 8 * g), vkm);
		__mmask8 isd = _mm512_cmpeq_epi64_mask(key, vkd);
		unsigned dd = isd;
		__asm__("" : "+r"(dd));
		known &= (unsigned)(_mm512_cmpeq_epi64_mask(key, vkc) | isd);
		d = d >> 8 | (uint64_t)dd << 56;
	}
	unsigned n = 64;
	if (known != 0xff) {
		/* Some entry of neither shape: the block again, with the
		 * empty entries (ok: lanes of a known kind so far). */
		const __m512i one = _mm512_set1_epi64(1);
		__m512i nempty = _mm512_setzero_si512();
		unsigned ok = 0xff;
		for (unsigned g = 0; g < 8; g++) {
			__m512i v = _mm512_loadu_si512(p + 8 * g);
			__m512i key = _mm512_and_si512(v, vkm);
			__mmask8 ise = _mm512_testn_epi64_mask(v, v);
			ok &= (unsigned)(_mm512_cmpeq_epi64_mask(key, vkc) |
					 _mm512_cmpeq_epi64_mask(key, vkd) | ise);
			nempty = _mm512_mask_add_epi64(nempty, ise, nempty, one);
		}
		if (ok != 0xff)
			return false;
		n = 64 - (unsigned)_mm512_reduce_add_epi64(nempty);
	}
	if (d == ~0ull) {
		/* Every entry dirty: the same writes, unmasked. */
		__asm__("" : "+r"(p)); /* read again, not kept from the loop */
		const __m512i ncc = _mm512_set1_epi64((long long)~k->cc);
		const __m512i vcs = _mm512_set1_epi64((long long)k->cs);
		for (unsigned g = 0; g < 8; g++) {
			__m512i v = _mm512_loadu_si512(p + 8 * g);
			_mm512_storeu_si512(p + 8 * g, _mm512_or_si512(_mm512_and_si512(v, ncc), vcs));
		}
	} else if (d) {
		__asm__("" : "+r"(p));
		const __m512i ncc = _mm512_set1_epi64((long long)~k->cc);
		const __m512i vcs = _mm512_set1_epi64((long long)k->cs);
		for (unsigned g = 0; g < 8; g++) {
			/* Each store's mask compared again from the entries
			 * read here, the bits d holds: taken from d, every store
			 * waited on the chain of shifts that built it, and a
			 * partly dirty block took longer than a fully dirty one. */
			__m512i v = _mm512_loadu_si512(p + 8 * g);
			__mmask8 isd = _mm512_cmpeq_epi64_mask(_mm512_and_si512(v, vkm), vkd);
			_mm512_mask_storeu_epi64(p + 8 * g, isd,
						 _mm512_or_si512(_mm512_and_si512(v, ncc), vcs));
		}
	}
	*dirty = d;
	*present = n;
	return true;
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
IMS_HARVEST_PATH
pt_classify64_fn pt_classify64_pick(void)
{
	static pt_classify64_fn chosen;
	if (!chosen)
		chosen = pick();
	return chosen;
}

/* x86-64 hosts with the instructions of each SIMD block scan. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
static bool has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
static bool has_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
#endif

static pt_scan_clean64_fn pick_scan(void)
{
	const char *env = getenv("IMS_HARVEST_SIMD");
	if (env && !strcmp(env, "0"))
		return pt_scan_clean64_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (!(env && !strcmp(env, "avx2")) && has_avx512())
		return scan_clean64_avx512;
	if (has_avx2())
		return scan_clean64_avx2;
#endif
	return pt_scan_clean64_portable;
}

/* Chosen once per process, as the classifier. */
IMS_HARVEST_PATH
pt_scan_clean64_fn pt_scan_clean64_pick(void)
{
	static pt_scan_clean64_fn chosen;
	if (!chosen)
		chosen = pick_scan();
	return chosen;
}

unsigned pt_scan_clean64_variants(pt_scan_clean64_fn out[PT_SCAN_VARIANTS])
{
	unsigned n = 0;
	out[n++] = pt_scan_clean64_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (has_avx2())
		out[n++] = scan_clean64_avx2;
	if (has_avx512())
		out[n++] = scan_clean64_avx512;
#endif
	return n;
}
