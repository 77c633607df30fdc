"""Crash-safe persistence of label-set edits: an append-only SQLite journal beside the results cache.

Why not write edits into the cache: HDF5 is not journaled (a kill mid-write can damage the file), it
allows one writer per file, and the background worker may be writing a run into the same cache. So
every applied, undone or redone edit is appended as one row to ``<cache>.labels.sqlite``
(:func:`journal_path_for`), and the cache's ``/label_sets/<name>/`` is rewritten only on an explicit
:func:`save` ("compaction"), when no run writer is active.

SQLite settings: WAL (appends do not rewrite the database, readers never block the writer, a killed
process loses at most the transaction it was in) and ``synchronous=FULL``: every committed append is
fsynced, so an autosave the UI reported survives a power cut, not just a crash of the app. NORMAL would
only survive the app being killed; the fsync costs a few ms per autosave (the app batches the edits of
2 s into one transaction: :meth:`LabelJournal.flush`), measured by ``stv bench labels``.

An entry stores the *resulting states* of the tracks an edit touched (or the whole set, for a
``snapshot``), not the operation: replay is exact (keyframe / interpolated / outside included) and
idempotent, so replaying entries a crashed compaction had already saved gives the same state.

Entry payload (zlib-compressed): ``b"STVJ"``, uint32 header length, a JSON header
``{"meta": {...} | null, "tracks": [{"id", "class", "n", "m"[, "row_classes": true]} | {"id", "deleted": true},
...]}``, then per present track, little-endian: frames int64 (n), boxes float64 (n, 4), model_boxes float64
(n, 4), kinds uint8 (n), visibility float64 (n), consider uint8 (n), outside int64 (m), and, only for a
track flagged ``row_classes`` (rows of several classes), its per-row classes int64 (n); without the flag
every row has ``class`` (so single-class entries are byte for byte what the first journals wrote, and
those replay unchanged). Nothing is pickled;
everything read is validated (sizes against the bytes present, frames against the video, IDs, finite
boxes) and a bad entry raises :class:`JournalCorruptError` naming the file and the entry.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import struct
import uuid
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from engine.labels.edits import Change
from engine.labels.model import LabelSet, Track

if TYPE_CHECKING:
    from engine.cache.store import ResultsCache

JOURNAL_SUFFIX = ".labels.sqlite"
JOURNAL_FORMAT = "stviewer-label-journal"
JOURNAL_VERSION = 1
MAGIC = b"STVJ"
MAX_PAYLOAD = 1 << 30        # decompressed bytes of one entry (a 1M-box snapshot is ~90 MB)
ACTIONS = ("snapshot", "apply", "undo", "redo")
_BYTES_PER_ROW = 8 + 32 + 32 + 1 + 8 + 1
WAL_CHECKPOINT_BYTES = 64 << 20


class JournalError(OSError):
    """The journal could not be opened, read or written; the message names the file."""


class JournalCorruptError(JournalError):
    """The journal (or one entry of it) is not what this code writes: damaged or foreign."""


class SaveDeferred(JournalError):
    """A run writer is active on the cache: the label set stays in the journal; retry the save later."""


def journal_path_for(cache_path: str | os.PathLike) -> Path:
    """The journal of a results cache: ``<cache file name>.labels.sqlite`` in the same folder (plus
    SQLite's ``-wal`` / ``-shm`` files while open)."""
    p = Path(cache_path)
    return p.with_name(p.name + JOURNAL_SUFFIX)


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------- payload codec

def _meta(ls: LabelSet) -> dict:
    return {"name": ls.name, "num_frames": ls.num_frames, "width": ls.width, "height": ls.height,
            "class_names": {str(k): v for k, v in sorted(ls.class_names.items())},
            "source_run": ls.source_run, "note": ls.note}


def encode_states(states: Mapping[int, Track | None], meta: dict | None = None) -> bytes:
    """The payload bytes of track states (None = track removed), optionally with label-set metadata."""
    header = {"meta": meta, "tracks": []}
    chunks = []
    for tid in sorted(states):
        t = states[tid]
        if t is None:
            header["tracks"].append({"id": int(tid), "deleted": True})
            continue
        entry = {"id": t.track_id, "class": t.class_id, "n": len(t), "m": len(t.outside)}
        chunks += [t.frames.astype("<i8").tobytes(), t.boxes.astype("<f8").tobytes(),
                   t.model_boxes.astype("<f8").tobytes(), t.kinds.astype("u1").tobytes(),
                   t.visibility.astype("<f8").tobytes(), t.consider.astype("u1").tobytes(),
                   t.outside.astype("<i8").tobytes()]
        if not t.single_class:
            entry["row_classes"] = True
            chunks.append(t.classes.astype("<i8").tobytes())
        header["tracks"].append(entry)
    head = json.dumps(header).encode()
    return zlib.compress(MAGIC + struct.pack("<I", len(head)) + head + b"".join(chunks), 1)


def decode_states(blob: bytes, *, num_frames: int | None, where: str) -> tuple[dict[int, Track | None], dict | None]:
    """Inverse of :func:`encode_states`; JournalCorruptError (naming ``where``) for anything wrong.
    ``num_frames`` None means: take it from the payload's metadata (a snapshot)."""
    def bad(why: str) -> JournalCorruptError:
        return JournalCorruptError(f"{where}: {why}")

    try:
        d = zlib.decompressobj()
        raw = d.decompress(bytes(blob), MAX_PAYLOAD)
        if d.unconsumed_tail:
            raise bad(f"entry larger than {MAX_PAYLOAD} bytes")
    except zlib.error as exc:
        raise bad(f"not a journal entry ({exc})") from None
    if len(raw) < 8 or raw[:4] != MAGIC:
        raise bad("not a journal entry (bad magic)")
    (hlen,) = struct.unpack("<I", raw[4:8])
    if hlen > len(raw) - 8:
        raise bad("header length past the end of the entry")
    try:
        header = json.loads(raw[8:8 + hlen])
        meta = header["meta"]
        entries = header["tracks"]
        if meta is not None:
            meta = {"name": str(meta["name"]), "num_frames": int(meta["num_frames"]), "width": int(meta["width"]),
                    "height": int(meta["height"]),
                    "class_names": {int(k): str(v) for k, v in dict(meta["class_names"]).items()},
                    "source_run": str(meta["source_run"]), "note": str(meta["note"])}
        if not isinstance(entries, list):
            raise TypeError("tracks is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise bad(f"damaged header ({exc})") from None
    if num_frames is None:
        if meta is None:
            raise bad("a snapshot without metadata")
        num_frames = meta["num_frames"]
    pos = 8 + hlen
    states: dict[int, Track | None] = {}

    def take(count: int, dtype: str, shape: tuple) -> np.ndarray:
        nonlocal pos
        size = count * int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if size > len(raw) - pos:
            raise bad("arrays past the end of the entry")
        a = np.frombuffer(raw, dtype=dtype, count=count * int(np.prod(shape, dtype=np.int64)), offset=pos)
        pos += size
        return a.reshape((count,) + shape)

    for e in entries:
        try:
            tid = e["id"]
            if not isinstance(tid, int) or isinstance(tid, bool):
                raise TypeError(f"track id {tid!r}")
            if e.get("deleted"):
                states[tid] = None
                continue
            n, m, cid = e["n"], e["m"], e["class"]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, m, cid)) or n < 0 or m < 0:
                raise TypeError("bad counts or class")
            row_classes = e.get("row_classes", False)
            if not isinstance(row_classes, bool):
                raise TypeError(f"row_classes {row_classes!r}")
        except (KeyError, TypeError, AttributeError) as exc:
            raise bad(f"damaged track entry ({exc})") from None
        if n * (_BYTES_PER_ROW + 8 * row_classes) + m * 8 > len(raw) - pos:
            raise bad(f"track {tid}: {n} rows / {m} markers past the end of the entry")
        cols = dict(frames=take(n, "<i8", ()), boxes=take(n, "<f8", (4,)), model_boxes=take(n, "<f8", (4,)),
                    kinds=take(n, "u1", ()), visibility=take(n, "<f8", ()), consider=take(n, "u1", ()) != 0)
        outside = take(m, "<i8", ())
        if row_classes:
            cols["classes"] = take(n, "<i8", ())
        try:
            states[tid] = Track.build(track_id=tid, class_id=cid, outside=outside, num_frames=num_frames, **cols)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if pos != len(raw):
        raise bad("trailing bytes after the last track")
    return states, meta


# ---------------------------------------------------------------------------- the journal

class LabelJournal:
    """The edit journal of one results cache (all its label sets). Not thread-safe: one owner.

    Typical use (the app's autosave)::

        journal = LabelJournal.open(journal_path_for(cache.path), video_fingerprint=cache.video.fingerprint)
        journal.enqueue(labels.name, change, action="apply")   # after every edit / undo / redo
        journal.flush()                                         # every <= 2 s: one fsynced transaction

    A failed flush raises JournalError and keeps the queued entries (the label set in memory is never
    touched), so the caller shows the error and calls flush() again later.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, journal_id: str):
        self.path = path
        self._conn = conn
        self.journal_id = journal_id
        self.readonly = False
        self._queue: list[tuple[str, str, str, bytes]] = []

    @classmethod
    def open(cls, path: str | os.PathLike, *, video_fingerprint: str | None = None,
             readonly: bool = False) -> "LabelJournal":
        """Open or create the journal at ``path``. With ``video_fingerprint``, a journal made for another
        video's cache is refused (JournalError), so stale edits never land on the wrong video.
        ``readonly``: only read an existing journal (an export, another process peeking at the app's
        unsaved edits); nothing is created or written, and writing methods raise JournalError."""
        path = Path(path)
        if readonly:
            return cls._open_readonly(path, video_fingerprint)
        try:
            conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"{path}: cannot open the label journal ({exc})") from None
        try:
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # only takes effect on a new file: lets
            conn.execute("PRAGMA journal_mode=WAL")          # truncate() return a big snapshot's pages
            conn.execute("PRAGMA synchronous=FULL")
            # No checkpoint inside an autosave's commit (copying the WAL into the database and fsyncing
            # it would make that one autosave slow): checkpoints run in truncate() (after a save) and close().
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "label_set TEXT NOT NULL, action TEXT NOT NULL, description TEXT NOT NULL, "
                         "created TEXT NOT NULL, payload BLOB NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS entries_by_set ON entries (label_set, seq)")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                meta = {"format": JOURNAL_FORMAT, "version": str(JOURNAL_VERSION), "journal_id": uuid.uuid4().hex,
                        "video_fingerprint": video_fingerprint or ""}
                conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and "not a database" not in str(exc):
                raise JournalError(f"{path}: cannot open the label journal ({exc})") from None
            raise JournalCorruptError(f"{path}: not a label journal ({exc})") from None
        return cls._checked(path, conn, meta, video_fingerprint, readonly=False)

    @classmethod
    def _checked(cls, path: Path, conn: sqlite3.Connection, meta: dict, video_fingerprint: str | None, *,
                 readonly: bool) -> "LabelJournal":
        if meta.get("format") != JOURNAL_FORMAT or meta.get("version") != str(JOURNAL_VERSION):
            conn.close()
            raise JournalCorruptError(f"{path}: not a label journal of version {JOURNAL_VERSION} "
                                      f"(format {meta.get('format')!r}, version {meta.get('version')!r})")
        fp = meta.get("video_fingerprint", "")
        if video_fingerprint and fp and fp != video_fingerprint:
            conn.close()
            raise JournalError(f"{path}: this journal belongs to another video (fingerprint {fp}, "
                               f"not {video_fingerprint}); move it away to start a new one")
        journal = cls(path, conn, str(meta.get("journal_id", "")))
        journal.readonly = readonly
        return journal

    @classmethod
    def _open_readonly(cls, path: Path, video_fingerprint: str | None) -> "LabelJournal":
        if not path.is_file():
            raise JournalError(f"{path}: no label journal here")
        def connect(query: str) -> tuple[sqlite3.Connection, dict]:
            conn = sqlite3.connect(path.resolve().as_uri() + query, uri=True, timeout=10.0, isolation_level=None,
                                   check_same_thread=False)
            try:
                return conn, dict(conn.execute("SELECT key, value FROM meta").fetchall())
            except BaseException:
                conn.close()
                raise

        try:
            try:
                conn, meta = connect("?mode=ro")
            except sqlite3.OperationalError:
                # A WAL database wants to create its -shm file even to read; in a folder we cannot
                # write that fails. With no -wal file left, the database file is the whole journal.
                if Path(str(path) + "-wal").exists():
                    raise
                conn, meta = connect("?mode=ro&immutable=1")
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "no such table" not in str(exc):
                raise JournalError(f"{path}: cannot read the label journal ({exc})") from None
            raise JournalCorruptError(f"{path}: not a label journal ({exc})") from None
        return cls._checked(path, conn, meta, video_fingerprint, readonly=True)

    def close(self) -> None:
        """Close (queued entries that were not flushed are dropped: flush first)."""
        if self._conn is not None:
            try:
                if not self.readonly:
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # a read-only or full disk: the WAL stays, and is replayed as it is
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "LabelJournal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing --------------------------------------------------------------------------
    def enqueue(self, label_set_name: str, change: Change, *, action: str = "apply") -> None:
        """Queue one edit: ``apply`` / ``redo`` record its after-states, ``undo`` its before-states."""
        if action not in ("apply", "undo", "redo"):
            raise ValueError(f"action must be apply, undo or redo, got {action!r}")
        states = change.before if action == "undo" else change.after
        self._queue.append((label_set_name, action, change.description, encode_states(states)))

    def enqueue_snapshot(self, label_set: LabelSet, *, description: str = "Create label set") -> None:
        """Queue the whole label set (metadata and every track): the start of a set that is not saved
        in the cache yet, e.g. right after ``LabelSet.from_run``."""
        states = {t.track_id: t for t in label_set.tracks()}
        self._queue.append((label_set.name, "snapshot", description, encode_states(states, _meta(label_set))))

    @property
    def pending(self) -> int:
        """Entries queued but not yet durable."""
        return len(self._queue)

    def flush(self) -> int:
        """Write every queued entry in one transaction (fsynced); returns the last sequence number
        written (0 if none). JournalError naming the file on failure; the queue is then kept."""
        if not self._queue:
            return 0
        conn = self._require(write=True)
        now = _utc_now()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = None
                for name, action, desc, payload in self._queue:
                    cur = conn.execute("INSERT INTO entries (label_set, action, description, created, payload) "
                                       "VALUES (?, ?, ?, ?, ?)", (name, action, desc, now, payload))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot write the label journal ({exc}); "
                               f"{len(self._queue)} edit(s) kept in memory") from None
        self._queue.clear()
        self._bound_wal()
        return int(cur.lastrowid)

    def _bound_wal(self) -> None:
        """Checkpoints are off the autosave path (see open), but a set edited for hours without a save
        must not grow the WAL without bound: past WAL_CHECKPOINT_BYTES one autosave pays a checkpoint
        (SQLite then reuses the WAL from its start)."""
        try:
            if os.path.getsize(str(self.path) + "-wal") > WAL_CHECKPOINT_BYTES:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except (OSError, sqlite3.Error):
            pass  # the entries are committed; a checkpoint that cannot run now runs at the next chance

    def record(self, label_set_name: str, change: Change, *, action: str = "apply") -> int:
        """enqueue + flush."""
        self.enqueue(label_set_name, change, action=action)
        return self.flush()

    def truncate(self, label_set_name: str, *, upto_seq: int) -> None:
        """Drop the entries of a label set up to ``upto_seq`` (after they were saved into the cache)."""
        conn = self._require(write=True)
        try:
            conn.execute("DELETE FROM entries WHERE label_set = ? AND seq <= ?", (label_set_name, int(upto_seq)))
            conn.executescript("PRAGMA incremental_vacuum;")  # execute() would free one page per call
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot truncate the label journal ({exc})") from None

    def discard(self, label_set_name: str) -> int:
        """Drop every entry of a label set, queued or written (its edits since the last save are thrown
        away, or the set is being deleted). Returns how many written entries went."""
        self._queue = [q for q in self._queue if q[0] != label_set_name]
        n = self.entry_count(label_set_name)
        if n:
            self.truncate(label_set_name, upto_seq=self.last_seq(label_set_name))
        return n

    # ---- reading --------------------------------------------------------------------------
    def _require(self, *, write: bool = False) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError(f"{self.path}: journal is closed")
        if write and self.readonly:
            raise JournalError(f"{self.path}: journal opened read-only")
        return self._conn

    def label_set_names(self) -> list[str]:
        """Label sets with entries in the journal."""
        try:
            return [r[0] for r in self._require().execute(
                "SELECT DISTINCT label_set FROM entries ORDER BY label_set")]
        except sqlite3.DatabaseError as exc:
            raise JournalCorruptError(f"{self.path}: unreadable ({exc})") from None

    def last_seq(self, label_set_name: str) -> int:
        row = self._require().execute("SELECT MAX(seq) FROM entries WHERE label_set = ?",
                                      (label_set_name,)).fetchone()
        return int(row[0] or 0)

    def entry_count(self, label_set_name: str) -> int:
        return int(self._require().execute("SELECT COUNT(*) FROM entries WHERE label_set = ?",
                                           (label_set_name,)).fetchone()[0])

    def replay(self, label_set_name: str, base: LabelSet | None, *, after_seq: int = 0) -> LabelSet | None:
        """``base`` (the saved set, or None) with every entry of the set after ``after_seq`` re-applied,
        in order. None when there is neither a base nor a snapshot entry. JournalCorruptError names the
        file and the entry for anything that does not decode or validate."""
        ls = base.copy() if base is not None else None
        try:
            cur = self._require().execute("SELECT seq, action, payload FROM entries WHERE label_set = ? AND "
                                          "seq > ? ORDER BY seq", (label_set_name, int(after_seq)))
            for seq, action, payload in cur:
                where = f"{self.path}: entry {seq} ({label_set_name!r})"
                if action not in ACTIONS or not isinstance(payload, bytes):
                    raise JournalCorruptError(f"{where}: unknown action {action!r} or payload type")
                if action == "snapshot":
                    states, meta = decode_states(payload, num_frames=None, where=where)
                    if meta is None or meta["name"] != label_set_name:
                        raise JournalCorruptError(f"{where}: snapshot of another label set")
                    try:
                        ls = LabelSet(name=meta["name"], num_frames=meta["num_frames"], width=meta["width"],
                                      height=meta["height"], class_names=meta["class_names"],
                                      source_run=meta["source_run"], note=meta["note"],
                                      tracks=[t for t in states.values() if t is not None])
                    except ValueError as exc:
                        raise JournalCorruptError(f"{where}: {exc}") from None
                    continue
                if ls is None:
                    raise JournalCorruptError(f"{where}: edits of a label set that is neither saved in the "
                                              f"cache nor snapshotted in the journal (deleted from the cache? "
                                              f"LabelJournal.discard drops them)")
                states, _ = decode_states(payload, num_frames=ls.num_frames, where=where)
                for tid, t in states.items():
                    if t is not None and t.track_id != tid:
                        raise JournalCorruptError(f"{where}: state of track {tid} carries ID {t.track_id}")
                try:
                    ls._set_tracks(states)
                except ValueError as exc:
                    raise JournalCorruptError(f"{where}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise JournalCorruptError(f"{self.path}: unreadable ({exc})") from None
        return ls


# ---------------------------------------------------------------------------- cache + journal

def load(cache: "ResultsCache", name: str, journal: LabelJournal | None = None) -> LabelSet:
    """The current state of label set ``name``: what the cache holds, plus the journal's later entries.
    KeyError when neither knows the set; CacheCorruptError / JournalCorruptError name the bad file."""
    from engine.cache.label_store import read_label_set

    base, jid, jseq = (None, "", 0)
    if name in cache.label_set_names:
        base, jid, jseq = read_label_set(cache, name)
    if journal is None:
        if base is None:
            raise KeyError(f"{cache.path}: no label set named {name!r}")
        return base
    after = jseq if (jid and jid == journal.journal_id) else 0
    ls = journal.replay(name, base, after_seq=after)
    if ls is None:
        raise KeyError(f"{cache.path}: no label set named {name!r} (nor in {journal.path})")
    return ls


def _check_space(path: Path, needed: int) -> None:
    """Refuse early, before HDF5 touches the file, when the disk or the file-size limit cannot take
    ``needed`` more bytes (HDF5 is not journaled: better not to start a write that cannot finish)."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    if free < needed:
        raise OSError(28, f"{path}: not enough disk space to save the label set ({free} bytes free, about "
                          f"{needed} needed); your edits are kept in the journal")
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft != resource.RLIM_INFINITY and path.stat().st_size + needed > soft:
        raise OSError(27, f"{path}: the file-size limit ({soft} bytes) does not leave room to save the "
                          f"label set; your edits are kept in the journal")


def _fsync(path: Path) -> None:
    """Put the cache's new bytes on the disk before the journal entries they replace are dropped (the
    truncation is fsynced: without this a power cut could keep the truncation and lose the save). It
    also spares the next autosave's fsync from waiting behind megabytes of label set."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_to_cache(cache: "ResultsCache", label_set: LabelSet, *, journal_id: str = "",
                  journal_seq: int = 0) -> None:
    """The cache half of :func:`save`, touching no journal, so it can run in a worker thread on a
    ``label_set.copy()`` while the window keeps editing (1M boxes take seconds): writes the set under a
    staging name, swaps it in, reads it back and compares. ``journal_id``/``journal_seq``: the journal
    entries this state contains (the caller truncates up to ``journal_seq`` afterwards, on the thread
    that owns the journal). Same errors as :func:`save`; ``label_set`` is never modified."""
    from engine.cache.errors import CacheError
    from engine.cache.label_store import read_label_set, write_label_set

    if cache.mode != "a":
        raise CacheError(f"{cache.path}: opened read-only; cannot save label set {label_set.name!r}")
    if not cache.is_reading:
        raise SaveDeferred(f"{cache.path}: a run is being written; label set {label_set.name!r} stays in the "
                           f"journal until the run finishes (retry the save then)")
    _check_space(cache.path, label_set.num_boxes * (_BYTES_PER_ROW + 8) + (1 << 20))  # + the row classes
    try:
        write_label_set(cache, label_set, journal_id=journal_id, journal_seq=journal_seq)
        _fsync(cache.path)
        saved, _, _ = read_label_set(cache, label_set.name)
    except CacheError:
        raise
    except OSError as exc:
        raise CacheError(f"{cache.path}: cannot save label set {label_set.name!r} ({exc}); your edits are "
                         f"kept in the journal") from None
    if not saved.equals(label_set):
        raise CacheError(f"{cache.path}: label set {label_set.name!r} read back differently after saving; "
                         f"the journal is kept")


def save(cache: "ResultsCache", label_set: LabelSet, journal: LabelJournal | None = None) -> None:
    """Compaction: write ``label_set`` into the cache's ``/label_sets/<name>/``, check it reads back equal,
    then drop the journal entries it contains. Raises SaveDeferred while a run writer is active (the
    set stays in the journal; retry later), an OSError subclass naming the file when the disk is full or
    the folder read-only. ``label_set`` is never modified; nothing saved before is lost on failure.

    In a worker instead (big sets): on the journal's thread ``journal.flush()``, ``seq =
    journal.last_seq(name)``, ``snapshot = label_set.copy()``; in the worker ``save_to_cache(cache,
    snapshot, journal_id=journal.journal_id, journal_seq=seq)``; back on the journal's thread, when it
    succeeded, ``journal.truncate(name, upto_seq=seq)``. Edits made meanwhile stay in the journal."""
    seq, jid = 0, ""
    if journal is not None:
        try:
            journal.flush()
            seq, jid = journal.last_seq(label_set.name), journal.journal_id
        except JournalError:
            seq, jid = 0, ""  # the cache write below still saves everything; entries replay idempotently
    save_to_cache(cache, label_set, journal_id=jid, journal_seq=seq)
    if journal is not None and seq:
        journal.truncate(label_set.name, upto_seq=seq)
