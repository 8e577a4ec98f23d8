/* Stand-in for <linux/stringify.h> (linux/compat). */
#include <linux/compiler.h>
