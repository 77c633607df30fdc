"""ResNet-18/34/50 with torchvision's exact module (state_dict key) names, plus a width multiplier.

The module tree is torchvision's: ``conv1, bn1, relu, maxpool, layer1..layer4`` (each block
``conv1, bn1, conv2, bn2[, conv3, bn3][, downsample.0 (conv), downsample.1 (bn)]``) and optionally
``fc``. At ``width=1.0`` with ``include_fc=True`` the state_dict's keys and shapes are torchvision's,
so an ImageNet checkpoint from ``torchvision.models.resnet50(weights=...)`` loads unchanged.
With another width every channel count is scaled (keys unchanged, shapes scaled).

``ResNet.forward`` returns the stage outputs (C2, C3, C4, C5) at strides 4, 8, 16, 32.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# name -> (block type, blocks per stage)
ARCHITECTURES: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}


def scaled_channels(channels: int, width: float) -> int:
    """``channels * width`` rounded, at least 8 (so tiny widths keep usable layers)."""
    return max(8, int(round(channels * width)))


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


def conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """bn(conv(x)); in eval mode as one convolution with the BN folded in (same result, one pass less).

    The folded weights are recomputed on each call (they are tiny), so the parameters and the
    state_dict stay torchvision's and training/eval switches need no bookkeeping.
    """
    if bn.training or conv.bias is not None:
        return bn(conv(x))
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.view(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * scale
    return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else conv_bn(self.downsample[0], self.downsample[1], x)
        out = self.relu(conv_bn(self.conv1, self.bn1, x))
        out = conv_bn(self.conv2, self.bn2, out)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 convolution."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else conv_bn(self.downsample[0], self.downsample[1], x)
        out = self.relu(conv_bn(self.conv1, self.bn1, x))
        out = self.relu(conv_bn(self.conv2, self.bn2, out))
        out = conv_bn(self.conv3, self.bn3, out)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision-compatible ResNet trunk. ``stage_channels`` gives the channels of C2..C5."""

    def __init__(self, arch: str = "resnet50", *, width: float = 1.0, include_fc: bool = False,
                 num_classes: int = 1000) -> None:
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown ResNet {arch!r}; known: {sorted(ARCHITECTURES)}")
        kind, layers = ARCHITECTURES[arch]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.arch = arch
        self.width = width
        self.inplanes = scaled_channels(64, width)
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        stage_channels = []
        for index, (base, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            planes = scaled_channels(base, width)
            setattr(self, f"layer{index + 1}", self._make_layer(block, planes, blocks, stride=1 if index == 0 else 2))
            stage_channels.append(planes * block.expansion)
        self.stage_channels: tuple[int, int, int, int] = tuple(stage_channels)  # type: ignore[assignment]
        if include_fc:
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(self.stage_channels[-1], num_classes)
        self._init_weights()

    def _make_layer(self, block: type[BasicBlock] | type[Bottleneck], planes: int, blocks: int,
                    stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(_conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        modules = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        modules += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*modules)

    def _init_weights(self) -> None:
        # torchvision's initialisation, including zero-init of each block's last BN (zero_init_residual),
        # which trains better from scratch (the block starts as the identity).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(conv_bn(self.conv1, self.bn1, x)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(N, 3, H, W) normalised images -> (C2, C3, C4, C5) at strides 4, 8, 16, 32."""
        c2 = self.layer1(self.stem(x))
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return c2, c3, c4, c5

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (only with ``include_fc=True``): what torchvision's forward computes."""
        if not hasattr(self, "fc"):
            raise ValueError("this ResNet was built without fc (include_fc=False)")
        return self.fc(torch.flatten(self.avgpool(self.forward(x)[-1]), 1))
