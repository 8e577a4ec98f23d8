/* Contexts: the format look-up, the encoding of raw context words, and the
 * per-tag context slots (DTE / PASID-table entry / CD) with their decoded
 * form, which a translation reads and a context invalidation refreshes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/iommu_int.h"

/* The format's hardware rules, from the registry; NULL when not built in. */
const struct hw_fmt *hw_fmt_get(enum ims_format f)
{
	const struct fmt_desc *d = fmt_get(f);
	return d && d->hw && d->hw->decode_ctx ? d->hw : NULL;
}

int ims_ctx_encode(enum ims_format fmt, const struct ims_ctx_params *p,
		   uint64_t words[IMS_CTX_WORDS], char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	memset(words, 0, sizeof(uint64_t) * IMS_CTX_WORDS);
	const struct fmt_desc *d = fmt_get(fmt);
	int (*enc)(const struct ims_ctx_params *, uint64_t *, char *, size_t) =
		d ? d->ctx_encode : NULL;
	if (!enc) {
		snprintf(err, errlen, "format %s is not built in", ims_format_name(fmt));
		return -EINVAL;
	}
	return enc(p, words, err, errlen);
}

static int decode_slot(struct ims_iommu *m, uint16_t tag, struct ctx_slot *s, char *err,
		       size_t errlen)
{
	const struct hw_fmt *ops = hw_fmt_get(s->fmt);
	struct hw_ctx c;
	memset(&c, 0, sizeof(c));
	if (!ops) {
		if (err)
			snprintf(err, errlen, "format %s is not built in", ims_format_name(s->fmt));
		s->hw_valid = false;
		return -EINVAL;
	}
	int rc = ops->decode_ctx(s->words, &m->cfg, &c, err, errlen);
	if (rc) {
		s->hw_valid = false;
		return rc;
	}
	c.ops = ops;
	c.tag = tag;
	hw_ctx_index_init(&c);
	s->hw = c;
	s->hw_valid = true;
	return 0;
}

int ims_iommu_ctx_set(struct ims_iommu *m, uint16_t tag, enum ims_format fmt,
		      const uint64_t words[IMS_CTX_WORDS], char *err, size_t errlen)
{
	struct ctx_slot tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.fmt = fmt;
	memcpy(tmp.words, words, sizeof(tmp.words));
	int rc = decode_slot(m, tag, &tmp, err, errlen);
	if (rc)
		return rc;
	if (!m->ctx[tag]) {
		if (m->nctx_tags == m->capctx_tags) {
			size_t cap = m->capctx_tags ? m->capctx_tags * 2 : 16;
			uint16_t *t = realloc(m->ctx_tags, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			m->ctx_tags = t;
			m->capctx_tags = cap;
		}
		m->ctx[tag] = malloc(sizeof(struct ctx_slot));
		if (!m->ctx[tag])
			return -ENOMEM;
		m->ctx_tags[m->nctx_tags++] = tag;
	}
	*m->ctx[tag] = tmp;
	return 0;
}

int ims_iommu_ctx_get(const struct ims_iommu *m, uint16_t tag, uint64_t words[IMS_CTX_WORDS])
{
	if (!m->ctx[tag])
		return -ENOENT;
	memcpy(words, m->ctx[tag]->words, sizeof(m->ctx[tag]->words));
	return 0;
}

int ims_iommu_ctx_update(struct ims_iommu *m, uint16_t tag, unsigned word, uint64_t clear,
			 uint64_t set)
{
	if (!m->ctx[tag])
		return -ENOENT;
	if (word >= IMS_CTX_WORDS)
		return -EINVAL;
	m->ctx[tag]->words[word] = (m->ctx[tag]->words[word] & ~clear) | set;
	return 0;
}

int ims_iommu_ctx_invalidate(struct ims_iommu *m, uint16_t tag)
{
	m->n.inv_ctx++;
	m->n.inv_cycles += m->cfg.lat.inv_context;
	if (!m->ctx[tag])
		return -ENOENT;
	/* A context that no longer decodes stops translating (faults); the
	 * caller learns it, as a driver reads a command-completion error. */
	return decode_slot(m, tag, m->ctx[tag], NULL, 0);
}

int ims_iommu_ctx_remove(struct ims_iommu *m, uint16_t tag)
{
	if (!m->ctx[tag])
		return -ENOENT;
	free(m->ctx[tag]);
	m->ctx[tag] = NULL;
	for (size_t k = 0; k < m->nctx_tags; k++)
		if (m->ctx_tags[k] == tag) {
			m->ctx_tags[k] = m->ctx_tags[--m->nctx_tags];
			break;
		}
	ims_iommu_inv_domain(m, tag);
	return 0;
}

bool ims_iommu_ctx_dirty_enabled(const struct ims_iommu *m, uint16_t tag)
{
	const struct ctx_slot *s = m->ctx[tag];
	return s && s->hw_valid && s->hw.hd;
}
