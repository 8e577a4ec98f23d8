"""What the testbench and the replay share: errors, result types, the model
configuration, walker choice and the failure callback."""
import enum
import errno as _errno
import os
from dataclasses import dataclass
from typing import Callable, List, Optional

from ._iommusim import ffi, lib

_ERRLEN = 1024


class Error(ValueError):
    """A call the library refused: the message says which argument and what
    was expected (ims_tb_error, ims_replay_error, or the loader's reason);
    errno is the positive errno of the refusal."""

    def __init__(self, message, errno=_errno.EINVAL):
        super().__init__(message)
        self.errno = errno


def _str(p):
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else None


def _errbuf():
    return ffi.new("char[]", _ERRLEN)


class FailureKind(enum.IntEnum):
    """enum ims_tb_failure_kind."""
    DIRTY_READ = lib.IMS_TB_FAIL_DIRTY_READ
    EXPECT = lib.IMS_TB_FAIL_EXPECT
    LOST_UPDATE = lib.IMS_TB_FAIL_LOST_UPDATE
    WALKER = lib.IMS_TB_FAIL_WALKER


@dataclass(frozen=True)
class Bitmap:
    """A dirty bitmap: bit k of `bits` is the page at iova + k * pgsize."""
    iova: int
    pgsize: int
    nbits: int
    bits: int

    def test(self, k: int) -> bool:
        return bool(self.bits >> k & 1)

    def count(self) -> int:
        return bin(self.bits).count("1")

    def iovas(self) -> List[int]:
        """The IOVA of every page whose bit is set, in order."""
        out, b, k = [], self.bits, 0
        while b:
            low = (b & -b).bit_length() - 1
            k += low
            out.append(self.iova + k * self.pgsize)
            b >>= low + 1
            k += 1
        return out

    def __int__(self):
        return self.bits


def _bitmap(bm) -> Optional[Bitmap]:
    if bm == ffi.NULL:
        return None
    raw = bytes(ffi.buffer(bm.words, bm.nwords * 8)) if bm.nwords else b""
    return Bitmap(iova=bm.iova, pgsize=1 << bm.pgshift, nbits=bm.nbits,
                  bits=int.from_bytes(raw, "little"))


@dataclass(frozen=True)
class Verdict:
    """What one harvest (or read-dirty unmap) found against the oracle."""
    match: bool
    expected_bits: int
    got_bits: int
    under: int                        # bits the oracle expected, not reported
    over: int                         # bits reported, not expected
    first_under_iova: Optional[int]   # None when under == 0
    first_over_iova: Optional[int]    # None when over == 0


def _verdict(v) -> Verdict:
    return Verdict(match=bool(v.match), expected_bits=v.expected_bits, got_bits=v.got_bits,
                   under=v.under, over=v.over,
                   first_under_iova=v.first_under_iova if v.under else None,
                   first_over_iova=v.first_over_iova if v.over else None)


@dataclass(frozen=True)
class Failure:
    """One validation failure (struct ims_tb_failure). The dirty-read fields
    are zero / None for the other kinds."""
    kind: FailureKind
    file: Optional[str]   # the trace, or Testbench.set_where's name
    line: int
    message: str
    domain: int
    expected: Optional[Bitmap]
    got: Optional[Bitmap]
    expected_bits: int
    got_bits: int
    under: int
    over: int
    first_under_iova: Optional[int]
    first_over_iova: Optional[int]


def _failure(f) -> Failure:
    try:
        kind = FailureKind(f.kind)
    except ValueError:
        kind = int(f.kind)  # a kind newer than this package
    return Failure(kind=kind, file=_str(f.file), line=f.line, message=_str(f.message) or "",
                   domain=f.domain, expected=_bitmap(f.expected), got=_bitmap(f.got),
                   expected_bits=f.expected_bits, got_bits=f.got_bits, under=f.under,
                   over=f.over, first_under_iova=f.first_under_iova if f.under else None,
                   first_over_iova=f.first_over_iova if f.over else None)


class _Sink:
    """Where the C callback delivers failures. An exception raised while
    handling one (the user's callback) cannot cross the C frames: it is kept
    and raised when the C call returns (take_pending)."""

    def __init__(self, on_failure: Optional[Callable[[Failure], None]]):
        self.failures: List[Failure] = []
        self.on_failure = on_failure
        self.pending: Optional[BaseException] = None

    def deliver(self, f):
        try:
            rec = _failure(f)
            self.failures.append(rec)
            if self.on_failure is not None:
                self.on_failure(rec)
        except BaseException as e:  # noqa: B902 - re-raised by take_pending
            if self.pending is None:
                self.pending = e

    def take_pending(self):
        e, self.pending = self.pending, None
        if e is not None:
            raise e


@ffi.def_extern()
def ims_py_on_failure(arg, f):
    ffi.from_handle(arg).deliver(f)


def _fsencode(path) -> bytes:
    return os.fsencode(os.fspath(path))


def _setting_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _configure(cfg, config, settings):
    """Model configuration into *cfg (already the defaults): the YAML file,
    then each key of settings (ims_iommu_cfg_set), in order."""
    if config is not None:
        err = _errbuf()
        rc = lib.ims_iommu_cfg_load(cfg, _fsencode(config), err, _ERRLEN)
        if rc:
            raise Error(_str(err), -rc)
    for key, value in (settings or {}).items():
        err = _errbuf()
        rc = lib.ims_iommu_cfg_set(cfg, str(key).encode(), _setting_text(value).encode(),
                                   err, _ERRLEN)
        if rc:
            raise Error(_str(err), -rc)


def walkers() -> dict:
    """The built-in walkers: name -> what it is (the seeded bugs say theirs)."""
    return {_str(lib.ims_pt_walker_name(i)): _str(lib.ims_pt_walker_what(i))
            for i in range(lib.ims_pt_walker_count())}


def _walker_index(name) -> int:
    if name is None:
        return 0
    out = ffi.new("unsigned *")
    if lib.ims_pt_walker_parse(str(name).encode(), out):
        raise Error("unknown walker %r (built in: %s)" % (name, ", ".join(walkers())))
    return out[0]


class _Plugin:
    """A walker plug-in (a shared object of the walker ABI), loaded for as
    long as the testbench or replay that uses it."""

    def __init__(self, path):
        out = ffi.new("struct ims_walker_plugin **")
        err = _errbuf()
        rc = lib.ims_walker_plugin_load(_fsencode(path), out, err, _ERRLEN)
        if rc:
            raise Error(_str(err), -rc)
        self._p = out[0]
        self.ops = lib.ims_walker_plugin_ops(self._p)
        self.name = _str(self.ops.name)

    def unload(self):
        if self._p is not None:
            lib.ims_walker_plugin_unload(self._p)
            self._p = None


def _walker(walker, plugin):
    """(built-in index, plug-in or None) for the walker arguments."""
    if walker is not None and plugin is not None:
        raise Error("give walker or plugin, not both")
    if plugin is not None:
        return 0, _Plugin(plugin)
    return _walker_index(walker), None


def _stats(s) -> dict:
    return {name: getattr(s, name) for name, _ in ffi.typeof("struct ims_replay_stats").fields}


def _format_names():
    # A value below IMS_FMT_COUNT may name no format ("?").
    names = (_str(lib.ims_format_name(i)) for i in range(lib.IMS_FMT_COUNT))
    return [n for n in names if n != "?"]


def _format(fmt) -> int:
    b = str(fmt).encode()
    out = ffi.new("enum ims_format *")
    if lib.ims_format_parse(b, len(b), out):
        raise Error("unknown format %r (one of %s)" % (fmt, ", ".join(_format_names())))
    return out[0]
