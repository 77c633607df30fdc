"""Model configurations: the one documented defaults file.

Two presets, built by ``get_config(name, **overrides)``:

``paper``  the paper's model (§3): ResNet-50 (full width) encoder with spatial attention, 16-frame clips
           at 224x224, temporal propagation with 256 channels, K=3, G=32, bidirectional in time.
``tiny``   the real-time model for 2 CPU cores: ResNet-18 at quarter width, 224x384 (H, W) input,
           8-frame windows, 64 temporal channels, K=3, G=8, causal (forward in time only, the state
           carried from window to window, so a video streams through in non-overlapping windows).

Every field is documented below; a config round-trips through a JSON-safe dict (``to_dict`` /
``from_dict``) and that dict is what a checkpoint stores.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

BACKBONES = ("resnet18", "resnet34", "resnet50")


@dataclass(frozen=True)
class ModelConfig:
    # identity
    name: str = "tiny"                    # preset this config came from (free text for custom configs)
    # spatial encoder (§3.2)
    backbone: str = "resnet18"            # resnet18 | resnet34 | resnet50, torchvision key names
    width: float = 0.25                   # channel width multiplier of the ResNet (1.0 = torchvision's)
    spatial_attention: bool = True        # CBAM spatial attention after ResNet stages 2-4
    feature_channels: int = 64            # FPN output channels D (fused C3..C5 at stride 8)
    stride: int = 8                       # output stride of the feature map (fixed: FPN fuses to C3)
    # input
    clip_len: int = 8                     # T frames per window (forward accepts any T >= 1)
    input_size: tuple[int, int] = (224, 384)  # (H, W) pixels the frames are resized to; multiples of 32
    # temporal module (§3.3): GSPN-style propagation through time
    temporal_channels: int = 64           # C channels propagated
    kernel_size: int = 3                  # K: each step mixes a KxK neighbourhood of the previous step
    groups: int = 8                       # G: channel groups sharing one set of KxK gates (G divides C)
    causal: bool = False                  # True: forward in time only, state carried between windows
    propagate_backend: str = "auto"       # engine.ops.propagate backend
    # hierarchical attention (§3.4, eqs 3-5)
    hierarchical_attention: bool = True   # False: uniform alpha/beta, i.e. mean pooling (the ablation)
    # heads
    num_classes: int = 101                # K action classes
    dropout: float = 0.5                  # before the action classifier
    head_channels: int = 32               # hidden channels of each per-frame tracking head
    embed_dim: int = 32                   # re-ID embedding size E

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {self.backbone!r}")
        if not self.width > 0:
            raise ValueError(f"width must be > 0, got {self.width}")
        if self.stride != 8:
            raise ValueError(f"stride is fixed at 8 (the FPN fuses to C3), got {self.stride}")
        if len(self.input_size) != 2 or any(int(v) <= 0 or int(v) % 32 for v in self.input_size):
            raise ValueError(f"input_size must be (H, W), positive multiples of 32, got {self.input_size}")
        object.__setattr__(self, "input_size", (int(self.input_size[0]), int(self.input_size[1])))
        if self.clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {self.clip_len}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, got {self.kernel_size}")
        if self.groups < 1 or self.temporal_channels % self.groups:
            raise ValueError(f"groups ({self.groups}) must divide temporal_channels ({self.temporal_channels})")
        for name in ("feature_channels", "temporal_channels", "num_classes", "head_channels", "embed_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def output_size(self) -> tuple[int, int]:
        """(h, w) of the feature grid for the configured input size."""
        return self.input_size[0] // self.stride, self.input_size[1] // self.stride

    def replace(self, **overrides: Any) -> ModelConfig:
        return _replace(self, overrides)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["input_size"] = list(self.input_size)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Inverse of ``to_dict``. Unknown keys are an error (they mean another version of the model)."""
        if not isinstance(data, dict):
            raise ValueError(f"a model config must be a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config keys: {unknown}")
        values = dict(data)
        if "input_size" in values:
            values["input_size"] = tuple(values["input_size"])
        return cls(**values)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(
        name="tiny", backbone="resnet18", width=0.25, feature_channels=64, clip_len=8,
        input_size=(224, 384), temporal_channels=64, kernel_size=3, groups=8, causal=True,
        head_channels=32, embed_dim=32,
    ),
    "paper": ModelConfig(
        name="paper", backbone="resnet50", width=1.0, feature_channels=256, clip_len=16,
        input_size=(224, 224), temporal_channels=256, kernel_size=3, groups=32, causal=False,
        head_channels=128, embed_dim=128,
    ),
}


def _replace(config: ModelConfig, overrides: dict[str, Any]) -> ModelConfig:
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown model config fields: {unknown} (known: {sorted(known)})")
    return dataclasses.replace(config, **overrides)


def get_config(name: str, **overrides: Any) -> ModelConfig:
    """The preset ``name`` ("tiny" or "paper") with ``overrides`` applied (field=value)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model config {name!r}; presets: {sorted(PRESETS)}")
    return _replace(PRESETS[name], overrides)
