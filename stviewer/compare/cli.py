"""``stviewer VIDEO --model A.pt --compare B.pt``: open the comparison from the command line, and with
``--screenshot OUT.png`` render it offscreen once it is ready (computing missing runs first).

Module import is cheap (argparse only): stviewer.app builds its parser before Qt loads.
"""
from __future__ import annotations

import argparse
import time


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compare", nargs="+", metavar="SPEC",
                        help="compare two runs: B, or A and B, each a checkpoint path, 'demo', run:NAME "
                             "(also an imported tracker result) or labels:NAME; with one SPEC, A is --model")
    parser.add_argument("--compare-labels", metavar="NAME", default=None,
                        help="label set both compared runs are measured against (table, ID switches, ΔIDF1)")
    parser.add_argument("--compare-mode", choices=("side", "overlay"), default="side",
                        help="side by side (default) or both runs overlaid in one pane")


def compare_specs(args: argparse.Namespace):
    """(A, B) SourceSpecs from ``--compare`` (ValueError with the reason)."""
    from stviewer.compare.sources import SourceSpec

    specs = list(args.compare)
    if len(specs) > 2:
        raise ValueError(f"--compare takes one or two sources, got {len(specs)}")
    if len(specs) == 1:
        specs.insert(0, str(args.model))
    return SourceSpec.parse(specs[0]), SourceSpec.parse(specs[1])


def run_compare(app, window, args: argparse.Namespace, errors: list[str]) -> int:
    """Start the comparison in ``window``; then run the app, or take the screenshot and exit."""
    try:
        a, b = compare_specs(args)
    except ValueError as exc:
        print(f"stviewer: {exc}", file=_stderr())
        window.close()
        return 2
    ui = window.compare_ui
    ui.session.set_mode(args.compare_mode)
    if not ui.session.start(a, b, labels=args.compare_labels):
        window.close()
        return 1
    if not args.screenshot:
        return app.exec()
    from stviewer.app import parse_size

    reason = take_compare_screenshot(window, args.screenshot, frame=args.frame, timeout_s=args.timeout,
                                     size=parse_size(args.size))
    window.close()
    if reason is not None or errors:
        if reason:
            print(f"stviewer: screenshot failed: {reason}", file=_stderr())
        return 1
    print(f"wrote {args.screenshot}")
    return 0


def wait_for_comparison(window, *, timeout_s: float) -> str | None:
    """Run the event loop until the comparison is ready; None, or the reason it is not."""
    from PySide6.QtCore import QEventLoop, QTimer

    compare = window.compare_ui.session
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    reason: list[str] = []

    def poll() -> None:
        if compare.comparison is not None and not compare.computing():  # the table too
            loop.quit()
        elif not compare.active:
            reason.append("the comparison ended (see the error above)")
            loop.quit()
        elif time.monotonic() > deadline:
            reason.append(f"the comparison was not ready after {timeout_s:g} s")
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    QTimer.singleShot(0, poll)
    loop.exec()
    timer.stop()
    return reason[0] if reason else None


def take_compare_screenshot(window, out, *, frame: int, timeout_s: float = 600.0,
                            size: tuple[int, int] | None = None) -> str | None:
    """Wait for the comparison, show ``frame``, render the window (at ``size`` once the comparison's
    layout is in place: the single view's docks may have needed more room) to ``out``; None or the reason."""
    from PySide6.QtCore import QCoreApplication

    state = window.state
    if state.num_frames == 0:
        return "no video is open"
    if not 0 <= frame < state.num_frames:
        return f"--frame {frame} is outside the video's frames 0..{state.num_frames - 1}"
    reason = wait_for_comparison(window, timeout_s=timeout_s)
    if reason is not None:
        return reason
    window.session.stop_inference()
    if size is not None:
        window.resize(*size)
    state.set_frame(frame)
    ui = window.compare_ui
    for _ in range(3):
        QCoreApplication.processEvents()
    ui.view.render_now()
    ui.view.fit()  # the whole frame at the window's final size
    ui.timeline.refresh_curves()
    ui.timeline.refresh_lanes()
    ui.table.refresh()
    for _ in range(3):
        QCoreApplication.processEvents()
    if not window.grab().save(str(out)):
        return f"cannot write {out}"
    return None


def _stderr():
    import sys

    return sys.stderr
