"""`stv bench labels` runs and prints every figure (the figures themselves are not asserted)."""
from __future__ import annotations

from engine.cli.main import main


def test_bench_labels_prints_figures(capsys, tmp_path):
    assert main(["bench", "labels", "--sizes", "10k", "--edits", "3", "--queries", "50", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for figure in ("build from run rows", "load from cache", "frame_boxes(k)", "edit set_box (blend)", "edit merge",
                   "edit split", "edit change_id", "autosave (1 edit)", "full save"):
        assert figure in out, figure
    assert "[10k] 10,000 boxes, 50 tracks" in out
    assert main(["bench", "labels", "--sizes", "2M"]) == 2
