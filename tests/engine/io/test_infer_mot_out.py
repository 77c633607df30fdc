"""`stv infer --mot-out` writes what `stv export --run` writes: the cache's float32 boxes as the shortest
decimals that re-import to them (340.829, not the float32 noise 340.82899475097656)."""
from __future__ import annotations

from engine.cache import ResultsCache
from engine.cli.infer import export_mot
from engine.cli.main import main
from engine.io import read_results

LINES = ["1,1,340.829,79.5,87.662,244.25,0.998128", "1,2,570.789,80.835,68.211,203.59,0.5",
         "3,2,571.5,81,68.25,203.5,0.25", "4,7,0.1,0.2,10.3,20.7,0.9"]


def test_mot_out_equals_stv_export_run(tmp_path, capsys):
    ResultsCache.create(tmp_path / "clip.mp4.stv.h5", video_fingerprint="fp", video_path=str(tmp_path / "clip.mp4"),
                        num_frames=10, fps=25.0, width=640, height=360).close()
    cache = tmp_path / "clip.mp4.stv.h5"
    res = tmp_path / "res.txt"
    res.write_text("".join(line + "\n" for line in LINES))
    assert main(["import", str(cache), "--results", str(res), "--run", "r"]) == 0
    assert main(["export", str(cache), "--run", "r", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()

    mot = tmp_path / "mot.txt"
    assert export_mot(cache, "r", mot) == len(LINES)
    text = mot.read_text()
    assert text == (tmp_path / "out" / "clip.txt").read_text()
    assert text.splitlines() == [line + ",-1,-1,-1" for line in LINES]  # nothing rounded, no float noise
    assert "340.82899" not in text
    again = read_results(mot)
    assert again.values[:, 2:7].tolist() == read_results(res).values[:, 2:7].tolist()
