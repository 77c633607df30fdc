"""The file is open for writing only while it must be; killed processes leave readable files."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading

import numpy as np

from engine.cache import ResultsCache
from engine.cache.recovery import status_flags
from engine.cache.synthetic import assert_same_result, synthetic_frame

from conftest import FP, make_cache, new_run

IDLE_AFTER_WRITING = """
import sys, time
sys.path.insert(0, sys.argv[2])
from conftest import make_cache, new_run
from engine.cache.synthetic import synthetic_frame
cache = make_cache(sys.argv[1], num_frames=20)
with new_run(cache) as w:
    for k in range(20):
        w.write(synthetic_frame(k))
cache.save_label_set("gt", [[0, 1, 0, 0, 5, 5, 1]])
print("idle", flush=True)
time.sleep(60)
"""

KILLED_IN_NORMAL_WRITE_MODE = """
import sys, time, h5py
f = h5py.File(sys.argv[1], "r+", libver="latest")
f.attrs["touched"] = 1
f.flush()
print("flushed", flush=True)
time.sleep(60)
"""


def _run_until(code, args, marker):
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == marker
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killing_an_idle_appending_process_leaves_a_clean_file(cache_path, tmp_path):
    from pathlib import Path
    _run_until(IDLE_AFTER_WRITING, [str(cache_path), str(Path(__file__).parent)], "idle")
    assert status_flags(cache_path) == 0
    with ResultsCache.open(cache_path) as cache:
        assert not cache.swmr_read and cache.run("tiny").info.complete
        assert cache.load_label_set("gt").shape == (1, 7)


def test_reader_repairs_a_file_killed_in_normal_write_mode(cache_path):
    with make_cache(cache_path, num_frames=10) as cache:
        with new_run(cache) as w:
            for k in range(10):
                w.write(synthetic_frame(k))
    _run_until(KILLED_IN_NORMAL_WRITE_MODE, [str(cache_path)], "flushed")
    assert status_flags(cache_path) != 0
    with ResultsCache.open(cache_path, mode="r") as cache:
        assert_same_result(cache.run("tiny").frame(9), synthetic_frame(9))
    assert status_flags(cache_path) == 0


def test_reader_made_before_the_writer_and_a_reading_thread(cache_path):
    """The pipeline's pattern (reader, then resume writer, in one cache) and the viewer's (a thread
    reading frames while a worker writes and the user saves label sets)."""
    with make_cache(cache_path, num_frames=600) as cache:
        with new_run(cache) as w:
            for k in range(100):
                w.write(synthetic_frame(k))
    with ResultsCache.open(cache_path, mode="a", video_fingerprint=FP) as cache:
        reader = cache.run("tiny")
        writer = cache.open_run_writer("tiny")
        assert writer.completed_frames == 100 and len(reader.track_rows()) > 0
        assert_same_result(reader.frame(99), synthetic_frame(99))
        errors, stop = [], threading.Event()

        def read_loop():
            rng = np.random.default_rng(1)
            try:
                while not stop.is_set():
                    reader.refresh()
                    k = int(rng.integers(0, max(1, reader.completed_frames)))
                    assert_same_result(reader.frame(k), synthetic_frame(k))
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        thread = threading.Thread(target=read_loop)
        thread.start()
        try:
            for k in range(100, 600):
                writer.write(synthetic_frame(k))
                if k % 50 == 0:
                    writer.checkpoint()
                if k % 200 == 0:
                    cache.save_label_set(f"edit{k}", np.ones((1, 7)))
        finally:
            stop.set()
            thread.join()
        writer.close()
        assert not errors, errors[0]
        reader.refresh()
        assert reader.info.complete and cache.label_set_names == ["edit200", "edit400"]
