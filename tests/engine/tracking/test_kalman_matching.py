"""Block Kalman filter == a dense textbook filter; IoU and assignment."""
from __future__ import annotations

import numpy as np
import pytest

from engine.tracking import BoxKalmanFilter, assign, cosine_distance, iou_matrix
from engine.tracking.kalman import cxcywh_to_xyxy, full_covariance, xyxy_to_cxcywh


class DenseKalman:
    """Readable reference: full 8x8 matrices, one track at a time."""

    def __init__(self, p=1 / 20, v=1 / 160):
        self.p, self.v = p, v
        self.F = np.eye(8)
        self.F[:4, 4:] = np.eye(4)
        self.H = np.eye(4, 8)

    def initiate(self, z):
        s = np.r_[z[2:4], z[2:4]]
        return np.r_[z, np.zeros(4)], np.diag(np.r_[(2 * self.p * s) ** 2, (10 * self.v * s) ** 2])

    def predict(self, x, P):
        s = np.r_[x[2:4], x[2:4]]
        Q = np.diag(np.r_[(self.p * s) ** 2, (self.v * s) ** 2])
        return self.F @ x, self.F @ P @ self.F.T + Q

    def update(self, x, P, z):
        s = np.r_[x[2:4], x[2:4]]
        R = np.diag((self.p * s) ** 2)
        S = self.H @ P @ self.H.T + R
        K = P @ self.H.T @ np.linalg.inv(S)
        return x + K @ (z - self.H @ x), (np.eye(8) - K @ self.H) @ P


def test_block_filter_equals_dense_reference():
    rng = np.random.default_rng(0)
    fast, dense = BoxKalmanFilter(), DenseKalman()
    z0 = np.array([[100.0, 200.0, 40.0, 90.0], [300.0, 50.0, 20.0, 60.0], [10.0, 10.0, 5.0, 8.0]])
    mean, cov = fast.initiate(z0)
    ref = [dense.initiate(z) for z in z0]
    for step in range(25):
        mean, cov = fast.predict(mean, cov)
        ref = [dense.predict(x, P) for x, P in ref]
        if step % 4 != 3:  # some steps coast without a measurement
            z = mean[:, :4] + rng.normal(0, 3, (3, 4))
            mean, cov = fast.update(mean, cov, z)
            ref = [dense.update(x, P, zi) for (x, P), zi in zip(ref, z)]
        np.testing.assert_allclose(mean, np.stack([x for x, _ in ref]), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(full_covariance(cov), np.stack([P for _, P in ref]), rtol=1e-9, atol=1e-9)


def test_filter_learns_constant_velocity():
    kf = BoxKalmanFilter()
    mean, cov = kf.initiate(np.array([[0.0, 0.0, 10.0, 20.0]]))
    for t in range(1, 30):
        mean, cov = kf.predict(mean, cov)
        mean, cov = kf.update(mean, cov, np.array([[3.0 * t, -1.0 * t, 10.0, 20.0]]))
    np.testing.assert_allclose(mean[0, 4:6], [3.0, -1.0], atol=0.05)
    with pytest.raises(ValueError):
        BoxKalmanFilter(position_std=0)


def test_box_conversions_invert():
    boxes = np.array([[1.0, 2.0, 11.0, 32.0]])
    np.testing.assert_allclose(xyxy_to_cxcywh(boxes), [[6.0, 17.0, 10.0, 30.0]])
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(boxes)), boxes)


def test_iou_matrix_against_brute_force():
    rng = np.random.default_rng(1)
    a = np.sort(rng.uniform(0, 50, (6, 2, 2)), axis=1).transpose(0, 2, 1).reshape(6, 4)[:, [0, 2, 1, 3]]
    b = np.sort(rng.uniform(0, 50, (4, 2, 2)), axis=1).transpose(0, 2, 1).reshape(4, 4)[:, [0, 2, 1, 3]]
    got = iou_matrix(a, b)
    for i in range(6):
        for j in range(4):
            iw = max(0.0, min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0]))
            ih = max(0.0, min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1]))
            inter = iw * ih
            union = (a[i, 2] - a[i, 0]) * (a[i, 3] - a[i, 1]) + (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1]) - inter
            assert got[i, j] == pytest.approx(inter / union)
    assert iou_matrix(np.zeros((1, 4)), np.zeros((1, 4)))[0, 0] == 0.0  # empty boxes: 0, not NaN
    assert iou_matrix(a, np.zeros((0, 4))).shape == (6, 0)


def test_assign_respects_threshold_and_maximises_admissible_pairs():
    cost = np.array([[0.1, 0.2], [0.15, 0.95]])
    rows, cols, free_rows, free_cols = assign(cost, 0.5)
    # greedy would take (0,0) and leave row 1 unmatched; the solver finds both admissible pairs
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]
    assert free_rows.size == 0 and free_cols.size == 0
    rows, cols, free_rows, free_cols = assign(np.array([[0.9, 0.8]]), 0.5)
    assert rows.size == cols.size == 0 and free_rows.tolist() == [0] and free_cols.tolist() == [0, 1]
    rows, cols, free_rows, free_cols = assign(np.zeros((0, 3)), 0.5)
    assert rows.size == 0 and free_cols.tolist() == [0, 1, 2]


def test_cosine_distance():
    d = cosine_distance(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[3.0, 0.0]]))
    np.testing.assert_allclose(d, [[0.0], [1.0]])
