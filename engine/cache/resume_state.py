"""The exact-resume snapshot of a run: a few named arrays stored as one checksummed blob.

A checkpoint stores what the pipeline needs to continue exactly as if it had never stopped (the
model's carried state, the tracker's tracks and ID counter, the window grid) together with the commit
it belongs to. The blob is ``[8-byte little-endian length][32-byte sha256][npz bytes]``; npz members
must be stored uncompressed and are loaded without pickle, so a damaged or crafted blob is refused
in bounded memory (its declared sizes are checked against its own length before anything is read).
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

import numpy as np

HEADER = 40
MAX_BLOB = 1 << 30  # a snapshot is a few MB at most; anything past this is not one of ours


@dataclass(frozen=True)
class ResumePoint:
    """A snapshot valid at ``frame`` (every frame before it committed with rows [0, track_rows) and
    [0, detection_rows)); ``state`` is what the pipeline saved."""

    frame: int
    track_rows: int
    detection_rows: int
    state: dict[str, np.ndarray]


def encode(point: ResumePoint) -> np.ndarray:
    """ResumePoint -> uint8 blob (header + npz)."""
    arrays = {f"s.{k}": np.ascontiguousarray(v) for k, v in point.state.items()}
    arrays["commit"] = np.array([point.frame, point.track_rows, point.detection_rows], np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    header = len(payload).to_bytes(8, "little") + hashlib.sha256(payload).digest()
    return np.frombuffer(header + payload, np.uint8)


def decode(blob: np.ndarray) -> ResumePoint | None:
    """uint8 blob -> ResumePoint, or None when the blob is empty, torn (killed mid-write) or not ours."""
    raw = np.asarray(blob, np.uint8).tobytes()
    if len(raw) < HEADER:
        return None
    length = int.from_bytes(raw[:8], "little")
    if length <= 0 or length > min(MAX_BLOB, len(raw) - HEADER):
        return None
    payload = raw[HEADER:HEADER + length]
    if hashlib.sha256(payload).digest() != raw[8:HEADER]:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            if any(i.compress_type != zipfile.ZIP_STORED or i.file_size > length for i in archive.infolist()):
                return None
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        frame, track_rows, detection_rows = (int(v) for v in arrays.pop("commit").reshape(3))
    except (ValueError, KeyError, OSError, zipfile.BadZipFile, EOFError):
        return None
    if frame < 0 or track_rows < 0 or detection_rows < 0:
        return None
    state = {k[2:]: v for k, v in arrays.items() if k.startswith("s.")}
    return ResumePoint(frame=frame, track_rows=track_rows, detection_rows=detection_rows, state=state)
