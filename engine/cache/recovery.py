"""Reopening a cache whose writer was killed: the "h5clear -s --increment" step, in Python.

A file written in SWMR mode stays consistent when its writer dies, but its superblock keeps the
"open for (SWMR) writing" status flags, and HDF5 refuses to open it for writing again. The stored
end-of-allocation (EOA) may also lag behind data the dead writer put on disk after its last flush;
new allocations must not land on top of that. ``repair_after_crash`` clears the flags and moves the
EOA to the end of the file, in the superblock (version 2/3) whose layout is fixed by the HDF5 file
format specification, then re-checksums it with Jenkins' lookup3 as HDF5 does. Nothing else in the
file changes.

Whether a writer is still alive is told by an OS file lock (engine/cache/liveness.py): a live
RunWriter's process holds one on the file (HDF5 drops its own once SWMR writing starts).
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

from engine.cache.errors import CacheBusyError, CacheCorruptError
from engine.cache.liveness import writer_alive

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MASK = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _MASK


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 ``hashlittle`` (HDF5's ``H5_checksum_lookup3``)."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & _MASK
    if length == 0:
        return c
    i = 0
    while length > 12:
        a = (a + int.from_bytes(data[i:i + 4], "little")) & _MASK
        b = (b + int.from_bytes(data[i + 4:i + 8], "little")) & _MASK
        c = (c + int.from_bytes(data[i + 8:i + 12], "little")) & _MASK
        a = (a - c) & _MASK; a ^= _rot(c, 4); c = (c + b) & _MASK    # noqa: E702
        b = (b - a) & _MASK; b ^= _rot(a, 6); a = (a + c) & _MASK    # noqa: E702
        c = (c - b) & _MASK; c ^= _rot(b, 8); b = (b + a) & _MASK    # noqa: E702
        a = (a - c) & _MASK; a ^= _rot(c, 16); c = (c + b) & _MASK   # noqa: E702
        b = (b - a) & _MASK; b ^= _rot(a, 19); a = (a + c) & _MASK   # noqa: E702
        c = (c - b) & _MASK; c ^= _rot(b, 4); b = (b + a) & _MASK    # noqa: E702
        length -= 12
        i += 12
    tail = data[i:i + length] + bytes(12 - length)
    a = (a + int.from_bytes(tail[0:4], "little")) & _MASK
    b = (b + int.from_bytes(tail[4:8], "little")) & _MASK
    c = (c + int.from_bytes(tail[8:12], "little")) & _MASK
    c ^= b; c = (c - _rot(b, 14)) & _MASK   # noqa: E702
    a ^= c; a = (a - _rot(c, 11)) & _MASK   # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _MASK   # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _MASK   # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _MASK    # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _MASK   # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _MASK   # noqa: E702
    return c


class _Superblock:
    """Superblock version 2/3 at offset 0: signature, version, sizeof offsets, sizeof lengths,
    status flags, then base, extension, EOF (really the EOA) and root addresses, then a checksum."""

    def __init__(self, path: Path, raw: bytes):
        if raw[:8] != HDF5_SIGNATURE:
            raise CacheCorruptError(f"{path}: not an HDF5 file (no signature at offset 0)")
        self.version = raw[8]
        if self.version not in (2, 3):
            raise CacheCorruptError(f"{path}: HDF5 superblock version {self.version}, expected 2 or 3")
        self.offset_size = raw[9]
        if self.offset_size not in (4, 8):
            raise CacheCorruptError(f"{path}: unsupported HDF5 offset size {self.offset_size}")
        self.flags = raw[11]
        n = self.offset_size
        self.body_len = 12 + 4 * n
        if len(raw) < self.body_len + 4:
            raise CacheCorruptError(f"{path}: truncated HDF5 superblock")
        self.raw = bytearray(raw[:self.body_len + 4])
        stored = struct.unpack_from("<I", self.raw, self.body_len)[0]
        if lookup3(bytes(self.raw[:self.body_len])) != stored:
            raise CacheCorruptError(f"{path}: HDF5 superblock checksum mismatch (damaged file)")
        fmt = "<Q" if n == 8 else "<I"
        self._fmt = fmt
        self.eoa_offset = 12 + 2 * n
        self.eoa = struct.unpack_from(fmt, self.raw, self.eoa_offset)[0]

    def patched(self, *, eoa: int) -> bytes:
        raw = bytearray(self.raw)
        raw[11] = 0
        struct.pack_into(self._fmt, raw, self.eoa_offset, eoa)
        struct.pack_into("<I", raw, self.body_len, lookup3(bytes(raw[:self.body_len])))
        return bytes(raw)


def status_flags(path: str | os.PathLike) -> int:
    """The superblock's status flags (0 when the file was closed cleanly or is an old format)."""
    path = Path(path)
    with open(path, "rb") as fh:
        raw = fh.read(64)
    if raw[:8] != HDF5_SIGNATURE or raw[8] not in (2, 3):
        return 0
    return raw[11]


def repair_after_crash(path: str | os.PathLike) -> bool:
    """Clear the status flags left by a dead writer and push the EOA to the end of the file.

    Returns False when there was nothing to repair. Raises CacheBusyError while a writer is alive and
    CacheCorruptError when the superblock is not one this code understands.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        raw = fh.read(64)
    block = _Superblock(path, raw)
    if block.flags == 0:
        return False
    if writer_alive(path):
        raise CacheBusyError(f"{path}: another process is writing this cache; close it there first")
    file_size = path.stat().st_size
    patched = block.patched(eoa=max(block.eoa, file_size))
    with open(path, "r+b") as fh:  # only the superblock's bytes change
        fh.write(patched)
        fh.flush()
        os.fsync(fh.fileno())
    return True
