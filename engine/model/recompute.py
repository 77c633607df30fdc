"""Exact activation recomputation (activation checkpointing) for training with less memory.

A training step of the tiny model on a batch of 16 clips x 8 frames at 224x384 holds ~2.7 GB of
activations, half in the per-frame encoder + FPN and ~1 GB in the temporal propagation. Running
those parts under ``torch.utils.checkpoint`` (``use_reentrant=False``) keeps only their inputs and
outputs and recomputes the rest during backward: the same loss and gradients, bit for bit, for one
extra forward pass of compute.

Recomputation is exact only if the second forward is the first one again. Two things would make it
differ: random ops (the checkpoint restores the RNG state) and BatchNorm's running statistics, which
a training-mode forward updates. Normalisation itself uses the batch's statistics, so the
recomputed activations are identical, but the running mean/var (and num_batches_tracked) would be
updated twice; ``exact_checkpoint`` restores every buffer of ``stateful`` after a recomputation so
the model's state after a step is what it is without checkpointing.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def exact_checkpoint(function: Callable[..., torch.Tensor], *inputs: torch.Tensor,
                     stateful: nn.Module) -> torch.Tensor:
    """``function(*inputs)`` with its intermediate activations recomputed in backward instead of kept.

    ``stateful``: the module(s) ``function`` runs; their buffers (BatchNorm running statistics) are
    restored after the recomputation so they are updated once per step, as without checkpointing.
    """
    calls = 0

    def run(*args: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        if calls == 1:
            return function(*args)
        buffers = [buffer for buffer in stateful.buffers()]
        saved = [buffer.detach().clone() for buffer in buffers]
        try:
            return function(*args)
        finally:
            with torch.no_grad():
                for buffer, value in zip(buffers, saved):
                    buffer.copy_(value)

    return checkpoint(run, *inputs, use_reentrant=False)
