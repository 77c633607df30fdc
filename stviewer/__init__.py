"""stviewer: the Qt application. Imports engine; engine never imports it."""
from stviewer._pyside_fix import make_bools_immortal as _make_bools_immortal

__version__ = "0.1.0"

_make_bools_immortal()  # before any Qt signal is emitted (see stviewer/_pyside_fix.py)
