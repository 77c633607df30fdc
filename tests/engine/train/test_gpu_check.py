"""tools/gpu_check.sh runs its CPU-capable steps (GPU_CHECK_DEVICE=cpu: tiny shapes) and reports every figure."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None, reason="needs bash and timeout")
def test_gpu_check_script_in_cpu_smoke_mode(tmp_path):
    report = tmp_path / "report"
    env = {**os.environ, "GPU_CHECK_DEVICE": "cpu", "OUT": str(report), "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(["bash", str(REPO / "tools" / "gpu_check.sh")], capture_output=True, text=True,
                          timeout=600, env=env, cwd=tmp_path)
    summary = (report / "summary.txt").read_text()
    assert proc.returncode == 0, summary + proc.stderr[-2000:]
    for step in ("env", "ops_tests", "bench_kernel_float32", "bench_model_tiny_float32", "bench_model_paper_bfloat16",
                 "train_step"):
        assert f"== {step}: exit 0" in summary, step
        assert (report / f"{step}.txt").is_file()
    assert "frames/s" in summary and "passed" in summary and "first step" in summary
    assert "0 step(s) failed" in summary


def test_gpu_check_stops_at_its_time_budget(tmp_path):
    report = tmp_path / "report"
    env = {**os.environ, "GPU_CHECK_DEVICE": "cpu", "OUT": str(report), "GPU_CHECK_BUDGET": "12",
           "OPS_TESTS": "tests/engine/ops/test_validation.py"}
    proc = subprocess.run(["bash", str(REPO / "tools" / "gpu_check.sh")], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    summary = (report / "summary.txt").read_text()
    assert proc.returncode > 0 and "skipped (the 12 s budget is spent)" in summary
