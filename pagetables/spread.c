/* Widening dirty-page masks into bitmap words (pagetables/spread.h).
 *
 * The portable version looks each byte of the mask up in a table of
 * widened bytes. The BMI2 one deposits the mask's bits f apart (pdep) and
 * multiplies by f ones, which copies each deposited bit into the f bits
 * above it without carries (the copies do not overlap); it is compiled for
 * BMI2 with a function attribute and chosen at run time, so the build stays
 * for the baseline x86-64 (and any other) target. */
#include <stdlib.h>
#include <string.h>

#include "pagetables/spread.h"
#include "model/hot_path.h"

/* spread_tab[a - 1][b]: bit i of the byte b widened to bits [i f, i f + f)
 * with f = 2^a. For f >= 16 a word holds fewer than eight pages and only
 * the low 64 / f bits of b are ever set. Built by the compiler; 12 KiB. */
#define SPREAD_BIT(b, i, f)                                                                  \
	((i) * (f) < 64 ? (((b) >> (i)) & 1ull) *                                             \
				  (((f) >= 64 ? ~0ull : (1ull << ((f) & 63)) - 1) << (((i) * (f)) & 63)) \
			: 0ull)
#define SPREAD_BYTE(b, f)                                                                    \
	(SPREAD_BIT(b, 0, f) | SPREAD_BIT(b, 1, f) | SPREAD_BIT(b, 2, f) | SPREAD_BIT(b, 3, f) | \
	 SPREAD_BIT(b, 4, f) | SPREAD_BIT(b, 5, f) | SPREAD_BIT(b, 6, f) | SPREAD_BIT(b, 7, f))
#define SPREAD_4(b, f)                                                                       \
	SPREAD_BYTE((b), f), SPREAD_BYTE((b) + 1, f), SPREAD_BYTE((b) + 2, f), SPREAD_BYTE((b) + 3, f)
#define SPREAD_16(b, f) SPREAD_4((b), f), SPREAD_4((b) + 4, f), SPREAD_4((b) + 8, f), SPREAD_4((b) + 12, f)
#define SPREAD_64(b, f)                                                                      \
	SPREAD_16((b), f), SPREAD_16((b) + 16, f), SPREAD_16((b) + 32, f), SPREAD_16((b) + 48, f)
#define SPREAD_256(f) {SPREAD_64(0, f), SPREAD_64(64, f), SPREAD_64(128, f), SPREAD_64(192, f)}
static const uint64_t spread_tab[6][256] = {SPREAD_256(2),  SPREAD_256(4),  SPREAD_256(8),
					    SPREAD_256(16), SPREAD_256(32), SPREAD_256(64)};

/* The dirty bits of the 64 / f pages of bitmap word q (page q * per on). */
static inline uint64_t word_pages(const uint64_t *dm, unsigned q, unsigned a)
{
	const unsigned per = 64u >> a;
	const unsigned j = q * per;
	return (dm[j / 64] >> (j % 64)) & (per == 64 ? ~0ull : (1ull << per) - 1);
}

void pt_spread_portable(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first,
			unsigned last)
{
	const uint64_t *t = spread_tab[a - 1];
	const unsigned per = 64u >> a;
	const unsigned q1 = (unsigned)((((uint64_t)last << a) + (1u << a) - 1) / 64);
	for (unsigned q = (unsigned)(((uint64_t)first << a) / 64); q <= q1; q++) {
		uint64_t x = word_pages(dm, q, a);
		if (!x)
			continue;
		uint64_t out = t[x & 0xff];
		for (unsigned s = 8; s < per; s += 8)
			out |= t[(x >> s) & 0xff] << (s << a);
		words[q] |= out;
	}
}

void pt_spread64_portable(uint64_t *words, uint64_t bits, unsigned a)
{
	const uint64_t *t = spread_tab[a - 1];
	const unsigned per = 64u >> a;
	const uint64_t low = per == 64 ? ~0ull : (1ull << per) - 1;
	for (unsigned q = 0; q < (1u << a); q++) {
		uint64_t x = (bits >> (q * per)) & low, out = 0;
		for (unsigned s = 0; s < per; s += 8)
			out |= t[(x >> s) & 0xff] << (s << a);
		words[q] |= out;
	}
}

unsigned pt_fill64_full(uint64_t *words, const uint64_t *dm, unsigned nb, unsigned a)
{
	unsigned done = 0;
	for (unsigned w = 0; w < nb; w++) {
		if (dm[w] == ~0ull) {
			pt_fill64(words + ((uint64_t)w << a), a);
			done |= 1u << w;
		}
	}
	return done;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* A block's pages of 8 or 16 bits: a mask bit to a byte or a 16-bit lane
 * of ones (vpmovm2b/w), as spread_avx512 below; other widths portable. */
__attribute__((target("avx512f,avx512bw"))) static void spread64_avx512(uint64_t *words,
									  uint64_t bits, unsigned a)
{
	if (a == 3) {
		__m512i w = _mm512_loadu_si512(words);
		_mm512_storeu_si512(words, _mm512_or_si512(w, _mm512_movm_epi8((__mmask64)bits)));
	} else if (a == 4) {
		__m512i lo = _mm512_movm_epi16((__mmask32)(uint32_t)bits);
		__m512i hi = _mm512_movm_epi16((__mmask32)(uint32_t)(bits >> 32));
		_mm512_storeu_si512(words, _mm512_or_si512(_mm512_loadu_si512(words), lo));
		_mm512_storeu_si512(words + 8, _mm512_or_si512(_mm512_loadu_si512(words + 8), hi));
	} else {
		pt_spread64_portable(words, bits, a);
	}
}

/* Pages of 4 bits: the four 16-page quarters of the block a lane each,
 * then widened as spread_gfni does (vpmultishiftqb, gf2p8affineqb), in
 * 256-bit registers. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,gfni"))) static void
spread64_gfni(uint64_t *words, uint64_t bits, unsigned a)
{
	if (a != 2) {
		spread64_avx512(words, bits, a);
		return;
	}
	const __m256i ctrl = _mm256_set1_epi64x(0x0e0c0a0806040200ll);
	const __m256i mat = _mm256_set1_epi64x(0x0101010102020202ll);
	__m256i x = _mm256_cvtepu16_epi64(_mm_cvtsi64_si128((long long)bits));
	__m256i v = _mm256_gf2p8affine_epi64_epi8(_mm256_multishift_epi64_epi8(ctrl, x), mat, 0);
	__m256i w = _mm256_loadu_si256((const __m256i *)words);
	_mm256_storeu_si256((__m256i *)words, _mm256_or_si256(w, v));
}

__attribute__((target("bmi2"))) static void spread_bmi2(uint64_t *words, const uint64_t *dm,
							  unsigned a, unsigned first, unsigned last)
{
	const unsigned f = 1u << a;
	/* A bit every f bits, and f ones (f = 64: the one bit, all ones). */
	const uint64_t every = f == 64 ? 1 : ~0ull / ((1ull << f) - 1);
	const uint64_t ones = f == 64 ? ~0ull : (1ull << f) - 1;
	const unsigned q1 = (unsigned)((((uint64_t)last << a) + f - 1) / 64);
	/* No branch per word: a word without a dirty page is ORed with 0
	 * (at 10 % dirty, whether a word has one was a coin toss). */
	for (unsigned q = (unsigned)(((uint64_t)first << a) / 64); q <= q1; q++)
		words[q] |= _pdep_u64(word_pages(dm, q, a), every) * ones;
}

/* Pages of 8 or 16 bits (a = 3, 4: a 32K or 64K page over a 4 KiB
 * bitmap): AVX-512BW widens a mask bit into a byte or a 16-bit lane of
 * ones in one instruction (vpmovm2b/w), eight words at a time, the words
 * outside [first's, last's] left alone by the store's mask. Other widths
 * take the bit deposit. */
__attribute__((target("avx512f,avx512bw,bmi2"))) static void
spread_avx512(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first, unsigned last)
{
	if (a != 3 && a != 4) {
		spread_bmi2(words, dm, a, first, last);
		return;
	}
	const unsigned per = 64u >> a; /* pages a word */
	const unsigned pz = 8 * per;   /* pages eight words */
	const unsigned q0 = first / per, q1 = last / per;
	for (unsigned s = q0 / 8; s <= q1 / 8; s++) {
		const unsigned qa = 8 * s;
		const unsigned lo = qa < q0 ? q0 - qa : 0, hi = qa + 7 > q1 ? q1 - qa : 7;
		const __mmask8 wm = (__mmask8)((0xffu << lo) & (0xffu >> (7 - hi)));
		const unsigned p0 = s * pz;
		uint64_t bits = dm[p0 / 64] >> (p0 % 64);
		__m512i v = a == 3 ? _mm512_movm_epi8((__mmask64)bits)
				   : _mm512_movm_epi16((__mmask32)(uint32_t)bits);
		__m512i w = _mm512_maskz_loadu_epi64(wm, words + qa);
		_mm512_mask_storeu_epi64(words + qa, wm, _mm512_or_si512(w, v));
	}
}

/* Pages of 4 bits (a = 2: a 16K page over a 4 KiB bitmap) with AVX-512
 * VBMI and GFNI: each word's 16 page bits in a lane of their own
 * (vpmovzxwq), each byte given two of them by a shift per byte
 * (vpmultishiftqb, byte k from bit 2k), and the two widened to four bits
 * each by one bit matrix for every byte (gf2p8affineqb: result bits 0-3
 * copy bit 0, bits 4-7 bit 1); eight words at a time under a word mask.
 * Other widths as above. */
__attribute__((target("avx512f,avx512bw,avx512vbmi,gfni,bmi2"))) static void
spread_gfni(uint64_t *words, const uint64_t *dm, unsigned a, unsigned first, unsigned last)
{
	if (a != 2) {
		spread_avx512(words, dm, a, first, last);
		return;
	}
	const __m512i ctrl = _mm512_set1_epi64(0x0e0c0a0806040200ll);
	/* Row 7 - i of the matrix picks the input bit of result bit i. */
	const __m512i mat = _mm512_set1_epi64(0x0101010102020202ll);
	const unsigned q0 = first / 16, q1 = last / 16;
	for (unsigned s = q0 / 8; s <= q1 / 8; s++) {
		const unsigned qa = 8 * s;
		const unsigned lo = qa < q0 ? q0 - qa : 0, hi = qa + 7 > q1 ? q1 - qa : 7;
		const __mmask8 wm = (__mmask8)((0xffu << lo) & (0xffu >> (7 - hi)));
		/* Pages 128 s .. 128 s + 127: dm words 2 s and 2 s + 1. */
		__m512i x = _mm512_cvtepu16_epi64(_mm_loadu_si128((const __m128i *)(dm + 2 * s)));
		__m512i v = _mm512_gf2p8affine_epi64_epi8(_mm512_multishift_epi64_epi8(ctrl, x), mat, 0);
		__m512i w = _mm512_maskz_loadu_epi64(wm, words + qa);
		_mm512_mask_storeu_epi64(words + qa, wm, _mm512_or_si512(w, v));
	}
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
static bool has_bmi2(void)
{
	__builtin_cpu_init();
	/* Zen 1 and 2 run pdep in microcode, far slower than the table. */
	return __builtin_cpu_supports("bmi2") && !__builtin_cpu_is("znver1") &&
	       !__builtin_cpu_is("znver2");
}
static bool has_avx512(void)
{
	return has_bmi2() && __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512bw");
}
static bool has_gfni(void)
{
	return has_avx512() && __builtin_cpu_supports("avx512vbmi") &&
	       __builtin_cpu_supports("gfni");
}
static bool has_gfni_vl(void)
{
	return has_gfni() && __builtin_cpu_supports("avx512vl");
}
#endif

static pt_spread_fn pick(void)
{
	const char *env = getenv("IMS_HARVEST_SIMD");
	if (env && !strcmp(env, "0"))
		return pt_spread_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (!(env && !strcmp(env, "avx2")) && has_gfni())
		return spread_gfni;
	if (!(env && !strcmp(env, "avx2")) && has_avx512())
		return spread_avx512;
	if (has_bmi2())
		return spread_bmi2;
#endif
	return pt_spread_portable;
}

/* Chosen once per process; two threads racing here store the same value. */
IMS_HARVEST_PATH
pt_spread_fn pt_spread_pick(void)
{
	static pt_spread_fn chosen;
	if (!chosen)
		chosen = pick();
	return chosen;
}

bool pt_spread_wide(pt_spread_fn fn, unsigned a)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	return ((fn == spread_avx512 || fn == spread_gfni) && (a == 3 || a == 4)) ||
	       (fn == spread_gfni && a == 2);
#else
	(void)fn, (void)a;
	return false;
#endif
}

unsigned pt_spread_variants(pt_spread_fn out[PT_SPREAD_VARIANTS])
{
	unsigned n = 0;
	out[n++] = pt_spread_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (has_bmi2())
		out[n++] = spread_bmi2;
	if (has_avx512())
		out[n++] = spread_avx512;
	if (has_gfni())
		out[n++] = spread_gfni;
#endif
	return n;
}

static pt_spread64_fn pick64(unsigned a)
{
	const char *env = getenv("IMS_HARVEST_SIMD");
	if (env && (!strcmp(env, "0") || !strcmp(env, "avx2")))
		return NULL;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (a == 2 && has_gfni_vl())
		return spread64_gfni;
	if ((a == 3 || a == 4) && has_avx512())
		return spread64_avx512;
#else
	(void)a;
#endif
	return NULL;
}

/* Chosen once per width per process (asked at every frame); two threads
 * racing here store the same values. */
IMS_HARVEST_PATH
pt_spread64_fn pt_spread64_pick(unsigned a)
{
	static pt_spread64_fn chosen[7];
	static bool known[7];
	if (a < 1 || a > 6)
		return NULL;
	if (!known[a]) {
		chosen[a] = pick64(a);
		known[a] = true;
	}
	return chosen[a];
}

unsigned pt_spread64_variants(pt_spread64_fn out[PT_SPREAD64_VARIANTS])
{
	unsigned n = 0;
	out[n++] = pt_spread64_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (has_avx512())
		out[n++] = spread64_avx512;
	if (has_gfni_vl())
		out[n++] = spread64_gfni;
#endif
	return n;
}
