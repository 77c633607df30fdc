"""The synthetic action + tracking benchmark: articulated figures on procedural backgrounds.

``generate_clip(seed=...)`` renders one clip in memory (numpy + cv2 only, no torch);
``write_benchmark(out, clips=N, seed=S)`` writes a whole benchmark (``stv make-synthetic``)::

    OUT/index.json          format, version, seed, size, fps, class_names, label rule, clips [{name, seed, label, ...}]
    OUT/classes.txt         one class name per line, in label-index order
    OUT/clips/<name>/video.mp4      MPEG-4 Part 2 ('mp4v'), RGB content, fps 25 by default
    OUT/clips/<name>/gt/gt.txt      MOT16+ ground truth: frame, id, left, top, w, h, 1, 1, visibility
    OUT/clips/<name>/seqinfo.ini    name, frameRate, seqLength, imWidth, imHeight
    OUT/clips/<name>/labels.json    clip label, class names, per-actor labels {track_id: action}

Clip label rule: every clip has one *clip action*. All actors but at most one perform it (the
"primary" actors, always at least two, and the first two of them stay inside the frame for the
whole clip); with 3-4 actors one may be a *distractor* doing a different action. So the clip
label is the action a strict majority of the actors perform, in every frame.

Boxes: the tight box of each actor's whole drawn figure (outline included, occluded parts too),
clipped to the frame; frames where an actor is entirely outside have no row. Rows of a figure
less than 20 % inside the frame (a hand poking in) are "don't care" rows: flag 0, class 8
(MOT's distractor class), which evaluation ignores both ways (TrackEval's MOT16+ preprocessing);
all other rows are flag 1, class 1. ``visibility`` is
the fraction of the figure's pixels (including those outside the frame) that are visible, i.e.
neither outside the frame nor covered by a nearer actor. Nearer = lower feet (larger ground y);
nearer figures are larger and drawn later.

Determinism: clip ``i`` of a benchmark with seed ``S`` is ``generate_clip(seed=S * 100003 + i,
action=...)`` with the actions balanced over the classes by a permutation per block of
``len(ACTIONS)`` clips drawn from ``numpy.random.default_rng([S, block])``.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.data.actors import (ACTIONS, MOVING_ACTIONS, ActorStyle, Motion, action_speed, draw_figure,
                                place, pose_at, random_motion)
from engine.data.backgrounds import make_background

FORMAT = "stviewer-synthetic"
VERSION = 1
SEED_STRIDE = 100003
DEFAULT_SIZE = (360, 640)
DEFAULT_FRAMES = 64
DEFAULT_FPS = 25.0
PEDESTRIAN = 1  # MOT class of a counted row
DONT_CARE = 8  # MOT "distractor" class with flag 0: ignored by evaluation, detections on it not penalised
MIN_INSIDE = 0.2  # a figure less than this fraction inside the frame gets a don't-care row
LABEL_RULE = ("clip label = the action a strict majority of the actors perform: all actors but at most one "
              "(a distractor, only with 3-4 actors) perform it, and two of them stay in the frame throughout")


class SyntheticFormatError(ValueError):
    """A synthetic benchmark folder or file that is missing or malformed (the message names the file)."""


@dataclass
class SyntheticClip:
    """One rendered clip. Boxes are 0-based [x1, y1, x2, y2] frame pixels, x2/y2 exclusive."""

    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    boxes: list[np.ndarray]  # T x (N_t, 4) float32
    ids: list[np.ndarray]  # T x (N_t,) int64 track ids (1-based)
    visibility: list[np.ndarray]  # T x (N_t,) float32 in [0, 1]
    considered: list[np.ndarray]  # T x (N_t,) bool: False = mostly outside the frame ("don't care" row)
    actor_actions: dict[int, str]  # track id -> action
    label: str
    seed: int
    fps: float
    class_names: tuple[str, ...] = ACTIONS
    id_maps: np.ndarray | None = None  # (T, H, W) uint8: track id of the visible figure per pixel, 0 = none
    distractors: list[int] = field(default_factory=list)

    @property
    def label_index(self) -> int:
        return self.class_names.index(self.label)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def actor_labels(self) -> list[np.ndarray]:
        """T x (N_t,) int64 action index of each box."""
        return [np.array([self.class_names.index(self.actor_actions[int(i)]) for i in ids], np.int64)
                for ids in self.ids]

    def gt_rows(self) -> np.ndarray:
        """(M, 9) float64 MOT16+ ground-truth rows, sorted by frame then id (1-based frames and boxes)."""
        rows = []
        for t, (boxes, ids, vis, keep) in enumerate(zip(self.boxes, self.ids, self.visibility, self.considered)):
            for box, track_id, v, k in zip(boxes.tolist(), ids.tolist(), vis.tolist(), keep.tolist()):
                flag, cls = (1, PEDESTRIAN) if k else (0, DONT_CARE)
                rows.append([t + 1, track_id, box[0] + 1, box[1] + 1, box[2] - box[0], box[3] - box[1],
                             flag, cls, round(float(v), 4)])
        return np.array(rows, np.float64).reshape(-1, 9)


@dataclass
class _ActorPlan:
    track_id: int
    motion: Motion
    style: ActorStyle
    height: float
    ground_y: float
    xs: np.ndarray  # (T,) figure centre x per frame
    yaws: np.ndarray | None  # (T,) facing of walkers (they turn at the edges); None: the motion's own


def _style(rng: np.random.Generator) -> ActorStyle:
    def hsv(h, s, v):
        return tuple(int(c) for c in cv2.cvtColor(np.array([[[h, s, v]]], np.uint8), cv2.COLOR_HSV2RGB)[0, 0])

    shirt = hsv(rng.uniform(0, 180), rng.uniform(170, 255), rng.uniform(170, 255))
    trousers = hsv(rng.uniform(0, 180), rng.uniform(120, 255), rng.uniform(70, 170))
    skin = hsv(rng.uniform(5, 20), rng.uniform(60, 150), rng.uniform(150, 240))
    shoes = hsv(rng.uniform(0, 180), rng.uniform(0, 80), rng.uniform(30, 80))
    return ActorStyle(shirt=shirt, trousers=trousers, skin=skin, shoes=shoes)


def _resolve_action(action: str | int | None, rng: np.random.Generator) -> str:
    if action is None:
        return ACTIONS[int(rng.integers(len(ACTIONS)))]
    if isinstance(action, (int, np.integer)):
        if not 0 <= int(action) < len(ACTIONS):
            raise ValueError(f"action index {action} out of range 0..{len(ACTIONS) - 1}")
        return ACTIONS[int(action)]
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    return action


def _plan_actors(rng: np.random.Generator, *, action: str, num_actors: int, num_frames: int,
                 size: tuple[int, int], distractor_probability: float) -> tuple[list[_ActorPlan], list[int]]:
    h_img, w_img = size
    actions = [action] * num_actors
    distractors: list[int] = []
    if num_actors >= 3 and rng.random() < distractor_probability:
        others = [a for a in ACTIONS if a != action]
        # distractors walk or run more often: they cross the scene, enter and leave
        weights = np.array([2.0 if a in MOVING_ACTIONS else 1.0 for a in others])
        actions[-1] = others[int(rng.choice(len(others), p=weights / weights.sum()))]
        distractors.append(num_actors)
    # depth lanes: ground lines kept apart so crossings occlude only partly
    low, high = 0.56 * h_img, 0.97 * h_img
    gap = 0.07 * h_img
    for _ in range(100):
        ground = np.sort(rng.uniform(low, high, num_actors))
        if num_actors < 2 or np.diff(ground).min() >= gap:
            break
    ground = rng.permutation(ground)
    heights = h_img * (0.19 + 0.19 * (ground - low) / (high - low))

    plans: list[_ActorPlan] = []
    placed_x: list[tuple[float, float]] = []  # (x, half width) of stationary anchors
    for k in range(num_actors):
        act = actions[k]
        motion = random_motion(act, rng)
        height = float(heights[k])
        margin = 0.45 * height + 4.0
        anchor = k < 2  # the first two primaries stay in the frame throughout
        xs = np.empty(num_frames)
        yaws = None
        if act in MOVING_ACTIONS:
            speed = action_speed(act) * height * rng.uniform(0.9, 1.1)
            direction = motion.side
            if anchor:
                x = rng.uniform(margin, w_img - margin)
            elif rng.random() < 0.5:  # enters from the side it walks away from
                x = -margin if direction > 0 else w_img + margin
            else:
                x = rng.uniform(0, w_img)
            yaws = np.empty(num_frames)
            yaw = motion.yaw
            for t in range(num_frames):
                xs[t], yaws[t] = x, yaw
                x += direction * speed
                if anchor and ((direction > 0 and x > w_img - margin) or (direction < 0 and x < margin)):
                    direction, yaw = -direction, -yaw  # turn round at the edge
        else:
            drift_limit = 0.012 if act == "jump" else 0.004
            if anchor:
                x = rng.uniform(margin, w_img - margin)
                for _ in range(50):
                    if all(abs(x - px) > 0.8 * (margin + pm) for px, pm in placed_x):
                        break
                    x = rng.uniform(margin, w_img - margin)
                placed_x.append((x, margin))
                drift = rng.uniform(-drift_limit, drift_limit) * height
                # keep the whole drift inside the frame
                end = x + drift * (num_frames - 1)
                if not margin <= end <= w_img - margin:
                    drift = 0.0
            else:
                x = rng.uniform(-0.1 * w_img, 1.1 * w_img)
                drift = rng.uniform(-0.02, 0.02) * height  # slides in or out
            xs[:] = x + drift * np.arange(num_frames)
        plans.append(_ActorPlan(track_id=k + 1, motion=motion, style=_style(rng), height=height,
                                ground_y=float(ground[k]), xs=xs, yaws=yaws))
    return plans, distractors


def generate_clip(*, seed: int, num_frames: int = DEFAULT_FRAMES, size: tuple[int, int] = DEFAULT_SIZE,
                  fps: float = DEFAULT_FPS, action: str | int | None = None, num_actors: int | None = None,
                  distractor_probability: float = 0.3, background: str | None = None,
                  return_id_maps: bool = False) -> SyntheticClip:
    """Render one clip, deterministically from ``seed``.

    size          (H, W) in pixels (default 360x640).
    action        the clip action (name or index into ACTIONS); random from the seed when None.
    num_actors    2..8 figures (default: random 2..4 from the seed).
    return_id_maps  also return ``id_maps`` (T, H, W) uint8: which track is visible at each pixel.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    h_img, w_img = (int(v) for v in size)
    if h_img < 32 or w_img < 32:
        raise ValueError(f"size must be at least 32x32, got {size}")
    rng = np.random.default_rng(int(seed))
    clip_action = _resolve_action(action, rng)
    n = int(rng.integers(2, 5)) if num_actors is None else int(num_actors)
    if not 2 <= n <= 8:
        raise ValueError(f"num_actors must be in 2..8, got {num_actors}")
    background_image = make_background(rng, (h_img, w_img), kind=background)
    plans, distractors = _plan_actors(rng, action=clip_action, num_actors=n, num_frames=num_frames,
                                      size=(h_img, w_img), distractor_probability=distractor_probability)
    order = sorted(plans, key=lambda p: (p.ground_y, p.track_id))  # far (high on screen) first

    frames = np.empty((num_frames, h_img, w_img, 3), np.uint8)
    id_maps = np.zeros((num_frames, h_img, w_img), np.uint8) if return_id_maps else None
    all_boxes, all_ids, all_vis, all_considered = [], [], [], []
    for t in range(num_frames):
        frame = frames[t]
        frame[:] = background_image
        id_map = id_maps[t] if id_maps is not None else np.zeros((h_img, w_img), np.uint8)
        drawn = []  # (track_id, clipped box, total pixels, inside pixels)
        for plan in order:
            pose = pose_at(plan.motion, t, yaw=None if plan.yaws is None else float(plan.yaws[t]))
            geometry = place(pose, x=float(plan.xs[t]), ground_y=plan.ground_y, height=plan.height)
            bx1, by1, bx2, by2 = geometry.bounds
            if bx2 <= 0 or by2 <= 0 or bx1 >= w_img or by1 >= h_img:
                continue
            ox, oy = int(math.floor(bx1)), int(math.floor(by1))
            mask = np.zeros((int(math.ceil(by2)) - oy + 1, int(math.ceil(bx2)) - ox + 1), np.uint8)
            draw_figure(mask, geometry, style=None, offset=(ox, oy))
            rows = np.flatnonzero(mask.any(axis=1))
            cols = np.flatnonzero(mask.any(axis=0))
            if rows.size == 0:
                continue
            x1, x2 = max(0, ox + int(cols[0])), min(w_img, ox + int(cols[-1]) + 1)
            y1, y2 = max(0, oy + int(rows[0])), min(h_img, oy + int(rows[-1]) + 1)
            if x2 <= x1 or y2 <= y1:
                continue  # entirely outside the frame
            total = int(np.count_nonzero(mask))
            inside = mask[y1 - oy:y2 - oy, x1 - ox:x2 - ox]
            id_map[y1:y2, x1:x2][inside > 0] = plan.track_id
            draw_figure(frame, geometry, style=plan.style)
            drawn.append((plan.track_id, (x1, y1, x2, y2), total, int(np.count_nonzero(inside))))
        drawn.sort(key=lambda d: d[0])
        boxes = np.array([d[1] for d in drawn], np.float32).reshape(-1, 4)
        ids = np.array([d[0] for d in drawn], np.int64)
        vis = np.array([np.count_nonzero(id_map[y1:y2, x1:x2] == tid) / total
                        for tid, (x1, y1, x2, y2), total, _ in drawn], np.float32)
        all_considered.append(np.array([inside >= MIN_INSIDE * total for _, _, total, inside in drawn], bool))
        all_boxes.append(boxes)
        all_ids.append(ids)
        all_vis.append(vis)
    return SyntheticClip(frames=frames, boxes=all_boxes, ids=all_ids, visibility=all_vis,
                         considered=all_considered,
                         actor_actions={p.track_id: p.motion.action for p in plans}, label=clip_action,
                         seed=int(seed), fps=float(fps), id_maps=id_maps, distractors=distractors)


# --------------------------------------------------------------------------- visual checks

def render_action_strip(action: str, *, seed: int = 0, num_frames: int = 8, step: int = 1,
                        height: int = 120, yaw: float | None = None) -> np.ndarray:
    """One figure doing ``action``: ``num_frames`` frames ``step`` apart side by side, (H, W, 3) uint8 RGB."""
    rng = np.random.default_rng(seed)
    motion = random_motion(action, rng)
    if yaw is not None:
        motion = Motion(action=motion.action, period=motion.period, phase=motion.phase, yaw=yaw,
                        side=motion.side, amplitude=motion.amplitude)
    style = ActorStyle(shirt=(230, 60, 50), trousers=(40, 60, 150), skin=(230, 190, 160), shoes=(40, 40, 40))
    cell_w, cell_h = int(height * 1.1), int(height * 1.75)  # room for a jump with arms overhead
    strip = np.full((cell_h, cell_w * num_frames, 3), 200, np.uint8)
    for k in range(num_frames):
        pose = pose_at(motion, k * step)
        geometry = place(pose, x=cell_w * (k + 0.5), ground_y=cell_h - 6, height=height)
        draw_figure(strip, geometry, style=style)
        cv2.line(strip, (cell_w * k, 0), (cell_w * k, cell_h - 1), (120, 120, 120), 1)
    cv2.putText(strip, action, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def render_action_sheet(*, seed: int = 0, num_frames: int = 8, step: int = 1, height: int = 100) -> np.ndarray:
    """All actions, one strip per row (for eyeballing the motion programs)."""
    return np.concatenate([render_action_strip(a, seed=seed, num_frames=num_frames, step=step, height=height)
                           for a in ACTIONS], axis=0)


# --------------------------------------------------------------------------- writing

def write_video(path: str | os.PathLike, frames: np.ndarray, *, fps: float) -> None:
    """(T, H, W, 3) uint8 RGB -> an 'mp4v' MPEG-4 file that cv2 and PyAV both read frame-exactly."""
    path = Path(path)
    t, h, w, _ = frames.shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV could not open an 'mp4v' video writer")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


def write_clip(folder: str | os.PathLike, clip: SyntheticClip, *, name: str) -> Path:
    """Write one clip's video.mp4, gt/gt.txt, seqinfo.ini and labels.json into ``folder``."""
    from engine.io.mot import MOTRecords, SeqInfo, write_mot, write_seqinfo

    folder = Path(folder)
    (folder / "gt").mkdir(parents=True, exist_ok=True)
    write_video(folder / "video.mp4", clip.frames, fps=clip.fps)
    write_mot(folder / "gt" / "gt.txt", MOTRecords(values=clip.gt_rows(), kind="gt"))
    h, w = clip.frames.shape[1:3]
    write_seqinfo(folder / "seqinfo.ini", SeqInfo(name=name, seq_length=clip.num_frames, frame_rate=clip.fps,
                                                  im_width=int(w), im_height=int(h)))
    labels = {
        "name": name,
        "seed": clip.seed,
        "label": clip.label,
        "label_index": clip.label_index,
        "class_names": list(clip.class_names),
        "actors": {str(k): v for k, v in sorted(clip.actor_actions.items())},
        "distractors": clip.distractors,
        "num_frames": clip.num_frames,
        "fps": clip.fps,
        "size": [int(h), int(w)],
        "video": "video.mp4",
    }
    (folder / "labels.json").write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")
    return folder


def clip_plan(*, clips: int, seed: int) -> list[tuple[str, int, str]]:
    """(name, clip seed, action) of every clip of a benchmark: seeds and class-balanced actions."""
    if clips < 1:
        raise ValueError(f"clips must be >= 1, got {clips}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    plan = []
    for block in range(math.ceil(clips / len(ACTIONS))):
        order = np.random.default_rng([seed, block]).permutation(len(ACTIONS))
        for j in order:
            if len(plan) == clips:
                break
            i = len(plan)
            plan.append((f"clip_{i:05d}", seed * SEED_STRIDE + i, ACTIONS[int(j)]))
    return plan


def _write_one(args: tuple) -> dict:
    out_dir, name, clip_seed, action, num_frames, size, fps = args
    cv2.setNumThreads(1)
    clip = generate_clip(seed=clip_seed, num_frames=num_frames, size=size, fps=fps, action=action)
    write_clip(Path(out_dir) / "clips" / name, clip, name=name)
    return {"name": name, "seed": clip_seed, "label": clip.label, "label_index": clip.label_index,
            "num_actors": len(clip.actor_actions), "path": f"clips/{name}"}


def write_benchmark(out_dir: str | os.PathLike, *, clips: int, seed: int, num_frames: int = DEFAULT_FRAMES,
                    size: tuple[int, int] = DEFAULT_SIZE, fps: float = DEFAULT_FPS, workers: int = 1,
                    progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``clips`` clips into ``out_dir`` (layout in the module docstring); returns index.json's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    size = (int(size[0]), int(size[1]))
    jobs = [(str(out_dir), name, s, a, int(num_frames), size, float(fps)) for name, s, a in clip_plan(clips=clips, seed=seed)]
    entries: list[dict] = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for entry in pool.map(_write_one, jobs):
                entries.append(entry)
                if progress is not None:
                    progress(len(entries), len(jobs))
    else:
        for job in jobs:
            entries.append(_write_one(job))
            if progress is not None:
                progress(len(entries), len(jobs))
    index = {"format": FORMAT, "version": VERSION, "seed": int(seed), "num_frames": int(num_frames),
             "size": list(size), "fps": float(fps), "class_names": list(ACTIONS), "label_rule": LABEL_RULE,
             "clips": entries}
    (out_dir / "classes.txt").write_text("".join(c + "\n" for c in ACTIONS), encoding="utf-8")
    path = out_dir / "index.json"
    path.write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class BenchmarkClip:
    name: str
    folder: Path
    seed: int
    label: str
    label_index: int

    @property
    def video(self) -> Path:
        return self.folder / "video.mp4"

    @property
    def gt(self) -> Path:
        return self.folder / "gt" / "gt.txt"

    @property
    def labels(self) -> Path:
        return self.folder / "labels.json"


@dataclass(frozen=True)
class Benchmark:
    root: Path
    class_names: tuple[str, ...]
    clips: tuple[BenchmarkClip, ...]
    num_frames: int
    size: tuple[int, int]
    fps: float


def is_benchmark(root: str | os.PathLike) -> bool:
    return (Path(root) / "index.json").is_file()


def read_benchmark(root: str | os.PathLike) -> Benchmark:
    """Parse OUT/index.json of a benchmark written by :func:`write_benchmark`."""
    root = Path(root)
    path = root / "index.json"
    if not path.is_file():
        raise SyntheticFormatError(f"{path}: no such file (not a `stv make-synthetic` folder)")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SyntheticFormatError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise SyntheticFormatError(f"{path}: format is not {FORMAT!r}")
    if index.get("version") != VERSION:
        raise SyntheticFormatError(f"{path}: version {index.get('version')!r}, this code reads {VERSION}")
    try:
        class_names = tuple(str(c) for c in index["class_names"])
        clips = []
        for k, entry in enumerate(index["clips"]):
            label = str(entry["label"])
            if label not in class_names:
                raise SyntheticFormatError(f"{path}: clips[{k}] label {label!r} is not a class name")
            clips.append(BenchmarkClip(name=str(entry["name"]), folder=root / str(entry["path"]),
                                       seed=int(entry["seed"]), label=label, label_index=class_names.index(label)))
        return Benchmark(root=root, class_names=class_names, clips=tuple(clips), num_frames=int(index["num_frames"]),
                         size=(int(index["size"][0]), int(index["size"][1])), fps=float(index["fps"]))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, SyntheticFormatError):
            raise
        raise SyntheticFormatError(f"{path}: malformed index ({type(exc).__name__}: {exc})") from None


def read_clip_labels(path: str | os.PathLike) -> dict:
    """A clip's labels.json as a dict, with ``actors`` keys as ints."""
    path = Path(path)
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
        labels["actors"] = {int(k): str(v) for k, v in labels["actors"].items()}
        if labels["label"] not in labels["class_names"]:
            raise ValueError(f"label {labels['label']!r} is not in class_names")
    except FileNotFoundError:
        raise SyntheticFormatError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SyntheticFormatError(f"{path}: malformed labels file ({type(exc).__name__}: {exc})") from None
    return labels


def class_names_of(root: str | os.PathLike) -> Sequence[str]:
    return read_benchmark(root).class_names
