"""MOTChallenge image-sequence folders behave like a video."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.video import VideoError, open_video
from engine.video.synthetic import make_texture, synthetic_frame


def write_sequence(root, *, frames=6, ext=".png", seq_length=None, fps="14"):
    texture = make_texture(64, 48)
    img = root / "img1"
    img.mkdir(parents=True)
    rgb = []
    for k in range(frames):
        frame = synthetic_frame(k, 64, 48, texture)
        cv2.imwrite(str(img / f"{k + 1:06d}{ext}"), frame[:, :, ::-1])
        rgb.append(frame)
    (root / "seqinfo.ini").write_text(
        "[Sequence]\nname=Synthetic-01\nimDir=img1\n"
        f"frameRate={fps}\nseqLength={seq_length or frames}\nimWidth=64\nimHeight=48\nimExt={ext}\n")
    return rgb


def test_png_sequence_is_exact_and_has_metadata(tmp_path):
    rgb = write_sequence(tmp_path / "SEQ-01")
    with open_video(tmp_path / "SEQ-01") as src:
        assert len(src) == 6 and src.fps == 14.0 and (src.width, src.height) == (64, 48)
        for k in (3, 0, 5, -1, 2):
            frame = src[k]
            assert frame.dtype == np.uint8 and frame.flags.c_contiguous
            assert np.array_equal(frame, rgb[k])  # PNG is lossless: exact
        assert all(np.array_equal(a, b) for a, b in zip(src.iter_frames(), rgb))
        assert len(list(src.iter_frames(2, 4))) == 2
        with pytest.raises(IndexError):
            src[6]
        assert src.fingerprint().startswith("v1:")
        assert src.start_background_index() is None and src.wait_background_index()  # nothing to warm
        assert np.array_equal(src.get_display_frame(1), rgb[1])
        assert src.get_display_frame(1, max_size=32).shape == (24, 32, 3)


def test_jpeg_sequence_random_equals_sequential_and_img1_path(tmp_path):
    write_sequence(tmp_path / "SEQ-02", ext=".jpg", fps="29.97")
    with open_video(tmp_path / "SEQ-02" / "img1") as src:  # the image folder works too
        assert src.fps == 29.97
        seq = list(src.iter_frames())
        for k in (4, 1, 5, 0):
            assert np.array_equal(src[k], seq[k])


def test_seq_length_claiming_more_than_present_is_refused(tmp_path):
    """Issue 12: frames 5..10 missing is a gap at the end; cutting the sequence to 4 frames without a
    word would pair later boxes with nothing."""
    write_sequence(tmp_path / "SEQ-03", frames=4, seq_length=10)
    with pytest.raises(VideoError, match="seqLength=10 but the folder holds 4 images; 000005.png is the first"):
        open_video(tmp_path / "SEQ-03")


def test_corrupt_frame_and_malformed_seqinfo(tmp_path):
    write_sequence(tmp_path / "SEQ-04")
    (tmp_path / "SEQ-04" / "img1" / "000003.png").write_bytes(b"garbage")
    with open_video(tmp_path / "SEQ-04") as src:
        with pytest.raises(VideoError, match="000003.png"):
            src[2]
    write_sequence(tmp_path / "SEQ-05")
    (tmp_path / "SEQ-05" / "seqinfo.ini").write_text("[Sequence]\nframeRate=abc\n")
    with pytest.raises(VideoError, match="seqinfo.ini"):
        open_video(tmp_path / "SEQ-05")


def test_fingerprint_changes_with_content(tmp_path):
    write_sequence(tmp_path / "A")
    write_sequence(tmp_path / "B")
    with open_video(tmp_path / "A") as a, open_video(tmp_path / "B") as b:
        assert a.fingerprint() == b.fingerprint()  # same bytes
    cv2.imwrite(str(tmp_path / "B" / "img1" / "000006.png"), np.zeros((48, 64, 3), np.uint8))
    with open_video(tmp_path / "A") as a, open_video(tmp_path / "B") as b:
        assert a.fingerprint() != b.fingerprint()
