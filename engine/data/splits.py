"""Shared pieces of the official-layout loaders: samples, split-file errors, line reading."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg")


class SplitFileError(ValueError):
    """A missing or malformed split / class-index file; the message names the file (and line)."""

    def __init__(self, path: str | os.PathLike, problem: str, *, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class VideoSample:
    """One labelled video of an action data set."""

    path: Path
    label: int  # 0-based index into the data set's class names
    class_name: str


def split_lines(path: str | os.PathLike) -> Iterator[tuple[int, list[str]]]:
    """(1-based line number, whitespace-separated fields) of every non-blank line; clear error if missing."""
    path = Path(path)
    if not path.is_file():
        raise SplitFileError(path, "no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SplitFileError(path, f"not a text file ({exc.reason})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split()
        if fields:
            yield number, fields
