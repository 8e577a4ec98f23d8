/* Stand-in for <linux/bitfield.h> (linux/compat): fields of a register or
 * entry named by a contiguous mask. */
#ifndef IMS_LX_LINUX_BITFIELD_H
#define IMS_LX_LINUX_BITFIELD_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define __bf_shf(x) (__builtin_ffsll(x) - 1)

#define FIELD_MAX(mask) ((__typeof__(mask))((mask) >> __bf_shf(mask)))
#define FIELD_FIT(mask, val) \
	(!((((__typeof__(mask))(val)) << __bf_shf(mask)) & ~(mask)))
#define FIELD_PREP(mask, val) ((((__typeof__(mask))(val)) << __bf_shf(mask)) & (mask))
#define FIELD_PREP_CONST(mask, val) FIELD_PREP(mask, val)
#define FIELD_GET(mask, reg) ((__typeof__(mask))(((reg) & (mask)) >> __bf_shf(mask)))
#define FIELD_MODIFY(mask, regp, val) \
	(*(regp) = (*(regp) & ~(mask)) | FIELD_PREP(mask, val))

#define IMS_LX_BF_TYPE(type)                                                        \
	static inline type type##_encode_bits(type v, type field)                  \
	{                                                                          \
		return (type)((v << __bf_shf(field)) & field);                    \
	}                                                                          \
	static inline type type##_get_bits(type v, type field)                     \
	{                                                                          \
		return (type)((v & field) >> __bf_shf(field));                    \
	}                                                                          \
	static inline type type##_replace_bits(type old, type val, type field)     \
	{                                                                          \
		return (type)((old & ~field) | type##_encode_bits(val, field));    \
	}                                                                          \
	static inline void type##p_replace_bits(type *p, type val, type field)     \
	{                                                                          \
		*p = type##_replace_bits(*p, val, field);                          \
	}
IMS_LX_BF_TYPE(u8)
IMS_LX_BF_TYPE(u16)
IMS_LX_BF_TYPE(u32)
IMS_LX_BF_TYPE(u64)
#undef IMS_LX_BF_TYPE

#endif
