/* The x86-64 first-stage rules of vtd-fs and amdv2 (x86/x86_hw.c with each
 * format's context), driven through the model's walk (ims_iommu_access) at
 * every level: A in every entry used and D in the leaf on a write (SDM
 * 4.8, VT-d 3.6.2, AMD 2.2.6; AMD's Control register GAUpdateDis and
 * GDUpdateDis turn them off), U/S against the request's privilege and R/W
 * ANDed over the walk (SDM 4.6, VT-d 3.6.1), reserved bits (SDM 4.5, VT-d
 * 9.7), VT-d SRE / WPE / NXE / EAFE / CAP.FS1GP, the canonical range, the
 * context checks and the PASID-tagged invalidations. The conformance
 * suites tests/conformance/vtd-fs.yaml and amdv2.yaml check the same from
 * traces.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "amd/amd_codec.h"
#include "iommusim/model.h"
#include "vtd/vtd_codec.h"
#include "x86/x86_codec.h"

#define ROOT 0x100000ull
#define DEV 0x21
#define TAG 6
#define TBL (X86_P | X86_RW | X86_US)
#define PA 0x80000000ull

static const enum ims_format FMTS[2] = {IMS_FMT_VTD_FS, IMS_FMT_AMDV2};

struct rig {
	enum ims_format fmt;
	unsigned levels;
	struct ims_mem *mem;
	struct ims_iommu *mmu;
	uint64_t w[IMS_CTX_WORDS];
	uint64_t slot[8]; /* slot[l]: the entry of level l on the path */
};

static void put(struct rig *r, uint64_t pa, uint64_t v) { ims_mem_store(r->mem, IMS_AGENT_HW, pa, v); }
static uint64_t get(struct rig *r, uint64_t pa) { return ims_mem_load(r->mem, IMS_AGENT_HW, pa); }
static unsigned lshift(int l) { return 12 + 9 * (unsigned)l; }

static int ctx(struct rig *r)
{
	char err[200];
	return ims_iommu_ctx_set(r->mmu, TAG, r->fmt, r->w, err, sizeof(err));
}

/* A context of fmt with `levels` at ROOT, with cfg (NULL: the defaults);
 * `vtd2` ORed into the PASID entry's qword 2 (vtd-fs). */
static void rig_up(struct rig *r, enum ims_format fmt, unsigned levels,
		   const struct ims_iommu_cfg *cfg, uint64_t vtd2)
{
	memset(r, 0, sizeof(*r));
	r->fmt = fmt;
	r->levels = levels;
	r->mem = ims_mem_new();
	ck_assert_int_eq(ims_iommu_new(r->mem, cfg, &r->mmu), 0);
	struct ims_ctx_params p = {.tag = TAG, .root = ROOT, .levels = levels};
	ck_assert_int_eq(ims_ctx_encode(fmt, &p, r->w, NULL, 0), 0);
	if (fmt == IMS_FMT_VTD_FS)
		r->w[2] |= vtd2;
	ck_assert_int_eq(ctx(r), 0);
	ck_assert_int_eq(ims_iommu_attach(r->mmu, DEV, TAG), 0);
}

static void rig_down(struct rig *r)
{
	ims_iommu_free(r->mmu);
	ims_mem_free(r->mem);
}

/* Tables from the top to a leaf at `leaf` for iova, then the leaf. */
static void path(struct rig *r, int leaf, uint64_t iova, uint64_t leafbits)
{
	uint64_t table = ROOT, next = 0x200000;
	for (int l = (int)r->levels - 1; l >= leaf; l--) {
		r->slot[l] = table + 8 * ((iova >> lshift(l)) & 511);
		if (l == leaf) {
			put(r, r->slot[l], (PA & ~((1ull << lshift(l)) - 1)) | leafbits |
						   (l ? X86_PS : 0));
			break;
		}
		put(r, r->slot[l], next | TBL);
		table = next;
		next += 0x1000;
	}
}

/* A 4-level walk to a writable user 4 KiB page at IOVA, with `bit` cleared
 * in its entry of level `at`; user requests (the default) or supervisor
 * ones; `vtd2` ORed into a vtd-fs PASID entry's qword 2. */
#define IOVA 0x40201000ull
static void cleared(struct rig *r, enum ims_format f, bool super, uint64_t vtd2, int at,
		    uint64_t bit)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_fs_supervisor = cfg.amdv2_supervisor = super;
	rig_up(r, f, 4, &cfg, vtd2);
	path(r, 0, IOVA, X86_P | X86_RW | X86_US);
	put(r, r->slot[at], get(r, r->slot[at]) & ~bit);
}

static int access(struct rig *r, uint64_t iova, unsigned acc, uint32_t *code)
{
	struct ims_xlate x;
	int rc = ims_iommu_access(r->mmu, DEV, iova, acc, &x);
	struct ims_fault f;
	if (rc > 0) {
		ck_assert(ims_iommu_fault_pop(r->mmu, &f));
		*code = f.code;
	}
	return rc;
}

/* The fault codes, by format. */
static uint32_t c_priv(enum ims_format f, bool write)
{
	return f == IMS_FMT_VTD_FS ? VTD_FR_FS_US
				   : AMD_EV_GN | AMD_EV_PR | AMD_EV_PE | AMD_EV_US |
					     (write ? AMD_EV_RW : 0);
}
static uint32_t c_write(enum ims_format f, bool user)
{
	return f == IMS_FMT_VTD_FS ? VTD_FR_SM_WRITE
				   : AMD_EV_GN | AMD_EV_PR | AMD_EV_PE | AMD_EV_RW |
					     (user ? AMD_EV_US : 0);
}
static uint32_t c_rsvd(enum ims_format f)
{
	return f == IMS_FMT_VTD_FS ? VTD_FR_FS_RSVD : AMD_EV_GN | AMD_EV_PR | AMD_EV_RZ;
}

/* SDM 4.8 / VT-d 3.6.2 / AMD 2.2.6: a read sets A in every entry of the walk
 * and no D; a write sets D in the leaf only. Every format, both widths,
 * every leaf size, no per-domain enable needed. */
START_TEST(ad_every_entry_every_level)
{
	for (unsigned fi = 0; fi < 2; fi++)
		for (unsigned levels = 4; levels <= 5; levels++)
			for (int leaf = 0; leaf <= 2; leaf++) {
				struct rig r;
				rig_up(&r, FMTS[fi], levels, NULL, 0);
				uint64_t iova = 0x40201000ull + (levels == 5 ? 1ull << 48 : 0);
				path(&r, leaf, iova, X86_P | X86_RW | X86_US);
				uint32_t code;
				ck_assert_int_eq(access(&r, iova, IMS_ACC_R, &code), 0);
				for (int l = (int)levels - 1; l >= leaf; l--) {
					uint64_t v = get(&r, r.slot[l]);
					ck_assert_msg(v & X86_A, "%s A level %d", ims_format_name(r.fmt), l);
					ck_assert(!(v & X86_D));
					ck_assert(!(v & X86_EA));
				}
				ims_iommu_inv_domain(r.mmu, TAG);
				ck_assert_int_eq(access(&r, iova, IMS_ACC_W, &code), 0);
				for (int l = (int)levels - 1; l >= leaf; l--)
					ck_assert_msg(!!(get(&r, r.slot[l]) & X86_D) == (l == leaf),
						      "%s D level %d", ims_format_name(r.fmt), l);
				rig_down(&r);
			}
}
END_TEST

/* AMD: the IOMMU Control register's GDUpdateDis (bit 48) stops guest Dirty
 * updates and GAUpdateDis (bit 54) guest Accessed updates, in every entry,
 * where EFR.GAUpdateDisSup (bit 61) is set; without it they have no effect.
 * The dirty-tracking capability follows GDUpdateDis; VT-d first stage has
 * no such control (the AMD register leaves it alone). */
START_TEST(amdv2_control_disables_guest_ad)
{
	for (unsigned m = 0; m < 8; m++) {
		bool sup = m & 1, gd = m & 2, ga = m & 4;
		struct ims_iommu_cfg cfg;
		ims_iommu_cfg_default(&cfg);
		if (!sup)
			cfg.amd_efr &= ~AMD_EFR_GAUPDATEDISSUP;
		cfg.amd_control =
			(gd ? AMD_CTRL_GDUPDATEDIS : 0) | (ga ? AMD_CTRL_GAUPDATEDIS : 0);
		bool want_a = !(sup && ga), want_d = !(sup && gd);
		ck_assert_int_eq(ims_iommu_cfg_dirty_capable(&cfg, IMS_FMT_AMDV2), want_d);
		ck_assert(ims_iommu_cfg_dirty_capable(&cfg, IMS_FMT_VTD_FS));
		for (unsigned fi = 0; fi < 2; fi++) {
			bool amd = FMTS[fi] == IMS_FMT_AMDV2;
			struct rig r;
			rig_up(&r, FMTS[fi], 4, &cfg, 0);
			path(&r, 0, IOVA, X86_P | X86_RW | X86_US);
			struct ims_xlate x;
			ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, IOVA, IMS_ACC_W, &x), 0);
			ck_assert_int_eq(x.dirtied, !amd || want_d);
			for (int l = 3; l >= 0; l--) {
				uint64_t v = get(&r, r.slot[l]);
				ck_assert_msg(!!(v & X86_A) == (!amd || want_a),
					      "%s m %u A level %d", ims_format_name(r.fmt), m, l);
				ck_assert_msg(!!(v & X86_D) == (l == 0 && (!amd || want_d)),
					      "%s m %u D level %d", ims_format_name(r.fmt), m, l);
			}
			rig_down(&r);
		}
	}
}
END_TEST

/* SDM 4.6: a user request (the default: no PASID) needs U/S = 1 in every
 * entry, for a read too; a supervisor request does not (VT-d: with SRE). */
START_TEST(user_requests_need_us_everywhere)
{
	for (unsigned fi = 0; fi < 2; fi++)
		for (int at = 0; at < 4; at++) {
			struct rig r;
			cleared(&r, FMTS[fi], false, 0, at, X86_US);
			uint32_t code = 0;
			ck_assert_int_eq(access(&r, IOVA, IMS_ACC_R, &code), IMS_FAULT_PERM);
			ck_assert_uint_eq(code, c_priv(r.fmt, false));
			ck_assert_int_eq(access(&r, IOVA, IMS_ACC_W, &code), IMS_FAULT_PERM);
			ck_assert_uint_eq(code, c_priv(r.fmt, true));
			ck_assert(!(get(&r, r.slot[0]) & X86_D));
			rig_down(&r);

			cleared(&r, FMTS[fi], true, VTD_PE2_SRE, at, X86_US);
			ck_assert_int_eq(access(&r, IOVA, IMS_ACC_W, &code), 0);
			ck_assert(get(&r, r.slot[0]) & X86_D);
			rig_down(&r);
		}
}
END_TEST

/* R/W = 0 anywhere on the walk refuses writes and allows reads; a
 * supervisor write ignores R/W unless VT-d WPE = 1 (AMD: always honoured,
 * the model's inference). */
START_TEST(rw_anded_and_write_protect)
{
	for (unsigned fi = 0; fi < 2; fi++)
		for (int at = 0; at < 4; at++) {
			struct rig r;
			cleared(&r, FMTS[fi], false, 0, at, X86_RW);
			uint32_t code = 0;
			ck_assert_int_eq(access(&r, IOVA, IMS_ACC_W, &code), IMS_FAULT_PERM);
			ck_assert_uint_eq(code, c_write(r.fmt, true));
			ck_assert(!(get(&r, r.slot[0]) & X86_D));
			ck_assert_int_eq(access(&r, IOVA, IMS_ACC_R, &code), 0);
			rig_down(&r);

			for (int wpe = 0; wpe < 2; wpe++) {
				cleared(&r, FMTS[fi], true, VTD_PE2_SRE | (wpe ? VTD_PE2_WPE : 0), at,
					X86_RW);
				bool refused = r.fmt == IMS_FMT_AMDV2 || wpe;
				int rc = access(&r, IOVA, IMS_ACC_W, &code);
				ck_assert_int_eq(rc, refused ? IMS_FAULT_PERM : 0);
				if (refused)
					ck_assert_uint_eq(code, c_write(r.fmt, false));
				rig_down(&r);
			}
		}
}
END_TEST

/* SDM 4.5 / VT-d 9.7: reserved bits fault at every level they exist:
 * PS in a PML4E or PML5E, a large page's frame bits below its size, XD
 * without NXE (VT-d; AMD's XD is never reserved), a 1 GiB page without
 * CAP.FS1GP (VT-d). Nothing is set in the faulting entry. */
START_TEST(reserved_bits)
{
	for (unsigned fi = 0; fi < 2; fi++) {
		enum ims_format f = FMTS[fi];
		uint32_t code = 0;
		struct rig r;
		for (int at = 3; at <= 4; at++) {
			rig_up(&r, f, 5, NULL, 0);
			path(&r, 0, 0x1000, X86_P | X86_RW | X86_US);
			put(&r, r.slot[at], TBL | X86_PS); /* frame 0: only PS is wrong */
			ck_assert_int_eq(access(&r, 0x1000, IMS_ACC_R, &code), IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(code, c_rsvd(f));
			rig_down(&r);
		}
		for (int leaf = 1; leaf <= 2; leaf++) {
			rig_up(&r, f, 4, NULL, 0);
			path(&r, leaf, 0, X86_P | X86_RW | X86_US | (1ull << 13));
			ck_assert_int_eq(access(&r, 0, IMS_ACC_R, &code), IMS_FAULT_NOTPRESENT);
			ck_assert_uint_eq(code, c_rsvd(f));
			ck_assert(!(get(&r, r.slot[leaf]) & X86_A));
			put(&r, r.slot[leaf], get(&r, r.slot[leaf]) & ~(1ull << 13));
			ck_assert_int_eq(access(&r, 0, IMS_ACC_R, &code), 0);
			rig_down(&r);
		}
		for (int nxe = 0; nxe < 2; nxe++)
			for (int at = 0; at < 4; at++) {
				rig_up(&r, f, 4, NULL, nxe ? VTD_PE2_NXE : 0);
				path(&r, 0, 0x1000, X86_P | X86_RW | X86_US);
				put(&r, r.slot[at], get(&r, r.slot[at]) | X86_XD);
				bool bad = f == IMS_FMT_VTD_FS && !nxe;
				ck_assert_int_eq(access(&r, 0x1000, IMS_ACC_W, &code),
						 bad ? IMS_FAULT_NOTPRESENT : 0);
				if (bad)
					ck_assert_uint_eq(code, c_rsvd(f));
				rig_down(&r);
			}
	}
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_cap &= ~VTD_CAP_FS1GP;
	struct rig r;
	uint32_t code = 0;
	rig_up(&r, IMS_FMT_VTD_FS, 4, &cfg, 0);
	path(&r, 2, 0, X86_P | X86_RW | X86_US);
	ck_assert_int_eq(access(&r, 0, IMS_ACC_R, &code), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(code, VTD_FR_FS_RSVD);
	rig_down(&r);
}
END_TEST

/* VT-d: a supervisor request through a PASID entry with SRE = 0 is refused
 * (5Dh) before any table is read; EAFE sets EA with A in every entry. An
 * IOVA past the lower canonical half faults (80h). */
START_TEST(vtd_sre_eafe_canonical)
{
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_fs_supervisor = true;
	struct rig r;
	uint32_t code = 0;
	rig_up(&r, IMS_FMT_VTD_FS, 4, &cfg, 0);
	path(&r, 0, 0x1000, X86_P | X86_RW | X86_US);
	ck_assert_int_eq(access(&r, 0x1000, IMS_ACC_R, &code), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(code, VTD_FR_SM_SRE);
	ck_assert(!(get(&r, r.slot[3]) & X86_A));
	rig_down(&r);

	rig_up(&r, IMS_FMT_VTD_FS, 4, NULL, VTD_PE2_EAFE);
	path(&r, 0, 0x1000, X86_P | X86_RW | X86_US);
	ck_assert_int_eq(access(&r, 0x1000, IMS_ACC_R, &code), 0);
	for (int l = 0; l < 4; l++)
		ck_assert_uint_eq(get(&r, r.slot[l]) & (X86_A | X86_EA), X86_A | X86_EA);
	ck_assert_int_eq(access(&r, 1ull << 47, IMS_ACC_R, &code), IMS_FAULT_NOTPRESENT);
	ck_assert_uint_eq(code, VTD_FR_FS_CANON);
	rig_down(&r);

	/* EAFE needs ECAP.EAFS, SRE ECAP.SRS. */
	cfg.vtd_fs_supervisor = false;
	cfg.vtd_ecap &= ~(VTD_ECAP_EAFS | VTD_ECAP_SRS);
	rig_up(&r, IMS_FMT_VTD_FS, 4, &cfg, 0);
	r.w[2] |= VTD_PE2_EAFE;
	ck_assert_int_eq(ctx(&r), -EINVAL);
	r.w[2] ^= VTD_PE2_EAFE | VTD_PE2_SRE;
	ck_assert_int_eq(ctx(&r), -EINVAL);
	rig_down(&r);
}
END_TEST

/* The contexts: what each format refuses (and the capabilities it needs). */
START_TEST(context_checks)
{
	struct rig r;
	rig_up(&r, IMS_FMT_VTD_FS, 4, NULL, 0);
	uint64_t w0 = r.w[0], w2 = r.w[2];
	r.w[0] = (w0 & ~VTD_PE0_PGTT_MASK) | ((uint64_t)VTD_PGTT_SL << VTD_PE0_PGTT_SHIFT);
	ck_assert_int_eq(ctx(&r), -EINVAL);
	r.w[0] = w0 & ~VTD_PE0_P;
	ck_assert_int_eq(ctx(&r), -EINVAL);
	r.w[0] = w0;
	r.w[2] = w2 | (2ull << VTD_PE2_FSPM_SHIFT);
	ck_assert_int_eq(ctx(&r), -EINVAL);
	r.w[2] = w2;
	ck_assert_int_eq(ctx(&r), 0);
	rig_down(&r);
	struct ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	cfg.vtd_cap &= ~VTD_CAP_FS5LP;
	cfg.vtd_ecap &= ~VTD_ECAP_FSTS;
	cfg.amd_efr &= ~AMD_EFR_GATS_MASK;
	struct ims_mem *mem = ims_mem_new();
	struct ims_iommu *mmu;
	ck_assert_int_eq(ims_iommu_new(mem, &cfg, &mmu), 0);
	uint64_t w[IMS_CTX_WORDS];
	struct ims_ctx_params p = {.tag = TAG, .root = ROOT, .levels = 5};
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_VTD_FS, &p, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_VTD_FS, w, NULL, 0), -EINVAL);
	ck_assert_int_eq(ims_ctx_encode(IMS_FMT_AMDV2, &p, w, NULL, 0), 0);
	ck_assert_int_eq(ims_iommu_ctx_set(mmu, TAG, IMS_FMT_AMDV2, w, NULL, 0), -EINVAL);
	ims_iommu_free(mmu);
	ims_mem_free(mem);

	rig_up(&r, IMS_FMT_AMDV2, 4, NULL, 0);
	uint64_t a0 = r.w[0], g = r.w[AMD_CTX_GCR3_WORD];
	const uint64_t bad0[] = {a0 & ~AMD_DTE_GV, a0 & ~AMD_DTE_GIOV, a0 | (4ull << AMD_DTE_MODE_SHIFT),
				 a0 | (2ull << AMD_DTE_GLX_SHIFT), a0 & ~AMD_DTE_TV};
	for (unsigned i = 0; i < sizeof(bad0) / sizeof(bad0[0]); i++) {
		r.w[0] = bad0[i];
		ck_assert_int_eq(ctx(&r), -EINVAL);
	}
	r.w[0] = a0;
	r.w[AMD_CTX_GCR3_WORD] = g & ~AMD_GCR3_V;
	ck_assert_int_eq(ctx(&r), -EINVAL);
	r.w[AMD_CTX_GCR3_WORD] = g;
	ck_assert_int_eq(ctx(&r), 0);
	/* DTE IW = 0 refuses writes through the guest tables. */
	path(&r, 0, 0x1000, X86_P | X86_RW | X86_US);
	r.w[0] = a0 & ~AMD_DTE_IW;
	ck_assert_int_eq(ctx(&r), 0);
	uint32_t code = 0;
	ck_assert_int_eq(access(&r, 0x1000, IMS_ACC_W, &code), IMS_FAULT_PERM);
	ck_assert_int_eq(access(&r, 0x1000, IMS_ACC_R, &code), 0);
	rig_down(&r);
}
END_TEST

/* The PASID-tagged invalidations drop the domain's IOTLB entries for PASID
 * 0 (the domain's) and nothing for another PASID. */
START_TEST(pasid_tagged_invalidation)
{
	for (unsigned fi = 0; fi < 2; fi++) {
		for (int other = 0; other < 2; other++) {
			struct rig r;
			rig_up(&r, FMTS[fi], 4, NULL, 0);
			path(&r, 0, 0x1000, X86_P | X86_RW | X86_US);
			struct ims_xlate x;
			ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x1000, IMS_ACC_R, &x), 0);
			ck_assert_uint_eq(x.pa, PA);
			put(&r, r.slot[0], (PA + 0x5000) | X86_P | X86_RW | X86_US);
			uint64_t cmd[2];
			if (r.fmt == IMS_FMT_VTD_FS) {
				cmd[0] = VTD_DESC_PIOTLB | (3ull << VTD_DESC_G_SHIFT) |
					 ((uint64_t)TAG << VTD_DESC_DID_SHIFT) |
					 ((uint64_t)other << VTD_DESC_PASID_SHIFT);
				cmd[1] = 0x1000;
			} else {
				cmd[0] = (AMD_CMD_INV_PAGES << AMD_CMD_OPCODE_SHIFT) |
					 ((uint64_t)TAG << AMD_CMD_DOMID_SHIFT) | (uint64_t)other;
				cmd[1] = 0x1000 | AMD_CMD_GN | AMD_CMD_PDE;
			}
			ck_assert_int_eq(ims_iommu_submit(r.mmu, r.fmt, cmd), 0);
			ck_assert_int_eq(ims_iommu_access(r.mmu, DEV, 0x1000, IMS_ACC_R, &x), 0);
			ck_assert_uint_eq(x.pa, other ? PA : PA + 0x5000);
			rig_down(&r);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw_rules_x86");
	TCase *t = tcase_create("rules");
	tcase_add_test(t, ad_every_entry_every_level);
	tcase_add_test(t, amdv2_control_disables_guest_ad);
	tcase_add_test(t, user_requests_need_us_everywhere);
	tcase_add_test(t, rw_anded_and_write_protect);
	tcase_add_test(t, reserved_bits);
	tcase_add_test(t, vtd_sre_eafe_canonical);
	tcase_add_test(t, context_checks);
	tcase_add_test(t, pasid_tagged_invalidation);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
