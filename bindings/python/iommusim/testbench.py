"""class Testbench: iommusim/tb.h for Python."""
import errno as _errno
import os
from dataclasses import dataclass
from typing import Callable, List, NamedTuple, Optional

from ._core import (Bitmap, Error, Failure, Verdict, _bitmap, _configure, _format, _Sink, _stats,
                    _str, _verdict, _walker)
from ._iommusim import ffi, lib

_PROTS = {"r": lib.IMS_PROT_R, "w": lib.IMS_PROT_W, "rw": lib.IMS_PROT_RW, "wr": lib.IMS_PROT_RW}
_PAGE_SHIFT = lib.IMS_PAGE_SHIFT


@dataclass(frozen=True)
class Access:
    """One access of a DMA: its piece inside one 4 KiB page."""
    iova: int
    len: int
    pa: Optional[int]      # None when it faulted
    fault: Optional[str]   # None, or the fault kind: notpresent, perm, access, unattached
    code: int              # the format's fault code
    iotlb_hit: bool
    accessed_set: bool     # this access set the leaf's accessed flag
    dirty_set: bool        # this access set dirty state in memory
    leaf_iova: int         # the page (leaf, replica run, contiguous group) used
    leaf_shift: int
    cycles: int


@dataclass(frozen=True)
class Leaf:
    """The leaf that maps an IOVA, as the hardware decodes it (struct ims_leaf)."""
    level: int
    pte_pa: int
    pte: int
    first_pa: int
    nentries: int
    leaf_iova: int
    leaf_shift: int
    pa: int
    accessed: bool
    dirty: bool
    readable: bool
    writable: bool


class Harvest(NamedTuple):
    bits: Bitmap
    verdict: Verdict


def _prot(prot) -> int:
    if isinstance(prot, int):
        return prot
    try:
        return _PROTS[str(prot).lower()]
    except KeyError:
        raise Error("prot=%r: expected 'r', 'w' or 'rw'" % (prot,)) from None


def _granule_shift(granule) -> int:
    if not granule:
        return 0
    if granule < 0 or granule & (granule - 1):
        raise Error("granule=%#x is not a power of two" % granule)
    return granule.bit_length() - 1


def _pgsizes(pgsizes) -> int:
    if isinstance(pgsizes, int):
        return pgsizes
    mask = 0
    for size in pgsizes:
        if size <= 0 or size & (size - 1):
            raise Error("pgsizes: %#x is not a power of two" % size)
        mask |= size
    return mask


def _pieces(iova, length) -> int:
    """How many 4 KiB page pieces a DMA has (0 when it wraps: the C call
    refuses it)."""
    if not length or iova + length > 1 << 64:
        return 0
    return ((iova + length - 1) >> _PAGE_SHIFT) - (iova >> _PAGE_SHIFT) + 1


class Testbench:
    """A simulation: the model, a software page table per domain (a built-in
    walker or a plug-in) and the dirty oracle (iommusim/tb.h).

    config: a model configuration file (YAML, docs/timing.md); settings: a
    dict of model keys (`iommusim help config`) applied after it; walker: a
    built-in walker's name (iommusim.walkers()); plugin: the path of a walker
    plug-in instead; on_failure: called with each Failure as it happens
    (every failure is also appended to .failures). An exception raised by
    on_failure is raised by the call that caused the failure, after it ran.
    """

    # Its name starts with "Test": pytest would try to collect it from every
    # test module that imports it.
    __test__ = False

    def __init__(self, config=None, walker=None, plugin=None,
                 on_failure: Optional[Callable[[Failure], None]] = None, settings=None):
        self._tb = None
        self._plugin = None
        self._where = None
        self._sink = _Sink(on_failure)
        self._handle = ffi.new_handle(self._sink)
        opts = ffi.new("struct ims_tb_opts *")
        lib.ims_tb_opts_default(opts)
        _configure(ffi.addressof(opts[0], "model"), config, settings)
        opts.walker, self._plugin = _walker(walker, plugin)
        if self._plugin is not None:
            opts.plugin = self._plugin.ops
        opts.verbosity = 0
        opts.on_failure = lib.ims_py_on_failure
        opts.on_failure_arg = self._handle
        out = ffi.new("struct ims_tb **")
        rc = lib.ims_tb_new(opts, out)
        if rc:
            self.close()
            raise Error("ims_tb_new: %s" % os.strerror(-rc), -rc)
        self._tb = out[0]
        self.walker = self._plugin.name if self._plugin else _str(lib.ims_pt_walker_name(opts.walker))

    # -- lifetime -------------------------------------------------------

    def close(self):
        """Free the simulation (and unload the plug-in). Idempotent."""
        if self._tb is not None:
            lib.ims_tb_free(self._tb)
            self._tb = None
        if self._plugin is not None:
            self._plugin.unload()
            self._plugin = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at interpreter exit the module may be gone
            pass

    def _live(self):
        if self._tb is None:
            raise Error("the testbench is closed")
        return self._tb

    def _done(self, rc, what=None):
        """After a C call: a callback's exception first, then the call's
        own error."""
        self._sink.take_pending()
        if rc < 0:
            # The library's message when it gave one (each call clears it).
            msg = _str(lib.ims_tb_error(self._tb)) or what or os.strerror(-rc)
            raise Error(msg, -rc)
        return rc

    # -- failures and counters -------------------------------------------

    @property
    def failures(self) -> List[Failure]:
        """Every validation failure so far, oldest first (a live list)."""
        return self._sink.failures

    @property
    def stats(self) -> dict:
        """The counters (struct ims_replay_stats) by name."""
        return _stats(lib.ims_tb_stats(self._live()))

    def set_where(self, file: Optional[str], line: int = 0):
        """Name and number that later failure records carry as file and line
        (a test's name and the simulation time, say)."""
        tb = self._live()
        self._where = ffi.new("char[]", file.encode()) if file is not None else None
        lib.ims_tb_set_where(tb, self._where if self._where is not None else ffi.NULL, line)

    # -- the software side ----------------------------------------------

    def domain(self, tag: int, fmt: str = "amdv1", levels: int = 0, granule: int = 0,
               ias: int = 0, pgsizes=0, dirty: bool = False):
        """A software domain with hardware tag `tag` (AMD DomainID, VT-d DID,
        SMMU ASID). granule in bytes (SMMUv3: 4K, 16K, 64K); pgsizes a mask
        (bit n: 2^n) or a list of sizes; dirty: allocated for dirty tracking."""
        cfg = ffi.new("struct ims_tb_domain_cfg *")
        cfg.fmt = _format(fmt)
        cfg.levels = levels
        cfg.granule_shift = _granule_shift(granule)
        cfg.ias = ias
        cfg.pgsizes = _pgsizes(pgsizes)
        cfg.dirty = dirty
        self._done(lib.ims_tb_domain(self._live(), tag, cfg))

    def attach(self, dev: int, tag: int):
        self._done(lib.ims_tb_attach(self._live(), dev, tag))

    def detach(self, dev: int):
        self._done(lib.ims_tb_detach(self._live(), dev))

    def map(self, tag: int, iova: int, pa: int, size: int, prot="rw", pgsize: int = 0):
        """Map [iova, iova + size) to pa; pgsize 0 lets the walker choose."""
        self._done(lib.ims_tb_map(self._live(), tag, iova, pa, size, _prot(prot), pgsize))

    def unmap(self, tag: int, iova: int, size: int, read_dirty: bool = False,
              pgsize: int = 0) -> Optional[Bitmap]:
        """Unmap whole leaves. read_dirty: read and clear dirty state as it
        unmaps (tracking on) and return it, one bit per pgsize (0: the
        domain's smallest leaf), checked against the oracle."""
        tb = self._live()
        if not read_dirty:
            self._done(lib.ims_tb_unmap(tb, tag, iova, size, pgsize, ffi.NULL))
            return None
        bm = ffi.new("struct ims_bitmap *")
        rc = lib.ims_tb_unmap(tb, tag, iova, size, pgsize, bm)
        if rc == 0:
            try:
                out = _bitmap(bm)
            finally:
                lib.ims_bitmap_fini(bm)
        self._done(rc)
        return out

    def track(self, tag: int, on: bool = True):
        """set_dirty_tracking; on starts a new session."""
        self._done(lib.ims_tb_track(self._live(), tag, on))

    def flush(self, tag: int, iova: int = 0, size: int = 0):
        """Invalidate the domain's IOTLB entries for the range (size 0: all)."""
        self._done(lib.ims_tb_flush(self._live(), tag, iova, size))

    def harvest(self, tag: int, iova: int, size: int, pgsize: int = 0,
                clear: bool = True) -> Harvest:
        """read_and_clear_dirty over [iova, iova + size), one bit per pgsize
        (0: 4 KiB), compared with the oracle bit for bit: (bits, verdict). A
        mismatch is a Failure as well; it raises nothing."""
        tb = self._live()
        bm = ffi.new("struct ims_bitmap *")
        v = ffi.new("struct ims_tb_verdict *")
        flags = 0 if clear else lib.IMS_DIRTY_NO_CLEAR
        rc = lib.ims_tb_harvest(tb, tag, iova, size, pgsize, flags, bm, v)
        if rc == 0:
            try:
                out = Harvest(_bitmap(bm), _verdict(v))
            finally:
                lib.ims_bitmap_fini(bm)
        self._done(rc)
        return out

    # -- the hardware side ----------------------------------------------

    def dma(self, dev: int, iova: int, length: int, write: bool = True) -> List[Access]:
        """A DMA by device dev as the hardware does it: each 4 KiB piece's
        result, in order."""
        tb = self._live()
        n = _pieces(iova, length)
        acc = ffi.new("struct ims_tb_access[]", n) if n else ffi.NULL
        npieces = ffi.new("uint64_t *")
        direction = lib.IMS_ACC_W if write else lib.IMS_ACC_R
        rc = lib.ims_tb_dma(tb, dev, iova, length, direction, acc, n, npieces)
        self._done(rc)
        out = []
        for i in range(min(n, npieces[0])):
            a = acc[i]
            out.append(Access(iova=a.iova, len=a.len, pa=None if a.fault else a.pa,
                              fault=_str(lib.ims_fault_kind_name(a.fault)) if a.fault else None,
                              code=a.code, iotlb_hit=bool(a.iotlb_hit),
                              accessed_set=bool(a.accessed_set), dirty_set=bool(a.dirty_set),
                              leaf_iova=a.leaf_iova, leaf_shift=a.leaf_shift, cycles=a.cycles))
        return out

    def leaf(self, tag: int, iova: int) -> Optional[Leaf]:
        """The leaf that maps iova in domain tag, read back from memory with
        no side effect; None when no leaf maps it."""
        lf = ffi.new("struct ims_leaf *")
        rc = lib.ims_tb_leaf(self._live(), tag, iova, lf)
        if rc > 0:
            return None
        self._done(rc, "domain %d has no context the hardware can use" % tag)
        return Leaf(level=lf.level, pte_pa=lf.pte_pa, pte=lf.pte, first_pa=lf.first_pa,
                    nentries=lf.nentries, leaf_iova=lf.leaf_iova, leaf_shift=lf.leaf_shift,
                    pa=lf.pa, accessed=bool(lf.accessed), dirty=bool(lf.dirty),
                    readable=bool(lf.readable), writable=bool(lf.writable))

    def inject(self, at: int, dev: int, iova: int):
        """The next software op gets a one-byte write by dev at iova after
        its at-th memory access (1: the first)."""
        self._done(lib.ims_tb_inject(self._live(), at, dev, iova))
