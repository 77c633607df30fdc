"""Cheap content identity of a file or folder: size + hash of sampled bytes."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

SAMPLES = 16
SAMPLE_BYTES = 64 * 1024


def file_fingerprint(path: str | Path) -> str:
    """``"v1:<size>:<blake2b of 16 x 64 KiB evenly spaced samples>"`` (reads <= 1 MiB)."""
    path = Path(path)
    size = os.path.getsize(path)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(size).encode())
    with open(path, "rb") as f:
        if size <= SAMPLES * SAMPLE_BYTES:
            digest.update(f.read())
        else:
            step = (size - SAMPLE_BYTES) // (SAMPLES - 1)
            for i in range(SAMPLES):  # includes the first and the last SAMPLE_BYTES
                f.seek(i * step)
                digest.update(f.read(SAMPLE_BYTES))
    return f"v1:{size}:{digest.hexdigest()}"


def files_fingerprint(paths: list[Path]) -> str:
    """Fingerprint of an ordered list of files (an image sequence): names, sizes, sampled bytes."""
    digest = hashlib.blake2b(digest_size=16)
    total = 0
    for p in paths:
        size = os.path.getsize(p)
        total += size
        digest.update(f"{p.name}:{size};".encode())
    if paths:
        for i in sorted({0, len(paths) // 2, len(paths) - 1}):
            digest.update(file_fingerprint(paths[i]).encode())
    return f"v1:{total}:{digest.hexdigest()}"
