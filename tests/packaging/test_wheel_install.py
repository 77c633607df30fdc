"""A real wheel, installed without -e into a fresh virtual environment, runs the demo.

What a user of ``pip install stviewer`` gets: the wheel must carry the demo model and clip (package
``stv_assets``), and ``stviewer`` / ``stv`` must work from it with no source tree in sight. The venv
reuses this interpreter's installed dependencies (``--system-site-packages``: torch, PySide6, ... are
not downloaded again), so the test runs offline; it asserts that engine, stviewer and the assets are
imported from the venv, not from this checkout.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# what the build reads; tests, .git and build outputs stay behind
_IGNORE = shutil.ignore_patterns(".git", "tests", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                 "*.stv.h5", "*.h5", "runs", "out", "docs")

pytestmark = pytest.mark.packaging


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, environment, work folder) with the freshly built wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", HOME=str(tmp / "home"),
               XDG_CACHE_HOME=str(tmp / "cache"), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(wheels), str(src)], cwd=tmp, env=env)
    (wheel,) = wheels.glob("stviewer-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for asset in ("demo_model.pt", "demo_clip.mp4", "demo_clip_gt/gt.txt", "demo_clip_gt/seqinfo.ini"):
        assert f"stv_assets/{asset}" in names, f"the wheel lacks stv_assets/{asset}"
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], cwd=tmp, env=env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    # this interpreter's pip installs into the venv; --force-reinstall: an editable stviewer of the same
    # version may be visible through the system site-packages
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--force-reinstall", "-q", str(wheel)], cwd=tmp, env=env)
    work = tmp / "work"
    work.mkdir()
    return bin_dir, env, work, venv


def test_the_wheel_imports_engine_stviewer_and_assets_from_the_venv(installed):
    bin_dir, env, work, venv = installed
    probe = ("import json, engine, stviewer, stv_assets; from engine.assets import demo_model_path, demo_clip_path; "
             "print(json.dumps([engine.__file__, stviewer.__file__, str(demo_model_path()), str(demo_clip_path()),"
             " demo_model_path().is_file(), demo_clip_path().is_file()]))")
    out = _run([str(bin_dir / "python"), "-c", probe], cwd=work, env=env).stdout
    engine_file, stviewer_file, model, clip, model_ok, clip_ok = json.loads(out.strip().splitlines()[-1])
    for path in (engine_file, stviewer_file, model, clip):
        assert Path(path).resolve().is_relative_to(venv.resolve()), f"{path} is not from the installed wheel"
    assert model_ok and clip_ok


def test_stviewer_screenshot_and_stv_commands_run_from_the_wheel(installed):
    bin_dir, env, work, venv = installed
    shot = work / "demo.png"
    done = _run([str(bin_dir / "stviewer"), "--screenshot", str(shot), "--size", "800x500", "--timeout", "120"],
                cwd=work, env=env, timeout=180)
    assert "wrote" in done.stdout and shot.stat().st_size > 10_000
    assert "the demo clip" not in done.stderr and "random" not in done.stderr
    help_text = _run([str(bin_dir / "stv"), "--help"], cwd=work, env=env).stdout
    for command in ("infer", "show", "track", "eval", "bench"):
        assert command in help_text
    # the screenshot ran the bundled demo model: its cache sits beside the installed clip
    clip = next(venv.rglob("stv_assets/demo_clip.mp4"))
    cache = clip.with_name(clip.name + ".stv.h5")
    shown = json.loads(_run([str(bin_dir / "stv"), "show", "--json", str(cache)], cwd=work, env=env).stdout)
    (run,) = shown["runs"]
    assert run["name"] == "demo" and run["completed_frames"] > 0
    assert run["class_names"][:2] == ["walk", "run"]  # the trained demo model, not a random stand-in
