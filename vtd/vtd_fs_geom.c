/* Intel VT-d first stage: what the software ops and the raw context encoder
 * both apply (formats/format.h): the geometry check and the PASID-entry
 * words of a domain. Levels: x86/x86_codec.h. */
#include "vtd/vtd.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_sw.h"

int vtd_fs_geometry(struct fmt_geom *g, char *err, size_t errlen)
{
	return x86_geometry("vtd-fs", g, err, errlen);
}

/* The PASID entry of a first-stage domain, as Linux's
 * intel_pasid_setup_first_level() writes it for DMA: PGTT first-stage,
 * FSPM from the levels, FSPTPTR, the DID; no SRE (its requests carry no
 * PASID: user requests, so the leaves have U/S set), no WPE, NXE or EAFE. */
void vtd_fs_words(uint16_t tag, unsigned levels, uint64_t root, uint64_t *w)
{
	w[0] = VTD_PE0_P | ((uint64_t)VTD_PGTT_FS << VTD_PE0_PGTT_SHIFT);
	w[1] = tag & VTD_PE1_DID_MASK;
	w[2] = (root & VTD_PE2_FSPTPTR_MASK) |
	       ((uint64_t)(levels == 5 ? VTD_FSPM_5LEVEL : VTD_FSPM_4LEVEL) << VTD_PE2_FSPM_SHIFT);
}
