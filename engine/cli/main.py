"""`stv`: the headless command line.

Each subcommand is a module of this package exposing ``add_arguments(parser)`` and
``run(args) -> int``. Modules import heavy things (torch, h5py, cv2) inside ``run`` so
that ``stv --help`` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "track": ("engine.cli.track", "run the tracker on MOT detections and write MOT results"),
    "eval": ("engine.cli.eval", "MOTChallenge metrics (CLEAR, Identity, HOTA) of results against ground truth"),
    "validate-mot": ("engine.cli.validate", "check MOT files/folders against TrackEval's rules (file, line, rule)"),
    "export": ("engine.cli.export", "write a label set as MOT gt (+ seqinfo.ini, TrackEval layout) or a run as results"),
    "import": ("engine.cli.importing", "MOT gt -> label set, MOT results -> run, det.txt -> tracked run"),
    "infer": ("engine.cli.infer", "run a model over a video (or a collection) into an HDF5 cache"),
    "show": ("engine.cli.show", "describe an HDF5 results cache"),
    "repair": ("engine.cli.repair", "make a cache left by a killed writer openable by every HDF5 tool again"),
    "make-synthetic": ("engine.cli.make_synthetic", "write a synthetic action+tracking benchmark"),
    "train": ("engine.cli.train", "train a model (single process or under torchrun)"),
    "eval-actions": ("engine.cli.eval_actions", "action top-1/top-5 and confusion matrix of a checkpoint"),
    "bench": ("engine.cli.bench", "benchmarks: kernel, tracker, video, infer, viewer"),
    "compare": ("engine.cli.compare", "compare two runs or label sets of a cache: stv eval's table, or their agreement"),
    "review-eval": ("engine.cli.review_eval", "how many actual ID switches the review queue's top items cover"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stv", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # subcommand not built yet
        help_text = getattr(module, "help_text", lambda: help_text)()  # a module may describe itself (bench)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that went away (`| head`) surfaces here
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader closed the pipe (`stv show --json | head`): stop quietly, as `cat` does, and keep
        # Python's exit-time flush from printing a second traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a process the pipe stopped


if __name__ == "__main__":
    sys.exit(main())
