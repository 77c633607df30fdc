"""The command line's rough edges a new user hit: help that lists every command and benchmark, no
BrokenPipe traceback under `| head`, `stv show VIDEO`, make-synthetic defaults, `stv bench tracker`
without the development layout."""
from __future__ import annotations

import subprocess
import sys

from engine.cli.main import build_parser, main as stv


def _help(argv: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", *argv], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_lists_every_benchmark_and_the_repair_command():
    from engine.cli.bench import _targets

    top, bench = _help(["--help"]), _help(["bench", "--help"])
    assert "repair" in top
    for target in _targets():  # cache was missing from both
        assert target in top.split("bench", 1)[1], target
        assert f"    {target} " in bench or f"    {target}\n" in bench, target


def test_stdout_closed_by_the_reader_ends_quietly(tmp_path):
    from engine.cache import ResultsCache

    path = tmp_path / "c.stv.h5"
    ResultsCache.create(path, video_fingerprint="f", video_path="v.mp4", num_frames=5, fps=25, width=64,
                        height=48).close()
    # `true` exits at once: every write to the pipe fails with EPIPE, like `| head` after its lines
    done = subprocess.run(f"{sys.executable} -m engine.cli.main show --json {path} | true", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_show_of_a_video_says_it_is_a_video_and_where_its_cache_would_be(tmp_path, capsys):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    assert stv(["show", str(video)]) == 1
    err = capsys.readouterr().err
    assert "is a video, not a results cache" in err and f"{video}.stv.h5" in err and "stv infer" in err
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert stv(["show", str(text)]) == 1
    assert "not an HDF5 results cache" in capsys.readouterr().err


def test_make_synthetic_needs_only_the_output_folder():
    args = build_parser().parse_args(["make-synthetic", "out"])
    assert args.clips == 10 and args.seed == 0


BENCH_WITHOUT_SHARED = """
import engine.cli.bench_tracker as bt
bt.shared_det = lambda: None  # as on an installed copy without ../shared
from engine.cli.main import main
raise SystemExit(main(["bench", "tracker", "--passes", "1"]))
"""


def test_bench_tracker_runs_without_the_shared_data():
    from engine.cli.bench_tracker import generated_sequence

    a, b = generated_sequence(frames=50, seed=3), generated_sequence(frames=50, seed=3)
    assert all((x == y).all() for x, y in zip(a, b)) and all(d.shape[1] == 5 for d in a)
    done = subprocess.run([sys.executable, "-c", BENCH_WITHOUT_SHARED], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "generated sequence" in done.stdout and "fps (CPU time)" in done.stdout


def _fake_infer(reports):
    from engine.pipeline.control import Progress

    def infer_video(video, *, progress, **_):
        for done in reports:
            progress(Progress(done, 100, 12.3))
        return "demo"
    return infer_video


def test_infer_on_a_complete_run_says_so_without_an_empty_progress_bar(tmp_path, monkeypatch, capsys):
    import engine.pipeline

    monkeypatch.setattr(engine.pipeline, "infer_video", _fake_infer([]))
    monkeypatch.setattr("engine.cli.infer._set_threads", lambda threads: None)
    assert stv(["infer", str(tmp_path / "a.mp4")]) == 0
    captured = capsys.readouterr()
    assert "already complete: nothing to do" in captured.out and "frame" not in captured.err


def test_infer_progress_bar_shows_one_rate(tmp_path, monkeypatch, capsys):
    import engine.pipeline

    monkeypatch.setattr(engine.pipeline, "infer_video", _fake_infer([40, 100]))  # resumed at 40
    monkeypatch.setattr("engine.cli.infer._set_threads", lambda threads: None)
    assert stv(["infer", str(tmp_path / "a.mp4")]) == 0
    captured = capsys.readouterr()
    assert "written to" in captured.out
    assert "12.3 frames/s" in captured.err and "frame/s" not in captured.err  # tqdm's own rate is not shown


def test_every_option_of_every_command_has_help_text():
    import argparse

    missing = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + [name])
            elif not action.help and not isinstance(action, argparse._HelpAction):
                missing.append(f"stv {' '.join(path)} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), [])
    assert not missing, missing


def test_eval_actions_confusion_matrix_is_headed_by_class_names():
    from engine.cli.eval_actions import format_report

    names = ["walk", "run", "crouch"]
    text = format_report({"class_names": names, "top1": 0.5, "top5": 1.0, "num_clips": 3,
                          "confusion": [[1, 0, 0], [0, 0, 1], [0, 0, 1234]]})
    header, *rows = text.splitlines()[2:]
    assert header.split() == names
    for line, name in zip(rows, names):  # every count sits under its column's name
        assert line.split()[0] == name
    last = rows[-1]
    assert last.index("1234") + 4 == header.index("crouch") + len("crouch")
