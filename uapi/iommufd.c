/* The iommufd front end (include/iommusim/iommufd.h, docs/uapi.md).
 *
 * Objects live in small arrays: a context holds a handful of devices,
 * IOASes and HWPTs, and every call names one. Areas of an IOAS are kept
 * sorted by IOVA, so a range meets a run of consecutive areas.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "iommusim/bitmap.h"
#include "iommusim/iommufd.h"
#include "uapi/iommufd_int.h"

void ims_iommufd_set_walker(struct ims_iommufd *fd, unsigned walker,
			    const struct ims_walker_ops *plugin)
{
	fd->walker = walker;
	fd->plugin = plugin;
}


int ims_iommufd_new(struct ims_mem *mem, const struct ims_sink *sink, struct ims_iommufd **out)
{
	*out = NULL;
	struct ims_iommufd *fd = calloc(1, sizeof(*fd));
	if (!fd)
		return -ENOMEM;
	fd->mem = mem;
	fd->sink = *sink;
	*out = fd;
	return 0;
}

void ims_iommufd_free(struct ims_iommufd *fd)
{
	if (!fd)
		return;
	for (size_t i = 0; i < fd->nhwpt; i++)
		ims_pt_free(fd->hwpt[i].pt);
	for (size_t i = 0; i < fd->nioas; i++)
		free(fd->ioas[i].a);
	for (size_t i = 0; i < fd->nviommu; i++)
		free(fd->viommu[i].v);
	free(fd->viommu);
	free(fd->hwpt);
	free(fd->ioas);
	free(fd->dev);
	free(fd);
}


static struct ioas *ioas_find(struct ims_iommufd *fd, uint32_t id)
{
	for (size_t i = 0; i < fd->nioas; i++)
		if (fd->ioas[i].id == id)
			return &fd->ioas[i];
	return NULL;
}


int ims_iommufd_bind(struct ims_iommufd *fd, uint32_t dev_id, const struct ims_iommufd_hw_info *info)
{
	if (iommufd_dev_find(fd, dev_id))
		return -EEXIST;
	if (!fmt_get(info->fmt)) /* out of range, or a value no format has */
		return -EINVAL;
	if (iommufd_grow((void **)&fd->dev, &fd->capdev, fd->ndev, sizeof(*fd->dev)))
		return -ENOMEM;
	fd->dev[fd->ndev++] = (struct dev){.id = dev_id, .info = *info};
	return 0;
}

int ims_iommufd_get_hw_info(struct ims_iommufd *fd, uint32_t dev_id, struct ims_iommufd_hw_info *out)
{
	const struct dev *d = iommufd_dev_find(fd, dev_id);
	if (!d)
		return -ENOENT;
	*out = d->info;
	return 0;
}

int ims_iommufd_ioas_alloc(struct ims_iommufd *fd, uint32_t ioas_id)
{
	if (ioas_find(fd, ioas_id))
		return -EEXIST;
	if (iommufd_grow((void **)&fd->ioas, &fd->capioas, fd->nioas, sizeof(*fd->ioas)))
		return -ENOMEM;
	fd->ioas[fd->nioas++] = (struct ioas){.id = ioas_id};
	return 0;
}

/* IOVA alignment of an IOAS: a page of the CPU at least, and the smallest
 * page of every domain that maps it. */
static uint64_t ioas_align(const struct ims_iommufd *fd, const struct ioas *io)
{
	uint64_t a = IMS_PAGE_SIZE;
	for (size_t i = 0; i < fd->nhwpt; i++) {
		if (fd->hwpt[i].ioas != io->id || fd->hwpt[i].nested)
			continue;
		uint64_t m = ims_pt_min_pgsize(fd->hwpt[i].pt);
		if (m > a)
			a = m;
	}
	return a;
}

/* Index of the first area whose last byte is at or after iova. */
static size_t area_at(const struct ioas *io, uint64_t iova)
{
	size_t lo = 0, hi = io->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct area *a = &io->a[mid];
		if (a->iova + (a->length - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ims_iommufd_ioas_map(struct ims_iommufd *fd, uint32_t ioas_id, uint64_t iova, uint64_t pa,
			 uint64_t length, unsigned prot)
{
	struct ioas *io = ioas_find(fd, ioas_id);
	if (!io)
		return -ENOENT;
	if (!length || !prot || prot > IMS_PROT_RW)
		return -EINVAL;
	uint64_t last = iova + (length - 1);
	if (last < iova || pa + (length - 1) < pa)
		return -EOVERFLOW;
	if ((iova | pa | length) & (ioas_align(fd, io) - 1))
		return -EINVAL;
	size_t at = area_at(io, iova);
	if (at < io->n && io->a[at].iova <= last)
		return -EEXIST;
	int rc = iommufd_grow((void **)&io->a, &io->cap, io->n, sizeof(*io->a));
	if (rc)
		return rc;
	for (size_t i = 0; i < fd->nhwpt; i++) {
		if (fd->hwpt[i].ioas != ioas_id || fd->hwpt[i].nested)
			continue;
		rc = ims_pt_map(fd->hwpt[i].pt, iova, pa, length, prot, 0);
		if (rc) {
			/* Nothing changes on error: take it out of the domains done. */
			for (size_t j = 0; j < i; j++)
				if (fd->hwpt[j].ioas == ioas_id && !fd->hwpt[j].nested)
					ims_pt_unmap(fd->hwpt[j].pt, iova, length, NULL);
			return rc;
		}
	}
	memmove(&io->a[at + 1], &io->a[at], (io->n - at) * sizeof(*io->a));
	io->a[at] = (struct area){iova, length, pa, prot};
	io->n++;
	return 0;
}

int ims_iommufd_ioas_unmap(struct ims_iommufd *fd, uint32_t ioas_id, uint64_t iova,
			   uint64_t length, uint64_t *unmapped)
{
	if (unmapped)
		*unmapped = 0;
	struct ioas *io = ioas_find(fd, ioas_id);
	if (!io)
		return -ENOENT;
	if (!length)
		return -EINVAL;
	uint64_t last;
	if (iova == 0 && length == UINT64_MAX) {
		last = UINT64_MAX; /* the uAPI's "unmap everything" */
	} else {
		last = iova + (length - 1);
		if (last < iova)
			return -EOVERFLOW;
	}
	size_t first = area_at(io, iova), end = first;
	for (; end < io->n && io->a[end].iova <= last; end++) {
		const struct area *a = &io->a[end];
		/* Splitting or truncating an area is not allowed. */
		if (a->iova < iova || a->iova + (a->length - 1) > last)
			return -ENOENT;
	}
	if (end == first)
		return -ENOENT;
	uint64_t total = 0;
	for (size_t k = first; k < end; k++) {
		const struct area *a = &io->a[k];
		for (size_t i = 0; i < fd->nhwpt; i++)
			if (fd->hwpt[i].ioas == ioas_id && !fd->hwpt[i].nested)
				ims_pt_unmap(fd->hwpt[i].pt, a->iova, a->length, NULL);
		total += a->length;
	}
	memmove(&io->a[first], &io->a[end], (io->n - end) * sizeof(*io->a));
	io->n -= end - first;
	if (unmapped)
		*unmapped = total;
	return 0;
}

static bool has_cap(const struct dev *d, uint64_t cap)
{
	return (d->info.out_capabilities & cap) != 0;
}

int ims_iommufd_hwpt_alloc(struct ims_iommufd *fd, const struct ims_iommufd_hwpt_alloc *cmd,
			   char *err, size_t errlen)
{
	const uint32_t known = IMS_IOMMU_HWPT_ALLOC_NEST_PARENT | IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	if (err && errlen)
		err[0] = '\0';
	/* drivers/iommu/iommufd/hw_pagetable.c, iommufd_hwpt_alloc(): flags
	 * (FAULT_ID_VALID and PASID are not modelled), __reserved, then data
	 * type against data length. */
	if (cmd->flags & ~known)
		return -EOPNOTSUPP;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IMS_IOMMU_HWPT_DATA_NONE) != (cmd->data_len == 0))
		return -EINVAL;
	const struct dev *d = iommufd_dev_find(fd, cmd->dev_id);
	if (!d)
		return -ENOENT;
	if (cmd->pt_is_hwpt || cmd->pt_is_viommu)
		return iommufd_nested_alloc(fd, cmd, d, err, errlen);
	struct ioas *io = ioas_find(fd, cmd->pt_id);
	if (!io)
		return -ENOENT;
	/* A paging domain takes no user data: every driver's
	 * domain_alloc_paging_flags() refuses it. */
	if (cmd->data_type != IMS_IOMMU_HWPT_DATA_NONE)
		return -EOPNOTSUPP;
	/* A nesting parent is a stage-2 domain: only an IOMMU whose format is
	 * the stage 2 of a pair has one (intel/iommu.c, arm-smmu-v3.c,
	 * amd/iommu.c domain_alloc_paging_flags). */
	bool parent = (cmd->flags & IMS_IOMMU_HWPT_ALLOC_NEST_PARENT) != 0;
	if (parent && ims_iommufd_nest_s1(d->info.fmt) < 0)
		return -EOPNOTSUPP;
	bool dirty = (cmd->flags & IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING) != 0;
	if (dirty && !has_cap(d, IMS_IOMMU_HW_CAP_DIRTY_TRACKING))
		return -EOPNOTSUPP;
	/* arm-smmu-v3.c, arm_smmu_domain_alloc_paging_flags(): NEST_PARENT
	 * with DIRTY_TRACKING is no case of its switch (VT-d's
	 * intel_iommu_domain_alloc_second_stage and AMD's
	 * amd_iommu_domain_alloc_paging_flags take the pair). */
	if (parent && dirty && iommufd_driver(d->info.fmt) == DRV_ARM)
		return -EOPNOTSUPP;
	if (iommufd_hwpt_find(fd, cmd->hwpt_id))
		return -EEXIST;
	if (iommufd_grow((void **)&fd->hwpt, &fd->caphwpt, fd->nhwpt, sizeof(*fd->hwpt)))
		return -ENOMEM;
	struct ims_pt_cfg cfg = {
		.fmt = d->info.fmt,
		.tag = cmd->hwpt_id,
		.levels = cmd->levels,
		.granule_shift = cmd->granule_shift,
		.ias = cmd->ias,
		.pgsizes = cmd->pgsizes,
		.dirty_tracking = dirty,
		.walker = fd->walker,
		.plugin = fd->plugin,
		.nest_parent = parent,
	};
	struct ims_pt *pt;
	int rc = ims_pt_new(fd->mem, &cfg, &fd->sink, &pt, err, errlen);
	if (rc)
		return rc;
	/* A new domain gets every area of its IOAS. */
	for (size_t k = 0; k < io->n; k++) {
		const struct area *a = &io->a[k];
		rc = ims_pt_map(pt, a->iova, a->pa, a->length, a->prot, 0);
		if (rc) {
			if (err && errlen)
				snprintf(err, errlen,
					 "area [0x%llx, +0x%llx) of IOAS %u cannot be mapped in this domain",
					 (unsigned long long)a->iova, (unsigned long long)a->length,
					 io->id);
			ims_pt_free(pt);
			return rc;
		}
	}
	fd->hwpt[fd->nhwpt++] = (struct hwpt){.id = cmd->hwpt_id, .ioas = cmd->pt_id,
					       .dirty = dirty, .pt = pt, .nest_parent = parent};
	return 0;
}

int ims_iommufd_attach(struct ims_iommufd *fd, uint32_t dev_id, uint32_t hwpt_id)
{
	struct dev *d = iommufd_dev_find(fd, dev_id);
	const struct hwpt *h = iommufd_hwpt_find(fd, hwpt_id);
	if (!d || !h)
		return -ENOENT;
	if (h->nested) {
		int rc = iommufd_nested_attach(fd, h, d);
		if (rc)
			return rc;
	} else if (ims_pt_format(h->pt) != d->info.fmt) {
		/* A domain of another driver's format is incompatible with the device. */
		return -EINVAL;
	}
	/* dirty-semantics.md: a dirty-tracking domain refuses devices whose
	 * IOMMU lacks the capability. */
	if (h->dirty && !has_cap(d, IMS_IOMMU_HW_CAP_DIRTY_TRACKING))
		return -EINVAL;
	d->attached = true;
	d->hwpt = h->id;
	return 0;
}

int ims_iommufd_set_dirty_tracking(struct ims_iommufd *fd, uint32_t hwpt_id, uint32_t flags)
{
	if (flags & ~(uint32_t)IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	const struct hwpt *h = iommufd_hwpt_find(fd, hwpt_id);
	/* hw_pagetable.c: iommufd_get_hwpt_paging(), so a nested HWPT is
	 * ENOENT too. */
	if (!h || h->nested)
		return -ENOENT;
	/* A domain without dirty-tracking support has no such operation. */
	if (!h->dirty)
		return -EOPNOTSUPP;
	return ims_pt_set_dirty_tracking(h->pt, (flags & IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE) != 0);
}

uint64_t ims_iommufd_bitmap_bytes(uint64_t length, uint64_t page_size)
{
	if (!page_size)
		return UINT64_MAX;
	uint64_t bits = length / page_size + (length % page_size != 0);
	uint64_t words = bits / 64 + (bits % 64 != 0);
	return words * 8;
}

/* [iova, last] is covered by areas of io with no gap between them. */
static bool contiguous(const struct ioas *io, uint64_t iova, uint64_t last)
{
	size_t k = area_at(io, iova);
	uint64_t next = iova;
	for (; k < io->n; k++) {
		const struct area *a = &io->a[k];
		if (a->iova > next)
			return false;
		uint64_t alast = a->iova + (a->length - 1);
		if (alast >= last)
			return true;
		next = alast + 1;
	}
	return false;
}

int ims_iommufd_get_dirty_bitmap(struct ims_iommufd *fd, const struct ims_iommufd_dirty_bitmap *cmd)
{
	if ((cmd->flags & ~(uint32_t)IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->reserved)
		return -EOPNOTSUPP;
	const struct hwpt *h = iommufd_hwpt_find(fd, cmd->hwpt_id);
	if (!h || h->nested) /* iommufd_get_hwpt_paging() */
		return -ENOENT;
	if (!h->dirty)
		return -EOPNOTSUPP;
	uint64_t ps = cmd->page_size;
	if (!ims_is_pow2(ps) || !cmd->length)
		return -EINVAL;
	uint64_t last = cmd->iova + (cmd->length - 1);
	if (last < cmd->iova)
		return -EOVERFLOW;
	/* iova + length may be exactly 2^64, which is aligned to any size. */
	if ((cmd->iova | (last + 1)) & (ps - 1))
		return -EINVAL;
	if (ims_iommufd_bitmap_bytes(cmd->length, ps) > cmd->data_len || !cmd->data)
		return -EFAULT;
	const struct ioas *io = ioas_find(fd, h->ioas);
	if (!io || !contiguous(io, cmd->iova, last))
		return -EINVAL;
	if (!ims_pt_tracking(h->pt))
		return -EINVAL;
	struct ims_bitmap bm;
	int rc = ims_bitmap_init(&bm, cmd->iova, cmd->length, ims_log2(ps));
	if (rc)
		return rc;
	unsigned flags = (cmd->flags & IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ? IMS_DIRTY_NO_CLEAR : 0;
	rc = ims_pt_read_and_clear_dirty(h->pt, cmd->iova, cmd->length, flags, &bm);
	if (!rc) {
		/* Byte by byte: the user buffer may have any alignment. */
		unsigned char *out = cmd->data;
		uint64_t nbytes = (bm.nbits + 7) / 8;
		for (uint64_t w = 0; w < bm.nwords; w++) {
			uint64_t v = bm.words[w];
			for (unsigned b = 0; v && b < 8; b++, v >>= 8) {
				uint64_t at = w * 8 + b;
				if ((v & 0xff) && at < nbytes)
					out[at] |= (unsigned char)(v & 0xff);
			}
		}
	}
	ims_bitmap_fini(&bm);
	return rc;
}

struct ims_pt *ims_iommufd_hwpt_pt(struct ims_iommufd *fd, uint32_t hwpt_id)
{
	const struct hwpt *h = iommufd_hwpt_find(fd, hwpt_id);
	return h ? h->pt : NULL;
}

int ims_iommufd_hwpt_info(struct ims_iommufd *fd, uint32_t hwpt_id, bool *dirty, uint32_t *ioas_id)
{
	const struct hwpt *h = iommufd_hwpt_find(fd, hwpt_id);
	if (!h)
		return -ENOENT;
	if (dirty)
		*dirty = h->dirty;
	if (ioas_id)
		*ioas_id = h->ioas;
	return 0;
}

int ims_iommufd_dev_hwpt(struct ims_iommufd *fd, uint32_t dev_id, uint32_t *hwpt_id)
{
	const struct dev *d = iommufd_dev_find(fd, dev_id);
	if (!d || !d->attached)
		return -ENOENT;
	*hwpt_id = d->hwpt;
	return 0;
}
