/* Stand-in for <linux/llist.h> (linux/compat): the types only. */
#ifndef IMS_LX_LINUX_LLIST_H
#define IMS_LX_LINUX_LLIST_H

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	struct llist_node *first;
};

#endif
