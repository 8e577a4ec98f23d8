/* Stand-in for <linux/compiler_attributes.h> (linux/compat). */
#include <linux/compiler.h>
