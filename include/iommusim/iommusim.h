/* iommusim: every public header at once (docs/api.md).
 *
 * A program that embeds the model includes this and links with
 * `pkg-config --libs iommusim` or CMake's iommusim::iommusim. The headers
 * are C11 and C++ (extern "C") alike.
 */
#ifndef IOMMUSIM_IOMMUSIM_H
#define IOMMUSIM_IOMMUSIM_H

#include "iommusim/common.h"
#include "iommusim/bitmap.h"
#include "iommusim/mem.h"
#include "iommusim/model_cfg.h"
#include "iommusim/oracle.h"
#include "iommusim/model.h"
#include "iommusim/pt.h"
#include "iommusim/walker.h"
#include "iommusim/iommufd.h"
#include "iommusim/vfio.h"
#include "iommusim/trace.h"
#include "iommusim/tracebin.h"
#include "iommusim/import.h"
#include "iommusim/replay.h"
#include "iommusim/tb.h"

#endif
