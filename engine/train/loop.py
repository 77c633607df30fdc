"""The training loop: one process or DDP under torchrun, AMP on CUDA, exact resume.

Recipe defaults are the paper's (section 4.1): Adam, lr 1e-4 divided by 10 every 30 epochs
(StepLR), batch 16 for action-only data and 8 when tracking targets are present (the joint
action + tracking objective runs at the tracking batch size, the paper's memory-bound one). The
batch size is global: each of N ranks takes batch / N clips.

Data: a UCF-101 / HMDB-51 tree or MOT sequences stream (engine.train.streaming: decoded by the
DataLoader's ``workers`` processes, a fresh random window + augmentation per clip and epoch); a
synthetic benchmark (the demo's CPU recipe) or a saved TrainingClips file is decoded once and cached
in memory (``stream=True`` streams a synthetic benchmark too).

Exact resume: clips are visited in the order of a DistributedSampler (seed + epoch), streamed
windows and augmentation depend only on (seed, epoch, index), not on the worker, and the training
state saved after every epoch carries the RNG states, so 2 epochs straight and 1 epoch +
``--resume`` 1 epoch give identical weights.

Data sets without action labels (MOT17) train a single placeholder action class whose loss is masked
(labels -1). ``backbone_weights`` starts the encoder from a torchvision ImageNet ResNet state_dict file.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from engine.train.checkpointing import (check_settings_match, load_train_state, restore_rng_state,
                                        save_train_state)
from engine.train.distributed import (DistributedContext, all_reduce_sums, average_buffers, barrier,
                                      cleanup_distributed, init_distributed)
from engine.train.losses import LossWeights, compute_losses
from engine.train.progress import format_epoch_line, log_line, progress_bar

ACTION_BATCH = 16
TRACKING_BATCH = 8
# settings a resumed run must share with the run it continues
RESUME_KEYS = ("config", "data", "no_attention", "lr", "lr_step", "lr_gamma", "batch_size", "seed",
               "windows_per_clip", "max_clips", "loss_weights", "weight_decay", "config_overrides", "hflip",
               "split", "stream", "amp_dtype", "init_weights")
AMP_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class TrainSettings:
    data: str
    out: str = "runs/train"
    config: str = "tiny"
    epochs: int = 60
    lr: float = 1e-4
    lr_step: int = 30
    lr_gamma: float = 0.1
    weight_decay: float = 0.0
    batch_size: int | None = None  # None: 8 with tracking targets, 16 without
    seed: int = 0
    no_attention: bool = False
    windows_per_clip: int = 1
    max_clips: int | None = None
    device: str = "auto"
    amp: bool = True               # autocast (+ GradScaler for float16), CUDA only
    amp_dtype: str = "float16"     # autocast dtype: float16 or bfloat16
    workers: int = 0               # DataLoader worker processes decoding clips
    split: int = 1                 # UCF-101 / HMDB-51 official split 1, 2 or 3
    stream: bool | None = None     # None: stream real data sets, cache synthetic ones; True/False forces
    backbone_weights: str | None = None  # torchvision ImageNet ResNet state_dict file for the encoder
    max_steps: int | None = None   # stop after this many optimizer steps (smoke runs, benchmarks)
    init_weights: str | None = None  # start from this checkpoint's weights (fine-tuning; same config and classes)
    resume: bool = False
    progress: bool = True
    val_data: str | None = None
    hflip: bool = False            # mirror half of the training clips (with their targets)
    loss_weights: dict[str, float] = field(default_factory=lambda: LossWeights().to_dict())
    config_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    model_path: Path
    state_path: Path
    epochs_run: int
    history: list[dict[str, float]]
    seconds: float
    model: torch.nn.Module  # the trained model (unwrapped from DDP), on the training device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _settings_dict(settings: TrainSettings) -> dict[str, Any]:
    d = asdict(settings)
    d["data"] = str(Path(settings.data).resolve())
    return d


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") else model


def train(settings: TrainSettings, *, ctx: DistributedContext | None = None,
          clips: Any = None, log: Callable[[str], None] | None = None) -> TrainResult:
    """Train per ``settings``; rank 0 writes ``out/model.pt`` and ``out/train_state.pt`` every epoch.

    clips   an already built ``TrainingClips`` (tests); default: built from ``settings.data``.
    """
    from engine.config import get_config
    from engine.model import build_model, save_checkpoint

    if settings.amp_dtype not in AMP_DTYPES:
        raise ValueError(f"amp_dtype must be one of {sorted(AMP_DTYPES)}, got {settings.amp_dtype!r}")
    if settings.split not in (1, 2, 3):
        raise ValueError(f"split must be 1, 2 or 3 (the official UCF-101 / HMDB-51 splits), got {settings.split}")
    if settings.workers < 0:
        raise ValueError(f"workers must be >= 0, got {settings.workers}")
    own_ctx = ctx is None
    ctx = ctx or init_distributed(device=settings.device)
    out = Path(settings.out)
    model_path = out / "model.pt"
    state_path = out / "train_state.pt"
    log_file = None
    try:
        if ctx.is_main:
            out.mkdir(parents=True, exist_ok=True)
            log_file = open(out / "train_log.txt", "a", encoding="utf-8")

        def say(line: str) -> None:
            if ctx.is_main:
                (log or (lambda s: log_line(s, log_file=log_file)))(line)
                if log is not None and log_file is not None:
                    log_file.write(line + "\n")
                    log_file.flush()

        seed_everything(settings.seed)
        overrides = dict(settings.config_overrides)
        if settings.no_attention:
            overrides["hierarchical_attention"] = False
        base_config = get_config(settings.config, **overrides)
        if clips is None:
            from engine.train.datasets import load_training_clips

            clips = load_training_clips(settings.data, config=base_config, out=out, ctx=ctx,
                                        windows_per_clip=settings.windows_per_clip, max_clips=settings.max_clips,
                                        progress=settings.progress and ctx.is_main, say=say,
                                        stream=settings.stream, fold=settings.split, seed=settings.seed)
        class_names = list(clips.class_names)
        from engine.train.datasets import describe_training_data

        trained_on = describe_training_data(settings.data, clips)
        config = get_config(settings.config, **{**overrides, "num_classes": len(class_names)})
        tracking = clips.has_tracking
        batch_size = settings.batch_size or (TRACKING_BATCH if tracking else ACTION_BATCH)
        if batch_size % ctx.world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by the {ctx.world_size} ranks")
        per_rank = batch_size // ctx.world_size

        seed_everything(settings.seed)  # the same initial weights on every rank, whatever building clips drew
        model = build_model(config)
        if settings.init_weights and not (settings.resume and state_path.is_file()):
            load_initial_weights(model, settings.init_weights, class_names=class_names)
            say(f"weights from {settings.init_weights} (fine-tuning)")
        if settings.backbone_weights and not (settings.resume and state_path.is_file()):
            report = load_backbone_weights(model, settings.backbone_weights)
            say(f"encoder from {settings.backbone_weights}: {len(report.loaded)} tensors loaded, "
                f"{len(report.missing)} left at init (spatial attention), {len(report.ignored)} ignored (classifier)")
        model = model.to(ctx.device)
        if ctx.distributed:
            from torch.nn.parallel import DistributedDataParallel

            # every parameter is in every step's graph (see unused_heads_term), as DDP's reducer needs
            model = DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=settings.lr_step, gamma=settings.lr_gamma)
        use_amp = settings.amp and ctx.device.type == "cuda"
        amp_dtype = AMP_DTYPES[settings.amp_dtype]
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
        weights = LossWeights(**settings.loss_weights)
        clips.hflip = settings.hflip
        sampler = torch.utils.data.DistributedSampler(clips, num_replicas=ctx.world_size, rank=ctx.rank,
                                                      shuffle=True, seed=settings.seed, drop_last=True)
        # one batch in flight per worker: the loader outpaces a training step many times over, and each
        # prefetched float batch of 16 clips x 8 frames at 224x384 is 132 MB of peak memory
        loader = torch.utils.data.DataLoader(clips, batch_size=per_rank, sampler=sampler, num_workers=settings.workers,
                                             drop_last=True, pin_memory=ctx.device.type == "cuda",
                                             prefetch_factor=1 if settings.workers > 0 else None)
        if len(loader) == 0:
            raise ValueError(f"{settings.data}: {len(clips)} training clips are fewer than one batch of {batch_size}")

        val_set = None
        if settings.val_data:
            from engine.train.evaluate import load_eval_set

            val_set = load_eval_set(settings.val_data, config=config, class_names=class_names)

        current = _settings_dict(settings)
        start_epoch = 0
        history: list[dict[str, float]] = []
        if settings.resume and state_path.is_file():
            state = load_train_state(state_path, map_location=ctx.device)
            check_settings_match(state_path, state["settings"], current, RESUME_KEYS)
            _unwrap(model).load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if scaler.is_enabled() and state["scaler"]:
                scaler.load_state_dict(state["scaler"])
            restore_rng_state(state["rng"])
            start_epoch = int(state["epoch"])
            history = list(state["history"])
            say(f"resumed from {state_path} after epoch {start_epoch}")
        elif settings.resume:
            say(f"no training state at {state_path}: starting from scratch")

        say(f"training {config.name} ({'with' if config.hierarchical_attention else 'without'} hierarchical "
            f"attention) on {len(clips)} clips{' with tracking targets' if tracking else ''}, "
            f"{len(class_names)} classes, batch {batch_size} over {ctx.world_size} rank(s), device {ctx.device}")
        began = time.perf_counter()
        steps = 0
        for epoch in range(start_epoch, settings.epochs):
            sampler.set_epoch(epoch)
            if hasattr(clips, "set_epoch"):
                clips.set_epoch(epoch)  # before iterating: the workers copy the dataset when the epoch starts
            model.train()
            epoch_start = time.perf_counter()
            sums: dict[str, float] = {"loss": 0.0, "correct": 0.0, "clips": 0.0, "batches": 0.0, "labelled": 0.0}
            bar = progress_bar(loader, enabled=settings.progress and ctx.is_main, total=len(loader),
                               desc=f"epoch {epoch + 1}/{settings.epochs}")
            for batch in bar:
                batch = {k: v.to(ctx.device, non_blocking=True) for k, v in batch.items()}
                with torch.autocast(device_type=ctx.device.type, dtype=amp_dtype, enabled=use_amp):
                    output = model(batch.pop("clip"))  # not kept through backward: the model saves what it needs
                total, parts = compute_losses(output, batch, weights=weights)
                if ctx.distributed and not tracking:
                    total = total + unused_heads_term(output)
                if not math.isfinite(float(total.detach())):
                    raise FloatingPointError(f"non-finite loss at epoch {epoch + 1}: {parts}")
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(total).backward()
                scaler.step(optimizer)
                scaler.update()
                n = batch["label"].shape[0]
                sums["loss"] += float(total.detach()) * n
                for name, value in parts.items():
                    sums[name] = sums.get(name, 0.0) + value * n
                labelled = batch["label"] >= 0
                sums["correct"] += float((output.action_logits.argmax(1) == batch["label"])[labelled].sum())
                sums["labelled"] = sums.get("labelled", 0.0) + float(labelled.sum())
                sums["clips"] += n
                sums["batches"] += 1
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{float(total.detach()):.3f}")
                steps += 1
                if steps == 1:
                    say(f"first step done {time.perf_counter() - began:.1f}s after the start of the first epoch")
                if settings.max_steps is not None and steps >= settings.max_steps:
                    break
            scheduler.step()
            average_buffers(ctx, _unwrap(model))
            sums = all_reduce_sums(ctx, sums)
            seconds = time.perf_counter() - epoch_start
            stats = {"epoch": float(epoch + 1), "epochs": float(settings.epochs),
                     "loss": sums["loss"] / sums["clips"], "accuracy": sums["correct"] / max(sums["labelled"], 1.0),
                     "clips_per_s": sums["clips"] / max(seconds, 1e-9), "lr": optimizer.param_groups[0]["lr"],
                     "seconds": seconds}
            for name in ("action", "heatmap", "size", "offset", "reid", "track_action"):
                if name in sums:
                    stats[name] = sums[name] / sums["clips"]
            if val_set is not None and ctx.is_main:
                from engine.train.evaluate import evaluate_actions

                stats["val_top1"] = evaluate_actions(_unwrap(model), val_set, device=ctx.device)["top1"]
            history.append(stats)
            if ctx.is_main:
                save_checkpoint(model_path, _unwrap(model), class_names=class_names,
                                extra={"training": {"epochs": epoch + 1, "settings": current,
                                                    "last_epoch": stats}, "trained_on": trained_on})
                save_train_state(state_path, model=_unwrap(model), optimizer=optimizer, scheduler=scheduler,
                                 scaler=scaler if scaler.is_enabled() else None, epoch=epoch + 1, settings=current,
                                 history=history)
                (out / "history.json").write_text(json.dumps(history, indent=1))
            say(format_epoch_line(stats))
            barrier(ctx)
            if settings.max_steps is not None and steps >= settings.max_steps:
                say(f"stopped after --max-steps {settings.max_steps} step(s)")
                break
        return TrainResult(model_path=model_path, state_path=state_path,
                           epochs_run=len(history) - start_epoch, history=history,
                           seconds=time.perf_counter() - began, model=_unwrap(model))
    finally:
        if log_file is not None:
            log_file.close()
        if own_ctx:
            cleanup_distributed(ctx)


def load_backbone_weights(model: torch.nn.Module, path: str | Path):
    """Load a torchvision ResNet state_dict file (e.g. ImageNet resnet50.pth; a {"state_dict": ...} or
    {"model": ...} wrapper is unwrapped) into ``model``'s encoder; ValueError naming the file otherwise."""
    from engine.model import TorchvisionWeightsError, load_torchvision_weights
    from engine.model.checkpoint import safe_torch_load

    blob = safe_torch_load(path, what="torchvision state_dict file")
    if isinstance(blob, dict):
        for key in ("state_dict", "model"):
            if isinstance(blob.get(key), dict):
                blob = blob[key]
                break
    try:
        return load_torchvision_weights(model, blob)
    except TorchvisionWeightsError as exc:
        raise ValueError(f"{path}: {exc}") from None


def unused_heads_term(output: Any) -> torch.Tensor:
    """0 * the tracking outputs: action-only data leaves the tracking head out of the loss, and DDP
    cannot find unused parameters behind a dataclass output, so they join the graph with weight 0."""
    return sum(getattr(output, name).float().sum() for name in
               ("heatmap_logits", "box_size", "offset", "embedding", "action_map_logits")) * 0.0


def load_initial_weights(model: torch.nn.Module, path: str | Path, *, class_names: list[str]) -> None:
    """Copy a checkpoint's weights into ``model`` (fine-tuning); ValueError naming the file unless its config
    (but the name) and class names are the model's."""
    from engine.model import load_checkpoint

    source, meta = load_checkpoint(path)
    mine = {k: v for k, v in model.config.to_dict().items() if k != "name"}
    theirs = {k: v for k, v in source.config.to_dict().items() if k != "name"}
    if mine != theirs:
        diffs = ", ".join(f"{k}: {theirs.get(k)!r} vs {mine[k]!r}" for k in mine if mine[k] != theirs.get(k))
        raise ValueError(f"{path}: its model config differs from this run's ({diffs})")
    if list(meta["class_names"]) != list(class_names):
        raise ValueError(f"{path}: classes {meta['class_names']} differ from the data's {class_names}")
    model.load_state_dict(source.state_dict())

