/* Stand-in for <linux/compiler_types.h> (linux/compat). */
#include <linux/compiler.h>
