"""`stv bench video` runs end to end (figures are printed, not asserted: house rule)."""
from __future__ import annotations

from engine.cli.main import main


def test_bench_video_makes_its_clip_and_prints_every_figure(tmp_path, capsys):
    clip = tmp_path / "clip.mp4"
    code = main(["bench", "video", "--make-test-clip", str(clip), "--frames", "8", "--seeks", "3", "--no-opencv"])
    out = capsys.readouterr().out
    assert code == 0 and clip.exists()
    for figure in ("1280x720", "1 keyframes", "sequential decode", "cold seek", "floor", "background index",
                   "warm seek  get_display_frame", "warm seek  src[k]"):
        assert figure in out, f"missing {figure!r} in:\n{out}"


def test_bench_video_reports_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_text("no video here")
    assert main(["bench", "video", str(bad)]) == 1
    assert str(bad) in capsys.readouterr().err
