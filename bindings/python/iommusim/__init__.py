"""iommusim: the testbench API and trace replay of libiommusim for Python.

    import iommusim
    with iommusim.Testbench() as tb:
        tb.domain(1, "vtd", dirty=True)
        ...

Testbench wraps iommusim/tb.h, replay() iommusim/replay.h; both report
validation failures as Failure records and refuse bad input with Error
(a ValueError) carrying the library's message. bindings/python/README.md.
"""
from ._core import Bitmap, Error, Failure, FailureKind, Verdict, walkers, _format_names, _str
from ._iommusim import lib as _lib
from .replay import ReplayResult, replay
from .testbench import Access, Harvest, Leaf, Testbench

__all__ = ["Access", "Bitmap", "Error", "Failure", "FailureKind", "Harvest", "Leaf",
           "ReplayResult", "Testbench", "Verdict", "FORMATS", "replay", "version", "walkers"]

#: The page-table formats by name (Testbench.domain's fmt).
FORMATS = tuple(_format_names())


def version() -> str:
    """The version of the libiommusim linked in (IMS_VERSION_STRING)."""
    return _str(_lib.ims_version())


__version__ = version()
