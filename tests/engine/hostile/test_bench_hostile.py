"""`stv bench hostile` builds hostile inputs and prints the peak memory of handling each."""
from __future__ import annotations

from engine.cli.main import main as stv


def test_bench_hostile_prints_peak_memory_within_the_limit(capsys):
    code = stv(["bench", "hostile", "--only", "cache-alpha-60000x60000", "--only", "checkpoint-zip-bomb",
                "--bomb-mb", "64"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "cache-alpha-60000x60000" in out and "alpha_shape (60000, 60000)" in out
    assert "checkpoint-zip-bomb" in out and "is compressed" in out
    assert "MB above idle (limit 1024 MB): ok" in out
