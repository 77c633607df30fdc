"""The unified spatial-temporal model (paper §3): encoder -> temporal propagation -> attention -> heads.

    clip (B, T, 3, H, W) in [0, 1]
      -> ImageNet normalisation
      -> per frame: ResNet with CBAM spatial attention (C3, C4, C5) -> FPN -> F_t (D, H/8, W/8)   eq. 1
      -> temporal propagation over the T frames (engine.ops.propagate)         -> G_t (C, h, w)  eq. 2
      -> hierarchical attention (alpha, beta, R)                                              eqs 3-5
      -> action head on R; CenterNet/FairMOT tracking head on every G_t
"""
from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig, get_config
from engine.model.attention import HierarchicalAttention
from engine.model.decode import decode_detections
from engine.model.fpn import FPN
from engine.model.heads import ActionHead, TrackingHead
from engine.model.outputs import Detections, ModelOutput
from engine.model.recompute import exact_checkpoint
from engine.model.spatial_attention import AttentiveResNet
from engine.model.temporal import TemporalPropagation

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class UnifiedModel(nn.Module):
    """See the module docstring. ``config`` is the ``ModelConfig`` it was built from.

    Submodules (state_dict prefixes): ``encoder`` (torchvision ResNet keys + ``spatial_attention.*``),
    ``fpn``, ``temporal``, ``attention``, ``action_head``, ``tracking_head``.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = AttentiveResNet(config.backbone, width=config.width, attention=config.spatial_attention)
        self.fpn = FPN(self.encoder.stage_channels[1:], config.feature_channels)
        self.temporal = TemporalPropagation(config.feature_channels, config.temporal_channels,
                                            kernel_size=config.kernel_size, groups=config.groups,
                                            causal=config.causal, backend=config.propagate_backend)
        self.attention = HierarchicalAttention(config.temporal_channels, enabled=config.hierarchical_attention)
        self.action_head = ActionHead(config.temporal_channels, config.num_classes, dropout=config.dropout)
        self.tracking_head = TrackingHead(config.temporal_channels, hidden=config.head_channels,
                                          embed_dim=config.embed_dim, num_classes=config.num_classes,
                                          stride=config.stride)
        # training recomputes the encoder + FPN and the temporal module's activations in backward
        # (engine.model.recompute: same loss and gradients, ~2/3 of the peak memory, one more forward)
        self.recompute_activations = True
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def check_clip(self, clip: torch.Tensor) -> None:
        """ValueError unless ``clip`` is a floating (B, T, 3, H, W) tensor with H, W multiples of 32."""
        if not isinstance(clip, torch.Tensor):
            raise ValueError(f"clip must be a torch.Tensor, got {type(clip).__name__}")
        if clip.ndim != 5 or clip.shape[2] != 3:
            raise ValueError(f"clip must be (B, T, 3, H, W), got shape {tuple(clip.shape)}")
        if not clip.is_floating_point():
            raise ValueError(f"clip must be a float tensor in [0, 1], got {clip.dtype}")
        b, t, _, h, w = clip.shape
        if b < 1 or t < 1 or h < 32 or w < 32 or h % 32 or w % 32:
            raise ValueError(f"clip (B, T, 3, H, W) = {tuple(clip.shape)}: need B, T >= 1 and H, W positive "
                             f"multiples of 32 (the configured input is {self.config.input_size})")

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """Per-frame fused encoder features F: (B, T, 3, H, W) -> (B, T, D, H/8, W/8)."""
        b, t = clip.shape[:2]
        frames = clip.reshape(b * t, *clip.shape[2:])
        scale = (1.0 / self.pixel_std).to(frames.dtype)
        # (x - mean) / std in one pass; channels-last makes the 3-channel stem conv and its max-pool
        # 1.5-3x faster on CPU (oneDNN), and the later layers keep that layout
        shift = -self.pixel_mean.to(frames.dtype) * scale
        if frames.requires_grad and torch.is_grad_enabled():
            frames = torch.addcmul(shift, frames, scale).contiguous(memory_format=torch.channels_last)
        else:  # normalise straight into a channels-last buffer: one pass over the pixels
            out = torch.empty(frames.shape, dtype=frames.dtype, device=frames.device,
                              memory_format=torch.channels_last)
            frames = torch.addcmul(shift, frames, scale, out=out)
        if self._recomputing():
            stages = self.encoder(frames, recompute=True)
            fused = exact_checkpoint(lambda *c: self.fpn(c), *stages, stateful=self.fpn)
        else:
            fused = self.fpn(self.encoder(frames))
        return fused.reshape(b, t, *fused.shape[1:])

    def _recomputing(self) -> bool:
        """Whether this forward recomputes activations in backward (training with grads only)."""
        return self.recompute_activations and self.training and torch.is_grad_enabled()

    def forward(self, clip: torch.Tensor, *, state: torch.Tensor | None = None) -> ModelOutput:
        """clip (B, T, 3, H, W) float in [0, 1] -> ModelOutput. ``state``: a causal model's carried state."""
        self.check_clip(clip)
        features = self.features(clip)
        if self._recomputing():
            g, new_state = exact_checkpoint(lambda f: self.temporal(f, state=state), features,
                                            stateful=self.temporal)
        else:
            g, new_state = self.temporal(features, state=state)
        r, alpha, beta = self.attention(g)
        tracking = self.tracking_head(g)
        return ModelOutput(action_logits=self.action_head(r), alpha=alpha, beta=beta, state=new_state, **tracking)

    def decode(self, output: ModelOutput, *, score_threshold: float = 0.1,
               max_detections: int = 100) -> list[list[Detections]]:
        """Per-frame detections [b][t] (boxes in input pixels); see engine.model.decode."""
        return decode_detections(output, stride=self.config.stride, score_threshold=score_threshold,
                                 max_detections=max_detections)


def build_model(name_or_config: str | ModelConfig = "tiny", num_classes: int | None = None,
                **overrides) -> UnifiedModel:
    """A freshly initialised ``UnifiedModel`` from a preset name ("tiny", "paper") or a ``ModelConfig``.

    ``num_classes`` and ``overrides`` replace config fields (e.g. ``causal=True``, ``input_size=(64, 96)``).
    """
    if num_classes is not None:
        overrides["num_classes"] = int(num_classes)
    if isinstance(name_or_config, ModelConfig):
        config = name_or_config.replace(**overrides) if overrides else name_or_config
    elif isinstance(name_or_config, str):
        config = get_config(name_or_config, **overrides)
    else:
        raise ValueError(f"build_model needs a preset name or a ModelConfig, got {type(name_or_config).__name__}")
    return UnifiedModel(config)
