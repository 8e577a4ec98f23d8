/* The hardware model's configuration, as data: cache organisation,
 * latencies, policies and the capability registers in their native
 * encodings, and the parameters of a raw context. The functions that fill
 * and read it are in iommusim/model.h; this header holds only the types, so
 * that the format descriptions (which the model is built on) can read them.
 */
#ifndef IOMMUSIM_MODEL_CFG_H
#define IOMMUSIM_MODEL_CFG_H

#include "iommusim/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which entry of an AMD NextLevel=7 replica run (formats.md "Replicated
 * pages") or of an Arm contiguous group ("D8.5.5") gets the A/D update. */
enum ims_replica_policy {
	IMS_REPLICA_FIRST = 0,
	IMS_REPLICA_COVERING, /* the entry that covers the written address */
	IMS_REPLICA_RANDOM,   /* drawn from the model's seeded generator */
};

#define IMS_CTX_WORDS 8

/* Replacement policy of a set-associative cache. An invalid way is always
 * filled first; the policy picks among valid ways. */
enum ims_repl_policy {
	IMS_REPL_LRU = 0,
	IMS_REPL_ROUND_ROBIN, /* a next-victim pointer per set */
	IMS_REPL_RANDOM,      /* from the cache's own generator, seeded by cfg.seed */
};

/* Walk-cache levels a configuration can address (0 = the tables of the leaf
 * level; formats have at most 6 levels). */
#define IMS_WC_LEVELS 8

/* One walk-cache level that does not follow the default block. */
struct ims_wc_level_cfg {
	bool set; /* false: the level uses wc_entries, wc_ways, ... */
	bool enable;
	unsigned entries, ways;
	enum ims_repl_policy policy;
	unsigned latency;
};

/* Cycles (docs/timing.md). A translation costs: the micro-TLB lookup; then,
 * unless the micro-TLB served it, link in + IOTLB lookup (+ on a miss, each
 * walk-cache probe, each page-table read and each atomic A/D write) (+ the
 * fault record) + link out. Invalidations are counted apart. */
struct ims_latency_cfg {
	unsigned link;      /* device <-> IOMMU, each way */
	unsigned pte_read;  /* one page-table read by the walker */
	unsigned ad_update; /* one atomic A/D write that changed memory */
	unsigned inv_range, inv_domain, inv_all, inv_context; /* per command */
	unsigned fault;     /* writing the fault / event record */
};

struct ims_iommu_cfg {
	unsigned iotlb_entries; /* total entries; 0 disables the IOTLB */
	unsigned iotlb_ways;    /* 0 counts as 1 */
	unsigned wc_entries;    /* walk-cache entries per level; 0 disables */
	unsigned wc_ways;       /* 0 counts as 1 */
	enum ims_replica_policy replica;
	uint64_t seed;
	bool amd_pde_accessed;     /* set A in AMD PDEs too (not established: default off) */
	bool vtd_nonleaf_accessed; /* VT-d A in non-leaf entries (EPT rule, inferred: on) */
	bool dma_privileged;       /* SMMU STE.PRIVCFG: device accesses privileged (off) */
	/* Capability registers in their native encodings. */
	uint64_t amd_efr;   /* HASup 49, HDSup 52, HATS 11:10; v2: GAUpdateDisSup 61 */
	uint64_t vtd_cap;   /* SLLPS 34 (2M), 35 (1G) */
	uint64_t vtd_ecap;  /* SSADS 45, SMPWC 48 */
	uint64_t smmu_idr0; /* HTTU 7:6 */

	/* Timing and cache organisation (docs/timing.md). */
	enum ims_repl_policy iotlb_policy;
	unsigned iotlb_latency;
	/* Device-side micro-TLB, one per attached device; off by default. A
	 * micro-TLB hit costs only utlb_latency: the request never crosses
	 * the link. Invalidations reach it like the IOTLB. */
	bool utlb_enable;
	unsigned utlb_entries;
	unsigned utlb_ways; /* 0 = fully associative */
	enum ims_repl_policy utlb_policy;
	unsigned utlb_latency;
	bool wc_disable; /* every walk-cache level off, whatever wc_entries says */
	enum ims_repl_policy wc_policy;
	unsigned wc_latency; /* per probe of one level */
	struct ims_wc_level_cfg wc_level[IMS_WC_LEVELS];
	struct ims_latency_cfg lat;
	/* SMMU_IDR5: OAS 2:0 (both stages), GRAN4K 4, GRAN16K 5, GRAN64K 6
	 * (stage 2). Last,
	 * so the offsets above are unchanged. */
	uint64_t smmu_idr5;
	/* The privilege of DMA requests through x86-64 first-stage tables
	 * (appended: the offsets above are unchanged). Off: user requests, as
	 * requests without PASID are. */
	bool vtd_fs_supervisor; /* VT-d first stage: PR = 1 (needs PASID-entry SRE) */
	bool amdv2_supervisor;  /* AMD v2 guest tables: PMR = 1 */
	/* The AMD IOMMU Control register (appended: the offsets above are
	 * unchanged): GDUpdateDis 48, GAUpdateDis 54 (with EFR.GAUpdateDisSup). */
	uint64_t amd_control;
};

/* Parameters of a raw (hardware-only) context, as a `domain ... root=PA raw`
 * trace line gives them. */
struct ims_ctx_params {
	uint16_t tag;
	uint64_t root;
	unsigned levels;        /* AMD Mode / VT-d levels; 0 = default */
	unsigned granule_shift; /* SMMU; 0 = 12 */
	unsigned ias;           /* SMMU; 0 = 48 */
	bool ha, hd;            /* access / dirty updates */
};

/* The configuration keys: one table behind the YAML file, the conformance
 * cases' model: settings and the command line (--set KEY=VALUE and the
 * dedicated options). A key's canonical name is its path in the YAML file,
 * dotted ("iotlb.entries"); "N" in walk_cache.levels.N.* stands for a level
 * 0..IMS_WC_LEVELS-1. */
enum ims_cfg_type {
	IMS_CFG_NUMBER,  /* decimal or 0x hex, no sign, 0..max */
	IMS_CFG_BOOL,    /* true/false (also yes/no, on/off) */
	IMS_CFG_WAYS,    /* a number of ways 1..max, or full */
	IMS_CFG_POLICY,  /* lru, round-robin or random */
	IMS_CFG_REPLICA, /* first, covering or random */
};

/* type_text of a number and of a boolean key. */
#define IMS_CFG_TEXT_NUMBER "a number (decimal or 0x hex)"
#define IMS_CFG_TEXT_BOOL "true or false"

struct ims_cfg_key {
	const char *name;
	enum ims_cfg_type type;
	const char *type_text; /* what a value must be, as error messages say it */
	uint64_t max;          /* IMS_CFG_NUMBER, IMS_CFG_WAYS: the largest value */
	const char *def;       /* the default as a value ims_iommu_cfg_set takes; NULL for
				* walk_cache.levels.N.*, which start from the walk_cache
				* block when a level is first set */
	const char *desc;
	const char *alias;   /* the older spelling (conformance cases, --OPTION), or NULL */
	int format;          /* the enum ims_format the key belongs to, -1 for none */
};

#ifdef __cplusplus
}
#endif

#endif
