/* Stand-in for <linux/mem_encrypt.h> (linux/compat): no memory encryption,
 * the encryption mask is 0. */
#ifndef IMS_LX_LINUX_MEM_ENCRYPT_H
#define IMS_LX_LINUX_MEM_ENCRYPT_H

#define sme_me_mask 0ULL
#define __sme_set(x) ((x) | sme_me_mask)
#define __sme_clr(x) ((x) & ~sme_me_mask)
#define cc_mkenc(x) (x)
#define cc_mkdec(x) (x)

#endif
