/* Faults explained: a device as its format names it, a fault as what
 * happened (kind, the level the walk stopped at) and as the format's own
 * code says it; each fault printed as it happens under -v, and with strict
 * faults, each one no `expect fault` consumed a validation failure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "harness/replay_int.h"

/* The format a device's faults are told in: its domain's; with none (an
 * unattached device), the replay's formats: stream IDs when every domain
 * is an SMMU's. -1: no domain at all. */
static const struct fmt_desc *dev_fmt(const struct ims_tb *r, const struct ims_fault *f)
{
	if (f && f->has_dom && r->doms[f->dom])
		return fmt_get(r->doms[f->dom]->fmt);
	const struct fmt_desc *one = NULL;
	for (size_t k = 0; k < r->ndom_tags; k++) {
		const struct dom *d = r->doms[r->dom_tags[k]];
		if (!d)
			continue;
		const struct fmt_desc *x = fmt_get(d->fmt);
		if (x && !x->stream_ids)
			return x; /* one PCI format is enough to read ids as PCI */
		if (x)
			one = x;
	}
	return one;
}

static void dev_text(const struct fmt_desc *fd, uint32_t dev, char *buf, size_t len)
{
	if (fd && fd->stream_ids)
		snprintf(buf, len, "sid=%" PRIu32, dev);
	else if (dev >> 16)
		snprintf(buf, len, "dev %04x:%02x:%02x.%x", dev >> 16, (dev >> 8) & 0xff,
			 (dev >> 3) & 0x1f, dev & 7);
	else
		snprintf(buf, len, "dev %02x:%02x.%x", (dev >> 8) & 0xff, (dev >> 3) & 0x1f, dev & 7);
}

void rp_dev_text(const struct ims_tb *r, uint32_t dev, char *buf, size_t len)
{
	int tag = ims_iommu_dev_domain(r->mmu, dev);
	struct ims_fault f = {.dom = (uint16_t)(tag >= 0 ? tag : 0), .has_dom = tag >= 0};
	dev_text(dev_fmt(r, &f), dev, buf, len);
}

void rp_fault_text(const struct ims_tb *r, const struct ims_fault *f, char *buf, size_t len)
{
	const struct fmt_desc *fd = dev_fmt(r, f);
	char dev[32], why[160], code[192] = "";
	dev_text(fd, f->dev, dev, sizeof(dev));
	switch (f->kind) {
	case IMS_FAULT_UNATTACHED:
		snprintf(why, sizeof(why), "the device is not attached to a domain");
		break;
	case IMS_FAULT_NOTPRESENT:
		if (f->has_level)
			snprintf(why, sizeof(why), "not present at level %u%s", f->level,
				 f->level ? "" : " (the leaf level)");
		else if (f->has_dom && ims_iommu_probe(r->mmu, f->dom, f->iova, IMS_ACC_R,
						       &(struct ims_xlate){0}) == -ENOENT)
			snprintf(why, sizeof(why), "the domain's context is not valid");
		else
			snprintf(why, sizeof(why), "the IOVA is outside the domain's input range");
		break;
	case IMS_FAULT_PERM:
		if (f->has_level)
			snprintf(why, sizeof(why), "the entry at level %u does not permit the %s", f->level,
				 f->write ? "write" : "read");
		else
			snprintf(why, sizeof(why), "the %s is not permitted", f->write ? "write" : "read");
		break;
	case IMS_FAULT_ACCESS:
		if (f->has_level)
			snprintf(why, sizeof(why), "the access flag is clear at level %u and hardware "
				 "does not set it", f->level);
		else
			snprintf(why, sizeof(why), "the access flag is clear");
		break;
	default:
		snprintf(why, sizeof(why), "fault kind %d", (int)f->kind);
		break;
	}
	/* Nested translation: which stage, and what stage 2 was given (the
	 * guest's table entry, or stage 1's output). */
	char st[96] = "";
	if (f->stage == 2)
		snprintf(st, sizeof(st), "stage 2 %s IPA 0x%" PRIx64 ": ",
			 f->s1_walk ? "on the guest's stage-1 table at" : "at", f->ipa);
	else if (f->stage == 1)
		snprintf(st, sizeof(st), "stage 1: ");
	/* The format's code says it in the spec's words (a nested stage-2
	 * fault's is the stage-2 format's); an unattached device has no
	 * context, so no code. */
	const struct fmt_desc *cf = f->kind != IMS_FAULT_UNATTACHED && fmt_get(f->fmt) ? fmt_get(f->fmt) : fd;
	if (cf && cf->fault_text && f->kind != IMS_FAULT_UNATTACHED) {
		char t[160];
		cf->fault_text(f->code, t, sizeof(t));
		snprintf(code, sizeof(code), "; %s %s", cf->name, t);
	}
	if (f->has_dom)
		snprintf(buf, len, "%s %s iova 0x%" PRIx64 " (domain %u): %s, %s%s%s", dev,
			 f->write ? "write" : "read", f->iova, f->dom, ims_fault_kind_name(f->kind), st,
			 why, code);
	else
		snprintf(buf, len, "%s %s iova 0x%" PRIx64 ": %s, %s%s%s", dev,
			 f->write ? "write" : "read", f->iova, ims_fault_kind_name(f->kind), st, why,
			 code);
}

/* Stage-2 faults among pending faults [from, to), by where stage 2 refused
 * (docs/nested.md, "Faults"): the output, or the stage-1 walk, where a
 * permission fault is taken as the A/D write's (a table read is refused by
 * permission only where stage 2 maps the frame without read permission). */
static void count_stage2(struct ims_tb *r, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		struct ims_fault f;
		if (!ims_iommu_fault_peek(r->mmu, i, &f))
			break;
		if (f.stage != 2)
			continue;
		if (!f.s1_walk)
			r->st.s2_faults_output++;
		else if (f.kind == IMS_FAULT_PERM)
			r->st.s2_faults_ad++;
		else
			r->st.s2_faults_table++;
	}
}

int rp_faults_raised(struct ims_tb *r, const struct ims_event *ev, uint64_t n)
{
	size_t pending = ims_iommu_fault_pending(r->mmu);
	/* Those the full queue dropped (the newest: a full log loses what
	 * comes) are counted, not kept. */
	uint64_t dropped = ims_iommu_counters(r->mmu)->faults_dropped - r->fdrop_seen;
	r->fdrop_seen += dropped;
	if (dropped && !r->fdrop_line)
		r->fdrop_line = ev->line;
	n = dropped < n ? n - dropped : 0;
	if (n > pending)
		n = pending;
	/* The line of each fault still pending: they leave the queue oldest
	 * first, so the last `pending` lines are theirs. */
	if (r->fline.n + n > r->fline.cap) {
		if (r->fline.n > pending) {
			size_t drop = r->fline.n - pending;
			memmove(r->fline.v, r->fline.v + drop, pending * sizeof(*r->fline.v));
			r->fline.n = pending;
		}
		if (r->fline.n + n > r->fline.cap) {
			size_t cap = r->fline.cap ? r->fline.cap : 64;
			while (cap < r->fline.n + n)
				cap *= 2;
			uint64_t *v = realloc(r->fline.v, cap * sizeof(*v));
			if (!v) {
				rp_input_error(r, ev, -1, "out of memory for the lines of %zu pending faults",
					       pending);
				return -ENOMEM;
			}
			r->fline.v = v;
			r->fline.cap = cap;
		}
	}
	for (uint64_t i = 0; i < n; i++)
		r->fline.v[r->fline.n++] = ev->line;
	count_stage2(r, pending - n, pending);
	if (r->o.verbosity < 2)
		return 0;
	for (size_t i = pending - n; i < pending; i++) {
		struct ims_fault f;
		char t[512];
		if (!ims_iommu_fault_peek(r->mmu, i, &f))
			break;
		rp_fault_text(r, &f, t, sizeof(t));
		fprintf(stdout, "%s:%" PRIu64 ": fault: %s\n", r->file, ev->line, t);
	}
	if (dropped)
		fprintf(stdout, "%s:%" PRIu64 ": %" PRIu64 " fault%s not recorded: the fault queue "
			"holds %zu\n", r->file, ev->line, dropped, dropped == 1 ? "" : "s",
			ims_iommu_fault_limit(r->mmu));
	return 0;
}

uint64_t rp_faults_untold(struct ims_tb *r, char *buf, size_t len)
{
	uint64_t now = ims_iommu_counters(r->mmu)->faults_dropped;
	uint64_t n = now - r->fdrop_told;
	r->fdrop_told = now;
	r->fdrop_line = 0;
	size_t lim = ims_iommu_fault_limit(r->mmu);
	snprintf(buf, len, "%" PRIu64 " fault%s not recorded: the fault queue was full (%zu "
		 "record%s; %s raises it)", n, n == 1 ? " was" : "s were", lim, lim == 1 ? "" : "s",
		 rp_raise(true, RP_BUDGET_FAULTS));
	return n;
}

void rp_faults_unexpected(struct ims_tb *r)
{
	size_t pending = ims_iommu_fault_pending(r->mmu);
	for (size_t i = 0; i < pending; i++) {
		struct ims_fault f;
		char t[512];
		ims_iommu_fault_pop(r->mmu, &f);
		size_t k = r->fline.n - pending + i;
		struct ims_event at = {.line = pending <= r->fline.n ? r->fline.v[k] : 0};
		rp_fault_text(r, &f, t, sizeof(t));
		rp_validation_failure(r, &at, "unexpected fault (no expect fault took it; "
				      "--strict-faults): %s", t);
	}
	r->fline.n = 0;
	char t[256];
	struct ims_event at = {.line = r->fdrop_line};
	if (rp_faults_untold(r, t, sizeof(t)))
		rp_validation_failure(r, &at, "unexpected faults (--strict-faults), from this line on: %s", t);
}
