"""Subprocess used by test_exact_resume.py: kills `stv infer` children again and again on one cache.

    python hostile_kill_driver.py PLAN.json

PLAN: {"video", "model", "cache", "reference", "seed", "kills", "args"}. The driver imports torch and
the engine once but runs no torch op itself, then forks one child per `stv infer` attempt (forking a
process whose OpenMP pool never started is safe, and costs milliseconds instead of a fresh
interpreter). A child SIGKILLs itself at the planned point:
  "random-write" when a random frame of the next few windows reaches the writer (usually not a
                 committed frame)
  ["commit", n]  at its n-th commit record, after the snapshot before it was written (a torn checkpoint)
After the kills one child finishes the run, and one more runs uninterrupted into ``reference``.
Prints one JSON line: the frame each attempt resumed at.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sys


def _attempt(plan: dict, cache: str, kill: list | None) -> int:
    """Run `stv infer` in a forked child; return its wait status."""
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            import torch

            from engine.cache import writer as writer_module
            from engine.cli.main import main

            torch.set_num_threads(1)
            if kill is not None:
                what, at = kill
                if what == "write":
                    original_write = writer_module.RunWriter.write

                    def write(self, result):
                        if result.frame_index == at:
                            os.kill(os.getpid(), signal.SIGKILL)
                        original_write(self, result)
                    writer_module.RunWriter.write = write
                else:
                    original_commit = writer_module.RunWriter._write_commit
                    calls = [0]

                    def commit(self):
                        calls[0] += 1
                        if calls[0] == at:
                            os.kill(os.getpid(), signal.SIGKILL)
                        original_commit(self)
                    writer_module.RunWriter._write_commit = commit
            code = main(["infer", plan["video"], "--model", plan["model"], "--out", cache, "--device", "cpu",
                         "--quiet", "--threads", "1", *plan["args"]])
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


def _resume_point(cache: str) -> int:
    from engine.cache import ResultsCache

    if not os.path.exists(cache):
        return 0
    with ResultsCache.open(cache) as c:
        return c.run(c.run_names[0]).completed_frames if c.run_names else 0


def main() -> None:
    plan = json.loads(open(sys.argv[1]).read())
    import engine.cli.main  # noqa: F401  (imports, no torch op: the children inherit them)
    import engine.pipeline.runner  # noqa: F401
    import torch  # noqa: F401

    rng = random.Random(plan["seed"])
    total = plan["frames"]
    report = {"kills": []}
    for kill in plan["kills"]:
        if kill == "random-write":
            # a random frame within the next few windows, so ten kills in a row still leave work to do
            kill = ["write", min(total - 1, _resume_point(plan["cache"]) + rng.randrange(1, 9))]
        status = _attempt(plan, plan["cache"], kill)
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            raise SystemExit(f"attempt {kill} was not killed (status {status})")
        report["kills"].append([kill, _resume_point(plan["cache"])])
    for cache in (plan["cache"], plan["reference"]):
        status = _attempt(plan, cache, None)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            raise SystemExit(f"run into {cache} failed (status {status})")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
