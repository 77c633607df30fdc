"""Articulated stick figures: a tiny 3-D skeleton, six motion programs and cv2 drawing.

No torch here (the generator runs without it). Units: a figure is 1.0 tall (feet to head top);
``draw_figure`` scales by the figure's height in pixels.

Skeleton: hips, knees, ankles, toes, neck, shoulders, elbows, wrists and a head. Every limb
segment has an absolute (swing, abduction) pair in degrees: swing rotates it forward (+) or back
around the lateral axis, abduction lifts it sideways away from the body; (0, 0) hangs straight
down. The body turns by ``yaw`` around the vertical axis (0 = facing the camera, +90 = facing
screen-right) and is projected orthographically.

Motion programs (``ACTIONS``) are periodic in frames with periods of 8-18 frames, so one 8-frame
window at 25 fps already shows most of a cycle, and they differ in kind, not only in speed:

    walk    side view, legs swing +-25 deg, arms counter-swing, translates ~0.035 heights/frame
    run     side view, legs +-45 deg with deep knee bend, elbows at 90 deg, torso lean, ~0.065 h/frame
    jump    front-ish view, whole body leaves the ground (0.3 h), arms swing overhead, crouch on landing
    wave    front-ish view, stands; one arm raised overhead with the forearm swinging side to side
    crouch  three-quarter/side view, squats down and up on the spot, arms reach forward
    spin    arms out in a T, the body turns around its vertical axis (projected arm span pulses)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ACTIONS: tuple[str, ...] = ("walk", "run", "jump", "wave", "crouch", "spin")

# segment lengths in figure heights (standing: hips 0.50, neck 0.80, head top ~1.0)
THIGH = 0.25
SHIN = 0.235
FOOT = 0.07
TORSO = 0.30
UPPER_ARM = 0.165
FOREARM = 0.155
NECK_TO_HEAD = 0.115
HEAD_RADIUS = 0.075
HIP_HALF_WIDTH = 0.055
SHOULDER_HALF_WIDTH = 0.095
LIMB_THICKNESS = 0.055
TORSO_THICKNESS = 0.12

MOVING_ACTIONS = frozenset({"walk", "run"})


@dataclass(frozen=True)
class ActorStyle:
    """Colours (RGB uint8 triples) of one figure."""

    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    skin: tuple[int, int, int]
    shoes: tuple[int, int, int]
    outline: tuple[int, int, int] = (20, 20, 20)


@dataclass(frozen=True)
class Motion:
    """Per-actor parameters of a motion program (drawn once per actor from the clip's generator)."""

    action: str
    period: float  # frames per cycle
    phase: float  # cycle fraction at frame 0
    yaw: float  # degrees; the base facing
    side: int  # +1/-1: which arm waves, spin direction
    amplitude: float  # 0.85..1.15 multiplier on the program's angles


def action_speed(action: str) -> float:
    """Horizontal speed in figure heights per frame (walk/run translate; others stay nearly put)."""
    return {"walk": 0.035, "run": 0.065}.get(action, 0.0)


def random_motion(action: str, rng: np.random.Generator) -> Motion:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    low, high = {"walk": (14, 18), "run": (9, 11), "jump": (12, 14), "wave": (8, 11),
                 "crouch": (12, 15), "spin": (12, 16)}[action]
    side = 1 if rng.random() < 0.5 else -1
    if action in MOVING_ACTIONS:
        yaw = side * (90.0 - rng.uniform(0.0, 25.0))  # facing its direction of travel
    elif action == "crouch":
        yaw = side * rng.uniform(35.0, 90.0)  # a squat reads best from the side
    elif action == "spin":
        yaw = rng.uniform(0.0, 360.0)
    else:
        yaw = rng.uniform(-40.0, 40.0)
    return Motion(action=action, period=float(rng.uniform(low, high)), phase=float(rng.random()),
                  yaw=float(yaw), side=side, amplitude=float(rng.uniform(0.85, 1.15)))


# --------------------------------------------------------------------------- poses

@dataclass
class Pose:
    """Absolute (swing, abduction) degrees per segment, torso lean, yaw and lift (heights)."""

    l_thigh: tuple[float, float]
    l_shin: tuple[float, float]
    r_thigh: tuple[float, float]
    r_shin: tuple[float, float]
    l_upper: tuple[float, float]
    l_fore: tuple[float, float]
    r_upper: tuple[float, float]
    r_fore: tuple[float, float]
    lean: float = 0.0
    yaw: float = 0.0
    lift: float = 0.0


def _leg(hip_swing: float, knee_bend: float, abd: float = 0.0):
    return (hip_swing, abd), (hip_swing - knee_bend, abd)


def _arm(shoulder_swing: float, elbow_bend: float, abd: float = 0.0, fore_abd: float | None = None):
    return (shoulder_swing, abd), (shoulder_swing + elbow_bend, abd if fore_abd is None else fore_abd)


def pose_at(motion: Motion, frame: int | float, *, yaw: float | None = None) -> Pose:
    """The pose of ``motion`` at ``frame``; ``yaw`` overrides the facing (walkers that turn)."""
    u = (frame / motion.period + motion.phase) % 1.0
    p = 2.0 * math.pi * u
    a = motion.amplitude
    s = math.sin(p)
    c = math.cos(p)
    base_yaw = motion.yaw if yaw is None else yaw
    act = motion.action
    if act == "walk":
        lt, ls = _leg(25 * a * s, 8 + 35 * max(0.0, c))
        rt, rs = _leg(-25 * a * s, 8 + 35 * max(0.0, -c))
        lu, lf = _arm(-22 * a * s, 20)
        ru, rf = _arm(22 * a * s, 20)
        return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=4.0, yaw=base_yaw)
    if act == "run":
        lt, ls = _leg(45 * a * s, 25 + 75 * max(0.0, c))
        rt, rs = _leg(-45 * a * s, 25 + 75 * max(0.0, -c))
        lu, lf = _arm(-45 * a * s, 95)
        ru, rf = _arm(45 * a * s, 95)
        return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=15.0, yaw=base_yaw, lift=0.04 * abs(math.sin(2 * p)))
    if act == "jump":
        air = 0.6
        if u < air:  # flight: parabola, arms overhead at the apex, legs slightly tucked
            v = u / air
            lift = 0.30 * a * 4.0 * v * (1.0 - v)
            arms = 170.0 * math.sin(math.pi * v)
            lt, ls = _leg(10, 20)
            rt, rs = _leg(10, 20)
            lu, lf = _arm(arms, 10, abd=15)
            ru, rf = _arm(arms, 10, abd=15)
            return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=0.0, yaw=base_yaw, lift=lift)
        v = (u - air) / (1.0 - air)
        depth = math.sin(math.pi * v)  # landing crouch then push-off
        lt, ls = _leg(45 * depth, 80 * depth, abd=4)
        rt, rs = _leg(45 * depth, 80 * depth, abd=4)
        lu, lf = _arm(-35 * depth, 15, abd=10)
        ru, rf = _arm(-35 * depth, 15, abd=10)
        return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=20 * depth, yaw=base_yaw)
    if act == "wave":
        lt, ls = _leg(0, 3, abd=5 + 2 * s)
        rt, rs = _leg(0, 3, abd=5 - 2 * s)
        wave_u, wave_f = (10.0, 130.0), (10.0, 165.0 + 40.0 * a * s)  # raised arm, forearm swinging
        hang_u, hang_f = (5.0, 8.0), (12.0, 8.0)
        if motion.side > 0:
            lu, lf, ru, rf = wave_u, wave_f, hang_u, hang_f
        else:
            lu, lf, ru, rf = hang_u, hang_f, wave_u, wave_f
        return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=0.0, yaw=base_yaw)
    if act == "crouch":
        depth = min(1.0, 1.3 * (0.5 - 0.5 * c))  # lingers at the bottom: little time standing
        lt, ls = _leg(90 * a * depth, 115 * a * depth, abd=6)
        rt, rs = _leg(90 * a * depth, 115 * a * depth, abd=6)
        lu, lf = _arm(85 * depth, 5, abd=8)
        ru, rf = _arm(85 * depth, 5, abd=8)
        return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=35 * depth, yaw=base_yaw)
    if act == "spin":
        yaw_now = base_yaw + motion.side * 360.0 * (frame / motion.period)
        lt, ls = _leg(0, 5, abd=9)
        rt, rs = _leg(0, 5, abd=9)
        lu, lf = _arm(5 * s, 0, abd=88)
        ru, rf = _arm(-5 * s, 0, abd=88)
        return Pose(lt, ls, rt, rs, lu, lf, ru, rf, lean=0.0, yaw=yaw_now)
    raise ValueError(f"unknown action {act!r}; expected one of {ACTIONS}")


# --------------------------------------------------------------------------- geometry

def _direction(swing: float, abd: float, side: int) -> np.ndarray:
    """Unit vector of a segment in body coordinates (x lateral, y up, z forward)."""
    sw, ab = math.radians(swing), math.radians(abd)
    return np.array([side * math.sin(ab), -math.cos(ab) * math.cos(sw), math.cos(ab) * math.sin(sw)])


def skeleton(pose: Pose) -> dict[str, np.ndarray]:
    """3-D joint positions (body coordinates, heights; hips at y = 0) of ``pose``."""
    lean = math.radians(pose.lean)
    up = np.array([0.0, math.cos(lean), math.sin(lean)])
    j: dict[str, np.ndarray] = {"hip": np.zeros(3)}
    j["neck"] = up * TORSO
    j["head"] = j["neck"] + up * NECK_TO_HEAD
    for side, name, thigh, shin, upper, fore in ((-1, "l", pose.l_thigh, pose.l_shin, pose.l_upper, pose.l_fore),
                                                 (1, "r", pose.r_thigh, pose.r_shin, pose.r_upper, pose.r_fore)):
        hip = np.array([side * HIP_HALF_WIDTH, 0.0, 0.0])
        knee = hip + THIGH * _direction(*thigh, side)
        ankle = knee + SHIN * _direction(*shin, side)
        toe = ankle + FOOT * np.array([0.0, -0.15, 1.0])
        shoulder = j["neck"] + np.array([side * SHOULDER_HALF_WIDTH, -0.02, 0.0])
        # arms follow the torso's lean
        elbow = shoulder + UPPER_ARM * _direction(upper[0] + pose.lean, upper[1], side)
        wrist = elbow + FOREARM * _direction(fore[0] + pose.lean, fore[1], side)
        j.update({f"{name}_hip": hip, f"{name}_knee": knee, f"{name}_ankle": ankle, f"{name}_toe": toe,
                  f"{name}_shoulder": shoulder, f"{name}_elbow": elbow, f"{name}_wrist": wrist})
    return j


def project(joints: dict[str, np.ndarray], *, yaw: float) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Orthographic projection after turning by ``yaw``: (2-D points with y up, depth toward camera)."""
    cy, sy = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    points, depth = {}, {}
    for name, p in joints.items():
        points[name] = np.array([p[0] * cy + p[2] * sy, p[1]])
        depth[name] = float(-p[0] * sy + p[2] * cy)
    return points, depth


@dataclass
class FigureGeometry:
    """A posed figure in frame pixels: polylines in drawing order and the head."""

    strokes: list[tuple[np.ndarray, float, str, bool]]  # (K, 2) points, thickness px, colour key, is far side
    torso_polygon: np.ndarray  # (4, 2)
    torso_thickness: float
    head_center: np.ndarray  # (2,)
    head_radius: float
    head_after: list[int]  # indices of strokes drawn after torso and head
    bounds: tuple[float, float, float, float]  # x1, y1, x2, y2 incl. thickness


def place(pose: Pose, *, x: float, ground_y: float, height: float) -> FigureGeometry:
    """Pose -> pixel geometry with the lowest foot point on ``ground_y`` (plus ``pose.lift``)."""
    points, depth = project(skeleton(pose), yaw=pose.yaw)
    lowest = min(points[k][1] for k in ("l_ankle", "r_ankle", "l_toe", "r_toe"))
    base_y = -lowest + pose.lift

    def px(name: str) -> np.ndarray:
        p = points[name]
        return np.array([x + p[0] * height, ground_y - (p[1] + base_y) * height])

    limb = max(2.0, LIMB_THICKNESS * height)
    items = []
    for side in ("l", "r"):
        leg = np.stack([px(f"{side}_hip"), px(f"{side}_knee"), px(f"{side}_ankle")])
        foot = np.stack([px(f"{side}_ankle"), px(f"{side}_toe")])
        arm = np.stack([px(f"{side}_shoulder"), px(f"{side}_elbow")])
        fore = np.stack([px(f"{side}_elbow"), px(f"{side}_wrist")])
        d_leg = depth[f"{side}_hip"] + 0.3 * depth[f"{side}_knee"]
        d_arm = depth[f"{side}_shoulder"] + 0.3 * depth[f"{side}_elbow"]
        items.append((d_leg, 0, foot, limb * 0.9, "shoes", side))
        items.append((d_leg, 1, leg, limb * 1.1, "trousers", side))
        items.append((d_arm, 2, arm, limb, "shirt", side))
        items.append((d_arm, 3, fore, limb * 0.9, "skin", side))
    items.sort(key=lambda it: (it[0], it[1]))
    far_side = items[0][5]
    strokes = [(pts, th, colour, side == far_side and abs(it_d) > 1e-6)
               for it_d, _, pts, th, colour, side in items]
    # limbs in front of the torso plane are drawn after it
    head_after = [i for i, it in enumerate(items) if it[0] > 1e-6 or (abs(it[0]) <= 1e-6 and it[1] >= 2)]
    torso_polygon = np.stack([px("l_shoulder"), px("r_shoulder"), px("r_hip"), px("l_hip")])
    torso_thickness = max(3.0, TORSO_THICKNESS * height)
    head_center = px("head")
    head_radius = max(2.0, HEAD_RADIUS * height)
    all_pts = np.concatenate([s[0] for s in strokes] + [torso_polygon, px("neck")[None]])
    pad = max(limb * 1.1, torso_thickness) / 2 + 3
    x1 = min(all_pts[:, 0].min() - pad, head_center[0] - head_radius - 3)
    x2 = max(all_pts[:, 0].max() + pad, head_center[0] + head_radius + 3)
    y1 = min(all_pts[:, 1].min() - pad, head_center[1] - head_radius - 3)
    y2 = max(all_pts[:, 1].max() + pad, head_center[1] + head_radius + 3)
    return FigureGeometry(strokes=strokes, torso_polygon=torso_polygon, torso_thickness=torso_thickness,
                          head_center=head_center, head_radius=head_radius, head_after=head_after,
                          bounds=(x1, y1, x2, y2))


# --------------------------------------------------------------------------- drawing

_SHIFT = 4  # cv2 fixed-point bits: sub-pixel positions, smooth motion
_ONE = 1 << _SHIFT


def _fx(points: np.ndarray, offset: tuple[float, float]) -> np.ndarray:
    return np.round((points - np.asarray(offset)) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _shade(colour: tuple[int, int, int], far: bool) -> tuple[int, int, int]:
    return tuple(int(v * 0.72) for v in colour) if far else tuple(int(v) for v in colour)  # type: ignore[return-value]


def draw_figure(canvas: np.ndarray, geometry: FigureGeometry, *, style: ActorStyle | None,
                offset: tuple[float, float] = (0.0, 0.0)) -> None:
    """Draw ``geometry`` into ``canvas`` (frame pixel (x, y) lands at (x, y) - offset).

    ``style`` None draws a binary mask (value 255, no anti-aliasing) covering exactly the
    outlined figure; otherwise anti-aliased RGB strokes with a dark outline.
    """
    mask = style is None
    line_type = cv2.LINE_8 if mask else cv2.LINE_AA
    outline = 2

    def stroke(points: np.ndarray, thickness: float, colour_key: str, far: bool) -> None:
        pts = _fx(points, offset)
        th = int(round(thickness))
        if mask:
            cv2.polylines(canvas, [pts], False, 255, th + 2 * outline, cv2.LINE_8, _SHIFT)
            return
        cv2.polylines(canvas, [pts], False, style.outline, th + 2 * outline, line_type, _SHIFT)
        cv2.polylines(canvas, [pts], False, _shade(getattr(style, colour_key), far), th, line_type, _SHIFT)

    after = set(geometry.head_after)
    for i, (pts, th, key, far) in enumerate(geometry.strokes):
        if i not in after:
            stroke(pts, th, key, far)
    # torso: a filled quad plus a thick spine so side views keep a body
    spine = np.stack([geometry.torso_polygon[2:].mean(0), geometry.torso_polygon[:2].mean(0)])
    poly = _fx(geometry.torso_polygon, offset)
    if mask:
        cv2.polylines(canvas, [_fx(spine, offset)], False, 255, int(round(geometry.torso_thickness)) + 2 * outline,
                      cv2.LINE_8, _SHIFT)
        cv2.fillConvexPoly(canvas, poly, 255, cv2.LINE_8, _SHIFT)
        cv2.polylines(canvas, [poly], True, 255, 2 * outline + 1, cv2.LINE_8, _SHIFT)
    else:
        cv2.polylines(canvas, [_fx(spine, offset)], False, style.outline,
                      int(round(geometry.torso_thickness)) + 2 * outline, line_type, _SHIFT)
        cv2.polylines(canvas, [poly], True, style.outline, 2 * outline + 1, line_type, _SHIFT)
        cv2.fillConvexPoly(canvas, poly, style.shirt, line_type, _SHIFT)
        cv2.polylines(canvas, [_fx(spine, offset)], False, style.shirt, int(round(geometry.torso_thickness)),
                      line_type, _SHIFT)
    centre = tuple(int(v) for v in np.round((geometry.head_center - np.asarray(offset)) * _ONE))
    radius = int(round(geometry.head_radius * _ONE))
    if mask:
        cv2.circle(canvas, centre, radius + outline * _ONE, 255, -1, cv2.LINE_8, _SHIFT)
    else:
        cv2.circle(canvas, centre, radius + outline * _ONE, style.outline, -1, line_type, _SHIFT)
        cv2.circle(canvas, centre, radius, style.skin, -1, line_type, _SHIFT)
    for i in sorted(after):
        stroke(*geometry.strokes[i])
