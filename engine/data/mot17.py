"""MOT17 (and MOT16/20-style) sequence folders (no torch).

    <root>/[train|test]/<SEQ>/seqinfo.ini, img1/000001.jpg ..., gt/gt.txt (train only), det/det.txt

``root`` may be the MOT17 folder (with train/ and test/), a folder of sequences, or one sequence.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.io.mot import read_seqinfo


class MOTLayoutError(ValueError):
    """A MOT sequence folder that is missing something it needs (the message names it)."""


@dataclass(frozen=True)
class MOTSequence:
    folder: Path
    name: str
    image_dir: Path
    image_ext: str
    seq_length: int
    fps: float
    width: int
    height: int
    gt: Path | None
    det: Path | None

    def image_path(self, index: int) -> Path:
        """The image of 0-based frame ``index`` (files are numbered from 000001)."""
        if not 0 <= index < self.seq_length:
            raise IndexError(f"{self.folder}: frame {index} outside 0..{self.seq_length - 1}")
        return self.image_dir / f"{index + 1:06d}{self.image_ext}"


def read_sequence(folder: str | os.PathLike) -> MOTSequence:
    folder = Path(folder)
    info_path = folder / "seqinfo.ini"
    if not info_path.is_file():
        raise MOTLayoutError(f"{info_path}: no such file (not a MOT sequence folder)")
    info = read_seqinfo(info_path)
    image_dir = folder / info.im_dir
    if not image_dir.is_dir():
        raise MOTLayoutError(f"{image_dir}: no such image folder (seqinfo.ini imDir={info.im_dir})")
    gt = folder / "gt" / "gt.txt"
    det = folder / "det" / "det.txt"
    return MOTSequence(folder=folder, name=info.name, image_dir=image_dir, image_ext=info.im_ext,
                       seq_length=info.seq_length, fps=info.frame_rate, width=info.im_width, height=info.im_height,
                       gt=gt if gt.is_file() else None, det=det if det.is_file() else None)


def looks_like_mot(root: str | os.PathLike) -> bool:
    root = Path(root)
    if (root / "seqinfo.ini").is_file():
        return True
    for base in (root / "train", root / "test", root):
        if base.is_dir() and any((p / "seqinfo.ini").is_file() for p in base.iterdir() if p.is_dir()):
            return True
    return False


def load_mot17(root: str | os.PathLike, *, split: str = "train", detector: str | None = None,
               require_gt: bool = True) -> list[MOTSequence]:
    """The sequences of ``split`` (train/test subfolder when present); MOT17 repeats every sequence per
    public detector (-DPM, -FRCNN, -SDP): ``detector`` keeps one of them (None keeps all)."""
    root = Path(root)
    if (root / "seqinfo.ini").is_file():
        folders = [root]
    else:
        base = root / split if (root / split).is_dir() else root
        if not base.is_dir():
            raise MOTLayoutError(f"{base}: no such folder")
        folders = sorted(p for p in base.iterdir() if p.is_dir() and (p / "seqinfo.ini").is_file())
        if not folders:
            raise MOTLayoutError(f"{base}: no sequence folders with a seqinfo.ini")
    sequences = [read_sequence(f) for f in folders]
    if detector is not None:
        sequences = [s for s in sequences if s.name.upper().endswith("-" + detector.upper())]
        if not sequences:
            raise MOTLayoutError(f"{root}: no sequences for detector {detector!r}")
    if require_gt:
        missing = [s.folder / "gt" / "gt.txt" for s in sequences if s.gt is None]
        if missing:
            raise MOTLayoutError(f"{missing[0]}: no such file (ground truth needed for {split})")
    return sequences
