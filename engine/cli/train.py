"""`stv train`: train a model on a synthetic benchmark, UCF-101/HMDB-51 or MOT17 (one process or torchrun).

    stv train --config tiny --data DIR [--epochs E] [--out DIR] [--resume] [--no-attention]
    stv train --config paper --data UCF-101 --split 1 --backbone-weights resnet50.pth --workers 8
    torchrun --nproc-per-node N -m engine.cli.main train --config paper --data DIR ...

UCF-101 / HMDB-51 trees and MOT sequences are streamed (decoded by --workers processes, a random
window and augmentation per clip and epoch); a synthetic benchmark is decoded once into memory
unless --stream.

Defaults are the paper's recipe: Adam, lr 1e-4 divided by 10 every 30 epochs, batch 16 for
action-only data and 8 when tracking targets are present (global, split over the ranks).
"""
from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True,
                        help="stv make-synthetic folder, a UCF-101/HMDB-51 tree, or MOT17 sequences (train/)")
    parser.add_argument("--split", type=int, default=1, choices=(1, 2, 3),
                        help="official UCF-101/HMDB-51 train/test split (default 1)")
    parser.add_argument("--workers", type=int, default=0,
                        help="DataLoader processes decoding clips (default 0: in the training process)")
    parser.add_argument("--stream", action="store_true",
                        help="stream a synthetic benchmark too (default: decoded once and cached in memory)")
    parser.add_argument("--backbone-weights", default=None, metavar="PTH",
                        help="torchvision ImageNet ResNet state_dict file (e.g. resnet50.pth) for the encoder")
    parser.add_argument("--init-weights", default=None, metavar="CKPT",
                        help="start from this checkpoint's weights (fine-tuning: same config and classes)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop after N optimizer steps (smoke runs and benchmarks; the run is not resumable)")
    parser.add_argument("--amp-dtype", default="float16", choices=("float16", "bfloat16"),
                        help="mixed-precision dtype on CUDA (default float16, with loss scaling)")
    parser.add_argument("--config", default="tiny", help="model preset: tiny or paper (default tiny)")
    parser.add_argument("--out", default="runs/train", help="run folder: model.pt, train_state.pt, logs")
    parser.add_argument("--epochs", type=int, default=60, help="total epochs (default 60)")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4, the paper's)")
    parser.add_argument("--lr-step", type=int, default=30, help="divide the lr by 10 every N epochs (default 30)")
    parser.add_argument("--lr-gamma", type=float, default=0.1, help="lr factor at each step (default 0.1)")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="Adam weight decay (default 0)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="global batch (default: 8 with tracking targets, 16 for action-only data)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of initialisation, clip order and augmentation (default 0; same seed, same run)")
    parser.add_argument("--no-attention", action="store_true",
                        help="the ablation: mean pooling instead of hierarchical attention")
    parser.add_argument("--windows-per-clip", type=int, default=1,
                        help="training windows of clip_len frames taken from each clip (default 1)")
    parser.add_argument("--hflip", action="store_true", help="augment: mirror half of the clips left-right")
    parser.add_argument("--max-clips", type=int, default=None, help="use at most N clips of the data set")
    parser.add_argument("--val-data", default=None, help="a held-out data folder: its top-1 is logged each epoch")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=JSON",
                        help="override a model config field, e.g. --set dropout=0.2 (repeatable)")
    parser.add_argument("--loss-weight", dest="loss_weights", action="append", default=[], metavar="PART=W",
                        help="loss weight: action, heatmap, size, offset, reid, track_action (repeatable)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda (under torchrun: cuda:LOCAL_RANK)")
    parser.add_argument("--no-amp", action="store_true", help="fp32 on CUDA too (AMP is CUDA-only anyway)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt exactly")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (log lines only)")


def _parse_pairs(pairs: list[str], *, what: str, as_json: bool) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} must look like NAME=VALUE, got {pair!r}")
        out[key.strip()] = json.loads(value) if as_json else float(value)
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.train.checkpointing import TrainStateError
    from engine.train.loop import TrainSettings, train
    from engine.train.losses import LossWeights

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        overrides = _parse_pairs(args.overrides, what="--set", as_json=True)
        weights = {**LossWeights().to_dict(), **_parse_pairs(args.loss_weights, what="--loss-weight", as_json=False)}
        LossWeights(**weights)  # unknown names fail here
        settings = TrainSettings(
            data=args.data, out=args.out, config=args.config, epochs=args.epochs, lr=args.lr,
            lr_step=args.lr_step, lr_gamma=args.lr_gamma, weight_decay=args.weight_decay,
            batch_size=args.batch_size, seed=args.seed, no_attention=args.no_attention,
            windows_per_clip=args.windows_per_clip, max_clips=args.max_clips, device=args.device,
            amp=not args.no_amp, resume=args.resume, progress=not args.no_progress and sys.stderr.isatty(),
            val_data=args.val_data, hflip=args.hflip, loss_weights=weights, config_overrides=overrides,
            workers=args.workers, split=args.split, stream=True if args.stream else None,
            backbone_weights=args.backbone_weights, amp_dtype=args.amp_dtype, max_steps=args.max_steps,
            init_weights=args.init_weights)
        result = train(settings)
    except (ValueError, OSError, TrainStateError, TypeError) as exc:
        print(f"stv train: {exc}", file=sys.stderr)
        return 1
    print(f"trained {result.epochs_run} epoch(s) in {result.seconds:.0f}s -> {result.model_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.cli.train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
