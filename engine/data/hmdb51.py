"""HMDB-51 in its official layout (no torch).

    <root>/<class>/<video>.avi                           the videos, one folder per class
    <splits>/<class>_test_split<N>.txt                   "<video>.avi 1" (1 = train, 2 = test, 0 = unused)

The split folder (``testTrainMulti_7030_splits`` in the download) is looked for inside ``root``,
beside it, or given as ``splits_dir``. Class names are the split files' prefixes, sorted; label
indices follow that order.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from engine.data.splits import SplitFileError, VideoSample, split_lines

SPLIT_DIR_NAMES = ("testTrainMulti_7030_splits", "splits", "test_train_splits")
_TAG = {"train": "1", "test": "2"}


def _split_files(folder: Path, fold: int) -> list[Path]:
    return sorted(folder.glob(f"*_test_split{fold}.txt"))


def find_split_dir(root: str | os.PathLike, *, fold: int = 1) -> Path | None:
    root = Path(root)
    candidates = [root / name for name in SPLIT_DIR_NAMES] + [root.parent / name for name in SPLIT_DIR_NAMES] + [root]
    for candidate in candidates:
        if candidate.is_dir() and _split_files(candidate, fold):
            return candidate
    return None


def looks_like_hmdb51(root: str | os.PathLike, *, fold: int = 1) -> bool:
    """Split files in reach and the folder of one of their classes in ``root``."""
    folder = find_split_dir(root, fold=fold)
    if folder is None:
        return False
    names = {f.name[: -len(f"_test_split{fold}.txt")] for f in _split_files(folder, fold)}
    return any(p.is_dir() and p.name in names for p in Path(root).iterdir())


def load_hmdb51(root: str | os.PathLike, *, split: str = "train", fold: int = 1,
                splits_dir: str | os.PathLike | None = None, check_files: bool = True) -> tuple[list[VideoSample], list[str]]:
    """(samples, class names) of HMDB-51 split ``fold`` (1..3), ``split`` "train" or "test"."""
    root = Path(root)
    if split not in _TAG:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(splits_dir) if splits_dir is not None else find_split_dir(root, fold=fold)
    if folder is None or not _split_files(folder, fold):
        where = folder if folder is not None else root
        raise SplitFileError(where / f"<class>_test_split{fold}.txt", "no split files found")
    files = _split_files(folder, fold)
    pattern = re.compile(rf"^(.+)_test_split{fold}\.txt$")
    class_names = [pattern.match(f.name).group(1) for f in files]  # type: ignore[union-attr]
    # class folders without a split file would silently vanish from the data set
    if root.is_dir():
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            if sub.name not in class_names and any(sub.glob("*.avi")):
                raise SplitFileError(folder / f"{sub.name}_test_split{fold}.txt",
                                     f"no such file (class folder {sub} has videos)")
    samples = []
    for label, (name, path) in enumerate(zip(class_names, files)):
        for number, fields in split_lines(path):
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise SplitFileError(path, f"expected '<video> 0|1|2', found {' '.join(fields)!r}", line=number)
            if fields[1] != _TAG[split]:
                continue
            video = root / name / fields[0]
            if check_files and not video.is_file():
                raise SplitFileError(path, f"video {fields[0]!r} not found in {root / name}", line=number)
            samples.append(VideoSample(path=video, label=label, class_name=name))
    if not samples:
        raise SplitFileError(folder, f"no {split} videos tagged {_TAG[split]} in the split-{fold} files")
    return samples, class_names
