"""Deterministic, realistic-looking FrameResults (a function of the frame index only).

Used by ``stv bench cache`` and by the crash tests, which compare what survives a kill against a
recomputation. Alpha maps are smooth moving blobs (they compress like real attention; random noise
would not), tracks move slowly and come and go.
"""
from __future__ import annotations

import numpy as np

from engine.results import FrameResult


def synthetic_frame(k: int, *, num_classes: int = 6, alpha_shape: tuple[int, int] = (28, 48),
                    width: int = 640, height: int = 360, num_tracks: int = 5,
                    with_detections: bool = False) -> FrameResult:
    """Frame k of a synthetic run: ~``num_tracks`` tracks, a 2-blob alpha map, soft action probs."""
    rng = np.random.default_rng(k)
    h, w = alpha_shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    alpha = np.zeros((h, w), np.float32)
    for j in range(2):
        cy = (0.5 + 0.35 * np.sin(0.05 * k + 2.0 * j)) * h
        cx = (0.5 + 0.35 * np.cos(0.03 * k + 1.3 * j)) * w
        s = 2.0 + j + np.sin(0.02 * k)
        alpha += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    alpha += 1e-3
    alpha /= alpha.sum()
    n = max(0, num_tracks + int(round(1.5 * np.sin(0.01 * k + 1.0))))
    ids = np.arange(1, n + 1, dtype=np.float32) + 7 * (k // 500)
    cx = (np.linspace(0.1, 0.9, n) * width + 40 * np.sin(0.02 * k + ids)).astype(np.float32)
    cy = np.full(n, 0.6 * height, np.float32) + 20 * np.cos(0.03 * k + ids)
    bw, bh = np.float32(40), np.float32(90)
    score = (0.5 + 0.5 * rng.random(n)).astype(np.float32)
    tracks = np.column_stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, score, ids]).astype(np.float32)
    logits = np.sin(0.01 * k + np.arange(num_classes, dtype=np.float32))
    probs = np.exp(logits) / np.exp(logits).sum()
    tap = rng.dirichlet(np.ones(num_classes), size=n).astype(np.float32) if n else np.zeros((0, num_classes),
                                                                                             np.float32)
    detections = None
    if with_detections:
        extra = rng.random((3, 5)).astype(np.float32) * [width, height, width, height, 0.3]
        extra[:, 2:4] = extra[:, 0:2] + 30
        detections = np.concatenate([tracks[:, :5], extra]).astype(np.float32)
    return FrameResult(frame_index=k, tracks=tracks, action_probs=probs.astype(np.float32),
                       alpha=alpha.astype(np.float16), beta=float(1.0 / 8 + 0.01 * np.sin(k)),
                       track_action_probs=tap, detections=detections)


def assert_same_result(a: FrameResult, b: FrameResult) -> None:
    """Raise AssertionError unless two FrameResults hold the same data (alpha compared as float16)."""
    assert a.frame_index == b.frame_index, (a.frame_index, b.frame_index)
    np.testing.assert_array_equal(a.tracks, b.tracks)
    np.testing.assert_array_equal(a.action_probs, b.action_probs)
    assert np.float32(a.beta) == np.float32(b.beta), (a.beta, b.beta)
    for name in ("alpha", "track_action_probs", "detections"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), f"frame {a.frame_index}: {name} {x is None} vs {y is None}"
        if x is not None:
            if name == "alpha":
                x, y = np.asarray(x, np.float16), np.asarray(y, np.float16)
            np.testing.assert_array_equal(x, y, err_msg=f"frame {a.frame_index}: {name}")
