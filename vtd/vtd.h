/* Intel VT-d: what the folder gives the registry (vtd/vtd.c: second stage,
 * vtd/vtd_fs.c: first stage). */
#ifndef IMS_VTD_VTD_H
#define IMS_VTD_VTD_H

#include "formats/format.h"
#include "x86/x86_hw.h"

extern const struct hw_fmt vtd_hw_fmt;
extern const struct pt_fmt vtd_pt_fmt;
int vtd_geometry(struct fmt_geom *g, char *err, size_t errlen);
int vtd_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
/* The invalidation descriptors the second stage knows (IOTLB, PASID
 * cache), which a first-stage domain's commands include. */
int vtd_decode_cmd(const uint64_t cmd[2], struct hw_cmd *out);
/* One IOTLB or PASID-based IOTLB invalidation descriptor (type) for a range
 * (size 0: the domain). */
int vtd_flush_with(const struct pt_dom *d, uint64_t iova, uint64_t size, bool leaf_only,
		   uint64_t type);

/* Intel VT-d first stage (vtd-fs): vtd/vtd_fs*.c on the shared x86-64
 * rules of x86/. */
extern const struct x86_hw_fmt vtd_fs_x86_fmt;
extern const struct pt_fmt vtd_fs_pt_fmt;
int vtd_fs_geometry(struct fmt_geom *g, char *err, size_t errlen);
int vtd_fs_ctx_encode(const struct ims_ctx_params *p, uint64_t *w, char *err, size_t errlen);
/* The PASID-entry words of a first-stage domain. */
void vtd_fs_words(uint16_t tag, unsigned levels, uint64_t root, uint64_t *w);

#endif
