"""What test folders below tests/stviewer share: the viewer tests' conftest as a module of its own name
(``conftest`` alone is ambiguous in a suite with several), for its cache writers and fake inference."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def viewer_conftest():
    """tests/stviewer/conftest.py as the module ``_stviewer_tests_conftest`` (loaded once)."""
    name = "_stviewer_tests_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
