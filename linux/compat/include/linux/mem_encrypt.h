/* Stand-in for <linux/mem_encrypt.h>: no memory encryption (the SME mask is
 * zero), so encrypted-table addresses are the plain ones. */
#ifndef IMS_LX_MEM_ENCRYPT_H
#define IMS_LX_MEM_ENCRYPT_H

#define sme_me_mask 0ULL
#define __sme_set(x) ((x) | sme_me_mask)
#define __sme_clr(x) ((x) & ~sme_me_mask)

#endif
