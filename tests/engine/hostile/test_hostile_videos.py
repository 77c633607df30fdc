"""Issue 12 §2 and issue 11: videos and sequence folders that lie or are damaged, FIFOs, text files."""
from __future__ import annotations

import os
import threading

import av
import cv2
import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.cache import schema as S
from engine.cli.main import main as stv
from engine.video import VideoError, open_video

from hostile_inputs import causal_checkpoint, hostile_clip  # noqa: F401 (fixtures)


def _finishes(fn, timeout=20.0):
    """Run fn on a thread; fail (instead of hanging the suite) if it blocks."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "blocked (a FIFO was opened)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_a_mot_text_file_is_not_a_video(tmp_path, capsys):
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"{i + 1},1,10,20,30,40,1,-1,-1,-1\n" for i in range(3000)))
    assert av.open(str(gt)).format.name == "tty", "FFmpeg would render it as text frames"
    with pytest.raises(VideoError, match="gt.txt: not a video: FFmpeg would render this text file"):
        open_video(gt)
    assert stv(["infer", str(gt), "--device", "cpu", "--quiet"]) == 1
    assert "not a video" in capsys.readouterr().err
    assert not (tmp_path / "gt.txt.stv.h5").exists()


def test_an_image_renamed_as_a_video_is_refused_unless_asked(tmp_path):
    fake = tmp_path / "photo.mp4"
    ok, png = cv2.imencode(".png", np.zeros((48, 64, 3), np.uint8))
    fake.write_bytes(png.tobytes())
    with pytest.raises(VideoError, match="photo.mp4: a single png image, not a video"):
        open_video(fake)
    with open_video(fake, allow_images=True) as src:
        assert len(src) == 1 and src.shape == (48, 64, 3)


def test_fifos_as_video_cache_or_out_are_refused_without_blocking(hostile_clip, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(VideoError, match="must be a regular file, but this is a FIFO"):
        _finishes(lambda: open_video(fifo))
    with pytest.raises(OSError, match="results cache must be a regular file, but this is a FIFO"):
        _finishes(lambda: ResultsCache.open(fifo))
    assert _finishes(lambda: stv(["infer", str(hostile_clip(12)), "--out", str(fifo), "--quiet"])) == 1
    assert "must be a regular file to write, but this is a FIFO" in capsys.readouterr().err


def _damage_mid_video(src, dst):
    """Overwrite the NAL length field of a packet in the middle: the decoder rejects that packet."""
    container = av.open(str(src))
    packets = [(p.pos, p.pts) for p in container.demux(container.streams.video[0]) if p.size]
    container.close()
    data = bytearray(src.read_bytes())
    pos = packets[len(packets) // 2][0]
    data[pos:pos + 4] = b"\xff\xff\xff\x7f"
    dst.write_bytes(bytes(data))
    return dst


def test_a_damaged_packet_mid_video_decodes_on_and_marks_the_frames(causal_checkpoint, hostile_clip, tmp_path,
                                                                    caplog):
    clip = hostile_clip(48)
    damaged = _damage_mid_video(clip, tmp_path / "damaged.mp4")
    with open_video(clip) as good, open_video(damaged) as bad:
        reference = list(good.iter_frames())
        frames = list(bad.iter_frames())  # used to stop at the damaged frame with a VideoError
        assert len(frames) == len(reference) == 48
        marked = bad.damaged_frames
        assert 0 < len(marked) <= 24, marked  # the damaged GOP(s) only
        for k in range(48):
            if k not in marked:
                assert np.array_equal(frames[k], reference[k]), f"frame {k} is not marked but differs"
        for start in range(marked[0] - 1, marked[-1] + 2):  # a resumed run decodes from `start` on
            again = list(bad.iter_frames(start))
            assert len(again) == 48 - start and all(np.array_equal(a, b) for a, b in zip(again, frames[start:]))
    out = tmp_path / "r.h5"
    with caplog.at_level("WARNING", logger="engine.pipeline"):
        code = stv(["infer", str(damaged), "--model", str(causal_checkpoint), "--out", str(out), "--device", "cpu",
                    "--quiet", "--run", "r"])
    assert code == 0
    assert f"{len(marked)} damaged frame(s) were decoded with the decoder's concealment" in caplog.text
    with ResultsCache.open(out) as cache:
        reader = cache.run("r")
        assert reader.completed_frames == 48
        assert reader.damaged_frames().tolist() == marked
        assert reader.frame(marked[0]).damaged and not reader.frame(0).damaged
        flags = cache.h5["runs/r/frame_flags"][()]
        assert ((flags & S.FLAG_DAMAGED) != 0).sum() == len(marked)


def _mot_sequence(root, *, frames, length=None, images=True):
    (root / "gt").mkdir(parents=True)
    (root / "gt" / "gt.txt").write_text("1,1,10,10,20,30,1,1,1\n")
    (root / "seqinfo.ini").write_text(f"[Sequence]\nname={root.name}\nimDir=img1\nframeRate=25\n"
                                      f"seqLength={length or frames}\nimWidth=64\nimHeight=48\nimExt=.png\n")
    if images:
        (root / "img1").mkdir()
        for k in range(1, frames + 1):
            cv2.imwrite(str(root / "img1" / f"{k:06d}.png"), np.full((48, 64, 3), k, np.uint8))
    return root


def test_a_mot_folder_with_a_missing_frame_is_refused_in_app_and_cli(tmp_path, capsys):
    seq = _mot_sequence(tmp_path / "SEQ", frames=40)
    (seq / "img1" / "000020.png").unlink()
    with pytest.raises(VideoError, match="SEQ.img1: seqinfo.ini says seqLength=40 but the folder holds 39 images; 000020.png"):
        open_video(seq)  # what the viewer's File -> Open Folder calls
    assert stv(["infer", str(seq), "--device", "cpu", "--quiet"]) == 1
    assert "000020.png" in capsys.readouterr().err


def test_a_mot_folder_without_images_opens_as_a_grey_canvas(tmp_path):
    seq = _mot_sequence(tmp_path / "NOPIX", frames=30, images=False)
    with open_video(seq) as src:
        assert (len(src), src.width, src.height, src.fps) == (30, 64, 48, 25.0)
        assert src.has_pixels is False
        frame = src[29]
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8 and len(np.unique(frame)) == 1
        assert sum(1 for _ in src.iter_frames(10)) == 20
        assert src.fingerprint() == open_video(seq).fingerprint()


def test_the_model_is_not_run_on_a_grey_canvas(tmp_path, capsys):
    seq = _mot_sequence(tmp_path / "NOPIX", frames=30, images=False)
    assert stv(["infer", str(seq), "--device", "cpu", "--quiet"]) == 1
    assert "no pixels to run the model on" in capsys.readouterr().err
    assert not (seq / "stv_results.h5").exists()


def test_a_pixel_less_sequence_claiming_a_billion_frames_is_refused(tmp_path):
    seq = _mot_sequence(tmp_path / "HUGE", frames=1, length=10**9, images=False)
    with pytest.raises(VideoError, match="seqLength=1000000000 is outside"):
        open_video(seq)


def _rotated_clip(path, *, rotation, frames=12, width=160, height=96):
    """A clip stored landscape with a display matrix (as phones write portrait video)."""
    out = av.open(str(path), "w")
    stream = out.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.set_display_rotation(rotation)
    for k in range(frames):
        image = np.zeros((height, width, 3), np.uint8)
        image[:20, :40] = 255  # a white block at the stored image's top-left
        image[-10:, :, 1] = 8 * k
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path


@pytest.mark.parametrize("rotation,corner", [(90, "bottom-left"), (-90, "top-right"), (180, "bottom-right")])
def test_rotation_metadata_is_applied(tmp_path, rotation, corner):
    clip = _rotated_clip(tmp_path / f"rot{rotation}.mp4", rotation=rotation)
    with open_video(clip) as src:
        upright = (96, 160) if rotation == 180 else (160, 96)
        assert (src.height, src.width) == upright and src[0].shape == (*upright, 3)
        white = np.argwhere(src[5][:, :, 0] > 200)
        top, left = white.min(0)
        bottom, right = white.max(0)
        h, w = upright
        assert {"bottom-left": (bottom == h - 1 and left == 0), "top-right": (top == 0 and right == w - 1),
                "bottom-right": (bottom == h - 1 and right == w - 1)}[corner], (top, left, bottom, right)
        sequential = list(src.iter_frames())
        assert all(np.array_equal(sequential[k], src[k]) for k in range(len(src)))
        src.start_background_index(proxy_mb=4)
        assert src.wait_background_index(timeout=30) and src.background.problem is None
        assert src.get_display_frame(3).shape == (*upright, 3)


def test_a_rotated_clip_runs_in_display_orientation(causal_checkpoint, tmp_path):
    clip = _rotated_clip(tmp_path / "portrait.mp4", rotation=90)
    out = tmp_path / "r.h5"
    assert stv(["infer", str(clip), "--model", str(causal_checkpoint), "--out", str(out), "--device", "cpu",
                "--quiet", "--run", "r", "--score-threshold", "0"]) == 0
    with ResultsCache.open(out) as cache:
        assert (cache.video.width, cache.video.height) == (96, 160)
        rows = cache.run("r").track_rows()
    assert len(rows) and rows[:, [2, 4]].max() <= 96 and rows[:, [3, 5]].max() <= 160
