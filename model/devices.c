/* Devices: the attachment of a device to a context tag, in an
 * open-addressed table (look-up inlined in model/iommu_int.h), and each
 * device's micro-TLB.
 */
#include <errno.h>
#include <stdlib.h>

#include "model/iommu_int.h"

static int utlb_new(struct ims_iommu *m, struct cache **out)
{
	*out = NULL;
	if (!m->cfg.utlb_enable || !m->cfg.utlb_entries)
		return 0;
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (cache_init(c, m->cfg.utlb_entries, m->cfg.utlb_ways, m->cfg.utlb_policy,
		       m->cfg.utlb_latency, cache_seed(m, 100 + (unsigned)m->ndev))) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void iommu_utlb_free(struct cache *c)
{
	if (c) {
		cache_fini(c);
		free(c);
	}
}

static int dev_grow(struct ims_iommu *m)
{
	size_t cap = m->ndev_cap ? m->ndev_cap * 2 : 16;
	struct dev_slot *n = calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < m->ndev_cap; i++) {
		if (!m->devs[i].used)
			continue;
		size_t j = dev_hash(m->devs[i].dev) & (cap - 1);
		while (n[j].used)
			j = (j + 1) & (cap - 1);
		n[j] = m->devs[i];
	}
	free(m->devs);
	m->devs = n;
	m->ndev_cap = cap;
	return 0;
}

int ims_iommu_attach(struct ims_iommu *m, uint32_t dev, uint16_t tag)
{
	if (!m->ctx[tag])
		return -ENOENT;
	struct dev_slot *s = dev_find(m, dev);
	if (s) {
		/* The device's micro-TLB holds translations of its old
		 * context: a new attachment starts it empty. */
		if (s->ut)
			iommu_utlb_inv(m, s->ut, true, 0, false, 0, 0);
		s->tag = tag;
		return 0;
	}
	struct cache *ut;
	int rc = utlb_new(m, &ut);
	if (rc)
		return rc;
	if ((m->ndev + 1) * 2 > m->ndev_cap) {
		rc = dev_grow(m);
		if (rc) {
			iommu_utlb_free(ut);
			return rc;
		}
	}
	size_t mask = m->ndev_cap - 1;
	size_t i = dev_hash(dev) & mask;
	while (m->devs[i].used)
		i = (i + 1) & mask;
	m->devs[i] = (struct dev_slot){.dev = dev, .tag = tag, .used = true, .ut = ut};
	m->ndev++;
	return 0;
}

int ims_iommu_dev_domain(const struct ims_iommu *m, uint32_t dev)
{
	const struct dev_slot *s = dev_probe(m, dev);
	return s ? s->tag : -ENOENT;
}

int ims_iommu_detach(struct ims_iommu *m, uint32_t dev)
{
	struct dev_slot *s = dev_find(m, dev);
	if (!s)
		return -ENOENT;
	/* Backward-shift deletion keeps probe chains intact. */
	size_t mask = m->ndev_cap - 1;
	size_t i = (size_t)(s - m->devs);
	iommu_utlb_free(s->ut);
	s->ut = NULL;
	s->used = false;
	for (size_t j = (i + 1) & mask; m->devs[j].used; j = (j + 1) & mask) {
		size_t home = dev_hash(m->devs[j].dev) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->devs[i] = m->devs[j];
			m->devs[j].used = false;
			i = j;
		}
	}
	m->ndev--;
	return 0;
}
