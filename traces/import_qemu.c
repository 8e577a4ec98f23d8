/* Importer for QEMU trace logs (the `log` trace backend): intel-iommu
 * (vtd_*), amd-iommu (amdvi_*) and smmuv3 (smmuv3_*, smmu_*), with the
 * device events that tell directions (pci_nvme_*, dma_blk_io).
 *
 * Event texts are QEMU's hw/i386/trace-events, hw/arm/trace-events,
 * hw/nvme/trace-events and softmmu/trace-events; each handler takes the
 * older and newer spellings of its event (docs/importers.md lists them).
 * A line is "PID@SEC.USEC:event args" or, without -msg timestamp, just
 * "event args".
 *
 * This file holds the event table and the line loop; the handlers are the
 * device side's (import_qemu_dev.c), the translations' (import_qemu_xl.c)
 * and each IOMMU's (import_qemu_vtd.c, _amd.c, _smmu.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import_qemu.h"
#include "traces/importers.h"

struct ev_def {
	const char *name;
	unsigned srcs; /* bit per enum ims_import_from */
	handler fn;    /* NULL: known, carries nothing the trace needs */
};

/* ---- the event table --------------------------------------------------------------- */

#define VTD (1u << IMS_FROM_QEMU_VTD)
#define AMD (1u << IMS_FROM_QEMU_AMDVI)
#define SMMU (1u << IMS_FROM_QEMU_SMMUV3)
#define ALL (VTD | AMD | SMMU)

static const struct ev_def defs[] = {
	/* Device side (hw/nvme, softmmu/dma-helpers.c, hw/pci). */
	{"pci_nvme_io_cmd", ALL, qh_nvme_io_cmd},
	{"pci_nvme_read", ALL, qh_nvme_read},
	{"pci_nvme_write", ALL, qh_nvme_write},
	{"pci_nvme_map_prp", ALL, qh_nvme_map_prp},
	{"pci_nvme_map_addr", ALL, qh_nvme_map_addr},
	{"pci_nvme_rw_cb", ALL, qh_nvme_rw_cb},
	{"dma_blk_io", ALL, qh_dma_blk_io},
	{"pci_cfg_read", ALL, qh_pci_cfg_read},
	{"pci_cfg_write", ALL, NULL},
	/* intel-iommu. */
	{"vtd_dmar_translate", VTD, qh_vtd_translate},
	{"vtd_iotlb_page_hit", VTD, qh_vtd_iotlb_page},
	{"vtd_iotlb_page_update", VTD, qh_vtd_iotlb_page},
	{"vtd_iotlb_cc_update", VTD, qh_vtd_cc_update},
	{"vtd_iotlb_cc_hit", VTD, NULL},
	{"vtd_inv_desc_iotlb_pages", VTD, qh_vtd_inv_pages},
	{"vtd_inv_desc_iotlb_pasid_pages", VTD, qh_vtd_inv_pages},
	{"vtd_inv_desc_iotlb_domain", VTD, qh_vtd_inv_domain},
	{"vtd_inv_desc_iotlb_pasid", VTD, qh_vtd_inv_domain},
	{"vtd_inv_desc_iotlb_global", VTD, qh_flush_all},
	{"vtd_dmar_fault", VTD, qh_vtd_fault},
	{"vtd_fault_disabled", VTD, NULL},
	{"vtd_inv_desc", VTD, NULL},
	{"vtd_inv_desc_iec", VTD, NULL},
	{"vtd_inv_desc_cc_global", VTD, NULL},
	{"vtd_inv_desc_cc_domain", VTD, NULL},
	{"vtd_inv_desc_cc_device", VTD, NULL},
	{"vtd_inv_desc_cc_devices", VTD, NULL},
	{"vtd_inv_desc_wait_sw", VTD, NULL},
	{"vtd_inv_desc_wait_irq", VTD, NULL},
	{"vtd_inv_qi_head", VTD, NULL},
	{"vtd_inv_qi_tail", VTD, NULL},
	{"vtd_inv_qi_fetch", VTD, NULL},
	{"vtd_inv_qi_setup", VTD, NULL},
	{"vtd_inv_qi_enable", VTD, NULL},
	{"vtd_reg_read", VTD, NULL},
	{"vtd_reg_write", VTD, NULL},
	{"vtd_reg_write_gcmd", VTD, NULL},
	{"vtd_reg_write_fectl", VTD, NULL},
	{"vtd_reg_dmar_root", VTD, NULL},
	{"vtd_reg_ir_root", VTD, NULL},
	{"vtd_switch_address_space", VTD, NULL},
	{"vtd_context_cache_reset", VTD, NULL},
	{"vtd_dmar_enable", VTD, NULL},
	{"vtd_iotlb_reset", VTD, qh_flush_all},
	{"vtd_iotlb_pe_hit", VTD, NULL},
	{"vtd_iotlb_pe_update", VTD, NULL},
	/* amd-iommu. */
	{"amdvi_translation_result", AMD, qh_amd_translate},
	{"amdvi_cache_update", AMD, qh_amd_update},
	{"amdvi_iotlb_hit", AMD, qh_amd_hit},
	{"amdvi_pages_inval", AMD, qh_amd_pages_inval},
	{"amdvi_all_inval", AMD, qh_flush_all},
	{"amdvi_iotlb_reset", AMD, qh_flush_all},
	{"amdvi_page_fault", AMD, qh_fault_unknown},
	{"amdvi_command_exec", AMD, NULL},
	{"amdvi_completion_wait", AMD, NULL},
	{"amdvi_intr_inval", AMD, NULL},
	{"amdvi_devtab_inval", AMD, NULL},
	{"amdvi_control_status", AMD, NULL},
	{"amdvi_command_error", AMD, NULL},
	{"amdvi_iotlb_inval", AMD, NULL},
	{"amdvi_prefetch_pages", AMD, NULL},
	{"amdvi_ppr_exec", AMD, NULL},
	{"amdvi_mmio_read", AMD, NULL},
	{"amdvi_mmio_write", AMD, NULL},
	/* smmuv3 / smmu-common. */
	{"smmuv3_translate_success", SMMU, qh_smmu_translate},
	{"smmu_iotlb_lookup_hit", SMMU, qh_smmu_lookup},
	{"smmu_iotlb_lookup_miss", SMMU, qh_smmu_lookup},
	{"smmu_iotlb_insert", SMMU, qh_smmu_insert},
	{"smmuv3_decode_cd_tt", SMMU, qh_smmu_cd_tt},
	{"smmuv3_s1_range_inval", SMMU, qh_smmu_range_inval},
	{"smmuv3_range_inval", SMMU, qh_smmu_range_inval},
	{"smmuv3_cmdq_tlbi_nh_va", SMMU, qh_smmu_range_inval},
	{"smmu_iotlb_inv_iova", SMMU, qh_smmu_range_inval},
	{"smmu_iotlb_inv_asid", SMMU, qh_smmu_inv_asid},
	{"smmu_iotlb_inv_all", SMMU, qh_flush_all},
	{"smmuv3_translate_abort", SMMU, qh_smmu_abort},
	{"smmuv3_translate_disable", SMMU, NULL},
	{"smmuv3_translate_bypass", SMMU, NULL},
	{"smmuv3_cmdq_tlbi_nh_asid", SMMU, NULL},
	{"smmuv3_cmdq_tlbi_nh", SMMU, NULL},
	{"smmu_ptw_level", SMMU, NULL},
	{"smmu_ptw_invalid_pte", SMMU, NULL},
	{"smmu_ptw_page_pte", SMMU, qh_smmu_ptw_leaf},
	{"smmu_ptw_block_pte", SMMU, qh_smmu_ptw_leaf},
	{"smmuv3_cmdq_tlbi_s12_vmid", SMMU, qh_smmu_s12_vmid},
	{"smmu_iotlb_inv_vmid", SMMU, NULL},
	{"smmu_iotlb_inv_vmid_s1", SMMU, NULL},
	{"smmu_get_pte", SMMU, NULL},
	{"smmu_add_mr", SMMU, NULL},
	{"smmuv3_config_cache_hit", SMMU, NULL},
	{"smmuv3_config_cache_miss", SMMU, NULL},
	{"smmuv3_config_cache_inv", SMMU, NULL},
	{"smmuv3_cmdq_opcode", SMMU, NULL},
	{"smmuv3_cmdq_consume", SMMU, NULL},
	{"smmuv3_cmdq_consume_out", SMMU, NULL},
	{"smmuv3_cmdq_consume_error", SMMU, NULL},
	{"smmuv3_cmdq_cfgi_ste", SMMU, NULL},
	{"smmuv3_cmdq_cfgi_ste_range", SMMU, NULL},
	{"smmuv3_cmdq_cfgi_cd", SMMU, NULL},
	{"smmuv3_get_ste", SMMU, NULL},
	{"smmuv3_get_cd", SMMU, NULL},
	{"smmuv3_find_ste", SMMU, NULL},
	{"smmuv3_find_ste_2lvl", SMMU, NULL},
	{"smmuv3_decode_cd", SMMU, NULL},
	{"smmuv3_record_event", SMMU, NULL},
	{"smmuv3_write_mmio", SMMU, NULL},
	{"smmuv3_read_mmio", SMMU, NULL},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))
_Static_assert(NDEFS <= sizeof(((struct q *)0)->counts) / sizeof(uint64_t), "counts[] too small");

static const struct ev_def *lookup(const char *s, size_t n, unsigned *idx)
{
	for (unsigned i = 0; i < NDEFS; i++)
		if (strlen(defs[i].name) == n && !memcmp(defs[i].name, s, n)) {
			*idx = i;
			return &defs[i];
		}
	return NULL;
}

/* Seconds that fit in 64 bits of nanoseconds with their fraction. */
#define MAX_TS_SEC ((UINT64_MAX - 999999999u) / 1000000000u)

/* "PID@SEC.USEC:" in front of the event name; *ts_bad when the time is
 * past 2^64 ns (some 584 years: not a time, and it would wrap). */
static const char *strip_prefix(struct q *q, const char *s, const char *e, bool *ts_bad)
{
	*ts_bad = false;
	const char *p = s;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	if (p == s || p >= e || *p != '@')
		return s;
	const char *t = ++p;
	uint64_t sec = 0, usec = 0;
	while (p < e && *p >= '0' && *p <= '9') {
		if (sec <= MAX_TS_SEC)
			sec = sec * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == t || p >= e || *p != '.')
		return s;
	const char *f = ++p;
	unsigned digits = 0;
	while (p < e && *p >= '0' && *p <= '9') {
		if (digits < 9) {
			usec = usec * 10 + (uint64_t)(*p - '0');
			digits++;
		}
		p++;
	}
	if (p == f || p >= e || *p != ':' || p - t > 30)
		return s;
	while (digits++ < 9)
		usec *= 10;
	if (sec > MAX_TS_SEC) {
		*ts_bad = true;
		return p + 1;
	}
	imp_time(q->m, sec * 1000000000ull + usec);
	return p + 1;
}

int import_qemu(struct imp *m, struct lsrc *in, const struct imp_guest *guest)
{
	struct q *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->m = m;
	q->from = m->o.from;
	q->cur_asid = -1;
	q->cur_vmid = -1;
	q->g = guest;
	int rc = 0;
	const char *line;
	size_t len;
	while ((rc = lsrc_next(in, &line, &len, m->err, m->errlen)) == 1) {
		m->st->lines++;
		q->line = in->lineno;
		imp_at(m, in->name, in->lineno);
		const char *e = line + len;
		bool ts_bad;
		const char *s = strip_prefix(q, line, e, &ts_bad);
		if (ts_bad && m->o.lenient) {
			m->st->malformed++;
			continue;
		}
		if (ts_bad) {
			rc = imp_refuse(m, "expected a time (PID@SEC.USEC:) of at most %" PRIu64
					" seconds", (uint64_t)MAX_TS_SEC);
			break;
		}
		const char *ne = s;
		while (ne < e && (((*ne | 0x20) >= 'a' && (*ne | 0x20) <= 'z') ||
				  (*ne >= '0' && *ne <= '9') || *ne == '_'))
			ne++;
		if (ne == s || (ne < e && *ne != ' ' && *ne != '\t')) {
			m->st->other++;
			continue;
		}
		unsigned idx;
		const struct ev_def *d = lookup(s, (size_t)(ne - s), &idx);
		if (!d || !(d->srcs >> q->from & 1)) {
			m->st->unknown++;
			imp_count(m->st->unknown_names, &m->st->n_unknown, s, (size_t)(ne - s), 1);
			continue;
		}
		m->st->events++;
		q->counts[idx]++;
		q->evname = d->name;
		if (d->fn && (rc = d->fn(q, ne, e)))
			break;
		if (m->rc) {
			rc = m->rc;
			break;
		}
	}
	if (rc > 0)
		rc = 0;
	/* Whatever the guest did after QEMU's last translation. */
	while (!rc && q->g) {
		const char *mk = NULL;
		size_t mn = 0;
		int r = imp_guest_step(q->g, &mk, &mn);
		if (r <= 0) {
			rc = r;
			break;
		}
		if (mk)
			rc = imp_comment(m, "phase: %.*s", (int)mn, mk);
	}
	for (unsigned i = 0; i < NDEFS; i++)
		if (q->counts[i])
			imp_count(m->st->known, &m->st->n_known, defs[i].name, strlen(defs[i].name),
				  q->counts[i]);
	free(q->devdom);
	free(q->smmu_ids);
	free(q->smmu_taken);
	free(q);
	return rc < 0 ? rc : 0;
}
