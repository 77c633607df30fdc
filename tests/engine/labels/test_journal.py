"""The edit journal: exact replay, compaction into the cache, crashes, failed writes, hostile contents."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from labels_helpers import NUM_FRAMES, edit_sequence, model_set

from engine.cache import CacheError, ResultsCache
from engine.labels import edits as E
from engine.labels.journal import (MAGIC, JournalCorruptError, JournalError, LabelJournal, SaveDeferred,
                                   encode_states, journal_path_for, load, save)

HERE = Path(__file__).resolve().parent
CHILD = HERE / "journal_child.py"
FP = "size=1:sha256=labels"


def make_cache(path: Path) -> ResultsCache:
    return ResultsCache.create(path, video_fingerprint=FP, video_path="/v.mp4", num_frames=NUM_FRAMES, fps=25.0,
                               width=640, height=360)


def states_after(count: int):
    """The label set after each of the first ``count`` edits of the deterministic sequence."""
    ls = model_set()
    out = [ls.copy()]
    for _ in edit_sequence(ls, count):
        out.append(ls.copy())
    return out


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parents[2]), env.get("PYTHONPATH", "")])
    return env


def test_journal_path_is_beside_the_cache(tmp_path):
    assert journal_path_for(tmp_path / "a.mp4.stv.h5") == tmp_path / "a.mp4.stv.h5.labels.sqlite"


def test_replay_gives_the_exact_last_state(tmp_path):
    ls = model_set()
    with LabelJournal.open(tmp_path / "j.sqlite") as journal:
        journal.enqueue_snapshot(ls)
        for change, action in edit_sequence(ls, 60):
            journal.enqueue(ls.name, change, action=action)
            if journal.pending >= 7:
                journal.flush()
        for edit, kwargs in ((E.new_track, dict(frame=10, box=[0, 0, 10, 10], track_id=500)),
                             (E.add_box, dict(track_id=500, frame=30, box=[20, 0, 30, 10])),
                             (E.mark_outside, dict(track_id=500, frame=20))):
            change = edit(ls, **kwargs)
            change.apply(ls)
            journal.enqueue(ls.name, change)
        journal.flush()
    with LabelJournal.open(tmp_path / "j.sqlite") as journal:
        back = journal.replay("gt", None)
    assert back.equals(ls)
    kinds = np.concatenate([t.kinds for t in back.tracks()])
    assert {0, 1, 2} <= set(kinds.tolist()) and back.track(500).outside.tolist() == [20]


def test_save_compacts_then_journal_continues(tmp_path):
    ls = model_set()
    with make_cache(tmp_path / "c.stv.h5") as cache, \
            LabelJournal.open(journal_path_for(cache.path), video_fingerprint=FP) as journal:
        journal.enqueue_snapshot(ls)
        for change, action in edit_sequence(ls, 20):
            journal.enqueue(ls.name, change, action=action)
        save(cache, ls, journal)
        assert journal.entry_count("gt") == 0 and cache.label_set_names == ["gt"]
        assert cache.label_set_info("gt")["rows"] == ls.num_boxes
        assert cache.load_label_set("gt").shape == (ls.num_boxes, 7)  # the old API still reads it
        assert load(cache, "gt", journal).equals(ls)
        for change, action in edit_sequence(ls, 10, seed=5):
            journal.record(ls.name, change, action=action)
    with ResultsCache.open(tmp_path / "c.stv.h5") as cache, \
            LabelJournal.open(journal_path_for(cache.path), video_fingerprint=FP) as journal:
        assert load(cache, "gt", journal).equals(ls)


def test_crash_between_cache_write_and_truncation_loses_nothing(tmp_path, monkeypatch):
    ls = model_set()
    with make_cache(tmp_path / "c.stv.h5") as cache, LabelJournal.open(tmp_path / "j.sqlite") as journal:
        journal.enqueue_snapshot(ls)
        for change, action in edit_sequence(ls, 15):
            journal.enqueue(ls.name, change, action=action)
        journal.flush()

        def die(*args, **kwargs):
            raise KeyboardInterrupt("killed")
        monkeypatch.setattr(LabelJournal, "truncate", die)
        with pytest.raises(KeyboardInterrupt):
            save(cache, ls, journal)
        monkeypatch.undo()
        assert journal.entry_count("gt") == 16          # still all there
        assert load(cache, "gt", journal).equals(ls)     # cache state + skipped entries
        _, jid, jseq = __import__("engine.cache.label_store", fromlist=["x"]).read_label_set(cache, "gt")
        assert jid == journal.journal_id and jseq == journal.last_seq("gt")
        # replaying every entry on top of the saved state is harmless too (entries carry states)
        from engine.cache.label_store import read_label_set
        assert journal.replay("gt", read_label_set(cache, "gt")[0]).equals(ls)


def test_save_waits_while_a_run_is_written(tmp_path):
    ls = model_set()
    with make_cache(tmp_path / "c.stv.h5") as cache:
        writer = cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=["a"], params={},
                                  alpha_shape=(4, 4))
        with pytest.raises(SaveDeferred, match="run is being written"):
            save(cache, ls)
        writer.close()
        save(cache, ls)
        assert load(cache, "gt").equals(ls)
    with ResultsCache.open(tmp_path / "c.stv.h5") as cache:
        with pytest.raises(CacheError, match="read-only"):
            save(cache, ls)


@pytest.mark.parametrize("trial", range(4))
def test_killed_mid_append_replays_to_the_last_durable_edit(tmp_path, trial):
    path = tmp_path / "j.sqlite"
    proc = subprocess.Popen([sys.executable, str(CHILD), "kill", str(path)], stdout=subprocess.PIPE, text=True,
                            env=child_env())
    target = [3, 17, 40, 75][trial]
    last = -1
    try:
        for line in proc.stdout:
            last = int(line.split()[1])
            if last >= target:
                time.sleep(0.002 * trial)   # land inside a later append, not just after this one
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert last >= target
    with LabelJournal.open(path) as journal:
        back = journal.replay("gt", None)
        n = journal.entry_count("gt") - 1   # minus the snapshot
    assert n >= last
    assert back.equals(states_after(n)[n])


@pytest.mark.parametrize("trial", range(6))
def test_killed_during_compaction_loses_nothing_and_runs_stay_bit_identical(tmp_path, trial):
    from engine.cache.synthetic import synthetic_frame

    cache_path = tmp_path / "c.stv.h5"
    with make_cache(cache_path) as cache:
        writer = cache.create_run("model", model_config={}, checkpoint_sha256="", class_names=["a"], params={},
                                  alpha_shape=(4, 4))
        for k in range(NUM_FRAMES):
            writer.write(synthetic_frame(k, num_classes=1, alpha_shape=(4, 4)))
        writer.close()
        run = cache.run("model")
        rows_before = run.track_rows()
        alpha_before = [run.frame(k).alpha for k in (0, 57, NUM_FRAMES - 1)]
    proc = subprocess.Popen([sys.executable, str(CHILD), "compact", str(cache_path)], stdout=subprocess.PIPE,
                            text=True, env=child_env())
    rng = np.random.default_rng(trial)
    last_ok = -1
    try:
        assert proc.stdout.readline().startswith("ok 0")
        deadline = time.monotonic() + float(rng.uniform(0.05, 0.6))
        for line in proc.stdout:
            word, i = line.split()
            if word == "ok":
                last_ok = int(i)
            if time.monotonic() > deadline and last_ok >= 1:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        rest = proc.stdout.read().split()
        oks = [int(v) for w, v in zip(rest[::2], rest[1::2]) if w == "ok"]
        last_ok = max([last_ok] + oks)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    states = states_after(last_ok + 1)
    with ResultsCache.open(cache_path) as cache, \
            LabelJournal.open(journal_path_for(cache_path), readonly=True) as journal:
        run = cache.run("model")
        np.testing.assert_array_equal(run.track_rows(), rows_before)
        for k, a in zip((0, 57, NUM_FRAMES - 1), alpha_before):
            np.testing.assert_array_equal(run.frame(k).alpha, a)
        back = load(cache, "gt", journal)
    assert back.equals(states[last_ok]) or back.equals(states[last_ok + 1]), f"lost edits (last durable {last_ok})"


def _writable_only_by_root(folder: Path) -> None:
    folder.chmod(0o555)


def test_read_only_folder_names_the_file(tmp_path):
    # an unprivileged child needs a folder it can reach: not under root's private tmp
    root = Path(tempfile.mkdtemp(prefix="stv-labels-ro-"))
    try:
        root.chmod(0o755)
        folder = root / "ro"
        folder.mkdir()
        _writable_only_by_root(folder)
        path = folder / "c.stv.h5.labels.sqlite"
        out = subprocess.run([sys.executable, str(CHILD), "readonly", str(path)], capture_output=True, text=True,
                             env=child_env(), timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("open refused JournalError") and str(path) in out.stdout
        # an existing journal whose folder and files became read-only: the append is refused, kept
        folder.chmod(0o755)
        with LabelJournal.open(path) as journal:
            journal.enqueue_snapshot(model_set())
            journal.flush()
        for p in folder.iterdir():
            p.chmod(0o444)
        folder.chmod(0o555)
        out = subprocess.run([sys.executable, str(CHILD), "readonly", str(path)], capture_output=True, text=True,
                             env=child_env(), timeout=60)
        assert out.returncode == 0, out.stderr
        assert "refused" in out.stdout and str(path) in out.stdout, out.stdout
        if out.stdout.startswith("flush refused"):
            assert "pending=1" in out.stdout and "kept in memory" in out.stdout
    finally:
        for p in [root, *root.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(root)


def test_readonly_open_reads_and_never_writes(tmp_path):
    path = tmp_path / "j.sqlite"
    with pytest.raises(JournalError, match="no label journal"):
        LabelJournal.open(path, readonly=True)
    assert not path.exists()
    ls = model_set()
    writer = LabelJournal.open(path)
    writer.enqueue_snapshot(ls)
    writer.flush()
    with LabelJournal.open(path, readonly=True) as reader:   # while the app has it open
        assert reader.replay("gt", None).equals(ls)
        with pytest.raises(JournalError, match="read-only"):
            reader.record("gt", E.split_track(ls, track_id=5, frame=50))
    writer.close()
    # a folder this process cannot write (an export from read-only media), journal closed cleanly
    root = Path(tempfile.mkdtemp(prefix="stv-labels-ro-"))
    try:
        root.chmod(0o755)
        shutil.copy(path, root / "j.sqlite")
        (root / "j.sqlite").chmod(0o644)
        root.chmod(0o555)
        out = subprocess.run([sys.executable, str(CHILD), "read", str(root / "j.sqlite")], capture_output=True,
                             text=True, env=child_env(), timeout=60)
        assert out.stdout.strip() == f"read {ls.num_boxes} {len(ls)}", out.stdout + out.stderr
    finally:
        root.chmod(0o755)
        shutil.rmtree(root)


def test_file_size_limit_refuses_cleanly_and_keeps_what_was_durable(tmp_path):
    cache_path = tmp_path / "c.stv.h5"
    saved = model_set()
    with make_cache(cache_path) as cache:
        save(cache, saved)
    path = journal_path_for(cache_path)
    out = subprocess.run([sys.executable, str(CHILD), "fsize", str(path), str(cache_path)], capture_output=True,
                         text=True, env=child_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("refused ") and "pending=1" in lines[0] and str(path) in lines[0], out.stdout
    ok = int(lines[0].split()[1])
    assert ok > 0
    assert lines[1].startswith("save refused") and str(cache_path) in lines[1], out.stdout
    with ResultsCache.open(cache_path) as cache, LabelJournal.open(path) as journal:
        assert load(cache, "gt").equals(saved)                  # the saved set is intact
        assert journal.replay("gt", None).equals(states_after(ok)[ok])


# ---------------------------------------------------------------------------- hostile journals

def _raw_entry(states_payload: bytes, mutate) -> bytes:
    raw = bytearray(zlib.decompress(states_payload))
    mutate(raw)
    return zlib.compress(bytes(raw))


def _one_track_payload():
    ls = model_set()
    t = ls.track(3)
    return encode_states({3: t}), t


def _header_len(raw) -> int:
    return struct.unpack("<I", bytes(raw[4:8]))[0]


def _set_box_nan(raw):
    pos = 8 + _header_len(raw) + 60 * 8   # after the frames: boxes
    raw[pos:pos + 8] = struct.pack("<d", float("nan"))


def _set_frame(value, index=0):
    def mutate(raw):
        pos = 8 + _header_len(raw) + 8 * index
        raw[pos:pos + 8] = struct.pack("<q", value)
    return mutate


def _replace_header(old: bytes, new: bytes):
    def mutate(raw):
        h = _header_len(raw)
        head = bytes(raw[8:8 + h]).replace(old, new)
        raw[4:8 + h] = struct.pack("<I", len(head)) + head
    return mutate


@pytest.mark.parametrize("mutate,match", [
    (_set_box_nan, "finite"),
    (_set_frame(NUM_FRAMES + 5, index=59), "frame out of range"),
    (_set_frame(-3), "frame out of range"),
    (_replace_header(b'"id": 3', b'"id": 99999999999'), "track ID must be in"),
    (_replace_header(b'"n": 60', b'"n": 6000000000'), "past the end"),
    (_replace_header(b'"n": 60', b'"n": -1'), "bad counts"),
    (_replace_header(b'"class": 1', b'"class": 0'), "class id"),
    (lambda raw: raw.__setitem__(slice(0, 4), b"XXXX"), "bad magic"),
    (lambda raw: raw.extend(b"junk"), "trailing bytes"),
    (_replace_header(b'"tracks"', b'"trucks"'), "damaged header"),
])
def test_hostile_entries_are_refused_naming_the_file(tmp_path, mutate, match):
    path = tmp_path / "j.sqlite"
    ls = model_set()
    payload, _ = _one_track_payload()
    with LabelJournal.open(path) as journal:
        journal.enqueue_snapshot(ls)
        journal.flush()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO entries (label_set, action, description, created, payload) VALUES (?,?,?,?,?)",
                ("gt", "apply", "evil", "now", _raw_entry(payload, mutate)))
    con.commit()
    con.close()
    with LabelJournal.open(path) as journal:
        with pytest.raises(JournalCorruptError, match=match) as info:
            journal.replay("gt", None)
    assert str(path) in str(info.value) and "entry 2" in str(info.value)


def test_hostile_journal_files(tmp_path):
    not_db = tmp_path / "a.sqlite"
    not_db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalCorruptError, match=str(not_db)):
        LabelJournal.open(not_db)
    foreign = tmp_path / "b.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    con.commit()
    con.close()
    with pytest.raises(JournalCorruptError, match="not a label journal"):
        LabelJournal.open(foreign)
    j = tmp_path / "c.sqlite"
    LabelJournal.open(j, video_fingerprint="video-A").close()
    with pytest.raises(JournalError, match="another video"):
        LabelJournal.open(j, video_fingerprint="video-B")
    # a decompression bomb is cut off, not inflated
    with LabelJournal.open(j) as journal:
        journal.enqueue_snapshot(model_set())
        journal.flush()
    con = sqlite3.connect(j)
    bomb = zlib.compress(MAGIC + b"\0" * (1 << 20) * 8, 9)
    import engine.labels.journal as J
    con.execute("INSERT INTO entries (label_set, action, description, created, payload) VALUES (?,?,?,?,?)",
                ("gt", "apply", "bomb", "now", bomb))
    con.execute("INSERT INTO entries (label_set, action, description, created, payload) VALUES (?,?,?,?,?)",
                ("zz", "apply", "orphan", "now", encode_states({3: model_set().track(3)})))
    con.commit()
    con.close()
    old = J.MAX_PAYLOAD
    J.MAX_PAYLOAD = 1 << 20
    try:
        with LabelJournal.open(j) as journal:
            with pytest.raises(JournalCorruptError, match="larger than"):
                journal.replay("gt", None)
            with pytest.raises(JournalCorruptError, match="neither saved"):
                journal.replay("zz", None)
    finally:
        J.MAX_PAYLOAD = old


def test_undo_entries_replay(tmp_path):
    ls = model_set()
    with LabelJournal.open(tmp_path / "j.sqlite") as journal:
        journal.enqueue_snapshot(ls)
        c = E.split_track(ls, track_id=5, frame=50)
        c.apply(ls)
        journal.record("gt", c)
        c.revert(ls)
        journal.record("gt", c, action="undo")
        assert journal.replay("gt", None).equals(model_set())
        c.apply(ls)
        journal.record("gt", c, action="redo")
        assert journal.replay("gt", None).equals(ls)
        with pytest.raises(ValueError, match="action"):
            journal.enqueue("gt", c, action="frobnicate")
        journal.enqueue("gt", c)
        assert journal.discard("gt") == 4 and journal.pending == 0 and journal.label_set_names() == []


def test_a_save_failing_halfway_keeps_the_saved_set_and_the_journal(tmp_path, monkeypatch):
    import engine.cache.label_store as store

    ls = model_set()
    with make_cache(tmp_path / "c.stv.h5") as cache, LabelJournal.open(journal_path_for(cache.path)) as journal:
        save(cache, ls, journal)
        saved = ls.copy()
        for change, action in edit_sequence(ls, 12):
            journal.enqueue(ls.name, change, action=action)
        in_memory = ls.copy()
        real = store._dataset
        calls = []

        def failing(group, name, data):
            calls.append(name)
            if len(calls) == 4:
                raise OSError(28, "No space left on device")
            real(group, name, data)
        monkeypatch.setattr(store, "_dataset", failing)
        with pytest.raises(CacheError, match=f"{cache.path}.*cannot save label set 'gt'.*kept in the journal"):
            save(cache, ls, journal)
        monkeypatch.undo()
        assert ls.equals(in_memory)                              # the caller's state is untouched
        assert store.read_label_set(cache, "gt")[0].equals(saved)  # the last save is intact
        assert load(cache, "gt", journal).equals(in_memory)      # and the journal has the rest
        save(cache, ls, journal)                                  # the retry works
        assert journal.entry_count("gt") == 0 and load(cache, "gt", journal).equals(in_memory)
        assert cache.label_set_names == ["gt"]                    # no staging group left visible


def test_compaction_in_a_worker_while_editing_goes_on(tmp_path):
    import threading

    from engine.labels.journal import save_to_cache

    ls = model_set()
    with make_cache(tmp_path / "c.stv.h5") as cache, LabelJournal.open(journal_path_for(cache.path)) as journal:
        journal.enqueue_snapshot(ls)
        edits = edit_sequence(ls, 40)
        for _ in range(20):
            change, action = next(edits)
            journal.enqueue(ls.name, change, action=action)
        journal.flush()
        seq, snapshot = journal.last_seq("gt"), ls.copy()
        errors = []
        worker = threading.Thread(target=lambda: errors.extend(
            [e for e in [_try(save_to_cache, cache, snapshot, journal_id=journal.journal_id, journal_seq=seq)] if e]))
        worker.start()
        for change, action in edits:           # the window keeps editing and autosaving meanwhile
            journal.record(ls.name, change, action=action)
        worker.join()
        assert not errors
        journal.truncate("gt", upto_seq=seq)
        assert journal.entry_count("gt") == 20
        assert load(cache, "gt", journal).equals(ls)


def _try(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # reported to the test thread
        return exc
    return None


def test_the_wal_is_checkpointed_once_it_grows_past_the_bound(tmp_path, monkeypatch):
    import engine.labels.journal as J

    monkeypatch.setattr(J, "WAL_CHECKPOINT_BYTES", 64 * 1024)
    ls = model_set()
    path = tmp_path / "j.sqlite"
    with LabelJournal.open(path) as journal:
        journal.enqueue_snapshot(ls)
        sizes = []
        for change, action in edit_sequence(ls, 80):
            journal.record(ls.name, change, action=action)
            sizes.append(os.path.getsize(str(path) + "-wal"))
        assert max(sizes) < 64 * 1024 * 4, "the WAL kept growing"
        assert path.stat().st_size > 4096          # pages did move into the database
        assert journal.replay("gt", None).equals(ls)
