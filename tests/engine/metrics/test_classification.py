from __future__ import annotations

import numpy as np
import pytest

from engine.metrics import confusion_matrix, top_k_accuracy
from engine.metrics.classification import per_class_accuracy


def test_top_k_accuracy():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = np.array([1, 1, 0, 2])
    assert top_k_accuracy(scores, labels, k=1) == 0.25
    assert top_k_accuracy(scores, labels, k=2) == 0.5
    assert top_k_accuracy(scores, labels, k=3) == 1.0
    assert top_k_accuracy(scores, labels, k=5) == 1.0  # k larger than the class count


def test_top_k_ties_are_pessimistic():
    scores = np.array([[0.5, 0.5, 0.0]])
    assert top_k_accuracy(scores, np.array([0]), k=1) == 1.0
    assert top_k_accuracy(scores, np.array([1]), k=1) == 0.0
    assert top_k_accuracy(scores, np.array([1]), k=2) == 1.0


def test_top_k_matches_argsort_definition_on_random_data():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 10))
    labels = rng.integers(0, 10, 200)
    for k in (1, 5):
        topk = np.argsort(-scores, axis=1)[:, :k]
        assert top_k_accuracy(scores, labels, k=k) == pytest.approx(np.mean([l in row for l, row in zip(labels, topk)]))


@pytest.mark.parametrize("scores,labels,k", [
    (np.zeros(3), np.zeros(3, int), 1),
    (np.zeros((3, 2)), np.zeros(2, int), 1),
    (np.zeros((2, 2)), np.array([0, 2]), 1),
    (np.zeros((2, 2)), np.array([0.0, 1.0]), 1),
    (np.full((1, 2), np.nan), np.array([0]), 1),
    (np.zeros((1, 2)), np.array([0]), 0),
])
def test_top_k_rejects_bad_input(scores, labels, k):
    with pytest.raises(ValueError):
        top_k_accuracy(scores, labels, k=k)


def test_empty_is_nan():
    assert np.isnan(top_k_accuracy(np.zeros((0, 3)), np.zeros(0, int)))


def test_confusion_matrix():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), num_classes=4)
    expected = np.zeros((4, 4), int)
    expected[0, 0] = expected[0, 1] = expected[1, 1] = expected[2, 0] = 1
    expected[2, 2] = 2
    np.testing.assert_array_equal(m, expected)
    assert m.sum() == 6
    acc = per_class_accuracy(m)
    np.testing.assert_allclose(acc[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(acc[3])
    with pytest.raises(ValueError):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), num_classes=3)
    with pytest.raises(ValueError):
        confusion_matrix(np.array([0, 1]), np.array([0]), num_classes=3)
