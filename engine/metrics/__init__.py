"""Tracking metrics equal to TrackEval's (CLEAR, Identity, HOTA) and action classification metrics.

Why our own implementation instead of depending on ``trackeval``: the PyPI package pulls in
``opencv-python`` (the non-headless build, whose bundled Qt plugins break PySide6's plugin path)
and ``matplotlib``, and its data loaders want a fixed folder layout. The three metric algorithms
are short, so they are ported here (numpy + scipy's ``linear_sum_assignment``), including TrackEval's
MOTChallenge preprocessing (:mod:`engine.metrics.mot_data`): vectorised over frames (the metrics
panel recomputes 10,000 frames in well under a second, ``stv bench eval``), with TrackEval's per-frame
loops kept line for line in :mod:`engine.metrics.reference` and tested equal. Equality with TrackEval
itself is proven by tests/engine/metrics/test_trackeval_equality.py against numbers that
tools/trackeval_reference.py produces with TrackEval in a separate virtual environment.

numpy/scipy only: never imports torch.
"""
from engine.metrics.classification import confusion_matrix, top_k_accuracy
from engine.metrics.evaluate import SequenceMetrics, combine_sequences, evaluate_data, evaluate_sequence
from engine.metrics.mot_data import SequenceData, box_iou_ltwh, build_sequence_data

__all__ = [
    "SequenceData",
    "SequenceMetrics",
    "box_iou_ltwh",
    "build_sequence_data",
    "combine_sequences",
    "confusion_matrix",
    "evaluate_data",
    "evaluate_sequence",
    "top_k_accuracy",
]
