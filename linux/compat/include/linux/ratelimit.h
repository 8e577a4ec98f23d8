/* Stand-in for <linux/ratelimit.h> (linux/compat): the type only. */
#ifndef IMS_LX_LINUX_RATELIMIT_H
#define IMS_LX_LINUX_RATELIMIT_H

struct ratelimit_state {
	int interval;
	int burst;
	int printed;
	int missed;
	unsigned long begin;
	unsigned long flags;
};

#endif
