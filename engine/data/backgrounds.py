"""Procedural, muted backgrounds (numpy + cv2): ground-and-sky scenes, floor tiles, smooth noise.

Muted on purpose: the figures are saturated and outlined, so detection stays learnable while the
texture still varies from clip to clip.
"""
from __future__ import annotations

import cv2
import numpy as np


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], *, octaves: int = 4) -> np.ndarray:
    """(H, W) float32 in [0, 1]: a sum of upsampled random grids (value noise)."""
    h, w = size
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for octave in range(octaves):
        cells = 3 * 2 ** octave
        grid = rng.random((cells, max(2, cells * w // h))).astype(np.float32)
        weight = 0.55 ** octave
        out += weight * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += weight
    out /= total
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def _muted_colour(rng: np.random.Generator, *, value: tuple[float, float] = (70, 190)) -> np.ndarray:
    hue = rng.uniform(0, 180)
    sat = rng.uniform(20, 90)
    val = rng.uniform(*value)
    hsv = np.array([[[hue, sat, val]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _blend(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]


def _ground_and_sky(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    horizon = int(rng.uniform(0.3, 0.5) * h)
    ys = np.linspace(0, 1, horizon, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    sky = _blend(_muted_colour(rng, value=(150, 230)), _muted_colour(rng, value=(120, 210)), ys)
    # a skyline of blocks
    for _ in range(int(rng.integers(3, 9))):
        bw = int(rng.uniform(0.05, 0.2) * w)
        bh = int(rng.uniform(0.15, 0.8) * horizon)
        x0 = int(rng.uniform(-0.05, 1.0) * w)
        sky[horizon - bh:horizon, max(0, x0):max(0, x0 + bw)] = _muted_colour(rng, value=(80, 170))
    ground_noise = _smooth_noise(rng, (h - horizon, w))
    ground = _blend(_muted_colour(rng, value=(70, 150)), _muted_colour(rng, value=(90, 170)), ground_noise)
    return np.concatenate([sky, ground], axis=0)


def _tiles(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    tile = int(rng.integers(24, 72))
    a, b = _muted_colour(rng), _muted_colour(rng)
    yy, xx = np.mgrid[0:h, 0:w]
    checker = (((yy // tile) + (xx // tile)) % 2).astype(np.float32)
    img = _blend(a, b, checker * rng.uniform(0.3, 0.7))
    grout = ((yy % tile) < 2) | ((xx % tile) < 2)
    img[grout] *= 0.8
    return img


def _noise_field(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    noise = _smooth_noise(rng, size, octaves=5)
    img = _blend(_muted_colour(rng), _muted_colour(rng), noise)
    # a soft diagonal gradient on top
    h, w = size
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    return img * (0.8 + 0.35 * ramp[..., None])


KINDS = ("ground_and_sky", "tiles", "noise")


def make_background(rng: np.random.Generator, size: tuple[int, int], *, kind: str | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB C-contiguous background; ``kind`` one of KINDS (random when None)."""
    if kind is None:
        kind = KINDS[int(rng.integers(len(KINDS)))]
    maker = {"ground_and_sky": _ground_and_sky, "tiles": _tiles, "noise": _noise_field}.get(kind)
    if maker is None:
        raise ValueError(f"unknown background kind {kind!r}; expected one of {KINDS}")
    img = maker(rng, size)
    grain = rng.normal(0.0, rng.uniform(2.0, 7.0), size=img.shape[:2]).astype(np.float32)
    img = img + grain[..., None]
    return np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
