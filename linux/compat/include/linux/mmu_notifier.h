/* Stand-in for <linux/mmu_notifier.h> (linux/compat): only its type, for
 * structures that embed one (SVA domains, not modelled). */
#ifndef IMS_LX_LINUX_MMU_NOTIFIER_H
#define IMS_LX_LINUX_MMU_NOTIFIER_H

#include <linux/types.h>

struct mm_struct;
struct mmu_notifier_ops;

struct mmu_notifier {
	struct hlist_node hlist;
	const struct mmu_notifier_ops *ops;
	struct mm_struct *mm;
};

#endif
