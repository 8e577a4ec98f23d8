/* Stand-in for <linux/io.h> (linux/compat). */
#include <asm/io.h>
