"""`stv bench kernel` runs on a CPU-only machine and prints a figure per backend (not a timing test)."""
from __future__ import annotations

import argparse

import torch

from engine.cli import bench_kernel


def test_bench_kernel_small_shape_prints_every_backend(capsys):
    parser = argparse.ArgumentParser()
    bench_kernel.add_arguments(parser)
    args = parser.parse_args(["--device", "cpu", "--shape", "small", "--repeat", "1"])
    assert bench_kernel.run(args) == 0
    out = capsys.readouterr().out
    assert "small shape: B=2 C=32 T=8 H=14 W=14 K=3 G=8" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    for backend in ("reference", "torch"):
        forward_ms, both_ms = (float(v) for v in rows[backend])
        assert 0 < forward_ms and 0 < both_ms
    assert rows["triton"][0] == "unavailable"


def test_traffic_bytes_counts_each_tensor_once():
    x = torch.zeros(1, 2, 3, 4, 5)
    w = torch.zeros(1, 1, 9, 3, 4, 5)
    forward, total = bench_kernel.traffic_bytes(x, w)
    volume, gates, plane = 120, 540, 40
    assert forward == 4 * (3 * volume + gates + plane) + 4 * plane
    assert total > 2 * forward
    half_forward, _ = bench_kernel.traffic_bytes(x.half(), w.half())
    assert half_forward == 2 * (3 * volume + gates + plane) + 4 * plane + 4 * volume  # + the fp32 state
