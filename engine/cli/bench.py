"""`stv bench TARGET`: benchmarks that print figures (never timed unit tests).

Targets are modules ``engine.cli.bench_<target>`` with ``add_arguments``/``run``; targets that live
in other packages (the viewer's) register under the ``stv.bench`` entry-point group, so engine's
code never imports them.
"""
from __future__ import annotations

import argparse
import importlib
from importlib import metadata

ENGINE_TARGETS = {
    "kernel": "engine.cli.bench_kernel",
    "tracker": "engine.cli.bench_tracker",
    "video": "engine.cli.bench_video",
    "infer": "engine.cli.bench_infer",
    "cache": "engine.cli.bench_cache",
    "compare": "engine.cli.bench_compare",
    "labels": "engine.cli.bench_labels",
    "loader": "engine.cli.bench_loader",
    "model": "engine.cli.bench_model",
    "hostile": "engine.cli.bench_hostile",
    "eval": "engine.cli.bench_eval",
}


def _targets() -> dict[str, str]:
    targets = dict(ENGINE_TARGETS)
    for ep in metadata.entry_points(group="stv.bench"):
        targets.setdefault(ep.name, ep.value)
    return targets


def help_text() -> str:
    """`stv --help`'s line: every registered target, so none is left out as targets are added."""
    return "benchmarks that print figures: " + ", ".join(_targets())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET")
    for name, module_name in _targets().items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue  # target not built (or not installed) yet
            raise
        p = sub.add_parser(name, help=(module.__doc__ or name).strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(_bench=module.run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "_bench", None) is None:
        print("usage: stv bench TARGET (see stv bench --help)")
        return 2
    return int(args._bench(args) or 0)
