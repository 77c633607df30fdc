"""`stv bench eval` runs on a small scene and prints the total and every part of the breakdown; its scene
has what the figures should measure (identity switches, misses, false positives)."""
from __future__ import annotations

import numpy as np

from engine.cli.bench_eval import scene
from engine.cli.main import main


def test_bench_eval_prints_total_and_breakdown(capsys):
    assert main(["bench", "eval", "--frames", "120", "--objects", "4", "--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for part in ("evaluate_run_against_labels", "  run -> MOT rows", "  labels -> MOT gt rows", "  preprocess",
                 "  CLEAR", "  Identity", "  HOTA"):
        line = next((line for line in lines if line.startswith(part)), "")
        assert line.split(part, 1)[-1].split()[1:2] == ["ms"], (part, lines)


def test_bench_eval_refuses_empty_sizes(capsys):
    assert main(["bench", "eval", "--frames", "0"]) == 2


def test_bench_scene_is_a_realistic_comparison():
    from engine.cli.bench_eval import _RowsRun
    from engine.metrics.run_eval import evaluate_run_against_labels

    labels, rows = scene(400, 6, 0)
    assert np.array_equal(rows, rows.astype(np.float32).astype(np.float64))  # as the cache stores them
    summary = evaluate_run_against_labels(_RowsRun(rows), labels).summary()
    assert summary["IDSW"] > 0 and summary["FN"] > 0 and summary["FP"] > 0 and 0.5 < summary["MOTA"] < 1
