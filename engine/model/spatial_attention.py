"""The spatial attention in the encoder ("ResNet-50 modified to include spatial attention", §3.2).

We use CBAM's spatial attention module (Woo et al., "CBAM: Convolutional Block Attention Module",
ECCV 2018, §3 "Spatial attention module"): pool the features over channels by mean and by max, a 7x7
convolution over the two pooled maps gives one logit per location, and the features are multiplied by
its sigmoid. It is applied to the outputs of ResNet stages 2, 3 and 4 (C3, C4, C5: what the FPN reads).

One change, so that ImageNet weights keep working: the gate is ``2 * sigmoid(logit)`` with the conv
zero-initialised, so a fresh module is exactly the identity and a pretrained ResNet initially computes
what it was trained to compute; training then learns where to amplify or suppress.

The parameters live under ``spatial_attention.*`` next to torchvision's keys, so
``load_torchvision_weights`` loads an ImageNet checkpoint and reports exactly those keys as missing.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.model.backbone import ResNet
from engine.model.recompute import exact_checkpoint

ATTENDED_STAGES = ("layer2", "layer3", "layer4")


class CBAMSpatialAttention(nn.Module):
    """x * 2·σ(conv7x7([mean_c x, max_c x])): CBAM's spatial attention, identity at initialisation."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size=kernel_size, padding=kernel_size // 2, bias=True)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, 1, H, W) gate in (0, 2)."""
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return 2.0 * torch.sigmoid(self.conv(pooled))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class AttentiveResNet(ResNet):
    """A torchvision-keyed ResNet with CBAM spatial attention after stages 2-4 (under ``spatial_attention.``).

    forward: (N, 3, H, W) normalised images -> (C3, C4, C5) at strides 8, 16, 32.
    """

    def __init__(self, arch: str = "resnet50", *, width: float = 1.0, attention: bool = True) -> None:
        super().__init__(arch, width=width, include_fc=False)
        self.spatial_attention = nn.ModuleDict(
            {name: CBAMSpatialAttention() for name in ATTENDED_STAGES} if attention else {})

    def _attend(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_attention[name](x) if name in self.spatial_attention else x

    def forward(self, x: torch.Tensor, *, recompute: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """``recompute``: keep only each stage's output and recompute its inside in backward
        (engine.model.recompute; same results, a stage's activations alive at a time instead of all)."""
        stages = (lambda y: self.layer1(self.stem(y)),
                  lambda y: self._attend("layer2", self.layer2(y)),
                  lambda y: self._attend("layer3", self.layer3(y)),
                  lambda y: self._attend("layer4", self.layer4(y)))
        outputs = []
        for stage in stages:
            x = exact_checkpoint(stage, x, stateful=self) if recompute else stage(x)
            outputs.append(x)
        return outputs[1], outputs[2], outputs[3]


@dataclass(frozen=True)
class LoadReport:
    """What ``load_torchvision_weights`` did: keys loaded, left at their init (missing), ignored."""

    loaded: tuple[str, ...]
    missing: tuple[str, ...]      # in the encoder but not the checkpoint: only spatial_attention.* allowed
    ignored: tuple[str, ...]      # in the checkpoint but not the encoder: only the classifier fc.*


class TorchvisionWeightsError(ValueError):
    """A state dict that is not a torchvision ResNet matching this encoder."""


def load_torchvision_weights(encoder: nn.Module, state_dict: dict[str, torch.Tensor]) -> LoadReport:
    """Load a torchvision ResNet state dict (e.g. ImageNet weights) into ``encoder``.

    ``encoder`` is an ``AttentiveResNet`` (or a model with one at ``.encoder``). The classifier
    (``fc.*``) is ignored and the spatial attention (``spatial_attention.*``) keeps its identity
    initialisation; any other missing or unexpected key, or a shape mismatch, raises
    ``TorchvisionWeightsError`` naming the keys.
    """
    if not isinstance(encoder, AttentiveResNet) and isinstance(getattr(encoder, "encoder", None), AttentiveResNet):
        encoder = encoder.encoder
    if not isinstance(state_dict, dict):
        raise TorchvisionWeightsError(f"expected a state dict, got {type(state_dict).__name__}")
    state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}
    ignored = tuple(sorted(k for k in state_dict if k.startswith("fc.")))
    usable = {k: v for k, v in state_dict.items() if not k.startswith("fc.")}
    own = encoder.state_dict()
    shape_errors = [f"{k}: checkpoint {tuple(v.shape)} vs encoder {tuple(own[k].shape)}"
                    for k, v in usable.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    missing = tuple(sorted(set(own) - set(usable)))
    unexpected = tuple(sorted(set(usable) - set(own)))
    bad_missing = [k for k in missing if not k.startswith("spatial_attention.")]
    if shape_errors or bad_missing or unexpected:
        parts = []
        if shape_errors:
            parts.append(f"{len(shape_errors)} shape mismatches (e.g. {shape_errors[:3]})")
        if bad_missing:
            parts.append(f"{len(bad_missing)} missing keys (e.g. {bad_missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {list(unexpected[:3])})")
        raise TorchvisionWeightsError("not a torchvision ResNet state dict for this encoder "
                                      f"({encoder.arch}, width {encoder.width}): " + "; ".join(parts))
    encoder.load_state_dict(usable, strict=False)  # checked above: only spatial_attention.* missing
    loaded = tuple(sorted(usable))
    return LoadReport(loaded=loaded, missing=missing, ignored=ignored)
