"""`stviewer [PATH] [--model CKPT]`: the viewer; `--screenshot OUT.png` renders one frame offscreen."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from engine.assets import MissingAssetError, demo_clip_path
from stviewer.platform_check import platform_problem

_T_IMPORT = time.time()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stviewer", description=__doc__)
    p.add_argument("path", nargs="?", help="video file, MOT sequence folder or results .h5 "
                                           "(default: the bundled demo clip)")
    p.add_argument("--model", default="demo", help="checkpoint to run, or 'demo' (default)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window offscreen to OUT.png and exit")
    p.add_argument("--frame", type=int, default=0, help="frame to show in the screenshot (default 0)")
    p.add_argument("--size", default="1600x1000", help="window size WxH for the screenshot")
    p.add_argument("--track", default=None, metavar="ID|auto",
                   help="select this track in the screenshot; 'auto': the longest track on --frame")
    p.add_argument("--whole-run", action="store_true",
                   help="screenshot: wait until every frame has results, not just --frame")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for results (screenshot)")
    p.add_argument("--first-frame-report", action="store_true", help=argparse.SUPPRESS)  # stv bench viewer
    p.add_argument("--edit-script", metavar="FILE", help=argparse.SUPPRESS)  # tests: stviewer.editing.script
    from stviewer.compare.cli import add_compare_arguments  # argparse only

    add_compare_arguments(p)  # --compare [A] B, --compare-labels, --compare-mode
    return p


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must be WxH, e.g. 1600x1000, got {text!r}") from None
    if w < 200 or h < 150:
        raise ValueError(f"--size is too small: {text}")
    return w, h


def make_app(argv: list[str] | None = None):
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from stviewer.colors import DARK_STYLESHEET

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)  # trails opt in
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("stviewer")
    app.setOrganizationName("stviewer")
    app.setStyle("Fusion")
    app.setStyleSheet(DARK_STYLESHEET)
    return app


def parse_track(text: str | None) -> int | str | None:
    if text is None or text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--track must be a track ID or 'auto', got {text!r}") from None


def pick_track(run, frame: int, track: int | str | None) -> int | str:
    """The track ID to select for ``track`` (None: -1, no selection), or a reason it cannot be."""
    if track is None:
        return -1
    result = run.frame(frame)
    on_frame = [] if result is None else [int(t) for t in result.tracks[:, 5]]
    if track == "auto":
        if not on_frame:
            return -1  # nothing to select: still a useful picture
        lengths = {s.track_id: s.num_frames for s in run.track_summaries()}
        return max(on_frame, key=lambda t: (lengths.get(t, 0), -t))
    if track not in {s.track_id for s in run.track_summaries()}:
        return f"--track {track} is not a track of run {run.name!r}"
    return int(track)


def take_screenshot(window, out: str | Path, *, frame: int, timeout_s: float = 600.0,
                    track: int | str | None = None, whole_run: bool = False) -> str | None:
    """Wait until frame ``frame`` (``whole_run``: every frame) has results, running the model if needed;
    select ``track`` (an ID, "auto" or None), render the window and save it to ``out``. Returns None on
    success, else the reason."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    state, session = window.state, window.session
    n = state.num_frames
    if n == 0:
        return "no video is open"
    if not 0 <= frame < n:
        return f"--frame {frame} is outside the video's frames 0..{n - 1}"
    state.set_frame(frame)
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    reason: list[str] = []

    def poll() -> None:
        run = state.run
        ready = run is not None and ((run.has_result.all() and not session.is_running()) if whole_run
                                     else run.has_result[frame])
        if ready:
            loop.quit()
        elif time.monotonic() > deadline:
            reason.append(f"no results for frame {frame} after {timeout_s:g} s")
            loop.quit()
        elif not session.is_running() and session.last_worker_outcome is not None:
            reason.append(f"the model run {session.last_worker_outcome} before frame {frame} had results")
            loop.quit()
        elif not session.is_running() and not session.auto_infer_pending():
            session.start_inference()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    QTimer.singleShot(0, poll)
    loop.exec()
    timer.stop()
    if reason:
        return reason[0]
    session.stop_inference()  # what was written stays in the cache; a later run resumes
    if state.run is None or not state.run.has_result[frame]:
        return f"no results for frame {frame}"
    state.set_frame(frame)
    selected = pick_track(state.run, frame, track)
    if isinstance(selected, str):
        return selected
    state.select_track(selected)
    window.video_view.render_now()
    window.timeline.refresh_data()
    window.track_list.refresh()
    window.action_panel.refresh()
    for _ in range(3):
        QCoreApplication.processEvents()
    image = window.grab()
    if not image.save(str(out)):
        return f"cannot write {out}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        path = Path(args.path) if args.path else demo_clip_path()
    except MissingAssetError as exc:
        print(f"stviewer: {exc}", file=sys.stderr)
        return 2
    if not path.exists():
        hint = (": this install lacks its bundled demo clip; reinstall stviewer, or pass a video"
                if not args.path else "")
        print(f"stviewer: {path}: no such file or folder{hint}", file=sys.stderr)
        return 2
    size, track = None, None
    if args.screenshot:
        try:
            size = parse_size(args.size)
            track = parse_track(args.track)
        except ValueError as exc:
            print(f"stviewer: {exc}", file=sys.stderr)
            return 2
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    problem = platform_problem()
    if problem is not None:  # Qt would abort with "no Qt platform plugin could be initialized"
        print(f"stviewer: {problem}", file=sys.stderr)
        return 3
    app = make_app([sys.argv[0]])
    from stviewer.main_window import MainWindow

    errors: list[str] = []
    window = MainWindow(model=args.model, device=args.device)
    if args.screenshot:
        window.error_reporter = lambda title, msg: (errors.append(f"{title}: {msg}"),
                                                    print(f"stviewer: {title}: {msg}", file=sys.stderr))
        window.resize(*size)
    if args.first_frame_report:
        window.session.auto_infer = False
        _report_first_frame(window)
    if args.compare:
        window.session.auto_infer = False  # the comparison computes the runs it needs, one after the other
    if args.edit_script:
        from stviewer.editing.script import run_edit_script

        window.session.auto_infer = False  # scripted edits on the cached run, no model
        window.error_reporter = lambda title, msg: print(f"stviewer: {title}: {msg}", file=sys.stderr, flush=True)
        window.editing.ask_close = lambda _count: "save"  # a scripted quit saves
    window.show()
    if args.screenshot:
        app.processEvents()
        window.resize(*size)  # again: a small window's docks allow its size once the first resize compacted them
    if not window.open_path(path):
        if args.screenshot or args.first_frame_report:
            window.close()
            return 1
    if args.edit_script:
        run_edit_script(window, args.edit_script)  # once the video is open
    if args.compare:
        from stviewer.compare.cli import run_compare

        return run_compare(app, window, args, errors)
    if args.screenshot:
        reason = take_screenshot(window, args.screenshot, frame=args.frame, timeout_s=args.timeout, track=track,
                                 whole_run=args.whole_run)
        window.close()
        if reason is not None or errors:
            if reason:
                print(f"stviewer: screenshot failed: {reason}", file=sys.stderr)
            return 1
        print(f"wrote {args.screenshot}")
        return 0
    code = app.exec()
    # Everything is closed and saved now (caches, settings); skip the interpreter's teardown of torch
    # and Qt, which took ~1 s, and any worker still importing torch (it has written nothing).
    window.settings.sync()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _report_first_frame(window) -> None:
    """Print when the first frame was on screen (wall clock) and whether torch was loaded, then quit."""
    from PySide6.QtCore import QTimer

    def on_frame(_k: int) -> None:
        window.repaint()
        print(f"first_frame_wall={time.time():.6f} import_wall={_T_IMPORT:.6f} "
              f"torch_loaded={'torch' in sys.modules}", flush=True)
        QTimer.singleShot(0, window.close)

    window.video_view.frameDisplayed.connect(on_frame)


if __name__ == "__main__":
    sys.exit(main())
