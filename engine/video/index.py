"""Frame index of a video file: presentation timestamps and keyframes, from a packet scan.

Frames are numbered in *presentation* order (sorted pts), which is the order a sequential
decode outputs them; that makes B-frames (decode order != presentation order), streams whose
first pts is not 0 and variable frame rate all come out right. The scan only demuxes (no
decoding): it reads each packet header and skips the payload's decoding, so it costs one read
of the file. Packets that are corrupt/partial (truncated file) or flagged to be discarded (edit
lists) are left out, so the count is the number of frames that can actually be decoded.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class FrameIndex:
    """pts[k]: presentation timestamp (stream time base) of frame k, strictly increasing.

    key_frames: sorted frame indices that are keyframes (decoding can start there).
    key_seek_ts: for each keyframe, its dts when known (else its pts): FFmpeg's demuxers
    differ in whether ``container.seek`` compares with pts (mov, mkv) or dts, so the decoder
    tries the pts first and this second (see ``ExactDecoder._seek``).
    """

    pts: np.ndarray
    key_frames: np.ndarray
    key_seek_ts: np.ndarray
    time_base: float

    def __post_init__(self):
        if len(self.key_frames) == 0 or self.key_frames[0] != 0:
            raise ValueError("a frame index needs a keyframe at frame 0")
        object.__setattr__(self, "_frame_of_pts", {int(p): k for k, p in enumerate(self.pts)})

    def __len__(self) -> int:
        return len(self.pts)

    def frame_of_pts(self, pts: int | None) -> int | None:
        return None if pts is None else self._frame_of_pts.get(int(pts))

    def keyframe_at_or_before(self, k: int) -> int:
        """Position in key_frames of the last keyframe <= frame k."""
        return int(np.searchsorted(self.key_frames, k, side="right")) - 1

    @property
    def max_gop(self) -> int:
        bounds = np.append(self.key_frames, len(self.pts))
        return int(np.diff(bounds).max())

    def seconds(self, k: int) -> float:
        return float(self.pts[k] - self.pts[0]) * self.time_base


def scan_packets(container, stream, path: str | Path) -> FrameIndex:
    """Build the index by demuxing every packet of ``stream`` once (no decoding)."""
    from engine.video.source import VideoError

    import av

    pts_list: list[int] = []
    keys: list[tuple[int, int]] = []  # (pts, seek ts)
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                if packet.size and packet.pts is None:
                    raise VideoError(path, "packets without timestamps: frame-exact seeking is not possible")
                continue
            if packet.is_corrupt or packet.is_discard:
                continue
            pts_list.append(int(packet.pts))
            if packet.is_keyframe:
                keys.append((int(packet.pts), int(packet.dts if packet.dts is not None else packet.pts)))
    except av.error.FFmpegError as exc:
        # a truncated file ends the scan; what was read completely is still decodable
        if not pts_list:
            raise VideoError(path, f"cannot read video packets ({exc})") from exc
    if not pts_list:
        raise VideoError(path, "the video stream has no frames")
    pts = np.asarray(pts_list, dtype=np.int64)
    order = np.argsort(pts, kind="stable")
    pts = pts[order]
    if np.any(np.diff(pts) <= 0):
        raise VideoError(path, "duplicate presentation timestamps: frame-exact seeking is not possible")
    frame_of = {int(p): k for k, p in enumerate(pts)}
    keys = [(frame_of[p], ts) for p, ts in keys]
    # frames before the first keyframe (open GOP leading pictures) cannot be decoded by seeking;
    # FFmpeg's sequential decode does not output them either, so they are not frames of the video.
    if not keys:
        raise VideoError(path, "the video stream has no keyframe")
    keys.sort()
    first = keys[0][0]
    if first:
        pts = pts[first:]
        keys = [(k - first, ts) for k, ts in keys]
    return FrameIndex(
        pts=pts,
        key_frames=np.asarray([k for k, _ in keys], dtype=np.int64),
        key_seek_ts=np.asarray([ts for _, ts in keys], dtype=np.int64),
        time_base=float(stream.time_base),
    )
