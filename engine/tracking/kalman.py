"""Constant-velocity Kalman filter over many boxes at once (numpy, vectorised over tracks).

State per track: [cx, cy, w, h, vcx, vcy, vw, vh] (box centre, size and their per-frame
velocities); measurement: [cx, cy, w, h]. Noise scales with the box size, as in ByteTrack /
BoT-SORT: position std = ``position_std * size``, velocity std = ``velocity_std * size``.

Why the covariance is stored as 2x2 blocks: F, Q, R, H and the initial covariance all couple a
coordinate only with its own velocity, so the 8x8 covariance stays block-diagonal (four 2x2
blocks) forever. Storing the blocks as ``cov (K, 3, 4)`` = [var(pos), cov(pos, vel), var(vel)] per
coordinate turns every step into a few elementwise operations (no 8x8 products, no matrix
inverse) while computing exactly the textbook filter; :func:`full_covariance` expands it and the
tests compare with a dense reference implementation.
"""
from __future__ import annotations

import numpy as np

_WHWH = np.array([2, 3, 2, 3])
_F = np.eye(8)
_F[:4, 4:] = np.eye(4)  # x_{t+1} = x_t + v_t
_FT = np.ascontiguousarray(_F.T)
# cov blocks stacked as rows [pp, pc, pv] (per coordinate); F P F^T maps them linearly:
# pp' = pp + 2 pc + pv, pc' = pc + pv, pv' = pv. Applied as (3, 3) @ (K, 3, 4).
_BLOCK_F = np.array([[1.0, 2.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])


class BoxKalmanFilter:
    def __init__(self, *, position_std: float = 1.0 / 20, velocity_std: float = 1.0 / 160):
        if position_std <= 0 or velocity_std <= 0:
            raise ValueError("Kalman noise standard deviations must be positive")
        self.position_std = float(position_std)
        self.velocity_std = float(velocity_std)

    @staticmethod
    def _scale(mean_or_measurement: np.ndarray) -> np.ndarray:
        """(K, >=4) -> (K, 4) [w, h, w, h]: the size each coordinate's noise is relative to."""
        return mean_or_measurement[:, _WHWH]

    def initiate(self, measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, 4) [cx, cy, w, h] -> mean (K, 8), covariance blocks (K, 3, 4)."""
        k = measurements.shape[0]
        mean = np.zeros((k, 8))
        mean[:, :4] = measurements
        scale2 = self._scale(measurements) ** 2
        cov = np.zeros((k, 3, 4))
        cov[:, 0] = (4 * self.position_std**2) * scale2
        cov[:, 2] = (100 * self.velocity_std**2) * scale2
        return mean, cov

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step for all tracks: x += v; P = F P F^T + Q. Returns new arrays."""
        scale2 = self._scale(mean) ** 2
        new_mean = mean @ _FT
        new_cov = _BLOCK_F @ cov  # rows [pp + 2pc + pv, pc + pv, pv] via one (3, 3) product
        new_cov[:, 0] += self.position_std**2 * scale2
        new_cov[:, 2] += self.velocity_std**2 * scale2
        return new_mean, new_cov

    def update(self, mean: np.ndarray, cov: np.ndarray, measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correct (M, 8)/(M, 3, 4) with (M, 4) measurements; returns new arrays."""
        innovation_var = cov[:, 0] + self.position_std**2 * self._scale(mean) ** 2  # (M, 4)
        gain = cov[:, :2] / innovation_var[:, None]  # (M, 2, 4): position and velocity gains
        innovation = measurements - mean[:, :4]
        new_mean = (mean.reshape(-1, 2, 4) + gain * innovation[:, None]).reshape(-1, 8)
        new_cov = np.empty_like(cov)
        new_cov[:, :2] = cov[:, :2] * (1.0 - gain[:, 0:1])
        new_cov[:, 2] = cov[:, 2] - gain[:, 1] * cov[:, 1]
        return new_mean, new_cov


def full_covariance(cov: np.ndarray) -> np.ndarray:
    """Expand (K, 3, 4) blocks into the (K, 8, 8) covariance they represent."""
    k = cov.shape[0]
    full = np.zeros((k, 8, 8))
    i = np.arange(4)
    full[:, i, i] = cov[:, 0]
    full[:, i, i + 4] = cov[:, 1]
    full[:, i + 4, i] = cov[:, 1]
    full[:, i + 4, i + 4] = cov[:, 2]
    return full


# Box conversions as one small matrix product each (cheaper than slicing + concatenating).
_XYXY_TO_CXCYWH = np.array([[0.5, 0, -1, 0], [0, 0.5, 0, -1], [0.5, 0, 1, 0], [0, 0.5, 0, 1]])
_CXCYWH_TO_XYXY = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [-0.5, 0, 0.5, 0], [0, -0.5, 0, 0.5]])


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    """(K, 4) [x1, y1, x2, y2] -> (K, 4) [cx, cy, w, h]."""
    return boxes @ _XYXY_TO_CXCYWH


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(K, 4) [cx, cy, w, h] -> (K, 4) [x1, y1, x2, y2]."""
    return boxes @ _CXCYWH_TO_XYXY
