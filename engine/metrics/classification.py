"""Action classification metrics: top-k accuracy and confusion matrix (numpy only)."""
from __future__ import annotations

import numpy as np


def _check_scores_labels(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N, K), got shape {scores.shape}")
    if labels.shape != (scores.shape[0],):
        raise ValueError(f"labels must be ({scores.shape[0]},), got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}), got [{labels.min()}, {labels.max()}]")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or inf")
    return scores, labels


def top_k_accuracy(scores: np.ndarray, labels: np.ndarray, *, k: int = 1) -> float:
    """Fraction of samples whose true class is among the k highest scores.

    scores: (N, K) logits or probabilities; labels: (N,) int in [0, K). Ties are broken
    pessimistically: a class counts as top-k only if fewer than k classes score strictly higher
    and it would still fit after all tied classes with a lower index. N = 0 gives nan.
    """
    scores, labels = _check_scores_labels(scores, labels)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if scores.shape[0] == 0:
        return float("nan")
    true_score = scores[np.arange(len(labels)), labels][:, None]
    higher = (scores > true_score).sum(axis=1)
    tied_before = ((scores == true_score) & (np.arange(scores.shape[1])[None, :] < labels[:, None])).sum(axis=1)
    return float(np.mean(higher + tied_before < k))


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, *, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts, rows = true class, columns = predicted class."""
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.ndim != 1 or predictions.shape != labels.shape:
        raise ValueError(f"labels and predictions must be equal-length 1-D arrays, got {labels.shape}, {predictions.shape}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must be integers in [0, {num_classes})")
    flat = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall per class from a confusion matrix (nan for classes with no samples)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)
