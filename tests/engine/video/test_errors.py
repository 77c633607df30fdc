"""Missing, corrupt, truncated and non-video inputs give a VideoError naming the file."""
from __future__ import annotations

import pytest

from engine.video import VideoError, open_video


def assert_video_error(path, *words):
    with pytest.raises(VideoError) as info:
        open_video(path)
    err = info.value
    assert isinstance(err, OSError)
    assert str(path) in str(err)
    for word in words:
        assert word in str(err)
    return err


def test_missing_file(tmp_path):
    assert_video_error(tmp_path / "nope.mp4", "no such file")


def test_text_file(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    assert_video_error(path, "not a readable video")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    assert_video_error(path)


def test_truncated_encoded_mp4(encoded_clips, tmp_path):
    data = encoded_clips["x264_bframes_23976.mp4"].read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    assert_video_error(path)


def test_truncated_shared_mp4(bikes_mp4, tmp_path):
    data = bikes_mp4.read_bytes()
    path = tmp_path / "bikes_truncated.mp4"
    path.write_bytes(data[: int(len(data) * 0.8)])
    assert_video_error(path)


def test_truncated_matroska_keeps_the_frames_it_really_has(encoded_clips, tmp_path, reference_decode):
    """A container without a trailing index opens; the count is what can be decoded, not the claim."""
    data = encoded_clips["x264_pts_offset.mkv"].read_bytes()
    path = tmp_path / "cut.mkv"
    path.write_bytes(data[: int(len(data) * 0.6)])
    ref = reference_decode(path)
    with open_video(path, cache_mb=0, readahead=False) as src:
        assert 0 < len(src) < 50
        assert len(src) == len(ref)  # the partial last packet is not counted
        last = len(src) - 1
        assert (src[last] == ref[last]).all()
        assert list(src.iter_frames(0, last + 1))[-1].tobytes() == ref[last].tobytes()


def test_audio_only_file(tmp_path):
    import wave

    path = tmp_path / "sound.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    assert_video_error(path, "no video stream")


def test_folder_that_is_not_a_sequence(tmp_path):
    assert_video_error(tmp_path, "seqinfo.ini")


def test_reading_a_closed_source_fails_clearly(encoded_clips):
    src = open_video(encoded_clips["x264_pts_offset.mkv"])
    src.close()
    src.close()  # idempotent
    with pytest.raises(VideoError, match="closed"):
        src[0]
