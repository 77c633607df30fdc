"""Raw gate logits -> propagation weights that keep the recurrence bounded for any T.

GSPN's stability-context condition makes each pixel's weights over its neighbours row-stochastic
(non-negative, summing to 1) over the neighbours that exist: a pixel on the frame's border has fewer
taps, and the softmax is taken over the taps inside the frame only, so no weight is given to the
zero padding outside (which would drain border pixels towards 0, a "leak" the interior does not have).

We then make it stricter, because here the input enters the state at every step (h_t = sum_k w_k
h_{t-1} + lam x_t) and GSPN's condition alone lets |h| grow linearly with T: the weights are scaled
so that the update is a convex combination of the neighbours' previous state and the input,
sum_k w_k + lam <= 1, hence by induction max|h_t| <= max(max|h0|, max|x|) however long the video.

With grouped gates the weights are shared by the C/G channels of a group while lam is per channel,
so the group's softmax is scaled by (1 - the largest lam in the group):

    lam[c]  = sigmoid(lam_logits[c])
    w[g, k] = softmax over the in-frame taps k of gate_logits[g]  * (1 - max_{c in g} lam[c]),
              0 for a tap outside the frame

For the channel with the largest lam this is an exact convex combination; the other channels of the
group keep a little less of their neighbourhood (a mild decay), never more. When ``lam_logits`` has
G channels instead of C, lam is per group and every channel's update is an exact convex combination:
a constant x = h0 = c stays exactly c everywhere, border pixels included.
"""
from __future__ import annotations

import torch

from engine.ops.propagation.reference import stencil_offsets


def inside_frame_taps(kernel_size: int, height: int, width: int, *, device: torch.device | str = "cpu"
                      ) -> torch.Tensor:
    """(K*K, H, W) bool: tap k of pixel (i, j) reads (i + di_k, j + dj_k), which is inside the frame."""
    rows = torch.arange(height, device=device).view(1, height, 1)
    cols = torch.arange(width, device=device).view(1, 1, width)
    offsets = torch.tensor(stencil_offsets(kernel_size), device=device)
    di, dj = offsets[:, 0].view(-1, 1, 1), offsets[:, 1].view(-1, 1, 1)
    return (rows + di >= 0) & (rows + di < height) & (cols + dj >= 0) & (cols + dj < width)


def normalize_gates(gate_logits: torch.Tensor, lam_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """gate_logits (B, G, K*K, T, H, W), lam_logits (B, C, T, H, W) or (B, G, T, H, W) -> (w, lam).

    Returns w (B, G, K*K, T, H, W) >= 0, exactly 0 at taps outside the frame, and lam (B, C, T, H, W)
    in (0, 1) with, at every pixel, sum_k w[g, k] + lam[c] <= 1 for every channel c of group g
    (= 1 for the group's largest lam). C is lam_logits' channel count (when it equals G, C = G as
    well; repeat lam yourself for more channels per group). Dtypes follow the inputs' (under CUDA
    autocast the softmax, hence w, is float32: ``propagate`` accepts that mix).
    """
    if gate_logits.ndim != 6:
        raise ValueError(f"normalize_gates: gate_logits must be (B, G, K*K, T, H, W), "
                         f"got shape {tuple(gate_logits.shape)}")
    if lam_logits.ndim != 5:
        raise ValueError(f"normalize_gates: lam_logits must be (B, C, T, H, W), got shape {tuple(lam_logits.shape)}")
    batch, groups, taps, steps, height, width = gate_logits.shape
    kernel_size = int(round(taps ** 0.5))
    if kernel_size * kernel_size != taps or kernel_size % 2 == 0:
        raise ValueError(f"normalize_gates: gate_logits' third dimension must be K*K for an odd K, got {taps}")
    channels = lam_logits.shape[1]
    if (lam_logits.shape[0], *lam_logits.shape[2:]) != (batch, steps, height, width):
        raise ValueError(f"normalize_gates: lam_logits {tuple(lam_logits.shape)} and gate_logits "
                         f"{tuple(gate_logits.shape)} disagree in B, T, H or W")
    if channels % groups:
        raise ValueError(f"normalize_gates: gate groups G={groups} must divide lam channels C={channels}")
    lam = torch.sigmoid(lam_logits)
    largest_lam = lam.reshape(batch, groups, channels // groups, steps, height, width).amax(dim=2)
    inside = inside_frame_taps(kernel_size, height, width, device=gate_logits.device).unsqueeze(1)  # (K*K, 1, H, W)
    # the centre tap is always inside, so every softmax has at least one finite logit
    masked = gate_logits.masked_fill(~inside, float("-inf"))
    w = torch.softmax(masked, dim=2) * (1.0 - largest_lam).unsqueeze(2)
    return w, lam
