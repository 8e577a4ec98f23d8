/* Stand-in for <linux/build_bug.h>: compile-time checks. */
#ifndef IMS_LX_BUILD_BUG_H
#define IMS_LX_BUILD_BUG_H

/* static_assert(expr) or static_assert(expr, message); the message is
 * replaced by the expression's text. */
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#define BUILD_BUG_ON_ZERO(cond) ((int)(sizeof(struct { int : (-!!(cond)); })))

/* Reached only in code the optimizer must remove: a call that survives is
 * a link-time error (no definition), as in the kernel. */
extern void ims_lx_build_bug_reached(void) __attribute__((__error__("BUILD_BUG() reached")));
#define BUILD_BUG() ims_lx_build_bug_reached()

#endif
