"""UCF-101 in its official layout (no torch).

    <root>/<Class>/v_<Class>_gXX_cYY.avi                 the videos, one folder per class
    ucfTrainTestlist/classInd.txt                         "1 ApplyEyeMakeup" ... (1-based, contiguous)
    ucfTrainTestlist/trainlist0N.txt                      "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    ucfTrainTestlist/testlist0N.txt                       "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

``ucfTrainTestlist`` is looked for inside ``root``, beside it, or given as ``splits_dir``. Class
names in list files are matched case-insensitively (the official lists spell one class
"HandstandPushups" while its videos say "HandStandPushups").
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.data.splits import SplitFileError, VideoSample, split_lines

SPLIT_DIR_NAME = "ucfTrainTestlist"


def find_split_dir(root: str | os.PathLike) -> Path | None:
    root = Path(root)
    for candidate in (root / SPLIT_DIR_NAME, root.parent / SPLIT_DIR_NAME, root):
        if (candidate / "classInd.txt").is_file():
            return candidate
    return None


def looks_like_ucf101(root: str | os.PathLike) -> bool:
    """A classInd.txt in reach and a folder of one of its classes in ``root`` (UCF and HMDB may share a parent)."""
    folder = find_split_dir(root)
    if folder is None:
        return False
    try:
        names = {n.lower() for n in read_class_index(folder / "classInd.txt")}
    except SplitFileError:
        return True  # let the loader report the malformed file
    return any(p.is_dir() and p.name.lower() in names for p in Path(root).iterdir())


def read_class_index(path: str | os.PathLike) -> list[str]:
    """classInd.txt -> class names in label order (index 0 = the line with "1")."""
    path = Path(path)
    names: dict[int, str] = {}
    for number, fields in split_lines(path):
        if len(fields) != 2 or not fields[0].isdigit():
            raise SplitFileError(path, f"expected '<index> <ClassName>', found {' '.join(fields)!r}", line=number)
        index = int(fields[0])
        if index in names:
            raise SplitFileError(path, f"class index {index} appears twice", line=number)
        names[index] = fields[1]
    if not names:
        raise SplitFileError(path, "no classes listed")
    if sorted(names) != list(range(1, len(names) + 1)):
        raise SplitFileError(path, f"class indices must be 1..{len(names)} without gaps")
    return [names[i] for i in range(1, len(names) + 1)]


def load_ucf101(root: str | os.PathLike, *, split: str = "train", fold: int = 1,
                splits_dir: str | os.PathLike | None = None, check_files: bool = True) -> tuple[list[VideoSample], list[str]]:
    """(samples, class names) of UCF-101 split ``fold`` (1..3), ``split`` "train" or "test"."""
    root = Path(root)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(splits_dir) if splits_dir is not None else find_split_dir(root)
    if folder is None:
        raise SplitFileError(root / SPLIT_DIR_NAME / "classInd.txt", "no such file (looked in, beside and at the root)")
    class_names = read_class_index(folder / "classInd.txt")
    by_lower = {name.lower(): i for i, name in enumerate(class_names)}
    list_path = folder / f"{split}list{fold:02d}.txt"
    samples = []
    for number, fields in split_lines(list_path):
        relative = fields[0]
        parts = relative.replace("\\", "/").split("/")
        if len(parts) != 2 or not parts[1]:
            raise SplitFileError(list_path, f"expected '<Class>/<video>', found {relative!r}", line=number)
        label = by_lower.get(parts[0].lower())
        if label is None:
            raise SplitFileError(list_path, f"class {parts[0]!r} is not in classInd.txt", line=number)
        if split == "train":
            if len(fields) != 2 or not fields[1].isdigit():
                raise SplitFileError(list_path, f"expected '<Class>/<video> <label>', found {' '.join(fields)!r}",
                                     line=number)
            if int(fields[1]) - 1 != label:
                raise SplitFileError(list_path, f"label {fields[1]} does not match class {parts[0]!r} "
                                                f"(classInd says {label + 1})", line=number)
        elif len(fields) != 1:
            raise SplitFileError(list_path, f"expected one path per line, found {' '.join(fields)!r}", line=number)
        path = root / class_names[label] / parts[1]
        if not path.is_file():
            alternative = root / parts[0] / parts[1]
            path = alternative if alternative.is_file() else path
        if check_files and not path.is_file():
            raise SplitFileError(list_path, f"video {relative!r} not found under {root}", line=number)
        samples.append(VideoSample(path=path, label=label, class_name=class_names[label]))
    if not samples:
        raise SplitFileError(list_path, "no videos listed")
    return samples, class_names
