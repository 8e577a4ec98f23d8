"""replay(): a trace through the model, a walker and the oracle
(iommusim/replay.h), as `iommusim replay` does for one trace."""
import json as _json
import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from ._core import Error, Failure, _configure, _errbuf, _ERRLEN, _fsencode, _Sink, _stats, _str, _walker
from ._iommusim import ffi, lib


@dataclass
class ReplayResult:
    path: str
    walker: str
    stats: dict          # the counters (struct ims_replay_stats) by name
    json: str            # the replay's JSON object (`summary` in `iommusim replay --json`)
    failures: List[Failure] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        return _json.loads(self.json)

    @property
    def passed(self) -> bool:
        """Every harvest matched and every expectation held (exit status 0)."""
        return self.stats["validation_failures"] == 0


def replay(path, walker=None, config=None, plugin=None, settings=None,
           on_failure: Optional[Callable[[Failure], None]] = None) -> ReplayResult:
    """Replay the trace at path (text, gzip or binary). walker, plugin,
    config and settings as for Testbench. A trace's `# replay-args:` line is
    the command's to read, not this function's: pass its options here.

    Validation failures are returned (and passed to on_failure as they
    happen); an input error in the trace raises Error with its
    "FILE:LINE:COL: what was expected" message.
    """
    sink = _Sink(on_failure)
    handle = ffi.new_handle(sink)
    opts = ffi.new("struct ims_replay_opts *")
    lib.ims_replay_opts_default(opts)
    _configure(ffi.addressof(opts[0], "model"), config, settings)
    opts.verbosity = 0
    opts.walker, plug = _walker(walker, plugin)
    rd = r = None
    try:
        if plug is not None:
            opts.plugin = plug.ops
        name = plug.name if plug else _str(lib.ims_pt_walker_name(opts.walker))
        rdp = ffi.new("struct ims_reader **")
        err = _errbuf()
        rc = lib.ims_reader_open(_fsencode(path), rdp, err, _ERRLEN)
        if rc:
            raise Error(_str(err), -rc)
        rd = rdp[0]
        rp = ffi.new("struct ims_replay **")
        rc = lib.ims_replay_new(opts, rp)
        if rc:
            raise Error("ims_replay_new: %s" % os.strerror(-rc), -rc)
        r = rp[0]
        lib.ims_tb_set_failure_cb(lib.ims_replay_tb(r), lib.ims_py_on_failure, handle)
        rc = lib.ims_replay_run(r, rd)
        sink.take_pending()
        if rc:
            raise Error(_str(lib.ims_replay_error(r)), -rc)
        js = lib.ims_py_replay_json(r)
        if js == ffi.NULL:
            raise MemoryError("the replay's JSON")
        try:
            text = _str(js)
        finally:
            lib.ims_py_free(js)
        return ReplayResult(path=os.fspath(path), walker=name, stats=_stats(lib.ims_replay_stats(r)),
                            json=text, failures=sink.failures)
    finally:
        if rd is not None:
            lib.ims_reader_close(rd)
        if r is not None:
            lib.ims_replay_free(r)
        if plug is not None:
            plug.unload()
