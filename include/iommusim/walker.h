/* The walker ABI: how a read_and_clear_dirty walker (built in, a user's
 * shared object, or Linux's own code built from a kernel tree) meets the
 * simulator. docs/walkers.md is the prose form of this header.
 *
 * A walker is a table of operations (struct ims_walker_ops) at one of two
 * levels:
 *  - IMS_WALKER_HARVEST: the simulator's own software builds and changes the
 *    tables (map, unmap, context words); the walker implements only
 *    read_and_clear_dirty over them, given the format, geometry and root.
 *  - IMS_WALKER_FULL: the walker also owns the tables: domain create/free,
 *    context words, map, unmap, iova_to_phys and set_dirty_tracking, so its
 *    encoding is what the hardware model walks and sets A/D bits in.
 *
 * The walker touches simulated memory only through the host (struct
 * ims_walker_host). Every host call is a point where the model may act: a
 * device may write through the IOMMU, which sets accessed/dirty bits in the
 * tables, before the call's access takes effect. Nothing changes simulated
 * memory between two host calls, so a walker that reads a table through a
 * pointer from host->frame() sees memory change only across host calls.
 *
 * Concurrency: one thread. The host never calls a walker re-entrantly for
 * the same domain, and a walker must not call into its domain's ops from a
 * host call. Ownership: the host owns the simulated memory, the bitmap and
 * the gather; the walker owns dom->priv and the tables it allocated through
 * the host (full level), and nothing else.
 *
 * Versioning: IMS_WALKER_ABI_VERSION changes when a change would break a
 * compiled walker. A plug-in exports ims_walker_entry(), which receives the
 * host's version and returns its ops (or NULL to refuse); the host refuses
 * ops whose abi_version differs from its own or whose size is smaller than
 * the ops of that version.
 */
#ifndef IOMMUSIM_WALKER_H
#define IOMMUSIM_WALKER_H

#include "iommusim/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_WALKER_ABI_VERSION 1u

enum ims_walker_level {
	IMS_WALKER_HARVEST = 1, /* read_and_clear_dirty only */
	IMS_WALKER_FULL = 2,    /* the page table too */
};

/* read_and_clear_dirty flags: IOMMU_DIRTY_NO_CLEAR (record, clean nothing). */
#define IMS_WALKER_NO_CLEAR 1u

/* Contracts a walker states about itself (struct ims_walker_ops.contract):
 * what its source documents that the oracle would otherwise count as a bug.
 *
 * IMS_WALKER_CONTRACT_CLEAN_RACE_LOST: the walker cleans an entry with a
 * plain read, then write (Linux generic_pt, pt_common.h:
 * pt_entry_make_write_clean: "Any write dirty prior to the TLB flush can be
 * lost, but once the TLB flush completes all writes must make their entries
 * write dirty"). A hardware dirty update that races that clean may be lost
 * while the harvest runs, provided the harvest records the page it belongs
 * to: its data is copied after the write. The replayer then counts the
 * loss (lost to the walker's contract) instead of failing it; a loss on a
 * page the harvest did not record, or outside a harvest, still fails. */
#define IMS_WALKER_CONTRACT_CLEAN_RACE_LOST 1u
/* IMS_WALKER_CONTRACT_TABLES_KEPT: an unmap may keep the tables it
 * empties until domain_free (Linux generic_pt frees a table only when one
 * unmap covers its whole span; pt_iommu_deinit frees the rest). The
 * replayer's `expect tables` then allows more tables than expected (counted,
 * not failed); fewer still fails. */
#define IMS_WALKER_CONTRACT_TABLES_KEPT 2u
/* IMS_WALKER_CONTRACT_MAPS_DIRTY: a writable map of a domain whose dirty
 * tracking is on makes its leaves writable-dirty (Linux io-pgtable-arm,
 * arm_lpae_prot_to_pte with IO_PGTABLE_QUIRK_ARM_HD: DBM = 1, AP[2] = 0),
 * so the next harvest reports them though no device wrote them: the other
 * policy of dirty-semantics.md's classic bug 10 (over-reports, loses
 * nothing). The replayer's oracle then adds every page of such a map to
 * its expected set (counted as mapped dirty by contract); a walker without
 * the bit must map writable-clean. */
#define IMS_WALKER_CONTRACT_MAPS_DIRTY 4u

/* Protection bits of map and iova_to_phys (as IMS_PROT_R / IMS_PROT_W). */
#define IMS_WALKER_PROT_R 1u
#define IMS_WALKER_PROT_W 2u

/* frame() flags. */
#define IMS_WALKER_FRAME_WRITE 1u
/* A writable pointer to a page-table frame given even while the host
 * checks every access: for code that holds table pointers as addresses
 * (kernel code's __va) and routes its accesses through the calls itself
 * (READ_ONCE onto load, cmpxchg64 onto cmpxchg...); a plain access made
 * through it is not seen by the host. NULL for a frame that is no table. */
#define IMS_WALKER_FRAME_MAP 2u

/* A harvest's output: opaque, handed to the walker's read_and_clear_dirty
 * and passed back to the host's record / bitmap_set / gather_add. */
struct ims_walker_dirty;

struct ims_walker_host;

/* The domain as the walker sees it. The host fills every field before
 * calling any op; a full-level walker sets root (and may change nothing
 * else but priv) in domain_init. */
struct ims_walker_dom {
	enum ims_format fmt;
	uint16_t tag;            /* DomainID / DID / ASID */
	/* Geometry (formats.md). Levels are numbered 0 = leaf level. */
	unsigned levels;         /* AMD Mode 1..6, VT-d 3..5 levels, SMMU: 0 */
	int top;                 /* level of the root table */
	unsigned granule_shift;  /* log2 of the translation granule */
	unsigned stride;         /* index bits per level below the top */
	unsigned ias;            /* IOVA bits (64 = the whole space) */
	uint64_t pgsizes;        /* bit n: 2^n is a leaf size the domain may use */
	bool dirty_tracking;     /* allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING */
	uint64_t root;           /* physical address of the root table */
	const struct ims_walker_host *host;
	void *priv;              /* the walker's own, per domain */
};

/* What the host does for a walker. `dom` is the calling domain. Memory
 * calls take 8-byte aligned physical addresses; an access outside the
 * domain's tables (a store, cmpxchg, xchg or fetch_and/or that does not land
 * in a table frame) is not performed, and the host reports the walker for it.
 * Loads read 0 from memory never written. */
struct ims_walker_host {
	/* READ_ONCE / WRITE_ONCE of one 64-bit entry. */
	uint64_t (*load)(struct ims_walker_dom *dom, uint64_t pa);
	void (*store)(struct ims_walker_dom *dom, uint64_t pa, uint64_t val);
	/* Atomic against the hardware's A/D updates; each returns the old
	 * value. cmpxchg writes `val` only if the entry equals `expect`;
	 * fetch_and / fetch_or are the kernel's atomic64_fetch_and/or and cover
	 * set_bit, clear_bit, test_and_set_bit and test_and_clear_bit on an
	 * entry. */
	uint64_t (*cmpxchg)(struct ims_walker_dom *dom, uint64_t pa, uint64_t expect, uint64_t val);
	uint64_t (*xchg)(struct ims_walker_dom *dom, uint64_t pa, uint64_t val);
	uint64_t (*fetch_and)(struct ims_walker_dom *dom, uint64_t pa, uint64_t mask);
	uint64_t (*fetch_or)(struct ims_walker_dom *dom, uint64_t pa, uint64_t mask);

	/* Direct access to the 4 KiB frame holding pa, for walkers that
	 * dereference table pointers: a pointer to its first word, or NULL
	 * when the host wants every access of that kind through the calls
	 * above (e.g. while it checks stores for lost updates: ask again
	 * without IMS_WALKER_FRAME_WRITE, or use the calls). The call itself
	 * is an access point; the pointer is live memory and stays valid
	 * until the frame is freed. Accesses made through it are not seen one
	 * by one: report their number with account(). A write through the
	 * pointer must be a read-modify-write of the current word in one C
	 * expression (no host call between its read and its write). Tables of
	 * more than 4 KiB that the host allocated are contiguous. */
	uint64_t *(*frame)(struct ims_walker_dom *dom, uint64_t pa, unsigned flags);
	/* op: 0 loads, 2 read-modify-writes (enum ims_memop of mem.h). */
	void (*account)(struct ims_walker_dom *dom, unsigned op, uint64_t n);

	/* Table memory (full level): 2^order zeroed 4 KiB frames aligned to
	 * their size; free takes back what alloc gave, with the same order. */
	int (*alloc_table)(struct ims_walker_dom *dom, unsigned order, uint64_t *pa);
	void (*free_table)(struct ims_walker_dom *dom, uint64_t pa, unsigned order);

	/* Invalidation. submit() sends one native command of the format (AMD
	 * command-buffer entry, VT-d queued-invalidation descriptor, SMMU
	 * command-queue entry: 128 bits, cmd[0] the low word). flush_range()
	 * builds and sends the format's IOTLB invalidation of [iova, iova +
	 * size) for this domain (size 0: all of it; leaf_only keeps walk
	 * caches) and waits for it to complete. */
	int (*submit)(struct ims_walker_dom *dom, const uint64_t cmd[2]);
	int (*flush_range)(struct ims_walker_dom *dom, uint64_t iova, uint64_t size, bool leaf_only);
	/* Change bits `mask` of context word `word` (DTE, PASID-table entry or
	 * CD, as ctx_words numbers them) to `value`, invalidate the context
	 * cache and the domain's IOTLB: what a driver does after changing a
	 * DTE or PASID entry field. */
	int (*ctx_change)(struct ims_walker_dom *dom, unsigned word, uint64_t mask, uint64_t value);

	/* The harvest's output, with the semantics of Linux's
	 * iommu_dirty_bitmap_record(): record() sets the bitmap bits of every
	 * page [iova, iova + length) overlaps (clipped to the harvest range) and adds
	 * the range to the IOTLB gather; bitmap_set() and gather_add() do one
	 * half each. The host flushes the gathered range (leaf entries) after
	 * a harvest without IMS_WALKER_NO_CLEAR returns 0: a walker that
	 * cleans an entry and gathers nothing leaves stale dirty state in the
	 * IOTLB. dirty may have no bitmap (a clear-only pass): then only the
	 * gather is kept. */
	void (*record)(struct ims_walker_dirty *dirty, uint64_t iova, uint64_t length);
	void (*bitmap_set)(struct ims_walker_dirty *dirty, uint64_t iova, uint64_t length);
	void (*gather_add)(struct ims_walker_dirty *dirty, uint64_t iova, uint64_t length);

	/* A message for the report (the walker's own diagnostics). */
	void (*log)(struct ims_walker_dom *dom, const char *msg);
};

struct ims_walker_ops {
	uint32_t abi_version;    /* IMS_WALKER_ABI_VERSION */
	uint32_t size;           /* sizeof(struct ims_walker_ops) */
	const char *name;        /* one word: shown in reports and reproducers */
	const char *description; /* one line */
	enum ims_walker_level level;
	uint32_t formats;        /* bit (1 << enum ims_format) per format handled */

	/* Both levels; attach and detach may be NULL. attach is called once
	 * the domain exists (after domain_init at full level), detach before
	 * it goes. */
	int (*attach)(struct ims_walker_dom *dom);
	void (*detach)(struct ims_walker_dom *dom);
	/* read_and_clear_dirty of [iova, iova + size), inside the domain and
	 * non-empty (size 0: up to 2^64): record every dirty leaf (each page
	 * whole: the host clips to the range) and, unless IMS_WALKER_NO_CLEAR,
	 * clean it atomically and gather it. The host checked the range and
	 * flags: an error returned is reported as the walker's failure. A leaf made of several entries (AMD replicas, Arm
	 * contiguous group) is dirty if any of its entries is. Returns 0 or a
	 * negative errno. */
	int (*read_and_clear_dirty)(struct ims_walker_dom *dom, uint64_t iova, uint64_t size,
				    unsigned flags, struct ims_walker_dirty *dirty);

	/* Full level only (NULL at harvest level). err receives a reason for
	 * a refusal. */
	int (*domain_init)(struct ims_walker_dom *dom, char *err, size_t errlen);
	void (*domain_free)(struct ims_walker_dom *dom);
	/* The context words the driver programs (DTE / PASID-table entry /
	 * CD) in the format's encoding, as formats.md lays them out. */
	void (*ctx_words)(struct ims_walker_dom *dom, uint64_t words[8]);
	/* Map [iova, iova + size) to pa with leaves of `pgsize` bytes, or the
	 * largest that fit when 0; -EEXIST over a mapping, -EINVAL when
	 * misaligned. The host checks the range is inside the domain. */
	int (*map)(struct ims_walker_dom *dom, uint64_t iova, uint64_t pa, uint64_t size,
		   unsigned prot, uint64_t pgsize);
	/* Unmap whole leaves and flush before returning; -EINVAL when the
	 * range cuts into a leaf. *unmapped gets the bytes that were mapped. */
	int (*unmap)(struct ims_walker_dom *dom, uint64_t iova, uint64_t size, uint64_t *unmapped);
	/* -ENOENT when not mapped. */
	int (*iova_to_phys)(struct ims_walker_dom *dom, uint64_t iova, uint64_t *pa, unsigned *prot);
	/* Switch the hardware's dirty updates on or off through ctx_change
	 * (AMD DTE HAD, VT-d PASID-entry SSADE, SMMU CD.HA/HD); -EINVAL without
	 * dirty_tracking. Before enabling, the host has already cleared all
	 * dirty state with a read_and_clear_dirty without bitmap, as iommufd
	 * does. */
	int (*set_dirty_tracking)(struct ims_walker_dom *dom, bool enable);
	/* Optional (may be NULL): VFIO's unmap with GET_DIRTY_BITMAP. When
	 * NULL the host runs read_and_clear_dirty over the range, then unmap. */
	int (*unmap_read_dirty)(struct ims_walker_dom *dom, uint64_t iova, uint64_t size,
				struct ims_walker_dirty *dirty, uint64_t *unmapped);

	/* IMS_WALKER_CONTRACT_* bits: what the walker's source documents that
	 * would otherwise count as a bug (0: none). */
	uint32_t contract;
};

/* The one symbol a plug-in exports. */
typedef const struct ims_walker_ops *(*ims_walker_entry_fn)(uint32_t host_abi_version);
#define IMS_WALKER_ENTRY "ims_walker_entry"

#ifdef __cplusplus
}
#endif

#endif
