/* Stand-in for <linux/bitfield.h>: fields of a register or descriptor named
 * by their mask. */
#ifndef IMS_LX_BITFIELD_H
#define IMS_LX_BITFIELD_H

#include <linux/bits.h>
#include <linux/types.h>

/* Shift of a mask's lowest bit. */
#define __bf_shf(x) (__builtin_ffsll(x) - 1)

#define FIELD_GET(mask, reg) ((__typeof__(mask))(((reg) & (mask)) >> __bf_shf(mask)))
#define FIELD_PREP(mask, val) ((((__typeof__(mask))(val)) << __bf_shf(mask)) & (mask))
#define FIELD_FIT(mask, val) (!((((__typeof__(mask))(val)) << __bf_shf(mask)) & ~(mask)))
#define FIELD_MAX(mask) ((__typeof__(mask))((mask) >> __bf_shf(mask)))

#endif
