"""Activation recomputation in training (engine.model.recompute) changes memory, never results.

The same model trained one step with and without recomputation must give bit-identical outputs,
loss, parameter gradients and BatchNorm running statistics (the recomputed forward must not update
them a second time), for the causal and the bidirectional temporal module.
"""
from __future__ import annotations

import copy

import pytest
import torch

from engine.model import build_model

SMALL = dict(input_size=(64, 96), clip_len=3, num_classes=4)


def one_step(model: torch.nn.Module, clip: torch.Tensor, *, recompute: bool, state: torch.Tensor | None = None):
    model.recompute_activations = recompute
    model.train()
    torch.manual_seed(7)  # the action head's dropout draws the same mask in both runs
    state = None if state is None else state.clone().requires_grad_()
    out = model(clip, state=state)
    loss = sum((value.float() * (index + 1)).sin().sum()
               for index, value in enumerate(v for v in vars(out).values()
                                             if isinstance(v, torch.Tensor) and v.requires_grad))
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    if state is not None:
        grads["state"] = state.grad.clone()
    return out, loss.detach(), grads, buffers


@pytest.mark.parametrize("causal, carried", [(True, False), (True, True), (False, False)],
                         ids=["causal", "causal-carried-state", "bidirectional"])
def test_recompute_is_bit_identical(causal, carried):
    torch.manual_seed(0)
    plain = build_model("tiny", causal=causal, **SMALL)
    recomputed = copy.deepcopy(plain)
    stem_runs = []
    recomputed.encoder.layer1.register_forward_pre_hook(lambda *_: stem_runs.append(1))
    clip = torch.rand(2, 3, 3, 64, 96)
    state = torch.rand(2, plain.config.temporal_channels, 8, 12) if carried else None
    out_a, loss_a, grads_a, buffers_a = one_step(plain, clip, recompute=False, state=state)
    out_b, loss_b, grads_b, buffers_b = one_step(recomputed, clip, recompute=True, state=state)
    assert len(stem_runs) == 2  # the recomputing model did run layer1 again in backward
    assert torch.equal(loss_a, loss_b)
    assert torch.equal(out_a.action_logits, out_b.action_logits)
    assert torch.equal(out_a.heatmap_logits, out_b.heatmap_logits)
    assert (out_a.state is None) == (not causal) and (not causal or torch.equal(out_a.state, out_b.state))
    assert grads_a.keys() == grads_b.keys() and len(grads_a) == len(list(plain.parameters())) + carried
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name
    for name in buffers_a:  # BatchNorm running mean/var and num_batches_tracked updated once
        assert torch.equal(buffers_a[name], buffers_b[name]), name
    assert int(buffers_b["encoder.bn1.num_batches_tracked"]) == 1


def test_recompute_only_in_training_with_grads():
    torch.manual_seed(0)
    model = build_model("tiny", **SMALL).train()
    clip = torch.rand(1, 3, 3, 64, 96)
    with torch.no_grad():
        model(clip)  # no graph: nothing to recompute, BN updated once
    assert int(model.encoder.bn1.num_batches_tracked) == 1
    assert not model.eval()._recomputing()
    assert model.train()._recomputing()
