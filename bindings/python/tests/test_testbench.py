"""iommusim.Testbench against the formats' facts: a write to a 4 KiB page
dirties that page, a write into a 2 MiB leaf dirties its 512 pages, a
harvest cleans what it reports. Expected values come from those facts and
from the addresses the test chose, not from the model's answers."""
import errno

import pytest

import iommusim
from iommusim import Error, FailureKind, Testbench

TAG = 7
DEV = 0x0100
IOVA = 0x40000000
PA = 0x80000000
K4 = 0x1000
M2 = 0x200000


def make_domain(tb, fmt, size=0x10000, pgsize=K4):
    tb.domain(TAG, fmt, dirty=True)
    tb.attach(DEV, TAG)
    tb.map(TAG, IOVA, PA, size, "rw", pgsize)
    tb.track(TAG)


@pytest.mark.parametrize("fmt", iommusim.FORMATS)
def test_dma_results_and_harvest_bits(fmt):
    with Testbench() as tb:
        make_domain(tb, fmt)
        acc = tb.dma(DEV, IOVA + 0x800, 0x2000)
        # [0x800, 0x1000), [0x1000, 0x2000), [0x2000, 0x2800)
        assert [(a.iova - IOVA, a.len) for a in acc] == [(0x800, 0x800), (0x1000, 0x1000),
                                                         (0x2000, 0x800)]
        for a in acc:
            assert a.fault is None
            assert a.pa == PA + (a.iova - IOVA)
            assert a.dirty_set and not a.iotlb_hit
            assert a.leaf_shift == 12 and a.leaf_iova == a.iova & ~0xfff
            assert a.cycles > 0
        # Same page again: from the IOTLB, dirty already.
        (again,) = tb.dma(DEV, IOVA + 0x10, 8)
        assert again.iotlb_hit and not again.dirty_set and not again.accessed_set

        bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
        assert bits.bits == 0b111
        assert bits.iovas() == [IOVA, IOVA + K4, IOVA + 2 * K4]
        assert (bits.iova, bits.pgsize, bits.nbits) == (IOVA, K4, 16)
        assert verdict.match and verdict.expected_bits == 3 and verdict.got_bits == 3
        assert verdict.first_under_iova is None and verdict.first_over_iova is None
        # Cleaned: nothing the second time.
        bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
        assert bits.bits == 0 and verdict.match
        assert tb.failures == []
        st = tb.stats
        assert st["harvests"] == 2 and st["dma_pages"] == 4 and st["dma_ops"] == 2
        assert st["validation_failures"] == 0


@pytest.mark.parametrize("fmt", iommusim.FORMATS)
def test_write_into_2m_leaf_dirties_512_pages(fmt):
    with Testbench() as tb:
        make_domain(tb, fmt, size=M2, pgsize=M2)
        (a,) = tb.dma(DEV, IOVA + 0x12345, 4)
        assert a.leaf_shift == 21 and a.leaf_iova == IOVA and a.pa == PA + 0x12345
        bits, verdict = tb.harvest(TAG, IOVA, M2, clear=False)
        assert bits.bits == (1 << 512) - 1 and bits.count() == 512
        assert verdict.match and verdict.expected_bits == 512
        # One bit per 2 MiB.
        bits, verdict = tb.harvest(TAG, IOVA, M2, pgsize=M2)
        assert (bits.bits, bits.nbits, bits.pgsize) == (1, 1, M2) and verdict.match
        assert tb.stats["harvests_noclear"] == 1


@pytest.mark.parametrize("fmt", iommusim.FORMATS)
def test_leaf_read_back_dirty_then_clean(fmt):
    with Testbench() as tb:
        make_domain(tb, fmt)
        lf = tb.leaf(TAG, IOVA + K4)
        assert lf is not None and not lf.dirty and lf.writable and lf.readable
        assert (lf.leaf_iova, lf.leaf_shift, lf.pa, lf.level) == (IOVA + K4, 12, PA + K4, 0)
        tb.dma(DEV, IOVA + K4 + 8, 8)
        assert tb.leaf(TAG, IOVA + K4).dirty
        assert not tb.leaf(TAG, IOVA + 2 * K4).dirty
        tb.harvest(TAG, IOVA, 0x10000)
        lf = tb.leaf(TAG, IOVA + K4)
        assert not lf.dirty and lf.pte_pa == lf.first_pa and lf.nentries == 1
        assert tb.leaf(TAG, IOVA + 0x100000) is None


def test_fault_per_access():
    with Testbench() as tb:
        make_domain(tb, "amdv1")
        acc = tb.dma(DEV, IOVA + 0xf000, 0x2000, write=False)  # the last page, then unmapped
        assert [a.fault for a in acc] == [None, "notpresent"]
        assert acc[1].pa is None and acc[0].pa == PA + 0xf000
        assert tb.stats["faults"] == 1


def test_seeded_bug_walker_failure_record():
    """bug3-no-flush cleans without invalidating the IOTLB: the second
    write to the page hits a cached dirty translation and sets nothing, so
    the second harvest misses that page."""
    seen = []
    with Testbench(walker="bug3-no-flush", on_failure=seen.append) as tb:
        assert tb.walker == "bug3-no-flush"
        tb.set_where("round", 2)
        make_domain(tb, "amdv1")
        tb.dma(DEV, IOVA + 0x3000, 4)
        bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
        assert verdict.match and bits.bits == 1 << 3
        tb.dma(DEV, IOVA + 0x3000, 4)
        bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
        assert not verdict.match and bits.bits == 0
        assert (verdict.under, verdict.over) == (1, 0)
        assert verdict.first_under_iova == IOVA + 0x3000
        assert seen == tb.failures and len(seen) == 1
        f = seen[0]
        assert f.kind == FailureKind.DIRTY_READ
        assert (f.domain, f.under, f.first_under_iova) == (TAG, 1, IOVA + 0x3000)
        assert (f.file, f.line) == ("round", 2)
        assert "differs from the oracle" in f.message
        assert f.expected.bits == 1 << 3 and f.got.bits == 0 and f.expected.iova == IOVA
        assert tb.stats["validation_failures"] == 1


def test_same_sequence_correct_walker_passes():
    with Testbench() as tb:
        make_domain(tb, "amdv1")
        for _ in range(2):
            tb.dma(DEV, IOVA + 0x3000, 4)
            bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
            assert verdict.match and bits.bits == 1 << 3
        assert tb.failures == []


def test_lost_update_with_injection():
    """bug4-nonatomic cleans an AMD v1 replica run by load and store; a
    device write landing between them on the run's other entry is undone."""
    with Testbench(walker="bug4-nonatomic") as tb:
        make_domain(tb, "amdv1")
        run = IOVA + 0x10000
        tb.map(TAG, run, PA + 0x10000, 0x2000, "rw", 0x2000)
        for at in range(1, 64):
            tb.dma(DEV, run, 4)
            tb.flush(TAG)
            tb.inject(at, DEV, run + K4)
            tb.harvest(TAG, run, 0x2000)
            if tb.failures:
                break
        kinds = {f.kind for f in tb.failures}
        assert FailureKind.LOST_UPDATE in kinds
        assert any("lost hardware update" in f.message for f in tb.failures)
        assert tb.stats["inject_fired"] >= 1


def test_callback_exception_raised_after_the_call():
    def boom(f):
        raise RuntimeError("from the callback: %s" % f.kind.name)

    with Testbench(walker="bug3-no-flush", on_failure=boom) as tb:
        make_domain(tb, "vtd")
        tb.dma(DEV, IOVA, 4)
        tb.harvest(TAG, IOVA, 0x10000)
        tb.dma(DEV, IOVA, 4)
        with pytest.raises(RuntimeError, match="from the callback: DIRTY_READ"):
            tb.harvest(TAG, IOVA, 0x10000)
        # The record was kept, and the testbench goes on.
        assert len(tb.failures) == 1
        bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
        assert verdict.match and bits.bits == 0


def test_input_errors_carry_the_message():
    with Testbench() as tb:
        make_domain(tb, "smmuv3")
        with pytest.raises(Error) as e:
            tb.map(TAG, 0x1001, 0, K4)
        assert str(e.value) == "iova=0x1001 is not aligned to the smallest leaf size (0x1000)"
        assert e.value.errno == errno.EINVAL and isinstance(e.value, ValueError)
        with pytest.raises(Error, match="^domain 9 is not defined$"):
            tb.map(9, 0, 0, K4)
        with pytest.raises(Error, match="not a power of two"):
            tb.harvest(TAG, 0, K4, pgsize=3)
        with pytest.raises(Error):
            tb.domain(TAG, "smmuv3")  # the tag is taken
        with pytest.raises(Error):
            tb.detach(0x9999)
        with pytest.raises(Error, match="unknown format 'x86'"):
            tb.domain(8, "x86")
        with pytest.raises(Error, match="prot='x'"):
            tb.map(TAG, IOVA + 0x100000, PA, K4, prot="x")
        with pytest.raises(Error, match="^domain 9 has no valid context$"):
            tb.leaf(9, 0)
        assert tb.failures == []
    with pytest.raises(Error, match="unknown walker 'nope'.*bug3-no-flush"):
        Testbench(walker="nope")
    with pytest.raises(Error, match="unknown key"):
        Testbench(settings={"iotlb.entires": 8})


def test_model_settings_and_config(tmp_path):
    cfg = tmp_path / "model.yaml"
    cfg.write_text("iotlb:\n  entries: 0\n")
    with Testbench(config=cfg) as tb:
        make_domain(tb, "amdv1")
        tb.dma(DEV, IOVA, 4)
        (a,) = tb.dma(DEV, IOVA, 4)
        assert not a.iotlb_hit  # no IOTLB
    with Testbench(settings={"iotlb.entries": 0}) as tb:
        make_domain(tb, "amdv1")
        tb.dma(DEV, IOVA, 4)
        (a,) = tb.dma(DEV, IOVA, 4)
        assert not a.iotlb_hit
    with pytest.raises(Error, match="nope.yaml"):
        Testbench(config=tmp_path / "nope.yaml")


def test_unmap_read_dirty_and_lost():
    with Testbench() as tb:
        make_domain(tb, "amdv1")
        tb.dma(DEV, IOVA, 0x2000)
        bits = tb.unmap(TAG, IOVA, K4, read_dirty=True)
        assert bits.bits == 1 and bits.nbits == 1
        assert tb.unmap(TAG, IOVA + K4, K4) is None
        st = tb.stats
        assert st["lost_on_unmap"] == 1 and st["unmaps"] == 2
        assert tb.failures == []


def test_plugin_walker(plugin_ok):
    with Testbench(plugin=plugin_ok) as tb:
        assert tb.walker == "test-plugin"
        make_domain(tb, "amdv1")
        tb.dma(DEV, IOVA + K4, 4)
        bits, verdict = tb.harvest(TAG, IOVA, 0x10000)
        # It reports all 16 pages; one was written.
        assert bits.bits == 0xffff
        assert (verdict.under, verdict.over, verdict.first_over_iova) == (0, 15, IOVA)
        assert [f.kind for f in tb.failures] == [FailureKind.DIRTY_READ]
    with pytest.raises(Error, match="no-such-plugin.so"):
        Testbench(plugin="/no-such-plugin.so")
    with pytest.raises(Error, match="not both"):
        Testbench(walker="fast", plugin=plugin_ok)


def test_closed_testbench_refuses():
    tb = Testbench()
    tb.close()
    tb.close()
    with pytest.raises(Error, match="closed"):
        tb.domain(1)


def test_module_names():
    assert iommusim.FORMATS == ("amdv1", "vtd", "smmuv3", "vtd-fs", "amdv2", "smmuv3-s2")
    w = iommusim.walkers()
    assert "fast" in w and "bug3-no-flush" in w and w["bug3-no-flush"]
    assert iommusim.version() == iommusim.__version__
