/* An example read_and_clear_dirty walker, written against the installed
 * <iommusim/walker.h> and nothing else, as a user of iommusim writes one.
 *
 * It is a harvest-level walker: iommusim's own software builds the page
 * tables; this walker only reads and cleans them. It handles the formats
 * of docs/formats.md:
 *  - AMD IOMMU v1, 1..6 levels, leaves at any level with NextLevel = 0 and
 *    NextLevel = 7 pages replicated over several entries;
 *  - Intel VT-d second stage, 3..5 levels, 2 MiB and 1 GiB leaves (PS);
 *  - Arm SMMUv3 stage 1, 4K/16K/64K granules, blocks and contiguous groups;
 *  - Arm SMMUv3 stage 2: the same tables (a concatenated start level is a
 *    larger top table), with the stage 2 dirty state.
 *  - the x86-64 tables of Intel VT-d first stage and AMD v2 guest
 *    translation, 4 or 5 levels, 2 MiB and 1 GiB leaves (PS).
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags iommusim) correct.c -o correct.so
 * Run:   iommusim replay --walker-plugin ./correct.so TRACE
 *
 * Compiled with -DFIRST_REPLICA_ONLY=1 (first_replica.c does that) it has
 * classic bug 1 of dirty-semantics.md.
 */
#include <errno.h>

#include <iommusim/walker.h>

#ifndef FIRST_REPLICA_ONLY
#define FIRST_REPLICA_ONLY 0
#endif
#ifndef WALKER_NAME
#define WALKER_NAME "example-correct"
#define WALKER_WHAT                                                                                \
	"examples/walker/correct.c: a plain harvest walker (amdv1, vtd, smmuv3, vtd-fs, amdv2, "      \
	"smmuv3-s2)"
#endif

#define BIT(n) (1ull << (n))
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~(BIT(lo) - 1)) /* bits hi:lo */

/* ---- entry decoding (formats.md) --------------------------------------------- */

/* What one entry is: nothing, a next-level table, or (part of) a leaf. */
enum kind { NONE, TABLE, LEAF };

struct entry {
	enum kind kind;
	uint64_t table;   /* TABLE: physical address of the next table */
	int next_level;   /* TABLE: its level (0 = leaf level) */
	unsigned shift;   /* LEAF: log2 of the page size (a whole run) */
};

/* log2 of the size of one entry at `level`. */
static unsigned level_shift(const struct ims_walker_dom *d, int level)
{
	return d->granule_shift + d->stride * (unsigned)level;
}

/* Entries in a table at `level`: the top table holds only what is left of
 * the IOVA width (AMD mode 6: 7 bits; an SMMU ias that is not a whole
 * number of levels). */
static uint64_t level_entries(const struct ims_walker_dom *d, int level)
{
	if (level < d->top)
		return BIT(d->stride);
	unsigned lo = level_shift(d, level);
	return d->ias > lo ? BIT(d->ias - lo) : 1;
}

/* AMD "2.2.3": PR bit 0, NextLevel 11:9, address 51:12. NextLevel 0 is a
 * leaf of the level's size, 7 a leaf whose size is coded in the address
 * (Table 14: size = 2^(1 + index of the lowest 0 of pte | 0xfff)), 1..6
 * the spec's level of the next table (ours is one less). */
static struct entry amd_decode(int level, unsigned shift, uint64_t pte)
{
	struct entry e = {NONE, 0, 0, 0};
	unsigned nl = (unsigned)(pte >> 9) & 7;
	if (!(pte & BIT(0)))
		return e;
	if (nl == 0 || nl == 7) {
		e.kind = LEAF;
		e.shift = shift;
		if (nl == 7) {
			uint64_t x = (pte & BITS(51, 12)) | 0xfff;
			unsigned n = 0;
			while (x & BIT(n))
				n++;
			e.shift = n + 1;
		}
	} else if ((int)nl <= level) { /* a next level above ours is malformed */
		e.kind = TABLE;
		e.table = pte & BITS(51, 12);
		e.next_level = (int)nl - 1; /* below level - 1: a level skip */
	}
	return e;
}

/* VT-d "3.7": present when R, W or X (bits 2:0); a leaf at level 0, or at
 * levels 1 and 2 with PS (bit 7); address 51:12. */
static struct entry vtd_decode(int level, unsigned shift, uint64_t pte)
{
	struct entry e = {NONE, 0, 0, 0};
	if (!(pte & BITS(2, 0)))
		return e;
	if (level == 0 || (level <= 2 && (pte & BIT(7)))) {
		e.kind = LEAF;
		e.shift = shift;
	} else {
		e.kind = TABLE;
		e.table = pte & BITS(51, 12);
		e.next_level = level - 1;
	}
	return e;
}

/* Arm contiguous groups ("Contiguous groups" of formats.md): log2 of the
 * entries in a group at our level, 0 where the bit means nothing. */
static unsigned smmu_contig_log2(unsigned granule_shift, int level)
{
	switch (granule_shift) {
	case 12: return level <= 2 ? 4 : 0;                    /* 16 at L1..L3 */
	case 14: return level == 0 ? 7 : level == 1 ? 5 : 0;   /* 128 at L3, 32 at L2 */
	case 16: return level <= 1 ? 5 : 0;                    /* 32 at L2, L3 */
	default: return 0;
	}
}

/* Arm ARM D8.3: the next-table address is bits 47:12; with the 64K
 * granule bits 15:12 carry OA[51:48] (FEAT_LPA), with 4K/16K and more than
 * 48 IOVA bits (FEAT_LPA2, CD.DS) bits 49:12 and OA[51:50] in 9:8. */
static uint64_t smmu_table_pa(const struct ims_walker_dom *d, uint64_t pte)
{
	if (d->granule_shift == 16)
		return (pte & BITS(47, 16)) | ((pte >> 12) & 0xf) << 48;
	if (d->ias > 48)
		return (pte & BITS(49, 12)) | ((pte >> 8) & 3) << 50;
	return pte & BITS(47, 12);
}

/* Arm (formats.md table): bits 1:0 are 11 table (page at level 0), 01 block
 * (not at level 0); the Contiguous bit 52 makes the leaf a whole group. */
static struct entry smmu_decode(const struct ims_walker_dom *d, int level, unsigned shift,
				uint64_t pte)
{
	struct entry e = {NONE, 0, 0, 0};
	unsigned type = (unsigned)pte & 3;
	if (type == 3 && level > 0) {
		e.kind = TABLE;
		e.table = smmu_table_pa(d, pte);
		e.next_level = level - 1;
	} else if ((type == 3 && level == 0) || (type == 1 && level > 0)) {
		e.kind = LEAF;
		e.shift = shift;
		if (pte & BIT(52))
			e.shift += smmu_contig_log2(d->granule_shift, level);
	}
	return e;
}

/* x86-64 (VT-d "9.7", AMD "2.2.6"): P bit 0; a leaf at level 0, or at
 * levels 1 and 2 with PS (bit 7); address 51:12. */
static struct entry x86_decode(int level, unsigned shift, uint64_t pte)
{
	struct entry e = {NONE, 0, 0, 0};
	if (!(pte & BIT(0)))
		return e;
	if (level == 0 || (level <= 2 && (pte & BIT(7)))) {
		e.kind = LEAF;
		e.shift = shift;
	} else if (!(pte & BIT(7))) {
		e.kind = TABLE;
		e.table = pte & BITS(51, 12);
		e.next_level = level - 1;
	}
	return e;
}

static struct entry decode(const struct ims_walker_dom *d, int level, uint64_t pte)
{
	unsigned shift = level_shift(d, level);
	switch (d->fmt) {
	case IMS_FMT_AMDV1: return amd_decode(level, shift, pte);
	case IMS_FMT_VTD: return vtd_decode(level, shift, pte);
	case IMS_FMT_VTD_FS:
	case IMS_FMT_AMDV2: return x86_decode(level, shift, pte);
	default: return smmu_decode(d, level, shift, pte);
	}
}

/* Dirty state of one leaf entry: AMD D bit 6 (v1 and x86-64 alike), VT-d
 * D bit 9, Arm "D8.5.2" writable-dirty = DBM (bit 51) set and, at stage 1,
 * AP[2] (bit 7) clear, at stage 2 S2AP[1] (bit 7) set. */
static bool entry_dirty(enum ims_format fmt, uint64_t pte)
{
	switch (fmt) {
	case IMS_FMT_AMDV1:
	case IMS_FMT_VTD_FS:
	case IMS_FMT_AMDV2: return pte & BIT(6);
	case IMS_FMT_VTD: return pte & BIT(9);
	case IMS_FMT_SMMUV3_S2: return (pte & BIT(51)) && (pte & BIT(7));
	default: return (pte & BIT(51)) && !(pte & BIT(7));
	}
}

/* ---- the walk (dirty-semantics.md, "read_and_clear_dirty") ------------------- */

struct walk {
	struct ims_walker_dom *d;
	const struct ims_walker_host *h;
	uint64_t first, last; /* inclusive */
	unsigned flags;
	struct ims_walker_dirty *dirty;
};

/* Cleans one entry with an atomic operation, so a hardware A/D update
 * between our load and the clean is never undone (classic bug 4). AMD and
 * VT-d clear D; Arm stage 1 sets AP[2] and stage 2 clears S2AP[1], but only
 * where DBM is set: either on a DBM = 0 entry would take write permission
 * away from a writable page ("D8.5.2"). DBM is
 * the software's bit (hardware never changes it), so reading it first
 * and setting AP[2] after races with nothing. */
static void clean(struct walk *w, uint64_t slot)
{
	switch (w->d->fmt) {
	case IMS_FMT_AMDV1:
	case IMS_FMT_VTD_FS:
	case IMS_FMT_AMDV2:
		w->h->fetch_and(w->d, slot, ~BIT(6));
		break;
	case IMS_FMT_VTD:
		w->h->fetch_and(w->d, slot, ~BIT(9));
		break;
	case IMS_FMT_SMMUV3_S2: /* clear S2AP[1], only where DBM is set */
		if (w->h->load(w->d, slot) & BIT(51))
			w->h->fetch_and(w->d, slot, ~BIT(7));
		break;
	default:
		if (w->h->load(w->d, slot) & BIT(51))
			w->h->fetch_or(w->d, slot, BIT(7));
		break;
	}
}

/* One leaf of 2^shift bytes from `iova` held by `n` entries from `slot`
 * (AMD replicas "2.2.3.2", an Arm contiguous group "D8.5.5", or a single
 * entry). Hardware may have set the dirty state in any one of them, so it
 * is the OR over all (classic bug 1); the page is recorded whole (the host
 * clips it to the range) and, unless NO_CLEAR, every entry is cleaned
 * (classic bug 2). record() also adds the page to the IOTLB gather that the
 * host flushes after the walk. */
static void leaf(struct walk *w, uint64_t slot, uint64_t n, uint64_t iova, unsigned shift)
{
	uint64_t scan = FIRST_REPLICA_ONLY ? 1 : n;
	bool dirty = false;
	for (uint64_t k = 0; k < scan && !dirty; k++)
		dirty = entry_dirty(w->d->fmt, w->h->load(w->d, slot + 8 * k));
	if (!dirty)
		return;
	w->h->record(w->dirty, iova, shift >= 64 ? 0 : BIT(shift));
	if (w->flags & IMS_WALKER_NO_CLEAR)
		return;
	for (uint64_t k = 0; k < n; k++)
		clean(w, slot + 8 * k);
}

/* The entries of the table at `table` (level `level`, mapping IOVAs from
 * `base`) that meet [first, last]: one pass, descending into tables,
 * skipping empty entries. */
static void walk_table(struct walk *w, uint64_t table, int level, uint64_t base)
{
	unsigned shift = level_shift(w->d, level);
	uint64_t nent = level_entries(w->d, level);
	uint64_t i = w->first > base ? (w->first - base) >> shift : 0;
	for (; i < nent; i++) {
		uint64_t lo = base + (i << shift);
		if (lo > w->last)
			break;
		struct entry e = decode(w->d, level, w->h->load(w->d, table + 8 * i));
		if (e.kind == TABLE && e.next_level >= 0) {
			walk_table(w, e.table, e.next_level, lo);
		} else if (e.kind == LEAF) {
			/* A run of n entries starts at an index aligned to n,
			 * possibly before the first one in the range. */
			uint64_t n = e.shift > shift ? BIT(e.shift - shift) : 1;
			uint64_t i0 = i & ~(n - 1);
			if (i0 + n > nent) /* malformed size code: stay in the table */
				n = nent - i0;
			leaf(w, table + 8 * i0, n, base + (i0 << shift), e.shift);
			i = i0 + n - 1;
		}
	}
}

static int read_and_clear_dirty(struct ims_walker_dom *d, uint64_t iova, uint64_t size,
				unsigned flags, struct ims_walker_dirty *dirty)
{
	struct walk w = {
		.d = d,
		.h = d->host,
		.first = iova,
		.last = size ? iova + (size - 1) : ~0ull, /* size 0: up to 2^64 */
		.flags = flags,
		.dirty = dirty,
	};
	if (w.last < iova)
		return -EINVAL; /* wraps past 2^64 */
	walk_table(&w, d->root, d->top, 0);
	return 0;
}

static const struct ims_walker_ops ops = {
	.abi_version = IMS_WALKER_ABI_VERSION,
	.size = sizeof(struct ims_walker_ops),
	.name = WALKER_NAME,
	.description = WALKER_WHAT,
	.level = IMS_WALKER_HARVEST,
	.formats = 1u << IMS_FMT_AMDV1 | 1u << IMS_FMT_VTD | 1u << IMS_FMT_SMMUV3 |
		   1u << IMS_FMT_VTD_FS | 1u << IMS_FMT_AMDV2 | 1u << IMS_FMT_SMMUV3_S2,
	.read_and_clear_dirty = read_and_clear_dirty,
};

/* The plug-in's one export: our ops for the ABI we were built against,
 * NULL (refused) for any other. */
const struct ims_walker_ops *ims_walker_entry(uint32_t host_abi_version);
const struct ims_walker_ops *ims_walker_entry(uint32_t host_abi_version)
{
	return host_abi_version == IMS_WALKER_ABI_VERSION ? &ops : NULL;
}
