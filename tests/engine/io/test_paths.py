"""engine.io.paths: FIFOs, devices and directories are refused by name, without blocking."""
from __future__ import annotations

import os

import pytest

from engine.io.paths import (PathKindError, read_regular_text, require_directory, require_output_file,
                             require_regular_file)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


@needs_fifo
def test_fifo_is_refused_everywhere(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for check in (require_regular_file, require_output_file, require_directory, read_regular_text):
        with pytest.raises(PathKindError, match=r"pipe: --det detections must be .* but this is a FIFO"):
            check(fifo, "--det detections")


def test_regular_files_directories_and_missing_paths(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("héllo")
    assert require_regular_file(path, "x") == path and read_regular_text(path, "x") == "héllo"
    assert require_output_file(path, "x") == path and require_output_file(tmp_path / "new.txt", "x")
    assert require_directory(tmp_path, "x") == tmp_path
    with pytest.raises(PathKindError, match="no such file"):
        require_regular_file(tmp_path / "nope", "x")
    with pytest.raises(PathKindError, match="is a directory"):
        require_regular_file(tmp_path, "results cache")
    with pytest.raises(PathKindError, match="folder .* does not exist"):
        require_output_file(tmp_path / "no" / "out.txt", "--out")
    with pytest.raises(PathKindError, match="more than the 3 bytes"):
        read_regular_text(path, "x", max_bytes=3)
    assert isinstance(PathKindError("x"), OSError)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_is_refused_not_read_forever():
    with pytest.raises(PathKindError, match="character device"):
        read_regular_text("/dev/zero", "gt")
