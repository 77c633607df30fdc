"""Custom tensor operations of the unified model.

``propagate`` is the spatial-temporal propagation recurrence (paper §3.3, GSPN-style line/plane scan
over time); ``normalize_gates`` turns raw gate logits into weights that keep it bounded. Importing
this package imports torch but never triton (the Triton backend is loaded on first use).
"""
from __future__ import annotations

from engine.ops.propagation import BACKENDS, normalize_gates, propagate

__all__ = ["BACKENDS", "normalize_gates", "propagate"]
