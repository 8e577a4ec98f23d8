/* Stand-in for <linux/vmstat.h> (linux/compat): the page accounting the
 * kernel keeps for /proc has nothing to count here. */
#ifndef IMS_LX_LINUX_VMSTAT_H
#define IMS_LX_LINUX_VMSTAT_H

#include <linux/mm_types.h>

enum node_stat_item { NR_IOMMU_PAGES, NR_SECONDARY_PAGETABLE, NR_PAGETABLE };

struct pglist_data;

static inline struct pglist_data *page_pgdat(const struct page *page)
{
	(void)page;
	return (struct pglist_data *)0;
}

static inline void mod_node_page_state(struct pglist_data *pgdat, enum node_stat_item item,
				       long delta)
{
	(void)pgdat;
	(void)item;
	(void)delta;
}

static inline void mod_lruvec_page_state(struct page *page, enum node_stat_item item, long delta)
{
	(void)page;
	(void)item;
	(void)delta;
}

#endif
