"""Association costs and assignment (scipy's Hungarian solver; no hand-written assignment)."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

_EMPTY = np.empty(0, dtype=np.intp)
_INFEASIBLE = 1e6


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(N, 4), (M, 4) [x1, y1, x2, y2] -> (N, M) IoU (0 where a box is empty)."""
    return _iou(boxes_a[:, None, :], boxes_b[None, :, :])


def iou_pairs(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(K, 4), (K, 4) [x1, y1, x2, y2] -> (K,) IoU of each row pair (the same formula as :func:`iou_matrix`)."""
    return _iou(boxes_a, boxes_b)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The one IoU: elementwise over broadcast [..., 4] xyxy boxes."""
    lt = np.maximum(a[..., :2], b[..., :2])
    rb = np.minimum(a[..., 2:], b[..., 2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (M, D) -> (N, M) 1 - cosine similarity, in [0, 2]."""
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    a = a / np.maximum(na, 1e-12)
    b = b / np.maximum(nb, 1e-12)
    return 1.0 - a @ b.T


def assign(cost: np.ndarray, max_cost: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost one-to-one matching keeping only pairs with cost <= max_cost.

    Returns (rows (K,), cols (K,), unmatched rows, unmatched cols): row[i] is matched to col[i]. Pairs above ``max_cost`` are
    made infeasible before solving, so the solver maximises the number of admissible pairs first.
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        return _EMPTY, _EMPTY, np.arange(n), np.arange(m)
    feasible = cost <= max_cost
    rows, cols = linear_sum_assignment(np.where(feasible, cost, _INFEASIBLE))
    keep = feasible[rows, cols]
    rows, cols = rows[keep], cols[keep]
    row_free = np.ones(n, bool)
    row_free[rows] = False
    col_free = np.ones(m, bool)
    col_free[cols] = False
    return rows, cols, row_free.nonzero()[0], col_free.nonzero()[0]


def assignment_margins(cost: np.ndarray, rows: np.ndarray, cols: np.ndarray, max_cost: float) -> np.ndarray:
    """(K,) how decisively each matched pair (rows[i], cols[i]) of :func:`assign` won.

    margin = min(best other column for the row, best other row for the column, ``max_cost``) - cost of the
    pair: the cost gap to the nearest alternative the solver had, where pairs beyond the gate count as the
    gate (so a lone pair just inside the gate also has a small margin). Near 0 (or negative, when the global
    optimum took a locally worse pair) means a near-tie: the place where an ID switch happens.
    """
    rows = np.asarray(rows, dtype=np.intp)
    cols = np.asarray(cols, dtype=np.intp)
    if rows.size == 0:
        return np.zeros(0)
    capped = np.minimum(np.asarray(cost, dtype=np.float64), max_cost)  # inf (forbidden) -> the gate
    chosen = capped[rows, cols]
    row_alt = capped[rows].copy()
    row_alt[np.arange(rows.size), cols] = np.inf
    col_alt = capped[:, cols].T.copy()
    col_alt[np.arange(rows.size), rows] = np.inf
    alternative = np.minimum(np.minimum(row_alt.min(axis=1, initial=np.inf), col_alt.min(axis=1, initial=np.inf)),
                             max_cost)
    return alternative - chosen
