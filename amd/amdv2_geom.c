/* AMD IOMMU v2 guest tables: what the software ops and the raw context
 * encoder both apply (formats/format.h): the geometry check and the context
 * words of a domain. Levels: x86/x86_codec.h. */
#include "amd/amd.h"
#include "amd/amd_codec.h"
#include "x86/x86_sw.h"

int amdv2_geometry(struct fmt_geom *g, char *err, size_t errlen)
{
	return x86_geometry("amdv2", g, err, errlen);
}

/* The words of a v2 domain, the software's and a raw one's: DTE with GV,
 * GIoV, GLX 0, Mode 0, IR, IW, the DomainID, the guest paging mode, and
 * PASID 0's GCR3 table entry as word 4. */
void amdv2_words(uint16_t tag, unsigned levels, uint64_t root, uint64_t *w)
{
	w[0] = AMD_DTE_V | AMD_DTE_TV | AMD_DTE_GIOV | AMD_DTE_GV | AMD_DTE_IR | AMD_DTE_IW;
	w[1] = tag & AMD_DTE1_DOMID_MASK;
	w[2] = (uint64_t)(levels == 5 ? AMD_GPM_5LEVEL : AMD_GPM_4LEVEL) << AMD_DTE2_GPM_SHIFT;
	w[AMD_CTX_GCR3_WORD] = AMD_GCR3_V | (root & AMD_GCR3_ADDR_MASK);
}
