"""engine must never pull in Qt, pyqtgraph or triton (house rule 1)."""
from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("PySide6", "pyqtgraph", "triton", "stviewer")

PROBE = """
import json, sys, importlib, pkgutil
import engine
names = []
for info in pkgutil.walk_packages(engine.__path__, 'engine.'):
    importlib.import_module(info.name)
    names.append(info.name)
# the lazy public names too
for attr in engine.__all__:
    getattr(engine, attr)
print(json.dumps({'modules': names, 'loaded': sorted(sys.modules)}))
"""


def test_engine_imports_without_qt_pyqtgraph_or_triton():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "engine.results" in report["modules"]
    leaked = [m for m in report["loaded"] if m.split(".")[0] in FORBIDDEN]
    assert not leaked, f"importing engine pulled in {sorted(set(m.split('.')[0] for m in leaked))}"


def test_plain_import_engine_is_light():
    probe = "import sys, engine; print(','.join(m for m in ('torch','cv2','h5py') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"`import engine` eagerly imported: {out.stdout.strip()}"
