"""The PySide6 6.12 reference-count workaround applies exactly where the bug is, and keeps Qt alive."""
from __future__ import annotations

import subprocess
import sys

from stviewer._pyside_fix import needs_fix

EMITS = """
import sys
import stviewer  # applies the workaround if needed
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    fired = Signal(int)
e = Emitter(); e.fired.connect(lambda v: None)
for i in range(3000):
    e.fired.emit(i)  # 6.12.0 on CPython < 3.12 drops a reference to True each time: abort in bool_dealloc
print("ok")
"""


def test_the_workaround_is_only_for_pyside_6_12_on_cpython_before_3_12():
    assert needs_fix((3, 11), "cpython", (6, 12, 0))
    assert needs_fix((3, 10), "cpython", (6, 12, 1))
    assert not needs_fix((3, 12), "cpython", (6, 12, 0))  # immortal singletons since 3.12
    assert not needs_fix((3, 11), "cpython", (6, 11, 3))  # measured: no leak
    assert not needs_fix((3, 11), "pypy", (6, 12, 0))


def test_many_signal_emits_do_not_abort_the_interpreter_with_the_installed_pyside():
    done = subprocess.run([sys.executable, "-c", EMITS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_pyproject_excludes_the_broken_release():
    import tomllib
    from pathlib import Path

    deps = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    pyside = [d for d in deps if d.startswith("PySide6")]
    assert any("!=6.12.0" in d and "python_version < '3.12'" in d for d in pyside), pyside
