"""`stv bench loader` runs end to end on a small tree (figures are printed, never asserted on)."""
from __future__ import annotations

import os

from engine.cli.bench_loader import process_tree_rss
from engine.cli.main import main
from engine.data.tiny_trees import write_ucf101_tree


def test_bench_loader_prints_clips_per_second_per_worker_count(tmp_path, capsys):
    root = write_ucf101_tree(tmp_path, classes=2, groups=3, clips_per_class=6, shared_video=True)
    assert main(["bench", "loader", "--data", str(root), "--batches", "1", "--batch-size", "2",
                 "--workers", "0", "1", "--no-train"]) == 0
    out = capsys.readouterr().out
    assert "workers 0:" in out and "workers 1:" in out and "clips/s" in out


def test_a_ucf101_sized_index_is_written_as_hard_links(tmp_path):
    root = write_ucf101_tree(tmp_path, classes=101, groups=25, total_clips=13_320, frames=2, size=(16, 16),
                             shared_video=True)
    lists = root.parent / "ucfTrainTestlist"
    for fold in (1, 2, 3):
        train = (lists / f"trainlist{fold:02d}.txt").read_text().splitlines()
        test = (lists / f"testlist{fold:02d}.txt").read_text().splitlines()
        assert len(train) + len(test) == 13_320 and len(test) > 0
    assert len(list(root.iterdir())) == 101


def test_process_tree_memory_counts_this_process():
    assert process_tree_rss(os.getpid()) > 10 * 2**20
