/* Stand-in for <linux/dma-mapping.h>: table memory is coherent (no DMA API
 * maintenance); only the names the headers mention. */
#ifndef IMS_LX_DMA_MAPPING_H
#define IMS_LX_DMA_MAPPING_H

#include <linux/device.h>
#include <linux/types.h>

enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};

#endif
