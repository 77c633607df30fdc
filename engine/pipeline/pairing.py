"""Is this still the video a run was made from? Size + mtime, re-verified by a full content hash.

A cache pairs with its video by ``VideoSource.fingerprint()``: size plus a hash of sampled blocks,
cheap enough for every open but blind to changes between the samples (zeroing 75 KB in between kept
the fingerprint, and `stv infer` returned the stale run as complete). So every run also records
the video's size, modification time and a hash of its whole content (``content_record``); before a
run is resumed or reported complete, ``check_unchanged`` compares size and mtime and, when the mtime
differs (a copy, or an edit), the full hash: a copied video still pairs, an edited one does not.
The viewer can run the same check on a background thread after opening a cache.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine.cache.errors import CacheMismatchError

PARAM_KEY = "video_content"
CHUNK = 1 << 20


def _files(source) -> list[Path]:
    files = getattr(source, "files", None)
    if files:
        return [Path(f) for f in files]
    path = Path(source.path)
    if path.is_dir():
        return [path / "seqinfo.ini"] if (path / "seqinfo.ini").is_file() else []
    return [path]


def _stat(files: list[Path]) -> tuple[int, int]:
    stats = [os.stat(f) for f in files]
    return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)


def content_hash(files: list[Path]) -> str:
    """blake2b of every byte of ``files`` in order (sizes included; names not, so a copy elsewhere or
    under another name still pairs)."""
    digest = hashlib.blake2b(digest_size=20)
    for path in files:
        digest.update(f"{os.path.getsize(path)};".encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
    return digest.hexdigest()


def content_record(source) -> dict:
    """{"size", "mtime_ns", "blake2b"} of the video's file(s), stored in the run's params."""
    files = _files(source)
    size, mtime = _stat(files)
    return {"size": size, "mtime_ns": mtime, "blake2b": content_hash(files)}


def check_unchanged(record: dict | None, source, *, cache_path, run: str) -> None:
    """CacheMismatchError when the video's content differs from ``record`` (a run's PARAM_KEY). Runs
    made before records existed (None) pass: only their sampled fingerprint can be checked."""
    if not isinstance(record, dict) or "blake2b" not in record:
        return
    files = _files(source)
    size, mtime = _stat(files)
    if size == record.get("size") and mtime == record.get("mtime_ns"):
        return  # untouched since the run was made
    if size == record.get("size") and content_hash(files) == record["blake2b"]:
        return  # same bytes (a copy, or a touch)
    raise CacheMismatchError(
        f"{cache_path}: run {run!r} was made from other content than {source.path} has now (same size and "
        f"sampled bytes, but {'a different size' if size != record.get('size') else 'different bytes'}): the "
        f"video was changed after the run was made; delete the cache, or choose another --out or --run")
