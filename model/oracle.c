/* The dirty oracle (dirty-semantics.md, "The oracle").
 *
 * Per domain, E is a radix tree over 4 KiB page numbers (52 bits): leaves
 * are 512-bit chunks (2 MiB of IOVA), nodes have 512 children, six levels
 * cover the space. A child is NULL (no page), FULL (every page) or a
 * pointer, and each node keeps its population, so:
 * - memory follows the pages in E (a huge leaf of any size, up to the whole
 *   space, is a few FULL marks), never an IOVA range;
 * - a range operation visits only populated subtrees that meet the range
 *   and takes a whole subtree's count from its node, so a 64 TiB or 2^64
 *   query over a sparse set costs what the set costs.
 * A subtree that fills up collapses to FULL; one that empties is freed.
 * A domain's root is only as high as its pages need (a lone 2 MiB region is
 * one chunk): it grows upward when a write lands outside it and comes down
 * again when removals leave a single child.
 *
 * Ranges are by overlap: a page meeting the range in any byte is in it.
 * clear and unmap with size 0 do nothing; count with size 0 is the whole
 * space (oracle.h). Ranges running past 2^64 are clipped there. The API
 * has no error channel, so running out of host memory aborts with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommusim/oracle.h"
#include "model/oracle_memo.h"
#include "model/prefetch.h"

#define PSHIFT 12
#define FAN 512
#define CWORDS 8                    /* 512 bits in a chunk */
#define TOP 6                       /* height covering every page: 2^54 > 2^52 */
#define LASTPG (UINT64_MAX >> PSHIFT) /* last page number */

struct node {
	uint64_t pop; /* pages of E below */
	void *kid[FAN];
};

struct dom {
	void *root;    /* subtree of height h over pages [base, base + span(h)) */
	unsigned h;
	uint64_t base;
	uint64_t lost;
};

struct ims_oracle {
	struct dom **dir[256]; /* dom >> 8, then dom & 255 */
	uint64_t ndirs, ndoms, nnodes, nchunks;
	/* The chunk the last single-page insert reached (oracle_memo.h): a
	 * device writing again to a page of it (most writes, in steady
	 * state) is found in E with one test of a live chunk, without a
	 * descent; drops counts the subtrees freed. */
	struct oracle_memo memo;
};

/* Only its address is used: the FULL mark. */
static const char full_mark;
#define FULL ((void *)(uintptr_t)&full_mark)

static void oom(void)
{
	fputs("iommusim: out of memory in the dirty oracle\n", stderr);
	abort();
}

/* Height h: a chunk is 1 and covers 2^9 pages; a node of height h covers
 * 2^(9h) pages, each child 2^(9(h-1)). */
static uint64_t span(unsigned h)
{
	return 1ull << (9 * h);
}

/* Bit count without a call: the baseline x86-64 target has no popcnt
 * instruction, and __builtin_popcountll becomes a libgcc call. */
static inline uint64_t popc(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (x * 0x0101010101010101ull) >> 56;
}

static uint64_t cpop(const uint64_t *c)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < CWORDS; i++)
		n += popc(c[i]);
	return n;
}

static uint64_t pop(const void *p, unsigned h)
{
	if (!p)
		return 0;
	if (p == FULL)
		return span(h);
	return h == 1 ? cpop(p) : ((const struct node *)p)->pop;
}

static void drop(struct ims_oracle *o, void *p, unsigned h)
{
	if (!p || p == FULL)
		return;
	o->memo.drops++;
	if (h == 1) {
		o->nchunks--;
	} else {
		struct node *n = p;
		for (unsigned i = 0; i < FAN; i++)
			drop(o, n->kid[i], h - 1);
		o->nnodes--;
	}
	free(p);
}

/* A fresh subtree of height h, empty or (full) with every page set. */
static void *make(struct ims_oracle *o, unsigned h, bool full)
{
	if (h == 1) {
		uint64_t *c = malloc(CWORDS * sizeof(*c));
		if (!c)
			oom();
		memset(c, full ? 0xff : 0, CWORDS * sizeof(*c));
		o->nchunks++;
		return c;
	}
	struct node *n = malloc(sizeof(*n));
	if (!n)
		oom();
	n->pop = full ? span(h) : 0;
	for (unsigned i = 0; i < FAN; i++)
		n->kid[i] = full ? FULL : NULL;
	o->nnodes++;
	return n;
}

/* Bits [a, b] (0..511) of a chunk: sets them, or clears them. */
static void cbits(uint64_t *c, uint64_t a, uint64_t b, bool set)
{
	for (uint64_t w = a / 64; w <= b / 64; w++) {
		uint64_t lo = w == a / 64 ? a % 64 : 0;
		uint64_t hi = w == b / 64 ? b % 64 : 63;
		uint64_t m = (~0ull << lo) & (~0ull >> (63 - hi));
		c[w] = set ? c[w] | m : c[w] & ~m;
	}
}

/* Adds pages [lo, hi] (inside the subtree at *ref); returns pages added. */
static uint64_t add(struct ims_oracle *o, void **ref, unsigned h, uint64_t base, uint64_t lo,
		    uint64_t hi)
{
	void *p = *ref;
	uint64_t sp = span(h);
	if (p == FULL)
		return 0;
	if (lo == base && hi == base + (sp - 1)) {
		uint64_t had = pop(p, h);
		drop(o, p, h);
		*ref = FULL;
		return sp - had;
	}
	if (!p)
		p = *ref = make(o, h, false);
	if (h == 1) {
		/* Only the words the range touches can change; the chunk is
		 * counted whole only when it may have filled up. */
		uint64_t *c = p, a = lo - base, b = hi - base, added = 0;
		for (uint64_t w = a / 64; w <= b / 64; w++) {
			uint64_t l = w == a / 64 ? a % 64 : 0;
			uint64_t r = w == b / 64 ? b % 64 : 63;
			uint64_t m = (~0ull << l) & (~0ull >> (63 - r));
			added += popc(m & ~c[w]);
			c[w] |= m;
		}
		if (added && cpop(c) == sp) {
			drop(o, p, h);
			*ref = FULL;
		}
		return added;
	}
	struct node *n = p;
	uint64_t ks = span(h - 1), added = 0;
	unsigned sh = 9 * (h - 1);
	for (uint64_t i = (lo - base) >> sh; i <= (hi - base) >> sh; i++) {
		uint64_t kb = base + i * ks, ke = kb + (ks - 1);
		added += add(o, &n->kid[i], h - 1, kb, lo > kb ? lo : kb, hi < ke ? hi : ke);
	}
	n->pop += added;
	if (n->pop == sp) {
		drop(o, n, h);
		*ref = FULL;
	}
	return added;
}

/* Removes pages [lo, hi]; returns pages removed. */
static uint64_t del(struct ims_oracle *o, void **ref, unsigned h, uint64_t base, uint64_t lo,
		    uint64_t hi)
{
	void *p = *ref;
	uint64_t sp = span(h);
	if (!p)
		return 0;
	if (lo == base && hi == base + (sp - 1)) {
		uint64_t had = pop(p, h);
		drop(o, p, h);
		*ref = NULL;
		return had;
	}
	if (p == FULL)
		p = *ref = make(o, h, true);
	if (h == 1) {
		uint64_t had = cpop(p);
		cbits(p, lo - base, hi - base, false);
		uint64_t now = cpop(p);
		if (!now) {
			drop(o, p, h);
			*ref = NULL;
		}
		return had - now;
	}
	struct node *n = p;
	uint64_t ks = span(h - 1), gone = 0;
	unsigned sh = 9 * (h - 1);
	for (uint64_t i = (lo - base) >> sh; i <= (hi - base) >> sh; i++) {
		if (!n->kid[i])
			continue;
		uint64_t kb = base + i * ks, ke = kb + (ks - 1);
		gone += del(o, &n->kid[i], h - 1, kb, lo > kb ? lo : kb, hi < ke ? hi : ke);
	}
	n->pop -= gone;
	if (!n->pop) {
		drop(o, n, h);
		*ref = NULL;
	}
	return gone;
}

static uint64_t cnt(const void *p, unsigned h, uint64_t base, uint64_t lo, uint64_t hi)
{
	if (!p)
		return 0;
	if (p == FULL)
		return hi - lo + 1;
	if (lo == base && hi == base + (span(h) - 1))
		return pop(p, h);
	if (h == 1) {
		uint64_t c[CWORDS] = {0};
		cbits(c, lo - base, hi - base, true);
		const uint64_t *w = p;
		uint64_t n = 0;
		for (unsigned i = 0; i < CWORDS; i++)
			n += popc(w[i] & c[i]);
		return n;
	}
	const struct node *n = p;
	uint64_t ks = span(h - 1), sum = 0;
	unsigned sh = 9 * (h - 1);
	for (uint64_t i = (lo - base) >> sh; i <= (hi - base) >> sh; i++) {
		if (!n->kid[i])
			continue;
		uint64_t kb = base + i * ks, ke = kb + (ks - 1);
		sum += cnt(n->kid[i], h - 1, kb, lo > kb ? lo : kb, hi < ke ? hi : ke);
	}
	return sum;
}

/* ---- the expected bitmap -------------------------------------------------
 *
 * Written here from dirty-semantics.md ("The iova bitmap"), with none of
 * the software's bitmap code (DESIGN.md: model/ never uses pagetables/), so
 * that a range-arithmetic mistake in the walkers' bitmap writer cannot
 * appear in the expectation too. Bit k covers the bytes
 * [iova + k * 2^pgshift, iova + (k + 1) * 2^pgshift) and is bit k % 64 of
 * word k / 64; it is set when any 4 KiB page of E meets those bytes. Byte
 * ranges are inclusive [first, last] pairs, so a bitmap ending at 2^64
 * needs no 2^64, and a bit number is (byte - iova) >> pgshift, which is
 * defined for every pgshift up to 63. */
struct expect {
	uint64_t first, last; /* the bytes of whole bitmap pages, inclusive */
	unsigned pgshift;
	uint64_t *words;
};

/* Sets bits [b0, b1]: in the first word the bits from b0 % 64 up, in the
 * last the bits up to b1 % 64, every word between whole. */
static void set_bits(uint64_t *words, uint64_t b0, uint64_t b1)
{
	uint64_t w0 = b0 / 64, w1 = b1 / 64;
	uint64_t head = ~0ull << (b0 % 64);      /* bits b0 % 64 .. 63 */
	uint64_t tail = ~0ull >> (63 - b1 % 64); /* bits 0 .. b1 % 64 */
	if (w0 == w1) {
		words[w0] |= head & tail;
		return;
	}
	words[w0] |= head;
	for (uint64_t w = w0 + 1; w < w1; w++)
		words[w] = ~0ull;
	words[w1] |= tail;
}

static bool bit_is_set(const uint64_t *words, uint64_t b)
{
	return words[b / 64] >> (b % 64) & 1;
}

/* The bits [*b0, *b1] that pages [lo, hi] meet; false when none. */
static bool bits_of(const struct expect *x, uint64_t lo, uint64_t hi, uint64_t *b0, uint64_t *b1)
{
	uint64_t first = lo << PSHIFT, last = (hi << PSHIFT) | (IMS_PAGE_SIZE - 1);
	if (last < x->first || first > x->last)
		return false;
	*b0 = ((first > x->first ? first : x->first) - x->first) >> x->pgshift;
	*b1 = ((last < x->last ? last : x->last) - x->first) >> x->pgshift;
	return true;
}

static void mark(struct expect *x, uint64_t lo, uint64_t hi)
{
	uint64_t b0, b1;
	if (bits_of(x, lo, hi, &b0, &b1))
		set_bits(x->words, b0, b1);
}

static void fill(const void *p, unsigned h, uint64_t base, uint64_t lo, uint64_t hi,
		 struct expect *x)
{
	if (!p)
		return;
	/* A subtree inside one bitmap page that is already set adds nothing:
	 * with huge bitmap pages this bounds the work by the bits set. */
	uint64_t b0, b1;
	if (!bits_of(x, lo, hi, &b0, &b1) || (b0 == b1 && bit_is_set(x->words, b0)))
		return;
	if (p == FULL) {
		set_bits(x->words, b0, b1);
		return;
	}
	if (h == 1) {
		/* Each run of set pages in a word of the chunk, marked whole. */
		uint64_t c[CWORDS] = {0};
		cbits(c, lo - base, hi - base, true);
		const uint64_t *w = p;
		for (unsigned i = 0; i < CWORDS; i++) {
			uint64_t v = w[i] & c[i];
			while (v) {
				unsigned a = (unsigned)__builtin_ctzll(v);
				uint64_t rest = ~(v >> a); /* zero over the run */
				unsigned n = rest ? (unsigned)__builtin_ctzll(rest) : 64 - a;
				uint64_t pg = base + i * 64 + a;
				mark(x, pg, pg + (n - 1));
				v &= n + a >= 64 ? 0 : ~0ull << (n + a);
			}
		}
		return;
	}
	const struct node *n = p;
	uint64_t ks = span(h - 1);
	unsigned sh = 9 * (h - 1);
	for (uint64_t i = (lo - base) >> sh; i <= (hi - base) >> sh; i++) {
		if (!n->kid[i])
			continue;
		uint64_t kb = base + i * ks, ke = kb + (ks - 1);
		fill(n->kid[i], h - 1, kb, lo > kb ? lo : kb, hi < ke ? hi : ke, x);
	}
}

static struct dom *find(const struct ims_oracle *o, uint16_t dom)
{
	struct dom **d = o->dir[dom >> 8];
	return d ? d[dom & 255] : NULL;
}

static struct dom *get(struct ims_oracle *o, uint16_t dom)
{
	struct dom **d = o->dir[dom >> 8];
	if (!d) {
		d = calloc(256, sizeof(*d));
		if (!d)
			oom();
		o->dir[dom >> 8] = d;
		o->ndirs++;
	}
	if (!d[dom & 255]) {
		d[dom & 255] = calloc(1, sizeof(struct dom));
		if (!d[dom & 255])
			oom();
		o->ndoms++;
	}
	return d[dom & 255];
}

/* Raises d's root until it covers pages [lo, hi]. */
static void cover(struct ims_oracle *o, struct dom *d, uint64_t lo, uint64_t hi)
{
	if (!d->root) {
		unsigned h = 1;
		while (h < TOP && lo >> (9 * h) != hi >> (9 * h))
			h++;
		d->h = h;
		d->base = lo >> (9 * h) << (9 * h);
		return;
	}
	for (;;) {
		unsigned sh = 9 * d->h;
		if (d->h == TOP || (lo >> sh == d->base >> sh && hi >> sh == d->base >> sh))
			return;
		struct node *n = make(o, d->h + 1, false);
		uint64_t nb = d->base >> (sh + 9) << (sh + 9);
		n->kid[(d->base - nb) >> sh] = d->root;
		n->pop = pop(d->root, d->h);
		d->root = n;
		d->h++;
		d->base = nb;
	}
}

/* Lowers d's root while it is a node with one child. Children that are
 * present hold pages, so the first one holds them all when its count is
 * the node's. */
static void lower(struct ims_oracle *o, struct dom *d)
{
	while (d->root && d->root != FULL && d->h > 1) {
		struct node *n = d->root;
		unsigned i = 0;
		while (!n->kid[i])
			i++;
		if (pop(n->kid[i], d->h - 1) != n->pop)
			return;
		d->root = n->kid[i];
		n->kid[i] = NULL;
		d->h--;
		d->base += (uint64_t)i << (9 * d->h);
		drop(o, n, d->h + 1);
	}
}

/* Clips pages [*lo, *hi] to d's root; false when nothing is left. */
static bool clip(const struct dom *d, uint64_t *lo, uint64_t *hi)
{
	uint64_t end = d->base + (span(d->h) - 1);
	if (!d->root || *hi < d->base || *lo > end)
		return false;
	if (*lo < d->base)
		*lo = d->base;
	if (*hi > end)
		*hi = end;
	return true;
}

/* Page range [*lo, *hi] of [iova, iova + size), size > 0, clipped at 2^64. */
static void pages(uint64_t iova, uint64_t size, uint64_t *lo, uint64_t *hi)
{
	uint64_t last = iova + (size - 1);
	if (last < iova)
		last = UINT64_MAX;
	*lo = iova >> PSHIFT;
	*hi = last >> PSHIFT;
}

struct ims_oracle *ims_oracle_new(void)
{
	return calloc(1, sizeof(struct ims_oracle));
}

void ims_oracle_free(struct ims_oracle *o)
{
	if (!o)
		return;
	for (unsigned i = 0; i < 256; i++) {
		if (!o->dir[i])
			continue;
		for (unsigned j = 0; j < 256; j++) {
			if (o->dir[i][j])
				drop(o, o->dir[i][j]->root, o->dir[i][j]->h);
			free(o->dir[i][j]);
		}
		free(o->dir[i]);
	}
	free(o);
}

/* Whether pages [lo, hi] are all in E already, found by one descent while
 * the range stays inside one child; false when unsure. A device writing
 * again to a page it dirtied (most writes, in steady state) stops here. */
static bool present(const struct dom *d, uint64_t lo, uint64_t hi)
{
	if (!d || !d->root || lo < d->base || hi > d->base + (span(d->h) - 1))
		return false;
	const void *p = d->root;
	for (unsigned h = d->h; p != FULL; h--) {
		if (!p)
			return false;
		if (h == 1) {
			const uint64_t *c = p;
			uint64_t a = lo % FAN, b = hi % FAN;
			for (uint64_t w = a / 64; w <= b / 64; w++) {
				uint64_t l = w == a / 64 ? a % 64 : 0;
				uint64_t r = w == b / 64 ? b % 64 : 63;
				uint64_t m = (~0ull << l) & (~0ull >> (63 - r));
				if ((c[w] & m) != m)
					return false;
			}
			return true;
		}
		unsigned sh = 9 * (h - 1);
		if (lo >> sh != hi >> sh)
			return false;
		p = ((const struct node *)p)->kid[(lo >> sh) % FAN];
	}
	return true;
}

/* Page pg into d when that needs no change of shape: one descent that
 * both tests and sets, instead of present() then add(). Returns false,
 * having changed no page, when pg is outside the root or setting it would
 * fill a chunk or node (which then collapses to FULL: add() does that).
 * Nodes made on the way down stay for add(), which fills them. */
static bool add_page(struct ims_oracle *o, struct dom *d, uint16_t dom, uint64_t pg)
{
	if (!d->root || pg < d->base || pg - d->base > span(d->h) - 1)
		return false;
	struct node *path[TOP];
	unsigned n = 0;
	void **ref = &d->root;
	for (unsigned h = d->h; h > 1; h--) {
		if (*ref == FULL)
			return true;
		struct node *nd = *ref ? *ref : (*ref = make(o, h, false));
		if (nd->pop == span(h) - 1)
			return false;
		path[n++] = nd;
		ref = &nd->kid[(pg >> (9 * (h - 1))) % FAN];
	}
	if (*ref == FULL)
		return true;
	uint64_t *c = *ref ? *ref : (*ref = make(o, 1, false));
	o->memo.chunk = c;
	o->memo.cpg = pg / FAN;
	o->memo.at = o->memo.drops;
	o->memo.dom = dom;
	unsigned w = (unsigned)(pg % FAN) / 64;
	uint64_t bit = 1ull << (pg % 64);
	if (c[w] & bit)
		return true;
	/* Only a word that fills can fill its chunk: the other words are
	 * looked at then, not on every page. */
	if ((c[w] | bit) == ~0ull) {
		uint64_t all = ~0ull;
		for (unsigned i = 0; i < CWORDS; i++)
			all &= i == w ? ~0ull : c[i];
		if (all == ~0ull)
			return false;
	}
	c[w] |= bit;
	while (n)
		path[--n]->pop++;
	return true;
}

/* Pages [lo, hi] into dom's set: a single page in one descent where it
 * can be, anything else tested whole and then added. */
/* The chunk holding page pg of d (NULL: none, FULL: a subtree of E holds
 * it), found by reading child pointers only: a page written again is
 * found without the node counts add_page() reads on its way down. */
static const void *page_chunk(const struct dom *d, uint64_t pg)
{
	if (!d->root || pg < d->base || pg - d->base > span(d->h) - 1)
		return NULL;
	const void *p = d->root;
	for (unsigned h = d->h; h > 1 && p && p != FULL; h--)
		p = ((const struct node *)p)->kid[(pg >> (9 * (h - 1))) % FAN];
	return p;
}

static __attribute__((noinline)) void insert(struct ims_oracle *o, uint16_t dom, uint64_t lo,
					    uint64_t hi)
{
	struct dom *d = find(o, dom);
	if (lo == hi && d) {
		const uint64_t *c = page_chunk(d, lo);
		if (c == FULL)
			return;
		if (c && (c[(lo % FAN) / 64] >> (lo % 64) & 1)) {
			o->memo = (struct oracle_memo){.drops = o->memo.drops, .chunk = c,
						       .cpg = lo / FAN, .at = o->memo.drops,
						       .dom = dom};
			return;
		}
	}
	if (lo == hi ? d && add_page(o, d, dom, lo) : present(d, lo, hi))
		return;
	d = get(o, dom);
	cover(o, d, lo, hi);
	add(o, &d->root, d->h, d->base, lo, hi);
}

const struct oracle_memo *oracle_memo(const struct ims_oracle *o)
{
	return &o->memo;
}

void ims_oracle_write(struct ims_oracle *o, uint16_t dom, uint64_t leaf_iova, unsigned size_shift)
{
	if (size_shift == PSHIFT && oracle_memo_has(&o->memo, dom, leaf_iova >> PSHIFT))
		return;
	uint64_t lo, hi;
	if (size_shift >= 64) {
		lo = leaf_iova >> PSHIFT;
		hi = LASTPG;
	} else {
		pages(leaf_iova, 1ull << size_shift, &lo, &hi);
	}
	insert(o, dom, lo, hi);
}

void oracle_prefetch(const struct ims_oracle *o, uint16_t dom, uint64_t iova)
{
	const struct dom *d = find(o, dom);
	uint64_t pg = iova >> PSHIFT;
	if (!d || !d->root || pg < d->base || pg > d->base + (span(d->h) - 1))
		return;
	/* The nodes above the chunks are few and stay cached; the chunk, one
	 * of many, is what a random write misses. */
	const void *p = d->root;
	for (unsigned h = d->h; h > 1; h--) {
		if (!p || p == FULL)
			return;
		p = ((const struct node *)p)->kid[(pg >> (9 * (h - 1))) % FAN];
	}
	if (p && p != FULL)
		__builtin_prefetch((const uint64_t *)p + (pg % FAN) / 64, 1);
}

void ims_oracle_reset(struct ims_oracle *o, uint16_t dom)
{
	struct dom *d = find(o, dom);
	if (d) {
		drop(o, d->root, d->h);
		d->root = NULL;
	}
}

void ims_oracle_clear(struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size)
{
	struct dom *d = find(o, dom);
	uint64_t lo, hi;
	if (!d || !size)
		return;
	pages(iova, size, &lo, &hi);
	if (clip(d, &lo, &hi))
		del(o, &d->root, d->h, d->base, lo, hi);
	lower(o, d);
}

uint64_t ims_oracle_unmap(struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size)
{
	struct dom *d = find(o, dom);
	uint64_t lo, hi;
	if (!d || !size)
		return 0;
	pages(iova, size, &lo, &hi);
	if (!clip(d, &lo, &hi))
		return 0;
	uint64_t gone = del(o, &d->root, d->h, d->base, lo, hi);
	lower(o, d);
	d->lost += gone;
	return gone;
}

void ims_oracle_expected(const struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t length,
			 unsigned pgshift, uint64_t *words)
{
	if (pgshift > 63)
		return; /* no page size past 2^63 exists: the bitmap has no bits */
	uint64_t nbits = length >> pgshift;
	uint64_t nwords = nbits / 64 + (nbits % 64 != 0);
	if (nwords)
		memset(words, 0, (size_t)nwords * sizeof(*words));
	const struct dom *d = find(o, dom);
	if (!d || !nbits)
		return;
	/* Whole pages only, clipped at 2^64: no bit past nbits is ever set. */
	uint64_t covered = nbits << pgshift;
	uint64_t last = iova + (covered - 1);
	struct expect x = {iova, last < iova ? UINT64_MAX : last, pgshift, words};
	uint64_t lo = x.first >> PSHIFT, hi = x.last >> PSHIFT;
	if (clip(d, &lo, &hi))
		fill(d->root, d->h, d->base, lo, hi, &x);
}

uint64_t ims_oracle_count(const struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size)
{
	const struct dom *d = find(o, dom);
	uint64_t lo = 0, hi = LASTPG;
	if (!d)
		return 0;
	if (size)
		pages(iova, size, &lo, &hi);
	return clip(d, &lo, &hi) ? cnt(d->root, d->h, d->base, lo, hi) : 0;
}

bool ims_oracle_test(const struct ims_oracle *o, uint16_t dom, uint64_t iova)
{
	const struct dom *d = find(o, dom);
	if (!d)
		return false;
	uint64_t pg = iova >> PSHIFT, lo = pg, hi = pg;
	if (!clip(d, &lo, &hi))
		return false;
	const void *p = d->root;
	for (unsigned h = d->h; p && p != FULL; h--) {
		if (h == 1)
			return ((const uint64_t *)p)[(pg % FAN) / 64] >> (pg % 64) & 1;
		p = ((const struct node *)p)->kid[(pg >> (9 * (h - 1))) % FAN];
	}
	return p == FULL;
}

uint64_t ims_oracle_lost(const struct ims_oracle *o, uint16_t dom)
{
	const struct dom *d = find(o, dom);
	return d ? d->lost : 0;
}

uint64_t ims_oracle_footprint(const struct ims_oracle *o)
{
	return sizeof(*o) + o->ndirs * 256 * sizeof(struct dom *) + o->ndoms * sizeof(struct dom) +
	       o->nnodes * sizeof(struct node) + o->nchunks * CWORDS * sizeof(uint64_t);
}

void ims_oracle_add(struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size)
{
	uint64_t lo, hi;
	if (!size)
		return;
	pages(iova, size, &lo, &hi);
	if (lo == hi && oracle_memo_has(&o->memo, dom, lo))
		return;
	insert(o, dom, lo, hi);
}

/* Runs of pages met in address order, joined across subtrees. */
struct runs {
	ims_oracle_run_fn fn;
	void *arg;
	bool open;
	uint64_t a, b; /* the open run, pages [a, b] */
	int stop;
};

static void run_flush(struct runs *st)
{
	if (st->open && !st->stop)
		st->stop = st->fn(st->arg, st->a << PSHIFT, st->b - st->a + 1);
	st->open = false;
}

static void run_extend(struct runs *st, uint64_t a, uint64_t b)
{
	if (st->open && st->b + 1 == a) {
		st->b = b;
		return;
	}
	run_flush(st);
	st->open = true;
	st->a = a;
	st->b = b;
}

static void each(const void *p, unsigned h, uint64_t base, uint64_t lo, uint64_t hi,
		 struct runs *st)
{
	if (!p || st->stop)
		return;
	if (p == FULL) {
		run_extend(st, lo, hi);
		return;
	}
	if (h == 1) {
		const uint64_t *w = p;
		for (uint64_t pg = lo; pg <= hi && !st->stop;) {
			uint64_t i = pg - base;
			uint64_t word = w[i / 64] >> (i % 64);
			if (!(word & 1)) {
				/* Skip to the next set bit of this word, or the next word. */
				uint64_t skip = word ? (uint64_t)__builtin_ctzll(word) : 64 - i % 64;
				pg += skip;
				continue;
			}
			uint64_t ones = ~word ? (uint64_t)__builtin_ctzll(~word) : 64 - i % 64;
			uint64_t end = pg + ones - 1;
			if (end > hi)
				end = hi;
			run_extend(st, pg, end);
			pg = end + 1;
		}
		return;
	}
	const struct node *n = p;
	uint64_t ks = span(h - 1);
	unsigned sh = 9 * (h - 1);
	for (uint64_t i = (lo - base) >> sh; i <= (hi - base) >> sh && !st->stop; i++) {
		if (!n->kid[i])
			continue;
		uint64_t kb = base + i * ks, ke = kb + (ks - 1);
		each(n->kid[i], h - 1, kb, lo > kb ? lo : kb, hi < ke ? hi : ke, st);
	}
}

int ims_oracle_for_each(const struct ims_oracle *o, uint16_t dom, uint64_t iova, uint64_t size,
			ims_oracle_run_fn fn, void *arg)
{
	const struct dom *d = find(o, dom);
	uint64_t lo = 0, hi = LASTPG;
	if (!d)
		return 0;
	if (size)
		pages(iova, size, &lo, &hi);
	if (!clip(d, &lo, &hi))
		return 0;
	struct runs st = {.fn = fn, .arg = arg};
	each(d->root, d->h, d->base, lo, hi, &st);
	run_flush(&st);
	return st.stop;
}
