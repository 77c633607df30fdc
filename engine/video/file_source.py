"""A video file (any container/codec FFmpeg reads) as a frame-exact ``VideoSource``.

Memory/speed design (decided for the viewer):

* ``src[k]`` is always the exact full-resolution frame: LRU cache of decoded RGB frames
  (bounded in MB) -> otherwise an exact keyframe seek + decode forward (``decoder.py``).
* Sequential access (k, k+1, k+2 …) starts a read-ahead thread that decodes ahead of the
  playhead into the same cache.
* ``start_background_index()`` decodes the file once in a thread: verifies the index, fills the
  exact cache while it has room and, for videos larger than the cache, keeps a JPEG display
  proxy of every frame. ``get_display_frame(k, max_size=…)`` returns the exact frame when cached
  and otherwise the proxy (lossy, maybe downscaled; the viewer stretches it to width x height
  and asks ``src[k]`` for the exact frame once scrubbing stops).
"""
from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.video.background import BackgroundIndexer
from engine.video.decoder import ExactDecoder, display_rotation, open_container, refuse_non_video, to_rgb
from engine.video.fingerprint import file_fingerprint
from engine.video.frame_cache import FrameCache
from engine.video.index import FrameIndex, scan_packets
from engine.video.readahead import ReadAhead
from engine.video.source import VideoError, VideoSource, fit_to

MB = 1024 * 1024


class FileVideoSource(VideoSource):
    def __init__(self, path: str | Path, *, cache_mb: float = 256.0, readahead: bool = True,
                 readahead_frames: int = 48, allow_images: bool = False, _index: FrameIndex | None = None,
                 _rotation: int | None = None):
        """allow_images: accept a single image file as a one-frame video (refused by default: an image
        renamed as a video is a mistake, and FFmpeg would happily "decode" it)."""
        import av

        self.path = Path(path)
        if cache_mb < 0:
            raise ValueError(f"cache_mb must be >= 0, got {cache_mb}")
        self._options = dict(cache_mb=cache_mb, readahead=readahead, readahead_frames=readahead_frames,
                             allow_images=allow_images)
        self._damaged: set[int] = set()
        container = open_container(self.path)
        try:
            refuse_non_video(self.path, container, allow_images=allow_images)
            stream = container.streams.video[0]
            codec = stream.codec_context
            self.codec_name = codec.name
            self._coded_size = (int(codec.width), int(codec.height))
            if min(self._coded_size) <= 0:
                raise VideoError(self.path, "the video stream has no frame size (unsupported or corrupt)")
            # frames come out upright (as players show them): width/height, boxes and exports follow
            self.rotation = display_rotation(self.path) if _rotation is None else int(_rotation)
            w, h = self._coded_size
            self.width, self.height = (h, w) if self.rotation in (90, 270) else (w, h)
            self.index = _index if _index is not None else scan_packets(container, stream, self.path)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            if rate:
                self.fps = float(rate)  # the stream's rational rate: 24000/1001 -> 23.976...
            elif len(self.index) > 1:
                self.fps = (len(self.index) - 1) / self.index.seconds(len(self.index) - 1)
            else:
                raise VideoError(self.path, "the video stream has no frame rate")
        except av.error.FFmpegError as exc:
            container.close()
            raise VideoError(self.path, f"cannot read the video stream ({exc})") from exc
        except BaseException:
            container.close()
            raise
        self._lock = threading.RLock()  # serialises the foreground decoder
        self._decoder = ExactDecoder(self.path, self.index, container=container)
        self.cache = FrameCache(int(cache_mb * MB))
        frame_bytes = self.width * self.height * 3
        window = min(readahead_frames, self.cache.max_bytes // max(1, frame_bytes) // 2)
        self._readahead = None
        if readahead and window >= 2:
            self._readahead = ReadAhead(self._make_decoder, functools.partial(to_rgb, rotation=self.rotation),
                                        self.cache, window=window)
        self._background: BackgroundIndexer | None = None
        self._last_read = -2
        self._run_length = 0

    # ---- VideoSource ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    @property
    def keyframes(self) -> np.ndarray:
        """Frame indices of the keyframes (where decoding can start)."""
        return self.index.key_frames

    def frame_time(self, k: int) -> float:
        return self.index.seconds(self.normalize_index(k))

    def _make_decoder(self) -> ExactDecoder:
        return ExactDecoder(self.path, self.index)

    def _note_access(self, k: int) -> None:
        sequential = k == self._last_read + 1
        self._run_length = self._run_length + 1 if sequential else 0
        self._last_read = k
        if self._readahead is None:
            return
        if self._run_length >= 2:
            self._readahead.request(k + 1, len(self))
        elif not sequential:
            self._readahead.cancel()

    def _gop_of(self, k: int | None) -> range:
        """Frames of the GOP holding frame k (empty when k is None)."""
        if k is None:
            return range(0)
        keys = self.index.key_frames
        ki = self.index.keyframe_at_or_before(k)
        end = int(keys[ki + 1]) if ki + 1 < len(keys) else len(self.index)
        return range(int(keys[ki]), end)

    @property
    def damaged_frames(self) -> list[int]:
        """Frames found damaged so far (concealed by the decoder, or repeated from the previous frame
        because they could not be decoded at all); grows as frames are decoded."""
        return sorted(self._damaged.copy())  # copy() is atomic: the reading thread may be adding

    def is_damaged(self, k: int) -> bool:
        return k in self._damaged

    def _read(self, k: int) -> np.ndarray:
        with self._lock:
            self._note_access(k)
        frame = self.cache.get(k)
        if frame is None and self._readahead is not None and self._readahead.wait_for(k):
            frame = self.cache.get(k)
        if frame is None:
            with self._lock:
                self._check_open()
                frame = self.cache.get(k)
                if frame is None:
                    frame = to_rgb(self._decoder.frame(k), self.rotation)
                    if not self.cache.put(k, frame):
                        return frame
        return frame.copy()

    def _iter(self, start: int, stop: int) -> Iterator[np.ndarray]:
        """Sequential decode on a private container with frame threading (fastest path).

        Damage does not stop it: a packet the decoder rejects is skipped (FFmpeg conceals what it
        can in the frames that follow, and the frames of its GOP output after it are marked: they may
        reference it, while frames output before it cannot), a frame that never comes out is
        replaced by the previous one, and both, like frames the decoder itself flags as corrupt, are
        added to ``damaged_frames``. (Random access stays strict: ``src[k]`` of a frame that cannot
        be decoded at all raises VideoError.)"""
        import av

        container = open_container(self.path)
        try:
            stream = container.streams.video[0]
            if start > 0:
                ki = self.index.keyframe_at_or_before(start)
                container.seek(int(self.index.key_seek_ts[ki]), stream=stream, backward=True, any_frame=False)
            stream.thread_type = "AUTO"
            codec = stream.codec_context
            expected = start
            previous: np.ndarray | None = None

            tainted: list[range] = []

            def decoded():
                for packet in container.demux(stream):
                    try:
                        yield from codec.decode(packet if packet.size else None)
                    except av.error.InvalidDataError:
                        # a damaged packet: every frame of its GOP output from now on may reference
                        # it (B-frames shown before it included); frames already output cannot
                        tainted.append(self._gop_of(self.index.frame_of_pts(packet.pts)))
                        continue
                try:
                    yield from codec.decode(None)
                except av.error.InvalidDataError:
                    return

            before_start = None  # the last frame decoded before `start` (a filler if `start` is missing)
            try:
                for frame in decoded():
                    k = self.index.frame_of_pts(frame.pts)
                    if k is None:
                        continue
                    if k < expected:
                        before_start = frame if previous is None else before_start
                        continue
                    if k > expected and previous is None:
                        if before_start is None:
                            break  # the seek did not land before `start`: exact reads below
                        previous = to_rgb(before_start, self.rotation)  # as the uninterrupted decode
                    while expected < min(k, stop):  # frames that never came out
                        self._damaged.add(expected)
                        yield previous.copy()
                        expected += 1
                    if expected >= stop:
                        return
                    if self._closed:
                        return
                    if frame.is_corrupt or any(k in gop for gop in tainted):
                        self._damaged.add(k)
                    previous = to_rgb(frame, self.rotation)
                    yield previous
                    expected += 1
                    if expected >= stop:
                        return
            except av.error.FFmpegError as exc:
                if previous is None:
                    raise VideoError(self.path, f"decoding stopped at frame {expected} ({exc})") from exc
            while previous is not None and expected < stop:  # lost at the end of the stream
                self._damaged.add(expected)
                yield previous.copy()
                expected += 1
        finally:
            container.close()
        for k in range(expected, stop):  # rare: a demuxer that seeks imprecisely
            yield self[k]

    def fingerprint(self) -> str:
        return file_fingerprint(self.path)

    def clone(self) -> "FileVideoSource":
        self._check_open()
        return FileVideoSource(self.path, _index=self.index, _rotation=self.rotation, **self._options)

    def close(self) -> None:
        if self._closed:
            return
        if self._readahead is not None:
            self._readahead.stop()
        if self._background is not None:
            self._background.stop()
        with self._lock:
            self._closed = True
            self._decoder.close()
            self.cache.clear()

    # ---- warm seeks -----------------------------------------------------------------------
    def start_background_index(self, *, proxy_mb: float = 256.0, proxy_max_size: int = 1280,
                               quality: int = 85) -> BackgroundIndexer:
        """Decode the file once in a background thread (idempotent); see the module docstring."""
        self._check_open()
        with self._lock:
            if self._background is None:
                self._background = BackgroundIndexer(
                    self.path, self.index, self.cache, width=self._coded_size[0], height=self._coded_size[1],
                    rotation=self.rotation,
                    proxy_budget_bytes=int(proxy_mb * MB), proxy_max_size=proxy_max_size, quality=quality)
                self._background.start()
            return self._background

    @property
    def background(self) -> BackgroundIndexer | None:
        return self._background

    def wait_background_index(self, timeout: float | None = None) -> bool:
        """True once background indexing has finished (False on timeout or when never started)."""
        return self._background is not None and self._background.wait(timeout)

    def get_display_frame(self, k: int, *, max_size: int | None = None) -> np.ndarray:
        """Frame k for display: exact when cached, else the JPEG proxy when built, else exact."""
        self._check_open()
        k = self.normalize_index(k)
        frame = self.cache.get(k)
        if frame is None and self._background is not None:
            frame = self._background.proxies.get(k)
        if frame is None:
            frame = self[k]
        out = fit_to(frame, max_size)
        return out.copy() if out is frame and not frame.flags.writeable else out
