"""Produce reference metric values with the official TrackEval, for engine.metrics' equality test.

Run it in a SEPARATE virtual environment (TrackEval from PyPI pulls opencv-python and matplotlib,
which must not enter the main environment):

    python3 -m venv /tmp/te && /tmp/te/bin/pip install trackeval numpy scipy
    /tmp/te/bin/python tools/trackeval_reference.py --data ../shared/data/mot/TUD-Stadtmitte \
        --extra tracker=/tmp/stv_tracker_results.txt

It writes, under tests/engine/metrics/fixtures/:
  * the tracker-result files it evaluates (so the test evaluates exactly the same bytes):
      MOT15 semantics (TUD-Stadtmitte's own 10-column gt.txt):
        det_ids.txt      det.txt with every row given its own id (a detector-only "tracker")
        gt_jitter.txt    gt boxes jittered, 10% of rows dropped, 5% false positives added
        gt_swaps.txt     gt with identities swapped / fragmented mid-track
        <extra>.txt      any --extra NAME=PATH (e.g. stv track's output on det.txt)
      MOT17 semantics (9-column gt derived from TUD-Stadtmitte with flags and distractor classes):
        mot17_gt_A.txt / mot17_gt_B.txt and results mot17_pred_A.txt / mot17_pred_B.txt
  * trackeval_reference.json: {trackeval_version, benchmarks: {MOT15|MOT17: {tracker: {seq|COMBINED_SEQ:
    {metric: value}}}}}, HOTA-family values averaged over alpha like TrackEval's summary.

Only numpy and trackeval are used here (no engine import): the reference must not share code with
what it checks.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "engine" / "metrics" / "fixtures"
SEQ = "TUD-Stadtmitte"


def fmt(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def write_rows(path: Path, rows: np.ndarray) -> None:
    path.write_text("".join(",".join(fmt(v) for v in row) + "\n" for row in rows.tolist()))


def load(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", ndmin=2)


def results_from_gt(gt: np.ndarray) -> np.ndarray:
    out = np.full((len(gt), 10), -1.0)
    out[:, :6] = gt[:, :6]
    out[:, 6] = 1.0
    return out


def make_variants(gt: np.ndarray, det: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    variants = {}
    det_ids = det.copy()
    det_ids[:, 1] = np.arange(1, len(det) + 1)
    variants["det_ids"] = det_ids

    jitter = results_from_gt(gt)
    jitter[:, 2:4] += rng.normal(0, 4.0, (len(jitter), 2))
    jitter[:, 4:6] *= rng.uniform(0.85, 1.15, (len(jitter), 2))
    jitter = jitter[rng.random(len(jitter)) > 0.10]
    n_fp = len(jitter) // 20
    fp = jitter[rng.integers(0, len(jitter), n_fp)].copy()
    fp[:, 1] = 1000 + np.arange(n_fp)
    fp[:, 2] += rng.choice([-1, 1], n_fp) * rng.uniform(60, 200, n_fp)
    jitter[:, 2:6] = np.round(jitter[:, 2:6], 2)  # keep the committed file small
    fp[:, 2] = np.round(fp[:, 2], 2)
    variants["gt_jitter"] = np.concatenate([jitter, fp])[np.lexsort((np.r_[jitter[:, 1], fp[:, 1]], np.r_[jitter[:, 0], fp[:, 0]]))]

    swaps = results_from_gt(gt)
    ids = np.unique(swaps[:, 1])
    for k in range(0, len(ids) - 1, 2):  # swap identities of pairs after the middle of their overlap
        a, b = ids[k], ids[k + 1]
        cut = np.median(swaps[(swaps[:, 1] == a) | (swaps[:, 1] == b), 0])
        late_a = (swaps[:, 1] == a) & (swaps[:, 0] > cut)
        late_b = (swaps[:, 1] == b) & (swaps[:, 0] > cut)
        swaps[late_a, 1], swaps[late_b, 1] = b, a
    frag = (swaps[:, 1] == ids[-1]) & (swaps[:, 0] % 40 >= 30)
    swaps[frag, 1] += 500  # fragments: a new id for 10 frames out of 40
    swaps[:, 2] += np.round(rng.normal(0, 2.0, len(swaps)), 2)
    variants["gt_swaps"] = swaps
    return variants


def make_mot17(gt: np.ndarray, rng: np.random.Generator, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """A 9-column MOT17-style gt from the MOT15 one (flags, distractor/other classes, visibility)
    and a matching results file that also covers the distractors (which must then be removed)."""
    rows = gt[(gt[:, 0] >= first) & (gt[:, 0] <= last)].copy()
    rows[:, 0] -= first - 1
    out = np.zeros((len(rows), 9))
    out[:, :6] = rows[:, :6]
    out[:, 6] = 1
    out[:, 7] = 1
    out[:, 8] = np.round(rng.uniform(0, 1, len(rows)), 3)
    ids = np.unique(out[:, 1])
    out[out[:, 1] == ids[0], 7] = 7  # static person (distractor)
    out[out[:, 1] == ids[1], 7] = 2  # person on vehicle (distractor)
    out[out[:, 1] == ids[2], 7] = 12 if len(ids) > 2 else 1  # reflection (distractor)
    out[out[:, 1] == ids[3], 6] = 0  # flag 0: ignored
    out[(out[:, 1] == ids[4]) & (out[:, 0] % 3 == 0), 7] = 9  # occluder: not evaluated, not a distractor
    pred = results_from_gt(out)
    pred[:, 2:4] += np.round(rng.normal(0, 5.0, (len(pred), 2)), 2)
    pred = pred[rng.random(len(pred)) > 0.08]
    swap = (pred[:, 1] == ids[5]) & (pred[:, 0] > np.median(pred[pred[:, 1] == ids[5], 0]))
    pred[swap, 1] = 77
    return out, pred


def run_trackeval(workdir: Path, benchmark: str, gts: dict[str, np.ndarray], trackers: dict[str, dict[str, Path]]):
    import trackeval

    split = "train"
    gt_root = workdir / benchmark / "gt"
    tr_root = workdir / benchmark / "trackers"
    for seq, gt_rows in gts.items():
        seq_dir = gt_root / f"{benchmark}-{split}" / seq
        (seq_dir / "gt").mkdir(parents=True)
        write_rows(seq_dir / "gt" / "gt.txt", gt_rows)
        length = int(gt_rows[:, 0].max())
        (seq_dir / "seqinfo.ini").write_text(
            f"[Sequence]\nname={seq}\nimDir=img1\nframeRate=25\nseqLength={length}\n"
            "imWidth=640\nimHeight=480\nimExt=.jpg\n"
        )
    for tracker, files in trackers.items():
        folder = tr_root / f"{benchmark}-{split}" / tracker / "data"
        folder.mkdir(parents=True)
        for seq, path in files.items():
            shutil.copyfile(path, folder / f"{seq}.txt")
    seqmap = workdir / benchmark / "seqmap.txt"
    seqmap.write_text("name\n" + "".join(f"{s}\n" for s in gts))

    eval_config = trackeval.Evaluator.get_default_eval_config()
    eval_config.update(USE_PARALLEL=False, PRINT_RESULTS=False, PRINT_CONFIG=False, TIME_PROGRESS=False,
                       OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False, PLOT_CURVES=False, OUTPUT_EMPTY_CLASSES=False,
                       DISPLAY_LESS_PROGRESS=True)
    dataset_config = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    dataset_config.update(GT_FOLDER=str(gt_root), TRACKERS_FOLDER=str(tr_root), BENCHMARK=benchmark,
                          SPLIT_TO_EVAL=split, SEQMAP_FILE=str(seqmap), TRACKERS_TO_EVAL=list(trackers),
                          PRINT_CONFIG=False, OUTPUT_FOLDER=str(workdir / benchmark / "out"))
    evaluator = trackeval.Evaluator(eval_config)
    dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
               trackeval.metrics.Identity({"PRINT_CONFIG": False})]
    output, messages = evaluator.evaluate([dataset], metrics)
    result = {}
    for tracker, per_seq in output["MotChallenge2DBox"].items():
        if messages["MotChallenge2DBox"][tracker] != "Success":
            raise RuntimeError(f"TrackEval failed on {tracker}: {messages['MotChallenge2DBox'][tracker]}")
        result[tracker] = {}
        for seq, per_class in per_seq.items():
            flat = {}
            for metric_name, values in per_class["pedestrian"].items():
                for key, value in values.items():
                    flat[key] = float(np.mean(value))
            result[tracker][seq] = flat
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "mot" / SEQ)
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                        help="another MOT15-semantics results file on TUD-Stadtmitte to include")
    args = parser.parse_args()

    rng = np.random.default_rng(20261124)
    gt = load(args.data / "gt.txt")
    det = load(args.data / "det.txt")
    FIXTURES.mkdir(parents=True, exist_ok=True)

    mot15_files = {}
    for name, rows in make_variants(gt, det, rng).items():
        write_rows(FIXTURES / f"{name}.txt", rows)
        mot15_files[name] = FIXTURES / f"{name}.txt"
    for spec in args.extra:
        name, _, path = spec.partition("=")
        shutil.copyfile(path, FIXTURES / f"{name}.txt")
        mot15_files[name] = FIXTURES / f"{name}.txt"

    gt_a, pred_a = make_mot17(gt, rng, 1, 179)
    gt_b, pred_b = make_mot17(gt, rng, 60, 150)
    for name, rows in (("mot17_gt_A", gt_a), ("mot17_pred_A", pred_a), ("mot17_gt_B", gt_b), ("mot17_pred_B", pred_b)):
        write_rows(FIXTURES / f"{name}.txt", rows)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mot15 = run_trackeval(tmp, "MOT15", {SEQ: gt}, {name: {SEQ: path} for name, path in mot15_files.items()})
        mot17 = run_trackeval(
            tmp, "MOT17", {"SYN-A": gt_a, "SYN-B": gt_b},
            {"jitter": {"SYN-A": FIXTURES / "mot17_pred_A.txt", "SYN-B": FIXTURES / "mot17_pred_B.txt"}},
        )
    fixture = {
        "trackeval_version": metadata.version("trackeval"),
        "numpy_version": np.__version__,
        "note": "written by tools/trackeval_reference.py; HOTA-family values are means over alpha",
        "seq_lengths": {SEQ: int(gt[:, 0].max()), "SYN-A": int(gt_a[:, 0].max()), "SYN-B": int(gt_b[:, 0].max())},
        "benchmarks": {"MOT15": mot15, "MOT17": mot17},
    }
    out = FIXTURES / "trackeval_reference.json"
    out.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
    for name, per_seq in mot15.items():
        r = per_seq[SEQ]
        print(f"MOT15 {name:10s} MOTA {r['MOTA']:.4f} IDF1 {r['IDF1']:.4f} HOTA {r['HOTA']:.4f} MOTP {r['MOTP']:.4f}")
    r = mot17["jitter"]["COMBINED_SEQ"]
    print(f"MOT17 combined   MOTA {r['MOTA']:.4f} IDF1 {r['IDF1']:.4f} HOTA {r['HOTA']:.4f}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
