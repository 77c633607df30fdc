"""hostile: peak memory above idle of handling the worst hostile input of each kind (limit 1 GB).

Each input is generated in a temporary folder and handled in its own process, which imports what
it needs, resets its peak-RSS counter (``/proc/self/clear_refs``), measures its idle RSS, handles
the input (a refusal is the expected outcome) and reports ``VmHWM`` - idle. The inputs are those of
issue 12: caches whose attributes lie about their sizes, checkpoints with absurd configs or a zip
bomb, text files and images posing as videos, damaged videos, MOT folders with gaps or a seqLength
of a billion, FIFOs, and crafted resume snapshots.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

LIMIT_MB = 1024

_WRAPPER = textwrap.dedent('''
    import json, sys
    {imports}

    def _status(key):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        return 0

    try:
        with open("/proc/self/clear_refs", "w") as handle:  # reset VmHWM to the current RSS
            handle.write("5")
        reset = True
    except OSError:
        reset = False
    idle = _status("VmRSS:")
    base = _status("VmHWM:")
    outcome = "handled"
    try:
    {body}
    except Exception as exc:  # the expected outcome of most inputs: a clear refusal
        outcome = type(exc).__name__ + ": " + str(exc).replace(sys.argv[1], "<tmp>")
    peak = _status("VmHWM:")
    print(json.dumps({{"idle": idle, "peak": peak if reset else max(peak - base + idle, idle),
                      "outcome": outcome[:150]}}))
''')


def _case(imports: str, body: str) -> tuple[str, str]:
    return imports, textwrap.indent(textwrap.dedent(body).strip(), "    ")


CASES: dict[str, tuple[str, str]] = {
    "cache-num-frames-2e9": _case("from engine.cache import ResultsCache", """
        ResultsCache.open(sys.argv[1] + "/num_frames.h5").run("r")
    """),
    "cache-30M-frames-consistent": _case("from engine.cache import ResultsCache", """
        ResultsCache.open(sys.argv[1] + "/huge_run.h5").run("r")
    """),
    "cache-alpha-60000x60000": _case("from engine.cache import ResultsCache", """
        r = ResultsCache.open(sys.argv[1] + "/alpha.h5").run("r"); r.frame(0)
    """),
    "cache-external-storage": _case("from engine.cache import ResultsCache", """
        ResultsCache.open(sys.argv[1] + "/external.h5").run("r").track_rows()
    """),
    "cache-resume-snapshot-lies": _case("from engine.cache import ResultsCache", """
        c = ResultsCache.open(sys.argv[1] + "/snapshot.h5", mode="a"); w = c.open_run_writer("r")
        assert w.resume_point is None, "a crafted snapshot must be ignored"; w.close(); c.close()
    """),
    "checkpoint-zip-bomb": _case("from engine.model import load_checkpoint", """
        load_checkpoint(sys.argv[1] + "/bomb.pt")
    """),
    "checkpoint-width-64-resnet50": _case("from engine.model import load_checkpoint", """
        load_checkpoint(sys.argv[1] + "/width64.pt")
    """),
    "checkpoint-input-100000": _case("from engine.model import load_checkpoint", """
        load_checkpoint(sys.argv[1] + "/input100000.pt")
    """),
    "checkpoint-resnet50-width4-in-3MB": _case("from engine.model import load_checkpoint", """
        load_checkpoint(sys.argv[1] + "/width4.pt")
    """),
    "checkpoint-2048-channel-heads": _case("from engine.model import load_checkpoint", """
        load_checkpoint(sys.argv[1] + "/wide_heads.pt")
    """),
    "checkpoint-nan-weights": _case("from engine.model import load_checkpoint", """
        load_checkpoint(sys.argv[1] + "/nan.pt")
    """),
    "video-text-file": _case("from engine.video import open_video", """
        open_video(sys.argv[1] + "/gt.txt")
    """),
    "video-image-renamed": _case("from engine.video import open_video", """
        open_video(sys.argv[1] + "/photo.mp4")
    """),
    "video-damaged-decodes-on": _case("from engine.video import open_video", """
        with open_video(sys.argv[1] + "/damaged.mp4") as s:
            n = sum(1 for _ in s.iter_frames())
            outcome = f"decoded {n} of {len(s)} frames, {len(s.damaged_frames)} marked damaged"
    """),
    "video-fifo": _case("from engine.video import open_video", """
        open_video(sys.argv[1] + "/fifo")
    """),
    "mot-folder-seqlength-1e9": _case("from engine.video import open_video", """
        open_video(sys.argv[1] + "/SEQ-HUGE")
    """),
    "mot-folder-without-images-1e9": _case("from engine.video import open_video", """
        open_video(sys.argv[1] + "/SEQ-NOPIX")
    """),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", action="append", choices=sorted(CASES), metavar="KIND",
                        help="measure only this kind (repeatable; default: all)")
    parser.add_argument("--bomb-mb", type=int, default=1024,
                        help="size the zip bomb inflates to, MB (default 1024; its file is ~1000x smaller)")


def run(args: argparse.Namespace) -> int:
    kinds = args.only or list(CASES)
    with tempfile.TemporaryDirectory(prefix="stv-hostile-") as tmp:
        folder = Path(tmp)
        build_inputs(folder, kinds, bomb_mb=args.bomb_mb)
        print(f"{'input':34s} {'peak above idle':>16s}  outcome")
        worst = 0.0
        for kind in kinds:
            imports, body = CASES[kind]
            script = _WRAPPER.format(imports=imports, body=body)
            done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True,
                                  timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
            try:
                report = json.loads(done.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                print(f"{kind:34s} {'-':>16s}  crashed (exit {done.returncode}): {done.stderr[-300:]}")
                worst = float("inf")
                continue
            above = (report["peak"] - report["idle"]) / (1 << 20)
            worst = max(worst, above)
            print(f"{kind:34s} {above:13.1f} MB  {report['outcome']}")
        print(f"worst: {worst:.1f} MB above idle (limit {LIMIT_MB} MB): {'ok' if worst <= LIMIT_MB else 'OVER'}")
    return 0 if worst <= LIMIT_MB else 1


def build_inputs(folder: Path, kinds: list[str], *, bomb_mb: int = 1024) -> None:
    """Write the hostile inputs ``kinds`` need into ``folder``."""
    wanted = set(kinds)
    if wanted & {k for k in CASES if k.startswith("cache-")}:
        _build_caches(folder)
    if wanted & {k for k in CASES if k.startswith("checkpoint-")}:
        _build_checkpoints(folder, bomb_mb=bomb_mb)
    if wanted & {k for k in CASES if k.startswith(("video-", "mot-"))}:
        _build_videos(folder)


def _build_caches(folder: Path) -> None:
    import h5py
    import numpy as np

    from engine.cache import ResultsCache
    from engine.cache.synthetic import synthetic_frame

    def small(path: Path) -> Path:
        with ResultsCache.create(path, video_fingerprint="f", video_path="v", num_frames=20, fps=25, width=640,
                                 height=360) as cache:
            writer = cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=list("abcdef"),
                                      params={}, alpha_shape=(28, 48))
            for k in range(20):
                writer.write(synthetic_frame(k))
            writer.close()
        return path

    with h5py.File(small(folder / "num_frames.h5"), "r+") as f:
        f.attrs["num_frames"] = np.int64(2_000_000_000)
    with ResultsCache.create(folder / "huge_run.h5", video_fingerprint="f", video_path="v", num_frames=30_000_000,
                             fps=25, width=64, height=48) as cache:
        cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=list("abcdef"), params={},
                         alpha_shape=(2, 2)).close()
    with h5py.File(small(folder / "alpha.h5"), "r+") as f:
        f["runs/r"].attrs["alpha_shape"] = np.array([60000, 60000], np.int64)
    secret = folder / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 8)
    with h5py.File(small(folder / "external.h5"), "r+") as f:
        del f["runs/r/tracks"]
        f["runs/r"].create_dataset("tracks", shape=(4, 6), dtype="f4", external=[(str(secret), 0, 96)])
    with h5py.File(small(folder / "snapshot.h5"), "r+") as f:
        f["runs/r/commit"][0] = 10
        slots = f["runs/r/resume_state"]
        slots.resize(64, axis=1)
        lie = np.zeros(64, np.uint8)
        lie[:8] = np.frombuffer((1 << 62).to_bytes(8, "little"), np.uint8)  # declares 4 EiB
        slots[0] = lie


def _build_checkpoints(folder: Path, *, bomb_mb: int) -> None:
    import json as json_module
    import pickle

    import torch

    from engine.model import build_model, save_checkpoint
    from engine.model.checkpoint import FORMAT, VERSION

    base = save_checkpoint(folder / "base.pt", build_model("tiny", num_classes=3, input_size=(64, 96)),
                           class_names=["a", "b", "c"])

    def variant(name: str, config: dict | None = None, nan: bool = False) -> None:
        payload = torch.load(base, weights_only=True)
        if config:
            payload["config"] = json_module.dumps({**json_module.loads(payload["config"]), **config})
        if nan:
            payload["state_dict"]["action_head.fc.weight"][0, 0] = float("nan")
        torch.save(payload, folder / name)

    variant("width64.pt", {"backbone": "resnet50", "width": 64.0})
    variant("input100000.pt", {"input_size": [100000, 100000]})
    variant("width4.pt", {"backbone": "resnet50", "width": 4.0, "feature_channels": 2048})
    variant("wide_heads.pt", {"feature_channels": 2048, "temporal_channels": 2048, "head_channels": 2048,
                              "embed_dim": 2048})
    variant("nan.pt", nan=True)
    with zipfile.ZipFile(folder / "bomb.pt", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(zipfile.ZipInfo("bomb/data.pkl"), pickle.dumps({"format": FORMAT, "version": VERSION}))
        with archive.open("bomb/data/0", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(bomb_mb):
                member.write(block)


def _build_videos(folder: Path) -> None:
    import av
    import cv2
    import numpy as np

    from engine.video.synthetic import write_clip

    (folder / "gt.txt").write_text("".join(f"{i + 1},1,10,20,30,40,1,-1,-1,-1\n" for i in range(3000)))
    ok, png = cv2.imencode(".png", np.zeros((480, 640, 3), np.uint8))
    (folder / "photo.mp4").write_bytes(png.tobytes())
    clip = write_clip(folder / "clip.mp4", frames=96, width=320, height=192, gop=12, b_frames=2)
    container = av.open(str(clip))
    positions = [p.pos for p in container.demux(container.streams.video[0]) if p.size]
    container.close()
    data = bytearray(Path(clip).read_bytes())
    for pos in positions[len(positions) // 3::len(positions) // 4][:3]:
        data[pos:pos + 4] = b"\xff\xff\xff\x7f"
    (folder / "damaged.mp4").write_bytes(bytes(data))
    os.mkfifo(folder / "fifo")
    for name, images in (("SEQ-HUGE", True), ("SEQ-NOPIX", False)):
        seq = folder / name
        (seq / "gt").mkdir(parents=True)
        (seq / "gt" / "gt.txt").write_text("1,1,10,10,20,30,1,1,1\n")
        (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nimDir=img1\nframeRate=25\nseqLength=1000000000\n"
                                         "imWidth=64\nimHeight=48\nimExt=.png\n")
        if images:
            (seq / "img1").mkdir()
            for k in range(1, 4):
                cv2.imwrite(str(seq / "img1" / f"{k:06d}.png"), np.zeros((48, 64, 3), np.uint8))
