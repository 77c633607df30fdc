"""Work around PySide6 6.12 reference-count bugs on Python < 3.12.

Some PySide6 6.12 calls return singletons without taking a reference: ``SignalInstance.emit()``
returns ``True``/``False`` (measured: every emit from Python drops one reference; after a few hundred
emits CPython 3.11 aborts with "Fatal Python error: bool_dealloc"), and QPainter calls made by
pyqtgraph's axis drawing do the same to ``None`` ("none_dealloc"). Python 3.12 made these objects
immortal; here we do the same by giving them an enormous reference count (2**40 of head room).
"""
from __future__ import annotations

import sys

_APPLIED = False


def make_bools_immortal() -> None:
    global _APPLIED
    if _APPLIED or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    for obj in (True, False, None, NotImplemented, Ellipsis):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40  # ob_refcnt is the first field
    _APPLIED = True
