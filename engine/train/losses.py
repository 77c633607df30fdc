"""Training losses of the unified model: action classification and the CenterNet/FairMOT tracking head.

Target layout (what ``engine.model.targets.encode_targets`` produces, batched by ``collate``), with
M = the maximum number of objects per frame and h, w the output grid (input size / stride):

    heatmap   (B, T, 1, h, w) float   Gaussian centre heatmap, exactly 1 at each object's centre cell
    index     (B, T, M) int64         flat centre cell y * w + x of each object slot
    mask      (B, T, M) bool          which slots hold an object
    size      (B, T, M, 2) float      box (w, h) in input pixels
    offset    (B, T, M, 2) float      sub-cell centre offset in cells, in [0, 1)
    ids       (B, T, M) int64         track identity within its clip (-1 = none)
    actor_labels (B, T, M) int64      action class of each actor (-1 = unknown)

Re-ID (FairMOT trains a linear classifier over every identity of the data set). Our identities are
per clip, so each batch remaps (source clip, track id) pairs to batch classes 0..n-1 and classifies
every centre embedding against the batch's class prototypes (the L2-normalised mean embedding of each
identity, detached), with a fixed scale; cross-entropy. This is FairMOT's identity classification
with the classifier's weights replaced by per-batch prototypes, so no classifier has to be sized to
the data set and clips can be added freely. The key is the source clip, not the batch row, so two
windows of one clip in a batch are the same identities (positives, never negatives). The target
logit carries an additive cosine margin (CosFace): classifying is not enough, an embedding must be
``margin`` closer to its own prototype than to any other. The tracker gates appearance matches at a
fixed cosine distance (engine.tracking.ByteTracker's appearance_threshold, 0.25): without the margin
same-identity similarities spread down to ~0.5 and live tracks lost their detections to new IDs.

Loss weights are fixed (documented in ``LossWeights``), CenterNet's 1 / 0.1 / 1 for heatmap / size /
offset; FairMOT's learnable uncertainty weighting is not used because it needs many epochs to settle.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossWeights:
    action: float = 1.0        # clip-level action cross-entropy
    heatmap: float = 1.0       # focal loss on the centre heatmap
    size: float = 0.1          # L1 on box (w, h) in input pixels
    offset: float = 1.0        # L1 on the sub-cell offset
    reid: float = 1.0          # identity cross-entropy against batch prototypes (0.1 before: IDs switched)
    track_action: float = 0.5  # per-actor action cross-entropy at object centres

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def focal_heatmap_loss(logits: torch.Tensor, target: torch.Tensor, *, alpha: float = 2.0,
                       beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel-wise focal loss, normalised by the number of centres.

    logits, target: same shape; target in [0, 1] with exactly 1 at object centres. Computed in
    log-space from logits (stable in fp16/bf16 autocast: everything is cast to fp32 here).
    """
    if logits.shape != target.shape:
        raise ValueError(f"heatmap logits {tuple(logits.shape)} and target {tuple(target.shape)} differ")
    logits = logits.float()
    target = target.float()
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    p = log_p.exp()
    positive = target.ge(1.0 - 1e-4).float()
    negative_weight = (1.0 - target).pow(beta) * (1.0 - positive)
    pos_loss = -(log_p * (1.0 - p).pow(alpha) * positive).sum()
    neg_loss = -(log_not_p * p.pow(alpha) * negative_weight).sum()
    num_pos = positive.sum().clamp(min=1.0)
    return (pos_loss + neg_loss) / num_pos


def gather_at(feature: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Values of ``feature`` (B, T, C, h, w) at flat cells ``index`` (B, T, M) -> (B, T, M, C)."""
    b, t, c, h, w = feature.shape
    if index.shape[:2] != (b, t):
        raise ValueError(f"index {tuple(index.shape)} does not match feature {tuple(feature.shape)}")
    flat = feature.reshape(b, t, c, h * w)
    idx = index.clamp(0, h * w - 1).unsqueeze(2).expand(b, t, c, index.shape[2])
    return flat.gather(3, idx).permute(0, 1, 3, 2)


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean L1 over the masked object slots. pred, target (B, T, M, C); mask (B, T, M)."""
    m = mask.unsqueeze(-1).float()
    return (F.l1_loss(pred.float() * m, target.float() * m, reduction="sum")
            / (m.sum() * pred.shape[-1]).clamp(min=1.0))


def reid_loss(embedding_at: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, *,
              source: torch.Tensor | None = None, scale: float = 16.0, margin: float = 0.3) -> torch.Tensor:
    """Identity cross-entropy of centre embeddings (B, T, M, E) against per-batch identity prototypes.

    Identities are (source clip, track id) pairs, ``source`` (B,) int64 naming each row's clip (None:
    every row its own clip); a batch with fewer than two identities gives 0. Logits are
    scale * (cos(embedding, prototype) - margin for its own identity).
    """
    valid = mask & ids.ge(0)
    if int(valid.sum()) == 0:
        return embedding_at.sum() * 0.0
    b = ids.shape[0]
    rows = torch.arange(b, device=ids.device) if source is None else source.to(ids.device).long().reshape(b)
    sample = rows.view(b, 1, 1).expand_as(ids)
    key = sample[valid] * (int(ids.max()) + 1) + ids[valid]
    classes, label = torch.unique(key, return_inverse=True)
    if len(classes) < 2:
        return embedding_at.sum() * 0.0
    emb = F.normalize(embedding_at[valid].float(), dim=-1)
    prototypes = torch.zeros(len(classes), emb.shape[1], device=emb.device, dtype=emb.dtype)
    prototypes.index_add_(0, label, emb.detach())
    prototypes = F.normalize(prototypes, dim=-1)
    cosine = emb @ prototypes.t()
    cosine = cosine - margin * F.one_hot(label, len(classes)).to(cosine.dtype)
    return F.cross_entropy(scale * cosine, label)


def track_action_loss(action_at: torch.Tensor, actor_labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of per-location action logits (B, T, M, K) at actor centres with known labels."""
    valid = mask & actor_labels.ge(0)
    if int(valid.sum()) == 0:
        return action_at.sum() * 0.0
    return F.cross_entropy(action_at[valid].float(), actor_labels[valid])


def compute_losses(output: Any, batch: dict[str, torch.Tensor], *,
                   weights: LossWeights = LossWeights()) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted total loss and its parts (as floats, unweighted) for one batch.

    ``output`` is a ``ModelOutput``; ``batch`` holds "label" (B,) int64 (-1: no action label, masked) and, when it has tracking
    targets, the keys of the module docstring. Without "heatmap" only the action loss is used.
    """
    parts: dict[str, torch.Tensor] = {}
    label = batch["label"]
    if label.ndim != 1 or label.shape[0] != output.action_logits.shape[0]:
        raise ValueError(f"label must be (B,) with B={output.action_logits.shape[0]}, got {tuple(label.shape)}")
    # labels -1: a data set without action labels (MOT17); those clips train the tracking head only
    parts["action"] = F.cross_entropy(output.action_logits.float(), label, ignore_index=-1) \
        if bool((label >= 0).any()) else output.action_logits.sum() * 0.0
    if "heatmap" in batch:
        mask = batch["mask"].bool()
        index = batch["index"]
        parts["heatmap"] = focal_heatmap_loss(output.heatmap_logits, batch["heatmap"])
        parts["size"] = masked_l1(gather_at(output.box_size, index), batch["size"], mask)
        parts["offset"] = masked_l1(gather_at(output.offset, index), batch["offset"], mask)
        if weights.reid > 0 and "ids" in batch:
            parts["reid"] = reid_loss(gather_at(output.embedding, index), batch["ids"], mask,
                                      source=batch.get("source"))
        if weights.track_action > 0 and "actor_labels" in batch and output.action_map_logits is not None:
            parts["track_action"] = track_action_loss(gather_at(output.action_map_logits, index),
                                                      batch["actor_labels"], mask)
    w = weights.to_dict()
    total = sum(w[name] * value for name, value in parts.items())
    return total, {name: float(value.detach()) for name, value in parts.items()}
