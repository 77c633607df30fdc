"""Frame-exact decoding of one video file with PyAV: seek to a keyframe, decode forward to a pts.

Why PyAV and not OpenCV: ``cv2.VideoCapture.set(CAP_PROP_POS_FRAMES, k)`` converts k to a
timestamp with the nominal fps and trusts the container's claims, so it is not exact: on a
variable-frame-rate clip it returned the wrong frame for 3 of 16 seeks, and it claimed 5050
frames for a 50-frame Matroska clip whose first pts is 200 s (OpenCV 5.0, measured here); it
also cannot say how far back the keyframe is, or skip work on the way. PyAV exposes the packets themselves (pts, dts, keyframe flag), so
``engine.video.index`` knows every frame's pts and its keyframe; a seek here is
"container.seek(keyframe) + decode until frame.pts == pts[k]", which is exact by construction
and costs exactly the frames between the keyframe and k (the physical floor). Two more savings
that keep it exact:

* non-reference frames before the target are not decoded at all (``skip_frame=NONREF``: no
  other frame depends on them), which halves the cost on typical B-frame streams;
* when the decoder already stands between the target's keyframe and the target (sequential
  playback, scrubbing forward) it continues instead of seeking.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import av
import numpy as np

from engine.video.index import FrameIndex
from engine.video.source import VideoError


# FFmpeg demuxers and decoders that turn something that is not a video into frames: text rendered as
# an ANSI terminal ("tty": a gt.txt becomes 218 frames of text), filter graphs, and single images.
TEXT_FORMATS = frozenset({"tty", "bin", "xbin", "adf", "idf", "ansi"})
TEXT_CODECS = frozenset({"ansi", "bintext", "xbin", "idf"})
SYNTHETIC_FORMATS = frozenset({"lavfi"})
IMAGE_FORMATS = frozenset({"image2", "image2pipe"})


def refuse_non_video(path: Path, container, *, allow_images: bool = False) -> None:
    """VideoError unless ``container`` holds a real video stream (see TEXT_FORMATS...)."""
    names = set(str(container.format.name).split(","))
    codec = container.streams.video[0].codec_context.name
    if names & TEXT_FORMATS or codec in TEXT_CODECS:
        raise VideoError(path, "not a video: FFmpeg would render this text file as frames of text "
                               f"({container.format.name} demuxer); give a video file or an image-sequence folder")
    if names & SYNTHETIC_FORMATS:
        raise VideoError(path, f"not a video file ({container.format.name} describes generated frames)")
    if not allow_images and (names & IMAGE_FORMATS or any(n.endswith("_pipe") for n in names)):
        raise VideoError(path, f"a single {codec} image, not a video; to view images, open the folder of "
                               f"numbered images (a MOT sequence) instead")


def open_container(path: str | Path):
    """av.open with errors turned into VideoError naming the file and the problem. Only a regular
    file is opened (a FIFO would block forever); ``FileVideoSource`` then refuses what is not a
    real video stream (``refuse_non_video``)."""
    from engine.io.paths import PathKindError, require_regular_file

    path = Path(path)
    if not path.exists():
        raise VideoError(path, "no such file")
    try:
        require_regular_file(path, "video")  # a FIFO would block av.open forever
    except PathKindError as exc:
        raise VideoError(path, str(exc).split(": ", 1)[-1]) from None
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"not a readable video ({exc.strerror or exc})") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(path, "the file has no video stream")
    return container


def to_rgb(frame: av.VideoFrame, rotation: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 RGB C-contiguous copy of a decoded frame (one conversion path for all), turned
    ``rotation`` degrees counter-clockwise (the display matrix, see ``display_rotation``)."""
    return np.ascontiguousarray(rotate(frame.to_ndarray(format="rgb24"), rotation))


def rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` turned ``rotation`` (0, 90, 180, 270) degrees counter-clockwise (a view)."""
    return np.rot90(image, k=rotation // 90) if rotation else image


def display_rotation(path: Path) -> int:
    """The counter-clockwise rotation (0, 90, 180 or 270) a player applies to show the video upright:
    the display matrix FFmpeg attaches to decoded frames (a phone's portrait clip is stored landscape
    with rotate=90). Read from the first frame."""
    container = open_container(path)
    try:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            angle = frame.rotation or 0
            return int(round(float(angle) / 90.0)) % 4 * 90
    except av.error.FFmpegError:
        return 0
    finally:
        container.close()
    return 0


class _Overshoot(Exception):
    """The wanted frame was not output where it should have been."""


class ExactDecoder:
    """One container + decoder that returns the exact frame k; not thread-safe (one per thread)."""

    def __init__(self, path: str | Path, index: FrameIndex, *, container=None, skip_nonref: bool = True):
        self.path = Path(path)
        self.index = index
        self.container = container if container is not None else open_container(self.path)
        self.stream = self.container.streams.video[0]
        # slice threads only: frame threading delays output and makes skip_frame changes lag
        self.stream.thread_type = "SLICE"
        self._codec = self.stream.codec_context
        self.skip_nonref = skip_nonref
        self._packets = None
        self._pos: int | None = None  # index of the last frame the decoder has output
        self._eof = False
        self._pending: deque[tuple[int, av.VideoFrame]] = deque()
        self._last: tuple[int, av.VideoFrame] | None = None
        self._skip = "DEFAULT"
        self.frames_decoded = 0  # statistics for benchmarks
        self.seeks = 0
        self.restarts = 0  # fallbacks to decoding from the start of the file (should stay 0)
        self.early_landings = 0  # seeks that landed on an earlier keyframe than asked

    def close(self) -> None:
        self._pending.clear()
        self._last = None
        self._packets = None
        self.container.close()

    def frame(self, k: int) -> av.VideoFrame:
        """The decoded frame k (0 <= k < len(index)), exactly as a sequential decode outputs it."""
        if self._last is not None and self._last[0] == k:
            return self._last[1]
        ki = self.index.keyframe_at_or_before(k)
        key = int(self.index.key_frames[ki])
        in_reach = any(j == k for j, _ in self._pending) or (
            self._pos is not None and not self._eof and key - 1 <= self._pos < k)
        try:
            if not in_reach:
                self._seek(ki, k)
            return self._decode_to(k, skip=self.skip_nonref)
        except _Overshoot:
            pass
        # the demuxer did not land where asked, or the stream misbehaves: go back to the very
        # start of the file and decode everything up to k (slow but certain)
        try:
            self._restart()
            return self._decode_to(k, skip=False)
        except _Overshoot:
            raise VideoError(self.path, f"frame {k} cannot be decoded (corrupt or truncated stream)") from None
        except av.error.FFmpegError as exc:
            raise VideoError(self.path, f"decoding frame {k} failed ({exc})") from exc

    # ---- internals ---------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._codec.flush_buffers()
        self._packets = self.container.demux(self.stream)
        self._pending.clear()
        self._last = None
        self._eof = False

    def _seek(self, ki: int, k: int) -> None:
        """Position the demuxer on keyframe ki (or, if the demuxer insists, an earlier one)."""
        self.seeks += 1
        key = int(self.index.key_frames[ki])
        landed: dict[int, int] = {}  # seek timestamp -> frame index of the keyframe it lands on
        first = None
        for ts in dict.fromkeys((int(self.index.pts[key]), int(self.index.key_seek_ts[ki]))):
            first = self._seek_to(ts, k)  # pts first (mov, mkv), then dts
            if first is not None:
                landed[ts] = self.index.frame_of_pts(first.pts)
                if landed[ts] == key:
                    break
        if not landed:
            raise _Overshoot
        ts = max(landed, key=landed.get)  # the latest keyframe reached (still <= k)
        if landed[ts] != key:
            self.early_landings += 1  # still exact, only slower: decoding starts an earlier GOP
        if first is None or self.index.frame_of_pts(first.pts) != landed[ts]:
            first = self._seek_to(ts, k)
        self._pos = landed[ts] - 1
        self._feed(first, k, skip=self.skip_nonref)

    def _seek_to(self, ts: int, k: int):
        """Seek; return the first packet if it is a keyframe at or before frame k, else None."""
        self.container.seek(ts, stream=self.stream, backward=True, any_frame=False)
        self._reset_state()
        first = next(self._packets, None)
        j = None if first is None else self.index.frame_of_pts(first.pts)
        # decoding must start on a keyframe at or before k, or it is not exact
        if first is None or not first.is_keyframe or j is None or j > k:
            return None
        return first

    def _restart(self) -> None:
        self.seeks += 1
        self.restarts += 1
        self.container.close()
        self.container = open_container(self.path)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "SLICE"
        self._codec = self.stream.codec_context
        self._skip = "DEFAULT"
        self._reset_state()
        self._pos = -1

    def _set_skip(self, mode: str) -> None:
        if mode != self._skip:
            self._codec.skip_frame = mode
            self._skip = mode

    def _feed(self, packet, k: int, *, skip: bool) -> None:
        """Decode one packet; keep output frames >= k in order in the pending queue."""
        if packet.size == 0:  # the demuxer's end-of-stream packet: drain the decoder
            self._set_skip("DEFAULT")
            frames = self._codec.decode(None)
            self._eof = True
        else:
            j = self.index.frame_of_pts(packet.pts)
            self._set_skip("NONREF" if skip and j is not None and j < k else "DEFAULT")
            frames = self._codec.decode(packet)
        for f in frames:
            self.frames_decoded += 1
            j = self.index.frame_of_pts(f.pts)
            if j is None:
                continue  # a frame that is not part of the video (e.g. leading pictures before frame 0)
            self._pos = j if self._pos is None else max(self._pos, j)
            if j >= k:
                self._pending.append((j, f))

    def _decode_to(self, k: int, *, skip: bool) -> av.VideoFrame:
        while True:
            while self._pending:
                j, f = self._pending[0]
                if j < k:
                    self._pending.popleft()
                    continue
                if j > k:
                    raise _Overshoot
                self._pending.popleft()
                self._last = (k, f)
                return f
            if self._eof:
                raise _Overshoot
            try:
                packet = next(self._packets, None)
            except av.error.FFmpegError:
                packet = None  # truncated file: treat as end of stream and drain
            if packet is None:
                self._eof = True
                for f in self._codec.decode(None):
                    j = self.index.frame_of_pts(f.pts)
                    if j is not None and j >= k:
                        self._pending.append((j, f))
                continue
            try:
                self._feed(packet, k, skip=skip)
            except av.error.InvalidDataError:
                continue  # a damaged packet: its frame will be missing, which is detected above
