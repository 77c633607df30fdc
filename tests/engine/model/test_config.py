"""Presets, overrides, validation and the JSON round trip of ModelConfig."""
from __future__ import annotations

import json

import pytest

from engine.config import ModelConfig, get_config


def test_presets_match_the_documented_values():
    paper = get_config("paper")
    assert (paper.backbone, paper.width, paper.clip_len, paper.input_size) == ("resnet50", 1.0, 16, (224, 224))
    assert (paper.kernel_size, paper.groups, paper.temporal_channels, paper.causal) == (3, 32, 256, False)
    tiny = get_config("tiny")
    assert (tiny.backbone, tiny.width, tiny.clip_len, tiny.input_size) == ("resnet18", 0.25, 8, (224, 384))
    assert (tiny.kernel_size, tiny.groups, tiny.temporal_channels, tiny.embed_dim) == (3, 8, 64, 32)
    assert tiny.output_size == (28, 48)


def test_overrides_and_json_round_trip():
    config = get_config("tiny", num_classes=7, input_size=[64, 96], hierarchical_attention=False)
    assert config.input_size == (64, 96) and config.num_classes == 7
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert hash(again) == hash(config)


@pytest.mark.parametrize("overrides, message", [
    ({"groups": 7}, "groups"), ({"kernel_size": 4}, "kernel_size"), ({"input_size": (100, 96)}, "input_size"),
    ({"backbone": "vgg"}, "backbone"), ({"bogus": 1}, "unknown"), ({"stride": 4}, "stride"),
])
def test_invalid_configs_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        get_config("tiny", **overrides)


def test_unknown_preset_and_keys():
    with pytest.raises(ValueError, match="presets"):
        get_config("huge")
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({**get_config("tiny").to_dict(), "new_field": 1})
