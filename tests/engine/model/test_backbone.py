"""The encoder's ResNet has torchvision's exact layout, and ImageNet weights load into it."""
from __future__ import annotations

import pytest
import torch

from engine.model.backbone import ResNet
from engine.model.spatial_attention import (AttentiveResNet, CBAMSpatialAttention, TorchvisionWeightsError,
                                            load_torchvision_weights)


def _bn(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}


def published_resnet50_layout() -> dict[str, tuple[int, ...]]:
    """torchvision.models.resnet50().state_dict() keys and shapes, written out from the architecture:
    stem 7x7/64, Bottleneck (1x1 planes, 3x3 planes, 1x1 4*planes), stages [3, 4, 6, 3] with planes
    64/128/256/512, downsample (1x1 conv + BN) on each stage's first block, fc 2048 -> 1000."""
    layout = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64)}
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3)), start=1):
        for block in range(blocks):
            p = f"layer{stage}.{block}"
            layout[f"{p}.conv1.weight"] = (planes, inplanes, 1, 1)
            layout.update(_bn(f"{p}.bn1", planes))
            layout[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
            layout.update(_bn(f"{p}.bn2", planes))
            layout[f"{p}.conv3.weight"] = (planes * 4, planes, 1, 1)
            layout.update(_bn(f"{p}.bn3", planes * 4))
            if block == 0:
                layout[f"{p}.downsample.0.weight"] = (planes * 4, inplanes, 1, 1)
                layout.update(_bn(f"{p}.downsample.1", planes * 4))
            inplanes = planes * 4
    layout["fc.weight"] = (1000, 2048)
    layout["fc.bias"] = (1000,)
    return layout


def _layout(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_resnet50_state_dict_is_torchvisions():
    layout = published_resnet50_layout()
    assert len(layout) == 320  # torchvision's resnet50 state_dict has 320 entries
    assert _layout(ResNet("resnet50", include_fc=True)) == layout


@pytest.mark.parametrize("arch, params", [("resnet18", 11_689_512), ("resnet34", 21_797_672),
                                          ("resnet50", 25_557_032)])
def test_parameter_counts_match_torchvision(arch, params):
    # the published parameter counts of torchvision's ImageNet models
    assert sum(p.numel() for p in ResNet(arch, include_fc=True).parameters()) == params


def test_width_multiplier_keeps_keys_and_scales_shapes():
    full, quarter = ResNet("resnet18"), ResNet("resnet18", width=0.25)
    assert list(full.state_dict()) == list(quarter.state_dict())
    assert quarter.conv1.weight.shape == (16, 3, 7, 7)
    assert quarter.stage_channels == (16, 32, 64, 128)
    assert ResNet("resnet50", width=0.5).stage_channels == (128, 256, 512, 1024)


def test_stage_strides():
    c2, c3, c4, c5 = ResNet("resnet18", width=0.25)(torch.zeros(1, 3, 64, 96))
    assert [tuple(c.shape[-2:]) for c in (c2, c3, c4, c5)] == [(16, 24), (8, 12), (4, 6), (2, 3)]


def test_torchvision_checkpoint_loads_reporting_only_attention_keys():
    torch.manual_seed(0)
    imagenet = ResNet("resnet50", include_fc=True)  # stands in for torchvision's resnet50 weights
    with torch.no_grad():
        for p in imagenet.parameters():
            p.add_(0.05 * torch.randn_like(p))
    encoder = AttentiveResNet("resnet50")
    report = load_torchvision_weights(encoder, imagenet.state_dict())
    assert report.missing and all(k.startswith("spatial_attention.") for k in report.missing)
    assert set(report.missing) == {k for k in encoder.state_dict() if k.startswith("spatial_attention.")}
    assert report.ignored == ("fc.bias", "fc.weight")
    assert torch.equal(encoder.layer3[2].conv2.weight, imagenet.layer3[2].conv2.weight)
    # strict=False on the raw state dict reports the same: only the attention keys are missing
    result = AttentiveResNet("resnet50").load_state_dict(imagenet.state_dict(), strict=False)
    assert set(result.missing_keys) == set(report.missing)
    assert set(result.unexpected_keys) == {"fc.weight", "fc.bias"}
    # a fresh spatial attention is the identity: the loaded encoder computes the pretrained features
    imagenet.eval(), encoder.eval()
    x = torch.randn(1, 3, 64, 64)
    assert torch.allclose(encoder(x)[-1], imagenet(x)[-1])


def test_wrong_checkpoint_is_refused_naming_keys():
    with pytest.raises(TorchvisionWeightsError, match="shape mismatches"):
        load_torchvision_weights(AttentiveResNet("resnet18"), ResNet("resnet50").state_dict())
    broken = ResNet("resnet18").state_dict()
    del broken["layer1.0.conv1.weight"]
    with pytest.raises(TorchvisionWeightsError, match="layer1.0.conv1.weight"):
        load_torchvision_weights(AttentiveResNet("resnet18"), broken)


def test_cbam_spatial_attention_gates_locations():
    attn = CBAMSpatialAttention()
    x = torch.randn(2, 4, 5, 6)
    assert torch.equal(attn(x), x)  # identity at initialisation
    with torch.no_grad():
        attn.conv.weight.normal_()
    gate = attn.gate(x).detach()
    assert gate.shape == (2, 1, 5, 6) and float(gate.min()) > 0 and float(gate.max()) < 2
    assert torch.allclose(attn(x), x * gate)
    assert not torch.allclose(gate, torch.ones_like(gate))


def test_attention_can_be_left_out():
    assert not any(k.startswith("spatial_attention") for k in AttentiveResNet("resnet18", attention=False).state_dict())


def test_eval_mode_folds_batch_norm_without_changing_results():
    from engine.model.backbone import conv_bn

    torch.manual_seed(0)
    conv, bn = torch.nn.Conv2d(4, 6, 3, padding=1, bias=False), torch.nn.BatchNorm2d(6)
    with torch.no_grad():
        bn.running_mean.normal_(), bn.running_var.uniform_(0.5, 2), bn.weight.normal_(), bn.bias.normal_()
    x = torch.randn(2, 4, 9, 7)
    bn.eval()
    torch.testing.assert_close(conv_bn(conv, bn, x), bn(conv(x)), atol=1e-5, rtol=1e-5)
    bn.train()  # training uses batch statistics, as BatchNorm does
    torch.testing.assert_close(conv_bn(conv, bn, x), torch.nn.functional.batch_norm(
        conv(x), None, None, bn.weight, bn.bias, training=True), atol=1e-5, rtol=1e-5)
