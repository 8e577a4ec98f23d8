/* Contexts: the format look-up, the encoding of raw context words, and the
 * per-tag context slots (DTE / PASID-table entry / CD) with their decoded
 * form, which a translation reads and a context invalidation refreshes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/iommu_int.h"
#include "model/hot_path.h"

/* The format's hardware rules, from the registry; NULL when not built in. */
IMS_HARVEST_PATH
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
	int rc = s->nested && ops->decode_nested
			 ? ops->decode_nested(s->words, &m->cfg, &c, err, errlen)
			 : ops->decode_ctx(s->words, &m->cfg, &c, err, errlen);
	if (rc) {
		s->hw_valid = false;
		s->plain = false;
		return rc;
	}
	c.ops = ops;
	c.tag = tag;
	hw_ctx_index_init(&c);
	s->hw = c;
	s->hw_valid = true;
	s->plain = !s->nested;
	return 0;
}

/* Install decoded slot tmp at tag: a new slot, or over the old one, whose
 * nesting (and its parent's count of users) tmp replaces. A tag that
 * changes between single-stage and nested loses its IOTLB entries, whose
 * meaning changes (a combined entry remembers more, model/nested.c). */
static int install(struct ims_iommu *m, uint16_t tag, const struct ctx_slot *tmp)
{
	struct ctx_slot *old = m->ctx[tag];
	if (!old) {
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
	} else {
		if (old->nested != tmp->nested)
			iommu_inv_match(m, false, tag, false, 0, 0, false);
		if (old->nested) {
			m->ctx[old->parent]->users--;
			m->nnested--;
		}
	}
	uint32_t users = old ? old->users : 0;
	*m->ctx[tag] = *tmp;
	m->ctx[tag]->users = users;
	if (tmp->nested) {
		m->ctx[tmp->parent]->users++;
		m->nnested++;
	}
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
	return install(m, tag, &tmp);
}

int ims_iommu_ctx_set_nested(struct ims_iommu *m, uint16_t tag, enum ims_format s1fmt,
			     const uint64_t words[IMS_CTX_WORDS], uint16_t s2_tag, char *err,
			     size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	int s2fmt = ims_format_nest_s2(s1fmt);
	const struct ctx_slot *p = m->ctx[s2_tag];
	if (s2fmt < 0) {
		snprintf(err, errlen, "format %s has no nested (two-stage) configuration",
			 ims_format_name(s1fmt));
		return -EINVAL;
	}
	if (tag == s2_tag) {
		snprintf(err, errlen, "the nested context %u cannot be its own stage 2", tag);
		return -EINVAL;
	}
	if (!p || p->fmt != (enum ims_format)s2fmt || p->nested) {
		snprintf(err, errlen, "stage-2 context %u %s: %s nests over a %s context", s2_tag,
			 !p ? "does not exist" : p->nested ? "is nested itself" : "has another format",
			 ims_format_name(s1fmt), ims_format_name((enum ims_format)s2fmt));
		return -EINVAL;
	}
	const struct ctx_slot *old = m->ctx[tag];
	if (old && old->users) {
		snprintf(err, errlen, "context %u is the stage 2 of %u nested context(s)", tag,
			 old->users);
		return -EINVAL;
	}
	if (!m->nest && m->tlb.sets) {
		m->nest = calloc((size_t)m->tlb.sets * m->tlb.ways, sizeof(*m->nest));
		if (!m->nest)
			return -ENOMEM;
	}
	/* The engine reaches the nested walk through these (model/nested.c
	 * uses the engine's walk: a call the other way would be a cycle). */
	m->nest_xlate = nest_translate;
	m->nest_probe = nest_probe;
	struct ctx_slot tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.fmt = s1fmt;
	tmp.nested = true;
	tmp.parent = s2_tag;
	memcpy(tmp.words, words, sizeof(tmp.words));
	int rc = decode_slot(m, tag, &tmp, err, errlen);
	if (rc)
		return rc;
	return install(m, tag, &tmp);
}

int ims_iommu_ctx_parent(const struct ims_iommu *m, uint16_t tag)
{
	const struct ctx_slot *s = m->ctx[tag];
	return s && s->nested ? s->parent : -ENOENT;
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
	/* A stage 2 that nested contexts walk through stays (as a driver
	 * cannot free a nest parent while a nested domain uses it). */
	if (m->ctx[tag]->users)
		return -EBUSY;
	if (m->ctx[tag]->nested) {
		m->ctx[m->ctx[tag]->parent]->users--;
		m->nnested--;
	}
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
