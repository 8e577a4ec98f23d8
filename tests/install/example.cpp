// A C++ testbench embedding the model through the umbrella header only:
// an AMD v1 domain (the software page table on one side, the hardware model
// on the other), a mapping, a device write and a dirty harvest checked
// against the oracle. Built against an installed tree (tests/install/).
#include <iommusim/iommusim.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

constexpr uint32_t kDev = 3;
constexpr uint16_t kTag = 9;
constexpr uint64_t kIova = 0x100000, kPa = 0x40000000, kSize = 0x10000;

int failures = 0;

void check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "example.cpp: FAILED: %s\n", what);
		failures++;
	}
}

struct mem_del { void operator()(ims_mem *m) const { ims_mem_free(m); } };
struct iommu_del { void operator()(ims_iommu *m) const { ims_iommu_free(m); } };
struct pt_del { void operator()(ims_pt *p) const { ims_pt_free(p); } };

std::string hex_of(const ims_bitmap &bm)
{
	char *h = ims_bitmap_to_hex(&bm);
	std::string s = h ? h : "(null)";
	std::free(h);
	return s;
}

} // namespace

int main()
{
	check(std::strcmp(ims_version(), IMS_VERSION_STRING) == 0, "ims_version() == IMS_VERSION_STRING");
	static_assert(IMS_VERSION_NUMBER == IMS_VERSION_MAJOR * 10000 + IMS_VERSION_MINOR * 100 +
					    IMS_VERSION_PATCH, "version macros agree");

	std::unique_ptr<ims_mem, mem_del> mem(ims_mem_new());
	ims_iommu_cfg cfg;
	ims_iommu_cfg_default(&cfg);
	ims_iommu *raw_mmu = nullptr;
	check(ims_iommu_new(mem.get(), &cfg, &raw_mmu) == 0, "ims_iommu_new");
	std::unique_ptr<ims_iommu, iommu_del> mmu(raw_mmu);
	if (!mmu)
		return 1;

	// The driver's commands go straight to the model.
	ims_sink sink{};
	sink.arg = mmu.get();
	sink.submit = [](void *a, ims_format f, const uint64_t cmd[2]) {
		return ims_iommu_submit(static_cast<ims_iommu *>(a), f, cmd);
	};
	sink.ctx_update = [](void *a, uint16_t tag, unsigned w, uint64_t c, uint64_t s) {
		return ims_iommu_ctx_update(static_cast<ims_iommu *>(a), tag, w, c, s);
	};
	sink.ctx_flush = [](void *a, uint16_t tag) {
		return ims_iommu_ctx_invalidate(static_cast<ims_iommu *>(a), tag);
	};

	ims_pt_cfg pc{};
	pc.fmt = IMS_FMT_AMDV1;
	pc.tag = kTag;
	pc.levels = 4;
	pc.dirty_tracking = true;
	char err[128] = "";
	ims_pt *raw_pt = nullptr;
	check(ims_pt_new(mem.get(), &pc, &sink, &raw_pt, err, sizeof(err)) == 0, "ims_pt_new");
	std::unique_ptr<ims_pt, pt_del> pt(raw_pt);
	if (!pt)
		return 1;
	uint64_t words[IMS_CTX_WORDS] = {};
	ims_pt_ctx_words(pt.get(), words);
	check(ims_iommu_ctx_set(mmu.get(), kTag, IMS_FMT_AMDV1, words, err, sizeof(err)) == 0,
	      "ims_iommu_ctx_set");
	check(ims_iommu_attach(mmu.get(), kDev, kTag) == 0, "ims_iommu_attach");

	check(ims_pt_map(pt.get(), kIova, kPa, kSize, IMS_PROT_RW, 0x1000) == 0, "ims_pt_map");
	uint64_t pa = 0;
	unsigned prot = 0;
	check(ims_pt_iova_to_phys(pt.get(), kIova + 0x3456, &pa, &prot) == 0 && pa == kPa + 0x3456 &&
		      prot == IMS_PROT_RW, "ims_pt_iova_to_phys");
	check(ims_pt_set_dirty_tracking(pt.get(), true) == 0, "ims_pt_set_dirty_tracking");

	// A 4 KiB write straddling pages 3 and 4 of the mapping.
	uint64_t pieces = 0;
	check(ims_iommu_dma(mmu.get(), kDev, kIova + 0x3800, 0x1000, IMS_ACC_W, &pieces) == 0,
	      "the DMA does not fault");
	check(pieces == 2, "the DMA is two pieces");
	check(ims_iommu_counters(mmu.get())->dirty_sets > 0, "the model set dirty bits");

	// A DMA outside the mapping faults.
	check(ims_iommu_dma(mmu.get(), kDev, kIova + kSize, 8, IMS_ACC_W, nullptr) == 1,
	      "a DMA past the mapping faults");
	ims_fault fault{};
	check(ims_iommu_fault_pop(mmu.get(), &fault) && fault.kind == IMS_FAULT_NOTPRESENT,
	      "the fault is not-present");

	ims_bitmap got{}, want{};
	check(ims_bitmap_init(&got, kIova, kSize, IMS_PAGE_SHIFT) == 0, "ims_bitmap_init");
	check(ims_bitmap_init(&want, kIova, kSize, IMS_PAGE_SHIFT) == 0, "ims_bitmap_init");
	check(ims_pt_read_and_clear_dirty(pt.get(), kIova, kSize, 0, &got) == 0, "harvest");
	ims_oracle_expected(ims_iommu_oracle(mmu.get()), kTag, want.iova, want.length, want.pgshift,
			    want.words);
	ims_bitmap_diff diff{};
	check(ims_bitmap_compare(&want, &got, &diff), "the harvest matches the oracle");
	check(hex_of(got) == "18", "pages 3 and 4 are dirty");

	// Cleared by the harvest: the next one reports nothing.
	ims_bitmap_zero(&got);
	check(ims_pt_read_and_clear_dirty(pt.get(), kIova, kSize, 0, &got) == 0, "second harvest");
	check(hex_of(got) == "0", "the second harvest is empty");
	ims_bitmap_fini(&got);
	ims_bitmap_fini(&want);

	uint64_t unmapped = 0;
	check(ims_pt_unmap(pt.get(), kIova, kSize, &unmapped) == 0 && unmapped == kSize, "ims_pt_unmap");
	pt.reset();
	check(ims_mem_counters(mem.get())->pool_frames == 0, "every table frame is freed");

	std::printf("example.cpp: %s, %s\n", ims_version(), failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
