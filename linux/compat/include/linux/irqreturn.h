/* Stand-in for <linux/irqreturn.h> (linux/compat). */
#ifndef IMS_LX_LINUX_IRQRETURN_H
#define IMS_LX_LINUX_IRQRETURN_H

enum irqreturn {
	IRQ_NONE = 0,
	IRQ_HANDLED = 1,
	IRQ_WAKE_THREAD = 2,
};
typedef enum irqreturn irqreturn_t;

#endif
