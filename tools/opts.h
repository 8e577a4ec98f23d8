/* Long-option ids shared by the subcommands (values above the ASCII range). */
#ifndef IMS_TOOLS_OPTS_H
#define IMS_TOOLS_OPTS_H

enum {
	OPT_REPLICA = 256,
	OPT_SEED,
	OPT_IOTLB_ENTRIES,
	OPT_IOTLB_WAYS,
	OPT_WC_ENTRIES,
	OPT_WC_WAYS,
	OPT_AMD_PDE_A,
	OPT_DMA_PRIV,
	OPT_JSON,
	OPT_WALKER,
	OPT_CONFIG,
	OPT_STATS_INTERVAL,
	OPT_STATS_OUT,
	OPT_PLOT,
	OPT_SET,
	OPT_WALKER_PLUGIN,
	OPT_FIRST_FREE
};

#define MODEL_LONG_OPTS                                                                        \
	{"replica", required_argument, 0, OPT_REPLICA}, {"seed", required_argument, 0, OPT_SEED},  \
	    {"iotlb-entries", required_argument, 0, OPT_IOTLB_ENTRIES},                            \
	    {"iotlb-ways", required_argument, 0, OPT_IOTLB_WAYS},                                  \
	    {"walk-cache-entries", required_argument, 0, OPT_WC_ENTRIES},                          \
	    {"walk-cache-ways", required_argument, 0, OPT_WC_WAYS},                                \
	    {"amd-pde-accessed", no_argument, 0, OPT_AMD_PDE_A},                                   \
	    {"dma-privileged", no_argument, 0, OPT_DMA_PRIV},                                      \
	    {"config", required_argument, 0, OPT_CONFIG}, {"set", required_argument, 0, OPT_SET}

/* --walker NAME and --walker-plugin PATH (walker_opt in common.c). */
#define WALKER_LONG_OPTS                                                                       \
	{"walker", required_argument, 0, OPT_WALKER},                                             \
	    {"walker-plugin", required_argument, 0, OPT_WALKER_PLUGIN}

#endif
