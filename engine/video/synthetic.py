"""Test clips encoded on the spot: every frame differs, with B-frames / long GOPs on request.

Used by the tests (frame-exactness on awkward streams) and by ``stv bench video`` (a 720p
H.264 clip whose only keyframe is frame 0) so that both run anywhere without data files.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def synthetic_frame(k: int, width: int, height: int, texture: np.ndarray) -> np.ndarray:
    """Frame k: a scrolling texture (motion a codec can predict), a moving block, and k in binary."""
    th, tw = texture.shape[:2]
    y0, x0 = (3 * k) % (th - height), (5 * k) % (tw - width)
    frame = texture[y0:y0 + height, x0:x0 + width].copy()
    s = max(8, height // 8)
    by = int((height - s) * (0.5 + 0.5 * np.sin(k / 7.0)))
    bx = int((width - s) * (0.5 + 0.5 * np.cos(k / 11.0)))
    frame[by:by + s, bx:bx + s] = (255 - 3 * k % 256, 40, 200)
    bit = max(4, width // 64)
    for b in range(16):  # the frame number as a strip of black/white squares
        frame[:bit, b * bit:(b + 1) * bit] = 255 if (k >> b) & 1 else 0
    return frame


def make_texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture larger than the frame (cheap: upsampled noise)."""
    import cv2

    rng = np.random.default_rng(seed)
    th, tw = height + 3 * 400 + 16, width + 5 * 400 + 16
    small = rng.integers(0, 256, size=(th // 16 + 1, tw // 16 + 1, 3), dtype=np.uint8)
    big = cv2.resize(small, (tw, th), interpolation=cv2.INTER_CUBIC)
    fine = rng.integers(-12, 13, size=big.shape, dtype=np.int16)  # some detail to code
    return np.clip(big.astype(np.int16) + fine, 0, 255).astype(np.uint8)


def write_clip(
    path: str | Path,
    *,
    frames: int,
    width: int = 320,
    height: int = 240,
    fps: Fraction | int | str = 25,
    codec: str = "libx264",
    gop: int = 12,
    b_frames: int = 2,
    options: dict[str, str] | None = None,
    pts_offset: int = 0,
    timestamps: list[int] | None = None,
    time_base: Fraction | None = None,
    seed: int = 0,
) -> Path:
    """Encode ``frames`` synthetic frames to ``path`` (container from the suffix).

    gop: keyframe interval (use >= frames for a single keyframe at frame 0); b_frames: max
    consecutive B-frames. pts_offset shifts all timestamps (first pts != 0); timestamps gives
    explicit per-frame pts in ``time_base`` units (variable frame rate).
    """
    import av

    path = Path(path)
    rate = Fraction(fps)
    texture = make_texture(width, height, seed)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        opts = {}
        if codec == "libx264":
            opts = {"preset": "veryfast", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0",
                    "bf": str(b_frames), "crf": "20"}
            if gop >= frames:
                opts["x264-params"] = "scenecut=0:open-gop=0"
        else:
            stream.codec_context.gop_size = gop
            stream.codec_context.max_b_frames = b_frames
            stream.codec_context.bit_rate = width * height * 4
        opts.update(options or {})
        stream.options = opts
        tb = time_base if time_base is not None else 1 / rate
        stream.codec_context.time_base = tb
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(k, width, height, texture), format="rgb24")
            frame.pts = (timestamps[k] if timestamps is not None else k) + pts_offset
            frame.time_base = tb
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
