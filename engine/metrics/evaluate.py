"""Evaluate MOT results against ground truth: CLEAR + Identity + HOTA, per sequence and combined."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.io.mot import MOTRecords
from engine.metrics.clear import clear_metrics, combine_clear
from engine.metrics.hota import ARRAY_FIELDS, COUNT_FIELDS, combine_hota, hota_metrics
from engine.metrics.identity import combine_identity, identity_metrics
from engine.metrics.mot_data import GTSemantics, SequenceData, build_sequence_data

# Short names for the raw counts (TrackEval's names are kept too).
ALIASES = {"TP": "CLR_TP", "FP": "CLR_FP", "FN": "CLR_FN"}
INTEGER_KEYS = {
    "CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames", "IDTP", "IDFN", "IDFP", "TP", "FP", "FN"
}


@dataclass
class SequenceMetrics:
    """Raw per-metric results, as TrackEval keeps them (HOTA fields are per-alpha arrays)."""

    clear: dict
    identity: dict
    hota: dict

    def summary(self) -> dict[str, float]:
        """One flat dict of plain numbers: fractions in [0, 1] (MOTP is mean IoU), counts as ints;
        HOTA-family values are means over the 19 alphas, like TrackEval's summaries."""
        out: dict[str, float] = {}
        for key, value in {**self.clear, **self.identity}.items():
            out[key] = int(value) if key in INTEGER_KEYS else float(value)
        for key in ARRAY_FIELDS:
            out[key] = float(np.mean(self.hota[key]))
        for key in COUNT_FIELDS:
            out[key] = float(np.mean(self.hota[key]))
        for key in ("HOTA(0)", "LocA(0)", "HOTALocA(0)"):
            out[key] = float(self.hota[key])
        for alias, key in ALIASES.items():
            out[alias] = int(self.clear[key])
        return out


def evaluate_data(data: SequenceData, *, threshold: float = 0.5) -> SequenceMetrics:
    return SequenceMetrics(
        clear=clear_metrics(data, threshold=threshold),
        identity=identity_metrics(data, threshold=threshold),
        hota=hota_metrics(data),
    )


def evaluate_sequence(
    gt: MOTRecords,
    pred: MOTRecords,
    *,
    num_timesteps: int | None = None,
    gt_semantics: GTSemantics = "auto",
    remove_distractor_matches: bool = True,
    threshold: float = 0.5,
) -> SequenceMetrics:
    """Metrics of one sequence. ``num_timesteps``: seqinfo's seqLength (default: last frame in
    either file). ``gt_semantics``/``remove_distractor_matches``: see :mod:`engine.metrics.mot_data`."""
    data = build_sequence_data(
        gt,
        pred,
        num_timesteps=num_timesteps,
        gt_semantics=gt_semantics,
        remove_distractor_matches=remove_distractor_matches,
    )
    return evaluate_data(data, threshold=threshold)


def combine_sequences(per_sequence: list[SequenceMetrics]) -> SequenceMetrics:
    """TrackEval's COMBINED_SEQ: counts summed, ratios recomputed (AssA/LocA weighted by HOTA_TP)."""
    if not per_sequence:
        raise ValueError("combine_sequences needs at least one sequence")
    return SequenceMetrics(
        clear=combine_clear([m.clear for m in per_sequence]),
        identity=combine_identity([m.identity for m in per_sequence]),
        hota=combine_hota([m.hota for m in per_sequence]),
    )
