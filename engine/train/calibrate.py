"""Post-training calibration of the detection score against the tracker's fixed thresholds.

ByteTracker starts tracks only from detections scoring >= 0.7 and associates first those >= 0.6
(ByteTrack's published defaults, which `stv infer` uses). A briefly trained CenterNet heatmap ranks
objects well above background long before its peaks reach those values, so the tracker would drop
correct detections. Shifting the heatmap's final bias by delta multiplies every detection's odds by
e^delta (ranking unchanged); delta is chosen to maximise MOTA on held-out validation sequences
(never the test clips), and is stored in the checkpoint's extra metadata.

    python -m engine.train.calibrate MODEL.pt VAL_DIR OUT.pt [--clips N]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

SHIFTS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def heatmap_bias(model: Any):
    return model.tracking_head.heatmap[-1].bias


def calibrate_scores(model: Any, sequences: list[Path], *, shifts: tuple[float, ...] = SHIFTS,
                     device: str = "cpu") -> tuple[float, dict[float, float]]:
    """Apply the bias shift with the best validation MOTA to ``model`` (in place); returns it and MOTA per shift."""
    import torch

    from engine.train.tracking_eval import evaluate_tracking

    bias = heatmap_bias(model)
    original = bias.detach().clone()
    table: dict[float, float] = {}
    with torch.no_grad():
        for delta in shifts:
            bias.copy_(original + delta)
            table[delta] = float(evaluate_tracking(model, sequences, device=device)["MOTA"])
        best = max(table, key=lambda d: (table[d], -abs(d)))
        bias.copy_(original + best)
    return best, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.train.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("val", help="a stv make-synthetic folder (validation seed, never the test seed)")
    parser.add_argument("out")
    parser.add_argument("--clips", type=int, default=6, help="validation sequences used (default 6)")
    args = parser.parse_args(argv)
    from engine.data.synthetic import read_benchmark
    from engine.model import load_checkpoint, save_checkpoint

    model, meta = load_checkpoint(args.model)
    sequences = [c.folder for c in read_benchmark(args.val).clips[:args.clips]]
    best, table = calibrate_scores(model, sequences)
    print("validation MOTA per heatmap bias shift: " + ", ".join(f"{d:+.1f}: {m:.3f}" for d, m in table.items()))
    print(f"chosen shift {best:+.1f}")
    extra = dict(meta.get("extra") or {})
    extra["score_calibration"] = {"heatmap_bias_shift": best, "validation_mota": {str(k): v for k, v in table.items()},
                                  "validation": str(Path(args.val).resolve()), "clips": args.clips}
    save_checkpoint(args.out, model, class_names=list(meta["class_names"]), extra=extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
