"""Raw gate logits -> propagation weights that keep the recurrence bounded for any T.

GSPN's stability-context condition: each pixel's update is (at most) a convex combination of its
K*K neighbours' previous state and its input, i.e. w >= 0 and sum_k w_k + lam <= 1. Then by
induction max|h_t| <= max(max|h0|, max|x|) however long the sequence.

With grouped gates the weights are shared by the C/G channels of a group while lam is per channel,
so we scale the group's softmax by (1 - the largest lam in the group):

    lam[c]  = sigmoid(lam_logits[c])
    w[g, k] = softmax_k(gate_logits[g]) * (1 - max_{c in g} lam[c])

For the channel with the largest lam this is an exact convex combination; the other channels of the
group keep a little less of their neighbourhood (a mild decay), never more. When ``lam_logits`` has
G channels instead of C, lam is per group (repeated to the C/G channels of each group) and every
channel's update is an exact convex combination.
"""
from __future__ import annotations

import torch


def normalize_gates(gate_logits: torch.Tensor, lam_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """gate_logits (B, G, K*K, T, H, W), lam_logits (B, C, T, H, W) or (B, G, T, H, W) -> (w, lam).

    Returns w (B, G, K*K, T, H, W) >= 0 and lam (B, C, T, H, W) in (0, 1) with, at every pixel,
    sum_k w[g, k] + lam[c] <= 1 for every channel c of group g. C is lam_logits' channel count
    (when it equals G, C = G as well; repeat lam yourself for more channels per group).
    """
    if gate_logits.ndim != 6:
        raise ValueError(f"normalize_gates: gate_logits must be (B, G, K*K, T, H, W), "
                         f"got shape {tuple(gate_logits.shape)}")
    if lam_logits.ndim != 5:
        raise ValueError(f"normalize_gates: lam_logits must be (B, C, T, H, W), got shape {tuple(lam_logits.shape)}")
    batch, groups, _, steps, height, width = gate_logits.shape
    channels = lam_logits.shape[1]
    if (lam_logits.shape[0], *lam_logits.shape[2:]) != (batch, steps, height, width):
        raise ValueError(f"normalize_gates: lam_logits {tuple(lam_logits.shape)} and gate_logits "
                         f"{tuple(gate_logits.shape)} disagree in B, T, H or W")
    if channels % groups:
        raise ValueError(f"normalize_gates: gate groups G={groups} must divide lam channels C={channels}")

    lam = torch.sigmoid(lam_logits)
    largest_lam = lam.reshape(batch, groups, channels // groups, steps, height, width).amax(dim=2)
    w = torch.softmax(gate_logits, dim=2) * (1.0 - largest_lam).unsqueeze(2)
    return w, lam
