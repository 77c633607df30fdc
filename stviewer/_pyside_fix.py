"""Work around PySide6 6.12 reference-count bugs on Python < 3.12, only where they exist.

Some PySide6 6.12 calls return singletons without taking a reference: ``SignalInstance.emit()``
returns ``True``/``False`` (measured with 6.12.0 on CPython 3.11: every emit from Python drops one
reference; after a few hundred emits the interpreter aborts with "Fatal Python error: bool_dealloc"),
and QPainter calls made by pyqtgraph's axis drawing do the same to ``None`` ("none_dealloc"). 6.11.3
does not (same probe). pyproject.toml excludes 6.12.0 on CPython < 3.12; when it is installed anyway,
we do what Python 3.12 did and make these objects immortal by giving them an enormous reference
count (2**40 of head room). Every other combination is left untouched.
"""
from __future__ import annotations

import sys

_APPLIED = False
BROKEN_SERIES = (6, 12)  # every 6.12.x until a release is shown to be fixed: the patch is harmless there


def needs_fix(python: tuple[int, int], implementation: str, pyside: tuple[int, ...]) -> bool:
    """Whether this interpreter and PySide6 version have the reference-count bug."""
    return implementation == "cpython" and tuple(python[:2]) < (3, 12) and tuple(pyside[:2]) == BROKEN_SERIES


def installed_pyside_version() -> tuple[int, ...]:
    import PySide6

    return tuple(PySide6.__version_info__[:3])


def make_bools_immortal() -> bool:
    """Apply the workaround if this process needs it; True when it is (now) applied."""
    global _APPLIED
    if _APPLIED:
        return True
    if not needs_fix(sys.version_info[:2], sys.implementation.name, installed_pyside_version()):
        return False
    import ctypes

    for obj in (True, False, None, NotImplemented, Ellipsis):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40  # ob_refcnt is the first field
    _APPLIED = True
    return True
